"""Risk metrics (full sample): trackerr against empyrical, measured in the same run.

One benchmark per (case, size, implementation) from ``risk_cases.RISK_CASES``
at the suite's 1-D sizes (1e5, 1e6, 1e7; 1e4, 1e5 with
``TRACKERR_BENCH_QUICK=1``), on ``risk_cases.risk_data`` of the suite's
datasets. The group is ``f"{case}-{size}"`` and the extra_info names case,
impl, size and baseline as in test_full_sample.py, so ``bench/report.py``
prints the ratios. Each benchmark checks the implementation against trackerr
to ``RTOL`` relative, up to the row count of its ``PEER_LIMITS`` entry (beyond
it the peer's answer is recorded in extra_info, not asserted). No timing
assertions.

The parameters are named ``risk_case``, ``risk_impl`` and ``risk_size`` so the
suite's own parametrization hook (conftest.py, for ``registry.CASES``) leaves
this module alone until the table is merged there.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np
import pytest

from risk_cases import BASELINE, PEER_LIMITS, RISK_CASES, risk_data

from conftest import QUICK, QUICK_ROUNDS, SIZES_1D, make_dataset

# empyrical's cumulative products are exact to about n eps relative: at 1e7
# rows that is 1e-9 of the wealth, which a drawdown of -0.9997 magnifies.
RTOL = 1e-8

PARAMS = [
    pytest.param(case, name, size, id=f"{case}-{size}-{name}")
    for case, impls in RISK_CASES.items()
    for size in SIZES_1D
    for name in impls
]


@functools.cache
def _data(size: str) -> tuple[np.ndarray, np.ndarray]:
    return risk_data(*make_dataset(size))


@functools.cache
def _baseline(case: str, size: str) -> float:
    return float(RISK_CASES[case][BASELINE].run(*_data(size)))


@pytest.mark.parametrize(("risk_case", "risk_impl", "risk_size"), PARAMS)
def test_risk(
    request: pytest.FixtureRequest, risk_case: str, risk_impl: str, risk_size: str
) -> None:
    implementation = RISK_CASES[risk_case][risk_impl]
    if implementation.requires:
        pytest.importorskip(implementation.requires)
    if not request.config.pluginmanager.hasplugin("benchmark"):
        pytest.skip("pytest-benchmark is not installed or not active")
    benchmark: Any = request.getfixturevalue("benchmark")
    portfolio, bench = _data(risk_size)
    args = (
        implementation.prepare(portfolio, bench) if implementation.prepare else (portfolio, bench)
    )

    benchmark.group = f"{risk_case}-{risk_size}"
    benchmark.extra_info.update(case=risk_case, impl=risk_impl, size=risk_size, baseline=BASELINE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the peers' overflows, recorded below
        if QUICK:
            result = benchmark.pedantic(
                implementation.run, args=args, rounds=QUICK_ROUNDS, warmup_rounds=1, iterations=1
            )
        else:
            result = benchmark(implementation.run, *args)

    got, want = float(result), _baseline(risk_case, risk_size)
    assert math.isfinite(want), f"trackerr's {risk_case} at {risk_size} is {want}"
    limit = PEER_LIMITS.get((risk_case, risk_impl))
    if limit is not None and SIZES_1D[risk_size] > limit[0]:
        benchmark.extra_info.update(result=got, expected=want, not_checked=limit[1])
        return
    assert got == pytest.approx(want, rel=RTOL), f"{risk_case}/{risk_impl}/{risk_size}"
