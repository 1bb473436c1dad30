"""Minimum-tracking-error replication against skfolio, riskfolio-lib and PyPortfolioOpt (issue 12).

The problem: T = 756 daily returns of N = 50 and N = 500 assets from a factor
model (five factors, a market factor with loadings around 1, specific risk
of 0.5-2 % a day); long-only, budget 1, at most 10 % per asset, and a random
quarter of the names excluded (upper bound 0), so that the caps bind. The
benchmark is a fixed basket of all N assets (cap-like weights: a lognormal law
with sigma 2.5, normalised) plus a little noise (0.05 % a day), so the least
tracking error is above zero. The objective is the ex-post tracking error on
the window, the variance of ``R w - b``. The seed is a draw where the 10 % cap
binds at both sizes (trackerr's row says how many names sit at it): at N = 500
a lognormal basket rarely holds a name above 10 % that is not excluded.

Contenders, each posed as a user of that library would write it, setup
included in the timed call (inputs are converted to the type each library
takes outside it):

* trackerr: ``min_tracking_error(R, b, upper=caps, periods_per_year=252)``
  (a QP solved by daqp);
* skfolio: ``BenchmarkTracker(min_weights=0, max_weights=caps).fit(R, b)``
  (the standard deviation of the excess returns ``R - b``, budget 1, through
  cvxpy and its default solver, Clarabel);
* riskfolio-lib: ``Portfolio(returns=R - b, upperlng=0.10)`` with the excluded
  names as linear constraints (``ainequality`` rows ``w_i <= 0``),
  ``assets_stats('hist', 'hist')`` and ``optimization(model='Classic',
  rm='MV', obj='MinRisk')``: the variance of the active returns (with budget
  1, ``(R - b 1') w = R w - b``). riskfolio's own benchmark options
  (``kindbench``, ``benchindex``, ``allowTE``) only bound the tracking error
  as a constraint, they do not minimise it;
* PyPortfolioOpt: ``BaseConvexOptimizer(N, weight_bounds=(0, caps))`` and
  ``convex_objective(objective_functions.ex_post_tracking_error,
  historic_returns=R, benchmark_returns=b)``, as its documentation shows
  (through cvxpy and the solver cvxpy picks).

Per library and N: the median wall time over interleaved rounds
(``bench/race.py``), the tracking error its weights reach, computed the same
way for all (``std(R w - b, ddof=1) * sqrt(252)``), its gap to the best
among the weights that meet the constraints, the largest violation of the
constraints (bounds and budget; the weights must meet them to 1e-9) and the
ratio peer time / trackerr time (median of per-round ratios; above 1:
trackerr is faster). Solvers run at their defaults.

Cardinality (when ``min_tracking_error`` has ``max_names``): at most 20 names
of N = 500 and 10 of N = 50, against skfolio's ``cardinality=`` and riskfolio's
``card=`` (mixed-integer SOCPs: they need a mixed-integer solver such as SCIP,
MOSEK or Gurobi, given a 60 s time limit; without one the row says so).

Peers that are not installed are skipped with a note
(``pip install ".[bench-optimize]"`` installs them). BLAS is pinned to one
thread by ``bench/harness.py`` (``TRACKERR_BENCH_BLAS_THREADS`` changes it).

    python bench/optimize.py                          # ~30 s on a 2-core VM
    TRACKERR_BENCH_QUICK=1 python bench/optimize.py   # N = 50, 252 returns, seconds
"""

from __future__ import annotations

import inspect
import math
import platform
import sys
import time
import warnings
from collections.abc import Callable
from importlib import import_module, metadata
from pathlib import Path
from typing import Any, NamedTuple

# bench/ is not a package: its modules import each other by name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # first: pins BLAS before numpy loads

# isort: split

import numpy as np

import trackerr
from race import median, race, ratio
from trackerr.optimize import min_tracking_error

SEED = 20241222  # with SPREAD, a draw where the caps bind at both sizes (see the note column)
QUICK = harness.QUICK
PERIODS = 252
T = 252 if QUICK else 756
SIZES = (50,) if QUICK else (50, 500)
ROUNDS = 3 if QUICK else 7
CAP = 0.10
EXCLUDED = 0.25  # share of names with upper bound 0
SPREAD = 2.5  # sigma of the lognormal law of the benchmark's weights
MAX_NAMES = {50: 10, 500: 20}
TIME_LIMIT = 60.0  # seconds, for the peers' mixed-integer solves
TOL = 1e-9  # the constraints must hold to this
HELD = 1e-8  # a weight above this counts as a name held (cardinality)

# cvxpy solvers that take mixed-integer SOCPs, and how each is given a time limit
MI_SOCP = {
    "SCIP": {"scip_params": {"limits/time": TIME_LIMIT}},
    "GUROBI": {"TimeLimit": TIME_LIMIT},
    "MOSEK": {"mosek_params": {"MSK_DPAR_MIO_MAX_TIME": TIME_LIMIT}},
    "CPLEX": {"cplex_params": {"timelimit": TIME_LIMIT}},
    "XPRESS": {"maxtime": int(TIME_LIMIT)},
    "COPT": {"TimeLimit": TIME_LIMIT},
}

PEERS = {  # name -> (module to import, distribution for the version)
    "skfolio": ("skfolio", "skfolio"),
    "riskfolio-lib": ("riskfolio", "riskfolio-lib"),
    "PyPortfolioOpt": ("pypfopt", "pyportfolioopt"),
}


class Problem(NamedTuple):
    returns: np.ndarray  # T x N
    benchmark: np.ndarray  # T
    upper: np.ndarray  # N: CAP for held names, 0 for excluded ones
    frame: Any  # returns as a DataFrame (riskfolio), or None without pandas
    series: Any  # benchmark as a Series


def problem(n: int, t: int = T, seed: int = SEED) -> Problem:
    """Factor-model returns, a cap-like basket of all names plus noise, caps."""
    rng = np.random.default_rng([seed, n, t])
    k = 5
    factors = rng.normal(0.0, 1.0, (t, k)) * np.array([0.010, 0.005, 0.004, 0.003, 0.003])
    loadings = np.column_stack([rng.normal(1.0, 0.3, n), rng.normal(0.0, 1.0, (n, k - 1))])
    specific = rng.uniform(0.005, 0.02, n)
    r = factors @ loadings.T + rng.normal(0.0, 1.0, (t, n)) * specific
    basket = rng.lognormal(0.0, SPREAD, n)
    basket /= basket.sum()
    b = r @ basket + rng.normal(0.0, 0.0005, t)
    upper = np.full(n, CAP)
    upper[rng.choice(n, round(EXCLUDED * n), replace=False)] = 0.0
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - depends on the environment
        return Problem(r, b, upper, None, None)
    names = [f"A{i:03d}" for i in range(n)]
    return Problem(r, b, upper, pd.DataFrame(r, columns=names), pd.Series(b, name="benchmark"))


def tracking_error(p: Problem, w: np.ndarray) -> float:
    """Annualised ex-post tracking error of weights w: the same for every contender."""
    return float(np.std(p.returns @ w - p.benchmark, ddof=1) * math.sqrt(PERIODS))


def violation(p: Problem, w: np.ndarray) -> float:
    """The largest breach of 0 <= w <= upper and sum(w) = 1."""
    below = float(np.max(-w, initial=0.0))
    above = float(np.max(w - p.upper, initial=0.0))
    return max(0.0, below, above, abs(math.fsum(w.tolist()) - 1.0))


def available(name: str) -> str | None:
    """The version of a peer, or None when it cannot be imported."""
    module, dist = PEERS[name]
    try:
        import_module(module)
    except Exception:  # an import that fails for any reason: skipped, not failed
        return None
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


# --- the contenders: (weights, solver) ----------------------------------------------


def solve_trackerr(p: Problem) -> tuple[np.ndarray, str]:
    rep = min_tracking_error(p.returns, p.benchmark, upper=p.upper, periods_per_year=PERIODS)
    return np.asarray(rep.weights, dtype=np.float64), "daqp"


def solve_skfolio(p: Problem, **options: Any) -> tuple[np.ndarray, str]:
    from skfolio.optimization import BenchmarkTracker

    model = BenchmarkTracker(min_weights=0.0, max_weights=p.upper, **options)
    model.fit(p.returns, p.benchmark)
    return np.asarray(model.weights_, dtype=np.float64), str(model.solver)


def solve_riskfolio(
    p: Problem, card: int | None = None, solver: str | None = None, params: Any = None
) -> tuple[np.ndarray, str]:
    import riskfolio as rp

    port = rp.Portfolio(returns=p.frame.sub(p.series, axis=0), upperlng=CAP, card=card)
    if solver is not None:  # else its list, in turn: CLARABEL first, keeping the first answer
        port.solvers = [solver]
        port.sol_params = {solver: params or {}}
    excluded = np.flatnonzero(p.upper == 0.0)
    port.ainequality = np.eye(len(p.upper))[excluded]  # A w <= B
    port.binequality = np.zeros((len(excluded), 1))
    port.assets_stats(method_mu="hist", method_cov="hist")
    w = port.optimization(model="Classic", rm="MV", obj="MinRisk", hist=True)
    if w is None:
        raise RuntimeError("riskfolio found no solution (optimization returned None)")
    used = solver or f"{port.solvers[0]} (first of its list)"
    return w["weights"].to_numpy(dtype=np.float64), used


def solve_pypfopt(p: Problem) -> tuple[np.ndarray, str]:
    from pypfopt import objective_functions
    from pypfopt.base_optimizer import BaseConvexOptimizer

    opt = BaseConvexOptimizer(len(p.upper), weight_bounds=(np.zeros(len(p.upper)), p.upper))
    opt.convex_objective(
        objective_functions.ex_post_tracking_error,
        historic_returns=p.returns,
        benchmark_returns=p.benchmark,
    )
    return np.asarray(opt.weights, dtype=np.float64), opt._opt.solver_stats.solver_name


SOLVERS: dict[str, Callable[[Problem], tuple[np.ndarray, str]]] = {
    "trackerr": solve_trackerr,
    "skfolio": solve_skfolio,
    "riskfolio-lib": solve_riskfolio,
    "PyPortfolioOpt": solve_pypfopt,
}


class Row(NamedTuple):
    library: str
    n: int
    seconds: float
    te: float
    violation: float
    ratio: float
    solver: str
    note: str


def fmt_seconds(s: float) -> str:
    if math.isnan(s):
        return "-"
    return f"{s * 1e3:.1f} ms" if s < 1.0 else f"{s:.2f} s"


def print_table(rows: list[Row], extra: str = "") -> None:
    best: dict[int, float] = {}  # the least TE per N among weights that meet the constraints
    for row in rows:
        if not math.isnan(row.te) and row.violation <= TOL:
            best[row.n] = min(best.get(row.n, math.inf), row.te)
    print(
        "| library | N | seconds | TE | TE - best TE | largest violation "
        "| peer / trackerr | solver | note |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for row in rows:
        if math.isnan(row.te):
            te = gap = viol = "-"
        else:
            te = f"{row.te * 100:.6f} %"
            gap = f"{(row.te - best[row.n]) * 100:+.1e} %" if row.n in best else "-"
            mark = "ok" if row.violation <= TOL else "BREACH"
            viol = f"{row.violation:.1e} ({mark})"
        ratio_s = "-" if math.isnan(row.ratio) else f"{row.ratio:.1f}"
        print(
            f"| {row.library} | {row.n} | {fmt_seconds(row.seconds)} | {te} | {gap} | {viol} "
            f"| {ratio_s} | {row.solver} | {row.note} |"
        )
    if extra:
        print(extra)


def replication(versions: dict[str, str | None]) -> None:
    rows: list[Row] = []
    for n in SIZES:
        p = problem(n)
        calls: dict[str, Callable[[], Any]] = {}
        first: dict[str, tuple[np.ndarray, str]] = {}
        failed: list[Row] = []
        for name, solve in SOLVERS.items():
            if name != "trackerr" and versions[name] is None:
                continue
            print(f"N={n}: {name} (untimed first call)", file=sys.stderr)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    first[name] = solve(p)
            except Exception as exc:  # a peer's failure is reported, not raised
                if name == "trackerr":
                    raise
                msg = f"failed: {type(exc).__name__}: {str(exc)[:80]}"
                failed.append(Row(name, n, math.nan, math.nan, math.nan, math.nan, "-", msg))
                continue
            calls[name] = lambda solve=solve, p=p: solve(p)
        print(f"N={n}: racing {', '.join(calls)} over {ROUNDS} rounds", file=sys.stderr)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            samples = race(calls, rounds=ROUNDS, target=0.05, warmup=0)
        held = int(np.count_nonzero(first["trackerr"][0] >= CAP - 1e-9))
        for name, (w, solver) in first.items():
            rows.append(
                Row(
                    name,
                    n,
                    median(samples, name),
                    tracking_error(p, w),
                    violation(p, w),
                    math.nan if name == "trackerr" else ratio(samples, name, "trackerr"),
                    solver,
                    f"{held} names at the 10 % cap" if name == "trackerr" else "",
                )
            )
        rows.extend(failed)
    print(
        f"\n## Minimum tracking error: T = {T}, long-only, budget 1, caps {CAP:.0%}, "
        f"{EXCLUDED:.0%} of names excluded\n"
    )
    print_table(
        rows,
        f"\nseconds: median of {ROUNDS} interleaved rounds, setup included; TE annualised "
        f"(sqrt({PERIODS}), ddof 1) from each library's weights; best TE: the least among "
        f"weights that meet the constraints (a breach can buy a lower TE: negative gap); "
        f"violation: largest breach of the bounds and the budget (ok: <= {TOL:g}); "
        "peer / trackerr: median of per-round ratios (> 1: trackerr is faster).",
    )


# --- cardinality ------------------------------------------------------------------


def mi_solver() -> str | None:
    """The first installed cvxpy solver that takes mixed-integer SOCPs."""
    try:
        import cvxpy as cp
    except ImportError:
        return None
    installed = set(cp.installed_solvers())
    return next((s for s in MI_SOCP if s in installed), None)


class CardRow(NamedTuple):
    library: str
    n: int
    k: int
    seconds: float
    te: float
    names: int
    violation: float
    status: str

    def valid(self) -> bool:
        return not math.isnan(self.te) and self.violation <= TOL and self.names <= self.k


def cardinality(versions: dict[str, str | None]) -> None:
    print("\n## Cardinality: at most k names")
    if "max_names" not in inspect.signature(min_tracking_error).parameters:
        print(
            "\nskipped: trackerr.optimize.min_tracking_error has no max_names= yet "
            "(issue 12: cardinality is still to come)."
        )
        return
    solver = mi_solver()
    rows: list[CardRow] = []
    for n in SIZES:
        k = MAX_NAMES[n]
        p = problem(n)

        def ours(p: Problem = p, k: int = k) -> tuple[np.ndarray, str]:
            rep = min_tracking_error(
                p.returns, p.benchmark, upper=p.upper, max_names=k, periods_per_year=PERIODS
            )
            return np.asarray(rep.weights, dtype=np.float64), str(rep.status)

        print(f"N={n}, k={k}: trackerr", file=sys.stderr)
        w, status = ours()
        samples = race({"trackerr": ours}, rounds=ROUNDS, target=0.05, warmup=0)
        seconds = median(samples, "trackerr")
        te, count, viol = tracking_error(p, w), held(w), violation(p, w)
        rows.append(CardRow("trackerr", n, k, seconds, te, count, viol, status))
        if n <= 60:  # the exact mode (branch and bound): the reference for the search's gap
            print(f"N={n}, k={k}: trackerr method='exact'", file=sys.stderr)
            t0 = time.perf_counter()
            rep = min_tracking_error(
                p.returns,
                p.benchmark,
                upper=p.upper,
                max_names=k,
                method="exact",
                periods_per_year=PERIODS,
            )
            seconds = time.perf_counter() - t0
            w = np.asarray(rep.weights, dtype=np.float64)
            te, count, viol = tracking_error(p, w), held(w), violation(p, w)
            rows.append(CardRow("trackerr exact", n, k, seconds, te, count, viol, rep.status))
        for name in ("skfolio", "riskfolio-lib"):
            if versions[name] is None:
                continue
            if solver is None:
                note = (
                    "not run: needs a mixed-integer SOCP solver (SCIP, MOSEK, Gurobi, ...); "
                    "cvxpy has none installed"
                )
                rows.append(CardRow(name, n, k, math.nan, math.nan, 0, math.nan, note))
                continue
            print(f"N={n}, k={k}: {name} ({solver}, {TIME_LIMIT:g} s limit)", file=sys.stderr)
            params = MI_SOCP[solver]
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if name == "skfolio":
                        w, used = solve_skfolio(
                            p, cardinality=k, solver=solver, solver_params=params
                        )
                    else:
                        w, used = solve_riskfolio(p, k, solver, params)
            except Exception as exc:  # a peer's failure is reported, not raised
                seconds = time.perf_counter() - t0
                msg = f"failed: {type(exc).__name__}: {str(exc)[:80]}"
                rows.append(CardRow(name, n, k, seconds, math.nan, 0, math.nan, msg))
                continue
            seconds = time.perf_counter() - t0
            te, count, viol = tracking_error(p, w), held(w), violation(p, w)
            rows.append(CardRow(name, n, k, seconds, te, count, viol, used))
    best: dict[int, float] = {}  # per N, among weights that meet the bounds, budget and k
    for row in rows:
        if row.valid():
            best[row.n] = min(best.get(row.n, math.inf), row.te)
    print(
        "\n| library | N | max names | seconds | TE | TE - best TE | TE / best - 1 | names held "
        "| largest violation | status / solver |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        if math.isnan(row.te):
            te_s = gap = rel = count_s = viol_s = "-"
        else:
            te_s = f"{row.te * 100:.6f} %"
            gap = f"{(row.te - best[row.n]) * 100:+.1e} %" if row.n in best else "-"
            rel = f"{(row.te / best[row.n] - 1) * 100:+.3f} %" if row.n in best else "-"
            count_s = f"{row.names}{'' if row.names <= row.k else ' (above k)'}"
            viol_s = f"{row.violation:.1e} ({'ok' if row.violation <= TOL else 'BREACH'})"
        print(
            f"| {row.library} | {row.n} | {row.k} | {fmt_seconds(row.seconds)} | {te_s} | {gap} "
            f"| {rel} | {count_s} | {viol_s} | {row.status} |"
        )
    print(
        f"\ntrackerr: median of {ROUNDS} rounds; peers: one run each, {TIME_LIMIT:g} s solver "
        f"time limit; a name is held above {HELD:g}; best TE: the least among weights that "
        "meet the bounds, the budget and the count."
    )


def held(w: np.ndarray) -> int:
    return int(np.count_nonzero(w > HELD))


def main() -> None:
    if _version("daqp") is None:
        print("trackerr's optimizer needs daqp: pip install '.[optimize]'", file=sys.stderr)
        raise SystemExit(2)
    versions = {name: available(name) for name in PEERS}
    extra = {
        d: v
        for d in ("numpy", "scipy", "pandas", "daqp", "cvxpy", "clarabel", "osqp")
        if (v := _version(d)) is not None
    }
    print(
        f"trackerr {trackerr.__version__}, Python {platform.python_version()}, {platform.machine()}"
    )
    print(
        "peers: " + ", ".join(f"{k} {v or 'not installed (skipped)'}" for k, v in versions.items())
    )
    print("with: " + ", ".join(f"{k} {v}" for k, v in extra.items()))
    print(
        f"BLAS threads: {harness.blas_threads()}; seed {SEED}; {'quick' if QUICK else 'full'} mode"
    )
    missing = [k for k, v in versions.items() if v is None]
    if missing:
        print(
            f"note: {', '.join(missing)} not importable: skipped (pip install '.[bench-optimize]')"
        )
    replication(versions)
    cardinality(versions)


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
