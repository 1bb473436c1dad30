"""Threshold alerts on a streaming tracking error, with hysteresis."""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _options, stream


@dataclass(frozen=True)
class Event:
    """A tracking-error alert: ``kind`` is ``'breach'`` or ``'recovery'``.

    ``tick`` is the tick count (1-based, a float) or the label passed to
    :meth:`Monitor.update` as ``t`` (a number, a ``datetime`` or a
    ``numpy.datetime64``, pandas ``Timestamp`` included), unchanged; with a
    time window, the tick's time as given (for a batch, ``t[i]``, or
    ``t.iloc[i]`` for a Series).
    """

    kind: str
    portfolio: int | None  # index for n_portfolios states, None for a single portfolio
    tick: Any  # the tick count (1-based), or the label passed to update
    value: float  # the (annualized) tracking error that crossed the line


def _label(t: Any) -> Any:
    """Check one tick label: a finite number or a date/time; returned as given."""
    if isinstance(t, (_dt.datetime, _dt.date, np.datetime64)):
        if isinstance(t, np.datetime64) and np.isnat(t):
            raise ValueError("t (=NaT) must be a date/time or a finite number")
        if type(t).__name__ == "NaTType":  # pandas.NaT subclasses datetime
            raise ValueError("t (=NaT) must be a date/time or a finite number")
        return t
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Real):
        raise TypeError(
            f"t must be a number, a datetime or a numpy.datetime64, not {type(t).__name__} (={t!r})"
        )
    if not math.isfinite(float(t)):
        raise ValueError(f"t (={t!r}) must be finite")
    return t


class Monitor:
    """Watches the tracking error of a stream and reports crossings.

    A breach is reported when the tracking error rises above ``limit``; the
    portfolio then stays in breach until it falls below ``clear_below``
    (default ``limit``), when a recovery is reported: no alert storms around
    the line.

    Parameters
    ----------
    limit : float
        Tracking error that triggers a breach (annualized when
        ``periods_per_year`` is given, e.g. 0.03 for 3 % a year).
    window, halflife : int, span of time, or float, optional
        The state watched: a fixed window of ticks (an int), the ticks of the
        last span of time (``'30D'``, a timedelta: a
        :class:`~trackerr.stream.TimeWindow`, whose window at a tick at time
        t is (t - span, t]; each update then needs ``t``, the tick's time), an
        exponential one with this half-life (ticks; pandas' default
        ``adjust=True`` weights), or (neither) every tick seen.
    clear_below : float, optional
        Recovery threshold, at most ``limit``.
    periods_per_year, min_periods, n_portfolios
        As for the :mod:`trackerr.stream` states.
    on_event : callable, optional
        Called with each :class:`Event` as it happens.
    """

    def __init__(
        self,
        limit: float,
        *,
        window: int | str | _dt.timedelta | np.timedelta64 | None = None,
        halflife: float | None = None,
        periods_per_year: float | str | None = None,
        clear_below: float | None = None,
        min_periods: int | None = None,
        n_portfolios: int | None = None,
        on_event: Callable[[Event], Any] | None = None,
    ) -> None:
        self.limit = _options.real("limit", limit)
        if not self.limit > 0:
            raise ValueError(f"limit (={limit!r}) must be positive")
        self.clear_below = (
            self.limit if clear_below is None else _options.real("clear_below", clear_below)
        )
        if not 0 <= self.clear_below <= self.limit:
            raise ValueError(
                f"clear_below (={clear_below!r}) must be between 0 and limit (={limit!r})"
            )
        if window is not None and halflife is not None:
            raise ValueError("give window or halflife, not both")
        if on_event is not None and not callable(on_event):
            raise TypeError(f"on_event must be callable, not {type(on_event).__name__}")
        kw: dict[str, Any] = {
            "periods_per_year": periods_per_year,
            "min_periods": min_periods,
            "n_portfolios": n_portfolios,
        }
        self.state: Any
        if window is not None:
            self.state = stream.Window(window, **kw)
        elif halflife is not None:
            self.state = stream.Exponential(halflife=halflife, **kw)
        else:
            self.state = stream.Cumulative(**kw)
        self.on_event = on_event
        self._timed = bool(getattr(self.state, "time_based", False))
        self._scalar = n_portfolios is None
        self._breached = np.zeros(1 if n_portfolios is None else n_portfolios, dtype=bool)
        self._ticks = 0

    @property
    def breached(self) -> Any:
        """Whether each portfolio is in breach now (a bool, or an array)."""
        return bool(self._breached[0]) if self._scalar else self._breached.copy()

    def update(self, p: Any, b: Any, t: Any = None) -> list[Event]:
        """One tick, or a batch of ticks processed in order.

        One tick: floats ``p, b`` (or, with ``n_portfolios``, a length-N array
        and one benchmark value). A batch: a length-T array of portfolio
        returns (T x N with ``n_portfolios``) and a length-T benchmark; it is a
        sequence of ticks and gives exactly the events that feeding them one
        at a time gives.

        ``t`` labels the events: a number or a date/time per tick (a sequence
        of T labels for a batch); default: the tick count. With a time window
        ``t`` is required and is the tick's time (a datetime,
        ``numpy.datetime64`` or pandas ``Timestamp``; for a batch a datetime64
        array, ``DatetimeIndex`` or datetime ``Series``), and labels the events
        as given. Labels, times and shapes are checked before the state is
        touched, so a bad call changes nothing.

        Returns the events (usually none) and passes each to ``on_event``.
        """
        p_arr = np.asarray(p) if not isinstance(p, (float, int)) else None
        batch = p_arr is not None and p_arr.ndim == (1 if self._scalar else 2)
        if self._timed and t is None:
            raise TypeError(
                "a time window needs each tick's time: update(p, b, t) with t a datetime, "
                "numpy.datetime64 or pandas Timestamp (datetime64 values for a batch)"
            )
        if not batch:
            if self._timed:
                self.state.update(p, b, t)  # checks t: a time, in order
                self._ticks += 1
                return self._check(t)
            label = None if t is None else _label(t)
            self.state.update(p, b)
            self._ticks += 1
            return self._check(self._ticks if label is None else label)
        assert p_arr is not None
        rows = p_arr.shape[0]
        b_arr = np.asarray(b)
        if b_arr.ndim != 1 or b_arr.shape[0] != rows:
            raise ValueError(
                f"a batch of {rows} ticks needs a length-{rows} benchmark; got shape {b_arr.shape}"
            )
        labels: list[Any] | None = None
        if t is not None and not self._timed:
            if isinstance(t, (str, bytes)) or not hasattr(t, "__len__"):
                raise TypeError(f"t for a batch of {rows} ticks must be a sequence of labels")
            labels = [_label(x) for x in list(t)]
            if len(labels) != rows:
                raise ValueError(f"a batch of {rows} ticks needs {rows} labels; got {len(labels)}")
        for name, arr in (("p", p_arr), ("b", b_arr)):
            if arr.dtype.kind not in "fiu":
                raise TypeError(f"{name} must hold real numbers; got an array of dtype {arr.dtype}")
        n = self.state.n_portfolios
        if not self._scalar and p_arr.shape[1] != n:
            raise ValueError(
                f"a batch of ticks is a T x {n} array (n_portfolios={n}); got shape {p_arr.shape}"
            )
        # the state steps through the batch in C++ and reports the tracking
        # error after every tick; the crossings are found on that path (a
        # time window checks the times first, before any tick)
        if self._timed:
            path = self.state.tracking_error_path(p_arr, b_arr, t)
        else:
            path = self.state.tracking_error_path(p_arr, b_arr)
        if rows == 0:  # an empty batch: checked, nothing happened
            return []
        path = path.reshape(rows, -1)
        first = self._ticks
        self._ticks += rows
        found = self._crossings(path)
        events = []
        for i, j, up, value in found:
            if self._timed:
                label = t.iloc[i] if hasattr(t, "iloc") else t[i]  # only the events' rows
            else:
                label = float(first + i + 1) if labels is None else labels[i]
            event = Event("breach" if up else "recovery", None if self._scalar else j, label, value)
            events.append(event)
            if self.on_event is not None:
                self.on_event(event)
        return events

    def _crossings(self, path: np.ndarray) -> list[tuple[int, int, bool, float]]:
        """The crossings along a T x N tracking-error path, hysteresis included,
        as (row, portfolio, breach?, value) in row then portfolio order.

        Above the limit sets a portfolio's breach, below clear_below clears it,
        anything else (NaN included) keeps it; the two never hold at once
        (clear_below <= limit), so the breach state after row i is set by the
        last row up to i that was above or below, whatever came before it: a
        running maximum of those rows' indices, with no loop over rows. Rows go
        in blocks, to bound the memory of a long batch of many portfolios."""
        rows, n = path.shape
        found: list[tuple[int, int, bool, float]] = []
        step = max(1, (1 << 18) // max(n, 1))
        for start in range(0, rows, step):
            block = path[start : start + step]
            # the portfolios that leave their side somewhere in the block (usually
            # none); the others cannot cross in it
            was = self._breached
            cols = np.flatnonzero(
                np.where(was, block < self.clear_below, block > self.limit).any(axis=0)
            )
            if not len(cols):
                continue
            if len(block) * len(cols) <= 256:  # a few values: a loop beats numpy's calls
                limit, clear = self.limit, self.clear_below
                mine = []
                for col, values in zip(cols.tolist(), block[:, cols].T.tolist(), strict=True):
                    on = bool(was[col])
                    for row, x in enumerate(values):
                        if (x < clear) if on else (x > limit):
                            on = not on
                            mine.append((row + start, col, on, x))
                    was[col] = on
                found.extend(sorted(mine))
                continue
            te = block[:, cols]
            up = te > self.limit
            decided = np.where(up | (te < self.clear_below), np.arange(len(te))[:, None], -1)
            np.maximum.accumulate(decided, axis=0, out=decided)
            state = np.take_along_axis(up, np.maximum(decided, 0), axis=0)
            state = np.where(decided >= 0, state, was[cols][None, :])
            before = np.empty_like(state)
            before[0] = was[cols]
            before[1:] = state[:-1]
            i, j = np.nonzero(state != before)
            found.extend(
                zip(
                    (i + start).tolist(), cols[j].tolist(), state[i, j].tolist(),
                    te[i, j].tolist(), strict=True,
                )
            )  # fmt: skip
            self._breached[cols] = state[-1]
        return found

    def _check(self, label: Any) -> list[Event]:
        """The crossings of the latest tick: a portfolio out of breach crosses
        above the limit, one in breach below clear_below (NaN crosses nothing)."""
        te = np.atleast_1d(np.asarray(self.state.tracking_error, dtype=np.float64))
        limit, clear = self.limit, self.clear_below
        if te.shape[0] <= 32:  # a few portfolios: Python floats beat numpy's calls
            flips = [
                j
                for j, (x, b) in enumerate(zip(te.tolist(), self._breached.tolist(), strict=True))
                if (x < clear if b else x > limit)
            ]
        else:
            flips = np.flatnonzero(np.where(self._breached, te < clear, te > limit)).tolist()
        if not flips:
            return []
        if isinstance(label, int):
            label = float(label)
        events = []
        for j in flips:
            up = not self._breached[j]
            self._breached[j] = up
            event = Event("breach" if up else "recovery", None if self._scalar else j, label,
                          float(te[j]))  # fmt: skip
            events.append(event)
            if self.on_event is not None:
                self.on_event(event)
        return events

    def __repr__(self) -> str:
        return (
            f"Monitor(limit={self.limit:g}, clear_below={self.clear_below:g}, "
            f"state={self.state!r}, breached={self.breached!r})"
        )
