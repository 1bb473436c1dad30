"""Streaming windows over spans of time: ``stream.Window('30D')`` (a
``stream.TimeWindow``) holds, after a tick at time t, the ticks with times in
(t - span, t], as pandas' ``rolling('30D')`` at its last row; and Monitor on it.

Known truth: an exact per-window computation in rational arithmetic, the
rolling functions with the same span and times (<= 1e-12, not bit for bit:
that kernel may take its rows in another order), and pandas' offset windows.
Batches of any split agree with one tick at a time within 1e-12; checkpoints
round-trip bit for bit and refuse every damaged byte.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import pickle
from fractions import Fraction

import numpy as np
import pytest

import trackerr
from trackerr import Monitor, stream

FIELDS = trackerr.RollingStats._fields  # the seven read-outs
START = np.datetime64("2024-01-01T00:00:00", "ns")
# The scale below which a field's agreement is absolute: 1e-12 of its natural
# size (a mean or a beta near 0 carries the rounding of the moments it comes
# from); the tracking error is compared relative to itself.
FLOORS = dict.fromkeys(FIELDS, 1e-2) | {"tracking_error": 0.0}


def _times(rng, n, mean_gap_s=3600.0, ties=True):
    """Irregular times; with ties, a fifth of the ticks share the previous one's time."""
    gaps = rng.exponential(mean_gap_s, n).astype(np.int64) + 1
    if ties:
        gaps[rng.random(n) < 0.2] = 0
    return START + np.cumsum(gaps).astype("timedelta64[s]")


def _agree(x, y, rel=1e-12, floor=0.0):
    """Equal within rel of the larger magnitude (or of floor), NaN exactly where
    NaN, and 0 exactly where 0."""
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    if not np.array_equal(np.isnan(x), np.isnan(y)):
        return False
    if not np.array_equal(x == 0.0, y == 0.0):
        return False
    m = ~np.isnan(x)
    scale = np.maximum(np.maximum(np.abs(x[m]), np.abs(y[m])), floor)
    return bool(np.all(np.abs(x[m] - y[m]) <= rel * scale))


def _feed(w, P, B, times):
    for i in range(len(B)):
        w.update(P[i], B[i], times[i])


# --- the exact reference -----------------------------------------------------------


def _window_rows(stamps_ns, t, span_ns):
    rows = np.arange(t + 1)
    return rows[stamps_ns[: t + 1] > stamps_ns[t] - span_ns]


def _exact(p, b, rows, min_periods=1):
    """TE, active return and beta of the window's rows in rational arithmetic
    (NaN pairs skipped, an inf makes the window NaN; constant windows exactly 0)."""
    x, y = p[rows], b[rows]
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    nan = (math.nan, math.nan, math.nan)
    if len(x) < min_periods or not (np.isfinite(x).all() and np.isfinite(y).all()):
        return nan
    a = [Fraction(u) - Fraction(v) for u, v in zip(x.tolist(), y.tolist(), strict=True)]
    n = len(a)
    ma = sum(a) / n
    ar = float(ma)
    if n < 2:
        return math.nan, ar, math.nan
    te = math.sqrt(sum((q - ma) ** 2 for q in a) / (n - 1))
    fp, fb = [Fraction(u) for u in x.tolist()], [Fraction(v) for v in y.tolist()]
    mp, mb = sum(fp) / n, sum(fb) / n
    vb = sum((v - mb) ** 2 for v in fb)
    beta = (
        float(sum((u - mp) * (v - mb) for u, v in zip(fp, fb, strict=True)) / vb)
        if vb
        else math.nan
    )
    return te, ar, beta


# --- agreement ---------------------------------------------------------------------


@pytest.mark.parametrize("n_portfolios", [None, 3])
def test_each_tick_equals_the_rolling_functions_and_the_exact_windows(n_portfolios):
    rng = np.random.default_rng(1)
    T = 700
    times = _times(rng, T)
    b = rng.normal(0, 0.01, T)
    width = 1 if n_portfolios is None else n_portfolios
    P = b[:, None] * rng.uniform(0.7, 1.1, width) + rng.normal(0, 0.003, (T, width))
    P[rng.random((T, width)) < 0.04] = np.nan
    b[rng.random(T) < 0.02] = np.nan
    P[200, 0] = np.inf  # windows holding it are NaN, and recover once it leaves
    b[450] = -np.inf
    p_in = P[:, 0] if n_portfolios is None else P
    saved = (p_in.copy(), b.copy(), times.copy())
    w = stream.Window("18h", n_portfolios=n_portfolios, periods_per_year=252, risk_free=1e-4)
    assert isinstance(w, stream.TimeWindow) and isinstance(w, stream.Window)
    want = trackerr.rolling_stats(p_in, b, "18h", times=times, periods_per_year=252, risk_free=1e-4)
    span = 18 * 3600 * 10**9
    stamps = times.astype(np.int64)
    checked = 0
    for t in range(T):
        w.update(p_in[t], b[t], times[t])
        for f in FIELDS:
            assert _agree(getattr(w, f), getattr(want, f)[t], floor=FLOORS[f]), (t, f)
        if t % 23 == 0:  # the exact windows, sampled
            rows = _window_rows(stamps, t, span)
            for j in range(width):
                te, ar, beta = _exact(P[:, j], b, rows)
                got = np.atleast_1d(w.tracking_error)[j], np.atleast_1d(w.beta)[j]
                assert _agree(got[0] / math.sqrt(252), te), (t, j)
                assert _agree(got[1], beta, rel=1e-11), (t, j)
                assert _agree(np.atleast_1d(w.active_return)[j] / 252, ar, floor=1e-4)
                checked += 1
    assert checked > 30
    assert w.ticks == T and w.last_time == int(stamps[-1])
    assert w.held == len(_window_rows(stamps, T - 1, span))
    # the inputs are untouched
    for x, y in zip((p_in, b, times), saved, strict=True):
        np.testing.assert_array_equal(x, y)


def test_equals_pandas_offset_windows():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(2)
    T = 1200
    idx = pd.DatetimeIndex(_times(rng, T, ties=False))
    b = pd.Series(rng.normal(0, 0.01, T), index=idx)
    p = pd.Series(b.to_numpy() * 0.8 + rng.normal(0, 0.004, T), index=idx)
    a = p - b
    te, mean = a.rolling("3D").std(), a.rolling("3D").mean()
    beta = p.rolling("3D").cov(b) / b.rolling("3D").var()
    corr = p.rolling("3D").corr(b)
    w = stream.Window("3D")
    for i in range(T):
        w.update(p.iloc[i], b.iloc[i], idx[i])
        if i % 50 == 49:
            for got, ref in (
                (w.tracking_error, te.iloc[i]),
                (w.active_return, mean.iloc[i]),
                (w.beta, beta.iloc[i]),
                (w.correlation, corr.iloc[i]),
            ):
                assert got == pytest.approx(ref, rel=1e-10, abs=1e-15)


def test_large_levels_and_a_regime_change_against_rational_arithmetic():
    rng = np.random.default_rng(3)
    n = 2400
    times = _times(rng, n, mean_gap_s=600)
    b = 1e9 + rng.normal(0, 1e-4, n)
    p = np.concatenate(
        [
            b[:800] + rng.normal(0, 1e-4, 800),
            rng.normal(0, 1, 400) * 10 ** rng.uniform(2, 8, 400),  # huge values, then they leave
            b[1200:] + rng.normal(0, 1e-4, 1200),
        ]
    )
    p[1800:2100] = b[1800:2100] + 0.5  # a constant active return: TE exactly 0 once alone
    w = stream.Window(dt.timedelta(hours=6))
    span = 6 * 3600 * 10**9
    stamps = times.astype(np.int64)
    worst = 0.0
    zeros = 0
    for t in range(n):
        w.update(p[t], b[t], times[t])
        rows = _window_rows(stamps, t, span)
        if 1800 <= rows[0] and t < 2100 and len(rows) >= 2:
            assert w.tracking_error == 0.0
            zeros += 1
        elif t % 11 == 0:
            te = _exact(p, b, rows)[0]
            if te == te and te > 0:
                worst = max(worst, abs(w.tracking_error - te) / te)
            else:
                assert _agree(w.tracking_error, te)
    assert zeros > 50
    assert worst <= 1e-12


def test_min_periods_counts_observations():
    rng = np.random.default_rng(4)
    T = 300
    times = _times(rng, T)
    p, b = rng.normal(0, 0.01, T), rng.normal(0, 0.01, T)
    p[rng.random(T) < 0.1] = np.nan
    w = stream.Window("5h", min_periods=4)
    want = trackerr.rolling_tracking_error(p, b, "5h", times=times, min_periods=4)
    stamps = times.astype(np.int64)
    for t in range(T):
        w.update(p[t], b[t], times[t])
        rows = _window_rows(stamps, t, 5 * 3600 * 10**9)
        count = int(np.sum(~(np.isnan(p[rows]) | np.isnan(b[rows]))))
        assert w.count == count
        assert math.isnan(w.tracking_error) == (count < 4), t
        assert _agree(w.tracking_error, want[t])
    assert math.isnan(stream.Window("5h", min_periods=10**6).tracking_error)
    with pytest.raises(ValueError, match="min_periods"):
        stream.Window("5h", min_periods=0)


def test_constant_windows_are_exactly_zero():
    w = stream.Window("1h", n_portfolios=2)
    for k in range(20):
        w.update(np.array([0.25, 0.1 * k]), 0.125, START + np.timedelta64(10 * k, "m"))
    assert w.tracking_error[0] == 0.0 and w.tracking_error[1] > 0
    assert math.isnan(w.beta[0])  # the benchmark is constant too


def test_batches_of_any_split_agree_with_one_tick_at_a_time():
    rng = np.random.default_rng(5)
    T = 1500
    times = _times(rng, T, mean_gap_s=900)
    b = rng.normal(0, 0.01, T)
    P = b[:, None] + rng.normal(0, 0.002, (T, 2))
    P[rng.random((T, 2)) < 0.03] = np.nan
    P[700, 1] = np.inf
    one = stream.Window("1D", n_portfolios=2)
    _feed(one, P, b, times)
    for trial in range(12):
        w = stream.Window("1D", n_portfolios=2)
        cuts = np.sort(rng.integers(0, T, trial))
        for lo, hi in zip([0, *cuts], [*cuts, T], strict=True):
            w.update(P[lo:hi], b[lo:hi], times[lo:hi])
        for f in FIELDS:
            assert _agree(getattr(w, f), getattr(one, f), floor=FLOORS[f]), (trial, f)
        assert w.held == one.held and w.ticks == one.ticks
        np.testing.assert_array_equal(w.count, one.count)


def test_times_as_datetimes_timestamps_and_indexes_agree():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(6)
    T = 60
    times = _times(rng, T, ties=False)
    p, b = rng.normal(0, 0.01, T), rng.normal(0, 0.01, T)
    ref = stream.Window("4h")
    _feed(ref, p, b, times)
    aware = pd.DatetimeIndex(times).tz_localize("UTC").tz_convert("Asia/Tokyo")
    ways = {
        "datetime": [t.astype("datetime64[us]").item() for t in times],
        "timestamp": list(pd.DatetimeIndex(times)),
        "aware": list(aware),
        "aware-datetime": [t.to_pydatetime() for t in aware],
        "seconds": list(times.astype("datetime64[s]")),
    }
    for name, ticks in ways.items():
        w = stream.Window("4h")
        _feed(w, p, b, ticks)
        # the same record but for the flags (the zone) and so the checksum
        assert w.to_bytes()[16:-4] == ref.to_bytes()[16:-4], name
        assert w._zone == ("aware" if name.startswith("aware") else "naive")
    for batch in (
        times,
        pd.DatetimeIndex(times),
        pd.Series(times),
        aware,
        pd.Series(aware),
        times.astype("datetime64[s]"),
    ):
        w = stream.Window("4h")
        w.update(p, b, batch)
        for f in FIELDS:
            assert _agree(getattr(w, f), getattr(ref, f), floor=FLOORS[f])
    assert ref.window == np.timedelta64(4 * 3600 * 10**9, "ns")
    assert ref.window.dtype == np.dtype("timedelta64[ns]")
    assert ref.time_based is True and stream.Window(5).time_based is False


def test_spans_in_every_form_and_the_repr():
    for span in ("30D", dt.timedelta(days=30), np.timedelta64(30, "D"), np.timedelta64(720, "h")):
        w = stream.Window(span, n_portfolios=2)
        assert isinstance(w, stream.TimeWindow)
        assert w.window == np.timedelta64(30, "D")
        assert "window='30D'" in repr(w) and "n_portfolios=2" in repr(w)
    assert "window='90min'" in repr(stream.Window("1.5h"))
    assert "window='1500ms'" in repr(stream.TimeWindow(dt.timedelta(seconds=1.5)))
    assert stream.Window(window="2D").window == np.timedelta64(2, "D")
    assert isinstance(stream.Window(5), stream.Window)
    assert not isinstance(stream.Window(5), stream.TimeWindow)
    assert issubclass(stream.TimeWindow, stream.Window)
    assert not isinstance(stream.Cumulative(), stream.Window)


@pytest.mark.parametrize(
    "window, err, match",
    [
        ("1M", ValueError, "window"),
        ("soon", ValueError, "not a span of time"),
        (np.timedelta64(1, "M"), ValueError, "no fixed length"),
        (np.timedelta64(-5, "h"), ValueError, "positive"),
        (dt.timedelta(0), ValueError, "positive"),
        (np.timedelta64("NaT", "h"), ValueError, "NaT"),
    ],
)
def test_bad_spans_are_refused_as_the_rolling_functions_refuse_them(window, err, match):
    with pytest.raises(err, match=match):
        stream.Window(window)
    with pytest.raises(err, match=match):
        stream.TimeWindow(window)


def test_a_count_given_to_timewindow_and_a_float_window():
    with pytest.raises(TypeError, match=r"count of ticks.*use Window\(5\)"):
        stream.TimeWindow(5)
    with pytest.raises(TypeError, match=r"an integer \(ticks\) or a span of time"):
        stream.Window(2.5)


# --- errors ------------------------------------------------------------------------


def test_bad_times_are_refused_and_change_nothing():
    pd = pytest.importorskip("pandas")
    w = stream.Window("1h", n_portfolios=2)
    t0 = np.datetime64("2024-03-01T12:00")
    w.update(np.array([0.01, 0.02]), 0.0, t0)
    before = w.to_bytes()
    tick = np.array([0.01, 0.03])
    cases = [
        (lambda: w.update(tick, 0.0), TypeError, r"needs each tick's time: update\(p, b, t\)"),
        (lambda: w.update(tick, 0.0, 5), TypeError, "a number's unit would be a guess"),
        (lambda: w.update(tick, 0.0, 1.7e9), TypeError, "a number's unit would be a guess"),
        (lambda: w.update(tick, 0.0, True), TypeError, "not bool"),
        (lambda: w.update(tick, 0.0, "2024-03-01"), TypeError, "not str"),
        (lambda: w.update(tick, 0.0, dt.date(2024, 3, 2)), TypeError, "not date"),
        (lambda: w.update(tick, 0.0, np.datetime64("NaT")), ValueError, "NaT"),
        (lambda: w.update(tick, 0.0, pd.NaT), ValueError, "NaT"),
        (
            lambda: w.update(tick, 0.0, t0 - np.timedelta64(1, "s")),
            ValueError,
            r"is before the last tick's time \(=2024-03-01T12:00:00.000000000\)",
        ),
        (
            lambda: w.update(tick, 0.0, pd.Timestamp("2024-03-02", tz="UTC")),
            TypeError,
            "t is zone-aware but this window's earlier ticks were naive",
        ),
        (
            lambda: w.update(np.zeros((2, 2)), np.zeros(2), t0 + np.array([2, 1], "m8[s]")),
            ValueError,
            "times go back at row 1",
        ),
        (
            lambda: w.update(np.zeros((2, 2)), np.zeros(2), np.array([t0 - 1, t0])),
            ValueError,
            "before the last tick's time",
        ),
        (
            lambda: w.update(np.zeros((2, 2)), np.zeros(2), np.array([t0, np.datetime64("NaT")])),
            ValueError,
            "NaT at row 1",
        ),
        (lambda: w.update(np.zeros((2, 2)), np.zeros(2), np.arange(2)), TypeError, "numbers"),
        (
            lambda: w.update(np.zeros((2, 2)), np.zeros(2), [dt.datetime(2025, 1, 1)] * 2),
            TypeError,
            "datetime64",
        ),
        (
            lambda: w.update(np.zeros((3, 2)), np.zeros(3), t0 + np.arange(2).astype("m8[s]")),
            ValueError,
            "shape",
        ),
        (lambda: w.update(tick, 0.0, np.datetime64(10**12, "D")), ValueError, "outside the range"),
        (
            lambda: w.update(tick, 0.0, dt.datetime(9000, 1, 1)),
            ValueError,
            "outside the range of int64 nanoseconds",
        ),
        (
            lambda: w.tracking_error_path(
                np.zeros((2, 2)), np.zeros(2), t0 - np.arange(2).astype("m8[s]")
            ),
            ValueError,
            "go back",
        ),
    ]
    for call, err, match in cases:
        with pytest.raises(err, match=match) as e:
            call()
        assert "\n" not in str(e.value)
        assert w.to_bytes() == before, match
    with pytest.raises(TypeError, match=r"t is for time windows .*'30D'.*call update\(p, b\)"):
        stream.Window(5).update(0.1, 0.2, t0)
    # the zone is the state's until reset (and it survives a checkpoint)
    aware = stream.Window("1h")
    aware.update(0.1, 0.0, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    for clone in (aware.copy(), pickle.loads(pickle.dumps(aware)), copy.deepcopy(aware)):
        with pytest.raises(
            TypeError, match="naive but this window's earlier ticks were zone-aware"
        ):
            clone.update(0.1, 0.0, dt.datetime(2024, 1, 2))
    aware.reset()
    aware.update(0.1, 0.0, dt.datetime(2020, 1, 2))  # reset forgets the times and the zone
    assert aware._zone == "naive" and aware.ticks == 1


def test_aware_times_are_read_in_utc():
    pd = pytest.importorskip("pandas")
    a = stream.Window("2h")
    b = stream.Window("2h")
    local = pd.Timestamp("2024-06-01 09:00", tz="Europe/Paris")
    for k in range(5):
        a.update(0.01 * k, 0.0, local + pd.Timedelta(minutes=40 * k))
        b.update(0.01 * k, 0.0, dt.datetime(2024, 6, 1, 7, 0) + dt.timedelta(minutes=40 * k))
    assert (
        a.last_time == b.last_time == int(np.datetime64("2024-06-01T09:40", "ns").astype(np.int64))
    )
    assert a.tracking_error == b.tracking_error and a.held == b.held == 3


# --- checkpoints -------------------------------------------------------------------


def _some_window(rng, n_portfolios=2):
    T = 40
    times = _times(rng, T, mean_gap_s=1800)
    width = 1 if n_portfolios is None else n_portfolios
    P = rng.normal(0, 0.01, (T, width))
    P[5, 0] = np.nan
    P[33, -1] = np.inf
    w = stream.Window("6h", n_portfolios=n_portfolios, min_periods=2)
    w.update(P[:, 0] if n_portfolios is None else P, rng.normal(0, 0.01, T), times)
    return w, times


def test_checkpoints_round_trip_bit_for_bit_and_the_stream_goes_on_the_same():
    rng = np.random.default_rng(7)
    for n in (None, 3):
        w, times = _some_window(rng, n)
        for clone in (
            stream.Window.from_bytes(w.to_bytes()),
            stream.TimeWindow.from_bytes(w.to_bytes()),
            pickle.loads(pickle.dumps(w)),
            w.copy(),
            copy.deepcopy(w),
        ):
            assert type(clone) is stream.TimeWindow
            assert clone.to_bytes() == w.to_bytes()
            assert clone.n_portfolios == w.n_portfolios and clone.window == w.window
        again = stream.TimeWindow.from_bytes(w.to_bytes())
        width = 1 if n is None else n
        for k in range(30):
            p = rng.normal(0, 0.01, width)
            t = times[-1] + np.timedelta64(20 * (k + 1), "m")
            for s in (w, again):
                s.update(p[0] if n is None else p, 0.001 * k, t)
            assert again.to_bytes() == w.to_bytes()


def test_every_damaged_checkpoint_is_refused():
    w, _ = _some_window(np.random.default_rng(8))
    good = w.to_bytes()
    for cut in range(len(good)):
        with pytest.raises(ValueError):
            stream.TimeWindow.from_bytes(good[:cut])
    for i in range(len(good)):
        for bit in range(8):
            bad = bytearray(good)
            bad[i] ^= 1 << bit
            with pytest.raises(ValueError):
                stream.TimeWindow.from_bytes(bytes(bad))
    with pytest.raises(ValueError, match="another kind of state"):
        stream.Cumulative.from_bytes(good)
    with pytest.raises(ValueError, match="another kind of state"):
        stream.TimeWindow.from_bytes(stream.Window(5).to_bytes())


# --- Monitor -----------------------------------------------------------------------


def _drifting_ticks(rng, n=1500):
    times = _times(rng, n, mean_gap_s=3600)
    b = rng.normal(0, 0.01, n)
    slip = np.where((np.arange(n) > 500) & (np.arange(n) < 900), 0.006, 0.001)
    return b + slip * rng.normal(0, 1, n), b, times


def test_monitor_on_a_time_window_batch_equals_one_tick_at_a_time():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(9)
    p, b, times = _drifting_ticks(rng)
    kw = dict(window="10D", periods_per_year=252, clear_below=0.04)
    one = Monitor(0.05, **kw)
    seen = []
    events = []
    for i in range(len(b)):
        events += one.update(p[i], b[i], times[i])
    assert [e.kind for e in events] == ["breach", "recovery"]
    te = trackerr.rolling_tracking_error(p, b, "10D", times=times, periods_per_year=252)
    first = int(np.argmax(te > 0.05))
    assert events[0].tick == times[first] and isinstance(events[0].tick, np.datetime64)
    assert events[0].value == pytest.approx(te[first], rel=1e-12)
    for cuts in ([], [1], [700], [3, 600, 601, 1200]):
        m = Monitor(0.05, on_event=seen.append, **kw)
        got = []
        for lo, hi in zip([0, *cuts], [*cuts, len(b)], strict=True):
            got += m.update(p[lo:hi], b[lo:hi], times[lo:hi])
        assert got == events
        assert m.breached == one.breached
    # pandas times label the events with Timestamps, as one tick at a time does
    idx = pd.DatetimeIndex(times)
    m = Monitor(0.05, **kw)
    got = m.update(p, b, pd.Series(idx))
    assert [e.tick for e in got] == [pd.Timestamp(e.tick) for e in events]
    assert all(isinstance(e.tick, pd.Timestamp) for e in got)
    assert seen == events * 4


def test_monitor_on_a_time_window_with_many_portfolios_and_bad_calls():
    rng = np.random.default_rng(10)
    p, b, times = _drifting_ticks(rng, 800)
    P = np.column_stack([b + 0.001 * rng.normal(0, 1, len(b)), p])
    one = Monitor(0.05, window=np.timedelta64(7, "D"), periods_per_year=252, n_portfolios=2)
    events = []
    for i in range(len(b)):
        events += one.update(P[i], b[i], times[i])
    assert {e.portfolio for e in events} == {1}
    m = Monitor(0.05, window=np.timedelta64(7, "D"), periods_per_year=252, n_portfolios=2)
    before = m.state.to_bytes()
    for call, err in (
        (lambda: m.update(P, b), TypeError),
        (lambda: m.update(P[0], b[0]), TypeError),
        (lambda: m.update(P[0], b[0], 3.0), TypeError),
        (lambda: m.update(P, b, times[::-1]), ValueError),
        (lambda: m.update(P, b, times[:-1]), ValueError),
    ):
        with pytest.raises(err):
            call()
        assert m.state.to_bytes() == before and not m.breached.any()
    assert m.update(P, b, times) == events
    assert "TimeWindow(window='7D'" in repr(m)


def test_review_findings_on_ticks_spans_and_empty_batches():
    pd = pytest.importorskip("pandas")
    w = stream.Window(pd.Timedelta("1500ns"))
    assert w.window == np.timedelta64(1500, "ns")
    with pytest.raises(ValueError, match="too long for int64 nanoseconds"):
        stream.Window(dt.timedelta.max)
    for late in (dt.datetime(3000, 1, 1), pd.Timestamp("3000-01-01").as_unit("s")):
        with pytest.raises(ValueError, match=r"t \(=3000-01-01 00:00:00\) is outside the range"):
            w.update(0.01, 0.0, late)
    w.update(0.01, 0.0, dt.datetime(2024, 1, 5))
    with pytest.raises(ValueError, match=r"\(=2024-01-03T00:00:00.000000000\) is before"):
        w.update(0.01, 0.0, dt.datetime(2024, 1, 3))
    assert w.ticks == 1
    empty = np.array([], dtype="datetime64[ns]")
    assert Monitor(0.1, window="1D").update(np.array([]), np.array([]), empty) == []
    assert Monitor(0.1, window=5).update(np.array([]), np.array([])) == []
