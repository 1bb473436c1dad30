"""Adversarial cases from NUMERICS.md against exact (math.fsum) references,
and the no-copy / no-temporary contract checked with tracemalloc."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

import trackerr
from trackerr import reference


def _exact_std(a, ddof=1):
    return reference.tracking_error(a, np.zeros_like(a), ddof=ddof)


@pytest.mark.parametrize("level", [1e4, 1e6, 1e9])
def test_large_level_tiny_noise(rng, level):
    n = 200_000
    b = np.full(n, level) + rng.normal(0, 1e-4, n)
    p = b + rng.normal(0, 1e-4, n)
    got = trackerr.tracking_error(p, b)
    want = _exact_std(p - b)  # the active return is formed in float64 first, as documented
    assert abs(got - want) <= 1e-13 * want
    # beta of a series on itself at that level (a variance that a naive sum loses entirely)
    assert trackerr.beta(b, b) == 1.0


def test_regime_change(rng):
    parts = [
        rng.normal(0, 1, 1000) * 10 ** rng.uniform(2, 8, 1000),
        rng.normal(0, 1e-3, 5000),
        np.full(3000, 0.125),
    ]
    a = np.concatenate(parts)[rng.integers(0, 7) :]
    got = trackerr.tracking_error(a, np.zeros_like(a))
    assert abs(got - _exact_std(a)) <= 1e-13 * _exact_std(a)
    # the tail alone: noise then a constant stretch
    tail = np.concatenate(parts[1:])
    assert abs(trackerr.tracking_error(tail, 0 * tail) - _exact_std(tail)) <= 1e-13 * _exact_std(
        tail
    )
    const = parts[2]
    assert trackerr.tracking_error(const, np.zeros_like(const)) == 0.0


def test_stale_prices(rng):
    # runs of identical returns, as in illiquid tokens and oracle feeds
    a = np.repeat(rng.normal(0, 0.01, 300), rng.integers(1, 50, 300))
    assert abs(trackerr.tracking_error(a, 0 * a) - _exact_std(a)) <= 1e-13 * _exact_std(a)


def test_long_series_does_not_drift(rng):
    n = 3_000_000
    a = 1e3 + rng.normal(0, 1, n)
    got = trackerr.tracking_error(a, np.zeros(n))
    want = math.sqrt(math.fsum(((a - math.fsum(a) / n) ** 2).tolist()) / (n - 1))
    assert abs(got - want) <= 1e-13 * want
    got_mean = trackerr.active_return(a, np.zeros(n))
    assert abs(got_mean - math.fsum(a.tolist()) / n) <= 1e-15 * 1e3


def test_same_answer_whatever_the_starting_offset(rng):
    a = 1e6 + rng.normal(0, 1e-2, 10_000)
    want = _exact_std(a[7:])
    assert abs(trackerr.tracking_error(a[7:], np.zeros(len(a) - 7)) - want) <= 1e-13 * want


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x[::2],
        lambda x: x[::-1],
        lambda x: np.asfortranarray(x.reshape(-1, 50)),
        lambda x: x.reshape(-1, 50),
        lambda x: x.astype(np.float32),
    ],
    ids=["every-other", "reversed", "fortran-panel", "c-panel", "float32"],
)
def test_no_copy_and_no_input_sized_temporary(make):
    x = make(np.random.default_rng(0).normal(0, 0.01, 2_000_000))
    b = np.zeros(x.shape[0], dtype=x.dtype)
    tracemalloc.start()
    try:
        for name in ("tracking_error", "beta", "tracking_difference"):
            getattr(trackerr, name)(x, b)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < x.nbytes / 20, f"peak traced allocation {peak} bytes for a {x.nbytes}-byte input"


@pytest.mark.parametrize("order", ["C", "F"])
def test_panel_regime_change_and_levels(rng, order):
    # Columns whose level jumps between row tiles exercise the panel kernel's
    # two-pass fallback; a NaN exercises its masked path.
    t, n = 700, 9
    panel = rng.normal(0, 1e-3, (t, n))
    panel[:100, 0] += 1e8
    panel[300:, 1] *= 1e6
    panel[:, 2] += 1e9
    panel[::3, 3] = 5.0
    panel[200:450, 4] = 0.25
    panel[10, 5] = np.nan
    panel = np.asarray(panel, order=order)
    b = rng.normal(0, 1e-3, t)
    for name in ("tracking_error", "beta", "correlation"):
        got = getattr(trackerr, name)(panel, b)
        want = getattr(reference, name)(panel, b)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    mean_got = trackerr.active_return(panel, b)
    mean_want = reference.active_return(panel, b)
    scale = np.nanmax(np.abs(panel - b[:, None]), axis=0)
    assert (np.abs(mean_got - mean_want) <= 1e-15 * scale).all()
