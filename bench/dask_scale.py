"""Issue 14's figures: trackerr.dask on a LocalCluster against the generic Dask
route with numbagg and against trackerr in memory.

Two jobs, each the rolling tracking error and the rolling beta (window 63):

* a panel of 2,520 days x 100,000 portfolios against one benchmark (2 GB of
  float64 per metric), generated in the workers and held there (persisted)
  before the clock starts;
* a series of 2e8 points (1.6 GB per input, 3.2 GB with its benchmark),
  written to disk as .npy pieces of 1e7 rows and read lazily by the workers
  (out of core: no worker ever holds more than a few pieces).

Routes, each on a LocalCluster of 2 worker processes (1 thread each), and the
trackerr route also on 1 worker (scaling):

* trackerr.dask (rolling_tracking_error, rolling_beta);
* the generic route a Dask user writes without trackerr: ``map_overlap``
  with a halo of window - 1 rows around numbagg's moving-window functions
  (``move_std`` of p - b; ``move_cov(p, b) / move_var(b)``);
* trackerr in memory on the same data (the panel and the series fit in this
  machine's 24 GB), on one thread and on default threads: the panel made
  before the clock starts, the series read from its pieces inside it.

Each job reduces its result to a few numbers in the workers (the last row of
the panel, the largest value of the series) so that no route pays to bring
gigabytes back. Times are medians of interleaved rounds (machines are shared
and noisy); peak memory is the largest resident set a worker's own monitor
sampled during the job (fresh, spawned workers for each route), and this
process's peak (getrusage) for the in-memory route.

    python bench/dask_scale.py                        # ~15 min on a 2-core VM
    TRACKERR_BENCH_QUICK=1 python bench/dask_scale.py # 5,000 portfolios, 2e6 points
    TRACKERR_BENCH_DIR=/big/disk python bench/dask_scale.py   # where the series goes
    TRACKERR_BENCH_JOBS=series python bench/dask_scale.py     # one job only

The series job also runs both Dask routes on this process's threaded
scheduler (2 threads, no worker processes): the gap between those and the
LocalCluster figures is what moving the pieces between workers costs (the
pieces of p and of b are separate files, so a block's two inputs are often
read by different workers).
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

try:
    import dask
    import dask.array as da
    import distributed
    import numbagg
except ImportError as exc:  # pragma: no cover - depends on the environment
    sys.exit(f"bench/dask_scale.py needs dask, distributed and numbagg: {exc}")

import trackerr
import trackerr.dask as td

QUICK = os.environ.get("TRACKERR_BENCH_QUICK", "") not in ("", "0")
WINDOW = 63
ROWS, COLS = 2520, (5_000 if QUICK else 100_000)
COL_CHUNK = 2_500
POINTS = 2_000_000 if QUICK else 200_000_000
PIECE = 1_000_000 if QUICK else 10_000_000
ROUNDS = 1 if QUICK else 3
SEED = 20241130
JOBS = os.environ.get("TRACKERR_BENCH_JOBS", "panel,series").split(",")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_peak_mb(dask_worker) -> float:
    """The largest resident set the worker's own monitor sampled (every 0.5 s
    or so): its peak while the job ran."""
    return max(dask_worker.monitor.quantities["memory"]) / 2**20


# --- the routes ----------------------------------------------------------------------------


def numbagg_te(a_block: np.ndarray) -> np.ndarray:
    return numbagg.move_std(a_block, window=WINDOW, axis=0)  # n - 1, as ddof=1


def numbagg_beta(p_block: np.ndarray, b_block: np.ndarray) -> np.ndarray:
    b = np.broadcast_to(b_block, p_block.shape)
    return numbagg.move_cov(p_block, b, window=WINDOW, axis=0) / numbagg.move_var(
        b, window=WINDOW, axis=0
    )


def generic(p, b):
    """The rolling TE and beta through map_overlap with numbagg (halo w - 1)."""
    col = b[:, None] if p.ndim == 2 else b
    depth = {0: (WINDOW - 1, 0), 1: 0} if p.ndim == 2 else {0: (WINDOW - 1, 0)}
    te = da.map_overlap(numbagg_te, p - col, depth=depth, boundary="none", dtype=np.float64)
    beta = da.map_overlap(
        numbagg_beta, p, col, depth=depth, boundary="none", dtype=np.float64, align_arrays=False
    )
    return te, beta


def ours(p, b):
    return td.rolling_tracking_error(p, b, WINDOW), td.rolling_beta(p, b, WINDOW)


def summary(te, beta):
    """A few numbers per job: the last row (panel) or the largest value (series)."""
    if te.ndim == 2:
        return te[-1], beta[-1]
    return da.nanmax(te), da.nanmax(beta)


# --- data ------------------------------------------------------------------------------------


def panel_arrays():
    rng = da.random.default_rng(SEED)
    b = rng.normal(0.0003, 0.01, size=ROWS, chunks=ROWS)
    noise = rng.normal(0.0, 0.002, size=(ROWS, COLS), chunks=(ROWS, COL_CHUNK))
    return noise + b[:, None], b


def write_series(folder: Path) -> list[tuple[Path, Path]]:
    rng = np.random.default_rng(SEED)
    pieces = []
    for k in range(POINTS // PIECE):
        b = rng.normal(0.0003, 0.01, PIECE)
        p = b + rng.normal(0.0, 0.002, PIECE)
        pp, bp = folder / f"p{k:03d}.npy", folder / f"b{k:03d}.npy"
        np.save(pp, p)
        np.save(bp, b)
        pieces.append((pp, bp))
    return pieces


def load(path: str) -> np.ndarray:
    return np.load(path)


def series_arrays(pieces):
    def lazy(paths):
        return da.concatenate(
            [
                da.from_delayed(dask.delayed(load)(str(q)), shape=(PIECE,), dtype=np.float64)
                for q in paths
            ]
        )

    return lazy([p for p, _ in pieces]), lazy([b for _, b in pieces])


# --- runs ---------------------------------------------------------------------------------------


def cluster_run(workers: int, job: str, route, pieces, rounds: int):
    """Times of `rounds` runs of one route on a fresh cluster, and each
    worker's peak memory (MB) after them."""
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
            host="127.0.0.1", memory_limit="10GB", silence_logs=logging.CRITICAL,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        if job == "panel":
            p, b = panel_arrays()
            p, b = client.persist([p, b])
            distributed.wait([p, b])
        else:
            p, b = series_arrays(pieces)
        # warm up: imports, and numba's compilation of numbagg in each worker
        tiny = da.from_array(np.random.default_rng(0).normal(0, 0.01, (400, 4)), chunks=(200, 2))
        for x in (tiny, tiny[:, 0]):
            client.compute(list(summary(*route(x, tiny[:, 1]))), sync=True)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            client.compute(list(summary(*route(p, b))), sync=True)
            times.append(time.perf_counter() - start)
        peaks = sorted(client.run(worker_peak_mb).values())
    return times, peaks


def threaded_run(route, pieces) -> float:
    """One run of a route on this process's threaded scheduler (2 threads)."""
    p, b = series_arrays(pieces)
    start = time.perf_counter()
    dask.compute(*summary(*route(p, b)), scheduler="threads", num_workers=2)
    return time.perf_counter() - start


def in_memory_run(job: str, pieces, threads):
    """The panel is made before the clock starts (as the cluster's is held in
    its workers); the series is read from its pieces inside the clock, as the
    out-of-core routes read it."""
    if job == "panel":
        p, b = (np.asarray(x) for x in dask.compute(*panel_arrays(), scheduler="threads"))
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        if job == "series":
            p = np.concatenate([np.load(q) for q, _ in pieces])
            b = np.concatenate([np.load(q) for _, q in pieces])
        te = trackerr.rolling_tracking_error(p, b, WINDOW, threads=threads)
        beta = trackerr.rolling_beta(p, b, WINDOW, threads=threads)
        times.append(time.perf_counter() - start)
        del te, beta
    return times


def main() -> None:
    # fresh worker processes, not forks of this one (whose memory would count as theirs)
    dask.config.set({"distributed.worker.multiprocessing-method": "spawn"})
    folder = Path(
        tempfile.mkdtemp(prefix="trackerr-dask-", dir=os.environ.get("TRACKERR_BENCH_DIR"))
    )
    try:
        start = time.perf_counter()
        pieces = write_series(folder)
        took = time.perf_counter() - start
        print(f"series written: {POINTS:.0e} points x 2 in {folder} ({took:.0f} s)")
        for job, size in (("panel", f"{ROWS} x {COLS:,}"), ("series", f"{POINTS:.0e} points")):
            if job not in JOBS:
                continue
            print(f"\n{job} ({size}), rolling TE + beta, window {WINDOW}; medians of {ROUNDS}")
            results = {}
            # interleaved: each round of every route before the next round
            for _ in range(ROUNDS):
                for name, workers, route in (
                    ("trackerr.dask, 2 workers", 2, ours),
                    ("dask map_overlap + numbagg, 2 workers", 2, generic),
                    ("trackerr.dask, 1 worker", 1, ours),
                ):
                    times, peaks = cluster_run(workers, job, route, pieces, 1)
                    results.setdefault(name, ([], []))
                    results[name][0].extend(times)
                    results[name][1].append(max(peaks))
                if job == "series":
                    for name, route in (
                        ("trackerr.dask, threaded scheduler", ours),
                        ("map_overlap + numbagg, threaded scheduler", generic),
                    ):
                        results.setdefault(name, ([], [peak_rss_mb()]))
                        results[name][0].append(threaded_run(route, pieces))
            for threads, label in ((1, "one thread"), (None, "default threads")):
                times = in_memory_run(job, pieces, threads)
                results[f"trackerr in memory, {label}"] = (times, [peak_rss_mb()])
            base = statistics.median(results["trackerr.dask, 2 workers"][0])
            for name, (times, peaks) in results.items():
                t = statistics.median(times)
                whose = "(a worker)" if "worker" in name else "(this process)"
                print(
                    f"  {name:42s} {t:8.2f} s  {t / base:5.2f}x trackerr.dask's time  "
                    f"peak {max(peaks):8.0f} MB {whose}"
                )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
