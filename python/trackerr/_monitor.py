"""Threshold alerts on a streaming tracking error, with hysteresis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _options, stream


@dataclass(frozen=True)
class Event:
    """A tracking-error alert: ``kind`` is ``'breach'`` or ``'recovery'``."""

    kind: str
    portfolio: int | None  # index for n_portfolios states, None for a single portfolio
    tick: float  # the tick count (1-based), or the time passed to update
    value: float  # the (annualized) tracking error that crossed the line


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
    window, halflife : int or float, optional
        The state watched: a fixed window of ticks, an exponential one with
        this half-life (ticks), or (neither) every tick seen.
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
        window: int | None = None,
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
        self._scalar = n_portfolios is None
        self._breached = np.zeros(1 if n_portfolios is None else n_portfolios, dtype=bool)
        self._ticks = 0

    @property
    def breached(self) -> Any:
        """Whether each portfolio is in breach now (a bool, or an array)."""
        return bool(self._breached[0]) if self._scalar else self._breached.copy()

    def update(self, p: Any, b: float, t: float | None = None) -> list[Event]:
        """One tick (floats, or a length-N array and one benchmark value).

        Returns the events of this tick (usually none) and passes each to
        ``on_event``. ``t`` labels the events (default: the tick count).
        """
        self.state.update(p, b)
        self._ticks += 1
        te = np.atleast_1d(np.asarray(self.state.tracking_error, dtype=np.float64))
        up = ~self._breached & (te > self.limit)
        down = self._breached & (te < self.clear_below)
        if not (up.any() or down.any()):
            return []
        label = float(self._ticks if t is None else t)
        events = []
        for j in np.flatnonzero(up | down):
            kind = "breach" if up[j] else "recovery"
            self._breached[j] = bool(up[j])
            event = Event(kind, None if self._scalar else int(j), label, float(te[j]))
            events.append(event)
            if self.on_event is not None:
                self.on_event(event)
        return events

    def __repr__(self) -> str:
        return (
            f"Monitor(limit={self.limit:g}, clear_below={self.clear_below:g}, "
            f"state={self.state!r}, breached={self.breached!r})"
        )
