r"""The search behind :func:`trackerr.optimize.min_tracking_error`.

A :class:`Problem` holds one replication problem in per-period units:

.. math::

    \min_w\; O(w) = \lambda P\,(w^\top S w - 2 w^\top c + v_b)
                  - \alpha^\top w + \kappa^\top |w - w^0|

(:math:`\lambda` the risk aversion, :math:`P` the periods per year, so the
first term is :math:`\lambda\,TE^2` annualized; :math:`\alpha` expected
returns, :math:`\kappa` linear trading costs) subject to bounds, the budget,
group rows and a turnover limit. Its convex part always goes to daqp; the
mixed-integer parts are searched around it:

* :meth:`Problem.solve` solves the QP on a subset of the names (the others
  held at 0), which is what every search step needs: a support of 20 names
  is a 20-variable QP however many names the universe has.
* :func:`support_search` (cardinality, minimum position): solve on all names,
  keep the larger half and re-solve until at most ``max_names`` remain, then
  swap names in (ranked by the objective's reduced gradient) and out (ranked
  by weight) while the objective falls.
* :func:`branch_and_bound` the exact answer, for small universes and for
  measuring the search's gap: depth-first over names in or out (and lot
  counts), each node's QP bounding the solutions below it.
* :func:`lot_search` whole lots: round the continuous weights down to lots,
  then move one lot, or one lot from one name to another, while the
  objective falls (each move's change is computed in O(1) from S w).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

_F = npt.NDArray[np.float64]
_I = npt.NDArray[np.intp]
_BIG = 1e30  # daqp's "no bound"
HELD = 1e-9  # a weight larger than this in absolute value holds its name
PRIMAL_TOL = 1e-11  # daqp's constraint tolerance (its default, 1e-6, is loose for weights)


class Infeasible(Exception):
    """No weights meet the constraints (the message says which)."""


def _daqp() -> Any:
    try:
        import daqp
    except ImportError:
        raise ImportError(
            "min_tracking_error needs the daqp QP solver: pip install 'trackerr[optimize]'"
        ) from None
    return daqp


def _finite(x: _F) -> _F:
    out: _F = np.clip(x, -_BIG, _BIG)
    return out


@dataclass
class Problem:
    """One replication problem (see the module docstring)."""

    s: _F
    c: _F
    var_b: float
    lo: _F
    hi: _F
    budget: float
    rows: list[tuple[_F, float, float]]
    w0: _F | None = None
    limit: float | None = None
    costs: _F | None = None
    alpha: _F | None = None
    weight: float = 1.0
    cash: bool = False  # the budget is a most (lots: the rest is cash)
    iterations: int = 0
    solves: int = 0
    sigma: float = field(init=False)
    hs: float = field(init=False)
    f: _F = field(init=False)

    def __post_init__(self) -> None:
        diag = np.diag(self.s)
        mv = float(np.mean(diag)) if len(diag) else 0.0
        # daqp minimises x'Hx/2 + f'x: O(w) divided by sigma, the larger of the
        # quadratic's scale (2 weight mean variance) and the linear terms', so
        # that H and f are at most about 1 and daqp's tolerances mean the same
        # at any scale of returns, expected returns and costs
        sigma = 2.0 * self.weight * mv
        for linear in (self.alpha, self.costs):
            if linear is not None and len(linear):
                sigma = max(sigma, float(np.max(np.abs(linear))))
        self.sigma = sigma if sigma > 0 else 1.0
        self.hs = 2.0 * self.weight / self.sigma
        self.f = -self.c * self.hs
        if self.alpha is not None:
            self.f = self.f - self.alpha / self.sigma

    @property
    def n(self) -> int:
        return len(self.c)

    def variance(self, w: _F) -> float:
        """The per-period variance of the active returns at w (>= 0)."""
        on = np.flatnonzero(w)
        if 4 * len(on) < len(w):  # a few names: O(k^2), not O(N^2)
            x = w[on]
            quad = float(x @ (self.s[np.ix_(on, on)] @ x)) - 2.0 * float(x @ self.c[on])
        else:
            quad = float(w @ (self.s @ w)) - 2.0 * float(w @ self.c)
        return max(quad + self.var_b, 0.0)

    def objective(self, w: _F) -> float:
        out = self.weight * self.variance(w)
        if self.alpha is not None:
            out -= float(self.alpha @ w)
        if self.costs is not None and self.w0 is not None:
            out += float(self.costs @ np.abs(w - self.w0))
        return out

    def solve(self, on: _I, lo: _F | None = None, hi: _F | None = None) -> _F | None:
        """The QP's optimum with only the names `on` held (None: infeasible).

        `lo` and `hi` are the bounds of those names (default: the problem's).
        """
        n, k = self.n, len(on)
        lo = self.lo[on] if lo is None else lo
        hi = self.hi[on] if hi is None else hi
        off = np.ones(n, dtype=bool)
        off[on] = False
        h = self.s[np.ix_(on, on)] * self.hs
        f = self.f[on]
        rows = [np.ones(k)]
        row_lo = [-_BIG if self.cash else self.budget]
        row_hi = [self.budget]
        for member, least, most in self.rows:
            rows.append(member[on])
            row_lo.append(least)
            row_hi.append(most)
        a = np.vstack(rows)
        var_lo, var_hi = _finite(lo), _finite(hi)
        up, down = _finite(np.array(row_hi)), _finite(np.array(row_lo))
        if self.w0 is not None:
            w0 = self.w0[on]
            # variables [w, t]: t >= |w - w0|, costs on t, sum t within the limit
            eye = np.eye(k)
            blocks = [
                np.hstack([a, np.zeros((len(a), k))]),
                np.hstack([eye, -eye]),
                np.hstack([-eye, -eye]),
            ]
            up = np.concatenate([up, w0, -w0])
            down = np.concatenate([down, np.full(2 * k, -_BIG)])
            if self.limit is not None:
                spent = math.fsum(np.abs(self.w0[off]).tolist())
                blocks.append(np.concatenate([np.zeros(k), np.ones(k)])[None, :])
                up = np.concatenate([up, [self.limit - spent]])
                down = np.concatenate([down, [-_BIG]])
            a = np.vstack(blocks)
            var_lo = np.concatenate([var_lo, np.zeros(k)])
            var_hi = np.concatenate([var_hi, np.full(k, _BIG)])
            h = np.block([[h, np.zeros((k, k))], [np.zeros((k, k)), np.zeros((k, k))]])
            tf = np.zeros(k) if self.costs is None else self.costs[on] / self.sigma
            f = np.concatenate([f, tf])
        m = len(var_lo)
        sense = np.zeros(m + len(a), dtype=np.int32)
        if not self.cash:
            sense[m] = 5  # the budget: an equality
        args = (
            np.ascontiguousarray(h),
            np.ascontiguousarray(f),
            np.ascontiguousarray(a),
            np.concatenate([var_hi, up]),
            np.concatenate([var_lo, down]),
            sense,
        )
        x = None
        # daqp regularises a singular H only where it notices one; on a rank-
        # deficient covariance (fewer periods than names) it can return a point
        # off the constraints with exit flag 1. Every answer is checked, and a
        # bad one (or a stop such as cycling) re-solved with full proximal regularisation.
        for prox in (-1e-6, 1e-6):
            x, _, flag, info = _daqp().solve(*args, primal_tol=PRIMAL_TOL, eps_prox=prox)
            self.solves += 1
            self.iterations += int(info.get("iterations", 0))
            if flag == -1:
                return None
            x = np.asarray(x, dtype=np.float64)
            if flag in (1, 2) and _meets(x, a, var_lo, var_hi, down, up, sense):
                break
        else:
            raise Infeasible(
                f"the constraints to 1e-9: daqp stopped (exit flag {flag}) or broke them, also "
                "with full regularisation (a covariance this degenerate needs more periods)"
            )
        if float(np.max(np.abs(x[:k]), initial=0.0)) > 1e8 * max(1.0, abs(self.budget)):
            raise ValueError(
                "the objective has no minimum: with weights unbounded, the covariance is "
                "singular in a direction that the expected returns or costs reward without "
                "limit (give finite lower and upper bounds)"
            )
        w = np.zeros(n)
        w[on] = np.clip(x[:k], lo, hi)
        return w

    def free(self) -> _I:
        """The names that may be held (not fixed at 0 by their bounds)."""
        out: _I = np.flatnonzero((self.hi > HELD) | (self.lo < -HELD))
        return out

    def gradient(self, w: _F) -> _F:
        """dO/dw (costs by the side w is on; at w = w0 the buying side)."""
        g: _F = 2.0 * self.weight * (self.s @ w - self.c)
        if self.alpha is not None:
            g = g - self.alpha
        if self.costs is not None and self.w0 is not None:
            g = g + self.costs * np.where(w < self.w0, -1.0, 1.0)
        return g


def _meets(x: _F, a: _F, lo: _F, hi: _F, down: _F, up: _F, sense: Any) -> bool:
    """x within its bounds and the rows within theirs, to 1e-9 (scaled)."""
    tol = 1e-9 * max(1.0, float(np.max(np.abs(x), initial=0.0)))
    if np.any(x < lo - tol) or np.any(x > hi + tol):
        return False
    v = a @ x
    return bool(np.all(v >= down - tol) and np.all(v <= up + tol))


def held(w: _F) -> _I:
    out: _I = np.flatnonzero(np.abs(w) > HELD)
    return out


# --- cardinality and minimum position: a search over supports --------------------


@dataclass
class Names:
    """The integer side: at most/least this many names, each held at least `least`."""

    most: int
    fewest: int
    least: float  # the minimum position (0: none)


def _bounds_on(p: Problem, on: _I, names: Names) -> tuple[_F, _F]:
    lo = p.lo[on].copy()
    if names.least > 0:
        lo = np.maximum(lo, names.least)
    return lo, p.hi[on]


def _evaluate(p: Problem, on: _I, names: Names) -> tuple[float, _F] | None:
    on = np.sort(on)
    lo, hi = _bounds_on(p, on, names)
    if np.any(lo > hi):
        return None
    w = p.solve(on, lo, hi)
    if w is None:
        return None
    return p.objective(w), w


def support_search(p: Problem, names: Names, width: int = 8, rounds: int = 12) -> tuple[float, _F]:
    """Cardinality and minimum position: two shrinking starts (halving the
    excess, and dropping a tenth of it at a time), each improved by
    add-and-drop moves; then `rounds` regrowths from the best: the QP on its
    names and the 1, 2, 4 or 8 x max_names outsiders the gradient ranks best,
    shrunk back and improved again. The best support found."""
    can = np.flatnonzero((p.hi > HELD) | (p.lo < -HELD))
    must = np.flatnonzero((p.lo > HELD) | (p.hi < -HELD))
    if len(must) > names.most:
        raise Infeasible(
            f"{len(must)} names have a lower bound above 0 (they must be held), more than "
            f"max_names={names.most}"
        )
    if len(can) < names.fewest:
        raise Infeasible(f"only {len(can)} names may be held, fewer than min_names={names.fewest}")
    w = p.solve(can)
    if w is None:
        raise Infeasible("the bounds, budget, group caps and turnover limit")
    on = held(w)
    if names.fewest <= len(on) <= names.most and np.all(np.abs(w[on]) >= names.least):
        return p.objective(w), w  # the convex optimum meets the names: it is the optimum
    # the two starts end in different local optima: both are run
    starts = [_shrink(p, names, w, can, must, share) for share in (0.5, 0.1)]
    best = min((_local(p, names, got, can, must, width) for got in starts), key=lambda x: x[0])
    # regrowth: measured on 500 names, 20 held, 8 draws, it came within 0.2 % of a search
    # with 200 random restarts in 0.3-0.4 s, where random restarts gained little
    for k in range(rounds):
        obj, w, on = best
        pool = np.setdiff1d(can, on)
        if not len(pool):
            break
        g = p.gradient(w)
        grown = p.solve(
            np.union1d(
                on, pool[np.argsort(g[pool], kind="stable")][: (1, 2, 4, 8)[k % 4] * names.most]
            )
        )
        if grown is None:
            continue
        try:
            shrunk = _shrink(p, names, grown, can, must, (0.1, 0.5)[(k // 4) % 2])
        except Infeasible:
            continue
        got = _local(p, names, shrunk, can, must, width)
        if got[0] < obj - 1e-12 * abs(obj):
            best = got
    if len(can) <= 32:  # small universes: random restarts are cheap, and help there
        best = _kicks(p, names, best, can, must, width, 16)
    return best[0], best[1]


def _kicks(
    p: Problem,
    names: Names,
    best: tuple[float, _F, _I],
    can: _I,
    must: _I,
    width: int,
    kicks: int,
) -> tuple[float, _F, _I]:
    """Random restarts from the best: a quarter, half or three quarters of
    its names (drawn among the smaller) replaced by outsiders drawn among
    those the gradient ranks best, then add-and-drop moves. Seeded: the
    result is reproducible."""
    rng = np.random.default_rng(12)
    for kick in range(kicks):
        obj, w, on = best
        free = np.array([i for i in on[np.argsort(np.abs(w[on]), kind="stable")] if i not in must])
        pool = np.setdiff1d(can, on)
        size = min(len(free), len(pool), max(1, round(len(on) * (0.25, 0.5, 0.75)[kick % 3])))
        if size < 1:
            break
        g = p.gradient(w)
        ranked = pool[np.argsort(g[pool], kind="stable")]
        out = rng.choice(free[: max(2 * size, len(free) // 2)], size, replace=False)
        ins = rng.choice(ranked[: 3 * size], size, replace=False)
        trial = np.union1d(np.setdiff1d(on, out), ins)
        try:
            got = _local(p, names, _fit(p, trial, names, w, can, must), can, must, width)
        except Infeasible:
            continue
        if got[0] < obj - 1e-12 * abs(obj):
            best = got
    return best


def _shrink(
    p: Problem, names: Names, w: _F, can: _I, must: _I, share: float
) -> tuple[float, _F, _I]:
    """Keep the larger names (dropping `share` of those above names.most each
    time, at least one) and re-solve on them until at most names.most remain."""
    on = held(w)
    while True:
        if len(on) > names.most:
            key = np.abs(w[on]) + np.isin(on, must) * 1e30  # names that must stay, first
            keep = len(on) - max(1, int((len(on) - names.most) * share))
            on = on[np.argsort(-key, kind="stable")][:keep]
        obj, w, on = _fit(p, on, names, w, can, must)
        if names.least == 0 and len(held(w)) >= names.fewest:
            on = np.union1d(held(w), must)  # names the re-solve let go leave
        if len(on) <= names.most:
            return obj, w, on


def _local(
    p: Problem,
    names: Names,
    start: tuple[float, _F, _I],
    can: _I,
    must: _I,
    width: int,
    rounds: int = 100,
) -> tuple[float, _F, _I]:
    """Add-and-drop moves while the objective falls: for each of the `width`
    outsiders the gradient ranks best, solve with it added, then without each
    of the two smallest names (or keep it, below max_names); also plain drops
    above min_names. The best move of a round is taken."""
    obj, w, on = start
    keep = set(must.tolist())
    seen: set[tuple[int, ...]] = {tuple(np.sort(on).tolist())}

    def trial(support: _I) -> tuple[float, _F] | None:
        key = tuple(np.sort(support).tolist())
        if key in seen:
            return None
        seen.add(key)
        return _evaluate(p, support, names)

    for _ in range(rounds):
        g = p.gradient(w)
        inside = on[(w[on] > p.lo[on] + HELD) & (w[on] < p.hi[on] - HELD)]
        nu = float(np.median(g[inside if len(inside) else on])) if len(on) else 0.0
        pool = np.setdiff1d(can, on)
        moves: list[tuple[float, _F, _I]] = []
        light = [i for i in on[np.argsort(np.abs(w[on]), kind="stable")] if i not in keep][:6]
        for j in pool[np.argsort(g[pool] - nu, kind="stable")][:width]:
            grown = np.append(on, j)
            wide = _evaluate(p, grown, names)
            if wide is None:
                continue
            if len(grown) <= names.most:
                _push(moves, grown, wide)
            # drop one of the two smallest after the re-solve, or of the six smallest before
            small = [i for i in grown[np.argsort(np.abs(wide[1][grown]))] if i not in keep][:2]
            small += [i for i in light if i not in small]
            for i in small:
                support = grown[grown != i]
                _push(moves, support, trial(support))
        if len(on) > names.fewest:
            for i in [i for i in on[np.argsort(np.abs(w[on]))] if i not in keep][:2]:
                support = on[on != i]
                _push(moves, support, trial(support))
        found = min(moves, key=lambda m: m[0], default=None)
        if found is None or not found[0] < obj - 1e-12 * abs(obj):
            break
        obj, w, on = found
        if names.least == 0 and len(held(w)) >= names.fewest:
            on = np.union1d(held(w), must)  # a name the solve let go frees its slot
    return obj, w, on


def _fit(p: Problem, on: _I, names: Names, w: _F, can: _I, must: _I) -> tuple[float, _F, _I]:
    """Solve on the support `on`, repairing it when no weights fit: names
    leave (smallest first) while their minimum positions exceed the budget,
    and join (best gradient first) while too few names can reach it."""
    g = p.gradient(w)
    for _ in range(len(can) + 1):
        if len(on) < names.fewest or (
            not p.cash and math.fsum(p.hi[on].tolist()) < p.budget and len(on) < names.most
        ):
            pool = np.setdiff1d(can, on)
            if not len(pool):
                break
            on = np.append(on, pool[int(np.argmin(g[pool]))])
            continue
        got = _evaluate(p, on, names)
        if got is not None:
            return got[0], got[1], on
        floor = np.maximum(p.lo[on], names.least)
        if math.fsum(floor.tolist()) > p.budget and len(on) > max(names.fewest, len(must)):
            drop = [i for i in np.argsort(np.abs(w[on]), kind="stable") if on[i] not in must]
            on = np.delete(on, drop[0])
            continue
        break
    raise Infeasible(_why(p, names))


def _push(moves: list[tuple[float, _F, _I]], on: _I, got: tuple[float, _F] | None) -> None:
    if got is not None:
        moves.append((got[0], got[1], np.sort(on)))


def _why(p: Problem, names: Names) -> str:
    top = np.sort(p.hi)[::-1][: names.most]
    if names.most < p.n and math.fsum(top.tolist()) < p.budget - 1e-12 and not p.cash:
        return (
            f"max_names={names.most}: the {names.most} largest upper bounds sum to "
            f"{math.fsum(top.tolist()):g}, below the budget {p.budget:g}"
        )
    if names.least > 0 and names.fewest * names.least > p.budget + 1e-12:
        return (
            f"min_names={names.fewest} at min_position={names.least:g} need "
            f"{names.fewest * names.least:g}, above the budget {p.budget:g}"
        )
    return (
        f"max_names={names.most}, min_names={names.fewest} and min_position={names.least:g} "
        "with the bounds, budget, group caps and turnover limit"
    )


# --- the exact mode: branch and bound over names and lots ------------------------


def branch_and_bound(
    p: Problem,
    names: Names,
    units: _F | None = None,
    start: tuple[float, _F] | None = None,
    limit: int = 200_000,
    partial: bool = False,
) -> tuple[float, _F, bool]:
    """The optimum over supports (and whole lots when `units` are given), by
    depth-first branch and bound. A node fixes some names in (held, at least
    the minimum position) or out (0) and, with lots, bounds lot counts; its
    QP with the cardinality, the minimum positions of the free names and the
    integrality relaxed bounds every solution below it, so a node whose QP
    is no better than the best solution found is cut. `start` (the search's
    answer) is the first incumbent. Returns (objective, weights, proven);
    after `limit` QPs a ValueError, or with `partial` the best found so far
    (proven False)."""
    if np.any(p.lo < 0):
        raise ValueError("method='exact' needs lower bounds >= 0")
    state = np.where(p.hi > HELD, 0, -1)  # 0 free, 1 in, -1 out
    state[p.lo > HELD] = 1
    best_obj, best_w = start if start is not None else (math.inf, None)
    stack = [(p.lo.copy(), p.hi.copy(), state)]
    solved = 0
    while stack:
        lo, hi, st = stack.pop()
        inside = int(np.count_nonzero(st == 1))
        if inside > names.most or np.count_nonzero(st >= 0) < names.fewest:
            continue
        if inside == names.most:
            st = np.where(st == 0, -1, st)  # the names are all chosen: the rest are out
        on = np.flatnonzero(st >= 0)
        lo_on = lo[on].copy()
        if names.least > 0:
            lo_on = np.where(st[on] == 1, np.maximum(lo_on, names.least), lo_on)
        if units is not None:  # held names hold whole lots: round the floor up
            lo_on = np.ceil(lo_on / units[on] - 1e-9) * units[on]
        if np.any(lo_on > hi[on] + 1e-12):
            continue
        solved += 1
        if solved > limit:
            if best_w is None or not partial:
                raise ValueError(
                    f"method='exact' gave up after {limit} QPs (the search space is too large "
                    "for exact branch and bound); use method='heuristic'"
                )
            return best_obj, best_w, False  # the best found so far, not proven optimal
        w = p.solve(on, lo_on, np.maximum(hi[on], lo_on))
        if w is None:
            continue
        obj = p.objective(w)
        if obj >= best_obj - 1e-12 * max(abs(best_obj), 1e-300):
            continue  # nothing below this node beats the incumbent
        h = held(w)
        free = h[st[h] == 0]
        small = free[w[free] < names.least - 1e-12]
        count = len(h)
        frac = np.zeros(0, dtype=np.intp)
        if units is not None:
            k = w[h] / units[h]
            frac = h[np.abs(k - np.round(k)) > 1e-9]
        if names.fewest <= count <= names.most and not len(small) and not len(frac):
            best_obj, best_w = obj, w  # feasible: this node's optimum
            continue
        if count > names.most or len(small):
            pool = small if len(small) else free
            j = int(pool[np.argmax(w[pool])])
            children = [(j, -1), (j, 1)]  # the larger name held is tried first
        elif count < names.fewest:
            g = p.gradient(w)
            pool = np.flatnonzero((st == 0) & (np.abs(w) <= HELD))
            if not len(pool):
                continue
            j = int(pool[np.argmin(g[pool])])
            children = [(j, -1), (j, 1)]
        else:
            assert units is not None
            j = int(
                frac[np.argmax(np.abs(w[frac] / units[frac] - np.round(w[frac] / units[frac])))]
            )
            down = math.floor(w[j] / units[j]) * units[j]
            lo_up, hi_dn = lo.copy(), hi.copy()
            lo_up[j] = down + units[j]
            hi_dn[j] = down
            st_up = st.copy()
            st_up[j] = 1
            st_dn = st.copy()
            if down <= 0:
                st_dn[j] = -1
            near_up = w[j] - down > units[j] / 2
            pair = [(lo, hi_dn, st_dn), (lo_up, hi, st_up)]
            stack.extend(pair if near_up else pair[::-1])  # the nearer side first
            continue
        for j_, side in children:
            child = st.copy()
            child[j_] = side
            stack.append((lo, hi, child))
    if best_w is None:
        raise Infeasible(_why(p, names))
    return best_obj, best_w, True


# --- whole lots: a local search on the lattice -------------------------------------


def lot_search(
    p: Problem, w: _F, units: _F, names: Names, steps: int = 100_000
) -> tuple[float, _F, npt.NDArray[np.int64]]:
    """Round w down to whole lots of weight `units`, then move single lots, and
    lots from one name to another, while the objective falls.

    The budget is a most (the rest is cash). Bounds, group rows, the turnover
    limit, the names' count and the minimum position hold after every move.
    """
    n = p.n
    hi_n = np.floor(np.minimum(p.hi, _BIG) / units + 1e-9)
    lo_n = np.ceil(np.maximum(p.lo, 0.0) / units - 1e-9)
    if np.any(lo_n > hi_n):
        i = int(np.flatnonzero(lo_n > hi_n)[0])
        raise Infeasible(f"no whole number of lots of asset {i} lies within its bounds")
    first = np.ceil(names.least / units - 1e-9) if names.least > 0 else np.zeros(n)
    first = np.maximum(first, 1.0)  # the fewest lots a held name holds
    k = np.clip(np.floor(w / units + 1e-9), lo_n, hi_n)
    k[(k > 0) & (k < first)] = 0.0
    k = np.maximum(k, np.where(lo_n > 0, np.maximum(lo_n, first), 0.0))
    g_rows = np.vstack([m for m, _, _ in p.rows]) if p.rows else np.zeros((0, n))
    g_lo = np.array([lo for _, lo, _ in p.rows])
    g_hi = np.array([hi for _, _, hi in p.rows])
    w = k * units
    while math.fsum(w.tolist()) > p.budget + 1e-12:
        i = int(np.argmax(np.where(k > lo_n, w, -1.0)))  # over budget: sell the largest
        k[i] -= 1
        if 0 < k[i] < first[i]:
            k[i] = 0
        w = k * units
    sw = p.s @ w
    diag = np.diag(p.s)
    wt = p.weight
    alpha = p.alpha if p.alpha is not None else np.zeros(n)
    costs = p.costs if p.costs is not None and p.w0 is not None else np.zeros(n)
    w0 = p.w0 if p.w0 is not None else np.zeros(n)
    allowed = (p.hi > HELD) & (hi_n >= 1)

    def deltas(kk: _F, sign: float) -> tuple[_F, _F]:
        """Per name, the lots moved (a held name's first lots move as one) and the weight."""
        if sign > 0:
            step = np.where(kk == 0, first, 1.0)
        else:
            step = np.where(kk == first, first, 1.0)
            step = np.where(kk == 0, 0.0, step)
        return step, sign * step * units

    def change(d: _F) -> _F:
        out: _F = wt * (2 * d * (sw - p.c) + d * d * diag) - alpha * d
        out = out + costs * (np.abs(w + d - w0) - np.abs(w - w0))
        return out

    def feasible(kk: _F, dk: _F) -> npt.NDArray[np.bool_]:
        after = kk + dk
        ok = (after >= lo_n) & (after <= hi_n) & ((after == 0) | (after >= first))
        ok &= ((dk > 0) & allowed) | (dk < 0)
        return np.asarray(ok, dtype=bool)

    for _ in range(steps):
        count = int(np.count_nonzero(k))
        total = math.fsum(w.tolist())
        spent = float(np.abs(w - w0).sum()) if p.limit is not None else 0.0
        up_k, up = deltas(k, 1.0)
        dn_k, dn = deltas(k, -1.0)
        gain_up, gain_dn = change(up), change(dn)
        ok_up = feasible(k, up_k) & (total + up <= p.budget + 1e-12)
        ok_up &= (k > 0) | (count < names.most)
        ok_dn = feasible(k, -dn_k) & ((k - dn_k > 0) | (count > names.fewest))
        ok_dn &= dn_k > 0
        if len(g_rows):
            now = g_rows @ w
            ok_up &= np.all(now[:, None] + g_rows * up <= g_hi[:, None] + 1e-12, axis=0)
            ok_up &= np.all(now[:, None] + g_rows * up >= g_lo[:, None] - 1e-12, axis=0)
            ok_dn &= np.all(now[:, None] + g_rows * dn <= g_hi[:, None] + 1e-12, axis=0)
            ok_dn &= np.all(now[:, None] + g_rows * dn >= g_lo[:, None] - 1e-12, axis=0)
        if p.limit is not None:
            ok_up &= spent + np.abs(w + up - w0) - np.abs(w - w0) <= p.limit + 1e-12
            ok_dn &= spent + np.abs(w + dn - w0) - np.abs(w - w0) <= p.limit + 1e-12
        best_gain = 0.0
        move: tuple[tuple[int, float, float], ...] | None = None
        cand = np.where(ok_up, gain_up, np.inf)
        i = int(np.argmin(cand))
        if cand[i] < best_gain:
            best_gain, move = cand[i], ((i, up_k[i], up[i]),)
        cand = np.where(ok_dn, gain_dn, np.inf)
        i = int(np.argmin(cand))
        if cand[i] < best_gain:
            best_gain, move = cand[i], ((i, -dn_k[i], dn[i]),)
        if move is None:
            move = _pair(p, k, w, up_k, up, dn_k, dn, gain_up, gain_dn, ok_up, ok_dn, names, w0)
        if move is None:
            break
        for i, dk, d in move:
            k[i] += dk
            w[i] = k[i] * units[i]
            sw += d * p.s[:, i]
    count = int(np.count_nonzero(k))
    if not (
        _lots_ok(p, w, names)
        and names.fewest <= count <= names.most
        and math.fsum(w.tolist()) <= p.budget + 1e-12
    ):
        raise Infeasible(
            "whole lots: the lot search found no whole-lot weights that meet the bounds, group "
            "caps, turnover limit and names together (method='exact' searches all, for small "
            "problems)"
        )
    return p.objective(w), w, k.astype(np.int64)


def _pair(
    p: Problem,
    k: _F,
    w: _F,
    up_k: _F,
    up: _F,
    dn_k: _F,
    dn: _F,
    gain_up: _F,
    gain_dn: _F,
    ok_up: npt.NDArray[np.bool_],
    ok_dn: npt.NDArray[np.bool_],
    names: Names,
    w0: _F,
) -> tuple[tuple[int, float, float], ...] | None:
    """The best improving pair (buy lots of i, sell lots of j), or None."""
    n = p.n
    # single moves that break only the budget or the count may pair up; bounds must hold
    buy = np.flatnonzero(up_k > 0)
    sell = np.flatnonzero(dn_k > 0)
    if not len(buy) or not len(sell):
        return None
    # the pair's gain: both single gains and the cross term 2 weight d_i d_j S_ij
    gain = gain_up[buy][:, None] + gain_dn[sell][None, :]
    gain = gain + 2 * p.weight * up[buy][:, None] * dn[sell][None, :] * p.s[np.ix_(buy, sell)]
    gain[buy[:, None] == sell[None, :]] = np.inf
    order = np.argsort(gain, axis=None)
    floor = -1e-15 * max(abs(p.objective(w)), 1e-300)
    for flat in order[: 4 * n]:
        bi, si = np.unravel_index(int(flat), gain.shape)
        if not gain[bi, si] < floor:
            return None
        i, j = int(buy[bi]), int(sell[si])
        trial = w.copy()
        trial[i] += up[i]
        trial[j] += dn[j]
        kk = k.copy()
        kk[i] += up_k[i]
        kk[j] -= dn_k[j]
        count = np.count_nonzero(kk)
        if (
            names.fewest <= count <= names.most
            and math.fsum(trial.tolist()) <= p.budget + 1e-12
            and _lots_ok(p, trial, names)
        ):
            return ((i, up_k[i], up[i]), (j, -dn_k[j], dn[j]))
    return None


def _lots_ok(p: Problem, w: _F, names: Names) -> bool:
    if np.any(w < p.lo - 1e-12) or np.any(w > p.hi + 1e-12):
        return False
    if names.least > 0 and np.any((w > 0) & (w < names.least - 1e-12)):
        return False
    for member, least, most in p.rows:
        v = float(member @ w)
        if v < least - 1e-12 or v > most + 1e-12:
            return False
    if p.limit is not None and p.w0 is not None:
        if float(np.abs(w - p.w0).sum()) > p.limit + 1e-12:
            return False
    return True
