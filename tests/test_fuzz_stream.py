"""Fuzzing the streaming states (issue 9): constructor options (numpy integers,
huge and odd values), tick sequences of mixed types, shapes, NaN and inf,
batches against tick-by-tick, merges and checkpoints.

The rule: a correct result (Window equals ``rolling_*(...)[-1]``, a time
window ``rolling_*(..., span, times=...)[-1]``, Cumulative the full-sample
functions, Exponential explicitly weighted sums) or a clean
ValueError/TypeError (MemoryError for an allocation the machine refuses) that
leaves the state unchanged; never a crash, never a modified input.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import pickle
import struct
import zlib
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import trackerr
from fuzzing import FUZZ, SECONDS, budget
from trackerr import stream

CLEAN = (ValueError, TypeError)
FIELDS = ("tracking_error", "active_return", "beta", "correlation", "alpha")

# --- constructor options -----------------------------------------------------------

odd_ints = st.sampled_from(
    [
        0,
        1,
        2,
        3,
        5,
        -1,
        2**31,
        2**62,
        2**63 - 1,
        2**63,
        2**64,
        10**12,
        True,
        False,
        2.0,
        2.5,
        "3",
        None,
    ]
)
numpy_ints = st.sampled_from(
    [np.int64(3), np.int32(2), np.uint8(4), np.uint64(2**63), np.int64(-2)]
)
sizes = st.one_of(odd_ints, numpy_ints)
# n_portfolios stays small or far beyond memory, so a fuzzer never allocates gigabytes
portfolio_counts = st.sampled_from(
    [None, 1, 2, 3, np.int64(2), np.uint16(3), 0, -1, 2**50, 2**62, 2**63, True, 1.0, "2"]
)
reals = st.sampled_from(
    [0, 1, 2, 0.5, np.float32(1), math.nan, math.inf, -1, True, "1", None, 252, "daily"]
)


# spans of time for the time windows, good and bad
spans = st.sampled_from(
    [
        "30D",
        "5min",
        "1.5h",
        "1M",
        "soon",
        "",
        "-2h",
        "0s",
        dt.timedelta(hours=3),
        dt.timedelta(0),
        np.timedelta64(3, "h"),
        np.timedelta64(-1, "h"),
        np.timedelta64(1, "M"),
        np.timedelta64("NaT", "h"),
        np.timedelta64(2**62, "ns"),
    ]
)


def _build(kind: str, kw: dict[str, Any]) -> Any:
    if kind in ("window", "time-window"):
        return stream.Window(kw.pop("window"), **kw)
    if kind == "cumulative":
        kw.pop("window")
        return stream.Cumulative(**kw)
    kw.pop("window")
    return stream.Exponential(**kw)


@FUZZ
@given(
    st.sampled_from(["window", "time-window", "cumulative", "exponential"]),
    st.one_of(sizes, spans),
    portfolio_counts,
    st.one_of(st.none(), sizes),
    reals,
    reals,
    st.fixed_dictionaries(
        {},
        optional={
            "span": reals,
            "halflife": reals,
            "alpha": reals,
            "adjust": st.sampled_from([True, False, np.bool_(True), 1, None]),
            "time_based": st.sampled_from([True, False, 0]),
            "risk_free": reals,
        },
    ),
)
def test_constructors_build_or_refuse_cleanly(kind, window, n, min_periods, ddof, periods, extra):
    kw: dict[str, Any] = {"window": window, "n_portfolios": n, "min_periods": min_periods}
    kw["ddof"] = ddof
    kw["periods_per_year"] = periods
    if kind == "exponential":
        kw.update(extra)
    elif "risk_free" in extra:
        kw["risk_free"] = extra["risk_free"]
    try:
        s = _build(kind, kw)
    except (*CLEAN, MemoryError) as e:
        assert "\n" not in str(e) and str(e), repr(e)
        return
    # a state that builds takes a tick and reads out
    tick = 0.01 if s.n_portfolios is None else np.full(s.n_portfolios, 0.01)
    if isinstance(s, stream.TimeWindow):
        s.update(tick, 0.0, np.datetime64("2024-01-01T00:00"))
    elif kind == "exponential" and s.time_based:
        s.update(tick, 0.0, 1.0)
    else:
        s.update(tick, 0.0)
    _ = s.tracking_error, s.beta, repr(s)
    assert type(s).from_bytes(s.to_bytes()).to_bytes() == s.to_bytes()


# --- ticks ------------------------------------------------------------------------

values = st.one_of(
    st.floats(-1e3, 1e3),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1e-300, 5e-324, 1e300]),
)
# the ways a number can arrive, good and bad
wrappers = st.sampled_from(
    ["float", "int", "f32", "f64", "i64", "bool", "complex", "str", "list", "masked", "0d", "big"]
)


def _wrap(v: float, how: str) -> Any:
    if how == "int":
        return int(v) if math.isfinite(v) else v
    if how == "f32":
        return np.float32(v)
    if how == "f64":
        return np.float64(v)
    if how == "i64":
        return np.int64(int(v)) if math.isfinite(v) and abs(v) < 2**62 else v
    if how == "bool":
        return bool(v)
    if how == "complex":
        return complex(v, 1.0)
    if how == "str":
        return str(v)
    if how == "list":
        return [v]
    if how == "masked":
        return np.ma.array(v, mask=True)
    if how == "0d":
        return np.array(v)
    if how == "big":
        return 2**1100
    return float(v)


def _as_float(x: Any) -> float | None:
    """The number a tick means, or None when it must be refused."""
    if isinstance(x, (bool, np.bool_, complex, str, list)) or (
        isinstance(x, int) and abs(x) > 2**1000
    ):
        return None
    if isinstance(x, np.ma.MaskedArray):
        return math.nan
    return float(x)


@st.composite
def streams(draw):
    kind = draw(
        st.sampled_from(
            [
                "window",
                "time-window",
                "cumulative",
                "exp",
                "exp-false",
                "exp-time",
                "exp-time-false",
            ]
        )
    )
    n = draw(st.sampled_from([None, 1, 3]))
    w = draw(st.integers(2, 9))
    ops = draw(
        st.lists(st.tuples(st.sampled_from(["tick", "batch", "bad"]), st.data()), max_size=12)
    )
    return kind, n, w, ops


def _make(kind: str, n: int | None, w: int) -> Any:
    if kind == "window":
        return stream.Window(w, n_portfolios=n, min_periods=2)
    if kind == "time-window":  # w seconds; the fuzzers' clocks count seconds
        return stream.Window(f"{w}s", n_portfolios=n, min_periods=2)
    if kind == "cumulative":
        return stream.Cumulative(n_portfolios=n)
    adjust = not kind.endswith("false")
    if kind.startswith("exp-time"):
        return stream.Exponential(halflife=2.5, time_based=True, adjust=adjust, n_portfolios=n)
    return stream.Exponential(span=w, adjust=adjust, n_portfolios=n)


def _close(a: Any, b: Any, rel: float = 1e-8, absolute: float = 1e-10) -> bool:
    """Equal up to the tolerance, NaN matching NaN and inf matching inf."""
    a = np.atleast_1d(np.asarray(a, dtype=np.float64))
    b = np.atleast_1d(np.asarray(b, dtype=np.float64))
    same_nan = (np.isnan(a) == np.isnan(b)).all() and (a[np.isinf(a)] == b[np.isinf(a)]).all()
    ok = np.isfinite(a)
    err = np.abs(a[ok] - b[ok])
    return bool(same_nan and (err <= absolute + rel * np.abs(b[ok])).all())


def _weighted_reference(P, B, T, kind, w):
    """Mean of p - b and its std for each portfolio under pandas' weights."""
    alpha = 2.0 / (w + 1.0)
    adjust = not kind.endswith("false")
    out_mean, out_sd = [], []
    for j in range(P.shape[1]):
        p, b = P[:, j], B
        ok = ~(np.isnan(p) | np.isnan(b))
        x, t = p[ok] - b[ok], T[ok]
        if not np.isfinite(p[ok]).all() or not np.isfinite(b[ok]).all() or not np.isfinite(x).all():
            out_mean.append(math.nan)
            out_sd.append(math.nan)
            continue
        k = len(x)
        if k == 0:
            out_mean.append(math.nan)
            out_sd.append(math.nan)
            continue
        if kind.startswith("exp-time"):
            if adjust:
                wt = 0.5 ** ((t[-1] - t) / 2.5)
            else:  # the recursion: step weight 1 - 2^(-dt/h), the seed takes the rest
                steps = -np.expm1(-np.diff(t) * math.log(2) / 2.5)
                wt = np.empty(k)
                for i in range(k):
                    own = 1.0 if i == 0 else steps[i - 1]
                    wt[i] = own * np.prod(1.0 - steps[i:])
        elif adjust:
            wt = (1 - alpha) ** np.arange(k - 1, -1, -1.0)
        else:
            wt = alpha * (1 - alpha) ** np.arange(k - 1, -1, -1.0)
            wt[0] = (1 - alpha) ** (k - 1)
        wn = wt / wt.sum()
        m = float((wn * x).sum())
        denom = 1.0 - float((wn * wn).sum())
        var = float((wn * (x - m) ** 2).sum()) / denom if denom > 0 else math.nan
        out_mean.append(m)
        out_sd.append(math.sqrt(var) if var == var else math.nan)
    return np.array(out_mean), np.array(out_sd)


@FUZZ
@given(streams())
def test_tick_sequences(case):
    with np.errstate(all="ignore"):
        _tick_sequences(*case)


_T0 = np.datetime64("2024-01-01T00:00:00", "ns")


def _at(kind: str, clock: Any) -> Any:
    """The fuzzers' clock (seconds, a float or an array) as a state takes it:
    numbers for the time-based exponential states, datetime64 for time windows."""
    if kind != "time-window":
        return clock
    c = np.asarray(clock, dtype=np.float64)
    when = _T0 + np.where(np.isnan(c), 0, c * 1e9).astype(np.int64).astype("timedelta64[ns]")
    when = np.where(np.isnan(c), np.datetime64("NaT"), when)
    return when[()] if when.ndim == 0 else when


def _tick_sequences(kind, n, w, ops):
    s, twin = _make(kind, n, w), _make(kind, n, w)  # twin: the same ticks one at a time
    timed = kind.startswith("exp-time") or kind == "time-window"
    width = 1 if n is None else n
    rows_p: list[np.ndarray] = []
    rows_b: list[float] = []
    rows_t: list[float] = []
    clock = 0.0
    for op, data in ops:
        before = s.to_bytes()
        if op == "bad":  # a wrong type, shape or time: refused, nothing changes
            how = data.draw(
                st.sampled_from(["complex", "str", "bool", "shape", "nan-time", "back", "list-b"])
            )
            p: Any = 0.01 if n is None else np.full(n, 0.01)
            b: Any = 0.0
            args: tuple[Any, ...]
            if how in ("complex", "str", "bool"):
                p = _wrap(0.01, how) if n is None else np.full(n, _wrap(0.01, how))
            elif how == "shape":
                p = np.zeros(width + 1) if n is not None else np.zeros((2, 2))
            elif how == "list-b":
                b = [0.0, 0.0]
            t = (
                math.nan
                if how == "nan-time"
                else (clock - 1.0 if how == "back" and rows_t else clock)
            )
            if how in ("nan-time", "back") and not timed:
                t = 1.0  # a time given to an untimed state
            else:
                t = _at(kind, t)
            args = (p, b, t) if timed or how in ("nan-time", "back") else (p, b)
            if how == "back" and timed and not rows_t:
                continue
            with pytest.raises(CLEAN) as e:
                s.update(*args)
            assert "\n" not in str(e.value)
            assert s.to_bytes() == before
            continue
        if op == "tick":
            raw = [data.draw(values) for _ in range(width)]
            how = data.draw(wrappers)
            braw = data.draw(values)
            bhow = data.draw(st.sampled_from(["float", "int", "f32", "i64", "0d"]))
            p = _wrap(raw[0], how) if n is None else np.array(raw, dtype=np.float64)
            b = _wrap(braw, bhow)
            clock_before = clock
            clock += data.draw(st.sampled_from([0.0, 0.5, 1.0, 7.0]))
            args = (p, b, _at(kind, clock)) if timed else (p, b)
            p_copy = pickle.dumps(p)
            want_p = _as_float(p) if n is None else 0.0
            want_b = _as_float(b)
            try:
                s.update(*args)
            except CLEAN:
                assert want_p is None or want_b is None, (p, b)
                assert s.to_bytes() == before
                clock = clock_before  # a refused tick does not move the state's clock
                continue
            finally:
                assert pickle.dumps(p) == p_copy  # the input is untouched
            assert want_p is not None and want_b is not None, (p, b)
            row = np.array([want_p]) if n is None else np.array(raw, dtype=np.float64)
            twin.update(
                *(
                    (row[0] if n is None else row, float(want_b))
                    + ((_at(kind, clock),) if timed else ())
                )
            )
            rows_p.append(row)
            rows_b.append(float(want_b))
            rows_t.append(clock)
        else:  # a batch of clean ticks, as arrays of some dtype
            k = data.draw(st.integers(0, 2 * w + 3))
            P = np.array(
                [[data.draw(values) for _ in range(width)] for _ in range(k)], dtype=np.float64
            )
            P = P.reshape(k, width)
            B = np.array([data.draw(values) for _ in range(k)], dtype=np.float64)
            T = clock + np.cumsum(
                np.array([data.draw(st.sampled_from([0.0, 1.0, 3.0])) for _ in range(k)])
            )
            dtype = data.draw(st.sampled_from([np.float64, np.float32, "F-order"]))
            if dtype == np.float32:
                P, B = (
                    P.astype(np.float32).astype(np.float64),
                    B.astype(np.float32).astype(np.float64),
                )
                Pin, Bin = P.astype(np.float32), B.astype(np.float32)
            elif dtype == "F-order":
                Pin, Bin = np.asfortranarray(P), B
            else:
                Pin, Bin = P.copy(), B.copy()
            pin = Pin[:, 0] if n is None else Pin
            saved = (pin.copy(), Bin.copy())
            Tin = _at(kind, T)
            s.update(*((pin, Bin, Tin) if timed else (pin, Bin)))
            np.testing.assert_array_equal(pin, saved[0])
            np.testing.assert_array_equal(Bin, saved[1])
            for i in range(k):
                twin.update(
                    *(
                        (P[i, 0] if n is None else P[i], B[i])
                        + ((_at(kind, T[i]),) if timed else ())
                    )
                )
                rows_p.append(P[i])
                rows_b.append(float(B[i]))
                rows_t.append(float(T[i]) if timed else 0.0)
            if k:
                clock = float(T[-1])
    # checkpoints and copies
    for clone in (type(s).from_bytes(s.to_bytes()), pickle.loads(pickle.dumps(s)), s.copy()):
        assert clone.to_bytes() == s.to_bytes()
    np.testing.assert_array_equal(s.count, twin.count)
    if not rows_p:
        assert np.all(np.asarray(s.count) == 0)
        return
    P = np.array(rows_p).reshape(len(rows_p), width)
    B = np.array(rows_b)
    finite = np.concatenate([P[np.isfinite(P)], B[np.isfinite(B)]])
    if finite.size and np.abs(finite).max() > 1e150:
        return  # squares overflow: no agreement is defined there (a clean run is all we ask)
    # batch == tick by tick
    for f in FIELDS:
        a, b = getattr(s, f), getattr(twin, f)
        assert _close(a, b, rel=1e-9, absolute=1e-12), (f, a, b)
    nonzero = np.abs(finite[finite != 0.0])
    if nonzero.size and nonzero.min() < 1e-150:
        # squares underflow in the states (their documented range, as the rolling
        # kernels'); the batch functions rescale such data, so they may differ
        return
    pn = P[:, 0] if n is None else P
    with np.errstate(all="ignore"):
        if kind == "time-window":
            times = _at(kind, np.array(rows_t))
            for f in FIELDS:
                want = getattr(trackerr, f"rolling_{f}")(pn, B, f"{w}s", min_periods=2, times=times)
                assert _close(getattr(s, f), want[-1], rel=1e-7, absolute=1e-9), f
        elif kind == "window":
            want = trackerr.rolling_tracking_error(pn, B, w, min_periods=2)[-1]
            assert _close(s.tracking_error, want, rel=1e-7, absolute=1e-9)
            want = trackerr.rolling_beta(pn, B, w, min_periods=2)[-1]
            assert _close(s.beta, want, rel=1e-6, absolute=1e-9)
        elif kind == "cumulative":
            cols = [P[:, j] for j in range(width)]
            te = [trackerr.tracking_error(c, B) for c in cols]
            ar = [trackerr.active_return(c, B) for c in cols]
            assert _close(s.tracking_error, te if n else te[0], rel=1e-7, absolute=1e-9)
            assert _close(s.active_return, ar if n else ar[0], rel=1e-7, absolute=1e-9)
        else:
            mean, sd = _weighted_reference(P, B, np.array(rows_t), kind, w)
            assert _close(s.active_return, mean if n else mean[0], rel=1e-6, absolute=1e-9)
            assert _close(s.tracking_error, sd if n else sd[0], rel=1e-5, absolute=1e-8)


def test_time_windows_equal_the_rolling_functions_over_random_streams():
    """Random streams at random times (ties, bursts, long gaps), NaN and inf
    ticks, large levels, fed in random batches and checkpointed on the way:
    the state equals one tick at a time (TE within 1e-12), the rolling
    functions with the same span and times at the last row, and its own
    checkpoint bit for bit."""
    for rng in budget(seconds=SECONDS / 3):
        n = [None, 1, 3][int(rng.integers(3))]
        width = 1 if n is None else n
        T = int(rng.integers(1, 120))
        gaps = rng.choice([0, 0, 1, 7, 60, 3600], T) * rng.integers(1, 4, T)
        times = _T0 + np.cumsum(gaps).astype("timedelta64[s]")
        span = ["1s", "30s", "10min", "2h", "1D"][int(rng.integers(5))]
        level = [0.0, 1.0, 1e6][int(rng.integers(3))]
        B = level + rng.normal(0, 0.01, T)
        P = B[:, None] * rng.uniform(0.5, 1.5, width) + rng.normal(0, 0.003, (T, width))
        for arr in (P, B):
            flat = arr.reshape(-1)
            flat[rng.random(flat.size) < 0.05] = np.nan
            if rng.random() < 0.2:
                flat[int(rng.integers(flat.size))] = np.inf
        if rng.random() < 0.2:  # a stale stretch: constant windows
            k = int(rng.integers(T))
            P[k:] = P[k]
            B[k:] = B[k]
        mp = int(rng.integers(1, 4))
        pin = P[:, 0] if n is None else P
        s = stream.Window(span, n_portfolios=n, min_periods=mp)
        one = stream.Window(span, n_portfolios=n, min_periods=mp)
        for i in range(T):
            one.update(pin[i], B[i], times[i])
        lo = 0
        while lo < T:
            hi = min(T, lo + int(rng.integers(0, T + 1)))
            s.update(pin[lo:hi], B[lo:hi], times[lo:hi])
            if rng.random() < 0.3:
                s = pickle.loads(pickle.dumps(s))
            lo = hi
        assert s.ticks == one.ticks == T and s.held == one.held
        np.testing.assert_array_equal(s.count, one.count)
        te_s, te_1 = np.atleast_1d(s.tracking_error), np.atleast_1d(one.tracking_error)
        assert np.array_equal(np.isnan(te_s), np.isnan(te_1)) and np.array_equal(
            te_s == 0, te_1 == 0
        )
        ok = np.isfinite(te_1) & (te_1 > 0)
        assert np.all(np.abs(te_s[ok] - te_1[ok]) <= 1e-12 * te_1[ok])
        want = trackerr.rolling_stats(pin, B, span, min_periods=mp, times=times)
        for f in FIELDS:
            assert _close(getattr(s, f), getattr(one, f), rel=1e-10, absolute=1e-12), f
            last = getattr(want, f)[-1]
            assert _close(getattr(one, f), last, rel=1e-10, absolute=1e-12), f
        assert type(s).from_bytes(s.to_bytes()).to_bytes() == s.to_bytes()


@FUZZ
@given(
    st.sampled_from(["cumulative", "exp", "exp-false", "exp-time", "exp-time-false"]),
    st.sampled_from([None, 2]),
    st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=60),
    st.lists(st.integers(0, 60), max_size=4),
    st.lists(st.sampled_from([0.0, 0.5, 2.0]), min_size=60, max_size=60),
)
def test_merges_equal_one_pass(kind, n, xs, cuts, gaps):
    k = len(xs)
    x = np.array(xs)
    b = np.cos(np.arange(k)) * 0.3
    P = x if n is None else np.column_stack([x, 0.5 * x - b])
    T = np.cumsum(gaps[:k])
    timed = kind.startswith("exp-time")
    whole = _make(kind, n, 5)
    whole.update(*((P, b, T) if timed else (P, b)))
    merged = _make(kind, n, 5)
    edges = [0, *sorted(c for c in cuts if c <= k), k]
    for lo, hi in itertools.pairwise(edges):
        part = _make(kind, n, 5)
        part.update(*((P[lo:hi], b[lo:hi], T[lo:hi]) if timed else (P[lo:hi], b[lo:hi])))
        merged += part
    np.testing.assert_array_equal(merged.count, whole.count)
    for f in FIELDS:
        assert _close(getattr(merged, f), getattr(whole, f), rel=1e-8, absolute=1e-10), f


def test_checkpoint_mutations_never_load_silently():
    """Random states, then random damage: flips, truncations, extensions and
    forged fields under a recomputed checksum. Damage without a valid checksum
    is always refused; a forged record loads only as a state that writes and
    reads back the same."""
    makers = [
        "window",
        "time-window",
        "cumulative",
        "exp",
        "exp-false",
        "exp-time",
        "exp-time-false",
    ]
    for rng in budget(seconds=SECONDS / 3):
        kind = makers[int(rng.integers(len(makers)))]
        n = [None, 1, 3][int(rng.integers(3))]
        w = int(rng.integers(2, 8))
        s = _make(kind, n, w)
        k = int(rng.integers(0, 15))
        width = 1 if n is None else n
        P = rng.normal(0, 0.01, (k, width))
        B = rng.normal(0, 0.01, k)
        if k and rng.random() < 0.3:
            P[rng.integers(k), 0] = [np.nan, np.inf][int(rng.integers(2))]
        args = (P[:, 0] if n is None else P, B)
        if kind.startswith("exp-time") or kind == "time-window":
            args = (*args, _at(kind, np.cumsum(rng.choice([0.0, 1.0], k))))
        s.update(*args)
        raw = bytearray(s.to_bytes())
        bad = bytearray(raw)
        how = rng.integers(4)
        if how == 0:
            for _ in range(int(rng.integers(1, 4))):
                i = int(rng.integers(len(bad)))
                bad[i] ^= 1 << int(rng.integers(8))
        elif how == 1:
            bad = bad[: int(rng.integers(len(bad)))]
        elif how == 2:
            bad += bytes(rng.integers(0, 256, int(rng.integers(1, 9))).astype(np.uint8))
        else:  # forge one 8-byte field after the header and reseal
            i = 16 + int(rng.integers(len(bad) - 28))
            if rng.random() < 0.5:
                values = [0.0, -1.0, 1e300, math.nan, math.inf, 2.0**62, 1.0, 3.0]
                field = struct.pack("<d", values[int(rng.integers(len(values)))])
            else:
                field = struct.pack("<q", int(rng.integers(-3, 2**40)))
            bad[i : i + 8] = field
            bad = bad[:-4] + struct.pack("<I", zlib.crc32(bytes(bad[:-4])))
        if bad == raw:
            continue
        try:
            t = type(s).from_bytes(bytes(bad))
        except ValueError:
            continue
        assert how == 3, "a damaged record without a valid checksum loaded"
        again = type(s).from_bytes(t.to_bytes())
        assert again.to_bytes() == t.to_bytes()
        tick = (0.01 if t.n_portfolios is None else np.full(t.n_portfolios, 0.01), 0.0)
        if isinstance(t, stream.TimeWindow):
            tick = (*tick, np.datetime64("2200-01-01"))
        elif getattr(t, "time_based", False):
            tick = (*tick, 1e9)
        try:
            t.update(*tick)
        except ValueError:  # a forged last time after 1e9
            assert getattr(t, "time_based", False)
        _ = t.tracking_error, t.beta, t.correlation
