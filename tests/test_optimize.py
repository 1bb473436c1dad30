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
    with pytest.raises(ValueError, match="turnover needs current"):
        trackerr.optimize.min_tracking_error(r, bench, turnover=0.1)
    with pytest.raises(ValueError, match="at least 0"):
        trackerr.optimize.min_tracking_error(r, bench, current=w0, turnover=-0.1)
    with pytest.raises(ValueError, match="infeasible"):  # w0 breaks the caps, no room to move
        trackerr.optimize.min_tracking_error(
            r, bench, upper=0.2, current=np.eye(30)[0], turnover=0.0
        )
