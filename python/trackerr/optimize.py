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

from . import _assets, _estimators, _fullsample, _inputs, _options, _replicate
from ._estimators import COVARIANCE_METHODS, BlackLitterman, black_litterman, covariance

__all__ = [
    "COVARIANCE_METHODS",
    "BlackLitterman",
    "Contributions",
    "FactorCovariance",
    "Replication",
    "black_litterman",
    "contributions",
    "covariance",
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


class _Cov:
    """S as a product: S a for a vector a, from a matrix or a factor model."""

    def __init__(self, cov: Any, n: int, labels: Any) -> None:
        if isinstance(cov, FactorCovariance):
            b = cov.loadings
            if labels is not None and _assets.labels(b) is not None:
                b = _assets.aligned("cov.loadings", b, labels)
            loadings = (
                np.asarray(b, dtype=np.float64) if _assets.labels(b) is None else b.to_numpy(float)
            )
            if loadings.ndim != 2 or loadings.shape[0] != n:
                raise ValueError(
                    f"cov.loadings has shape {loadings.shape}; expected {n} x K (one row per asset)"
                )
            k = loadings.shape[1]
            self.b = _assets.real_matrix("cov.loadings", loadings, (n, k))
            self.f = _assets.real_matrix("cov.factor_cov", cov.factor_cov, (k, k))
            d = cov.specific
            if labels is not None and _assets.labels(d) is not None:
                d = _assets.aligned("cov.specific", d, labels)
            self.d = _assets.real_vector("cov.specific", d)
            if len(self.d) != n:
                raise ValueError(f"cov.specific has {len(self.d)} values; expected {n}")
            if np.any(self.d < 0):
                i = int(np.flatnonzero(self.d < 0)[0])
                raise ValueError(f"cov.specific has a negative variance {self.d[i]!r} at {i}")
            _assets.symmetric("cov.factor_cov", self.f)
            self.s: _F | None = None
            return
        pd = _inputs._pandas()
        if pd is not None and isinstance(cov, pd.DataFrame):
            if labels is not None:
                cov = _assets.aligned("cov", cov, labels)
                if not cov.columns.is_unique or set(cov.columns) != set(labels):
                    raise ValueError("cov's columns must be the weights' assets, as its index")
                cov = cov[labels]
            cov = cov.to_numpy(dtype=np.float64)
        self.s = _assets.real_matrix("cov", cov, (n, n))
        _assets.symmetric("cov", self.s)

    def times(self, a: _F) -> _F:
        if self.s is not None:
            out: _F = self.s @ a
            return out
        factored: _F = self.b @ (self.f @ (self.b.T @ a)) + self.d * a
        return factored

    def size(self, a: _F) -> float:
        """sum_ij |a_i| |S_ij| |a_j|: the scale of a'Sa's rounding errors."""
        m = np.abs(a)
        if self.s is not None:
            return float(m @ (np.abs(self.s) @ m))
        b = np.abs(self.b)
        return float(m @ (b @ (np.abs(self.f) @ (b.T @ m))) + m @ (self.d * m))


def _active(weights: Any, benchmark_weights: Any, cov: Any) -> tuple[_F, _Cov, Any]:
    labels = _assets.labels(weights)
    w = _assets.real_vector("weights", weights)
    if benchmark_weights is None:
        wb = np.zeros_like(w)
    else:
        wb = _assets.real_vector(
            "benchmark_weights", _assets.aligned("benchmark_weights", benchmark_weights, labels)
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
    bound = 1e-12 * cov.size(a)
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
            list(_assets.aligned("groups", groups, labels).to_numpy())
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

    weights: Any  # per asset (a Series for labelled input); with lots the rest is cash
    tracking_error: float  # ex ante: from the covariance used, annualized as asked
    ex_post: float | None  # realised on the input returns (None from cov)
    contributions: Contributions  # of each asset (and of the benchmark, from returns)
    names: int  # the number of names held
    units: Any  # whole units per asset with lots (else None)
    status: str  # 'optimal', 'heuristic' or 'exact'
    objective: float  # lambda TE^2 - expected active return + costs, as minimised
    solve_seconds: float
    iterations: int  # daqp's iterations, over all the solves


_METHODS = ("heuristic", "exact")
_POLISH_NAMES = 100  # the heuristic ends with a branch and bound up to this many names
_POLISH_NODES = 400  # of at least this many QPs (more for fewer names: they are cheaper)


def _bound(name: str, value: Any, n: int, labels: Any) -> _F:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        out = np.full(n, float(value))
    else:
        out = _assets.real_vector(name, _assets.aligned(name, value, labels))
        if len(out) != n:
            raise ValueError(f"{name} has {len(out)} values for {n} assets")
    if np.any(np.isnan(out)):
        raise ValueError(f"{name} has a NaN")
    return out


def _per_asset(name: str, value: Any, n: int, labels: Any, *, positive: bool = False) -> _F:
    """A finite number, or one per asset (a Series matched by label)."""
    out = _bound(name, value, n, labels)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite")
    bad = out <= 0 if positive else out < 0
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        word = "above 0" if positive else "at least 0"
        raise ValueError(f"{name} must be {word}; got {out[i]!r} for asset {i}")
    return out


def _count(name: str, value: Any, n: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 1 <= int(value):
        raise ValueError(f"{name} (={value!r}) must be at least 1")
    return min(int(value), n)


def min_tracking_error(
    returns: Any = None,
    benchmark: Any = None,
    *,
    cov: Any = None,
    benchmark_weights: Any = None,
    estimator: str = "sample",
    halflife: float | None = None,
    lower: Any = 0.0,
    upper: Any = 1.0,
    budget: float = 1.0,
    groups: Any = None,
    group_caps: Mapping[Any, Any] | None = None,
    current: Any = None,
    turnover: float | None = None,
    costs: Any = None,
    expected_returns: Any = None,
    risk_aversion: float = 1.0,
    max_names: int | None = None,
    min_names: int | None = None,
    min_position: float | None = None,
    prices: Any = None,
    capital: float | None = None,
    lot_sizes: Any = 1.0,
    method: str = "heuristic",
    periods_per_year: float | str | None = None,
) -> Replication:
    r"""Weights with the least tracking error, under real constraints.

    The objective, with :math:`TE^2 = P\,(w - w_b)^\top S (w - w_b)` (or, from
    returns, :math:`P \operatorname{var}(R w - b)` under the estimated
    covariance), :math:`P` the periods per year (1 when None):

    .. math:: \min_w\; \lambda\,TE^2 \;-\; \mu^\top w \;+\; \kappa^\top |w - w^0|

    where :math:`\lambda` is ``risk_aversion``, :math:`\mu` the
    ``expected_returns`` (so :math:`\mu^\top w` is the expected active return
    up to the benchmark's own, a constant) and :math:`\kappa` the linear
    trading ``costs`` per unit of weight traded from the ``current`` weights
    :math:`w^0`. :math:`\mu` and :math:`\kappa` are in the units of the
    returns annualized as TE is (with ``periods_per_year``); without them
    :math:`\lambda` does not matter and the tracking error alone is
    minimised.

    Constraints: ``lower <= w <= upper`` (numbers, or one per asset; the
    default is long-only), :math:`\sum_i w_i` = ``budget``; ``groups`` (a
    label per asset) with ``group_caps`` (label -> the most the group may
    hold, or a pair (least, most)); ``turnover``, :math:`\sum_i |w_i - w^0_i|
    \le` ``turnover`` (needs ``current``); ``max_names`` and ``min_names``,
    the most and fewest names held (a name is held at a weight above 1e-9);
    ``min_position``, the least weight of a held name (``min_names`` needs
    it); whole lots, given ``prices`` (per asset) and ``capital``: weights
    are whole multiples of ``lot_sizes`` units (default 1) times the price
    over the capital, the budget becomes a most and the rest is cash (0
    return).

    How it is solved:

    * The convex problem is a quadratic program for daqp (a dual active-set
      solver, MIT; ``pip install 'trackerr[optimize]'``), the objective
      divided by its scale (the mean variance, or the largest expected
      return or cost) so that tolerances mean the same at any scale;
      absolute values through variables :math:`t_i \ge |w_i - w^0_i|`;
      names fixed at 0 by their bounds left out. Every answer is checked
      against the constraints (to 1e-9) and a bad one re-solved with full
      proximal regularisation (daqp can miss on a singular covariance).
    * Cardinality and minimum positions (``method='heuristic'``): solve on all
      names; keep the larger names and re-solve on them until at most
      ``max_names`` remain (two ways: halving the excess, and dropping a
      tenth of it at a time); from each, add-and-drop moves (add one of the
      outsiders the objective's gradient ranks best, re-solve, drop one of
      the smallest) while the objective falls; then 12 regrowths from the
      best (the QP on its names and the 1, 2, 4 or 8 x ``max_names``
      outsiders the gradient ranks best, shrunk back, moves again) and, up to
      32 names, 16 seeded random restarts (the result is reproducible). On
      universes of up to 100 names a few hundred nodes of the branch and
      bound below follow, which can improve the answer and, when the tree is
      exhausted, prove it optimal (``status`` 'exact').
    * Lots: round the weights down to whole lots, then move one lot (or one
      lot from one name to another) at a time while the objective falls.
    * ``method='exact'``: depth-first branch and bound over names held or
      not (and lot counts), each node a QP on daqp with the integer
      constraints relaxed, which bounds every solution below it; the search's
      answer is the first incumbent. Exact, and exponential in the worst
      case: for small universes (measured: 50 names, 10 held, factor-model
      returns, 1.6 s; 20 i.i.d. names, 6 held, 3 s; 25 i.i.d. names, 8 held,
      gives up after 200,000 QPs with a ValueError).

    ``returns`` is a T x N array or DataFrame of the assets' periodic
    returns and ``benchmark`` the benchmark's (length T; a Series is aligned
    on the dates); the covariance of [R, b] is estimated by ``estimator``
    (see :func:`covariance`: 'sample', 'ledoit_wolf', 'ewma' with
    ``halflife``). Or give ``cov`` (N x N, or a :class:`FactorCovariance`,
    formed here) and ``benchmark_weights``.

    Returns
    -------
    Replication: ``weights``, ``tracking_error`` (ex ante under the covariance
    used), ``ex_post`` (the realised tracking error of the weights on the
    input returns; None from ``cov``), ``contributions`` (Euler's, see
    :func:`contributions`; from returns the benchmark's own position is
    an entry of its own, labelled by the benchmark Series' name or
    'benchmark', and with ``groups`` a group of its own), ``names``,
    ``units``, ``status`` ('optimal' for the convex problem, 'heuristic' or
    'exact'), ``objective``, ``solve_seconds``, ``iterations``.

    Raises ValueError for constraints no weights can meet, saying which.
    """
    t0 = time.perf_counter()
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}")
    labels: Any = None
    pd = _inputs._pandas()
    r = bvec = None
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
        joint = np.asarray(
            _estimators.covariance(np.column_stack([r, bvec]), method=estimator, halflife=halflife),
            dtype=np.float64,
        )
        s_mat = joint[:-1, :-1]
        c = joint[:-1, -1]
        var_b = float(joint[-1, -1])
    else:
        if cov is None or benchmark_weights is None:
            raise ValueError("give returns and benchmark, or cov and benchmark_weights")
        if estimator != "sample" or halflife is not None:
            raise ValueError("estimator and halflife are for returns; cov is already an estimate")
        labels = _assets.labels(benchmark_weights)
        wb = _assets.real_vector("benchmark_weights", benchmark_weights)
        op = _Cov(cov, len(wb), labels)
        if op.s is None:
            op_s = op.b @ op.f @ op.b.T + np.diag(op.d)
            s_mat = (op_s + op_s.T) / 2
        else:
            s_mat = op.s
        joint = None
        c = s_mat @ wb
        var_b = float(wb @ c)
    n = s_mat.shape[0]
    periods = _scale(periods_per_year)
    lo = _bound("lower", lower, n, labels)
    hi = _bound("upper", upper, n, labels)
    budget = _options.real("budget", budget)
    if np.any(lo > hi):
        i = int(np.flatnonzero(lo > hi)[0])
        raise ValueError(f"lower (={lo[i]!r}) is above upper (={hi[i]!r}) for asset {i}")
    lots = prices is not None or capital is not None
    if not lots and (math.fsum(lo.tolist()) > budget or math.fsum(hi.tolist()) < budget):
        raise ValueError(
            f"the bounds cannot meet the budget: weights between sum(lower) = {lo.sum():g} and "
            f"sum(upper) = {hi.sum():g}, budget {budget:g}"
        )
    w0 = limit = kappa = mu = None
    if current is not None:
        w0 = _assets.real_vector("current", _assets.aligned("current", current, labels))
        if len(w0) != n:
            raise ValueError(f"current has {len(w0)} weights for {n} assets")
    if turnover is not None:
        limit = _options.real("turnover", turnover)
        if not limit >= 0:
            raise ValueError(f"turnover (={turnover!r}) must be at least 0")
    if costs is not None:
        kappa = _per_asset("costs", costs, n, labels)
    if w0 is None and (limit is not None or kappa is not None):
        raise ValueError("turnover and costs need current (the weights held now)")
    if w0 is not None and limit is None and kappa is None:
        raise ValueError("current needs turnover or costs (what to limit or charge)")
    if expected_returns is not None:
        mu = _bound("expected_returns", expected_returns, n, labels)
        if not np.all(np.isfinite(mu)):
            raise ValueError("expected_returns must be finite")
    lam = _options.real("risk_aversion", risk_aversion)
    if not (lam > 0 and math.isfinite(lam)):
        raise ValueError(f"risk_aversion (={risk_aversion!r}) must be a finite number above 0")
    most = _count("max_names", max_names, n)
    fewest = _count("min_names", min_names, n)
    least = 0.0
    if min_position is not None:
        least = _options.real("min_position", min_position)
        if not (least > 0 and math.isfinite(least)):
            raise ValueError(f"min_position (={min_position!r}) must be a finite number above 0")
        if np.any(lo < 0):
            raise ValueError("min_position is for long positions: lower must be at least 0")
    if fewest is not None and least == 0.0:
        raise ValueError("min_names needs min_position (the least weight that counts as held)")
    if most is not None and fewest is not None and fewest > most:
        raise ValueError(f"min_names (={fewest}) is above max_names (={most})")
    units = None
    if lots:
        if prices is None or capital is None:
            raise ValueError("whole lots need both prices (per asset) and capital")
        cap = _options.real("capital", capital)
        if not (cap > 0 and math.isfinite(cap)):
            raise ValueError(f"capital (={capital!r}) must be a finite number above 0")
        price = _per_asset("prices", prices, n, labels, positive=True)
        lot = _per_asset("lot_sizes", lot_sizes, n, labels, positive=True)
        if np.any(lo < 0):
            raise ValueError("whole lots are for long positions: lower must be at least 0")
        units = lot * price / cap
    elif not (isinstance(lot_sizes, numbers.Real) and float(lot_sizes) == 1.0):
        raise ValueError("lot_sizes needs prices and capital")
    problem = _replicate.Problem(
        s_mat,
        c,
        var_b,
        lo,
        hi,
        budget,
        _group_rows(groups, group_caps, n, labels),
        w0=w0,
        limit=limit,
        costs=kappa,
        alpha=None if mu is None else mu,
        weight=lam * periods,
        cash=lots,
    )
    names = _replicate.Names(most or n, fewest or 0, least)
    integer = most is not None or fewest is not None or least > 0
    count = None
    try:
        try:
            if integer:
                obj, w = _replicate.support_search(problem, names)
                status = "heuristic"
            else:
                # names fixed at 0 (upper = lower = 0) stay out of the QP: its setup is cubic
                w_opt = problem.solve(
                    np.flatnonzero((hi > _replicate.HELD) | (lo < -_replicate.HELD))
                )
                if w_opt is None:
                    raise _replicate.Infeasible(
                        "the bounds, the budget, the group caps and the turnover limit together"
                    )
                w, obj, status = w_opt, problem.objective(w_opt), "optimal"
            if lots:
                assert units is not None
                obj, w, count = _replicate.lot_search(problem, w, units, names)
                status = "heuristic"
            start: tuple[float, Any] | None = (obj, w)
        except _replicate.Infeasible:
            if method != "exact" or not (integer or lots):
                raise
            start = None  # the search found nothing: the exact mode may
        if method == "exact" and (integer or lots):
            obj, w, _ = _replicate.branch_and_bound(problem, names, units, start)
            status, count = "exact", None
        elif (integer or lots) and start is not None and len(problem.free()) <= _POLISH_NAMES:
            # a small universe: a few hundred nodes of the branch and bound often
            # improve on the search (and, when it finishes, prove the optimum)
            obj, w, proven = _replicate.branch_and_bound(
                problem,
                names,
                units,
                start,
                limit=max(_POLISH_NODES, 20_000 // max(len(problem.free()), 1)),
                partial=True,
            )
            status = "exact" if proven else "heuristic"
            count = None
    except _replicate.Infeasible as exc:
        raise ValueError(f"no weights meet {exc} (infeasible)") from None
    seconds = time.perf_counter() - t0
    if joint is not None:
        assert r is not None and bvec is not None
        w_all: Any = np.append(w, 0.0)
        b_all: Any = np.zeros(n + 1)
        b_all[-1] = 1.0
        joint_all: Any = joint
        own: Any = "benchmark"
        if labels is not None and pd is not None:
            named = benchmark.name if isinstance(benchmark, pd.Series) else None
            own = "benchmark" if named is None or named in labels else named
            names_all = pd.Index([*labels, own])
            w_all = pd.Series(w_all, index=names_all)
            b_all = pd.Series(b_all, index=names_all)
            joint_all = pd.DataFrame(joint, index=names_all, columns=names_all)
        # groups: each asset's label, and the benchmark's own position as a group of its own
        keys = None if groups is None else [*_group_keys(groups, n, labels), own]
        parts = contributions(
            w_all, b_all, joint_all, groups=keys, periods_per_year=periods_per_year
        )
        ex_post = float(_fullsample.tracking_error(r @ w, bvec, periods_per_year=periods_per_year))
    else:
        parts = contributions(
            pd.Series(w, index=labels) if labels is not None and pd is not None else w,
            benchmark_weights,
            cov,
            groups=groups,
            periods_per_year=periods_per_year,
        )
        ex_post = None
    te = parts.tracking_error
    if count is None and units is not None:
        count = np.round(w / units).astype(np.int64)
    held_units = None if units is None or count is None else count * lot
    weights: Any = w
    if labels is not None and pd is not None:
        weights = pd.Series(w, index=labels, name="weight")
        if held_units is not None:
            held_units = pd.Series(held_units, index=labels, name="units")
    return Replication(
        weights,
        te,
        ex_post,
        parts,
        int(np.count_nonzero(np.abs(w) > _replicate.HELD)),
        held_units,
        status,
        obj,
        seconds,
        problem.iterations,
    )


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
