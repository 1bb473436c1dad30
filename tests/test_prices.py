"""returns_from_prices and infer_periods_per_year, on the real data shipped in
tests/data and in the package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import trackerr
from trackerr import datasets

pd = pytest.importorskip("pandas")

DATA = Path(__file__).parent / "data"


def _frame(name):
    return pd.read_csv(DATA / name, index_col=0, parse_dates=True)


def test_simple_and_log_returns_numpy_and_pandas():
    prices = _frame("eth_lst_2023_2024.csv")
    before = prices.copy()
    r = trackerr.returns_from_prices(prices)
    assert isinstance(r, pd.DataFrame) and r.index.equals(prices.index[1:])
    want = prices.to_numpy()[1:] / prices.to_numpy()[:-1] - 1
    np.testing.assert_allclose(r.to_numpy(), want, rtol=1e-15)
    lr = trackerr.returns_from_prices(prices["ETH"], kind="log")
    assert isinstance(lr, pd.Series) and lr.name == "ETH"
    np.testing.assert_allclose(lr.to_numpy(), np.log1p(want[:, 0]), rtol=1e-12)
    pd.testing.assert_frame_equal(prices, before)  # input untouched
    arr = prices.to_numpy()
    np.testing.assert_array_equal(trackerr.returns_from_prices(arr), r.to_numpy())


def test_missing_prices_give_missing_returns():
    r = trackerr.returns_from_prices(np.array([1.0, np.nan, 2.0, 4.0]))
    np.testing.assert_array_equal(np.isnan(r), [True, True, False])
    assert r[2] == 1.0


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf])
def test_non_positive_prices_raise_naming_the_place(bad):
    prices = _frame("eth_lst_2023_2024.csv").iloc[:10].copy()
    prices.iloc[4, 1] = bad
    with pytest.raises(ValueError, match=r"column 'STETH' at row 2023-01-05"):
        trackerr.returns_from_prices(prices)
    with pytest.raises(ValueError, match="row 4, column 1"):
        trackerr.returns_from_prices(prices.to_numpy())


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        trackerr.returns_from_prices([1.0, 2.0], kind="pct")
    with pytest.raises(ValueError, match="at least 2 rows"):
        trackerr.returns_from_prices([1.0])
    with pytest.raises(TypeError, match="prices must hold real numbers"):
        trackerr.returns_from_prices(["a", "b"])


def test_infer_crypto_daily_and_business_days():
    crypto = trackerr.infer_periods_per_year(datasets.load("steth_eth").dates)
    assert (crypto.periods_per_year, crypto.name) == (365.0, "crypto-daily")
    assert "weekends" in crypto.reason
    spy = trackerr.infer_periods_per_year(_frame("spy_sp500_2010_2022.csv").index)
    assert (spy.periods_per_year, spy.name) == (252.0, "daily")
    etfs = trackerr.infer_periods_per_year(datasets.load("btc_etfs").dates)
    assert etfs.periods_per_year == 252.0


@pytest.mark.parametrize(
    ("rule", "periods", "name"),
    [
        ("W-FRI", 52.0, "weekly"),
        ("ME", 12.0, "monthly"),
        ("QE", 4.0, "quarterly"),
        ("2QE", 2.0, "semi-annual"),
        ("YE", 1.0, "annual"),
    ],
)
def test_infer_resampled_real_data(rule, periods, name):
    spy = _frame("spy_sp500_2010_2022.csv")["SPY_adj"].resample(rule).last().dropna()
    got = trackerr.infer_periods_per_year(spy.index)
    assert (got.periods_per_year, got.name) == (periods, name)
    assert f"({periods:g} periods a year)" in str(got)


def test_infer_hourly_and_failures():
    hours = pd.date_range("2024-01-01", periods=500, freq="h")
    assert trackerr.infer_periods_per_year(hours).periods_per_year == 8760.0
    with pytest.raises(ValueError, match="at least 3 distinct dates"):
        trackerr.infer_periods_per_year(["2024-01-01", "2024-01-02"])
    with pytest.raises(ValueError, match="cannot infer periods per year"):
        trackerr.infer_periods_per_year(pd.date_range("2024-01-01", periods=20, freq="15D"))
    strings = np.array(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    assert trackerr.infer_periods_per_year(strings).periods_per_year in (252.0, 365.0)
