"""trackerr.dask over time-span windows against trackerr in memory.

A series of irregular ticks (2e7 rows, 0 to 19 s apart: ties included)
with its times in a dask array, the rolling tracking error over spans of an
hour and a day, chunks of 2e6 rows, on this process's threaded scheduler.
Each trackerr.dask figure includes the call (which reads the times: their
checks and each block's first and last time) and the compute; the in-memory
figures include the in-memory checks of the times. Medians of interleaved
rounds; the results are checked equal bit for bit.

    python bench/dask_time.py
    TRACKERR_BENCH_QUICK=1 python bench/dask_time.py   # 2e6 rows
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

try:
    import dask
    import dask.array as da

    import trackerr
    import trackerr.dask as td
except ImportError as exc:  # pragma: no cover
    sys.exit(f"bench/dask_time.py needs dask: {exc}")

QUICK = os.environ.get("TRACKERR_BENCH_QUICK", "") not in ("", "0")
ROWS = 2_000_000 if QUICK else 20_000_000
CHUNK = ROWS // 10
ROUNDS = 3 if QUICK else 5


def main() -> None:
    rng = np.random.default_rng(0)
    gaps = rng.integers(0, 20, ROWS).astype("timedelta64[s]")
    times = np.datetime64("2020-01-01") + np.cumsum(gaps)
    b = rng.normal(0.0, 0.01, ROWS)
    p = b + rng.normal(0.0, 0.002, ROWS)
    lazy_p, lazy_b = da.from_array(p, chunks=CHUNK), da.from_array(b, chunks=CHUNK)
    lazy_t = da.from_array(times, chunks=CHUNK)
    print(f"{ROWS:.0e} ticks, chunks of {CHUNK:.0e} rows; medians of {ROUNDS} rounds")
    for span in ("1h", "1D"):
        routes = {
            "trackerr in memory, 1 thread": lambda span=span: trackerr.rolling_tracking_error(
                p, b, span, times=times, threads=1
            ),
            "trackerr in memory, default threads": lambda span=span: (
                trackerr.rolling_tracking_error(p, b, span, times=times, threads=None)
            ),
            "trackerr.dask, threaded scheduler": lambda span=span: td.rolling_tracking_error(
                lazy_p, lazy_b, span, times=lazy_t
            ).compute(scheduler="threads"),
        }
        taken: dict[str, list[float]] = {name: [] for name in routes}
        for _ in range(ROUNDS):  # interleaved
            for name, run in routes.items():
                start = time.perf_counter()
                run()
                taken[name].append(time.perf_counter() - start)
        same = np.array_equal(
            routes["trackerr.dask, threaded scheduler"](),
            routes["trackerr in memory, 1 thread"](),
            equal_nan=True,
        )
        base = statistics.median(taken["trackerr in memory, default threads"])
        print(f"\nspan {span} (the same bits: {same})")
        for name, times_taken in taken.items():
            t = statistics.median(times_taken)
            print(f"  {name:38s} {t:6.2f} s  {t / base:5.2f}x in memory on default threads")
    print(f"\n(dask {dask.__version__}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
