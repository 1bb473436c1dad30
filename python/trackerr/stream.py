"""Streaming (online) states for live monitoring: one tick at a time.

``Cumulative`` covers every tick seen (Welford, mergeable); ``Window(window)``
the last ``window`` ticks (the guarded window state of the rolling kernels on
a ring buffer: O(1) a tick, O(min(ticks, window)) memory); ``Exponential``
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

Agreement: ``Window(w)`` after T ticks equals ``rolling_*(..., w)[-1]``;
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

import math
import numbers
import operator
from typing import Any, TypeVar, cast

from . import _core, _options

__all__ = ["Cumulative", "Exponential", "Window"]


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
_CORE = (_core.Cumulative, _core.Exponential, _core.Window)


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
            _options.ddof(ddof),
            _options.periods(periods_per_year),
            _min_periods(min_periods),
            _options.real("risk_free", risk_free),
        )
        self._built = True

    def __repr__(self) -> str:
        if (unbuilt := self._not_built()) is not None:
            return unbuilt
        return (
            f"Cumulative(n_portfolios={self.n_portfolios}, count={self.count!r}, "
            f"tracking_error={self.tracking_error!r})"
        )


class Window(_Checkpoints, _core.Window):
    """Metrics over the last ``window`` ticks (see :class:`Cumulative` for the options;
    ``min_periods`` is between 1 and ``window``, None for ``window``).

    ``window`` is a Python or numpy integer >= 2; the ring buffer grows with
    the ticks it holds, so a huge window costs memory only as ticks arrive
    (``window`` x ``n_portfolios`` must stay below 2**59 values).
    """

    def __init__(
        self,
        window: int,
        *,
        periods_per_year: float | str | None = None,
        ddof: float = 1,
        min_periods: int | None = None,
        n_portfolios: int | None = None,
        risk_free: float = 0.0,
    ) -> None:
        w = _integer("window", window, "an integer")
        if w < 2:
            raise ValueError(f"window (={w}) must be at least 2")
        n, scalar = _n(n_portfolios)
        super().__init__(
            w,
            n,
            scalar,
            _options.ddof(ddof),
            _options.periods(periods_per_year),
            _min_periods(min_periods, w),
            _options.real("risk_free", risk_free),
        )
        self._built = True

    def __repr__(self) -> str:
        if (unbuilt := self._not_built()) is not None:
            return unbuilt
        return (
            f"Window(window={self.window}, n_portfolios={self.n_portfolios}, "
            f"count={self.count!r}, tracking_error={self.tracking_error!r})"
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
            _options.ddof(ddof),
            _options.periods(periods_per_year),
            _min_periods(min_periods),
            _options.real("risk_free", risk_free),
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
