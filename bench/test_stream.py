"""Streaming latency: per-tick cost of trackerr.stream updates against the
floor of a pybind11 method call and against river's rolling covariance.

Groups: "stream-scalar" (one float tick per call), "stream-batch" (1e6 ticks
in one call; divide the median by 1e6 for ns per tick; a Window replays only
the last window of a long batch, so its figure is mostly call overhead),
"stream-batch-64" (64 ticks per call into a warm Window: every tick stepped;
an Exponential batch of 1e6 ticks runs as four chunks in lanes, and its peer
feeds the same ticks as batches of 1000, the sequential tick loop),
"stream-panel" (one tick of 1000 portfolios per call, the same tick or fresh
ones, and the call overhead alone: a no-op taking the same arguments). No
timing assertions.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from trackerr import _core, stream

QUICK = os.environ.get("TRACKERR_BENCH_QUICK") == "1"
W = 252


def test_noop_pybind11_call(benchmark):
    """The floor: a bound method taking two doubles and doing nothing."""
    benchmark.group = "stream-scalar"
    probe = _core._Probe()
    benchmark(probe.noop, 0.01, 0.02)


def test_window_update_float(benchmark):
    benchmark.group = "stream-scalar"
    w = stream.Window(W)
    rng = np.random.default_rng(0)
    for x, y in rng.normal(0, 0.01, (W, 2)):
        w.update(float(x), float(y))
    benchmark(w.update, 0.01, 0.02)
    assert w.count == W


def test_cumulative_update_float(benchmark):
    benchmark.group = "stream-scalar"
    c = stream.Cumulative()
    benchmark(c.update, 0.01, 0.02)


def test_river_rolling_cov(benchmark):
    river = pytest.importorskip("river")
    from river import stats, utils

    benchmark.group = "stream-scalar"
    cov = utils.Rolling(stats.Cov, window_size=W)
    for _ in range(W):
        cov.update(0.01, 0.02)
    benchmark(cov.update, 0.01, 0.02)
    assert river is not None


def test_window_batch_update(benchmark):
    benchmark.group = "stream-batch"
    n = 100_000 if QUICK else 1_000_000
    rng = np.random.default_rng(1)
    p, b = rng.normal(0, 0.01, n), rng.normal(0, 0.01, n)

    def run():
        w = stream.Window(W)
        w.update(p, b)
        return w

    w = benchmark(run)
    assert w.count == W


def test_window_batch_shorter_than_window(benchmark):
    """64 ticks a call into a warm window: every tick is stepped (no replay)."""
    benchmark.group = "stream-batch-64"
    rng = np.random.default_rng(3)
    w = stream.Window(W)
    w.update(rng.normal(0, 0.01, W), rng.normal(0, 0.01, W))
    p, b = rng.normal(0, 0.01, 64), rng.normal(0, 0.01, 64)
    benchmark(w.update, p, b)
    assert w.count == W


@pytest.mark.parametrize("kind", ["cumulative", "exponential"])
def test_batch_update_other_states(benchmark, kind):
    benchmark.group = "stream-batch"
    n = 100_000 if QUICK else 1_000_000
    rng = np.random.default_rng(4)
    p, b = rng.normal(0, 0.01, n), rng.normal(0, 0.01, n)

    def run():
        s = stream.Cumulative() if kind == "cumulative" else stream.Exponential(span=W)
        s.update(p, b)
        return s

    s = benchmark(run)
    assert s.count == n


def test_exponential_batch_sequential_peer(benchmark):
    """The same 1e6 ticks as 1000 batches of 1000: each below the 1024 ticks
    where a batch is cut into chunks, so this is the sequential tick loop (the
    batch path before issue 10), measured in the same run."""
    benchmark.group = "stream-batch"
    n = 100_000 if QUICK else 1_000_000
    rng = np.random.default_rng(4)
    p, b = rng.normal(0, 0.01, n), rng.normal(0, 0.01, n)
    ps, bs = np.split(p, n // 1000), np.split(b, n // 1000)

    def run():
        s = stream.Exponential(span=W)
        for x, y in zip(ps, bs, strict=True):
            s.update(x, y)
        return s

    s = benchmark(run)
    assert s.count == n


def test_window_n_portfolios_1000(benchmark):
    """The issue's figure: the same tick again and again, so after a window of
    calls every portfolio's window is constant (each tick settles it exactly)."""
    benchmark.group = "stream-panel"
    n = 1000
    w = stream.Window(W, n_portfolios=n)
    rng = np.random.default_rng(2)
    w.update(rng.normal(0, 0.01, (W, n)), rng.normal(0, 0.01, W))
    tick = rng.normal(0, 0.01, n)
    benchmark(w.update, tick, 0.01)
    assert np.all(w.count == W)


def test_window_n_portfolios_1000_fresh_ticks(benchmark):
    """Fresh random ticks (cycling through 4096 of them): the steady state of a
    live monitor, guard rebuilds included."""
    benchmark.group = "stream-panel"
    n = 1000
    w = stream.Window(W, n_portfolios=n)
    rng = np.random.default_rng(2)
    w.update(rng.normal(0, 0.01, (W, n)), rng.normal(0, 0.01, W))
    ticks = list(rng.normal(0, 0.01, (4096, n)))
    bench = rng.normal(0, 0.01, 4096).tolist()
    k = iter(range(10**9))

    def one():
        i = next(k) % 4096
        w.update(ticks[i], bench[i])

    benchmark(one)
    assert np.all(w.count == W)


def test_noop_tick_call(benchmark):
    """The call overhead of a tick across 1000 portfolios: a bound method taking
    a float64 array and a float, with the same argument checks and no state."""
    benchmark.group = "stream-panel"
    probe = _core._Probe()
    tick = np.random.default_rng(2).normal(0, 0.01, 1000)
    benchmark(probe.noop_tick, tick, 0.01)


def test_noop_tick_call_in_a_closure(benchmark):
    """The same, from the closure the fresh-ticks case calls (its Python part)."""
    benchmark.group = "stream-panel"
    probe = _core._Probe()
    rng = np.random.default_rng(2)
    ticks = list(rng.normal(0, 0.01, (4096, 1000)))
    bench = rng.normal(0, 0.01, 4096).tolist()
    k = iter(range(10**9))

    def one():
        i = next(k) % 4096
        probe.noop_tick(ticks[i], bench[i])

    benchmark(one)
