"""trackerr.optimize, first part: ex-ante tracking error and its Euler
contributions, dense and factor covariances, pandas labels, clear errors."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import trackerr
from trackerr.optimize import (
    Contributions,
    FactorCovariance,
    contributions,
    ex_ante_tracking_error,
)


def _problem(n, k=4, seed=0):
    """A factor model of n assets, its dense covariance, and two weight vectors."""
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, 1.0, (n, k))
    f = np.diag(rng.uniform(1e-5, 4e-5, k))
    d = rng.uniform(1e-5, 9e-5, n)
    s = b @ f @ b.T + np.diag(d)
    s = (s + s.T) / 2  # exactly symmetric
    w = rng.dirichlet(np.ones(n))
    wb = rng.dirichlet(np.ones(n))
    return FactorCovariance(b, f, d), s, w, wb


def _exact_te(a, s):
    fa = [Fraction(x) for x in a]
    v = sum(fa[i] * Fraction(s[i, j]) * fa[j] for i in range(len(fa)) for j in range(len(fa)))
    return math.sqrt(v)


def test_tracking_error_against_rational_arithmetic():
    _, s, w, wb = _problem(25)
    te = ex_ante_tracking_error(w, wb, s)
    assert te == pytest.approx(_exact_te(w - wb, s), rel=1e-13)
    annual = ex_ante_tracking_error(w, wb, s, periods_per_year="daily")
    assert annual == pytest.approx(te * math.sqrt(252), rel=1e-15)
    assert ex_ante_tracking_error(w, None, s) == pytest.approx(_exact_te(w, s), rel=1e-13)
    assert ex_ante_tracking_error(w, w, s) == 0.0


@pytest.mark.parametrize("n", [5, 500])
def test_contributions_sum_to_the_tracking_error(n):
    _, s, w, wb = _problem(n, seed=n)
    wb = wb.copy()
    wb[: n // 2] += w[: n // 2]  # overweights and underweights: contributions of both signs
    c = contributions(w, wb, s, periods_per_year=252)
    assert isinstance(c, Contributions)
    assert c.tracking_error == pytest.approx(ex_ante_tracking_error(w, wb, s, periods_per_year=252))
    assert abs(math.fsum(c.total) / c.tracking_error - 1.0) <= 1e-12
    a = w - wb
    np.testing.assert_allclose(c.active, a, rtol=0)
    np.testing.assert_allclose(
        c.marginal, s @ a / math.sqrt(a @ s @ a) * math.sqrt(252), rtol=1e-12
    )
    np.testing.assert_allclose(c.total, a * c.marginal, rtol=1e-12, atol=1e-18)
    assert (c.total < 0).any() and (c.total > 0).any()


def test_factor_model_equals_its_dense_covariance_and_scales():
    fm, s, w, wb = _problem(300, seed=3)
    assert ex_ante_tracking_error(w, wb, fm) == pytest.approx(
        ex_ante_tracking_error(w, wb, s), rel=1e-12
    )
    np.testing.assert_allclose(
        contributions(w, wb, fm).total, contributions(w, wb, s).total, rtol=1e-10, atol=1e-18
    )
    # 200,000 assets: the N x N matrix (320 GB) is never formed
    rng = np.random.default_rng(4)
    n, k = 200_000, 5
    big = FactorCovariance(rng.normal(0, 1, (n, k)), np.eye(k) * 1e-5, np.full(n, 4e-5))
    w = rng.dirichlet(np.ones(n))
    c = contributions(w, np.full(n, 1.0 / n), big)
    assert abs(math.fsum(c.total) / c.tracking_error - 1.0) <= 1e-12


def test_groups_sum_their_members():
    _, s, w, wb = _problem(12, seed=5)
    labels = ["dex", "lending", "lsd"] * 4
    c = contributions(w, wb, s, groups=labels)
    for g in ("dex", "lending", "lsd"):
        members = [c.total[i] for i in range(12) if labels[i] == g]
        assert c.groups[g] == pytest.approx(math.fsum(members), rel=1e-15, abs=1e-18)
    assert abs(math.fsum(c.groups.values()) / c.tracking_error - 1.0) <= 1e-12


def test_pandas_labels_align_in_any_order():
    pd = pytest.importorskip("pandas")
    _, s, w, wb = _problem(6, seed=6)
    names = ["UNI", "AAVE", "MKR", "LDO", "CRV", "SNX"]
    ws = pd.Series(w, index=names)
    wbs = pd.Series(wb, index=names)
    cov = pd.DataFrame(s, index=names, columns=names)
    order = [3, 0, 5, 1, 4, 2]
    shuffled = cov.iloc[order, order]
    want = contributions(w, wb, s, groups=["a", "a", "b", "b", "c", "c"])
    got = contributions(
        ws,
        wbs.iloc[order],
        shuffled,
        groups=pd.Series(["a", "a", "b", "b", "c", "c"], index=names).iloc[order],
    )
    assert got.tracking_error == pytest.approx(want.tracking_error, rel=1e-15)
    assert list(got.total.index) == names
    np.testing.assert_allclose(got.total.to_numpy(), want.total, rtol=1e-13, atol=1e-18)
    assert got.groups.to_dict() == pytest.approx(want.groups, rel=1e-13)
    as_map = contributions(ws, wbs, cov, groups=dict(zip(names, "aabbcc", strict=True)))
    assert as_map.groups.to_dict() == pytest.approx(want.groups, rel=1e-13)
    with pytest.raises(ValueError, match="missing"):
        ex_ante_tracking_error(ws, wbs.drop("UNI"), cov)
    with pytest.raises(ValueError, match="missing"):
        ex_ante_tracking_error(ws, wbs, cov.drop(index="MKR"))


@pytest.mark.parametrize(
    ("weights", "bench", "cov", "err", "match"),
    [
        ([0.5, 0.5], [0.5, 0.5], [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], ValueError, "shape"),
        ([0.5, np.nan], [0.5, 0.5], np.eye(2), ValueError, "non-finite"),
        ([0.5, 0.5], [1.0], np.eye(2), ValueError, "benchmark_weights has 1 weights"),
        ([0.5, 0.5], [0.5, 0.5], [[1.0, 0.5], [0.4, 1.0]], ValueError, "not symmetric"),
        ([1.0, -1.0], None, [[1.0, 2.0], [2.0, 1.0]], ValueError, "not positive semi-definite"),
        ([True, False], None, np.eye(2), TypeError, "real numbers"),
        ([["a"], ["b"]], None, np.eye(2), TypeError, "real numbers"),
        ([[0.5, 0.5]], None, np.eye(2), ValueError, "1-D"),
        ([0.5, 0.5], None, [[1.0, np.inf], [np.inf, 1.0]], ValueError, "non-finite"),
    ],
)
def test_bad_inputs_are_refused_clearly(weights, bench, cov, err, match):
    with pytest.raises(err, match=match):
        ex_ante_tracking_error(weights, bench, cov)


def test_bad_factor_models_and_groups():
    with pytest.raises(ValueError, match="negative variance"):
        ex_ante_tracking_error(
            [0.5, 0.5], None, FactorCovariance(np.ones((2, 1)), [[1.0]], [1.0, -1.0])
        )
    with pytest.raises(ValueError, match="one row per asset"):
        ex_ante_tracking_error(
            [0.5, 0.5], None, FactorCovariance(np.ones((3, 1)), [[1.0]], [1.0, 1.0])
        )
    with pytest.raises(ValueError, match="groups has 1 labels for 2 assets"):
        contributions([0.5, 0.5], None, np.eye(2), groups=["x"])
    with pytest.raises(TypeError, match="needs weights labelled"):
        contributions([0.5, 0.5], None, np.eye(2), groups={"a": "x"})


def test_inputs_are_not_modified_and_zero_te_has_zero_contributions():
    _, s, w, wb = _problem(8, seed=9)
    before = (w.copy(), wb.copy(), s.copy())
    contributions(w, wb, s)
    for x, y in zip((w, wb, s), before, strict=True):
        np.testing.assert_array_equal(x, y)
    c = contributions(w, w, s)
    assert c.tracking_error == 0.0 and not c.total.any() and not c.marginal.any()


def test_exported_from_the_package():
    assert trackerr.optimize.ex_ante_tracking_error is ex_ante_tracking_error


# --- min_tracking_error -----------------------------------------------------------


def _factor_returns(n, t=756, seed=1):
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, 1.0, (n, 3))
    r = rng.normal(0.0, 0.01, (t, 3)) @ b.T + rng.normal(0.0, 0.01, (t, n))
    wb = rng.dirichlet(np.ones(n))
    return r, r @ wb, wb


def _kkt_gap(w, s, c, lo, hi, tol=1e-7):
    """Optimality of min w'Sw - 2w'c, lo <= w <= hi, sum w fixed: the
    gradient is one value (the budget's multiplier) on the free weights,
    not below it at the lower bounds and not above it at the upper ones."""
    g = 2.0 * (s @ w - c)
    movable = hi - lo > tol  # a weight fixed by its bounds (lower = upper) has no condition
    free = movable & (w > lo + tol) & (w < hi - tol)
    lam = np.median(g[free]) if free.any() else np.median(g[movable])
    scale = np.max(np.abs(g[movable])) + 1e-300
    gaps = [np.abs(g[free] - lam).max(initial=0.0)]
    gaps.append(np.maximum(lam - g[movable & (w <= lo + tol)], 0.0).max(initial=0.0))
    gaps.append(np.maximum(g[movable & (w >= hi - tol)] - lam, 0.0).max(initial=0.0))
    return max(gaps) / scale


@pytest.mark.parametrize("n", [50, 500])
def test_min_tracking_error_is_optimal_and_feasible(n):
    pytest.importorskip("daqp")  # the optimize extra
    r, bench, _ = _factor_returns(n, seed=n)
    rng = np.random.default_rng(n)
    hi = np.where(rng.random(n) < 0.25, 0.0, 0.10)  # a quarter excluded, caps of 10 %
    res = trackerr.optimize.min_tracking_error(r, bench, upper=hi, periods_per_year=252)
    w = res.weights
    assert res.status == "optimal"
    assert abs(w.sum() - 1.0) <= 1e-9 and w.min() >= -1e-12 and (w - hi).max() <= 1e-12
    joint = np.cov(np.column_stack([r, bench]), rowvar=False)
    s, c = joint[:-1, :-1], joint[:-1, -1]
    assert _kkt_gap(w, s, c, np.zeros(n), hi) <= 1e-6
    # the tracking error it reports is the ex-post one of the weights on that window
    te = trackerr.tracking_error(r @ w, bench, periods_per_year=252)
    assert res.tracking_error == pytest.approx(te, rel=1e-9)


def test_min_tracking_error_from_cov_recovers_a_feasible_benchmark():
    pytest.importorskip("daqp")  # the optimize extra
    _, s, _, wb = _problem(40, seed=11)
    res = trackerr.optimize.min_tracking_error(cov=s, benchmark_weights=wb)
    np.testing.assert_allclose(res.weights, wb, atol=1e-8)
    assert res.tracking_error <= 1e-7


def test_min_tracking_error_labels_and_errors():
    pytest.importorskip("daqp")  # the optimize extra
    pd = pytest.importorskip("pandas")
    r, bench, _ = _factor_returns(8, t=100, seed=3)
    names = [f"A{i}" for i in range(8)]
    frame = pd.DataFrame(r, columns=names)
    res = trackerr.optimize.min_tracking_error(frame, pd.Series(bench), upper=0.5)
    assert list(res.weights.index) == names
    with pytest.raises(ValueError, match="cannot meet the budget"):
        trackerr.optimize.min_tracking_error(r, bench, upper=0.1)  # 8 x 10 % < 100 %
    with pytest.raises(ValueError, match="is above upper"):
        trackerr.optimize.min_tracking_error(r, bench, lower=0.2, upper=0.1)
    with pytest.raises(ValueError, match="benchmark"):
        trackerr.optimize.min_tracking_error(r)
    with pytest.raises(ValueError, match="not both"):
        trackerr.optimize.min_tracking_error(
            r, bench, cov=np.eye(8), benchmark_weights=np.ones(8) / 8
        )
    bad = r.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="finite"):
        trackerr.optimize.min_tracking_error(bad, bench)


def test_group_caps_hold_and_loose_caps_change_nothing():
    pytest.importorskip("daqp")
    r, bench, _ = _factor_returns(30, seed=2)
    groups = ["a"] * 10 + ["b"] * 10 + ["c"] * 10
    res = trackerr.optimize.min_tracking_error(
        r, bench, upper=0.2, groups=groups, group_caps={"a": 0.2, "b": (0.3, 0.5)}
    )
    w = res.weights
    assert w[:10].sum() <= 0.2 + 1e-9 and 0.3 - 1e-9 <= w[10:20].sum() <= 0.5 + 1e-9
    assert abs(w.sum() - 1.0) <= 1e-9 and w.min() >= -1e-12 and w.max() <= 0.2 + 1e-12
    free = trackerr.optimize.min_tracking_error(r, bench, upper=0.2)
    loose = trackerr.optimize.min_tracking_error(
        r, bench, upper=0.2, groups=groups, group_caps={"a": 1.0, "b": (0.0, 1.0)}
    )
    np.testing.assert_allclose(loose.weights, free.weights, atol=1e-9)
    # binding caps can only raise the tracking error
    assert res.tracking_error >= free.tracking_error * (1 - 1e-9)
    with pytest.raises(ValueError, match="infeasible"):
        trackerr.optimize.min_tracking_error(
            r, bench, groups=groups, group_caps={"a": 0.1, "b": 0.1, "c": 0.1}
        )
    with pytest.raises(ValueError, match="no asset belongs"):
        trackerr.optimize.min_tracking_error(r, bench, groups=groups, group_caps={"z": 0.1})
    with pytest.raises(ValueError, match="needs groups"):
        trackerr.optimize.min_tracking_error(r, bench, group_caps={"a": 0.1})


def test_turnover_limit_holds_binds_and_relaxes():
    pytest.importorskip("daqp")
    r, bench, _ = _factor_returns(30, seed=5)
    w0 = np.full(30, 1.0 / 30)
    free = trackerr.optimize.min_tracking_error(r, bench, upper=0.2)
    full = float(np.abs(free.weights - w0).sum())
    stay = trackerr.optimize.min_tracking_error(r, bench, upper=0.2, current=w0, turnover=0.0)
    np.testing.assert_allclose(stay.weights, w0, atol=1e-9)
    half = trackerr.optimize.min_tracking_error(r, bench, upper=0.2, current=w0, turnover=full / 2)
    assert abs(np.abs(half.weights - w0).sum() - full / 2) <= 1e-9  # binding: uses all of it
    assert free.tracking_error <= half.tracking_error <= stay.tracking_error
    loose = trackerr.optimize.min_tracking_error(r, bench, upper=0.2, current=w0, turnover=2 * full)
    # the turnover variables leave the Hessian singular in them: daqp regularises
    # (proximal steps), within the bar of 1e-6 on the tracking error
    assert loose.tracking_error == pytest.approx(free.tracking_error, abs=1e-6)
    assert abs(loose.weights.sum() - 1.0) <= 1e-9
    with pytest.raises(ValueError, match="turnover and costs need current"):
        trackerr.optimize.min_tracking_error(r, bench, turnover=0.1)
    with pytest.raises(ValueError, match="at least 0"):
        trackerr.optimize.min_tracking_error(r, bench, current=w0, turnover=-0.1)
    with pytest.raises(ValueError, match="infeasible"):  # w0 breaks the caps, no room to move
        trackerr.optimize.min_tracking_error(
            r, bench, upper=0.2, current=np.eye(30)[0], turnover=0.0
        )


# --- the result, costs, expected returns --------------------------------------------


def test_result_reports_ex_ante_ex_post_and_contributions():
    pytest.importorskip("daqp")
    pd = pytest.importorskip("pandas")
    r, bench, _ = _factor_returns(12, t=300, seed=4)
    bench = bench + np.random.default_rng(4).normal(0.0, 0.002, len(bench))  # not replicable
    frame = pd.DataFrame(r, columns=[f"A{i}" for i in range(12)])
    res = trackerr.optimize.min_tracking_error(
        frame, pd.Series(bench), upper=0.3, periods_per_year=252
    )
    w = res.weights.to_numpy()
    # the sample estimator is the ddof=1 covariance: ex ante on the window is ex post
    ex_post = trackerr.tracking_error(r @ w, bench, periods_per_year=252)
    assert res.ex_post == pytest.approx(ex_post, rel=1e-12)
    assert res.tracking_error == pytest.approx(ex_post, rel=1e-9)
    parts = res.contributions
    assert list(parts.total.index) == [*frame.columns, "benchmark"]
    assert abs(math.fsum(parts.total) / res.tracking_error - 1.0) <= 1e-12
    assert res.names == int(np.count_nonzero(w > 1e-9))
    assert res.units is None and res.status == "optimal" and res.solve_seconds > 0
    # from cov: no ex post; contributions by asset (and groups)
    _, s, _, wb = _problem(8, seed=5)
    got = trackerr.optimize.min_tracking_error(cov=s, benchmark_weights=wb, upper=0.2)
    assert got.ex_post is None
    assert got.contributions.tracking_error == pytest.approx(
        ex_ante_tracking_error(got.weights, wb, s)
    )


def _pairwise_optimal(objective, w, lo, hi, eps=1e-7):
    """No move of eps weight from one asset to another (within the bounds)
    lowers the objective: the KKT conditions of a budget-constrained problem,
    checked from outside the solver."""
    base = objective(w)
    worst = 0.0
    for i in range(len(w)):
        for j in range(len(w)):
            if i == j or w[i] + eps > hi[i] or w[j] - eps < lo[j]:
                continue
            trial = w.copy()
            trial[i] += eps
            trial[j] -= eps
            worst = min(worst, objective(trial) - base)
    return worst


def test_linear_costs_trade_off_against_tracking_error():
    pytest.importorskip("daqp")
    r, bench, _ = _factor_returns(10, t=400, seed=6)
    w0 = np.full(10, 0.1)
    lo, hi = np.zeros(10), np.full(10, 0.4)
    s = np.cov(np.column_stack([r, bench]), rowvar=False)

    def objective(w, kappa):
        a = np.append(w, -1.0)
        return 252 * (a @ s @ a) + kappa @ np.abs(w - w0)

    free = trackerr.optimize.min_tracking_error(r, bench, upper=0.4, periods_per_year=252)
    for k in (1e-4, 1e-3):
        kappa = np.full(10, k)
        res = trackerr.optimize.min_tracking_error(
            r, bench, upper=0.4, current=w0, costs=kappa, periods_per_year=252
        )
        w = res.weights
        assert res.objective == pytest.approx(objective(w, kappa), rel=1e-9)
        # optimal: no small trade lowers TE^2 + costs (beyond the solver's tolerance)
        assert _pairwise_optimal(lambda x, kappa=kappa: objective(x, kappa), w, lo, hi) > -1e-12
        assert objective(w, kappa) <= objective(free.weights, kappa) + 1e-15
        assert objective(w, kappa) <= objective(w0, kappa) + 1e-15
        assert np.abs(w - w0).sum() < np.abs(free.weights - w0).sum()
    # costs so high that no trade pays: the current weights stay
    stay = trackerr.optimize.min_tracking_error(
        r, bench, upper=0.4, current=w0, costs=1.0, periods_per_year=252
    )
    np.testing.assert_allclose(stay.weights, w0, atol=1e-9)


def test_expected_returns_match_the_closed_form():
    """Without bounds, min lam P (w'Sw - 2w'c) - mu'w with sum w = 1 solves
    [2 lam P S, 1; 1', 0] [w; nu] = [2 lam P c + mu; 1]."""
    pytest.importorskip("daqp")
    r, bench, _ = _factor_returns(6, t=500, seed=7)
    joint = np.cov(np.column_stack([r, bench]), rowvar=False)
    s, c = joint[:-1, :-1], joint[:-1, -1]
    mu = np.array([0.02, -0.01, 0.0, 0.03, 0.01, 0.0])
    for lam in (1.0, 50.0):
        res = trackerr.optimize.min_tracking_error(
            r,
            bench,
            lower=-np.inf,
            upper=np.inf,
            expected_returns=mu,
            risk_aversion=lam,
            periods_per_year=252,
        )
        k = np.zeros((7, 7))
        k[:6, :6] = 2 * lam * 252 * s
        k[:6, 6] = k[6, :6] = 1.0
        want = np.linalg.solve(k, np.append(2 * lam * 252 * c + mu, 1.0))[:6]
        np.testing.assert_allclose(res.weights, want, atol=1e-7)
    # more risk aversion, less active risk
    loose = trackerr.optimize.min_tracking_error(
        r, bench, expected_returns=mu, risk_aversion=1.0, periods_per_year=252
    )
    tight = trackerr.optimize.min_tracking_error(
        r, bench, expected_returns=mu, risk_aversion=100.0, periods_per_year=252
    )
    assert tight.tracking_error < loose.tracking_error


# --- cardinality, minimum positions and lots: against brute force ------------------


def _qp_on(s, c, support, lo, hi, budget=1.0, cash=False):
    """min w'Sw - 2w'c on the support (others 0), lo <= w <= hi, sum w = budget
    (<= with cash), written here apart from trackerr's own formulation."""
    import daqp

    k = len(support)
    h = np.ascontiguousarray(2 * s[np.ix_(support, support)] / np.mean(np.diag(s)))
    f = np.ascontiguousarray(-2 * c[support] / np.mean(np.diag(s)))
    a = np.ones((1, k))
    up = np.concatenate([hi, [budget]])
    down = np.concatenate([lo, [-1e30 if cash else budget]])
    sense = np.zeros(k + 1, dtype=np.int32)
    sense[k] = 0 if cash else 5
    x, _, flag, _ = daqp.solve(h, f, a, up, down, sense)
    return None if flag != 1 else np.asarray(x)


def _brute_support(r, bench, most, hi, least=0.0, fewest=1):
    from itertools import combinations

    joint = np.cov(np.column_stack([r, bench]), rowvar=False)
    s, c, vb = joint[:-1, :-1], joint[:-1, -1], joint[-1, -1]
    n = len(c)
    best = math.inf
    for size in range(fewest, most + 1):
        for support in combinations(range(n), size):
            idx = list(support)
            x = _qp_on(s, c, idx, np.full(size, least), hi[idx])
            if x is None:
                continue
            w = np.zeros(n)
            w[idx] = x
            best = min(best, w @ s @ w - 2 * w @ c + vb)
    return math.sqrt(best)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cardinality_heuristic_and_exact_against_brute_force(seed):
    pytest.importorskip("daqp")
    n, most = 10, 3
    r, bench, _ = _factor_returns(n, t=250, seed=10 + seed)
    hi = np.full(n, 0.6)
    best = _brute_support(r, bench, most, hi)
    exact = trackerr.optimize.min_tracking_error(
        r, bench, upper=0.6, max_names=most, method="exact"
    )
    heur = trackerr.optimize.min_tracking_error(r, bench, upper=0.6, max_names=most)
    # the search ends with a few hundred nodes of branch and bound on small
    # universes: here it finishes, proving the optimum
    assert exact.status == "exact" and heur.status in ("heuristic", "exact")
    assert exact.tracking_error == pytest.approx(best, rel=1e-7)
    assert heur.tracking_error <= best * 1.005  # the bar for small N: 0.5 %
    for res in (exact, heur):
        w = res.weights
        assert res.names <= most and np.count_nonzero(w > 1e-9) <= most
        assert abs(w.sum() - 1.0) <= 1e-9 and w.min() >= -1e-9 and w.max() <= 0.6 + 1e-9


def test_minimum_position_and_minimum_names():
    pytest.importorskip("daqp")
    n = 9
    r, bench, _ = _factor_returns(n, t=250, seed=21)
    hi = np.full(n, 0.5)
    best = _brute_support(r, bench, 4, hi, least=0.15, fewest=3)
    kw = dict(upper=0.5, max_names=4, min_names=3, min_position=0.15)
    for method in ("exact", "heuristic"):
        res = trackerr.optimize.min_tracking_error(r, bench, method=method, **kw)
        w = res.weights
        held = w[w > 1e-9]
        assert 3 <= len(held) <= 4 and held.min() >= 0.15 - 1e-9
        assert abs(w.sum() - 1.0) <= 1e-9
        assert res.tracking_error >= best * (1 - 1e-7)
        assert res.tracking_error <= best * (1 + (1e-7 if method == "exact" else 0.005))


def _brute_lots(r, bench, units, hi):
    """Every whole-lot portfolio with sum w <= 1 and w <= hi: the least TE."""
    from itertools import product

    joint = np.cov(np.column_stack([r, bench]), rowvar=False)
    s, c, vb = joint[:-1, :-1], joint[:-1, -1], joint[-1, -1]
    tops = [math.floor(min(h, 1.0) / u + 1e-9) for h, u in zip(hi, units, strict=True)]
    best = math.inf
    for k in product(*(range(t + 1) for t in tops)):
        w = np.array(k) * units
        if w.sum() <= 1.0 + 1e-12:
            best = min(best, w @ s @ w - 2 * w @ c + vb)
    return math.sqrt(best)


def test_whole_lots_against_brute_force():
    pytest.importorskip("daqp")
    n = 4
    r, bench, _ = _factor_returns(n, t=250, seed=31)
    prices = np.array([120.0, 75.0, 260.0, 40.0])
    capital = 2000.0
    lot_sizes = np.array([1.0, 2.0, 1.0, 5.0])
    units = lot_sizes * prices / capital
    hi = np.full(n, 0.7)
    best = _brute_lots(r, bench, units, hi)
    kw = dict(upper=0.7, prices=prices, capital=capital, lot_sizes=lot_sizes)
    exact = trackerr.optimize.min_tracking_error(r, bench, method="exact", **kw)
    heur = trackerr.optimize.min_tracking_error(r, bench, **kw)
    assert exact.tracking_error == pytest.approx(best, rel=1e-7)
    assert heur.tracking_error <= best * 1.02
    for res in (exact, heur):
        lots = res.units / lot_sizes
        np.testing.assert_allclose(lots, np.round(lots), atol=0)
        np.testing.assert_allclose(res.weights, res.units * prices / capital, rtol=1e-15)
        assert res.weights.sum() <= 1.0 + 1e-12 and res.weights.max() <= 0.7 + 1e-12


def test_heuristic_at_scale_keeps_every_constraint():
    pytest.importorskip("daqp")
    n = 200
    r, bench, _ = _factor_returns(n, t=300, seed=41)
    rng = np.random.default_rng(3)
    hi = np.full(n, 0.1)
    hi[rng.permutation(n)[: n // 4]] = 0.0
    groups = [f"g{i % 5}" for i in range(n)]
    free = trackerr.optimize.min_tracking_error(r, bench, upper=hi)
    res = trackerr.optimize.min_tracking_error(
        r,
        bench,
        upper=hi,
        max_names=15,
        min_position=0.02,
        groups=groups,
        group_caps={"g0": 0.25, "g1": 0.25},
    )
    w = res.weights
    held = w > 1e-9
    assert held.sum() <= 15 and w[held].min() >= 0.02 - 1e-9
    assert np.all(w <= hi + 1e-9) and abs(w.sum() - 1) <= 1e-9
    for g in ("g0", "g1"):
        assert w[[x == g for x in groups]].sum() <= 0.25 + 1e-9
    # contributions by group, the benchmark's own position a group of its own
    by_group = res.contributions.groups
    assert set(by_group) == {"g0", "g1", "g2", "g3", "g4", "benchmark"}
    assert math.fsum(by_group.values()) == pytest.approx(res.tracking_error, rel=1e-12)
    assert res.tracking_error >= free.tracking_error
    lots = trackerr.optimize.min_tracking_error(
        r, bench, upper=hi, prices=np.full(n, 10.0), capital=1e5
    )
    assert np.all(lots.weights <= hi + 1e-12) and lots.weights.sum() <= 1 + 1e-12
    assert lots.tracking_error <= free.tracking_error * 1.01  # 0.01 % lots: close to continuous


def test_integer_constraints_errors():
    pytest.importorskip("daqp")
    r, bench, _ = _factor_returns(8, t=100, seed=51)
    mte = trackerr.optimize.min_tracking_error
    with pytest.raises(ValueError, match=r"the 3 largest upper bounds sum to 0\.6"):
        mte(r, bench, upper=0.2, max_names=3)
    with pytest.raises(ValueError, match="min_names needs min_position"):
        mte(r, bench, min_names=2)
    with pytest.raises(ValueError, match=r"min_names \(=5\) is above max_names \(=3\)"):
        mte(r, bench, min_names=5, max_names=3, min_position=0.01)
    with pytest.raises(ValueError, match=r"min_names=5 at min_position=0\.3 need 1\.5"):
        mte(r, bench, min_names=5, min_position=0.3)
    with pytest.raises(ValueError, match="must be at least 1"):
        mte(r, bench, max_names=0)
    with pytest.raises(TypeError, match="max_names must be an int"):
        mte(r, bench, max_names=2.5)
    with pytest.raises(ValueError, match="need both prices"):
        mte(r, bench, prices=np.ones(8))
    with pytest.raises(ValueError, match="prices must be above 0"):
        mte(r, bench, prices=np.zeros(8), capital=100.0)
    with pytest.raises(ValueError, match="lot_sizes needs prices"):
        mte(r, bench, lot_sizes=10)
    with pytest.raises(ValueError, match="method must be one of"):
        mte(r, bench, method="fast")
    with pytest.raises(ValueError, match=r"method='exact' needs lower bounds >= 0"):
        mte(r, bench, lower=-0.1, max_names=2, method="exact")
    with pytest.raises(ValueError, match="current needs turnover or costs"):
        mte(r, bench, current=np.full(8, 1 / 8))
    with pytest.raises(ValueError, match="risk_aversion"):
        mte(r, bench, risk_aversion=0.0)
    with pytest.raises(ValueError, match="estimator and halflife are for returns"):
        _, s, _, wb = _problem(8)
        mte(cov=s, benchmark_weights=wb, estimator="ewma")
    before = r.copy()
    mte(r, bench, max_names=4, min_position=0.05, upper=0.5)
    np.testing.assert_array_equal(r, before)  # inputs untouched


@pytest.mark.parametrize("estimator", ["ewma", "ledoit_wolf"])
def test_estimators_feed_the_ex_ante_tracking_error(estimator):
    pytest.importorskip("daqp")
    if estimator == "ledoit_wolf":
        pytest.importorskip("sklearn")
    r, bench, _ = _factor_returns(15, t=200, seed=61)
    bench = bench + np.random.default_rng(61).normal(0.0, 0.003, len(bench))
    halflife = 40.0 if estimator == "ewma" else None
    res = trackerr.optimize.min_tracking_error(
        r, bench, upper=0.25, estimator=estimator, halflife=halflife, periods_per_year=252
    )
    joint = trackerr.optimize.covariance(
        np.column_stack([r, bench]), method=estimator, halflife=halflife
    )
    a = np.append(res.weights, -1.0)
    assert res.tracking_error == pytest.approx(math.sqrt(252 * (a @ joint @ a)), rel=1e-9)
    # optimal under that estimate, not under the sample covariance
    s, c = joint[:-1, :-1], joint[:-1, -1]
    assert _kkt_gap(res.weights, s, c, np.zeros(15), np.full(15, 0.25)) < 1e-6
    assert res.ex_post == pytest.approx(
        trackerr.tracking_error(r @ res.weights, bench, periods_per_year=252), rel=1e-12
    )


def test_black_litterman_posterior_feeds_an_active_return_objective():
    """The posterior feeds the active-return objective: without bounds the
    weights are the closed form's; a view that one asset will outperform moves
    weight to it, more so as the risk aversion falls."""
    pytest.importorskip("daqp")
    _, s, _, wb = _problem(8, seed=71)
    bl = trackerr.optimize.black_litterman(s, wb, risk_aversion=2.5)
    free = trackerr.optimize.min_tracking_error(
        cov=s,
        benchmark_weights=wb,
        expected_returns=bl.posterior,
        risk_aversion=5.0,
        lower=-np.inf,
        upper=np.inf,
    )
    # without bounds: min lam (w - wb)'S(w - wb) - mu'w over sum w = 1 solves
    # [2 lam S, 1; 1', 0] [w; nu] = [2 lam S wb + mu; 1] (written here, not by trackerr)
    k = np.zeros((9, 9))
    k[:8, :8] = 2 * 5.0 * s
    k[:8, 8] = k[8, :8] = 1.0
    want = np.linalg.solve(k, np.append(2 * 5.0 * s @ wb + bl.posterior, 1.0))[:8]
    np.testing.assert_allclose(free.weights, want, atol=1e-8)
    same = trackerr.optimize.min_tracking_error(
        cov=s, benchmark_weights=wb, expected_returns=bl.posterior, risk_aversion=5.0
    )
    view = np.zeros((1, 8))
    view[0, 3] = 1.0
    tilted = trackerr.optimize.black_litterman(
        s, wb, risk_aversion=2.5, views=view, view_returns=[bl.prior[3] + 0.002]
    )
    assert tilted.posterior[3] > bl.posterior[3]
    bold = trackerr.optimize.min_tracking_error(
        cov=s, benchmark_weights=wb, expected_returns=tilted.posterior, risk_aversion=1.0
    )
    timid = trackerr.optimize.min_tracking_error(
        cov=s, benchmark_weights=wb, expected_returns=tilted.posterior, risk_aversion=50.0
    )
    assert bold.weights[3] > timid.weights[3] > same.weights[3] - 1e-9
    assert bold.tracking_error > timid.tracking_error
