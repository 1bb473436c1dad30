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
negative. Results match an exact per-window computation within that bound
(a standard deviation to 5e-14 relative; measured: 1e-15 on large levels
with tiny noise, at worst 1.3e-14 after regime changes) whatever the data's
history.

Range: the window state squares deviations as they come, so values must lie
within about 1e-154 .. 1e154 in magnitude (or be 0): beyond, the squares
underflow to 0 or overflow to inf. The full-sample functions rescale by a
power of two and have no such limit. Real returns are far inside it.
"""

from __future__ import annotations

import datetime as dt
import numbers
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from . import _core, _inputs, _options

WindowSpec = int | str | dt.timedelta | np.timedelta64
"""A window: a count of rows, or a span of time ('30D', a timedelta)."""

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


_F64 = np.dtype(np.float64)
_NS = np.dtype("timedelta64[ns]")


def _time_span(window: Any) -> int | None:
    """A time-span window in nanoseconds, or None for a count of rows.
    Spans without a fixed length (months, years) are refused."""
    if not isinstance(window, np.timedelta64) and (
        isinstance(window, (bool, np.bool_)) or isinstance(window, numbers.Integral)
    ):
        return None  # (numpy counts timedelta64 as an integer type)
    pd_loaded = _inputs._pandas()
    if pd_loaded is not None and isinstance(window, pd_loaded.Timedelta):
        # before datetime.timedelta, its base class, which has no nanoseconds
        if window is pd_loaded.NaT or window != window:
            raise ValueError("window is NaT")
        ns = int(window.value)  # nanoseconds, whatever the Timedelta's unit
        if ns <= 0:
            raise ValueError(f"window (={window!r}) must be a positive span of time")
        return ns
    if isinstance(window, str):
        pd = _inputs._pandas()
        if pd is None:
            try:
                import pandas

                pd = pandas
            except ImportError:
                raise TypeError(
                    f"window (={window!r}): a span written as text needs pandas to read it; "
                    "pass a numpy timedelta64 or a datetime.timedelta"
                ) from None
        try:
            td = pd.Timedelta(window)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"window (={window!r}) is not a span of time pandas can read "
                f"(e.g. '30D', '12h', '5min'): {str(exc).splitlines()[0]}"
            ) from None
        if td is pd.NaT:
            raise ValueError(f"window (={window!r}) is not a span of time")
        ns = int(td.value)
    elif isinstance(window, dt.timedelta):
        ns = (window.days * 86_400 + window.seconds) * 1_000_000_000 + window.microseconds * 1000
        if ns > np.iinfo(np.int64).max:
            raise ValueError(f"window (={window!r}) is too long for int64 nanoseconds")
    elif isinstance(window, np.timedelta64):
        unit = np.datetime_data(window.dtype)[0]
        if np.isnat(window):
            raise ValueError("window is NaT")
        if unit in ("Y", "M", "generic"):
            raise ValueError(
                f"window (={window!r}) has no fixed length (years, months or no unit); "
                "give days or a finer unit"
            )
        converted = window.astype(_NS)
        if converted.astype(window.dtype) != window:  # numpy wraps (or truncates) silently
            finer = unit in ("ps", "fs", "as")
            raise ValueError(
                f"window (={window!r}) is "
                + (
                    "not a whole number of nanoseconds"
                    if finer
                    else "too long for int64 nanoseconds"
                )
            )
        ns = int(converted.astype(np.int64))
    else:
        raise TypeError(
            "window must be an integer (rows) or a span of time (a str such as '30D', a numpy "
            f"timedelta64, a datetime.timedelta), not {type(window).__name__} (={window!r})"
        )
    if ns <= 0:
        raise ValueError(f"window (={window!r}) must be a positive span of time")
    return ns


def _time_values(times: Any, inputs: _inputs.Inputs, rows: int) -> np.ndarray:
    """The rows' times as int64 nanoseconds (UTC for zone-aware pandas times)."""
    if times is None:
        index = inputs.index
        pd = _inputs._pandas()
        if index is None or pd is None or not isinstance(index, pd.DatetimeIndex):
            raise ValueError(
                "a time-span window needs the rows' times: pass times=, or pandas data "
                "with a DatetimeIndex"
            )
        # in the index's own unit (pandas 3 parses dates to microseconds, or
        # keeps seconds), converted to nanoseconds
        naive = index if index.tz is None else index.tz_convert("UTC").tz_localize(None)
        values = naive.to_numpy()
        nat = np.isnat(values)
        if nat.any():
            raise ValueError(f"the index has a NaT at row {int(np.flatnonzero(nat)[0])}")
        stamps = _inputs.datetime_ns(values, "the index")
    else:
        pd = _inputs._pandas()
        if pd is not None and isinstance(times, (pd.Index, pd.Series)):
            if not pd.api.types.is_datetime64_any_dtype(times.dtype):  # never parse or guess a unit
                raise TypeError(f"times must hold datetime64 values, not {times.dtype}")
            idx = pd.DatetimeIndex(times)
            if idx.tz is not None:
                idx = idx.tz_convert("UTC").tz_localize(None)
            arr = idx.to_numpy()
        else:
            arr = np.asarray(times)
        if arr.dtype.kind != "M":
            raise TypeError(f"times must hold datetime64 values, not {arr.dtype}")
        if arr.ndim != 1 or len(arr) != rows:
            raise ValueError(f"times has shape {arr.shape}; the data has {rows} rows")
        nat = np.isnat(arr)
        if nat.any():
            raise ValueError(f"times has a NaT at row {int(np.flatnonzero(nat)[0])}")
        stamps = _inputs.datetime_ns(arr, "times")
    if rows > 1 and np.any(stamps[1:] < stamps[:-1]):
        back = int(np.flatnonzero(stamps[1:] < stamps[:-1])[0]) + 1
        raise ValueError(f"times go back at row {back}: sort the rows by time first")
    return np.ascontiguousarray(stamps)


def _run_time(
    names: tuple[str, ...],
    portfolio: Any,
    benchmark: Any,
    span: int,
    times: Any,
    *,
    min_periods: int | None,
    ddof: float,
    periods_per_year: PeriodsPerYear,
    nan_policy: str,
    risk_free: float,
    geometric_alpha: bool,
    out: Any,
    threads: int | None,
) -> tuple[list[np.ndarray], _inputs.Inputs]:
    policy = _options.nan_policy(nan_policy)
    ddof = _options.ddof(ddof)
    periods = _options.periods(periods_per_year)
    n_threads = _inputs.threads(threads)
    inputs = _inputs.prepare(portfolio, benchmark)
    p = np.ascontiguousarray(inputs.portfolio, dtype=np.float64)
    b = np.ascontiguousarray(inputs.benchmark, dtype=np.float64)
    rows = p.shape[0]
    mp = _time_min_periods(min_periods)
    stamps = _time_values(times, inputs, rows)
    bad = _inputs.nan_mask(inputs) if policy != "omit" else None
    if policy == "raise" and bad is not None:
        _inputs.raise_nan(bad, inputs)
    if out is not None:
        outputs = [_inputs.check_out(out, p.shape, (inputs.portfolio, inputs.benchmark, stamps))]
    else:
        outputs = [np.empty(p.shape) for _ in names]
    _core.rolling_time(
        list(names),
        p,
        b,
        stamps,
        span,
        mp,
        ddof,
        periods,
        risk_free,
        geometric_alpha,
        outputs,
        n_threads,
    )
    if policy == "propagate" and bad is not None:
        _propagate_time(outputs, bad, stamps, span)
    return outputs, inputs


def _time_min_periods(min_periods: Any) -> int:
    """min_periods of a time-span window: observations, at least 1 (None: 1)."""
    if min_periods is None:
        return 1
    if isinstance(min_periods, bool) or not isinstance(min_periods, numbers.Integral):
        raise TypeError(f"min_periods must be an integer or None, not {min_periods!r}")
    mp = int(min_periods)
    if mp < 1:
        raise ValueError(f"min_periods (={mp}) must be at least 1 with a time-span window")
    return mp


def _propagate_time(
    outputs: list[np.ndarray], bad: np.ndarray, stamps: np.ndarray, span: int
) -> None:
    """nan_policy='propagate' over time windows: every window (t - span, t]
    holding a NaN row is NaN (NaN rows up to t minus those before the
    window's first row, found by a binary search on the times)."""
    if not bad.any():
        return
    first = np.searchsorted(stamps, _edges(stamps, span), side="right")
    counts = np.concatenate([np.zeros((1, *bad.shape[1:]), np.int64), np.cumsum(bad, axis=0)])
    hit = (counts[1:] - counts[first]) > 0
    for v in outputs:
        v[hit] = np.nan


def _count_window_times(times: Any, window: Any) -> None:
    """times= given with a window of rows: refused."""
    if times is not None:
        raise ValueError(
            "times is for a time-span window (window='30D', a timedelta); window "
            f"(={window!r}) is a count of rows"
        )


def _edges(stamps: np.ndarray, span: int) -> np.ndarray:
    """times - span for each row, without wrapping below the int64 range."""
    low = np.iinfo(np.int64).min
    with np.errstate(over="ignore"):  # the rows below low + span take low
        edges: np.ndarray = np.where(stamps < low + span, low, stamps - np.int64(span))
    return edges


def _plain(
    portfolio: Any,
    benchmark: Any,
    window: Any,
    min_periods: Any,
    ddof: Any,
    periods_per_year: Any,
    nan_policy: Any,
    out: Any,
    threads: Any,
) -> tuple[np.ndarray, np.ndarray, int, float, int] | None:
    """The common call, checked in a few operations: float64 numpy arrays of
    usable shapes, an int window, and every option at a default the full
    checks accept as it is. Returns (p, b, window, ddof, threads) as the full
    checks would give them, or None for anything else (the full checks then
    run, and give the errors).

    This is a speed path, not a second set of rules: a rolling call on 1e5
    rows spends about 250 us in the kernel, and the Python checks, which take
    10 us on their own, took 35-45 us more right after a kernel had run
    through the caches.
    """
    if not (
        type(portfolio) is np.ndarray
        and type(benchmark) is np.ndarray
        and portfolio.dtype is _F64
        and benchmark.dtype is _F64
        and type(window) is int
        and min_periods is None
        and periods_per_year is None
        and out is None
        and nan_policy == "omit"
        and type(nan_policy) is str
    ):
        return None
    if type(ddof) is not int and type(ddof) is not float:
        return None
    d = float(ddof)
    if not (0.0 <= d < window and 2 <= window <= _inputs.MAX_WINDOW):
        return None
    if threads is None:
        t = 0
    elif type(threads) is int and 1 <= threads <= _inputs.MAX_THREADS:
        t = threads
    else:
        return None
    p_shape, b_shape = portfolio.shape, benchmark.shape
    if not (
        portfolio.size > 0
        and (
            (len(p_shape) == 1 and b_shape == p_shape)
            or (len(p_shape) == 2 and (b_shape == p_shape or b_shape == p_shape[:1]))
        )
    ):
        return None
    return portfolio, benchmark, window, d, t


def _run(
    names: tuple[str, ...],
    portfolio: Any,
    benchmark: Any,
    window: WindowSpec,
    *,
    min_periods: int | None,
    ddof: float,
    periods_per_year: PeriodsPerYear,
    nan_policy: str,
    risk_free: float = 0.0,
    geometric_alpha: bool = False,
    out: Any = None,
    threads: int | None,
    times: Any = None,
) -> tuple[list[np.ndarray], _inputs.Inputs]:
    span = _time_span(window)
    if span is not None:
        return _run_time(
            names,
            portfolio,
            benchmark,
            span,
            times,
            min_periods=min_periods,
            ddof=ddof,
            periods_per_year=periods_per_year,
            nan_policy=nan_policy,
            risk_free=risk_free,
            geometric_alpha=geometric_alpha,
            out=out,
            threads=threads,
        )
    _count_window_times(times, window)
    plain = _plain(
        portfolio,
        benchmark,
        window,
        min_periods,
        ddof,
        periods_per_year,
        nan_policy,
        out,
        threads,
    )
    if plain is not None:
        p, b, w, dd, t = plain
        values = [np.empty_like(p) for _ in names]
        _core.rolling(list(names), p, b, w, w, dd, np.nan, risk_free, geometric_alpha, values, t)
        return values, _inputs.Inputs(p, b, None)
    policy = _options.nan_policy(nan_policy)
    ddof = _options.ddof(ddof)
    periods = _options.periods(periods_per_year)
    w = _inputs.window(window, ddof)
    mp = _inputs.min_periods(min_periods, w)
    n_threads = _inputs.threads(threads)
    inputs = _inputs.prepare(portfolio, benchmark)
    p, b = inputs.portfolio, inputs.benchmark
    bad = _inputs.nan_mask(inputs) if policy != "omit" else None
    if policy == "raise" and bad is not None:
        _inputs.raise_nan(bad, inputs)
    if out is not None:
        outputs = [_inputs.check_out(out, p.shape, (p, b))]
    else:
        outputs = [np.empty_like(p, dtype=np.float64) for _ in names]
    _core.rolling(
        list(names), p, b, w, mp, ddof, periods, risk_free, geometric_alpha, outputs, n_threads
    )
    if policy == "propagate" and bad is not None:
        _inputs.propagate(outputs, bad, w)
    return outputs, inputs


def _single(field: str, portfolio: Any, benchmark: Any, window: WindowSpec, **options: Any) -> Any:
    """One rolling metric: run the kernel for `field` alone and wrap the result."""
    (values,), inputs = _run((field,), portfolio, benchmark, window, **options)
    return _inputs.wrap_rolling(values, inputs, field)


def rolling_tracking_error(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
) -> Any:
    r"""Rolling tracking error: the standard deviation of :math:`a_t = p_t - b_t`
    over each window, :math:`\sqrt{\sum (a - \bar a)^2 / (n - \mathrm{ddof})}\,\sqrt{P}`.

    Parameters
    ----------
    portfolio, benchmark : array_like, Series or DataFrame
        Periodic returns: 1-D of length T, or a T x N portfolio against a
        length-T (or T x N) benchmark.
    window : int, or a time span (str such as '30D', numpy timedelta64, datetime.timedelta)
        Rows per window (at least 2 and more than ``ddof``; a window longer
        than the series gives all-NaN unless ``min_periods`` allows less), or a
        span of time: row t's window is then the rows with times in
        (t - span, t], as pandas' ``rolling('30D')``, and ``min_periods``
        (default 1) counts observations.
    min_periods : int, optional
        Observations a window needs for a value; default ``window``.
    ddof, periods_per_year, nan_policy
        As in :func:`trackerr.tracking_error`.
    out : ndarray, optional
        float64 array of the portfolio's shape to write into (returned).
    threads : int, optional
        Threads across portfolios of a panel; None = one per core, 1 = none.
        Results do not depend on it.
    times : array_like of datetime64, optional
        The rows' times, for a time-span window (non-decreasing, no NaT);
        pandas inputs with a DatetimeIndex give them by themselves.

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
        times=times,
    )


def rolling_active_return(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
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
        times=times,
    )


def rolling_information_ratio(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
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
        times=times,
    )


def rolling_beta(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
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
        times=times,
    )


def rolling_alpha(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    risk_free: float = 0.0,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
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
        times=times,
    )


def rolling_correlation(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
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
        times=times,
    )


def rolling_r_squared(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
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
        times=times,
    )


def rolling_stats(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: PeriodsPerYear = None,
    risk_free: float = 0.0,
    nan_policy: str = "omit",
    threads: int | None = None,
    times: Any = None,
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
        times=times,
    )
    return RollingStats(
        *(_inputs.wrap_rolling(v, inputs, name) for v, name in zip(values, _FIELDS, strict=True))
    )


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
