"""Fuzzing the timing functions (tracking_error_by_horizon, timing_decomposition,
lead_lag) with the inputs users have: short series, NaN and inf, returns of
-100 % or less, constant series, huge and tiny values, lists, pandas, float32.

The rule (tests/fuzzing.py): a result of the documented shape whose figures
are finite or NaN, never negative where they are dispersions, timing shares
in [0, 1]; or a clean ValueError/TypeError. Never a crash, a warning turned
traceback, or a modified input. Fixed seed, time budget.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import trackerr
from fuzzing import SECONDS, budget


def _series(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = int(rng.choice([2, 5, 9, 17, 40, 130, 600]))
    scale = float(rng.choice([1e-9, 1e-4, 0.01, 0.3]))
    b = rng.normal(0.0, scale, n)
    p = b + rng.normal(0.0, scale * float(rng.choice([0.0, 0.1, 1.0])), n)
    for x in (p, b):
        kind = rng.integers(0, 8)
        i = int(rng.integers(0, n))
        if kind == 0:
            x[i] = np.nan
        elif kind == 1:
            x[i] = np.inf
        elif kind == 2:
            x[i] = -1.0
        elif kind == 3:
            x[:] = 0.001  # constant
        elif kind == 4:
            x[rng.random(n) < 0.3] = np.nan
    return p, b


def _container(rng: np.random.Generator, x: np.ndarray):
    kind = rng.integers(0, 4)
    if kind == 1:
        return x.tolist()
    if kind == 2:
        return x.astype(np.float32)
    if kind == 3:
        pd = pytest.importorskip("pandas")
        return pd.Series(x, index=pd.bdate_range("2020-01-01", periods=len(x)))
    return x


def _check_profile(prof, n_horizons: int) -> None:
    te = np.asarray(prof.tracking_error if hasattr(prof, "horizons") else prof.to_numpy())
    assert te.shape == (n_horizons,)
    assert np.all(np.isnan(te) | (te >= 0.0))


def _check_decomposition(d) -> None:
    for v in (d.naive_tracking_error, d.genuine_tracking_error, d.timing_noise):
        assert math.isnan(v) or v >= 0.0
    assert math.isnan(d.timing_share) or 0.0 <= d.timing_share <= 1.0
    lo, hi = d.genuine_interval
    assert math.isnan(lo) or 0.0 <= lo <= hi
    assert isinstance(d.fits, bool)


def _check_lead_lag(ll, max_lag: int) -> None:
    assert ll.lags.shape == (2 * max_lag + 1,)
    assert ll.correlation.shape == ll.tracking_error.shape == ll.lags.shape
    c = ll.correlation[np.isfinite(ll.correlation)]
    assert np.all(np.abs(c) <= 1.0)
    assert -max_lag <= ll.best_lag <= max_lag


def test_fuzz_timing_functions() -> None:
    cases = 0
    for rng in budget(seconds=SECONDS / 2):
        p, b = _series(rng)
        p0, b0 = p.copy(), b.copy()
        pc, bc = _container(rng, p), _container(rng, b)
        which = int(rng.integers(0, 3))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a numpy RuntimeWarning is a defect too
            try:
                if which == 0:
                    hs = sorted({int(h) for h in rng.integers(1, 30, int(rng.integers(1, 4)))})
                    prof = trackerr.tracking_error_by_horizon(
                        pc, bc, hs, overlapping=bool(rng.integers(0, 2)), periods_per_year=252
                    )
                    _check_profile(prof, len(hs))
                elif which == 1:
                    d = trackerr.timing_decomposition(
                        pc,
                        bc,
                        max_horizon=int(rng.integers(2, 12)),
                        groups=int(rng.choice([0, 2, 5])),
                    )
                    _check_decomposition(d)
                else:
                    m = int(rng.integers(0, 5))
                    ll = trackerr.lead_lag(pc, bc, max_lag=m, dimson_lags=int(rng.integers(0, 3)))
                    _check_lead_lag(ll, m)
            except (ValueError, TypeError) as exc:
                assert str(exc) and "\n" not in str(exc)
        np.testing.assert_array_equal(p, p0)
        np.testing.assert_array_equal(b, b0)
        cases += 1
    assert cases > 10
