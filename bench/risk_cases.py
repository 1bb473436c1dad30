"""The risk-metric comparison table: full-sample max drawdown, Sortino, Omega
and the capture ratios, trackerr against empyrical (empyrical-reloaded).

``RISK_CASES[case][name]`` is a ``registry.Impl`` with ``run(portfolio,
benchmark)`` (the one-series metrics ignore the benchmark); ``"trackerr"`` is
each case's baseline, as in ``registry.CASES`` (into which this table is meant
to be merged). The calls are the ones that agree by convention (checked in
tests/test_risk.py::test_empyrical_conformance): Sortino annualised with 252
periods and a zero target, Omega at a zero threshold, the capture ratios in
empyrical's annualized form with 252 periods per year.

The data are the suite's 1-D datasets (``conftest.make_dataset``: portfolio
~ N(0, 0.01), benchmark = portfolio + N(0, 0.002)) with ``DRIFT`` added to both
(``risk_data``, untimed): with a zero mean the log wealth falls by sigma^2 / 2
a period, and every drawdown of a long series is total (-1 for both sides, a
race that checks nothing); 1e-4 a period keeps the log wealth within +-520
over 1e7 rows, so empyrical's cumulative product neither overflows nor
underflows and the drawdowns stay below 100 %.

``PEER_LIMITS[(case, name)]`` is the largest row count at which a peer's answer
is expected to agree with trackerr's, with the reason: beyond it the peer is
still timed, but its (wrong) answer is recorded rather than asserted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import trackerr

from registry import Impl

try:
    import empyrical
except ImportError:  # pragma: no cover - depends on the environment
    empyrical = None

DRIFT = 1e-4
PERIODS = 252


def risk_data(portfolio: np.ndarray, benchmark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The suite's 1-D data with ``DRIFT`` added to both series (see the module doc)."""
    return portfolio + DRIFT, benchmark + DRIFT


def _empyrical(run: Any) -> Impl:
    return Impl(run, requires="empyrical")


RISK_CASES: dict[str, dict[str, Impl]] = {
    "max_drawdown": {
        "trackerr": Impl(lambda p, b: trackerr.max_drawdown(p)),
        "empyrical": _empyrical(lambda p, b: empyrical.max_drawdown(p)),
    },
    "sortino_ratio": {
        "trackerr": Impl(lambda p, b: trackerr.sortino_ratio(p, periods_per_year=PERIODS)),
        "empyrical": _empyrical(
            lambda p, b: empyrical.sortino_ratio(p, required_return=0.0, annualization=PERIODS)
        ),
    },
    "omega_ratio": {
        "trackerr": Impl(lambda p, b: trackerr.omega_ratio(p)),
        "empyrical": _empyrical(
            lambda p, b: empyrical.omega_ratio(p, risk_free=0.0, required_return=0.0)
        ),
    },
    "up_capture": {
        "trackerr": Impl(
            lambda p, b: trackerr.up_capture(p, b, method="annualized", periods_per_year=PERIODS)
        ),
        # empyrical 0.5's capture functions take `period`, not `annualization`
        "empyrical": _empyrical(lambda p, b: empyrical.up_capture(p, b, period="daily")),
    },
    "down_capture": {
        "trackerr": Impl(
            lambda p, b: trackerr.down_capture(p, b, method="annualized", periods_per_year=PERIODS)
        ),
        "empyrical": _empyrical(lambda p, b: empyrical.down_capture(p, b, period="daily")),
    },
}

# empyrical's capture ratios raise the product of the selected rows' growth
# factors to P / k: over ~5e5 rising (falling) days that product overflows
# (underflows), and the ratio comes out NaN (1.0). trackerr sums logs instead.
_CAPTURE_LIMIT = (10**5, "empyrical's product of growth factors over/underflows")
PEER_LIMITS: dict[tuple[str, str], tuple[int, str]] = {
    ("up_capture", "empyrical"): _CAPTURE_LIMIT,
    ("down_capture", "empyrical"): _CAPTURE_LIMIT,
}

BASELINE = "trackerr"

for _case, _impls in RISK_CASES.items():
    if BASELINE not in _impls:
        raise ValueError(f"risk case {_case!r} has no {BASELINE!r} baseline")
