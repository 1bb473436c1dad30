"""Throughput and per-tick latency of ``trackerr watch`` (issue 15).

A stream of one-price JSON lines (the benchmark and the portfolios ticking
at random, times advancing 0-2 s a line) for 10 and for 1,000 portfolios,
watched over a window of 50 returns with a limit that gives about one event
per 20 samples (found by bisection on the stream; clear_below 0.9 x limit):

* throughput of the command: the whole ``trackerr watch`` process reading
  the stream from stdin (start-up included, and measured alone: ``--help``),
  pinned to one core and not, medians of interleaved rounds;
* latency from input read to events written, in the command's own loop
  (8 KiB reads, ``Watcher.feed_lines``, the events as JSON lines to a
  file), at full speed: every line of a read is done when the events of its
  read are written, so a line's latency is its read's; p50 / p99 / p99.9 /
  max over lines;
* latency through the pipes: a writer process feeds ``trackerr watch`` at a
  fixed rate (a burst every millisecond) and this process stamps the event
  lines as they arrive on the command's stdout; an event's latency runs from
  the write of the line that closed its sample (the line after the benchmark
  tick: the stream's times step 1 s a line) to its arrival. The same pipes
  through a minimal Python filter (parse each line, an event for one benchmark
  tick in 20) give the machine's own share: scheduling stalls of a few ms
  that hold up any process on a shared 2-vCPU VM;
* ``Watcher.feed`` (the embedding API, one line and its events at a time):
  per-line latency, and the JSON parser's share (the same loop with the
  standard json parser in place of orjson).

    python bench/watch_throughput.py                  # 1e6 lines (10 portfolios), 2e5 (1,000)
    TRACKERR_BENCH_QUICK=1 python bench/watch_throughput.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import trackerr.watch as tw
from trackerr._cli_watch import READ_SIZE
from trackerr.watch import WatchConfig, Watcher

QUICK = os.environ.get("TRACKERR_BENCH_QUICK", "") not in ("", "0")
ROUNDS = 3
WINDOW = 50
START = np.datetime64("2024-01-01T00:00:00", "s")


def stream(path: Path, rows: int, portfolios: int, seed: int = 0, step: int = 0) -> None:
    """Times advance 0-2 s a line (`step`: exactly that many seconds)."""
    rng = np.random.default_rng(seed)
    names = ["B"] + [f"P{j}" for j in range(portfolios)]
    which = rng.integers(0, len(names), rows)
    which[rng.random(rows) < 0.1] = 0  # the benchmark: about a tenth of the lines at least
    steps = np.exp(rng.normal(0, 0.001, rows))
    price = np.full(len(names), 100.0)
    t = np.cumsum(rng.integers(0, 3, rows)) if not step else np.arange(1, rows + 1) * step
    with open(path, "w") as f:
        for i in range(rows):
            k = int(which[i])
            price[k] *= steps[i]
            stamp = str(START + int(t[i])) + "Z"
            f.write(json.dumps({"time": stamp, "asset": names[k], "price": float(price[k])}))
            f.write("\n")


def options(portfolios: int, limit: float) -> list[str]:
    names = [x for j in range(portfolios) for x in ("--portfolio", f"P{j}")]
    return ["--benchmark", "B", *names, "--limit", repr(limit), "--clear-below",
            repr(limit * 0.9), "--window", str(WINDOW)]  # fmt: skip


def config(portfolios: int, limit: float) -> WatchConfig:
    return WatchConfig("B", tuple(f"P{j}" for j in range(portfolios)), limit=limit,
                       clear_below=limit * 0.9, window=WINDOW)  # fmt: skip


def calibrate(path: Path, portfolios: int, per_sample: float = 0.05) -> float:
    """A limit that gives about `per_sample` events a sample (all portfolios
    together) on the stream's first 100,000 lines: a bisection (in log) between
    the median tracking error seen along them and the largest."""
    lines = path.read_bytes().splitlines()[:100_000]
    w = Watcher(config(portfolios, 1e9))
    assert w.monitor is not None
    seen = []
    for i in range(0, len(lines), 500):
        w.feed_lines(lines[i : i + 500])
        seen.append(np.asarray(w.monitor.state.tracking_error, dtype=float).ravel())
    te = np.concatenate(seen)
    te = te[np.isfinite(te)]
    low, high = np.log(np.median(te)), np.log(te.max())
    for _ in range(12):
        w = Watcher(config(portfolios, float(np.exp((low + high) / 2))))
        events, _ = w.feed_lines(lines)
        if len(events) > per_sample * w.samples:
            low = (low + high) / 2
        else:
            high = (low + high) / 2
    return float(np.exp(high))


def one_core() -> None:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def command(path: Path, portfolios: int, limit: float, pinned: bool) -> float:
    """Seconds for the command on the stream (`pinned`: to one core)."""
    cmd = [sys.executable, "-m", "trackerr", "watch", *options(portfolios, limit)]
    with open(path, "rb") as f:
        start = time.perf_counter()
        subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, check=True,
                       preexec_fn=one_core if pinned else None)  # fmt: skip
        return time.perf_counter() - start


def loop_latencies(path: Path, portfolios: int, limit: float) -> np.ndarray:
    """The command's loop, in process: per line, ns from its read to its
    read's events written."""
    w = Watcher(config(portfolios, limit))
    out = []
    clock = time.perf_counter_ns
    rest = b""
    with open(path, "rb") as source, open(os.devnull, "w") as sink:
        while True:
            t0 = clock()
            chunk = source.read1(READ_SIZE)
            if not chunk:
                break
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            events, _ = w.feed_lines(lines)
            for e in events:
                sink.write(json.dumps(e) + "\n")
            sink.flush()
            out.append(np.full(len(lines), clock() - t0, dtype=np.int64))
    return np.concatenate(out)


def feed_latencies(path: Path, portfolios: int, limit: float) -> np.ndarray:
    w = Watcher(config(portfolios, limit))
    lines = path.read_bytes().splitlines(keepends=True)
    out = np.empty(len(lines), dtype=np.int64)
    clock = time.perf_counter_ns
    for i, line in enumerate(lines):
        t0 = clock()
        w.feed(line)
        out[i] = clock() - t0
    return out


def writer(path: str, rate: str, warm: str, out: str) -> None:
    """(A process of its own.) The stream to stdout: `warm` lines at once,
    a pause, then the rest at `rate` lines a second, a burst a millisecond;
    each line's write time (perf_counter_ns: CLOCK_MONOTONIC, one clock for
    every process) saved to `out`."""
    lines = Path(path).read_bytes().splitlines(keepends=True)
    first, per_ms = int(warm), max(1, round(float(rate) / 1000))
    os.write(1, b"".join(lines[:first]))
    time.sleep(2.0)  # start-up and the warm lines
    written = np.zeros(len(lines), dtype=np.int64)
    clock = time.perf_counter_ns
    start = clock()
    for i in range(first, len(lines), per_ms):
        due = start + (i - first) // per_ms * 1_000_000
        time.sleep(max(0, due - clock()) / 1e9)
        written[i : i + per_ms] = clock()
        os.write(1, b"".join(lines[i : i + per_ms]))
    np.save(out, written)


def echo() -> None:
    """(A process of its own.) The baseline of the pipes: reads the stream as
    the command does (8 KiB reads, each line parsed) and writes an event line
    for one benchmark tick in 20, when the next line comes."""
    rng = np.random.default_rng(0)
    rest, pending = b"", None
    while chunk := os.read(0, 1 << 13):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        out = []
        for line in lines:
            if pending is not None and rng.random() < 0.05:
                out.append(json.dumps({"time": pending}) + "\n")
            pending = None
            tick = json.loads(line)
            if tick["asset"] == "B":
                pending = tick["time"]
        if out:
            os.write(1, "".join(out).encode())


def piped(
    path: Path, portfolios: int, rate: float, limit: float | None
) -> tuple[np.ndarray, float]:
    """Events' latencies (ns) through the pipes at `rate` lines a second, and
    the rate achieved (limit None: the baseline filter in place of the
    command). The first half second of the paced stream is not timed."""
    warm = 5000
    saved = path.with_suffix(".written.npy")
    read_end, write_end = os.pipe()
    feeder = subprocess.Popen(
        [sys.executable, __file__, "--writer", str(path), str(rate), str(warm), str(saved)],
        stdout=write_end,
    )
    if limit is None:
        cmd = [sys.executable, __file__, "--echo"]
    else:
        cmd = [sys.executable, "-m", "trackerr", "watch", *options(portfolios, limit)]
    proc = subprocess.Popen(cmd, stdin=read_end, stdout=subprocess.PIPE)
    os.close(read_end)
    os.close(write_end)
    assert proc.stdout is not None
    arrivals = []
    clock = time.perf_counter_ns
    fd = proc.stdout.fileno()
    while chunk := os.read(fd, 1 << 16):
        arrivals.append((clock(), chunk))
    feeder.wait()
    proc.wait()
    written = np.load(saved)
    saved.unlink()
    lat = []
    rest = b""
    for at, chunk in arrivals:
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        for line in parts:
            e = json.loads(line)
            k = int((np.datetime64(e["time"].rstrip("Z"), "s") - START).astype(np.int64)) - 1
            if warm + rate / 2 < k + 1 < len(written):  # (the sample closed by line k + 1)
                lat.append(at - written[k + 1])
    paced = written[warm:]
    return np.array(lat, dtype=np.int64), len(paced) / ((paced[-1] - paced[0]) / 1e9)


def pct(ns: np.ndarray) -> str:
    if not len(ns):
        return "no events"
    p50, p99, p999 = np.percentile(ns, [50, 99, 99.9]) / 1000
    return f"p50 {p50:.0f} us, p99 {p99:.0f} us, p99.9 {p999:.0f} us, max {ns.max() / 1000:.0f} us"


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="trackerr-watch-"))
    start_up = statistics.median(
        [
            (lambda s: (subprocess.run([sys.executable, "-m", "trackerr", "watch", "--help"],
                                       stdout=subprocess.DEVNULL, check=True),
                        time.perf_counter() - s)[1])(time.perf_counter())
            for _ in range(ROUNDS)
        ]
    )  # fmt: skip
    print(f"start-up of the command (--help): {start_up:.2f} s")
    cases = ((10, 200_000 if QUICK else 1_000_000), (1000, 50_000 if QUICK else 200_000))
    paths = {p: folder / f"ticks_{p}.jsonl" for p, _ in cases}
    for portfolios, rows in cases:
        stream(paths[portfolios], rows, portfolios)
    limits = {p: calibrate(paths[p], p) for p, _ in cases}
    runs: dict[tuple[int, bool], list[float]] = {}
    pinning = (True, False) if hasattr(os, "sched_setaffinity") else (False,)
    for _ in range(ROUNDS):  # interleaved
        for portfolios, _rows in cases:
            for pinned in pinning:
                took = command(paths[portfolios], portfolios, limits[portfolios], pinned)
                runs.setdefault((portfolios, pinned), []).append(took)
    for portfolios, rows in cases:
        path, limit = paths[portfolios], limits[portfolios]
        print(f"\n{portfolios} portfolios, {rows:,} lines, limit {limit:.5f} (window {WINDOW})")
        for pinned in pinning:
            took = statistics.median(runs[portfolios, pinned])
            where = "one core" if pinned else "no pinning"
            print(f"  trackerr watch < stream, {where:10s}: {took:6.2f} s, {rows / took:10,.0f} "
                  f"lines/s ({rows / (took - start_up):,.0f} without start-up)")  # fmt: skip
        ns = loop_latencies(path, portfolios, limit)
        print(f"  read to events written, the command's loop at full speed: {pct(ns)}")
        for rate in (50_000, 150_000) if portfolios == 10 else (20_000, 60_000):
            timed = folder / f"paced_{portfolios}.jsonl"  # 0.5 s warm, 2 s timed (quick: 0.5 s)
            stream(timed, 5000 + int(rate * (1 if QUICK else 2.5)), portfolios, seed=1, step=1)
            paced_limit = calibrate(timed, portfolios)
            for name, lim in (("trackerr watch", paced_limit), ("baseline filter", None)):
                lat, achieved = piped(timed, portfolios, rate, lim)
                print(f"  through the pipes at {achieved:,.0f} lines/s, {name}: "
                      f"{len(lat):,} events, {pct(lat)}")  # fmt: skip
        for parser in ("orjson", "json"):
            try:
                tw._loads = __import__(parser).loads
            except ImportError:
                print(f"  ({parser} is not installed)")
                continue
            ns = feed_latencies(path, portfolios, limit)
            rate = 1e9 * len(ns) / ns.sum()
            print(f"  Watcher.feed, {parser:6s}: {rate:10,.0f} lines/s; {pct(ns)}")
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--writer"]:
        writer(*sys.argv[2:])
    elif sys.argv[1:2] == ["--echo"]:
        echo()
    else:
        main()
