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

__all__ = ["Dataset", "available", "load", "sources"]

_FILES = {
    "steth_eth": "steth_eth.csv",
    "btc_etfs": "btc_etfs.csv",
}


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
    return Dataset(name, dates, prices, tuple(header[1:]))
