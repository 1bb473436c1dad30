"""Streaming states: agreement with the rolling and full-sample functions,
merges, batch == tick by tick, checkpoints (including hostile bytes), pickle."""

from __future__ import annotations

import copy
import itertools
import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import trackerr
from trackerr import stream

from conftest import stream_pair as _data

FIELDS = (
    "tracking_error",
    "active_return",
    "information_ratio",
    "beta",
    "alpha",
    "correlation",
    "r_squared",
)
ROLLING = {f: f"rolling_{f}" for f in FIELDS}


def _same(a, b, rel=1e-13):
    """Equal up to rounding: the stream rebuilds its window from the ring with
    scalar sums where the rolling kernel may use its vectorized block sums."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    # means (alpha, active return) round relative to the data (about 0.01), not to themselves
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300) or abs(a - b) <= 1e-14


@pytest.mark.parametrize("nans", [False, True])
@pytest.mark.parametrize("w", [2, 10, 63])
def test_window_equals_rolling_at_every_tick(rng, nans, w):
    p, b = _data(rng, 300, nans)
    s = stream.Window(w, periods_per_year=252, risk_free=1e-4)
    rolled = {f: getattr(trackerr, ROLLING[f])(p, b, w, **_kw(f)) for f in FIELDS}
    for t in range(len(p)):
        s.update(p[t], b[t])
        for f in FIELDS:
            assert _same(getattr(s, f), rolled[f][t]), (f, t)


def _kw(field):
    if field in ("beta", "correlation", "r_squared"):
        return {}
    if field == "alpha":
        return {"periods_per_year": 252, "risk_free": 1e-4}
    return {"periods_per_year": 252}


def test_window_min_periods_and_inf(rng):
    p, b = _data(rng, 120)
    p[50] = np.inf
    s = stream.Window(20, min_periods=5)
    want = trackerr.rolling_tracking_error(p, b, 20, min_periods=5)
    got = []
    for x, y in zip(p, b, strict=True):
        s.update(x, y)
        got.append(s.tracking_error)
    np.testing.assert_allclose(np.array(got), want, rtol=1e-13)


def test_cumulative_equals_full_sample(rng):
    p, b = _data(rng, 1000, nans=True)
    s = stream.Cumulative(periods_per_year="crypto-daily", risk_free=1e-4)
    s.update(p, b)
    kw = {"periods_per_year": "crypto-daily"}
    assert s.tracking_error == pytest.approx(trackerr.tracking_error(p, b, **kw), rel=1e-13)
    assert s.active_return == pytest.approx(trackerr.active_return(p, b, **kw), rel=1e-13)
    assert s.information_ratio == pytest.approx(trackerr.information_ratio(p, b, **kw), rel=1e-12)
    assert s.beta == pytest.approx(trackerr.beta(p, b), rel=1e-13)
    assert s.correlation == pytest.approx(trackerr.correlation(p, b), rel=1e-13)
    assert s.alpha == pytest.approx(trackerr.alpha(p, b, risk_free=1e-4, **kw), rel=1e-12)
    ok = ~(np.isnan(p) | np.isnan(b))
    assert s.count == ok.sum()


def test_cumulative_at_a_large_level_stays_exact(rng):
    b = 1e9 + rng.normal(0, 1e-4, 20_000)
    p = b + rng.normal(0, 1e-4, 20_000)
    s = stream.Cumulative()
    for x, y in zip(p[:2000], b[:2000], strict=True):
        s.update(x, y)
    s.update(p[2000:], b[2000:])
    assert s.tracking_error == pytest.approx(trackerr.tracking_error(p, b), rel=1e-12)
    assert s.beta == pytest.approx(trackerr.beta(p, b), rel=1e-9)


finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(np.float64, st.integers(2, 200), elements=finite), st.data())
def test_merge_of_chunks_equals_one_pass(x, data):
    y = data.draw(hnp.arrays(np.float64, x.shape, elements=finite))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(x)), max_size=4)))
    whole = stream.Cumulative()
    whole.update(x, y)
    merged = stream.Cumulative()
    for lo, hi in zip([0, *cuts], [*cuts, len(x)], strict=True):
        part = stream.Cumulative()
        part.update(x[lo:hi], y[lo:hi])
        merged += part
    assert merged.count == whole.count
    for f in ("tracking_error", "beta", "correlation"):
        a, b = getattr(merged, f), getattr(whole, f)
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12)


def test_batch_equals_tick_by_tick(rng):
    p, b = _data(rng, 400, nans=True)
    for make in (lambda: stream.Window(30), lambda: stream.Cumulative()):
        one, many = make(), make()
        for x, y in zip(p, b, strict=True):
            one.update(x, y)
        many.update(p, b)
        for f in FIELDS:
            assert _same(getattr(one, f), getattr(many, f)), f


def test_n_portfolios_equals_one_state_each(rng):
    n = 5
    b = rng.normal(0, 0.01, 200)
    P = b[:, None] + rng.normal(0, 0.003, (200, n))
    multi = stream.Window(25, n_portfolios=n)
    multi.update(P[:100], b[:100])
    for t in range(100, 200):
        multi.update(P[t], b[t])
    te = multi.tracking_error
    assert te.shape == (n,)
    for j in range(n):
        single = stream.Window(25)  # fed the same way: the same steps, bit for bit
        single.update(np.ascontiguousarray(P[:100, j]), b[:100])
        for t in range(100, 200):
            single.update(P[t, j], b[t])
        assert te[j] == single.tracking_error
    np.testing.assert_allclose(
        te, trackerr.rolling_tracking_error(P, b, 25, threads=1)[-1], rtol=1e-13
    )


@pytest.mark.parametrize(
    "make", [lambda: stream.Window(7, n_portfolios=3), lambda: stream.Cumulative()]
)
def test_checkpoint_round_trip_and_pickle(rng, make):
    s = make()
    n = s.n_portfolios
    p, b = _data(rng, 50)
    if n is None:
        s.update(p, b)
    else:
        s.update(np.column_stack([p] * n), b)
    for clone in (
        type(s).from_bytes(s.to_bytes()),
        pickle.loads(pickle.dumps(s)),
        copy.copy(s),
        copy.deepcopy(s),
        s.copy(),
    ):
        assert type(clone) is type(s)
        for f in FIELDS:
            np.testing.assert_array_equal(getattr(clone, f), getattr(s, f))
        # the clone is independent and continues identically
        clone.update(p[0], b[0]) if n is None else clone.update(np.full(n, p[0]), b[0])
    s.reset()
    assert np.all(np.asarray(s.count) == 0)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.sampled_from(["window", "cumulative"]))
def test_random_bytes_never_crash(data, kind):
    cls = stream.Window if kind == "window" else stream.Cumulative
    try:
        s = cls.from_bytes(data)
    except ValueError:
        return
    s.update(0.01, 0.02) if s.n_portfolios is None else s.update(np.zeros(s.n_portfolios), 0.0)
    _ = s.tracking_error, s.beta


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_corrupted_checkpoints_raise_or_stay_usable(data):
    s = stream.Window(5, n_portfolios=2)
    s.update(np.array([[0.01, 0.02], [0.0, -0.01], [0.03, 0.01]]), np.array([0.01, 0.0, 0.02]))
    raw = bytearray(s.to_bytes())
    how = data.draw(st.sampled_from(["truncate", "flip", "extend"]))
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif how == "flip":
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= 1 << data.draw(st.integers(0, 7))
    else:
        raw += bytes(data.draw(st.integers(1, 16)))
    try:
        t = stream.Window.from_bytes(bytes(raw))
    except ValueError:
        return
    # a state that loads (possibly a different valid state) must keep working
    for _ in range(12):
        if t.n_portfolios is None:
            t.update(0.01, 0.0)
        else:
            t.update(np.full(t.n_portfolios, 0.01), 0.0)
    _ = t.tracking_error, t.correlation


def test_foreign_and_wrong_kind_bytes():
    w = stream.Window(5)
    with pytest.raises(ValueError, match="another kind of state"):
        stream.Cumulative.from_bytes(w.to_bytes())
    with pytest.raises(ValueError, match="bad magic"):
        stream.Window.from_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(TypeError, match="from_bytes takes bytes"):
        stream.Window.from_bytes("not bytes")


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"window \(=1\) must be at least 2"):
        stream.Window(1)
    with pytest.raises(TypeError, match="window must be an integer"):
        stream.Window(2.5)
    with pytest.raises(ValueError, match=r"n_portfolios \(=0\) must be at least 1"):
        stream.Cumulative(n_portfolios=0)
    with pytest.raises(ValueError, match="periods_per_year"):
        stream.Window(5, periods_per_year="yearly")
    s = stream.Window(5, n_portfolios=3)
    with pytest.raises(ValueError, match="a tick has 2 portfolio values but n_portfolios is 3"):
        s.update(np.zeros(2), 0.0)
    with pytest.raises(ValueError, match="a tick is an array"):
        s.update(0.1, 0.2)
    with pytest.raises(ValueError, match="cannot merge states with different options"):
        stream.Cumulative(ddof=0).merge(stream.Cumulative())


def test_repr():
    s = stream.Window(3)
    s.update(np.array([0.01, 0.02, 0.0]), np.zeros(3))
    assert repr(s).startswith("Window(window=3, n_portfolios=None, count=3.0, tracking_error=0.01")
    assert repr(stream.Cumulative()).startswith("Cumulative(n_portfolios=None, count=0.0")


def test_exponential_matches_pandas(rng):
    pd = pytest.importorskip("pandas")
    p, b = _data(rng, 600, nans=True)
    for kw in ({"span": 30}, {"halflife": 12.0}, {"alpha": 0.2}):
        e = stream.Exponential(adjust=False, **kw)
        e.update(p, b)
        ok = ~(np.isnan(p) | np.isnan(b))
        ps, bs = pd.Series(p[ok]), pd.Series(b[ok])
        ew = {"adjust": False, **kw}
        assert e.tracking_error == pytest.approx(
            (ps - bs).ewm(**ew).std(bias=False).iloc[-1], rel=1e-12
        )
        beta = (ps.ewm(**ew).cov(bs, bias=False) / bs.ewm(**ew).var(bias=False)).iloc[-1]
        assert e.beta == pytest.approx(beta, rel=1e-12)
        assert e.correlation == pytest.approx(ps.ewm(**ew).corr(bs).iloc[-1], rel=1e-12)
        assert e.active_return == pytest.approx(
            (ps - bs).ewm(**ew).mean().iloc[-1], rel=1e-12, abs=1e-16
        )


def test_exponential_time_based(rng):
    p, b = _data(rng, 300)
    ticks = stream.Exponential(halflife=7.0)
    ticks.update(p, b)
    timed = stream.Exponential(halflife=7.0, time_based=True)
    timed.update(p, b, np.arange(300.0) * 1.0)
    assert timed.tracking_error == pytest.approx(ticks.tracking_error, rel=1e-13)
    # irregular ticks: a long gap forgets more of the past
    gap = stream.Exponential(halflife=7.0, time_based=True)
    t = np.arange(300.0)
    t[150:] += 1000.0
    gap.update(p, b, t)
    recent = stream.Exponential(halflife=7.0)
    recent.update(p[150:], b[150:])
    assert gap.tracking_error == pytest.approx(recent.tracking_error, rel=1e-6)
    with pytest.raises(ValueError, match="this state is time-based: give each tick's time"):
        timed.update(0.01, 0.0)


def test_exponential_checkpoints_and_errors(rng):
    p, b = _data(rng, 100)
    e = stream.Exponential(span=10, n_portfolios=2, periods_per_year=252)
    e.update(np.column_stack([p, 2 * p]), b)
    for clone in (
        stream.Exponential.from_bytes(e.to_bytes()),
        pickle.loads(pickle.dumps(e)),
        e.copy(),
    ):
        np.testing.assert_array_equal(clone.tracking_error, e.tracking_error)
    with pytest.raises(ValueError, match="exactly one of halflife, span or alpha"):
        stream.Exponential(span=3, alpha=0.5)
    with pytest.raises(ValueError, match=r"alpha \(=1.5\) must be in \(0, 1\]"):
        stream.Exponential(alpha=1.5)
    with pytest.raises(ValueError, match="ddof must be 0 or 1"):
        stream.Exponential(span=3, ddof=2)
    with pytest.raises(ValueError, match="another kind of state"):
        stream.Exponential.from_bytes(stream.Cumulative().to_bytes())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_exponential_random_bytes_never_crash(data):
    try:
        s = stream.Exponential.from_bytes(data)
    except ValueError:
        return
    if s.n_portfolios is None:
        s.update(0.01, 0.02)
    else:
        s.update(np.zeros(s.n_portfolios), 0.0)
    _ = s.tracking_error


def _chunks(n, cuts):
    edges = [0, *sorted(cuts), n]
    return list(itertools.pairwise(edges))


def _exact_ewm(x, y, smoothing, adjust, ddof):
    """tracking_error, active_return, beta, correlation under pandas' weights,
    in exact rational arithmetic (one rounding at the end)."""
    from fractions import Fraction as F

    n, al = len(x), F(smoothing)
    if adjust:
        w = [(1 - al) ** (n - 1 - i) for i in range(n)]
    else:
        w = [(1 if i == 0 else al) * (1 - al) ** (n - 1 - max(i, 1)) for i in range(n)]
        w[0] = (1 - al) ** (n - 1)
    total = sum(w)
    w = [v / total for v in w]
    fix = 1 / (1 - sum(v * v for v in w)) if ddof == 1 and n > 1 else F(1)
    X, Y = [F(v) for v in x], [F(v) for v in y]
    A = [p - b for p, b in zip(X, Y, strict=True)]

    def mean(z):
        return sum(wi * zi for wi, zi in zip(w, z, strict=True))

    def cov(u, v):
        mu, mv = mean(u), mean(v)
        return sum(wi * (a - mu) * (b - mv) for wi, a, b in zip(w, u, v, strict=True))

    te = math.sqrt(cov(A, A) * fix) if n > 1 else math.nan
    vb, vp, cpb = cov(Y, Y), cov(X, X), cov(X, Y)
    beta = float(cpb / vb) if vb > 0 else math.nan
    corr = float(cpb) / math.sqrt(float(vp) * float(vb)) if vp > 0 and vb > 0 else math.nan
    ar = float(mean(A))
    return {"tracking_error": te, "active_return": ar, "beta": beta, "correlation": corr}


def test_exponential_merge_is_exact_where_one_pass_rounds():
    """A seed far below a long run of equal values: the benchmark's variance
    comes from one tick of weight 2^-26, and one pass loses 5e-9 of beta to
    rounding in its running mean; the merge of that tick with the rest does not."""
    x = np.array([10.0] * 23 + [0.0] + [10.0] * 3)
    y = np.array([2.0] + [5.0] * 26)
    first, rest = stream.Exponential(alpha=0.5), stream.Exponential(alpha=0.5)
    first.update(x[:1], y[:1])
    rest.update(x[1:], y[1:])
    exact = _exact_ewm(x, y, 0.5, True, 1)
    assert (first + rest).beta == pytest.approx(exact["beta"], rel=1e-15)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    hnp.arrays(np.float64, st.integers(1, 150), elements=finite),
    st.data(),
    st.sampled_from(
        [{"span": 9}, {"alpha": 0.5}, {"halflife": 3.0, "ddof": 0}, {"span": 9, "adjust": False}]
    ),
)
def test_exponential_merge_of_chunks_equals_one_pass(x, data, kw):
    """Merged chunks equal one pass; where they differ beyond 1e-9 (ill-conditioned
    data: a variance formed by cancellation), the merge is the closer of the two
    to the exact weighted sums."""
    y = data.draw(hnp.arrays(np.float64, x.shape, elements=finite))
    cuts = data.draw(st.lists(st.integers(0, len(x)), max_size=4))
    whole = stream.Exponential(**kw)
    whole.update(x, y)
    merged = stream.Exponential(**kw)
    for lo, hi in _chunks(len(x), cuts):
        part = stream.Exponential(**kw)
        part.update(x[lo:hi], y[lo:hi])
        merged += part
    assert merged.count == whole.count
    exact = None
    for f in ("tracking_error", "active_return", "beta", "correlation"):
        a, b = getattr(merged, f), getattr(whole, f)
        if (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-9):
            continue
        if exact is None:
            exact = _exact_ewm(x, y, whole.smoothing, whole.adjust, kw.get("ddof", 1))
        e = exact[f]
        assert abs(a - e) <= abs(b - e) + 1e-12 * abs(e), (f, a, b, e)


def test_exponential_merge_time_based_and_panels(rng):
    p, b = _data(rng, 400)
    t = np.cumsum(rng.exponential(1.0, 400))
    t[200] = t[199]  # a tick at the same time as the last one of the first chunk
    whole = stream.Exponential(halflife=10.0, time_based=True)
    whole.update(p, b, t)
    first = stream.Exponential(halflife=10.0, time_based=True)
    first.update(p[:200], b[:200], t[:200])
    second = stream.Exponential(halflife=10.0, time_based=True)
    second.update(p[200:], b[200:], t[200:])
    merged = first + second
    for f in FIELDS:
        assert getattr(merged, f) == pytest.approx(getattr(whole, f), rel=1e-12, abs=1e-15), f
    with pytest.raises(ValueError, match="is earlier than this state's last tick"):
        second + first
    # n_portfolios: each column merges as its own stream
    P = np.column_stack([p, b + 0.5 * (p - b)])
    whole = stream.Exponential(span=20, n_portfolios=2)
    whole.update(P, b)
    merged = stream.Exponential(span=20, n_portfolios=2)
    merged.update(P[:150], b[:150])
    rest = stream.Exponential(span=20, n_portfolios=2)
    rest.update(P[150:], b[150:])
    merged.merge(rest)
    np.testing.assert_allclose(merged.tracking_error, whole.tracking_error, rtol=1e-12)
    np.testing.assert_allclose(merged.beta, whole.beta, rtol=1e-12)
    for bad in (
        stream.Exponential(span=21),
        stream.Exponential(span=20, ddof=0),
        stream.Exponential(span=20, periods_per_year=252),
    ):
        with pytest.raises(ValueError, match="different"):
            stream.Exponential(span=20) + bad
    with pytest.raises(ValueError, match="n_portfolios"):
        stream.Exponential(span=20) + stream.Exponential(span=20, n_portfolios=1)


def test_exponential_merge_keeps_nan_and_empty(rng):
    p, b = _data(rng, 50)
    e = stream.Exponential(span=5)
    e.update(p, b)
    empty = stream.Exponential(span=5)
    assert (e + empty).tracking_error == e.tracking_error
    assert (empty + e).tracking_error == e.tracking_error
    poisoned = stream.Exponential(span=5)
    poisoned.update(np.inf, 0.0)
    merged = e + poisoned
    assert math.isnan(merged.tracking_error)
    assert merged.count == e.count + 1


@pytest.mark.parametrize("w", [5, 64])
@pytest.mark.parametrize("sizes", [[3], [70], [1, 200, 2, 64, 7], [64, 64], [500]])
def test_window_batches_of_any_length_equal_ticks(rng, w, sizes):
    """Batches shorter than the window step tick by tick; longer ones replay
    only the last window: both agree with feeding the ticks one at a time."""
    n = sum(sizes)
    p, b = _data(rng, n, nans=True)
    p[n // 2] = np.inf
    one, many = stream.Window(w, min_periods=2), stream.Window(w, min_periods=2)
    for x, y in zip(p, b, strict=True):
        one.update(x, y)
    for lo, hi in _chunks(n, np.cumsum(sizes)[:-1].tolist()):
        many.update(p[lo:hi], b[lo:hi])
    assert many.count == one.count
    for f in FIELDS:
        assert _same(getattr(one, f), getattr(many, f)), f
    # and the state keeps stepping correctly from there
    for x, y in zip(p[:w], b[:w], strict=True):
        one.update(x, y)
        many.update(x, y)
    for f in FIELDS:
        assert _same(getattr(one, f), getattr(many, f)), f


def test_cumulative_batch_paths(rng):
    """Long batches run the blocked kernels per column; an infinity sends its
    column down the tick path, which counts it; NaN pairs are skipped."""
    T, n = 1000, 3
    b = rng.normal(0, 0.01, T)
    P = b[:, None] + rng.normal(0, 0.003, (T, n))
    P[rng.random((T, n)) < 0.05] = np.nan
    P[500, 2] = np.inf
    batch = stream.Cumulative(n_portfolios=n)
    batch.update(P[:10], b[:10])  # short: tick path
    batch.update(P[10:], b[10:])  # long: blocks
    ticks = stream.Cumulative(n_portfolios=n)
    for t in range(T):
        ticks.update(P[t], b[t])
    np.testing.assert_array_equal(batch.count, ticks.count)
    for f in FIELDS:
        np.testing.assert_allclose(getattr(batch, f), getattr(ticks, f), rtol=1e-12, atol=1e-16)
    assert math.isnan(batch.tracking_error[2])
    # an all-NaN column leaves the state empty
    empty = stream.Cumulative()
    empty.update(np.full(100, np.nan), b[:100])
    assert empty.count == 0 and math.isnan(empty.tracking_error)


wild = st.one_of(
    st.sampled_from([np.nan, np.inf, -np.inf, 1e300, -1e300, 1e-300, 0.0, 5e-324]),
    st.floats(-1e3, 1e3),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(wild, wild), min_size=1, max_size=80), st.integers(2, 12))
def test_wild_ticks_never_break_a_state(ticks, w):
    """NaN, inf, huge and tiny values: read-outs stay in range or NaN, and a
    Window recovers exactly once clean ticks have pushed the wild ones out."""
    states = [stream.Window(w, min_periods=2), stream.Cumulative(), stream.Exponential(span=5)]
    for x, y in ticks:
        for s in states:
            s.update(x, y)
            te, rho, r2 = s.tracking_error, s.correlation, s.r_squared
            assert math.isnan(te) or te >= 0.0
            assert math.isnan(rho) or -1.0 <= rho <= 1.0
            assert math.isnan(r2) or 0.0 <= r2 <= 1.0
    rng = np.random.default_rng(len(ticks))
    p, b = _data(rng, w)
    want = trackerr.rolling_tracking_error(p, b, w)[-1]
    batch = states[0].copy()
    batch.update(p, b)  # a batch as long as the window: only clean ticks remain
    assert batch.tracking_error == pytest.approx(want, rel=1e-13)
    for x, y in zip(p, b, strict=True):  # the tick path gets there too
        states[0].update(float(x), float(y))
    assert states[0].tracking_error == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("adjust", [True, False])
def test_exponential_long_batch_past_its_weights_fixed_point_equals_ticks(rng, adjust):
    # A batch of 60,000 ticks runs in chunks whose step weights reach their
    # fixed points after a few hundred ticks at span 20 (and are then kept,
    # not recomputed): the read-outs still agree with tick-by-tick feeding,
    # and with pandas' ewm over the whole series.
    p, b = _data(rng, 60_000)
    one = stream.Exponential(span=20, adjust=adjust)
    for x, y in zip(p, b, strict=True):
        one.update(x, y)
    many = stream.Exponential(span=20, adjust=adjust)
    many.update(p, b)
    for f in FIELDS:
        assert _same(getattr(one, f), getattr(many, f), rel=1e-11), f
    pd = pytest.importorskip("pandas")
    a = pd.Series(p - b)
    want = a.ewm(span=20, adjust=adjust).std().iloc[-1]
    assert abs(many.tracking_error - want) <= 1e-11 * want
