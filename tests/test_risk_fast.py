"""The full-sample fast paths of risk.hpp (max drawdown from a compensated
wealth product; Sortino and Omega from lanes of compensated sums) against exact
rational arithmetic and against the log / two-stacks path they replace, on
adversarial data and at the boundaries where a fast path hands a series over.

The slow path is reachable from Python as the last value of a rolling window
as long as the series (``min_periods=1``): the two-stacks aggregation of the
per-row log summaries that the full-sample forms used before.

Exact references:

* max drawdown: the wealth W_t = prod (1 + r_u) in fractions.Fraction, its
  running peak and min_t W_t / peak_t - 1, rounded once. This is the drawdown of
  the returns as given; the log path sums rounded log1p values instead, so both
  paths carry about one rounding per return of the drawdown's stretch (relative
  to its size), and are compared with the truth at 1e-13 relative.
* Sortino / Omega: d = r - target and min(d, 0)^2 are rounded as the kernels
  round them; the sums of d, min(d, 0)^2, max(d, 0) and max(-d, 0) are exact,
  rounded once.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import trackerr

from conftest import assert_close

EPS = 2.0**-53


def exact_mdd(r: np.ndarray) -> float:
    """min_t W_t / max_{s<=t} W_s - 1, W_0 = 1, in exact rationals (NaN rows skipped)."""
    r = np.asarray(r, dtype=np.float64)
    r = r[~np.isnan(r)]
    if not len(r) or not np.isfinite(r).all() or (r < -1.0).any():
        return math.nan
    if (r == -1.0).any():
        return -1.0
    w = peak = Fraction(1)
    worst = Fraction(0)
    for x in r.tolist():
        w *= 1 + Fraction(x)
        if w > peak:
            peak = w
        else:
            worst = min(worst, w / peak - 1)
    return float(worst)


def slow(name: str, r: np.ndarray, **options: float) -> float:
    """The log path: the last rolling value over a window as long as the series."""
    rolling = getattr(trackerr, "rolling_" + name)
    return float(rolling(r, max(len(r), 2), min_periods=1, **options)[-1])


def slow_mdd(r: np.ndarray) -> float:
    return slow("max_drawdown", r)


def exact_sortino(r: np.ndarray, target: float = 0.0) -> float:
    r = np.asarray(r, dtype=np.float64)
    r = r[~np.isnan(r)]
    if not len(r) or not np.isfinite(r).all():
        return math.nan
    d = (r - target).tolist()  # rounded as the kernels round it
    s1 = sum(map(Fraction, d), Fraction(0))
    s2 = sum((Fraction(x * x) for x in d if x < 0.0), Fraction(0))  # rounded squares
    if s2 == 0:
        return math.nan
    n = len(d)
    return float(s1 / n) / math.sqrt(float(s2 / n))


def exact_omega(r: np.ndarray, threshold: float = 0.0) -> float:
    r = np.asarray(r, dtype=np.float64)
    r = r[~np.isnan(r)]
    if not len(r) or not np.isfinite(r).all():
        return math.nan
    d = (r - threshold).tolist()
    gain = sum((Fraction(x) for x in d if x > 0.0), Fraction(0))
    loss = sum((-Fraction(x) for x in d if x < 0.0), Fraction(0))
    return float(gain / loss) if loss > 0 else math.nan


def _rel(got: float, want: float) -> float:
    if math.isnan(want) or math.isnan(got):
        return 0.0 if math.isnan(want) and math.isnan(got) else math.inf
    return 0.0 if got == want else abs(got - want) / abs(want)


# --- adversarial return series ---------------------------------------------------


def _drawdown_cases(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = 400
    cases: dict[str, np.ndarray] = {}
    cases["daily"] = rng.normal(3e-4, 0.01, n)
    cases["tiny"] = rng.normal(1e-11, 1e-10, n)
    cases["tiny 1e-15 (hands over)"] = rng.normal(0.0, 1e-15, n)
    huge = rng.normal(0.0, 1.0, n) * 10.0 ** rng.uniform(2, 8, n)
    cases["huge"] = np.maximum(huge, -0.999)
    crash = rng.normal(0.0, 0.3, n)
    crash[crash < -0.99] = -0.99
    cases["big losses"] = crash
    near = rng.normal(0.0, 0.01, n)
    near[[10, 50, 90]] = [-1.0 + EPS, -0.75, -0.5 - EPS]
    near[[20, 60]] = [-0.5, -0.5 + EPS]
    cases["near -1 and the -1/2 boundary"] = near
    edge = rng.normal(0.0, 0.01, n)
    edge[[5, 6, 7, 8]] = [65536.0, -0.99999, 65536.0 * (1 + 2 * EPS), -0.9999]
    cases["the 2^16 boundary"] = edge
    big = rng.normal(0.0, 0.01, n)
    big[30] = 2.0**64
    big[31] = -0.5
    cases["2^64 (fast)"] = big
    bigger = big.copy()
    bigger[30] = 2.0**64 * (1 + 2 * EPS)
    cases["above 2^64 (hands over)"] = bigger
    pairs = rng.normal(0.0, 0.02, n)
    pairs[1::2] = -pairs[0::2] / (1.0 + pairs[0::2])  # each pair about cancels
    cases["cancelling pairs"] = pairs
    rise = np.full(n, 0.01)
    rise[-3:] = [-1e-9, 3e-10, -4e-10]
    cases["small drawdown after a rise"] = rise
    steps = np.concatenate([np.full(100, -2.5e-4), np.full(100, 1.5e-4), np.zeros(100)])
    cases["constant runs"] = np.concatenate([steps, rng.normal(0.0, 1e-3, n - 300)])
    cases["rises only"] = np.abs(rng.normal(0.0, 0.01, n))
    cases["zeros"] = np.zeros(n)
    up = np.full(60, 100.0)  # wealth 101^60 ~ 2^400: rescaled on the way
    cases["rescaled up"] = np.concatenate([up, [-0.3, 0.2, -0.1], up[:5]])
    down = np.full(60, -0.999)  # wealth 1e-180: rescaled, drawdown -1 + 1e-180
    cases["rescaled down"] = np.concatenate([[0.5], down, [0.1, -0.2]])
    cases["saturated"] = np.concatenate([[0.5], np.full(120, -0.999), [0.1]])
    nans = rng.normal(0.0, 0.02, n)
    nans[rng.random(n) < 0.3] = np.nan
    nans[:3] = np.nan
    nans[-2:] = np.nan
    cases["NaN rows"] = nans
    return cases


def test_max_drawdown_exact_on_adversarial_series(rng):
    worst_fast, worst_slow = 0.0, 0.0
    for name, r in _drawdown_cases(rng).items():
        want = exact_mdd(r)
        got = trackerr.max_drawdown(r)
        slow = slow_mdd(r)
        err_fast, err_slow = _rel(got, want), _rel(slow, want)
        assert err_fast <= 1e-13, (name, got, want, err_fast)
        assert err_slow <= 1e-13, (name, slow, want, err_slow)
        worst_fast, worst_slow = max(worst_fast, err_fast), max(worst_slow, err_slow)
        # also the reversed series and a strided view of it (another wealth path)
        rev = r[::-1]
        assert _rel(trackerr.max_drawdown(rev), exact_mdd(rev)) <= 1e-13, name
    print(f"max drawdown vs exact wealth: fast {worst_fast:.2e}, log path {worst_slow:.2e}")


@pytest.mark.parametrize("n", [127, 128, 129, 1001])
def test_max_drawdown_across_the_halves(rng, n):
    """From 128 rows the drawdown runs as two chains over the halves, joined:
    peaks and troughs on either side of the middle, and at its two rows."""
    mid = n // 2
    base = np.round(rng.normal(0.0, 1e-3, n) * 2.0**20) / 2.0**20  # short fractions: fast exact
    cases = {}
    r = base.copy()
    r[: mid - 20] = np.abs(r[: mid - 20]) + 1e-3  # rise, then fall across the middle
    r[mid - 20 : mid + 20] = -np.abs(r[mid - 20 : mid + 20]) - 2e-3
    cases["across"] = r
    r = base.copy()
    r[mid - 1] = 0.05  # peak at the last row of the first half
    r[mid] = -0.07  # trough at the first row of the second half
    cases["at the seam"] = r
    r = base.copy()
    r[mid + 5 : mid + 15] = -0.01  # inside the second half only
    cases["second half"] = r
    r = base.copy()
    r[mid:] = np.abs(r[mid:])  # second half only rises: from below the first's peak
    r[:10] = 0.02
    cases["rising second half"] = r
    r = base.copy()
    r[mid : mid + 5] = -0.3  # the second half's low, then a rise of 2^1000 and more:
    r[mid + 5 :] = np.where(np.arange(n - mid - 5) % 2, 100.0, -0.05)  # (its low kept apart)
    cases["second half soars"] = r
    r = base.copy()
    r[mid + 3] = np.nan
    r[mid - 2] = -0.75
    r[-1] = -0.6  # odd rows on both sides, the last row in the tail when n is odd
    cases["odd rows"] = r
    for name, x in cases.items():
        assert _rel(trackerr.max_drawdown(x), exact_mdd(x)) <= 1e-13, (n, name)
        assert_close(trackerr.max_drawdown(x), slow_mdd(x), rtol=1e-13)


def test_max_drawdown_domain_rows_as_before(rng):
    base = rng.normal(0.0, 0.01, 50)
    for rows, want in [
        ({10: -1.0}, -1.0),  # ruin
        ({10: -1.0, 30: np.inf}, math.nan),  # out of domain after a ruin
        ({10: np.inf, 30: -1.0}, math.nan),
        ({10: -1.5}, math.nan),
        ({10: -np.inf}, math.nan),
        ({10: -1.0, 30: 1e300}, -1.0),  # huge after a ruin: still -1
        ({10: 1e300}, None),  # huge: handed to the log path
        ({10: np.nan, 11: -1.0, 12: np.nan}, -1.0),
    ]:
        r = base.copy()
        for k, v in rows.items():
            r[k] = v
        got = trackerr.max_drawdown(r)
        assert_close(got, slow_mdd(r), rtol=1e-15)
        assert_close(got, exact_mdd(r) if want is None else want, rtol=1e-13)
    # saturation then a bad row: NaN; all NaN: NaN
    r = np.concatenate([np.full(200, -0.999), [np.inf]])
    assert math.isnan(trackerr.max_drawdown(r))
    assert math.isnan(trackerr.max_drawdown(np.full(5, np.nan)))


def test_max_drawdown_skipped_rows_counted_by_nan_policy(rng):
    r = rng.normal(0.0, 0.01, 300)
    r[[0, 7, 299]] = np.nan
    r[100] = -1.0
    r[150] = np.nan  # after the ruin: still counted
    assert trackerr.max_drawdown(r) == -1.0
    assert math.isnan(trackerr.max_drawdown(r, nan_policy="propagate"))
    with pytest.raises(ValueError, match="row 0"):
        trackerr.max_drawdown(r, nan_policy="raise")


def test_max_drawdown_small_drawdown_bound_hand_over():
    """A tiny drawdown after n rows: the fast path answers when |dd| >= 64 (n + 4) eps
    and hands over to the log path below; both sides of the boundary are exact."""
    n = 1000
    bound = 64 * (n + 4) * EPS
    for scale in (0.5, 0.99, 1.01, 2.0, 1e3):
        r = np.full(n, 1e-3)
        r[-1] = -scale * bound
        want = exact_mdd(r)
        assert _rel(trackerr.max_drawdown(r), want) <= 1e-13, scale
        assert trackerr.max_drawdown(r) == pytest.approx(r[-1], rel=1e-13)


def test_max_drawdown_long_random_walk_matches_log_path(rng):
    # 2e5 rows of daily-like returns: drift, rescaling never needed; and a
    # steeper walk that is rescaled many times (log wealth down by ~1e4).
    for sd, mu in ((0.01, 2e-4), (0.3, -0.05)):
        r = np.maximum(rng.normal(mu, sd, 200_000), -0.95)
        assert_close(trackerr.max_drawdown(r), slow_mdd(r), rtol=1e-13)
    # a long rise then a small late drawdown (wealth ~ e^100: rescaled)
    r = np.abs(rng.normal(0.0, 1e-3, 120_000))
    r[-3:] = [-1e-6, 3e-7, -4e-7]
    want = math.expm1(math.log1p(-1e-6) + math.log1p(3e-7) + math.log1p(-4e-7))
    assert trackerr.max_drawdown(r) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_drawdown_layouts(rng, dtype):
    panel = rng.normal(0.0, 0.02, (500, 4)).astype(dtype)
    panel[rng.random(panel.shape) < 0.05] = np.nan
    got = trackerr.max_drawdown(panel)
    for layout in (np.ascontiguousarray(panel), np.asfortranarray(panel)):
        np.testing.assert_array_equal(trackerr.max_drawdown(layout), got)
    for c in range(4):
        col = panel[:, c]
        np.testing.assert_array_equal(trackerr.max_drawdown(np.ascontiguousarray(col)), got[c])
        assert_close(got[c], exact_mdd(col.astype(np.float64)), rtol=1e-13)
        assert_close(got[c], slow_mdd(col), rtol=1e-13)


# --- Sortino and Omega -------------------------------------------------------------


def _sum_cases(rng: np.random.Generator) -> dict[str, np.ndarray]:
    cases: dict[str, np.ndarray] = {}
    cases["daily"] = rng.normal(3e-4, 0.01, 1000)
    x = rng.normal(0.0, 1.0, 1000)
    cases["mean cancels"] = np.concatenate([x, -x[::-1], [1e-9]])
    mix = rng.normal(0.0, 1.0, 1000) * 10.0 ** rng.uniform(-8, 8, 1000)
    cases["huge and tiny"] = mix
    big = rng.normal(0.0, 1e-3, 1000)
    big[::97] = [1e8, -1e8] * 5 + [1e8]
    cases["huge that cancel"] = big
    cases["tiny"] = rng.normal(1e-300, 1e-290, 500)
    nans = rng.normal(-1e-4, 0.02, 1000)
    nans[rng.random(1000) < 0.4] = np.nan
    cases["NaN rows"] = nans
    cases["constant"] = np.full(300, -0.003)
    cases["one row"] = np.array([-0.01])
    return cases


@pytest.mark.parametrize("target", [0.0, 5e-4, -0.02])
def test_sortino_and_omega_exact_on_adversarial_series(rng, target):
    worst = 0.0
    for name, r in _sum_cases(rng).items():
        s = trackerr.sortino_ratio(r, target=target)
        o = trackerr.omega_ratio(r, threshold=target)
        s_slow = slow("sortino_ratio", r, target=target)
        o_slow = slow("omega_ratio", r, threshold=target)
        for got, old, want in (
            (s, s_slow, exact_sortino(r, target)),
            (o, o_slow, exact_omega(r, target)),
        ):
            err = _rel(got, want)
            assert err <= 1e-14, (name, got, want, err)
            assert _rel(old, want) <= 1e-14, (name, old, want)
            worst = max(worst, err)
    print(f"target {target}: sortino/omega worst relative error vs exact {worst:.2e}")


@pytest.mark.parametrize("n", [1, 7, 8, 9, 4095, 4096, 4097, 8200])
def test_sums_at_lane_and_block_boundaries(rng, n):
    r = rng.normal(-1e-4, 0.01, n)
    r[rng.random(n) < 0.1] = np.nan
    assert_close(trackerr.sortino_ratio(r), exact_sortino(r), rtol=1e-14)
    assert_close(trackerr.omega_ratio(r), exact_omega(r), rtol=1e-14)
    # strided and float32 views read in place give the values of their copies
    s = r[::-3]
    for f in (trackerr.sortino_ratio, trackerr.omega_ratio):
        np.testing.assert_array_equal(f(s), f(np.ascontiguousarray(s)))
    f = r.astype(np.float32)
    assert_close(trackerr.sortino_ratio(f), exact_sortino(f.astype(np.float64)), rtol=1e-14)


def test_sums_out_of_domain_and_overflow_hand_over(rng):
    r = rng.normal(0.0, 0.01, 5000)
    for bad in (np.inf, -np.inf):
        x = r.copy()
        x[4100] = bad
        assert math.isnan(trackerr.sortino_ratio(x))
        assert math.isnan(trackerr.omega_ratio(x))
    # squares overflow in the fast sums: the log path decides, as before
    x = r.copy()
    x[3] = -1e200
    assert_close(trackerr.sortino_ratio(x), slow("sortino_ratio", x), rtol=1e-15)
    assert_close(trackerr.omega_ratio(x), exact_omega(x), rtol=1e-14)
    # skipped rows still drive nan_policy
    x = r.copy()
    x[4097] = np.nan
    assert math.isnan(trackerr.sortino_ratio(x, nan_policy="propagate"))
    with pytest.raises(ValueError, match="row 4097"):
        trackerr.omega_ratio(x, nan_policy="raise")


def test_panel_columns_equal_series(rng):
    panel = rng.normal(0.0, 0.02, (3000, 5))
    panel[rng.random(panel.shape) < 0.05] = np.nan
    for name in ("max_drawdown", "sortino_ratio", "omega_ratio"):
        f = getattr(trackerr, name)
        got = f(panel)
        np.testing.assert_array_equal(f(np.asfortranarray(panel)), got)
        for c in range(panel.shape[1]):
            np.testing.assert_array_equal(f(np.ascontiguousarray(panel[:, c])), got[c])


# --- capture ratios ---------------------------------------------------------------


def _exact_log_growth(x: list[float]) -> float:
    """log prod (1 + x) from the exact product: e ln 2 + log(m), m = P / 2^e in [1/2, 1)."""
    prod = Fraction(1)
    for v in x:
        prod *= 1 + Fraction(v)
    d = prod - 1
    if abs(d) < Fraction(1, 4):
        return math.log1p(float(d))  # d is exact: one rounding
    e = prod.numerator.bit_length() - prod.denominator.bit_length()
    m = prod / Fraction(2) ** e
    return e * math.log(2.0) + math.log(float(m))


def exact_capture(p: np.ndarray, b: np.ndarray, up: bool, periods: float = 1.0) -> float:
    """The capture ratio from exact products of the selected rows' growth factors."""
    ok = ~(np.isnan(p) | np.isnan(b))
    p, b = p[ok], b[ok]
    if not (np.isfinite(p).all() and np.isfinite(b).all()) or (p < -1).any() or (b < -1).any():
        return math.nan
    keep = b > 0 if up else b < 0
    if not keep.any():
        return math.nan
    k = int(keep.sum())

    def cagr(x: np.ndarray) -> float:
        if (x == -1.0).any():
            return -1.0
        return math.expm1(_exact_log_growth(x.tolist()) * periods / k)

    return cagr(p[keep]) / cagr(b[keep])


def _capture_cases(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    n = 300
    cases: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    b = rng.normal(2e-4, 0.015, n)
    cases["daily"] = (1.2 * b + rng.normal(1e-4, 0.006, n), b)
    b = rng.normal(0.0, 1e-9, n)
    cases["tiny"] = (0.9 * b + rng.normal(0.0, 1e-11, n), b)
    b = rng.normal(0.0, 0.4, n)
    b[b < -0.99] = -0.99
    p = np.maximum(1.1 * b, -0.999)
    cases["big moves (below -1/2, above 1)"] = (p, b)
    b = rng.normal(0.0, 0.01, n)
    p = b.copy()
    p[[3, 4, 5, 6]] = [1.0, 1.0 + 2 * EPS, -0.5, -0.5 - EPS]
    b[[3, 4, 5, 6]] = [0.5, -0.25, 0.3, -0.1]
    p[[7, 8]] = [2.0**64, -0.9]
    b[[7, 8]] = [0.01, 0.01]
    cases["boundaries of the fast range"] = (p, b)
    b = rng.normal(0.0, 0.02, n)
    p = 0.8 * b + rng.normal(0.0, 0.01, n)
    p[rng.random(n) < 0.2] = np.nan
    b[rng.random(n) < 0.2] = np.nan
    cases["NaN rows on either side"] = (p, b)
    b = np.tile([0.01, -0.01 / 1.01], n // 2)  # up and down rows cancel exactly in wealth
    cases["cancelling benchmark"] = (b * 1.5, b)
    return cases


@pytest.mark.parametrize("method", ["geometric", "annualized"])
def test_capture_exact_on_adversarial_series(rng, method):
    opts = {"method": method} | ({"periods_per_year": 252} if method == "annualized" else {})
    periods = 252.0 if method == "annualized" else 1.0
    worst = 0.0
    for name, (p, b) in _capture_cases(rng).items():
        for up, f in ((True, trackerr.up_capture), (False, trackerr.down_capture)):
            got = f(p, b, **opts)
            want = exact_capture(p, b, up, periods)
            err = _rel(got, want)
            assert err <= 1e-13, (name, up, got, want, err)
            rolling = getattr(trackerr, "rolling_" + f.__name__)
            old = float(rolling(p, b, len(p), min_periods=1, **opts)[-1])
            assert _rel(old, want) <= 1e-13, (name, up, old, want)
            worst = max(worst, err)
    print(f"capture ({method}) worst relative error vs exact products {worst:.2e}")


def test_capture_domain_rows_and_hand_over(rng):
    b = rng.normal(0.0, 0.01, 200)
    p = 0.9 * b + rng.normal(0.0, 0.002, 200)
    up_rows = np.flatnonzero(b > 0)
    down_rows = np.flatnonzero(b < 0)
    for change, up_want, down_want in [
        ({("p", up_rows[0]): -1.0}, "ruin", None),  # ruin where selected: CAGR_p = -1
        ({("p", down_rows[0]): -1.0}, None, "ruin"),
        ({("p", down_rows[1]): -1.5}, math.nan, math.nan),  # out of domain anywhere: NaN
        ({("b", 5): np.inf}, math.nan, math.nan),
        ({("p", up_rows[2]): 1e300}, None, None),  # huge: the log path answers
    ]:
        pp, bb = p.copy(), b.copy()
        for (side, row), value in change.items():
            (pp if side == "p" else bb)[row] = value
        for up, want in ((True, up_want), (False, down_want)):
            f = trackerr.up_capture if up else trackerr.down_capture
            got = f(pp, bb)
            exact = exact_capture(pp, bb, up)
            if want == "ruin":
                keep = bb > 0 if up else bb < 0
                g_b = math.expm1(_exact_log_growth(bb[keep].tolist()) / keep.sum())
                assert got == pytest.approx(-1.0 / g_b, rel=1e-13)
            else:
                assert_close(got, exact, rtol=1e-13)
    # a log sum too small for the fast path's second-order bound: handed over, exact
    b = np.full(1000, 3e-16)
    b[::2] = -7e-16
    p = b * 0.5 + 1e-17
    for f, up in ((trackerr.up_capture, True), (trackerr.down_capture, False)):
        assert_close(f(p, b), exact_capture(p, b, up), rtol=1e-13)


def test_capture_panel_and_layouts(rng):
    b = rng.normal(0.0, 0.01, 2000)
    panel = 0.9 * b[:, None] + rng.normal(0.0, 0.003, (2000, 4))
    panel[rng.random(panel.shape) < 0.05] = np.nan
    for f in (trackerr.up_capture, trackerr.down_capture):
        got = f(panel, b)
        np.testing.assert_array_equal(f(np.asfortranarray(panel), b), got)
        for c in range(4):
            np.testing.assert_array_equal(f(np.ascontiguousarray(panel[:, c]), b), got[c])
        f32 = f(panel.astype(np.float32), b.astype(np.float32))
        for c in range(4):
            col = panel[:, c].astype(np.float32).astype(np.float64)
            want = exact_capture(
                col, b.astype(np.float32).astype(np.float64), f.__name__ == "up_capture"
            )
            assert_close(f32[c], want, rtol=1e-13)


# --- fuzz: random regimes against exact arithmetic ------------------------------------


def _fuzz_series(rng: np.random.Generator, n: int) -> np.ndarray:
    """Stretches of random regimes: daily noise, tiny, huge, near -1, constant, NaN;
    now and then an inf, a -1 or a return below -1."""
    parts = []
    while sum(map(len, parts)) < n:
        m = int(rng.integers(1, 40))
        kind = rng.integers(0, 7)
        if kind == 0:
            parts.append(rng.normal(0.0, 0.02, m))
        elif kind == 1:
            parts.append(rng.normal(0.0, 1.0, m) * 10.0 ** rng.uniform(-300, -8))
        elif kind == 2:
            parts.append(np.maximum(rng.normal(0.0, 1.0, m) * 10.0 ** rng.uniform(0, 20), -0.99))
        elif kind == 3:
            parts.append(-1.0 + 10.0 ** rng.uniform(-16, -0.3, m))
        elif kind == 4:
            parts.append(np.full(m, rng.choice([0.0, 1e-3, -2.5e-4, 1.0, -0.5])))
        elif kind == 5:
            parts.append(np.full(m, np.nan))
        else:
            parts.append(rng.choice([1.0, -0.5, 2.0**-30, -(2.0**-30)], m))
    r = np.concatenate(parts)[:n]
    if rng.random() < 0.1:
        r[rng.integers(0, n)] = rng.choice([np.inf, -1.0, -1.5, 2.0**70])
    return r


def _first_order(x: np.ndarray) -> float:
    """A bound on what one rounding per row moves a log sum over these rows by:
    4 eps sum max(|log1p(x)|, |x| / (1 + x)) (log1p's rounding in the log path,
    the product's in the fast path). Against a sum that cancels (a drawdown
    whose stretch rises and falls by more than its net fall, say), neither path
    is accurate relative to the result, only to this."""
    x = x[np.isfinite(x) & (x > -1.0)]
    return 4.0 * EPS * float(np.sum(np.maximum(np.abs(np.log1p(x)), np.abs(x) / (1.0 + x))))


MAX_CASES = 400


def test_fuzz_fast_paths_against_exact():
    from fuzzing import budget

    for k, rng in enumerate(budget(max_cases=MAX_CASES)):
        n = int(rng.integers(1, 300))  # both sides of 128: one chain or two
        r = _fuzz_series(rng, n)
        b = _fuzz_series(rng, n)
        ctx = f"case {k}"
        with np.errstate(all="ignore"):
            slack = _first_order(r)
            assert_close(trackerr.max_drawdown(r), exact_mdd(r), rtol=1e-13, atol=slack), ctx
            for target in (0.0, 1e-3):
                got_s = trackerr.sortino_ratio(r, target=target)
                got_o = trackerr.omega_ratio(r, threshold=target)
                assert _rel(got_s, exact_sortino(r, target)) <= 1e-13, (ctx, target)
                assert _rel(got_o, exact_omega(r, target)) <= 1e-13, (ctx, target)
            ok = ~(np.isnan(r) | np.isnan(b))
            for up, f in ((True, trackerr.up_capture), (False, trackerr.down_capture)):
                keep = ok & ((b > 0) if up else (b < 0))
                lp, lb = np.log1p(r[keep]), np.log1p(b[keep])
                # compared only where neither log sum cancels to below 1e-3 of its terms
                if (
                    abs(lp.sum()) < 1e-3 * np.abs(lp).sum()
                    or abs(lb.sum()) < 1e-3 * np.abs(lb).sum()
                ):
                    continue
                got, want = f(r, b), exact_capture(r, b, up)
                assert _rel(got, want) <= 1e-11 or (math.isnan(got) and math.isnan(want)), (ctx, up)
