"""The kernels' threads: results for any ``threads``, callers on several
Python threads at once, and a forked child (the pool of threads is per
process: the parent's threads do not exist in a child)."""

from __future__ import annotations

import multiprocessing
import sys
import threading

import numpy as np
import pytest

import trackerr


def _series(n: int = 20_000, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, 0.01, n)
    return b + rng.normal(0.0, 0.002, n), b


def test_callers_on_several_threads_get_the_single_thread_results():
    p, b = _series()
    panel = np.stack([p, b * 1.5, p - b], axis=1)
    want_te = trackerr.rolling_tracking_error(p, b, 63, threads=1)
    want_beta = trackerr.rolling_beta(panel, b, 63, threads=1)
    failures: list[str] = []

    def work() -> None:
        for _ in range(20):
            te = trackerr.rolling_tracking_error(p, b, 63, threads=2)
            beta = trackerr.rolling_beta(panel, b, 63, threads=3)
            if not np.array_equal(te, want_te, equal_nan=True):
                failures.append("te")
            if not np.array_equal(beta, want_beta, equal_nan=True):
                failures.append("beta")

    callers = [threading.Thread(target=work) for _ in range(4)]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert failures == []


def _child(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    p, b = _series()
    te = trackerr.rolling_tracking_error(p, b, 63, threads=2)
    queue.put(te.tobytes())


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 3.12+: fork() of a threaded process
def test_a_forked_child_runs_threaded_kernels():
    p, b = _series()
    want = trackerr.rolling_tracking_error(p, b, 63, threads=2)  # the parent's pool now exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    got = queue.get(timeout=120)
    child.join(timeout=120)
    assert child.exitcode == 0
    assert np.array_equal(np.frombuffer(got), want, equal_nan=True)
