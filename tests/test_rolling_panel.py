"""Rolling metrics on T x N panels: column c is the 1-D kernel on column c, bit for bit.

A C-order panel runs row by row (cpp/include/trackerr/rolling_panel.hpp): the
window states of neighbouring columns sit side by side in vector lanes, and a
column whose step is not a quiet replace (a NaN or inf entering, a constant
run, a rebuild, the rows before the first full window) takes the general step
alone. Other layouts run down their columns. Either way every column must be
exactly what the 1-D kernel gives on it: same segments, same rebuilds, same
read-outs. These tests hold the panel to that on adversarial data, in every
layout and dtype, for every thread count and instruction set, and check the
values themselves against the exact reference.
"""

from __future__ import annotations

import numpy as np
import pytest

import trackerr
from trackerr import reference

from conftest import assert_close

FIELDS = (
    "tracking_error",
    "active_return",
    "information_ratio",
    "beta",
    "alpha",
    "correlation",
    "r_squared",
)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


def _adversarial_panel(rng: np.random.Generator, T: int, N: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns tracking a benchmark, each with its own trouble: NaN and inf
    sprinkled or in stretches, constant runs (a stale price), an active return
    exactly 0 for a while, large levels with tiny noise, regime changes of
    scale 1e-3 .. 1e8, and a few ordinary columns."""
    b = rng.normal(0.0003, 0.01, T)
    P = b[:, None] * rng.uniform(0.5, 1.5, N) + rng.normal(0.0, 0.003, (T, N))
    for c in range(N):
        kind = c % 9
        lo = int(rng.integers(0, max(1, T - 120)))
        if kind == 1:
            P[rng.random(T) < 0.05, c] = np.nan
        elif kind == 2:
            P[lo : lo + 70, c] = 0.25  # constant run longer than the windows
        elif kind == 3:
            P[lo, c] = np.inf
            P[(lo + 37) % T, c] = -np.inf
        elif kind == 4:
            P[lo : lo + 90, c] = b[lo : lo + 90]  # active return exactly 0
        elif kind == 5:
            P[:, c] = 1e6 + rng.normal(0.0, 1e-3, T)  # large level, tiny noise
        elif kind == 6:
            scale = 10 ** rng.uniform(-3, 8, T)
            P[:, c] = P[:, c] * np.where(np.arange(T) < lo, scale, 1.0)
        elif kind == 7:
            P[lo : lo + 40, c] = np.nan  # windows without an observation
    b[int(rng.integers(0, T))] = np.nan
    return P, b


def _per_column(fn, P: np.ndarray, b: np.ndarray, *args, **kw) -> np.ndarray:
    """The 1-D kernel on each column (contiguous copies), stacked."""
    cols = []
    for c in range(P.shape[1]):
        bc = b[:, c] if b.ndim == 2 else b
        cols.append(fn(np.ascontiguousarray(P[:, c]), np.ascontiguousarray(bc), *args, **kw))
    return np.stack(cols, axis=1)


def _layout(x: np.ndarray, layout: str) -> np.ndarray:
    if layout == "C":
        return np.ascontiguousarray(x)
    if layout == "F":
        return np.asfortranarray(x)
    if layout == "strided-cols":  # columns 16 bytes apart, rows far apart
        return np.repeat(x, 2, axis=-1)[..., ::2]
    if layout == "strided-rows":
        return np.repeat(x, 3, axis=0)[::3]
    if layout == "reversed":  # negative strides both ways
        return np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1] if x.ndim == 2 else x
    raise AssertionError(layout)


ROLLING = [
    ("rolling_tracking_error", {}),
    ("rolling_active_return", {"periods_per_year": 252}),
    ("rolling_information_ratio", {"periods_per_year": 252}),
    ("rolling_beta", {}),
    ("rolling_alpha", {"periods_per_year": 252, "risk_free": 1e-4}),
    ("rolling_alpha", {"periods_per_year": 252, "method": "geometric"}),
    ("rolling_correlation", {}),
    ("rolling_r_squared", {}),
]


def _call(name: str, opts: dict):
    fn = getattr(trackerr, name)
    return lambda p, b, w, **kw: fn(p, b, w, **opts, **kw)


@pytest.mark.parametrize(("name", "opts"), ROLLING, ids=[f"{n}-{len(o)}" for n, o in ROLLING])
@pytest.mark.parametrize(("window", "min_periods"), [(2, None), (21, None), (21, 5), (63, 1)])
def test_panel_column_is_the_1d_kernel_bit_for_bit(name, opts, window, min_periods):
    rng = np.random.default_rng(window * 7 + (min_periods or 0))
    # 37 columns: whole vectors of 2, 4 and 8 lanes and a remainder; 2600 rows
    # with w = 21: two segments, the second started from a rebuild.
    P, b = _adversarial_panel(rng, 2600, 37)
    fn = _call(name, opts)
    want = _per_column(fn, P, b, window, min_periods=min_periods)
    assert np.isfinite(want).sum() > want.size // 2  # real values, not all NaN
    got = fn(P, b, window, min_periods=min_periods)
    for c in range(P.shape[1]):
        assert _same(got[:, c], want[:, c]), c


@pytest.mark.parametrize("layout", ["C", "F", "strided-cols", "strided-rows", "reversed"])
@pytest.mark.parametrize("bench", ["broadcast", "panel-C", "panel-F"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_layout_and_dtype_gives_the_1d_bits(layout, bench, dtype):
    rng = np.random.default_rng(11)
    P, b = _adversarial_panel(rng, 700, 19)
    if bench != "broadcast":
        b = b[:, None] + rng.normal(0.0, 0.001, P.shape)
        b[rng.random(b.shape) < 0.02] = np.nan
        b = np.asfortranarray(b) if bench == "panel-F" else np.ascontiguousarray(b)
    P, b = P.astype(dtype), b.astype(dtype)
    Pv = _layout(P, layout)
    P0, b0 = Pv.copy(), b.copy()
    stats = trackerr.rolling_stats(Pv, b, 30, min_periods=12, periods_per_year=252, risk_free=2e-5)
    for field in FIELDS:
        fn = getattr(trackerr, f"rolling_{field}")
        kw = {"min_periods": 12}
        if field in ("active_return", "information_ratio", "tracking_error", "alpha"):
            kw["periods_per_year"] = 252
        if field == "alpha":
            kw["risk_free"] = 2e-5
        want = _per_column(fn, P, b, 30, **kw)
        assert _same(getattr(stats, field), want), field
    assert _same(Pv, P0) and _same(b, b0)  # inputs untouched


def test_mixed_dtypes_and_a_full_benchmark_panel_match_the_1d_kernel():
    rng = np.random.default_rng(3)
    P, b = _adversarial_panel(rng, 500, 13)
    B = b[:, None] + rng.normal(0.0, 0.002, P.shape)
    for p_, b_ in ((P.astype(np.float32), B), (P, B.astype(np.float32)), (P, b.astype(np.float32))):
        got = trackerr.rolling_beta(p_, b_, 40, min_periods=7)
        assert _same(got, _per_column(trackerr.rolling_beta, p_, b_, 40, min_periods=7))
        got = trackerr.rolling_tracking_error(p_, b_, 40)
        assert _same(got, _per_column(trackerr.rolling_tracking_error, p_, b_, 40))


@pytest.mark.parametrize("N", [1, 2, 3, 5, 7, 8, 9, 31, 33, 65, 100])
def test_any_column_count_and_any_threads(N):
    # Tails narrower than a vector, thread blocks of 32 columns cut anywhere.
    rng = np.random.default_rng(N)
    P, b = _adversarial_panel(rng, 400, N)
    want = _per_column(trackerr.rolling_correlation, P, b, 25)
    for threads in (1, 2, 3, 4, None):
        assert _same(trackerr.rolling_correlation(P, b, 25, threads=threads), want), threads
    want = _per_column(trackerr.rolling_tracking_error, P, b, 25, min_periods=3)
    for threads in (1, 3, None):
        got = trackerr.rolling_tracking_error(P, b, 25, min_periods=3, threads=threads)
        assert _same(got, want), threads


def test_long_panel_segments_and_their_boundaries():
    # 6000 rows, w = 21: three segments (boundaries at 2000 and 4000), each
    # started from a rebuild of the window before it. Windows across the
    # boundaries must match the exact reference and the 1-D kernel.
    rng = np.random.default_rng(5)
    P, b = _adversarial_panel(rng, 6000, 10)
    got = trackerr.rolling_stats(P, b, 21, threads=2)
    for field in ("tracking_error", "beta", "correlation"):
        fn = getattr(trackerr, f"rolling_{field}")
        assert _same(getattr(got, field), _per_column(fn, P, b, 21)), field
    for c in (0, 3, 8):  # ordinary, sprinkled inf, NaN stretch
        for boundary in (2000, 4000):
            lo, hi = boundary - 30, boundary + 30
            want = reference.rolling_tracking_error(P[lo - 21 : hi, c], b[lo - 21 : hi], 21)[21:]
            assert_close(got.tracking_error[lo:hi, c], want, rtol=1e-12)


def test_panel_values_against_the_exact_reference():
    rng = np.random.default_rng(17)
    P, b = _adversarial_panel(rng, 400, 12)
    te = trackerr.rolling_tracking_error(P, b, 30, min_periods=10)
    assert_close(te, reference.rolling_tracking_error(P, b, 30, min_periods=10), rtol=1e-12)
    # The co-moment C_pb is good to 1e-13 of sqrt(C_pp C_bb) (its guard is
    # theirs, by Cauchy-Schwarz), not of itself: next to a constant run it
    # nearly cancels. So correlation is checked to 1e-12 absolute, and beta to
    # 1e-12 of its scale sd_p / sd_b = beta / correlation.
    corr = reference.rolling_correlation(P, b, 30, min_periods=10)
    beta = reference.rolling_beta(P, b, 30, min_periods=10)
    got = trackerr.rolling_correlation(P, b, 30, min_periods=10)
    assert_close(got, corr, rtol=1e-12, atol=1e-12)
    scale = np.abs(np.divide(beta, corr, out=np.zeros_like(beta), where=corr != 0))
    scale[~np.isfinite(scale)] = 0.0  # a constant p: correlation NaN, beta exactly 0
    got = trackerr.rolling_beta(P, b, 30, min_periods=10)
    assert np.array_equal(np.isnan(got), np.isnan(beta))
    ok = ~np.isnan(beta)
    assert (np.abs(got - beta)[ok] <= 1e-12 * (np.abs(beta) + scale)[ok]).all()


def test_constant_windows_of_a_panel_are_exactly_zero():
    rng = np.random.default_rng(2)
    P = rng.normal(0.0, 0.01, (300, 9))
    b = rng.normal(0.0, 0.01, 300)
    b[100:180] = np.round(b[100:180] * 1024) / 1024  # dyadic: b + 1/8 - b is exactly 1/8
    P[100:180, 4] = 0.3  # a stale price: tracking error against a moving b is not 0
    P[100:180, 6] = b[100:180] + 0.125  # active return constant: exactly 0
    te = trackerr.rolling_tracking_error(P, b, 20)
    assert (te[119:180, 6] == 0.0).all()
    assert (te[119:180, 4] > 0.0).all()
    assert (te[~np.isnan(te)] >= 0.0).all()


def test_tiny_and_huge_columns_are_rescaled_as_in_1d():
    rng = np.random.default_rng(9)
    P, b = _adversarial_panel(rng, 300, 8)
    P[:, 2] *= 1e-200
    P[:, 5] *= 1e200
    B = np.column_stack([b] * 8)
    B[:, 2] *= 1e-200
    for bench in (b, B):
        got = trackerr.rolling_stats(P, bench, 20)
        for field in ("tracking_error", "beta", "correlation"):
            fn = getattr(trackerr, f"rolling_{field}")
            assert _same(getattr(got, field), _per_column(fn, P, bench, 20)), field
    te = trackerr.rolling_tracking_error(P, B, 20)
    want = reference.rolling_tracking_error(P[:, 2] * 1e200, B[:, 2] * 1e200, 20) * 1e-200
    assert_close(te[:, 2], want, rtol=1e-12)


def test_out_of_any_layout_gets_the_same_bits():
    rng = np.random.default_rng(4)
    P, b = _adversarial_panel(rng, 250, 11)
    want = trackerr.rolling_beta(P, b, 15)
    for out in (
        np.empty(P.shape, order="F"),
        np.empty((P.shape[0], 2 * P.shape[1]))[:, ::2],
        np.empty((2 * P.shape[0], P.shape[1]))[::2],
    ):
        res = trackerr.rolling_beta(P, b, 15, out=out)
        assert res is out
        assert _same(out, want)


def test_window_longer_than_the_panel_and_tiny_panels():
    rng = np.random.default_rng(6)
    for T, N in ((1, 5), (2, 5), (7, 3), (7, 40)):
        P, b = _adversarial_panel(rng, T, N)
        for mp in (None, 1):
            got = trackerr.rolling_beta(P, b, 9, min_periods=mp)
            assert _same(got, _per_column(trackerr.rolling_beta, P, b, 9, min_periods=mp))


@pytest.mark.parametrize("bench", ["broadcast", "panel"])
def test_every_instruction_set_gives_the_same_panel_bits(each_simd, bench):
    rng = np.random.default_rng(8)
    P, b = _adversarial_panel(rng, 2600, 29)
    if bench == "panel":
        b = b[:, None] + rng.normal(0.0, 0.001, P.shape)
    got = each_simd(
        lambda: trackerr.rolling_stats(P, b, 21, min_periods=4, periods_per_year=252, threads=3)
    )
    first = next(iter(got.values()))
    for isa, stats in got.items():
        for field in FIELDS:
            assert _same(getattr(stats, field), getattr(first, field)), (isa, field)
    assert _same(first.beta, _per_column(trackerr.rolling_beta, P, b, 21, min_periods=4))
