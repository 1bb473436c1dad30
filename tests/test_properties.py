"""Hypothesis properties of the kernels and the merge algebra.

Derandomized (a fixed sequence of examples, no example database), as every
fuzzer here: a run on CI tries what a run here tried."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import trackerr
from trackerr import _core

# Magnitudes whose squares and products stay normal doubles: underflow to 0 is
# a property of the format, not of the kernels.
finite = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-100, max_value=1e3),
    st.floats(min_value=-1e3, max_value=-1e-100),
)
returns = hnp.arrays(np.float64, st.integers(2, 700), elements=finite)


def _rel(a, b):
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale else 0.0


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(returns)
def test_tracking_error_of_identical_series_is_exactly_zero(b):
    assert trackerr.tracking_error(b, b) == 0.0
    assert trackerr.tracking_error(b, b, periods_per_year=252) == 0.0


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(returns)
def test_beta_of_benchmark_on_itself_is_one(b):
    got = trackerr.beta(b, b)
    if not _core.comoments(b, b)[0].c_bb > 0:
        # constant benchmark (or a variance that underflows): beta undefined
        assert math.isnan(got)
    else:
        assert got == 1.0
        assert trackerr.correlation(b, b) == 1.0


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(returns, st.data())
def test_merge_of_two_halves_equals_whole(x, data):
    y = data.draw(hnp.arrays(np.float64, x.shape, elements=finite))
    cut = data.draw(st.integers(0, len(x)))
    whole, _ = _core.active_moments(x, y)
    left, _ = _core.active_moments(x[:cut], y[:cut])
    right, _ = _core.active_moments(x[cut:], y[cut:])
    merged = left + right
    assert merged.n == whole.n
    assert _rel(merged.mean, whole.mean) <= 1e-12 or abs(merged.mean - whole.mean) <= 1e-12
    assert abs(merged.m2 - whole.m2) <= 1e-12 * max(whole.m2, 1e-300)

    cw, _ = _core.comoments(x, y)
    cl, _ = _core.comoments(x[:cut], y[:cut])
    cr, _ = _core.comoments(x[cut:], y[cut:])
    cm = cl + cr
    scale = math.sqrt(cw.c_pp) * math.sqrt(cw.c_bb)  # Cauchy-Schwarz bound on |c_pb|
    for field in ("c_pp", "c_bb"):
        assert abs(getattr(cm, field) - getattr(cw, field)) <= 1e-12 * max(
            getattr(cw, field), 1e-300
        )
    assert abs(cm.c_pb - cw.c_pb) <= 1e-12 * max(scale, 1e-300)


@pytest.mark.xfail(strict=True, reason="known: Moments' merge loses digits at a high level (open)")
def test_merge_at_a_level_far_above_the_spread_keeps_m2():
    # Found by this module's merge property under a random seed: active
    # returns 1, 1 - 1e-13, 1 (spread 1e-13 at level 1). One pass gets M2 of
    # the rounded differences exactly; merging [1] with [1 - 1e-13, 1] takes
    # delta from two means rounded at level 1 (half an ulp of 1 against a
    # spread of 1e-13) and misses by 7e-5 relative. A fix needs the states'
    # means kept relative to a reference level (as the window states do).
    x = np.array([1.0, 1.0, 1.0])
    y = np.array([0.0, 1e-13, 0.0])
    a = [Fraction(float(v)) for v in x - y]
    mean = sum(a) / len(a)
    exact = float(sum((v - mean) ** 2 for v in a))
    whole, _ = _core.active_moments(x, y)
    assert whole.m2 == exact
    left, _ = _core.active_moments(x[:1], y[:1])
    right, _ = _core.active_moments(x[1:], y[1:])
    assert abs((left + right).m2 - exact) <= 1e-12 * exact


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(returns, st.integers(1, 5))
def test_panel_columns_equal_1d_calls(b, n_cols):
    # The row-wise panel kernel and the 1-D kernel sum in different orders:
    # they agree to rounding, relative for well-conditioned metrics and
    # relative to the data's scale for a mean.
    rng = np.random.default_rng(len(b))
    panel = b[:, None] + rng.normal(0, 1, (len(b), n_cols))
    for name in ("tracking_error", "beta", "correlation", "active_return"):
        f = getattr(trackerr, name)
        cols = f(panel, b)
        for j in range(n_cols):
            one = f(np.ascontiguousarray(panel[:, j]), b)
            if math.isnan(one):
                assert math.isnan(cols[j])
            elif name == "active_return":
                assert abs(cols[j] - one) <= 1e-13 * np.max(np.abs(panel[:, j] - b))
            else:
                assert _rel(cols[j], one) <= 1e-13


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(returns, st.floats(-1e6, 1e6))
def test_tracking_error_is_shift_invariant(a, shift):
    # adding the same amount to portfolio and benchmark changes nothing material
    rng = np.random.default_rng(len(a))
    b = rng.normal(0, 1, len(a))
    te = trackerr.tracking_error(a + b, b)
    te_shift = trackerr.tracking_error(a + b + shift, b + shift)
    ref = trackerr.tracking_error(a, np.zeros_like(a))
    # both differ from the exact value only by rounding of the inputs themselves
    tol = 1e-12 * ref + 4 * np.finfo(float).eps * (np.max(np.abs(a + b)) + abs(shift))
    assert abs(te - ref) <= tol and abs(te_shift - ref) <= tol
