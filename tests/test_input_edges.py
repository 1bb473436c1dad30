"""Regression tests for the input edges of issue 9 (items 13, 14, 15, 20, 22, 23, 25):
masked arrays, pandas dtypes, misaligned indexes, non-array inputs, option limits,
the Monitor's batches and labels, and the reference's tiny-scale correlation."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

import trackerr
from trackerr import reference

pd = pytest.importorskip("pandas")

P = np.array([0.01, -0.02, 0.015, 0.0, 0.005])
B = np.array([0.008, -0.018, 0.01, 0.001, 0.004])


# --- item 13: masked arrays ----------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_masked_values_are_nan(dtype):
    data = np.array([1, 500, 2, 0, 3], dtype=dtype)
    masked = np.ma.array(data, mask=[0, 1, 0, 0, 0])
    keep = np.array([True, False, True, True, True])
    bench = np.zeros(5)
    want = trackerr.tracking_error(data[keep].astype(np.float64), bench[keep])
    assert trackerr.tracking_error(masked, bench) == pytest.approx(want, rel=1e-6)
    assert math.isnan(trackerr.tracking_error(masked, bench, nan_policy="propagate"))
    with pytest.raises(ValueError, match="row 1"):
        trackerr.tracking_error(masked, bench, nan_policy="raise")
    # a masked benchmark, a rolling function, a risk function
    assert trackerr.beta(bench + data, masked) == pytest.approx(
        trackerr.beta((bench + data)[keep], data[keep].astype(np.float64)), rel=1e-6
    )
    rolled = trackerr.rolling_tracking_error(masked, bench, 3, min_periods=1)
    assert np.isfinite(rolled[2]) and rolled[2] == pytest.approx(np.std([1, 2], ddof=1))
    assert trackerr.max_drawdown(np.ma.array([0.1, -0.9, 0.1], mask=[0, 1, 0])) == 0.0
    assert not np.ma.getmaskarray(masked)[0] and masked.data[1] == 500  # input untouched


def test_masked_array_without_mask_is_read_in_place():
    assert trackerr.tracking_error(np.ma.array(P), B) == trackerr.tracking_error(P, B)


# --- item 14: pandas dtypes get the numpy checks -----------------------------------


@pytest.mark.parametrize(
    "series",
    [
        pd.Series(pd.date_range("2020", periods=5)),
        pd.Series(pd.timedelta_range("1D", periods=5)),
        pd.Series([True, False, True, False, True]),
        pd.Series(["0.1", "0.2", "0.3", "0.4", "0.5"]),
        pd.Series(["0.1", "0.2", "0.3", "0.4", "0.5"], dtype=object),
        pd.Series(pd.Categorical([0.1, 0.2, 0.1, 0.2, 0.1])),
    ],
    ids=["datetime", "timedelta", "bool", "str", "object-str", "category"],
)
@pytest.mark.parametrize("where", ["portfolio", "benchmark"])
def test_non_numeric_series_refused(series, where):
    args = (series, B) if where == "portfolio" else (P, series)
    with pytest.raises(TypeError, match=rf"{where} must hold real numbers; got a Series of dtype"):
        trackerr.tracking_error(*args)
    with pytest.raises(TypeError, match=rf"{where} must hold real numbers"):
        trackerr.rolling_beta(*args, 3)


def test_dataframe_with_a_date_column_names_the_column():
    frame = pd.DataFrame({"date": pd.date_range("2020", periods=5), "A": P})
    with pytest.raises(TypeError, match=r"column 'date' has dtype datetime64"):
        trackerr.tracking_error(frame, B)
    with pytest.raises(TypeError, match=r"column 'date'"):
        trackerr.max_drawdown(frame)


def test_nullable_pandas_dtypes_read_na_as_nan():
    p = pd.Series([0.01, None, 0.015, 0.0, 0.005], dtype="Float64")
    b = pd.Series(B)
    keep = [0, 2, 3, 4]
    assert trackerr.tracking_error(p, b) == pytest.approx(
        trackerr.tracking_error(P[keep], B[keep]), rel=1e-15
    )
    ints = pd.Series([1, 2, None, 4, 5], dtype="Int64")
    assert trackerr.max_drawdown(ints) == 0.0


# --- item 22: misaligned pandas indexes ------------------------------------------------

DAYS = pd.date_range("2024-01-01", periods=5)


@pytest.mark.parametrize(
    ("index_b", "message"),
    [
        (DAYS.tz_localize("UTC"), r"dates \(tz-naive\), the benchmark by dates \(tz UTC\)"),
        (DAYS.strftime("%Y-%m-%d"), r"the benchmark by strings; convert both with pd.to_datetime"),
        (pd.MultiIndex.from_arrays([DAYS, range(5)]), r"MultiIndex of 2 levels"),
        (DAYS + pd.Timedelta(days=30), r"they share no label"),
    ],
    ids=["tz", "str", "multi", "disjoint"],
)
def test_misaligned_indexes_say_why(index_b, message):
    p = pd.Series(P, index=DAYS)
    b = pd.Series(B, index=index_b)
    with pytest.raises(ValueError, match=r"indexes do not align: .*" + message):
        trackerr.tracking_error(p, b)
    with pytest.raises(ValueError, match=r"indexes do not align"):
        trackerr.rolling_tracking_error(p, b, 3)
    with pytest.raises(ValueError, match=r"indexes do not align"):
        trackerr.up_capture(p, b)


def test_partial_overlap_still_aligns():
    p = pd.Series(P, index=DAYS)
    b = pd.Series(B[1:], index=DAYS[1:])
    assert trackerr.tracking_error(p, b) == pytest.approx(trackerr.tracking_error(P[1:], B[1:]))


# --- item 25 and 23: what is not an array of numbers, and option limits ----------


@pytest.mark.parametrize(
    "bad",
    [(x for x in P), set(P.tolist()), {0: 0.1}, "0.1,0.2", b"\x00", iter(P.tolist())],
    ids=["generator", "set", "dict", "str", "bytes", "iterator"],
)
def test_non_array_likes_are_named(bad):
    with pytest.raises(TypeError, match=r"portfolio must be an array-like of numbers"):
        trackerr.tracking_error(bad, B)
    with pytest.raises(TypeError, match=r"returns must be an array-like of numbers"):
        trackerr.max_drawdown(bad)


def test_complex_scalar_is_a_type_error():
    with pytest.raises(TypeError, match=r"portfolio must hold real numbers; got an array of dtype"):
        trackerr.tracking_error(1 + 2j, 0)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"threads": 2**31}, ValueError, r"threads \(=2147483648\) is too many"),
        ({"threads": 2**70}, ValueError, r"threads .* is too many"),
        ({"threads": np.int64(2)}, None, None),
        ({"threads": 2.0}, TypeError, r"threads must be a positive integer or None"),
        ({"threads": True}, TypeError, r"threads must be"),
        ({"window": 2**63}, ValueError, r"window \(=9223372036854775808\) is too large"),
        ({"window": 2**200}, ValueError, r"window .* is too large"),
        ({"window": np.int32(3)}, None, None),
        ({"window": np.uint64(2**63)}, ValueError, r"window .* is too large"),
        ({"min_periods": np.int64(2)}, None, None),
        ({"min_periods": 2**63}, ValueError, r"min_periods .* must be between 1 and window"),
    ],
)
@pytest.mark.parametrize(
    "name", ["rolling_tracking_error", "rolling_max_drawdown", "rolling_down_capture"]
)
def test_rolling_option_limits(name, kwargs, error, message):
    f = getattr(trackerr, name)
    kw = dict(kwargs)
    window = kw.pop("window", 3)
    args = (P, window) if name == "rolling_max_drawdown" else (P, B, window)
    if error is None:
        assert f(*args, **kw).shape == P.shape
        return
    with pytest.raises(error, match=message):
        f(*args, **kw)


def test_reference_correlation_at_tiny_and_huge_scales():
    assert reference.correlation([0, 2e-116], [0, 2e-116]) == 1.0
    assert reference.correlation([1e-200, 2e-200, 0], [1, 2, 0]) == pytest.approx(1.0, rel=1e-15)
    assert reference.correlation([1e200, -2e200, 0], [1, -2, 0.1]) == pytest.approx(
        reference.correlation([1, -2, 0], [1, -2, 0.1]), rel=1e-14
    )
    assert reference.beta([2e-200, 4e-200, 0], [1e-200, 2e-200, 0]) == pytest.approx(2.0, rel=1e-15)


def test_nan_raise_names_the_row_and_its_label():
    p = pd.Series([0.01, np.nan, 0.0, np.nan, 0.02], index=DAYS)
    for f in (trackerr.tracking_error, trackerr.beta):
        with pytest.raises(ValueError, match=r"first at row 1 \(label 2024-01-02 00:00:00\), 2 "):
            f(p, pd.Series(B, index=DAYS), nan_policy="raise")
    with pytest.raises(ValueError, match=r"first at row 1 \(label 2024-01-02"):
        trackerr.rolling_tracking_error(p, pd.Series(B, index=DAYS), 2, nan_policy="raise")
    with pytest.raises(ValueError, match=r"first at row 1 \(label 2024-01-02"):
        trackerr.max_drawdown(p, nan_policy="raise")


# --- items 15 and 20: the Monitor ------------------------------------------------------


def _bursty(rng, n=60):
    p = rng.normal(0.0, 0.002, n)
    p[15:20] *= 30  # a burst that breaches, then calms down and recovers
    p[40:43] *= 30
    return p, np.zeros(n)


def _one_by_one(monitor, p, b, labels=None):
    events = []
    for i in range(len(b)):
        t = None if labels is None else labels[i]
        events.extend(monitor.update(p[i], b[i], t))
    return events


@pytest.mark.parametrize("kind", [{"window": 6}, {"halflife": 4.0}, {}])
def test_monitor_batch_gives_the_tick_by_tick_events(rng, kind):
    p, b = _bursty(rng)
    opts = {"clear_below": 0.02, "min_periods": 3, **kind}
    one = _one_by_one(trackerr.Monitor(0.03, **opts), p, b)
    assert one and one[0].kind == "breach"
    batch = trackerr.Monitor(0.03, **opts).update(p, b)
    assert batch == one
    # split batches continue where the last one stopped
    m = trackerr.Monitor(0.03, **opts)
    assert m.update(p[:17], b[:17]) + m.update(p[17:], b[17:]) == one


def test_monitor_batch_with_many_portfolios(rng):
    p1, b = _bursty(rng)
    panel = np.column_stack([p1, p1 * 0.1, p1[::-1].copy()])
    one = _one_by_one(trackerr.Monitor(0.03, window=6, n_portfolios=3), panel, b)
    assert {e.portfolio for e in one} == {0, 2}
    assert trackerr.Monitor(0.03, window=6, n_portfolios=3).update(panel, b) == one


def test_monitor_labels_accept_datetimes_and_are_checked_first(rng):
    p, b = _bursty(rng)
    days = pd.date_range("2024-01-01", periods=len(b))
    m = trackerr.Monitor(0.03, window=6)
    events = _one_by_one(m, p, b, days)
    assert events and isinstance(events[0].tick, pd.Timestamp)
    assert trackerr.Monitor(0.03, window=6).update(p, b, days) == events
    stamps = [dt.datetime(2024, 1, 1) + dt.timedelta(days=i) for i in range(len(b))]
    assert [e.tick for e in trackerr.Monitor(0.03, window=6).update(p, b, stamps)] == [
        stamps[days.get_loc(e.tick)] for e in events
    ]
    # a bad label fails before the state moves: nothing is lost or counted twice
    m = trackerr.Monitor(0.03, window=6)
    for bad, error in (("monday", TypeError), (math.nan, ValueError), (pd.NaT, ValueError)):
        with pytest.raises(error, match=r"t "):
            m.update(0.01, 0.0, bad)
        with pytest.raises(error, match=r"t "):
            m.update(p, b, [*days[:-1], bad])
    assert m.state.count == 0
    with pytest.raises(ValueError, match=r"needs 60 labels; got 59"):
        m.update(p, b, days[:-1])
    with pytest.raises(ValueError, match=r"length-60 benchmark"):
        m.update(p, b[:-1])
    assert m.state.count == 0


def test_semi_annual_and_annual_presets():
    base = trackerr.tracking_error(P, B)
    assert trackerr.tracking_error(P, B, periods_per_year="semi-annual") == pytest.approx(
        base * math.sqrt(2), rel=1e-15
    )
    assert trackerr.tracking_error(P, B, periods_per_year="annual") == base


def test_monitor_with_a_window_too_large_for_memory_is_a_value_error():
    # item 1: window x n_portfolios overflowed size_t and the first tick segfaulted
    with pytest.raises(ValueError, match=r"too large"):
        trackerr.Monitor(0.03, window=2**62, n_portfolios=4)


@pytest.mark.parametrize(
    "prices",
    [
        pd.Series(pd.date_range("2020", periods=3)),
        pd.Series([True, False, True]),
        pd.Series(["1", "2", "3"]),
        pd.DataFrame({"d": pd.date_range("2020", periods=3), "A": [1.0, 2.0, 3.0]}),
    ],
    ids=["datetime", "bool", "str", "date-column"],
)
def test_returns_from_prices_refuses_what_is_not_a_price(prices):
    with pytest.raises(TypeError, match=r"prices must hold real numbers"):
        trackerr.returns_from_prices(prices)


def test_returns_from_prices_reads_masked_prices_as_missing():
    r = trackerr.returns_from_prices(np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 0]))
    assert np.isnan(r).all()


def test_tracking_error_path_is_the_rolling_tracking_error(rng):
    p, b = rng.normal(0, 0.01, (300, 3)), rng.normal(0, 0.01, 300)
    w = trackerr.stream.Window(20, n_portfolios=3)
    path = w.tracking_error_path(p[:150], b[:150])
    path = np.vstack([path, w.tracking_error_path(p[150:], b[150:])])
    np.testing.assert_allclose(
        path, trackerr.rolling_tracking_error(p, b, 20), rtol=1e-12, equal_nan=True
    )
    one = trackerr.stream.Window(20)
    np.testing.assert_allclose(
        one.tracking_error_path(p[:, 0], b),
        trackerr.rolling_tracking_error(p[:, 0], b, 20),
        rtol=1e-12,
        equal_nan=True,
    )
    with pytest.raises(ValueError, match="tracking_error_path takes a batch"):
        one.tracking_error_path(p, b)


def test_copy_is_independent_and_keeps_the_class(rng):
    p, b = rng.normal(0, 0.01, (50, 2)), rng.normal(0, 0.01, 50)
    for s in (
        trackerr.stream.Window(10, n_portfolios=2),
        trackerr.stream.Cumulative(n_portfolios=2),
        trackerr.stream.Exponential(halflife=5, n_portfolios=2),
    ):
        s.update(p[:30], b[:30])
        c = s.copy()
        assert type(c) is type(s) and c.to_bytes() == s.to_bytes()
        c.update(p[30:], b[30:])
        assert c.to_bytes() != s.to_bytes()
        assert "not built" not in repr(c)


def test_float64_arrays_whose_dtype_object_is_not_numpys_own_are_read():
    # the kernels once compared dtype objects by identity: a float64 array
    # whose dtype carries metadata (or was rebuilt in another process, as a
    # Dask worker's block is) was refused as "not float32 or float64"
    rng = np.random.default_rng(0)
    p, b = rng.normal(0, 0.01, 300), rng.normal(0, 0.01, 300)
    tagged = np.dtype("<f8", metadata={"source": "ipc"})
    p2, b2 = np.frombuffer(p.tobytes(), dtype=tagged), np.frombuffer(b.tobytes(), dtype=tagged)
    assert p2.dtype is not np.dtype(np.float64)
    assert trackerr.tracking_error(p2, b2) == trackerr.tracking_error(p, b)
    assert np.array_equal(trackerr.rolling_beta(p2, b2, 20), trackerr.rolling_beta(p, b, 20),
                          equal_nan=True)  # fmt: skip
    assert trackerr.max_drawdown(p2) == trackerr.max_drawdown(p)
    f32 = np.dtype("<f4", metadata={"source": "ipc"})
    p3 = np.frombuffer(p.astype(np.float32).tobytes(), dtype=f32)
    assert trackerr.tracking_error(p3, b) == trackerr.tracking_error(p.astype(np.float32), b)
