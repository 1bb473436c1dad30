"""``trackerr watch``: the command-line service around :class:`trackerr.watch.Watcher`.

    trackerr watch [FILE] --benchmark ETH [--portfolio STETH ...] --limit 5% --window 30
        [--state watch.state] [--events events.jsonl] [--strict]

Reads lines (JSON or CSV, see trackerr.watch) from FILE or stdin, writes
breach and recovery events as JSON lines on stdout (and appends them to
--events), reports bad lines on stderr with their number, and with --state
checkpoints everything every --checkpoint-every lines, at the end of the
input and on SIGTERM or SIGINT: written to a temporary file, flushed to disk
and renamed over the old one, so a crash leaves the last whole checkpoint. A
restart with the same arguments restores it and goes on from the line after
the last one it holds: a FILE is reopened at that byte, stdin has the lines
it already holds skipped (replay the same input). The --events file is cut
back to its length at the checkpoint, so across crashes it holds every event
exactly once; stdout may repeat the events since the last checkpoint (each
has a sequence number, "seq", to drop repeats by).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import select
import signal
import stat
import sys
import threading
import time
import zlib
from typing import IO, Any

from ._reader import _Fail
from .watch import WatchConfig, Watcher

# the most read at once: about 100 lines, whose samples go to the monitor in one
# batch and whose events are written together, after about 0.3 ms (16 KiB: 2%
# faster, and twice the wait; 4 KiB: 15% slower)
READ_SIZE = 1 << 13


class _Stop(Exception):
    """SIGTERM or SIGINT while waiting for input."""


_PARSER: list[argparse.ArgumentParser] = []  # the watch parser, for --config's options


def _with_config(args: argparse.Namespace) -> argparse.Namespace:
    """args with the options of --config that the command line leaves at
    their defaults, each checked as the command line checks it; then the
    required ones."""
    if args.config:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # Python 3.10
            try:
                import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
            except ImportError:
                raise _Fail(
                    '--config needs tomli on Python 3.10: pip install "trackerr[watch]"'
                ) from None
        try:
            with open(args.config, "rb") as f:
                table = tomllib.load(f)
        except OSError as exc:
            raise _Fail(f"cannot read --config {args.config}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise _Fail(f"--config {args.config} is not valid TOML: {exc}") from None
        parser = _PARSER[0]
        actions = {
            ("portfolios" if a.dest == "portfolio" else a.dest): a
            for a in parser._actions
            if a.dest not in ("help", "config")
        }
        unknown = sorted(set(table) - set(actions))
        if unknown:
            raise _Fail(
                f"--config {args.config}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(actions))}"
            )
        for key, value in table.items():
            action = actions[key]
            if getattr(args, action.dest) != parser.get_default(action.dest):
                continue  # given on the command line
            where = f"--config {args.config}: {key}"
            if action.const is True:  # a flag
                if not isinstance(value, bool):
                    raise _Fail(f"{where} must be true or false, not {value!r}")
            elif action.dest == "portfolio":
                if not (
                    isinstance(value, list) and value and all(isinstance(v, str) for v in value)
                ):
                    raise _Fail(f"{where} must be a list of asset names, not {value!r}")
            elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise _Fail(f"{where} must be text or a number, not {value!r}")
            elif callable(action.type):
                try:
                    value = action.type(str(value))
                except (argparse.ArgumentTypeError, ValueError) as exc:
                    raise _Fail(f"{where}: {exc}") from None
            elif not isinstance(value, str) and action.dest not in ("window",):
                raise _Fail(f"{where} must be text, not {value!r}")
            else:
                value = str(value)
            setattr(args, action.dest, value)
    for name in ("benchmark", "limit"):
        if getattr(args, name) is None:
            raise _Fail(f"--{name} is required (on the command line or in --config)")
    return args


def _watch_parser(sub: Any) -> None:
    from .cli import _fraction, _int_from

    w = sub.add_parser(
        "watch",
        help="watch live prices: tracking-error breach alerts as JSON lines, restartable",
        description=(
            "Reads price (or return) ticks as JSON lines or CSV rows from FILE or stdin, keeps "
            "each portfolio's tracking error against the benchmark over a window, and writes "
            "breach and recovery events as JSON lines. Prices become returns at each benchmark "
            "tick (every portfolio's last price as of it), or at the ends of --every intervals."
        ),
    )
    w.add_argument("file", metavar="FILE", nargs="?", help="the input (default: stdin)")
    w.add_argument(
        "--config", metavar="FILE.toml",
        help="options from a TOML file, one key per option (benchmark = \"ETH\", portfolios = "
        "[\"STETH\"], limit = \"5%%\", window = \"30D\", state = \"w.state\", ...); the command "
        "line overrides them",
    )  # fmt: skip
    w.add_argument("--benchmark", metavar="ASSET", help="the benchmark asset (required)")
    w.add_argument(
        "--portfolio",
        action="append",
        metavar="ASSET",
        help="a portfolio (repeat for several; default: every other field of the first line, "
        "for input with one field per asset)",
    )
    w.add_argument(
        "--limit", type=_fraction, metavar="X",
        help="tracking-error limit (annualized with --periods-per-year), as 0.03 or 3%% (required)",
    )  # fmt: skip
    w.add_argument(
        "--clear-below", type=_fraction, metavar="X",
        help="a breach ends when the tracking error falls below X (default: --limit)",
    )  # fmt: skip
    w.add_argument(
        "--window", metavar="N|SPAN",
        help="returns per window (a count), or a span of time such as 30D or 12h "
        "(default: every return since the start)",
    )  # fmt: skip
    w.add_argument(
        "--halflife", type=float, metavar="H", help="exponential weights of this half-life"
    )
    w.add_argument(
        "--periods-per-year", metavar="NAME|N",
        help="annualize: daily, crypto-daily, crypto-hourly, ... or a number",
    )  # fmt: skip
    w.add_argument("--min-periods", type=_int_from(1), metavar="N")
    w.add_argument("--returns", action="store_true", help="the values are returns, not prices")
    w.add_argument(
        "--every", metavar="SPAN", help="sample prices at the ends of intervals (e.g. 1h)"
    )
    w.add_argument(
        "--time-unit", choices=("s", "ms", "us", "ns"),
        help="the unit of numeric times (epoch); ISO 8601 times need none",
    )  # fmt: skip
    w.add_argument(
        "--follow", action="store_true",
        help="keep reading FILE as it grows, like tail -F: waits at its end, and goes on with "
        "the new file when it is rotated (renamed or truncated); stop with SIGTERM or SIGINT",
    )  # fmt: skip
    w.add_argument(
        "--poll", type=float, default=0.1, metavar="SECONDS",
        help="with --follow, how often to look for new lines at the end (default 0.1)",
    )  # fmt: skip
    w.add_argument("--state", metavar="FILE", help="checkpoint file: restored if it exists")
    w.add_argument(
        "--checkpoint-every", type=_int_from(1), default=10_000, metavar="N",
        help="lines between checkpoints (default 10000)",
    )  # fmt: skip
    w.add_argument(
        "--checkpoint-seconds", type=float, metavar="S",
        help="also checkpoint when S seconds have passed since the last one and lines came",
    )  # fmt: skip
    w.add_argument("--events", metavar="FILE", help="also append the events to this file")
    w.add_argument("--strict", action="store_true", help="a bad line is fatal (exit 2)")
    _PARSER[:] = [w]
    w.add_argument(
        "--webhook", metavar="URL",
        help="POST each event as JSON to this http(s) URL, from a queue that never holds up the "
        "input: failed posts are retried (pauses doubling from 0.5 s to 30 s), in order",
    )  # fmt: skip
    w.add_argument(
        "--webhook-queue", type=_int_from(1), default=10_000, metavar="N",
        help="events held for the webhook at most (default 10000); beyond, new ones are "
        "dropped and counted",
    )  # fmt: skip
    w.add_argument(
        "--webhook-timeout", type=float, default=5.0, metavar="SECONDS",
        help="how long a post may take (default 5)",
    )  # fmt: skip
    w.add_argument(
        "--webhook-drain", type=float, default=5.0, metavar="SECONDS",
        help="at the end, how long to go on posting what is queued (default 5); what is left "
        "is kept in --state and posted after a restart",
    )  # fmt: skip
    w.add_argument(
        "--metrics-port", type=int, metavar="N",
        help="serve Prometheus metrics on this port (0: any free one; the address goes to "
        "stderr); needs prometheus_client (pip install \"trackerr[watch]\")",
    )  # fmt: skip
    w.add_argument(
        "--metrics-host", default="127.0.0.1", metavar="ADDR",
        help="the address to serve metrics on (default 127.0.0.1; 0.0.0.0 for every interface)",
    )  # fmt: skip


def _replay_parser(sub: Any) -> None:
    from . import datasets

    r = sub.add_parser(
        "replay",
        help="print a shipped dataset as a live stream of JSON lines (for trackerr watch)",
        description=(
            "Prints a dataset shipped with trackerr as JSON lines, one line per date with a "
            "field per asset (or, with --long, one price a line), optionally paced: "
            "trackerr replay steth_eth --rate 20 | trackerr watch --benchmark ETH ..."
        ),
    )
    r.add_argument("dataset", choices=datasets.available(), help="a shipped dataset")
    r.add_argument(
        "--rate", type=float, metavar="N", help="lines per second (default: as fast as read)"
    )
    r.add_argument("--long", action="store_true", help="one price a line")


def _replay(args: argparse.Namespace) -> int:
    import math

    from . import datasets

    if args.rate is not None and not (args.rate > 0 and math.isfinite(args.rate)):
        raise _Fail(f"--rate must be a positive number of lines per second, not {args.rate}")
    d = datasets.load(args.dataset)
    pause = 0.0 if args.rate is None else 1.0 / args.rate
    for day, row in zip(d.dates, d.prices, strict=True):
        prices = {c: float(v) for c, v in zip(d.columns, row, strict=True) if v == v}
        if args.long:
            lines = [
                json.dumps({"time": str(day), "asset": c, "price": v}) for c, v in prices.items()
            ]
        else:
            lines = [json.dumps({"time": str(day), **prices})]
        for line in lines:
            sys.stdout.write(line + "\n")
            if pause:
                sys.stdout.flush()
                time.sleep(pause)
    sys.stdout.flush()
    return 0


def _config(args: argparse.Namespace) -> WatchConfig:
    from .cli import _periods

    text: str | None = args.window
    window: int | str | None = int(text) if text is not None and text.isdigit() else text
    try:
        return WatchConfig(
            benchmark=args.benchmark,
            portfolios=tuple(args.portfolio) if args.portfolio else None,
            limit=args.limit,
            clear_below=args.clear_below,
            window=window,
            halflife=args.halflife,
            periods_per_year=_periods(args.periods_per_year),
            min_periods=args.min_periods,
            returns=args.returns,
            every=args.every,
            time_unit=args.time_unit,
        ).checked()
    except ValueError as exc:
        raise _Fail(str(exc)) from None


class _Webhook:
    """Posts each event (JSON) to a URL from a thread of its own, in order.

    The tick loop only appends to a bounded queue (never waits). A failed
    post (an error, a timeout, a status other than 2xx) is retried after a
    pause that doubles from 0.5 s up to 30 s, and the events behind it wait:
    order is kept. When the queue is full a new event is dropped and counted.
    What is still queued at a checkpoint is saved in it, and queued again on
    restart."""

    def __init__(self, url: str, capacity: int, timeout: float, pending: list[Any]) -> None:
        self.url, self.capacity, self.timeout = url, capacity, timeout
        self.queue: collections.deque[dict[str, Any]] = collections.deque(pending)
        self.cond = threading.Condition()
        self.sent = self.dropped = self.failures = 0
        self.deadline: float | None = None  # set by close: give up after it
        self.thread = threading.Thread(target=self._run, name="trackerr-webhook", daemon=True)
        self.thread.start()

    def put(self, event: dict[str, Any]) -> None:
        with self.cond:
            if len(self.queue) >= self.capacity:
                self.dropped += 1
                return
            self.queue.append(event)
            self.cond.notify()

    def pending(self) -> list[dict[str, Any]]:
        with self.cond:
            return list(self.queue)

    def _post(self, event: dict[str, Any]) -> bool:
        import urllib.request

        body = json.dumps(event).encode()
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return 200 <= int(response.status) < 300
        except (OSError, ValueError):  # URLError, HTTPError, timeouts, refused connections
            return False

    def _run(self) -> None:
        pause = 0.5
        while True:
            with self.cond:
                while not self.queue and self.deadline is None:
                    self.cond.wait()
                if not self.queue or (
                    self.deadline is not None and time.monotonic() > self.deadline
                ):
                    return
                event = self.queue[0]
            if self._post(event):
                with self.cond:
                    self.queue.popleft()
                    self.sent += 1
                pause = 0.5
                continue
            with self.cond:
                self.failures += 1
                if self.deadline is not None:
                    pause = min(pause, max(0.0, self.deadline - time.monotonic()))
                self.cond.wait(pause)
            pause = min(2 * pause, 30.0)

    def close(self, drain: float) -> None:
        """Go on posting for up to `drain` seconds, then stop."""
        with self.cond:
            self.deadline = time.monotonic() + drain
            self.cond.notify()
        self.thread.join(drain + self.timeout + 1.0)


class _Metrics:
    """A Prometheus collector reading the watcher when scraped (nothing is
    done per tick), under the lock the tick loop holds while it feeds a line."""

    def __init__(self, get: Any, lock: threading.Lock) -> None:
        self.get, self.lock = get, lock

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        with self.lock:
            w = self.get()
            per = w.metrics()
            counts = (w.lines, w.bad, w.samples, w.seq)
            last = w.time if w.lines and w.time > -(2**63) else None
        gauges = {
            "tracking_error": "tracking error of each portfolio (annualized as configured)",
            "active_return": "mean active return of each portfolio (annualized as configured)",
            "beta": "beta of each portfolio to the benchmark",
            "breached": "1 while the portfolio is in breach of the limit, else 0",
        }
        for key, text in gauges.items():
            g = GaugeMetricFamily(f"trackerr_{key}", text, labels=["portfolio"])
            for name, values in per.items():
                g.add_metric([name], values[key])
            yield g
        for key, value, text in zip(
            ("lines", "bad_lines", "samples", "events"),
            counts,
            ("input lines read", "bad input lines skipped", "returns fed to the monitor",
             "breach and recovery events"),
            strict=True,
        ):  # fmt: skip
            yield CounterMetricFamily(f"trackerr_{key}", text, value=value)
        if last is not None:
            yield GaugeMetricFamily(
                "trackerr_last_tick_timestamp_seconds", "time of the latest tick", value=last / 1e9
            )
            yield GaugeMetricFamily(
                "trackerr_lag_seconds",
                "how far the latest tick's time is behind this machine's clock",
                value=time.time() - last / 1e9,
            )


def _serve(args: argparse.Namespace, get: Any, lock: threading.Lock) -> Any:
    try:
        from prometheus_client import CollectorRegistry, start_http_server
    except ImportError:
        raise _Fail(
            '--metrics-port needs prometheus_client: pip install "trackerr[watch]"'
        ) from None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Metrics(get, lock))
    try:
        server, _ = start_http_server(args.metrics_port, addr=args.metrics_host, registry=registry)
    except OSError as exc:
        raise _Fail(
            f"cannot serve metrics on {args.metrics_host}:{args.metrics_port}: {exc.strerror}"
        ) from None
    host, port = (str(x) for x in server.server_address[:2])
    print(f"trackerr watch: metrics on http://{host}:{port}/metrics", file=sys.stderr, flush=True)
    return server


def _head(fd: int, upto: int) -> int:
    """A fingerprint of the first `upto` bytes of a file (the bytes read): the
    CRC-32 of its first 256 bytes and of the 256 before `upto`."""
    n = min(upto, 256)
    return zlib.crc32(os.pread(fd, n, 0) + os.pread(fd, n, upto - n))


def _skip_lines(fd: int, count: int, state: str) -> bytes:
    """Reads past the first `count` lines of a stream (those a checkpoint
    holds; the last may be unended); returns the bytes read after them."""
    left = count
    unended = False  # bytes after the last newline
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            if left == 1 and unended:  # an unended last line counts as a line at the end
                return b""
            raise _Fail(f"--state {state} holds {count} lines; the input has fewer")
        ends = chunk.count(b"\n")
        if ends < left:
            left -= ends
            unended = not chunk.endswith(b"\n")
            continue
        at = -1
        for _ in range(left):
            at = chunk.index(b"\n", at + 1)
        return chunk[at + 1 :]


def _save(path: str, data: bytes) -> None:
    """Write, flush to disk, rename over the old file, and flush the folder."""
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _watch(args: argparse.Namespace) -> int:
    args = _with_config(args)
    config = _config(args)
    try:
        watcher = Watcher(config)  # (the Monitor's options are checked here)
    except (ValueError, TypeError) as exc:
        raise _Fail(str(exc)) from None
    if args.state and os.path.exists(args.state):
        with open(args.state, "rb") as f:
            data = f.read()
        try:
            watcher = Watcher.from_bytes(data, config)
        except (ValueError, KeyError, TypeError) as exc:
            raise _Fail(f"--state {args.state}: {exc}") from None
    events_out: IO[str] | None = None
    if args.events:
        events_out = open(args.events, "a+", encoding="utf-8")  # closed below
        saved = watcher.extra.get("events_bytes")
        if saved is not None:
            events_out.truncate(int(saved))  # what came after the checkpoint comes again
        events_out.seek(0, os.SEEK_END)
    if args.follow and not args.file:
        raise _Fail("--follow needs a FILE to follow")
    if not (args.poll > 0 and args.poll < 3600):
        raise _Fail(f"--poll must be a positive number of seconds, not {args.poll}")
    if args.checkpoint_seconds is not None and not 0 < args.checkpoint_seconds < 86_400:
        seconds = args.checkpoint_seconds
        raise _Fail(f"--checkpoint-seconds must be a positive number of seconds, not {seconds}")
    # the input, read with raw reads (what has arrived, up to READ_SIZE): FILE,
    # or stdin; a FILE that is not a regular file (a pipe, <(...)) is read as
    # stdin is. Where the current file starts in the watcher's count of bytes (a
    # rotation starts a new file)
    source: Any = None  # the open FILE (a raw FileIO), closed below
    fd = 0
    base = 0
    first = b""  # bytes read past the lines skipped on restart, not taken yet
    regular = False
    if args.file:
        try:
            if args.follow and not stat.S_ISREG(os.stat(args.file).st_mode):
                # (checked first: opening a named pipe waits for a writer)
                raise _Fail(f"--follow needs a regular file; {args.file} is a pipe or a device")
            source = open(args.file, "rb", buffering=0)
        except OSError as exc:
            raise _Fail(f"cannot read {args.file}: {exc.strerror}") from None
        fd = source.fileno()
        st = os.fstat(fd)
        regular = stat.S_ISREG(st.st_mode)
    if regular:
        at = int(watcher.extra.get("file_offset", watcher.offset))
        # the file read before: the same inode, at least as long, and the same
        # bytes at its start and before `at` (a file truncated and written again
        # keeps its inode)
        same = at <= st.st_size and watcher.extra.get("head") in (None, _head(fd, at))
        if args.follow and not (same and watcher.extra.get("inode") in (None, st.st_ino)):
            at = 0  # rotated since the checkpoint: the new file from its start
        elif at > st.st_size:
            raise _Fail(
                f"--state {args.state} has read {at} bytes of {args.file}, "
                f"which holds {st.st_size}: not the file it was reading"
            )
        elif not same:
            raise _Fail(
                f"--state {args.state} was reading another file: the bytes of {args.file} "
                "differ from those it read"
            )
        base = watcher.offset - at
        source.seek(at)
    elif watcher.lines:
        first = _skip_lines(fd, watcher.lines, args.state)

    lock = threading.Lock()
    server = None
    if args.metrics_port is not None:
        if not 0 <= args.metrics_port <= 65535:
            raise _Fail(f"--metrics-port must be 0 to 65535, not {args.metrics_port}")
        server = _serve(args, lambda: watcher, lock)
    guard: Any = lock if server is not None else contextlib.nullcontext()
    flags = {"stop": False, "reading": False}

    def on_signal(signum: int, frame: Any) -> None:
        flags["stop"] = True
        if flags["reading"]:
            raise _Stop

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}

    hook = None
    if args.webhook:
        from urllib.parse import urlsplit

        if (
            urlsplit(args.webhook).scheme not in ("http", "https")
            or not urlsplit(args.webhook).netloc
        ):
            raise _Fail(f"--webhook must be an http:// or https:// URL, not {args.webhook!r}")
        for name in ("webhook_timeout", "webhook_drain"):
            value = getattr(args, name)
            if not (value >= 0 and value < 86_400):
                raise _Fail(f"--{name.replace('_', '-')} must be a number of seconds, not {value}")
        hook = _Webhook(
            args.webhook, args.webhook_queue, args.webhook_timeout,
            list(watcher.extra.get("webhook_pending", [])),
        )  # fmt: skip

    def emit(events: list[dict[str, Any]]) -> None:
        if not events:
            return
        text = "".join([json.dumps(e) + "\n" for e in events])  # one write for them all
        sys.stdout.write(text)
        if events_out is not None:
            events_out.write(text)
        if hook is not None:
            for e in events:
                hook.put(e)
        sys.stdout.flush()

    def checkpoint() -> None:
        if not args.state:
            return
        extra: dict[str, Any] = {}
        if hook is not None:
            extra["webhook_pending"] = hook.pending()
        if regular:
            extra["file_offset"] = watcher.offset - base
            extra["inode"] = os.fstat(fd).st_ino
            extra["head"] = _head(fd, extra["file_offset"])
        if events_out is not None:
            events_out.flush()
            os.fsync(events_out.fileno())
            extra["events_bytes"] = events_out.tell()
        _save(args.state, watcher.to_bytes(extra))

    ended = False
    every = args.checkpoint_every
    saved_at = [time.monotonic(), watcher.lines]  # the last checkpoint: when, after which line

    def due() -> None:
        """A checkpoint after every `every` lines, and --checkpoint-seconds after
        the last; none while no line has come since the last."""
        if watcher.lines != saved_at[1] and (
            watcher.lines % every == 0
            or (
                args.checkpoint_seconds is not None
                and time.monotonic() - saved_at[0] >= args.checkpoint_seconds
            )
        ):
            checkpoint()
            saved_at[:] = [time.monotonic(), watcher.lines]

    def take(lines: list[bytes], end: int) -> None:
        """Lines, in slices that end at each checkpoint; a slice's samples go to
        the monitor in one batch, and its events out before the next slice."""
        i = 0
        while i < len(lines) and not flags["stop"]:
            n = min(len(lines) - i, every - watcher.lines % every)
            events, bad = watcher.feed_lines(lines[i : i + n], end=end, stop_at_bad=args.strict)
            emit(events)
            for number, exc in bad:
                if args.strict:
                    raise _Fail(f"line {number}: {exc}")
                print(f"trackerr watch: line {number}: {exc} (skipped)", file=sys.stderr)
            i += n
            due()

    # a stream can wait in select() for its next bytes, so that --checkpoint-seconds
    # also runs while it is quiet (POSIX; elsewhere at the next line)
    timed = args.checkpoint_seconds is not None and not regular and os.name == "posix"

    def read_some() -> bytes | None:
        """What has arrived (waits for a first byte); None: a timed checkpoint is due."""
        if timed and watcher.lines != saved_at[1]:
            left = saved_at[0] + args.checkpoint_seconds - time.monotonic()
            if not select.select([fd], [], [], max(left, 0.0))[0]:
                return None
        return os.read(fd, READ_SIZE)

    rest: list[bytes] = []  # the pieces of a line not yet ended (a list: linear in its length)
    try:
        while not flags["stop"]:
            if first:
                chunk: bytes | None = first
                first = b""
            else:
                flags["reading"] = True
                try:
                    if flags["stop"]:
                        break
                    chunk = read_some()
                except _Stop:
                    break
                finally:
                    flags["reading"] = False
            if chunk is None:
                with guard:
                    due()
                continue
            if not chunk and args.follow:
                # at the end: the file may grow, or be rotated (a new file at the path)
                try:
                    st = os.stat(args.file)
                    rotated = st.st_ino != os.fstat(fd).st_ino or st.st_size < source.tell()
                except FileNotFoundError:  # between a rename and the new file
                    rotated = False
                if not rotated:
                    with guard:
                        due()  # (--checkpoint-seconds while the input is quiet)
                    flags["reading"] = True
                    try:
                        if not flags["stop"]:
                            time.sleep(args.poll)
                    except _Stop:
                        break
                    finally:
                        flags["reading"] = False
                    continue
                lines = [b"".join(rest)] if rest else []  # the old file's last line, unended
                rest = []
                with guard:
                    take(lines, 0)
                source.close()
                source = open(args.file, "rb", buffering=0)
                fd = source.fileno()
                base = watcher.offset
                continue
            if not chunk:
                ended = True
                lines = [b"".join(rest)] if rest else []
            elif b"\n" not in chunk:
                rest.append(chunk)
                continue
            else:
                lines = chunk.split(b"\n")
                if rest:
                    lines[0] = b"".join(rest) + lines[0]
                last = lines.pop()
                rest = [last] if last else []
            # the lines of a chunk run under the metrics lock (a scrape waits for them)
            with guard:
                take(lines, 1 if chunk else 0)
            if ended:
                break
        if ended:
            with guard:
                events = watcher.finish()
            emit(events)
        if hook is not None:
            hook.close(args.webhook_drain)
        checkpoint()
    finally:
        if server is not None:
            server.shutdown()
        for s, handler in old.items():
            signal.signal(s, handler)
        if events_out is not None:
            events_out.close()
        if source is not None:
            source.close()
    if watcher.bad:
        print(f"trackerr watch: {watcher.bad} bad line(s) skipped", file=sys.stderr)
    if hook is not None:
        left = len(hook.pending())
        print(
            f"trackerr watch: webhook: {hook.sent} event(s) posted, {hook.dropped} dropped "
            f"(queue full), {left} not posted yet"
            + (" (kept in --state)" if left and args.state else ""),
            file=sys.stderr,
        )
    return 0
