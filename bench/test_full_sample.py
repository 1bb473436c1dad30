"""Full-sample metrics: trackerr against its peers, measured in the same run.

One benchmark per (case, size, implementation) from ``registry.CASES`` (the
parametrization and the fixtures live in conftest.py); the
benchmark group is ``f"{case}-{size}"`` so ``bench/report.py`` (and
pytest-benchmark's own table) compare implementations within a group. Each
benchmark also checks that the implementation agrees with trackerr to 1e-9
relative. There are no timing assertions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from registry import BASELINE, Impl

RTOL = 1e-9


def test_full_sample(
    implementation: Impl,
    measure: Any,
    dataset: Any,
    baseline: Any,
    case: str,
    impl: str,
    size: str,
) -> None:
    portfolio, bench = dataset(size)
    prepare = implementation.prepare
    args = prepare(portfolio, bench) if prepare else (portfolio, bench)

    measure.benchmark.group = f"{case}-{size}"
    measure.benchmark.extra_info.update(case=case, impl=impl, size=size, baseline=BASELINE)

    result = measure(implementation.run, *args)

    expected = baseline(case, size)
    got = np.asarray(result, dtype=np.float64)
    assert got.shape == expected.shape, f"{impl}: shape {got.shape} != {expected.shape}"
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=0.0, err_msg=f"{case}/{impl}/{size}")
