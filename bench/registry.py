"""The comparison table: every benchmarked case and the implementations raced in it.

``CASES[case][name]`` is an :class:`Impl`. Its ``run(portfolio, benchmark)`` is
the timed call; ``prepare`` (untimed) turns the numpy inputs from the fixtures
into what ``run`` expects (pandas objects, say). Each case's ``"trackerr"``
entry is the baseline: report ratios are ``median(peer) / median(trackerr)``
within one case and size, and every other entry must agree with it to 1e-9
relative.

Cases whose name ends in ``_panel`` take a T x N portfolio against a length-T
benchmark; the others take two 1-D arrays of length T.

A second table, ``ROLLING_CASES``, holds the rolling-window cases: the same
idea with ``run(portfolio, benchmark, window)`` (see :class:`RollingImpl`).

Optional peers (pandas, bottleneck, numbagg, ``trackerr.reference``) are
imported here when available; a missing one is not an error: its benchmarks
are skipped at run time (``Impl.requires``), so collection never breaks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    import numbagg
except ImportError:  # pragma: no cover - depends on the environment
    numbagg = None

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


# --- rolling windows ---------------------------------------------------------
#
# Every rolling call returns an array of the portfolio's shape (NaN until a
# window is full: pandas' semantics with min_periods = window) or, for
# ``rolling_stats``, several such arrays. Results are compared field by field:
# a RollingStats namedtuple or a dict gives its fields, a plain array is the
# field "value". A peer may return a subset of the baseline's fields.
#
# Conventions of the peers (checked against their sources, numbagg 0.9 and
# bottleneck 1.6): numbagg's move_std / move_var / move_cov take no ddof and
# divide by n - 1 (sample moments, like pandas and trackerr's default), so no
# rescaling is needed; bottleneck's move_std / move_var take ddof (default 0),
# passed explicitly; bottleneck has no move_cov, so its beta is built from
# move_mean with population moments on both sides (the ddof cancels in the
# ratio). numbagg keeps running sums of x, x^2 (and xy) across the whole series
# and forms (sum x^2 - (sum x)^2 / n) / (n - 1): it loses accuracy when the mean
# is large against the spread, as do the peers' other running updates, but on
# this zero-mean random data all agree with trackerr to ~1e-12 (measured).


@dataclass(frozen=True)
class RollingImpl:
    """One implementation of one rolling case."""

    run: Callable[..., Any]
    """The timed call, ``run(portfolio, benchmark, window)``."""
    prepare: Callable[[np.ndarray, np.ndarray], tuple[Any, Any]] | None = None
    """Untimed conversion of the numpy inputs into ``run``'s arguments."""
    requires: str | None = None
    """Module that must be importable, else the benchmark is skipped."""
    smallest_only: bool = False
    """Too slow for big inputs: run only at the smallest 1-D size and window."""
    max_rows: int | None = None
    """Too slow even for that: run only on the first ``max_rows`` rows of the
    smallest 1-D data, at the smallest window, in a size group of its own
    (labelled by the row count, e.g. ``1e4``) where trackerr is timed and
    compared on the same rows."""
    warmup: bool = False
    """Call once on a small slice before timing (numba compiles on first use)."""
    atol: Mapping[str, float] = field(default_factory=dict)
    """Absolute tolerance per field on top of the suite's rtol (default 0)."""


def numbagg_impl(run: Callable[..., Any]) -> RollingImpl:
    """A numbagg peer (numba gufuncs, parallel over the non-moving axes)."""
    return RollingImpl(run, requires="numbagg", warmup=True)


def bottleneck_impl(run: Callable[..., Any]) -> RollingImpl:
    """A bottleneck peer (single-threaded C)."""
    return RollingImpl(run, requires="bottleneck")


def rolling_pandas_impl(run: Callable[..., Any], **kwargs: Any) -> RollingImpl:
    """A pandas peer: ``run`` receives a Series (or DataFrame), a Series and the window."""
    return RollingImpl(run, prepare=_to_pandas, requires="pandas", **kwargs)


def _bn_rolling_beta(p: np.ndarray, b: np.ndarray, w: int) -> Any:
    # (mean(pb) - mean(p) mean(b)) / var(b), population moments throughout.
    return (bn.move_mean(p * b, w) - bn.move_mean(p, w) * bn.move_mean(b, w)) / bn.move_var(
        b, w, ddof=0
    )


def _bn_rolling_beta_panel(P: np.ndarray, b: np.ndarray, w: int) -> Any:
    cov = (
        bn.move_mean(P * b[:, None], w, axis=0)
        - bn.move_mean(P, w, axis=0) * bn.move_mean(b, w)[:, None]
    )
    return cov / bn.move_var(b, w, ddof=0)[:, None]


def _numbagg_rolling_beta_panel(P: np.ndarray, b: np.ndarray, w: int) -> Any:
    # move_cov needs two arrays of one shape: a zero-stride view of b, no copy.
    cov = numbagg.move_cov(P, np.broadcast_to(b[:, None], P.shape), window=w, axis=0)
    return cov / numbagg.move_var(b, window=w)[:, None]


def _pandas_rolling_stats(p: Any, b: Any, w: int) -> dict[str, Any]:
    a = p - b
    te = a.rolling(w).std()
    return {
        "tracking_error": te,
        "beta": p.rolling(w).cov(b) / b.rolling(w).var(),
        "correlation": p.rolling(w).corr(b),
        "information_ratio": a.rolling(w).mean() / te,
    }


ROLLING_CASES: dict[str, dict[str, RollingImpl]] = {
    # 1-D: two length-T arrays, several windows.
    "rolling_tracking_error": {
        "trackerr": RollingImpl(lambda p, b, w: trackerr.rolling_tracking_error(p, b, w)),
        "bottleneck": bottleneck_impl(lambda p, b, w: bn.move_std(p - b, w, ddof=1)),
        "numbagg": numbagg_impl(lambda p, b, w: numbagg.move_std(p - b, window=w)),  # ddof=1
        "pandas": rolling_pandas_impl(lambda p, b, w: (p - b).rolling(w).std()),
        "reference": RollingImpl(
            lambda p, b, w: ref.rolling_tracking_error(p, b, w),
            requires="trackerr.reference",
            max_rows=10_000,  # a Python loop over the windows: ~0.15 s per 1e4 rows
        ),
    },
    "rolling_stats": {
        "trackerr": RollingImpl(lambda p, b, w: trackerr.rolling_stats(p, b, w)),
        # Not a peer: what the seven-in-one pass costs over the cheapest single
        # metric (bench/report.py prints rolling_stats / rolling_tracking_error).
        "trackerr_te_alone": RollingImpl(
            lambda p, b, w: {"tracking_error": trackerr.rolling_tracking_error(p, b, w)}
        ),
        "pandas": rolling_pandas_impl(
            _pandas_rolling_stats,
            # The IR (mean / std of the window's active returns) passes through
            # zero: at 1e7 points some windows have |mean| ~ 1e-8 of the std,
            # where pandas' rolling mean is off by ~1e-14 absolute (trackerr
            # matches an exact fsum there) and a relative comparison fails for
            # no fault of either. IR is dimensionless and its condition scale,
            # mean|a| / std(a), is ~0.8 on this data, so an absolute 1e-9 is the
            # same 1e-9 relative to the quantity's natural size.
            atol={"information_ratio": 1e-9},
        ),
    },
    "rolling_beta": {
        "trackerr": RollingImpl(lambda p, b, w: trackerr.rolling_beta(p, b, w)),
        "bottleneck": bottleneck_impl(_bn_rolling_beta),
        "numbagg": numbagg_impl(  # both ddof=1: it cancels
            lambda p, b, w: numbagg.move_cov(p, b, window=w) / numbagg.move_var(b, window=w)
        ),
        "pandas": rolling_pandas_impl(lambda p, b, w: p.rolling(w).cov(b) / b.rolling(w).var()),
    },
    # Panels: a T x N portfolio (C order) against a length-T benchmark.
    "rolling_tracking_error_panel": {
        "trackerr": RollingImpl(lambda P, b, w: trackerr.rolling_tracking_error(P, b, w)),
        "trackerr_1thread": RollingImpl(
            lambda P, b, w: trackerr.rolling_tracking_error(P, b, w, threads=1)
        ),
        "numbagg": numbagg_impl(lambda P, b, w: numbagg.move_std(P - b[:, None], window=w, axis=0)),
        "bottleneck": bottleneck_impl(
            lambda P, b, w: bn.move_std(P - b[:, None], w, axis=0, ddof=1)
        ),
        "pandas": rolling_pandas_impl(lambda P, b, w: P.sub(b, axis=0).rolling(w).std()),
    },
    "rolling_beta_panel": {
        "trackerr": RollingImpl(lambda P, b, w: trackerr.rolling_beta(P, b, w)),
        "trackerr_1thread": RollingImpl(lambda P, b, w: trackerr.rolling_beta(P, b, w, threads=1)),
        "numbagg": numbagg_impl(_numbagg_rolling_beta_panel),
        "bottleneck": bottleneck_impl(_bn_rolling_beta_panel),
        # Pairwise-free DataFrame.rolling.cov(Series): one covariance per column.
        "pandas": rolling_pandas_impl(
            lambda P, b, w: P.rolling(w).cov(b).div(b.rolling(w).var(), axis=0)
        ),
    },
}

for _case, _rolling_impls in ROLLING_CASES.items():
    if BASELINE not in _rolling_impls:
        raise ValueError(f"rolling case {_case!r} has no {BASELINE!r} baseline")
    if _case in CASES:
        raise ValueError(f"case {_case!r} is in both CASES and ROLLING_CASES")
