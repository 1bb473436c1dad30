"""Fuzzing the input plumbing: every container, dtype, layout and mask a user may
hand to a public function.

The rule: the result equals the reference applied to the one reading of the
input (float64 numbers, NaN where missing or masked), or the call raises a
clean TypeError/ValueError; the input is never modified. Fixed seed and a time
budget (tests/fuzzing.py).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import trackerr
from fuzzing import FUZZ
from trackerr import reference

pd = pytest.importorskip("pandas")

NUMERIC = ["float64", "float32", "float16", "int64", "int8", "uint32", ">f8"]
NOT_NUMERIC = ["bool", "complex128", "datetime64[D]", "timedelta64[s]", "U8", "object-str"]

# public function, reference function, does it take a benchmark, options
CALLS = [
    (trackerr.tracking_error, reference.tracking_error, True, {}),
    (trackerr.beta, reference.beta, True, {}),
    (trackerr.correlation, reference.correlation, True, {}),
    (trackerr.information_ratio, reference.information_ratio, True, {"periods_per_year": 12}),
    (trackerr.up_capture, reference.up_capture, True, {}),
    (trackerr.max_drawdown, reference.max_drawdown, False, {}),
    (trackerr.sharpe_ratio, reference.sharpe_ratio, False, {}),
    (
        lambda p, b, **k: trackerr.rolling_tracking_error(p, b, 3, min_periods=2, **k),
        lambda p, b, **k: reference.rolling_tracking_error(p, b, 3, min_periods=2, **k),
        True,
        {},
    ),
    (
        lambda r, **k: trackerr.rolling_omega_ratio(r, 4, min_periods=1, **k),
        lambda r, **k: reference.rolling_omega_ratio(r, 4, min_periods=1, **k),
        False,
        {},
    ),
]


class Refused(Exception):
    """The input has no numeric reading: the call must raise TypeError."""


@st.composite
def values(draw, rows, cols, tiny):
    shape = (rows,) if cols is None else (rows, cols)
    # the rolling kernels square deviations in place: magnitudes outside about
    # 1e-154 .. 1e154 underflow or overflow there (a documented limit), so the
    # extremes only go to the full-sample calls, which rescale
    extremes = [1e-300, 5e-324, 1e300] if tiny else [1e-120, 1e120]
    special = st.sampled_from([np.nan, 0.0, -1.0, np.inf, -0.5, *extremes])
    normal = st.floats(-0.2, 0.2, allow_nan=False)
    flat = draw(
        st.lists(
            st.one_of(normal, normal, normal, special),
            min_size=rows * (cols or 1),
            max_size=rows * (cols or 1),
        )
    )
    x = np.array(flat, dtype=np.float64).reshape(shape)
    if not tiny:
        x[np.abs(x) < 1e-150] = 0.0
    return x


@st.composite
def wrapped(draw, rows, cols, index, tiny):
    """A container around some numbers, and its one numeric reading (or Refused)."""
    x = draw(values(rows, cols, tiny))
    kind = draw(
        st.sampled_from(
            ["numpy", "numpy", "strided", "fortran", "list", "masked", "series", "nullable", "bad"]
        )
    )
    if kind in ("numpy", "strided", "fortran", "list"):
        dtype = draw(st.sampled_from(NUMERIC))
        if np.dtype(dtype).kind in "iu":
            x = np.nan_to_num(np.round(x * 100), nan=0.0, posinf=0.0, neginf=0.0)
            x = np.clip(x, 0 if np.dtype(dtype).kind == "u" else -100, 100)
        with np.errstate(over="ignore", invalid="ignore"):
            arr = x.astype(dtype)
        reading = arr.astype(np.float64)
        if kind == "strided":
            view = arr[::-1].copy()[::-1]  # the same values through a negative stride
            return view, reading
        if kind == "fortran" and arr.ndim == 2:
            return np.asfortranarray(arr), reading
        if kind == "list":
            return arr.tolist(), np.asarray(arr.tolist(), dtype=np.float64)
        return arr, reading
    if kind == "masked":
        mask = draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size))
        mask = np.array(mask).reshape(x.shape)
        reading = x.copy()
        reading[mask] = np.nan
        return np.ma.array(x, mask=mask), reading
    if kind in ("series", "nullable"):
        dtype = "Float64" if kind == "nullable" else "float64"
        if x.ndim == 1:
            obj = pd.Series(x, index=index, dtype=dtype)
        else:
            obj = pd.DataFrame(x, index=index).astype(dtype)
        if kind == "nullable":  # pandas reads NaN as <NA> there; both mean missing
            return obj, np.where(np.isnan(x), np.nan, x)
        return obj, x
    bad = draw(st.sampled_from(NOT_NUMERIC))
    if bad == "object-str":
        return np.array([str(v) for v in x.ravel()], dtype=object).reshape(x.shape), Refused
    if bad.startswith("datetime") or bad.startswith("timedelta"):
        arr = np.arange(x.size).reshape(x.shape).astype(bad)
        return (
            pd.Series(arr, index=index) if draw(st.booleans()) and x.ndim == 1 else arr
        ), Refused
    return x.astype(bad), Refused


def _same(got, want):
    g = np.atleast_1d(np.asarray(got, dtype=np.float64))
    w = np.atleast_1d(np.asarray(want, dtype=np.float64))
    assert g.shape == w.shape
    both_nan = np.isnan(g) & np.isnan(w)
    close = np.isclose(g, w, rtol=1e-7, atol=1e-300) | both_nan | (g == w)
    assert close.all(), (g, w)


@FUZZ
@given(data=st.data())
def test_every_container_is_read_one_way_or_refused(data):
    rows = data.draw(st.integers(1, 12), label="rows")
    cols = data.draw(st.sampled_from([None, None, 1, 3]), label="cols")
    index = pd.date_range("2024-01-01", periods=rows)
    f, ref, two, opts = data.draw(st.sampled_from(CALLS), label="call")
    tiny = f.__name__ != "<lambda>"  # the lambdas are the rolling calls
    p, p_read = data.draw(wrapped(rows, cols, index, tiny), label="portfolio")
    if two:
        b, b_read = data.draw(wrapped(rows, None, index, tiny), label="benchmark")
    before = [copy.deepcopy(a) for a in ((p, b) if two else (p,))]
    args = (p, b) if two else (p,)
    try:
        got = f(*args, **opts)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        assert message and "\n" not in message
        # numbers of the right shapes are never refused; anything else is a TypeError
        assert p_read is Refused or (two and b_read is Refused), message
        assert isinstance(exc, TypeError), message
    else:
        assert p_read is not Refused and not (two and b_read is Refused)
        reads = (p_read, b_read) if two else (p_read,)
        with np.errstate(all="ignore"):
            want = ref(*reads, **opts)
        _same(got, want)
    for a, a0 in zip(args, before, strict=True):  # inputs untouched
        if isinstance(a, (pd.Series, pd.DataFrame)):
            assert a.equals(a0)
        elif isinstance(a, np.ma.MaskedArray):
            np.testing.assert_array_equal(a.data, a0.data)
            np.testing.assert_array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(a0))
        elif isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, a0)
        else:
            assert a == a0 or (isinstance(a, list) and all(map(_eq_or_nan, a, a0)))


def _eq_or_nan(x, y):
    if isinstance(x, list):
        return all(map(_eq_or_nan, x, y))
    return x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
