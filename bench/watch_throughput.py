"""Throughput and per-tick latency of ``trackerr watch`` (issue 15).

A stream of one-price JSON lines (the benchmark and the portfolios ticking
at random, times advancing 0-2 s a line) for 10 and for 1,000 portfolios:

* throughput of the command: the whole ``trackerr watch`` process reading
  the stream from stdin (start-up included, and measured alone: ``--help``),
  medians of interleaved rounds;
* per-tick latency in one process: ``Watcher.feed`` timed line by line
  (perf_counter_ns), p50 / p99 / p99.9 / max; a line that closes a benchmark
  tick steps every portfolio's state and checks the limit, so the tail is
  those lines;
* the JSON parser's share: the same loop with the standard json parser in
  place of orjson.

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
from trackerr.watch import WatchConfig, Watcher

QUICK = os.environ.get("TRACKERR_BENCH_QUICK", "") not in ("", "0")
ROUNDS = 3


def stream(path: Path, rows: int, portfolios: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    names = ["B"] + [f"P{j}" for j in range(portfolios)]
    which = rng.integers(0, len(names), rows)
    which[rng.random(rows) < 0.1] = 0  # the benchmark: about a tenth of the lines at least
    steps = np.exp(rng.normal(0, 0.001, rows))
    price = np.full(len(names), 100.0)
    t = np.cumsum(rng.integers(0, 3, rows))
    start = np.datetime64("2024-01-01T00:00:00", "s")
    with open(path, "w") as f:
        for i in range(rows):
            k = int(which[i])
            price[k] *= steps[i]
            stamp = str(start + int(t[i])) + "Z"
            f.write(json.dumps({"time": stamp, "asset": names[k], "price": float(price[k])}))
            f.write("\n")
    return ["--benchmark", "B"] + [x for j in range(portfolios) for x in ("--portfolio", f"P{j}")]


def command(path: Path, names: list[str]) -> float:
    cmd = [sys.executable, "-m", "trackerr", "watch", *names, "--limit", "5%", "--window", "500"]
    with open(path, "rb") as f:
        start = time.perf_counter()
        subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start


def latencies(path: Path, portfolios: int) -> np.ndarray:
    config = WatchConfig("B", tuple(f"P{j}" for j in range(portfolios)), limit=0.05, window=500)
    w = Watcher(config)
    lines = path.read_bytes().splitlines(keepends=True)
    out = np.empty(len(lines), dtype=np.int64)
    clock = time.perf_counter_ns
    for i, line in enumerate(lines):
        t0 = clock()
        w.feed(line)
        out[i] = clock() - t0
    return out


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
    for portfolios, rows in (
        (10, 200_000 if QUICK else 1_000_000),
        (1000, 50_000 if QUICK else 200_000),
    ):
        path = folder / f"ticks_{portfolios}.jsonl"
        names = stream(path, rows, portfolios)
        runs = [command(path, names) for _ in range(ROUNDS)]
        took = statistics.median(runs)
        print(f"\n{portfolios} portfolios, {rows:,} lines")
        print(f"  trackerr watch < stream:  {took:6.2f} s, {rows / took:10,.0f} lines/s "
              f"({rows / (took - start_up):,.0f} without start-up)")  # fmt: skip
        for parser in ("orjson", "json"):
            try:
                tw._loads = __import__(parser).loads
            except ImportError:
                print(f"  ({parser} is not installed)")
                continue
            ns = latencies(path, portfolios)
            p50, p99, p999 = np.percentile(ns, [50, 99, 99.9]) / 1000
            rate = 1e9 * len(ns) / ns.sum()
            print(
                f"  Watcher.feed, {parser:6s}: {rate:10,.0f} lines/s; latency p50 {p50:.1f} us, "
                f"p99 {p99:.1f} us, p99.9 {p999:.1f} us, max {ns.max() / 1000:.0f} us"
            )
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
