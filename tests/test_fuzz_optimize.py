"""Fuzzing min_tracking_error with the constraints users combine: bounds,
budgets, group caps, turnover, costs, expected returns, max and min names,
minimum positions, whole lots, both methods; returns at tiny and huge scales,
constant and collinear assets; and bad values in every argument.

The rule (tests/fuzzing.py): weights that meet every constraint given (to
1e-9), a finite tracking error whose contributions sum to it, the inputs
untouched; or a clean ValueError/TypeError. Never a crash or another
exception. Fixed seed, time budget.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import trackerr
from fuzzing import SECONDS, budget

pytest.importorskip("daqp")

TOL = 1e-9


def _returns(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = int(rng.choice([1, 2, 3, 5, 8, 12, 30]))
    t = int(rng.choice([2, 3, 10, 60, 250]))
    scale = float(rng.choice([1e-9, 1e-4, 0.01, 0.3, 50.0]))
    k = int(rng.integers(1, 4))
    r = rng.normal(0.0, scale, (t, k)) @ rng.normal(1.0, 0.5, (k, n))
    r = r + rng.normal(0.0, scale * float(rng.choice([0.0, 0.1, 1.0])), (t, n))
    kind = rng.integers(0, 6)
    if kind == 0 and n > 1:
        r[:, 1] = r[:, 0]  # two identical assets
    elif kind == 1:
        r[:, 0] = 0.0  # a constant asset
    wb = rng.dirichlet(np.ones(n))
    b = r @ wb + rng.normal(0.0, scale * float(rng.choice([0.0, 0.01, 0.5])), t)
    return r, b


def _options(rng: np.random.Generator, n: int) -> dict:
    kw: dict = {}
    if rng.random() < 0.6:
        kw["upper"] = float(rng.choice([0.05, 0.2, 0.5, 1.0, np.inf]))
    if rng.random() < 0.2:
        kw["lower"] = float(rng.choice([0.0, 0.01, -0.2, -np.inf]))
    if rng.random() < 0.15:
        kw["budget"] = float(rng.choice([0.5, 1.0, 1.5, 0.0]))
    if rng.random() < 0.2 and n > 1:
        kw["groups"] = [f"g{i % 2}" for i in range(n)]
        kw["group_caps"] = {"g0": float(rng.choice([0.1, 0.6])), "g1": (0.2, 0.9)}
    if rng.random() < 0.25:
        kw["current"] = rng.dirichlet(np.ones(n))
        if rng.random() < 0.6:
            kw["turnover"] = float(rng.choice([0.0, 0.05, 0.5, 2.0]))
        else:
            kw["costs"] = float(rng.choice([0.0, 1e-4, 0.01, 1.0]))
    if rng.random() < 0.15:
        kw["expected_returns"] = rng.normal(0.0, 0.05, n)
        kw["risk_aversion"] = float(rng.choice([0.5, 10.0]))
    if rng.random() < 0.35:
        kw["max_names"] = int(rng.integers(1, n + 2))
    if rng.random() < 0.2:
        kw["min_position"] = float(rng.choice([0.01, 0.1, 0.4]))
        if rng.random() < 0.5:
            kw["min_names"] = int(rng.integers(1, n + 1))
    if rng.random() < 0.2:
        kw["prices"] = rng.uniform(1.0, 500.0, n)
        kw["capital"] = float(rng.choice([1e3, 1e5, 1e7]))
        if rng.random() < 0.5:
            kw["lot_sizes"] = float(rng.choice([1.0, 10.0]))
    if rng.random() < 0.1 and n <= 8:
        kw["method"] = "exact"
    if rng.random() < 0.2:
        kw["periods_per_year"] = str(rng.choice(["daily", "crypto"]))
    return kw


def _spoil(rng: np.random.Generator, kw: dict, r: np.ndarray, b: np.ndarray) -> None:
    """One bad value somewhere (or none)."""
    kind = int(rng.integers(0, 14))
    n = r.shape[1]
    if kind == 0:
        r[0, 0] = np.nan
    elif kind == 1:
        b[-1] = np.inf
    elif kind == 2:
        kw["upper"] = np.full(n + 1, 0.5)
    elif kind == 3:
        kw["max_names"] = float(rng.choice([0.0, 2.5, -1.0]))
    elif kind == 4:
        kw["min_position"] = float(rng.choice([0.0, -0.1, np.nan]))
    elif kind == 5:
        kw["prices"] = np.full(n, float(rng.choice([0.0, -1.0, np.nan])))
        kw["capital"] = 1e4
    elif kind == 6:
        kw["turnover"] = float(rng.choice([-1.0, np.nan]))
        kw["current"] = np.full(n, 1.0 / n)
    elif kind == 7:
        kw["costs"] = "cheap"
        kw["current"] = np.full(n, 1.0 / n)
    elif kind == 8:
        kw["budget"] = float("nan")
    elif kind == 9:
        kw["method"] = "fastest"


def _check(res, r, b, kw) -> None:
    w = np.asarray(res.weights, dtype=float)
    n = r.shape[1]
    lo = np.broadcast_to(np.asarray(kw.get("lower", 0.0), dtype=float), (n,))
    hi = np.broadcast_to(np.asarray(kw.get("upper", 1.0), dtype=float), (n,))
    budget_ = kw.get("budget", 1.0)
    assert np.all(np.isfinite(w))
    assert np.all(w >= lo - TOL) and np.all(w <= hi + TOL)
    lots = "prices" in kw
    if lots:
        assert w.sum() <= budget_ + TOL
        units = np.asarray(res.units, dtype=float) / kw.get("lot_sizes", 1.0)
        np.testing.assert_allclose(units, np.round(units), atol=1e-9)
    else:
        assert abs(w.sum() - budget_) <= TOL * max(1.0, abs(budget_))
    if "group_caps" in kw:
        g = np.array(kw["groups"])
        assert w[g == "g0"].sum() <= kw["group_caps"]["g0"] + TOL
        assert 0.2 - TOL <= w[g == "g1"].sum() <= 0.9 + TOL
    if "turnover" in kw:
        assert np.abs(w - kw["current"]).sum() <= kw["turnover"] + 1e-8
    held = np.abs(w) > 1e-9
    assert held.sum() == res.names
    if "max_names" in kw:
        assert res.names <= kw["max_names"]
    if "min_names" in kw:
        assert res.names >= kw["min_names"]
    if "min_position" in kw:
        assert np.all(w[held] >= kw["min_position"] - TOL)
    assert math.isfinite(res.tracking_error) and res.tracking_error >= 0.0
    assert math.isfinite(res.ex_post) and res.ex_post >= 0.0
    parts = np.asarray(res.contributions.total, dtype=float)
    # each contribution is rounded once: the sum is TE within a few ulps of the
    # largest (which dwarf TE when the replication is near perfect)
    slack = 1e-12 * res.tracking_error + 1e-14 * float(np.abs(parts).sum())
    assert abs(math.fsum(parts) - res.tracking_error) <= slack


def test_fuzz_min_tracking_error():
    cases = 0
    for rng in budget(SECONDS / 2):
        r, b = _returns(rng)
        kw = _options(rng, r.shape[1])
        if rng.random() < 0.3:
            _spoil(rng, kw, r, b)
        r_before, b_before = r.copy(), b.copy()
        kw_arrays = {k: np.array(v, copy=True) for k, v in kw.items() if isinstance(v, np.ndarray)}
        try:
            res = trackerr.optimize.min_tracking_error(r, b, **kw)
        except (ValueError, TypeError) as exc:
            assert str(exc)  # a message that says what is wrong
        else:
            _check(res, r, b, kw)
        np.testing.assert_array_equal(r, r_before)
        np.testing.assert_array_equal(b, b_before)
        for k, v in kw_arrays.items():
            np.testing.assert_array_equal(kw[k], v)
        cases += 1
    assert cases > 0
