"""Fuzzer for trackerr.watch: random streams of good and broken lines.

Rules, for every configuration (as-of pairing, interval sampling, returns;
count, time and exponential windows; JSON and CSV): a line raises nothing
but BadLine and a bad line changes nothing but the counts; feeding lines in
batches of any size (``feed_lines``), with checkpoints restored between
them, gives the events, bad-line numbers and checkpoint bytes of feeding
them one at a time.
"""

from __future__ import annotations

import json

import numpy as np

from fuzzing import SECONDS, budget
from trackerr.watch import BadLine, WatchConfig, Watcher

_JUNK = [
    "{",
    "[]",
    "null",
    '{"time": 1e300, "asset": "B", "price": 1.0}',
    '{"time": -1e300, "asset": "B", "price": 1.0}',
    '{"time": "2024-01-01T1\u0662:00:00Z", "asset": "B", "price": 1.0}',
    '{"time": "2024-02-30T00:00:00Z", "asset": "B", "price": 1.0}',
    '{"time": "2024-01-01T00:00:60Z", "asset": "B", "price": 1.0}',
    '{"time": "2262-04-11T23:47:17Z", "asset": "B", "price": 1.0}',
    '{"time": true, "asset": "B", "price": 1.0}',
    '{"time": "2024-01-01", "asset": "B", "price": 1e400}',
    '{"time": "2024-01-01", "asset": "B", "price": -2}',
    '{"time": "2024-01-01", "asset": "Z", "price": 2}',
    '{"time": "2024-01-01", "asset": ["B"], "price": 2}',
    '{"time": "2024-01-01", "B": "2", "P0": 1.0}',
    "\u0661\u0662,1.5,2",
    "9" * 400 + ".5,1,2",
    "2024-01-01,1;5,2",
    "2024-01-01,1,2,3",
    "\udcff",
    b"\xff\xfe{",
    "x" * 5000,
]


def _stream(rng: np.random.Generator, shape: str, returns: bool, names: list[str]) -> list[str]:
    t = np.datetime64("2024-01-01T00:00:00", "s") + int(rng.integers(0, 10**6))
    price = dict.fromkeys(names, 100.0)
    out = ["time,asset," + ("return" if returns else "price")] if shape == "csv-long" else []
    if shape == "csv-wide":
        out.append("time," + ",".join(names))
    for _ in range(int(rng.integers(20, 250))):
        t += int(rng.choice([0, 0, 1, 7, 60, 3600]))
        stamp = str(t) + "Z"
        if shape == "json-wide" or shape == "csv-wide":
            moved = rng.choice(names, int(rng.integers(1, len(names) + 1)), replace=False)
            row = {}
            for n in moved.tolist():
                price[n] *= float(np.exp(rng.normal(0, 0.02)))
                row[n] = float(rng.normal(0, 0.01)) if returns else price[n]
            if shape == "json-wide":
                out.append(json.dumps({"time": stamp, **row}))
            else:
                out.append(stamp + "," + ",".join(repr(row[n]) if n in row else "" for n in names))
        else:
            n = names[int(rng.integers(len(names)))]
            price[n] *= float(np.exp(rng.normal(0, 0.02)))
            value = float(rng.normal(0, 0.01)) if returns else price[n]
            if shape == "json-long":
                key = "return" if returns else "price"
                out.append(json.dumps({"time": stamp, "asset": n, key: value}))
            else:
                out.append(f"{stamp},{n},{value!r}")
    for _ in range(int(rng.integers(0, 8))):  # broken lines anywhere after the header
        at = int(rng.integers(1 if shape.startswith("csv") else 0, len(out) + 1))
        out.insert(at, _JUNK[int(rng.integers(len(_JUNK)))])  # type: ignore[arg-type]
    return out


def _config(rng: np.random.Generator, names: list[str], returns: bool) -> WatchConfig:
    state = int(rng.integers(4))
    limit = float(rng.choice([0.005, 0.01, 0.02]))
    return WatchConfig(
        "B",
        tuple(names[1:]),
        limit=limit,
        clear_below=limit * float(rng.choice([1.0, 0.9, 0.0])),
        window=[int(rng.integers(2, 8)), "2h", None, None][state],
        halflife=[None, None, float(rng.uniform(1, 5)), None][state],
        min_periods=None if state == 1 else int(rng.integers(1, 3)),
        returns=returns,
        every=None if returns or rng.random() < 0.6 else str(rng.choice(["15min", "1h"])),
    )


def _one_at_a_time(config: WatchConfig, lines: list) -> tuple[Watcher, list, list]:
    w, events, bad = Watcher(config), [], []
    for i, line in enumerate(lines, 1):
        try:
            events += w.feed(line)
        except BadLine:
            bad.append(i)
    return w, events + w.finish(), bad


def test_random_streams_in_batches_equal_line_by_line():
    cases = 0
    for rng in budget(seconds=SECONDS):
        n = int(rng.choice([1, 2, 5, 40]))
        names = ["B"] + [f"P{j}" for j in range(n)]
        returns = bool(rng.random() < 0.25)
        shape = str(rng.choice(["json-long", "json-wide", "csv-long", "csv-wide"]))
        config = _config(rng, names, returns)
        lines = _stream(rng, shape, returns, names)
        want_w, want, want_bad = _one_at_a_time(config, lines)
        w, got, got_bad = Watcher(config), [], []
        i = 0
        while i < len(lines):
            j = i + int(rng.integers(1, 60))
            events, bad = w.feed_lines(lines[i:j])
            got += events
            got_bad += [number for number, _ in bad]
            if rng.random() < 0.3:
                w = Watcher.from_bytes(w.to_bytes(), config)
            i = j
        got += w.finish()
        assert got == want, (cases, shape, config)
        assert got_bad == want_bad
        assert w.to_bytes() == want_w.to_bytes()
        assert want_w.bad == len(want_bad)
        cases += 1
    assert cases >= 5
