"""Small real datasets shipped with trackerr (provenance in ``data/SOURCES.txt``).

>>> from trackerr import datasets
>>> ds = datasets.load("steth_eth")
>>> ds.columns
('ETH', 'STETH')
>>> r = ds.returns()            # simple daily returns, one row fewer than prices
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFI_TOKENS",
    "DEMOS",
    "DPI_CONSTITUENTS",
    "Dataset",
    "available",
    "load",
    "sources",
]

_FILES = {
    "steth_eth": "steth_eth.csv",
    "btc_etfs": "btc_etfs.csv",
    "dpi": "dpi_cmc_2020.csv",
    "defi_basket": "defi_basket.csv",
}

DEFI_TOKENS = ("UNI", "AAVE", "COMP", "MKR", "SNX", "YFI", "SUSHI", "CRV", "BAL", "INDEX")
"""The DeFi governance tokens of ``defi_basket`` (see SOURCES.txt)."""

DPI_CONSTITUENTS = ("AAVE", "COMP", "MKR", "SNX", "REN", "KNC", "SUSHI", "UMA", "LINK")
"""The DeFi Pulse Index members present in the shipped file (see SOURCES.txt)."""

DEMOS = (
    ("steth_eth", "Lido stETH vs ETH (daily, 24/7)", "ETH", ["STETH"]),
    ("btc_etfs", "Spot bitcoin ETFs vs BTC (US trading days)", "BTC_USD", ["IBIT", "FBTC", "GBTC"]),
    ("dpi", "DeFi Pulse Index vs an equal-weight basket of its members", "EW_BASKET", ["DPI"]),
)
"""What ``trackerr demo`` reports: (dataset, title, benchmark column, portfolio columns)."""


@dataclass(frozen=True)
class Dataset:
    """Daily closing prices: ``dates`` (datetime64[D]) and one price column per asset."""

    name: str
    dates: npt.NDArray[np.datetime64]
    prices: npt.NDArray[np.float64]  # T x K, NaN where there is no price
    columns: tuple[str, ...]

    def column(self, name: str) -> npt.NDArray[np.float64]:
        """Prices of one asset."""
        try:
            return self.prices[:, self.columns.index(name)]
        except ValueError:
            raise KeyError(f"{self.name} has no column {name!r}; columns: {self.columns}") from None

    def returns(self, columns: str | list[str] | None = None) -> npt.NDArray[np.float64]:
        """Simple returns P_t / P_{t-1} - 1 (T - 1 rows, dated ``dates[1:]``)."""
        if columns is None:
            prices = self.prices
        elif isinstance(columns, str):
            prices = self.column(columns)
        else:
            prices = np.column_stack([self.column(c) for c in columns])
        out: npt.NDArray[np.float64] = prices[1:] / prices[:-1] - 1.0
        return out

    def to_frame(self) -> Any:
        """Prices as a pandas DataFrame indexed by date (needs pandas)."""
        import pandas as pd

        index = pd.DatetimeIndex(self.dates, name="date")
        return pd.DataFrame(self.prices, index=index, columns=list(self.columns))


def available() -> list[str]:
    """Names accepted by :func:`load`."""
    return sorted(_FILES)


def sources() -> str:
    """Provenance and terms of the shipped data."""
    return (resources.files("trackerr") / "data" / "SOURCES.txt").read_text(encoding="utf-8")


def load(name: str) -> Dataset:
    """Load a shipped dataset by name (see :func:`available`)."""
    try:
        filename = _FILES[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; available: {available()}") from None
    text = (resources.files("trackerr") / "data" / filename).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    dates = np.array([r[0] for r in body], dtype="datetime64[D]")
    prices = np.array([[float(v) if v else np.nan for v in r[1:]] for r in body], dtype=np.float64)
    if name == "dpi":
        return _dpi(dates, prices, header[1:])
    if name == "defi_basket":
        return _defi_basket(dates, prices, header[1:])
    return Dataset(name, dates, prices, tuple(header[1:]))


def _dpi(
    dates: npt.NDArray[np.datetime64], prices: npt.NDArray[np.float64], cols: list[str]
) -> Dataset:
    """DPI and an equal-weight, daily rebalanced basket of its members in the file."""
    members = prices[:, [cols.index(c) for c in DPI_CONSTITUENTS]]
    with np.errstate(invalid="ignore"):
        step = members[1:] / members[:-1] - 1.0  # NaN where a member has no price either day
    basket_returns = np.nanmean(step, axis=1)
    dpi = prices[:, cols.index("DPI")]
    basket = dpi[0] * np.concatenate([[1.0], np.cumprod(1.0 + basket_returns)])
    return Dataset("dpi", dates, np.column_stack([dpi, basket]), ("DPI", "EW_BASKET"))


def _defi_basket(
    dates: npt.NDArray[np.datetime64], prices: npt.NDArray[np.float64], cols: list[str]
) -> Dataset:
    """The tokens and EW_BASKET, their equal-weight basket rebalanced daily: each
    day's return is the mean of the tokens' returns (every token has a price
    every day), started at 100. A fixed-weight portfolio of all the tokens at
    1/N each tracks it exactly; fewer names cannot."""
    step = prices[1:] / prices[:-1] - 1.0
    basket = 100.0 * np.concatenate([[1.0], np.cumprod(1.0 + step.mean(axis=1))])
    return Dataset("defi_basket", dates, np.column_stack([prices, basket]), (*cols, "EW_BASKET"))
