"""Benchmark report: issue 10's headline table, and pytest-benchmark's tables.

Usage::

    python bench/report.py                  # issue 10's table, measured now
    TRACKERR_BENCH_QUICK=1 python bench/report.py   # the same, small and quick
    python -m pytest bench --benchmark-json=bench/results/latest.json
    python bench/report.py bench/results/latest.json   # + every metric vs its peers
    python bench/report.py --no-race --latest          # only the newest .benchmarks JSON

With no argument the report *measures*: it runs the races of issue 10's table
(bench/issue10.py) with the interleaved timer (bench/race.py), trackerr and
each peer timed in turn round after round, single-thread and default threads
side by side, and prints the table with the bars and the ISA in use. The C++
row comes from bench/cpp_stream_latency.cpp, compiled into build/bench/ when
missing or stale (g++, ~2 s; ``--no-build-cpp`` to skip) and run, or from a
saved output (``--cpp FILE``; see issue10.cpp_figures). ``TRACKERR_BENCH_QUICK=1`` (or
``--quick``) shrinks the sizes and the rounds (well under a minute).

Given a pytest-benchmark JSON (a path, ``--json PATH`` or ``--latest`` for
the newest under ``.benchmarks``), it also prints that run's tables: within
each group (``<case>-<size>``, ``<case>-<size>-w<window>`` for the rolling
cases) the ratio is ``median(implementation) / median(trackerr)``: above 1
means trackerr is faster. Pivot tables show those ratios by size (and window),
one row per case and peer, separately for the full-sample and the rolling
cases; for the rolling cases a last table gives what the seven-metric
``rolling_stats`` costs against ``rolling_tracking_error`` alone (target <= 2).
``--no-race`` skips the measurement.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# bench/ is not a package: its modules import each other by name.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness

QUICK_ROUNDS = 5
FULL_ROUNDS = 15

BASELINE = "trackerr"

# (case, implementation in its group, fallback case) for the cost table: the
# time of `case`'s baseline over the time of that implementation (measured in
# the same group), or, if it is missing, over the fallback case's baseline at
# the same size and window.
COST_RATIOS = [("rolling_stats", "trackerr_te_alone", "rolling_tracking_error")]
COST_TARGET = 2.0


def newest_json(roots: list[Path]) -> Path | None:
    """The most recently modified ``*.json`` under the first root that has any."""
    for root in roots:
        if root.is_dir():
            files = sorted(root.rglob("*.json"), key=lambda p: p.stat().st_mtime)
            if files:
                return files[-1]
    return None


def format_time(seconds: float) -> str:
    """A duration with three significant digits and a readable unit."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return f"{ratio:.0f}" if ratio >= 100 else f"{ratio:.2f}"


def _split_group(group: str, size: str | None) -> tuple[str, str]:
    if size and group.endswith(f"-{size}"):
        return group[: -len(size) - 1], size
    case, _, rest = group.partition("-")
    return case, rest


def load_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per benchmark: group, case, size, impl, median, rounds, rolling
    (JSON order). A rolling benchmark's size is ``<size>-w<window>``."""
    rows = []
    for bench in data.get("benchmarks", []):
        extra = bench.get("extra_info") or {}
        group = bench.get("group") or extra.get("case", "?")
        size_label = extra.get("size")
        if size_label is not None and extra.get("window") is not None:
            size_label = f"{size_label}-w{extra['window']}"
        case, size = _split_group(group, size_label)
        impl = extra.get("impl")
        if impl is None:  # fall back on the test id: test_x[<case>-<size>-<impl>]
            param = bench.get("param") or bench["name"]
            impl = param.rsplit("-", 1)[-1].rstrip("]")
        rows.append(
            {
                "group": group,
                "case": extra.get("case", case),
                "size": size,
                "impl": impl,
                "median": float(bench["stats"]["median"]),
                "rounds": int(bench["stats"]["rounds"]),
                "rolling": "window" in extra or str(extra.get("case", case)).startswith("rolling_"),
            }
        )
    return rows


def add_ratios(rows: list[dict[str, Any]]) -> None:
    baseline = {r["group"]: r["median"] for r in rows if r["impl"] == BASELINE}
    for r in rows:
        base = baseline.get(r["group"])
        r["ratio"] = r["median"] / base if base else None


def detail_table(rows: list[dict[str, Any]]) -> list[str]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    out = [
        "| group | implementation | median | ratio vs trackerr | rounds |",
        "|---|---|---:|---:|---:|",
    ]
    for group, members in groups.items():
        members = sorted(members, key=lambda r: r["impl"] != BASELINE)  # stable: baseline first
        for r in members:
            out.append(
                f"| {group} | {r['impl']} | {format_time(r['median'])} "
                f"| {format_ratio(r['ratio'])} | {r['rounds']} |"
            )
    return out


def pivot_table(rows: list[dict[str, Any]]) -> list[str]:
    sizes: list[str] = []
    cells: dict[tuple[str, str], dict[str, float | None]] = {}
    for r in rows:
        if r["size"] not in sizes:
            sizes.append(r["size"])
        if r["impl"] != BASELINE:
            cells.setdefault((r["case"], r["impl"]), {})[r["size"]] = r["ratio"]
    out = [
        "| case | peer | " + " | ".join(sizes) + " |",
        "|---|---|" + "---:|" * len(sizes),
    ]
    for (case, impl), by_size in cells.items():
        values = [format_ratio(by_size.get(s)) for s in sizes]
        out.append(f"| {case} | {impl} | " + " | ".join(values) + " |")
    return out


def cost_table(rows: list[dict[str, Any]]) -> list[str]:
    """``median(case) / median(reference implementation)`` per size, for COST_RATIOS."""
    medians = {(r["case"], r["size"], r["impl"]): r["median"] for r in rows}
    out: list[str] = []
    for case, impl, fallback in COST_RATIOS:
        sizes = [r["size"] for r in rows if r["case"] == case and r["impl"] == BASELINE]
        for size in sizes:
            num = medians[(case, size, BASELINE)]
            den, source = medians.get((case, size, impl)), f"{case} group ({impl})"
            if den is None:
                den, source = medians.get((fallback, size, BASELINE)), f"{fallback} group"
            if den is None:
                continue
            ratio = num / den
            if not out:
                out = [
                    f"| size | {case} | {fallback} | measured in | ratio | <= {COST_TARGET:g}? |",
                    "|---|---:|---:|---|---:|---|",
                ]
            out.append(
                f"| {size} | {format_time(num)} | {format_time(den)} | {source} "
                f"| {format_ratio(ratio)} | {'yes' if ratio <= COST_TARGET else 'NO'} |"
            )
    return out


def header(data: dict[str, Any], path: Path) -> list[str]:
    machine = data.get("machine_info") or {}
    cpu = (machine.get("cpu") or {}).get("brand_raw") or machine.get("processor") or "?"
    commit = (data.get("commit_info") or {}).get("id", "?")
    suite = machine.get("trackerr_bench") or {}
    mode = "quick" if suite.get("quick") else "full"
    return [
        f"Source: `{path}` ({data.get('datetime', '?')}), commit {str(commit)[:10]}",
        f"Machine: {cpu}; Python {machine.get('python_version', '?')}",
        f"Suite: {mode} mode; BLAS threads {suite.get('blas_threads', '?')}; "
        f"malloc {suite.get('malloc', '?')}"
        + (f"; numba threads {suite['numba_threads']}" if "numba_threads" in suite else ""),
        "",
        "Times are medians over the rounds; ratio = median(peer) / median(trackerr) "
        "in the same group, so > 1 means trackerr is faster.",
    ]


def json_report(path: Path, pivot: bool) -> tuple[list[str], int]:
    """The tables of one pytest-benchmark JSON file; (lines, exit status)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rows = load_rows(data)
    if not rows:
        return [f"{path}: no benchmarks recorded"], 1
    add_ratios(rows)

    full = [r for r in rows if not r["rolling"]]
    rolling = [r for r in rows if r["rolling"]]
    lines = ["## pytest-benchmark run", "", *header(data, Path(path)), ""]
    if pivot:
        if full:
            lines += ["### Ratio vs trackerr by size", "", *pivot_table(full), ""]
        if rolling:
            lines += [
                "### Rolling: ratio vs trackerr by size and window",
                "",
                *pivot_table(rolling),
                "",
            ]
    cost = cost_table(rolling)
    if cost:
        lines += ["### Rolling: cost of all seven metrics vs tracking error alone", "", *cost, ""]
    lines += ["### All benchmarks", "", *detail_table(rows)]
    return lines, 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, help="pytest-benchmark JSON file")
    parser.add_argument("--json", dest="json_path", type=Path, help="same as PATH")
    parser.add_argument("--latest", action="store_true", help="the newest JSON under .benchmarks")
    parser.add_argument("--no-pivot", action="store_true", help="skip the ratio-by-size table")
    parser.add_argument("--no-race", action="store_true", help="do not measure issue 10's table")
    parser.add_argument("--quick", action="store_true", help="as TRACKERR_BENCH_QUICK=1")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per race (5 quick, 15 full)")
    parser.add_argument(
        "--cpp", type=Path, help="cpp_stream_latency executable to run, or a file of its output"
    )
    parser.add_argument(
        "--no-build-cpp",
        action="store_true",
        help="do not (re)compile bench/cpp_stream_latency.cpp into build/bench/",
    )
    args = parser.parse_args(argv)

    path = args.path or args.json_path
    if path is None and args.latest:
        here = Path(__file__).resolve().parent
        path = newest_json([Path.cwd() / ".benchmarks", here.parent / ".benchmarks"])
        if path is None:
            parser.error("--latest: no JSON found under .benchmarks")
    if path is None and args.no_race:
        parser.error("nothing to do: --no-race without a JSON file")

    status = 0
    if not args.no_race:
        import issue10

        quick = args.quick or harness.QUICK
        rounds = args.rounds or (QUICK_ROUNDS if quick else FULL_ROUNDS)
        lines = issue10.run(
            quick=quick,
            rounds=rounds,
            cpp_path=args.cpp,
            build_cpp=not args.no_build_cpp,
            log=lambda line: print(f"racing: {line}", file=sys.stderr, flush=True),
        )
        print("\n".join(lines), flush=True)
    if path is not None:
        lines, status = json_report(Path(path), pivot=not args.no_pivot)
        print(("\n" if not args.no_race else "") + "\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
