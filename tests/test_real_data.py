"""Real prices shipped with the project: values against the exact reference and known figures."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import trackerr
from trackerr import datasets, reference

from conftest import DATA, assert_close


def _spy_vs_index():
    with open(DATA / "spy_sp500_2010_2022.csv") as f:
        rows = list(csv.DictReader(f))
    spy = np.array([float(r["SPY_adj"]) for r in rows])
    idx = np.array([float(r["SP500_price_index"]) for r in rows])
    return spy[1:] / spy[:-1] - 1, idx[1:] / idx[:-1] - 1


def test_spy_vs_sp500_2010_2022():
    p, b = _spy_vs_index()
    assert len(p) == 3269
    te = trackerr.tracking_error(p, b, periods_per_year="daily")
    assert_close(te, reference.tracking_error(p, b, periods_per_year=252), rtol=1e-12)
    # a total-return ETF against the price index: TE well under 1 % a year, beta ~ 1,
    # active return ~ the dividend yield (about 2 % a year)
    assert 0.004 < te < 0.01
    assert trackerr.beta(p, b) == pytest.approx(0.988, abs=0.005)  # noisy ETF closes
    assert trackerr.correlation(p, b) > 0.998
    assert 0.01 < trackerr.active_return(p, b, periods_per_year=252) < 0.03
    for name in ("beta", "alpha", "correlation", "r_squared", "information_ratio"):
        assert_close(
            getattr(trackerr, name)(p, b), getattr(reference, name)(p, b), rtol=1e-12, atol=1e-14
        )


def test_steth_vs_eth():
    ds = datasets.load("steth_eth")
    assert ds.columns == ("ETH", "STETH")
    assert str(ds.dates[0]) == "2020-12-23" and str(ds.dates[-1]) == "2025-11-20"
    r = ds.returns(["STETH", "ETH"])
    te = trackerr.tracking_error(r[:, 0], r[:, 1], periods_per_year="crypto-daily")
    assert_close(te, reference.tracking_error(r[:, 0], r[:, 1], periods_per_year=365), rtol=1e-12)
    assert 0.13 < te < 0.15  # about 14 % a year over 2020-12..2025-11 (data README)
    # 252 understates a 24/7 market's annual figure by sqrt(252/365)
    te252 = trackerr.tracking_error(r[:, 0], r[:, 1], periods_per_year="daily")
    assert te252 == pytest.approx(te * np.sqrt(252 / 365), rel=1e-14)


def test_btc_etfs_panel_vs_columns():
    ds = datasets.load("btc_etfs")
    p = ds.returns(["IBIT", "FBTC", "GBTC"])
    b = ds.returns("BTC_USD")
    te = trackerr.tracking_error(p, b, periods_per_year=252)
    assert_close(te, reference.tracking_error(p, b, periods_per_year=252), rtol=1e-12)
    # IBIT vs same-date BTC close: TE ~ 22.9 % a year, corr ~ 0.89, beta ~ 0.92 (data README)
    assert te[0] == pytest.approx(0.229, abs=0.002)
    assert trackerr.correlation(p, b)[0] == pytest.approx(0.894, abs=0.002)
    assert trackerr.beta(p, b)[0] == pytest.approx(0.92, abs=0.01)


def test_dataset_errors_and_sources():
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        datasets.load("nope")
    with pytest.raises(KeyError, match="no column 'XYZ'"):
        datasets.load("btc_etfs").column("XYZ")
    text = datasets.sources()
    assert "steth_eth.csv" in text and "btc_etfs.csv" in text and "Terms" in text


def test_btc_etf_time_windows_rolling_stream_and_monitor_agree():
    # the README's time-window example: IBIT against BTC over 30-day windows of
    # dates (the shipped index is in seconds: read in its own unit)
    pd = pytest.importorskip("pandas")
    from trackerr import Monitor, stream

    rets = datasets.load("btc_etfs").to_frame().pct_change().iloc[1:]
    ibit, btc = rets["IBIT"], rets["BTC_USD"]
    te = trackerr.rolling_tracking_error(ibit, btc, "30D", periods_per_year=252)
    want = (ibit - btc).rolling("30D").std() * np.sqrt(252)  # pandas skips the NaN rows too
    np.testing.assert_allclose(te.to_numpy(), want.to_numpy(), rtol=1e-12, atol=1e-15)
    assert te.iloc[-1] == pytest.approx(0.2207, abs=1e-4)
    w = stream.Window("30D", periods_per_year=252)
    assert isinstance(w, stream.TimeWindow)
    w.update(ibit.to_numpy(), btc.to_numpy(), ibit.index)
    assert_close(w.tracking_error, te.iloc[-1], rtol=1e-12)
    alerts = Monitor(0.30, window="30D", periods_per_year=252, clear_below=0.25)
    events = alerts.update(ibit.to_numpy(), btc.to_numpy(), ibit.index)
    first = np.flatnonzero(te.to_numpy() > 0.30)[0]
    assert events[0].kind == "breach" and events[0].tick == te.index[first]
    assert events[0].tick == pd.Timestamp("2024-01-16")
