"""An interleaved timer: trackerr and its peers take turns, round after round.

pytest-benchmark runs each benchmark's rounds back to back, so on a shared
machine a burst of someone else's work (a compiler on the other core) lands on
one contender and not the other. Here every round times each contender once,
one after the other, in an order that rotates from round to round, so that all
of them see the same machine; figures are medians over the rounds, and the
ratio of two contenders is the median of their per-round ratios (each round's
pair ran seconds apart under the same load).

Fast calls are repeated within a sample (``inner``, calibrated once so a sample
lasts about ``target`` seconds) and the sample divided by the repeats, so that
the timer's resolution and the loop's own cost do not count. The garbage
collector is paused while timing and run between rounds.

Used by ``bench/report.py`` for issue 10's table; usable on its own::

    from race import race, ratio
    samples = race({"trackerr": f, "bottleneck": g}, rounds=15)
    ratio(samples, "bottleneck", "trackerr")  # > 1: trackerr is faster
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any


def calibrate(fn: Callable[[], Any], target: float, cap: int = 100_000) -> int:
    """Repeats of ``fn`` so that one sample lasts about ``target`` seconds."""
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    if once >= target:
        return 1
    # One more, now warm, and from it the count (a first call may have paid
    # for page faults or a cache miss that later calls do not).
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-9)
    return max(1, min(cap, math.ceil(target / once)))


def race(
    calls: Mapping[str, Callable[[], Any]],
    *,
    rounds: int,
    target: float = 0.02,
    warmup: int = 1,
) -> dict[str, list[float]]:
    """Time each call once per round, round-robin; ``{name: seconds per call
    in each round}``.

    Parameters
    ----------
    calls : mapping of name -> zero-argument callable
        The contenders, all timed in every round.
    rounds : int
        Samples per contender.
    target : float
        Seconds a sample should last; faster calls are repeated within it.
    warmup : int
        Untimed calls of each contender first (imports, JIT, page faults).
    """
    if rounds < 1:
        raise ValueError(f"rounds (={rounds}) must be at least 1")
    names = list(calls)
    for name in names:
        for _ in range(warmup):
            calls[name]()
    inner = {name: calibrate(calls[name], target) for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    enabled = gc.isenabled()
    try:
        for r in range(rounds):
            gc.collect()
            gc.disable()
            shift = r % len(names)  # rotate: no contender always follows the same one
            for name in names[shift:] + names[:shift]:
                fn, k = calls[name], inner[name]
                t0 = time.perf_counter()
                for _ in range(k):
                    fn()
                samples[name].append((time.perf_counter() - t0) / k)
            if enabled:
                gc.enable()
    finally:
        if enabled:
            gc.enable()
    return samples


def median(samples: Mapping[str, list[float]], name: str) -> float:
    """Median seconds per call of one contender."""
    return statistics.median(samples[name])


def ratio(samples: Mapping[str, list[float]], numerator: str, denominator: str) -> float:
    """Median over rounds of ``numerator``'s time over ``denominator``'s in the
    same round (``ratio(s, peer, "trackerr") > 1``: trackerr is faster)."""
    pairs = zip(samples[numerator], samples[denominator], strict=True)
    return statistics.median(a / b for a, b in pairs)
