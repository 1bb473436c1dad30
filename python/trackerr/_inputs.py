"""Turning user inputs into arrays the kernels read in place (private).

numpy arrays of float32/float64 pass through untouched, whatever their strides;
other real dtypes are converted to float64 (one copy). pandas objects are
aligned on their index (inner join); pandas itself is only touched when the
caller hands us pandas objects, so it stays an optional dependency.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt


class Inputs(NamedTuple):
    portfolio: npt.NDArray[np.floating[Any]]
    benchmark: npt.NDArray[np.floating[Any]]
    columns: Any  # pandas Index labelling the result, or None for numpy output
    index: Any = None  # pandas index of the (aligned) rows when the portfolio is pandas


def _pandas() -> Any:
    return sys.modules.get("pandas")


def _is_pandas(obj: object) -> bool:
    pd = _pandas()
    return pd is not None and isinstance(obj, (pd.Series, pd.DataFrame))


def _align(portfolio: Any, benchmark: Any) -> tuple[Any, Any]:
    """Inner-join two pandas objects on their index; order follows the portfolio."""
    for obj, name in ((portfolio, "portfolio"), (benchmark, "benchmark")):
        if not obj.index.is_unique:
            raise ValueError(f"{name} has duplicate index labels; cannot align on the index")
    if not portfolio.index.equals(benchmark.index):
        common = portfolio.index.intersection(benchmark.index, sort=False)
        portfolio = portfolio.loc[common]
        benchmark = benchmark.loc[common]
    pd = _pandas()
    if isinstance(portfolio, pd.DataFrame) and isinstance(benchmark, pd.DataFrame):
        if not portfolio.columns.equals(benchmark.columns):
            if set(portfolio.columns) != set(benchmark.columns):
                raise ValueError(
                    "a DataFrame benchmark must have the portfolio's columns; got "
                    f"{list(benchmark.columns)!r} for portfolio columns {list(portfolio.columns)!r}"
                )
            benchmark = benchmark[portfolio.columns]
    return portfolio, benchmark


def _pandas_values(obj: Any, name: str) -> Any:
    dtypes = [obj.dtype] if obj.ndim == 1 else list(obj.dtypes)
    if all(isinstance(d, np.dtype) and d.kind in "fiu" for d in dtypes):
        return obj.to_numpy()  # a view when the data is one float block
    try:
        return obj.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        kinds = sorted({str(d) for d in dtypes})
        raise TypeError(f"{name} must hold real numbers; got dtypes {kinds}") from exc


def as_real_array(obj: Any, name: str) -> npt.NDArray[np.floating[Any]]:
    """A 1-D or 2-D float32/float64 array viewing ``obj`` where possible."""
    if _is_pandas(obj):
        obj = _pandas_values(obj, name)
    try:
        arr = np.asarray(obj)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} could not be read as a numeric array: {exc}") from exc
    kind = arr.dtype.kind
    if kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64) or not arr.dtype.isnative:
        arr = arr.astype(np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D; got {arr.ndim}-D with shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    return arr


def prepare(portfolio: Any, benchmark: Any) -> Inputs:
    """Validate and align a portfolio and a benchmark for the kernels."""
    columns = index = None
    p_pd, b_pd = _is_pandas(portfolio), _is_pandas(benchmark)
    if p_pd and b_pd:
        portfolio, benchmark = _align(portfolio, benchmark)
    if p_pd:
        index = portfolio.index
        if portfolio.ndim == 2:
            columns = portfolio.columns
    p = as_real_array(portfolio, "portfolio")
    b = as_real_array(benchmark, "benchmark")
    if p.shape[0] != b.shape[0]:
        raise ValueError(
            f"portfolio has length {p.shape[0]} but benchmark has length {b.shape[0]}"
            + (" (after aligning on the index)" if p_pd and b_pd else "")
        )
    if b.ndim == 2:
        if p.ndim == 1:
            raise ValueError(
                f"benchmark is 2-D with shape {b.shape} but portfolio is 1-D with shape {p.shape}"
            )
        if b.shape != p.shape:
            raise ValueError(
                f"a 2-D benchmark must have the portfolio's shape {p.shape}; got {b.shape}"
            )
    return Inputs(p, b, columns, index)


def first_nan_row(inputs: Inputs) -> int:
    """Index of the first row holding a NaN in either input (error path only)."""
    mask = np.isnan(inputs.portfolio)
    if mask.ndim == 2:
        mask = mask.any(axis=1)
    bmask = np.isnan(inputs.benchmark)
    if bmask.ndim == 2:
        bmask = bmask.any(axis=1)
    return int(np.flatnonzero(mask | bmask)[0])


def wrap(values: Any, inputs: Inputs, name: str) -> Any:
    """Package kernel output: a float for 1-D input, an array or a labelled Series for panels."""
    if inputs.portfolio.ndim == 1:
        return float(values)
    if inputs.columns is not None:
        return _pandas().Series(values, index=inputs.columns, name=name)
    return values
