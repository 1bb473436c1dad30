"""Full-sample metrics: validation and dispatch to the C++ kernels.

Conventions shared by every function here:

* ``portfolio`` and ``benchmark`` are periodic returns (not prices): 1-D of
  length T give a float; a T x N portfolio against a length-T (or T x N)
  benchmark gives N values (a labelled Series for a DataFrame).
* pandas inputs are aligned on their index (inner join).
* ``nan_policy='omit'`` drops every pair where either side is NaN,
  ``'propagate'`` returns NaN when any pair holds a NaN, ``'raise'`` raises.
* float32 inputs are read in place and accumulated in float64; the result
  is always float64.
* ``periods_per_year=None`` leaves figures per period; a number or a preset
  name (``'daily'`` 252, ``'weekly'`` 52, ``'monthly'`` 12, ``'quarterly'`` 4,
  ``'semi-annual'`` 2, ``'annual'`` 1, ``'crypto-daily'`` 365, ``'crypto-hourly'`` 8760)
  annualizes them.
* Too few valid pairs (n <= ddof, or n < 2 for co-moments) give NaN.
* Every metric is NaN when a pair it uses holds an infinite value. Compounded
  figures (geometric tracking difference, active return and information
  ratio, geometric alpha) are NaN when a return they use is below -1: a
  growth factor 1 + r below 0 has no meaning. A return of exactly -1 is a
  total loss (growth 0, CAGR -1).
* Values far from 1 in magnitude (tiny, like 1e-200, or huge, like 1e200)
  are rescaled by a power of two before they are squared, so the results
  neither underflow nor overflow.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _core, _inputs, _options

PeriodsPerYear = float | str | None


def _evaluate(
    metric: str,
    portfolio: Any,
    benchmark: Any,
    *,
    nan_policy: str,
    name: str,
    ddof: float = 1.0,
    periods: float = math.nan,
    risk_free: float = 0.0,
) -> Any:
    policy = _options.nan_policy(nan_policy)
    inputs = _inputs.prepare(portfolio, benchmark)
    values, skipped = _core.evaluate(
        metric, inputs.portfolio, inputs.benchmark, ddof, periods, risk_free
    )
    if policy != "omit" and np.any(skipped):
        if policy == "raise":
            _inputs.raise_nan(_inputs.nan_mask(inputs), inputs)
        values = np.where(skipped > 0, np.nan, values) if np.ndim(values) else math.nan
    return _inputs.wrap(values, inputs, name)


def tracking_error(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    ddof: float = 1,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
) -> Any:
    r"""Tracking error: the standard deviation of the active return.

    .. math:: TE = \sqrt{\frac{1}{n - \mathrm{ddof}} \sum_t (a_t - \bar a)^2}\,\sqrt{P},
              \qquad a_t = p_t - b_t

    with :math:`P` = ``periods_per_year`` (1 when None).

    Parameters
    ----------
    portfolio, benchmark : array_like, pandas Series or DataFrame
        Periodic returns. 1-D of length T, or a T x N portfolio against a
        length-T (or T x N) benchmark.
    ddof : float, default 1
        Delta degrees of freedom; the divisor is ``n - ddof``.
    periods_per_year : float, str or None, default None
        Annualization factor or preset name; None leaves it per period.
    nan_policy : {'omit', 'propagate', 'raise'}, default 'omit'

    Returns
    -------
    float, ndarray or pandas.Series
        NaN when fewer than ``ddof + 1`` valid pairs remain.

    Notes
    -----
    The active return is formed first (one rounding) and its moments are
    accumulated in one pass with blocked two-pass sums merged pairwise, so the
    result is exact to about 1e-15 relative even for long series at large
    levels; ``tracking_error(b, b)`` is exactly 0.
    """
    return _evaluate(
        "tracking_error",
        portfolio,
        benchmark,
        nan_policy=nan_policy,
        name="tracking_error",
        ddof=_options.ddof(ddof),
        periods=_options.periods(periods_per_year),
    )


def tracking_difference(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    method: str = "geometric",
) -> Any:
    r"""Tracking difference: how much the portfolio out- (or under-) performed.

    ``method='geometric'`` (the ETF industry's convention) compares compounded
    returns over the whole period:

    .. math:: TD = \prod_t (1 + p_t) - \prod_t (1 + b_t)

    and, with ``periods_per_year`` = P, the difference of the annualized
    compound growth rates :math:`CAGR_p - CAGR_b` with
    :math:`CAGR = (\prod_t (1 + r_t))^{P/n} - 1`.

    ``method='arithmetic'`` sums the active return: :math:`\sum_t a_t`, or
    :math:`\bar a\,P` with ``periods_per_year``.

    Returns NaN for an empty sample, and for the geometric form when a return
    is below -1 (a negative growth factor) or infinite.
    """
    _options.choice("method", method, ("geometric", "arithmetic"))
    return _evaluate(
        "tracking_difference" if method == "geometric" else "tracking_difference_arithmetic",
        portfolio,
        benchmark,
        nan_policy=nan_policy,
        name="tracking_difference",
        periods=_options.periods(periods_per_year),
    )


def active_return(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
) -> Any:
    r"""Active return: the portfolio's return in excess of the benchmark's.

    ``method='arithmetic'`` (default): the mean active return, annualized by
    multiplication, :math:`\bar a \cdot P` with :math:`a_t = p_t - b_t`.

    ``method='geometric'``: :math:`(1 + R_p) / (1 + R_b) - 1`, where R is the
    compounded return over the period or, with ``periods_per_year``, the
    compound annual growth rate.
    """
    _options.choice("method", method, ("arithmetic", "geometric"))
    return _evaluate(
        "active_return" if method == "arithmetic" else "active_return_geometric",
        portfolio,
        benchmark,
        nan_policy=nan_policy,
        name="active_return",
        periods=_options.periods(periods_per_year),
    )


def information_ratio(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    ddof: float = 1,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
) -> Any:
    r"""Information ratio: active return per unit of tracking error.

    ``method='arithmetic'`` (default):

    .. math:: IR = \frac{\bar a}{s_a}\,\sqrt{P}

    with :math:`s_a` the standard deviation of :math:`a_t = p_t - b_t`
    (divisor ``n - ddof``). This equals empyrical's ``excess_sharpe`` times
    :math:`\sqrt{P}`.

    ``method='geometric'``: :math:`(CAGR_p - CAGR_b) / (s_a \sqrt{P})`; it
    needs ``periods_per_year``.

    NaN when the tracking error is 0 (a portfolio identical to its benchmark).
    """
    _options.choice("method", method, ("arithmetic", "geometric"))
    periods = _options.periods(periods_per_year)
    if method == "geometric" and math.isnan(periods):
        raise ValueError("method='geometric' needs periods_per_year (got None)")
    return _evaluate(
        "information_ratio" if method == "arithmetic" else "information_ratio_geometric",
        portfolio,
        benchmark,
        nan_policy=nan_policy,
        name="information_ratio",
        ddof=_options.ddof(ddof),
        periods=periods,
    )


def beta(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    nan_policy: str = "omit",
) -> Any:
    r"""Beta of the portfolio to the benchmark.

    .. math:: \beta = \frac{\mathrm{cov}(p, b)}{\mathrm{var}(b)}
              = \frac{\sum_t (p_t - \bar p)(b_t - \bar b)}{\sum_t (b_t - \bar b)^2}

    (the divisor cancels, so there is no ``ddof``). NaN when the benchmark's
    variance is 0 or fewer than two valid pairs remain.
    """
    return _evaluate("beta", portfolio, benchmark, nan_policy=nan_policy, name="beta")


def alpha(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    risk_free: float = 0.0,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
) -> Any:
    r"""Jensen's alpha.

    ``method='arithmetic'`` (default):

    .. math:: \alpha = \left[(\bar p - r_f) - \beta\,(\bar b - r_f)\right] P

    ``method='geometric'`` compounds the per-period alpha over a year,
    :math:`(1 + \alpha_1)^P - 1`, which is empyrical's ``alpha``.

    ``risk_free`` is a per-period rate (a scalar). NaN when beta is undefined;
    with ``method='geometric'`` also when :math:`1 + \alpha_1` is negative and
    ``periods_per_year`` is not 1 (raising a negative factor to a power has no
    meaning).
    """
    _options.choice("method", method, ("arithmetic", "geometric"))
    return _evaluate(
        "alpha" if method == "arithmetic" else "alpha_geometric",
        portfolio,
        benchmark,
        nan_policy=nan_policy,
        name="alpha",
        periods=_options.periods(periods_per_year),
        risk_free=_options.real("risk_free", risk_free),
    )


def correlation(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    nan_policy: str = "omit",
) -> Any:
    r"""Pearson correlation of portfolio and benchmark returns.

    .. math:: \rho = \frac{\sum_t (p_t - \bar p)(b_t - \bar b)}
              {\sqrt{\sum_t (p_t - \bar p)^2 \sum_t (b_t - \bar b)^2}}

    clamped to [-1, 1]; NaN when either series is constant.
    """
    return _evaluate("correlation", portfolio, benchmark, nan_policy=nan_policy, name="correlation")


def r_squared(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    nan_policy: str = "omit",
) -> Any:
    r"""Coefficient of determination of the portfolio on the benchmark, :math:`R^2 = \rho^2`.

    NaN when either series is constant.
    """
    return _evaluate("r_squared", portfolio, benchmark, nan_policy=nan_policy, name="r_squared")
