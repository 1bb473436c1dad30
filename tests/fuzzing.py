"""Shared settings for the fuzzers: a fixed seed and a time budget.

Every fuzzer asserts one rule: a correct result (the reference agrees) or a
clean ValueError/TypeError (exit status 2 and one line for the CLI); never a
crash, never a traceback, never a modified input.

The budget is per fuzzer, in seconds, from ``TRACKERR_FUZZ_SECONDS`` (default
10); the seed is fixed, so a run is repeatable, and a longer budget explores
further along the same sequence.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import numpy as np
from hypothesis import HealthCheck, settings

SECONDS = float(os.environ.get("TRACKERR_FUZZ_SECONDS", "10"))
SEED = 20261129

# Hypothesis: derandomized (a fixed sequence of examples), no per-example
# deadline, and enough examples to fill roughly the budget.
FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=int(os.environ.get("TRACKERR_FUZZ_EXAMPLES", "300")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


def budget(seconds: float = SECONDS, max_cases: int = 1_000_000) -> Iterator[np.random.Generator]:
    """Yield one seeded generator per case until the time budget or ``max_cases`` is spent.

    Case k always gets the generator seeded with (SEED, k), so a failure names
    a case that can be replayed alone.
    """
    stop = time.monotonic() + seconds
    for k in range(max_cases):
        if k and time.monotonic() > stop:
            return
        yield np.random.default_rng([SEED, k])
