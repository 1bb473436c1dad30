"""Rolling metrics against trackerr.reference (exact per-window) and their contracts."""

from __future__ import annotations

import numpy as np
import pytest

import trackerr
from trackerr import reference

from conftest import assert_close
from registry import ROLLING, STATS_FIELDS

CASES = [(name, opts) for name, sets in ROLLING.items() for opts in sets]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'default'}" for n, o in CASES]
MEAN_BASED = {"rolling_active_return", "rolling_information_ratio", "rolling_alpha"}


def _atol(name, scale=1.0):
    # means round relative to the data's scale, not to themselves (see test_against_reference)
    return 1e-14 * scale if name in MEAN_BASED else 0.0


def _data(rng, shape, dtype, nans):
    p = rng.normal(0.0005, 0.01, shape)
    b = rng.normal(0.0003, 0.008, shape[:1]) if len(shape) == 1 else rng.normal(0, 0.008, shape[0])
    p = p + (0.9 * b if p.ndim == 1 else 0.9 * b[:, None])
    if nans == "sprinkled":
        p[rng.random(p.shape) < 0.07] = np.nan
        b[rng.random(b.shape) < 0.05] = np.nan
    elif nans == "inf":
        p[40] = np.inf
        b[90] = -np.inf
    elif nans == "nan-stretch":  # whole windows without a single observation
        p[30:60] = np.nan
    elif nans == "edges":
        p[:4] = np.nan
        b[-3:] = np.nan
    return p.astype(dtype), b.astype(dtype)


def _layout(x, layout):
    if layout == "strided":
        buf = np.empty((2 * x.shape[0], *x.shape[1:]), dtype=x.dtype)
        buf[::2] = x
        return buf[::2]
    if layout == "reversed":
        return np.ascontiguousarray(x[::-1])[::-1]
    if layout == "fortran":
        return np.asfortranarray(x)
    return x


@pytest.mark.parametrize(("name", "opts"), CASES, ids=IDS)
@pytest.mark.parametrize(("window", "min_periods"), [(2, None), (5, 3), (21, None), (21, 1)])
@pytest.mark.parametrize(
    ("shape", "dtype", "layout", "nans"),
    [
        ((150,), "float64", "contiguous", "none"),
        ((150,), "float64", "strided", "sprinkled"),
        ((150,), "float32", "reversed", "inf"),
        ((150,), "float64", "contiguous", "nan-stretch"),
        ((150,), "float64", "contiguous", "edges"),
        ((120, 4), "float64", "contiguous", "sprinkled"),
        ((120, 3), "float64", "fortran", "inf"),
        ((120, 3), "float32", "strided", "none"),
    ],
)
def test_matches_reference(rng, name, opts, window, min_periods, shape, dtype, layout, nans):
    p, b = _data(rng, shape, dtype, nans)
    pv, bv = _layout(p, layout), _layout(b, layout)
    p0, b0 = pv.copy(), bv.copy()
    got = getattr(trackerr, name)(pv, bv, window, min_periods=min_periods, **opts)
    want = getattr(reference, name)(
        p.astype(np.float64), b.astype(np.float64), window, min_periods=min_periods, **opts
    )
    assert got.shape == p.shape
    assert_close(
        got, want, rtol=1e-12, atol=_atol(name, 1.0 if "periods_per_year" not in opts else 400)
    )
    assert np.array_equal(pv, p0, equal_nan=True) and np.array_equal(bv, b0, equal_nan=True)


@pytest.mark.parametrize("policy", ["propagate", "raise"])
def test_nan_policies(rng, policy):
    p, b = _data(rng, (80, 2), "float64", "none")
    p[20, 1] = np.nan
    if policy == "raise":
        with pytest.raises(ValueError, match=r"nan_policy='raise'.*row 20"):
            trackerr.rolling_beta(p, b, 10, nan_policy="raise")
        return
    got = trackerr.rolling_tracking_error(p, b, 10, nan_policy="propagate")
    want = reference.rolling_tracking_error(p, b, 10, nan_policy="propagate")
    assert_close(got, want, rtol=1e-12)
    assert np.isnan(got[20:30, 1]).all() and np.isfinite(got[30:, 1]).all()


def test_rolling_stats_equals_single_metrics(rng):
    p, b = _data(rng, (300, 5), "float64", "sprinkled")
    p[100, 2] = np.inf
    stats = trackerr.rolling_stats(p, b, 21, min_periods=15, periods_per_year=252, risk_free=1e-4)
    assert tuple(stats._fields) == tuple(STATS_FIELDS)
    for field, fn in STATS_FIELDS.items():
        kw = {"min_periods": 15}
        if fn not in ("rolling_beta", "rolling_correlation", "rolling_r_squared"):
            kw["periods_per_year"] = 252
        if fn == "rolling_alpha":
            kw["risk_free"] = 1e-4
        single = getattr(trackerr, fn)(p, b, 21, **kw)
        assert np.array_equal(getattr(stats, field), single, equal_nan=True), field


@pytest.mark.parametrize("name", list(ROLLING))
def test_threads_are_bit_identical(rng, name):
    p, b = _data(rng, (400, 37), "float64", "sprinkled")
    one = getattr(trackerr, name)(p, b, 30, threads=1)
    for threads in (2, 3, None):
        assert np.array_equal(
            getattr(trackerr, name)(p, b, 30, threads=threads), one, equal_nan=True
        )


@pytest.mark.parametrize(
    ("rolling_name", "full_name"),
    [
        ("rolling_tracking_error", "tracking_error"),
        ("rolling_beta", "beta"),
        ("rolling_correlation", "correlation"),
        ("rolling_information_ratio", "information_ratio"),
        ("rolling_active_return", "active_return"),
        ("rolling_alpha", "alpha"),
    ],
)
def test_window_of_whole_series_equals_full_sample(rng, rolling_name, full_name):
    p, b = _data(rng, (500,), "float64", "none")
    got = getattr(trackerr, rolling_name)(p, b, len(p))[-1]
    want = getattr(trackerr, full_name)(p, b)
    assert got == pytest.approx(want, rel=1e-13, abs=1e-16)


def test_window_longer_than_series(rng):
    p, b = _data(rng, (30,), "float64", "none")
    assert np.isnan(trackerr.rolling_tracking_error(p, b, 31)).all()
    clipped = trackerr.rolling_tracking_error(p, b, 31, min_periods=5)
    assert np.isnan(clipped[:4]).all() and np.isfinite(clipped[4:]).all()


def test_inf_recovers_once_it_leaves():
    p = np.array([0.01, 0.02, np.inf, 0.0, 0.01, 0.03, 0.02])
    b = np.zeros(7)
    te = trackerr.rolling_tracking_error(p, b, 2)
    assert np.isnan(te[2]) and np.isnan(te[3]) and np.isfinite(te[4:]).all()


def test_constant_windows_are_exactly_zero(rng):
    # stale prices: runs of equal active returns after large values
    a = np.concatenate(
        [rng.normal(0, 1e6, 50), np.full(40, 0.1), rng.normal(0, 1, 50), np.full(30, -3.0)]
    )
    te = trackerr.rolling_tracking_error(a, np.zeros_like(a), 10)
    const = [t for t in range(9, len(a)) if np.ptp(a[t - 9 : t + 1]) == 0]
    assert len(const) == 31 + 21
    assert (te[const] == 0.0).all()
    beta = trackerr.rolling_beta(rng.normal(0, 1, len(a)), a, 10)
    assert np.isnan(beta[const]).all()  # constant benchmark: beta undefined


def test_out_writes_in_place(rng):
    p, b = _data(rng, (100, 3), "float64", "none")
    out = np.empty((100, 3))
    res = trackerr.rolling_beta(p, b, 10, out=out)
    assert res is out
    assert np.array_equal(out, trackerr.rolling_beta(p, b, 10), equal_nan=True)
    col_view = np.empty((100, 6))[:, ::2]
    trackerr.rolling_beta(p, b, 10, out=col_view)
    assert np.array_equal(col_view, out, equal_nan=True)


def test_bad_arguments(rng):
    p, b = _data(rng, (50,), "float64", "none")
    f = trackerr.rolling_tracking_error
    with pytest.raises(ValueError, match=r"window \(=1\) must be at least 2"):
        f(p, b, 1)
    with pytest.raises(ValueError, match=r"window \(=3\) must exceed ddof \(=3\)"):
        f(p, b, 3, ddof=3)
    with pytest.raises(TypeError, match=r"window must be an integer \(rows\) or a span.*float"):
        f(p, b, 2.5)
    with pytest.raises(
        ValueError, match=r"min_periods \(=0\) must be between 1 and window \(=10\)"
    ):
        f(p, b, 10, min_periods=0)
    with pytest.raises(ValueError, match=r"min_periods \(=11\) must be between 1 and window"):
        f(p, b, 10, min_periods=11)
    with pytest.raises(ValueError, match=r"threads \(=0\) must be at least 1"):
        f(p, b, 10, threads=0)
    with pytest.raises(ValueError, match=r"out has shape \(49,\) but the result has shape \(50,\)"):
        f(p, b, 10, out=np.empty(49))
    with pytest.raises(TypeError, match=r"out must have dtype float64, not float32"):
        f(p, b, 10, out=np.empty(50, dtype=np.float32))
    ro = np.empty(50)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=r"out is read-only"):
        f(p, b, 10, out=ro)
    with pytest.raises(ValueError, match=r"out must not overlap"):
        f(p, b, 10, out=p)
    with pytest.raises(ValueError, match=r"portfolio has length 50 but benchmark has length 49"):
        f(p, b[:-1], 10)


def test_pandas_in_pandas_out(rng):
    pd = pytest.importorskip("pandas")
    idx = pd.date_range("2024-01-01", periods=120, freq="D")
    p = pd.DataFrame(rng.normal(0, 0.01, (120, 2)), index=idx, columns=["A", "B"])
    b = pd.Series(rng.normal(0, 0.01, 120), index=idx)
    got = trackerr.rolling_tracking_error(p, b.iloc[5:], 20)
    assert isinstance(got, pd.DataFrame) and list(got.columns) == ["A", "B"]
    assert got.index.equals(idx[5:])
    s = trackerr.rolling_stats(p["A"], b, 20)
    assert isinstance(s.beta, pd.Series) and s.beta.index.equals(idx)
    want = p["A"].rolling(20).cov(b) / b.rolling(20).var()
    assert_close(s.beta.to_numpy(), want.to_numpy(), rtol=1e-10)


def test_long_series_segments_threads_and_boundaries(rng):
    # Series longer than one segment (2**16 rows) are cut into fixed segments
    # that run in parallel: results must not depend on threads, and windows
    # across a segment boundary must match the exact reference.
    n = 200_000
    p, b = _data(rng, (n,), "float64", "sprinkled")
    for name in ("rolling_tracking_error", "rolling_beta", "rolling_information_ratio"):
        one = getattr(trackerr, name)(p, b, 40, threads=1)
        for threads in (2, 3, None):
            assert np.array_equal(
                getattr(trackerr, name)(p, b, 40, threads=threads), one, equal_nan=True
            )
        for boundary in (1 << 16, 2 << 16, 3 << 16):
            lo, hi = boundary - 60, boundary + 60
            want = getattr(reference, name)(p[lo - 40 : hi], b[lo - 40 : hi], 40)[40:]
            assert_close(one[lo:hi], want, rtol=1e-12, atol=_atol(name))


# --- the common call's quick checks (_rolling._plain) ----------------------------------

ROLLING_FUNCS = sorted(ROLLING)


def _checked_twin(x):
    """The same values through a type the quick path does not take (a 2-D or
    1-D array subclass), so the full checks run."""
    return x.view(np.ma.MaskedArray)


@pytest.mark.parametrize("name", ROLLING_FUNCS)
@pytest.mark.parametrize("shape", [(400,), (300, 5)])
def test_quick_path_equals_the_checked_path_bit_for_bit(name, shape):
    from trackerr import _rolling

    rng = np.random.default_rng(17)
    p, b = _data(rng, shape, np.float64, "sprinkled")
    fn = getattr(trackerr, name)
    assert _rolling._plain(p, b, 30, None, 1, None, "omit", None, None) is not None
    fast = fn(p, b, 30)
    slow = fn(_checked_twin(p), _checked_twin(b), 30)
    parts = fast if isinstance(fast, tuple) else (fast,)
    twins = slow if isinstance(slow, tuple) else (slow,)
    for f, s in zip(parts, twins, strict=True):
        assert type(f) is np.ndarray and f.shape == p.shape
        np.testing.assert_array_equal(np.asarray(f), np.asarray(s))
    # the inputs are left as they were
    p2, b2 = _data(np.random.default_rng(17), shape, np.float64, "sprinkled")
    np.testing.assert_array_equal(p, p2)
    np.testing.assert_array_equal(b, b2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window": 1},
        {"window": True},
        {"window": 2.0},
        {"window": 30, "ddof": 30},
        {"window": 30, "ddof": -1},
        {"window": 30, "ddof": float("nan")},
        {"window": 30, "threads": 0},
        {"window": 30, "threads": 1.0},
        {"window": 30, "nan_policy": "drop"},
    ],
)
def test_quick_path_leaves_bad_arguments_to_the_full_checks(kwargs):
    from trackerr import _rolling

    p = np.linspace(0.01, 0.02, 100)
    b = p * 0.5
    opts = {"min_periods": None, "ddof": 1, "threads": None, "nan_policy": "omit", **kwargs}
    window = opts.pop("window")
    assert (
        _rolling._plain(
            p,
            b,
            window,
            opts["min_periods"],
            opts["ddof"],
            None,
            opts["nan_policy"],
            None,
            opts["threads"],
        )
        is None
    )
    with pytest.raises((ValueError, TypeError)) as fast:
        trackerr.rolling_tracking_error(
            p, b, window, **{k: v for k, v in opts.items() if k != "min_periods"}
        )
    with pytest.raises(type(fast.value)) as slow:
        trackerr.rolling_tracking_error(
            list(p), list(b), window, **{k: v for k, v in opts.items() if k != "min_periods"}
        )
    assert str(fast.value) == str(slow.value)


@pytest.mark.parametrize(
    "p_shape, b_shape",
    [((0,), (0,)), ((10,), (9,)), ((10,), (10, 2)), ((10, 3), (10, 2)), ((10, 3, 1), (10,))],
)
def test_quick_path_leaves_bad_shapes_to_the_full_checks(p_shape, b_shape):
    from trackerr import _rolling

    p, b = np.zeros(p_shape), np.zeros(b_shape)
    assert _rolling._plain(p, b, 2, None, 1, None, "omit", None, None) is None
    with pytest.raises(ValueError):
        trackerr.rolling_tracking_error(p, b, 2)
