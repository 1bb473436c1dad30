r"""Covariance estimators and Black-Litterman expected returns (private;
re-exported by :mod:`trackerr.optimize`).

The ex-ante functions of :mod:`trackerr.optimize` take a covariance matrix
:math:`S` and, for a portfolio built around views, expected returns. This
module estimates both with the methods users know, each written once by a
well-kept library and only wrapped here (validation, pandas labels in and out,
exact symmetry):

* :func:`covariance`: the sample covariance (``numpy.cov``), its exponentially
  weighted form (``numpy.cov`` with ``aweights``, as pandas'
  ``ewm(halflife=...).cov()``) and Ledoit & Wolf's shrinkage (scikit-learn's
  ``sklearn.covariance.ledoit_wolf``, an optional dependency);
* :func:`black_litterman`: the equilibrium returns implied by the market
  weights, blended with views by He & Litterman's formulas.

Units follow the input: from daily returns, daily covariances and daily
expected returns (annualize by multiplying by the periods per year).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from . import _assets, _inputs, _options

__all__ = ["COVARIANCE_METHODS", "BlackLitterman", "black_litterman", "covariance"]

_F = npt.NDArray[np.float64]

COVARIANCE_METHODS = ("sample", "ewma", "ledoit_wolf")
"""The ``method`` names :func:`covariance` accepts."""


# --- covariance ---------------------------------------------------------------


def covariance(
    returns: Any,
    *,
    method: str = "sample",
    halflife: float | None = None,
    ddof: int = 1,
) -> Any:
    r"""Covariance matrix of the columns of a T x N array of returns.

    Parameters
    ----------
    returns : array_like or pandas DataFrame
        T periods (rows) by N assets (columns) of periodic returns, all finite
        (drop or fill missing periods first). Never modified.
    method : {'sample', 'ewma', 'ledoit_wolf'}
        ``'sample'``
            The sample covariance, ``numpy.cov(returns, rowvar=False,
            ddof=ddof)``:

            .. math:: S = \frac{1}{T - \mathrm{ddof}} \sum_{t} (r_t - \bar r)(r_t - \bar r)^\top.

        ``'ewma'``
            Exponentially weighted, ``numpy.cov(returns, rowvar=False,
            aweights=w, ddof=ddof)`` with the weight of row :math:`t`
            (counted from 0) halving every ``halflife`` rows back from the
            latest, which weighs 1:

            .. math::

                w_t = 2^{-(T-1-t)/h}, \qquad V_1 = \sum_t w_t, \quad V_2 = \sum_t w_t^2,

                \bar r = \frac{1}{V_1}\sum_t w_t r_t, \qquad
                S = \frac{\sum_t w_t (r_t - \bar r)(r_t - \bar r)^\top}
                         {V_1 - \mathrm{ddof}\, V_2 / V_1}.

            With ``ddof=1`` this is the bias-corrected estimate of pandas'
            ``DataFrame.ewm(halflife=h).cov()`` at the last row (its defaults
            ``adjust=True, bias=False``: the same weights, as pandas' decay
            :math:`1-\alpha = e^{\ln(1/2)/h} = 2^{-1/h}`, and the same factor
            :math:`V_1^2 / (V_1^2 - V_2)` on the weighted mean square); with
            ``ddof=0`` it is ``cov(bias=True)``. They agree to rounding
            (about 1e-15 relative). pandas' ``adjust=False`` is another
            estimate: its first row weighs :math:`1/(1 - 2^{-1/h})` times more
            than here relative to the others, a gap fading as :math:`2^{-T/h}`.
            ``halflife=inf`` weighs every row equally: the sample covariance.
        ``'ledoit_wolf'``
            Ledoit & Wolf's (2004) shrinkage towards a scaled identity,
            ``sklearn.covariance.ledoit_wolf(returns)`` (scikit-learn,
            an optional dependency: ``pip install scikit-learn``):

            .. math::

                \hat S = (1 - \delta)\, S_{ML} + \delta\, \mu I, \qquad
                \mu = \operatorname{tr}(S_{ML}) / N,

            with :math:`S_{ML}` the maximum-likelihood sample covariance
            (normalised by :math:`1/T`, the means removed: scikit-learn's
            ``assume_centered=False``) and the intensity
            :math:`\delta \in [0, 1]` chosen to minimise the expected squared
            (Frobenius) error. scikit-learn's estimate is kept as is, so
            ``ddof`` does not apply (it must stay at its default). The
            intensity is the second value ``sklearn.covariance.ledoit_wolf``
            returns: ``_, delta = ledoit_wolf(returns)``.
    halflife : float, optional
        For ``'ewma'`` only (required there): the half-life of the weights in
        rows, > 0 (not necessarily whole).
    ddof : int
        Delta degrees of freedom (for ``'sample'`` and ``'ewma'``), below the
        number of rows (for ``'ewma'``: below the effective number of rows
        :math:`V_1^2 / V_2`).

    Returns
    -------
    numpy.ndarray or pandas.DataFrame
        N x N, exactly symmetric (:math:`(S + S^\top)/2`), in the input's
        units squared per period. A DataFrame for a DataFrame input, labelled
        by its columns on both axes.

    Raises
    ------
    ValueError
        ``returns`` not 2-D, with fewer than 2 rows or a non-finite value (the
        column is named); an unknown ``method``; ``halflife`` missing, <= 0 or
        NaN for ``'ewma'`` or given for another method; ``ddof`` too large.
    ImportError
        ``'ledoit_wolf'`` without scikit-learn installed.
    """
    method = _options.choice("method", method, COVARIANCE_METHODS)
    ddof = _ddof(ddof)
    x, columns = _returns_matrix(returns)
    t, n = x.shape
    if method == "ewma":
        h = _halflife(halflife)
        # the latest row weighs 1; rows older than about 1075 half-lives
        # underflow to weight 0 and so drop out, as they should
        weights = np.exp2(-np.arange(t - 1, -1, -1, dtype=np.float64) / h)
        v1 = math.fsum(weights.tolist())
        v2 = math.fsum((weights * weights).tolist())
        effective = v1 * v1 / v2
        if not effective > ddof:
            raise ValueError(
                f"halflife (={halflife!r}) is too short for ddof (={ddof}): the effective "
                f"number of rows (sum w)^2 / sum w^2 = {effective:.6g} must exceed ddof"
            )
        s = np.cov(x, rowvar=False, aweights=weights, ddof=ddof)
    else:
        if halflife is not None:
            raise ValueError(f"halflife (={halflife!r}) only applies to method='ewma'")
        if method == "sample":
            if not t > ddof:
                raise ValueError(f"ddof (={ddof}) must be below the number of rows (={t})")
            s = np.cov(x, rowvar=False, ddof=ddof)
        else:
            if ddof != 1:
                raise ValueError(
                    f"ddof (={ddof}) does not apply to method='ledoit_wolf': scikit-learn's "
                    "estimate is normalised by 1/T; leave ddof at its default"
                )
            s, _ = _ledoit_wolf()(x)
    s = np.asarray(s, dtype=np.float64).reshape(n, n)  # numpy.cov squeezes N = 1 to 0-D
    out: _F = (s + s.T) / 2
    if columns is not None:
        return _inputs._pandas().DataFrame(out, index=columns, columns=columns)
    return out


def _returns_matrix(returns: Any) -> tuple[_F, Any]:
    """(a float64 T x N array reading ``returns``, its column labels or None)."""
    ndim = getattr(returns, "ndim", None)
    if isinstance(ndim, int) and ndim != 2:
        hint = " (a Series is one asset: pass series.to_frame())" if ndim == 1 else ""
        raise ValueError(
            f"returns must be 2-D, T periods x N assets; got {ndim}-D with shape "
            f"{getattr(returns, 'shape', '?')}{hint}"
        )
    columns = returns.columns if _inputs._is_pandas(returns) else None
    arr = _inputs.as_real_array(returns, "returns")
    if arr.ndim != 2:
        raise ValueError(f"returns must be 2-D, T periods x N assets; got shape {arr.shape}")
    t = arr.shape[0]
    if t < 2:
        raise ValueError(f"returns needs at least 2 rows (periods); got {t}")
    # one layout for every input, so that the same numbers give the same bits
    # from numpy (C or Fortran order) and pandas (often Fortran order)
    x = np.ascontiguousarray(arr, dtype=np.float64)
    finite = np.isfinite(x)
    if not finite.all():
        bad_cols = np.flatnonzero(~finite.all(axis=0))
        j = int(bad_cols[0])
        i = int(np.flatnonzero(~finite[:, j])[0])
        name = repr(columns[j]) if columns is not None else str(j)
        more = f" ({len(bad_cols)} columns in all)" if len(bad_cols) > 1 else ""
        raise ValueError(
            f"returns has a non-finite value {float(x[i, j])!r} in column {name} at row {i}"
            f"{more}; drop or fill missing periods first"
        )
    return x, columns


def _ddof(value: Any) -> int:
    out = _options.ddof(value)
    if out != int(out):
        raise ValueError(f"ddof (={value!r}) must be a whole number (as numpy.cov's)")
    return int(out)


def _halflife(value: Any) -> float:
    if value is None:
        raise ValueError("method='ewma' needs halflife (the weights' half-life in rows, > 0)")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"halflife must be a number, not {type(value).__name__} (={value!r})")
    h = float(value)
    if not h > 0.0:  # NaN fails too
        raise ValueError(f"halflife (={value!r}) must be a number of rows > 0")
    return h


def _ledoit_wolf() -> Any:
    try:
        from sklearn.covariance import ledoit_wolf
    except ImportError:
        raise ImportError(
            "covariance(method='ledoit_wolf') uses scikit-learn: pip install scikit-learn"
        ) from None
    return ledoit_wolf


# --- Black-Litterman ----------------------------------------------------------


class BlackLitterman(NamedTuple):
    """What :func:`black_litterman` returns (per period, as ``cov``)."""

    prior: Any  # pi = delta S w_mkt, the implied equilibrium excess returns
    posterior: Any  # the expected returns blended with the views
    posterior_cov: Any  # the covariance of returns given the views, S + M


def black_litterman(
    cov: Any,
    market_weights: Any,
    *,
    risk_aversion: float = 2.5,
    views: Any = None,
    view_returns: Any = None,
    view_variance: Any = None,
    tau: float = 0.05,
) -> BlackLitterman:
    r"""Expected returns from market equilibrium and views (Black & Litterman).

    The prior is the vector of excess returns under which the market
    portfolio is the mean-variance optimum for a risk aversion
    :math:`\delta` (reverse optimisation):

    .. math:: \pi = \delta\, S\, w_{mkt}.

    K views state that the portfolios in the rows of P (K x N) have expected
    excess returns Q, each with an uncertainty (a variance) on the diagonal
    of :math:`\Omega`. The posterior mean and covariance of returns are (He &
    Litterman, 1999)

    .. math::

        A = P \tau S P^\top + \Omega, \qquad
        \mu = \pi + \tau S P^\top A^{-1} (Q - P \pi),

        S_{post} = S + \tau S - \tau S P^\top A^{-1} P\, \tau S,

    which is the precision-weighted blend
    :math:`\mu = [(\tau S)^{-1} + P^\top \Omega^{-1} P]^{-1}
    [(\tau S)^{-1} \pi + P^\top \Omega^{-1} Q]` written so that neither
    :math:`S` nor :math:`\Omega` is inverted (only the K x K system
    :math:`A`, solved with ``numpy.linalg.solve``). Without views the
    posterior is the prior and :math:`S_{post} = (1 + \tau) S`. A view with
    :math:`\Omega_{kk} \to 0` is met exactly; with :math:`\Omega_{kk} \to
    \infty` it is ignored.

    Parameters
    ----------
    cov : array_like or pandas DataFrame
        S, the assets' return covariance per period (N x N, symmetric,
        positive semi-definite), e.g. from :func:`covariance`.
    market_weights : array_like or pandas Series
        :math:`w_{mkt}`, the market (capitalisation) weights, one per asset
        (not required to sum to 1: pass them as they are, the prior scales
        with them). A Series and a DataFrame ``cov`` are matched by asset
        label (the same assets, any order).
    risk_aversion : float
        :math:`\delta` > 0: the market's excess return over its variance per
        period (2.5 is a common annual figure; for daily ``cov`` the same
        :math:`\delta` gives daily :math:`\pi`).
    views : array_like, pandas DataFrame or mapping, optional
        P, K x N: a row per view, the weights of the portfolio it is about
        (a row with a single 1 is an absolute view on that asset; 1 and -1,
        one asset outperforming another). A 1-D array is one view. A
        DataFrame's columns are matched to the asset labels. For labelled
        inputs, a mapping ``{asset label: expected return}`` gives absolute
        views (P and Q at once; ``view_returns`` must then be None).
    view_returns : array_like or pandas Series, optional
        Q, the K expected excess returns of the views, per period (matched to
        a DataFrame ``views``' index when both are labelled).
    view_variance : array_like, optional
        The diagonal of :math:`\Omega`: each view's uncertainty as a
        *variance* of its return per period (> 0; larger means less
        confident). Default: He & Litterman's
        :math:`\Omega = \operatorname{diag}(P\, \tau S\, P^\top)`, each view
        as uncertain as the prior makes its portfolio.
    tau : float
        :math:`\tau` > 0, the uncertainty of the prior mean relative to S.

    Returns
    -------
    BlackLitterman
        ``prior`` (:math:`\pi`) and ``posterior`` (:math:`\mu`): per-period
        excess returns, arrays or Series labelled by asset; ``posterior_cov``
        (:math:`S_{post}`, exactly symmetric): an array or a DataFrame. All in
        ``cov``'s units (per period if S is per period).

    Raises
    ------
    ValueError
        Shapes that do not match; non-finite values; ``cov`` not symmetric;
        ``tau`` or ``risk_aversion`` not > 0; a view row of zeros;
        ``view_variance`` not > 0 (or a default :math:`\Omega_{kk} = 0`,
        for a view the prior gives no variance); views without view returns
        or the reverse; :math:`A` not positive definite (``cov`` is not
        positive semi-definite).
    """
    tau_ = _positive("tau", tau)
    delta = _positive("risk_aversion", risk_aversion)
    labels = _assets.labels(market_weights)
    pd = _inputs._pandas()
    if labels is None and pd is not None and isinstance(cov, pd.DataFrame):
        labels = cov.columns
    if labels is not None and not labels.is_unique:
        dup = labels[labels.duplicated()][0]
        raise ValueError(
            f"the asset labels repeat {dup!r} (market_weights' index or cov's columns)"
        )
    w = _assets.real_vector("market_weights", market_weights)
    n = len(w)
    s = _cov_matrix(cov, n, labels)
    prior: _F = delta * (s @ w)
    tau_s = tau_ * s
    if views is None:
        if view_returns is not None or view_variance is not None:
            raise ValueError("view_returns and view_variance need views (P) as well")
        posterior = prior.copy()
        post_cov: _F = s + tau_s
    else:
        p, q = _views(views, view_returns, n, labels)
        k = len(q)
        ts_pt = tau_s @ p.T  # tau S P', N x K
        p_ts_pt = p @ ts_pt
        p_ts_pt = (p_ts_pt + p_ts_pt.T) / 2
        if view_variance is None:
            omega = np.diag(p_ts_pt).copy()
            if not np.all(omega > 0):
                i = int(np.flatnonzero(~(omega > 0))[0])
                raise ValueError(
                    f"the default Omega = diag(P tau S P') is {float(omega[i])!r} for view {i}: "
                    "the prior gives that view no variance; pass view_variance"
                )
        else:
            omega = _assets.real_vector("view_variance", view_variance)
            if len(omega) != k:
                raise ValueError(f"view_variance has {len(omega)} values for {k} views")
            if not np.all(omega > 0):
                i = int(np.flatnonzero(~(omega > 0))[0])
                raise ValueError(
                    f"view_variance has {float(omega[i])!r} for view {i}; "
                    "each must be a variance > 0"
                )
        a = p_ts_pt + np.diag(omega)
        try:
            np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise ValueError(
                "P tau S P' + Omega is not positive definite: is cov positive semi-definite?"
            ) from None
        posterior = prior + ts_pt @ np.linalg.solve(a, q - p @ prior)
        post_cov = s + tau_s - ts_pt @ np.linalg.solve(a, ts_pt.T)
    post_cov = (post_cov + post_cov.T) / 2
    if labels is not None and pd is not None:
        return BlackLitterman(
            pd.Series(prior, index=labels, name="prior"),
            pd.Series(posterior, index=labels, name="posterior"),
            pd.DataFrame(post_cov, index=labels, columns=labels),
        )
    return BlackLitterman(prior, posterior, post_cov)


def _positive(name: str, value: float) -> float:
    out = _options.real(name, value)
    if not out > 0.0:
        raise ValueError(f"{name} (={value!r}) must be > 0")
    return out


def _cov_matrix(cov: Any, n: int, labels: Any) -> _F:
    cov = _assets.aligned("cov", _assets.aligned("cov", cov, labels, "index"), labels, "columns")
    s = _assets.real_matrix("cov", cov, (n, n))
    _assets.symmetric("cov", s)
    return s


def _views(views: Any, view_returns: Any, n: int, labels: Any) -> tuple[_F, _F]:
    """(P as K x N, Q as K) from the accepted forms of views and view returns."""
    if isinstance(views, Mapping):
        if view_returns is not None:
            raise ValueError(
                "views as a mapping {asset: expected return} gives the view returns; "
                "view_returns must be None"
            )
        if labels is None:
            raise TypeError(
                "views as a mapping needs inputs labelled by asset (a Series market_weights "
                "or a DataFrame cov); pass the P matrix and view_returns instead"
            )
        if not views:
            raise ValueError("views is an empty mapping")
        p = np.zeros((len(views), n))
        for k, asset in enumerate(views):
            j = int(labels.get_indexer([asset])[0])
            if j < 0:
                raise ValueError(f"views names {asset!r}, which is not one of the assets")
            p[k, j] = 1.0
        q = _assets.real_vector("views", list(views.values()))
        return p, q
    if view_returns is None:
        raise ValueError("views (P) needs view_returns (Q), one expected return per view")
    pd = _inputs._pandas()
    p_labelled = pd is not None and isinstance(views, pd.DataFrame)
    if p_labelled:
        views = _assets.aligned("views", views, labels, "columns")
        if isinstance(view_returns, pd.Series):
            view_returns = _assets.aligned(
                "view_returns", view_returns, views.index, what="views than the rows of views"
            )
    elif _inputs._is_pandas(views):  # a Series: one view, labelled by asset
        views = _assets.aligned("views", views, labels)
    arr = _inputs.as_real_array(views, "views")
    p = np.asarray(np.atleast_2d(arr), dtype=np.float64)
    k = p.shape[0]
    p = _assets.real_matrix("views", p, (k, n))
    q = _assets.real_vector("view_returns", view_returns)
    if len(q) != k:
        raise ValueError(f"view_returns has {len(q)} values for {k} views (rows of P)")
    zero = np.flatnonzero(~np.any(p != 0, axis=1))
    if zero.size:
        raise ValueError(f"views row {int(zero[0])} is all zero: a view must be about some asset")
    return p, q
