"""Issue 10's headline table, measured with the interleaved timer (bench/race.py).

Every row of the issue's table ("Speed: exact and also the fastest") with its
bar, today's figure and whether the bar is met. Rolling and panel rows show
trackerr and the peer on one thread each (``threads=1``; numbagg through
``numba.set_num_threads(1)``) and both on their default threads, side by side,
from the same race; the bar is judged on the column the issue names (one
thread for rows that say so, default threads otherwise, as the issue's own
measurement ran). Full-sample and stream rows are single-threaded.

The peers' calls are the entries of the comparison table (bench/comparisons.py),
so this table times exactly what the tests cross-check. Ratios are peer time /
trackerr time (> 1: trackerr is faster), the median of per-round ratios; time
rows are medians. The C++ row comes from the output of
bench/cpp_stream_latency.cpp (see :func:`cpp_figures`).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import harness
import trackerr
from comparisons import COMPARISONS, Impl
from race import median, race, ratio

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CPP_SOURCE = BENCH / "cpp_stream_latency.cpp"
CPP_BINARY = ROOT / "build" / "bench" / "cpp_stream_latency"
CPP_OUTPUT = BENCH / "results" / "cpp_stream_latency.txt"
CPP_BUILD = [
    "g++",
    "-std=c++17",
    "-O3",
    "-ffp-contract=off",
    "-fno-math-errno",
    f"-I{ROOT / 'cpp' / 'include'}",
    str(CPP_SOURCE),
    "-o",
    str(CPP_BINARY),
]

SEED = 20240917  # the benchmark suite's seed (bench/conftest.py)
WINDOW = 252  # 1-D rolling rows (the first row names it)
PANEL_WINDOW = 63
STREAM_PORTFOLIOS = 1000

try:
    import numba
except ImportError:  # pragma: no cover - depends on the environment
    numba = None


@dataclass(frozen=True)
class Row:
    """One row of the issue's table."""

    key: str
    label: str
    now: str  # the "now" figure
    bar: float
    higher_is_better: bool  # ratios: >= bar; times and costs: <= bar
    judged: str  # "1" (one thread) or "default"
    unit: str = ""  # "" for ratios, else the unit of the times ("us", "ns", ...)

    @property
    def bar_text(self) -> str:
        sign = ">=" if self.higher_is_better else "<="
        return f"{sign} {self.bar:g}" + (f" {self.unit}" if self.unit else "")

    def met(self, value: float) -> bool:
        return value >= self.bar if self.higher_is_better else value <= self.bar


ROWS = [
    Row(
        "te_1t",
        "rolling TE vs bottleneck.move_std(p - b), w=252, one thread",
        "0.63 / 0.61 / 0.54",
        1.5,
        True,
        "1",
    ),
    Row(
        "te_dt",
        "rolling TE, default threads (vs bottleneck), w=252",
        "0.87 / 0.72 / 1.02",
        2.5,
        True,
        "default",
    ),
    Row(
        "beta",
        "rolling beta vs numbagg move_cov/move_var, w=252",
        "0.57 / 0.70 / 0.77",
        2.0,
        True,
        "default",
    ),
    Row(
        "corr",
        "rolling correlation vs numbagg move_corr, w=252",
        "0.47 / 0.51 / 0.37",
        2.0,
        True,
        "default",
    ),
    Row(
        "stats_pandas",
        "rolling_stats vs pandas' four rolling calls (TE, beta, corr, IR), w=252",
        "6.2",
        15.0,
        True,
        "default",
    ),
    Row("stats_cost", "rolling_stats time / rolling TE time, w=252", "4.4", 2.0, False, "default"),
    Row(
        "panel_te",
        "panel, w=63: TE vs numbagg (both default threads)",
        "0.80",
        2.0,
        True,
        "default",
    ),
    Row("panel_beta", "panel beta vs numbagg", "0.34", 2.0, True, "default"),
    Row("panel_te_bn", "panel TE, one thread, vs bottleneck", "0.79", 3.0, True, "1"),
    Row("mdd", "full-sample max_drawdown vs empyrical", "0.74", 2.0, True, "1"),
    Row("sortino", "full-sample sortino_ratio vs empyrical", "0.51", 2.0, True, "1"),
    Row(
        "stream_panel",
        "stream.Window(252, n_portfolios=1000), one tick of 1000 portfolios",
        "72.8 us",
        2.0,
        False,
        "1",
        "us",
    ),
    Row(
        "cpp_window",
        "C++ stream::Window tick (bench/cpp_stream_latency.cpp)",
        "19 ns",
        5.0,
        False,
        "1",
        "ns",
    ),
    Row("exp_batch", "Exponential batch", "6.4 ns/tick", 2.0, False, "1", "ns/tick"),
]

HOLDING = [
    Row(
        "update_vs_noop", "Window.update(float, float) / no-op pybind11 call", "-", 1.3, False, "1"
    ),
    Row("river", "river Rolling(Cov).update / Window.update(float, float)", "-", 10.0, True, "1"),
]


@dataclass
class Figures:
    """Measured values: ``values[row][size][column]``, and the races' medians."""

    sizes: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    races: list[tuple[str, dict[str, float], int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def put(self, row: str, size: str, column: str, value: float) -> None:
        self.values.setdefault(row, {}).setdefault(size, {})[column] = value
        sizes = self.sizes.setdefault(row, [])
        if size not in sizes:
            sizes.append(size)


# --- data (the benchmark suite's recipe) -------------------------------------------


def pair(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Portfolio ~ N(0, 0.01), benchmark = portfolio + N(0, 0.002), seeded by n."""
    rng = np.random.default_rng([SEED, n])
    p = rng.normal(0.0, 0.01, n)
    return p, p + rng.normal(0.0, 0.002, n)


def panel(t: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A T x N C-order panel: benchmark ~ N(0, 0.01), columns = benchmark + N(0, 0.002)."""
    rng = np.random.default_rng([SEED, t, n])
    b = rng.normal(0.0, 0.01, t)
    return b[:, None] + rng.normal(0.0, 0.002, (t, n)), b


def label(n: int) -> str:
    e = len(str(n)) - 1
    return f"1e{e}" if n == 10**e else str(n)


# --- helpers -----------------------------------------------------------------------------


def _peer(case: str, name: str) -> Impl | None:
    impl = COMPARISONS[case].impls.get(name)
    if impl is None or impl.requires is None:
        return impl
    try:
        __import__(impl.requires)
    except ImportError:
        return None
    return impl


def _bind(impl: Impl, p: Any, b: Any, *window: int) -> Callable[[], Any]:
    args = impl.prepare(p, b) if impl.prepare else (p, b)
    return lambda: impl.run(*args, *window)


def _numba_threads(fn: Callable[[], Any], threads: int) -> Callable[[], Any]:
    """``fn`` run with numba (numbagg) limited to ``threads`` in this thread."""
    if numba is None:
        return fn
    default = numba.config.NUMBA_NUM_THREADS

    def run() -> Any:
        numba.set_num_threads(threads)
        try:
            return fn()
        finally:
            numba.set_num_threads(default)

    return run


def _race(
    figures: Figures, title: str, calls: dict[str, Callable[[], Any]], rounds: int
) -> dict[str, list[float]]:
    samples = race(calls, rounds=rounds)
    figures.races.append((title, {k: median(samples, k) for k in samples}, rounds))
    return samples


# --- the races -----------------------------------------------------------------------------


def measure(quick: bool, rounds: int, log: Callable[[str], None] = lambda s: None) -> Figures:
    """Run every race of the issue table; ``log`` gets a line per race."""
    fig = Figures()
    sizes = [10**4, 10**5] if quick else [10**5, 10**6, 10**7]
    stats_n = 10**5 if quick else 10**6
    risk_n = 10**5 if quick else 10**6
    panel_shape = (252, 200) if quick else (2520, 2000)
    exp_n = 10**5 if quick else 10**6
    tr = trackerr
    w = WINDOW

    for n in sizes:
        p, b = pair(n)
        size = label(n)
        # Rolling TE: one race for both thread settings against bottleneck.
        calls: dict[str, Callable[[], Any]] = {
            "trackerr_1t": lambda p=p, b=b: tr.rolling_tracking_error(p, b, w, threads=1),
            "trackerr": lambda p=p, b=b: tr.rolling_tracking_error(p, b, w),
        }
        bn_te = _peer("rolling_tracking_error", "bottleneck")
        if bn_te is None:
            fig.missing["te_1t"] = fig.missing["te_dt"] = "bottleneck not installed"
        else:
            calls["bottleneck"] = _bind(bn_te, p, b, w)
        log(f"rolling TE {size}")
        s = _race(fig, f"rolling TE, {size}, w={w}", calls, rounds)
        if "bottleneck" in s:
            for row in ("te_1t", "te_dt"):
                fig.put(row, size, "1", ratio(s, "bottleneck", "trackerr_1t"))
                fig.put(row, size, "default", ratio(s, "bottleneck", "trackerr"))
        # Rolling beta and correlation against numbagg, both thread settings.
        for row, case, fn in (
            ("beta", "rolling_beta", tr.rolling_beta),
            ("corr", "rolling_correlation", tr.rolling_correlation),
        ):
            calls = {
                "trackerr_1t": lambda p=p, b=b, f=fn: f(p, b, w, threads=1),
                "trackerr": lambda p=p, b=b, f=fn: f(p, b, w),
            }
            nb = _peer(case, "numbagg")
            if nb is None:
                fig.missing[row] = "numbagg not installed"
            else:
                calls["numbagg_1t"] = _numba_threads(_bind(nb, p, b, w), 1)
                calls["numbagg"] = _bind(nb, p, b, w)
            log(f"{case} {size}")
            s = _race(fig, f"{case}, {size}, w={w}", calls, rounds)
            if "numbagg" in s:
                fig.put(row, size, "1", ratio(s, "numbagg_1t", "trackerr_1t"))
                fig.put(row, size, "default", ratio(s, "numbagg", "trackerr"))
        del p, b

    # rolling_stats: against pandas' four calls, and against the TE alone.
    p, b = pair(stats_n)
    size = label(stats_n)
    calls = {
        "rolling_stats_1t": lambda p=p, b=b: tr.rolling_stats(p, b, w, threads=1),
        "rolling_stats": lambda p=p, b=b: tr.rolling_stats(p, b, w),
        "te_1t": lambda p=p, b=b: tr.rolling_tracking_error(p, b, w, threads=1),
        "te": lambda p=p, b=b: tr.rolling_tracking_error(p, b, w),
    }
    pandas = _peer("rolling_stats", "pandas")
    if pandas is None:
        fig.missing["stats_pandas"] = "pandas not installed"
    else:
        calls["pandas"] = _bind(pandas, p, b, w)
    log(f"rolling_stats {size}")
    s = _race(fig, f"rolling_stats, {size}, w={w}", calls, rounds)
    if "pandas" in s:
        fig.put("stats_pandas", size, "1", ratio(s, "pandas", "rolling_stats_1t"))
        fig.put("stats_pandas", size, "default", ratio(s, "pandas", "rolling_stats"))
    fig.put("stats_cost", size, "1", ratio(s, "rolling_stats_1t", "te_1t"))
    fig.put("stats_cost", size, "default", ratio(s, "rolling_stats", "te"))
    del p, b

    # Panels.
    P, pb = panel(*panel_shape)
    size = f"{panel_shape[0]}x{panel_shape[1]}"
    pw = PANEL_WINDOW
    calls = {
        "trackerr_1t": lambda P=P, pb=pb: tr.rolling_tracking_error(P, pb, pw, threads=1),
        "trackerr": lambda P=P, pb=pb: tr.rolling_tracking_error(P, pb, pw),
    }
    nb = _peer("rolling_tracking_error_panel", "numbagg")
    bn_panel = _peer("rolling_tracking_error_panel", "bottleneck")
    if nb is not None:
        calls["numbagg_1t"] = _numba_threads(_bind(nb, P, pb, pw), 1)
        calls["numbagg"] = _bind(nb, P, pb, pw)
    else:
        fig.missing["panel_te"] = "numbagg not installed"
    if bn_panel is not None:
        calls["bottleneck"] = _bind(bn_panel, P, pb, pw)
    else:
        fig.missing["panel_te_bn"] = "bottleneck not installed"
    log(f"panel TE {size}")
    s = _race(fig, f"panel rolling TE, {size}, w={pw}", calls, rounds)
    if "numbagg" in s:
        fig.put("panel_te", size, "1", ratio(s, "numbagg_1t", "trackerr_1t"))
        fig.put("panel_te", size, "default", ratio(s, "numbagg", "trackerr"))
    if "bottleneck" in s:
        fig.put("panel_te_bn", size, "1", ratio(s, "bottleneck", "trackerr_1t"))
        fig.put("panel_te_bn", size, "default", ratio(s, "bottleneck", "trackerr"))
    calls = {
        "trackerr_1t": lambda P=P, pb=pb: tr.rolling_beta(P, pb, pw, threads=1),
        "trackerr": lambda P=P, pb=pb: tr.rolling_beta(P, pb, pw),
    }
    nb = _peer("rolling_beta_panel", "numbagg")
    if nb is not None:
        calls["numbagg_1t"] = _numba_threads(_bind(nb, P, pb, pw), 1)
        calls["numbagg"] = _bind(nb, P, pb, pw)
    else:
        fig.missing["panel_beta"] = "numbagg not installed"
    log(f"panel beta {size}")
    s = _race(fig, f"panel rolling beta, {size}, w={pw}", calls, rounds)
    if "numbagg" in s:
        fig.put("panel_beta", size, "1", ratio(s, "numbagg_1t", "trackerr_1t"))
        fig.put("panel_beta", size, "default", ratio(s, "numbagg", "trackerr"))
    del P, pb

    # Full-sample risk metrics against empyrical (single-threaded kernels).
    p, b = pair(risk_n)
    size = label(risk_n)
    for row, case in (("mdd", "max_drawdown"), ("sortino", "sortino_ratio")):
        emp = _peer(case, "empyrical")
        if emp is None:
            fig.missing[row] = "empyrical not installed"
            continue
        calls = {"trackerr": _bind(COMPARISONS[case].impls["trackerr"], p, b)}
        calls["empyrical"] = _bind(emp, p, b)
        log(f"{case} {size}")
        s = _race(fig, f"{case}, {size}", calls, rounds)
        fig.put(row, size, "1", ratio(s, "empyrical", "trackerr"))
    del p, b

    # Streams: one tick of 1000 portfolios into a warm Window(252), with the
    # floor of a bound call beside it; one float tick against the floor and river.
    from trackerr import _core, stream

    rng = np.random.default_rng(SEED)
    many = stream.Window(WINDOW, n_portfolios=STREAM_PORTFOLIOS)
    many.update(rng.normal(0, 0.01, (WINDOW, STREAM_PORTFOLIOS)), rng.normal(0, 0.01, WINDOW))
    tick = rng.normal(0, 0.01, STREAM_PORTFOLIOS)
    # The row repeats one tick (as the issue measured it), so the windows turn
    # constant after WINDOW ticks: that change-over (every portfolio's guard
    # fires once) is passed before timing, not timed in the first samples.
    for _ in range(WINDOW + 8):
        many.update(tick, 0.01)
    # Beside it, ticks that differ from call to call (the live case): a fresh
    # Window cycles through 4096 pre-drawn ticks.
    fresh = stream.Window(WINDOW, n_portfolios=STREAM_PORTFOLIOS)
    fresh_ticks = rng.normal(0, 0.01, (4096, STREAM_PORTFOLIOS))
    fresh_bench = rng.normal(0, 0.01, 4096).tolist()
    fresh.update(fresh_ticks[:WINDOW], np.asarray(fresh_bench[:WINDOW]))
    cursor = [0]

    def fresh_tick() -> None:
        i = cursor[0] = (cursor[0] + 1) % 4096
        fresh.update(fresh_ticks[i], fresh_bench[i])

    one = stream.Window(WINDOW)
    for x, y in rng.normal(0, 0.01, (WINDOW, 2)).tolist():
        one.update(x, y)
    probe = _core._Probe()
    calls = {
        "window_1000_tick": lambda: many.update(tick, 0.01),
        "window_1000_fresh": fresh_tick,
        "window_float_tick": lambda: one.update(0.01, 0.02),
        "noop_call": lambda: probe.noop(0.01, 0.02),
    }
    try:
        from river import stats as river_stats
        from river import utils as river_utils

        cov = river_utils.Rolling(river_stats.Cov, window_size=WINDOW)
        for x, y in rng.normal(0, 0.01, (WINDOW, 2)).tolist():
            cov.update(x, y)
        calls["river_cov_tick"] = lambda: cov.update(0.01, 0.02)
    except ImportError:
        fig.missing["river"] = "river not installed"
    log("stream ticks")
    s = _race(fig, "stream ticks (per call)", calls, rounds)
    fig.put("stream_panel", "1000", "1", median(s, "window_1000_tick") * 1e6)
    fig.put("update_vs_noop", "-", "1", ratio(s, "window_float_tick", "noop_call"))
    if "river_cov_tick" in s:
        fig.put("river", "-", "1", ratio(s, "river_cov_tick", "window_float_tick"))
    fig.notes.append(
        f"call overhead: a no-op pybind11 call (two floats) takes "
        f"{median(s, 'noop_call') * 1e9:.0f} ns; Window.update(float, float) "
        f"{median(s, 'window_float_tick') * 1e9:.0f} ns; the 1000-portfolio tick "
        f"{median(s, 'window_1000_tick') * 1e6:.2f} us repeating one tick, "
        f"{median(s, 'window_1000_fresh') * 1e6:.2f} us with ticks that differ from call to call"
    )

    # Exponential batch: a fresh state fed exp_n ticks in one call.
    p, b = pair(exp_n)
    calls = {
        "exponential_batch": lambda p=p, b=b: stream.Exponential(span=WINDOW).update(p, b),
        "cumulative_batch": lambda p=p, b=b: stream.Cumulative().update(p, b),
    }
    log(f"stream batches {label(exp_n)}")
    s = _race(fig, f"stream batches, {label(exp_n)} ticks", calls, rounds)
    fig.put("exp_batch", label(exp_n), "1", median(s, "exponential_batch") / exp_n * 1e9)
    fig.notes.append(
        f"Cumulative batch: {median(s, 'cumulative_batch') / exp_n * 1e9:.2f} ns/tick "
        f"(same {label(exp_n)} ticks)"
    )
    return fig


# --- the C++ row ---------------------------------------------------------------------------


def _stale(binary: Path) -> bool:
    """Whether ``binary`` is missing or older than the program or a header."""
    if not binary.exists():
        return True
    newest = max(
        [CPP_SOURCE.stat().st_mtime]
        + [h.stat().st_mtime for h in (ROOT / "cpp" / "include").rglob("*.hpp")]
    )
    return binary.stat().st_mtime < newest


def cpp_figures(path: Path | None, build: bool) -> tuple[dict[str, float], str]:
    """ns per tick by state name from bench/cpp_stream_latency.cpp's output.

    ``path``: an executable to run, or a text file holding its output. Without
    it: the executable build/bench/cpp_stream_latency, compiled first (with the
    command in the program's header, ~2 s) when it is missing or older than
    the program or a header and ``build`` is set and g++ is found; then run.
    Failing that, a saved output in bench/results/cpp_stream_latency.txt.
    Otherwise the row is reported as not measured.
    """
    built = ""
    if path is None and build and _stale(CPP_BINARY) and shutil.which("g++"):
        CPP_BINARY.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(CPP_BUILD, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            return {}, f"not measured: compiling {CPP_SOURCE.name} failed: {done.stderr[-300:]}"
        built = "built now, "
    candidates = [path] if path is not None else [CPP_BINARY, CPP_OUTPUT]
    for candidate in candidates:
        if candidate is None or not candidate.exists():
            continue
        if os.access(candidate, os.X_OK) and candidate.suffix != ".txt":
            out = subprocess.run(
                [str(candidate)], check=True, capture_output=True, text=True
            ).stdout
            stale = (
                " (older than the sources!)"
                if candidate == CPP_BINARY and _stale(candidate)
                else ""
            )
            source = f"{built}ran {candidate}{stale}"
        else:
            out = candidate.read_text(encoding="utf-8")
            source = f"read {candidate} (a saved output)"
        found = {
            m.group(1).strip(): float(m.group(2))
            for m in re.finditer(r"^(\S[^\n]*?)\s+([0-9.]+) ns/tick", out, re.M)
        }
        if found:
            return found, source
    return {}, (
        f"not measured: no g++ to build {CPP_SOURCE.name} and no saved output "
        f"({CPP_OUTPUT.relative_to(ROOT)})"
    )


# --- rendering -----------------------------------------------------------------------------


def _format(value: float, row: Row) -> str:
    if row.unit:
        return f"{value:.3g}"
    return f"{value:.0f}" if value >= 100 else f"{value:.2f}"


def _cell(fig: Figures, row: Row, column: str) -> str:
    by_size = fig.values.get(row.key)
    if not by_size:
        return ""
    cells = [by_size[s].get(column) for s in fig.sizes[row.key]]
    if all(c is None for c in cells):
        return "-"
    return " / ".join("-" if c is None else _format(c, row) for c in cells)


def _met(fig: Figures, row: Row) -> str:
    by_size = fig.values.get(row.key)
    if not by_size:
        return "? (not measured)"
    judged = [by_size[s].get(row.judged) for s in fig.sizes[row.key]]
    if any(v is None for v in judged):
        return "?"
    return "yes" if all(row.met(v) for v in judged) else "NO"


def _sizes(fig: Figures, row: Row) -> str:
    return " / ".join(fig.sizes.get(row.key, []))


def isa() -> str:
    """The SIMD path trackerr dispatches to, or "baseline (no dispatch)"."""
    simd = getattr(trackerr, "simd", None)
    if simd is None:
        return "baseline (no dispatch)"
    forced = os.environ.get("TRACKERR_SIMD")
    try:
        return str(simd()) + (f" (TRACKERR_SIMD={forced})" if forced else "")
    except Exception as exc:  # a report must not die on a diagnostic
        return f"trackerr.simd() failed: {exc!r}"


def _cpu() -> str:
    model, flags = platform.processor() or "?", set()
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        if m := re.search(r"^model name\s*:\s*(.+)$", text, re.M):
            model = m.group(1).strip()
        if m := re.search(r"^flags\s*:\s*(.+)$", text, re.M):
            flags = set(m.group(1).split())
    except OSError:
        pass
    have = [f for f in ("sse2", "avx2", "fma", "avx512f") if f in flags]
    return f"{model}, {os.cpu_count()} logical cores; CPU flags: {' '.join(have) or '?'}"


def _versions() -> str:
    out = [f"trackerr {trackerr.__version__}"]
    for name in ("numpy", "pandas", "bottleneck", "numbagg", "empyrical", "river"):
        module = sys.modules.get(name)
        if module is not None:
            out.append(f"{name} {getattr(module, '__version__', '?')}")
    return ", ".join(out)


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def render(
    fig: Figures, cpp: dict[str, float], cpp_source: str, quick: bool, rounds: int, seconds: float
) -> list[str]:
    """The issue table as markdown lines."""
    if "Window(252)" in cpp:
        fig.put("cpp_window", "-", "1", cpp["Window(252)"])
    else:
        fig.missing["cpp_window"] = cpp_source
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    lines = [
        "## Issue 10: trackerr against its peers (interleaved medians)",
        "",
        f"- ISA in use: {isa()}",
        f"- Machine: {_cpu()}",
        f"- Code: {_commit()}; {_versions()}",
        f"- Mode: {'QUICK (small sizes, indicative only)' if quick else 'full'}; "
        f"{rounds} interleaved rounds per race; took {seconds:.0f} s"
        + (f"; load average at the end {load[0]:.2f} / {load[1]:.2f}" if load else ""),
        f"- Harness: BLAS threads {harness.blas_threads()}; malloc {harness.MALLOC}; "
        f"numba threads {harness.numba_threads()}",
        "",
        "Ratios are peer time / trackerr time (> 1: trackerr is faster), each the median",
        "of per-round ratios of calls timed side by side; rows with a unit are median",
        "times. 'one thread': trackerr threads=1 (and numbagg with numba.set_num_threads(1));",
        "'default threads': both on their defaults. 'met?' judges the column the issue",
        "names (marked *). Cells list the sizes in order.",
        "",
        "| case | sizes | now (issue) | bar | one thread | default threads | met? |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in ROWS:
        one, default = _cell(fig, row, "1"), _cell(fig, row, "default")
        if row.judged == "1":
            one = f"{one} *" if one else one
        elif default:
            default = f"{default} *"
        lines.append(
            f"| {row.label} | {_sizes(fig, row)} | {row.now} | {row.bar_text} "
            f"| {one} | {default} | {_met(fig, row)} |"
        )
    lines += ["", "What must keep holding:", ""]
    lines += ["| case | bar | figure | met? |", "|---|---:|---:|---|"]
    for row in HOLDING:
        lines.append(
            f"| {row.label} | {row.bar_text} | {_cell(fig, row, '1')} | {_met(fig, row)} |"
        )
    lines += ["", f"C++ figures: {cpp_source}" + (f": {cpp}" if cpp else "")]
    lines += [
        f"Not measured: {r.label}: {why}" for r in ROWS + HOLDING if (why := fig.missing.get(r.key))
    ]
    lines += [f"Note: {note}" for note in fig.notes]
    lines += ["", "### Races (median time per call)", ""]
    lines += ["| race | contender | median |", "|---|---|---:|"]
    for title, medians, _ in fig.races:
        for name, t in medians.items():
            lines.append(f"| {title} | {name} | {_time(t)} |")
    return lines


def _time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def run(
    *,
    quick: bool,
    rounds: int,
    cpp_path: Path | None = None,
    build_cpp: bool = False,
    log: Callable[[str], None] = lambda s: None,
) -> list[str]:
    """Measure and render the issue table."""
    start = time.perf_counter()
    fig = measure(quick, rounds, log)
    cpp, source = cpp_figures(cpp_path, build_cpp)
    return render(fig, cpp, source, quick, rounds, time.perf_counter() - start)
