"""Risk metrics: max drawdown, Sharpe, Sortino, Omega and the capture ratios.

Full-sample and rolling forms, with the conventions of :mod:`trackerr._fullsample`
and :mod:`trackerr._rolling`:

* ``returns`` are periodic simple returns: 1-D of length T gives a float (a
  rolling array of length T); a T x N array gives N values (a T x N rolling
  array); a DataFrame gives a Series indexed by its columns (a DataFrame).
* ``nan_policy='omit'`` (default) drops rows where any input is NaN,
  ``'propagate'`` gives NaN when a (window's) row holds NaN, ``'raise'`` raises.
* An infinite return makes the value NaN (in a rolling window, only the
  windows that contain it); so does a return below -1 for the drawdown and
  the capture ratios (a negative growth factor), in any row of the sample or
  window, whether or not the benchmark's sign selects it. A return of
  exactly -1 is a total loss (drawdown -1, growth 0).
* ``periods_per_year`` is a number or a preset name (``'daily'``,
  ``'crypto-daily'``, ...); None leaves per-period figures.

The C++ kernels (``risk.hpp``) summarise a stretch of rows in a form that
combines associatively; rolling windows are aggregated with the two-stacks
scheme, so each rolling value is computed from its own window's rows only:
no running sum is ever decreased, nothing drifts, and each value equals the
full-sample function applied to the window to about 1e-15 relative. The
full-sample forms take faster routes to the same accuracy: compensated running
products of growth factors for the drawdown and the capture ratios (one
rounding per return, as a sum of log1p has), and lanes of compensated sums for
Sortino and Omega; series outside their stated bounds go the summary route.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core, _inputs, _options, _rolling
from ._fullsample import _evaluate
from ._rolling import WindowSpec

PeriodsPerYear = float | str | None


def _full(
    metric: str,
    inputs: _inputs.Inputs,
    *,
    two: bool,
    nan_policy: str,
    target: float = 0.0,
    periods: float = math.nan,
) -> Any:
    policy = _options.nan_policy(nan_policy)
    values, skipped = _core.risk(
        metric, inputs.portfolio, inputs.benchmark if two else None, target, periods
    )
    if policy != "omit" and np.any(skipped):
        if policy == "raise":
            _inputs.raise_nan(_inputs.nan_mask(inputs, two), inputs)
        values = np.where(skipped > 0, np.nan, values) if np.ndim(values) else math.nan
    return _inputs.wrap(values, inputs, metric)


def _roll(
    metric: str,
    inputs: _inputs.Inputs,
    window: WindowSpec,
    *,
    two: bool,
    min_periods: int | None,
    nan_policy: str,
    out: Any,
    threads: int | None,
    target: float = 0.0,
    periods: float = math.nan,
    times: Any = None,
) -> Any:
    policy = _options.nan_policy(nan_policy)
    span = _rolling._time_span(window)
    if span is None:
        _rolling._count_window_times(times, window)
        w = _inputs.window(window)
        mp = _inputs.min_periods(min_periods, w)
    else:
        mp = _rolling._time_min_periods(min_periods)
        stamps = _rolling._time_values(times, inputs, inputs.portfolio.shape[0])
    n_threads = _inputs.threads(threads)
    r = inputs.portfolio
    bad = _inputs.nan_mask(inputs, two) if policy != "omit" else None
    if policy == "raise" and bad is not None:
        _inputs.raise_nan(bad, inputs)
    if out is not None:
        shared = (r, inputs.benchmark) if span is None else (r, inputs.benchmark, stamps)
        result = _inputs.check_out(out, r.shape, shared)
    else:
        result = np.empty_like(r, dtype=np.float64)
    b = inputs.benchmark if two else None
    if span is None:
        _core.rolling_risk(metric, r, b, w, mp, target, periods, result, n_threads)
        if policy == "propagate" and bad is not None:
            _inputs.propagate([result], bad, w)
    else:
        _core.rolling_risk_time(metric, r, b, stamps, span, mp, target, periods, result, n_threads)
        if policy == "propagate" and bad is not None:
            _rolling._propagate_time([result], bad, stamps, span)
    return _inputs.wrap_rolling(result, inputs, metric)


def _capture_periods(method: str, periods_per_year: PeriodsPerYear) -> float:
    """The exponent P/k of the capture kernels: P = 1 for per-period geometric
    means (the default), periods per year for empyrical's annualized form."""
    _options.choice("method", method, ("geometric", "annualized"))
    if method == "geometric":
        if periods_per_year is not None:
            raise ValueError(
                f"periods_per_year (={periods_per_year!r}) applies only to method='annualized'; "
                "the default method='geometric' compares per-period geometric means, which "
                "need no annualization"
            )
        return 1.0
    if periods_per_year is None:
        raise ValueError(
            "method='annualized' needs periods_per_year (got None); pass a number or a "
            "preset name such as 'daily'"
        )
    return _options.periods(periods_per_year)


def _constant(value: float, rows: int) -> np.ndarray:
    """A length-`rows` read-only view of one value (stride 0: no memory per row)."""
    return np.broadcast_to(np.float64(value), (rows,))


# --- full sample ---------------------------------------------------------------


def max_drawdown(returns: ArrayLike, /, *, nan_policy: str = "omit") -> Any:
    r"""Maximum drawdown: the worst fall of wealth from its running peak.

    .. math:: MDD = \min_t \frac{W_t}{\max_{s \le t} W_s} - 1,
              \qquad W_t = \prod_{u \le t} (1 + r_u),\; W_0 = 1

    The peak includes the starting wealth 1, so a loss in the first period
    counts.

    Parameters
    ----------
    returns : array_like, Series or DataFrame
        Periodic simple returns, 1-D of length T or T x N.
    nan_policy : {'omit', 'propagate', 'raise'}, default 'omit'

    Returns
    -------
    float, ndarray or pandas.Series
        A number in [-1, 0]: 0 when wealth never falls below its peak, -1 after
        a return of -100 %. NaN without valid observations, or when a return is
        infinite or below -1 (a negative wealth; this is where we differ from
        empyrical, whose cumulative product then goes negative).

    Notes
    -----
    The wealth is a compensated running product: the plain product of
    :math:`1 + r` plus a second double that collects what each multiplication
    rounds away, rescaled by powers of two so it never overflows. A ratio
    :math:`W_t / W_s` then carries one rounding per return between s and t, as
    the sum of :math:`\log(1 + r)` would (which the rolling form uses), and the
    result is accurate to a few ulps even for a small drawdown late in a long
    series, where a plain running product loses digits. The rare series whose
    drawdown is too small for that bound to hold (near-constant wealth), or
    with a return above :math:`2^{64}`, are summed in logs instead.
    """
    return _full("max_drawdown", _inputs.single(returns), two=False, nan_policy=nan_policy)


def sharpe_ratio(
    returns: ArrayLike,
    /,
    *,
    risk_free: float = 0.0,
    periods_per_year: PeriodsPerYear = None,
    ddof: float = 1,
    nan_policy: str = "omit",
) -> Any:
    r"""Sharpe ratio: mean excess return per unit of its standard deviation.

    .. math:: SR = \frac{\overline{r - r_f}}{s_{r - r_f}}\,\sqrt{P}

    with :math:`s` the standard deviation with divisor ``n - ddof`` and
    :math:`P` = ``periods_per_year`` (1 when None). ``risk_free`` is a
    per-period rate. This is :func:`trackerr.information_ratio` against a
    constant benchmark :math:`r_f` (and the same kernel computes it); it equals
    ``empyrical.sharpe_ratio(r, risk_free, annualization=P)``.

    NaN when the excess return is constant or fewer than ``ddof + 1`` valid
    observations remain.
    """
    r = _inputs.single(returns)
    rf = _constant(_options.real("risk_free", risk_free), r.portfolio.shape[0])
    return _evaluate(
        "information_ratio",
        returns,
        rf,
        nan_policy=nan_policy,
        name="sharpe_ratio",
        ddof=_options.ddof(ddof),
        periods=_options.periods(periods_per_year),
    )


def sortino_ratio(
    returns: ArrayLike,
    /,
    *,
    target: float = 0.0,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
) -> Any:
    r"""Sortino ratio: mean excess over target per unit of downside deviation.

    .. math:: S = \frac{\bar d}{DD}\,\sqrt{P}, \qquad d_t = r_t - \tau,
              \qquad DD = \sqrt{\frac{1}{n} \sum_{t=1}^{n} \min(d_t, 0)^2}

    The downside deviation averages over all n valid periods, not only the
    losing ones (empyrical's full-sample convention). ``target`` :math:`\tau`
    is per period. NaN when :math:`DD = 0` (no return below target); empyrical
    gives inf there.
    """
    return _full(
        "sortino_ratio",
        _inputs.single(returns),
        two=False,
        nan_policy=nan_policy,
        target=_options.real("target", target),
        periods=_options.periods(periods_per_year),
    )


def omega_ratio(
    returns: ArrayLike,
    /,
    *,
    threshold: float = 0.0,
    nan_policy: str = "omit",
) -> Any:
    r"""Omega ratio: gains above a threshold over losses below it.

    .. math:: \Omega = \frac{\sum_t \max(r_t - \theta, 0)}{\sum_t \max(\theta - r_t, 0)}

    ``threshold`` :math:`\theta` is a per-period return (empyrical's
    ``required_return`` is annual and converted; they agree at 0).
    NaN when no return is below the threshold (the denominator is 0), as in
    empyrical, rather than inf.
    """
    return _full(
        "omega_ratio",
        _inputs.single(returns),
        two=False,
        nan_policy=nan_policy,
        target=_options.real("threshold", threshold),
    )


_CAPTURE_DOC = r"""{Side} capture ratio.

    Over the k periods where the benchmark return is {cond}, the ratio of the
    portfolio's to the benchmark's geometric mean return.

    ``method='geometric'`` (default) compares per-period geometric means:

    .. math:: C = \frac{{g_p}}{{g_b}}, \qquad
              g_x = \left(\prod (1 + x_t)\right)^{{1 / k}} - 1

    which means the same at any sampling frequency: 1.2 is "the portfolio's
    average {side} period was 1.2 times the benchmark's".

    ``method='annualized'`` raises each mean to a year first, as empyrical does:
    :math:`CAGR_x = (\prod (1 + x_t))^{{P / k}} - 1` with P = ``periods_per_year``
    (required then), and equals ``empyrical.{side}_capture(p, b, annualization=P)``.
    Beware that on daily data the annualized down-market growth of any risky
    asset is close to -100 %, so this ratio saturates near 1 for every
    portfolio and tells them apart poorly.

    Both are computed as ``expm1(E / k * L)`` (E = 1 or P) with L the log of
    the product of the growth factors, kept as a compensated product and taken
    to logs once (``sum(log1p(x))`` to the same accuracy), so that small returns
    keep their digits.

    Parameters
    ----------
    portfolio : array_like, Series or DataFrame
        Periodic returns, length T or T x N.
    benchmark : array_like, Series or DataFrame
        Periodic returns of length T (or T x N); pandas inputs are aligned
        on their index.
    method : {{'geometric', 'annualized'}}, default 'geometric'
    periods_per_year : float or str, optional
        Only with ``method='annualized'`` (and required there).
    nan_policy : {{'omit', 'propagate', 'raise'}}, default 'omit'

    Returns
    -------
    float, ndarray or pandas.Series
        NaN when no period qualifies, when the benchmark's mean is 0, or when a
        return in the selected periods is below -1 (or any is infinite).
    """


def up_capture(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    method: str = "geometric",
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
) -> Any:
    periods = _capture_periods(method, periods_per_year)
    inputs = _inputs.prepare(portfolio, benchmark)
    return _full("up_capture", inputs, two=True, nan_policy=nan_policy, periods=periods)


def down_capture(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    method: str = "geometric",
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
) -> Any:
    periods = _capture_periods(method, periods_per_year)
    inputs = _inputs.prepare(portfolio, benchmark)
    return _full("down_capture", inputs, two=True, nan_policy=nan_policy, periods=periods)


up_capture.__doc__ = _CAPTURE_DOC.format(Side="Up", side="up", cond="above 0")
down_capture.__doc__ = _CAPTURE_DOC.format(Side="Down", side="down", cond="below 0")


# --- rolling -------------------------------------------------------------------

_ROLLING_PARAMS = """
    Parameters
    ----------
    window : int
        Rows per window (at least 2); the window of row t is the rows
        [t - window + 1, t], clipped at the start.
    min_periods : int, optional
        Observations a window needs for a value; default ``window``.
    nan_policy : {'omit', 'propagate', 'raise'}, default 'omit'
    out : ndarray, optional
        float64 array of the input's shape to write into (returned).
    threads : int, optional
        Threads across the columns of a T x N input; None = one per core.
        Results do not depend on it.

    Returns
    -------
    ndarray, Series or DataFrame of the input's shape.
"""


def rolling_max_drawdown(
    returns: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
) -> Any:
    """Rolling maximum drawdown: :func:`max_drawdown` of each window's rows,
    with wealth starting at 1 before the window's first return.

    This is the exact drawdown of each window, found in O(1) amortised time per
    step by combining window summaries (log growth, peak, trough, drawdown)
    with the two-stacks scheme. It is not the "drawdown from the window's
    peak" that a monotonic deque of wealth gives (the current wealth against
    the highest wealth in the window), a different quantity.
    """
    return _roll(
        "max_drawdown",
        _inputs.single(returns),
        window,
        two=False,
        min_periods=min_periods,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
        times=times,
    )


def rolling_sharpe_ratio(
    returns: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    risk_free: float = 0.0,
    periods_per_year: PeriodsPerYear = None,
    ddof: float = 1,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
) -> Any:
    """Rolling Sharpe ratio: :func:`sharpe_ratio` of each window (the rolling
    information ratio against a constant benchmark, with its guarded window
    state). ``window`` must exceed ``ddof``."""
    r = _inputs.single(returns)
    rf = _constant(_options.real("risk_free", risk_free), r.portfolio.shape[0])
    values = _rolling.rolling_information_ratio(
        returns,
        rf,
        window,
        min_periods=min_periods,
        ddof=ddof,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
        times=times,
    )
    if hasattr(values, "name") and values.ndim == 1:
        values.name = "sharpe_ratio"
    return values


def rolling_sortino_ratio(
    returns: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    target: float = 0.0,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
) -> Any:
    """Rolling Sortino ratio: :func:`sortino_ratio` of each window (downside
    deviation over all the window's observations)."""
    return _roll(
        "sortino_ratio",
        _inputs.single(returns),
        window,
        two=False,
        min_periods=min_periods,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
        times=times,
        target=_options.real("target", target),
        periods=_options.periods(periods_per_year),
    )


def rolling_omega_ratio(
    returns: ArrayLike,
    window: WindowSpec,
    /,
    *,
    min_periods: int | None = None,
    threshold: float = 0.0,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
) -> Any:
    """Rolling Omega ratio: :func:`omega_ratio` of each window."""
    return _roll(
        "omega_ratio",
        _inputs.single(returns),
        window,
        two=False,
        min_periods=min_periods,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
        times=times,
        target=_options.real("threshold", threshold),
    )


def rolling_up_capture(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: WindowSpec,
    /,
    *,
    method: str = "geometric",
    periods_per_year: PeriodsPerYear = None,
    min_periods: int | None = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
) -> Any:
    """Rolling up capture: :func:`up_capture` of each window's rows, with the same
    ``method`` and ``periods_per_year`` (NaN for a window without a period where
    the benchmark rose)."""
    periods = _capture_periods(method, periods_per_year)
    return _roll(
        "up_capture",
        _inputs.prepare(portfolio, benchmark),
        window,
        two=True,
        min_periods=min_periods,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
        times=times,
        periods=periods,
    )


def rolling_down_capture(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: WindowSpec,
    /,
    *,
    method: str = "geometric",
    periods_per_year: PeriodsPerYear = None,
    min_periods: int | None = None,
    nan_policy: str = "omit",
    out: np.ndarray | None = None,
    threads: int | None = None,
    times: Any = None,
) -> Any:
    """Rolling down capture: :func:`down_capture` of each window's rows, with the
    same ``method`` and ``periods_per_year`` (NaN for a window without a period
    where the benchmark fell)."""
    periods = _capture_periods(method, periods_per_year)
    return _roll(
        "down_capture",
        _inputs.prepare(portfolio, benchmark),
        window,
        two=True,
        min_periods=min_periods,
        nan_policy=nan_policy,
        out=out,
        threads=threads,
        times=times,
        periods=periods,
    )


for _f in (
    rolling_max_drawdown,
    rolling_sortino_ratio,
    rolling_omega_ratio,
    rolling_up_capture,
    rolling_down_capture,
):
    _f.__doc__ = (_f.__doc__ or "") + "\n" + _ROLLING_PARAMS
del _f

__all__ = [
    "down_capture",
    "max_drawdown",
    "omega_ratio",
    "rolling_down_capture",
    "rolling_max_drawdown",
    "rolling_omega_ratio",
    "rolling_sharpe_ratio",
    "rolling_sortino_ratio",
    "rolling_up_capture",
    "sharpe_ratio",
    "sortino_ratio",
    "up_capture",
]
