"""Risk metrics (max drawdown, Sharpe, Sortino, Omega, capture ratios):
against trackerr.reference (fsum / exact rational sums), against
empyrical-reloaded where conventions match, rolling == full-sample on every
window, NaN policies, pandas, panels, layouts and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import trackerr
from trackerr import reference

from conftest import assert_close

ONE = {
    "max_drawdown": [{}],
    "sharpe_ratio": [{}, {"risk_free": 1e-4, "periods_per_year": 252}, {"ddof": 0}],
    "sortino_ratio": [{}, {"target": 5e-4, "periods_per_year": "crypto-daily"}],
    "omega_ratio": [{}, {"threshold": -2e-3}],
}
TWO = {
    "up_capture": [
        {},
        {"method": "annualized", "periods_per_year": 252},
        {"method": "annualized", "periods_per_year": "monthly"},
    ],
    "down_capture": [
        {},
        {"method": "annualized", "periods_per_year": 252},
        {"method": "annualized", "periods_per_year": 365},
    ],
}
# Capture ratios: numpy's log1p and the C library's may differ by an ulp per
# term, which the cancellation inside a sum of mixed-sign logs magnifies.
RTOL = {"up_capture": 1e-11, "down_capture": 1e-11, "sharpe_ratio": 1e-10}


def _series(rng, n=600, cols=None, nan_frac=0.03):
    shape = (n,) if cols is None else (n, cols)
    r = rng.normal(3e-4, 0.02, shape)
    r[rng.random(shape) < nan_frac] = np.nan
    return r


def _pair(rng, n=600, cols=None):
    b = rng.normal(2e-4, 0.015, n)
    noise = rng.normal(1e-4, 0.006, (n,) if cols is None else (n, cols))
    p = (1.2 * b if cols is None else 1.2 * b[:, None]) + noise
    p[rng.random(p.shape) < 0.03] = np.nan
    b[rng.random(n) < 0.02] = np.nan
    return p, b


def _cases(table):
    return [(name, opts) for name, sets in table.items() for opts in sets]


# --- full sample against the reference ---------------------------------------------


@pytest.mark.parametrize(("name", "opts"), _cases(ONE))
@pytest.mark.parametrize("cols", [None, 5])
def test_one_series_matches_reference(rng, name, opts, cols):
    r = _series(rng, cols=cols)
    got = getattr(trackerr, name)(r, **opts)
    want = getattr(reference, name)(r, **opts)
    assert_close(got, want, rtol=RTOL.get(name, 1e-13))


@pytest.mark.parametrize(("name", "opts"), _cases(TWO))
@pytest.mark.parametrize("cols", [None, 4])
def test_capture_matches_reference(rng, name, opts, cols):
    p, b = _pair(rng, cols=cols)
    got = getattr(trackerr, name)(p, b, **opts)
    want = getattr(reference, name)(p, b, **opts)
    assert_close(got, want, rtol=RTOL[name])


@pytest.mark.parametrize("name", list(ONE))
def test_layouts_and_float32(rng, name):
    r = _series(rng, n=401, cols=3)
    want = getattr(reference, name)(r)
    for layout in (np.asfortranarray(r), np.ascontiguousarray(r)):
        assert_close(getattr(trackerr, name)(layout), want, rtol=RTOL.get(name, 1e-13))
    strided = r[::-2]
    assert_close(
        getattr(trackerr, name)(strided),
        getattr(reference, name)(strided),
        rtol=RTOL.get(name, 1e-13),
    )
    r32 = r.astype(np.float32)
    assert_close(
        getattr(trackerr, name)(r32),
        getattr(reference, name)(r32.astype(np.float64)),
        rtol=RTOL.get(name, 1e-13),
    )


def test_max_drawdown_definition():
    # A first-period loss counts (the peak includes the starting wealth 1).
    assert trackerr.max_drawdown(np.array([-0.1, 0.05])) == pytest.approx(-0.1, rel=1e-15)
    # Never below the peak: 0.
    assert trackerr.max_drawdown(np.array([0.01, 0.0, 0.02])) == 0.0
    # Hand example: wealth 1.1, 0.55, 1.1, 0.77 -> worst 0.55 / 1.1 - 1.
    r = np.array([0.1, -0.5, 1.0, -0.3])
    assert trackerr.max_drawdown(r) == pytest.approx(-0.5, rel=1e-15)
    # A total loss is -1; a return below -1 (negative wealth) or an inf is NaN.
    assert trackerr.max_drawdown(np.array([0.2, -1.0, 0.5])) == -1.0
    assert math.isnan(trackerr.max_drawdown(np.array([0.2, -1.5, 0.5])))
    assert math.isnan(trackerr.max_drawdown(np.array([0.2, np.inf])))
    assert math.isnan(trackerr.max_drawdown(np.array([np.nan, np.nan])))


def test_max_drawdown_small_drawdown_late_in_long_series(rng):
    # A product of 1 + r loses digits of a small drawdown; the log form keeps them.
    r = np.abs(rng.normal(0.0, 1e-3, 100_000))
    r[-3:] = [-1e-9, 3e-10, -4e-10]
    got = trackerr.max_drawdown(r)
    assert got == pytest.approx(reference.max_drawdown(r), rel=1e-12)
    assert got == pytest.approx(
        math.expm1(math.log1p(-1e-9) + math.log1p(3e-10) + math.log1p(-4e-10)), rel=1e-9
    )


def test_sortino_and_omega_edge_cases():
    up = np.array([0.01, 0.02, 0.0])
    assert math.isnan(trackerr.sortino_ratio(up))  # no downside: DD = 0
    assert math.isnan(trackerr.omega_ratio(up))  # no loss: denominator 0 (empyrical: NaN)
    const = np.full(50, -0.003)
    assert trackerr.sortino_ratio(const) == pytest.approx(-1.0, rel=1e-15)
    assert trackerr.omega_ratio(const) == 0.0


def test_sharpe_is_information_ratio_against_constant(rng):
    r = _series(rng)
    rf = np.full_like(r, 2e-4)
    assert trackerr.sharpe_ratio(r, risk_free=2e-4, periods_per_year=252) == pytest.approx(
        trackerr.information_ratio(r, rf, periods_per_year=252), rel=1e-14
    )


# --- empyrical ----------------------------------------------------------------------


@pytest.fixture
def clean(rng):
    b = rng.normal(4e-4, 0.013, 1500)
    p = 1.1 * b + rng.normal(1e-4, 0.005, 1500)
    return p, b


def test_empyrical_conformance(clean):
    empyrical = pytest.importorskip("empyrical")
    p, b = clean
    assert trackerr.max_drawdown(p) == pytest.approx(empyrical.max_drawdown(p), rel=1e-12)
    assert trackerr.sharpe_ratio(p, periods_per_year=252) == pytest.approx(
        empyrical.sharpe_ratio(p, annualization=252), rel=1e-12
    )
    assert trackerr.sharpe_ratio(p, risk_free=1e-4, periods_per_year=365) == pytest.approx(
        empyrical.sharpe_ratio(p, risk_free=1e-4, annualization=365), rel=1e-12
    )
    assert trackerr.sortino_ratio(p, periods_per_year=252) == pytest.approx(
        empyrical.sortino_ratio(p, required_return=0.0, annualization=252), rel=1e-12
    )
    assert trackerr.omega_ratio(p) == pytest.approx(
        empyrical.omega_ratio(p, risk_free=0.0, required_return=0.0), rel=1e-12
    )
    # empyrical's capture functions take `period` (its annualization= keyword
    # does not reach them in 0.7.x).
    for periods, period in ((252, "daily"), (12, "monthly"), (52, "weekly")):
        kw = {"method": "annualized", "periods_per_year": periods}
        assert trackerr.up_capture(p, b, **kw) == pytest.approx(
            empyrical.up_capture(p, b, period=period), rel=1e-10
        )
        assert trackerr.down_capture(p, b, **kw) == pytest.approx(
            empyrical.down_capture(p, b, period=period), rel=1e-10
        )


def test_empyrical_omega_denominator_zero_is_nan():
    empyrical = pytest.importorskip("empyrical")
    r = np.array([0.01, 0.02, 0.03])
    assert math.isnan(empyrical.omega_ratio(r)) and math.isnan(trackerr.omega_ratio(r))


# --- rolling ------------------------------------------------------------------------

ROLL_ONE = {
    "rolling_max_drawdown": {},
    "rolling_sortino_ratio": {"target": 1e-4, "periods_per_year": 252},
    "rolling_omega_ratio": {"threshold": 1e-3},
    "rolling_sharpe_ratio": {"risk_free": 1e-4, "periods_per_year": 252},
}
ROLL_TWO = {
    "rolling_up_capture": {"method": "annualized", "periods_per_year": 252},
    "rolling_down_capture": {},
}


@pytest.mark.parametrize("name", list(ROLL_ONE))
@pytest.mark.parametrize(("window", "min_periods"), [(2, None), (21, None), (30, 5), (300, 1)])
@pytest.mark.parametrize("cols", [None, 3])
def test_rolling_one_series_matches_reference(rng, name, window, min_periods, cols):
    r = _series(rng, n=250, cols=cols, nan_frac=0.05)
    r[100:104] = np.nan  # a whole stretch missing
    opts = ROLL_ONE[name]
    got = getattr(trackerr, name)(r, window, min_periods=min_periods, **opts)
    want = getattr(reference, name)(r, window, min_periods=min_periods, **opts)
    assert_close(got, want, rtol=RTOL.get(name[8:], 1e-13))


@pytest.mark.parametrize("name", list(ROLL_TWO))
@pytest.mark.parametrize(("window", "min_periods"), [(2, None), (25, None), (40, 3)])
@pytest.mark.parametrize("cols", [None, 3])
def test_rolling_capture_matches_reference(rng, name, window, min_periods, cols):
    p, b = _pair(rng, n=250, cols=cols)
    opts = ROLL_TWO[name]
    got = getattr(trackerr, name)(p, b, window, min_periods=min_periods, **opts)
    want = getattr(reference, name)(p, b, window, min_periods=min_periods, **opts)
    assert_close(got, want, rtol=1e-11)


def _full_name(rolling_name):
    return rolling_name[len("rolling_") :]


@pytest.mark.parametrize("name", list(ROLL_ONE))
def test_rolling_equals_full_sample_on_each_window(rng, name):
    r = _series(rng, n=120, nan_frac=0.05)
    window = 17
    opts = ROLL_ONE[name]
    rolled = getattr(trackerr, name)(r, window, min_periods=1, **opts)
    full = getattr(trackerr, _full_name(name))
    for t in range(len(r)):
        chunk = r[max(0, t - window + 1) : t + 1]
        want = full(chunk, **opts) if np.isfinite(chunk).any() else math.nan
        assert_close(rolled[t], want, rtol=1e-13 if name != "rolling_sharpe_ratio" else 1e-10)
    whole = getattr(trackerr, name)(r, len(r), min_periods=1, **opts)[-1]
    assert_close(whole, full(r, **opts), rtol=1e-13 if name != "rolling_sharpe_ratio" else 1e-10)


@pytest.mark.parametrize("name", list(ROLL_TWO))
def test_rolling_capture_equals_full_sample_on_each_window(rng, name):
    p, b = _pair(rng, n=120)
    window = 23
    opts = ROLL_TWO[name]
    rolled = getattr(trackerr, name)(p, b, window, min_periods=1, **opts)
    full = getattr(trackerr, _full_name(name))
    for t in range(len(p)):
        lo = max(0, t - window + 1)
        pc, bc = p[lo : t + 1], b[lo : t + 1]
        ok = ~(np.isnan(pc) | np.isnan(bc))
        want = full(pc, bc, **opts) if ok.any() else math.nan
        assert_close(rolled[t], want, rtol=1e-13)
    whole = getattr(trackerr, name)(p, b, len(p), min_periods=1, **opts)[-1]
    assert_close(whole, full(p, b, **opts), rtol=1e-13)


def _adversarial(rng, n=3000):
    """Regime change: huge returns, then tiny noise, then constant stretches; inf and NaN."""
    k1, k2 = rng.integers(200, 700), rng.integers(1200, 1800)
    r = np.empty(n)
    r[:k1] = rng.normal(0.0, 1.0, k1) * 10.0 ** rng.uniform(2, 8, k1)
    r[:k1] = np.maximum(r[:k1], -0.999)  # keep wealth positive for the drawdown
    r[k1:k2] = rng.normal(1e-6, 1e-3, k2 - k1)
    r[k2 : k2 + 400] = -2.5e-4  # constant losses
    r[k2 + 400 : k2 + 800] = 1.5e-4  # constant gains
    r[k2 + 800 :] = rng.normal(0.0, 1e-3, n - k2 - 800)
    r[rng.integers(0, n, 10)] = np.nan
    r[k1 + 50] = np.inf
    return r


@pytest.mark.parametrize(
    "name", ["rolling_max_drawdown", "rolling_sortino_ratio", "rolling_omega_ratio"]
)
@pytest.mark.parametrize("window", [5, 63])
def test_rolling_adversarial(rng, name, window):
    worst = 0.0
    for _ in range(3):
        r = _adversarial(rng)
        got = getattr(trackerr, name)(r, window)
        want = getattr(reference, name)(r, window)
        assert_close(got, want, rtol=1e-12)
        ok = np.isfinite(want) & (want != 0)
        worst = max(worst, float(np.max(np.abs(got[ok] - want[ok]) / np.abs(want[ok]))))
    print(f"{name} window={window}: worst relative error {worst:.2e}")


@pytest.mark.parametrize("name", ["rolling_up_capture", "rolling_down_capture"])
def test_rolling_capture_adversarial(rng, name):
    b = _adversarial(rng) * 1e-3
    p = 0.9 * b + rng.normal(0.0, 1e-6, b.shape)
    p[np.isinf(b)] = 0.0
    got = getattr(trackerr, name)(p, b, 40)
    want = getattr(reference, name)(p, b, 40)
    assert_close(got, want, rtol=1e-11)


def test_rolling_constant_windows_exact():
    r = np.concatenate([np.full(10, 1e6), np.full(100, -2e-3), np.full(100, 0.0)])
    sortino = trackerr.rolling_sortino_ratio(r, 20)
    assert np.all(sortino[30:110] == -1.0)
    assert np.all(np.isnan(sortino[130:]))  # zero downside deviation
    omega = trackerr.rolling_omega_ratio(r, 20)
    assert np.all(omega[30:110] == 0.0) and np.all(np.isnan(omega[130:]))
    mdd = trackerr.rolling_max_drawdown(r, 20)
    assert np.all(mdd[130:] == 0.0)


def test_rolling_inf_only_poisons_its_windows():
    r = np.full(30, 0.01)
    r[::3] = -0.02
    r[10] = np.inf
    for f in (
        trackerr.rolling_max_drawdown,
        trackerr.rolling_sortino_ratio,
        trackerr.rolling_omega_ratio,
    ):
        v = f(r, 4)
        assert np.all(np.isnan(v[10:14])) and np.all(np.isfinite(v[14:]))


def test_rolling_threads_do_not_change_results(rng):
    r = _series(rng, n=500, cols=7)
    p, b = _pair(rng, n=500, cols=7)
    for threads in (1, 3):
        np.testing.assert_array_equal(
            trackerr.rolling_max_drawdown(r, 30, threads=threads),
            trackerr.rolling_max_drawdown(r, 30),
        )
        np.testing.assert_array_equal(
            trackerr.rolling_up_capture(p, b, 30, threads=threads),
            trackerr.rolling_up_capture(p, b, 30),
        )


def test_rolling_out_argument(rng):
    r = _series(rng, n=100, cols=2)
    out = np.empty((100, 2))
    res = trackerr.rolling_omega_ratio(r, 10, out=out)
    assert res is out
    assert_close(out, reference.rolling_omega_ratio(r, 10), rtol=1e-13)
    with pytest.raises(ValueError, match="shape"):
        trackerr.rolling_omega_ratio(r, 10, out=np.empty(100))
    with pytest.raises(TypeError, match="float64"):
        trackerr.rolling_omega_ratio(r, 10, out=np.empty((100, 2), np.float32))


# --- NaN policies ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ONE))
def test_nan_policies_one_series(rng, name):
    r = _series(rng, n=200, nan_frac=0.0)
    r[17] = np.nan
    f = getattr(trackerr, name)
    assert_close(f(r), f(r[~np.isnan(r)]), rtol=1e-15)
    assert math.isnan(f(r, nan_policy="propagate"))
    with pytest.raises(ValueError, match="row 17"):
        f(r, nan_policy="raise")
    rolled = getattr(trackerr, "rolling_" + name)(r, 10, nan_policy="propagate")
    assert np.all(np.isnan(rolled[17:27])) and np.all(np.isfinite(rolled[27:]))
    with pytest.raises(ValueError, match="row 17"):
        getattr(trackerr, "rolling_" + name)(r, 10, nan_policy="raise")


@pytest.mark.parametrize("name", list(TWO))
def test_nan_policies_capture(rng, name):
    p, b = _pair(rng, n=200)
    f = getattr(trackerr, name)
    ok = ~(np.isnan(p) | np.isnan(b))
    assert_close(f(p, b), f(p[ok], b[ok]), rtol=1e-15)
    assert math.isnan(f(p, b, nan_policy="propagate"))
    with pytest.raises(ValueError, match="nan_policy='raise'"):
        f(p, b, nan_policy="raise")
    assert_close(
        f(p, b, nan_policy="propagate"),
        getattr(reference, name)(p, b, nan_policy="propagate"),
    )


# --- pandas ----------------------------------------------------------------------------


def test_pandas_in_pandas_out(rng):
    pd = pytest.importorskip("pandas")
    idx = pd.date_range("2024-01-01", periods=300, freq="D")
    df = pd.DataFrame(_series(rng, n=300, cols=3), index=idx, columns=["a", "b", "c"])
    for name in ONE:
        res = getattr(trackerr, name)(df)
        assert isinstance(res, pd.Series) and list(res.index) == ["a", "b", "c"]
        assert_close(
            res.to_numpy(), getattr(reference, name)(df.to_numpy()), rtol=RTOL.get(name, 1e-13)
        )
        assert isinstance(getattr(trackerr, name)(df["a"]), float)
        rolled = getattr(trackerr, "rolling_" + name)(df, 20)
        assert isinstance(rolled, pd.DataFrame) and rolled.index.equals(idx)
        assert list(rolled.columns) == ["a", "b", "c"]
        assert isinstance(getattr(trackerr, "rolling_" + name)(df["a"], 20), pd.Series)


def test_capture_aligns_pandas(rng):
    pd = pytest.importorskip("pandas")
    idx = pd.date_range("2024-01-01", periods=400, freq="D")
    p, b = _pair(rng, n=400)
    ps = pd.Series(p, index=idx)
    bs = pd.Series(b, index=idx)[::-1].iloc[5:]  # reversed and missing the last five days
    got = trackerr.up_capture(ps, bs)
    assert_close(got, reference.up_capture(p[:-5], b[:-5]), rtol=1e-11)
    rolled = trackerr.rolling_down_capture(ps, bs, 30)
    assert isinstance(rolled, pd.Series) and len(rolled) == 395


# --- bad input -------------------------------------------------------------------------


def test_capture_periods_only_with_annualized(rng):
    p, b = _pair(rng, n=50)
    with pytest.raises(ValueError, match=r"method='annualized' needs periods_per_year"):
        trackerr.up_capture(p, b, method="annualized")
    with pytest.raises(ValueError, match=r"method='annualized' needs periods_per_year"):
        trackerr.rolling_down_capture(p, b, 10, method="annualized", periods_per_year=None)
    with pytest.raises(ValueError, match="periods_per_year"):
        trackerr.down_capture(p, b, method="annualized", periods_per_year="fortnightly")
    # a periods_per_year the default method would ignore is refused, not ignored
    with pytest.raises(ValueError, match=r"applies only to method='annualized'"):
        trackerr.up_capture(p, b, periods_per_year=252)
    with pytest.raises(ValueError, match="method"):
        trackerr.up_capture(p, b, method="arithmetic")


def test_capture_default_is_the_ratio_of_per_period_geometric_means():
    p = np.array([0.02, -0.01, 0.03, -0.04, 0.01])
    b = np.array([0.01, -0.02, 0.02, -0.03, 0.0])
    up, down = b > 0, b < 0
    g = lambda x: np.prod(1.0 + x) ** (1.0 / len(x)) - 1.0  # noqa: E731
    assert trackerr.up_capture(p, b) == pytest.approx(g(p[up]) / g(b[up]), rel=1e-13)
    assert trackerr.down_capture(p, b) == pytest.approx(g(p[down]) / g(b[down]), rel=1e-13)


def test_down_capture_default_tells_real_portfolios_apart():
    """On daily crypto data the annualized form saturates (every down CAGR is near
    -100 % a year, so the ratio is near 1 for everyone); the default does not."""
    ds = trackerr.datasets.load("btc_etfs").to_frame()
    rets = ds.pct_change().iloc[1:].dropna()
    names = list(rets.columns)  # BTC_USD first: its own capture is 1
    annual = [
        trackerr.down_capture(rets[c], rets["BTC_USD"], method="annualized", periods_per_year=365)
        for c in names
    ]
    default = [trackerr.down_capture(rets[c], rets["BTC_USD"]) for c in names]
    spread_annual, spread_default = np.ptp(annual[1:]), np.ptp(default[1:])
    assert min(annual[1:]) > 0.9998  # saturated near 1 for all three ETFs
    assert spread_annual < 1e-4
    assert spread_default > 100 * spread_annual and spread_default > 2e-3, default


def test_bad_inputs(rng):
    r = _series(rng, n=50)
    with pytest.raises(ValueError, match="window"):
        trackerr.rolling_max_drawdown(r, 1)
    with pytest.raises(TypeError, match="window"):
        trackerr.rolling_sortino_ratio(r, 2.5)
    with pytest.raises(ValueError, match="min_periods"):
        trackerr.rolling_omega_ratio(r, 10, min_periods=11)
    with pytest.raises(ValueError, match="nan_policy"):
        trackerr.max_drawdown(r, nan_policy="drop")
    with pytest.raises(ValueError, match="target"):
        trackerr.sortino_ratio(r, target=math.inf)
    with pytest.raises(TypeError, match="threshold"):
        trackerr.omega_ratio(r, threshold="0")
    with pytest.raises(TypeError, match="risk_free"):
        trackerr.sharpe_ratio(r, risk_free=None)
    with pytest.raises(TypeError, match="returns"):
        trackerr.max_drawdown(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="returns"):
        trackerr.max_drawdown(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="returns"):
        trackerr.sortino_ratio(np.array([]))
    with pytest.raises(ValueError, match="length"):
        trackerr.up_capture(r, r[:-1])
    with pytest.raises(ValueError, match="window"):
        trackerr.rolling_sharpe_ratio(r, 2, ddof=2)


def test_inputs_not_modified(rng):
    r = _series(rng, n=100, cols=2)
    p, b = _pair(rng, n=100)
    r0, p0, b0 = r.copy(), p.copy(), b.copy()
    for name in ONE:
        getattr(trackerr, name)(r)
        getattr(trackerr, "rolling_" + name)(r, 7, nan_policy="propagate")
    for name in TWO:
        getattr(trackerr, name)(p, b)
        getattr(trackerr, "rolling_" + name)(p, b, 7, method="annualized", periods_per_year=252)
    np.testing.assert_array_equal(r, r0)
    np.testing.assert_array_equal(p, p0)
    np.testing.assert_array_equal(b, b0)


def test_integer_input_is_converted():
    assert trackerr.max_drawdown([0, 0, 0]) == 0.0
