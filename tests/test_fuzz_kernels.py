"""Fuzzer for every public full-sample and rolling function (issue 9).

Generated inputs: float32 and float64, 1-D series and T x N panels against a
1-D or T x N benchmark, read through C-order, Fortran-order, strided and
reversed views; values from ordinary returns with NaN, +-inf, -1, returns
below -1, huge and tiny values sprinkled in; windows from 2 to far beyond T
(up to 2**40), min_periods, threads 1..8 or None, nan_policy and the option
sets of tests/registry.py.

The rule, for every call: the result agrees with ``trackerr.reference``
(rtol 1e-9 with a small absolute tolerance scaled to the data; NaN exactly
where the reference is NaN), or the call raises a clean one-line
ValueError/TypeError. Never a crash (it would end the run: a failure), never
an input modified.

Where the reference and the documented domain rule differ, the rule wins:
compounded metrics (geometric tracking difference, active return and
information ratio, the capture ratios) are NaN when a return in their rows is
below -1 or infinite; geometric alpha is NaN when it compounds (periods per
year != 1) a negative factor 1 + alpha. Examples where the reference itself
cannot answer (it raises OverflowError, ZeroDivisionError or TypeError on
extreme values) are checked for no crash and untouched inputs only.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import trackerr
from fuzzing import FUZZ, SECONDS
from test_kernel_edges import _exact as exact_moments
from trackerr import reference

from registry import GROWTH_BASED, METRICS, ROLLING

# --- the functions and their options --------------------------------------------

PAIR_FULL: dict[str, list[dict[str, Any]]] = dict(METRICS)
PAIR_FULL["up_capture"] = [{}, {"method": "annualized", "periods_per_year": 252}]
PAIR_FULL["down_capture"] = [
    {},
    {"method": "annualized", "periods_per_year": "crypto-daily"},
]
ONE_FULL: dict[str, list[dict[str, Any]]] = {
    "max_drawdown": [{}],
    "sharpe_ratio": [{}, {"risk_free": 1e-4, "periods_per_year": 252, "ddof": 0}],
    "sortino_ratio": [{}, {"target": 0.001, "periods_per_year": 12}],
    "omega_ratio": [{}, {"threshold": 0.002}],
}
PAIR_ROLLING: dict[str, list[dict[str, Any]]] = dict(ROLLING)
PAIR_ROLLING["rolling_information_ratio"] = [{}, {"periods_per_year": 252, "ddof": 0}]
PAIR_ROLLING["rolling_up_capture"] = [{}]
PAIR_ROLLING["rolling_down_capture"] = [{"method": "annualized", "periods_per_year": 252}]
ONE_ROLLING: dict[str, list[dict[str, Any]]] = {
    "rolling_max_drawdown": [{}],
    "rolling_sharpe_ratio": [{}, {"risk_free": 1e-4, "periods_per_year": 12}],
    "rolling_sortino_ratio": [{}, {"target": 0.001, "periods_per_year": 252}],
    "rolling_omega_ratio": [{}, {"threshold": -0.001}],
}

# Metrics that compound growth factors 1 + r: NaN when a row of theirs is
# outside the domain (a return below -1 or infinite, on either side).
CAPTURE = {"up_capture", "down_capture", "rolling_up_capture", "rolling_down_capture"}


def _compounds(name: str, opts: dict[str, Any]) -> bool:
    if name in CAPTURE:
        return True
    if name == "tracking_difference":
        return opts.get("method", "geometric") == "geometric"
    if name in ("active_return", "information_ratio"):
        return opts.get("method") == "geometric"
    return False


# --- generated data -----------------------------------------------------------

# Domain specials (NaN, inf, total loss, losses beyond -100 %, zero) and
# magnitude specials (huge, tiny, subnormal), drawn in separate examples.
DOMAIN = [np.nan, np.inf, -np.inf, -1.0, -1.5, -3.0, 0.0, 2.0]
MAGNITUDE_64 = [1e200, -1e300, 1e-200, 5e-324, 1e15, 1e-120, 1e120]
MAGNITUDE_32 = [3e38, -1e30, 1e-40, 1e-30, 1e20]
EXTREME = 1e100  # beyond (or within 1 / EXTREME of 0) squares leave the double range


def _values(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: str, special_rate: float, extreme: bool
) -> np.ndarray:
    scale = rng.choice([0.02, 0.02, 0.5, 1e-6])
    x = rng.normal(0.001, scale, shape)
    if rng.random() < 0.15:  # stale stretches: runs of equal values
        x = np.repeat(x[: max(1, shape[0] // 3)], 3, axis=0)[: shape[0]]
        if x.shape[0] < shape[0]:
            x = np.concatenate([x, rng.normal(0.0, scale, (shape[0] - x.shape[0], *shape[1:]))])
    specials = DOMAIN + ((MAGNITUDE_64 if dtype == "float64" else MAGNITUDE_32) if extreme else [])
    hit = rng.random(shape) < special_rate
    x = np.where(hit, rng.choice(specials, shape), x)
    with np.errstate(over="ignore"):
        return x.astype(dtype)


def _layout(rng: np.random.Generator, x: np.ndarray, layout: str) -> np.ndarray:
    """The same values behind another memory layout (a view, not a copy, where it can be)."""
    if layout == "fortran":
        return np.asfortranarray(x)
    if layout == "strided":
        big = np.empty((x.shape[0] * 2, *x.shape[1:]), dtype=x.dtype)
        big[::2] = x
        big[1::2] = rng.normal(size=big[1::2].shape)  # garbage between the rows read
        return big[::2]
    if layout == "reversed":
        return np.ascontiguousarray(x[::-1])[::-1]
    if layout == "column_strided" and x.ndim == 2:
        big = np.zeros((x.shape[0], x.shape[1] * 3), dtype=x.dtype)
        big[:, ::3] = x
        return big[:, ::3]
    return np.ascontiguousarray(x)


@st.composite
def cases(draw: st.DrawFn, rolling: bool) -> dict[str, Any]:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    T = draw(st.integers(0, 30))
    panel = draw(st.booleans())
    N = draw(st.integers(1, 4)) if panel else 0
    shape = (T, N) if panel else (T,)
    dtype_p = draw(st.sampled_from(["float64", "float32"]))
    dtype_b = draw(st.sampled_from(["float64", "float32"]))
    rate = draw(st.sampled_from([0.0, 0.03, 0.1, 0.3]))
    bench_2d = panel and draw(st.booleans())
    extreme = draw(st.sampled_from([False, False, True]))
    p = _values(rng, shape, dtype_p, rate, extreme)
    b = _values(rng, shape if bench_2d else (T,), dtype_b, rate, extreme)
    layout = draw(st.sampled_from(["c", "fortran", "strided", "reversed", "column_strided"]))
    case: dict[str, Any] = {
        "p": _layout(rng, p, layout),
        "b": _layout(rng, b, layout),
        "nan_policy": draw(st.sampled_from(["omit", "omit", "omit", "propagate", "raise"])),
    }
    table = {**PAIR_ROLLING, **ONE_ROLLING} if rolling else {**PAIR_FULL, **ONE_FULL}
    case["name"] = draw(st.sampled_from(sorted(table)))
    case["opts"] = dict(draw(st.sampled_from(table[case["name"]])))
    if rolling:
        window = draw(
            st.one_of(
                st.integers(2, max(2, T + 3)),
                st.sampled_from([2, 3, T + 1 if T > 1 else 2, 2**31, 2**40]),
            )
        )
        case["window"] = window
        case["min_periods"] = draw(st.one_of(st.none(), st.integers(1, max(1, min(window, T + 1)))))
        case["threads"] = draw(st.one_of(st.none(), st.integers(1, 8)))
    return case


# --- expected values -------------------------------------------------------------


def _outside_domain(p: np.ndarray, b: np.ndarray, nan_policy: str, compounded: bool) -> bool:
    """Does a row used by the metric hold an infinite return (any metric), or
    one below -1 (compounded metrics)?"""
    keep = ~(np.isnan(p) | np.isnan(b))
    if nan_policy == "propagate" and not keep.all():
        return False  # the value is NaN anyway
    p, b = p[keep], b[keep]
    bad = np.isinf(p) | np.isinf(b)
    if compounded:
        bad |= (p < -1.0) | (b < -1.0)
    return bool(bad.any())


def _columns(p: np.ndarray, b: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    if p.ndim == 1:
        return [(p, b)]
    return [(p[:, j], b if b.ndim == 1 else b[:, j]) for j in range(p.shape[1])]


def _per_period(periods_per_year: Any) -> float:
    if periods_per_year is None:
        return 1.0
    return float(trackerr.PERIODS_PER_YEAR.get(periods_per_year, periods_per_year))


def _compound(a: np.ndarray, per_year: float) -> np.ndarray:
    """The documented geometric alpha from the per-period alpha."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(all="ignore"):
        g = 1.0 + a
        out = np.where(g < 0.0, np.nan, np.power(np.abs(g), per_year) - 1.0)
        if per_year == 1.0:
            out = a.copy()
    return out


def _expected(case: dict[str, Any], p: np.ndarray, b: np.ndarray, rolling: bool) -> Any:
    name, opts = case["name"], dict(case["opts"])
    one = name in ONE_FULL or name in ONE_ROLLING
    args: tuple[Any, ...] = (p,) if one else (p, b)
    if rolling:
        args = (*args, case["window"])
        opts["min_periods"] = case["min_periods"]
    opts["nan_policy"] = case["nan_policy"]
    ref = getattr(reference, name)
    if name.endswith("alpha") and opts.get("method") == "geometric":
        per_year = _per_period(opts.pop("periods_per_year", None))
        opts.pop("method")
        return _domain(case, p, b, _compound(ref(*args, **opts), per_year), rolling)
    want = np.array(ref(*args, **opts), dtype=np.float64)
    return _domain(case, p, b, want, rolling)


def _domain(
    case: dict[str, Any], p: np.ndarray, b: np.ndarray, want: np.ndarray, rolling: bool
) -> Any:
    """NaN wherever the rows used hold an inf (every metric) or, for the
    compounded ones, a return below -1: the documented rule, which the
    reference does not follow everywhere (its arithmetic active return of
    [0, inf] is inf; its geometric tracking difference compounds -1.5)."""
    one = case["name"] in ONE_FULL or case["name"] in ONE_ROLLING
    compounded = _compounds(case["name"], case["opts"]) or case["name"].endswith("max_drawdown")
    cols = _columns(p.astype(np.float64), (p if one else b).astype(np.float64))
    if not rolling:
        flags = [_outside_domain(x, y, case["nan_policy"], compounded) for x, y in cols]
        return np.where(np.array(flags) if p.ndim == 2 else flags[0], np.nan, want)
    w = case["window"]
    grid = np.array(want, dtype=np.float64).reshape(p.shape[0], -1)
    for j, (x, y) in enumerate(cols):
        for t in range(p.shape[0]):
            lo = max(0, t - w + 1)
            if _outside_domain(x[lo : t + 1], y[lo : t + 1], case["nan_policy"], compounded):
                grid[t, j] = np.nan
    return grid.reshape(np.shape(want))


def _scale(case: dict[str, Any], p: np.ndarray, b: np.ndarray) -> float:
    """An absolute scale for the comparison: rounding in these kernels is
    relative to the data's magnitude (and, for ratios, to the inverse of a
    spread), not to the result, which may cancel to about 0."""
    name = case["name"].removeprefix("rolling_")
    finite = [np.abs(x[np.isfinite(x)]) for x in (p.astype(np.float64), b.astype(np.float64))]
    top = max([float(f.max()) for f in finite if f.size] + [0.0])
    per_year = _per_period(case["opts"].get("periods_per_year"))
    if name in ("correlation", "r_squared", "max_drawdown"):
        return 1.0
    if name in ("beta", "information_ratio", "sharpe_ratio", "sortino_ratio", "omega_ratio"):
        return math.inf  # ratios: relative only (see _close)
    if name in ("up_capture", "down_capture"):
        return math.inf
    return top * max(per_year, 1.0) if math.isfinite(top) else math.inf


def _growth_atol(case: dict[str, Any], p: np.ndarray, b: np.ndarray) -> Any:
    """Absolute tolerance of growth-based metrics: a difference of compounded
    (annualized) growth factors rounds relative to the factors (about 1,
    amplified by P / n in the exponent), not to the difference; the geometric
    information ratio divides that by the tracking error."""
    per_year = max(_per_period(case["opts"].get("periods_per_year")), 1.0)
    atol = 1e-12 * per_year
    if case["name"] == "information_ratio":
        with np.errstate(all="ignore"), contextlib.suppress(*REFERENCE_LIMITS):
            te = np.asarray(
                reference.tracking_error(
                    p, b, ddof=case["opts"].get("ddof", 1), periods_per_year=per_year
                ),
                dtype=np.float64,
            )
            return atol / te
        return 0.0
    return atol


def _close(got: Any, want: Any, scale: float, name: str, extra: Any = 0.0) -> None:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    both = ~nan_got & ~nan_want
    if name.removeprefix("rolling_") in (
        "beta",
        "information_ratio",
        "sharpe_ratio",
        "sortino_ratio",
    ):
        # Ratios of sums that can cancel: compare relative to the result, with
        # a loose floor (the kernels' and the reference's rounding differ).
        tol = 1e-9 * np.abs(want) + 1e-12
    elif math.isinf(scale):
        tol = 1e-9 * np.abs(want) + 1e-15
    else:
        tol = 1e-9 * np.maximum(np.abs(want), scale) + 1e-300
    tol = tol + extra
    with np.errstate(invalid="ignore"):
        same_inf = np.isinf(got) & (got == want)
        ok = same_inf | (np.abs(got - want) <= tol)
    bad = both & ~ok
    assert not bad.any(), f"{name}: got {got[bad][:5]} want {want[bad][:5]}"
    assert (nan_got == nan_want).all(), (
        f"{name}: NaN mismatch: got {got[nan_got != nan_want][:5]} "
        f"want {want[nan_got != nan_want][:5]}"
    )


# --- the fuzzers -------------------------------------------------------------------

REFERENCE_LIMITS = (OverflowError, ZeroDivisionError, TypeError, ValueError, FloatingPointError)


def _check(case: dict[str, Any], rolling: bool) -> None:
    name, opts = case["name"], dict(case["opts"])
    p, b = case["p"], case["b"]
    one = name in ONE_FULL or name in ONE_ROLLING
    before = [(x, x.copy()) for x in ((p,) if one else (p, b))]
    args: tuple[Any, ...] = (p,) if one else (p, b)
    if rolling:
        args = (*args, case["window"])
        opts["min_periods"] = case["min_periods"]
        opts["threads"] = case["threads"]
    try:
        with np.errstate(all="ignore"):
            got = getattr(trackerr, name)(*args, nan_policy=case["nan_policy"], **opts)
    except (ValueError, TypeError) as e:
        message = str(e)
        assert message and "\n" not in message.strip(), repr(message)
        assert "C++ type" not in message and "incompatible function" not in message, message
        got = None
    for x, copy in before:
        assert np.array_equal(x, copy, equal_nan=True), f"{name} modified its input"
    if got is None:
        return
    shape = np.shape(p) if rolling else np.shape(p)[1:]
    assert np.shape(got) == shape, (name, np.shape(got), shape)
    if _extreme(p, b):
        # The reference squares in plain doubles and has no answer at these
        # magnitudes: the moment metrics are checked against exact rational
        # arithmetic instead; the others for no crash and untouched inputs.
        if not rolling:
            _check_exact(case, got)
        return
    try:
        with np.errstate(all="ignore"):
            want = _expected(case, np.asarray(p), np.asarray(b), rolling)
    except REFERENCE_LIMITS:
        return  # the reference cannot answer this one (see the module docstring)
    extra = 0.0
    if (
        not rolling
        and name in GROWTH_BASED | {"information_ratio"}
        and _compounds(name, case["opts"])
    ):
        extra = _growth_atol(case, np.asarray(p, dtype=np.float64), np.asarray(b, dtype=np.float64))
    _close(got, want, _scale(case, np.asarray(p), np.asarray(b)), name, extra)


EXACT = {"tracking_error", "active_return", "beta", "correlation", "r_squared", "information_ratio"}


def _check_exact(case: dict[str, Any], got: Any) -> None:
    """Full-sample moment metrics of tiny or huge data against exact rational
    arithmetic (default options, nan_policy='omit')."""
    name = case["name"]
    if name not in EXACT or case["opts"] or case["nan_policy"] != "omit":
        return
    p = np.asarray(case["p"], dtype=np.float64)
    b = np.asarray(case["b"], dtype=np.float64)
    values = np.atleast_1d(np.asarray(got, dtype=np.float64))
    for value, (x, y) in zip(values, _columns(p, b), strict=True):
        keep = ~(np.isnan(x) | np.isnan(y))
        x, y = x[keep], y[keep]
        with np.errstate(all="ignore"):
            if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(x - y).all()):
                assert math.isnan(value), (name, value)
                continue
        try:
            exact = exact_moments(x, y)
            want = exact.get(name)
            sd_b = exact_moments(y, np.zeros_like(y))["tracking_error"]
        except (ZeroDivisionError, OverflowError):
            continue  # fewer than 2 rows or a zero variance: the exact value is undefined
        if want is None or not math.isfinite(want):
            continue
        # The kernels' error bounds are relative to the terms, not to a result
        # that cancels (1e200 and -1e200 in one series leave a mean of the
        # small values that no double sum keeps): absolute tolerances scaled
        # like the terms, as for the ordinary comparison.
        top_a = float(np.max(np.abs(x - y))) if len(x) else 0.0
        atol = {
            "active_return": 1e-9 * top_a,
            "information_ratio": 1e-9 * top_a / exact["tracking_error"]
            if exact["tracking_error"]
            else math.inf,
            "correlation": 1e-9,
            "r_squared": 1e-9,
            "beta": 1e-9 * float(np.max(np.abs(x))) / sd_b if sd_b else math.inf,
        }.get(name, 0.0)
        assert value == pytest.approx(want, rel=1e-9, abs=max(atol, 1e-300)), (name, value, want)


def _extreme(p: np.ndarray, b: np.ndarray) -> bool:
    with np.errstate(all="ignore"):
        for x in (np.asarray(p, dtype=np.float64), np.asarray(b, dtype=np.float64)):
            a = np.abs(x[np.isfinite(x) & (x != 0.0)])
            if a.size and (a.max() > EXTREME or a.min() < 1.0 / EXTREME):
                return True
    return False


def _deadline() -> float:
    return time.monotonic() + SECONDS


_STOP: dict[str, float] = {}
_FAILED: set[str] = set()

# More examples than the shared default: the time budget ends the run.
BUDGETED = settings(FUZZ, max_examples=max(FUZZ.max_examples, 3000))


def _budgeted_check(key: str, case: dict[str, Any], rolling: bool) -> None:
    """Check `case` while the time budget lasts. Once an example has failed,
    every later call runs (hypothesis replays and shrinks the failure; skipping
    those calls would make it look flaky)."""
    stop = _STOP.setdefault(key, _deadline())
    if time.monotonic() >= stop and key not in _FAILED:
        return
    try:
        _check(case, rolling)
    except BaseException:
        _FAILED.add(key)
        raise


@BUDGETED
@given(cases(rolling=False))
def test_fuzz_full_sample(case: dict[str, Any]) -> None:
    _budgeted_check("full", case, rolling=False)


@BUDGETED
@given(cases(rolling=True))
def test_fuzz_rolling(case: dict[str, Any]) -> None:
    _budgeted_check("rolling", case, rolling=True)


@pytest.mark.parametrize("window", [2, 5, 2**31, 2**40])
@pytest.mark.parametrize("layout", ["c", "fortran", "strided", "reversed", "column_strided"])
def test_layouts_and_threads_give_the_same_bits(window: int, layout: str) -> None:
    """Every rolling function: bit-identical whatever the threads, for each layout
    (layouts may take different paths: C order runs row-wise), and within the
    reference's tolerance of the C-order result."""
    rng = np.random.default_rng(window)
    p = rng.normal(0.0, 0.02, (40, 5))
    b = rng.normal(0.0, 0.02, 40)
    pv, bv = _layout(rng, p, layout), _layout(rng, b, layout)
    for name, option_sets in {**PAIR_ROLLING, **ONE_ROLLING}.items():
        fn = getattr(trackerr, name)
        args = (p,) if name in ONE_ROLLING else (p, b)
        vargs = (pv,) if name in ONE_ROLLING else (pv, bv)
        opts = option_sets[0]
        want = fn(*vargs, window, min_periods=1, threads=1, **opts)
        for threads in (2, 8, None):
            got = fn(*vargs, window, min_periods=1, threads=threads, **opts)
            np.testing.assert_array_equal(got, want, err_msg=f"{name} {layout} threads={threads}")
        c_order = fn(*args, window, min_periods=1, threads=3, **opts)
        np.testing.assert_allclose(want, c_order, rtol=1e-12, atol=1e-15, err_msg=name)
