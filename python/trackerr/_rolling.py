"""Rolling (fixed-window) metrics: validation and dispatch to the C++ kernels.

Semantics are pandas': the value at row t uses the ``window`` rows ending at t
(clipped at the start) and is defined when that window holds at least
``min_periods`` observations (default: ``window``). With ``nan_policy='omit'``
a row where either side is NaN is not an observation; ``'propagate'`` makes
every window containing a NaN NaN; ``'raise'`` raises. An inf makes the
windows that contain it NaN, and they recover once it leaves.

The kernels keep a guarded, shifted window state (see ``window.hpp``): O(1)
per step, recomputed from the window whenever a running bound on its rounding
error exceeds 1e-13 of the variance, exactly 0 for constant windows, never
negative. Results match an exact per-window computation to about 1e-15
relative whatever the data's history.
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

from . import _core, _inputs, _options

PeriodsPerYear = float | str | None

_FIELDS = (
    "tracking_error",
    "active_return",
    "information_ratio",
    "beta",
    "alpha",
    "correlation",
    "r_squared",
)


class RollingStats(NamedTuple):
    """Every rolling metric from one pass; each field has the portfolio's shape
    (pandas in gives pandas out)."""

    tracking_error: Any
    active_return: Any
    information_ratio: Any
    beta: Any
    alpha: Any
    correlation: Any
    r_squared: Any


def _window(window: int, ddof: float) -> int:
    if isinstance(window, bool) or not isinstance(window, numbers.Integral):
        raise TypeError(f"window must be an integer, not {type(window).__name__} (={window!r})")
    w = int(window)
    if w < 2:
        raise ValueError(f"window (={w}) must be at least 2")
    if not w > ddof:
        raise ValueError(f"window (={w}) must exceed ddof (={ddof:g})")
    return w


def _min_periods(min_periods: int | None, window: int) -> int:
    if min_periods is None:
        return window
    if isinstance(min_periods, bool) or not isinstance(min_periods, numbers.Integral):
        raise TypeError(
            f"min_periods must be an integer or None, not {type(min_periods).__name__} "
            f"(={min_periods!r})"
        )
    m = int(min_periods)
    if not 1 <= m <= window:
        raise ValueError(f"min_periods (={m}) must be between 1 and window (={window})")
    return m


def _threads(threads: int | None) -> int:
    if threads is None:
        return 0  # one per core
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be a positive integer or None, not {threads!r}")
    if threads < 1:
        raise ValueError(f"threads (={threads}) must be at least 1 (or None for every core)")
    return int(threads)


def _check_out(out: Any, shape: tuple[int, ...], arrays: tuple[np.ndarray, ...]) -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, not {type(out).__name__}")
    if out.dtype != np.float64:
        raise TypeError(f"out must have dtype float64, not {out.dtype}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape} but the result has shape {shape}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if any(np.may_share_memory(out, a) for a in arrays):
        raise ValueError("out must not overlap the portfolio or the benchmark")
    return out


def _nan_rows(inputs: _inputs.Inputs) -> npt.NDArray[np.bool_]:
    """Per row (and column, for panels): does the pair hold a NaN?"""
    p, b = inputs.portfolio, inputs.benchmark
    b_bad = np.isnan(b)
    out: npt.NDArray[np.bool_] = np.isnan(p) | (b_bad[:, None] if p.ndim > b.ndim else b_bad)
    return out


def _propagate(values: list[np.ndarray], bad: npt.NDArray[np.bool_], window: int) -> None:
    """Set every window that contains a NaN row to NaN (nan_policy='propagate')."""
    if not bad.any():
        return
    counts = np.cumsum(bad, axis=0, dtype=np.int64)
    lagged = np.zeros_like(counts)
    lagged[window:] = counts[:-window]
    hit = (counts - lagged) > 0
    for v in values:
        v[hit] = np.nan


def _wrap(values: np.ndarray, inputs: _inputs.Inputs, name: str) -> Any:
    if inputs.index is None:
        return values
    pd = _inputs._pandas()
    if values.ndim == 1:
        return pd.Series(values, index=inputs.index, name=name, copy=False)
    return pd.DataFrame(values, index=inputs.index, columns=inputs.columns, copy=False)


def _run(
    names: tuple[str, ...],
    portfolio: Any,
    benchmark: Any,
    window: int,
    *,
    min_periods: int | None,
    ddof: float,
    periods_per_year: PeriodsPerYear,
    nan_policy: str,
    risk_free: float = 0.0,
    geometric_alpha: bool = False,
    out: Any = None,
    threads: int | None,
) -> tuple[list[np.ndarray], _inputs.Inputs]:
    policy = _options.nan_policy(nan_policy)
    ddof = _options.ddof(ddof)
    periods = _options.periods(periods_per_year)
    w = _window(window, ddof)
    mp = _min_periods(min_periods, w)
    n_threads = _threads(threads)
    inputs = _inputs.prepare(portfolio, benchmark)
    p, b = inputs.portfolio, inputs.benchmark
    bad = _nan_rows(inputs) if policy != "omit" else None
    if policy == "raise" and bad is not None and bad.any():
        row = int(np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))[0])
        raise ValueError(f"nan_policy='raise' but the input holds NaN (first at row {row})")
    if out is not None:
        outputs = [_check_out(out, p.shape, (p, b))]
    else:
        outputs = [np.empty_like(p, dtype=np.float64) for _ in names]
    _core.rolling(
        list(names), p, b, w, mp, ddof, periods, risk_free, geometric_alpha, outputs, n_threads
    )
    if policy == "propagate" and bad is not None:
        _propagate(outputs, bad, w)
    return outputs, inputs


def _single(field: str, portfolio: Any, benchmark: Any, window: int, **options: Any) -> Any:
    """One rolling metric: run the kernel for `field` alone and wrap the result."""
    (values,), inputs = _run((field,), portfolio, benchmark, window, **options)
    return _wrap(values, inputs, field)


def rolling_tracking_error(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
) -> Any:
    r"""Rolling tracking error: the standard deviation of :math:`a_t = p_t - b_t`
    over each window, :math:`\sqrt{\sum (a - \bar a)^2 / (n - \mathrm{ddof})}\,\sqrt{P}`.

    Parameters
    ----------
    portfolio, benchmark : array_like, Series or DataFrame
        Periodic returns: 1-D of length T, or a T x N portfolio against a
        length-T (or T x N) benchmark.
    window : int
        Rows per window (at least 2 and more than ``ddof``). A window longer
        than the series gives all-NaN (unless ``min_periods`` allows less).
    min_periods : int, optional
        Observations a window needs for a value; default ``window``.
    ddof, periods_per_year, nan_policy
        As in :func:`trackerr.tracking_error`.
    out : ndarray, optional
        float64 array of the portfolio's shape to write into (returned).
    threads : int, optional
        Threads across portfolios of a panel; None = one per core, 1 = none.
        Results do not depend on it.

    Returns
    -------
    ndarray, Series or DataFrame of the portfolio's shape.
    """
    return _single(
        "tracking_error",
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=ddof,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
    )


def rolling_active_return(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
) -> Any:
    r"""Rolling mean active return, :math:`\bar a \cdot P` over each window
    (arithmetic; see :func:`rolling_tracking_error` for the shared options)."""
    return _single(
        "active_return",
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=0.0,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
    )


def rolling_information_ratio(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
) -> Any:
    r"""Rolling information ratio :math:`\bar a / s_a \cdot \sqrt{P}` over each
    window (arithmetic); NaN where the window's tracking error is 0."""
    return _single(
        "information_ratio",
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=ddof,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
    )


def rolling_beta(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
) -> Any:
    r"""Rolling beta :math:`\mathrm{cov}(p, b) / \mathrm{var}(b)` over each window
    (exactly ``window`` rows, unlike pyfolio's w + 1); NaN where the benchmark
    is constant."""
    return _single(
        "beta",
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=0.0,
        periods_per_year=None,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
    )


def rolling_alpha(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    risk_free: float = 0.0,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
    out: np.ndarray | None = None,
    threads: int | None = None,
) -> Any:
    r"""Rolling Jensen's alpha over each window:
    :math:`[(\bar p - r_f) - \beta (\bar b - r_f)] P`, or with
    ``method='geometric'`` :math:`(1 + \alpha_1)^P - 1` (as :func:`trackerr.alpha`)."""
    _options.choice("method", method, ("arithmetic", "geometric"))
    return _single(
        "alpha",
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=0.0,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        risk_free=_options.real("risk_free", risk_free),
        geometric_alpha=method == "geometric",
        out=out,
        threads=threads,
    )


def rolling_correlation(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
) -> Any:
    """Rolling Pearson correlation over each window; NaN where either side is constant."""
    return _single(
        "correlation",
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=0.0,
        periods_per_year=None,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
    )


def rolling_r_squared(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
) -> Any:
    """Rolling R^2 (squared correlation) over each window."""
    return _single(
        "r_squared",
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=0.0,
        periods_per_year=None,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
    )


def rolling_stats(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: PeriodsPerYear = None,
    risk_free: float = 0.0,
    nan_policy: str = "omit",
    threads: int | None = None,
) -> RollingStats:
    """All seven rolling metrics from one pass over the data.

    Returns a :class:`RollingStats` with fields ``tracking_error``,
    ``active_return``, ``information_ratio``, ``beta``, ``alpha`` (arithmetic),
    ``correlation`` and ``r_squared``, each equal to the single-metric function
    with the same options.
    """
    values, inputs = _run(
        _FIELDS,
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=ddof,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        risk_free=_options.real("risk_free", risk_free),
        threads=threads,
    )
    return RollingStats(*(_wrap(v, inputs, name) for v, name in zip(values, _FIELDS, strict=True)))


__all__ = [
    "RollingStats",
    "rolling_active_return",
    "rolling_alpha",
    "rolling_beta",
    "rolling_correlation",
    "rolling_information_ratio",
    "rolling_r_squared",
    "rolling_stats",
    "rolling_tracking_error",
]
