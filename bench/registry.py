"""The comparison table: every benchmarked case and the implementations raced in it.

``CASES[case][name]`` is an :class:`Impl`. Its ``run(portfolio, benchmark)`` is
the timed call; ``prepare`` (untimed) turns the numpy inputs from the fixtures
into what ``run`` expects (pandas objects, say). Each case's ``"trackerr"``
entry is the baseline: report ratios are ``median(peer) / median(trackerr)``
within one case and size, and every other entry must agree with it to 1e-9
relative.

Cases whose name ends in ``_panel`` take a T x N portfolio against a length-T
benchmark; the others take two 1-D arrays of length T.

Optional peers (pandas, bottleneck, ``trackerr.reference``) are imported here
when available; a missing one is not an error: its benchmarks are skipped at
run time (``Impl.requires``), so collection never breaks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import trackerr

try:
    import pandas as pd
except ImportError:  # pragma: no cover - depends on the environment
    pd = None

try:
    import bottleneck as bn
except ImportError:  # pragma: no cover - depends on the environment
    bn = None

try:
    from trackerr import reference as ref
except ImportError:  # pragma: no cover - depends on the installed trackerr
    ref = None


@dataclass(frozen=True)
class Impl:
    """One implementation of one case."""

    run: Callable[..., Any]
    """The timed call, ``run(portfolio, benchmark)``."""
    prepare: Callable[[np.ndarray, np.ndarray], tuple[Any, Any]] | None = None
    """Untimed conversion of the numpy inputs into ``run``'s arguments."""
    requires: str | None = None
    """Module that must be importable, else the benchmark is skipped."""
    smallest_only: bool = False
    """Too slow for big inputs: run only at the smallest 1-D size."""


# --- helpers ---------------------------------------------------------------


def _to_pandas(p: np.ndarray, b: np.ndarray) -> tuple[Any, Any]:
    # Same (Range)Index on both sides, as after an upstream alignment.
    index = pd.RangeIndex(len(b))
    left = pd.Series(p, index=index) if p.ndim == 1 else pd.DataFrame(p, index=index)
    return left, pd.Series(b, index=index)


def pandas_impl(run: Callable[..., Any]) -> Impl:
    """A pandas peer: ``run`` receives a Series (or DataFrame) and a Series."""
    return Impl(run, prepare=_to_pandas, requires="pandas")


def reference_impl(metric: str) -> Impl:
    """trackerr's own pure-numpy ``math.fsum`` reference (slow, exact)."""
    return Impl(
        lambda p, b: getattr(ref, metric)(p, b),
        requires="trackerr.reference",
        smallest_only=True,
    )


def _numpy_beta(p: np.ndarray, b: np.ndarray) -> float:
    c = np.cov(p, b)
    return c[0, 1] / c[1, 1]


def _numpy_alpha(p: np.ndarray, b: np.ndarray) -> float:
    c = np.cov(p, b)
    return p.mean() - c[0, 1] / c[1, 1] * b.mean()


def _numpy_information_ratio(p: np.ndarray, b: np.ndarray) -> float:
    a = p - b
    return a.mean() / a.std(ddof=1)


def _pandas_information_ratio(p: Any, b: Any) -> float:
    a = p - b
    return a.mean() / a.std()


def _pandas_beta(p: Any, b: Any) -> float:
    return p.cov(b) / b.var()


def _pandas_alpha(p: Any, b: Any) -> float:
    return p.mean() - p.cov(b) / b.var() * b.mean()


def _beta_panel(P: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Centred products, vectorized over the columns.
    bc = b - b.mean()
    return (bc @ (P - P.mean(axis=0))) / (bc @ bc)


def _correlation_panel(P: np.ndarray, b: np.ndarray) -> np.ndarray:
    bc = b - b.mean()
    Pc = P - P.mean(axis=0)
    return (bc @ Pc) / np.sqrt(np.einsum("ij,ij->j", Pc, Pc) * (bc @ bc))


# --- the table -------------------------------------------------------------

CASES: dict[str, dict[str, Impl]] = {
    # 1-D: two length-T arrays.
    "tracking_error": {
        "trackerr": Impl(lambda p, b: trackerr.tracking_error(p, b)),
        "trackerr_pandas": Impl(
            lambda p, b: trackerr.tracking_error(p, b), prepare=_to_pandas, requires="pandas"
        ),
        "numpy": Impl(lambda p, b: np.std(p - b, ddof=1)),
        "pandas": pandas_impl(lambda p, b: (p - b).std()),
        "bottleneck": Impl(lambda p, b: bn.nanstd(p - b, ddof=1), requires="bottleneck"),
        "reference": reference_impl("tracking_error"),
    },
    "tracking_difference": {
        "trackerr": Impl(lambda p, b: trackerr.tracking_difference(p, b)),
        "numpy": Impl(lambda p, b: np.prod(1.0 + p) - np.prod(1.0 + b)),
        "pandas": pandas_impl(lambda p, b: (1.0 + p).prod() - (1.0 + b).prod()),
        "reference": reference_impl("tracking_difference"),
    },
    "active_return": {
        "trackerr": Impl(lambda p, b: trackerr.active_return(p, b)),
        "numpy": Impl(lambda p, b: np.mean(p - b)),
        "pandas": pandas_impl(lambda p, b: (p - b).mean()),
        "reference": reference_impl("active_return"),
    },
    "information_ratio": {
        "trackerr": Impl(lambda p, b: trackerr.information_ratio(p, b)),
        "numpy": Impl(_numpy_information_ratio),
        "pandas": pandas_impl(_pandas_information_ratio),
        "reference": reference_impl("information_ratio"),
    },
    "beta": {
        "trackerr": Impl(lambda p, b: trackerr.beta(p, b)),
        "trackerr_pandas": Impl(
            lambda p, b: trackerr.beta(p, b), prepare=_to_pandas, requires="pandas"
        ),
        "numpy_cov": Impl(_numpy_beta),
        "pandas": pandas_impl(_pandas_beta),
        "reference": reference_impl("beta"),
    },
    "alpha": {
        "trackerr": Impl(lambda p, b: trackerr.alpha(p, b)),
        "numpy_cov": Impl(_numpy_alpha),
        "pandas": pandas_impl(_pandas_alpha),
        "reference": reference_impl("alpha"),
    },
    "correlation": {
        "trackerr": Impl(lambda p, b: trackerr.correlation(p, b)),
        "numpy_corrcoef": Impl(lambda p, b: np.corrcoef(p, b)[0, 1]),
        "pandas": pandas_impl(lambda p, b: p.corr(b)),
        "reference": reference_impl("correlation"),
    },
    "r_squared": {
        "trackerr": Impl(lambda p, b: trackerr.r_squared(p, b)),
        "numpy_corrcoef": Impl(lambda p, b: np.corrcoef(p, b)[0, 1] ** 2),
        "pandas": pandas_impl(lambda p, b: p.corr(b) ** 2),
        "reference": reference_impl("r_squared"),
    },
    # Panels: a T x N portfolio (C or Fortran order) against a length-T benchmark.
    "tracking_error_panel": {
        "trackerr": Impl(lambda P, b: trackerr.tracking_error(P, b)),
        "numpy": Impl(lambda P, b: np.std(P - b[:, None], axis=0, ddof=1)),
        "pandas": pandas_impl(lambda P, b: P.sub(b, axis=0).std()),
        "bottleneck": Impl(
            lambda P, b: bn.nanstd(P - b[:, None], axis=0, ddof=1), requires="bottleneck"
        ),
    },
    "beta_panel": {
        "trackerr": Impl(lambda P, b: trackerr.beta(P, b)),
        "numpy": Impl(_beta_panel),
    },
    "correlation_panel": {
        "trackerr": Impl(lambda P, b: trackerr.correlation(P, b)),
        "numpy": Impl(_correlation_panel),
        "pandas": pandas_impl(lambda P, b: P.corrwith(b)),
    },
}

BASELINE = "trackerr"


def is_panel(case: str) -> bool:
    """Whether ``case`` takes a T x N portfolio (else two 1-D arrays)."""
    return case.endswith("_panel")


for _case, _impls in CASES.items():
    if BASELINE not in _impls:
        raise ValueError(f"case {_case!r} has no {BASELINE!r} baseline")
