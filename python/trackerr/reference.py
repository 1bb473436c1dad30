"""Slow, obviously correct versions of every public metric.

This module is the oracle for trackerr's tests and benchmarks. It loops over
columns in Python, drops NaN pairs with boolean masks and sums with
:func:`math.fsum` (exactly rounded), using the textbook formulas given in each
docstring of the fast functions. It accepts numpy arrays (1-D, or T x N against a length-T or
T x N benchmark) and the same keyword options as the fast functions; it does
no pandas alignment and little validation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _options

__all__ = [
    "active_return",
    "alpha",
    "beta",
    "correlation",
    "down_capture",
    "information_ratio",
    "max_drawdown",
    "omega_ratio",
    "r_squared",
    "rolling_active_return",
    "rolling_alpha",
    "rolling_beta",
    "rolling_correlation",
    "rolling_down_capture",
    "rolling_information_ratio",
    "rolling_max_drawdown",
    "rolling_omega_ratio",
    "rolling_r_squared",
    "rolling_sharpe_ratio",
    "rolling_sortino_ratio",
    "rolling_tracking_error",
    "rolling_up_capture",
    "sharpe_ratio",
    "sortino_ratio",
    "tracking_difference",
    "tracking_error",
    "up_capture",
]

Pairs = tuple[np.ndarray, np.ndarray]


def _columns(portfolio: ArrayLike, benchmark: ArrayLike) -> tuple[list[Pairs], bool]:
    p = np.asarray(portfolio, dtype=np.float64)
    b = np.asarray(benchmark, dtype=np.float64)
    if p.ndim == 1:
        return [(p, b)], False
    cols = []
    for j in range(p.shape[1]):
        cols.append((p[:, j], b if b.ndim == 1 else b[:, j]))
    return cols, True


def _apply(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    nan_policy: str,
    metric: Callable[[np.ndarray, np.ndarray], float],
) -> Any:
    cols, is_panel = _columns(portfolio, benchmark)
    out = []
    for p, b in cols:
        bad = np.isnan(p) | np.isnan(b)
        if bad.any():
            if nan_policy == "raise":
                raise ValueError("nan_policy='raise' but the input holds NaN")
            if nan_policy == "propagate":
                out.append(math.nan)
                continue
        p_ok, b_ok = p[~bad], b[~bad]
        if np.isinf(p_ok).any() or np.isinf(b_ok).any():
            out.append(math.nan)  # an infinite return makes every metric NaN
            continue
        out.append(metric(p_ok, b_ok))
    return np.array(out) if is_panel else out[0]


def _mean(x: np.ndarray) -> float:
    return math.fsum(x.tolist()) / len(x) if len(x) else math.nan


def _centred(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Deviations from the mean and their (exact) sum, for the corrected two-pass formula."""
    m = _mean(x)
    d = x - m
    return d, math.fsum(d.tolist())


def _sum_products(x: np.ndarray, y: np.ndarray) -> float:
    """sum (x - mean x)(y - mean y) by the corrected two-pass formula."""
    dx, sx = _centred(x)
    dy, sy = _centred(y)
    return math.fsum((dx * dy).tolist()) - sx * sy / len(x)


def _std(a: np.ndarray, ddof: float) -> float:
    n = len(a)
    if n <= ddof:
        return math.nan
    scaled, e = _scaled(a)  # squares of tiny or huge values neither underflow nor overflow
    sd = math.sqrt(max(_sum_products(scaled, scaled), 0.0) / (n - ddof))
    try:
        return math.ldexp(sd, e)
    except OverflowError:
        return math.inf


def _mean_over_std(a: np.ndarray, ddof: float) -> float:
    """mean(a) / std(a, ddof), on a rescaled by a power of two (the ratio does not
    change, and neither the mean of tiny values nor the squares of huge ones round away)."""
    scaled, _ = _scaled(a)
    s = _std(scaled, ddof)
    return _mean(scaled) / s if s > 0.0 else math.nan


def _log_growth(x: np.ndarray) -> tuple[float, float]:
    """(sign, log prod (1 + x)) of the compounded growth factor: NaN when a
    factor is negative (a return below -1 has no meaning), (0, -inf) after a
    total loss."""
    factors = 1.0 + x
    if (factors < 0.0).any():
        return math.nan, math.nan
    if (factors == 0.0).any():
        return 0.0, -math.inf
    return 1.0, math.fsum(np.log(factors).tolist())


def _growth(x: np.ndarray) -> float:
    sign, log_g = _log_growth(x)
    return sign * math.exp(log_g) if len(x) else math.nan


def _cagr(x: np.ndarray, periods: float) -> float:
    sign, log_g = _log_growth(x)
    if not len(x) or math.isnan(sign):
        return math.nan
    if log_g == -math.inf:
        return -1.0
    exponent = log_g * periods / len(x)
    return math.inf if exponent > 709.0 else math.expm1(exponent)


def _scaled(x: np.ndarray) -> tuple[np.ndarray, int]:
    """x * 2**-e with e the binary exponent of max |x| (exact for finite data), and e:
    squares of the scaled values neither underflow nor overflow."""
    top = float(np.max(np.abs(x))) if len(x) else 0.0
    if not (math.isfinite(top) and top > 0.0):
        return x, 0
    e = math.frexp(top)[1]
    return np.ldexp(x, -e), e


def _beta(p: np.ndarray, b: np.ndarray) -> float:
    if len(p) < 2:
        return math.nan
    (ps, ep), (bs, eb) = _scaled(p), _scaled(b)
    var_b = _sum_products(bs, bs)
    return math.ldexp(_sum_products(ps, bs) / var_b, ep - eb) if var_b > 0.0 else math.nan


def _correlation(p: np.ndarray, b: np.ndarray) -> float:
    if len(p) < 2:
        return math.nan
    (ps, _), (bs, _) = _scaled(p), _scaled(b)
    var_p, var_b = _sum_products(ps, ps), _sum_products(bs, bs)
    if not (var_p > 0.0 and var_b > 0.0):
        return math.nan
    return min(1.0, max(-1.0, _sum_products(ps, bs) / (math.sqrt(var_p) * math.sqrt(var_b))))


def tracking_error(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    ddof: float = 1,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
) -> Any:
    """std(p - b, ddof) * sqrt(P)."""
    periods = _options.periods(periods_per_year)
    scale = 1.0 if math.isnan(periods) else math.sqrt(periods)
    return _apply(portfolio, benchmark, nan_policy, lambda p, b: _std(p - b, ddof) * scale)


def tracking_difference(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
    method: str = "geometric",
) -> Any:
    """prod(1 + p) - prod(1 + b), CAGR_p - CAGR_b, sum(p - b) or mean(p - b) * P."""
    periods = _options.periods(periods_per_year)

    def metric(p: np.ndarray, b: np.ndarray) -> float:
        if not len(p):
            return math.nan
        if method == "arithmetic":
            a = p - b
            return math.fsum(a.tolist()) if math.isnan(periods) else _mean(a) * periods
        if math.isnan(periods):
            return _growth(p) - _growth(b)
        return _cagr(p, periods) - _cagr(b, periods)

    return _apply(portfolio, benchmark, nan_policy, metric)


def active_return(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
) -> Any:
    """mean(p - b) * P, or (1 + R_p) / (1 + R_b) - 1 with compounded (annualized) R."""
    periods = _options.periods(periods_per_year)

    def metric(p: np.ndarray, b: np.ndarray) -> float:
        if not len(p):
            return math.nan
        if method == "arithmetic":
            return _mean(p - b) * (1.0 if math.isnan(periods) else periods)
        if math.isnan(periods):
            return _growth(p) / _growth(b) - 1.0
        return (1.0 + _cagr(p, periods)) / (1.0 + _cagr(b, periods)) - 1.0

    return _apply(portfolio, benchmark, nan_policy, metric)


def information_ratio(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    ddof: float = 1,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
) -> Any:
    """mean(a) / std(a) * sqrt(P), or (CAGR_p - CAGR_b) / (std(a) sqrt(P))."""
    periods = _options.periods(periods_per_year)

    def metric(p: np.ndarray, b: np.ndarray) -> float:
        if method == "arithmetic":
            root_p = 1.0 if math.isnan(periods) else math.sqrt(periods)
            return _mean_over_std(p - b, ddof) * root_p
        s = _std(p - b, ddof)
        if not s > 0.0:
            return math.nan
        return (_cagr(p, periods) - _cagr(b, periods)) / (s * math.sqrt(periods))

    return _apply(portfolio, benchmark, nan_policy, metric)


def beta(portfolio: ArrayLike, benchmark: ArrayLike, /, *, nan_policy: str = "omit") -> Any:
    """cov(p, b) / var(b)."""
    return _apply(portfolio, benchmark, nan_policy, _beta)


def alpha(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    risk_free: float = 0.0,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
) -> Any:
    """((mean p - rf) - beta (mean b - rf)) * P, or (1 + that per period)^P - 1."""
    periods = _options.periods(periods_per_year)
    per_year = 1.0 if math.isnan(periods) else periods

    def metric(p: np.ndarray, b: np.ndarray) -> float:
        a1 = (_mean(p) - risk_free) - _beta(p, b) * (_mean(b) - risk_free)
        if method == "arithmetic":
            return a1 * per_year
        if per_year == 1.0:
            return a1
        if 1.0 + a1 < 0.0:
            return math.nan  # compounding a negative factor has no meaning
        return float((1.0 + a1) ** per_year - 1.0)

    return _apply(portfolio, benchmark, nan_policy, metric)


def correlation(portfolio: ArrayLike, benchmark: ArrayLike, /, *, nan_policy: str = "omit") -> Any:
    """Pearson correlation of p and b."""
    return _apply(portfolio, benchmark, nan_policy, _correlation)


def r_squared(portfolio: ArrayLike, benchmark: ArrayLike, /, *, nan_policy: str = "omit") -> Any:
    """corr(p, b)^2."""
    return _apply(portfolio, benchmark, nan_policy, lambda p, b: _correlation(p, b) ** 2)


# --- rolling -----------------------------------------------------------------


def _rolling(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    min_periods: int | None,
    nan_policy: str,
    metric: Callable[[np.ndarray, np.ndarray], float],
) -> np.ndarray:
    """metric over every window, with pandas' rules: windows clipped at the
    start, NaN pairs dropped ('omit') or poisoning ('propagate'), fewer than
    min_periods observations or any inf in the window give NaN."""
    cols, is_panel = _columns(portfolio, benchmark)
    need = window if min_periods is None else min_periods
    out = np.full((len(cols[0][0]), len(cols)), np.nan)
    for j, (p, b) in enumerate(cols):
        for t in range(len(p)):
            pw, bw = p[max(0, t - window + 1) : t + 1], b[max(0, t - window + 1) : t + 1]
            bad = np.isnan(pw) | np.isnan(bw)
            if nan_policy == "propagate" and bad.any():
                continue
            pw, bw = pw[~bad], bw[~bad]
            if len(pw) < need or not (np.isfinite(pw).all() and np.isfinite(bw).all()):
                continue
            out[t, j] = metric(pw, bw)
    return out if is_panel else out[:, 0]


def rolling_tracking_error(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
) -> np.ndarray:
    """tracking_error over each window."""
    return _rolling(
        portfolio,
        benchmark,
        window,
        min_periods,
        nan_policy,
        lambda p, b: tracking_error(p, b, ddof=ddof, periods_per_year=periods_per_year),
    )


def rolling_active_return(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
) -> np.ndarray:
    """active_return (arithmetic) over each window."""
    return _rolling(
        portfolio,
        benchmark,
        window,
        min_periods,
        nan_policy,
        lambda p, b: active_return(p, b, periods_per_year=periods_per_year),
    )


def rolling_information_ratio(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
) -> np.ndarray:
    """information_ratio (arithmetic) over each window."""
    return _rolling(
        portfolio,
        benchmark,
        window,
        min_periods,
        nan_policy,
        lambda p, b: information_ratio(p, b, ddof=ddof, periods_per_year=periods_per_year),
    )


def rolling_beta(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
) -> np.ndarray:
    """beta over each window."""
    return _rolling(portfolio, benchmark, window, min_periods, nan_policy, _beta)


def rolling_alpha(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    risk_free: float = 0.0,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
) -> np.ndarray:
    """alpha over each window."""
    return _rolling(
        portfolio,
        benchmark,
        window,
        min_periods,
        nan_policy,
        lambda p, b: alpha(
            p, b, risk_free=risk_free, periods_per_year=periods_per_year, method=method
        ),
    )


def rolling_correlation(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
) -> np.ndarray:
    """correlation over each window."""
    return _rolling(portfolio, benchmark, window, min_periods, nan_policy, _correlation)


def rolling_r_squared(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
) -> np.ndarray:
    """r_squared over each window."""
    return _rolling(
        portfolio, benchmark, window, min_periods, nan_policy, lambda p, b: _correlation(p, b) ** 2
    )


# --- risk metrics ------------------------------------------------------------
#
# One-series metrics take the returns alone; NaN rows are dropped ('omit') or
# make the value NaN ('propagate'). An infinite return gives NaN, as does a
# return below -1 for the drawdown and the capture ratios.


def _apply_one(returns: ArrayLike, nan_policy: str, metric: Callable[[np.ndarray], float]) -> Any:
    r = np.asarray(returns, dtype=np.float64)
    return _apply(r, r, nan_policy, lambda x, _: metric(x))


def _max_drawdown(r: np.ndarray) -> float:
    """min_t W_t / max_{s<=t} W_s - 1 with W_0 = 1, from exact prefix sums of log1p(r)."""
    from fractions import Fraction

    if not len(r) or not np.isfinite(r).all() or (r < -1.0).any():
        return math.nan
    if (r == -1.0).any():
        return -1.0  # wealth 0 from then on: the lowest drawdown there is
    level = peak = Fraction(0)
    worst = Fraction(0)
    for log_growth in np.log1p(r).tolist():
        level += Fraction(log_growth)
        peak = max(peak, level)
        worst = min(worst, level - peak)
    return math.expm1(float(worst))


def _sortino(r: np.ndarray, target: float, scale: float) -> float:
    if not len(r) or not np.isfinite(r).all():
        return math.nan
    d = r - target
    down = np.minimum(d, 0.0)
    dd2 = math.fsum((down * down).tolist()) / len(d)
    return math.fsum(d.tolist()) / len(d) / math.sqrt(dd2) * scale if dd2 > 0.0 else math.nan


def _omega(r: np.ndarray, threshold: float) -> float:
    if not len(r) or not np.isfinite(r).all():
        return math.nan
    d = r - threshold
    loss = math.fsum(np.maximum(-d, 0.0).tolist())
    return math.fsum(np.maximum(d, 0.0).tolist()) / loss if loss > 0.0 else math.nan


def _capture_exponent(method: str, periods_per_year: float | str | None) -> float:
    """1 for per-period geometric means, P for empyrical's annualized ones."""
    _options.choice("method", method, ("geometric", "annualized"))
    if method == "geometric":
        if periods_per_year is not None:
            raise ValueError("periods_per_year applies only to method='annualized'")
        return 1.0
    if periods_per_year is None:
        raise ValueError("method='annualized' needs periods_per_year")
    return _options.periods(periods_per_year)


def _capture(p: np.ndarray, b: np.ndarray, periods: float, up: bool) -> float:
    # a growth factor below 0 (or an infinite return) anywhere has no meaning,
    # whichever side of the benchmark its row falls on
    if not (np.isfinite(p).all() and np.isfinite(b).all()):
        return math.nan
    if (p < -1.0).any() or (b < -1.0).any():
        return math.nan
    keep = b > 0.0 if up else b < 0.0
    p, b = p[keep], b[keep]
    if not len(p):
        return math.nan

    def cagr(x: np.ndarray) -> float:
        if (x == -1.0).any():
            return -1.0
        exponent = math.fsum(np.log1p(x).tolist()) * periods / len(x)
        return math.inf if exponent > 709.0 else math.expm1(exponent)

    return cagr(p) / cagr(b)


def max_drawdown(returns: ArrayLike, /, *, nan_policy: str = "omit") -> Any:
    """min over t of W_t / max_{s<=t} W_s - 1, W compounding the returns from 1."""
    return _apply_one(returns, nan_policy, _max_drawdown)


def sharpe_ratio(
    returns: ArrayLike,
    /,
    *,
    risk_free: float = 0.0,
    periods_per_year: float | str | None = None,
    ddof: float = 1,
    nan_policy: str = "omit",
) -> Any:
    """mean(r - rf) / std(r - rf, ddof) * sqrt(P)."""
    periods = _options.periods(periods_per_year)
    scale = 1.0 if math.isnan(periods) else math.sqrt(periods)

    def metric(r: np.ndarray) -> float:
        return _mean_over_std(r - risk_free, ddof) * scale

    return _apply_one(returns, nan_policy, metric)


def sortino_ratio(
    returns: ArrayLike,
    /,
    *,
    target: float = 0.0,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
) -> Any:
    """mean(r - target) / sqrt(mean(min(r - target, 0)^2)) * sqrt(P)."""
    periods = _options.periods(periods_per_year)
    scale = 1.0 if math.isnan(periods) else math.sqrt(periods)
    return _apply_one(returns, nan_policy, lambda r: _sortino(r, target, scale))


def omega_ratio(returns: ArrayLike, /, *, threshold: float = 0.0, nan_policy: str = "omit") -> Any:
    """sum(max(r - thr, 0)) / sum(max(thr - r, 0)); NaN when the denominator is 0."""
    return _apply_one(returns, nan_policy, lambda r: _omega(r, threshold))


def up_capture(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    method: str = "geometric",
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
) -> Any:
    """Geometric mean return of p over the periods where b > 0 divided by b's there
    (per period, or annualized with method='annualized')."""
    periods = _capture_exponent(method, periods_per_year)
    return _apply(portfolio, benchmark, nan_policy, lambda p, b: _capture(p, b, periods, True))


def down_capture(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    method: str = "geometric",
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
) -> Any:
    """Geometric mean return of p over the periods where b < 0 divided by b's there."""
    periods = _capture_exponent(method, periods_per_year)
    return _apply(portfolio, benchmark, nan_policy, lambda p, b: _capture(p, b, periods, False))


def _rolling_one(
    returns: ArrayLike,
    window: int,
    min_periods: int | None,
    nan_policy: str,
    metric: Callable[[np.ndarray], float],
) -> np.ndarray:
    """metric over every window of one series; inf rows are passed to the metric
    (which gives NaN for them), so only the NaN rules of _rolling apply here."""
    r = np.asarray(returns, dtype=np.float64)
    cols = [r] if r.ndim == 1 else [r[:, j] for j in range(r.shape[1])]
    need = window if min_periods is None else min_periods
    out = np.full((len(cols[0]), len(cols)), np.nan)
    for j, x in enumerate(cols):
        for t in range(len(x)):
            xw = x[max(0, t - window + 1) : t + 1]
            bad = np.isnan(xw)
            if (nan_policy == "propagate" and bad.any()) or (~bad).sum() < need:
                continue
            out[t, j] = metric(xw[~bad])
    return out if r.ndim == 2 else out[:, 0]


def rolling_max_drawdown(
    returns: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
) -> np.ndarray:
    """max_drawdown over each window (wealth restarts at 1 in each window)."""
    return _rolling_one(returns, window, min_periods, nan_policy, _max_drawdown)


def rolling_sharpe_ratio(
    returns: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    risk_free: float = 0.0,
    periods_per_year: float | str | None = None,
    ddof: float = 1,
    nan_policy: str = "omit",
) -> np.ndarray:
    """sharpe_ratio over each window (NaN for windows holding an inf)."""

    def metric(r: np.ndarray) -> float:
        if not np.isfinite(r).all():
            return math.nan
        return float(
            sharpe_ratio(r, risk_free=risk_free, periods_per_year=periods_per_year, ddof=ddof)
        )

    return _rolling_one(returns, window, min_periods, nan_policy, metric)


def rolling_sortino_ratio(
    returns: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    target: float = 0.0,
    periods_per_year: float | str | None = None,
    nan_policy: str = "omit",
) -> np.ndarray:
    """sortino_ratio over each window."""
    periods = _options.periods(periods_per_year)
    scale = 1.0 if math.isnan(periods) else math.sqrt(periods)
    return _rolling_one(
        returns, window, min_periods, nan_policy, lambda r: _sortino(r, target, scale)
    )


def rolling_omega_ratio(
    returns: ArrayLike,
    window: int,
    /,
    *,
    min_periods: int | None = None,
    threshold: float = 0.0,
    nan_policy: str = "omit",
) -> np.ndarray:
    """omega_ratio over each window."""
    return _rolling_one(returns, window, min_periods, nan_policy, lambda r: _omega(r, threshold))


def rolling_up_capture(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    method: str = "geometric",
    periods_per_year: float | str | None = None,
    min_periods: int | None = None,
    nan_policy: str = "omit",
) -> np.ndarray:
    """up_capture over each window (rows where either side is NaN are not observations)."""
    periods = _capture_exponent(method, periods_per_year)
    return _rolling_pairs(
        portfolio,
        benchmark,
        window,
        min_periods,
        nan_policy,
        lambda p, b: _capture(p, b, periods, True),
    )


def rolling_down_capture(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    /,
    *,
    method: str = "geometric",
    periods_per_year: float | str | None = None,
    min_periods: int | None = None,
    nan_policy: str = "omit",
) -> np.ndarray:
    """down_capture over each window."""
    periods = _capture_exponent(method, periods_per_year)
    return _rolling_pairs(
        portfolio,
        benchmark,
        window,
        min_periods,
        nan_policy,
        lambda p, b: _capture(p, b, periods, False),
    )


def _rolling_pairs(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    window: int,
    min_periods: int | None,
    nan_policy: str,
    metric: Callable[[np.ndarray, np.ndarray], float],
) -> np.ndarray:
    """metric over every window of a pair, NaN pairs dropped; infs reach the metric."""
    cols, is_panel = _columns(portfolio, benchmark)
    need = window if min_periods is None else min_periods
    out = np.full((len(cols[0][0]), len(cols)), np.nan)
    for j, (p, b) in enumerate(cols):
        for t in range(len(p)):
            pw, bw = p[max(0, t - window + 1) : t + 1], b[max(0, t - window + 1) : t + 1]
            bad = np.isnan(pw) | np.isnan(bw)
            if (nan_policy == "propagate" and bad.any()) or (~bad).sum() < need:
                continue
            out[t, j] = metric(pw[~bad], bw[~bad])
    return out if is_panel else out[:, 0]
