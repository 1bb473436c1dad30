r"""Ex-ante tracking error and what drives it (issue 12, first part).

Ex post, the tracking error is measured on realised returns; ex ante, it is
forecast from the weights and a covariance matrix :math:`S` of the assets'
returns (per period):

.. math::

    TE = \sqrt{a^\top S a}\,\sqrt{P}, \qquad a = w - w_b,

with :math:`w` the portfolio's weights, :math:`w_b` the benchmark's and
:math:`P` the periods per year (1 when None). Its decomposition by position
(Euler's, as risk systems report it):

.. math::

    m_i = \frac{(S a)_i}{TE} \quad\text{(marginal)}, \qquad
    c_i = a_i\, m_i \quad\text{(total)}, \qquad \sum_i c_i = TE,

so :math:`c_i` is the part of the tracking error that position :math:`i`
brings (negative for a position that hedges the others), and group totals
(sector, chain, protocol) are the sums of their members'.

``cov`` is an N x N matrix (numpy or a pandas DataFrame labelled by asset) or
a :class:`FactorCovariance` :math:`S = B F B^\top + \operatorname{diag}(d)`,
which is never formed: :math:`S a = B (F (B^\top a)) + d \circ a` costs
O(N K), for universes too large for an N x N matrix.

Exactness: :math:`a^\top S a` is summed exactly (``math.fsum``) from the
products :math:`a_i (S a)_i`, each rounded once, and the contributions are
those products over the tracking error, so they sum to it within a few
rounding errors of the largest contribution (tested at 1e-12 relative).
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from . import _inputs, _options

__all__ = [
    "Contributions",
    "FactorCovariance",
    "Replication",
    "contributions",
    "ex_ante_tracking_error",
    "min_tracking_error",
]

_F = npt.NDArray[np.float64]


class FactorCovariance(NamedTuple):
    r"""A factor model of the assets' covariance, :math:`S = B F B^\top + \operatorname{diag}(d)`.

    ``loadings`` B is N x K, ``factor_cov`` F is K x K (symmetric, positive
    semi-definite), ``specific`` d holds the N specific variances (>= 0).
    """

    loadings: Any
    factor_cov: Any
    specific: Any


class Contributions(NamedTuple):
    """Where a tracking error comes from (see the module docstring)."""

    tracking_error: float  # sqrt(a' S a) sqrt(P)
    active: Any  # a = w - w_b, per asset
    marginal: Any  # (S a)_i / TE, annualized as TE is
    total: Any  # a_i (S a)_i / TE: sums to tracking_error
    groups: Any  # total summed by group (None without groups)


def _real_vector(name: str, x: Any) -> _F:
    arr = np.asarray(x)
    if arr.dtype == object or not _inputs._real_dtype(arr.dtype):
        raise TypeError(f"{name} must hold real numbers, not {arr.dtype}")
    out = np.asarray(arr, dtype=np.float64)
    if out.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one weight per asset); got shape {out.shape}")
    if not np.all(np.isfinite(out)):
        i = int(np.flatnonzero(~np.isfinite(out))[0])
        raise ValueError(f"{name} has a non-finite value {float(out[i])!r} at position {i}")
    return out


def _real_matrix(name: str, x: Any, shape: tuple[int, ...]) -> _F:
    arr = np.asarray(x)
    if arr.dtype == object or not _inputs._real_dtype(arr.dtype):
        raise TypeError(f"{name} must hold real numbers, not {arr.dtype}")
    out = np.asarray(arr, dtype=np.float64)
    if out.shape != shape:
        raise ValueError(f"{name} has shape {out.shape}; expected {shape}")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} has a non-finite value")
    return out


def _labels(x: Any) -> Any:
    """The asset labels of a pandas object (its index), or None."""
    pd = _inputs._pandas()
    if pd is not None and isinstance(x, (pd.Series, pd.DataFrame)):
        return x.index
    return None


def _aligned(name: str, x: Any, labels: Any) -> Any:
    """A pandas Series put in the order of `labels` (the same set of assets)."""
    if labels is None or _labels(x) is None:
        return x
    own = _labels(x)
    if not own.is_unique:
        raise ValueError(f"{name} has repeated asset labels")
    missing = labels.difference(own)
    extra = own.difference(labels)
    if len(missing) or len(extra):
        raise ValueError(
            f"{name} is labelled by other assets than the weights: missing {list(missing)[:5]!r}, "
            f"extra {list(extra)[:5]!r}"
        )
    return x.reindex(labels)


class _Cov:
    """S as a product: S a for a vector a, from a matrix or a factor model."""

    def __init__(self, cov: Any, n: int, labels: Any) -> None:
        if isinstance(cov, FactorCovariance):
            b = cov.loadings
            if labels is not None and _labels(b) is not None:
                b = _aligned("cov.loadings", b, labels)
            loadings = np.asarray(b, dtype=np.float64) if _labels(b) is None else b.to_numpy(float)
            if loadings.ndim != 2 or loadings.shape[0] != n:
                raise ValueError(
                    f"cov.loadings has shape {loadings.shape}; expected {n} x K (one row per asset)"
                )
            k = loadings.shape[1]
            self.b = _real_matrix("cov.loadings", loadings, (n, k))
            self.f = _real_matrix("cov.factor_cov", cov.factor_cov, (k, k))
            d = cov.specific
            if labels is not None and _labels(d) is not None:
                d = _aligned("cov.specific", d, labels)
            self.d = _real_vector("cov.specific", d)
            if len(self.d) != n:
                raise ValueError(f"cov.specific has {len(self.d)} values; expected {n}")
            if np.any(self.d < 0):
                i = int(np.flatnonzero(self.d < 0)[0])
                raise ValueError(f"cov.specific has a negative variance {self.d[i]!r} at {i}")
            _symmetric("cov.factor_cov", self.f)
            self.s: _F | None = None
            return
        pd = _inputs._pandas()
        if pd is not None and isinstance(cov, pd.DataFrame):
            if labels is not None:
                cov = _aligned("cov", cov, labels)
                if not cov.columns.is_unique or set(cov.columns) != set(labels):
                    raise ValueError("cov's columns must be the weights' assets, as its index")
                cov = cov[labels]
            cov = cov.to_numpy(dtype=np.float64)
        self.s = _real_matrix("cov", cov, (n, n))
        _symmetric("cov", self.s)

    def times(self, a: _F) -> _F:
        if self.s is not None:
            out: _F = self.s @ a
            return out
        factored: _F = self.b @ (self.f @ (self.b.T @ a)) + self.d * a
        return factored


def _symmetric(name: str, s: _F) -> None:
    scale = float(np.max(np.abs(s))) if s.size else 0.0
    gap = float(np.max(np.abs(s - s.T))) if s.size else 0.0
    if gap > 1e-12 * scale:
        raise ValueError(f"{name} is not symmetric (largest |S - S'| = {gap:g} of {scale:g})")


def _active(weights: Any, benchmark_weights: Any, cov: Any) -> tuple[_F, _Cov, Any]:
    labels = _labels(weights)
    w = _real_vector("weights", weights)
    if benchmark_weights is None:
        wb = np.zeros_like(w)
    else:
        wb = _real_vector(
            "benchmark_weights", _aligned("benchmark_weights", benchmark_weights, labels)
        )
        if wb.shape != w.shape:
            raise ValueError(f"benchmark_weights has {len(wb)} weights but weights has {len(w)}")
    return w - wb, _Cov(cov, len(w), labels), labels


def _quadratic(a: _F, cov: _Cov) -> tuple[_F, _F, float]:
    """(S a, the products a_i (S a)_i, a' S a summed exactly); refuses a
    covariance that gives a'Sa below 0 beyond rounding."""
    q = cov.times(a)
    products = a * q
    v = math.fsum(products.tolist())
    bound = 1e-12 * math.fsum(np.abs(products).tolist())
    if v < -bound:
        raise ValueError(
            f"cov is not positive semi-definite: a'Sa = {v:g} < 0 for the active weights a"
        )
    return q, products, max(v, 0.0)


def ex_ante_tracking_error(
    weights: Any,
    benchmark_weights: Any,
    cov: Any,
    *,
    periods_per_year: float | str | None = None,
) -> float:
    r"""Ex-ante tracking error :math:`\sqrt{a^\top S a}\,\sqrt{P}`, :math:`a = w - w_b`.

    Parameters
    ----------
    weights, benchmark_weights : array_like or pandas Series
        One weight per asset (benchmark_weights None: all zero, the
        portfolio's own risk). pandas Series are matched by asset label (the
        same assets on both sides, in any order).
    cov : array_like, pandas DataFrame or FactorCovariance
        The assets' per-period return covariance (N x N, symmetric, positive
        semi-definite), or a factor model (never formed).
    periods_per_year : float, str or None
        Annualization (a number or a preset such as 'daily'); None: per period.
    """
    a, s, _ = _active(weights, benchmark_weights, cov)
    _, _, v = _quadratic(a, s)
    return math.sqrt(v) * math.sqrt(_scale(periods_per_year))


def _scale(periods_per_year: float | str | None) -> float:
    periods = _options.periods(periods_per_year)
    return 1.0 if math.isnan(periods) else periods


def contributions(
    weights: Any,
    benchmark_weights: Any,
    cov: Any,
    *,
    groups: Any = None,
    periods_per_year: float | str | None = None,
) -> Contributions:
    r"""Each position's part of the ex-ante tracking error (Euler's decomposition).

    .. math:: m_i = \frac{(S a)_i}{TE}\sqrt{P}, \qquad c_i = a_i\, m_i, \qquad
              \sum_i c_i = TE

    (with TE per period inside the fraction). A position's total
    contribution is negative when it offsets the others' active risk.

    Parameters
    ----------
    weights, benchmark_weights, cov, periods_per_year
        As for :func:`ex_ante_tracking_error`.
    groups : sequence, pandas Series or mapping, optional
        A label per asset (sector, chain, protocol); ``groups`` in the result
        then sums the total contributions by label (their sum is TE too). A
        Series or mapping is matched by asset label.

    Returns
    -------
    Contributions: ``tracking_error``, ``active``, ``marginal``, ``total``
    (arrays, or Series labelled by asset for pandas weights) and ``groups``
    (a dict, or a Series for pandas weights; None without groups). With a
    tracking error of 0 the marginal and total contributions are 0.
    """
    a, s, labels = _active(weights, benchmark_weights, cov)
    q, products, v = _quadratic(a, s)
    root = math.sqrt(_scale(periods_per_year))
    te = math.sqrt(v)
    if te > 0.0:
        marginal = q / te * root
        total = products / te * root
    else:
        marginal = np.zeros_like(a)
        total = np.zeros_like(a)
    grouped = _grouped(groups, total, labels)
    pd = _inputs._pandas()
    if labels is not None and pd is not None:
        return Contributions(
            te * root,
            pd.Series(a, index=labels, name="active"),
            pd.Series(marginal, index=labels, name="marginal"),
            pd.Series(total, index=labels, name="total"),
            None if grouped is None else pd.Series(grouped, name="total"),
        )
    return Contributions(te * root, a, marginal, total, grouped)


def _grouped(groups: Any, total: _F, labels: Any) -> dict[Any, float] | None:
    if groups is None:
        return None
    keys = _group_keys(groups, len(total), labels)
    members: dict[Any, list[float]] = {}
    for key, c in zip(keys, total.tolist(), strict=True):
        members.setdefault(key, []).append(c)
    return {key: math.fsum(cs) for key, cs in members.items()}


def _group_keys(groups: Any, n: int, labels: Any) -> list[Any]:
    """A label per asset from a sequence, a Series or a mapping (by asset label)."""
    pd = _inputs._pandas()
    if isinstance(groups, Mapping):
        if labels is None:
            raise TypeError("groups as a mapping needs weights labelled by asset (a pandas Series)")
        missing = [x for x in labels if x not in groups]
        if missing:
            raise ValueError(f"groups has no label for the assets {missing[:5]!r}")
        keys = [groups[x] for x in labels]
    elif pd is not None and isinstance(groups, pd.Series):
        keys = (
            list(_aligned("groups", groups, labels).to_numpy())
            if labels is not None
            else list(groups)
        )
    else:
        if isinstance(groups, (str, bytes)) or not hasattr(groups, "__len__"):
            raise TypeError(f"groups must be a label per asset, not {type(groups).__name__}")
        keys = list(groups)
    if len(keys) != n:
        raise ValueError(f"groups has {len(keys)} labels for {n} assets")
    for key in keys:
        if isinstance(key, float) and math.isnan(key):
            raise ValueError("groups has a missing label (NaN)")
    return keys


# --- minimum tracking error -----------------------------------------------------


class Replication(NamedTuple):
    """What :func:`min_tracking_error` found."""

    weights: Any  # per asset (a Series for labelled input)
    tracking_error: float  # at the weights, annualized as asked (ex post in-sample for returns)
    status: str  # 'optimal'
    solve_seconds: float
    iterations: int


def _daqp() -> Any:
    try:
        import daqp
    except ImportError:
        raise ImportError(
            "min_tracking_error needs the daqp QP solver: pip install 'trackerr[optimize]'"
        ) from None
    return daqp


def _bound(name: str, value: Any, n: int, labels: Any) -> _F:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        out = np.full(n, float(value))
    else:
        out = _real_vector(name, _aligned(name, value, labels))
        if len(out) != n:
            raise ValueError(f"{name} has {len(out)} values for {n} assets")
    if np.any(np.isnan(out)):
        raise ValueError(f"{name} has a NaN")
    return out


def min_tracking_error(
    returns: Any = None,
    benchmark: Any = None,
    *,
    cov: Any = None,
    benchmark_weights: Any = None,
    lower: Any = 0.0,
    upper: Any = 1.0,
    budget: float = 1.0,
    groups: Any = None,
    group_caps: Mapping[Any, Any] | None = None,
    current: Any = None,
    turnover: float | None = None,
    periods_per_year: float | str | None = None,
) -> Replication:
    r"""Weights with the least tracking error, by a quadratic program.

    From returns (a T x N array or DataFrame of the assets' periodic
    returns and the benchmark's length-T returns), the ex-post tracking
    error of the portfolio on that window is minimised:

    .. math:: \min_w\; w^\top S w - 2 w^\top c, \qquad S = \operatorname{cov}(R),\;
              c = \operatorname{cov}(R, b),

    (the variance of :math:`R w - b` less the benchmark's own); from ``cov``
    and ``benchmark_weights``, the ex-ante tracking error
    (:math:`c = S w_b`). Subject to ``lower <= w <= upper`` (numbers or one
    per asset; the default is long-only), :math:`\sum_i w_i` = ``budget``
    and, with ``groups`` (a label per asset, as for :func:`contributions`)
    and ``group_caps`` (label -> the most the group may hold, or a pair
    (least, most)), the groups' total weights; with ``current`` weights and
    ``turnover``, :math:`\sum_i |w_i - w^{0}_i| \le` ``turnover`` (by extra
    variables :math:`t_i \ge |w_i - w^0_i|`, so the QP doubles in size).

    The QP goes to daqp (a dual active-set solver, MIT; ``pip install
    'trackerr[optimize]'``) with the objective scaled by the mean variance so
    that its tolerances mean the same at any scale of returns. Infeasible
    bounds (their sum cannot meet the budget) are a ValueError saying so.

    Returns
    -------
    Replication: ``weights``, ``tracking_error`` (ex post on the returns, or
    ex ante, annualized with ``periods_per_year``), ``status``,
    ``solve_seconds``, ``iterations``.
    """
    labels: Any = None
    pd = _inputs._pandas()
    if returns is not None:
        if cov is not None or benchmark_weights is not None:
            raise ValueError("give returns and benchmark, or cov and benchmark_weights, not both")
        if benchmark is None:
            raise ValueError("returns needs the benchmark's returns (benchmark=)")
        if pd is not None and isinstance(returns, pd.DataFrame):
            labels = returns.columns
            if isinstance(benchmark, pd.Series):
                returns, benchmark = returns.align(benchmark, join="inner", axis=0)
            returns = returns.to_numpy(dtype=np.float64)
        r = np.asarray(returns, dtype=np.float64)
        bvec = np.asarray(benchmark, dtype=np.float64)
        if r.ndim != 2 or bvec.ndim != 1 or r.shape[0] != bvec.shape[0]:
            raise ValueError(
                f"returns must be T x N and benchmark length T; got {r.shape} and {bvec.shape}"
            )
        if r.shape[0] < 2:
            raise ValueError("returns needs at least 2 periods")
        if not (np.all(np.isfinite(r)) and np.all(np.isfinite(bvec))):
            raise ValueError("returns and benchmark must be finite (drop or fill missing periods)")
        joint = np.cov(np.column_stack([r, bvec]), rowvar=False)
        s_mat = (joint[:-1, :-1] + joint[:-1, :-1].T) / 2
        c = joint[:-1, -1]
        var_b = float(joint[-1, -1])
    else:
        if cov is None or benchmark_weights is None:
            raise ValueError("give returns and benchmark, or cov and benchmark_weights")
        labels = _labels(benchmark_weights)
        wb = _real_vector("benchmark_weights", benchmark_weights)
        op = _Cov(cov, len(wb), labels)
        if op.s is None:
            op_s = op.b @ op.f @ op.b.T + np.diag(op.d)
            s_mat = (op_s + op_s.T) / 2
        else:
            s_mat = op.s
        c = s_mat @ wb
        var_b = float(wb @ c)
    n = s_mat.shape[0]
    lo = _bound("lower", lower, n, labels)
    hi = _bound("upper", upper, n, labels)
    budget = _options.real("budget", budget)
    if np.any(lo > hi):
        i = int(np.flatnonzero(lo > hi)[0])
        raise ValueError(f"lower (={lo[i]!r}) is above upper (={hi[i]!r}) for asset {i}")
    if math.fsum(lo.tolist()) > budget or math.fsum(hi.tolist()) < budget:
        raise ValueError(
            f"the bounds cannot meet the budget: weights between sum(lower) = {lo.sum():g} and "
            f"sum(upper) = {hi.sum():g}, budget {budget:g}"
        )
    daqp = _daqp()
    scale = float(np.mean(np.diag(s_mat)))
    scale = 1.0 / scale if scale > 0 else 1.0
    h = np.ascontiguousarray(s_mat * scale)
    f = np.ascontiguousarray(-c * scale)
    rows, row_lo, row_hi = [np.ones(n)], [budget], [budget]
    for member, least, most in _group_rows(groups, group_caps, n, labels):
        rows.append(member)
        row_lo.append(least)
        row_hi.append(most)
    a_rows = np.vstack(rows)
    var_hi = np.where(np.isinf(hi), 1e30, hi)
    var_lo = np.where(np.isinf(lo), -1e30, lo)
    row_hi_a = np.minimum(row_hi, 1e30)
    row_lo_a = np.maximum(row_lo, -1e30)
    if turnover is not None or current is not None:
        if turnover is None or current is None:
            raise ValueError(
                "turnover needs current (the weights held now), and current needs turnover"
            )
        limit = _options.real("turnover", turnover)
        if not limit >= 0:
            raise ValueError(f"turnover (={turnover!r}) must be at least 0")
        w0 = _real_vector("current", _aligned("current", current, labels))
        if len(w0) != n:
            raise ValueError(f"current has {len(w0)} weights for {n} assets")
        # variables [w, t]: w - t <= w0, -w - t <= -w0 (t >= |w - w0|), sum t <= limit
        eye = np.eye(n)
        a_rows = np.vstack(
            [
                np.hstack([a_rows, np.zeros((len(rows), n))]),
                np.hstack([eye, -eye]),
                np.hstack([-eye, -eye]),
                np.concatenate([np.zeros(n), np.ones(n)])[None, :],
            ]
        )
        row_hi_a = np.concatenate([row_hi_a, w0, -w0, [limit]])
        row_lo_a = np.concatenate([row_lo_a, np.full(2 * n + 1, -1e30)])
        var_hi = np.concatenate([var_hi, np.full(n, 1e30)])
        var_lo = np.concatenate([var_lo, np.zeros(n)])
        h = np.block([[h, np.zeros((n, n))], [np.zeros((n, n)), np.zeros((n, n))]])
        f = np.concatenate([f, np.zeros(n)])
    m = len(var_hi)
    upper_all = np.concatenate([var_hi, row_hi_a])
    lower_all = np.concatenate([var_lo, row_lo_a])
    sense = np.zeros(len(upper_all), dtype=np.int32)
    sense[m] = 5  # the budget: an equality
    t0 = time.perf_counter()
    x, _, flag, info = daqp.solve(
        np.ascontiguousarray(h),
        np.ascontiguousarray(f),
        np.ascontiguousarray(a_rows),
        upper_all,
        lower_all,
        sense,
    )
    seconds = time.perf_counter() - t0
    if flag == -1:
        raise ValueError(
            "no weights meet the bounds, the budget, the group caps and the turnover limit "
            "together (infeasible)"
        )
    if flag != 1:
        raise RuntimeError(f"daqp did not find the optimum (exit flag {flag})")
    w = np.clip(np.asarray(x, dtype=np.float64)[:n], lo, hi)
    te2 = max(float(w @ s_mat @ w - 2.0 * (w @ c) + var_b), 0.0)
    te = math.sqrt(te2) * math.sqrt(_scale(periods_per_year))
    weights: Any = w if labels is None or pd is None else pd.Series(w, index=labels, name="weight")
    return Replication(weights, te, "optimal", seconds, int(info.get("iterations", 0)))


def _group_rows(
    groups: Any, caps: Mapping[Any, Any] | None, n: int, labels: Any
) -> list[tuple[_F, float, float]]:
    """(indicator of the group's assets, least, most) for each capped group."""
    if caps is None:
        if groups is not None:
            raise ValueError("groups needs group_caps (label -> cap) here")
        return []
    if groups is None:
        raise ValueError("group_caps needs groups (a label per asset)")
    if not isinstance(caps, Mapping):
        raise TypeError(f"group_caps must be a mapping of label -> cap, not {type(caps).__name__}")
    keys = _group_keys(groups, n, labels)
    out = []
    for label, cap in caps.items():
        member = np.array([k == label for k in keys], dtype=np.float64)
        if not member.any():
            raise ValueError(f"group_caps names {label!r}, which no asset belongs to")
        if isinstance(cap, tuple):
            if len(cap) != 2:
                raise ValueError(f"group_caps[{label!r}] must be a cap or a pair (least, most)")
            least = _options.real(f"group_caps[{label!r}]", cap[0])
            most = _options.real(f"group_caps[{label!r}]", cap[1])
        else:
            least, most = -math.inf, _options.real(f"group_caps[{label!r}]", cap)
        if least > most:
            raise ValueError(f"group_caps[{label!r}]: least (={least!r}) is above most (={most!r})")
        out.append((member, least, most))
    return out
