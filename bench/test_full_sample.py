"""Full-sample metrics and stream states: trackerr against its peers, measured
in the same run.

One benchmark per (case, size, implementation) from ``comparisons.CASES`` (the
parametrization and the fixtures live in conftest.py); the benchmark group is
``f"{case}-{size}"`` so ``bench/report.py`` (and pytest-benchmark's own table)
compare implementations within a group. Each benchmark also checks that the
implementation agrees with trackerr, field by field, within the entry's
declared tolerance (``Impl.rtol``, ``Impl.atol``). There are no timing
assertions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from comparisons import BASELINE, Impl

from conftest import result_fields


def _warm_up(implementation: Impl, portfolio: Any, bench: Any) -> None:
    """One untimed call on a few rows (numba compiles on first use)."""
    rows = min(len(bench), 300)
    p, b = portfolio[:rows], bench[:rows]
    prepare = implementation.prepare
    implementation.run(*(prepare(p, b) if prepare else (p, b)))


def test_full_sample(
    implementation: Impl,
    measure: Any,
    dataset: Any,
    baseline_fields: Any,
    case: str,
    impl: str,
    size: str,
) -> None:
    portfolio, bench = dataset(size)
    if implementation.warmup:
        _warm_up(implementation, portfolio, bench)
    prepare = implementation.prepare
    args = prepare(portfolio, bench) if prepare else (portfolio, bench)

    measure.benchmark.group = f"{case}-{size}"
    measure.benchmark.extra_info.update(
        case=case, impl=impl, size=size, baseline=BASELINE, rows=len(bench)
    )

    result = measure(implementation.run, *args)

    expected = baseline_fields(case, size)
    got = result_fields(result)
    assert got, f"{impl}: no result fields"
    assert set(got) <= set(expected), f"{impl}: fields {sorted(set(got) - set(expected))} unknown"
    for name, values in got.items():
        ref = expected[name]
        where = f"{case}/{impl}/{size}/{name}"
        assert values.shape == ref.shape, f"{where}: shape {values.shape} != {ref.shape}"
        np.testing.assert_allclose(
            values,
            ref,
            rtol=implementation.rtol,
            atol=implementation.atol_for(name),
            err_msg=where,
        )
