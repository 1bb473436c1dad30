"""trackerr.watch and `trackerr watch`: events equal trackerr.Monitor's fed the
same returns; prices pair as of each benchmark tick whatever their order
within a timestamp; bad lines are counted and skipped without touching the
state; checkpoints restore exactly, and a process killed at random points and
restarted ends with the events and state of an uninterrupted run."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import trackerr
from trackerr import datasets
from trackerr.watch import BadLine, WatchConfig, Watcher


def steth_lines(shape="wide"):
    d = datasets.load("steth_eth")
    lines = []
    for t, row in zip(d.dates, d.prices, strict=True):
        prices = dict(zip(d.columns, (float(v) for v in row), strict=True))
        if shape == "wide":
            lines.append(json.dumps({"time": str(t), **prices}))
        else:  # the portfolio first, then the benchmark, at the same time
            for name in ("STETH", "ETH"):
                lines.append(json.dumps({"time": str(t), "asset": name, "price": prices[name]}))
    return d, lines


def run(config, lines):
    w = Watcher(config)
    events = []
    for line in lines:
        events += w.feed(line)
    return w, events + w.finish()


def test_events_equal_a_monitor_fed_the_same_returns():
    d, lines = steth_lines()
    config = WatchConfig("ETH", limit=0.1, window=30, periods_per_year="crypto-daily")
    w, events = run(config, lines)
    r = d.returns(["STETH"])
    b = d.returns("ETH")
    monitor = trackerr.Monitor(0.1, window=30, periods_per_year="crypto-daily", n_portfolios=1)
    want = monitor.update(r, b)
    assert len(want) >= 4
    assert [e["event"] for e in events] == [e.kind for e in want]
    assert [e["tracking_error"] for e in events] == [e.value for e in want]  # the same bits
    assert [e["time"] for e in events] == [str(d.dates[int(e.tick)]) for e in want]
    assert [e["seq"] for e in events] == list(range(1, len(want) + 1))
    assert w.monitor.state.to_bytes() == monitor.state.to_bytes()
    assert w.samples == len(r)


def test_a_stream_of_single_prices_pairs_as_of_each_benchmark_tick():
    _, wide = steth_lines("wide")
    _, long = steth_lines("long")  # the benchmark after the portfolio at each time
    config = WatchConfig("ETH", ("STETH",), limit=0.1, window=30, periods_per_year=365)
    assert run(config, wide)[1] == run(config, long)[1]
    # the benchmark first at each time: the portfolio's price of that time still counts
    swapped = []
    for i in range(0, len(long), 2):
        swapped += [long[i + 1], long[i]]
    assert run(config, swapped)[1] == run(config, wide)[1]


def test_portfolios_that_tick_between_benchmark_ticks():
    # hourly benchmark, a portfolio ticking at random minutes: its last price as of each hour
    rng = np.random.default_rng(1)
    hours = 400
    b = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, hours)))
    p_minutes = np.sort(rng.choice(hours * 60, size=3000, replace=False))
    p_prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, len(p_minutes))))
    lines = []
    start = np.datetime64("2024-03-01T00:00", "m")
    ticks = [(h * 60, "B", b[h]) for h in range(hours)]
    ticks += [(int(m), "P", float(v)) for m, v in zip(p_minutes, p_prices, strict=True)]
    ticks.sort(key=lambda x: x[0])
    for m, name, v in ticks:
        lines.append(json.dumps({"time": str(start + m) + "Z", "asset": name, "price": float(v)}))
    config = WatchConfig("B", ("P",), limit=0.02, window=48)
    w, events = run(config, lines)
    # the portfolio's price as of each hour (the last tick at or before it)
    k = np.searchsorted(p_minutes, np.arange(hours) * 60, side="right") - 1
    as_of = np.where(k >= 0, p_prices[np.maximum(k, 0)], np.nan)
    monitor = trackerr.Monitor(0.02, window=48, n_portfolios=1)
    want = monitor.update((as_of[1:] / as_of[:-1] - 1)[:, None], b[1:] / b[:-1] - 1)
    assert [(e["event"], e["tracking_error"]) for e in events] == [(e.kind, e.value) for e in want]
    assert w.monitor.state.to_bytes() == monitor.state.to_bytes()


def test_every_samples_the_ends_of_intervals():
    lines = [
        '{"time": "2024-01-01T00:10:00Z", "A": 10.0, "B": 20.0}',
        '{"time": "2024-01-01T00:50:00Z", "A": 11.0}',
        '{"time": "2024-01-01T01:20:00Z", "B": 21.0}',
        '{"time": "2024-01-01T04:05:00Z", "A": 12.0, "B": 23.0}',  # a gap: one return across it
        '{"time": "2024-01-01T04:59:00Z", "A": 13.0}',
    ]
    config = WatchConfig("B", limit=1e-9, every="1h")
    w, events = run(config, lines)
    # samples at 01:00 (the first: no return yet), 02:00 and 05:00
    r_p = np.array([11 / 11, 13 / 11]) - 1
    r_b = np.array([21 / 20, 23 / 21]) - 1
    monitor = trackerr.Monitor(1e-9, n_portfolios=1)
    want = monitor.update(r_p[:, None], r_b)
    assert w.samples == 2
    assert [(e["event"], e["tracking_error"]) for e in events] == [(e.kind, e.value) for e in want]
    assert [e["time"] for e in events] == ["2024-01-01T05:00:00Z"]


def test_returns_pair_by_timestamp_and_csv_reads_as_json():
    config = WatchConfig("B", ("P",), limit=0.001, window=3, returns=True)
    rows = [(1, 0.01, 0.02), (2, -0.01, 0.0), (3, 0.03, 0.01), (4, 0.0, -0.02), (5, 0.01, 0.0)]
    as_json = [json.dumps({"time": t, "P": p, "B": b}) for t, p, b in rows]
    as_csv = ["time,P,B"] + [f"{t},{p},{b}" for t, p, b in rows]
    cfg = WatchConfig("B", ("P",), limit=0.001, window=3, returns=True, time_unit="s")
    monitor = trackerr.Monitor(0.001, window=3, n_portfolios=1)
    want = monitor.update(np.array([[r[1]] for r in rows]), np.array([r[2] for r in rows]))
    for lines in (as_json, as_csv):
        _, events = run(cfg, lines)
        assert [(e["event"], e["tracking_error"]) for e in events] == [
            (e.kind, e.value) for e in want
        ]
    with pytest.raises(BadLine, match="say its unit"):
        Watcher(config).feed(as_json[0])


def test_times_read_from_a_minute_seen_before_equal_a_full_read():
    """ISO times "YYYY-MM-DDTHH:MM:SSZ" of a minute seen before are read from
    their seconds alone: the same value as the full read, and the same
    refusals (seconds 60, a sign, a space, another script's digits), at the
    edges of the nanosecond range too."""
    import trackerr.watch as tw

    def full(text):
        saved = dict(tw._MINUTES)
        tw._MINUTES.clear()
        try:
            return tw._iso_ns(text)
        except BadLine:
            return None
        finally:
            tw._MINUTES.update(saved)

    def cached(text):
        try:
            return tw._iso_ns(text)
        except BadLine:
            return None

    rng = np.random.default_rng(3)
    minutes = ["2024-02-29T23:59:", "1970-01-01T00:00:", "2262-04-11T23:47:",
               "1677-09-21T00:12:", "2024-01-01 05:33:", "2023-02-29T00:00:"]  # fmt: skip
    seconds = ["00", "16", "17", "43", "44", "59", "60", "99", "+5", " 5", "5 ", "\u0661\u0662",
               "5a", "-1"]  # fmt: skip
    tried = 0
    for _ in range(3):
        for m in minutes:
            for sec in rng.permutation(seconds):
                text = f"{m}{sec}Z"
                assert cached(text) == full(text), text
                tried += 1
    assert tried == 3 * len(minutes) * len(seconds)
    assert (
        full("2024-01-01T05:33:21Z")
        == cached("2024-01-01T05:33:21Z")
        == (np.datetime64("2024-01-01T05:33:21", "ns").astype(np.int64))
    )
    for text in ("2024-01-01T\u0661\u0662:00:00Z", "\u0662024-01-01", "2024-01-01T12:00:0\u0661Z"):
        with pytest.raises(BadLine, match="not an ISO 8601"):
            tw._iso_ns(text)


def test_bad_single_price_lines_are_refused():
    config = WatchConfig("B", ("P",), limit=0.1)
    w = Watcher(config)
    w.feed('{"time": "2024-01-01", "asset": "B", "price": 1.0}')
    for line in (
        '{"time": "2024-01-02", "asset": ["B"], "price": 1.0}',
        '{"time": "2024-01-02", "asset": {"a": 1}, "price": 1.0}',
        '{"time": "2024-01-02", "asset": "X", "price": 1.0}',
        '{"time": "2024-01-02", "asset": "B", "price": true}',
        '{"time": "2024-01-02", "asset": "B", "price": 0}',
        '{"time": "2024-01-02", "asset": "B", "price": 1e400}',
        '{"time": "2024-01-02", "asset": "B", "prize": 1.0}',
        '{"time": "2023-12-31", "asset": "B", "price": 1.0}',
        '{"time": ["2024-01-02"], "asset": "B", "price": 1.0}',
        b"\xff\xfe",
    ):
        with pytest.raises(BadLine):
            w.feed(line)
    assert w.bad == 10 and w.samples == 0
    assert w.feed('{"time": "2024-01-02", "asset": "B", "price": 2}') == []  # an int price


def test_bad_lines_are_refused_and_change_nothing():
    _, lines = steth_lines()
    config = WatchConfig("ETH", limit=0.1, window=30, periods_per_year=365)
    bad = [
        "{not json",
        '{"time": "2021-13-45", "ETH": 1.0, "STETH": 1.0}',
        '{"time": "2021-01-05", "ETH": -3.0, "STETH": 1.0}',
        '{"time": "2021-01-05", "ETH": 3.0, "STETH": "1,5"}',
        '{"time": "2021-01-05", "ETH": 3.0, "DOGE": 1.0}',
        '{"time": "2020-01-01", "ETH": 3.0, "STETH": 1.0}',  # goes back
        '{"ETH": 3.0, "STETH": 1.0}',
        '{"time": 1609459200, "ETH": 3.0, "STETH": 1.0}',  # a number without a unit
        '{"time": "2021-01-05", "ETH": NaN, "STETH": 1.0}',
        "[1, 2]",
    ]
    clean_w, clean = run(config, lines)
    w = Watcher(config)
    events = []
    for i, line in enumerate(lines):
        events += w.feed(line)
        if i == 20:
            for b in bad:
                with pytest.raises(BadLine):
                    w.feed(b)
    events += w.finish()
    assert events == clean
    assert w.bad == len(bad)
    assert w.monitor.state.to_bytes() == clean_w.monitor.state.to_bytes()


def test_checkpoints_restore_exactly_and_refuse_what_is_not_theirs():
    _, lines = steth_lines("long")
    config = WatchConfig("ETH", ("STETH",), limit=0.1, window="30D", periods_per_year=365)
    _, whole = run(config, lines)
    w = Watcher(config)
    events = []
    for i, line in enumerate(lines):
        if i % 397 == 0:  # a restart, sometimes with a benchmark tick pending
            w = Watcher.from_bytes(w.to_bytes(), config)
        events += w.feed(line)
    assert events + w.finish() == whole
    data = w.to_bytes()
    for broken in (data[:-1], data[:40] + bytes([data[40] ^ 1]) + data[41:], b"hello" * 20):
        with pytest.raises(ValueError):
            Watcher.from_bytes(broken, config)
    with pytest.raises(ValueError, match=r"another configuration .*limit"):
        Watcher.from_bytes(data, WatchConfig("ETH", ("STETH",), limit=0.2, window="30D",
                                             periods_per_year=365))  # fmt: skip


def _mixed_streams():
    """Streams of each shape and pairing rule, with many crossings."""
    rng = np.random.default_rng(5)
    names = ["B", "P0", "P1", "P2"]
    price = dict.fromkeys(names, 100.0)
    t = np.datetime64("2024-03-01T00:00:00", "ns")
    single, wide, rets = [], [], []
    for i in range(4000):
        t += np.timedelta64(int(rng.integers(0, 400)) * 1_000_000_000, "ns")
        stamp = str(t) + "Z"
        a = names[int(rng.integers(len(names)))]
        price[a] *= float(np.exp(rng.normal(0, 0.01)))
        single.append(json.dumps({"time": stamp, "asset": a, "price": price[a]}))
        if i % 3 == 0:
            wide.append(json.dumps({"time": stamp, **{n: price[n] for n in names[:3]}}))
            rets.append(f"{stamp},{rng.normal(0, 0.01)!r},{rng.normal(0, 0.01)!r}")
    many = [f"Q{j}" for j in range(40)]  # prices kept in numpy arrays (a few: in lists)
    level = dict.fromkeys(["B", *many], 100.0)
    wide_many = []
    for i in range(3000):
        stamp = str(np.datetime64("2024-03-01T00:00:00", "s") + 7 * i) + "Z"
        moved = {n: level[n] for n in rng.choice(["B", *many], 5, replace=False).tolist()}
        for n in moved:
            level[n] = moved[n] = level[n] * float(np.exp(rng.normal(0, 0.01)))
        wide_many.append(json.dumps({"time": stamp, **moved}))
    base = {"limit": 0.01, "clear_below": 0.008}
    return [
        (WatchConfig("B", tuple(many), window=5, **base), wide_many),
        (WatchConfig("B", ("P0", "P1", "P2"), window=5, **base), single),
        (WatchConfig("B", ("P0", "P1", "P2"), window="2h", **base), single),
        (WatchConfig("B", ("P0", "P1", "P2"), halflife=3.0, every="15min", **base), single),
        (WatchConfig("B", window=4, **base), wide),
        (WatchConfig("B", ("P0",), window=6, returns=True, **base), ["time,P0,B", *rets]),
    ]


@pytest.mark.parametrize("case", range(6))
def test_lines_fed_in_batches_give_what_one_at_a_time_gives(case, monkeypatch):
    """feed_lines (the command's path: a batch's samples go to the monitor
    at once) against feed, line by line: the same events, the same
    checkpoint bytes, whatever the cuts; bad lines among them are skipped and
    reported with their numbers, and stop_at_bad stops at the first."""
    config, lines = _mixed_streams()[case]
    rng = np.random.default_rng(case)
    bad = ["{broken", '{"time": "2020-01-01T00:00:00Z", "asset": "B", "price": 1.0}', "[1]"]
    lines = list(lines)
    for k in sorted(rng.integers(2, len(lines), 6).tolist(), reverse=True):
        lines.insert(k, bad[k % 3])
    one = Watcher(config)
    want, want_bad = [], []
    for i, line in enumerate(lines, 1):
        try:
            want += one.feed(line)
        except BadLine:
            want_bad.append(i)
    want += one.finish()
    assert len(want) > 20 and len(want_bad) == 6
    cuts = [0, 1, 2, 3, 50, *rng.integers(0, len(lines), 30).tolist(), len(lines)]
    cuts = sorted(set(cuts))
    w, got, got_bad = Watcher(config), [], []
    for i, j in itertools.pairwise(cuts):
        events, skipped = w.feed_lines(lines[i:j], end=0)
        got += events
        got_bad += [n for n, exc in skipped if isinstance(exc, BadLine)]
        if i % 2:  # a checkpoint between batches restores exactly
            w = Watcher.from_bytes(w.to_bytes(), config)
    got += w.finish()
    assert got == want and got_bad == want_bad
    assert w.to_bytes() == one.to_bytes()
    if case == 0:  # 41 prices in arrays, the same as in lists
        assert isinstance(w.last, np.ndarray)
        monkeypatch.setattr(Watcher, "_ARRAYS_FROM", 10**9)
        listed = Watcher(config)
        events, _ = listed.feed_lines(lines, end=0)
        assert isinstance(listed.last, list)
        assert events + listed.finish() == want and listed.to_bytes() == one.to_bytes()
    first = want_bad[0]
    w = Watcher(config)
    events, skipped = w.feed_lines(lines, end=0, stop_at_bad=True)
    assert [n for n, _ in skipped] == [first] and w.lines == first
    prefix = Watcher(config)
    assert events == [e for line in lines[: first - 1] for e in prefix.feed(line)]
    with pytest.raises(BadLine):
        prefix.feed(lines[first - 1])
    assert w.to_bytes() == prefix.to_bytes()


# --- the command ---------------------------------------------------------------------------


def synthetic(path, rows, seed=0, portfolios=4):
    """A stream of single prices: the benchmark and portfolios ticking at random."""
    rng = np.random.default_rng(seed)
    names = ["B"] + [f"P{j}" for j in range(portfolios)]
    price = dict.fromkeys(names, 100.0)
    t = 0
    with open(path, "w") as f:
        for _ in range(rows):
            t += int(rng.integers(0, 3))
            a = names[int(rng.integers(len(names)))]
            price[a] *= float(np.exp(rng.normal(0, 0.01 if a == "B" else 0.012)))
            f.write(json.dumps({"time": t, "asset": a, "price": price[a]}) + "\n")
    return ["--benchmark", "B"] + [x for j in range(portfolios) for x in ("--portfolio", f"P{j}")]


def watch(*args, **kw):
    return subprocess.run([sys.executable, "-m", "trackerr", "watch", *args], capture_output=True,
                          text=True, timeout=300, **kw)  # fmt: skip


def test_a_process_killed_at_random_points_ends_as_an_uninterrupted_run(tmp_path):
    stream = tmp_path / "ticks.jsonl"
    names = synthetic(stream, 1_000_000)  # the 1e6-tick run
    common = [str(stream), *names, "--limit", "0.017", "--clear-below", "0.0165",
              "--window", "200", "--time-unit", "s", "--checkpoint-every", "2000"]  # fmt: skip
    whole = watch(*common, "--state", str(tmp_path / "a.state"), "--events",
                  str(tmp_path / "a.jsonl"))  # fmt: skip
    assert whole.returncode == 0, whole.stderr
    assert (tmp_path / "a.jsonl").read_text().count("\n") > 20
    rng = np.random.default_rng(7)
    state, out = tmp_path / "b.state", tmp_path / "b.jsonl"
    kills = 0
    cmd = [sys.executable, "-m", "trackerr", "watch", *common, "--state", str(state),
           "--events", str(out)]  # fmt: skip
    for _ in range(30):  # SIGKILL at random moments (up to 4 times) while it runs, then the end
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kills < 4:
            # short enough that 4 kills leave most of the stream to the last run (starting
            # takes about 0.5 s; then about 250,000 lines a second)
            time.sleep(float(rng.uniform(0.3, 1.2)))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
        proc.wait(timeout=120)
        if proc.returncode == 0:
            break
    assert proc.returncode == 0 and kills >= 2
    assert out.read_bytes() == (tmp_path / "a.jsonl").read_bytes()
    a = Watcher.from_bytes((tmp_path / "a.state").read_bytes())
    b = Watcher.from_bytes(state.read_bytes())
    assert a.monitor.state.to_bytes() == b.monitor.state.to_bytes()
    assert (a.lines, a.offset, a.samples, a.seq) == (b.lines, b.offset, b.samples, b.seq)


def test_sigterm_checkpoints_and_a_restart_goes_on(tmp_path):
    stream = tmp_path / "ticks.jsonl"
    names = synthetic(stream, 3000, seed=3)
    common = [*names, "--limit", "0.01", "--window", "50", "--time-unit", "s"]
    whole = watch(str(stream), *common)
    state = tmp_path / "s.state"
    lines = stream.read_text().splitlines(keepends=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "trackerr", "watch", *common, "--state", str(state)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    proc.stdin.write("".join(lines[:1000]))
    proc.stdin.flush()
    time.sleep(2.0)  # it has read them and waits for more
    proc.send_signal(signal.SIGTERM)
    first, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert Watcher.from_bytes(state.read_bytes()).lines == 1000
    # the restart is given the same input again from the start: it skips what it holds
    rest = watch(*common, "--state", str(state), input="".join(lines))
    assert rest.returncode == 0, rest.stderr
    assert first + rest.stdout == whole.stdout


def test_the_command_reports_bad_lines_and_refuses_a_foreign_state(tmp_path):
    stream = tmp_path / "s.jsonl"
    stream.write_text(
        '{"time": "2024-01-01", "B": 1.0, "P": 1.0}\n{"time": "2024-01-02", "B": 0, "P": 1.0}\n'
        "garbage\n"
    )
    done = watch(str(stream), "--benchmark", "B", "--limit", "5%")
    assert done.returncode == 0
    assert "line 2: B's price 0 is not positive (skipped)" in done.stderr
    assert "line 3: " in done.stderr and "2 bad line(s) skipped" in done.stderr
    strict = watch(str(stream), "--benchmark", "B", "--limit", "5%", "--strict")
    assert strict.returncode == 2 and strict.stderr.count("\n") == 1
    assert "line 2" in strict.stderr
    junk = tmp_path / "junk.state"
    junk.write_bytes(os.urandom(200))
    refused = watch(str(stream), "--benchmark", "B", "--limit", "5%", "--state", str(junk))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "not a trackerr watch state" in refused.stderr


def test_metrics_scraped_over_http_equal_the_state():
    pytest.importorskip("prometheus_client")
    import urllib.request

    _, lines = steth_lines()
    head = lines[:700]
    proc = subprocess.Popen(
        [sys.executable, "-m", "trackerr", "watch", "--benchmark", "ETH", "--limit", "10%",
         "--window", "30", "--periods-per-year", "crypto-daily", "--metrics-port", "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        banner = proc.stderr.readline()
        url = banner.split("metrics on ")[1].strip()
        assert url.startswith("http://127.0.0.1:")
        proc.stdin.write("\n".join(head) + "\n")
        proc.stdin.flush()
        want = Watcher(WatchConfig("ETH", limit=0.1, window=30, periods_per_year="crypto-daily"))
        for line in head:
            want.feed(line)
        deadline = time.monotonic() + 30
        while True:
            text = urllib.request.urlopen(url, timeout=10).read().decode()
            if "trackerr_lines_total 700.0" in text or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        values = {}
        for row in text.splitlines():
            if row.startswith("trackerr_"):
                key, value = row.rsplit(" ", 1)
                values[key] = float(value)
        m = want.metrics()["STETH"]
        for key in ("tracking_error", "active_return", "beta", "breached"):
            assert values[f'trackerr_{key}{{portfolio="STETH"}}'] == m[key]  # repr round-trips
        assert values["trackerr_lines_total"] == 700
        assert values["trackerr_samples_total"] == want.samples
        assert values["trackerr_events_total"] == want.seq
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_replay_prints_the_shipped_data_as_a_stream():
    done = subprocess.run([sys.executable, "-m", "trackerr", "replay", "steth_eth", "--long"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0
    d, long = steth_lines("long")
    rows = [json.loads(x) for x in done.stdout.splitlines()]
    assert len(rows) == 2 * len(d.dates)
    assert {r["asset"] for r in rows} == {"ETH", "STETH"}
    config = WatchConfig("ETH", ("STETH",), limit=0.1, window=30, periods_per_year=365)
    assert run(config, done.stdout.splitlines())[1] == run(config, long)[1]


def test_follow_a_growing_file_through_rotations(tmp_path):
    _, lines = steth_lines("long")
    parts = [lines[:900], lines[900:1800], lines[1800:2600], lines[2600:]]
    path, state, out = tmp_path / "ticks.jsonl", tmp_path / "f.state", tmp_path / "f.jsonl"
    path.write_text("\n".join(parts[0]) + "\n")
    common = ["--benchmark", "ETH", "--portfolio", "STETH", "--limit", "10%", "--window", "30",
              "--periods-per-year", "crypto-daily", "--follow", "--poll", "0.02",
              "--state", str(state), "--events", str(out)]  # fmt: skip

    def start():
        return subprocess.Popen(
            [sys.executable, "-m", "trackerr", "watch", str(path), *common],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def settle(n):  # wait until the checkpoint on SIGTERM holds n lines
        time.sleep(1.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
        assert Watcher.from_bytes(state.read_bytes()).lines == n

    proc = start()
    time.sleep(0.8)
    with open(path, "a") as f:  # it grows
        f.write("\n".join(parts[1][:400]) + "\n")
        f.flush()
        time.sleep(0.3)
        f.write("\n".join(parts[1][400:]) + "\n")
    time.sleep(0.5)
    path.rename(tmp_path / "ticks.jsonl.1")  # rotated: renamed, then a new file
    path.write_text("\n".join(parts[2]) + "\n")
    settle(2600)
    proc = start()  # a restart follows the same file from where it stopped
    time.sleep(0.8)
    with open(path, "r+") as f:  # rotated by truncation (copytruncate), then written again
        f.truncate(0)
    time.sleep(0.5)
    with open(path, "a") as f:
        f.write("\n".join(parts[3]) + "\n")
    settle(len(lines))
    # the events of every line (the last benchmark tick still pending, as a follower's is)
    w = Watcher(WatchConfig("ETH", ("STETH",), limit=0.1, window=30,
                            periods_per_year="crypto-daily"))  # fmt: skip
    want = [e for line in lines for e in w.feed(line)]
    assert [json.loads(x) for x in out.read_text().splitlines()] == want
    assert len(want) >= 4


def test_checkpoint_seconds_saves_a_quiet_follower(tmp_path):
    """--checkpoint-seconds: lines that came, then a quiet input, are in the
    checkpoint within the period, long before --checkpoint-every lines."""
    _, lines = steth_lines("long")
    path, state = tmp_path / "ticks.jsonl", tmp_path / "q.state"
    path.write_text("\n".join(lines[:300]) + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "trackerr", "watch", str(path), "--benchmark", "ETH",
         "--portfolio", "STETH", "--limit", "10%", "--window", "30", "--follow", "--poll",
         "0.02", "--state", str(state), "--checkpoint-every", "100000",
         "--checkpoint-seconds", "0.2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        seen = []
        for goal in (300, 301):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if state.exists() and Watcher.from_bytes(state.read_bytes()).lines == goal:
                    seen.append(goal)
                    break
                time.sleep(0.05)
            if goal == 300:
                with open(path, "a") as f:
                    f.write(lines[300] + "\n")
        assert seen == [300, 301]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    bad = watch("--benchmark", "ETH", "--limit", "1%", "--checkpoint-seconds", "0", input="")
    assert bad.returncode == 2 and "--checkpoint-seconds must be a positive" in bad.stderr


def test_a_restart_tells_a_file_rewritten_in_place_from_the_one_it_read(tmp_path):
    """A file truncated and written again while the command was stopped keeps
    its inode: its first bytes tell it from the one the checkpoint read. With
    --follow it is read from its start (a rotation by copytruncate); without,
    it is refused."""
    _, lines = steth_lines("long")
    path, state = tmp_path / "ticks.jsonl", tmp_path / "r.state"
    common = [str(path), "--benchmark", "ETH", "--portfolio", "STETH", "--limit", "10%",
              "--window", "30", "--state", str(state)]  # fmt: skip
    path.write_text("\n".join(lines[:1000]) + "\n")
    assert watch(*common).returncode == 0
    with open(path, "r+") as f:  # rewritten in place: the same inode, longer than before
        f.truncate(0)
        f.write("\n".join(lines[1000:]) + "\n")
    refused = watch(*common)
    assert refused.returncode == 2 and "differ from those it read" in refused.stderr
    proc = subprocess.Popen([sys.executable, "-m", "trackerr", "watch", *common, "--follow",
                             "--poll", "0.02", "--checkpoint-seconds", "0.1"],
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and Watcher.from_bytes(state.read_bytes()).lines < len(lines):
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0, proc.stderr.read()
    assert Watcher.from_bytes(state.read_bytes()).lines == len(lines)  # all of the new file read


def test_review_findings_on_reads_checkpoints_and_odd_inputs(tmp_path):
    """What a review of the batched reads found, each fixed: an idle follower
    at a multiple of --checkpoint-every kept rewriting its state; a rewrite in
    place behind the same first 256 bytes (a long CSV header) was read from the
    old offset; a numeric time of 1e300 raised OverflowError (leaving samples
    queued); --checkpoint-seconds waited for a line on a quiet stdin; a FILE
    that is a pipe crashed on seek; other scripts' digits were read in CSV."""
    _, lines = steth_lines("long")
    common = ["--benchmark", "ETH", "--portfolio", "STETH", "--limit", "10%", "--window", "30",
              "--periods-per-year", "crypto-daily"]  # fmt: skip
    # an idle follower does not checkpoint again and again
    path, state = tmp_path / "idle.jsonl", tmp_path / "idle.state"
    path.write_text("\n".join(lines[:10]) + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "trackerr", "watch", str(path), *common, "--follow", "--poll",
         "0.02", "--state", str(state), "--checkpoint-every", "10"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        written = os.stat(state).st_ino  # each checkpoint renames a new file into place
        time.sleep(1.0)
        assert os.stat(state).st_ino == written
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()
    # a long CSV header, then the file rewritten in place: the bytes before the offset differ
    names = [f"PORTFOLIO_{j:02d}" for j in range(24)]
    csv = tmp_path / "wide.csv"
    header = "time,B," + ",".join(names)
    assert len(header) > 256
    rows = [f"2024-01-{d:02d},{100 + d},{','.join(str(100 + d + j) for j in range(24))}"
            for d in range(1, 29)]  # fmt: skip
    csv.write_text(header + "\n" + "\n".join(rows[:10]) + "\n")
    wide = [str(csv), "--benchmark", "B", "--limit", "10%", "--state", str(tmp_path / "w.state")]
    assert watch(*wide).returncode == 0
    with open(csv, "r+") as f:
        f.truncate(0)
        f.write(header + "\n" + "\n".join(rows[12:]) + "\n")
    refused = watch(*wide)
    assert refused.returncode == 2 and "differ from those it read" in refused.stderr
    # a time too large for nanoseconds is a bad line, and the samples before it are taken
    config = WatchConfig("B", ("P",), limit=0.01, window=3, time_unit="s")
    good = [json.dumps({"time": t, "asset": a, "price": 1.0 + 0.1 * (t % 3) + (a == "P")})
            for t in range(1, 40) for a in ("P", "B")]  # fmt: skip
    huge = '{"time": 1e300, "asset": "B", "price": 1.0}'
    one = Watcher(config)
    want = [e for line in good for e in one.feed(line)]
    w = Watcher(config)
    events, bad = w.feed_lines([*good, huge])
    assert events == want and [n for n, _ in bad] == [len(good) + 1]
    assert "outside the int64 nanosecond range" in str(bad[0][1])
    w.to_bytes()  # nothing left queued
    assert w.offset == one.offset + len(huge)  # feed and feed_lines count bytes alike
    for row in ("\u0661\u0662,1.5,2", "2024-01-01T00:00:00Z,\u0661.\u0665,2", "9" * 300 + ".5,1,2"):
        c = Watcher(config)
        c.feed("time,P,B")
        with pytest.raises(BadLine):
            c.feed(row)
    # a quiet stdin is checkpointed by --checkpoint-seconds; a long unended line is one bad line
    state = tmp_path / "stdin.state"
    proc = subprocess.Popen(
        [sys.executable, "-m", "trackerr", "watch", *common, "--state", str(state),
         "--checkpoint-seconds", "0.2"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        proc.stdin.write(("x" * 3_000_000 + "\n" + "\n".join(lines[:300]) + "\n").encode())
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if state.exists() and Watcher.from_bytes(state.read_bytes()).lines == 301:
                break
            time.sleep(0.05)
        assert Watcher.from_bytes(state.read_bytes()).bad == 1
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=30) == 0
    # a FILE that is a pipe is read as stdin is; --follow refuses it
    fifo = tmp_path / "ticks.fifo"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "trackerr", "watch", str(fifo), *common],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    with open(fifo, "w") as f:
        f.write("\n".join(lines) + "\n")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    piped = watch(*common, input="\n".join(lines) + "\n")
    assert out == piped.stdout and out.count("\n") >= 4
    refused = watch(str(fifo), *common, "--follow")
    assert refused.returncode == 2 and "regular file" in refused.stderr


class _Receiver:
    """An HTTP endpoint on 127.0.0.1 that fails the first `fail` posts (500),
    answers the next `slow` after a pause, then accepts; it keeps what it accepted."""

    def __init__(self, fail=0, slow=0, pause=0.3):
        import http.server
        import threading

        self.got, self.calls = [], 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.calls += 1
                if owner.calls <= fail:
                    self.send_response(500)
                else:
                    if owner.calls <= fail + slow:
                        time.sleep(pause)
                    owner.got.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_webhook_that_fails_then_is_slow_gets_every_event_once_in_order(tmp_path):
    _, lines = steth_lines("long")
    path = tmp_path / "ticks.jsonl"
    path.write_text("\n".join(lines) + "\n")
    receiver = _Receiver(fail=4, slow=3)
    try:
        done = watch(str(path), "--benchmark", "ETH", "--portfolio", "STETH", "--limit", "10%",
                     "--window", "30", "--periods-per-year", "crypto-daily",
                     "--webhook", receiver.url, "--webhook-drain", "60")  # fmt: skip
    finally:
        receiver.close()
    assert done.returncode == 0, done.stderr
    events = [json.loads(x) for x in done.stdout.splitlines()]
    assert len(events) >= 8
    assert receiver.got == events  # each once, in order, after 4 failures and 3 slow answers
    assert receiver.calls == len(events) + 4
    assert f"{len(events)} event(s) posted, 0 dropped" in done.stderr


def test_a_dead_webhook_drops_what_its_queue_cannot_hold_and_keeps_the_rest(tmp_path):
    import socket

    _, lines = steth_lines("long")
    path = tmp_path / "ticks.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    state = tmp_path / "w.state"
    common = [str(path), "--benchmark", "ETH", "--portfolio", "STETH", "--limit", "10%",
              "--window", "30", "--periods-per-year", "crypto-daily", "--state", str(state),
              "--webhook-queue", "2"]  # fmt: skip
    first = watch(*common, "--webhook", dead, "--webhook-drain", "0.5")
    assert first.returncode == 0, first.stderr
    events = [json.loads(x) for x in first.stdout.splitlines()]
    assert f"0 event(s) posted, {len(events) - 2} dropped (queue full), 2 not posted yet " \
           "(kept in --state)" in first.stderr  # fmt: skip
    receiver = _Receiver()
    try:  # the restart has no new line to read; it posts what the state kept
        again = watch(*common, "--webhook", receiver.url, "--webhook-drain", "30")
    finally:
        receiver.close()
    assert again.returncode == 0 and again.stdout == ""
    assert receiver.got == events[:2]
    assert "2 event(s) posted, 0 dropped" in again.stderr


def test_a_toml_configuration_and_the_command_line_over_it(tmp_path):
    _, lines = steth_lines("long")
    path = tmp_path / "ticks.jsonl"
    path.write_text("\n".join(lines) + "\n")
    flags = [str(path), "--benchmark", "ETH", "--portfolio", "STETH", "--limit", "10%",
             "--window", "30", "--periods-per-year", "crypto-daily"]  # fmt: skip
    want = watch(*flags)
    config = tmp_path / "watch.toml"
    config.write_text(
        'benchmark = "ETH"\nportfolios = ["STETH"]\nlimit = "10%"\nwindow = 30\n'
        'periods_per_year = "crypto-daily"\nclear_below = 0.1\n'
    )
    got = watch(str(path), "--config", str(config))
    assert got.returncode == 0, got.stderr
    assert got.stdout == want.stdout and want.stdout.count("\n") >= 8
    # the command line wins over the file
    over = watch(str(path), "--config", str(config), "--limit", "20%")
    same = [*flags[:-6], "--limit", "20%", *flags[-4:], "--clear-below", "0.1"]
    assert over.stdout == watch(*same).stdout
    assert over.stdout != want.stdout
    for text, message in (
        ('benchmark = "ETH"\nlimt = 0.1\n', "unknown option(s) limt"),
        ('benchmark = "ETH"\nlimit = "ten"\n', "limit"),
        ('benchmark = "ETH"\nlimit = 0.1\nreturns = "yes"\n', "returns must be true or false"),
        ('benchmark = "ETH"\nlimit = 0.1\nportfolios = "STETH"\n', "list of asset names"),
        ("benchmark = \n", "not valid TOML"),
        ("limit = 0.1\n", "--benchmark is required"),
    ):
        config.write_text(text)
        bad = watch(str(path), "--config", str(config))
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
        assert message in bad.stderr
