"""Conformance with empyrical-reloaded where the conventions match.

Where they match:
* beta: empyrical.beta equals trackerr.beta (both cov(p, b) / var(b) over NaN-free pairs);
* information ratio: trackerr's arithmetic IR equals empyrical's excess_sharpe(p, b) * sqrt(P)
  (empyrical's is per period and not annualized);
* alpha: empyrical.alpha is geometric, (1 + mean(p - rf - beta (b - rf)))^P - 1, which is
  trackerr.alpha(method='geometric').
Where they differ (documented, not tested for equality): empyrical has no tracking error,
tracking difference or active return function, and its excess_sharpe of a portfolio equal to
its benchmark is NaN like ours (quantstats and ffn report 0).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import trackerr
from trackerr import datasets

empyrical = pytest.importorskip("empyrical")


@pytest.fixture(params=["random", "steth-eth"])
def pair(request, rng):
    if request.param == "random":
        b = rng.normal(0.0005, 0.012, 2000)
        p = 1.1 * b + rng.normal(0.0001, 0.004, 2000)
        p[rng.random(2000) < 0.02] = np.nan
        return p, b
    r = datasets.load("steth_eth").returns(["STETH", "ETH"])
    return r[:, 0].copy(), r[:, 1].copy()


def test_beta(pair):
    p, b = pair
    assert trackerr.beta(p, b) == pytest.approx(empyrical.beta(p, b), rel=1e-12)


@pytest.mark.parametrize("periods", [252, 365])
def test_information_ratio_is_annualized_excess_sharpe(pair, periods):
    p, b = pair
    ok = ~(np.isnan(p) | np.isnan(b))  # empyrical drops NaN per series, we drop pairs
    want = empyrical.excess_sharpe(p[ok], b[ok]) * math.sqrt(periods)
    got = trackerr.information_ratio(p, b, periods_per_year=periods)
    assert got == pytest.approx(want, rel=1e-12)


def test_alpha_geometric(pair):
    p, b = pair
    ok = ~(np.isnan(p) | np.isnan(b))
    want = empyrical.alpha(p[ok], b[ok], risk_free=0.0001, annualization=252)
    got = trackerr.alpha(p, b, risk_free=0.0001, periods_per_year=252, method="geometric")
    assert got == pytest.approx(want, rel=1e-10)


def test_identical_series_ir_is_nan_like_empyrical():
    b = np.array([0.01, -0.02, 0.005, 0.0])
    assert math.isnan(trackerr.information_ratio(b, b))
    assert math.isnan(empyrical.excess_sharpe(b, b))
