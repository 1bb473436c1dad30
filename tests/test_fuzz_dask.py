"""Fuzzer for trackerr.dask: random lengths, windows, chunkings (blocks
starting anywhere in the kernels' segments), NaN and inf patterns, levels,
min_periods and NaN policies; every rolling metric must equal the in-memory
one bit for bit, every full-sample one agree to rounding, and bad options
fail as the in-memory functions fail. Fixed seed, time budget (fuzzing.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import trackerr
from fuzzing import budget

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
td = pytest.importorskip("trackerr.dask")

ROLLING = (
    ("rolling_tracking_error", True),
    ("rolling_beta", True),
    ("rolling_alpha", True),
    ("rolling_information_ratio", True),
    ("rolling_max_drawdown", False),
    ("rolling_sortino_ratio", False),
    ("rolling_omega_ratio", False),
    ("rolling_up_capture", True),
)


def chunking(rng: np.random.Generator, rows: int) -> tuple[int, ...]:
    cuts = np.sort(rng.choice(np.arange(1, rows), size=min(rows - 1, int(rng.integers(0, 6))),
                              replace=False))  # fmt: skip
    edges = [0, *cuts.tolist(), rows]
    return tuple(int(b - a) for a, b in itertools.pairwise(edges))


def test_dask_equals_in_memory_on_random_layouts():
    for rng in budget():
        rows = int(rng.integers(30, 6000))
        cols = int(rng.integers(1, 4))
        level = float(rng.choice([0.0, 0.0, 3.0, -0.5]))
        b = rng.normal(0.0003, 0.01, rows) + level * 0.1
        p = b[:, None] + rng.normal(0, 0.003, (rows, cols)) + level
        for _ in range(int(rng.integers(0, 4))):
            p[rng.integers(rows), rng.integers(cols)] = rng.choice([np.nan, np.inf])
        if rng.random() < 0.3:
            b[rng.integers(rows)] = np.nan
        window = int(rng.integers(2, max(3, min(rows, 400))))
        options = {}
        if rng.random() < 0.4:
            options["min_periods"] = int(rng.integers(1, window + 1))
        if rng.random() < 0.3:
            options["nan_policy"] = "propagate"
        pd_ = da.from_array(p, chunks=(chunking(rng, rows), 1 + int(rng.integers(0, cols))))
        bd = da.from_array(b, chunks=chunking(rng, rows))
        name, two = ROLLING[int(rng.integers(len(ROLLING)))]
        if name == "rolling_information_ratio" and window <= 1:
            continue
        args, lazy = ((p, b), (pd_, bd)) if two else ((p,), (pd_,))
        want = getattr(trackerr, name)(*args, window, **options)
        got = getattr(td, name)(*lazy, window, **options).compute(scheduler="sync")
        assert np.array_equal(got, want, equal_nan=True), (name, rows, window, options)
        if rng.random() < 0.3:
            full = "tracking_error" if two else "max_drawdown"
            policy = options.get("nan_policy", "omit")
            want = getattr(trackerr, full)(*args, nan_policy=policy)
            got = getattr(td, full)(*lazy, nan_policy=policy).compute(scheduler="sync")
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300, equal_nan=True)


def test_dask_time_windows_equal_in_memory_on_random_layouts():
    # times with ties and gaps; spans from one tick to the whole series; now
    # and then a series longer than a segment (2^16 rows) so blocks start
    # inside later segments
    for rng in budget():
        long = rng.random() < 0.15
        rows = int(rng.integers(65_537, 160_000)) if long else int(rng.integers(2, 5000))
        cols = int(rng.integers(1, 3))
        gaps = rng.choice([0, 1, 1, 2, 5, 60], size=rows)
        if rows > 10 and rng.random() < 0.5:
            gaps[rng.integers(rows)] = int(rng.integers(100, 100_000))
        times = np.datetime64("2024-01-01T00:00") + np.cumsum(gaps).astype("timedelta64[m]")
        level = float(rng.choice([0.0, 0.0, 2.0]))
        b = rng.normal(0.0003, 0.01, rows)
        p = b[:, None] + rng.normal(0, 0.003, (rows, cols)) + level
        for _ in range(int(rng.integers(0, 4))):
            p[rng.integers(rows), rng.integers(cols)] = rng.choice([np.nan, np.inf])
        spread = int(np.sum(gaps)) + 1
        span = np.timedelta64(
            int(rng.integers(1, max(2, spread // int(rng.choice([1, 10, 1000]))))), "m"
        )
        options = {"times": times}
        if rng.random() < 0.4:
            options["min_periods"] = int(rng.integers(1, 6))
        if rng.random() < 0.3:
            options["nan_policy"] = "propagate"
        pd_ = da.from_array(p, chunks=(chunking(rng, rows), 1 + int(rng.integers(0, cols))))
        bd = da.from_array(b, chunks=chunking(rng, rows))
        if rng.random() < 0.5:
            options_d = {**options, "times": da.from_array(times, chunks=chunking(rng, rows))}
        else:
            options_d = options
        name, two = ROLLING[int(rng.integers(len(ROLLING)))]
        args, lazy = ((p, b), (pd_, bd)) if two else ((p,), (pd_,))
        want = getattr(trackerr, name)(*args, span, **options)
        got = getattr(td, name)(*lazy, span, **options_d).compute(scheduler="sync")
        assert np.array_equal(got, want, equal_nan=True), (name, rows, span, pd_.chunks)


def test_dask_refuses_what_the_in_memory_functions_refuse():
    p = np.random.default_rng(1).normal(0, 0.01, (200, 2))
    b = p[:, 0] * 0.5
    pd_, bd = da.from_array(p, chunks=50), da.from_array(b, chunks=50)
    for options in (
        {"window": 1},
        {"window": 2.5},
        {"window": 10, "min_periods": 11},
        {"window": 10, "min_periods": 0},
        {"window": 10, "nan_policy": "drop"},
        {"window": 10, "ddof": -1},
        {"window": 10, "threads": 0},
        {"window": 10, "periods_per_year": -5},
    ):
        window = options.pop("window")
        with pytest.raises((ValueError, TypeError)) as want:
            trackerr.rolling_tracking_error(p, b, window, **options)
        with pytest.raises(type(want.value)) as got:
            td.rolling_tracking_error(pd_, bd, window, **options)
        assert str(got.value) == str(want.value)
