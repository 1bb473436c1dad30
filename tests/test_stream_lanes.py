"""stream.Window across many portfolios in lanes (issue 10).

A tick of ``Window(n_portfolios=N)`` steps neighbouring portfolios in the lanes
of one vector (2, 4 or 8 by instruction set, the rest one by one), skips the
step for windows that stay constant, hands a portfolio to the scalar settle
when its guard fires, and takes the general step from the first portfolio
whose entering value is not finite. Whatever the path, portfolio j's state
must be, bit for bit, that of a one-portfolio Window fed column j, under every
instruction set, across checkpoints.

The reference is the one-portfolio Window (its scalar step) and, for the
values, exact arithmetic: nothing here is compared with the lanes' own output
alone.
"""

from __future__ import annotations

import math
import struct
import zlib
from fractions import Fraction

import numpy as np
import pytest

from trackerr import stream

# Record layout (format 3): 16 header bytes, window, n, ticks, slot (4 x i64),
# the options (32 bytes), then 26 doubles of state per portfolio.
STATES = 16 + 32 + 32
PER_PORTFOLIO = 26 * 8


def _state(record: bytes, j: int) -> bytes:
    """Portfolio j's 26 state doubles in a Window checkpoint."""
    start = STATES + j * PER_PORTFOLIO
    return record[start : start + PER_PORTFOLIO]


def _panel(rng: np.random.Generator, t: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Adversarial columns: large levels, constant runs (both signs of zero
    among them), spikes that make the guard fire, NaN and inf, a benchmark
    with constant stretches and a NaN."""
    b = rng.normal(0, 0.01, t)
    b[t // 4 : t // 4 + 90] = 0.5  # stale benchmark
    b[int(t * 0.7)] = np.nan
    p = rng.normal(0, 0.01, (t, n))
    for j in range(n):
        kind = j % 6
        if kind == 1:
            p[:, j] += 1e9  # large level
        elif kind == 2:
            p[t // 3 : t // 3 + 120, j] = 3.0  # stale price
        elif kind == 3:
            p[::97, j] = rng.normal(0, 1e6, len(p[::97, j]))  # spikes
        elif kind == 4:
            p[t // 2 : t // 2 + 60, j] = np.where(np.arange(60) % 2 == 0, 0.0, -0.0)
        elif kind == 5:
            p[t // 5, j] = np.inf
            p[t // 5 + 3, j] = np.nan
    # the whole panel stale for a while (every window constant: the shortcut)
    p[int(t * 0.8) : int(t * 0.8) + 80] = p[int(t * 0.8)]
    b[int(t * 0.8) : int(t * 0.8) + 80] = 0.25
    return p, b


def _feed_and_compare(p: np.ndarray, b: np.ndarray, w: int, check_every: int = 5) -> bytes:
    """Feeds the panel tick by tick to one Window and to one Window per
    column; asserts every column's state has the same bits at every
    check_every-th tick and returns the panel's last record."""
    t, n = p.shape
    many = stream.Window(w, n_portfolios=n)
    ones = [stream.Window(w) for _ in range(n)]
    for i in range(t):
        many.update(p[i], float(b[i]))
        for j in range(n):
            ones[j].update(float(p[i, j]), float(b[i]))
        if i % check_every == 0 or i >= t - 3:
            record = many.to_bytes()
            for j in range(n):
                assert _state(record, j) == _state(ones[j].to_bytes(), 0), (i, j)
    return many.to_bytes()


@pytest.mark.parametrize("n", [1, 3, 8, 13])
def test_many_portfolios_equal_one_window_each_bit_for_bit(rng, each_simd, n):
    p, b = _panel(rng, 900, n)
    records = each_simd(lambda: _feed_and_compare(p, b, 25))
    # and every instruction set gives the same bits
    assert len(set(records.values())) == 1, sorted(records)


def test_lanes_and_tail_under_every_isa_many_columns(rng, each_simd):
    # 8 portfolios a block: 21 = 2 blocks and a tail of 5, so vectors of 2, 4
    # and 8 all leave a remainder to the scalar step somewhere
    p, b = _panel(rng, 400, 21)
    records = each_simd(lambda: _feed_and_compare(p, b, 30, check_every=13))
    assert len(set(records.values())) == 1


def test_non_finite_tick_hands_over_midway(rng, each_simd):
    # The steady pass stops at the first group whose entering value is not
    # finite and the rest takes the general step: every position of the bad
    # value, in the first, a middle and the last group and in the tail.
    n, w = 19, 12
    for bad_at in (0, 3, 7, 8, 15, 16, 18):
        for value in (np.nan, np.inf, -np.inf):
            p = rng.normal(0, 0.01, (60, n))
            b = rng.normal(0, 0.01, 60)
            p[40, bad_at] = value
            records = each_simd(lambda: _feed_and_compare(p, b, w, check_every=1))  # noqa: B023
            assert len(set(records.values())) == 1


def test_overflowing_active_return_hands_over(each_simd):
    # p and b finite but p - b overflows: the active value is non-finite
    n, w = 9, 4
    p = np.full((12, n), 1.0)
    p += np.arange(12)[:, None] * 1e-3
    b = np.linspace(0.0, 1.0, 12)
    p[8, 5] = 1.7e308
    b[8] = -1.7e308
    records = each_simd(lambda: _feed_and_compare(p, b, w, check_every=1))
    assert len(set(records.values())) == 1


def test_constant_windows_read_exactly_zero_and_keep_their_bits(each_simd):
    # The stale shortcut: every window constant, tick after tick. Tracking
    # error is exactly 0; the states are those of one-portfolio windows; a
    # sign change of zero (equal, not the same bits) leaves the shortcut.
    n, w = 11, 10
    rng = np.random.default_rng(5)
    p = np.vstack([rng.normal(0, 0.01, (w, n)), np.tile(rng.normal(0, 0.01, n), (40, 1))])
    b = np.concatenate([rng.normal(0, 0.01, w), np.full(40, 0.02)])
    p[w:, 4] = 0.0
    p[w + 25 :, 4] = -0.0  # == 0.0, other bits: the step and settle, not the shortcut
    p[w:, 7] = -0.0  # a stale zero: the shortcut writes it to the ring
    b_zero = b.copy()
    b_zero[w:] = 0.0
    b_zero[w + 30 :] = -0.0

    def run(bb: np.ndarray) -> tuple[bytes, np.ndarray]:
        record = _feed_and_compare(p, bb, w, check_every=1)
        # the ring holds the bits of the last w ticks, slot by slot (a stale
        # tick writes only the zeros, whose sign may differ)
        ring = np.frombuffer(record, dtype="<u8", count=w * n, offset=STATES + n * PER_PORTFOLIO)
        t = len(bb)
        want = np.empty((w, n))
        for i in range(t - w, t):
            want[i % w] = p[i]
        assert np.array_equal(ring.reshape(w, n), want.view("<u8"))
        s = stream.Window(w, n_portfolios=n)
        s.update(p, bb)
        return record, s.tracking_error

    for bb in (b, b_zero):
        out = each_simd(lambda: run(bb))  # noqa: B023
        assert len({r for r, _ in out.values()}) == 1
        for _, te in out.values():
            assert np.all(te == 0.0), te


def test_guard_fires_in_lanes_and_rebuilds_as_one_window(each_simd):
    # A huge value leaving a window makes the guard fire; the portfolios the
    # tick lists are rebuilt from the ring. Check the result against exact
    # arithmetic too: the standard deviation of the window's active returns.
    n, w = 10, 8
    rng = np.random.default_rng(11)
    p = rng.normal(0, 0.01, (80, n))
    b = rng.normal(0, 0.01, 80)
    p[20, ::3] = 1e12  # leaves the window at tick 28
    records = each_simd(lambda: _feed_and_compare(p, b, w, check_every=1))
    assert len(set(records.values())) == 1
    s = stream.Window(w, n_portfolios=n)
    s.update(p, b)
    for j in range(n):
        a = [
            Fraction(float(x)) - Fraction(float(y)) for x, y in zip(p[-w:, j], b[-w:], strict=True)
        ]
        mean = sum(a) / w
        var = sum((x - mean) ** 2 for x in a) / (w - 1)
        want = math.sqrt(float(var))
        assert s.tracking_error[j] == pytest.approx(want, rel=1e-13)


def test_checkpoint_round_trip_mid_stream_keeps_the_bits(rng, each_simd):
    n, w = 13, 20
    p, b = _panel(rng, 300, n)

    def run() -> bytes:
        whole = stream.Window(w, n_portfolios=n)
        split = stream.Window(w, n_portfolios=n)
        for i in range(len(b)):
            whole.update(p[i], float(b[i]))
            split.update(p[i], float(b[i]))
            if i in (5, 19, 20, 150, 233):  # before, at and after the ring fills
                split = stream.Window.from_bytes(split.to_bytes())
                assert split.to_bytes() == whole.to_bytes()
        assert split.to_bytes() == whole.to_bytes()
        return whole.to_bytes()

    records = each_simd(run)
    assert len(set(records.values())) == 1


def test_checkpoint_of_a_constant_window_is_held_exact():
    # A forged record whose constant window's moments are not exact: loading
    # sets them as update() would have (settle_constant), so the tick's stale
    # shortcut never keeps a wrong moment.
    w = 4
    s = stream.Window(w, n_portfolios=1)
    for _ in range(w + 2):
        s.update(np.array([0.5]), 0.25)
    raw = bytearray(s.to_bytes())
    assert s.tracking_error[0] == 0.0
    # active mean (field 3 of the active state) set to garbage
    struct.pack_into("<d", raw, STATES + 3 * 8, 0.125)
    body = bytes(raw[:-4])
    forged = body + struct.pack("<I", zlib.crc32(body))
    t = stream.Window.from_bytes(forged)
    assert t.active_return[0] == pytest.approx(0.25, abs=0.0)
    assert _state(t.to_bytes(), 0) == _state(s.to_bytes(), 0)
    t.update(np.array([0.5]), 0.25)
    s.update(np.array([0.5]), 0.25)
    assert t.to_bytes() == s.to_bytes()


def test_batches_and_paths_take_the_dispatched_tick(rng, each_simd):
    # A batch shorter than the window steps tick by tick (the dispatched
    # tick), as tracking_error_path does: the same bits as one tick at a time.
    n, w = 12, 160
    p, b = _panel(rng, 400, n)

    def run() -> bytes:
        a = stream.Window(w, n_portfolios=n)
        for lo in range(0, 400, 100):
            a.update(p[lo : lo + 100], b[lo : lo + 100])
        c = stream.Window(w, n_portfolios=n)
        for i in range(len(b)):
            c.update(p[i], float(b[i]))
        assert a.to_bytes() == c.to_bytes()
        path = stream.Window(w, n_portfolios=n).tracking_error_path(p, b)
        assert np.array_equal(path[-1], c.tracking_error, equal_nan=True)
        return a.to_bytes()

    records = each_simd(run)
    assert len(set(records.values())) == 1


def test_ring_grows_across_tiles_and_reads_back(rng):
    # The ring's capacity doubles while it fills; ticks held so far move to
    # the new tiles. The window's values (from the checkpoint's ring, slot by
    # slot) must be the ticks fed.
    n, w = 10, 37
    p = rng.normal(0, 1, (w + 5, n))
    b = rng.normal(0, 1, w + 5)
    s = stream.Window(w, n_portfolios=n)
    for i in range(w + 5):
        s.update(p[i], float(b[i]))
        record = s.to_bytes()
        filled = min(i + 1, w)
        ring = np.frombuffer(
            record, dtype="<f8", count=filled * n, offset=STATES + n * PER_PORTFOLIO
        )
        ring = ring.reshape(filled, n)
        # slot k holds the latest tick fed at position k, k + w, ...
        for k in range(filled):
            last = max(t for t in range(i + 1) if t % w == k)
            assert np.array_equal(ring[k], p[last]), (i, k)
