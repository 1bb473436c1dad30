"""Timing: tracking error by horizon, the genuine / timing split and lead-lag,
on synthetic series whose truth is known and on the shipped ETF data."""

from __future__ import annotations

import math

import numpy as np
import pytest

import trackerr
from trackerr import datasets


def _synthetic(n, s, v, seed, lag=0):
    """Simple returns whose active log returns are g_t + e_t - e_(t-1):
    genuine N(0, s^2) plus endpoint noise of variance v, against a benchmark
    of N(0, 0.02^2) log returns; with `lag`, the portfolio follows the
    benchmark `lag` periods late (p_t moves with b_(t - lag))."""
    rng = np.random.default_rng(seed)
    lb = rng.normal(0.0, 0.02, n + lag)
    e = rng.normal(0.0, math.sqrt(v), n + 1)
    la = rng.normal(0.0, s, n) + e[1:] - e[:-1]
    return np.expm1(lb[:n] + la), np.expm1(lb[lag : n + lag])


def test_profile_of_pure_genuine_active_returns_is_flat():
    p, b = _synthetic(40_000, 0.002, 0.0, 1)
    prof = trackerr.tracking_error_by_horizon(p, b, [1, 5, 20])
    assert np.allclose(prof.tracking_error, 0.002, rtol=0.05)
    assert list(prof.observations) == [40_000, 39_996, 39_981]


def test_profile_falls_like_one_over_root_k_with_endpoint_noise():
    s, v = 0.001, 0.01**2
    p, b = _synthetic(40_000, s, v, 2)
    prof = trackerr.tracking_error_by_horizon(p, b, [1, 4, 16], periods_per_year=252)
    want = np.sqrt((np.array([1, 4, 16]) * s**2 + 2 * v) * 252 / np.array([1, 4, 16]))
    np.testing.assert_allclose(prof.tracking_error, want, rtol=0.06)


def test_profile_one_period_equals_tracking_error_of_log_active_returns():
    p, b = _synthetic(3000, 0.003, 0.0001, 3)
    prof = trackerr.tracking_error_by_horizon(p, b, 1, periods_per_year="daily")
    a = np.log1p(p) - np.log1p(b)
    assert prof.tracking_error[0] == pytest.approx(
        trackerr.tracking_error(a, np.zeros_like(a), periods_per_year=252), rel=1e-12
    )


def test_non_overlapping_profile_uses_consecutive_blocks():
    p, b = _synthetic(1000, 0.003, 0.0, 4)
    prof = trackerr.tracking_error_by_horizon(p, b, [3], overlapping=False)
    assert prof.observations[0] == 333
    a = (np.log1p(p) - np.log1p(b))[1:].reshape(333, 3).sum(axis=1)
    assert prof.tracking_error[0] == pytest.approx(np.std(a, ddof=1) / math.sqrt(3), rel=1e-12)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_decomposition_recovers_genuine_and_timing_parts(seed):
    s, v = 0.001, 0.008**2
    p, b = _synthetic(20_000, s, v, seed)
    d = trackerr.timing_decomposition(p, b, periods_per_year=252)
    assert d.fits
    assert d.genuine_tracking_error == pytest.approx(s * math.sqrt(252), rel=0.15)
    assert d.timing_noise == pytest.approx(math.sqrt(v), rel=0.05)
    assert d.timing_share == pytest.approx(2 * v / (s**2 + 2 * v), abs=0.02)


def test_decomposition_intervals_cover_the_truth_about_as_often_as_they_say():
    # 90 % intervals over 30 independent series: covering the truth fewer than
    # 22 times has a binomial probability below 1 % if they are calibrated
    s, v = 0.001, 0.008**2
    genuine, share = s * math.sqrt(252), 2 * v / (s**2 + 2 * v)
    hits_g = hits_s = 0
    for seed in range(200, 230):
        p, b = _synthetic(10_000, s, v, seed)
        d = trackerr.timing_decomposition(p, b, periods_per_year=252, confidence=0.9)
        hits_g += d.genuine_interval[0] <= genuine <= d.genuine_interval[1]
        hits_s += d.timing_share_interval[0] <= share <= d.timing_share_interval[1]
    assert hits_g >= 22 and hits_s >= 22, (hits_g, hits_s)


@pytest.mark.parametrize(
    "n, k_max, groups", [(2520, 21, 10), (97, 3, 7), (400, 12, 2), (64, 16, 4)]
)
def test_jackknife_left_out_variances_equal_those_of_the_two_pieces(n, k_max, groups):
    # each group's row must be the variance of the k-period sums of the pieces
    # before and after it, computed on its own (no sum spanning the gap), with
    # a drift far larger than the noise so that centring matters
    from trackerr import _timing

    rng = np.random.default_rng(n)
    a = 0.05 + rng.normal(0.0, 0.001, n) + 0.004 * np.diff(rng.normal(size=n + 1))
    ks = np.arange(1, k_max + 1)
    edges = [n * g // groups for g in range(groups + 1)]
    got = _timing._jackknife_variances(a, ks, edges)
    for g in range(groups):
        pieces = [x for x in (a[: edges[g]], a[edges[g + 1] :]) if len(x)]
        want = _timing._variances(pieces, ks, True)
        np.testing.assert_allclose(got[g], want, rtol=1e-11, atol=0)


def test_decomposition_without_timing_noise_finds_none():
    p, b = _synthetic(20_000, 0.002, 0.0, 8)
    d = trackerr.timing_decomposition(p, b)
    assert d.genuine_tracking_error == pytest.approx(0.002, rel=0.05)
    assert d.timing_share < 0.05
    assert d.fits


def test_decomposition_flags_a_trending_active_return():
    rng = np.random.default_rng(9)
    n = 5000
    # active returns that trend (AR(1) with strong persistence): the profile rises with k
    a = np.zeros(n)
    shocks = rng.normal(0, 0.001, n)
    for t in range(1, n):
        a[t] = 0.9 * a[t - 1] + shocks[t]
    b = rng.normal(0, 0.01, n)
    p = np.expm1(np.log1p(b) + a)
    d = trackerr.timing_decomposition(p, b)
    assert not d.fits
    assert d.profile[-1] > d.profile[0]


def test_decomposition_on_spot_bitcoin_etfs_says_the_clock_explains_the_tracking_error():
    ds = datasets.load("btc_etfs")
    r = ds.returns()
    b = r[:, ds.columns.index("BTC_USD")]
    for name in ("IBIT", "FBTC"):
        p = r[:, ds.columns.index(name)]
        d = trackerr.timing_decomposition(p, b, periods_per_year=252)
        # issue 11's figures on this data: naive 22.9 %, genuine 0.09 % / 0.15 %, noise 0.99 %
        assert d.naive_tracking_error == pytest.approx(0.229, abs=0.002)
        assert d.genuine_tracking_error < 0.005
        assert d.timing_noise == pytest.approx(0.0099, abs=0.0003)
        assert d.timing_share > 0.9
        assert d.fits


def test_lead_lag_finds_a_known_lag_and_dimson_corrects_beta():
    p, b = _synthetic(20_000, 0.0005, 0.0, 10, lag=2)
    ll = trackerr.lead_lag(p, b, max_lag=4, dimson_lags=2)
    assert ll.best_lag == -2  # p_t moves with b_(t-2): the portfolio prices late
    assert list(ll.lags) == list(range(-4, 5))
    assert ll.correlation[2] > 0.95
    assert abs(ll.beta) < 0.05  # the plain same-period slope misses it
    assert ll.dimson_beta == pytest.approx(1.0, abs=0.03)
    assert ll.tracking_error[2] == pytest.approx(np.min(ll.tracking_error))


def test_lead_lag_at_lag_zero_is_the_plain_figures():
    p, b = _synthetic(2000, 0.002, 0.0, 11)
    ll = trackerr.lead_lag(p, b, max_lag=1)
    assert ll.correlation[1] == trackerr.correlation(p, b)
    assert ll.tracking_error[1] == trackerr.tracking_error(p, b)
    assert ll.beta == trackerr.beta(p, b)


def test_pandas_in_gives_a_labelled_profile():
    pd = pytest.importorskip("pandas")
    p, b = _synthetic(500, 0.002, 0.0001, 12)
    idx = pd.date_range("2024-01-01", periods=500, freq="D")
    prof = trackerr.tracking_error_by_horizon(pd.Series(p, idx), pd.Series(b, idx), [1, 5])
    assert isinstance(prof, pd.Series)
    assert list(prof.index) == [1, 5] and prof.index.name == "horizon"


def test_nan_rows_are_dropped_or_refused():
    p, b = _synthetic(600, 0.002, 0.0001, 13)
    p2 = p.copy()
    p2[10] = np.nan
    kept = trackerr.tracking_error_by_horizon(p2, b, [1, 5])
    want = trackerr.tracking_error_by_horizon(np.delete(p, 10), np.delete(b, 10), [1, 5])
    np.testing.assert_array_equal(kept.tracking_error, want.tracking_error)
    with pytest.raises(ValueError, match="portfolio has a NaN at row 10"):
        trackerr.tracking_error_by_horizon(p2, b, [1], nan_policy="raise")
    assert np.isnan(p2[10])  # the input is left as it was


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda p, b: trackerr.tracking_error_by_horizon(p, b, [0]), ValueError, "at least 1"),
        (lambda p, b: trackerr.tracking_error_by_horizon(p, b, [2.5]), TypeError, "integers"),
        (lambda p, b: trackerr.tracking_error_by_horizon(p, b, []), ValueError, "empty"),
        (lambda p, b: trackerr.tracking_error_by_horizon(p, b, [200]), ValueError, "too long"),
        (lambda p, b: trackerr.tracking_error_by_horizon(p, b, "5"), TypeError, "integers"),
        (
            lambda p, b: trackerr.tracking_error_by_horizon(p, b, overlapping=1),
            TypeError,
            "True or False",
        ),
        (
            lambda p, b: trackerr.tracking_error_by_horizon(p, b, nan_policy="propagate"),
            ValueError,
            "not supported",
        ),
        (lambda p, b: trackerr.timing_decomposition(p, b, max_horizon=1), ValueError, "at least 2"),
        (lambda p, b: trackerr.timing_decomposition(p, b, max_horizon=90), ValueError, "too long"),
        (
            lambda p, b: trackerr.timing_decomposition(p, b, confidence=1.0),
            ValueError,
            "confidence",
        ),
        (lambda p, b: trackerr.timing_decomposition(p, b, groups=1), ValueError, "groups"),
        (lambda p, b: trackerr.lead_lag(p, b, max_lag=-1), ValueError, "at least 0"),
        (lambda p, b: trackerr.lead_lag(p, b, max_lag=300), ValueError, "too long"),
        (lambda p, b: trackerr.lead_lag(p, b, dimson_lags=1.0), TypeError, "integer"),
        (lambda p, b: trackerr.lead_lag(p, b.reshape(-1, 1), max_lag=1), ValueError, "1-D"),
    ],
)
def test_bad_arguments_raise_clearly(call, err, match):
    p, b = _synthetic(300, 0.002, 0.0001, 14)
    with pytest.raises(err, match=match):
        call(p, b)


def test_returns_at_or_below_minus_one_are_refused():
    p, b = _synthetic(300, 0.002, 0.0001, 15)
    p[7] = -1.0
    with pytest.raises(ValueError, match="must exceed -1"):
        trackerr.timing_decomposition(p, b)


# --- in the report ------------------------------------------------------------------


def test_report_explains_the_etf_breaches_by_timing():
    pytest.importorskip("pandas")
    import json

    from trackerr import report

    frame = datasets.load("btc_etfs").to_frame()
    rep = report.build(frame, "BTC_USD", portfolios=["IBIT", "FBTC"], limit=0.03)
    for name in ("IBIT", "FBTC"):
        t = rep.timing[name]
        assert rep.breaches[name]  # the naive rolling TE breaches 3 % ...
        assert t["verdict"].startswith("the breaches are explained by timing")  # ... and says why
        assert t["genuine_interval"][1] < 0.03
        assert t["horizons"][0] == 1 and len(t["tracking_error_by_horizon"]) == len(t["horizons"])
    doc = json.loads(json.dumps(rep.to_dict(), allow_nan=False))
    assert doc["timing"]["IBIT"]["best_lag"] == 0


def test_report_does_not_blame_the_clock_for_a_genuine_drift():
    pd = pytest.importorskip("pandas")
    from trackerr import report

    rng = np.random.default_rng(21)
    n = 800
    a = np.zeros(n)
    for t in range(1, n):
        a[t] = 0.95 * a[t - 1] + rng.normal(0, 0.002)
    lb = rng.normal(0, 0.01, n)
    idx = pd.bdate_range("2020-01-01", periods=n)
    frame = pd.DataFrame({"B": np.exp(np.cumsum(lb)), "P": np.exp(np.cumsum(lb + a))}, index=idx)
    rep = report.build(frame, "B", limit=0.01)
    assert rep.breaches["P"]
    assert not rep.timing["P"]["fits"]
    assert "read it as genuine" in rep.timing["P"]["verdict"]


def test_horizon_profile_of_a_drifting_series_stays_exact():
    # k-period sums taken as differences of one running sum lose digits when
    # the series drifts (the running sum grows like drift x length): 20,000
    # periods drifting at 100 times their noise lost 1.7e-12 of the tracking error
    import math
    from fractions import Fraction

    rng = np.random.default_rng(33)
    a = rng.normal(1e-3, 1e-5, 20_000)
    p, b = np.expm1(a), np.zeros_like(a)
    prof = trackerr.tracking_error_by_horizon(p, b, [1, 5, 21])
    active = np.log1p(p) - np.log1p(b)
    level = Fraction(float(np.mean(active)))
    exact = [Fraction(v) - level for v in active.tolist()]
    for k, te in zip(prof.horizons, prof.tracking_error, strict=True):
        run = sum(exact[:k])  # the k-period sums, exactly
        sums = [run]
        for i in range(k, len(exact)):
            run += exact[i] - exact[i - k]
            sums.append(run)
        m = sum(sums) / len(sums)
        var = sum((s - m) ** 2 for s in sums) / (len(sums) - 1)
        assert abs(te / math.sqrt(float(var) / k) - 1) <= 1e-12, k
