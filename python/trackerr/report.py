"""Tracking-error reports: every metric of a set of portfolios against one
benchmark, from a table of prices (or returns), with breach periods of a
tracking-error limit. This is what ``trackerr report`` prints and charts.

>>> import pandas as pd
>>> from trackerr import report
>>> frame = pd.read_csv("prices.csv", index_col=0, parse_dates=True)   # doctest: +SKIP
>>> rep = report.build(frame, benchmark="ETH", limit=0.03)             # doctest: +SKIP
>>> rep.metrics["STETH"]["tracking_error"]                             # doctest: +SKIP

Needs pandas (``pip install trackerr[report]``).

Each portfolio is paired with the benchmark on the dates where both have a
price, and returns are taken between consecutive such dates, so a fund that
does not trade at weekends is compared with its 24/7 benchmark over the same
intervals (Friday to Monday), never over mismatched ones. The pair's periods
per year (and so its annualisation and default window) come from the pair's
own dates, never from the other columns.

Dates given as text are read one way for the whole column
(:func:`read_dates`): the one reading under which every value is a date, or,
when month-first and day-first both fit, the one that gives an ordered and
regular calendar; otherwise the column is refused, never guessed. Dates with
a UTC offset are converted to UTC and kept without a time zone; bounds
without one are UTC too.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, NoReturn

import numpy as np
import numpy.typing as npt

from . import _fullsample, _prices, _risk, _rolling, _timing
from ._options import PERIODS_PER_YEAR

__all__ = [
    "FIELDS",
    "Breach",
    "DateError",
    "DateReading",
    "Report",
    "ReportError",
    "ReportWarning",
    "build",
    "default_window",
    "parse_bound",
    "period_summary",
    "read_dates",
]

FIELDS = (
    "tracking_error",
    "tracking_difference",
    "active_return",
    "information_ratio",
    "beta",
    "alpha",
    "correlation",
    "r_squared",
    "up_capture",
    "down_capture",
    "max_drawdown",
    "benchmark_max_drawdown",
    "sharpe_ratio",
    "sortino_ratio",
    "rolling_tracking_error",
)
"""Per-portfolio fields, named after the library functions that compute them
(``benchmark_max_drawdown`` is max_drawdown of the benchmark over the same
dates; ``rolling_tracking_error`` is the latest value of the rolling one)."""


class ReportError(ValueError):
    """Input a report cannot be built from (bad column, too few rows, ...)."""


class ReportWarning(UserWarning):
    """Input a report is built from but that is likely a mistake (percent returns, ...)."""


@dataclass(frozen=True)
class Breach:
    """A run of rolling tracking error above the limit: first and last date
    in breach, the peak value, and whether it is still going at the end.

    Without hysteresis every date of the run is above the limit; with
    ``clear_below`` (see :func:`build`) the run goes on until the rolling
    tracking error falls below ``clear_below``, so its later dates may be
    between the two. ``periods`` is the run's length in observations and
    ``peak_date`` the date of the peak (the first, on ties); ``to_dict``
    keeps the four fields JSON has always had.
    """

    start: str
    end: str
    peak: float
    ongoing: bool
    periods: int = 0
    peak_date: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "peak": self.peak,
            "ongoing": self.ongoing,
            "periods": self.periods,
            "peak_date": self.peak_date,
        }


@dataclass
class Report:
    """A built report.

    ``periods_per_year`` and ``window`` are inferred per portfolio, from the
    dates that portfolio and the benchmark share (each portfolio's figures are
    in ``metrics[name]``); the report-level values are the common ones, or NaN
    and 0 when portfolios differ (``periods_reason`` then says so). ``notes``
    say how the dates were read and which portfolios were left out.
    """

    benchmark: str
    periods_per_year: float
    periods_reason: str  # how periods_per_year was chosen, for the user
    window: int
    limit: float | None
    start: str
    end: str
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    breaches: dict[str, list[Breach]] = field(default_factory=dict)
    # series for charts, per portfolio: dates, portfolio and benchmark returns, rolling TE
    series: dict[str, Any] = field(default_factory=dict, repr=False)
    # how much of each tracking error is the clock (see timing()): per portfolio
    timing: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # the last week or month against the one before (period_summary), when asked for
    period: dict[str, Any] | None = None
    # how breaches were found (build's clear_below and min_periods_above)
    clear_below: float | None = None
    min_periods_above: int = 1

    @property
    def uniform(self) -> bool:
        """Every portfolio has the same periods per year and window."""
        return math.isfinite(self.periods_per_year) and self.window > 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes None)."""
        out: dict[str, Any] = {
            "benchmark": self.benchmark,
            "periods_per_year": _json(self.periods_per_year),
            "periods_per_year_reason": self.periods_reason,
            "window": self.window or None,
            "limit": self.limit,
            "start": self.start,
            "end": self.end,
            "portfolios": {k: {f: _json(v) for f, v in m.items()} for k, m in self.metrics.items()},
            "notes": list(self.notes),
        }
        if self.clear_below is not None:
            out["clear_below"] = self.clear_below
        if self.min_periods_above > 1:
            out["min_periods_above"] = self.min_periods_above
        if self.limit is not None:
            out["breaches"] = {
                k: [{f: _json(v) for f, v in b.to_dict().items()} for b in bs]
                for k, bs in self.breaches.items()
            }
        out["timing"] = {
            k: {f: _json_deep(v) for f, v in t.items()} for k, t in self.timing.items()
        }
        if self.period is not None:
            out["period"] = _json_deep(self.period)
        return out


def _json(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _json_deep(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, dict):
        return {k: _json_deep(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_deep(x) for x in v]
    return _json(v)


def timing(
    p: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    periods: float,
    limit: float | None,
    breached: bool,
) -> dict[str, Any] | None:
    """The report's timing figures for one pair of simple returns: the
    genuine / timing split (trackerr.timing_decomposition), the best lag and
    Dimson beta (trackerr.lead_lag), the tracking error by horizon, and a
    verdict on breaches of ``limit``. None for a series too short to fit
    (fewer than 8 returns)."""
    n = len(p)
    k_max = min(21, n // 4)
    if k_max < 2:
        return None
    groups = min(10, n // (4 * k_max))  # each jackknife stretch several horizons long
    d = _timing.timing_decomposition(
        p, b, max_horizon=k_max, periods_per_year=periods, groups=groups if groups >= 2 else 0
    )
    ll = _timing.lead_lag(p, b, max_lag=min(3, (n - 3) // 2))
    out: dict[str, Any] = {
        "naive_tracking_error": d.naive_tracking_error,
        "genuine_tracking_error": d.genuine_tracking_error,
        "genuine_interval": list(d.genuine_interval),
        "timing_noise": d.timing_noise,
        "timing_share": d.timing_share,
        "timing_share_interval": list(d.timing_share_interval),
        "confidence": d.confidence,
        "fits": d.fits,
        "best_lag": ll.best_lag,
        "dimson_beta": ll.dimson_beta,
        "horizons": d.horizons.tolist(),
        "tracking_error_by_horizon": d.profile.tolist(),
        "verdict": "",
    }
    share, hi = d.timing_share, d.genuine_interval[1]
    if not d.fits:
        out["verdict"] = (
            "the tracking error does not fall with the horizon as clock noise would: "
            "read it as genuine"
        )
    elif limit is not None and breached and math.isfinite(hi) and hi < limit:
        out["verdict"] = (
            f"the breaches are explained by timing: {share:.0%} of the one-period variance is "
            f"noise at the ends of each period that does not build up over longer horizons "
            f"(prices taken at different moments, or gaps that close within a period); without "
            f"it the tracking error would be about {d.genuine_tracking_error:.2%} "
            f"(at most {hi:.2%} at {d.confidence:.0%} confidence), inside the "
            f"{limit:.2%} limit"
        )
    elif math.isfinite(share) and share >= 0.5:
        out["verdict"] = (
            f"{share:.0%} of the one-period variance is noise that does not build up over "
            f"longer horizons (timing, or gaps that close within a period); the genuine "
            f"tracking error is about {d.genuine_tracking_error:.2%}"
        )
    return out


TIMING_ALL_UP_TO = 50
"""Up to this many portfolios every one gets the timing figures by default."""


def default_window(periods_per_year: float) -> int:
    """About a quarter of a year of observations, at least 8: 90 crypto days,
    63 business days, 13 weeks... but 12 months and 8 quarters."""
    return (
        max(8, round(periods_per_year / 4))
        if periods_per_year >= 52
        else {12.0: 12}.get(periods_per_year, 8)
    )


def build(
    frame: Any,
    benchmark: str,
    *,
    portfolios: Sequence[str] | None = None,
    window: int | None = None,
    periods_per_year: float | str | None = None,
    limit: float | None = None,
    clear_below: float | None = None,
    min_periods_above: int = 1,
    start: Any = None,
    end: Any = None,
    returns: bool = False,
    log_returns: bool = False,
    progress: Callable[[Any], Any] | None = None,
    date_format: str | None = None,
    dayfirst: bool = False,
    date_reading: DateReading | None = None,
    timing_for: str = "auto",
) -> Report:
    """Build a report from a DataFrame indexed by date, one column per asset.

    Each portfolio is paired with the benchmark on the dates where both have a
    value; its periods per year (and so its annualisation and default window)
    are inferred from those dates alone, so a business-day fund gets 252 even
    when 24/7 assets share the file.

    Parameters
    ----------
    frame : pandas DataFrame
        Prices (default) or, with ``returns=True``, periodic returns; a
        DatetimeIndex, or dates as text (read by :func:`read_dates`). Dates
        with a time zone are converted to UTC.
    benchmark : str
        The benchmark column.
    portfolios : list of str, optional
        The portfolio columns (default: every other column); no repeats.
    window : int, optional
        Rolling window in observations (default :func:`default_window` of the
        pair's periods per year, at most a third of the pair's rows for short
        series).
    periods_per_year : number or preset name, optional
        Inferred per portfolio from its dates when not given (see
        :func:`trackerr.infer_periods_per_year`); the report says how.
    limit : float, optional
        Annualized tracking-error limit (0.03 for 3 %); breach periods are
        the runs where the rolling tracking error is above it. Above 1 (100 %)
        it warns: 3 is 300 %, not 3 %.
    clear_below : float, optional
        Hysteresis, as :class:`trackerr.Monitor`'s: a breach starts when the
        rolling tracking error rises above ``limit`` and ends only when it
        falls below ``clear_below`` (between 0 and ``limit``; default
        ``limit``), so a portfolio hovering at the limit gives one breach,
        not dozens. A NaN rolling value neither starts nor ends a breach.
    min_periods_above : int, default 1
        A breach counts only when it lasts at least this many observations
        (an ongoing one too): one-day blips are dropped. ``breach_now``
        still says whether the latest rolling value is above the limit.
    start, end : date-like, optional
        Inclusive date range (prices on ``start`` are the base of the first
        return). Text is ISO (``2023-02-01``) or in the format of the dates;
        naive bounds are UTC, like the dates.
    returns : bool
        The frame holds returns, not prices. Returns that look like percents
        (median ``|r|`` above 0.5, or at least 5 % of them above 1 in size)
        give a warning.
    log_returns : bool
        Use log returns for the dispersion metrics (tracking error, IR, beta,
        correlation, alpha, Sharpe, Sortino). Compounded figures (tracking
        difference, capture, drawdown) always compound simple returns.
    progress : callable, optional
        Wraps the iterable of portfolio names (a progress bar, say).
    date_format, dayfirst :
        How to read dates given as text (see :func:`read_dates`).
    timing_for : {'auto', 'all', 'breached', 'none'}
        Which portfolios get the timing figures (:func:`timing`: the genuine
        / timing split of the tracking error, about 3 ms a pair on ten years
        of days): 'auto' is every one up to TIMING_ALL_UP_TO portfolios and
        those with a breach above that (said in the notes).
    date_reading : DateReading, optional
        How text bounds are read when the frame's dates were read beforehand
        (what :func:`read_dates` returned for them); ISO bounds always work.

    Raises
    ------
    ReportError
        Unknown, repeated or duplicate columns, non-numeric or non-positive
        prices, an empty benchmark, an empty date range, too few rows for the
        window, or dates that cannot be read one consistent way. A portfolio
        with no value on the benchmark's dates is left out with a note.
        Also ``clear_below`` or ``min_periods_above`` without ``limit``, or
        out of range.
    """
    import pandas as pd

    _check_breach_options(limit, clear_below, min_periods_above)
    frame, reading, notes = _checked_frame(frame, pd, date_format, dayfirst)
    reading = reading or date_reading
    if benchmark not in frame.columns:
        raise ReportError(f"unknown benchmark column {benchmark!r}; columns: {list(frame.columns)}")
    names = list(portfolios) if portfolios else [c for c in frame.columns if c != benchmark]
    for k, name in enumerate(names):
        if name not in frame.columns:
            raise ReportError(f"unknown portfolio column {name!r}; columns: {list(frame.columns)}")
        if name == benchmark:
            raise ReportError(f"column {name!r} is the benchmark; it cannot also be a portfolio")
        if name in names[:k]:
            raise ReportError(f"portfolio {name!r} is given twice; name each portfolio once")
    if not names:
        raise ReportError("no portfolio columns: the file has only the benchmark")
    if limit is not None and limit > 1.0:
        warnings.warn(
            f"the limit {limit:g} is {limit:.0%} a year; for {limit:g} % write {limit / 100:g}",
            ReportWarning,
            stacklevel=2,
        )
    frame = frame[[*names, benchmark]]
    lo = parse_bound("start", start, reading)
    hi = parse_bound("end", end, reading, upper=True)
    frame = frame.loc[lo:hi]
    if frame.empty:
        raise ReportError(f"no rows between {start or 'the start'} and {end or 'the end'}")
    if not returns:
        bad = nonpositive(frame)
        if bad:
            raise ReportError(f"{bad} (use --returns if the file holds returns)")
    if frame[benchmark].isna().all():
        raise ReportError(
            f"the benchmark column {benchmark!r} has no values between "
            f"{_day(frame.index[0])} and {_day(frame.index[-1])}"
        )
    given = None
    if periods_per_year is not None:
        given = float(PERIODS_PER_YEAR.get(str(periods_per_year), 0)) or float(periods_per_year)
        if not (given > 0 and math.isfinite(given)):
            raise ReportError(f"periods per year must be positive, got {periods_per_year!r}")

    rep = Report(
        benchmark=benchmark,
        periods_per_year=math.nan,
        periods_reason="",
        window=0,
        limit=limit,
        clear_below=clear_below,
        min_periods_above=int(min_periods_above),
        start=_day(frame.index[0]),
        end=_day(frame.index[-1]),
        notes=notes,
    )
    kinds: dict[str, str] = {}  # what was inferred per portfolio, for the summary
    # Portfolios with a value on every date the benchmark has one share its
    # calendar: they are computed together, one 2-D kernel call per metric,
    # instead of a Python loop per portfolio. The others pair with the
    # benchmark on their own dates, one at a time.
    bench_ok = frame[benchmark].notna().to_numpy()
    known = frame[names].notna().to_numpy()
    common = [name for k, name in enumerate(names) if known[bench_ok, k].all()]
    blocks: list[list[str]] = [common] if common else []
    shared = set(common)
    blocks += [[name] for name in names if name not in shared]
    done: dict[str, _Pair] = {}
    for block in blocks:
        if len(block) > 1:
            pair = frame.loc[bench_ok, [*block, benchmark]]
        else:
            pair = frame[[block[0], benchmark]].dropna()
        if pair.empty:
            name = block[0]
            what = "no values" if frame[name].isna().all() else "no value on the benchmark's dates"
            rep.notes.append(f"portfolio {name!r} left out: {what}")
            continue
        if returns:
            for name in block:
                _warn_percent(name, pair[name].to_numpy(np.float64))
        elif len(pair) < 2:
            raise ReportError(f"{block[0]!r} and {benchmark!r} share fewer than 2 priced dates")
        if given is None:
            try:
                inferred = _prices.infer_periods_per_year(pair.index)
            except ValueError as exc:
                text = str(exc).replace("periods_per_year", "--periods-per-year")
                if "--periods-per-year" not in text:
                    text += " (pass --periods-per-year)"
                raise ReportError(f"{block[0]!r}: {text}") from None
            periods, reason = inferred.periods_per_year, f"inferred: {inferred}"
            kinds.update(dict.fromkeys(block, inferred.name))
        else:
            periods, reason = given, "given"
        n_returns = len(pair) if returns else len(pair) - 1
        # by default about a quarter of a year, but at most a third of a short series
        w = min(default_window(periods), max(8, len(pair) // 3)) if window is None else int(window)
        if w < 2:
            raise ReportError(f"window (={w}) must be at least 2")
        values = pair.to_numpy(np.float64)
        k = len(block)
        if returns:
            simple = dispersion = values
            if log_returns:  # the file holds log returns
                simple = np.expm1(values)
            dates = pair.index
        else:
            simple = _prices.returns_from_prices(values)
            dispersion = _prices.returns_from_prices(values, kind="log") if log_returns else simple
            dates = pair.index[1:]
        if n_returns < w:
            raise ReportError(
                f"{block[0]!r}: {n_returns} returns, fewer than the window of {w} "
                "(use --window, or a longer date range)"
            )
        found, rolling = _metrics(
            (simple[:, :k], simple[:, k]), (dispersion[:, :k], dispersion[:, k]), periods, w
        )
        for j, name in enumerate(block):
            found[j].update(periods_per_year=periods, periods_per_year_reason=reason, window=w)
            done[name] = _Pair(found[j], rolling[:, j], dates, simple[:, j], simple[:, k], periods)
    if timing_for not in ("auto", "all", "breached", "none"):
        raise ReportError(f"timing_for must be auto, all, breached or none; got {timing_for!r}")
    which = timing_for
    if which == "auto":  # the decomposition costs 3 ms a pair: a big book gets it where it tells
        which = "all" if len(done) <= TIMING_ALL_UP_TO else "breached"
    skipped = 0
    iterate = progress(names) if progress is not None else names
    for name in iterate:  # in the order asked; the timing figures are per pair
        if name not in done:
            continue
        got = done[name]
        rep.metrics[name] = got.metrics
        if limit is not None:
            rep.metrics[name]["breach_now"] = bool(got.rolling[-1] > limit)
            rep.breaches[name] = _breaches(
                got.dates,
                got.rolling,
                limit,
                clear_below=clear_below,
                min_periods=min_periods_above,
            )
        rep.series[name] = {
            "dates": got.dates,
            "portfolio": got.p,
            "benchmark": got.b,
            "rolling_tracking_error": got.rolling,
        }
        breached = bool(rep.breaches.get(name))
        if not (which == "all" or (which == "breached" and breached)):
            skipped += 1
            continue
        try:
            t = timing(got.p, got.b, got.periods, limit, breached)
        except ValueError as exc:  # e.g. a return of -100 % or less: nothing to compound
            rep.notes.append(f"timing of {name!r} left out: {exc}")
            t = None
        if t is not None:
            rep.timing[name] = t
    if skipped and which == "breached" and timing_for == "auto":
        timed = len(done) - skipped
        which_ones = (
            f"for the {timed} portfolio{'s' * (timed != 1)} with a breach only"
            if limit is not None
            else "left out (no --limit, so no breaches to explain)"
        )
        rep.notes.append(
            f"timing figures {which_ones} (a book of more than {TIMING_ALL_UP_TO} "
            "portfolios; --timing all for every one)"
        )
    if not rep.metrics:
        raise ReportError(
            f"no portfolio has a value on the benchmark's dates ({'; '.join(rep.notes)})"
        )
    periods_seen = {m["periods_per_year"] for m in rep.metrics.values()}
    windows = {m["window"] for m in rep.metrics.values()}
    reasons = {m["periods_per_year_reason"] for m in rep.metrics.values()}
    if len(periods_seen) == 1:
        rep.periods_per_year = periods_seen.pop()
        rep.periods_reason = next(iter(rep.metrics.values()))["periods_per_year_reason"]
        if len(reasons) > 1:  # same value from each pair's own dates: say it once
            rep.periods_reason = "inferred per portfolio from its dates: " + " and ".join(
                sorted(set(kinds.values()))
            )
    else:
        rep.periods_reason = "differs per portfolio: " + ", ".join(
            f"{k} {m['periods_per_year']:g}" for k, m in rep.metrics.items()
        )
    rep.window = windows.pop() if len(windows) == 1 else 0
    return rep


def nonpositive(frame: Any) -> str:
    """'' when every price of `frame` is positive or missing; else a line
    naming the first column and date that is not."""
    bad = frame.notna() & ~(frame > 0)
    if not bad.to_numpy().any():
        return ""
    col = bad.any().idxmax()
    row = bad[col].idxmax()
    value = float(frame.at[row, col])
    return f"prices must be positive: column {col!r} holds {value!r} on {_day(row)}"


def _day(stamp: Any) -> str:
    """A date as text: yyyy-mm-dd, with the time when it is not midnight."""
    return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)


def _warn_percent(name: str, values: npt.NDArray[np.float64]) -> None:
    size = np.abs(values[np.isfinite(values)])
    if size.size == 0:
        return
    median, share = float(np.median(size)), float(np.mean(size > 1.0))
    if median > 0.5 or share >= 0.05:
        warnings.warn(
            f"returns of {name!r} look like percents (median |r| {median:.3g}, "
            f"{share:.0%} above 1 in size); give them as fractions (0.012 for 1.2 %)",
            ReportWarning,
            stacklevel=3,
        )


def _checked_frame(
    frame: Any, pd: Any, date_format: str | None, dayfirst: bool
) -> tuple[Any, DateReading | None, list[str]]:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, not {type(frame).__name__}")
    dup = frame.columns[frame.columns.duplicated()]
    if len(dup):
        raise ReportError(f"column {dup[0]!r} appears more than once; give each column one name")
    notes: list[str] = []
    reading = None
    if not isinstance(frame.index, pd.DatetimeIndex):
        index, reading, notes = read_dates(
            list(frame.index), date_format=date_format, dayfirst=dayfirst
        )
        frame = frame.set_axis(index, axis=0)
    elif frame.index.tz is not None:
        frame = frame.set_axis(frame.index.tz_convert("UTC").tz_localize(None), axis=0)
        notes.append("dates converted to UTC")
    if frame.index.hasnans:
        i = int(np.flatnonzero(frame.index.isna())[0])
        raise ReportError(f"row {i + 1} has no date; fill in the date or delete the row")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise ReportError(f"date {_day(dup)} appears more than once")
    frame = frame.sort_index()
    for col in frame.columns:
        if frame[col].dtype.kind not in "fiu" or frame[col].dtype == np.bool_:
            values = pd.to_numeric(frame[col], errors="coerce")
            bad = values.isna() & frame[col].notna()
            if frame[col].dtype == np.bool_:
                bad = frame[col].notna()
            if not bad.any():
                continue
            row = bad.idxmax()
            raise ReportError(
                f"column {col!r} holds a non-numeric value {frame.at[row, col]!r} on {_day(row)}"
            )
    return frame.astype(np.float64), reading, notes


class _Pair(NamedTuple):
    """One portfolio's figures before they go into the report."""

    metrics: dict[str, Any]
    rolling: Any  # rolling tracking error
    dates: Any
    p: Any  # simple returns
    b: Any
    periods: float


def _metrics(
    simple: tuple[Any, Any], dispersion: tuple[Any, Any], periods: float, w: int
) -> tuple[list[dict[str, Any]], Any]:
    """The figures of k portfolios (T x k returns) against one benchmark, one
    kernel call per metric; and the rolling tracking error, T x k."""
    p, b = simple
    dp, db = dispersion
    kw: dict[str, Any] = {"periods_per_year": periods}
    rolling_te = np.asarray(_rolling.rolling_tracking_error(dp, db, w, **kw)).reshape(len(p), -1)
    found = {
        "tracking_error": _fullsample.tracking_error(dp, db, **kw),
        "tracking_difference": _fullsample.tracking_difference(p, b, **kw),
        "active_return": _fullsample.active_return(dp, db, **kw),
        "information_ratio": _fullsample.information_ratio(dp, db, **kw),
        "beta": _fullsample.beta(dp, db),
        "alpha": _fullsample.alpha(dp, db, **kw),
        "correlation": _fullsample.correlation(dp, db),
        "r_squared": _fullsample.r_squared(dp, db),
        "up_capture": _risk.up_capture(p, b),
        "down_capture": _risk.down_capture(p, b),
        "max_drawdown": _risk.max_drawdown(p),
        "sharpe_ratio": _risk.sharpe_ratio(dp, **kw),
        "sortino_ratio": _risk.sortino_ratio(dp, **kw),
    }
    columns = {f: np.asarray(v, dtype=np.float64).reshape(-1) for f, v in found.items()}
    bench_dd = float(_risk.max_drawdown(b))
    columns["benchmark_max_drawdown"] = np.full(rolling_te.shape[1], bench_dd)
    columns["rolling_tracking_error"] = rolling_te[-1]
    out = []
    for j in range(rolling_te.shape[1]):
        m: dict[str, Any] = {"observations": len(p)}
        m.update((f, float(columns[f][j])) for f in FIELDS)
        out.append(m)
    return out, rolling_te


def _check_breach_options(
    limit: float | None, clear_below: float | None, min_periods_above: Any
) -> None:
    """One-line errors for the breach options of :func:`build`."""
    if clear_below is not None:
        if limit is None:
            raise ReportError("clear_below needs a limit: it is where a breach of the limit ends")
        if not 0 <= clear_below <= limit:  # NaN fails too
            raise ReportError(
                f"clear_below (={clear_below!r}) must be between 0 and the limit (={limit!r})"
            )
    if isinstance(min_periods_above, bool) or not isinstance(min_periods_above, (int, np.integer)):
        raise ReportError(f"min_periods_above (={min_periods_above!r}) must be an integer")
    if min_periods_above < 1:
        raise ReportError(f"min_periods_above (={min_periods_above!r}) must be at least 1")
    if min_periods_above > 1 and limit is None:
        raise ReportError("min_periods_above needs a limit: it is how long a breach must last")


def _breaches(
    dates: Any,
    te: Any,
    limit: float,
    *,
    clear_below: float | None = None,
    min_periods: int = 1,
) -> list[Breach]:
    """The breach runs of a rolling tracking error ``te``.

    Without ``clear_below`` a run is a maximal stretch above ``limit``. With
    it, as in :class:`trackerr.Monitor`, a run starts at the first value
    above ``limit`` and its last date is the one before the first value
    below ``clear_below`` (NaN is neither): the crossings are found by
    searching the two index lists, not by a loop over the dates. Runs
    shorter than ``min_periods`` observations are dropped.
    """
    te = np.asarray(te, dtype=np.float64)
    n = len(te)
    ups = np.flatnonzero(te > limit)
    if clear_below is None:  # NaN ends a run too: the run is only values above the limit
        downs = np.flatnonzero(~(te > limit))
    else:
        downs = np.flatnonzero(te < clear_below)
    runs = []
    k = 0  # next row to look from
    while True:
        u = int(np.searchsorted(ups, k))
        if u == len(ups):
            break
        i = int(ups[u])
        d = int(np.searchsorted(downs, i))
        j = int(downs[d]) - 1 if d < len(downs) else n - 1  # last row in breach
        if j - i + 1 >= min_periods:
            runs.append((i, j, i + int(np.nanargmax(te[i : j + 1]))))
        k = j + 1
    if not runs:
        return []
    # the dates of every run in one take (a pandas lookup per date costs 14 us)
    shown = [_day(x) for x in dates[np.array(runs).ravel()]]
    return [
        Breach(
            start=shown[3 * r],
            end=shown[3 * r + 1],
            peak=float(te[top]),
            ongoing=j == n - 1,
            periods=j - i + 1,
            peak_date=shown[3 * r + 2],
        )
        for r, (i, j, top) in enumerate(runs)
    ]


PERIODS = ("week", "month")
"""The spans :func:`period_summary` knows: ISO weeks (Monday to Sunday) and calendar months."""

PERIOD_FIELDS = ("tracking_error", "tracking_difference", "max_drawdown")
"""The figures :func:`period_summary` gives for each period."""


def period_summary(rep: Report, period: str, *, log_returns: bool = False) -> dict[str, Any]:
    """The last complete week or month of a report against the one before.

    The last complete period is the latest calendar week (Monday to Sunday,
    UTC) or month whose last day the data reach: its last calendar day, or
    its last weekday when no series of the report has a date at a weekend
    (a business-day calendar). A period holds the returns dated in it, so a
    week's first return runs from the last price of the week before.

    Per portfolio, on those returns: ``tracking_error`` annualized with the
    portfolio's periods per year (as :func:`trackerr.tracking_error`, on log
    returns with ``log_returns``), ``tracking_difference`` over the period,
    not annualized (:func:`trackerr.tracking_difference` without
    ``periods_per_year``: the compounded portfolio return minus the
    benchmark's), and the portfolio's ``max_drawdown`` within the period;
    the same for the period before, ``change`` (last minus before, NaN when
    either is), ``returns`` (how many), and ``new_breaches``: the report's
    breaches that start in the last period.

    Raises
    ------
    ReportError
        An unknown period, or data that hold no complete period.
    """
    import pandas as pd

    if period not in PERIODS:
        raise ReportError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    dates = [pd.DatetimeIndex(s["dates"]) for s in rep.series.values()]
    if not dates:
        raise ReportError("the report has no portfolio to summarise")
    last = max(d[-1] for d in dates)
    weekends = any(bool((d.day_of_week >= 5).any()) for d in dates)
    freq = "W-SUN" if period == "week" else "M"
    span = pd.Period(last, freq=freq)

    def last_day(p: Any) -> Any:
        day = p.end_time.normalize()
        while not weekends and day.day_of_week >= 5:
            day -= pd.Timedelta(days=1)
        return day

    if last.normalize() < last_day(span):  # the data stop inside it: the one before
        span -= 1
    before = span - 1
    first = min(d[0] for d in dates)
    if span.end_time < first:
        raise ReportError(
            f"no complete {period} in the data ({_day(first)} .. {_day(last)}): "
            f"the data must reach the last day of a {period}"
        )
    out: dict[str, Any] = {
        "period": period,
        "start": _day(span.start_time),
        "end": _day(span.end_time.normalize()),
        "previous_start": _day(before.start_time),
        "previous_end": _day(before.end_time.normalize()),
        "portfolios": {},
    }
    for name, s in rep.series.items():
        when = pd.DatetimeIndex(s["dates"])
        periods = rep.metrics[name]["periods_per_year"]
        figures = []
        for p in (span, before):
            inside = np.asarray((when >= p.start_time) & (when <= p.end_time))
            pr, br = s["portfolio"][inside], s["benchmark"][inside]
            dp, db = (np.log1p(pr), np.log1p(br)) if log_returns else (pr, br)
            figures.append(
                {
                    "returns": int(inside.sum()),
                    "tracking_error": float(
                        _fullsample.tracking_error(dp, db, periods_per_year=periods)
                    ),
                    "tracking_difference": float(_fullsample.tracking_difference(pr, br)),
                    "max_drawdown": float(_risk.max_drawdown(pr)),
                }
            )
        now, prev = figures
        new = [
            b.to_dict()
            for b in rep.breaches.get(name, [])
            if span.start_time <= pd.Timestamp(b.start) <= span.end_time
        ]
        out["portfolios"][name] = {
            **now,
            "previous": prev,
            "change": {f: now[f] - prev[f] for f in PERIOD_FIELDS},
            "new_breaches": new,
        }
    return out


# ---------------------------------------------------------------------------
# Reading a date column: one reading for the whole column, or a refusal.
# ---------------------------------------------------------------------------


class DateError(ReportError):
    """A date column (or a date bound) that cannot be read one consistent way."""


_MISSING = frozenset({"", "nan", "nat", "na", "n/a", "#n/a", "null", "none", "-"})

# numeric dates: 2023-01-02, 2023/02/01, 02/01/2023, 2.1.23, with an optional
# time and UTC offset (Z, UTC, +01:00, +0100)
_NUMERIC = re.compile(
    r"(\d{1,4})([-/.])(\d{1,2})\2(\d{1,4})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
_INTEGER = re.compile(r"\d+")
_DECIMAL = re.compile(r"[+-]?(\d+[.,]\d*|[.,]\d+|\d+)([eE][+-]?\d+)?")

# unambiguous named-month and year-month forms (tried when the column is not numeric)
_NAMED = (
    "%Y-%m",
    "%Y/%m",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%B %d, %Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d-%B-%Y",
    "%b %Y",
    "%B %Y",
    "%b-%Y",
    "%b-%y",
)

# sampling bands in days (as in infer_periods_per_year), to judge how regular a reading is
_BANDS = (
    (0.5 / 24, 1.5 / 24),
    (0.75, 4.0),
    (5.0, 10.0),
    (25.0, 35.0),
    (80.0, 100.0),
    (170.0, 190.0),
    (350.0, 380.0),
)


@dataclass(frozen=True)
class DateReading:
    """One way of reading every value of a date column.

    ``name`` is what users see (``dd/mm/yyyy``), ``hint`` the strptime format
    to pass as ``--date-format`` for it, ``parse`` reads one value (a naive
    datetime in UTC, or None when the value does not fit this reading).
    """

    name: str
    hint: str
    parse: Callable[[str], Any]


def _two_digit_year(text: str) -> int:
    # strptime's %y convention: 69-99 are 1969-1999, 00-68 are 2000-2068
    year = int(text)
    if len(text) == 2:
        year += 1900 if year >= 69 else 2000
    return year


def _offset(tz: str | None) -> dt.timedelta | None:
    if tz is None:
        return None
    if tz.upper() in ("Z", "UTC", "GMT"):
        return dt.timedelta(0)
    sign = -1 if tz[0] == "-" else 1
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    return sign * dt.timedelta(hours=hours, minutes=minutes)


def _numeric_reading(order: str, sep: str, two_digit: bool) -> DateReading:
    """A reading of numeric dates: ``order`` is 'iso', 'ymd', 'ydm', 'mdy' or 'dmy'."""
    yy = "yy" if two_digit else "yyyy"
    pct_y = "%y" if two_digit else "%Y"
    name, hint = {
        "iso": ("yyyy-mm-dd", "%Y-%m-%d"),
        "ymd": (f"yyyy{sep}mm{sep}dd", f"%Y{sep}%m{sep}%d"),
        "ydm": (f"yyyy{sep}dd{sep}mm", f"%Y{sep}%d{sep}%m"),
        "mdy": (f"mm{sep}dd{sep}{yy} (month first)", f"%m{sep}%d{sep}{pct_y}"),
        "dmy": (f"dd{sep}mm{sep}{yy} (day first)", f"%d{sep}%m{sep}{pct_y}"),
    }[order]

    def parse(text: str) -> Any:
        m = _NUMERIC.fullmatch(text)
        if m is None:
            return None
        a, s, b, c = m.group(1, 2, 3, 4)
        year_first = len(a) == 4
        if order in ("iso", "ymd", "ydm"):
            if not year_first or len(c) > 2 or (order == "iso") != (s == "-"):
                return None
            y, mo, d = (int(a), int(b), int(c)) if order != "ydm" else (int(a), int(c), int(b))
        else:
            if year_first or len(c) not in (2, 4) or (len(c) == 2) != two_digit:
                return None
            y = _two_digit_year(c)
            mo, d = (int(a), int(b)) if order == "mdy" else (int(b), int(a))
        hh, mm, ss, frac, tz = m.group(5, 6, 7, 8, 9)
        try:
            stamp = dt.datetime(
                y,
                mo,
                d,
                int(hh or 0),
                int(mm or 0),
                int(ss or 0),
                int((frac or "0")[:6].ljust(6, "0")),
            )
        except ValueError:
            return None
        off = _offset(tz)
        return stamp if off is None else (stamp - off, True)

    return DateReading(name, hint, parse)


def _integer_reading(width: int) -> DateReading | None:
    """yyyymmdd (8 digits), Unix seconds (10), Unix milliseconds (13), years (4)."""
    epoch = dt.datetime(1970, 1, 1)

    def ymd(text: str) -> Any:
        if len(text) != 8 or not text.isdigit():
            return None
        try:
            return dt.datetime(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return None

    def unix(scale: int) -> Callable[[str], Any]:
        def parse(text: str) -> Any:
            if len(text) != width or not text.isdigit():
                return None
            return epoch + dt.timedelta(microseconds=int(text) * scale)

        return parse

    def year(text: str) -> Any:
        if len(text) != 4 or not text.isdigit() or not 1000 <= int(text) <= 2999:
            return None
        return dt.datetime(int(text), 1, 1)

    if width == 8:
        return DateReading("yyyymmdd", "%Y%m%d", ymd)
    if width == 10:
        return DateReading("Unix seconds (UTC)", "", unix(1_000_000))
    if width == 13:
        return DateReading("Unix milliseconds (UTC)", "", unix(1000))
    if width == 4:
        return DateReading("years (1 January of each)", "%Y", year)
    return None


def _strptime_reading(fmt: str, name: str | None = None) -> DateReading:
    def parse(text: str) -> Any:
        try:
            stamp = dt.datetime.strptime(text, fmt)
        except ValueError:
            return None
        if stamp.tzinfo is None:
            return stamp
        return (stamp.astimezone(dt.timezone.utc).replace(tzinfo=None), True)

    return DateReading(name or fmt, fmt, parse)


def _parse_all(reading: DateReading, texts: Sequence[str]) -> tuple[list[Any], int]:
    """Parse every value; return the values (None where it failed) and the count parsed."""
    out = [reading.parse(t) for t in texts]
    return out, sum(v is not None for v in out)


def _stamps(
    reading: DateReading, parsed: list[Any], where: Callable[[int], str]
) -> npt.NDArray[np.datetime64]:
    """datetime64[ns] of parsed values; every value with a UTC offset or none."""
    aware = [isinstance(v, tuple) for v in parsed]
    if any(aware) and not all(aware):
        i = aware.index(not aware[0])
        which = "has no UTC offset" if aware[0] else "has a UTC offset"
        raise DateError(
            f"{where(i)}: the date {which} while {where(0)}'s "
            f"{'has one' if aware[0] else 'has none'}; give every date an offset or none"
        )
    values = [v[0] if isinstance(v, tuple) else v for v in parsed]
    return np.array(values, dtype="datetime64[ns]")


def _regularity(stamps: npt.NDArray[np.datetime64]) -> float:
    """Share of the gaps between sorted distinct dates in the sampling band of the median gap."""
    days = np.diff(np.unique(stamps)).astype(np.float64) / 86400e9
    if days.size == 0:
        return 0.0
    median = float(np.median(days))
    for lo, hi in _BANDS:
        if lo <= median <= hi:
            return float(np.mean((days >= lo) & (days <= hi)))
    return 0.0


def _monotonic(stamps: npt.NDArray[np.datetime64]) -> bool:
    steps = np.diff(stamps.astype(np.int64))
    return bool((steps > 0).all() or (steps < 0).all())


def _row(i: int) -> str:
    return f"row {i + 1}"


def read_dates(
    values: Sequence[Any],
    *,
    date_format: str | None = None,
    dayfirst: bool = False,
    where: Callable[[int], str] = _row,
) -> tuple[Any, DateReading, list[str]]:
    """Read a date column one consistent way.

    Every candidate reading is tried on the whole column, and a reading is
    valid when it reads every value: ISO ``yyyy-mm-dd`` (with an optional
    time and UTC offset); for numeric dates separated by ``/ . -``, both
    month-first and day-first (two-digit years as strptime's ``%y``), and
    ``yyyy/mm/dd`` against ``yyyy/dd/mm``; integers as ``yyyymmdd``, Unix
    seconds (10 digits) or milliseconds (13), or plain years; month names.
    When two valid readings give different dates, the one whose dates are in
    order (increasing or decreasing as the file goes) wins; if both are, the
    one whose gaps fall more often in one sampling band (daily, weekly,
    monthly, ...) wins; otherwise the column is refused as ambiguous. Dates
    with a UTC offset are converted to UTC and kept without a time zone.

    Parameters
    ----------
    values : sequence
        The column, as text (other values are converted with ``str``).
    date_format : str, optional
        A strptime format every value must match (skips the guessing).
    dayfirst : bool
        Numeric dates are day first (``dd/mm/yyyy``, ``yyyy/dd/mm``).
    where : callable, optional
        Names the place of the i-th value in messages (default ``row i+1``).

    Returns
    -------
    (DatetimeIndex, DateReading, notes)
        ``notes`` say how a choice between readings was made, if one was.

    Raises
    ------
    DateError
        An empty date, a value no reading accepts (naming it), integers or
        numbers that are not dates, dates readable two ways, or a mix of dates
        with and without a UTC offset.
    """
    import pandas as pd

    texts = [str(v).strip() for v in values]
    if not texts:
        return pd.DatetimeIndex([]), _numeric_reading("iso", "-", False), []
    # the shape of the column first: a column of numbers with gaps is not dates at all
    readings = [] if date_format is not None else _candidates(texts, dayfirst, where)
    for i, text in enumerate(texts):
        if text.lower() in _MISSING:
            raise DateError(f"{where(i)}: no date ({text!r}); fill in the date or delete the row")
    if date_format is not None:
        try:
            time.strptime("", date_format)
        except ValueError as exc:
            if "directive" in str(exc):
                raise DateError(
                    f"--date-format {date_format!r} is not a strptime format ({exc})"
                ) from None
        reading = _strptime_reading(date_format)
        parsed, count = _parse_all(reading, texts)
        if count < len(texts):
            i = next(k for k, v in enumerate(parsed) if v is None)
            raise DateError(f"{where(i)}: the date {texts[i]!r} does not match {date_format!r}")
        return _result(reading, parsed, _stamps(reading, parsed, where), [])

    results = [(r, *_parse_all(r, texts)) for r in readings]
    valid = [(r, p) for r, p, n in results if n == len(texts)]
    if not valid:
        _refuse(texts, results, where, dayfirst)
    chosen = [(r, p, _stamps(r, p, where)) for r, p in valid]
    distinct: list[tuple[DateReading, list[Any], npt.NDArray[np.datetime64]]] = []
    for item in chosen:
        if not any(np.array_equal(item[2], d[2]) for d in distinct):
            distinct.append(item)
    if len(distinct) == 1:
        return _result(*distinct[0], [])
    ordered = [d for d in distinct if _monotonic(d[2])]
    notes: list[str] = []
    if len(ordered) == 1:
        reading = ordered[0][0]
        others = " and ".join(d[0].name for d in distinct if d[0] is not reading)
        notes.append(f"dates read as {reading.name}: read as {others} they are out of order")
        return _result(*ordered[0], notes)
    if len(ordered) > 1:
        scored = sorted(((_regularity(d[2]), k) for k, d in enumerate(ordered)), reverse=True)
        if scored[0][0] > scored[1][0]:
            reading = ordered[scored[0][1]][0]
            others = " and ".join(d[0].name for d in distinct if d[0] is not reading)
            notes.append(
                f"dates read as {reading.name}: read as {others} they are irregularly spaced"
            )
            return _result(*ordered[scored[0][1]], notes)
    a, b = distinct[0][0], distinct[1][0]
    i = next(k for k in range(len(texts)) if distinct[0][2][k] != distinct[1][2][k])
    raise DateError(
        f"{where(i)}: the date {texts[i]!r} reads both as {a.name} and as {b.name}; "
        f"pass --dayfirst or --date-format (e.g. {a.hint!r} or {b.hint!r})"
    )


def _result(
    reading: DateReading,
    parsed: list[Any],
    stamps: npt.NDArray[np.datetime64],
    notes: list[str],
) -> tuple[Any, DateReading, list[str]]:
    import pandas as pd

    if parsed and isinstance(parsed[0], tuple):  # _stamps checked: all have an offset
        notes = [*notes, "dates with a UTC offset converted to UTC"]
    return pd.DatetimeIndex(stamps), reading, notes


def _candidates(
    texts: Sequence[str], dayfirst: bool, where: Callable[[int], str]
) -> list[DateReading]:
    """The readings worth trying, from the shape of the column's values."""
    n = len(texts)
    numeric = [_NUMERIC.fullmatch(t) for t in texts]
    if sum(m is not None for m in numeric) * 2 > n:
        first = next(m for m in numeric if m is not None)
        sep = first.group(2)
        two_digit = len(first.group(4)) == 2 and len(first.group(1)) <= 2
        orders = ["iso", "ydm", "dmy"] if dayfirst else ["iso", "ymd", "ydm", "mdy", "dmy"]
        return [_numeric_reading(o, sep, two_digit) for o in orders]
    integers = [t for t in texts if _INTEGER.fullmatch(t)]
    if len(integers) * 2 > n:
        widths = sorted({len(t) for t in integers})
        width = len(integers[0])
        reading = _integer_reading(width) if len(widths) == 1 else None
        if reading is None:
            i = next(k for k, t in enumerate(texts) if _INTEGER.fullmatch(t))
            kind = (
                "an Excel serial day number (counted from 1899-12-30 or 1904-01-01 "
                "depending on the workbook)"
                if all(len(t) == 5 for t in integers)
                else "not a date"
            )
            raise DateError(
                f"{where(i)}: the date column holds integers ({texts[i]!r} is {kind}); "
                "dates can be yyyy-mm-dd, yyyymmdd, Unix seconds (10 digits) or "
                "milliseconds (13), or years: save the dates as yyyy-mm-dd, or pass --date-format"
            )
        return [reading]
    if sum(_DECIMAL.fullmatch(t) is not None for t in texts) * 2 > n:
        i = next(k for k, t in enumerate(texts) if _DECIMAL.fullmatch(t))
        raise DateError(
            f"{where(i)}: the first column holds numbers ({texts[i]!r}), not dates; "
            "the file needs a date column first"
        )
    named = [_strptime_reading(f, f) for f in _NAMED]
    return [r for r in named if r.parse(texts[0]) is not None] or named[:1]


def _refuse(
    texts: Sequence[str],
    results: Sequence[tuple[DateReading, list[Any], int]],
    where: Callable[[int], str],
    dayfirst: bool,
) -> NoReturn:
    """No reading reads every value: name the first value the best reading cannot read."""
    best, parsed, count = max(results, key=lambda r: r[2])
    i = next(k for k, v in enumerate(parsed) if v is None)
    if count == 0:
        raise DateError(
            f"{where(i)}: the first column must hold dates; cannot read {texts[i]!r} as one"
            f"{' day first' if dayfirst else ''} (yyyy-mm-dd, dd/mm/yyyy, mm/dd/yyyy, "
            "yyyymmdd...): pass --date-format, a strptime format such as %d/%m/%Y"
        )
    raise DateError(
        f"{where(i)}: cannot read the date {texts[i]!r} as {best.name} like the other "
        f"{count} dates; correct it, or pass --date-format"
    )


def parse_bound(
    name: str, value: Any, reading: DateReading | None = None, *, upper: bool = False
) -> Any:
    """A ``start``/``end`` bound as a naive UTC Timestamp.

    ISO text (``2023-02-01``, ``2023-02``, ``2023``, with an optional time and
    offset) is always accepted; other text only when it reads as the file's
    dates do (``reading``), so a bound is never read day first while the
    dates are read month first. With ``upper``, a bound without a time
    includes its whole day (month, year): ``end='2023-06-01'`` keeps
    2023-06-01 18:00. Datetimes with a time zone are converted to UTC.
    """
    import pandas as pd

    if value is None:
        return None
    stamp = None
    step = None  # the span a date-only bound covers
    if isinstance(value, str):
        text = value.strip()
        iso = _ISO_BOUND.fullmatch(text)
        if iso:
            try:
                stamp = pd.Timestamp(text)
            except ValueError:
                stamp = None
            if iso.group(1) is None:
                step = pd.DateOffset(years=1)
            elif iso.group(2) is None:
                step = pd.DateOffset(months=1)
            elif iso.group(3) is None:
                step = pd.DateOffset(days=1)
        else:
            got = reading.parse(text) if reading is not None else None
            if got is not None:
                stamp = pd.Timestamp(got[0] if isinstance(got, tuple) else got)
                if ":" not in text:
                    step = pd.DateOffset(days=1)
        if stamp is None:
            like = (
                f"{reading.name} (like the file's dates) or "
                if reading is not None and reading.name != "yyyy-mm-dd"
                else ""
            )
            raise DateError(f"cannot read {name} {value!r} as a date; write it as {like}yyyy-mm-dd")
    else:
        try:
            stamp = pd.Timestamp(value)
        except (TypeError, ValueError):
            raise DateError(f"cannot read {name} {value!r} as a date") from None
    if stamp.tz is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    if upper and step is not None:
        stamp = stamp + step - pd.Timedelta(1, "ns")
    return stamp


_ISO_BOUND = re.compile(
    r"\d{4}(-\d{2}(-\d{2}([T ]\d{2}(?::\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?)?)?)?"
    r"\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
