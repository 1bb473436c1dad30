"""Live tracking-error monitoring of a stream of ticks: ``trackerr watch``, and
:class:`Watcher`, the same thing for a service to embed.

Ticks arrive as lines, JSON or CSV, in one of two shapes:

* one price per line: ``{"time": "2024-05-01T12:00:00Z", "asset": "STETH",
  "price": 3001.5}`` (CSV: a header ``time,asset,price``);
* one line per timestamp, a field per asset: ``{"time": ..., "ETH": 3003.1,
  "STETH": 3001.5}`` (CSV: a header ``time,ETH,STETH``).

How prices become returns (assets tick at different moments): at each
benchmark tick, every portfolio's return is its last price as of that tick
over its last price as of the benchmark tick before, minus 1; the benchmark's
is its own price ratio. "As of" includes every tick with the same time,
whatever their order in the stream: a benchmark tick is closed when a later
time arrives (or at the end of the input). With ``every`` (a span of time),
the samples are the ends of intervals of that length (aligned on the epoch,
UTC) that saw ticks instead, and a gap of several intervals gives one return
across it. A portfolio without a price on either side gives no observation
for that return (it is skipped, as NaN is by the stream states). With
``returns=True`` the values are periodic returns, paired by identical
timestamps.

The returns feed a :class:`trackerr.Monitor` of all portfolios (its window,
half-life or cumulative state, its limit and hysteresis), whose breach and
recovery events come out as dicts (JSON lines on the command line):
``{"seq": 1, "event": "breach", "portfolio": "STETH", "time":
"2022-06-13T00:00:00Z", "tracking_error": 0.123, "limit": 0.1}``.

Times: ISO 8601 text (a date, or a date and time to the nanosecond, with
``Z`` or an offset; without one, UTC), or numbers in the unit given as
``time_unit`` ('s', 'ms', 'us', 'ns': a number alone could be any of them,
so one is never guessed). Times must not go back.

Bad lines (malformed JSON or CSV, an unknown asset, a price that is not a
positive finite number, a missing or unreadable time, time going back) raise
:class:`BadLine` from :meth:`Watcher.feed` naming the reason; the state is
untouched by them. ``trackerr watch`` counts them, reports each on stderr
with its line number and goes on (``--strict``: the first one is fatal).

Checkpoints: :meth:`Watcher.to_bytes` / :meth:`Watcher.from_bytes` hold the
whole state (the stream state's validated record, the last prices, the
pending sample, the counters), the configuration it was built with, and
how much input it has consumed; the record ends with a CRC-32, so a
truncated, corrupted or foreign file is refused (ValueError), never
half-loaded.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import struct
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import _rolling
from ._monitor import Monitor

_loads: Any
try:  # a parser 7x faster than json's (optional: pip install "trackerr[watch]")
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

__all__ = ["BadLine", "WatchConfig", "Watcher"]

_UNITS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}
_ISO = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?"
    r"(Z|[+-]\d{2}:\d{2})?",
    re.ASCII,  # digits 0-9 only (\d would take any script's, and int() reads them)
)
_MAGIC = b"TRACKERR-WATCH\x01"
# a CSV cell's number: ASCII digits only (float() would read other scripts' too)
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


_NAME_THEM = "name the portfolios (portfolios=, --portfolio) for a stream of one price a line"


class BadLine(ValueError):
    """A line of input that cannot be used (the reason is the message)."""


@dataclass(frozen=True)
class WatchConfig:
    """What a :class:`Watcher` watches.

    benchmark : the benchmark asset's name.
    portfolios : the portfolios' names, in order (None: every other asset of
        the first line, for a stream with one field per asset).
    limit, clear_below, window, halflife, periods_per_year, min_periods :
        as for :class:`trackerr.Monitor` (window: a count of returns, or a
        span of time such as '30D').
    returns : the values are returns, not prices.
    every : sample prices at the ends of intervals of this span (e.g. '1h').
    time_unit : the unit of numeric times ('s', 'ms', 'us', 'ns').
    """

    benchmark: str
    portfolios: tuple[str, ...] | None = None
    limit: float = 0.0
    clear_below: float | None = None
    window: int | str | None = None
    halflife: float | None = None
    periods_per_year: float | str | None = None
    min_periods: int | None = None
    returns: bool = False
    every: str | None = None
    time_unit: str | None = None

    def checked(self) -> WatchConfig:
        if not isinstance(self.benchmark, str) or not self.benchmark:
            raise ValueError(f"benchmark (={self.benchmark!r}) must be an asset name")
        if self.portfolios is not None:
            names = tuple(self.portfolios)
            if not names or not all(isinstance(n, str) and n for n in names):
                raise ValueError(f"portfolios (={self.portfolios!r}) must be asset names")
            if len(set(names)) != len(names) or self.benchmark in names:
                raise ValueError(f"portfolios (={names!r}) must be distinct and not the benchmark")
        if self.time_unit is not None and self.time_unit not in _UNITS:
            raise ValueError(f"time_unit (={self.time_unit!r}) must be one of {list(_UNITS)}")
        if self.every is not None:
            if self.returns:
                raise ValueError("every samples prices; with returns, ticks pair by time")
            if _rolling._time_span(self.every) is None:
                raise ValueError(f"every (={self.every!r}) must be a span of time such as '1h'")
        return self


_EPOCH = _dt.date(1970, 1, 1).toordinal()
_DAYS: dict[str, int] = {}  # a date's midnight in nanoseconds, for the dates seen
# the start of a minute in nanoseconds, by its text "YYYY-MM-DDTHH:MM:", for the
# times "YYYY-MM-DDTHH:MM:SSZ" seen: a time of a minute seen before is read from
# its two digits of seconds alone
_MINUTES: dict[str, int] = {}
_NS_MIN, _NS_MAX = -(2**63) + 1, 2**63 - 1  # (the minimum is NaT)


def _iso_ns(value: str) -> int:
    """ISO 8601 text as int64 nanoseconds (UTC): integer arithmetic on the
    fields, each checked (a date as the calendar has it, hours < 24, minutes
    and seconds < 60, offsets up to 23:59)."""
    if len(value) == 20 and value[19] == "Z":
        start = _MINUTES.get(value[:17])
        if start is not None:
            sec = value[17:19]
            if sec.isascii() and sec.isdigit() and sec < "60":
                return start + int(sec) * 1_000_000_000
    m = _ISO.fullmatch(value)
    if m is None:
        raise BadLine(f"time {value!r} is not an ISO 8601 date or time")
    day, clock, zone = m.groups()
    ns = _DAYS.get(day)
    if ns is None:
        try:
            ns = (_dt.date.fromisoformat(day).toordinal() - _EPOCH) * 86_400_000_000_000
        except ValueError:
            raise BadLine(f"time {value!r} is not a valid date") from None
        if len(_DAYS) < 100_000:
            _DAYS[day] = ns
    seconds = 0
    if clock:
        hours, minutes = int(clock[0:2]), int(clock[3:5])
        seconds = int(clock[6:8]) if len(clock) > 5 else 0
        if hours > 23 or minutes > 59 or seconds > 59:
            raise BadLine(f"time {value!r} is not a valid time of day")
        fraction = int(clock[9:].ljust(9, "0")) if len(clock) > 9 else 0
        ns += ((hours * 60 + minutes) * 60 + seconds) * 1_000_000_000 + fraction
    if zone and zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zh > 23 or zm > 59:
            raise BadLine(f"time {value!r} has an invalid offset {zone}")
        ns -= (1 if zone[0] == "+" else -1) * (zh * 60 + zm) * 60_000_000_000
    if not _NS_MIN <= ns <= _NS_MAX:
        raise BadLine(f"time {value!r} is outside the int64 nanosecond range (1677 to 2262)")
    if len(value) == 20 and zone == "Z" and len(_MINUTES) < 100_000:
        start = ns - seconds * 1_000_000_000  # (the whole minute is in range)
        if _NS_MIN <= start and start + 59_999_999_999 <= _NS_MAX:
            _MINUTES[value[:17]] = start
    return ns


def _time_ns(value: Any, unit: str | None) -> int:
    """A tick's time as int64 nanoseconds (UTC)."""
    if isinstance(value, str):
        return _iso_ns(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadLine(f"time {value!r} is neither ISO 8601 text nor a number")
    if unit is None:
        raise BadLine(
            f"time {value!r} is a number: say its unit (time_unit 's', 'ms', 'us' or 'ns'; "
            "on the command line --time-unit)"
        )
    if not math.isfinite(value):
        raise BadLine(f"time {value!r} is not finite")
    ns = value * _UNITS[unit]  # (checked before a float is rounded: round(inf) raises)
    if not _NS_MIN <= ns <= _NS_MAX:
        raise BadLine(f"time {value!r} {unit} is outside the int64 nanosecond range")
    return ns if isinstance(ns, int) else round(ns)


def _iso(ns: int) -> str:
    """Nanoseconds as ISO 8601 UTC text, no finer than needed."""
    t = np.datetime64(ns, "ns")
    for unit, step in (("D", 86_400_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000),
                       ("us", 1_000)):  # fmt: skip
        if ns % step == 0:
            text = str(np.datetime_as_string(t, unit=unit))  # type: ignore[call-overload]
            return text + ("" if unit == "D" else "Z")
    return str(np.datetime_as_string(t, unit="ns")) + "Z"


def _value(name: str, value: Any, returns: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadLine(f"{name}'s value {value!r} is not a number")
    x = float(value)
    if not math.isfinite(x):
        raise BadLine(f"{name}'s value {value!r} is not finite")
    if not returns and x <= 0.0:
        raise BadLine(f"{name}'s price {value!r} is not positive")
    return x


def _csv_number(text: str) -> float | None:
    """A CSV cell: a plain decimal number (no thousands separators, no comma
    decimals: those read two ways), or None for an empty cell."""
    text = text.strip()
    if not text:
        return None
    if not _DECIMAL.fullmatch(text):
        raise BadLine(f"{text!r} is not a plain decimal number")
    return float(text)


class Watcher:
    """The state of ``trackerr watch``: feed it lines (or ticks), read its
    events. See the module's documentation for the rules."""

    _ARRAYS_FROM = 34  # prices in numpy arrays from this many (portfolios and benchmark)

    def __init__(self, config: WatchConfig) -> None:
        self.config = config.checked()
        self.portfolios: tuple[str, ...] | None = config.portfolios
        self.monitor: Monitor | None = None
        self.csv_header: list[str] | None = None
        self.time = -(2**63)  # the latest tick's time
        self.pending = False  # a sample at self.time waits for a later time
        # the last price (or return) of each portfolio, then the benchmark's; and
        # the prices as of the previous sample (NaN: none yet). Python lists for
        # a few portfolios (a line sets one item: numpy's item access costs
        # more), numpy arrays for many (a sample copies them all: a list's floats
        # cost 15 us a thousand to turn into an array)
        self.last: Any = []
        self.anchor: Any = []
        # samples closed but not yet given to the monitor (its values, its time):
        # a feed gives them in one batch at its end
        self._rows: list[Any] = []
        self._at: list[int] = []
        self.lines = 0  # lines consumed (good and bad)
        self.offset = 0  # bytes consumed
        self.bad = 0
        self.samples = 0  # returns fed to the monitor
        self.seq = 0  # events emitted
        self._span = None if config.every is None else _rolling._time_span(config.every)
        self._index: dict[str, int] = {}  # each portfolio's slot, the benchmark's last
        self._bench = -1
        self.extra: dict[str, Any] = {}  # what from_bytes read beside the state
        self._stamp: tuple[Any, int] = (None, 0)  # the last time text read, and its value
        # prices paired at benchmark ticks: the case _json takes inline
        self._plain = not config.returns and config.every is None
        if self.portfolios is not None:
            self._start(self.portfolios)

    # --- setup ---------------------------------------------------------------------------

    def _start(self, portfolios: tuple[str, ...]) -> None:
        c = self.config
        self.portfolios = portfolios
        self._index = {name: j for j, name in enumerate(portfolios)}
        self._index[c.benchmark] = len(portfolios)
        self._bench = len(portfolios)  # the benchmark's slot
        self.last = self._blank()
        self.anchor = self._blank()
        self.monitor = Monitor(
            c.limit, window=c.window, halflife=c.halflife, periods_per_year=c.periods_per_year,
            clear_below=c.clear_below, min_periods=c.min_periods, n_portfolios=len(portfolios),
        )  # fmt: skip

    def _blank(self, values: Any = None) -> Any:
        """A vector of prices (`values`, or NaN) for each portfolio and the benchmark."""
        n = len(self._index)
        if n >= self._ARRAYS_FROM:
            return np.full(n, math.nan) if values is None else np.array(values, dtype=np.float64)
        return [math.nan] * n if values is None else [float(x) for x in values]

    def _names_from(self, fields: Iterable[str]) -> None:
        """Portfolios from the first line's fields when none were named."""
        if self.portfolios is None:
            names = tuple(f for f in fields if f not in ("time", self.config.benchmark))
            if not names:
                raise BadLine("the first line names no portfolio besides the benchmark")
            self._start(names)

    # --- input ---------------------------------------------------------------------------

    def feed(self, line: str | bytes, *, end: int = 0) -> list[dict[str, Any]]:
        """One line of input (JSON or CSV; a blank line is skipped). Returns
        the events it caused. Raises BadLine, the state untouched. `end`: the
        bytes of the line's end that `line` leaves out (1 for a line split at
        its newline), counted in the input's position."""
        self._line(line, end)
        return self._flush()

    def feed_lines(
        self, lines: Iterable[str | bytes], *, end: int = 0, stop_at_bad: bool = False
    ) -> tuple[list[dict[str, Any]], list[tuple[int, BadLine]]]:
        """Many lines, as :meth:`feed` one at a time would take them (the same
        events, the same state), faster: the samples they close go to the
        monitor in one batch at the end. Returns the events and the bad lines
        (line number, BadLine), which were skipped; with `stop_at_bad` the
        lines after the first bad one are left unread (the caller sees how
        many were taken in :attr:`lines`). `end`: as for :meth:`feed`, for
        every line (1 for lines split at their newlines)."""
        bad: list[tuple[int, BadLine]] = []
        one = self._line
        for line in lines:
            try:
                one(line, end)
            except BadLine as exc:
                bad.append((self.lines, exc))
                if stop_at_bad:
                    break
        return self._flush(), bad

    def _line(self, line: str | bytes, end: int) -> None:
        """One line: its ticks taken, the samples it closes queued in _rows.
        Whatever the line holds, it raises nothing but BadLine (before any
        change to the state but the counts of lines and bytes)."""
        self.lines += 1
        try:
            self.offset += (len(line) if isinstance(line, bytes) else len(line.encode())) + end
            if line[:1] == b"{":  # the usual line: the parser skips the whitespace around it
                return self._json(line)
            raw = line.strip()
            if not raw:
                return
            if raw[0] == 123 or raw[0] == "{":  # '{' (bytes index to ints)
                return self._json(raw)
            if isinstance(raw, bytes):
                try:
                    raw = raw.decode()
                except UnicodeDecodeError:
                    raise BadLine("the line is not UTF-8 text") from None
            return self._csv(raw)
        except BadLine:
            self.bad += 1
            raise
        except (ValueError, TypeError, OverflowError, RecursionError) as exc:
            # (none is known to reach here: a net for what the checks above miss)
            self.bad += 1
            raise BadLine(f"unreadable line ({type(exc).__name__}: {exc})") from None

    def _json(self, text: str | bytes) -> None:
        try:
            obj = _loads(text)
        except ValueError as exc:
            raise BadLine(f"malformed JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise BadLine("a line must be a JSON object")
        if "time" not in obj:
            raise BadLine("the line has no 'time'")
        stamp = obj["time"]
        if stamp.__class__ is str and stamp == self._stamp[0]:
            t = self._stamp[1]  # the same time as the line before (several assets a time)
        else:
            t = _iso_ns(stamp) if stamp.__class__ is str else _time_ns(stamp, self.config.time_unit)
            self._stamp = (stamp, t)
        if self._plain and len(obj) == 3 and self.monitor is not None:
            # the common line, one price a line, checked and taken inline
            name, price = obj.get("asset"), obj.get("price")
            slot = self._index.get(name) if name.__class__ is str else None
            if (
                slot is not None
                and price.__class__ is float
                and 0.0 < price < math.inf
                and t >= self.time
            ):
                if t > self.time and self.pending:
                    self._close(self.time)
                self.last[slot] = price
                self.time = t
                if slot == self._bench:
                    self.pending = True
                return
        if "asset" in obj:
            name = obj["asset"]
            key = "return" if self.config.returns else "price"
            if not isinstance(name, str) or key not in obj or len(obj) != 3:
                raise BadLine(f"a one-asset line holds 'time', 'asset' and '{key}' only")
            if self.portfolios is None:
                raise BadLine(_NAME_THEM)
            return self._ticks(t, {name: obj[key]})
        self._names_from(obj)
        return self._ticks(t, {k: v for k, v in obj.items() if k != "time"})

    def _csv(self, text: str) -> None:
        cells = [c.strip() for c in text.split(",")]
        if self.csv_header is None:
            if cells[0] != "time" or len(cells) < 2 or len(set(cells)) != len(cells):
                raise BadLine("a CSV stream starts with a header: time,asset,price or time,A,B,...")
            self.csv_header = cells
            if cells[1:] != ["asset", "return" if self.config.returns else "price"]:
                self._names_from(cells[1:])
            return
        if len(cells) != len(self.csv_header):
            raise BadLine(f"{len(cells)} fields where the header has {len(self.csv_header)}")
        stamp: Any = cells[0]
        if re.fullmatch(r"[+-]?[0-9]+", stamp):
            stamp = int(stamp)
        elif re.fullmatch(r"[+-]?[0-9]*\.[0-9]+", stamp):
            stamp = float(stamp)
        t = _time_ns(stamp, self.config.time_unit)
        if self.csv_header[1] == "asset" and len(self.csv_header) == 3:
            if self.portfolios is None:
                raise BadLine(_NAME_THEM)
            return self._ticks(t, {cells[1]: _csv_number(cells[2])})
        values = {n: _csv_number(v) for n, v in zip(self.csv_header[1:], cells[1:], strict=True)}
        return self._ticks(t, {n: v for n, v in values.items() if v is not None})

    def _ticks(self, t: int, values: dict[str, Any]) -> None:
        """Prices (or returns) at time t: checked in full before the state changes."""
        c = self.config
        if t < self.time:
            raise BadLine(f"time {_iso(t)} goes back (the last was {_iso(self.time)})")
        checked = {}
        for name, v in values.items():
            slot = self._index.get(name)
            if slot is None:
                raise BadLine(f"unknown asset {name!r}")
            checked[slot] = _value(name, v, c.returns)
        if self._span is not None:
            span = self._span
            if self.pending and t // span > self.time // span:
                self._close((self.time // span + 1) * span)
        elif t > self.time and self.pending:
            self._close(self.time)
        for slot, v in checked.items():
            self.last[slot] = v
        self.time = t
        self.pending = self.pending or (
            bool(checked) and (c.returns or self._span is not None or self._bench in checked)
        )

    # --- samples -------------------------------------------------------------------------

    def _close(self, at: int) -> None:
        """The sample at time `at`: queued for the monitor (see _flush)."""
        self.pending = False
        if self.config.returns:
            row = self.last  # the returns of this time (NaN: none)
            self.last = self._blank()
        elif math.isnan(self.anchor[-1]):  # no benchmark price before: no return yet
            self.anchor = self.last.copy()
            return
        else:
            row = self.last.copy()
        self._rows.append(row)
        self._at.append(at)

    def _flush(self) -> list[dict[str, Any]]:
        """The queued samples' returns (each price over the one of the sample
        before, minus 1), to the monitor in one batch; their events."""
        if not self._rows:
            return []
        assert self.monitor is not None and self.portfolios is not None
        rows, at = self._rows, self._at
        self._rows, self._at = [], []
        values = np.array(rows, dtype=np.float64)
        if self.config.returns:
            r = values
        else:
            before = np.empty_like(values)
            before[0] = self.anchor
            before[1:] = values[:-1]
            r = values / before - 1.0
            self.anchor = rows[-1]
        self.samples += len(rows)
        monitor = self.monitor
        first = monitor._ticks
        timed = monitor._timed
        if len(rows) == 1:  # a lone sample: the monitor's quicker one-tick path
            found = monitor.update(
                r[0, :-1], float(r[0, -1]), np.datetime64(at[0], "ns") if timed else None
            )
        else:
            times = np.array(at, dtype="datetime64[ns]") if timed else None
            found = monitor.update(r[:, :-1], r[:, -1], times)
        out = []
        texts: dict[int, str] = {}  # the samples' times as text (many events may share one)
        for e in found:
            self.seq += 1
            # the sample's time: the event's label (a time window), or from its tick count
            when = int(e.tick.astype(np.int64)) if timed else at[int(e.tick) - first - 1]
            text = texts.get(when)
            if text is None:
                text = texts[when] = _iso(when)
            out.append(
                {
                    "seq": self.seq,
                    "event": e.kind,
                    "portfolio": self.portfolios[e.portfolio or 0],
                    "time": text,
                    "tracking_error": e.value,
                    "limit": monitor.limit if e.kind == "breach" else monitor.clear_below,
                }
            )
        return out

    @property
    def _timed(self) -> bool:
        return bool(self.monitor is not None and self.monitor._timed)

    def finish(self) -> list[dict[str, Any]]:
        """The end of the input: the pending sample is taken."""
        if self.pending and self.monitor is not None:
            if self._span is not None:
                self._close((self.time // self._span + 1) * self._span)
            else:
                self._close(self.time)
        return self._flush()

    # --- read-outs -------------------------------------------------------------------------

    def metrics(self) -> dict[str, dict[str, float]]:
        """Per portfolio: tracking_error, active_return, beta, breached."""
        if self.monitor is None or self.portfolios is None:
            return {}
        s = self.monitor.state
        te, ar, beta = (np.atleast_1d(x) for x in (s.tracking_error, s.active_return, s.beta))
        breached = np.atleast_1d(self.monitor.breached)
        return {
            n: {
                "tracking_error": float(te[j]),
                "active_return": float(ar[j]),
                "beta": float(beta[j]),
                "breached": float(breached[j]),
            }
            for j, n in enumerate(self.portfolios)
        }

    # --- checkpoints -----------------------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        config = asdict(self.config)
        config["portfolios"] = list(self.config.portfolios or [])
        return {
            "config": config,
            "portfolios": list(self.portfolios or []),
            "csv_header": self.csv_header,
            "time": self.time,
            "pending": self.pending,
            "last": np.array(self.last, dtype="<f8").tobytes().hex(),
            "anchor": np.array(self.anchor, dtype="<f8").tobytes().hex(),
            "lines": self.lines,
            "offset": self.offset,
            "bad": self.bad,
            "samples": self.samples,
            "seq": self.seq,
            "breached": [] if self.monitor is None else [bool(x) for x in self.monitor._breached],
            "ticks": 0 if self.monitor is None else self.monitor._ticks,
        }

    def to_bytes(self, extra: dict[str, Any] | None = None) -> bytes:
        """The whole state as one validated record (with `extra`, a JSON-able
        dict the caller keeps with it: ``trackerr watch`` keeps its output's
        position there)."""
        assert not self._rows, "every feed gives its samples to the monitor before it returns"
        meta = self._meta()
        meta["extra"] = extra or {}
        head = json.dumps(meta, sort_keys=True).encode()
        state = b"" if self.monitor is None else self.monitor.state.to_bytes()
        body = _MAGIC + struct.pack("<QQ", len(head), len(state)) + head + state
        return body + struct.pack("<I", zlib.crc32(body))

    @classmethod
    def from_bytes(cls, data: bytes, config: WatchConfig | None = None) -> Watcher:
        """A Watcher from :meth:`to_bytes`. With `config`, it must be the one
        the record was written with (ValueError naming what differs). Raises
        ValueError on truncated, corrupted or foreign bytes."""
        data = bytes(data)
        if len(data) < len(_MAGIC) + 20 or not data.startswith(_MAGIC):
            raise ValueError("not a trackerr watch state (no header)")
        body, crc = data[:-4], struct.unpack("<I", data[-4:])[0]
        if zlib.crc32(body) != crc:
            raise ValueError("the trackerr watch state is corrupted (its checksum does not match)")
        n_head, n_state = struct.unpack("<QQ", body[len(_MAGIC) : len(_MAGIC) + 16])
        start = len(_MAGIC) + 16
        if start + n_head + n_state != len(body):
            raise ValueError("the trackerr watch state is truncated or has trailing bytes")
        meta = json.loads(body[start : start + n_head])
        saved = dict(meta["config"])
        saved["portfolios"] = tuple(saved["portfolios"]) or None
        written = WatchConfig(**saved)
        if config is not None:
            diff = [k for k, v in asdict(config.checked()).items() if v != asdict(written)[k]]
            if diff:
                raise ValueError(
                    "the state was written for another configuration ("
                    + ", ".join(
                        f"{k}: {asdict(written)[k]!r}, now {getattr(config, k)!r}" for k in diff
                    )
                    + ")"
                )
        w = cls(written)
        if meta["portfolios"] and w.monitor is None:
            w._start(tuple(meta["portfolios"]))
        w.csv_header = meta["csv_header"]
        w.time, w.pending = meta["time"], meta["pending"]
        w.last = w._blank(np.frombuffer(bytes.fromhex(meta["last"]), dtype="<f8"))
        w.anchor = w._blank(np.frombuffer(bytes.fromhex(meta["anchor"]), dtype="<f8"))
        w.lines, w.offset, w.bad = meta["lines"], meta["offset"], meta["bad"]
        w.samples, w.seq = meta["samples"], meta["seq"]
        if w.monitor is not None:
            state = body[start + n_head :]
            w.monitor.state = type(w.monitor.state).from_bytes(state)
            w.monitor._breached[:] = meta["breached"]
            w.monitor._ticks = meta["ticks"]
        w.extra = meta.get("extra", {})
        return w
