"""The comparison table: every public metric, its reference and its peers.

One table, ``COMPARISONS``, drives both the tests and the benchmarks (as
numbagg's ``COMPARISONS`` does):

* ``tests/test_comparisons.py`` runs every entry on small inputs and checks
  that it agrees with trackerr within the entry's declared tolerance, and that
  every public metric of ``trackerr.__all__`` (and every ``trackerr.stream``
  state) has a case here;
* ``bench/`` times every entry against trackerr in one run (pytest-benchmark,
  ``bench/test_full_sample.py`` and ``bench/test_rolling.py``), and
  ``bench/report.py`` draws issue 10's headline table from the same entries.

``COMPARISONS[case]`` is a :class:`Case`: the public metric it exercises
(``metric``) and its implementations (``impls``, name -> :class:`Impl`).
``impls["trackerr"]`` is the baseline every other entry is compared with (and
timed against); ``"reference"`` is ``trackerr.reference`` (pure Python
``math.fsum``: exact and slow); the others are peers, named after their
library. A case's kind follows its metric: ``rolling_*`` metrics are
rolling-window cases (``run(portfolio, benchmark, window)``), ``stream.*``
states stream cases, the rest full-sample cases (``run(portfolio,
benchmark)``). One-series metrics (max_drawdown, the Sharpe, Sortino and Omega
ratios) take the portfolio as their returns and ignore the benchmark. Cases
whose name ends in ``_panel`` take a T x N portfolio against a length-T
benchmark; the others two length-T arrays.

Results are compared field by field: a number or an array is the field
``"value"``; a dict or a namedtuple (``rolling_stats``, the stream read-outs)
gives its fields, and a peer may return a subset of trackerr's. Rolling
results follow pandas: NaN until a window holds ``window`` observations.

Optional libraries (pandas, bottleneck, numbagg, empyrical, river) are
imported when available; a missing one skips its entries (``Impl.requires``),
so importing this module never fails for lack of a peer.

Risk metrics against empyrical: another table, ``bench/risk_cases.py``, may
add cases or implementations. If that module exists it is merged in at import
(:func:`merge_cases`); see its docstring for the accepted shape.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

import trackerr
from trackerr import stream

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
    import empyrical
except ImportError:  # pragma: no cover - depends on the environment
    empyrical = None

try:
    from river import stats as river_stats
    from river import utils as river_utils
except ImportError:  # pragma: no cover - depends on the environment
    river_stats = river_utils = None

try:
    from trackerr import reference as ref
except ImportError:  # pragma: no cover - depends on the installed trackerr
    ref = None

BASELINE = "trackerr"
REFERENCE = "reference"

PEER_RTOL = 1e-9
"""Default agreement of a peer with trackerr. On the benchmark's random data
every peer agrees to ~1e-12; 1e-9 leaves room for the running-sum peers at 1e7
points. On adversarial data (large means, long series) they lose far more."""
REFERENCE_RTOL = 1e-12
"""trackerr against its exact reference: the house accuracy bar."""

ANNUAL = 252  # periods_per_year of the annualized cases (empyrical's 'daily')
STREAM_WINDOW = 252  # stream.Window(252), as in issue 10
STREAM_SPAN = 252  # stream.Exponential(span=252)
REFERENCE_ROWS = 10_000  # rolling references and per-tick loops: leading rows only
"""A Python loop over windows or ticks costs ~10 us a row: those entries run
on the first 10,000 rows of the smallest 1-D data (``Impl.max_rows``)."""


@dataclass(frozen=True)
class Impl:
    """One implementation of one case."""

    run: Callable[..., Any]
    """The timed call: ``run(portfolio, benchmark)``, or ``run(portfolio,
    benchmark, window)`` in a rolling case."""
    prepare: Callable[[np.ndarray, np.ndarray], tuple[Any, Any]] | None = None
    """Untimed conversion of the numpy inputs into ``run``'s arguments."""
    requires: str | None = None
    """Module that must be importable, else the entry is skipped."""
    smallest_only: bool = False
    """Too slow for big inputs: benchmark only at the smallest 1-D size (and
    the smallest window)."""
    max_rows: int | None = None
    """Too slow even for that: benchmark only on the first ``max_rows`` rows of
    the smallest 1-D data, in a size group of its own (labelled by the row
    count, e.g. ``1e4``) where trackerr is timed on the same rows."""
    warmup: bool = False
    """Call once on a small slice before timing (numba compiles on first use)."""
    rtol: float = PEER_RTOL
    """Relative agreement with trackerr required of this entry."""
    atol: float | Mapping[str, float] = 0.0
    """Absolute slack on top of ``rtol``: one number, or per result field."""
    note: str = ""
    """Why a tolerance or a convention differs, for the reader of the table."""

    def atol_for(self, name: str) -> float:
        """The absolute tolerance for result field ``name``."""
        if isinstance(self.atol, Mapping):
            return float(self.atol.get(name, 0.0))
        return float(self.atol)


RollingImpl = Impl  # the rolling table once had its own class; same fields now


@dataclass(frozen=True)
class Case:
    """One benchmarked case: a public metric and its implementations."""

    metric: str
    """The public name exercised: ``"tracking_error"``, ``"rolling_beta"``,
    ``"stream.Window"``, ..."""
    impls: dict[str, Impl]

    @property
    def kind(self) -> str:
        """``"rolling"``, ``"stream"`` or ``"full"`` (full sample)."""
        if self.metric.startswith("stream."):
            return "stream"
        return "rolling" if self.metric.startswith("rolling_") else "full"


def is_panel(case: str) -> bool:
    """Whether ``case`` takes a T x N portfolio (else two 1-D arrays)."""
    return case.endswith("_panel")


# --- helpers -------------------------------------------------------------------


def _to_pandas(p: np.ndarray, b: np.ndarray) -> tuple[Any, Any]:
    # Same (Range)Index on both sides, as after an upstream alignment.
    index = pd.RangeIndex(len(b))
    left = pd.Series(p, index=index) if p.ndim == 1 else pd.DataFrame(p, index=index)
    return left, pd.Series(b, index=index)


def _to_lists(p: np.ndarray, b: np.ndarray) -> tuple[Any, Any]:
    # Ticks as Python floats (1-D) or rows (panel), as a live feed delivers them.
    return (p.tolist() if p.ndim == 1 else list(p)), b.tolist()


TIME_SPAN = "2h"
TIME_SPAN_NS = np.timedelta64(2, "h")
"""The time-window cases' span, over ticks 0-5 minutes apart (tick_times): about
40 ticks a window. bench/time_windows.py races '30D' on 1e6 ticks against pandas."""


def tick_times(n: int) -> np.ndarray:
    """Deterministic irregular tick times (datetime64[ns]): 1 to 5 minutes
    apart, every 17th tick at the same instant as the one before."""
    gaps = 1 + (np.arange(n, dtype=np.int64) * 7919) % 5
    gaps[::17] = 0
    start = np.datetime64("2024-01-01T00:00", "ns")
    return start + (np.cumsum(gaps) * 60_000_000_000).astype("timedelta64[ns]")


def time_span(window: int) -> str:
    """The rolling time cases' span for a count window: 6 minutes a row."""
    return f"{6 * window}min"


def _with_times(p: np.ndarray, b: np.ndarray) -> tuple[Any, Any]:
    """(portfolio, (benchmark, times)): the time-window calls' arguments."""
    return p, (b, tick_times(len(p)))


def _to_pandas_timed(p: np.ndarray, b: np.ndarray) -> tuple[Any, Any]:
    """Series on a DatetimeIndex of tick_times, for pandas' offset windows."""
    index = pd.DatetimeIndex(tick_times(len(p)))
    return pd.Series(p, index), pd.Series(b, index)


def _last_time_window(p: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the last (t - TIME_SPAN, t] window."""
    t = tick_times(len(p))
    first = int(np.searchsorted(t, t[-1] - TIME_SPAN_NS, side="right"))
    return p[first:], b[first:]


def pandas_impl(run: Callable[..., Any], **kwargs: Any) -> Impl:
    """A pandas peer: ``run`` receives a Series (or DataFrame) and a Series."""
    return Impl(run, prepare=_to_pandas, requires="pandas", **kwargs)


def bottleneck_impl(run: Callable[..., Any], **kwargs: Any) -> Impl:
    """A bottleneck peer (single-threaded C)."""
    return Impl(run, requires="bottleneck", **kwargs)


def numbagg_impl(run: Callable[..., Any], **kwargs: Any) -> Impl:
    """A numbagg peer (numba gufuncs, parallel over the non-moving axes)."""
    return Impl(run, requires="numbagg", warmup=True, **kwargs)


def empyrical_impl(run: Callable[..., Any], **kwargs: Any) -> Impl:
    """An empyrical(-reloaded) peer."""
    return Impl(run, requires="empyrical", **kwargs)


def reference_impl(metric: str, *, one: bool = False, **kwargs: Any) -> Impl:
    """``trackerr.reference.<metric>`` with the baseline's options (``one``: a
    one-series metric, called on the portfolio alone)."""

    def run(p: np.ndarray, b: np.ndarray, *window: int) -> Any:
        fn = getattr(ref, metric)
        return fn(p, *window, **kwargs) if one else fn(p, b, *window, **kwargs)

    slow = (
        {"max_rows": REFERENCE_ROWS} if metric.startswith("rolling_") else {"smallest_only": True}
    )
    return Impl(run, requires="trackerr.reference", rtol=REFERENCE_RTOL, **slow)


def _pad(values: Any, rows: int) -> np.ndarray:
    """A length ``rows - window + 1`` result (empyrical's rolling functions)
    padded with leading NaN to pandas' length ``rows``."""
    values = np.asarray(values, dtype=np.float64)
    return np.concatenate([np.full(rows - len(values), np.nan), values])


# full sample: numpy and pandas formulas


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


def _numpy_max_drawdown(r: np.ndarray) -> float:
    # Running product of growth; the peak includes the starting wealth 1.
    wealth = np.cumprod(1.0 + r)
    peak = np.maximum(np.maximum.accumulate(wealth), 1.0)
    return min(float((wealth / peak).min()) - 1.0, 0.0)


def _numpy_sortino(r: np.ndarray) -> float:
    # Downside deviation over all n periods (empyrical's convention), target 0;
    # inf without a loss (trackerr: NaN; both are "not finite").
    downside = np.sqrt(np.square(np.minimum(r, 0.0)).mean())
    with np.errstate(divide="ignore", invalid="ignore"):
        return r.mean() / downside * math.sqrt(ANNUAL)


def _numpy_omega(r: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum(r, 0.0).sum() / np.maximum(-r, 0.0).sum()


def _numpy_capture(p: np.ndarray, b: np.ndarray, up: bool) -> float:
    # Geometric: expm1(mean(log1p(x))) over the periods where b rose (fell).
    m = b > 0 if up else b < 0
    return np.expm1(np.log1p(p[m]).mean()) / np.expm1(np.log1p(b[m]).mean())


# rolling: moving-window formulas


def _bn_rolling_beta(p: np.ndarray, b: np.ndarray, w: int) -> Any:
    # (mean(pb) - mean(p) mean(b)) / var(b), population moments throughout.
    return (bn.move_mean(p * b, w) - bn.move_mean(p, w) * bn.move_mean(b, w)) / bn.move_var(
        b, w, ddof=0
    )


def _bn_rolling_correlation(p: np.ndarray, b: np.ndarray, w: int) -> Any:
    cov = bn.move_mean(p * b, w) - bn.move_mean(p, w) * bn.move_mean(b, w)
    return cov / np.sqrt(bn.move_var(p, w, ddof=0) * bn.move_var(b, w, ddof=0))


def _bn_rolling_beta_panel(P: np.ndarray, b: np.ndarray, w: int) -> Any:
    cov = (
        bn.move_mean(P * b[:, None], w, axis=0)
        - bn.move_mean(P, w, axis=0) * bn.move_mean(b, w)[:, None]
    )
    return cov / bn.move_var(b, w, ddof=0)[:, None]


def _numbagg_rolling_beta(p: np.ndarray, b: np.ndarray, w: int) -> Any:
    # Both divide by n - 1: the ddof cancels.
    return numbagg.move_cov(p, b, window=w) / numbagg.move_var(b, window=w)


def _numbagg_rolling_alpha(p: np.ndarray, b: np.ndarray, w: int) -> Any:
    beta = numbagg.move_cov(p, b, window=w) / numbagg.move_var(b, window=w)
    return numbagg.move_mean(p, window=w) - beta * numbagg.move_mean(b, window=w)


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


def _pandas_rolling_alpha(p: Any, b: Any, w: int) -> Any:
    beta = p.rolling(w).cov(b) / b.rolling(w).var()
    return p.rolling(w).mean() - beta * b.rolling(w).mean()


def _no_losses(r: np.ndarray, w: int) -> Any:
    # Windows without a return below 0. A running sum of squares or losses is
    # not exactly 0 there (the residue of earlier windows' adds and removes), so
    # the peers would report a huge finite ratio where the metric is undefined
    # (trackerr: NaN); a careful user masks them, as here.
    return bn.move_sum((r < 0.0).astype(np.float64), w) == 0.0


def _bn_rolling_sortino(r: np.ndarray, w: int) -> Any:
    # The running mean of squares even goes slightly negative in a window
    # without a loss (sqrt -> NaN, masked anyway).
    with np.errstate(invalid="ignore", divide="ignore"):
        downside = np.sqrt(bn.move_mean(np.square(np.minimum(r, 0.0)), w))
        return np.where(_no_losses(r, w), np.nan, bn.move_mean(r, w) / downside)


def _bn_rolling_omega(r: np.ndarray, w: int) -> Any:
    ratio = bn.move_sum(np.maximum(r, 0.0), w) / bn.move_sum(np.maximum(-r, 0.0), w)
    return np.where(_no_losses(r, w), np.nan, ratio)


def _pandas_rolling_omega(r: Any, w: int) -> Any:
    losses = (r < 0.0).astype(np.float64).rolling(w).sum()
    ratio = r.clip(lower=0.0).rolling(w).sum() / (-r).clip(lower=0.0).rolling(w).sum()
    return ratio.where(losses > 0.0)


def _bn_rolling_capture(p: np.ndarray, b: np.ndarray, w: int, up: bool) -> Any:
    # Geometric: per window, expm1 of the mean log growth over the selected rows.
    # Windows without a selected period are undefined (NaN): their running
    # sums are a residue, not 0, so they are masked by the count.
    m = b > 0 if up else b < 0
    count = bn.move_sum(m.astype(np.float64), w)
    with np.errstate(invalid="ignore", divide="ignore"):
        gp = np.expm1(bn.move_sum(np.where(m, np.log1p(p), 0.0), w) / count)
        gb = np.expm1(bn.move_sum(np.where(m, np.log1p(b), 0.0), w) / count)
        return np.where(count == 0.0, np.nan, gp / gb)


# streams: one state fed tick by tick (Python floats, or rows of a panel), or a
# batch of ticks in one call; the result is the state's read-outs at the end.

STREAM_FIELDS = ("tracking_error", "beta", "correlation")


def _readout(state: Any) -> dict[str, Any]:
    return {name: getattr(state, name) for name in STREAM_FIELDS}


def _ticks(state: Any, ps: Any, bs: Any) -> dict[str, Any]:
    update = state.update
    for x, y in zip(ps, bs, strict=True):
        update(x, y)
    return _readout(state)


def _batch(state: Any, p: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    state.update(p, b)
    return _readout(state)


def _readout_after(state: Any, p: np.ndarray, bt: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """A time window fed a batch with its times, read out."""
    state.update(p, bt[0], bt[1])
    return _readout(state)


def _n(p: Any) -> int | None:
    """``n_portfolios`` for ticks ``p``: None for floats, the row length for a panel."""
    first = p[0]
    return None if isinstance(first, float) or np.ndim(first) == 0 else len(first)


def _window_ticks(ps: Any, bs: Any) -> dict[str, Any]:
    return _ticks(stream.Window(STREAM_WINDOW, n_portfolios=_n(ps)), ps, bs)


def _reference_last_window(p: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    pw, bw = p[-STREAM_WINDOW:], b[-STREAM_WINDOW:]
    return {name: getattr(ref, name)(pw, bw) for name in STREAM_FIELDS}


def _reference_whole(p: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    return {name: getattr(ref, name)(p, b) for name in STREAM_FIELDS}


def _river_ticks(var: Any, ps: Any, bs: Any) -> dict[str, Any]:
    # river keeps one variance of the active return a = p - b per tick.
    update = var.update
    for x, y in zip(ps, bs, strict=True):
        update(x - y)
    return {"tracking_error": math.sqrt(var.get())}


def _pandas_ewm_te(p: Any, b: Any) -> dict[str, Any]:
    # pandas' ewm(span) with adjust=True, bias=False: trackerr's default Exponential.
    return {"tracking_error": (p - b).ewm(span=STREAM_SPAN).std().iloc[-1]}


def _stream_reference(run: Callable[..., Any]) -> Impl:
    return Impl(run, requires="trackerr.reference", rtol=REFERENCE_RTOL, smallest_only=True)


def _per_tick(run: Callable[..., Any], **kwargs: Any) -> Impl:
    """A Python loop of single-tick updates: timed on the leading rows only."""
    return Impl(run, prepare=_to_lists, max_rows=REFERENCE_ROWS, **kwargs)


HORIZONS = (1, 2, 5, 10, 21)
LEAD_LAGS = 3


def _log_active(p: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.log1p(p) - np.log1p(b)


def _exact_horizon_variances(p: np.ndarray, b: np.ndarray, horizons: Any) -> np.ndarray:
    """Var (ddof 1) of the overlapping k-period active log returns, each sum
    an exact fsum, the variance the reference's."""
    a = _log_active(p, b)
    out = []
    for k in horizons:
        sums = np.array([math.fsum(a[i : i + k]) for i in range(len(a) - k + 1)])
        out.append(ref.tracking_error(sums, np.zeros_like(sums)) ** 2)
    return np.array(out)


def _reference_horizon_te(p: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(_exact_horizon_variances(p, b, HORIZONS) / np.array(HORIZONS))


def _pandas_horizon_te(p: Any, b: Any) -> np.ndarray:
    # the pandas recipe: k-period sums of the active log returns, their std
    a = np.log1p(p) - np.log1p(b)
    return np.array([math.sqrt(a.rolling(k).sum().var() / k) for k in HORIZONS])


def _reference_decomposition(p: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The fit of Var A(k) = k s2 + 2 v over k = 1..21 on exact variances, by
    numpy's least squares (the free fit, or the better one-parameter fit
    when it leaves s2, v >= 0), as timing_decomposition's docstring states."""
    ks = np.arange(1, 22, dtype=np.float64)
    var = _exact_horizon_variances(p, b, range(1, 22))
    (s2, v), *_ = np.linalg.lstsq(np.column_stack([ks, np.full_like(ks, 2.0)]), var, rcond=None)
    if s2 < 0.0 or v < 0.0:
        s2_only = max(float(np.dot(ks, var) / np.dot(ks, ks)), 0.0)
        v_only = max(float(np.mean(var)) / 2.0, 0.0)
        r_s = float(np.sum((var - ks * s2_only) ** 2))
        r_v = float(np.sum((var - 2.0 * v_only) ** 2))
        s2, v = (s2_only, 0.0) if r_s <= r_v else (0.0, v_only)
    return {"genuine_tracking_error": math.sqrt(s2), "timing_noise": math.sqrt(v)}


def _decomposition(p: np.ndarray, b: np.ndarray) -> dict[str, float]:
    d = trackerr.timing_decomposition(p, b)
    return {"genuine_tracking_error": d.genuine_tracking_error, "timing_noise": d.timing_noise}


def _lead_lag(p: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    r = trackerr.lead_lag(p, b, max_lag=LEAD_LAGS)
    return {
        "correlation": r.correlation,
        "tracking_error": r.tracking_error,
        "beta": r.beta,
        "dimson_beta": r.dimson_beta,
    }


def _reference_lead_lag(p: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Each lag's pairs (p_t, b_(t+l)) through the reference; the Dimson
    slopes by numpy's least squares on [1, b_(t-1), b_t, b_(t+1)]."""
    n = len(p)
    corr, te = [], []
    for lag in range(-LEAD_LAGS, LEAD_LAGS + 1):
        pp, bb = (p[: n - lag], b[lag:]) if lag >= 0 else (p[-lag:], b[: n + lag])
        corr.append(ref.correlation(pp, bb))
        te.append(ref.tracking_error(pp, bb))
    x = np.column_stack([np.ones(n - 2), b[:-2], b[1:-1], b[2:]])
    coef, *_ = np.linalg.lstsq(x, p[1:-1], rcond=None)
    return {
        "correlation": np.array(corr),
        "tracking_error": np.array(te),
        "beta": ref.beta(p, b),
        "dimson_beta": float(np.sum(coef[1:])),
    }


# --- the table -------------------------------------------------------------------

ZERO_CROSSING_ATOL = 1e-9
"""Ratios of a window's mean to its spread (IR, Sharpe, Sortino) pass through
zero: where the mean is ~1e-8 of the spread, a running-sum peer's mean is off
by ~1e-14 absolute while trackerr matches an exact fsum, and a relative test
fails for no fault of either. The ratios' natural scale (mean |x| / std x) is
~0.8 on this data, so 1e-9 absolute is 1e-9 relative to the quantity's size."""

_GROWTH_ATOL = 1e-13
"""Compounded figures round relative to the growth factors (~1), not to their
difference, and means relative to the data's scale: the reference checks of
those metrics get this absolute slack (as in tests/test_against_reference.py)."""


def _full_cases() -> dict[str, Case]:
    tr = trackerr
    c: dict[str, Case] = {}
    # 1-D: two length-T arrays.
    c["tracking_error"] = Case(
        "tracking_error",
        {
            "trackerr": Impl(lambda p, b: tr.tracking_error(p, b)),
            "trackerr_pandas": Impl(
                lambda p, b: tr.tracking_error(p, b), prepare=_to_pandas, requires="pandas"
            ),
            "numpy": Impl(lambda p, b: np.std(p - b, ddof=1)),
            "pandas": pandas_impl(lambda p, b: (p - b).std()),
            "bottleneck": bottleneck_impl(lambda p, b: bn.nanstd(p - b, ddof=1)),
            "reference": reference_impl("tracking_error"),
        },
    )
    # Timing (issue 11): analyses over k-period sums and shifted pairs, not
    # kernels of their own, so timed at the smallest size only.
    c["tracking_error_by_horizon"] = Case(
        "tracking_error_by_horizon",
        {
            "trackerr": Impl(
                lambda p, b: tr.tracking_error_by_horizon(p, b, HORIZONS).tracking_error,
                smallest_only=True,
            ),
            "pandas": pandas_impl(_pandas_horizon_te, smallest_only=True),
            "reference": Impl(
                _reference_horizon_te,
                requires="trackerr.reference",
                max_rows=REFERENCE_ROWS,
                rtol=REFERENCE_RTOL,
            ),
        },
    )
    c["timing_decomposition"] = Case(
        "timing_decomposition",
        {
            "trackerr": Impl(_decomposition, smallest_only=True),
            # the fit's own conditioning: relative to the tracking error, not
            # to a genuine part or noise that may be ~0 on this data
            "reference": Impl(
                _reference_decomposition,
                requires="trackerr.reference",
                max_rows=REFERENCE_ROWS,
                rtol=1e-9,
                atol=1e-12,
                note="a least-squares fit: 1e-9 relative, 1e-12 absolute",
            ),
        },
    )
    c["lead_lag"] = Case(
        "lead_lag",
        {
            "trackerr": Impl(_lead_lag, smallest_only=True),
            "reference": Impl(
                _reference_lead_lag,
                requires="trackerr.reference",
                max_rows=REFERENCE_ROWS,
                rtol=1e-12,
                atol={"dimson_beta": 1e-12},
                note="numpy's least squares for the Dimson slopes",
            ),
        },
    )
    c["tracking_difference"] = Case(
        "tracking_difference",
        {
            "trackerr": Impl(lambda p, b: tr.tracking_difference(p, b)),
            "numpy": Impl(lambda p, b: np.prod(1.0 + p) - np.prod(1.0 + b)),
            "pandas": pandas_impl(lambda p, b: (1.0 + p).prod() - (1.0 + b).prod()),
            "reference": replace(reference_impl("tracking_difference"), atol=_GROWTH_ATOL),
        },
    )
    c["active_return"] = Case(
        "active_return",
        {
            "trackerr": Impl(lambda p, b: tr.active_return(p, b)),
            "numpy": Impl(lambda p, b: np.mean(p - b)),
            "pandas": pandas_impl(lambda p, b: (p - b).mean()),
            "reference": replace(reference_impl("active_return"), atol=_GROWTH_ATOL),
        },
    )
    c["information_ratio"] = Case(
        "information_ratio",
        {
            "trackerr": Impl(lambda p, b: tr.information_ratio(p, b)),
            "numpy": Impl(_numpy_information_ratio),
            "pandas": pandas_impl(_pandas_information_ratio),
            "reference": replace(reference_impl("information_ratio"), atol=1e-14),
        },
    )
    c["beta"] = Case(
        "beta",
        {
            "trackerr": Impl(lambda p, b: tr.beta(p, b)),
            "trackerr_pandas": Impl(
                lambda p, b: tr.beta(p, b), prepare=_to_pandas, requires="pandas"
            ),
            "numpy_cov": Impl(_numpy_beta),
            "pandas": pandas_impl(_pandas_beta),
            "empyrical": empyrical_impl(lambda p, b: empyrical.beta(p, b)),
            "reference": reference_impl("beta"),
        },
    )
    c["alpha"] = Case(
        "alpha",
        {
            "trackerr": Impl(lambda p, b: tr.alpha(p, b)),
            "numpy_cov": Impl(_numpy_alpha),
            "pandas": pandas_impl(_pandas_alpha),
            "reference": replace(reference_impl("alpha"), atol=1e-14),
        },
    )
    c["correlation"] = Case(
        "correlation",
        {
            "trackerr": Impl(lambda p, b: tr.correlation(p, b)),
            "numpy_corrcoef": Impl(lambda p, b: np.corrcoef(p, b)[0, 1]),
            "pandas": pandas_impl(lambda p, b: p.corr(b)),
            "reference": reference_impl("correlation"),
        },
    )
    c["r_squared"] = Case(
        "r_squared",
        {
            "trackerr": Impl(lambda p, b: tr.r_squared(p, b)),
            "numpy_corrcoef": Impl(lambda p, b: np.corrcoef(p, b)[0, 1] ** 2),
            "pandas": pandas_impl(lambda p, b: p.corr(b) ** 2),
            "reference": reference_impl("r_squared"),
        },
    )
    # Risk metrics (one series: the portfolio's returns), annualized as
    # empyrical's 'daily' default where the metric is.
    c["max_drawdown"] = Case(
        "max_drawdown",
        {
            "trackerr": Impl(lambda p, b: tr.max_drawdown(p)),
            "numpy": Impl(lambda p, b: _numpy_max_drawdown(p)),
            "empyrical": empyrical_impl(lambda p, b: empyrical.max_drawdown(p)),
            "reference": reference_impl("max_drawdown", one=True),
        },
    )
    c["sharpe_ratio"] = Case(
        "sharpe_ratio",
        {
            "trackerr": Impl(lambda p, b: tr.sharpe_ratio(p, periods_per_year=ANNUAL)),
            "numpy": Impl(lambda p, b: p.mean() / p.std(ddof=1) * math.sqrt(ANNUAL)),
            "empyrical": empyrical_impl(lambda p, b: empyrical.sharpe_ratio(p)),
            "reference": replace(
                reference_impl("sharpe_ratio", one=True, periods_per_year=ANNUAL), atol=1e-14
            ),
        },
    )
    c["sortino_ratio"] = Case(
        "sortino_ratio",
        {
            "trackerr": Impl(lambda p, b: tr.sortino_ratio(p, periods_per_year=ANNUAL)),
            "numpy": Impl(lambda p, b: _numpy_sortino(p)),
            "empyrical": empyrical_impl(lambda p, b: empyrical.sortino_ratio(p)),
            "reference": reference_impl("sortino_ratio", one=True, periods_per_year=ANNUAL),
        },
    )
    c["omega_ratio"] = Case(
        "omega_ratio",
        {
            "trackerr": Impl(lambda p, b: tr.omega_ratio(p)),
            "numpy": Impl(lambda p, b: _numpy_omega(p)),
            "empyrical": empyrical_impl(lambda p, b: empyrical.omega_ratio(p)),
            "reference": reference_impl("omega_ratio", one=True),
        },
    )
    for side, up in (("up", True), ("down", False)):
        name = f"{side}_capture"
        c[name] = Case(
            name,
            {
                "trackerr": Impl(lambda p, b, n=name: getattr(tr, n)(p, b)),
                "numpy": Impl(lambda p, b, u=up: _numpy_capture(p, b, u)),
                "reference": reference_impl(name),
            },
        )
        # empyrical annualizes each mean (CAGR) from a running product, which
        # overflows beyond ~1e5 points: smallest size only.
        c[f"{name}_annualized"] = Case(
            name,
            {
                "trackerr": Impl(
                    lambda p, b, n=name: getattr(tr, n)(
                        p, b, method="annualized", periods_per_year=ANNUAL
                    )
                ),
                "empyrical": empyrical_impl(
                    lambda p, b, n=name: getattr(empyrical, n)(p, b), smallest_only=True
                ),
                "reference": reference_impl(name, method="annualized", periods_per_year=ANNUAL),
            },
        )
    # Panels: a T x N portfolio (C or Fortran order) against a length-T benchmark.
    c["tracking_error_panel"] = Case(
        "tracking_error",
        {
            "trackerr": Impl(lambda P, b: tr.tracking_error(P, b)),
            "numpy": Impl(lambda P, b: np.std(P - b[:, None], axis=0, ddof=1)),
            "pandas": pandas_impl(lambda P, b: P.sub(b, axis=0).std()),
            "bottleneck": bottleneck_impl(lambda P, b: bn.nanstd(P - b[:, None], axis=0, ddof=1)),
        },
    )
    c["beta_panel"] = Case(
        "beta",
        {"trackerr": Impl(lambda P, b: tr.beta(P, b)), "numpy": Impl(_beta_panel)},
    )
    c["correlation_panel"] = Case(
        "correlation",
        {
            "trackerr": Impl(lambda P, b: tr.correlation(P, b)),
            "numpy": Impl(_correlation_panel),
            "pandas": pandas_impl(lambda P, b: P.corrwith(b)),
        },
    )
    return c


def _rolling_cases() -> dict[str, Case]:
    tr = trackerr
    c: dict[str, Case] = {}
    # Conventions of the peers (checked against their sources, numbagg 0.9 and
    # bottleneck 1.6): numbagg's move_std / move_var / move_cov take no ddof
    # and divide by n - 1 (sample moments, like pandas and trackerr's default);
    # bottleneck's move_std / move_var take ddof (default 0), passed
    # explicitly; bottleneck has no move_cov, so its co-moments are built from
    # move_mean with population moments on both sides (the ddof cancels in the
    # ratios). The peers keep running sums across the whole series: they lose
    # accuracy when the mean is large against the spread, but on the
    # benchmark's zero-mean random data all agree with trackerr to ~1e-12.
    c["rolling_tracking_error"] = Case(
        "rolling_tracking_error",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_tracking_error(p, b, w)),
            "bottleneck": bottleneck_impl(lambda p, b, w: bn.move_std(p - b, w, ddof=1)),
            "numbagg": numbagg_impl(lambda p, b, w: numbagg.move_std(p - b, window=w)),
            "pandas": pandas_impl(lambda p, b, w: (p - b).rolling(w).std()),
            "reference": reference_impl("rolling_tracking_error"),
        },
    )
    # Windows of time (issue 11) over irregular ticks: a span of 6 w minutes
    # (about 2 w ticks) and min_periods=w, so the first w - 1 rows are NaN for
    # everyone as the table's rolling check expects (time windows default to
    # min_periods=1, as pandas).
    c["rolling_tracking_error_time"] = Case(
        "rolling_tracking_error",
        {
            "trackerr": Impl(
                lambda p, bt, w: tr.rolling_tracking_error(
                    p, bt[0], time_span(w), times=bt[1], min_periods=w
                ),
                prepare=_with_times,
            ),
            "pandas": Impl(
                lambda p, b, w: (p - b).rolling(time_span(w), min_periods=w).std(),
                prepare=_to_pandas_timed,
                requires="pandas",
            ),
        },
    )
    c["rolling_beta_time"] = Case(
        "rolling_beta",
        {
            "trackerr": Impl(
                lambda p, bt, w: tr.rolling_beta(
                    p, bt[0], time_span(w), times=bt[1], min_periods=w
                ),
                prepare=_with_times,
            ),
            "pandas": Impl(
                lambda p, b, w: (
                    p.rolling(time_span(w), min_periods=w).cov(b)
                    / b.rolling(time_span(w), min_periods=w).var()
                ),
                prepare=_to_pandas_timed,
                requires="pandas",
            ),
        },
    )
    c["rolling_stats"] = Case(
        "rolling_stats",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_stats(p, b, w)),
            # Not a peer: what the seven-in-one pass costs over the cheapest
            # single metric (bench/report.py prints rolling_stats / TE).
            "trackerr_te_alone": Impl(
                lambda p, b, w: {"tracking_error": tr.rolling_tracking_error(p, b, w)}
            ),
            "pandas": pandas_impl(
                _pandas_rolling_stats,
                # The IR (mean / std of the window's active returns) passes
                # through zero: at 1e7 points some windows have |mean| ~ 1e-8 of
                # the std, where pandas' rolling mean is off by ~1e-14 absolute
                # (trackerr matches an exact fsum there). IR's natural scale,
                # mean|a| / std(a), is ~0.8 on this data, so 1e-9 absolute is
                # the same 1e-9 relative to the quantity's size.
                atol={"information_ratio": ZERO_CROSSING_ATOL},
                note="IR passes through zero: 1e-9 absolute on the IR field",
            ),
            "reference": Impl(
                lambda p, b, w: {
                    name: getattr(ref, f"rolling_{name}")(p, b, w)
                    for name in ("tracking_error", "beta", "correlation", "information_ratio")
                },
                requires="trackerr.reference",
                max_rows=REFERENCE_ROWS,
                rtol=REFERENCE_RTOL,
                atol={"information_ratio": 1e-14},
            ),
        },
    )
    c["rolling_active_return"] = Case(
        "rolling_active_return",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_active_return(p, b, w)),
            "bottleneck": bottleneck_impl(lambda p, b, w: bn.move_mean(p - b, w), atol=1e-15),
            "numbagg": numbagg_impl(lambda p, b, w: numbagg.move_mean(p - b, window=w), atol=1e-15),
            "pandas": pandas_impl(lambda p, b, w: (p - b).rolling(w).mean(), atol=1e-15),
            "reference": replace(reference_impl("rolling_active_return"), atol=1e-15),
        },
    )
    c["rolling_information_ratio"] = Case(
        "rolling_information_ratio",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_information_ratio(p, b, w)),
            "bottleneck": bottleneck_impl(
                lambda p, b, w: bn.move_mean(p - b, w) / bn.move_std(p - b, w, ddof=1),
                atol=ZERO_CROSSING_ATOL,
            ),
            "pandas": pandas_impl(
                lambda p, b, w: (p - b).rolling(w).mean() / (p - b).rolling(w).std(),
                atol=ZERO_CROSSING_ATOL,
            ),
            "reference": replace(reference_impl("rolling_information_ratio"), atol=1e-14),
        },
    )
    c["rolling_beta"] = Case(
        "rolling_beta",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_beta(p, b, w)),
            "bottleneck": bottleneck_impl(_bn_rolling_beta),
            "numbagg": numbagg_impl(_numbagg_rolling_beta),
            "pandas": pandas_impl(lambda p, b, w: p.rolling(w).cov(b) / b.rolling(w).var()),
            "reference": reference_impl("rolling_beta"),
        },
    )
    c["rolling_alpha"] = Case(
        "rolling_alpha",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_alpha(p, b, w)),
            # Alpha passes through zero too; its natural scale is the spread of a
            # window's mean return (~2e-3 here), so 1e-12 absolute is ~5e-10 of it.
            "numbagg": numbagg_impl(_numbagg_rolling_alpha, atol=1e-12),
            "pandas": pandas_impl(_pandas_rolling_alpha, atol=1e-12),
            "reference": replace(reference_impl("rolling_alpha"), atol=1e-15),
        },
    )
    c["rolling_correlation"] = Case(
        "rolling_correlation",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_correlation(p, b, w)),
            "numbagg": numbagg_impl(lambda p, b, w: numbagg.move_corr(p, b, window=w)),
            "bottleneck": bottleneck_impl(_bn_rolling_correlation),
            "pandas": pandas_impl(lambda p, b, w: p.rolling(w).corr(b)),
            "reference": reference_impl("rolling_correlation"),
        },
    )
    c["rolling_r_squared"] = Case(
        "rolling_r_squared",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_r_squared(p, b, w)),
            "numbagg": numbagg_impl(lambda p, b, w: numbagg.move_corr(p, b, window=w) ** 2),
            "pandas": pandas_impl(lambda p, b, w: p.rolling(w).corr(b) ** 2),
            "reference": reference_impl("rolling_r_squared"),
        },
    )
    # Rolling risk metrics (one series: the portfolio's returns), per period.
    # empyrical's roll_* call the full-sample function once per window from
    # Python: leading rows only, and padded to pandas' length.
    c["rolling_max_drawdown"] = Case(
        "rolling_max_drawdown",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_max_drawdown(p, w)),
            "empyrical": empyrical_impl(
                lambda p, b, w: _pad(empyrical.roll_max_drawdown(p, w), len(p)),
                max_rows=REFERENCE_ROWS,
            ),
            "reference": reference_impl("rolling_max_drawdown", one=True),
        },
    )
    c["rolling_sharpe_ratio"] = Case(
        "rolling_sharpe_ratio",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_sharpe_ratio(p, w)),
            "bottleneck": bottleneck_impl(
                lambda p, b, w: bn.move_mean(p, w) / bn.move_std(p, w, ddof=1),
                atol=ZERO_CROSSING_ATOL,
            ),
            "numbagg": numbagg_impl(
                lambda p, b, w: numbagg.move_mean(p, window=w) / numbagg.move_std(p, window=w),
                atol=ZERO_CROSSING_ATOL,
            ),
            "pandas": pandas_impl(
                lambda p, b, w: p.rolling(w).mean() / p.rolling(w).std(), atol=ZERO_CROSSING_ATOL
            ),
            "empyrical": empyrical_impl(
                lambda p, b, w: _pad(empyrical.roll_sharpe_ratio(p, w, annualization=1), len(p)),
                max_rows=REFERENCE_ROWS,
                atol=ZERO_CROSSING_ATOL,
            ),
            # Passes through zero, as the IR: the same 1e-14 absolute slack.
            "reference": replace(reference_impl("rolling_sharpe_ratio", one=True), atol=1e-14),
        },
    )
    c["rolling_sortino_ratio"] = Case(
        "rolling_sortino_ratio",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_sortino_ratio(p, w)),
            "bottleneck": bottleneck_impl(
                lambda p, b, w: _bn_rolling_sortino(p, w),
                atol=ZERO_CROSSING_ATOL,
                # A window with one small loss has a tiny downside deviation,
                # and the running sum of squares' residue shows: 2e-9 at 1e7.
                rtol=1e-8,
                note="running sum of squares: 2e-9 relative in windows with one small loss",
            ),
            "empyrical": empyrical_impl(
                lambda p, b, w: _pad(empyrical.roll_sortino_ratio(p, w, annualization=1), len(p)),
                max_rows=REFERENCE_ROWS,
                atol=ZERO_CROSSING_ATOL,
            ),
            "reference": replace(reference_impl("rolling_sortino_ratio", one=True), atol=1e-14),
        },
    )
    c["rolling_omega_ratio"] = Case(
        "rolling_omega_ratio",
        {
            "trackerr": Impl(lambda p, b, w: tr.rolling_omega_ratio(p, w)),
            # A window without a gain has Omega exactly 0; a running sum of
            # gains leaves a residue there (-7e-14 at 1e7 points). Omega's
            # scale is ~1, so 1e-12 absolute is far below what it resolves.
            "bottleneck": bottleneck_impl(lambda p, b, w: _bn_rolling_omega(p, w), atol=1e-12),
            "pandas": pandas_impl(lambda p, b, w: _pandas_rolling_omega(p, w), atol=1e-12),
            "reference": reference_impl("rolling_omega_ratio", one=True),
        },
    )
    for side, up in (("up", True), ("down", False)):
        name = f"rolling_{side}_capture"
        c[name] = Case(
            name,
            {
                "trackerr": Impl(lambda p, b, w, n=name: getattr(tr, n)(p, b, w)),
                "bottleneck": bottleneck_impl(
                    lambda p, b, w, u=up: _bn_rolling_capture(p, b, w, u)
                ),
                "reference": reference_impl(name),
            },
        )
        c[f"{name}_annualized"] = Case(
            name,
            {
                "trackerr": Impl(
                    lambda p, b, w, n=name: getattr(tr, n)(
                        p, b, w, method="annualized", periods_per_year=ANNUAL
                    )
                ),
                "empyrical": empyrical_impl(
                    lambda p, b, w, s=side: _pad(
                        getattr(empyrical, f"roll_{s}_capture")(p, b, w), len(p)
                    ),
                    max_rows=REFERENCE_ROWS,
                ),
                "reference": reference_impl(name, method="annualized", periods_per_year=ANNUAL),
            },
        )
    # Panels: a T x N portfolio (C order) against a length-T benchmark.
    c["rolling_tracking_error_panel"] = Case(
        "rolling_tracking_error",
        {
            "trackerr": Impl(lambda P, b, w: tr.rolling_tracking_error(P, b, w)),
            "trackerr_1thread": Impl(lambda P, b, w: tr.rolling_tracking_error(P, b, w, threads=1)),
            "numbagg": numbagg_impl(
                lambda P, b, w: numbagg.move_std(P - b[:, None], window=w, axis=0)
            ),
            "bottleneck": bottleneck_impl(
                lambda P, b, w: bn.move_std(P - b[:, None], w, axis=0, ddof=1)
            ),
            "pandas": pandas_impl(lambda P, b, w: P.sub(b, axis=0).rolling(w).std()),
        },
    )
    c["rolling_beta_panel"] = Case(
        "rolling_beta",
        {
            "trackerr": Impl(lambda P, b, w: tr.rolling_beta(P, b, w)),
            "trackerr_1thread": Impl(lambda P, b, w: tr.rolling_beta(P, b, w, threads=1)),
            "numbagg": numbagg_impl(_numbagg_rolling_beta_panel),
            "bottleneck": bottleneck_impl(_bn_rolling_beta_panel),
            # Pairwise-free DataFrame.rolling.cov(Series): one covariance per column.
            "pandas": pandas_impl(
                lambda P, b, w: P.rolling(w).cov(b).div(b.rolling(w).var(), axis=0)
            ),
        },
    )
    return c


def _stream_cases() -> dict[str, Case]:
    c: dict[str, Case] = {}
    # Window(252): a Python loop of float ticks (the live-feed path), a batch of
    # ticks in one call, and one tick of N portfolios (rows of a panel).
    c["stream_window_update"] = Case(
        "stream.Window",
        {
            "trackerr": _per_tick(_window_ticks),
            "river": _per_tick(
                lambda ps, bs: _river_ticks(
                    river_utils.Rolling(river_stats.Var, window_size=STREAM_WINDOW, ddof=1), ps, bs
                ),
                requires="river",
            ),
            "reference": _stream_reference(_reference_last_window),
        },
    )
    c["stream_window_batch"] = Case(
        "stream.Window",
        {
            "trackerr": Impl(lambda p, b: _batch(stream.Window(STREAM_WINDOW), p, b)),
            "reference": _stream_reference(_reference_last_window),
        },
    )
    c["stream_window_panel"] = Case(
        "stream.Window",
        {
            "trackerr": Impl(_window_ticks, prepare=_to_lists),
            "reference": _stream_reference(_reference_last_window),
        },
    )
    # Window('2h'): ticks leave by age (a stream.TimeWindow), a batch with
    # its times; pandas' offset window at the last row, and the reference on
    # the last window's rows.
    c["stream_time_window_batch"] = Case(
        "stream.TimeWindow",
        {
            "trackerr": Impl(
                lambda p, bt: _readout_after(stream.Window(TIME_SPAN), p, bt),
                prepare=_with_times,
            ),
            "pandas": Impl(
                lambda p, b: {
                    "tracking_error": (p - b).rolling(TIME_SPAN).std().iloc[-1],
                    "beta": (p.rolling(TIME_SPAN).cov(b) / b.rolling(TIME_SPAN).var()).iloc[-1],
                    "correlation": p.rolling(TIME_SPAN).corr(b).iloc[-1],
                },
                prepare=_to_pandas_timed,
                requires="pandas",
            ),
            "reference": _stream_reference(
                lambda p, b: {
                    name: getattr(ref, name)(*_last_time_window(p, b)) for name in STREAM_FIELDS
                }
            ),
        },
    )
    c["stream_cumulative_update"] = Case(
        "stream.Cumulative",
        {
            "trackerr": _per_tick(lambda ps, bs: _ticks(stream.Cumulative(), ps, bs)),
            "river": _per_tick(
                lambda ps, bs: _river_ticks(river_stats.Var(ddof=1), ps, bs), requires="river"
            ),
            "reference": _stream_reference(_reference_whole),
        },
    )
    c["stream_cumulative_batch"] = Case(
        "stream.Cumulative",
        {
            "trackerr": Impl(lambda p, b: _batch(stream.Cumulative(), p, b)),
            "numpy": Impl(lambda p, b: {"tracking_error": np.std(p - b, ddof=1)}),
            "reference": _stream_reference(_reference_whole),
        },
    )
    c["stream_exponential_update"] = Case(
        "stream.Exponential",
        {
            "trackerr": _per_tick(
                lambda ps, bs: _ticks(stream.Exponential(span=STREAM_SPAN), ps, bs)
            ),
            # Not a tick loop: pandas' batch ewm, the check on the read-out.
            "pandas": pandas_impl(_pandas_ewm_te, smallest_only=True),
        },
    )
    c["stream_exponential_batch"] = Case(
        "stream.Exponential",
        {
            "trackerr": Impl(lambda p, b: _batch(stream.Exponential(span=STREAM_SPAN), p, b)),
            "pandas": pandas_impl(_pandas_ewm_te),
        },
    )
    return c


COMPARISONS: dict[str, Case] = {**_full_cases(), **_rolling_cases(), **_stream_cases()}

NOT_METRICS: dict[str, str] = {
    "Monitor": "alerting on top of stream.Window/Exponential (benchmarked there)",
    "Event": "a Monitor record",
    "PeriodsInference": "a result type",
    "RollingStats": "the result type of rolling_stats",
    "PERIODS_PER_YEAR": "a constant",
    "__version__": "a constant",
    "datasets": "bundled data",
    "reference": "the slow exact reference every case is checked against",
    "stream": "a module: its states are cases (stream.Window, ...)",
    "optimize": (
        "a module: ex-ante tracking error and its contributions (a matrix-vector product); "
        "its optimizer is measured against skfolio, riskfolio-lib and PyPortfolioOpt "
        "in bench/optimize.py"
    ),
    "get_cmake_dir": "a build helper",
    "get_include": "a build helper",
    "infer_periods_per_year": "input handling, not a metric",
    "returns_from_prices": "input handling, not a metric",
    "simd": "reports the kernels' instruction set",
    "set_simd": "selects the kernels' instruction set",
    "simd_available": "lists the instruction sets this machine runs",
    "HorizonProfile": "the result type of tracking_error_by_horizon",
    "LeadLag": "the result type of lead_lag",
    "TimingDecomposition": "the result type of timing_decomposition",
}
"""Names of ``trackerr.__all__`` that are not metrics, with the reason; every
other public name must have a case (tests/test_comparisons.py checks)."""


# --- merging other tables ------------------------------------------------------------

_IMPL_FIELDS = {f.name for f in fields(Impl)}


def _as_impl(name: str, entry: Any) -> Impl:
    if isinstance(entry, Impl):
        return entry
    if callable(entry) and not hasattr(entry, "run"):
        return Impl(entry, requires="empyrical" if "empyrical" in name else None)
    if hasattr(entry, "run"):  # an Impl-like object from another module's dataclass
        return Impl(**{k: getattr(entry, k) for k in _IMPL_FIELDS if hasattr(entry, k)})
    raise TypeError(f"implementation {name!r}: {type(entry).__name__} has no run()")


def merge_cases(
    table: Mapping[str, Any],
    into: dict[str, Case] | None = None,
    *,
    suffix: str = "merged",
) -> dict[str, Case]:
    """Merge another table into ``COMPARISONS`` (or ``into``) and return it.

    ``table`` maps case names to a :class:`Case` or to a mapping of
    implementation names to an :class:`Impl`, an object with the same
    attributes (``run`` at least) or a bare callable. A new case needs a
    ``"trackerr"`` entry; its metric is its name without a ``_panel`` suffix
    (or the Case's ``metric``). A case whose name exists already joins it when
    it brings only peers (a name it has is replaced); when it brings its own
    ``"trackerr"`` baseline, whose options may differ from the existing one's
    (an annualized capture ratio against a geometric one, say), it becomes a
    case of its own, ``f"{case}_{suffix}"``, for the same metric.
    """
    target = COMPARISONS if into is None else into
    for case, entry in table.items():
        if isinstance(entry, Case):
            metric, impls = entry.metric, dict(entry.impls)
        else:
            metric = case.removesuffix("_panel")
            impls = {name: _as_impl(name, impl) for name, impl in entry.items()}
        name = case
        if case in target:
            if BASELINE not in impls:
                target[case] = Case(target[case].metric, {**target[case].impls, **impls})
                continue
            name = f"{case}_{suffix}"
        if BASELINE not in impls:
            raise ValueError(f"merged case {case!r} has no {BASELINE!r} baseline")
        target[name] = Case(metric, impls)
    return target


def merge_module(module: Any, into: dict[str, Case] | None = None, suffix: str = "merged") -> bool:
    """Merge a module's tables (see :func:`merge_cases`); False if it has none.

    Read from the module: ``COMPARISONS``, ``RISK_CASES``, ``CASES`` and/or
    ``ROLLING_CASES`` (the tables); optionally ``PEER_LIMITS``, ``{(case,
    implementation): (rows, reason)}``, the largest input at which a peer is
    expected to agree (it becomes that entry's ``max_rows`` and ``note``: it is
    then benchmarked and checked only up to there); ``risk_data(portfolio,
    benchmark)``, an untimed transformation of the suite's data (it becomes the
    ``prepare`` of the module's entries that have none); ``RTOL``, the
    agreement the module expects of its peers (the looser of it and their own
    ``rtol`` applies).
    """
    limits: Mapping[tuple[str, str], tuple[int, str]] = getattr(module, "PEER_LIMITS", {}) or {}
    prepare = getattr(module, "risk_data", None)
    rtol = getattr(module, "RTOL", None)
    found = False
    for attr in ("COMPARISONS", "RISK_CASES", "CASES", "ROLLING_CASES"):
        table = getattr(module, attr, None)
        if not isinstance(table, Mapping):
            continue
        found = True
        adapted: dict[str, Any] = {}
        for case, entry in table.items():
            impls = entry.impls if isinstance(entry, Case) else entry
            fixed = {}
            for name, raw in impls.items():
                impl = _as_impl(name, raw)
                changes: dict[str, Any] = {}
                if prepare is not None and impl.prepare is None:
                    changes["prepare"] = prepare
                if (case, name) in limits:
                    rows, reason = limits[(case, name)]
                    changes.update(max_rows=int(rows), note=str(reason))
                if rtol is not None and name != BASELINE and float(rtol) > impl.rtol:
                    changes["rtol"] = float(rtol)
                fixed[name] = replace(impl, **changes) if changes else impl
            adapted[case] = Case(entry.metric, fixed) if isinstance(entry, Case) else fixed
        merge_cases(adapted, into, suffix=suffix)
    return found


def _merge_risk_cases() -> str | None:
    """Merge ``bench/risk_cases.py`` if it exists (the risk metrics against
    empyrical, kept by another table; :func:`merge_module`, its colliding cases
    suffixed ``_risk``). Returns the merged module's path, else None."""
    path = Path(__file__).with_name("risk_cases.py")
    if not path.is_file():
        return None
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    # risk_cases may import Impl from "registry" (bench/registry.py re-exports
    # this module's names); under tests/ that name is tests/registry.py, so
    # bench's is put in place for the duration of the import.
    shadowed = sys.modules.get("registry")
    spec = importlib.util.spec_from_file_location("registry", path.with_name("registry.py"))
    if spec is not None and spec.loader is not None:
        bench_registry = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench_registry)
        sys.modules["registry"] = bench_registry
    try:
        module = importlib.import_module("risk_cases")
    finally:
        if shadowed is not None:
            sys.modules["registry"] = shadowed
        else:
            sys.modules.pop("registry", None)
    if not merge_module(module, suffix="risk"):
        raise ImportError(
            f"{path} defines none of COMPARISONS, RISK_CASES, CASES, ROLLING_CASES: "
            "nothing to merge into bench/comparisons.py"
        )
    return str(path)


MERGED_FROM = _merge_risk_cases()


def _check(table: Mapping[str, Case]) -> None:
    for case, entry in table.items():
        if BASELINE not in entry.impls:
            raise ValueError(f"case {case!r} has no {BASELINE!r} baseline")


_check(COMPARISONS)

# The views the benchmark suite parametrizes over: full-sample and stream cases
# take run(portfolio, benchmark); rolling cases run(portfolio, benchmark, window).
CASES: dict[str, dict[str, Impl]] = {
    k: c.impls for k, c in COMPARISONS.items() if c.kind != "rolling"
}
ROLLING_CASES: dict[str, dict[str, Impl]] = {
    k: c.impls for k, c in COMPARISONS.items() if c.kind == "rolling"
}
