"""The plumbing every public function shares (private).

One place for what the full-sample, rolling and risk functions all do before
and after a kernel runs, so that they accept and refuse exactly the same things:

* inputs: numpy arrays of float32/float64 pass through untouched, whatever
  their strides; other real dtypes are converted to float64 (one copy);
  masked arrays become NaN where masked; pandas objects are checked column by
  column (numbers only: dates, booleans, strings and categories are refused,
  as they are for numpy input) and aligned on their index (inner join), with a
  clear error when the two indexes cannot align;
* options of the rolling kernels (``window``, ``min_periods``, ``threads``,
  ``out``) with the limits the C++ side enforces;
* ``nan_policy``: one ``'raise'`` message, naming the first row (and its
  label for pandas input);
* wrapping results: a float for a 1-D input, an array for a panel, pandas
  (labelled) for pandas input.

pandas is only touched when the caller hands us pandas objects, so it stays an
optional dependency. Inputs are never modified.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Iterator, Mapping, Set
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

MAX_WINDOW = 2**63 - 1
"""Largest ``window`` accepted (a window longer than the data is legal: the
kernels allocate by the rows they read, not by the window)."""

MAX_THREADS = 1024
"""Largest ``threads`` accepted (as in the C++ bindings, detail::max_threads);
the kernels use at most one thread per column (or segment) anyway."""


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


# --- inputs ----------------------------------------------------------------------


def _describe_index(index: Any) -> str:
    pd = _pandas()
    if isinstance(index, pd.MultiIndex):
        return f"a MultiIndex of {index.nlevels} levels"
    if isinstance(index, pd.DatetimeIndex):
        return f"dates ({'tz ' + str(index.tz) if index.tz is not None else 'tz-naive'})"
    kind = index.inferred_type
    return {"string": "strings", "integer": "integers", "floating": "floats"}.get(
        kind, f"labels of type {kind}"
    )


def _no_overlap(portfolio: Any, benchmark: Any) -> ValueError:
    """The error for two pandas inputs whose indexes share no label: say why."""
    pi, bi = portfolio.index, benchmark.index
    what_p, what_b = _describe_index(pi), _describe_index(bi)
    if what_p != what_b:
        if "MultiIndex" in what_p or "MultiIndex" in what_b:
            hint = "give both the same levels (droplevel or reset_index the extra ones)"
        elif "dates" in what_p or "dates" in what_b:
            hint = "convert both with pd.to_datetime (and tz_localize/tz_convert to one time zone)"
        else:
            hint = "give both the same kind of index"
        return ValueError(
            f"portfolio and benchmark indexes do not align: the portfolio is indexed by {what_p}, "
            f"the benchmark by {what_b}; {hint}"
        )
    return ValueError(
        "portfolio and benchmark indexes do not align: they share no label (portfolio "
        f"{pi[0]!s} .. {pi[-1]!s}, benchmark {bi[0]!s} .. {bi[-1]!s}); pass numpy arrays to "
        "pair the rows by position"
    )


def _align(portfolio: Any, benchmark: Any) -> tuple[Any, Any]:
    """Inner-join two pandas objects on their index; order follows the portfolio.
    Identical indexes pair row by row, repeated labels included (ticks at one
    instant); otherwise repeated labels cannot be aligned and are refused."""
    if not portfolio.index.equals(benchmark.index):
        for obj, name in ((portfolio, "portfolio"), (benchmark, "benchmark")):
            if not obj.index.is_unique:
                dup = obj.index[obj.index.duplicated()][0]
                raise ValueError(
                    f"{name} has duplicate index labels (first: {dup!s}) and the other side's "
                    "index differs; cannot align on the index"
                )
        common = portfolio.index.intersection(benchmark.index, sort=False)
        if len(common) == 0 and len(portfolio.index) and len(benchmark.index):
            raise _no_overlap(portfolio, benchmark)
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


def _real_dtype(dtype: Any) -> bool:
    """A numpy or pandas (nullable) dtype of real numbers; never bool, dates or text."""
    if isinstance(dtype, np.dtype):
        return dtype.kind in "fiu"
    # pandas extension dtypes: Int64, Float64, UInt8, ... (kind 'i', 'u', 'f'),
    # but not categoricals of numbers or Arrow strings (kind 'O').
    return getattr(dtype, "kind", "O") in "fiu" and getattr(dtype, "name", "") != "category"


def _pandas_values(obj: Any, name: str) -> Any:
    if obj.ndim == 1:
        if not _real_dtype(obj.dtype):
            raise TypeError(f"{name} must hold real numbers; got a Series of dtype {obj.dtype}")
        dtypes = [obj.dtype]
    else:
        dtypes = list(obj.dtypes)
        for col, d in zip(obj.columns, dtypes, strict=True):
            if not _real_dtype(d):
                raise TypeError(
                    f"{name} must hold real numbers; column {col!r} has dtype {d} "
                    "(drop it, or set it as the index)"
                )
    if all(isinstance(d, np.dtype) for d in dtypes):
        return obj.to_numpy()  # a view when the data is one float block
    return obj.to_numpy(dtype=np.float64, na_value=np.nan)  # nullable: <NA> -> NaN


def _unmask(arr: np.ma.MaskedArray[Any, Any], name: str) -> npt.NDArray[Any]:
    """A masked array as a plain one with NaN where masked (a new array)."""
    data = np.asarray(arr.data)
    if data.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers; got a masked array of dtype {data.dtype}")
    mask = np.ma.getmaskarray(arr)
    if not mask.any():
        return data
    out = data.astype(data.dtype if data.dtype in (np.float32, np.float64) else np.float64)
    out[mask] = np.nan
    return out


def as_real_array(obj: Any, name: str) -> npt.NDArray[np.floating[Any]]:
    """A 1-D or 2-D float32/float64 array viewing ``obj`` where possible."""
    if _is_pandas(obj):
        obj = _pandas_values(obj, name)
    elif isinstance(obj, np.ma.MaskedArray):
        obj = _unmask(obj, name)
    elif isinstance(obj, (str, bytes, Mapping, Set, Iterator)):
        raise TypeError(
            f"{name} must be an array-like of numbers (a numpy array, a list or a pandas "
            f"object), not {type(obj).__name__}"
        )
    try:
        arr = np.asarray(obj)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} could not be read as a numeric array: {str(exc).splitlines()[0]}"
        ) from None
    kind = arr.dtype.kind
    if kind not in "fiu":
        if kind == "O" and arr.ndim == 0:
            raise TypeError(
                f"{name} must be an array-like of numbers, not {type(obj).__name__} (={obj!r:.40})"
            )
        raise TypeError(f"{name} must hold real numbers; got an array of dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64) or not arr.dtype.isnative:
        arr = arr.astype(np.float64)
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D; got {arr.ndim}-D with shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    return arr


def single(returns: Any, name: str = "returns") -> Inputs:
    """Validate one return series (1-D or T x N) and remember its pandas labels;
    the benchmark slot holds the same array (ignored by one-series kernels)."""
    columns = index = None
    if _is_pandas(returns):
        index = returns.index
        if returns.ndim == 2:
            columns = returns.columns
    r = as_real_array(returns, name)
    return Inputs(r, r, columns, index)


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


# --- options of the rolling kernels ---------------------------------------------


def _integer(name: str, value: Any, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {what}, not {type(value).__name__} (={value!r})")
    return int(value)


def window(value: Any, ddof: float = 0.0) -> int:
    """Check a rolling window: an integer from 2 (and above ``ddof``) to MAX_WINDOW."""
    w = _integer("window", value, "an integer")
    if w < 2:
        raise ValueError(f"window (={w}) must be at least 2")
    if w > MAX_WINDOW:
        raise ValueError(f"window (={w}) is too large: at most 2**63 - 1")
    if not w > ddof:
        raise ValueError(f"window (={w}) must exceed ddof (={ddof:g})")
    return w


def min_periods(value: Any, window: int) -> int:
    """Check ``min_periods`` (None: the window) against the window."""
    if value is None:
        return window
    m = _integer("min_periods", value, "an integer or None")
    if not 1 <= m <= window:
        raise ValueError(f"min_periods (={m}) must be between 1 and window (={window})")
    return m


def threads(value: Any) -> int:
    """Check ``threads`` (None: one per core, passed to the kernels as 0)."""
    if value is None:
        return 0
    t = _integer("threads", value, "a positive integer or None")
    if t < 1:
        raise ValueError(f"threads (={t}) must be at least 1 (or None for one per core)")
    if t > MAX_THREADS:
        raise ValueError(f"threads (={t}) is too many: at most {MAX_THREADS} (None: one per core)")
    return t


def check_out(out: Any, shape: tuple[int, ...], arrays: tuple[np.ndarray, ...]) -> np.ndarray:
    """Check a caller's output array: float64, the result's shape, writeable, no overlap."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, not {type(out).__name__}")
    if out.dtype != np.float64:
        raise TypeError(f"out must have dtype float64, not {out.dtype}")
    if out.shape != shape:
        raise ValueError(f"out has shape {out.shape} but the result has shape {shape}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if any(np.may_share_memory(out, a) for a in arrays):
        raise ValueError(
            "out must not overlap the inputs (the portfolio, the benchmark or the times)"
        )
    return out


# --- NaN policy ----------------------------------------------------------------


def nan_mask(inputs: Inputs, two: bool = True) -> npt.NDArray[np.bool_]:
    """Per row (and column, for panels): does the observation hold a NaN?"""
    p = inputs.portfolio
    bad: npt.NDArray[np.bool_] = np.isnan(p)
    if two:
        b = inputs.benchmark
        b_bad = np.isnan(b)
        bad = bad | (b_bad[:, None] if p.ndim > b.ndim else b_bad)
    return bad


def raise_nan(bad: npt.NDArray[np.bool_], inputs: Inputs) -> None:
    """The one nan_policy='raise' error: the first row holding NaN, its label, the count."""
    rows = bad.reshape(len(bad), -1).any(axis=1)
    where = np.flatnonzero(rows)
    if not where.size:
        return
    row = int(where[0])
    label = f" (label {inputs.index[row]!s})" if inputs.index is not None else ""
    raise ValueError(
        f"nan_policy='raise' but the input holds NaN: first at row {row}{label}, "
        f"{int(where.size)} row(s) in all"
    )


def propagate(values: list[np.ndarray], bad: npt.NDArray[np.bool_], window: int) -> None:
    """Set every window that contains a NaN row to NaN (nan_policy='propagate')."""
    if not bad.any():
        return
    counts = np.cumsum(bad, axis=0, dtype=np.int64)
    lagged = np.zeros_like(counts)
    if window < len(counts):
        lagged[window:] = counts[:-window]
    hit = (counts - lagged) > 0
    for v in values:
        v[hit] = np.nan


# --- results -------------------------------------------------------------------


def wrap(values: Any, inputs: Inputs, name: str) -> Any:
    """Package full-sample output: a float for 1-D input, an array or a labelled Series."""
    if inputs.portfolio.ndim == 1:
        return float(values)
    if inputs.columns is not None:
        return _pandas().Series(values, index=inputs.columns, name=name)
    return values


def wrap_rolling(values: np.ndarray, inputs: Inputs, name: str) -> Any:
    """Package rolling output: the array, or a Series/DataFrame on the input's index."""
    if inputs.index is None:
        return values
    pd = _pandas()
    if values.ndim == 1:
        return pd.Series(values, index=inputs.index, name=name, copy=False)
    return pd.DataFrame(values, index=inputs.index, columns=inputs.columns, copy=False)


def datetime_ns(values: np.ndarray, name: str) -> np.ndarray:
    """datetime64 values (no NaT) as int64 nanoseconds, without a copy when
    they are nanoseconds already. A time outside the nanosecond range (years
    1677 to 2262) is a ValueError naming ``name``, not a wrapped value (numpy's
    conversion wraps silently)."""
    if values.dtype == np.dtype("datetime64[ns]"):
        return values.view(np.int64)
    ns = values.astype("datetime64[ns]")
    unit = np.datetime_data(values.dtype)[0]
    # a coarser unit round-trips exactly unless the conversion wrapped
    if unit not in ("ps", "fs", "as") and not np.array_equal(ns.astype(values.dtype), values):
        flat = values.reshape(-1)
        i = int(np.flatnonzero(ns.reshape(-1).astype(values.dtype) != flat)[0])
        where = f" at row {i}" if values.ndim else ""
        raise ValueError(
            f"{name} holds a time outside the range of int64 nanoseconds (years 1677 to 2262): "
            f"{flat[i]}{where}"
        )
    out: np.ndarray = ns.view(np.int64)
    return out
