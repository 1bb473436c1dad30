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
intervals (Friday to Monday), never over mismatched ones.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _fullsample, _prices, _risk, _rolling
from ._options import PERIODS_PER_YEAR

__all__ = ["FIELDS", "Breach", "Report", "ReportError", "build", "default_window"]

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


@dataclass(frozen=True)
class Breach:
    """A run of rolling tracking error above the limit: first and last date
    above it, the peak value, and whether it is still going at the end."""

    start: str
    end: str
    peak: float
    ongoing: bool

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "peak": self.peak, "ongoing": self.ongoing}


@dataclass
class Report:
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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes None)."""
        out: dict[str, Any] = {
            "benchmark": self.benchmark,
            "periods_per_year": self.periods_per_year,
            "periods_per_year_reason": self.periods_reason,
            "window": self.window,
            "limit": self.limit,
            "start": self.start,
            "end": self.end,
            "portfolios": {k: {f: _json(v) for f, v in m.items()} for k, m in self.metrics.items()},
        }
        if self.limit is not None:
            out["breaches"] = {
                k: [{f: _json(v) for f, v in b.to_dict().items()} for b in bs]
                for k, bs in self.breaches.items()
            }
        return out


def _json(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


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
    start: Any = None,
    end: Any = None,
    returns: bool = False,
    log_returns: bool = False,
    progress: Callable[[Any], Any] | None = None,
) -> Report:
    """Build a report from a DataFrame indexed by date, one column per asset.

    Parameters
    ----------
    frame : pandas DataFrame
        Prices (default) or, with ``returns=True``, periodic returns; a
        DatetimeIndex (or dates the index can be parsed as).
    benchmark : str
        The benchmark column.
    portfolios : list of str, optional
        The portfolio columns (default: every other column).
    window : int, optional
        Rolling window in observations (default :func:`default_window`, at
        most a third of the rows for short series).
    periods_per_year : number or preset name, optional
        Inferred from the dates when not given (see
        :func:`trackerr.infer_periods_per_year`); the report says how.
    limit : float, optional
        Annualized tracking-error limit (0.03 for 3 %); breach periods are
        the runs where the rolling tracking error is above it.
    start, end : date-like, optional
        Inclusive date range (prices on ``start`` are the base of the first return).
    returns : bool
        The frame holds returns, not prices.
    log_returns : bool
        Use log returns for the dispersion metrics (tracking error, IR, beta,
        correlation, alpha, Sharpe, Sortino). Compounded figures (tracking
        difference, capture, drawdown) always compound simple returns.
    progress : callable, optional
        Wraps the iterable of portfolio names (a progress bar, say).

    Raises
    ------
    ReportError
        Unknown columns, non-numeric or non-positive prices, an empty date
        range, too few rows for the window, or dates that cannot be read.
    """
    import pandas as pd

    frame = _checked_frame(frame, pd)
    if benchmark not in frame.columns:
        raise ReportError(f"unknown benchmark column {benchmark!r}; columns: {list(frame.columns)}")
    names = list(portfolios) if portfolios else [c for c in frame.columns if c != benchmark]
    for name in names:
        if name not in frame.columns:
            raise ReportError(f"unknown portfolio column {name!r}; columns: {list(frame.columns)}")
        if name == benchmark:
            raise ReportError(f"column {name!r} is the benchmark; it cannot also be a portfolio")
    if not names:
        raise ReportError("no portfolio columns: the file has only the benchmark")
    frame = frame[[*names, benchmark]]
    try:
        lo = pd.Timestamp(start) if start is not None else None
        hi = pd.Timestamp(end) if end is not None else None
    except ValueError:
        raise ReportError(f"cannot read the date range {start!r} .. {end!r}") from None
    frame = frame.loc[lo:hi]
    if frame.empty:
        raise ReportError(f"no rows between {start or 'the start'} and {end or 'the end'}")
    if not returns:
        bad = frame.notna() & ~(frame > 0)
        if bad.to_numpy().any():
            col = bad.any().idxmax()
            row = bad[col].idxmax()
            raise ReportError(
                f"prices must be positive: column {col!r} holds {frame.at[row, col]!r} on "
                f"{row.date()} (use --returns if the file holds returns)"
            )

    rows = frame[benchmark].notna() & frame[names].notna().any(axis=1)
    if periods_per_year is None:
        try:
            inferred = _prices.infer_periods_per_year(frame.index[rows.to_numpy()])
        except ValueError as exc:
            raise ReportError(str(exc).replace("periods_per_year", "--periods-per-year")) from None
        periods, reason = inferred.periods_per_year, f"inferred: {inferred}"
    else:
        periods = float(PERIODS_PER_YEAR.get(str(periods_per_year), 0)) or float(periods_per_year)
        if not (periods > 0 and math.isfinite(periods)):
            raise ReportError(f"periods per year must be positive, got {periods_per_year!r}")
        reason = "given"
    # by default about a quarter of a year, but at most a third of a short series
    if window is None:
        w = min(default_window(periods), max(8, int(rows.sum()) // 3))
    else:
        w = int(window)
    if w < 2:
        raise ReportError(f"window (={w}) must be at least 2")

    rep = Report(
        benchmark=benchmark,
        periods_per_year=periods,
        periods_reason=reason,
        window=w,
        limit=limit,
        start=str(frame.index[0].date()),
        end=str(frame.index[-1].date()),
    )
    iterate = progress(names) if progress is not None else names
    for name in iterate:
        pair = frame[[name, benchmark]].dropna()
        if returns:
            simple = pair.iloc[:, 0].to_numpy(np.float64), pair.iloc[:, 1].to_numpy(np.float64)
            dispersion = simple
            if log_returns:  # the file holds log returns
                simple = (np.expm1(simple[0]), np.expm1(simple[1]))
            dates = pair.index
        else:
            if len(pair) < 2:
                raise ReportError(f"{name!r} and {benchmark!r} share fewer than 2 priced dates")
            prices = pair.to_numpy(np.float64)
            simple_all = _prices.returns_from_prices(prices)
            simple = simple_all[:, 0], simple_all[:, 1]
            dispersion = (
                tuple(_prices.returns_from_prices(prices, kind="log").T) if log_returns else simple
            )
            dates = pair.index[1:]
        if len(dates) < w:
            raise ReportError(
                f"{name!r}: {len(dates)} returns, fewer than the window of {w} "
                "(use --window, or a longer date range)"
            )
        rep.metrics[name], rolling_te = _metrics(simple, dispersion, periods, w)
        if limit is not None:
            rep.metrics[name]["breach_now"] = bool(rolling_te[-1] > limit)
            rep.breaches[name] = _breaches(dates, rolling_te, limit)
        rep.series[name] = {
            "dates": dates,
            "portfolio": simple[0],
            "benchmark": simple[1],
            "rolling_tracking_error": rolling_te,
        }
    return rep


def _checked_frame(frame: Any, pd: Any) -> Any:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame, not {type(frame).__name__}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        try:
            with warnings.catch_warnings():  # pandas warns when it guesses a format per row
                warnings.simplefilter("ignore", UserWarning)
                index = pd.DatetimeIndex(pd.to_datetime(frame.index))
            frame = frame.set_axis(index, axis=0)
        except (ValueError, TypeError):
            raise ReportError(
                f"the first column must hold dates; cannot read {frame.index[0]!r} as a date"
            ) from None
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()][0]
        raise ReportError(f"date {dup.date()} appears more than once")
    frame = frame.sort_index()
    for col in frame.columns:
        if frame[col].dtype.kind not in "fiu":
            values = pd.to_numeric(frame[col], errors="coerce")
            bad = values.isna() & frame[col].notna()
            row = bad.idxmax()
            raise ReportError(
                f"column {col!r} holds a non-numeric value {frame.at[row, col]!r} on {row.date()}"
            )
    return frame.astype(np.float64)


def _metrics(
    simple: tuple[Any, Any], dispersion: tuple[Any, Any], periods: float, w: int
) -> tuple[dict[str, Any], Any]:
    p, b = simple
    dp, db = dispersion
    kw: dict[str, Any] = {"periods_per_year": periods}
    rolling_te = _rolling.rolling_tracking_error(dp, db, w, **kw)
    m = {
        "observations": len(p),
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
        "benchmark_max_drawdown": _risk.max_drawdown(b),
        "sharpe_ratio": _risk.sharpe_ratio(dp, **kw),
        "sortino_ratio": _risk.sortino_ratio(dp, **kw),
        "rolling_tracking_error": float(rolling_te[-1]),
    }
    return {k: (float(v) if k != "observations" else v) for k, v in m.items()}, rolling_te


def _breaches(dates: Any, te: Any, limit: float) -> list[Breach]:
    above = np.asarray(te > limit)
    out = []
    i, n = 0, len(above)
    while i < n:
        if not above[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and above[j + 1]:
            j += 1
        out.append(
            Breach(
                start=str(dates[i].date()),
                end=str(dates[j].date()),
                peak=float(np.max(te[i : j + 1])),
                ongoing=j == n - 1,
            )
        )
        i = j + 1
    return out
