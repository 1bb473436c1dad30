"""Bad input raises a clear ValueError/TypeError naming the argument and value."""

from __future__ import annotations

import re

import numpy as np
import pytest

import trackerr

from registry import METRICS

P = np.array([0.01, -0.02, 0.015, 0.0, 0.005])
B = np.array([0.008, -0.018, 0.01, 0.001, 0.004])
ALL = list(METRICS)


@pytest.mark.parametrize("name", ALL)
def test_length_mismatch_names_both_lengths(name):
    with pytest.raises(ValueError, match=r"portfolio has length 5 but benchmark has length 4"):
        getattr(trackerr, name)(P, B[:4])


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("which", ["portfolio", "benchmark"])
def test_empty(name, which):
    args = [P, B]
    args[0 if which == "portfolio" else 1] = np.array([])
    with pytest.raises(ValueError, match=rf"{which} is empty"):
        getattr(trackerr, name)(*args)


@pytest.mark.parametrize("name", ALL)
def test_three_d_and_scalar(name):
    with pytest.raises(ValueError, match=r"portfolio must be 1-D or 2-D; got 3-D"):
        getattr(trackerr, name)(np.zeros((5, 2, 2)), B)
    with pytest.raises(ValueError, match=r"benchmark must be 1-D or 2-D; got 0-D"):
        getattr(trackerr, name)(P, 0.01)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "bad",
    [
        np.array(["a", "b", "c", "d", "e"]),
        np.array([0.1, None, 0.2, 0.3, 0.4], dtype=object),
        np.array([1 + 1j] * 5),
        np.array([True, False, True, False, True]),
        np.arange(5).astype("datetime64[D]"),
    ],
    ids=["str", "object", "complex", "bool", "datetime"],
)
def test_non_numeric(name, bad):
    with pytest.raises(
        TypeError,
        match=re.escape(f"portfolio must hold real numbers; got an array of dtype {bad.dtype}"),
    ):
        getattr(trackerr, name)(bad, B)


def test_ragged_list():
    with pytest.raises(ValueError, match=r"portfolio could not be read as a numeric array"):
        trackerr.tracking_error([[0.1, 0.2], [0.3]], B)


@pytest.mark.parametrize(
    "name", ["tracking_error", "information_ratio", "tracking_difference", "active_return", "alpha"]
)
def test_periods_per_year(name):
    f = getattr(trackerr, name)
    with pytest.raises(ValueError, match=r"periods_per_year \(='yearly'\) is not a known preset"):
        f(P, B, periods_per_year="yearly")
    for bad in (0, -252, float("inf"), float("nan")):
        with pytest.raises(
            ValueError, match=r"periods_per_year \(=.*\) must be positive and finite"
        ):
            f(P, B, periods_per_year=bad)
    with pytest.raises(TypeError, match=r"periods_per_year must be a number"):
        f(P, B, periods_per_year=True)
    with pytest.raises(TypeError, match=r"periods_per_year must be a number"):
        f(P, B, periods_per_year=[252])


@pytest.mark.parametrize("preset", list(trackerr.PERIODS_PER_YEAR))
def test_presets_equal_numbers(preset):
    n = trackerr.PERIODS_PER_YEAR[preset]
    assert trackerr.tracking_error(P, B, periods_per_year=preset) == trackerr.tracking_error(
        P, B, periods_per_year=n
    )


@pytest.mark.parametrize("name", ["tracking_error", "information_ratio"])
def test_ddof(name):
    f = getattr(trackerr, name)
    with pytest.raises(ValueError, match=r"ddof \(=-1\) must be a finite number >= 0"):
        f(P, B, ddof=-1)
    with pytest.raises(TypeError, match=r"ddof must be a number, not str"):
        f(P, B, ddof="1")


@pytest.mark.parametrize("name", ALL)
def test_nan_policy_unknown(name):
    with pytest.raises(ValueError, match=r"nan_policy \(='ignore'\) must be one of"):
        getattr(trackerr, name)(P, B, nan_policy="ignore")


@pytest.mark.parametrize(
    "name", ["tracking_difference", "active_return", "information_ratio", "alpha"]
)
def test_method_unknown(name):
    with pytest.raises(ValueError, match=r"method \(='log'\) must be one of"):
        getattr(trackerr, name)(P, B, method="log")


def test_geometric_ir_needs_periods():
    with pytest.raises(ValueError, match=r"method='geometric' needs periods_per_year"):
        trackerr.information_ratio(P, B, method="geometric")


def test_risk_free():
    with pytest.raises(ValueError, match=r"risk_free \(=nan\) must be finite"):
        trackerr.alpha(P, B, risk_free=float("nan"))
    with pytest.raises(TypeError, match=r"risk_free must be a real number"):
        trackerr.alpha(P, B, risk_free="0.01")


def test_options_are_keyword_only_and_arrays_positional_only():
    with pytest.raises(TypeError):
        trackerr.tracking_error(P, B, 1)
    with pytest.raises(TypeError):
        trackerr.tracking_error(portfolio=P, benchmark=B)


@pytest.mark.parametrize("name", ALL)
def test_benchmark_shape(name):
    panel = np.zeros((5, 3))
    with pytest.raises(
        ValueError, match=r"a 2-D benchmark must have the portfolio's shape \(5, 3\); got \(5, 2\)"
    ):
        getattr(trackerr, name)(panel, np.zeros((5, 2)))
    with pytest.raises(
        ValueError, match=r"benchmark is 2-D with shape \(5, 3\) but portfolio is 1-D"
    ):
        getattr(trackerr, name)(P, panel)
    with pytest.raises(ValueError, match=r"portfolio has length 5 but benchmark has length 6"):
        getattr(trackerr, name)(panel, np.zeros(6))


@pytest.mark.parametrize("name", ALL)
def test_inputs_never_modified(name):
    p = P.copy()
    b = B.copy()
    p[1] = np.nan
    p0, b0 = p.copy(), b.copy()
    getattr(trackerr, name)(p, b)
    getattr(trackerr, name)(p, b, nan_policy="propagate")
    assert np.array_equal(p, p0, equal_nan=True) and np.array_equal(b, b0)


def test_read_only_inputs_are_fine():
    p, b = P.copy(), B.copy()
    p.flags.writeable = False
    b.flags.writeable = False
    assert np.isfinite(trackerr.tracking_error(p, b))


def test_lists_and_other_real_dtypes():
    want = trackerr.tracking_error(P, B)
    assert trackerr.tracking_error(list(P), list(B)) == want
    assert trackerr.tracking_error(P.astype(np.longdouble), B) == want
    got16 = trackerr.tracking_error(P.astype(np.float16), B.astype(np.float16))
    assert abs(got16 - want) < 1e-3
    big_endian = P.astype(">f8")
    assert trackerr.tracking_error(big_endian, B) == want
