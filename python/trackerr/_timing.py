"""Timing: how much of a tracking error is the clock.

Two prices sampled at different moments (an ETF's 16:00 New York close against
bitcoin's 00:00 UTC close, an oracle that lags the market, NAV against market
price) give same-date returns that differ by the move in between, even when the
portfolio tracks perfectly. That difference is noise at each end of every
period: it does not build up over longer horizons, while a genuine tracking
difference does. These functions separate the two.

Model (``timing_decomposition``). With active log returns
:math:`a_t = \\ln(1 + p_t) - \\ln(1 + b_t)` and k-period sums
:math:`A^{(k)}_t = a_{t-k+1} + \\dots + a_t`, a genuine active process with
per-period variance :math:`s^2` (independent across periods) plus an endpoint
(timing) error :math:`e_t` on each observation (independent, variance
:math:`v`) gives :math:`a_t = g_t + e_t - e_{t-1}` and

.. math:: \\operatorname{Var} A^{(k)} = k\\,s^2 + 2v,

since the endpoint errors inside a k-period sum cancel but at its two ends.
Plotting the annualized tracking error of k-period returns against k (the
"signature plot" of the realized-volatility literature) shows the timing noise
as a curve falling like :math:`1/\\sqrt{k}` toward the genuine tracking error.
The same model is the microstructure-noise model of Zhang, Mykland and
Aït-Sahalia (2005), "A tale of two time scales", J. Am. Stat. Assoc. 100;
see also Andersen, Bollerslev, Diebold and Labys (2000), "Great realizations",
Risk 13 (the signature plot).
"""

from __future__ import annotations

import math
import numbers
import statistics
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

from . import _fullsample, _inputs, _options

PeriodsPerYear = float | str | None

_DIRECT_HORIZON = 8
"""k-period sums up to this k are built from the (k - 1)-period ones (one
more period each), longer ones from a running sum of the centred series."""


# --- inputs -----------------------------------------------------------------------


def _active_log(
    portfolio: Any, benchmark: Any, nan_policy: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], Any]:
    """(p, b, a) as float64 1-D arrays with a = log1p(p) - log1p(b), and the
    pandas index of the rows kept (or None). Rows with a NaN on either side are
    dropped ('omit') or refused ('raise'); returns must exceed -1."""
    policy = _options.nan_policy(nan_policy)
    if policy == "propagate":
        raise ValueError(
            "nan_policy='propagate' is not supported here (one NaN would make every horizon NaN); "
            "use 'omit' or 'raise'"
        )
    inputs = _inputs.prepare(portfolio, benchmark)
    p = np.asarray(inputs.portfolio, dtype=np.float64)
    b = np.asarray(inputs.benchmark, dtype=np.float64)
    if p.ndim != 1 or b.ndim != 1:
        raise ValueError(
            f"portfolio and benchmark must be 1-D series here; got shapes {p.shape} and {b.shape}"
        )
    bad = np.isnan(p) | np.isnan(b)
    if policy == "raise" and bad.any():
        i = int(np.flatnonzero(bad)[0])
        side = "portfolio" if np.isnan(p[i]) else "benchmark"
        raise ValueError(f"{side} has a NaN at row {i} (nan_policy='raise')")
    keep = ~bad
    p, b = p[keep], b[keep]
    index = inputs.index[keep] if inputs.index is not None else None
    for name, x in (("portfolio", p), ("benchmark", b)):
        if not np.all(np.isfinite(x)):
            i = int(np.flatnonzero(~np.isfinite(x))[0])
            raise ValueError(
                f"{name} has a non-finite return {float(x[i])!r} at row {i} of the rows kept"
            )
        if np.any(x <= -1.0):
            i = int(np.flatnonzero(x <= -1.0)[0])
            raise ValueError(
                f"{name} has a return of {float(x[i])!r} at row {i} of the rows kept: returns must "
                "exceed -1 (a price must stay positive) to compound over horizons"
            )
    return p, b, np.log1p(p) - np.log1p(b), index


def _horizons(value: Any, n: int, name: str = "horizons") -> npt.NDArray[np.int64]:
    if isinstance(value, (numbers.Integral,)) and not isinstance(value, bool):
        value = [value]
    try:
        ks = list(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an integer or a sequence of integers, not {type(value).__name__}"
        ) from None
    if not ks:
        raise ValueError(f"{name} is empty")
    out = []
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral):
            raise TypeError(f"{name} must hold integers; got {k!r}")
        k = int(k)
        if k < 1:
            raise ValueError(f"{name} must be at least 1; got {k}")
        if k > n // 2:
            raise ValueError(
                f"{name} holds {k}, too long for {n} observations (at most {n // 2}: a horizon "
                "needs at least two periods of its length)"
            )
        out.append(k)
    return np.asarray(out, dtype=np.int64)


def _annualizer(periods_per_year: PeriodsPerYear) -> float:
    periods = _options.periods(periods_per_year)
    return 1.0 if math.isnan(periods) else periods


# --- horizon profile ---------------------------------------------------------------


def _sums(a: npt.NDArray[np.float64], k: int, overlapping: bool) -> npt.NDArray[np.float64]:
    """k-period sums of a: every window (overlapping) or consecutive blocks."""
    if overlapping:
        c = np.concatenate(([0.0], np.cumsum(a)))
        out: npt.NDArray[np.float64] = c[k:] - c[:-k]
        return out
    m = len(a) // k
    blocks: npt.NDArray[np.float64] = a[len(a) - m * k :].reshape(m, k).sum(axis=1)
    return blocks


def _variances(
    a: npt.NDArray[np.float64] | list[npt.NDArray[np.float64]],
    ks: npt.NDArray[np.int64],
    overlapping: bool,
) -> npt.NDArray[np.float64]:
    """Var of the k-period active log returns for each k (ddof 1), through
    trackerr's exact full-sample kernel, all horizons in one call (a column
    per horizon, NaN below its sums). Given several pieces of a series, no
    k-period return spans two of them."""
    pieces = a if isinstance(a, list) else [a]
    if overlapping:
        # The variance does not move with a shift, so the series is centred
        # first: a running sum of a drifting series grows like the drift times
        # the length, and differences of it lose digits (1e6 rows with a drift
        # of 100 times the noise lost 1e-11 of the variance). Short horizons
        # add one more period to the (k - 1)-period sums (error ~k u); longer
        # ones take differences of one running sum of the centred values
        # (which grows like sqrt(n) only).
        level = float(np.mean(np.concatenate(pieces))) if pieces else 0.0
        centred = [x - level for x in pieces]
        wanted = {int(k) for k in ks}
        short: dict[int, list[npt.NDArray[np.float64]]] = {k: [] for k in wanted}
        for x in centred:
            s = x
            for k in range(1, min(_DIRECT_HORIZON, len(x)) + 1):
                if k > 1:
                    s = s[:-1] + x[k - 1 :]
                if k in wanted:
                    short[k].append(s)
            if any(k > _DIRECT_HORIZON for k in wanted):
                c = np.concatenate(([0.0], np.cumsum(x)))
                for k in wanted:
                    if _DIRECT_HORIZON < k <= len(x):
                        short[k].append(c[k:] - c[:-k])
        sums = [np.concatenate(short[int(k)] or [np.empty(0)]) for k in ks]
    else:
        sums = [
            np.concatenate(
                [_sums(x, int(k), False) for x in pieces if len(x) >= k] or [np.empty(0)]
            )
            for k in ks
        ]
    rows = max(len(x) for x in sums)
    table = np.full((rows, len(ks)), np.nan, order="F")  # columns contiguous
    for i, x in enumerate(sums):
        table[: len(x), i] = x
    te = np.asarray(
        _fullsample.tracking_error(table, np.zeros(rows), nan_policy="omit"), dtype=np.float64
    )
    out: npt.NDArray[np.float64] = te * te
    return out


def _jackknife_variances(
    a: npt.NDArray[np.float64], ks: npt.NDArray[np.int64], edges: list[int]
) -> npt.NDArray[np.float64]:
    """Row g: what _variances gives for the pieces of `a` before and after
    group g (a[edges[g]:edges[g + 1]] left out), for every group at once.

    The k-period sums of the whole centred series, indexed by the period they
    end on, are kept for group g where the window lies wholly before the group
    (ends before edges[g]) or wholly after it (ends at edges[g + 1] + k - 1 or
    later): a prefix and a suffix of each horizon's sums. Their count, sum and
    sum of squares come from running totals (one pass over the n x horizons
    sums, not one per group), and Var = (S2 - S1^2 / N) / (N - 1). The sums
    are centred (the series' mean is taken out first, and a kept part's mean
    is within a few standard errors of 0), so the subtraction loses no more
    than a few digits of the last one: ample for an interval's width. The
    variance does not move with the centring, so one level serves every group.
    """
    n = len(a)
    x = a - float(np.mean(a))
    k_max = int(ks[-1])
    sums = np.zeros((n, len(ks)))  # row t: the sum ending on period t (0 before k - 1)
    s = x
    c = np.concatenate(([0.0], np.cumsum(x))) if k_max > _DIRECT_HORIZON else None
    for k in range(1, min(_DIRECT_HORIZON, k_max) + 1):
        if k > 1:
            s = s[:-1] + x[k - 1 :]  # one more period on the (k - 1)-period sums
        at = np.flatnonzero(ks == k)
        if len(at):
            sums[k - 1 :, at[0]] = s
    for i, k in enumerate(ks.tolist()):
        if k > _DIRECT_HORIZON and c is not None:
            sums[k - 1 :, i] = c[k:] - c[:-k]
    zero = np.zeros((1, len(ks)))
    s1 = np.concatenate((zero, np.cumsum(sums, axis=0)))
    s2 = np.concatenate((zero, np.cumsum(sums * sums, axis=0)))
    first = np.asarray(edges[:-1])[:, None]  # groups x 1
    resume = np.minimum(np.asarray(edges[1:])[:, None] + ks[None, :] - 1, n)  # groups x horizons
    before = np.maximum(first - ks[None, :] + 1, 0)  # sums ending before the group
    after = n - resume
    cols = np.arange(len(ks))[None, :]
    total1, total2 = s1[n][None, :], s2[n][None, :]
    sum1 = s1[first, cols] + total1 - s1[resume, cols]
    sum2 = s2[first, cols] + total2 - s2[resume, cols]
    count = (before + after).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = (sum2 - sum1 * sum1 / count) / (count - 1.0)
    out: npt.NDArray[np.float64] = np.where(count >= 2, np.maximum(var, 0.0), np.nan)
    return out


class HorizonProfile(NamedTuple):
    """Tracking error of k-period returns, annualized on one scale."""

    horizons: npt.NDArray[np.int64]
    tracking_error: npt.NDArray[np.float64]
    observations: npt.NDArray[np.int64]  # k-period returns behind each figure


def tracking_error_by_horizon(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    horizons: Any = (1, 2, 5, 10, 21),
    *,
    overlapping: bool = True,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
) -> Any:
    r"""Tracking error of k-period active returns for each horizon k, on the
    one-period scale.

    .. math:: TE_k = \sqrt{\operatorname{Var}\big(A^{(k)}\big) \, P / k}, \qquad
              A^{(k)}_t = \sum_{j=t-k+1}^{t} \big(\ln(1 + p_j) - \ln(1 + b_j)\big)

    With :math:`P` = ``periods_per_year`` (1 when None: per period). If the
    active returns were independent across periods the profile would be flat;
    noise at the ends of each period (two closes taken at different moments)
    makes it fall like :math:`1/\sqrt{k}`, a genuine drift makes it rise.

    Parameters
    ----------
    portfolio, benchmark : array_like or pandas Series
        Periodic simple returns, 1-D, on one calendar.
    horizons : int or sequence of int, default (1, 2, 5, 10, 21)
        Periods per return (each at most half the observations).
    overlapping : bool, default True
        Every k-period window (more figures, correlated) or consecutive
        non-overlapping blocks (independent, fewer).
    periods_per_year : float, str or None
        Annualization (e.g. 252 or 'daily'); None keeps the one-period scale.
    nan_policy : {'omit', 'raise'}, default 'omit'
        'omit' drops a row where either side is NaN (its neighbours then join).

    Returns
    -------
    HorizonProfile (numpy input) or pandas.Series indexed by horizon (pandas
    input), the tracking errors; the profile also gives how many k-period
    returns are behind each figure.
    """
    overlapping = _options.flag("overlapping", overlapping)
    _, _, a, index = _active_log(portfolio, benchmark, nan_policy)
    ks = _horizons(horizons, len(a))
    scale = _annualizer(periods_per_year)
    var = _variances(a, ks, overlapping)
    te = np.sqrt(np.maximum(var, 0.0) * scale / ks)
    counts = np.array([len(a) - k + 1 if overlapping else len(a) // k for k in ks], dtype=np.int64)
    if index is not None or _inputs._is_pandas(portfolio):
        pd = _inputs._pandas()
        return pd.Series(te, index=pd.Index(ks, name="horizon"), name="tracking_error")
    return HorizonProfile(ks, te, counts)


# --- the decomposition -------------------------------------------------------------


def _fit(var: npt.NDArray[np.float64], ks: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Least squares of var_k = k s2 + 2 v with s2, v >= 0 (the constrained
    optimum on the boundary when the free fit leaves the quadrant)."""
    # the 2 x 2 normal equations, solved directly (k <= a few dozen: well
    # conditioned; numpy's lstsq costs 70 us a call, and a report fits 11 per pair)
    m = float(len(ks))
    skk, sk = float(np.dot(ks, ks)), float(np.sum(ks))
    skv, sv = float(np.dot(ks, var)), float(np.sum(var))
    det = skk * m - sk * sk
    s2 = (m * skv - sk * sv) / det
    v = (skk * sv - sk * skv) / (2.0 * det)
    if s2 >= 0.0 and v >= 0.0:
        return float(s2), float(v)
    s2_only = float(max(np.dot(ks, var) / np.dot(ks, ks), 0.0))
    v_only = float(max(np.mean(var) / 2.0, 0.0))
    r_s = np.sum((var - ks * s2_only) ** 2)
    r_v = np.sum((var - 2.0 * v_only) ** 2)
    return (s2_only, 0.0) if r_s <= r_v else (0.0, v_only)


class TimingDecomposition(NamedTuple):
    """What ``timing_decomposition`` finds; tracking errors annualized as asked."""

    naive_tracking_error: float  # of one-period returns, as tracking_error gives it
    genuine_tracking_error: float  # sqrt(s2 P)
    timing_noise: float  # sqrt(v): the endpoint error of one observation (per period, log)
    timing_share: float  # 2 v / (s^2 + 2 v): the share of the one-period variance that is timing
    genuine_interval: tuple[float, float]  # jackknife interval of genuine_tracking_error
    timing_share_interval: tuple[float, float]
    confidence: float
    fits: bool  # False: the profile does not look like the model (see notes)
    misfit: float  # root mean square of (fitted / measured variance - 1) across horizons
    horizons: npt.NDArray[np.int64]
    profile: npt.NDArray[np.float64]  # tracking error by horizon, annualized
    observations: int


def timing_decomposition(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    max_horizon: int = 21,
    periods_per_year: PeriodsPerYear = None,
    confidence: float = 0.9,
    groups: int = 10,
    nan_policy: str = "omit",
) -> TimingDecomposition:
    r"""Split a tracking error into a genuine part and timing (endpoint) noise.

    Fits :math:`\operatorname{Var} A^{(k)} = k\,s^2 + 2v` (module docstring) by
    least squares to the variances of overlapping k-period active log returns
    for k = 1 .. ``max_horizon``, with :math:`s^2, v \ge 0`.

    - genuine tracking error: :math:`\sqrt{s^2 P}`, what the tracking error
      would be with both prices taken at the same moment;
    - timing noise: :math:`\sqrt{v}`, the error of one observation (log);
    - timing share: :math:`2v / (s^2 + 2v)`, the share of the one-period
      variance (as fitted) that the clock explains.

    Assumptions: the genuine active returns are uncorrelated across periods
    and the endpoint errors are independent of each other and of them (an
    error that persists over several periods is partly counted as genuine).
    Intervals: the overlapping k-period sums are strongly correlated (and a
    bootstrap that glues blocks of returns together breaks the endpoint
    errors' cancellation at every seam, which reads as genuine tracking
    error), so they come from a delete-a-group jackknife: the series is cut
    into ``groups`` consecutive stretches, the fit is repeated leaving each
    out (no k-period return spans the gap), and the jackknife standard error
    gives a normal interval at ``confidence``, cut at 0 below.

    ``fits`` is False when the model does not describe the data: the fitted
    variances miss the measured ones by more than 20 % (root mean square of
    the relative misses across horizons), or the profile rises with the
    horizon (the tracking error of ``max_horizon``-period returns, annualized,
    above the one-period figure by more than 10 %), the mark of a genuine
    drift or of active returns that trend.

    References: Zhang, Mykland and Aït-Sahalia (2005), "A tale of two time
    scales", JASA 100 (the noise model); Künsch (1989), "The jackknife and the
    bootstrap for general stationary observations", Ann. Stat. 17 (resampling
    dependent data in blocks).

    Parameters
    ----------
    portfolio, benchmark : array_like or pandas Series
        Periodic simple returns, 1-D, on one calendar.
    max_horizon : int, default 21
        Longest horizon in the fit (at least 2; at most a quarter of the
        observations).
    periods_per_year : float, str or None
        Annualization of the tracking errors; None keeps the one-period scale.
    confidence : float in (0, 1), default 0.9
    groups : int, default 10
        Stretches for the jackknife (at least 2; 0 gives no intervals, NaN).
    nan_policy : {'omit', 'raise'}, default 'omit'
    """
    if isinstance(max_horizon, bool) or not isinstance(max_horizon, numbers.Integral):
        raise TypeError(f"max_horizon must be an integer, not {type(max_horizon).__name__}")
    if max_horizon < 2:
        raise ValueError(f"max_horizon (={max_horizon}) must be at least 2")
    if not isinstance(confidence, numbers.Real) or not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence (={confidence!r}) must be a number in (0, 1)")
    if (
        isinstance(groups, bool)
        or not isinstance(groups, numbers.Integral)
        or groups < 0
        or groups == 1
    ):
        raise ValueError(f"groups (={groups!r}) must be 0 or an integer >= 2")
    p, b, a, _ = _active_log(portfolio, benchmark, nan_policy)
    n = len(a)
    if max_horizon > n // 4:
        raise ValueError(
            f"max_horizon (={max_horizon}) is too long for {n} observations (at most {n // 4})"
        )
    scale = _annualizer(periods_per_year)
    ks = np.arange(1, int(max_horizon) + 1, dtype=np.int64)
    kf = ks.astype(np.float64)
    var = _variances(a, ks, True)
    s2, v = _fit(var, kf)
    fitted = kf * s2 + 2.0 * v
    misfit = float(np.sqrt(np.mean((fitted / var - 1.0) ** 2))) if np.all(var > 0) else math.inf
    profile = np.sqrt(np.maximum(var, 0.0) * scale / kf)
    rising = profile[-1] > 1.1 * profile[0]
    share = 2.0 * v / (s2 + 2.0 * v) if s2 + v > 0 else math.nan

    lo_g = hi_g = lo_s = hi_s = math.nan
    if groups >= 2:
        if n // int(groups) < 2:
            raise ValueError(f"groups (={groups}) is too many for {n} observations")
        edges = [n * g // int(groups) for g in range(int(groups) + 1)]
        g_s, sh_s = [], []
        left_out = _jackknife_variances(a, ks, edges)
        for g in range(int(groups)):
            s2g, vvg = _fit(left_out[g], kf)
            g_s.append(math.sqrt(s2g * scale))
            sh_s.append(2.0 * vvg / (s2g + 2.0 * vvg) if s2g + vvg > 0 else math.nan)
        z = statistics.NormalDist().inv_cdf(0.5 + float(confidence) / 2.0)
        for values, point, out in ((g_s, math.sqrt(s2 * scale), "g"), (sh_s, share, "s")):
            m = len(values)
            se = math.sqrt((m - 1) / m * sum((x - sum(values) / m) ** 2 for x in values))
            lo, hi = max(point - z * se, 0.0), point + z * se
            if out == "g":
                lo_g, hi_g = lo, hi
            else:
                lo_s, hi_s = lo, min(hi, 1.0)

    naive = float(
        _fullsample.tracking_error(
            p, b, periods_per_year=None if scale == 1.0 else scale, nan_policy="omit"
        )
    )
    return TimingDecomposition(
        naive_tracking_error=naive,
        genuine_tracking_error=math.sqrt(s2 * scale),
        timing_noise=math.sqrt(v),
        timing_share=float(share),
        genuine_interval=(float(lo_g), float(hi_g)),
        timing_share_interval=(float(lo_s), float(hi_s)),
        confidence=float(confidence),
        fits=bool(misfit <= 0.2 and not rising),
        misfit=misfit,
        horizons=ks,
        profile=profile,
        observations=n,
    )


# --- lead and lag -----------------------------------------------------------------


class LeadLag(NamedTuple):
    """Correlation and tracking error of p_t against b_(t+lag) for each lag."""

    lags: npt.NDArray[np.int64]
    correlation: npt.NDArray[np.float64]
    tracking_error: npt.NDArray[np.float64]
    best_lag: int  # the lag of the highest correlation
    beta: float  # the plain beta (lag 0)
    dimson_beta: float  # sum of the slopes on b_(t+l), l = -dimson_lags .. dimson_lags


def lead_lag(
    portfolio: ArrayLike,
    benchmark: ArrayLike,
    /,
    *,
    max_lag: int = 5,
    dimson_lags: int = 1,
    periods_per_year: PeriodsPerYear = None,
    nan_policy: str = "omit",
) -> LeadLag:
    r"""Correlation and tracking error of :math:`p_t` against :math:`b_{t+l}`
    for :math:`l = -L .. L`, the best lag, and the Dimson beta.

    A negative best lag means the portfolio follows the benchmark (it prices
    later: :math:`p_t` moves with :math:`b_{t+l}`, :math:`l < 0`, an earlier
    benchmark return); a positive one that it leads.

    Dimson (1979), "Risk measurement when shares are subject to infrequent
    trading", J. Financial Economics 7: with prices taken at different
    moments the plain slope on the same-period benchmark return is biased
    toward 0; regressing on the lagged, current and leading benchmark returns,

    .. math:: p_t = \alpha + \sum_{l=-D}^{D} \beta_l\, b_{t+l} + \varepsilon_t,

    and summing the slopes, :math:`\beta_D = \sum_l \beta_l`, corrects it.

    Parameters
    ----------
    portfolio, benchmark : array_like or pandas Series
        Periodic simple returns, 1-D, on one calendar.
    max_lag : int, default 5
    dimson_lags : int, default 1
        Leads and lags in the Dimson regression (D).
    periods_per_year : float, str or None
        Annualization of the tracking errors.
    nan_policy : {'omit', 'raise'}, default 'omit'
        'omit' drops the rows with a NaN first and then shifts, so a lagged
        pair may join the returns on either side of a dropped row; pass a
        series without gaps (or 'raise') where that matters.
    """
    for name, value in (("max_lag", max_lag), ("dimson_lags", dimson_lags)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
        if value < 0:
            raise ValueError(f"{name} (={value}) must be at least 0")
    p, b, _, _ = _active_log(portfolio, benchmark, nan_policy)
    n = len(p)
    if 2 * max(max_lag, dimson_lags) + 3 > n:
        raise ValueError(
            f"max_lag (={max_lag}) and dimson_lags (={dimson_lags}) are too long "
            f"for {n} observations"
        )
    lags = np.arange(-int(max_lag), int(max_lag) + 1, dtype=np.int64)
    corr = np.empty(len(lags))
    te = np.empty(len(lags))
    for i, lag in enumerate(lags):
        pp, bb = _pair_at(p, b, int(lag))
        corr[i] = float(_fullsample.correlation(pp, bb))
        te[i] = float(_fullsample.tracking_error(pp, bb, periods_per_year=periods_per_year))
    best = int(lags[int(np.nanargmax(corr))]) if np.isfinite(corr).any() else 0
    d = int(dimson_lags)
    rows = slice(d, n - d)
    x = np.column_stack([np.ones(n - 2 * d)] + [b[d + j : n - d + j] for j in range(-d, d + 1)])
    coef, *_ = np.linalg.lstsq(x, p[rows], rcond=None)
    return LeadLag(
        lags=lags,
        correlation=corr,
        tracking_error=te,
        best_lag=best,
        beta=float(_fullsample.beta(p, b)),
        dimson_beta=float(np.sum(coef[1:])),
    )


def _pair_at(
    p: npt.NDArray[np.float64], b: npt.NDArray[np.float64], lag: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(p_t, b_(t+lag)) over the rows where both exist."""
    n = len(p)
    if lag >= 0:
        return p[: n - lag], b[lag:]
    return p[-lag:], b[: n + lag]
