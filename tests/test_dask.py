"""trackerr.dask: rolling metrics bit for bit the in-memory values whatever the
chunking, full-sample reductions that agree with the in-memory functions,
NaN policies across blocks, dask DataFrames, and the schedulers (synchronous,
threads, a distributed LocalCluster of two worker processes)."""

from __future__ import annotations

import pickle
from fractions import Fraction

import numpy as np
import pytest

import trackerr
from trackerr import stream

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
td = pytest.importorskip("trackerr.dask")

FIELDS = trackerr.RollingStats._fields


def panel(rows=20_000, cols=5, seed=0, level=0.0):
    """A benchmark and `cols` portfolios tracking it; a level far from 0 makes
    the window states rebuild (the path most sensitive to where a block starts)."""
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0003, 0.01, rows)
    p = b[:, None] + rng.normal(0.0, 0.002, (rows, cols)) * rng.uniform(0.5, 3, cols)
    return p + level, b + level


def same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    assert got.dtype == want.dtype
    assert np.array_equal(got, want, equal_nan=True), np.nanmax(np.abs(got - want))


# --- rolling: the in-memory bits, whatever the chunking ---------------------------------


@pytest.mark.parametrize("chunks", [(1000, 2), (2600, 5), (7001, 1), (20_000, 3)])
@pytest.mark.parametrize("window", [21, 63, 250])
def test_rolling_stats_of_a_panel_equal_the_in_memory_bits(chunks, window):
    p, b = panel(level=2.0)
    p[100, 2] = p[9000:9010, 4] = b[13_000] = np.nan
    want = trackerr.rolling_stats(p, b, window, periods_per_year=252)
    got = td.rolling_stats(
        da.from_array(p, chunks=chunks), da.from_array(b, chunks=chunks[0]), window,
        periods_per_year=252,
    )  # fmt: skip
    computed = dask.compute(*got, scheduler="threads")
    for name, g, w in zip(FIELDS, computed, want, strict=True):
        same(g, w), name


@pytest.mark.parametrize("chunk", [500, 4096, 30_000])
def test_rolling_of_a_series_and_options_equal_the_in_memory_bits(chunk):
    p, b = panel(rows=30_000, cols=1, seed=3)
    p = p[:, 0]
    p[[5, 4000, 4001, 22_222]] = np.nan
    pd_, bd = da.from_array(p, chunks=chunk), da.from_array(b, chunks=chunk)
    cases = [
        ("rolling_tracking_error", {"ddof": 0, "min_periods": 10, "periods_per_year": "daily"}),
        ("rolling_active_return", {"min_periods": 1}),
        ("rolling_information_ratio", {"periods_per_year": 365}),
        ("rolling_beta", {}),
        ("rolling_alpha", {"risk_free": 0.0001, "method": "geometric", "periods_per_year": 252}),
        ("rolling_correlation", {"nan_policy": "propagate"}),
        ("rolling_r_squared", {"min_periods": 30}),
    ]
    for name, options in cases:
        want = getattr(trackerr, name)(p, b, 60, **options)
        same(getattr(td, name)(pd_, bd, 60, **options).compute(scheduler="sync"), want)


def test_rolling_takes_float32_and_integer_blocks_as_in_memory():
    p, b = panel(rows=9000, cols=3, seed=4)
    p32 = p.astype(np.float32)
    same(
        td.rolling_beta(
            da.from_array(p32, chunks=(2000, 2)), da.from_array(b, chunks=2000), 30
        ).compute(),
        trackerr.rolling_beta(p32, b, 30),
    )
    ints = (p * 1e4).astype(np.int64)
    same(
        td.rolling_tracking_error(
            da.from_array(ints, chunks=3000), da.from_array(b, 3000), 30
        ).compute(),
        trackerr.rolling_tracking_error(ints, b, 30),
    )


def test_a_window_longer_than_the_series_and_a_short_series():
    p, b = panel(rows=300, cols=2, seed=5)
    for window, options in ((500, {}), (500, {"min_periods": 20}), (40, {})):
        same(
            td.rolling_tracking_error(da.from_array(p, chunks=100), da.from_array(b, 100), window,
                                      **options).compute(),
            trackerr.rolling_tracking_error(p, b, window, **options),
        )  # fmt: skip


def test_the_input_chunks_are_kept_and_short_ones_join_a_neighbour():
    p, b = panel(rows=100_000, cols=2, seed=6)
    depth = trackerr._core.segment_length(100_000, 63) + 63
    chunks = (30_000, 500, 40_000, 29_500)  # 500 rows cannot hold a block's history
    got = td.rolling_tracking_error(
        da.from_array(p, chunks=(chunks, (1, 1))), da.from_array(b, 7000), 63
    )
    assert got.chunks == ((30_000, 40_500, 29_500), (1, 1))  # portfolios keep theirs too
    same(got.compute(), trackerr.rolling_tracking_error(p, b, 63))
    got = td.rolling_beta(da.from_array(p, chunks=1000), da.from_array(b, 1000), 63,
                          chunk_rows=25_000)  # fmt: skip
    assert got.chunks[0] == (25_000,) * 4 and depth < 25_000
    same(got.compute(), trackerr.rolling_beta(p, b, 63))


@pytest.mark.parametrize("rows", [5000, 9000, 33_333])
@pytest.mark.parametrize("chunk", [2200, 3001, 4999])
def test_blocks_starting_anywhere_in_a_segment(rows, chunk):
    # block starts fall at every offset within the kernel's segments
    p, b = panel(rows=rows, cols=2, seed=rows + chunk, level=3.0)
    p[rows // 3, 0] = np.nan
    for window in (5, 63, 300):
        want = trackerr.rolling_stats(p, b, window, min_periods=3)
        got = td.rolling_stats(da.from_array(p, chunks=(chunk, 1)), da.from_array(b, chunk),
                               window, min_periods=3)  # fmt: skip
        for g, w in zip(dask.compute(*got), want, strict=True):
            same(g, w)


# --- NaN policies across blocks -----------------------------------------------------------


def test_raise_names_the_first_nan_row_of_the_whole_series():
    p, b = panel(rows=12_000, cols=3, seed=7)
    p[9_500, 1] = p[11_000, 0] = np.nan
    with pytest.raises(ValueError, match="first at row 9500") as want:
        trackerr.rolling_tracking_error(p, b, 20, nan_policy="raise")
    lazy = td.rolling_tracking_error(
        da.from_array(p, chunks=(3000, 1)), da.from_array(b, 3000), 20, nan_policy="raise"
    )
    with pytest.raises(ValueError) as got:
        lazy.compute()
    assert str(got.value) == str(want.value)
    with pytest.raises(ValueError, match="first at row 9500, 2 row"):
        td.tracking_error(
            da.from_array(p, chunks=(3000, 1)), da.from_array(b, 3000), nan_policy="raise"
        ).compute()
    clean = td.rolling_beta(da.from_array(p[:9000], chunks=3000), da.from_array(b[:9000], 3000),
                            20, nan_policy="raise")  # fmt: skip
    same(clean.compute(), trackerr.rolling_beta(p[:9000], b[:9000], 20))


def test_propagate_spans_block_boundaries():
    p, b = panel(rows=10_000, cols=2, seed=8)
    segment = trackerr._core.segment_length(10_000, 50)
    b[segment - 1] = np.nan  # the last row of the first block: its windows reach the next
    got = td.rolling_stats(da.from_array(p, chunks=(segment, 1)), da.from_array(b, segment), 50,
                           nan_policy="propagate")  # fmt: skip
    want = trackerr.rolling_stats(p, b, 50, nan_policy="propagate")
    for g, w in zip(dask.compute(*got), want, strict=True):
        same(g, w)


# --- full-sample reductions ------------------------------------------------------------------


def exact_mean_active(p, b):
    return sum(Fraction(float(x)) - Fraction(float(y)) for x, y in zip(p, b, strict=True)) / len(p)


@pytest.mark.parametrize("chunks", [(997, 1), (4000, 3), (20_000, 5)])
def test_full_sample_reductions_agree_with_the_in_memory_functions(chunks):
    p, b = panel(seed=9)
    p[17, 3] = b[5000] = np.nan
    pd_, bd = da.from_array(p, chunks=chunks), da.from_array(b, chunks=chunks[0])
    for name, options in (
        ("tracking_error", {"periods_per_year": 252}),
        ("beta", {}),
        ("correlation", {}),
        ("r_squared", {}),
    ):
        want = getattr(trackerr, name)(p, b, **options)
        got = getattr(td, name)(pd_, bd, **options).compute()
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    # means of active returns near 0 are ill-conditioned (the spread of the
    # returns is hundreds of times the mean): both are held to the exact mean,
    # on the scale of the returns' spread
    keep = ~np.isnan(b)
    for j in range(p.shape[1]):
        ok = keep & ~np.isnan(p[:, j])
        exact = exact_mean_active(p[ok, j], b[ok])
        scale = float(np.std(p[ok, j] - b[ok]))
        got = float(td.active_return(pd_, bd).compute()[j])
        assert abs(Fraction(got) - exact) <= Fraction(1e-15) * Fraction(scale)
        mem = float(trackerr.active_return(p, b)[j])
        assert abs(Fraction(mem) - exact) <= Fraction(1e-15) * Fraction(scale)


def test_full_sample_nan_policies_and_a_series():
    p, b = panel(rows=8000, cols=2, seed=10)
    p[10, 0] = np.nan
    pd_, bd = da.from_array(p, chunks=(3000, 1)), da.from_array(b, chunks=3000)
    np.testing.assert_allclose(
        td.beta(pd_, bd, nan_policy="propagate").compute(),
        trackerr.beta(p, b, nan_policy="propagate"),
        rtol=1e-14,
    )
    assert np.isnan(td.beta(pd_, bd, nan_policy="propagate").compute()[0])
    got = td.tracking_error(pd_[:, 1], bd).compute()
    assert got.shape == ()
    np.testing.assert_allclose(got, trackerr.tracking_error(p[:, 1], b), rtol=1e-14)


# --- dask DataFrames ----------------------------------------------------------------------------


def test_dask_dataframes_in_and_out():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    p, b = panel(rows=6000, cols=3, seed=11)
    index = pd.date_range("2000-01-03", periods=6000, freq="B")
    frame = pd.DataFrame(p, index=index, columns=["A", "B", "C"])
    bench = pd.Series(b, index=index, name="BENCH")
    dframe, dbench = dd.from_pandas(frame, npartitions=4), dd.from_pandas(bench, npartitions=4)
    got = td.rolling_tracking_error(dframe, dbench, 63).compute()
    want = trackerr.rolling_tracking_error(frame, bench, 63)
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_freq=False)
    series = td.rolling_beta(dframe["B"], dbench, 63).compute()
    assert np.array_equal(series.to_numpy(), trackerr.rolling_beta(p[:, 1], b, 63), equal_nan=True)
    assert series.index.equals(index)
    te = td.tracking_error(dframe, dbench, periods_per_year=252).compute()
    assert list(te.index) == ["A", "B", "C"]
    np.testing.assert_allclose(te.to_numpy(), trackerr.tracking_error(p, b, periods_per_year=252),
                               rtol=1e-14)  # fmt: skip
    with pytest.raises(ValueError, match="share their partitions"):
        td.rolling_beta(dframe, dd.from_pandas(bench, npartitions=3), 63)


# --- bad input ------------------------------------------------------------------------------------


def test_bad_input_is_refused_when_called():
    p, b = panel(rows=1000, cols=2)
    pd_, bd = da.from_array(p, chunks=500), da.from_array(b, chunks=500)
    with pytest.raises(TypeError, match="dask arrays or dask DataFrames"):
        td.rolling_beta(p, bd, 20)
    with pytest.raises(ValueError, match="needs the rows' times"):
        td.rolling_beta(pd_, bd, "30D")
    with pytest.raises(ValueError, match="length 999"):
        td.rolling_beta(pd_, bd[:999], 20)
    with pytest.raises(ValueError, match=r"window \(=1\) must be at least 2"):
        td.rolling_tracking_error(pd_, bd, 1)
    with pytest.raises(ValueError, match="nan_policy"):
        td.tracking_error(pd_, bd, nan_policy="skip")
    with pytest.raises(TypeError, match="real numbers"):
        td.beta(pd_.astype(bool), bd)
    unknown = pd_[pd_[:, 0] > 0]
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        td.beta(unknown, bd)


# --- schedulers and streaming at scale ---------------------------------------------------------


def test_stream_states_from_partitions_merge_to_the_whole():
    # a state per partition of ticks (a dask bag here), pickled across, merged
    bag = pytest.importorskip("dask.bag")
    p, b = panel(rows=5000, cols=1, seed=12)
    parts = [(p[i : i + 700, 0], b[i : i + 700]) for i in range(0, 5000, 700)]

    def state(part):
        s = stream.Cumulative(periods_per_year=252)
        s.update(*part)
        return pickle.loads(pickle.dumps(s))

    merged = bag.from_sequence(parts, npartitions=4).map(state).fold(lambda x, y: x + y).compute()
    np.testing.assert_allclose(
        merged.tracking_error, trackerr.tracking_error(p[:, 0], b, periods_per_year=252), rtol=1e-14
    )
    assert merged.count == 5000


def test_a_local_cluster_of_two_worker_processes_gives_the_same_bits():
    distributed = pytest.importorskip("distributed")
    p, b = panel(rows=40_000, cols=4, seed=13, level=1.0)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        got = td.rolling_stats(da.from_array(p, chunks=(5000, 2)), da.from_array(b, 5000), 63)
        computed = client.compute(list(got), sync=True)
        te = client.compute(td.tracking_error(da.from_array(p, chunks=(7000, 2)),
                                              da.from_array(b, 7000)), sync=True)  # fmt: skip
        # time windows: blocks with tails of the blocks before them, times as a dask array
        times = np.datetime64("2020-01-01") + np.cumsum(np.arange(40_000) % 7 * 600).astype(
            "timedelta64[s]"
        )
        in_time = client.compute(
            td.rolling_beta(da.from_array(p, chunks=(3000, 2)), da.from_array(b, 3000), "2D",
                            times=da.from_array(times, 7000)), sync=True,
        )  # fmt: skip
    for g, w in zip(computed, trackerr.rolling_stats(p, b, 63), strict=True):
        same(g, w)
    same(in_time, trackerr.rolling_beta(p, b, "2D", times=times))
    np.testing.assert_allclose(te, trackerr.tracking_error(p, b), rtol=1e-14)


def _slowly(block):
    import time

    time.sleep(0.03)  # long enough that a worker dies with tasks in flight
    return block


def test_a_worker_killed_mid_computation_changes_no_bit():
    distributed = pytest.importorskip("distributed")
    import os
    import time

    p, b = panel(rows=60_000, cols=4, seed=14, level=1.0)
    want = trackerr.rolling_tracking_error(p, b, 63)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):  # fmt: skip
        slow_p = da.from_array(p, chunks=(500, 1)).map_blocks(_slowly, dtype=p.dtype)
        lazy = td.rolling_tracking_error(slow_p, da.from_array(b, 500), 63, chunk_rows=4000)
        future = client.compute(lazy)
        time.sleep(1.0)
        assert not future.done()  # the kill below lands mid-computation
        victim = sorted(client.scheduler_info()["workers"])[0]
        try:
            client.run(os._exit, 1, workers=[victim])
        except Exception:  # the worker dies before it answers
            pass
        got = future.result(timeout=120)
        workers = set(client.scheduler_info()["workers"])
    same(got, want)
    assert victim not in workers  # it died (its nanny started a new worker, at a new address)


# --- rolling risk metrics ----------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [700, 2500, 9999])
@pytest.mark.parametrize("window", [5, 63, 250])
def test_rolling_risk_metrics_equal_the_in_memory_bits(chunk, window):
    p, b = panel(rows=12_000, cols=3, seed=window + chunk)
    p[[50, 5000], [0, 2]] = np.nan
    pd_, bd = da.from_array(p, chunks=(chunk, 2)), da.from_array(b, chunks=chunk)
    cases = [
        ("rolling_max_drawdown", False, {}),
        ("rolling_sortino_ratio", False, {"target": 0.0001, "periods_per_year": 252}),
        ("rolling_omega_ratio", False, {"threshold": -0.0002, "min_periods": 3}),
        ("rolling_sharpe_ratio", False, {"risk_free": 0.0001, "periods_per_year": 252}),
        ("rolling_up_capture", True, {}),
        ("rolling_down_capture", True, {"method": "annualized", "periods_per_year": 252}),
        ("rolling_max_drawdown", False, {"nan_policy": "propagate"}),
    ]
    for name, two, options in cases:
        args = (p, b) if two else (p,)
        lazy = (pd_, bd) if two else (pd_,)
        want = getattr(trackerr, name)(*args, window, **options)
        same(getattr(td, name)(*lazy, window, **options).compute(), want)
        if not two:  # a series too
            want = getattr(trackerr, name)(p[:, 1], window, **options)
            same(getattr(td, name)(pd_[:, 1], window, **options).compute(), want)


@pytest.mark.parametrize("chunks", [(999, 1), (5000, 2), (30_000, 3)])
def test_full_sample_risk_metrics_merge_to_the_in_memory_values(chunks):
    p, b = panel(rows=30_000, cols=3, seed=15)
    p[[40, 20_000], [1, 2]] = np.nan
    pd_, bd = da.from_array(p, chunks=chunks), da.from_array(b, chunks=chunks[0])
    cases = [
        ("max_drawdown", False, {}),
        ("sortino_ratio", False, {"target": 0.0001, "periods_per_year": 252}),
        ("omega_ratio", False, {"threshold": -0.0001}),
        ("sharpe_ratio", False, {"risk_free": 0.0001, "periods_per_year": 252}),
        ("up_capture", True, {}),
        ("down_capture", True, {"method": "annualized", "periods_per_year": 252}),
        ("max_drawdown", False, {"nan_policy": "propagate"}),
    ]
    for name, two, options in cases:
        # Sharpe rests on a mean: both hold it to about 1e-15 of the returns'
        # spread (see the active return above), i.e. SR to 1e-15 sqrt(P) each
        tol = {"atol": 4e-15 * np.sqrt(252), "rtol": 0} if name == "sharpe_ratio" else {}
        tol = tol or {"rtol": 1e-14, "atol": 0}
        want = getattr(trackerr, name)(*((p, b) if two else (p,)), **options)
        got = getattr(td, name)(*((pd_, bd) if two else (pd_,)), **options).compute()
        np.testing.assert_allclose(got, want, err_msg=name, equal_nan=True, **tol)
        if not two:
            one = getattr(td, name)(pd_[:, 0], **options).compute()
            assert one.shape == ()
            np.testing.assert_allclose(one, getattr(trackerr, name)(p[:, 0], **options), **tol)
    with pytest.raises(ValueError, match="first at row 40, 2 row"):
        td.max_drawdown(pd_, nan_policy="raise").compute()


@pytest.mark.parametrize("chunks", [(999, 1), (7000, 2), (40_000, 3)])
def test_tracking_difference_merges_growth_states(chunks):
    p, b = panel(rows=40_000, cols=3, seed=16)
    p[17, 1] = b[30_000] = np.nan
    pd_, bd = da.from_array(p, chunks=chunks), da.from_array(b, chunks=chunks[0])
    for options in ({}, {"periods_per_year": 252}, {"nan_policy": "propagate"}):
        want = trackerr.tracking_difference(p, b, **options)
        got = td.tracking_difference(pd_, bd, **options).compute()
        # the products of 40,000 factors round in another order: each is off
        # by about sqrt(n) units in the last place (a random walk of roundings,
        # in memory as here), so the two agree to that much of the growth
        # factors (or of 1 + CAGR), not of their difference
        scale = np.maximum(np.nanprod(1 + p, axis=0), np.nanprod(1 + b))
        scale = 1.0 if options.get("periods_per_year") else scale
        bound = 8 * np.sqrt(40_000) * np.finfo(float).eps * scale
        ok = ~np.isnan(want)
        np.testing.assert_array_less(np.abs(got - want)[ok], (bound * np.ones(3))[ok])
        assert np.array_equal(np.isnan(got), np.isnan(want))
    if chunks[0] == 40_000:  # one block: the in-memory bits
        same(td.tracking_difference(pd_, bd).compute(), trackerr.tracking_difference(p, b))
    one = td.tracking_difference(pd_[:, 0], bd).compute()
    assert one.shape == ()


# --- from a review: refusals instead of wrong numbers, and crashes --------------------------


def test_full_sample_states_refuse_magnitudes_they_cannot_hold():
    # merged Cumulative states square deviations as they come: at 1e-160 beta
    # came out 0.93 instead of 0.99 and the tracking error 0
    p, b = panel(rows=1000, cols=2, seed=17)
    for scale in (1e-160, 1e155):
        with pytest.raises(ValueError, match=r"beyond the 1e-150 \.\. 1e\+150"):
            td.beta(da.from_array(p * scale, chunks=300), da.from_array(b * scale, 300)).compute()
    tiny_column = p.copy()
    tiny_column[:, 1] *= 1e-160  # one portfolio of a panel is enough
    with pytest.raises(ValueError, match="correlation: the data reach"):
        td.correlation(da.from_array(tiny_column, chunks=(300, 1)), da.from_array(b, 300)).compute()
    # the risk summaries and the rolling kernels are not limited so
    got = td.max_drawdown(da.from_array(p[:, 0] * 1e-160, chunks=300)).compute()
    np.testing.assert_allclose(got, trackerr.max_drawdown(p[:, 0] * 1e-160), rtol=1e-14)


def test_tracking_difference_past_the_double_range_is_inf_as_in_memory():
    p, b = np.full(10, 1e40), np.zeros(10)
    got = td.tracking_difference(da.from_array(p, chunks=3), da.from_array(b, chunks=3)).compute()
    assert got == trackerr.tracking_difference(p, b) == np.inf


def test_dataframes_with_different_dates_are_refused_not_paired_by_position():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    p, b = panel(rows=1000, cols=1, seed=18)
    index = pd.date_range("2000-01-03", periods=1000, freq="D")
    moved = index.delete(500).insert(600, index[600] + pd.Timedelta(hours=12))
    dp = dd.from_pandas(pd.Series(p[:, 0], index), npartitions=4)
    db = dd.from_pandas(pd.Series(b, moved), npartitions=4).repartition(divisions=dp.divisions)
    with pytest.raises(ValueError, match="different indexes"):
        td.beta(dp, db)
    with pytest.raises(ValueError, match="different indexes"):
        td.rolling_beta(dp, db, 20)


def test_one_series_checks_name_the_returns():
    for f, args in ((td.sharpe_ratio, ()), (td.rolling_sharpe_ratio, (5,)), (td.max_drawdown, ())):
        with pytest.raises(ValueError, match="returns must be 1-D or 2-D; got 0-D"):
            f(da.from_array(np.float64(1.0)), *args)


def test_the_method_variants_of_the_full_sample_metrics():
    # arithmetic TD and the geometric AR, IR and alpha, each within what its
    # states round to: a mean to 1e-15 of the spread (times n for a sum),
    # growth factors to sqrt(n) units in the last place
    p, b = panel(rows=20_000, cols=3, seed=19)
    p[9, 1] = np.nan
    pd_, bd = da.from_array(p, chunks=(3000, 2)), da.from_array(b, chunks=3000)
    n, eps = 20_000, np.finfo(float).eps
    spread = np.nanstd(p - b[:, None], axis=0)
    te = trackerr.tracking_error(p, b, periods_per_year=252)
    cases = [
        ("tracking_difference", {"method": "arithmetic"}, 1e-15 * spread * n),
        ("tracking_difference", {"method": "arithmetic", "periods_per_year": 252},
         1e-15 * spread * 252),
        ("active_return", {"method": "geometric"}, 8 * np.sqrt(n) * eps * 2),
        ("active_return", {"method": "geometric", "periods_per_year": 252}, 8 * np.sqrt(n) * eps),
        ("information_ratio", {"method": "geometric", "periods_per_year": 252},
         8 * np.sqrt(n) * eps / te),
        ("alpha", {"method": "geometric", "periods_per_year": 252, "risk_free": 1e-4},
         1e-15 * spread * 252 * 2),
    ]  # fmt: skip
    for name, options, bound in cases:
        want = getattr(trackerr, name)(p, b, **options)
        got = getattr(td, name)(pd_, bd, **options).compute()
        assert np.all(np.abs(got - want) <= bound), (name, options, got - want, bound)
    one = td.alpha(pd_[:, 0], bd, method="geometric").compute()
    assert one.shape == ()
    with pytest.raises(ValueError, match="method"):
        td.alpha(pd_, bd, method="log")
