"""trackerr.optimize's estimators: covariance (sample, ewma, Ledoit-Wolf)
against numpy, a written-out weighted sum, pandas and scikit-learn; and
Black-Litterman against its formulas (rational arithmetic for 2 assets, the
precision-weighted form, the limits of sure and vague views)."""

from __future__ import annotations

import math
import sys
from fractions import Fraction

import numpy as np
import pytest

from trackerr._estimators import (
    COVARIANCE_METHODS,
    BlackLitterman,
    black_litterman,
    covariance,
)

pd = pytest.importorskip("pandas")


def _returns(t=250, n=5, seed=0):
    """Daily-like returns of n assets with a common factor and unequal variances."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0003, 0.01, (t, 1))
    loadings = rng.uniform(0.5, 1.5, n)
    own = rng.normal(0.0, 1.0, (t, n)) * rng.uniform(0.002, 0.02, n)
    return market * loadings + own


def _methods():
    """(method, keyword arguments) for every method; Ledoit-Wolf only with scikit-learn."""
    out = [("sample", {}), ("ewma", {"halflife": 30.0})]
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return out
    return [*out, ("ledoit_wolf", {})]


# --- covariance: sample -------------------------------------------------------


@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("shape", [(2, 1), (3, 4), (250, 5), (40, 60)])
def test_sample_equals_numpy(shape, ddof):
    x = _returns(*shape, seed=shape[1])
    if ddof >= shape[0]:
        return
    s = covariance(x, ddof=ddof)
    expected = np.atleast_2d(np.cov(x, rowvar=False, ddof=ddof))
    assert isinstance(s, np.ndarray) and s.dtype == np.float64
    assert s.shape == (shape[1], shape[1])
    np.testing.assert_allclose(s, expected, rtol=1e-15, atol=0)


def test_dataframe_in_dataframe_out_with_labels():
    x = _returns(100, 3)
    df = pd.DataFrame(x, columns=["btc", "eth", "sol"], index=pd.date_range("2024", periods=100))
    for method, kw in _methods():
        s = covariance(df, method=method, **kw)
        assert isinstance(s, pd.DataFrame)
        assert list(s.index) == list(s.columns) == ["btc", "eth", "sol"]
        np.testing.assert_array_equal(s.to_numpy(), covariance(x, method=method, **kw))


def test_other_real_dtypes_are_read_as_float64():
    x = _returns(50, 3)
    np.testing.assert_allclose(
        covariance(x.astype(np.float32)), np.cov(x.astype(np.float32).astype(np.float64).T)
    )
    ints = np.arange(30).reshape(10, 3) % 7
    np.testing.assert_allclose(covariance(ints), np.cov(ints.T.astype(np.float64)))
    np.testing.assert_allclose(covariance(x.tolist()), np.cov(x.T))


# --- covariance: ewma ---------------------------------------------------------


def _ewma_by_hand(x, halflife, ddof):
    """The weighted covariance written out row by row: weights halving every
    `halflife` rows back from the last (weight 1), weighted means, and the
    normaliser V1 - ddof V2 / V1 (independent of numpy.cov's aweights)."""
    t, n = x.shape
    w = [math.pow(0.5, (t - 1 - i) / halflife) for i in range(t)]
    v1 = math.fsum(w)
    v2 = math.fsum(wi * wi for wi in w)
    mean = [math.fsum(w[i] * x[i, j] for i in range(t)) / v1 for j in range(n)]
    out = np.empty((n, n))
    for a in range(n):
        for b in range(n):
            num = math.fsum(w[i] * (x[i, a] - mean[a]) * (x[i, b] - mean[b]) for i in range(t))
            out[a, b] = num / (v1 - ddof * v2 / v1)
    return out


@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize(("t", "halflife"), [(5, 100.0), (60, 10.0), (200, 2.5), (30, 0.7)])
def test_ewma_equals_the_weighted_sum_written_out(t, halflife, ddof):
    x = _returns(t, 4, seed=t)
    s = covariance(x, method="ewma", halflife=halflife, ddof=ddof)
    np.testing.assert_allclose(s, _ewma_by_hand(x, halflife, ddof), rtol=1e-12, atol=1e-20)


@pytest.mark.parametrize(("t", "halflife"), [(5, 100.0), (250, 20.0), (3000, 3.0), (50, 0.5)])
def test_ewma_equals_pandas_ewm_cov_at_the_last_row(t, halflife):
    """ddof=1 is pandas' default ewm(halflife).cov() (adjust=True, bias=False);
    ddof=0 is cov(bias=True); adjust=False is another estimate."""
    df = pd.DataFrame(_returns(t, 3, seed=t), columns=list("abc"))
    last = df.index[-1]
    unbiased = df.ewm(halflife=halflife).cov().loc[last]
    biased = df.ewm(halflife=halflife).cov(bias=True).loc[last]
    ours1 = covariance(df, method="ewma", halflife=halflife)
    ours0 = covariance(df, method="ewma", halflife=halflife, ddof=0)
    np.testing.assert_allclose(ours1.to_numpy(), unbiased.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours0.to_numpy(), biased.to_numpy(), rtol=1e-12)
    # the two differ by pandas' bias factor V1^2 / (V1^2 - V2)
    w = 0.5 ** ((t - 1 - np.arange(t)) / halflife)
    factor = w.sum() ** 2 / (w.sum() ** 2 - (w**2).sum())
    np.testing.assert_allclose(ours1.to_numpy(), ours0.to_numpy() * factor, rtol=1e-12)
    if t / halflife < 20:  # adjust=False weighs the first row more, a gap fading as 2^(-t/h)
        recursive = df.ewm(halflife=halflife, adjust=False).cov().loc[last].to_numpy()
        assert not np.allclose(ours1.to_numpy(), recursive, rtol=1e-6, atol=0)


def test_ewma_with_an_infinite_halflife_is_the_sample_covariance():
    x = _returns(80, 4)
    np.testing.assert_allclose(
        covariance(x, method="ewma", halflife=math.inf), covariance(x), rtol=1e-13
    )


def test_ewma_rows_far_back_underflow_to_weight_zero():
    x = _returns(3000, 2)
    x[:100] = 1e3  # so far back (about 1450 half-lives) that its weight is exactly 0
    s = covariance(x, method="ewma", halflife=2.0)
    np.testing.assert_allclose(s, covariance(x[100:], method="ewma", halflife=2.0), rtol=1e-12)


# --- covariance: Ledoit-Wolf --------------------------------------------------


@pytest.mark.parametrize(("t", "n"), [(30, 10), (250, 5), (20, 40), (100, 1)])
def test_ledoit_wolf_is_scikit_learns_between_sample_and_target(t, n):
    sk = pytest.importorskip("sklearn.covariance")
    x = _returns(t, n, seed=t + n)
    s = covariance(x, method="ledoit_wolf")
    expected, delta = sk.ledoit_wolf(x)
    np.testing.assert_allclose(s, expected, rtol=1e-15, atol=0)
    # the documented form: (1 - delta) S_ML + delta mu I, delta in [0, 1]
    assert 0.0 <= delta <= 1.0
    s_ml = np.atleast_2d(np.cov(x, rowvar=False, ddof=0))
    target = np.trace(s_ml) / n * np.eye(n)
    np.testing.assert_allclose(s, (1 - delta) * s_ml + delta * target, rtol=1e-12, atol=1e-20)
    if n > 1 and t < n:  # more assets than periods: strictly between
        assert 0.0 < delta < 1.0
        assert np.linalg.eigvalsh(s)[0] > 0  # invertible, where S_ML is singular
        assert np.linalg.eigvalsh(s_ml)[0] < 1e-15 * np.trace(s_ml)


def test_ledoit_wolf_without_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.covariance", None)  # import fails
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        covariance(_returns(20, 3), method="ledoit_wolf")


# --- covariance: symmetry, input kept -----------------------------------------


@pytest.mark.parametrize(("method", "kw"), _methods())
def test_result_is_exactly_symmetric(method, kw):
    x = _returns(300, 30, seed=7) * 1e3
    s = covariance(x, method=method, **kw)
    np.testing.assert_array_equal(s, s.T)
    assert np.linalg.eigvalsh(s)[0] > 0


@pytest.mark.parametrize(("method", "kw"), _methods())
def test_input_is_not_modified(method, kw):
    x = _returns(60, 4)
    x_f = np.asfortranarray(x.copy())
    view = x.copy()[::2]
    df = pd.DataFrame(x.copy(), columns=list("abcd"))
    keep = [x.copy(), x_f.copy(), view.copy(), df.copy()]
    for arg, before in zip([x, x_f, view, df], keep, strict=True):
        covariance(arg, method=method, **kw)
        if isinstance(arg, pd.DataFrame):
            pd.testing.assert_frame_equal(arg, before)
        else:
            np.testing.assert_array_equal(arg, before)


# --- covariance: errors -------------------------------------------------------


def test_covariance_errors_name_the_argument():
    x = _returns(20, 3)
    df = pd.DataFrame(x, columns=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"returns must be 2-D.*1-D with shape \(20,\)"):
        covariance(x[:, 0])
    with pytest.raises(ValueError, match=r"a Series is one asset"):
        covariance(df["a"])
    with pytest.raises(ValueError, match=r"returns must be 2-D.*3-D"):
        covariance(x.reshape(20, 3, 1))
    with pytest.raises(ValueError, match=r"at least 2 rows.*got 1"):
        covariance(x[:1])
    with pytest.raises(ValueError, match=r"returns is empty"):
        covariance(np.empty((0, 3)))
    bad = x.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"non-finite value nan in column 2 at row 7"):
        covariance(bad)
    bad_df = df.copy()
    bad_df.loc[3, "b"] = np.inf
    bad_df.loc[5, "c"] = np.nan
    with pytest.raises(ValueError, match=r"inf in column 'b' at row 3 \(2 columns in all\)"):
        covariance(bad_df, method="ewma", halflife=5)
    with pytest.raises(TypeError, match=r"returns must hold real numbers"):
        covariance(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match=r"method \(='shrunk'\) must be one of 'sample', 'ewma'"):
        covariance(x, method="shrunk")
    assert set(COVARIANCE_METHODS) == {"sample", "ewma", "ledoit_wolf"}


def test_halflife_and_ddof_errors():
    x = _returns(20, 3)
    with pytest.raises(ValueError, match=r"method='ewma' needs halflife"):
        covariance(x, method="ewma")
    for h in (0, -1.5, math.nan, -math.inf):
        with pytest.raises(ValueError, match=r"halflife \(=.*\) must be a number of rows > 0"):
            covariance(x, method="ewma", halflife=h)
    with pytest.raises(TypeError, match=r"halflife must be a number, not bool"):
        covariance(x, method="ewma", halflife=True)
    with pytest.raises(TypeError, match=r"halflife must be a number, not str"):
        covariance(x, method="ewma", halflife="10")
    with pytest.raises(ValueError, match=r"halflife \(=10\) only applies to method='ewma'"):
        covariance(x, halflife=10)
    with pytest.raises(ValueError, match=r"halflife \(=10\) only applies"):
        covariance(x, method="ledoit_wolf", halflife=10)
    with pytest.raises(ValueError, match=r"halflife \(=0.001\) is too short for ddof \(=1\)"):
        covariance(x, method="ewma", halflife=0.001)
    with pytest.raises(ValueError, match=r"ddof \(=20\) must be below the number of rows \(=20\)"):
        covariance(x, ddof=20)
    with pytest.raises(ValueError, match=r"ddof \(=-1\) must be a finite number >= 0"):
        covariance(x, ddof=-1)
    with pytest.raises(ValueError, match=r"ddof \(=0.5\) must be a whole number"):
        covariance(x, ddof=0.5)
    with pytest.raises(ValueError, match=r"ddof \(=0\) does not apply to method='ledoit_wolf'"):
        covariance(x, method="ledoit_wolf", ddof=0)


# --- Black-Litterman ----------------------------------------------------------


def _market(n=6, seed=1):
    """A well-conditioned annual covariance and market weights."""
    s = np.cov(_returns(400, n, seed=seed), rowvar=False) * 252
    s = (s + s.T) / 2
    w = np.random.default_rng(seed).dirichlet(np.ones(n) * 2)
    return s, w


def test_without_views_the_posterior_is_the_prior():
    s, w = _market()
    bl = black_litterman(s, w, risk_aversion=3.0, tau=0.025)
    assert isinstance(bl, BlackLitterman)
    np.testing.assert_allclose(bl.prior, 3.0 * s @ w, rtol=1e-15)
    np.testing.assert_array_equal(bl.posterior, bl.prior)
    np.testing.assert_allclose(bl.posterior_cov, 1.025 * s, rtol=1e-15)


def test_a_sure_absolute_view_is_met_and_a_vague_one_ignored():
    s, w = _market()
    prior = black_litterman(s, w).prior
    p = np.zeros(6)
    p[2] = 1.0
    sure = black_litterman(s, w, views=p, view_returns=[0.11], view_variance=[1e-16])
    assert abs(sure.posterior[2] - 0.11) <= 1e-8
    assert abs(prior[2] - 0.11) > 1e-2  # the view did move it
    # the view's asset is now known: its posterior variance is S_22 alone
    assert sure.posterior_cov[2, 2] == pytest.approx(s[2, 2], rel=1e-9)
    vague = black_litterman(s, w, views=p, view_returns=[0.11], view_variance=[1e16])
    np.testing.assert_allclose(vague.posterior, prior, rtol=1e-14, atol=1e-18)
    np.testing.assert_allclose(vague.posterior_cov, 1.05 * s, rtol=1e-14)


def test_two_assets_against_the_formula_in_rational_arithmetic():
    s = np.array([[0.04, 0.006], [0.006, 0.09]])
    w = np.array([0.6, 0.4])
    delta, tau, q, omega = 2.5, 0.05, 0.02, 0.001  # one view: asset 0 beats asset 1 by q
    bl = black_litterman(
        s,
        w,
        risk_aversion=delta,
        views=[[1.0, -1.0]],
        view_returns=[q],
        view_variance=[omega],
        tau=tau,
    )
    fs = [[Fraction(v) for v in row] for row in s]
    fw = [Fraction(v) for v in w]
    fd, ft, fq, fo = (Fraction(v) for v in (delta, tau, q, omega))
    pi = [fd * (fs[i][0] * fw[0] + fs[i][1] * fw[1]) for i in range(2)]
    v = [ft * (fs[i][0] - fs[i][1]) for i in range(2)]  # tau S P'
    a = ft * (fs[0][0] - 2 * fs[0][1] + fs[1][1]) + fo  # P tau S P' + Omega
    mu = [pi[i] + v[i] * (fq - (pi[0] - pi[1])) / a for i in range(2)]
    post = [[(1 + ft) * fs[i][j] - v[i] * v[j] / a for j in range(2)] for i in range(2)]
    for i in range(2):
        assert bl.prior[i] == pytest.approx(float(pi[i]), rel=1e-15)
        assert bl.posterior[i] == pytest.approx(float(mu[i]), rel=1e-14)
        for j in range(2):
            assert bl.posterior_cov[i, j] == pytest.approx(float(post[i][j]), rel=1e-14)
    # the view is pulled towards q, not all the way
    gap = bl.posterior[0] - bl.posterior[1]
    assert float(pi[0] - pi[1]) < gap < q


@pytest.mark.parametrize("given_omega", [True, False])
def test_posterior_equals_the_precision_weighted_form(given_omega):
    s, w = _market(8, seed=4)
    tau, delta = 0.05, 2.5
    rng = np.random.default_rng(5)
    p = np.zeros((3, 8))
    p[0, 1] = 1.0  # absolute
    p[1, [2, 5]] = [1.0, -1.0]  # relative
    p[2] = rng.normal(0, 1, 8)  # any portfolio
    q = np.array([0.08, 0.02, -0.01])
    omega = np.array([0.002, 0.0005, 0.01]) if given_omega else np.diag(p @ (tau * s) @ p.T)
    bl = black_litterman(
        s,
        w,
        risk_aversion=delta,
        views=p,
        view_returns=q,
        view_variance=omega if given_omega else None,
        tau=tau,
    )
    pi = delta * s @ w
    ts_inv = np.linalg.inv(tau * s)
    o_inv = np.diag(1 / omega)
    mu = np.linalg.solve(ts_inv + p.T @ o_inv @ p, ts_inv @ pi + p.T @ o_inv @ q)
    np.testing.assert_allclose(bl.posterior, mu, rtol=0, atol=1e-10)
    # and the posterior covariance: S + [(tau S)^-1 + P' Omega^-1 P]^-1
    m = np.linalg.inv(ts_inv + p.T @ o_inv @ p)
    np.testing.assert_allclose(bl.posterior_cov, s + m, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(bl.posterior_cov, bl.posterior_cov.T)


def test_default_omega_is_he_and_littermans():
    s, w = _market()
    p = np.array([[1, 0, -1, 0, 0, 0], [0, 0.5, 0, 0.5, 0, 0]], dtype=float)
    q = [0.03, 0.07]
    default = black_litterman(s, w, views=p, view_returns=q, tau=0.1)
    explicit = black_litterman(
        s, w, views=p, view_returns=q, view_variance=np.diag(p @ (0.1 * s) @ p.T), tau=0.1
    )
    np.testing.assert_allclose(default.posterior, explicit.posterior, rtol=1e-14)
    np.testing.assert_allclose(default.posterior_cov, explicit.posterior_cov, rtol=1e-14)


def test_labelled_inputs_are_aligned_and_labelled_out():
    s, w = _market(4)
    names = ["a", "b", "c", "d"]
    p = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, -1.0]])
    q = np.array([0.09, 0.01])
    plain = black_litterman(s, w, views=p, view_returns=q)
    cov_df = pd.DataFrame(s, index=names, columns=names)
    shuffled = cov_df.loc[["c", "a", "d", "b"], ["b", "d", "a", "c"]]
    weights = pd.Series(w, index=names).iloc[::-1]
    views = pd.DataFrame(p, columns=names, index=["abs", "rel"])[["d", "c", "b", "a"]]
    q_series = pd.Series(q, index=["abs", "rel"]).iloc[::-1]
    bl = black_litterman(shuffled, weights, views=views, view_returns=q_series)
    assert isinstance(bl.prior, pd.Series) and isinstance(bl.posterior_cov, pd.DataFrame)
    order = list(weights.index)  # the weights' order
    assert list(bl.posterior.index) == order == list(bl.posterior_cov.columns)
    np.testing.assert_allclose(bl.posterior[names].to_numpy(), plain.posterior, rtol=1e-13)
    np.testing.assert_allclose(
        bl.posterior_cov.loc[names, names].to_numpy(), plain.posterior_cov, rtol=1e-13
    )
    # a labelled cov alone labels the output (weights by position)
    only_cov = black_litterman(cov_df, w)
    assert list(only_cov.prior.index) == names
    # absolute views as a mapping are the P form
    one = black_litterman(cov_df, w, views={"a": 0.09})
    np.testing.assert_allclose(
        one.posterior.to_numpy(),
        black_litterman(s, w, views=p[:1], view_returns=q[:1]).posterior,
        rtol=1e-14,
    )


def test_black_litterman_does_not_modify_its_inputs():
    s, w = _market()
    p = np.eye(6)[:2]
    q, o = np.array([0.1, 0.05]), np.array([0.01, 0.02])
    keep = [a.copy() for a in (s, w, p, q, o)]
    black_litterman(s, w, views=p, view_returns=q, view_variance=o)
    for a, b in zip((s, w, p, q, o), keep, strict=True):
        np.testing.assert_array_equal(a, b)


def test_black_litterman_errors_name_the_argument():
    s, w = _market(3)
    p = np.array([[1.0, 0, 0]])
    ok = {"views": p, "view_returns": [0.05]}
    with pytest.raises(ValueError, match=r"cov has shape \(3, 3\); expected \(4, 4\)"):
        black_litterman(s, np.append(w, 0.1))
    with pytest.raises(ValueError, match=r"market_weights must be 1-D"):
        black_litterman(s, w[None, :])
    bad = s.copy()
    bad[0, 1] = bad[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"cov has a non-finite value nan at \[0, 1\]"):
        black_litterman(bad, w)
    with pytest.raises(
        ValueError, match=r"market_weights has a non-finite value inf at position 1"
    ):
        black_litterman(s, [0.5, np.inf, 0.5])
    skew = s.copy()
    skew[0, 1] += 1e-3
    with pytest.raises(ValueError, match=r"cov is not symmetric"):
        black_litterman(skew, w)
    with pytest.raises(ValueError, match=r"views has shape \(1, 2\); expected \(1, 3\)"):
        black_litterman(s, w, views=[[1.0, 0]], view_returns=[0.05])
    with pytest.raises(ValueError, match=r"view_returns has 2 values for 1 views"):
        black_litterman(s, w, views=p, view_returns=[0.05, 0.01])
    with pytest.raises(ValueError, match=r"view_returns has a non-finite value nan"):
        black_litterman(s, w, views=p, view_returns=[np.nan])
    with pytest.raises(ValueError, match=r"views has a non-finite value"):
        black_litterman(s, w, views=[[np.nan, 1.0, 0]], view_returns=[0.05])
    with pytest.raises(ValueError, match=r"views row 1 is all zero"):
        black_litterman(s, w, views=[[1.0, 0, 0], [0, 0, 0]], view_returns=[0.05, 0.0])
    with pytest.raises(ValueError, match=r"view_variance has 2 values for 1 views"):
        black_litterman(s, w, **ok, view_variance=[0.1, 0.1])
    for o in (0.0, -1e-3):
        with pytest.raises(ValueError, match=r"view_variance has .* for view 0; .* > 0"):
            black_litterman(s, w, **ok, view_variance=[o])
    with pytest.raises(ValueError, match=r"view_variance has a non-finite value nan"):
        black_litterman(s, w, **ok, view_variance=[np.nan])
    for t in (0, -0.05, math.nan, math.inf):
        with pytest.raises(ValueError, match=r"tau \(=.*\) must be"):
            black_litterman(s, w, tau=t)
    with pytest.raises(ValueError, match=r"risk_aversion \(=0\) must be > 0"):
        black_litterman(s, w, risk_aversion=0)
    with pytest.raises(TypeError, match=r"tau must be a real number"):
        black_litterman(s, w, tau="0.05")
    with pytest.raises(ValueError, match=r"views \(P\) needs view_returns"):
        black_litterman(s, w, views=p)
    with pytest.raises(ValueError, match=r"view_returns and view_variance need views"):
        black_litterman(s, w, view_returns=[0.05])
    with pytest.raises(ValueError, match=r"view_returns and view_variance need views"):
        black_litterman(s, w, view_variance=[0.05])
    with pytest.raises(TypeError, match=r"views as a mapping needs inputs labelled"):
        black_litterman(s, w, views={0: 0.05})
    # a view on an asset the prior gives no variance: the default Omega is 0
    z = s.copy()
    z[2, :] = z[:, 2] = 0.0
    with pytest.raises(ValueError, match=r"default Omega .* is 0.0 for view 0.*view_variance"):
        black_litterman(z, w, views=[[0, 0, 1.0]], view_returns=[0.05])
    not_psd = np.array([[1.0, 2.0, 0], [2.0, 1.0, 0], [0, 0, 1.0]])
    with pytest.raises(ValueError, match=r"not positive definite: is cov positive semi-definite"):
        black_litterman(
            not_psd, w, views=[[1.0, -1.0, 0]], view_returns=[0.0], view_variance=[1e-3]
        )


def test_black_litterman_label_errors():
    s, w = _market(3)
    names = ["a", "b", "c"]
    cov = pd.DataFrame(s, index=names, columns=names)
    weights = pd.Series(w, index=names)
    with pytest.raises(ValueError, match=r"cov is labelled by other assets.*missing \['c'\]"):
        black_litterman(cov.rename(index={"c": "x"}, columns={"c": "x"}), weights)
    with pytest.raises(ValueError, match=r"asset labels repeat 'a'"):
        black_litterman(s, pd.Series(w, index=["a", "a", "b"]))
    with pytest.raises(ValueError, match=r"views names 'z', which is not one of the assets"):
        black_litterman(cov, weights, views={"z": 0.05})
    with pytest.raises(ValueError, match=r"view_returns must be None"):
        black_litterman(cov, weights, views={"a": 0.05}, view_returns=[0.05])
    with pytest.raises(ValueError, match=r"views is labelled by other assets"):
        black_litterman(
            cov,
            weights,
            views=pd.DataFrame([[1.0, 0, 0]], columns=["a", "b", "x"]),
            view_returns=[0.1],
        )
    with pytest.raises(ValueError, match=r"view_returns is labelled by other views"):
        black_litterman(
            cov,
            weights,
            views=pd.DataFrame([[1.0, 0, 0]], columns=names, index=["v1"]),
            view_returns=pd.Series([0.1], index=["v2"]),
        )
