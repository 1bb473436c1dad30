"""Streaming (online) states for live monitoring: one tick at a time.

``Cumulative`` covers every tick seen (Welford, mergeable); ``Window(window)``
the last ``window`` ticks (the guarded window state of the rolling kernels on
a ring buffer: O(1) a tick, O(min(ticks, window)) memory), or, given a span of
time (``Window('30D')``, a :class:`TimeWindow`), the ticks of the last span,
each tick passed with its time, ``update(p, b, t)``; ``Exponential``
weights ticks by age as pandas' ``ewm`` does (``adjust=True`` by default, or
the recursive ``adjust=False``; optionally by elapsed time; mergeable with a
later stream). All take one portfolio as
floats, ``update(p, b)``, or many at once with ``n_portfolios=N``: a tick is
then a length-N array and one benchmark value (a C-contiguous float64 array is
read in place; ``Window`` steps all N states in one pass across them, each
bit for bit what a one-portfolio ``Window`` fed that column holds). Arrays of ticks update in one
call in C++: ``Cumulative`` runs the blocked full-sample kernels on them,
``Window`` replays only the last ``window`` ticks of a batch at least that
long (the state depends on nothing older), and ``Exponential`` (without
times) cuts a batch of 1024 ticks or more into four chunks that it steps side
by side, as four fresh states in the lanes of one vector, and merges in order
(the merge above, exact up to rounding; a short batch is the tick loop).

Read-outs are properties: ``tracking_error``, ``active_return``,
``information_ratio``, ``beta``, ``alpha``, ``correlation``, ``r_squared`` and
``count`` (floats, or length-N arrays), with the conventions of the
full-sample functions (``periods_per_year`` annualizes; NaN when undefined).

Agreement: ``Window(w)`` after T ticks equals ``rolling_*(..., w)[-1]``,
``Window('30D')`` equals ``rolling_*(..., '30D', times=...)[-1]``;
``Cumulative`` equals the full-sample functions.

Ticks are real numbers (Python or numpy ints and floats; masked values are
missing); bool, complex, text and dates raise TypeError naming the argument.

Checkpoints: ``to_bytes()`` / ``from_bytes()``, pickle and ``copy()`` share
one record and one validated path: a versioned record (format 3) closed by a
CRC-32 of its bytes, so truncated, corrupted (any single flipped bit),
foreign or older checkpoints raise ValueError.

Range: the states square deviations as ticks arrive, so values must lie
within about 1e-154 .. 1e154 in magnitude (or be 0), as for the rolling
kernels; beyond, the squares underflow to 0 or overflow to inf.

Thread safety: a state is a plain value; concurrent reads are safe, updates
need one state per thread (merge ``Cumulative`` states afterwards) or a lock.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import operator
import re
from typing import Any, TypeVar, cast

import numpy as np

from . import _core, _inputs, _options, _rolling

# TimeWindow is the type Window(span) returns (and counts as a Window).
__all__ = ["Cumulative", "Exponential", "TimeWindow", "Window"]


class _Checkpoints:
    """from_bytes and copies that keep the Python subclass.

    Every way of rebuilding a state from bytes (``from_bytes``, pickle) goes
    through the compiled ``__setstate__``, which checks the record's checksum,
    every field and the scalar flag: one validated path. ``copy`` copies the
    compiled state directly (it is valid already; no checkpoint round trip).
    """

    @classmethod
    def from_bytes(cls, data: bytes) -> Any:
        """Rebuild a state from :meth:`to_bytes`; ValueError on truncated,
        corrupted, foreign or older bytes."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes takes bytes, not {type(data).__name__}")
        obj = cls.__new__(cls)
        obj.__setstate__((bytes(data),))  # type: ignore[attr-defined]  # pybind11 pickle constructor
        obj._built = True  # type: ignore[attr-defined]
        return obj

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        # unpickling goes through from_bytes: the validated path, and the flag below
        return type(self).from_bytes, (self.to_bytes(),)  # type: ignore[attr-defined]

    def _not_built(self) -> str | None:
        """A repr for an instance whose compiled state was never built.

        A constructor that raises leaves such an instance in the traceback's
        frames, where debuggers and pytest call repr(self); reading it would
        read memory that was never initialised.
        """
        if self.__dict__.get("_built"):
            return None
        return f"<{type(self).__name__}: not built (its constructor raised)>"

    def copy(self) -> Any:
        """An independent copy of the state."""
        kind = next(c for c in type(self).__mro__ if c in _CORE)
        obj = type(self).__new__(type(self))
        cast(Any, kind).__init__(obj, self)  # the compiled copy constructor
        obj._built = True  # type: ignore[attr-defined]
        return obj

    def __copy__(self) -> Any:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> Any:
        return self.copy()


_S = TypeVar("_S", bound="_Merges")
_CORE = (_core.Cumulative, _core.Exponential, _core.TimeWindow, _core.Window)


def _same_kind(a: object, b: object) -> bool:
    kind = next(c for c in type(a).__mro__ if c in _CORE)
    return isinstance(b, kind)


class _Merges:
    """``a += b`` and ``a + b`` on top of the bound ``merge`` (which names a
    wrong type in its TypeError; the operators return NotImplemented, so
    ``Cumulative() + 1`` is Python's own one-line TypeError)."""

    def __iadd__(self: _S, other: _S) -> _S:
        if not _same_kind(self, other):
            return NotImplemented
        self.merge(other)  # type: ignore[attr-defined]
        return self

    def __add__(self: _S, other: _S) -> _S:
        if not _same_kind(self, other):
            return NotImplemented
        out: _S = self.copy()  # type: ignore[attr-defined]
        out.merge(other)  # type: ignore[attr-defined]
        return out


# The compiled states take sizes as signed 64-bit integers.
_INT_MAX = 2**63 - 1


def _integer(name: str, value: object, what: str) -> int:
    """An integer option: Python or numpy integers (not bool), as int."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {what}, not {type(value).__name__} (={value!r})")
    out = operator.index(value)
    if out > _INT_MAX:
        raise ValueError(f"{name} (={out}) is too large (at most 2**63 - 1)")
    return out


def _n(n_portfolios: int | None) -> tuple[int, bool]:
    if n_portfolios is None:
        return 1, True
    n = _integer("n_portfolios", n_portfolios, "a positive integer or None")
    if n < 1:
        raise ValueError(f"n_portfolios (={n}) must be at least 1, or None for one portfolio")
    return n, False


def _min_periods(min_periods: int | None, window: int | None = None) -> int:
    """0 (the compiled default) for None; else 1 <= min_periods (<= window)."""
    if min_periods is None:
        return 0
    mp = _integer("min_periods", min_periods, "a positive integer or None")
    if window is not None and not 1 <= mp <= window:
        raise ValueError(
            f"min_periods (={mp}) must be between 1 and window (={window}), "
            "or None for the default (window)"
        )
    if mp < 1:
        raise ValueError(f"min_periods (={mp}) must be at least 1, or None for the default")
    return mp


def _options_of(
    ddof: float,
    periods_per_year: float | str | None,
    min_periods: int | None,
    risk_free: float,
    window: int | None = None,
) -> tuple[float, float, int, float]:
    """The options every state's constructor takes, checked: (ddof, periods,
    min_periods, risk_free) as the compiled states want them."""
    return (
        _options.ddof(ddof),
        _options.periods(periods_per_year),
        _min_periods(min_periods, window),
        _options.real("risk_free", risk_free),
    )


class Cumulative(_Merges, _Checkpoints, _core.Cumulative):
    """Metrics over every tick seen.

    Parameters
    ----------
    periods_per_year : float, str or None
        Annualization (a number or a preset name); None leaves figures per period.
    ddof : float, default 1
    min_periods : int, optional
        Observations needed before values are reported, at least 1 (None: 1
        here and for :class:`Exponential`, ``window`` for :class:`Window`;
        TE needs more than ``ddof``). Python or numpy integers.
    n_portfolios : int, optional
        None: one portfolio, ticks and read-outs are floats. N: a tick is a
        length-N array and one benchmark value; read-outs are arrays.
    risk_free : float, default 0
        Per-period rate for alpha.

    ``a.merge(b)``, ``a += b`` and ``a + b`` combine states of two streams
    (Chan's formulas), for chunks processed in parallel.
    """

    def __init__(
        self,
        *,
        periods_per_year: float | str | None = None,
        ddof: float = 1,
        min_periods: int | None = None,
        n_portfolios: int | None = None,
        risk_free: float = 0.0,
    ) -> None:
        n, scalar = _n(n_portfolios)
        super().__init__(
            n,
            scalar,
            *_options_of(ddof, periods_per_year, min_periods, risk_free),
        )
        self._built = True

    def __repr__(self) -> str:
        if (unbuilt := self._not_built()) is not None:
            return unbuilt
        return (
            f"Cumulative(n_portfolios={self.n_portfolios}, count={self.count!r}, "
            f"tracking_error={self.tracking_error!r})"
        )


def _is_span(window: object) -> bool:
    """Whether a window argument is a span of time rather than a count of ticks."""
    return isinstance(window, (str, dt.timedelta, np.timedelta64))


# Window's metaclass derives from the compiled classes' (pybind11's).
_CompiledType: Any = type(_core.Window)


class _WindowType(_CompiledType):  # type: ignore[misc]
    """``Window(span)`` builds a :class:`TimeWindow`, which then counts as a
    Window for ``isinstance`` and ``issubclass``; ``Window(n)`` is unchanged."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        window = args[0] if args else kwargs.get("window")
        if cls is Window and _is_span(window):
            return TimeWindow(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def __instancecheck__(cls, obj: object) -> bool:
        return (cls is Window and isinstance(obj, TimeWindow)) or type.__instancecheck__(cls, obj)

    def __subclasscheck__(cls, sub: type) -> bool:
        return (cls is Window and issubclass(sub, TimeWindow)) or type.__subclasscheck__(cls, sub)


class Window(_Checkpoints, _core.Window, metaclass=_WindowType):
    """Metrics over the last ``window`` ticks (see :class:`Cumulative` for the options;
    ``min_periods`` is between 1 and ``window``, None for ``window``).

    ``window`` is a Python or numpy integer >= 2; the ring buffer grows with
    the ticks it holds, so a huge window costs memory only as ticks arrive
    (``window`` x ``n_portfolios`` must stay below 2**59 values).

    Given a span of time instead (``'30D'``, ``'5min'``, a
    ``datetime.timedelta`` or a ``numpy.timedelta64``), ``Window`` returns a
    :class:`TimeWindow`: the ticks of the last span, each tick given with
    its time, ``update(p, b, t)``. It counts as a Window (``isinstance``);
    ``time_based`` tells the two apart.
    """

    def __init__(
        self,
        window: int | str | dt.timedelta | np.timedelta64,
        *,
        periods_per_year: float | str | None = None,
        ddof: float = 1,
        min_periods: int | None = None,
        n_portfolios: int | None = None,
        risk_free: float = 0.0,
    ) -> None:
        w = _integer("window", window, "an integer (ticks) or a span of time ('30D', a timedelta)")
        if w < 2:
            raise ValueError(f"window (={w}) must be at least 2")
        n, scalar = _n(n_portfolios)
        super().__init__(
            w,
            n,
            scalar,
            *_options_of(ddof, periods_per_year, min_periods, risk_free, w),
        )
        self._built = True

    def __repr__(self) -> str:
        if (unbuilt := self._not_built()) is not None:
            return unbuilt
        return (
            f"Window(window={self.window}, n_portfolios={self.n_portfolios}, "
            f"count={self.count!r}, tracking_error={self.tracking_error!r})"
        )

    @property
    def time_based(self) -> bool:
        """False: the window counts ticks (see :class:`TimeWindow`)."""
        return False

    @classmethod
    def from_bytes(cls, data: bytes) -> Any:
        """Rebuild a state from :meth:`to_bytes`; a time window's checkpoint
        gives a :class:`TimeWindow`, as ``Window(span)`` does. ValueError on
        truncated, corrupted, foreign or older bytes."""
        if cls is Window and isinstance(data, (bytes, bytearray, memoryview)):
            head = bytes(data[:12])
            if head[:4] == b"TRKR" and head[8:12] == _TIME_WINDOW_KIND:
                return TimeWindow.from_bytes(data)
        return super().from_bytes(data)


_TIME_WINDOW_KIND = (4).to_bytes(4, "little")  # the record kind of TimeWindow's checkpoints


_NS_PER = (
    ("D", 86_400 * 10**9),
    ("h", 3_600 * 10**9),
    ("min", 60 * 10**9),
    ("s", 10**9),
    ("ms", 10**6),
    ("us", 10**3),
    ("ns", 1),
)


def _span_text(ns: int) -> str:
    """A span as pandas writes offsets ('30D', '90min'): the largest unit that divides it."""
    for name, per in _NS_PER:
        if ns % per == 0:
            return f"{ns // per}{name}"
    return f"{ns}ns"  # (unreachable: every span is a whole number of ns)


_EPOCH = dt.datetime(1970, 1, 1)
_NS_TIME = np.dtype("datetime64[ns]")
_NS_LIMIT = 2**63 - 1  # (the lowest int64 is NaT)


def _tick_time(t: Any) -> tuple[int, str]:
    """One tick's time as int64 nanoseconds (UTC for a zone-aware time) and
    whether it was 'naive' or 'aware'."""
    if isinstance(t, np.datetime64):
        if t.dtype == _NS_TIME:  # nanoseconds already: nothing to convert or overflow
            ns = t.item()  # an int (None for NaT), the quickest way out of a numpy scalar
            if ns is None:
                raise ValueError("t is NaT: each tick needs a time")
            return ns, "naive"
        if not np.isnat(t):
            return int(_inputs.datetime_ns(np.asarray(t), "t")), "naive"
    if type(t).__name__ == "NaTType" or isinstance(t, np.datetime64):
        raise ValueError("t is NaT: each tick needs a time")
    pd = _inputs._pandas()
    if pd is not None and isinstance(t, pd.Timestamp):
        try:
            ns = int(t.value)  # nanoseconds, UTC when aware
        except OverflowError:
            ns = _NS_LIMIT + 1
        if not -_NS_LIMIT <= ns <= _NS_LIMIT:
            raise ValueError(
                f"t (={t}) is outside the range of int64 nanoseconds (years 1677 to 2262)"
            )
        return ns, ("naive" if t.tzinfo is None else "aware")
    if isinstance(t, dt.datetime):
        zone = "naive" if t.tzinfo is None or t.utcoffset() is None else "aware"
        if zone == "aware":
            t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
        d = t - _EPOCH
        ns = (d.days * 86_400 + d.seconds) * 10**9 + d.microseconds * 1000
        if not -_NS_LIMIT <= ns <= _NS_LIMIT:
            raise ValueError(
                f"t (={t}) is outside the range of int64 nanoseconds (years 1677 to 2262)"
            )
        return ns, zone
    if isinstance(t, (bool, np.bool_, numbers.Number)):
        raise TypeError(
            f"t must be a datetime, numpy.datetime64 or pandas Timestamp, not "
            f"{type(t).__name__} (={t!r}): a number's unit would be a guess"
        )
    raise TypeError(
        "t must be a datetime, numpy.datetime64 or pandas Timestamp (a datetime64 array, "
        f"DatetimeIndex or datetime Series for a batch), not {type(t).__name__}"
    )


def _batch_times(t: Any) -> tuple[np.ndarray, str]:
    """A batch's times as int64 nanoseconds (UTC when zone-aware) and whether
    they were 'naive' or 'aware'."""
    pd = _inputs._pandas()
    zone = "naive"
    if pd is not None and isinstance(t, (pd.Index, pd.Series)):
        if not pd.api.types.is_datetime64_any_dtype(t.dtype):
            raise TypeError(f"t must hold datetimes, not {t.dtype}")
        idx = pd.DatetimeIndex(t)
        if idx.tz is not None:
            zone = "aware"
            idx = idx.tz_convert("UTC").tz_localize(None)
        values = idx.to_numpy()
    else:
        values = np.asarray(t)
        if values.dtype.kind != "M":
            what = "numbers" if values.dtype.kind in "biuf" else str(values.dtype)
            raise TypeError(
                f"t must be datetime64 values, a DatetimeIndex or a datetime Series, not {what}"
                + (": a number's unit would be a guess" if what == "numbers" else "")
                + (
                    " (e.g. np.array(times, dtype='datetime64[ns]'))"
                    if values.dtype.kind == "O"
                    else ""
                )
            )
    if values.ndim != 1:
        raise ValueError(f"t for a batch must be 1-D; got shape {values.shape}")
    nat = np.isnat(values)
    if nat.any():
        row = int(np.flatnonzero(nat)[0])
        raise ValueError(f"t has a NaT at row {row}: each tick needs a time")
    return np.ascontiguousarray(_inputs.datetime_ns(values, "t")), zone


def _is_tick_time(t: Any) -> bool:
    """Whether t is one time (else a batch's times are expected)."""
    if isinstance(t, (np.datetime64, dt.datetime)):  # the usual ticks, before the slower checks
        return True
    return isinstance(t, (dt.date, numbers.Number, str)) or (
        type(t).__name__ == "NaTType" or (isinstance(t, np.ndarray) and t.ndim == 0)
    )


def _with_datetimes(exc: ValueError) -> ValueError:
    """The compiled state's error with its int64 nanosecond times shown as
    datetimes (UTC for zone-aware ticks), e.g. a tick before the last one."""
    text = str(exc)
    if "time" not in text:
        return exc
    return ValueError(
        re.sub(r"\(=(-?\d{10,19})\)", lambda m: f"(={np.datetime64(int(m.group(1)), 'ns')})", text)
    )


class TimeWindow(_Checkpoints, _core.TimeWindow):
    """Metrics over a span of time: after a tick at time t, the ticks with
    times in (t - span, t], as pandas' ``rolling('30D')`` at its last row.

    Built by ``Window(span)`` or directly. ``window`` is a span pandas reads
    (``'30D'``, ``'12h'``, ``'5min'``), a ``datetime.timedelta`` or a
    ``numpy.timedelta64`` (spans without a fixed length, months and years,
    are refused). ``min_periods`` counts observations (pairs without a NaN)
    in the window, default 1; ``ddof`` and the other options as for
    :class:`Cumulative`. The tracking error needs more than ``ddof``
    observations.

    ``update(p, b, t)`` takes each tick with its time ``t``: a
    ``datetime.datetime``, ``numpy.datetime64`` or pandas ``Timestamp`` for
    one tick; for a batch, a datetime64 array, ``DatetimeIndex`` or datetime
    ``Series`` of the batch's length. Zone-aware times are read in UTC, naive
    ones as they are; one state takes one or the other (mixing them is a
    TypeError until ``reset()``). Times must not go back (ValueError naming
    both times; the state is unchanged), NaT is refused, and numbers are a
    TypeError (their unit would be a guess).

    Each tick takes the steps of the rolling time kernel for one row (ticks
    leave by age, O(1) amortised work a tick; memory follows the ticks held),
    so after T ticks the read-outs equal ``rolling_*(..., window,
    times=...)[-1]``. A batch whose first rows have left by its end replays
    only the rows of its final window: it then agrees with one tick at a time
    within the guard's bound (about 1e-13 of the variance), not bit for bit.

    Properties: ``window`` (the span, ``numpy.timedelta64`` in ns), ``held``
    (ticks in the window), ``ticks`` (ticks seen since construction or
    ``reset()``), ``last_time`` (int64 ns, None before the first tick) and
    ``time_based`` (True).
    """

    def __init__(
        self,
        window: str | dt.timedelta | np.timedelta64,
        *,
        periods_per_year: float | str | None = None,
        ddof: float = 1,
        min_periods: int | None = None,
        n_portfolios: int | None = None,
        risk_free: float = 0.0,
    ) -> None:
        span = _rolling._time_span(window)
        if span is None:
            raise TypeError(
                f"window (={window!r}) is a count of ticks: TimeWindow takes a span of time "
                f"('30D', a timedelta); use Window({window!r}) to count ticks"
            )
        n, scalar = _n(n_portfolios)
        super().__init__(
            span,
            n,
            scalar,
            *_options_of(ddof, periods_per_year, min_periods, risk_free),
        )
        self._built = True

    @property
    def window(self) -> np.timedelta64:
        """The span, in nanoseconds."""
        return np.timedelta64(self.span, "ns")

    @property
    def time_based(self) -> bool:
        """True: ticks leave the window by age."""
        return True

    def _times(self, t: Any, batch: bool | None) -> tuple[Any, str | None]:
        """t as int64 ns (an int for one tick, an array for a batch) and the
        zone to record: None when there is none to record (the state has
        one already, or an empty batch). Refuses a zone other than the
        state's."""
        if t is None:
            raise TypeError(
                "a time window needs each tick's time: update(p, b, t) with t a datetime, "
                "numpy.datetime64 or pandas Timestamp (datetime64 values for a batch)"
            )
        one = _is_tick_time(t) if batch is None else not batch
        stamps: Any
        if one:
            stamps, zone = _tick_time(t[()] if isinstance(t, np.ndarray) else t)
        else:
            stamps, zone = _batch_times(t)
        have = self._zone
        if have is not None and zone != have and (one or len(stamps)):
            raise TypeError(
                f"t is {'zone-aware' if zone == 'aware' else 'naive'} but this window's earlier "
                f"ticks were {'zone-aware' if have == 'aware' else 'naive'}: give every tick "
                "naive or every tick zone-aware (reset() starts over)"
            )
        return stamps, (zone if have is None and (one or len(stamps)) else None)

    def update(self, p: Any, b: Any, t: Any = None) -> None:
        """One tick at time ``t``, or a batch of ticks with their times (see the class)."""
        stamps, zone = self._times(t, None)
        try:
            super().update(p, b, stamps)
        except ValueError as exc:
            raise _with_datetimes(exc) from None
        if zone is not None:
            self._zone = zone

    def tracking_error_path(self, p: Any, b: Any, t: Any = None) -> np.ndarray:
        """Update with a batch tick by tick; the tracking error after each tick."""
        stamps, zone = self._times(t, True)
        try:
            path = super().tracking_error_path(p, b, stamps)
        except ValueError as exc:
            raise _with_datetimes(exc) from None
        if zone is not None:
            self._zone = zone
        return path

    def __repr__(self) -> str:
        if (unbuilt := self._not_built()) is not None:
            return unbuilt
        return (
            f"TimeWindow(window='{_span_text(self.span)}', n_portfolios={self.n_portfolios}, "
            f"held={self.held}, count={self.count!r}, tracking_error={self.tracking_error!r})"
        )


class Exponential(_Merges, _Checkpoints, _core.Exponential):
    r"""Exponentially weighted metrics, as pandas' ``ewm`` computes them.

    Give exactly one of ``halflife`` (ticks), ``span`` or ``alpha``; the
    smoothing factor is

    .. math::

        \alpha = 1 - 2^{-1/h} \;(\text{halflife } h), \qquad
        \alpha = 2 / (s + 1) \;(\text{span } s),

    read back as :attr:`smoothing`. (``alpha``, as on every state, is the
    Jensen's alpha read-out.) With ``adjust=True`` (pandas' default) tick
    :math:`i` of :math:`n` weighs :math:`w_i = (1 - \alpha)^{n - i}`, the
    newest 1, and the mean is :math:`\sum w_i x_i / \sum w_i`; with
    ``adjust=False`` the mean is the recursion
    :math:`m_t = (1 - \alpha) m_{t-1} + \alpha x_t` seeded with the first
    tick (pandas' ``adjust=False``). Both run Finch's recurrences with a step
    weight :math:`\alpha_t` (:math:`\alpha_t = 1 / W_t`,
    :math:`W_t = (1 - \alpha) W_{t-1} + 1` when adjusted). Variances and
    co-moments carry pandas' bias correction for ``ddof=1``
    (``bias=False``): :math:`S / (1 - \sum \tilde w_i^2)` with
    :math:`\tilde w_i = w_i / \sum w_j`; ``ddof=0`` is pandas' ``bias=True``.

    Time-based decay (``time_based=True``): ``halflife`` is in the units of
    the times passed as ``update(p, b, t)`` (numbers: seconds, days, ...), and
    a tick at time :math:`t_i` weighs :math:`2^{-(t_n - t_i)/h}` (adjusted),
    as pandas' ``ewm(halflife=..., times=...)``. Ticks at the same time are one
    instant: each gets full weight and nothing decays between them. With
    ``adjust=False`` the step weight is :math:`1 - 2^{-\Delta t / h}`, so, as
    in pandas, a tick at the same time as the previous one gets no weight.
    Times must be finite and must not go back: a NaN time, or one earlier than
    the previous tick's, raises ValueError naming both, and a batch is checked
    whole before any of it is applied (the state is unchanged on error).

    Missing pairs (NaN) are skipped (pandas' ``ignore_na=True``; with times,
    the decay follows the time elapsed since the portfolio's last
    observation); a non-finite value makes the state NaN until ``reset()``.

    Parameters
    ----------
    halflife, span, alpha : float
        Exactly one: half-life in ticks (or in time units with
        ``time_based``), span (>= 1), or smoothing factor in (0, 1].
    adjust : bool, default True
        pandas' ``adjust``: weights normalised by their sum (True) or the
        recursive form (False).
    time_based : bool, default False
        Decay by the times passed to ``update`` (needs ``halflife``).
    periods_per_year, ddof, min_periods, n_portfolios, risk_free
        As for :class:`Cumulative`; ``ddof`` is 0 or 1.

    ``a.merge(b)``, ``a += b`` and ``a + b`` append stream ``b`` to stream ``a``
    (``b``'s ticks come after ``a``'s; the order matters): the result equals one
    pass over both, up to rounding. Parameters must match; with time-based
    decay ``b``'s first tick must not be earlier than ``a``'s last.
    """

    def __init__(
        self,
        *,
        halflife: float | None = None,
        span: float | None = None,
        alpha: float | None = None,
        adjust: bool = True,
        time_based: bool = False,
        periods_per_year: float | str | None = None,
        ddof: float = 1,
        min_periods: int | None = None,
        n_portfolios: int | None = None,
        risk_free: float = 0.0,
    ) -> None:
        given = [
            name
            for name, v in (("halflife", halflife), ("span", span), ("alpha", alpha))
            if v is not None
        ]
        if len(given) != 1:
            raise ValueError(f"give exactly one of halflife, span or alpha (got {given or 'none'})")
        adjust = _options.flag("adjust", adjust)
        time_based = _options.flag("time_based", time_based)
        if time_based and halflife is None:
            raise ValueError("time_based=True needs halflife (in the units of the times)")
        if halflife is not None and not (_options.real("halflife", halflife) > 0):
            raise ValueError(f"halflife (={halflife!r}) must be positive")
        if span is not None and not (_options.real("span", span) >= 1):
            raise ValueError(f"span (={span!r}) must be at least 1")
        if alpha is not None and not (0 < _options.real("alpha", alpha) <= 1):
            raise ValueError(f"alpha (={alpha!r}) must be in (0, 1]")
        if time_based:
            a, h = 1.0, float(halflife)  # type: ignore[arg-type]
        else:
            h = float("nan")
            if alpha is not None:
                a = float(alpha)
            elif span is not None:
                a = 2.0 / (float(span) + 1.0)
            else:
                a = -math.expm1(-math.log(2.0) / float(halflife))  # type: ignore[arg-type]
        n, scalar = _n(n_portfolios)
        super().__init__(
            a,
            h,
            adjust,
            n,
            scalar,
            *_options_of(ddof, periods_per_year, min_periods, risk_free),
        )
        self._built = True

    def __repr__(self) -> str:
        if (unbuilt := self._not_built()) is not None:
            return unbuilt
        decay = (
            f"halflife={self.halflife_time:g}, time_based=True"
            if self.time_based
            else f"smoothing={self.smoothing:g}"
        )
        return (
            f"Exponential({decay}, adjust={self.adjust}, n_portfolios={self.n_portfolios}, "
            f"count={self.count!r}, tracking_error={self.tracking_error!r})"
        )
