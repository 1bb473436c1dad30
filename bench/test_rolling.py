"""Rolling-window metrics: trackerr against its peers, measured in the same run.

One benchmark per (case, size, window, implementation) from
``comparisons.ROLLING_CASES`` (the parametrization and the fixtures live in
conftest.py); the benchmark group is ``f"{case}-{size}-w{window}"`` so
``bench/report.py`` (and pytest-benchmark's own table) compare implementations
within a group. Each benchmark also checks the implementation against trackerr:
from the first full window on, the same finite/non-finite mask, and agreement to
the entry's declared tolerance where both are finite (``Impl.rtol``, and
``Impl.atol`` with its reason). There are no timing assertions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from comparisons import BASELINE, Impl

from conftest import result_fields


def _warm_up(implementation: Impl, portfolio: Any, bench: Any, window: int) -> None:
    """One untimed call on the first few windows' rows (numba compiles on first use)."""
    rows = min(len(bench), 2 * window)
    p, b = portfolio[:rows], bench[:rows]
    prepare = implementation.prepare
    implementation.run(*(prepare(p, b) if prepare else (p, b)), window)


def test_rolling(
    implementation: Impl,
    measure: Any,
    rolling_data: Any,
    rolling_baseline: Any,
    case: str,
    impl: str,
    size: str,
    window: int,
) -> None:
    portfolio, bench = rolling_data(size)
    if implementation.warmup:
        _warm_up(implementation, portfolio, bench, window)
    prepare = implementation.prepare
    args = prepare(portfolio, bench) if prepare else (portfolio, bench)

    measure.benchmark.group = f"{case}-{size}-w{window}"
    measure.benchmark.extra_info.update(
        case=case, impl=impl, size=size, window=window, baseline=BASELINE, rows=len(bench)
    )

    result = measure(implementation.run, *args, window)

    expected = rolling_baseline(case, size, window)
    got = result_fields(result)
    assert got, f"{impl}: no result fields"
    assert set(got) <= set(expected), f"{impl}: fields {sorted(set(got) - set(expected))} unknown"
    for name, values in got.items():
        ref = expected[name]
        where = f"{case}/{impl}/{size}/w{window}/{name}"
        assert values.shape == ref.shape, f"{where}: shape {values.shape} != {ref.shape}"
        # Rows before the first full window are NaN for everyone (min_periods =
        # window); from there on the masks must match exactly.
        head, tail = values[window - 1 :], ref[window - 1 :]
        finite = np.isfinite(tail)
        assert finite.any(), f"{where}: trackerr has no finite value to compare"
        np.testing.assert_array_equal(np.isfinite(head), finite, err_msg=f"{where}: finite mask")
        np.testing.assert_allclose(
            head[finite],
            tail[finite],
            rtol=implementation.rtol,
            atol=implementation.atol_for(name),
            err_msg=where,
        )
