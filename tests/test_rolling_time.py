"""Rolling metrics over time-span windows (window='30D', a timedelta): row t's
window is the rows with times in (t - span, t], as pandas' rolling('30D').
Checked against an exact per-window computation (rational arithmetic), against
pandas, on NUMERICS.md's adversarial shapes, and for clear errors."""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import numpy as np
import pytest

import trackerr

HOUR = np.timedelta64(3600, "s")


def _times(rng, n, mean_gap_s=3600.0, ties=False):
    gaps = rng.exponential(mean_gap_s, n).astype(np.int64) + 1
    if ties:
        gaps[rng.random(n) < 0.2] = 0  # several ticks at one time
    return np.datetime64("2024-01-01T00:00:00", "ns") + np.cumsum(gaps).astype("timedelta64[s]")


def _exact_std(x):
    fx = [Fraction(v) for v in x]
    n = len(fx)
    m = sum(fx) / n
    v = sum((q - m) ** 2 for q in fx) / (n - 1)
    return math.sqrt(v)


def _reference_te(a, stamps, span_ns, min_periods=1):
    """Tracking error over (t - span, t] from the exact moments of each window."""
    t_ns = stamps.astype("datetime64[ns]").astype(np.int64)
    out = np.full(len(a), np.nan)
    for t in range(len(a)):
        rows = (t_ns > t_ns[t] - span_ns) & (np.arange(len(a)) <= t)
        x = a[rows]
        x = x[~np.isnan(x)]
        if len(x) < max(min_periods, 1) or not np.all(np.isfinite(x)):
            continue
        out[t] = (
            0.0
            if len(x) >= 2 and np.ptp(x) == 0
            else (_exact_std(x.tolist()) if len(x) >= 2 else np.nan)
        )
    return out


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("span", ["6h", "1D"])
def test_tracking_error_matches_the_exact_windows(seed, span):
    rng = np.random.default_rng(seed)
    n = 600
    times = _times(rng, n, ties=seed == 2)
    p = rng.normal(0, 0.01, n)
    b = p + rng.normal(0, 0.002, n)
    p[rng.random(n) < 0.05] = np.nan
    got = trackerr.rolling_tracking_error(p, b, span, times=times)
    span_ns = (
        int(np.timedelta64(1, "D") / np.timedelta64(1, "ns")) if span == "1D" else 6 * 3600 * 10**9
    )
    want = _reference_te(p - b, times, span_ns)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    m = np.isfinite(want) & (want > 0)
    assert np.max(np.abs(got[m] - want[m]) / want[m]) <= 1e-12


def test_regime_change_over_time_windows_stays_exact_and_constant_windows_are_zero():
    rng = np.random.default_rng(3)
    a = np.concatenate(
        [
            rng.normal(0, 1, 300) * 10 ** rng.uniform(2, 8, 300),
            rng.normal(0, 1e-3, 600),
            np.full(300, 0.75),
            rng.normal(0, 1e-3, 200),
        ]
    )
    times = _times(rng, len(a), mean_gap_s=600)
    got = trackerr.rolling_tracking_error(a, np.zeros_like(a), "12h", times=times)
    want = _reference_te(a, times, 12 * 3600 * 10**9)
    zero = want == 0.0
    assert np.all(got[zero] == 0.0)
    m = np.isfinite(want) & (want > 0)
    assert np.max(np.abs(got[m] - want[m]) / want[m]) <= 1e-12


def test_large_level_tiny_noise_over_time_windows():
    rng = np.random.default_rng(4)
    n = 3000
    b = 1e9 + rng.normal(0, 1e-4, n)
    p = b + rng.normal(0, 1e-4, n)
    times = _times(rng, n, mean_gap_s=60)
    got = trackerr.rolling_tracking_error(p, b, "2h", times=times)
    pos = rng.integers(50, n, 200)
    want = _reference_te(p - b, times, 2 * 3600 * 10**9)
    assert np.max(np.abs(got[pos] - want[pos]) / want[pos]) <= 1e-12


def test_every_metric_equals_pandas_offset_windows():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(5)
    n = 1500
    idx = pd.DatetimeIndex(_times(rng, n))
    p = pd.Series(rng.normal(0, 0.01, n), index=idx)
    b = pd.Series(p.to_numpy() * 0.8 + rng.normal(0, 0.004, n), index=idx)
    for span in ("10h", "3D"):
        a = p - b
        checks = {
            "rolling_tracking_error": a.rolling(span).std(),
            "rolling_active_return": a.rolling(span).mean(),
            "rolling_beta": p.rolling(span).cov(b) / b.rolling(span).var(),
            "rolling_correlation": p.rolling(span).corr(b),
        }
        for name, want in checks.items():
            got = getattr(trackerr, name)(p, b, span)
            assert isinstance(got, pd.Series) and got.index.equals(idx)
            m = np.isfinite(want.to_numpy())
            assert np.array_equal(np.isfinite(got.to_numpy()), m), name
            np.testing.assert_allclose(
                got.to_numpy()[m], want.to_numpy()[m], rtol=1e-10, atol=1e-15
            )


def test_spans_given_as_timedelta_numpy_or_text_agree():
    rng = np.random.default_rng(6)
    times = _times(rng, 300)
    p, b = rng.normal(0, 0.01, 300), rng.normal(0, 0.01, 300)
    a = trackerr.rolling_tracking_error(p, b, dt.timedelta(hours=5), times=times)
    c = trackerr.rolling_tracking_error(p, b, np.timedelta64(5, "h"), times=times)
    np.testing.assert_array_equal(a, c)
    if pytest.importorskip("pandas"):
        np.testing.assert_array_equal(a, trackerr.rolling_tracking_error(p, b, "5h", times=times))


def test_panels_and_threads_over_time_windows():
    rng = np.random.default_rng(7)
    times = _times(rng, 400)
    b = rng.normal(0, 0.01, 400)
    p = b[:, None] + rng.normal(0, 0.002, (400, 6))
    one = trackerr.rolling_stats(p, b, "8h", times=times, threads=1)
    many = trackerr.rolling_stats(p, b, "8h", times=times, threads=3)
    for f1, f2 in zip(one, many, strict=True):
        np.testing.assert_array_equal(f1, f2)
    for j in range(6):
        col = trackerr.rolling_correlation(p[:, j], b, "8h", times=times)
        np.testing.assert_array_equal(one.correlation[:, j], col)


def test_min_periods_counts_observations():
    rng = np.random.default_rng(8)
    times = _times(rng, 200)
    p, b = rng.normal(0, 0.01, 200), rng.normal(0, 0.01, 200)
    loose = trackerr.rolling_tracking_error(p, b, "4h", times=times)
    strict = trackerr.rolling_tracking_error(p, b, "4h", times=times, min_periods=5)
    t_ns = times.astype(np.int64)
    counts = np.array(
        [np.sum((t_ns > t_ns[t] - 4 * 3600 * 10**9) & (np.arange(200) <= t)) for t in range(200)]
    )
    assert np.all(np.isnan(strict[counts < 5]))
    np.testing.assert_array_equal(strict[counts >= 5], loose[counts >= 5])
    assert np.all(
        np.isnan(trackerr.rolling_tracking_error(p, b, "4h", times=times, min_periods=10**6))
    )


def test_time_zone_aware_index_is_read_in_utc():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(9)
    naive = pd.DatetimeIndex(_times(rng, 300))
    aware = naive.tz_localize("UTC").tz_convert("America/New_York")
    p, b = rng.normal(0, 0.01, 300), rng.normal(0, 0.01, 300)
    x = trackerr.rolling_beta(pd.Series(p, naive), pd.Series(b, naive), "6h")
    y = trackerr.rolling_beta(pd.Series(p, aware), pd.Series(b, aware), "6h")
    np.testing.assert_array_equal(x.to_numpy(), y.to_numpy())


@pytest.mark.parametrize(
    "window, times_kind, err, match",
    [
        ("1M", "ok", ValueError, "window"),
        ("soon", "ok", ValueError, "not a span of time"),
        (np.timedelta64(1, "M"), "ok", ValueError, "no fixed length"),
        (np.timedelta64(-5, "h"), "ok", ValueError, "positive"),
        (np.timedelta64(1_000_000, "D"), "ok", ValueError, "too long for int64 nanoseconds"),
        (dt.timedelta(0), "ok", ValueError, "positive"),
        (2.5, "ok", TypeError, "integer .rows. or a span of time"),
        ("6h", None, ValueError, "needs the rows' times"),
        ("6h", "nat", ValueError, "NaT at row 3"),
        ("6h", "back", ValueError, "go back at row 10"),
        ("6h", "short", ValueError, "has shape"),
        ("6h", "floats", TypeError, "datetime64"),
        (30, "ok", ValueError, "times is for a time-span window"),
    ],
)
def test_bad_time_windows_are_refused_clearly(window, times_kind, err, match):
    rng = np.random.default_rng(10)
    n = 50
    times = _times(rng, n)
    if times_kind == "nat":
        times = times.copy()
        times[3] = np.datetime64("NaT")
    elif times_kind == "back":
        times = times.copy()
        times[10] = times[0]
    elif times_kind == "short":
        times = times[:-1]
    elif times_kind == "floats":
        times = np.arange(n, dtype=float)
    elif times_kind is None:
        times = None
    p, b = rng.normal(0, 0.01, n), rng.normal(0, 0.01, n)
    p0 = p.copy()
    with pytest.raises(err, match=match):
        trackerr.rolling_tracking_error(p, b, window, times=times)
    np.testing.assert_array_equal(p, p0)


def test_propagate_makes_every_time_window_holding_a_nan_nan_and_raise_names_the_row():
    rng = np.random.default_rng(11)
    n = 300
    times = _times(rng, n)
    p, b = rng.normal(0, 0.01, n), rng.normal(0, 0.01, n)
    p[[7, 150]] = np.nan
    omit = trackerr.rolling_tracking_error(p, b, "6h", times=times)
    prop = trackerr.rolling_tracking_error(p, b, "6h", times=times, nan_policy="propagate")
    t_ns = times.astype(np.int64)
    span = 6 * 3600 * 10**9
    holds = np.array(
        [np.isnan(p[(t_ns > t_ns[t] - span) & (np.arange(n) <= t)]).any() for t in range(n)]
    )
    assert np.all(np.isnan(prop[holds]))
    np.testing.assert_array_equal(prop[~holds], omit[~holds])
    with pytest.raises(ValueError, match="7"):
        trackerr.rolling_tracking_error(p, b, "6h", times=times, nan_policy="raise")
    pb = np.column_stack([p, rng.normal(0, 0.01, n)])  # a panel: per column
    panel = trackerr.rolling_tracking_error(pb, b, "6h", times=times, nan_policy="propagate")
    np.testing.assert_array_equal(panel[:, 0], prop)
    assert not np.isnan(panel[holds & ~np.isnan(omit), 1]).any()


def test_a_long_series_with_wide_windows_does_not_drift():
    # wide windows are where the compensated sums matter: about 1440 ticks a
    # window, 200,000 ticks, rebuilds rare; sampled windows stay exact
    rng = np.random.default_rng(12)
    n = 200_000
    times = np.datetime64("2024-01-01T00:00:00", "ns") + (np.arange(n) * 60).astype(
        "timedelta64[s]"
    )
    b = rng.normal(0.0, 0.01, n)
    p = b + rng.normal(0.0005, 0.002, n)
    got = trackerr.rolling_tracking_error(p, b, "1D", times=times)
    beta = trackerr.rolling_beta(p, b, "1D", times=times)
    a = p - b
    for t in rng.integers(2000, n, 40):
        x = a[t - 1439 : t + 1]
        want = _exact_std(x.tolist())
        assert abs(got[t] - want) / want <= 1e-12
        xb, xp = b[t - 1439 : t + 1], p[t - 1439 : t + 1]
        fb, fp = [Fraction(v) for v in xb.tolist()], [Fraction(v) for v in xp.tolist()]
        mb, mp = sum(fb) / len(fb), sum(fp) / len(fp)
        cov = sum((u - mp) * (v - mb) for u, v in zip(fp, fb, strict=True))
        var = sum((v - mb) ** 2 for v in fb)
        assert abs(beta[t] - float(cov / var)) / abs(float(cov / var)) <= 1e-12


def test_segments_of_a_long_series_give_the_same_bits_on_any_threads_and_stay_exact():
    # 300,000 ticks make four segments (each starts from its window rebuilt);
    # NaN, inf and a constant stretch sit around the segment starts
    rng = np.random.default_rng(21)
    n = 300_000
    times = _times(rng, n, mean_gap_s=30.0, ties=True)
    b = rng.normal(0.0, 0.01, n)
    p = b + rng.normal(0.0, 0.002, n)
    starts = [n * s // 4 for s in range(1, 4)]
    for s in starts:
        p[s - 3] = np.nan
        b[s + 2] = np.nan
        p[s - 200 : s - 100] = b[s - 200 : s - 100] + 0.001  # a constant active return
    p[starts[1] - 50] = np.inf
    one = trackerr.rolling_stats(p, b, "2h", times=times, threads=1)
    two = trackerr.rolling_stats(p, b, "2h", times=times, threads=2)
    for f1, f2 in zip(one, two, strict=True):
        np.testing.assert_array_equal(f1, f2)
    panel = trackerr.rolling_stats(np.column_stack([p, p]), b, "2h", times=times, threads=2)
    np.testing.assert_array_equal(panel.tracking_error[:, 1], one.tracking_error)
    span = np.timedelta64(2, "h").astype("timedelta64[ns]").astype(np.int64)
    stamps = times.astype("datetime64[ns]").astype(np.int64)
    a = p - b
    for s in starts:
        for t in (s - 1, s, s + 1, s + 3, s + 500):
            first = int(np.searchsorted(stamps, stamps[t] - span, side="right"))
            x = a[first : t + 1]
            x = x[~np.isnan(x)]
            if not np.all(np.isfinite(x)):
                assert np.isnan(one.tracking_error[t])
                continue
            want = _exact_std(x.tolist())
            assert abs(one.tracking_error[t] - want) <= 1e-12 * want, (s, t)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_an_index_in_any_unit_is_read_in_nanoseconds(unit):
    # pandas 3 parses dates to microseconds and keeps the unit it is given:
    # the index's integers are in that unit, and reading them as nanoseconds
    # made every window span (almost) the whole series
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(5)
    index = pd.DatetimeIndex(_times(rng, 300)).as_unit(unit)
    p = pd.Series(rng.normal(0, 0.01, 300), index)
    b = pd.Series(rng.normal(0, 0.01, 300), index)
    got = trackerr.rolling_tracking_error(p, b, "1D")
    want = (p - b).rolling("1D").std()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-12, atol=1e-15)
    ns = trackerr.rolling_tracking_error(
        p.to_numpy(), b.to_numpy(), "1D", times=index.as_unit("ns")
    )
    np.testing.assert_array_equal(got.to_numpy(), ns)


def test_times_beyond_the_nanosecond_range_are_refused_not_wrapped():
    # numpy's datetime64[s] -> [ns] conversion wraps year 3000 to 1830 silently
    times = np.array(["2024-01-01", "3000-01-01"], dtype="datetime64[s]")
    with pytest.raises(ValueError, match=r"outside the range of int64 nanoseconds.*3000-01-01"):
        trackerr.rolling_tracking_error(np.full(2, 0.01), np.zeros(2), "30D", times=times)


def test_review_findings_on_spans_times_and_out():
    # a pandas Timedelta keeps its nanoseconds (it subclasses datetime.timedelta,
    # which has none); numbers or text as times= are refused, not parsed; spans
    # beyond int64 nanoseconds or finer than one are refused clearly; out= may
    # not share memory with the times
    pd = pytest.importorskip("pandas")
    p = np.array([0.01, 0.03, -0.02, 0.05])
    b = np.zeros(4)
    t = np.array([0, 1200, 1400, 2600], dtype="datetime64[ns]")
    np.testing.assert_array_equal(
        trackerr.rolling_tracking_error(p, b, pd.Timedelta("1500ns"), times=t),
        trackerr.rolling_tracking_error(p, b, "1500ns", times=t),
    )
    want = (pd.Series(p, t) - pd.Series(b, t)).rolling("1500ns").std().to_numpy()
    np.testing.assert_allclose(
        trackerr.rolling_tracking_error(p, b, "1500ns", times=t), want, rtol=1e-12
    )
    for times in (pd.Series([0, 86400, 2 * 86400, 3 * 86400]), pd.Series(["2024-01-01"] * 4)):
        with pytest.raises(TypeError, match="times must hold datetime64 values"):
            trackerr.rolling_tracking_error(p, b, "1D", times=times)
    for window, match in (
        (dt.timedelta(days=999_999), "too long for int64 nanoseconds"),
        (np.timedelta64(1, "ps"), "not a whole number of nanoseconds"),
        (np.timedelta64("NaT"), "window is NaT"),
    ):
        with pytest.raises(ValueError, match=match):
            trackerr.rolling_tracking_error(p, b, window, times=t)
    stamps = (np.arange(4) * 86_400 * 10**9).astype("datetime64[ns]")
    before = stamps.copy()
    with pytest.raises(ValueError, match="out must not overlap"):
        trackerr.rolling_tracking_error(p, b, "3D", times=stamps, out=stamps.view(np.float64))
    np.testing.assert_array_equal(stamps, before)


RISK_ROLLING = [
    ("rolling_max_drawdown", False, "max_drawdown"),
    ("rolling_sortino_ratio", False, "sortino_ratio"),
    ("rolling_omega_ratio", False, "omega_ratio"),
    ("rolling_sharpe_ratio", False, "sharpe_ratio"),
    ("rolling_up_capture", True, "up_capture"),
    ("rolling_down_capture", True, "down_capture"),
]


@pytest.mark.parametrize(("name", "two", "full"), RISK_ROLLING)
def test_risk_metrics_over_time_windows_equal_each_windows_full_sample(name, two, full):
    # every rolling_* function takes a span: each value is the full-sample
    # metric of its (t - span, t] rows (ties, a gap longer than the span, NaN)
    rng = np.random.default_rng(17)
    n = 300
    times = _times(rng, n, ties=True)
    times[150:] += np.timedelta64(3, "D")  # a gap: row 150's window holds only itself
    r = rng.normal(0.0005, 0.01, n)
    b = rng.normal(0.0003, 0.01, n)
    r[40] = np.nan
    args = (r, b) if two else (r,)
    got = getattr(trackerr, name)(*args, "1D", times=times)
    stamps = times.astype("datetime64[ns]").astype(np.int64)
    span = 86_400 * 10**9
    want = np.empty(n)
    for t in range(n):
        first = int(np.searchsorted(stamps, stamps[t] - span, side="right"))
        rows = slice(first, t + 1)
        want[t] = getattr(trackerr, full)(*(x[rows] for x in args))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    # panels, threads and propagate as for the moment metrics
    panel = getattr(trackerr, name)(
        *((np.column_stack([r, r]), b) if two else (np.column_stack([r, r]),)),
        "1D",
        times=times,
        threads=2,
    )
    np.testing.assert_array_equal(panel[:, 1], got)
    spread = getattr(trackerr, name)(*args, "1D", times=times, nan_policy="propagate")
    held = (np.arange(n) >= 40) & (stamps - span < stamps[40])  # windows holding row 40
    assert np.isnan(spread[held]).all()
    np.testing.assert_array_equal(spread[~held], got[~held])
    with pytest.raises(ValueError, match="times is for a time-span window"):
        getattr(trackerr, name)(*args, 20, times=times)
