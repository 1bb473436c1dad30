"""Streaming (online) states for live monitoring: one tick at a time.

``Cumulative`` covers every tick seen (Welford, mergeable); ``Window(window)``
the last ``window`` ticks (the guarded window state of the rolling kernels on
a ring buffer: O(1) a tick, O(window) memory); ``Exponential`` weights ticks
by age (Finch; mergeable with a later stream). All take one portfolio as
floats, ``update(p, b)``, or many at once with ``n_portfolios=N``: a tick is
then a length-N array and one benchmark value. Arrays of ticks update in one
call in C++: ``Cumulative`` runs the blocked full-sample kernels on them and
``Window`` replays only the last ``window`` ticks of a batch at least that
long (the state depends on nothing older).

Read-outs are properties: ``tracking_error``, ``active_return``,
``information_ratio``, ``beta``, ``alpha``, ``correlation``, ``r_squared`` and
``count`` (floats, or length-N arrays), with the conventions of the
full-sample functions (``periods_per_year`` annualizes; NaN when undefined).

Agreement: ``Window(w)`` after T ticks equals ``rolling_*(..., w)[-1]``;
``Cumulative`` equals the full-sample functions.

Checkpoints: ``to_bytes()`` / ``from_bytes()`` (a versioned, validated
record: truncated, corrupted or foreign bytes raise ValueError) and pickle.

Thread safety: a state is a plain value; concurrent reads are safe, updates
need one state per thread (merge ``Cumulative`` states afterwards) or a lock.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from . import _core, _options

__all__ = ["Cumulative", "Exponential", "Window"]


class _Checkpoints:
    """from_bytes and copies that keep the Python subclass."""

    @classmethod
    def from_bytes(cls, data: bytes) -> Any:
        """Rebuild a state from :meth:`to_bytes`; ValueError on truncated,
        corrupted or foreign bytes."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"from_bytes takes bytes, not {type(data).__name__}")
        obj = cls.__new__(cls)
        obj.__setstate__((bytes(data),))  # type: ignore[attr-defined]  # pybind11 pickle constructor
        return obj

    def copy(self) -> Any:
        """An independent copy of the state."""
        return type(self).from_bytes(self.to_bytes())  # type: ignore[attr-defined]

    def __copy__(self) -> Any:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> Any:
        return self.copy()


_S = TypeVar("_S", bound="_Merges")


class _Merges:
    """``a += b`` and ``a + b`` on top of the bound ``merge``."""

    def __iadd__(self: _S, other: _S) -> _S:
        self.merge(other)  # type: ignore[attr-defined]
        return self

    def __add__(self: _S, other: _S) -> _S:
        out: _S = self.copy()  # type: ignore[attr-defined]
        out.merge(other)  # type: ignore[attr-defined]
        return out


def _n(n_portfolios: int | None) -> tuple[int, bool]:
    if n_portfolios is None:
        return 1, True
    if isinstance(n_portfolios, bool) or not isinstance(n_portfolios, int):
        raise TypeError(f"n_portfolios must be a positive integer or None, not {n_portfolios!r}")
    if n_portfolios < 1:
        raise ValueError(f"n_portfolios (={n_portfolios}) must be at least 1")
    return n_portfolios, False


def _min_periods(min_periods: int | None) -> int:
    if min_periods is None:
        return 0
    if isinstance(min_periods, bool) or not isinstance(min_periods, int) or min_periods < 1:
        raise ValueError(f"min_periods (={min_periods!r}) must be a positive integer or None")
    return min_periods


class Cumulative(_Merges, _Checkpoints, _core.Cumulative):
    """Metrics over every tick seen.

    Parameters
    ----------
    periods_per_year : float, str or None
        Annualization (a number or a preset name); None leaves figures per period.
    ddof : float, default 1
    min_periods : int, optional
        Observations needed before values are reported (default 1; TE needs
        more than ``ddof``).
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

    def __repr__(self) -> str:
        return (
            f"Cumulative(n_portfolios={self.n_portfolios}, count={self.count!r}, "
            f"tracking_error={self.tracking_error!r})"
        )


class Window(_Checkpoints, _core.Window):
    """Metrics over the last ``window`` ticks (see :class:`Cumulative` for the options;
    ``min_periods`` defaults to ``window``)."""

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
        if isinstance(window, bool) or not isinstance(window, int):
            raise TypeError(f"window must be an integer, not {type(window).__name__} (={window!r})")
        n, scalar = _n(n_portfolios)
        super().__init__(
            window,
            n,
            scalar,
            _options.ddof(ddof),
            _options.periods(periods_per_year),
            _min_periods(min_periods),
            _options.real("risk_free", risk_free),
        )

    def __repr__(self) -> str:
        return (
            f"Window(window={self.window}, n_portfolios={self.n_portfolios}, "
            f"count={self.count!r}, tracking_error={self.tracking_error!r})"
        )


class Exponential(_Merges, _Checkpoints, _core.Exponential):
    """Exponentially weighted metrics (Finch's recurrences, pandas' bias correction).

    Give exactly one of ``halflife`` (ticks), ``span`` (alpha = 2 / (span + 1))
    or ``alpha``. With ``time_based=True``, ``halflife`` is in the units of the
    times passed as ``update(p, b, t)`` and each tick's weight follows the time
    elapsed (for irregular ticks). ``ddof`` is 0 (biased) or 1 (pandas'
    ``bias=False``). Missing pairs are skipped (pandas' ``ignore_na=True``); a
    non-finite value makes the state NaN until ``reset()``.

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
            n,
            scalar,
            _options.ddof(ddof),
            _options.periods(periods_per_year),
            _min_periods(min_periods),
            _options.real("risk_free", risk_free),
        )

    def __repr__(self) -> str:
        return (
            f"Exponential(alpha={self.alpha:g}, n_portfolios={self.n_portfolios}, "
            f"count={self.count!r}, tracking_error={self.tracking_error!r})"
        )
