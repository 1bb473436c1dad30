"""Every metric against trackerr.reference over dtypes x layouts x NaN patterns x shapes."""

from __future__ import annotations

import numpy as np
import pytest

import trackerr
from trackerr import reference

from conftest import assert_close
from registry import GROWTH_BASED, METRICS

CASES = [(name, opts) for name, option_sets in METRICS.items() for opts in option_sets]
CASE_IDS = [
    f"{name}-{'-'.join(f'{k}={v}' for k, v in opts.items()) or 'default'}" for name, opts in CASES
]


def _returns(rng, shape, dtype):
    if np.dtype(dtype).kind in "iu":  # integer data must work too (converted to float64)
        return rng.integers(0, 3, size=shape).astype(dtype)
    return rng.normal(0.0005, 0.01, size=shape).astype(dtype)


def _with_nans(rng, p, b, pattern):
    if pattern == "none" or p.dtype.kind != "f":
        return p, b
    p, b = p.copy(), b.copy()
    if pattern == "sprinkled":
        p[rng.random(p.shape) < 0.05] = np.nan
        b[rng.random(b.shape) < 0.05] = np.nan
    elif pattern == "edges":  # leading portfolio NaN, trailing benchmark NaN
        p[:3] = np.nan
        b[-2:] = np.nan
    elif pattern == "whole-column" and p.ndim == 2:
        p[:, 0] = np.nan
    return p, b


def _layout(x, layout):
    """A view of x with the requested memory layout and identical values."""
    if layout == "contiguous":
        return x
    if layout == "strided":  # every other element of a twice-as-long buffer
        buf = np.empty((2 * x.shape[0], *x.shape[1:]), dtype=x.dtype)
        buf[::2] = x
        return buf[::2]
    if layout == "reversed":  # negative stride
        return np.ascontiguousarray(x[::-1])[::-1]
    if layout == "fortran":
        return np.asfortranarray(x)
    if layout == "column-strided" and x.ndim == 2:
        buf = np.empty((x.shape[0], 2 * x.shape[1]), dtype=x.dtype)
        buf[:, ::2] = x
        return buf[:, ::2]
    return x


SHAPES = {
    "1d-short": ((3,), (3,)),
    "1d-block-edge": ((257,), (257,)),
    "1d-long": ((1000,), (1000,)),
    "panel-1d-bench": ((100, 130), (100,)),
    "panel-2d-bench": ((70, 5), (70, 5)),
    "panel-one-column": ((40, 1), (40,)),
}


def _atol(name, opts):
    """Absolute slack for metrics that are not well conditioned relative to themselves.

    Compounded metrics round relative to growth factors near 1, not to their
    (possibly tiny) difference; means round relative to the data's scale
    (about 1 here), so a mean that is exactly 0 comes back as 1e-17. Tracking
    error, beta, correlation and R^2 are held to the relative bar alone.
    """
    if name in GROWTH_BASED or opts.get("method") == "geometric":
        return 1e-13
    if name in ("information_ratio", "alpha"):
        return 1e-14
    return 0.0


@pytest.mark.parametrize(("name", "opts"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize(
    ("dtype", "layout", "nans"),
    [
        ("float64", "contiguous", "none"),
        ("float64", "strided", "sprinkled"),
        ("float64", "reversed", "edges"),
        ("float64", "fortran", "whole-column"),
        ("float64", "column-strided", "sprinkled"),
        ("float32", "contiguous", "sprinkled"),
        ("float32", "fortran", "none"),
        ("int64", "contiguous", "none"),
        ("mixed", "contiguous", "sprinkled"),
    ],
)
def test_matches_reference(rng, name, opts, shape, dtype, layout, nans):
    p_shape, b_shape = SHAPES[shape]
    p_dtype, b_dtype = ("float32", "float64") if dtype == "mixed" else (dtype, dtype)
    p = _returns(rng, p_shape, p_dtype)
    b = _returns(rng, b_shape, b_dtype)
    p, b = _with_nans(rng, p, b, nans)
    pv, bv = _layout(p, layout), _layout(b, layout)
    p_before, b_before = pv.copy(), bv.copy()

    got = getattr(trackerr, name)(pv, bv, **opts)
    want = getattr(reference, name)(p.astype(np.float64), b.astype(np.float64), **opts)

    # float32 inputs are promoted exactly and accumulated in float64, so they
    # meet the float64 bar against a reference fed the same (promoted) values.
    assert_close(got, want, rtol=1e-12, atol=_atol(name, opts))
    assert np.array_equal(pv, p_before, equal_nan=True), "portfolio was modified"
    assert np.array_equal(bv, b_before, equal_nan=True), "benchmark was modified"
    if len(p_shape) == 1:
        assert isinstance(got, float)
    else:
        assert isinstance(got, np.ndarray) and got.shape == (p_shape[1],)


@pytest.mark.parametrize(("name", "opts"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("policy", ["propagate", "raise"])
def test_nan_policies(rng, name, opts, policy):
    p = _returns(rng, (50, 3), "float64")
    b = _returns(rng, (50,), "float64")
    p[10, 1] = np.nan
    f = getattr(trackerr, name)
    if policy == "raise":
        with pytest.raises(ValueError, match=r"nan_policy='raise'.*row 10"):
            f(p, b, nan_policy="raise", **opts)
        # a clean input passes under 'raise'
        assert_close(f(p[:, [0, 2]], b, nan_policy="raise", **opts), f(p[:, [0, 2]], b, **opts))
        return
    got = f(p, b, nan_policy="propagate", **opts)
    want = reference.__dict__[name](p, b, nan_policy="propagate", **opts)
    assert np.isnan(got[1])
    assert_close(got, want, rtol=1e-12, atol=_atol(name, opts))


@pytest.mark.parametrize(("name", "opts"), CASES, ids=CASE_IDS)
def test_too_few_samples_give_nan(name, opts):
    f = getattr(trackerr, name)
    one = f(np.array([0.01]), np.array([0.02]), **opts)
    all_nan = f(np.array([np.nan, 0.01]), np.array([0.02, np.nan]), **opts)
    assert np.isnan(all_nan)
    if name in ("tracking_error", "information_ratio"):
        # n = 1 is enough when ddof = 0 (TE is then 0, and IR is NaN because TE is 0)
        assert np.isnan(one) == (opts.get("ddof", 1) >= 1 or name == "information_ratio")
    elif name in ("beta", "alpha", "correlation", "r_squared"):
        assert np.isnan(one)  # co-moments need two samples
    else:
        assert np.isfinite(one)


def test_ddof_at_least_n_gives_nan():
    p, b = np.array([0.01, 0.03, 0.02]), np.zeros(3)
    assert np.isnan(trackerr.tracking_error(p, b, ddof=3))
    assert trackerr.tracking_error(p, b, ddof=2) > 0


@pytest.mark.parametrize("name", list(METRICS))
def test_inf_makes_result_non_finite(name):
    p = np.array([0.01, 0.02, np.inf, -0.01, 0.0])
    b = np.array([0.0, 0.01, 0.02, -0.02, 0.01])
    got = getattr(trackerr, name)(p, b)
    assert not np.isfinite(got)
