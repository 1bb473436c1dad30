"""Edges of the C++ kernels (issue 9, items 3, 4, 19 and 23).

* An exception in a worker thread, or a thread that cannot be created, is a
  Python exception or a fallback to fewer threads, never std::terminate.
* Rolling risk metrics allocate by min(window, rows): a window of 2**61 over
  10 rows is as cheap as one of 11, and gives the same values.
* window, min_periods and threads beyond C++ integers get one-line errors
  naming the argument.
* Tiny (1e-200) and huge (1e200) data keep their digits (scaled sums), and
  compounded metrics are NaN for a return below -1 or an infinite one.

Expected values come from exact rational arithmetic (fractions.Fraction) or
from a window of rows + 1, never from the code under test at the same
setting. Crashes are checked in a subprocess, so a regression fails one test
instead of killing the run.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from fractions import Fraction

import numpy as np
import pytest

import trackerr
from trackerr import _core

RISK_ROLLING = {
    "rolling_max_drawdown": {},
    "rolling_sortino_ratio": {"periods_per_year": 12},
    "rolling_omega_ratio": {},
    "rolling_up_capture": {"method": "annualized", "periods_per_year": 12},
    "rolling_down_capture": {},
}
TWO_SERIES = {"rolling_up_capture", "rolling_down_capture"}


def _run_python(
    code: str, memory_headroom_mb: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter (optionally with an address-space limit
    of the current size plus `memory_headroom_mb`), so that an abort is a
    failed test, not a dead test run."""
    prelude = ""
    if memory_headroom_mb is not None:
        prelude = textwrap.dedent(
            f"""
            import resource
            _vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
            _limit = _vm + {memory_headroom_mb} * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (_limit, resource.RLIM_INFINITY))
            """
        )
    return subprocess.run(
        [sys.executable, "-c", "import numpy as np, trackerr\n" + prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )


# --- item 3: exceptions in threads ---------------------------------------------


def test_rolling_drawdown_huge_window_with_default_threads_does_not_abort() -> None:
    res = _run_python(
        """
        out = trackerr.rolling_max_drawdown(np.zeros((12, 3)), 10**10)
        assert out.shape == (12, 3) and np.isnan(out).all(), out
        out = trackerr.rolling_max_drawdown(np.zeros((12, 3)), 10**10, min_periods=1)
        assert (out == 0.0).all(), out
        print("ok")
        """
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_worker_out_of_memory_is_a_python_exception() -> None:
    # Each column's window needs ~200 MB of summaries; 300 MB of headroom lets
    # some workers allocate and makes others fail: the failures must come back
    # as MemoryError after every thread was joined, not as an abort.
    res = _run_python(
        """
        x = np.zeros((10**6, 8))
        try:
            trackerr.rolling_max_drawdown(x, 10**6, min_periods=1, threads=8)
        except MemoryError:
            print("MemoryError")
        """,
        memory_headroom_mb=300,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "MemoryError"


def test_threads_that_cannot_be_created_fall_back_bit_identically() -> None:
    # 1000 threads of 8 MB stacks do not fit in 300 MB. The kernels' pool
    # starts at most one thread per core beside the caller, and the parts
    # beyond run on the threads there are: the same results, no failure.
    res = _run_python(
        """
        x = np.random.default_rng(1).normal(0, 0.01, (50, 2000))
        wide = np.ascontiguousarray(np.tile(x, (1, 40)))
        want_dd = trackerr.rolling_max_drawdown(x, 10, threads=1)
        want_te = trackerr.rolling_tracking_error(wide, x[:, 0], 10, threads=1)
        long = np.random.default_rng(2).normal(0, 0.01, 2**20)
        want_1d = trackerr.rolling_beta(long, long[::-1].copy(), 64, threads=1)
        import resource
        vm = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (vm + 300 * 2**20, resource.RLIM_INFINITY))
        got_dd = trackerr.rolling_max_drawdown(x, 10, threads=1000)
        got_te = trackerr.rolling_tracking_error(wide, x[:, 0], 10, threads=1000)
        got_1d = trackerr.rolling_beta(long, long[::-1].copy(), 64, threads=1000)
        assert np.array_equal(got_dd, want_dd, equal_nan=True)
        assert np.array_equal(got_te, want_te, equal_nan=True)
        assert np.array_equal(got_1d, want_1d, equal_nan=True)
        print("ok")
        """
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


# --- item 4: allocation by min(window, rows) -----------------------------------


@pytest.mark.parametrize("name", sorted(RISK_ROLLING))
# In process only windows whose window-sized allocation would fail at once
# (never a multi-GB allocation on a shared machine); 2.5e7 and 1e8 are
# checked under a memory limit below.
@pytest.mark.parametrize("window", [2**40, 2**61, 2**63 - 1])
def test_rolling_risk_window_beyond_rows_costs_the_rows(name: str, window: int) -> None:
    rng = np.random.default_rng(window % 1000)
    p = rng.normal(0.0, 0.02, (10, 3))
    b = rng.normal(0.0, 0.02, 10)
    args = (p, b) if name in TWO_SERIES else (p,)
    fn = getattr(trackerr, name)
    opts = RISK_ROLLING[name]
    want = fn(*args, 11, min_periods=1, threads=1, **opts)
    got = fn(*args, window, min_periods=1, threads=2, **opts)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(fn(*args, window, **opts)).all()


def test_rolling_risk_huge_window_fits_in_little_memory() -> None:
    # 10 rows: a window-sized allocation (2.5e7 summaries, ~4.7 GB) cannot
    # happen under a 200 MB headroom.
    res = _run_python(
        """
        r = np.linspace(-0.02, 0.03, 10)
        t = trackerr
        for fn in (t.rolling_max_drawdown, t.rolling_omega_ratio, t.rolling_sortino_ratio):
            want = fn(r, 11, min_periods=1)
            for w in (25_000_000, 10**8, 2**61):
                assert np.array_equal(fn(r, w, min_periods=1), want, equal_nan=True)
        for fn in (t.rolling_up_capture, t.rolling_down_capture):
            want = fn(r, r[::-1], 11, min_periods=1)
            got = fn(r, r[::-1], 2**61, min_periods=1)
            assert np.array_equal(got, want, equal_nan=True)
        print("ok")
        """,
        memory_headroom_mb=200,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


@pytest.mark.parametrize("window", [2**40, 2**61, 2**63 - 1])
def test_rolling_moments_window_beyond_rows(window: int) -> None:
    rng = np.random.default_rng(3)
    p = rng.normal(0.0, 0.02, (200, 3))
    b = rng.normal(0.0, 0.02, 200)
    for name in ("rolling_tracking_error", "rolling_beta", "rolling_correlation"):
        fn = getattr(trackerr, name)
        want = fn(p, b, 201, min_periods=2, threads=1)
        np.testing.assert_array_equal(fn(p, b, window, min_periods=2, threads=3), want)
        np.testing.assert_array_equal(fn(p[:, 1], b, window, min_periods=2), want[:, 1])


# --- item 23: integer arguments beyond C++ integers ----------------------------


def _rolling_core(window: object, min_periods: object = 0, threads: object = 1) -> None:
    p = np.zeros(10)
    _core.rolling(
        ["tracking_error"],
        p,
        p,
        window,
        min_periods,
        1.0,
        math.nan,
        0.0,
        False,
        [np.empty(10)],
        threads,
    )


def _risk_core(window: object, min_periods: object = 0, threads: object = 1) -> None:
    p = np.zeros((10, 2))
    _core.rolling_risk(
        "max_drawdown", p, None, window, min_periods, 0.0, math.nan, np.empty((10, 2)), threads
    )


@pytest.mark.parametrize("call", [_rolling_core, _risk_core])
@pytest.mark.parametrize(
    ("kwargs", "error", "argument"),
    [
        ({"window": 2**63}, ValueError, "window"),
        ({"window": 2**64 + 5}, ValueError, "window"),
        ({"window": -(2**63) - 1}, ValueError, "window"),
        ({"window": 0}, ValueError, "window"),
        ({"window": 2.5}, TypeError, "window"),
        ({"window": True}, TypeError, "window"),
        ({"window": 5, "min_periods": 6}, ValueError, "min_periods"),
        ({"window": 5, "min_periods": -1}, ValueError, "min_periods"),
        ({"window": 5, "min_periods": 2**63}, ValueError, "min_periods"),
        ({"window": 5, "threads": 2**31}, ValueError, "threads"),
        ({"window": 5, "threads": 2**63}, ValueError, "threads"),
        ({"window": 5, "threads": 1025}, ValueError, "threads"),
        ({"window": 5, "threads": -1}, ValueError, "threads"),
        ({"window": 5, "threads": "2"}, TypeError, "threads"),
    ],
)
def test_core_integer_arguments_are_checked(call, kwargs, error, argument) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as info:
        call(**kwargs)
    message = str(info.value)
    assert message.startswith(argument), message
    assert "\n" not in message and "incompatible" not in message and "C++ type" not in message


def test_core_accepts_numpy_integers_and_the_limits() -> None:
    _rolling_core(np.int64(5), np.int32(2), np.int64(1024))
    _risk_core(np.int64(2**63 - 1), np.int64(3), np.uint8(2))
    _rolling_core(2**63 - 1, 2**63 - 1, 0)  # 0: one thread per core


@pytest.mark.parametrize("threads", [2**31, 2**40, 1025])
def test_public_rolling_threads_beyond_limit_is_a_value_error(threads: int) -> None:
    x = np.zeros(10)
    for call in (
        lambda: trackerr.rolling_tracking_error(x, x, 3, threads=threads),
        lambda: trackerr.rolling_max_drawdown(x, 3, threads=threads),
    ):
        with pytest.raises(ValueError, match="threads"):
            call()


def test_public_rolling_window_beyond_int64_is_a_value_error() -> None:
    x = np.zeros(10)
    for call in (
        lambda: trackerr.rolling_tracking_error(x, x, 2**63),
        lambda: trackerr.rolling_omega_ratio(x, 2**63),
    ):
        with pytest.raises(ValueError, match="window"):
            call()


# --- item 19: tiny and huge data --------------------------------------------------


def _fsqrt(x: Fraction) -> float:
    """sqrt of a non-negative Fraction of any magnitude, correctly scaled."""
    if x == 0:
        return 0.0
    k = (x.numerator.bit_length() - x.denominator.bit_length()) // 2
    return math.ldexp(math.sqrt(float(x / Fraction(4) ** k)), k)


def _exact(p: np.ndarray, b: np.ndarray) -> dict[str, float]:
    P = [Fraction(float(v)) for v in p]
    B = [Fraction(float(v)) for v in b]
    A = [
        Fraction(float(x - y)) for x, y in zip(p, b, strict=True)
    ]  # p - b rounded once, as defined
    n = len(P)
    mp, mb, ma = sum(P) / n, sum(B) / n, sum(A) / n
    cpp = sum((x - mp) ** 2 for x in P)
    cbb = sum((y - mb) ** 2 for y in B)
    cpb = sum((x - mp) * (y - mb) for x, y in zip(P, B, strict=True))
    caa = sum((a - ma) ** 2 for a in A)
    r2 = cpb * cpb / (cpp * cbb)
    beta = cpb / cbb
    out = {
        "correlation": _fsqrt(r2) if cpb >= 0 else -_fsqrt(r2),
        "r_squared": float(r2),
        "tracking_error": _fsqrt(caa / (n - 1)),
        "active_return": float(ma),
        "information_ratio": float(ma) / _fsqrt(caa / (n - 1)) if ma else 0.0,
    }
    if abs(beta) < 2**1000:  # beta and alpha when beta itself is a double
        out["beta"] = float(beta)
        out["alpha"] = float(mp - beta * mb)
    return out


@pytest.mark.parametrize("scale_p", [1e-200, 1e-300, 1e-310, 1e200, 1e300, 1.0])
@pytest.mark.parametrize("scale_b", [1.0, 1e-250, 1e250])
def test_full_sample_moments_at_any_scale(scale_p: float, scale_b: float) -> None:
    base_p = np.array([1.0, 2.0, 0.0, 5.0, -3.0, 2.5, 7.0, -1.0, 0.5, 3.0])
    base_b = np.array([0.5, 1.0, 0.25, 2.0, -1.0, 1.0, 3.0, 0.0, 0.5, 1.5])
    p, b = base_p * scale_p, base_b * scale_b
    want = _exact(p, b)
    panel_p = np.column_stack([base_p * 0.01, p, base_p])
    panel_b = np.column_stack([base_b * 0.01, b, base_b])
    for name, value in want.items():
        fn = getattr(trackerr, name)
        got = fn(p, b)
        in_panel = fn(panel_p, panel_b)[1]
        in_fortran = fn(np.asfortranarray(panel_p), np.asfortranarray(panel_b))[1]
        for g in (got, in_panel, in_fortran):
            if name == "alpha":
                bound = 1e-13 * (abs(float(np.mean(p))) + abs(want["beta"] * float(np.mean(b))))
                assert abs(g - value) <= bound, (name, g, value)
            else:
                assert g == pytest.approx(value, rel=1e-13, abs=0.0), (name, g, value)


def test_correlation_reproducer() -> None:
    assert trackerr.correlation([1e-200, 2e-200, 0], [1, 2, 0]) == pytest.approx(1.0, rel=1e-15)
    assert trackerr.r_squared([1e200, 2e200, 0], [1, 2, 0]) == pytest.approx(1.0, rel=1e-15)
    assert trackerr.beta([1e-200, 2e-200, 0], [1, 2, 0]) == pytest.approx(1e-200, rel=1e-15)
    assert trackerr.beta([1, 2, 0], [1e200, 2e200, 0]) == pytest.approx(1e-200, rel=1e-15)


def test_constant_tiny_series_stay_exact() -> None:
    k = np.full(5, 1e-250)
    assert trackerr.tracking_error(k, np.zeros(5)) == 0.0
    assert math.isnan(trackerr.beta(np.zeros(5), k))
    assert math.isnan(trackerr.correlation(k, np.arange(5.0)))


# --- item 19: domain of compounded metrics ----------------------------------------

COMPOUNDED = [
    ("tracking_difference", {}),
    ("tracking_difference", {"periods_per_year": 252}),
    ("active_return", {"method": "geometric"}),
    ("active_return", {"method": "geometric", "periods_per_year": 12}),
    ("information_ratio", {"method": "geometric", "periods_per_year": 12}),
]


@pytest.mark.parametrize(("name", "opts"), COMPOUNDED)
@pytest.mark.parametrize(
    ("p", "b"),
    [
        ([np.inf, 0.0], [0.0, 0.0]),
        ([0.0, 0.01], [-np.inf, 0.0]),
        ([np.inf, 0.01, 0.02], [np.inf, 0.0, 0.01]),
        ([-1.5, 0.01, 0.02], [0.0, 0.0, 0.01]),
        ([-1.5, -1.5, 0.02], [0.0, 0.0, 0.01]),  # two negative factors are not a gain
        ([0.01, 0.02, 0.0], [0.0, -2.0, 0.01]),
    ],
)
def test_compounded_metrics_are_nan_outside_the_domain(
    name: str, opts: dict, p: list, b: list
) -> None:  # type: ignore[type-arg]
    got = getattr(trackerr, name)(np.array(p), np.array(b), **opts)
    assert math.isnan(got), got
    panel = getattr(trackerr, name)(
        np.column_stack([p, np.full(len(p), 0.01)]), np.array(b), **opts
    )
    assert math.isnan(panel[0])


def test_compounded_metrics_keep_total_loss() -> None:
    # A return of exactly -1 is a total loss: growth 0, CAGR -1 (not NaN).
    assert trackerr.tracking_difference([-1.0, 0.5], [0.0, 0.0]) == -1.0
    assert trackerr.tracking_difference([-1.0, 0.5], [0.0, 0.0], periods_per_year=12) == -1.0
    assert trackerr.active_return([-1.0, 0.5], [0.0, 0.0], method="geometric") == -1.0


def test_geometric_alpha_is_nan_when_it_compounds_a_negative_factor() -> None:
    # p = 3 b - 2.5 per period: beta 3, per-period alpha -2.5 exactly.
    b = np.array([0.0, 0.25, 0.5, -0.25])
    p = 3.0 * b - 2.5
    assert trackerr.alpha(p, b) == pytest.approx(-2.5, rel=1e-14)
    assert math.isnan(trackerr.alpha(p, b, method="geometric", periods_per_year=252))
    assert math.isnan(trackerr.alpha(p, b, method="geometric", periods_per_year=2))
    # One period a year compounds nothing: (1 + a)^1 - 1 = a.
    assert trackerr.alpha(p, b, method="geometric", periods_per_year=1) == pytest.approx(
        -2.5, rel=1e-14
    )


@pytest.mark.parametrize("fn", [trackerr.up_capture, trackerr.down_capture])
def test_capture_is_nan_for_a_return_below_minus_one_in_any_row(fn) -> None:  # type: ignore[no-untyped-def]
    b = np.array([0.01, -0.02, 0.02, 0.01, -0.01])
    p = np.array([0.02, -0.01, 0.01, 0.03, -0.02])
    assert math.isfinite(fn(p, b))
    for row in range(5):  # up rows and down rows alike
        q = p.copy()
        q[row] = -1.5
        assert math.isnan(fn(q, b))
        roll = getattr(trackerr, "rolling_" + fn.__name__)(q, b, 2, min_periods=1)
        assert np.isnan(roll[row]) and (row + 2 > 4 or np.isnan(roll[row + 1]))


# --- found by the fuzzer: one side constant while a huge value leaves ---------


@pytest.mark.parametrize("layout", ["c", "fortran", "1-D"])
def test_rolling_pair_guard_with_a_stale_portfolio(layout: str) -> None:
    # The portfolio is stale (constant) while a huge benchmark value leaves
    # the window: the benchmark's moments must still be rebuilt. Exact
    # values: beta of a constant against anything is 0, and alpha is then
    # mean(p) - rf; the benchmark's variance after the huge value left is
    # that of the last two rows.
    p = np.array([0.003, -0.002, 0.001001, 0.001001, 0.001001, 0.001001])
    b = np.array([0.01, 0.02, -1e30, 0.94239, -0.3355175, 0.12])
    if layout == "1-D":
        pp, bb = p, b
    else:
        pp = np.column_stack([p, p * 2.0, p])
        bb = np.column_stack([b, b, b * 0.5])
        if layout == "fortran":
            pp, bb = np.asfortranarray(pp), np.asfortranarray(bb)
    beta = trackerr.rolling_beta(pp, bb, 2, threads=1)
    alpha = trackerr.rolling_alpha(pp, bb, 2, risk_free=1e-4)
    te = trackerr.rolling_tracking_error(pp, bb, 2)
    col = (lambda x: x) if layout == "1-D" else (lambda x: x[:, 0])
    assert col(beta)[4] == 0.0 and col(beta)[5] == 0.0
    assert col(alpha)[4] == pytest.approx(0.001001 - 1e-4, rel=1e-15)
    want_te = abs(
        float(Fraction(0.001001 - 0.94239) - Fraction(0.001001 - -0.3355175))
    ) / math.sqrt(2)
    assert col(te)[4] == pytest.approx(want_te, rel=1e-14)


@pytest.mark.parametrize("scale_p", [1e-200, 1e-300, 1e200, 1e300])
@pytest.mark.parametrize("scale_b", [1.0, 1e-250, 1e250])
@pytest.mark.parametrize("layout", ["1-D", "c", "fortran"])
def test_rolling_moments_at_any_scale(scale_p: float, scale_b: float, layout: str) -> None:
    base_p = np.array([1.0, 2.0, 0.0, 5.0, -3.0, 2.5, 7.0, -1.0, 0.5, 3.0, 2.0, -2.0])
    base_b = np.array([0.5, 1.0, 0.25, 2.0, -1.0, 1.0, 3.0, 0.0, 0.5, 1.5, -0.5, 1.0])
    p, b = base_p * scale_p, base_b * scale_b
    p[5] = np.nan  # NaN handling unchanged by the rescaled run
    w = 4
    if layout == "1-D":
        pp, bb = p, b
    else:
        pp = np.column_stack([base_p * 0.01, p, base_p])
        bb = np.column_stack([base_b * 0.01, b, base_b])
        if layout == "fortran":
            pp, bb = np.asfortranarray(pp), np.asfortranarray(bb)
    names = (
        "tracking_error",
        "active_return",
        "information_ratio",
        "beta",
        "correlation",
        "r_squared",
    )
    got = {n: getattr(trackerr, "rolling_" + n)(pp, bb, w, min_periods=3, threads=2) for n in names}
    for t in range(len(p)):
        rows = [i for i in range(max(0, t - w + 1), t + 1) if not math.isnan(p[i])]
        for n in names:
            value = got[n][t] if layout == "1-D" else got[n][t, 1]
            if len(rows) < 3:
                assert math.isnan(value)
                continue
            want = _exact(p[rows], b[rows]).get(n)
            if want is None:  # beta beyond the double range
                continue
            assert value == pytest.approx(want, rel=1e-12, abs=0.0), (n, t, value, want)


@pytest.mark.parametrize("huge", [1e200, -1e300, 1e-200])
def test_rolling_one_extreme_value_in_an_ordinary_series(huge: float) -> None:
    # Windows holding the extreme value are summed scaled; the others keep
    # the ordinary kernel's values (a factor fit for 1e200 would push them
    # into underflow). A tiny value among ordinary ones changes nothing.
    rng = np.random.default_rng(7)
    p = rng.normal(0.0, 0.02, 30)
    b = rng.normal(0.0, 0.02, 30)
    p[10] = huge
    w = 5
    names = ("tracking_error", "beta", "correlation", "r_squared", "information_ratio")
    for n in names:
        got = getattr(trackerr, "rolling_" + n)(p, b, w)
        for t in range(w - 1, 30):
            want = _exact(p[t - w + 1 : t + 1], b[t - w + 1 : t + 1]).get(n)
            if want is None:  # beta beyond the double range
                continue
            assert got[t] == pytest.approx(want, rel=1e-12, abs=0.0), (n, t, got[t], want)
