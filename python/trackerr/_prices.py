"""From prices to returns, and how many periods make a year (public helpers).

``returns_from_prices`` turns price levels into periodic returns;
``infer_periods_per_year`` reads a date index and says what kind of sampling
it holds (24/7 daily, business-day daily, weekly, monthly, ...) and so how
returns annualize.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _inputs, _options

__all__ = ["PeriodsInference", "infer_periods_per_year", "returns_from_prices"]


def returns_from_prices(prices: Any, /, *, kind: str = "simple") -> Any:
    r"""Periodic returns from price levels.

    .. math:: r_t = \frac{P_t}{P_{t-1}} - 1 \quad(\text{kind='simple'}),\qquad
              r_t = \ln\frac{P_t}{P_{t-1}} \quad(\text{kind='log'})

    Parameters
    ----------
    prices : array_like, pandas Series or DataFrame
        Price levels, 1-D (T) or 2-D (T x N, one column per asset). An empty
        cell (NaN) means no price that day; the returns either side of it are
        NaN (a missing pair for the metrics, which skip it by default).
    kind : {'simple', 'log'}

    Returns
    -------
    Returns with one row fewer than ``prices`` (T - 1). pandas in gives pandas
    out, dated by the later of the two prices. The input is not modified.

    Raises
    ------
    ValueError
        When a price is zero, negative or infinite (naming the column and row),
        or there are fewer than two rows.
    """
    _options.choice("kind", kind, ("simple", "log"))
    pd = _inputs._pandas()
    is_pd = pd is not None and isinstance(prices, (pd.Series, pd.DataFrame))
    # the checks every metric makes: real numbers only (dates, booleans and
    # strings are refused for numpy and pandas alike), masked values are NaN
    values = _inputs.as_real_array(prices, "prices").astype(np.float64, copy=False)
    if values.shape[0] < 2:
        raise ValueError(f"prices need at least 2 rows to make a return, got {values.shape[0]}")
    bad = ~np.isnan(values) & ~(values > 0.0) | np.isinf(values)
    if bad.any():
        row, *col = np.argwhere(bad)[0]
        label = _label(prices, is_pd, int(row), int(col[0]) if col else None)
        raise ValueError(
            f"prices must be positive and finite; {label} holds {values[tuple([row, *col])]!r}"
        )
    with np.errstate(invalid="ignore"):
        out = values[1:] / values[:-1]
        if kind == "simple":
            out -= 1.0
        else:
            np.log(out, out=out)
    if not is_pd:
        return out
    if isinstance(prices, pd.Series):
        return pd.Series(out, index=prices.index[1:], name=prices.name)
    return pd.DataFrame(out, index=prices.index[1:], columns=prices.columns)


def _label(prices: Any, is_pd: bool, row: int, col: int | None) -> str:
    if is_pd:
        where = f"row {prices.index[row]!s}"
        if col is not None:
            return f"column {prices.columns[col]!r} at {where}"
        name = f"{prices.name!r} " if prices.name is not None else ""
        return f"series {name}at {where}"
    return f"row {row}" + (f", column {col}" if col is not None else "")


@dataclass(frozen=True)
class PeriodsInference:
    """What :func:`infer_periods_per_year` concluded, and why."""

    periods_per_year: float
    name: str  # a preset name of trackerr.PERIODS_PER_YEAR
    reason: str

    def __str__(self) -> str:
        return f"{self.name} ({self.periods_per_year:g} periods a year): {self.reason}"


def infer_periods_per_year(dates: Any, /) -> PeriodsInference:
    """Infer the sampling of a series from its dates.

    The median spacing between consecutive dates picks the frequency; for
    daily data the share of weekend dates tells markets that trade every day
    (crypto: 365 a year) from business-day calendars (252):

    ===================  ====================  =================
    median spacing       weekends              periods per year
    ===================  ====================  =================
    1, 5, 15, 30 min     yes                   525600 .. 17520 (crypto-5-minute: 105120)
    about 1 hour         yes                   8760 (crypto-hourly)
    1 day                >= 10 % of dates      365 (crypto-daily)
    1 to 4 days          fewer                 252 (daily)
    5 to 10 days                               52 (weekly)
    25 to 35 days                              12 (monthly)
    80 to 100 days                             4 (quarterly)
    170 to 190 days                            2 (semi-annual)
    350 to 380 days                            1 (annual)
    ===================  ====================  =================

    Parameters
    ----------
    dates : pandas DatetimeIndex, or array_like of datetime64 / date strings
        At least 3 distinct dates.

    Returns
    -------
    PeriodsInference
        ``periods_per_year``, a ``name`` and a one-line ``reason`` to show users.

    Raises
    ------
    ValueError
        Too few dates, or a spacing that matches none of the above (pass
        ``periods_per_year`` explicitly then).
    """
    try:
        stamps = np.asarray(dates, dtype="datetime64[s]")
    except (TypeError, ValueError) as exc:
        raise TypeError(f"dates must be datetimes or date strings ({exc})") from None
    if stamps.ndim != 1:
        raise ValueError(f"dates must be 1-D, not {stamps.ndim}-D")
    stamps = np.unique(stamps[~np.isnat(stamps)])
    if stamps.size < 3:
        raise ValueError(
            f"need at least 3 distinct dates to infer the frequency, got {stamps.size}"
        )
    gaps = np.diff(stamps).astype(np.float64) / 86400.0  # days
    days = float(np.median(gaps))
    weekend = _weekend_share(stamps)
    span = f"median spacing {_spacing(days)} over {stamps.size} dates"
    if 0.5 / 24 <= days <= 1.5 / 24 and weekend >= 0.1:
        return PeriodsInference(8760.0, "crypto-hourly", f"{span}, trading every day")
    if days < 0.5 / 24 and weekend >= 0.1:  # minute bars of a market that trades every day
        minutes = days * 1440.0
        for step in (1, 5, 15, 30):
            if 0.8 * step <= minutes <= 1.2 * step:
                return PeriodsInference(
                    1440.0 / step * 365.0, f"crypto-{step}-minute", f"{span}, trading every day"
                )
    if 0.75 <= days <= 4.0:
        if days <= 1.25 and weekend >= 0.1:
            return PeriodsInference(
                365.0,
                "crypto-daily",
                f"{span}, {100 * weekend:.0f}% on weekends: a market that trades every day",
            )
        return PeriodsInference(
            252.0, "daily", f"{span}, {100 * weekend:.0f}% on weekends: business days"
        )
    for lo, hi, value, name in (
        (5.0, 10.0, 52.0, "weekly"),
        (25.0, 35.0, 12.0, "monthly"),
        (80.0, 100.0, 4.0, "quarterly"),
        (170.0, 190.0, 2.0, "semi-annual"),
        (350.0, 380.0, 1.0, "annual"),
    ):
        if lo <= days <= hi:
            return PeriodsInference(value, name, span)
    raise ValueError(
        f"cannot infer periods per year from a {span}; pass periods_per_year explicitly"
    )


def _weekend_share(stamps: npt.NDArray[np.datetime64]) -> float:
    day = stamps.astype("datetime64[D]").astype(np.int64)
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday: Monday = 0
    return float(np.mean(weekday >= 5))


def _spacing(days: float) -> str:
    if days < 1.0 / 24:
        minutes = days * 1440.0
        return f"{minutes:.3g} minute" + ("" if math.isclose(minutes, 1.0) else "s")
    if days < 1.0:
        hours = days * 24.0
        return f"{hours:.3g} hour" + ("" if math.isclose(hours, 1.0) else "s")
    return f"{days:.3g} day" + ("" if math.isclose(days, 1.0) else "s")
