"""Fuzzer: random panels (shape, window, min_periods, layout, dtype, benchmark
form, threads, NaN / inf / constant runs / extreme scales) must give, column by
column, exactly the bits of the 1-D kernel, and leave the inputs untouched.

Seeded and time-boxed by tests/fuzzing.py (``budget``): a failure names its
case number, replayable alone.
"""

from __future__ import annotations

import numpy as np

import trackerr
from fuzzing import budget

FIELDS = (
    "tracking_error",
    "active_return",
    "information_ratio",
    "beta",
    "alpha",
    "correlation",
    "r_squared",
)


def _case(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    T = int(rng.integers(1, 400))
    N = int(rng.integers(1, 45))
    b = rng.normal(0.0, 0.01, T)
    P = b[:, None] + rng.normal(0.0, 0.003, (T, N))
    for c in range(N):
        trouble = rng.integers(0, 6)
        lo = int(rng.integers(0, T))
        hi = min(T, lo + int(rng.integers(1, 80)))
        if trouble == 1:
            P[lo:hi, c] = np.nan
        elif trouble == 2:
            P[lo:hi, c] = P[lo, c]  # a constant run
        elif trouble == 3:
            P[lo, c] = rng.choice([np.inf, -np.inf, np.nan])
        elif trouble == 4:
            P[:, c] = P[:, c] * 10.0 ** rng.uniform(-160, 150) + rng.choice([0.0, 1e6])
    if rng.random() < 0.5:  # a full benchmark panel
        b = b[:, None] + rng.normal(0.0, 0.001, (T, N))
        if rng.random() < 0.3:
            b[rng.random(b.shape) < 0.03] = np.nan
    elif rng.random() < 0.3:
        b[rng.integers(0, T)] = np.nan
    with np.errstate(over="ignore"):  # extreme scales become inf in float32: more trouble
        if rng.random() < 0.3:
            P = P.astype(np.float32)
        if rng.random() < 0.2:
            b = b.astype(np.float32)
    layout = rng.integers(0, 4)
    if layout == 1:
        P = np.asfortranarray(P)
    elif layout == 2:
        P = np.repeat(P, 2, axis=1)[:, ::2]
    elif layout == 3:
        P = np.repeat(P, 2, axis=0)[::2]
    w = int(rng.integers(2, max(3, min(T + 5, 90))))
    opts = {
        "min_periods": None if rng.random() < 0.5 else int(rng.integers(1, w + 1)),
        "threads": [1, 2, 3, None][int(rng.integers(0, 4))],
        "periods_per_year": None if rng.random() < 0.5 else 252,
        "risk_free": 0.0 if rng.random() < 0.5 else 1e-4,
        "window": w,
    }
    return P, b, opts


def test_random_panels_match_the_1d_kernel_bit_for_bit():
    cases = 0
    for rng in budget():
        P, b, opts = _case(rng)
        w = opts.pop("window")
        P0, b0 = P.copy(), b.copy()
        stats = trackerr.rolling_stats(P, b, w, **opts)
        assert np.array_equal(P, P0, equal_nan=True) and np.array_equal(b, b0, equal_nan=True)
        opts.pop("threads")
        for c in range(P.shape[1]):
            bc = b[:, c] if b.ndim == 2 else b
            pc, bc = np.ascontiguousarray(P[:, c]), np.ascontiguousarray(bc)
            one = trackerr.rolling_stats(pc, bc, w, **opts)
            for field in FIELDS:
                assert np.array_equal(
                    getattr(stats, field)[:, c], getattr(one, field), equal_nan=True
                ), (cases, c, field, P.shape, P.dtype, b.shape, w, opts)
        cases += 1
    assert cases > 0
