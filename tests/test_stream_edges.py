"""Streaming states at their edges (issue 9): sizes that overflow, one validated
path for checkpoints, checksummed records, time-based decay, pandas' adjust,
the smoothing accessor, argument errors and numpy integers.

Expected values come from pandas, zlib or hand derivation, never from the
states themselves.
"""

from __future__ import annotations

import math
import pickle
import struct
import zlib
from typing import Any

import numpy as np
import pytest

import trackerr
from trackerr import _core, stream

from conftest import stream_pair as _data

pd = pytest.importorskip("pandas")


def _reseal(raw: bytes | bytearray) -> bytes:
    """A record with its CRC-32 recomputed (zlib's), as a forger would."""
    body = bytes(raw[:-4])
    return body + struct.pack("<I", zlib.crc32(body))


# Record layout (format 3): magic, version, kind, flags, then the fields.
VERSION, FLAGS, BODY = 4, 12, 16


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(exc.value)
    assert "\n" not in msg, msg
    for raw in ("incompatible", "Unable to cast", "max_size", "std::", "C++ type"):
        assert raw not in msg, msg
    return msg


# --- item 1: sizes -------------------------------------------------------------


def test_window_times_portfolios_overflow_is_a_value_error():
    # 2**62 x 4 doubles overflows size_t: it used to segfault on the first tick
    with pytest.raises(
        ValueError, match=r"window \(=4611686018427387904\) x n_portfolios \(=4\)"
    ) as e:
        stream.Window(2**62, n_portfolios=4)
    _one_line(e)
    # the compiled class checks too (C++ users skip Python)
    with pytest.raises(ValueError, match="too large for a ring buffer"):
        _core.Window(2**62, 4, False, 1.0, math.nan, 0, 0.0)
    with pytest.raises(ValueError, match="too large"):
        trackerr.Monitor(0.05, window=2**62, n_portfolios=4)


def test_a_huge_window_costs_memory_only_as_ticks_arrive():
    s = stream.Window(10**12, n_portfolios=4, min_periods=2)
    s.update(np.zeros(4), 0.0)
    s.update(np.full(4, 0.01), 0.0)
    np.testing.assert_allclose(s.tracking_error, np.std([0.0, 0.01], ddof=1))
    assert len(s.to_bytes()) < 2000  # two ticks held, not 10**12
    back = stream.Window.from_bytes(s.to_bytes())
    np.testing.assert_array_equal(back.tracking_error, s.tracking_error)


def test_huge_n_portfolios_fails_cleanly():
    with pytest.raises(ValueError, match=r"n_portfolios .* is too large"):
        _core.Cumulative(2**62, False, 1.0, math.nan, 0, 0.0)
    for make in (stream.Cumulative, lambda **k: stream.Exponential(span=3, **k)):
        with pytest.raises(
            (ValueError, MemoryError)
        ) as e:  # too large, or refused by the allocator
            make(n_portfolios=2**50)
        _one_line(e)


def test_ring_fills_and_wraps_like_rolling(rng):
    p, b = _data(rng, 40, nans=True)
    s = stream.Window(7, min_periods=2)
    want = trackerr.rolling_tracking_error(p, b, 7, min_periods=2)
    for t in range(40):
        s.update(p[t], b[t])
        raw = s.to_bytes()
        back = stream.Window.from_bytes(raw)  # every ring state round-trips
        assert back.to_bytes() == raw
        assert s.tracking_error == pytest.approx(want[t], rel=1e-12, nan_ok=True)


# --- item 2: one validated load path --------------------------------------------


def test_scalar_flag_is_checked_on_every_load_path():
    s = stream.Cumulative(n_portfolios=1000)
    s.update(np.zeros((8, 1000)), np.zeros(8))
    raw = bytearray(s.to_bytes())
    assert raw[FLAGS] == 0
    raw[FLAGS] = 1  # "one portfolio fed floats" on a 1000-portfolio state, resealed
    forged = _reseal(raw)
    loaders = [
        stream.Cumulative.from_bytes,
        _core.Cumulative.from_bytes,
        lambda d: stream.Cumulative.__new__(stream.Cumulative).__setstate__((d,)),
        lambda d: pickle.loads(pickle.dumps(s).replace(bytes(s.to_bytes()), d)),
    ]
    for load in loaders:
        with pytest.raises(ValueError, match="scalar flag"):
            load(forged)
    # and the flag is inside the checksum: flipping it alone is refused
    raw = bytearray(s.to_bytes())
    raw[FLAGS] ^= 1
    with pytest.raises(ValueError, match="checksum"):
        stream.Cumulative.from_bytes(bytes(raw))


def test_setstate_takes_bytes_only():
    obj = stream.Window.__new__(stream.Window)
    with pytest.raises(TypeError, match="takes bytes"):
        obj.__setstate__(("not bytes",))
    with pytest.raises(TypeError, match="tuple"):
        obj.__setstate__(b"raw")


# --- item 16: checksums ---------------------------------------------------------


def _states(rng):
    p, b = _data(rng, 30)
    P = np.column_stack([p, 2 * p, b])
    t = np.cumsum(rng.exponential(1.0, 30))
    out = []
    for n in (None, 3):
        x = p if n is None else P
        kw = {"n_portfolios": n}
        for s in (
            stream.Cumulative(**kw),
            stream.Window(5, **kw),
            stream.Exponential(span=4, **kw),
            stream.Exponential(span=4, adjust=False, **kw),
        ):
            s.update(x, b)
            out.append(s)
        for adjust in (True, False):
            e = stream.Exponential(halflife=3.0, time_based=True, adjust=adjust, **kw)
            e.update(x, b, t)
            out.append(e)
    return out


def test_record_ends_with_zlib_crc32(rng):
    for s in _states(rng):
        raw = s.to_bytes()
        assert raw[:4] == b"TRKR"
        assert struct.unpack("<I", raw[VERSION : VERSION + 4])[0] == 3
        assert struct.unpack("<I", raw[-4:])[0] == zlib.crc32(raw[:-4])


def test_every_single_bit_flip_is_refused(rng):
    for s in _states(rng):
        raw = s.to_bytes()
        cls = type(s)
        loaded = 0
        for i in range(len(raw)):
            for bit in range(8):
                bad = bytearray(raw)
                bad[i] ^= 1 << bit
                try:
                    cls.from_bytes(bytes(bad))
                    loaded += 1
                except ValueError:
                    pass
        assert loaded == 0, (repr(s), loaded)


def test_older_and_newer_formats_are_refused_by_name(rng):
    raw = bytearray(stream.Window(5).to_bytes())
    raw[VERSION : VERSION + 4] = struct.pack("<I", 2)
    with pytest.raises(
        ValueError, match="checkpoint format 2 was written by an older trackerr"
    ) as e:
        stream.Window.from_bytes(bytes(raw))
    _one_line(e)
    raw[VERSION : VERSION + 4] = struct.pack("<I", 4)
    with pytest.raises(ValueError, match="format 4 is newer"):
        stream.Window.from_bytes(_reseal(raw))


def test_forged_window_ticks_load_only_as_a_consistent_state(rng):
    """With the checksum recomputed, a changed tick count either is refused or
    gives a state whose own checkpoint loads again."""
    p, b = _data(rng, 12)
    for n_ticks in (3, 12):
        s = stream.Window(5, n_portfolios=2)
        s.update(np.column_stack([p, b])[:n_ticks], b[:n_ticks])
        raw = bytearray(s.to_bytes())
        ticks_at = BODY + 16  # window, n_portfolios, then ticks
        assert struct.unpack("<q", raw[ticks_at : ticks_at + 8])[0] == n_ticks
        for forged_ticks in [0, 1, 2, 4, 5, 6, 11, 13, 2**40, 2**62, 2**63 - 1, -1]:
            bad = bytearray(raw)
            bad[ticks_at : ticks_at + 8] = struct.pack("<q", forged_ticks)
            try:
                t = stream.Window.from_bytes(_reseal(bad))
            except ValueError:
                continue
            again = stream.Window.from_bytes(t.to_bytes())
            t.update(np.zeros(2), 0.0)
            again.update(np.zeros(2), 0.0)
            np.testing.assert_array_equal(t.tracking_error, again.tracking_error)
    # a count that disagrees with the ring is refused
    s = stream.Window(5)
    s.update(p[:8], b[:8])
    raw = bytearray(s.to_bytes())
    n_at = BODY + 32 + 32  # window, n, ticks, slot, options: first field of the active state
    assert struct.unpack("<d", raw[n_at : n_at + 8])[0] == 5.0
    bad = bytearray(raw)
    bad[n_at : n_at + 8] = struct.pack("<d", 4.0)
    with pytest.raises(ValueError, match="counts or runs do not match"):
        stream.Window.from_bytes(_reseal(bad))
    # a run of equal values as long as the window would make it read as constant
    run_at = n_at + 7 * 8  # n, n_bad, level, mean, m2, err, err_mean, run
    assert struct.unpack("<d", raw[run_at : run_at + 8])[0] == 1.0
    bad = bytearray(raw)
    bad[run_at : run_at + 8] = struct.pack("<d", 5.0)
    with pytest.raises(ValueError, match="counts or runs do not match"):
        stream.Window.from_bytes(_reseal(bad))
    # while a constant window's run may exceed the window (it counts from before)
    s = stream.Window(3)
    for _ in range(6):
        s.update(0.01, 0.0)
    raw = s.to_bytes()
    assert struct.unpack("<d", raw[run_at : run_at + 8])[0] == 6.0
    assert stream.Window.from_bytes(raw).tracking_error == 0.0


# --- item 11: time-based decay ----------------------------------------------------


def test_equal_times_are_one_instant_as_pandas():
    e = stream.Exponential(halflife=2, time_based=True)
    e.update([0, 0, 0.5], [0, 0, 0], [0, 1, 1])  # the issue's reproducer
    times = pd.to_datetime([0, 1, 1], unit="D")
    want = pd.Series([0, 0, 0.5]).ewm(halflife="2 days", times=times).mean().iloc[-1]
    assert e.active_return == pytest.approx(want, rel=1e-14)
    assert e.count == 3
    # by hand: two ticks at one instant weigh the same, nothing decays between them
    e = stream.Exponential(halflife=1.0, time_based=True, ddof=0)
    e.update(np.array([1.0, 3.0]), np.zeros(2), np.array([5.0, 5.0]))
    assert e.active_return == 2.0
    assert e.tracking_error == 1.0  # biased std of {1, 3} with equal weights


def test_time_based_mean_matches_pandas_times(rng):
    p, b = _data(rng, 300, nans=True)
    t = np.cumsum(rng.choice([0.0, 0.5, 1.0, 3.0], 300))  # repeated times included
    ok = ~(np.isnan(p) | np.isnan(b))
    times = pd.to_datetime(t[ok] * 86400e9)
    for adjust, step in ((True, t), (False, np.arange(300.0))):
        e = stream.Exponential(halflife=4.0, time_based=True, adjust=adjust)
        e.update(p, b, step)
        when = times if adjust else pd.to_datetime(step[ok] * 86400e9)
        s = pd.Series(p[ok] - b[ok])
        want = s.ewm(halflife="4 days", times=when, adjust=adjust).mean().iloc[-1]
        assert e.active_return == pytest.approx(want, rel=1e-12)


def _weighted(x, y, w, ddof):
    """Weighted mean, variance and covariance with pandas' bias correction."""
    w = w / w.sum()
    mx, my = (w * x).sum(), (w * y).sum()
    c = (w * (x - mx) * (y - my)).sum()
    if ddof == 1:
        c /= 1.0 - (w * w).sum()
    return mx, c


def test_time_based_moments_match_explicit_weights(rng):
    p, b = _data(rng, 200)
    t = np.cumsum(rng.choice([0.0, 0.3, 1.0, 2.5], 200))
    a = p - b
    w = 0.5 ** ((t[-1] - t) / 5.0)  # pandas' weights with times, adjust=True
    # the weighted reference is pandas' own estimator: check it on regular times
    regular = 0.5 ** ((199.0 - np.arange(200.0)) / 5.0)
    assert _weighted(a, a, regular, 1)[1] == pytest.approx(
        pd.Series(a).ewm(halflife=5.0).var().iloc[-1], rel=1e-12
    )
    for ddof in (0, 1):
        e = stream.Exponential(halflife=5.0, time_based=True, ddof=ddof)
        e.update(p, b, t)
        mean_a, var_a = _weighted(a, a, w, ddof)
        assert e.active_return == pytest.approx(mean_a, rel=1e-12)
        assert e.tracking_error == pytest.approx(math.sqrt(var_a), rel=1e-11)
        _, cov = _weighted(p, b, w, ddof)
        _, var_b = _weighted(b, b, w, ddof)
        assert e.beta == pytest.approx(cov / var_b, rel=1e-11)


def test_going_back_in_time_is_an_error_and_changes_nothing():
    e = stream.Exponential(halflife=2.0, time_based=True)
    e.update(np.array([0.01, 0.02]), np.zeros(2), np.array([1.0, 5.0]))
    before = e.to_bytes()
    with pytest.raises(
        ValueError, match=r"t \(=3\) is earlier than the previous tick's time \(=5\)"
    ):
        e.update(0.03, 0.0, 3.0)
    with pytest.raises(
        ValueError, match=r"t \(=4\) is earlier than the previous tick's time \(=6\)"
    ):
        e.update(np.array([0.1, 0.2, 0.3]), np.zeros(3), np.array([5.0, 6.0, 4.0]))
    assert e.to_bytes() == before  # the batch's first ticks were not applied
    e.update(0.03, 0.0, 5.0)  # the same time is fine
    assert e.count == 3


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_time_is_an_error_on_every_path(bad):
    e = stream.Exponential(halflife=2.0, time_based=True)
    e.update(0.01, 0.0, 0.0)
    m = stream.Exponential(halflife=2.0, time_based=True, n_portfolios=2)
    m.update(np.array([0.1, 0.2]), 0.0, 0.0)
    before = e.to_bytes(), m.to_bytes()
    calls = [
        lambda: e.update(0.01, 0.0, bad),  # float fast path
        lambda: e.update(0.01, 0.0, np.float32(bad)),  # general path
        lambda: e.update(np.array([0.1, 0.2]), np.zeros(2), np.array([1.0, bad])),  # batch
        lambda: m.update(np.array([0.1, 0.2]), 0.0, bad),  # one tick of n_portfolios
        lambda: m.update(np.zeros((2, 2)), np.zeros(2), np.array([bad, 2.0])),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=r"t \(=.*\) must be a finite number") as exc:
            call()
        _one_line(exc)
    assert (e.to_bytes(), m.to_bytes()) == before


def test_time_based_merge_at_a_shared_instant_equals_one_pass(rng):
    p, b = _data(rng, 100)
    t = np.floor(np.cumsum(rng.exponential(0.7, 100)))
    t[50] = t[49]
    for adjust in (True, False):
        kw = {"halflife": 3.0, "time_based": True, "adjust": adjust}
        whole = stream.Exponential(**kw)
        whole.update(p, b, t)
        first, second = stream.Exponential(**kw), stream.Exponential(**kw)
        first.update(p[:50], b[:50], t[:50])
        second.update(p[50:], b[50:], t[50:])
        merged = first + second
        for f in ("tracking_error", "active_return", "beta", "correlation", "alpha"):
            assert getattr(merged, f) == pytest.approx(getattr(whole, f), rel=1e-11), f


# --- item 12: alpha is Jensen's alpha; the smoothing factor has its own name ------


def test_exponential_alpha_is_jensens_alpha(rng):
    p, b = _data(rng, 400)
    e = stream.Exponential(span=20, risk_free=1e-4, periods_per_year=252)
    e.update(p, b)
    assert e.smoothing == pytest.approx(2 / 21, rel=1e-15)
    ps, bs = pd.Series(p), pd.Series(b)
    beta = (ps.ewm(span=20).cov(bs) / bs.ewm(span=20).var()).iloc[-1]
    want = (
        (ps.ewm(span=20).mean().iloc[-1] - 1e-4) - beta * (bs.ewm(span=20).mean().iloc[-1] - 1e-4)
    ) * 252
    assert e.alpha == pytest.approx(want, rel=1e-10)
    assert "smoothing=0.0952381" in repr(e)
    assert math.isnan(stream.Exponential(halflife=2, time_based=True).smoothing)
    assert stream.Exponential(alpha=0.3).smoothing == 0.3


# --- item 17: pandas' adjust ------------------------------------------------------


@pytest.mark.parametrize("adjust", [True, False])
@pytest.mark.parametrize("kw", [{"span": 3}, {"span": 30}, {"halflife": 12.0}, {"alpha": 0.2}])
@pytest.mark.parametrize("ddof", [0, 1])
def test_exponential_matches_pandas_ewm(rng, adjust, kw, ddof):
    p, b = _data(rng, 500, nans=True)
    e = stream.Exponential(adjust=adjust, ddof=ddof, **kw)
    e.update(p, b)
    ok = ~(np.isnan(p) | np.isnan(b))
    ps, bs = pd.Series(p[ok]), pd.Series(b[ok])
    ew = {"adjust": adjust, **kw}
    bias = ddof == 0
    assert e.tracking_error == pytest.approx((ps - bs).ewm(**ew).std(bias=bias).iloc[-1], rel=1e-11)
    assert e.active_return == pytest.approx((ps - bs).ewm(**ew).mean().iloc[-1], rel=1e-11)
    beta = (ps.ewm(**ew).cov(bs, bias=bias) / bs.ewm(**ew).var(bias=bias)).iloc[-1]
    assert e.beta == pytest.approx(beta, rel=1e-11)
    assert e.correlation == pytest.approx(ps.ewm(**ew).corr(bs).iloc[-1], rel=1e-11)


def test_issue_example_span_3_std():
    rng = np.random.default_rng(3)
    a = rng.normal(0, 0.03, 50)
    e = stream.Exponential(span=3)
    e.update(a, np.zeros(50))
    assert e.tracking_error == pytest.approx(pd.Series(a).ewm(span=3).std().iloc[-1], rel=1e-12)
    assert e.adjust is True


@pytest.mark.parametrize("adjust", [True, False])
def test_adjust_merges_equal_one_pass_and_checkpoints_keep_it(rng, adjust):
    p, b = _data(rng, 300, nans=True)
    P = np.column_stack([p, b + 0.5 * (p - b)])
    whole = stream.Exponential(span=15, adjust=adjust, n_portfolios=2)
    whole.update(P, b)
    merged = stream.Exponential(span=15, adjust=adjust, n_portfolios=2)
    for lo, hi in ((0, 1), (1, 120), (120, 121), (121, 300)):
        part = stream.Exponential(span=15, adjust=adjust, n_portfolios=2)
        part.update(P[lo:hi], b[lo:hi])
        merged += part
    for f in ("tracking_error", "active_return", "beta", "correlation", "alpha"):
        np.testing.assert_allclose(getattr(merged, f), getattr(whole, f), rtol=1e-11)
    back = stream.Exponential.from_bytes(whole.to_bytes())
    assert back.adjust is adjust
    back.update(P[:5], b[:5])
    whole.update(P[:5], b[:5])
    np.testing.assert_array_equal(back.tracking_error, whole.tracking_error)
    with pytest.raises(ValueError, match="different parameters"):
        stream.Exponential(span=15, adjust=True) + stream.Exponential(span=15, adjust=False)


# --- item 23: one-line messages naming the argument ---------------------------------


@pytest.mark.parametrize(
    ("call", "kind", "pattern"),
    [
        (lambda: stream.Window(2**63), ValueError, r"window \(=9223372036854775808\) is too large"),
        (lambda: stream.Window(2**64 + 1), ValueError, "window"),
        (lambda: stream.Cumulative(n_portfolios=2**63), ValueError, "n_portfolios"),
        (lambda: stream.Cumulative(n_portfolios=2**62), ValueError, "n_portfolios"),
        (lambda: stream.Cumulative(min_periods=2**70), ValueError, "min_periods"),
        (
            lambda: stream.Window(5).update(1 + 2j, 0),
            TypeError,
            r"p must be real numbers.*\(1\+2j\)",
        ),
        (lambda: stream.Window(5).update(0.1, "x"), TypeError, "b must be real numbers.*text"),
        (lambda: stream.Window(5).update(True, 0.0), TypeError, "p must be real numbers.*booleans"),
        (lambda: stream.Window(5).update(0.1, 2**2000), ValueError, r"b \(=.*\) is too large"),
        (
            lambda: stream.Window(5).update(0.1, 0.2, 3.0),
            TypeError,
            r"t is for time windows.*'30D'",
        ),
        (lambda: stream.Window(5).update(0.1), TypeError, r"Window.update takes update\(p, b\)"),
        (lambda: stream.Window(5).update(0.1, 0.2, x=1), TypeError, "keywords"),
        (
            lambda: stream.Window(5, n_portfolios=2).update(np.zeros(2), [1.0, 2.0]),
            ValueError,
            r"with n_portfolios=2, a tick is p of length 2 and one benchmark value b"
            r".*b of shape \(2,\)",
        ),
        (
            lambda: stream.Cumulative(n_portfolios=2).update(np.zeros(2), "ab"),
            TypeError,
            "b must be real numbers",
        ),
        (
            lambda: stream.Cumulative().merge(stream.Exponential(span=3)),
            TypeError,
            r"Cumulative.merge takes another Cumulative, not Exponential",
        ),
        (lambda: stream.Cumulative() + 1, TypeError, "unsupported operand"),
        (lambda: stream.Exponential(span=3).merge(1), TypeError, r"not int \(=1\)"),
        (lambda: stream.Window(5).update(np.zeros(3), np.zeros(4)), ValueError, r"shape \(3,\)"),
        (
            lambda: stream.Exponential(span=3).update(0.1, 0.0, 1.0),
            ValueError,
            "t is for time-based",
        ),
        (lambda: stream.Window.from_bytes(b""), ValueError, "bad magic"),
        (
            lambda: stream.Exponential(halflife=2, time_based=True).update(
                0.1, 0.0, np.datetime64("2024-01-01")
            ),
            TypeError,
            "t must be real numbers.*dates.*seconds",
        ),
        (lambda: stream.Exponential(span=3, adjust=1), TypeError, "adjust must be True or False"),
    ],
)
def test_argument_errors_are_one_line(call, kind, pattern):
    with pytest.raises(kind, match=pattern) as e:
        call()
    _one_line(e)


def test_masked_ticks_are_missing():
    s = stream.Window(3, min_periods=2)
    p = np.ma.array([0.01, 5.0, 0.03], mask=[0, 1, 0])
    s.update(p, np.zeros(3))
    assert s.count == 2
    assert s.tracking_error == pytest.approx(np.std([0.01, 0.03], ddof=1), rel=1e-14)
    assert p[1] is np.ma.masked and p.data[1] == 5.0  # the input is untouched


# --- item 24: numpy integers, min_periods, single timed ticks ------------------------


def test_numpy_integers_are_accepted(rng):
    p, b = _data(rng, 20)
    P = np.column_stack([p, b])
    a = stream.Window(np.int64(5), n_portfolios=np.int64(2), min_periods=np.int64(3))
    c = stream.Window(5, n_portfolios=2, min_periods=3)
    for s in (a, c):
        s.update(P, b)
    np.testing.assert_array_equal(a.tracking_error, c.tracking_error)
    assert stream.Cumulative(n_portfolios=np.uint8(3), min_periods=np.int32(2)).n_portfolios == 3
    assert stream.Exponential(span=3, n_portfolios=np.int16(2)).n_portfolios == 2
    with pytest.raises(TypeError, match="window must be an integer"):
        stream.Window(np.float64(5))
    with pytest.raises(TypeError, match="n_portfolios must be"):
        stream.Window(5, n_portfolios=True)


def test_min_periods_rule_and_message_agree():
    for bad in (0, 6, -1):
        with pytest.raises(ValueError, match=r"between 1 and window \(=5\), or None"):
            stream.Window(5, min_periods=bad)
    for good in (1, 5):
        stream.Window(5, min_periods=good)
    with pytest.raises(ValueError, match="at least 1"):
        stream.Cumulative(min_periods=0)


def test_time_based_n_portfolios_takes_one_tick():
    e = stream.Exponential(halflife=2.0, time_based=True, n_portfolios=2, ddof=0)
    e.update(np.array([0.1, 0.2]), 0.0, 1.0)
    e.update(np.array([0.3, 0.2]), 0.0, 1.0)
    np.testing.assert_array_equal(e.active_return, [0.2, 0.2])  # one instant: plain average
    np.testing.assert_allclose(e.tracking_error, [0.1, 0.0], atol=1e-17)


# --- a constructor that raises leaves nothing to crash on -----------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: stream.Window(1),  # refused in Python
        lambda: stream.Window(2**62, n_portfolios=4),  # refused by the compiled class
        lambda: stream.Exponential(halflife=-1.0),
        lambda: stream.Cumulative(n_portfolios=2**62),
    ],
)
def test_half_built_instance_has_a_safe_repr(build):
    """pytest and debuggers show repr(self) of the frames of a failed
    constructor; that instance holds no compiled state, and reading it read
    uninitialised memory (a crash under pytest before)."""
    with pytest.raises(ValueError) as e:
        build()
    tb = e.value.__traceback__
    selves = []
    while tb is not None:
        if "self" in tb.tb_frame.f_locals:
            selves.append(tb.tb_frame.f_locals["self"])
        tb = tb.tb_next
    assert selves
    for obj in selves:
        assert repr(obj).endswith("not built (its constructor raised)>")
    # pickle goes through from_bytes, which marks its result as built
    s = stream.Window(4)
    assert repr(pickle.loads(pickle.dumps(s))) == repr(s)


# Real checkpoints written by trackerr before format 3 (no checksum, flag byte appended).
FORMAT_2 = {
    stream.Cumulative: bytes.fromhex(
        "54524b5202000000010000000100000000000000000000000000f03f000000000000f87f00000000"
        "000000000000000000000000000000000000084000000000000000007b14ae47e17a843f4f1be8b4"
        "814e7bbf1e82bd9cec79313fa6e2ecc367d8153c4f1be8b4814e4b3c000000000000f03f7b14ae47"
        "e17a84bf000000000000084000000000000000007b14ae47e17a843f00000000000000004e1be8b4"
        "814e6bbf4e1be8b4814e6b3fb5a34b125e953e3f1e82bd9cec79113f1e82bd9cec79213fb7ced228"
        "3764263c623255302aa9033c3096fc62c92f563cb81e85eb51b84e3c000000000000f03f00000000"
        "0000f03f7b14ae47e17a84bf000000000000000001"
    ),
    stream.Exponential: bytes.fromhex(
        "54524b5202000000030000000100000000000000000000000000e03f000000000000f87f00000000"
        "0000f03f000000000000f87f00000000000000000000000000000000000000000000f03f00000000"
        "00000000000000000000f03f000000000000f87f000000000000f87f7b14ae47e17a843f00000000"
        "0000000000000000000000007b14ae47e17a843f0000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000001"
    ),
}


@pytest.mark.parametrize("cls", list(FORMAT_2))
def test_real_format_2_checkpoints_are_refused_by_name(cls):
    older = "checkpoint format 2 was written by an older trackerr"
    with pytest.raises(ValueError, match=older) as e:
        cls.from_bytes(FORMAT_2[cls])
    _one_line(e)
    # old pickles held the same record for __setstate__
    with pytest.raises(ValueError, match=older):
        cls.__new__(cls).__setstate__((FORMAT_2[cls],))


# --- issue 10: long Exponential batches run as four chunks in lanes -----------------

CHUNKED = 1024  # Exponential.chunked_rows in stream.hpp


def _fields(s: Any) -> list[Any]:
    return [
        np.asarray(getattr(s, f)).tolist()
        for f in (
            "tracking_error",
            "active_return",
            "information_ratio",
            "beta",
            "alpha",
            "correlation",
            "r_squared",
            "count",
        )
    ]


def _bits_equal(a: list[Any], b: list[Any]) -> bool:
    """Equal bit for bit, NaN equal to NaN (one field at a time, arrays as lists)."""
    fa = np.asarray(a, dtype=np.float64).view(np.int64)
    fb = np.asarray(b, dtype=np.float64).view(np.int64)
    return bool(np.array_equal(fa, fb))


def _adversarial_column(rng: np.random.Generator, n: int, case: str) -> tuple[Any, Any]:
    b = rng.normal(0.0003, 0.01, n)
    p = 0.9 * b + rng.normal(0.0001, 0.003, n)
    if case == "large level":  # the digits live far below the level
        p, b = p + 1e9, b + 1e9
    elif case == "constant runs":
        p[100:700] = 0.5
        b[100:700] = 0.25
        p[n - 300 :] = 0.125  # the whole last chunk constant on both sides
        b[n - 300 :] = 0.0625
    elif case == "huge value":
        p[n // 4 + 3] = 1e150  # inside chunk 1, then gone
    elif case == "tiny":
        p, b = p * 1e-150, b * 1e-150
    elif case == "huge":
        p, b = p * 1e150, b * 1e150
    elif case == "nan":
        p[n // 2 + 5] = np.nan  # chunk 2 is redone tick by tick
        b[7] = np.nan
    elif case == "inf":
        p[3 * n // 4 + 1] = np.inf
    return p, b


CASES = ["plain", "large level", "constant runs", "huge value", "tiny", "huge", "nan", "inf"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("rows", [CHUNKED, CHUNKED + 3, 4 * CHUNKED - 1])
@pytest.mark.parametrize("kw", [{"span": 63}, {"alpha": 0.5, "adjust": False}, {"halflife": 20.0}])
def test_long_exponential_batch_is_its_chunks_merged(rng, case, rows, kw):
    """A batch of rows >= 1024 ticks equals, bit for bit, the state followed by
    its four chunks of rows // 4 ticks (each stepped tick by tick: shorter than
    1024) merged in order, then the tail's ticks: the lanes compute what the
    scalar step computes, and a chunk with a NaN or inf falls back to it."""
    p, b = _adversarial_column(rng, rows + 40, case)
    head, (p, b) = (p[:40], b[:40]), (p[40:], b[40:])
    for n_portfolios in (None, 3):
        if n_portfolios is None:
            P, H = p, head[0]
        else:
            P = np.column_stack([p, -2.0 * p, b])
            H = np.column_stack([head[0], -2.0 * head[0], head[1]])
        batch = stream.Exponential(n_portfolios=n_portfolios, **kw)
        batch.update(H, head[1])
        ref = batch.copy()
        P0 = P.copy()
        batch.update(P, b)
        assert np.array_equal(P, P0, equal_nan=True)  # the input is not modified
        c = rows // 4
        for k in range(4):
            part = stream.Exponential(n_portfolios=n_portfolios, **kw)
            part.update(P[k * c : (k + 1) * c], b[k * c : (k + 1) * c])
            ref += part
        for t in range(4 * c, rows):
            ref.update(P[t], b[t])
        for got, want in zip(_fields(batch), _fields(ref), strict=True):
            assert _bits_equal(got, want), (case, got, want)


@pytest.mark.parametrize("case", ["plain", "large level", "constant runs", "huge value", "tiny"])
def test_long_exponential_batch_agrees_with_ticks_and_exact_sums(rng, case):
    """The chunked batch against the tick loop (the sequential path) and, where
    they differ beyond 1e-12, against exact rational weighted sums: the batch
    must then be the closer one (as for merges)."""
    from test_stream import _exact_ewm

    rows = 1100
    p, b = _adversarial_column(rng, rows, case)
    kw = {"alpha": 2.0**-6}
    batch, ticks = stream.Exponential(**kw), stream.Exponential(**kw)
    batch.update(p, b)
    for x, y in zip(p, b, strict=True):
        ticks.update(float(x), float(y))
    assert batch.count == ticks.count == rows
    exact = None
    for f in ("tracking_error", "active_return", "beta", "correlation"):
        got, want = getattr(batch, f), getattr(ticks, f)
        if got == pytest.approx(want, rel=1e-12, abs=1e-300):
            continue
        if exact is None:
            exact = _exact_ewm(p, b, batch.smoothing, batch.adjust, 1)
        e = exact[f]
        assert abs(got - e) <= abs(want - e) + 1e-12 * abs(e), (f, got, want, e)
    if case == "constant runs":  # the last 300 ticks are constant, the older ones still weigh
        assert batch.tracking_error > 0


def test_long_exponential_batch_matches_pandas(rng):
    p, b = _data(rng, 5000)
    e = stream.Exponential(span=252)
    e.update(p, b)
    a = pd.Series(p - b).ewm(span=252)
    assert e.tracking_error == pytest.approx(a.std().iloc[-1], rel=1e-12)
    assert e.active_return == pytest.approx(a.mean().iloc[-1], rel=1e-12)
    ps, bs = pd.Series(p), pd.Series(b)
    beta = ps.ewm(span=252).cov(bs) / bs.ewm(span=252).var()
    assert e.beta == pytest.approx(beta.iloc[-1], rel=1e-12)
    assert e.correlation == pytest.approx(ps.ewm(span=252).corr(bs).iloc[-1], rel=1e-12)


def test_constant_long_exponential_batch_is_exactly_zero():
    e = stream.Exponential(span=20, n_portfolios=2)
    P = np.full((3000, 2), 0.1)
    P[:, 1] = 7.0
    e.update(P, np.full(3000, 0.1))
    assert e.tracking_error.tolist() == [0.0, 0.0]


# --- issue 10: many portfolios, structure of arrays, one pass a tick --------------


def _adversarial_panel(rng: np.random.Generator, T: int) -> tuple[Any, Any]:
    """Columns: a large level, a constant run, a huge value entering and leaving,
    missing and infinite ticks, tiny and huge magnitudes, both sides constant;
    the benchmark missing and infinite once for every column."""
    b = rng.normal(0.0003, 0.01, T)
    b[60:80] = 0.25  # the benchmark constant for longer than the window
    b[200:230] = 0.125
    P = 0.9 * b[:, None] + rng.normal(0.0001, 0.003, (T, 7))
    P[:, 0] += 1e9
    P[100:130, 1] = 0.5
    P[150, 2] = 1e150
    P[5::37, 3] = np.nan
    P[170, 3] = np.inf
    P[:, 4] *= 1e-150
    P[:, 5] *= 1e150
    P[200:230, 6] = 0.125  # both sides constant: TE exactly 0
    b[120] = np.nan
    b[140] = -np.inf
    return P, b


@pytest.mark.parametrize("w", [2, 12])
def test_n_portfolios_equal_one_portfolio_windows_bit_for_bit(rng, w):
    """Each column of a Window(n_portfolios=7) reads, bit for bit at every tick,
    what a one-portfolio Window fed that column as floats reads (the one-pass
    step across portfolios against the scalar path), on adversarial columns."""
    P, b = _adversarial_panel(rng, 260)
    many = stream.Window(w, n_portfolios=7)
    ones = [stream.Window(w) for _ in range(7)]
    zero_te = 0
    for t in range(len(b)):
        many.update(P[t], b[t])  # a float64 array: read in place
        for j, one in enumerate(ones):
            one.update(float(P[t, j]), float(b[t]))
        got = _fields(many)
        for j, one in enumerate(ones):
            want = _fields(one)
            assert _bits_equal([g[j] for g in got], want), (t, j)
        if 200 + w - 1 <= t < 230:
            assert many.tracking_error[6] == 0.0
            zero_te += 1
    assert zero_te == 31 - w
    # batches: each column as a one-portfolio Window fed the same batches (a
    # batch at least a window long replays its last window)
    batch = stream.Window(w, n_portfolios=7)
    cols = [stream.Window(w) for _ in range(7)]
    for lo, hi in [(0, 100), *((t, t + 7) for t in range(100, 260, 7))]:
        batch.update(P[lo:hi], b[lo:hi])
        for j, one in enumerate(cols):
            one.update(np.ascontiguousarray(P[lo:hi, j]), b[lo:hi])
        got = _fields(batch)
        for j, one in enumerate(cols):
            assert _bits_equal([g[j] for g in got], _fields(one)), (lo, j)
    # a checkpoint reloads the same state
    back = stream.Window.from_bytes(many.to_bytes())
    assert back.to_bytes() == many.to_bytes()
    tick = rng.normal(0, 0.01, 7)
    back.update(tick, 0.001)
    many.update(tick, 0.001)
    assert _bits_equal(_fields(back), _fields(many))


def test_tick_arrays_of_every_layout_agree(rng):
    """A float64 C-contiguous tick is read in place; any other layout (float32,
    a strided view, big-endian, a list, a masked array, ints) goes through the
    checked path and gives the same state."""
    w, n = 5, 4
    ticks = np.round(rng.normal(0, 0.01, (40, n)) * 1024) / 1024  # exact in float32
    bench = np.round(rng.normal(0, 0.01, 40) * 1024) / 1024
    layouts = {
        "float64": lambda x: np.ascontiguousarray(x, dtype=np.float64),
        "float32": lambda x: x.astype(np.float32),
        "strided": lambda x: np.repeat(x, 2)[::2],
        "big-endian": lambda x: x.astype(">f8"),
        "list": lambda x: x.tolist(),
        "masked": lambda x: np.ma.masked_array(x, mask=np.zeros(n, bool)),
    }
    states = {}
    for name, make in layouts.items():
        s = stream.Window(w, n_portfolios=n)
        for t in range(40):
            x = make(ticks[t])
            s.update(x, float(bench[t]))
        states[name] = s.to_bytes()
    assert len(set(states.values())) == 1, {k: v[-8:] for k, v in states.items()}
    s = stream.Window(w, n_portfolios=n)
    s.update(np.arange(4), 0)  # ints
    assert s.count.tolist() == [1.0] * 4
    with pytest.raises(ValueError, match="a tick has 3 portfolio values but n_portfolios is 4"):
        s.update(np.zeros(3), 0.0)
    with pytest.raises(TypeError, match="p must be real numbers"):
        s.update(np.array(["a"] * 4), 0.0)
    with pytest.raises(TypeError, match="p must be real numbers"):
        s.update(np.zeros(4, dtype=complex), 0.0)
    x = np.zeros(4)
    x.flags.writeable = False  # read, never written
    s.update(x, 0.0)


def test_call_overhead_probe_takes_the_same_ticks():
    probe = _core._Probe()
    probe.noop_tick(np.zeros(1000), 0.0)
    with pytest.raises(TypeError, match="p must be a 1-D float64 array"):
        probe.noop_tick(np.zeros(1000, dtype=np.float32), 0.0)


def test_window_checkpoint_with_differing_benchmark_values_is_refused(rng):
    """Format 3 stores a tick's benchmark value once per portfolio; the state
    keeps it once, so copies that differ are a corrupted record."""
    s = stream.Window(4, n_portfolios=3)
    s.update(rng.normal(0, 0.01, (6, 3)), rng.normal(0, 0.01, 6))
    raw = bytearray(s.to_bytes())
    last_copy = len(raw) - 4 - 8  # the last portfolio's copy of the last slot's value
    bad = bytearray(raw)
    bad[last_copy : last_copy + 8] = struct.pack("<d", 0.5)
    with pytest.raises(ValueError, match="benchmark value differs between portfolios"):
        stream.Window.from_bytes(_reseal(bad))
    assert stream.Window.from_bytes(bytes(raw)).to_bytes() == bytes(raw)
