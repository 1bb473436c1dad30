"""The adversarial cases of NUMERICS.md for the rolling kernels, against an
exact per-window reference (math.fsum two-pass): worst relative error <= 1e-12
and every constant window exactly 0."""

from __future__ import annotations

import math

import numpy as np
import pytest

import trackerr


def _exact_std(x):
    m = math.fsum(x.tolist()) / len(x)
    d = x - m
    s1 = math.fsum(d.tolist())
    return math.sqrt(max(math.fsum((d * d).tolist()) - s1 * s1 / len(x), 0.0) / (len(x) - 1))


def _worst(te, a, w, positions):
    worst, zeros_ok = 0.0, True
    for t in positions:
        x = a[t - w + 1 : t + 1]
        want = _exact_std(x)
        if np.ptp(x) == 0:
            zeros_ok &= te[t] == 0.0
        elif want > 0:
            worst = max(worst, abs(te[t] - want) / want)
    return worst, zeros_ok


@pytest.mark.parametrize("w", [21, 252])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_regime_change(w, seed):
    rng = np.random.default_rng(seed)
    a = np.concatenate(
        [
            rng.normal(0, 1, 700) * 10 ** rng.uniform(2, 8, 700),
            rng.normal(0, 1e-3, 1500),
            np.full(600, 0.75),
            rng.normal(0, 1e-3, 400),
        ]
    )[rng.integers(0, 300) :]
    te = trackerr.rolling_tracking_error(a, np.zeros_like(a), w)
    worst, zeros_ok = _worst(te, a, w, range(w - 1, len(a)))
    assert worst <= 1e-12, worst
    assert zeros_ok


@pytest.mark.parametrize("level", [1e4, 1e6, 1e9])
def test_large_level_tiny_noise(level):
    rng = np.random.default_rng(int(math.log10(level)))
    n, w = 1_000_000, 63
    b = level + rng.normal(0, 1e-4, n)
    p = b + rng.normal(0, 1e-4, n)
    te = trackerr.rolling_tracking_error(p, b, w)
    a = p - b  # the active return is formed first, as documented
    positions = np.concatenate([rng.integers(w - 1, n, 1500), np.arange(n - 50, n)])
    worst, _ = _worst(te, a, w, positions)
    assert worst <= 1e-12, worst
    # the level series itself through the pair state (beta's variance at the level)
    beta = trackerr.rolling_beta(b, b, w)
    assert np.all(beta[w - 1 :] == 1.0)


def test_long_series_short_window_does_not_drift():
    rng = np.random.default_rng(4)
    n, w = 10_000_000, 21
    a = 100.0 + rng.normal(0, 1, n)
    te = trackerr.rolling_tracking_error(a, np.zeros(n), w)
    positions = np.concatenate([rng.integers(w - 1, n, 500), np.arange(n - 100, n)])
    worst, _ = _worst(te, a, w, positions)
    assert worst <= 1e-12, worst


def test_same_answer_whatever_the_starting_offset():
    rng = np.random.default_rng(5)
    a = np.concatenate([rng.normal(0, 1e5, 500), rng.normal(0, 1e-2, 5000)])
    full = trackerr.rolling_tracking_error(a, np.zeros_like(a), 50)
    for k in (1, 17, 333):
        part = trackerr.rolling_tracking_error(a[k:], np.zeros(len(a) - k), 50)
        both = full[k + 49 :], part[49:]
        np.testing.assert_allclose(both[0], both[1], rtol=1e-12, atol=0)


def test_stale_prices_panel_exact_zero():
    rng = np.random.default_rng(6)
    # oracle-style feeds: each price repeats for a while
    prices = np.repeat(rng.normal(0, 1, (60, 8)), rng.integers(1, 40), axis=0)
    b = np.repeat(rng.normal(0, 1, 60), len(prices) // 60)[: len(prices)]
    prices = prices[: len(b)]
    te = trackerr.rolling_tracking_error(prices, np.zeros_like(b), 10)
    for j in range(prices.shape[1]):
        for t in range(9, len(b)):
            if np.ptp(prices[t - 9 : t + 1, j]) == 0:
                assert te[t, j] == 0.0
