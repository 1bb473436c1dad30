"""trackerr.dask over time-span windows ('30D'): every rolling metric equals
the in-memory function bit for bit whatever the chunking, with times from a
dask DataFrame's DatetimeIndex, a dask array, numpy or pandas; NaN policies
across blocks; the time checks name rows of the whole series."""

from __future__ import annotations

import numpy as np
import pytest

import trackerr

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
td = pytest.importorskip("trackerr.dask")

FIELDS = trackerr.RollingStats._fields


def ticks(rows, seed=0, step=90, level=0.0, cols=None):
    """Irregular times (ties, a gap of two days) in datetime64[s], and a
    benchmark with portfolios tracking it."""
    rng = np.random.default_rng(seed)
    gaps = rng.integers(0, 2 * step, rows)  # 0: a tie
    gaps[rows // 3] = 2 * 86_400
    times = np.datetime64("2021-03-01T00:00:00") + np.cumsum(gaps).astype("timedelta64[s]")
    b = rng.normal(0.0002, 0.01, rows) + level
    shape = (rows,) if cols is None else (rows, cols)
    noise = rng.normal(0.0, 0.002, shape)
    p = (b if cols is None else b[:, None]) + noise
    return times, p, b


def same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    bad = ~((got == want) | (np.isnan(got) & np.isnan(want)))
    assert not bad.any(), (int(bad.sum()), np.flatnonzero(bad.reshape(len(bad), -1).any(1))[:5])


# More rows than a segment (2^16) so blocks start inside segments other than
# the first; spans from a few ticks to thousands of rows.
@pytest.mark.parametrize("chunk", [150_000, 65_537, 33_333, 7_001])
@pytest.mark.parametrize("span", ["15min", "6h", "5D"])
def test_rolling_stats_of_a_series_equal_the_in_memory_bits(chunk, span):
    times, p, b = ticks(150_000, seed=1, level=1.5)
    p[[10, 70_000, 70_001]] = np.nan
    b[99_999] = np.inf
    want = trackerr.rolling_stats(p, b, span, times=times, periods_per_year=252, min_periods=3)
    got = td.rolling_stats(
        da.from_array(p, chunks=chunk), da.from_array(b, chunks=chunk), span, times=times,
        periods_per_year=252, min_periods=3,
    )  # fmt: skip
    for name, g, w in zip(FIELDS, dask.compute(*got, scheduler="threads"), want, strict=True):
        same(g, w), name


@pytest.mark.parametrize("chunks", [(40_000, 2), (70_000, 1), (140_000, 3)])
def test_a_panel_with_times_as_a_dask_array(chunks):
    times, p, b = ticks(140_000, seed=2, cols=3)
    p[50_000:50_010, 1] = np.nan
    want = trackerr.rolling_tracking_error(p, b, "1D", times=times, nan_policy="propagate")
    got = td.rolling_tracking_error(
        da.from_array(p, chunks=chunks), da.from_array(b, chunks=chunks[0]), "1D",
        times=da.from_array(times, chunks=25_000), nan_policy="propagate",
    ).compute(scheduler="sync")  # fmt: skip
    same(got, want)
    alpha = td.rolling_alpha(
        da.from_array(p, chunks=chunks), da.from_array(b, chunks=chunks[0]), np.timedelta64(3, "h"),
        times=times, method="geometric", periods_per_year=252, risk_free=1e-5,
    ).compute()  # fmt: skip
    want = trackerr.rolling_alpha(
        p, b, np.timedelta64(3, "h"), times=times, method="geometric", periods_per_year=252,
        risk_free=1e-5,
    )  # fmt: skip
    same(alpha, want)


@pytest.mark.parametrize("chunk", [9_000, 66_000, 120_000])
def test_risk_metrics_over_time_windows_equal_the_in_memory_bits(chunk):
    times, p, b = ticks(120_000, seed=3)
    p[777] = np.nan
    pd_, bd = da.from_array(p, chunks=chunk), da.from_array(b, chunks=chunk)
    cases = [
        ("rolling_max_drawdown", False, {}),
        ("rolling_sortino_ratio", False, {"target": 1e-4, "periods_per_year": 365}),
        ("rolling_omega_ratio", False, {"threshold": 0.0, "nan_policy": "propagate"}),
        ("rolling_sharpe_ratio", False, {"risk_free": 1e-5, "min_periods": 5}),
        ("rolling_up_capture", True, {}),
        ("rolling_down_capture", True, {"method": "annualized", "periods_per_year": 252}),
    ]
    for name, two, options in cases:
        args = (p, b) if two else (p,)
        dargs = (pd_, bd) if two else (pd_,)
        want = getattr(trackerr, name)(*args, "8h", times=times, **options)
        same(getattr(td, name)(*dargs, "8h", times=times, **options).compute(), want)
    # float32 returns go to the risk kernel as they are, as in memory
    p32 = p.astype(np.float32)
    same(td.rolling_max_drawdown(da.from_array(p32, chunks=chunk), "2D", times=times).compute(),
         trackerr.rolling_max_drawdown(p32, "2D", times=times))  # fmt: skip


def test_dask_dataframes_take_their_times_from_the_index():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    times, p, b = ticks(80_000, seed=4, cols=2)
    index = pd.DatetimeIndex(times).tz_localize("America/New_York", ambiguous="NaT",
                                                nonexistent="shift_forward")  # fmt: skip
    keep = ~index.isna()
    index, p, b = index[keep], p[keep], b[keep]
    frame = pd.DataFrame(p, index=index, columns=["A", "B"])
    bench = pd.Series(b, index=index, name="BENCH")
    dframe, dbench = dd.from_pandas(frame, npartitions=6), dd.from_pandas(bench, npartitions=6)
    want = trackerr.rolling_beta(frame, bench, "12h")
    got = td.rolling_beta(dframe, dbench, "12h").compute()
    pd.testing.assert_frame_equal(got, want, check_exact=True, check_freq=False)
    mdd = td.rolling_max_drawdown(dframe["A"], "1D").compute()
    same(mdd.to_numpy(), trackerr.rolling_max_drawdown(frame["A"], "1D").to_numpy())
    # times given as a dask Series of datetimes, for a dask array
    stamps = dd.from_pandas(pd.Series(index.tz_convert("UTC").tz_localize(None)), npartitions=3)
    arr = td.rolling_tracking_error(da.from_array(p, chunks=(20_000, 1)), da.from_array(b, 20_000),
                                    "12h", times=stamps).compute()  # fmt: skip
    same(arr, trackerr.rolling_tracking_error(frame, bench, "12h").to_numpy())


def test_raise_names_the_first_nan_row_of_the_whole_series():
    times, p, b = ticks(30_000, seed=5)
    p[[21_000, 25_000]] = np.nan
    lazy = td.rolling_tracking_error(
        da.from_array(p, chunks=4000), da.from_array(b, chunks=4000), "1h", times=times,
        nan_policy="raise",
    )  # fmt: skip
    with pytest.raises(ValueError, match="first at row 21000, 2 row"):
        lazy.compute()


def test_the_times_are_checked_when_called_and_name_rows_of_the_whole_series():
    times, p, b = ticks(20_000, seed=6)
    pd_, bd = da.from_array(p, chunks=3000), da.from_array(b, chunks=3000)
    back = times.copy()
    back[12_001] = back[12_000] - np.timedelta64(1, "s")  # inside a block
    with pytest.raises(ValueError, match="times go back at row 12001"):
        td.rolling_beta(pd_, bd, "1D", times=da.from_array(back, chunks=3000))
    back = times.copy()
    back[9_000:] -= np.timedelta64(1, "D")  # at a block's first row
    with pytest.raises(ValueError, match="times go back at row 9000"):
        td.rolling_beta(pd_, bd, "1D", times=da.from_array(back, chunks=3000))
    nat = times.copy()
    nat[17_500] = np.datetime64("NaT")
    with pytest.raises(ValueError, match="times has a NaT at row 17500"):
        td.rolling_max_drawdown(pd_, "1D", times=da.from_array(nat, chunks=3000))
    with pytest.raises(ValueError, match="times has a NaT at row 17500"):
        td.rolling_max_drawdown(pd_, "1D", times=nat)  # in memory: the in-memory checks
    with pytest.raises(ValueError, match="needs the rows' times"):
        td.rolling_beta(pd_, bd, "1D")
    with pytest.raises(ValueError, match="times is for a time-span window"):
        td.rolling_beta(pd_, bd, 20, times=times)
    with pytest.raises(TypeError, match="datetime64"):
        td.rolling_beta(pd_, bd, "1D", times=da.from_array(np.arange(20_000), chunks=3000))
    with pytest.raises(ValueError, match="the data has 20000 rows"):
        td.rolling_beta(pd_, bd, "1D", times=times[:-1])
    with pytest.raises(ValueError, match="min_periods"):
        td.rolling_beta(pd_, bd, "1D", times=times, min_periods=0)
    with pytest.raises(ValueError, match="no fixed length"):
        td.rolling_beta(pd_, bd, np.timedelta64(1, "M"), times=times)
    far = times.astype("datetime64[D]").copy()
    far[15_000:] = np.datetime64("2300-01-01")
    with pytest.raises(ValueError, match=r"outside the range .* at row 15000"):
        td.rolling_beta(pd_, bd, "1D", times=da.from_array(far, chunks=3000))


def test_a_dask_dataframe_with_an_empty_partition():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    times, p, b = ticks(6000, seed=7, cols=2)
    frame = pd.DataFrame(p, index=pd.DatetimeIndex(times), columns=["A", "B"])
    bench = pd.Series(b, index=frame.index, name="X")

    def keep(d):  # drops the second partition's rows
        return d[(d.index < frame.index[1400]) | (d.index > frame.index[3100])]

    dframe = dd.from_pandas(frame, npartitions=4).map_partitions(keep)
    dbench = dd.from_pandas(bench, npartitions=4).map_partitions(keep)
    assert 0 in [len(x) for x in dframe.partitions]
    for window in ("3h", 40):
        got = td.rolling_tracking_error(dframe, dbench, window).compute()
        same(
            got.to_numpy(),
            trackerr.rolling_tracking_error(keep(frame), keep(bench), window).to_numpy(),
        )
        got = td.rolling_max_drawdown(dframe, window).compute()
        same(got.to_numpy(), trackerr.rolling_max_drawdown(keep(frame), window).to_numpy())


def test_empty_chunks_anywhere_and_a_series_cut_by_its_spread():
    # found by review: an empty last chunk (or partition) raised IndexError. And an
    # empty first partition must not change the segment length, which here depends
    # on the first and last times (windows of ~40,000 rows: segments of ~80,000)
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    times, p, b = ticks(100_000, seed=8)
    span = (times[-1] - times[0]) * 2 // 5
    want = trackerr.rolling_beta(p, b, span, times=times)
    for chunks in ((0, 50_000, 50_000), (50_000, 50_000, 0), (30_000, 0, 70_000, 0)):
        got = td.rolling_beta(
            da.from_array(p, chunks=(chunks,)), da.from_array(b, chunks=(chunks,)), span,
            times=times,
        ).compute()  # fmt: skip
        same(got, want)
    frame = pd.DataFrame(
        {"p": p, "b": b, "k": np.ones(len(p), bool)}, index=pd.DatetimeIndex(times)
    )
    frame.loc[frame.index[:25_000], "k"] = False  # the first partition's rows
    frame.loc[frame.index[75_000:], "k"] = False  # the last partition's rows
    kept = frame[frame["k"]]
    d = dd.from_pandas(frame, npartitions=4)
    d = d[d["k"]]
    assert [len(x) for x in d.partitions] == [0, 25_000, 25_000, 0]
    span = (kept.index[-1] - kept.index[0]) * 2 / 5
    got = td.rolling_beta(d["p"], d["b"], span).compute()
    same(got.to_numpy(), trackerr.rolling_beta(kept["p"], kept["b"], span).to_numpy())


def test_a_dataframe_index_with_other_blocks_than_its_partitions():
    # found by review: chunk_rows= paired the index's partitions with the new blocks
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    times, p, b = ticks(9000, seed=9)
    frame = pd.DataFrame({"p": p}, index=pd.DatetimeIndex(times))
    bench = pd.Series(b, index=frame.index, name="b")
    dp, db = dd.from_pandas(frame, npartitions=3), dd.from_pandas(bench, npartitions=3)
    for rows in (100, 2500, 4000):
        got = td.rolling_tracking_error(dp, db, "1h", chunk_rows=rows).compute()
        same(got.to_numpy(), trackerr.rolling_tracking_error(frame, bench, "1h").to_numpy())
        got = td.rolling_max_drawdown(dp["p"], "1h", chunk_rows=rows).compute()
        same(got.to_numpy(), trackerr.rolling_max_drawdown(frame["p"], "1h").to_numpy())
