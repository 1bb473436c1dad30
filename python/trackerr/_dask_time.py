"""Time-span windows ('30D') for trackerr.dask (imported by it alone: it
needs dask).

The time kernels cut a series into segments of L rows from row 0
(``_core.time_segment_length``: fixed by the first and last times, the row
count and the span), and a segment's values depend only on its rows and the
window of the row before its first (the pair kernels start a segment from
that window rebuilt; the risk kernels rebuild their stacks at every cut). So
a block starting at row s is run from the window before the cut
c = s - (s mod L): its history is the rows [h, s), h the first row whose time
lies inside row c - 1's window, and the kernel is told that the cuts fall at
c and every L rows on. The history reaches back L rows plus one window of
time, so it varies with the data: the times are read once when a function is
called (the first and last time of each block, and the checks the in-memory
functions make: no NaT, no time going back), and each block is given the
tails of the blocks before it that may hold rows of its history (a tail
holds every row from c - 1 on and every row later than the first time of
c - 1's block minus the span; the block finds h exactly among them).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

import dask.array as da
import numpy as np
from dask.base import compute
from dask.delayed import delayed

from . import _core, _inputs, _rolling

_LOW = int(np.iinfo(np.int64).min)  # NaT, as int64 nanoseconds


def _edge(time: int, span: int) -> int:
    """time - span without going below the int64 range (the kernels' edge)."""
    return _LOW if time < _LOW + span else time - span


# --- the rows' times -------------------------------------------------------------------


def _naive(values: Any) -> np.ndarray:
    """datetime64 values, or a pandas index or Series of them (in UTC when
    zone-aware), as a numpy datetime64 array."""
    if isinstance(values, np.ndarray):
        return values
    import pandas as pd

    idx = pd.DatetimeIndex(values)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    out: np.ndarray = idx.to_numpy()
    return out


def _ns(values: Any) -> np.ndarray:
    """A piece of the rows' times as int64 nanoseconds (checked by _facts)."""
    out: np.ndarray = _naive(values).astype("datetime64[ns]").view(np.int64)
    return out


def _facts(values: Any, first_row: int) -> tuple[Any, ...]:
    """A piece of the rows' times: (first time, last time in nanoseconds,
    first NaT row, first row outside the nanosecond range and its value,
    first row going back), rows of the whole series (-1: none)."""
    values = _naive(values)
    nat = np.isnat(values)
    clean = np.where(nat, np.zeros(1, values.dtype), values) if nat.any() else values
    ns = clean.astype("datetime64[ns]")
    unit = np.datetime_data(values.dtype)[0]
    # a coarser unit round-trips exactly unless the conversion wrapped
    wrapped = (
        ns.astype(values.dtype) != clean
        if unit not in ("ns", "ps", "fs", "as")
        else np.zeros(len(values), bool)
    )
    out = ns.view(np.int64)
    nat_rows, far_rows = np.flatnonzero(nat), np.flatnonzero(wrapped)
    fine = not len(nat_rows) and not len(far_rows)
    back = np.flatnonzero(out[1:] < out[:-1]) if fine else np.empty(0, np.int64)

    def row(found: np.ndarray) -> int:
        return first_row + int(found[0]) if len(found) else -1

    far = str(clean[far_rows[0]]) if len(far_rows) else ""
    first, last = (int(out[0]), int(out[-1])) if len(out) and fine else (0, 0)
    return (first, last, row(nat_rows), row(far_rows), far, row(back + 1))


def _is_datetime(dtype: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_datetime64_any_dtype(dtype))


def _pieces(
    times: Any, index: Any, rows: int, partitions: tuple[int, ...]
) -> tuple[list[Any], list[int], str]:
    """The rows' times as delayed pieces (numpy datetime64 or pandas), their
    lengths, and how errors name them ('times' or 'the index'). `index` is
    the dask DataFrame's index (None for dask arrays)."""
    import dask.dataframe as dd

    if times is None:
        if index is None or not _is_datetime(index.dtype):
            raise ValueError(
                "a time-span window needs the rows' times: pass times=, or a dask DataFrame "
                "or Series with a DatetimeIndex"
            )
        # the frame's partitions (their lengths were read already)
        return list(index.to_delayed()), list(partitions), "the index"
    if isinstance(times, (dd.Series, dd.Index)):
        if not _is_datetime(times.dtype):
            raise TypeError(f"times must hold datetime64 values, not {times.dtype}")
        lengths = [int(n) for n in times.map_partitions(len).compute()]
        if sum(lengths) != rows:
            raise ValueError(f"times has {sum(lengths)} rows; the data has {rows}")
        return list(times.to_delayed()), lengths, "times"
    if isinstance(times, da.Array):
        if times.dtype.kind != "M":
            raise TypeError(f"times must hold datetime64 values, not {times.dtype}")
        if times.ndim != 1 or times.shape[0] != rows:
            raise ValueError(f"times has shape {times.shape}; the data has {rows} rows")
        return list(times.to_delayed()), list(times.chunks[0]), "times"
    raise AssertionError("in-memory times are read by stamps()")  # pragma: no cover


def _is_lazy(times: Any) -> bool:
    """None (the dask DataFrame's index), a dask array, Series or Index."""
    if times is None or isinstance(times, da.Array):
        return True
    import dask.dataframe as dd

    return isinstance(times, (dd.Series, dd.Index))


def stamps(
    times: Any, index: Any, rows: int, chunks: tuple[int, ...], partitions: tuple[int, ...]
) -> tuple[Any, np.ndarray, tuple[int, int]]:
    """The rows' times as a lazy int64 dask array (nanoseconds) chunked as
    `chunks`; bounds on the times of each of those chunks (an nblocks x 2
    array: at most its first time, at least its last; an empty chunk gets
    its neighbour's); and the series' first and last time. The in-memory
    checks (no NaT, no time outside the nanosecond range, none before the one
    above it) run first: they read the times now and name rows of the whole
    series. `partitions` are the dask DataFrame's partition lengths (for its
    index)."""
    bounds = np.cumsum((0, *chunks))
    first_rows = np.minimum(bounds[:-1], rows - 1)  # (an empty last chunk: the last row)
    last_rows = np.maximum(bounds[1:] - 1, 0)
    if not _is_lazy(times):
        # in memory: checked and converted as the in-memory functions do
        no_data = _inputs.Inputs(np.empty(0), np.empty(0), None)
        values = _rolling._time_values(times, no_data, rows)
        table = np.stack([values[first_rows], values[last_rows]], axis=1)
        ends = (int(values[0]), int(values[-1]))
        return da.from_array(values, chunks=(chunks,), name=False), table, ends  # (no hashing)
    pieces, lengths, name = _pieces(times, index, rows, partitions)
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(int)
    arrays = [
        da.from_delayed(delayed(_ns)(x), shape=(int(n),), dtype=np.int64)
        for x, n in zip(pieces, lengths, strict=True)
    ]
    t = (da.concatenate(arrays) if len(arrays) > 1 else arrays[0]).rechunk({0: chunks})
    found = compute(*[delayed(_facts)(x, int(s)) for x, s in zip(pieces, starts, strict=False)])
    nats = [f[2] for f in found if f[2] >= 0]
    if nats:
        raise ValueError(f"{name} has a NaT at row {min(nats)}")
    far = [(f[3], f[4]) for f in found if f[3] >= 0]
    if far:
        i, value = min(far)
        raise ValueError(
            f"{name} holds a time outside the range of int64 nanoseconds (years 1677 to 2262): "
            f"{value} at row {i}"
        )
    backs = [f[5] for f in found if f[5] >= 0]
    full = [j for j, n in enumerate(lengths) if n > 0]
    backs += [int(starts[k]) for j, k in itertools.pairwise(full) if found[k][0] < found[j][1]]
    if backs:
        raise ValueError(f"times go back at row {min(backs)}: sort the rows by time first")
    piece_ends = np.array([f[:2] for f in found], dtype=np.int64)  # (empty pieces: 0, 0)
    # of the chunks: the first time of the (non-empty) piece holding a chunk's
    # first row, the last of the one holding its last (a lower and an upper bound)
    first_piece = np.searchsorted(starts, first_rows, side="right") - 1
    last_piece = np.searchsorted(starts, last_rows, side="right") - 1
    table = np.stack([piece_ends[first_piece, 0], piece_ends[last_piece, 1]], axis=1)
    return t, table, (int(piece_ends[full[0], 0]), int(piece_ends[full[-1], 1]))


# --- blocks with their history ----------------------------------------------------------


def _tail(x: np.ndarray, t: np.ndarray, first_row: int, keep_row: int, bound: int) -> np.ndarray:
    """The rows of a block (starting at row `first_row` of the series) from
    row `keep_row` of the series on, and those with times after `bound`."""
    r0 = min(int(np.searchsorted(t, bound, side="right")), max(0, keep_row - first_row))
    return x[r0:]


def _run_block(
    run: Callable[..., np.ndarray],
    p_parts: list[np.ndarray],
    b_parts: list[np.ndarray],
    t_parts: list[np.ndarray],
    checks: list[Any],
    *,
    first: int,
    cut: int,
    span: int,
) -> np.ndarray:
    """One block (the last of the parts; the others are tails of the blocks
    before it): cut back to its history [h, first), run, and returned without
    the history, the metrics on a last axis."""
    if checks:
        from .dask import _raise_if_nan

        _raise_if_nan(*checks)
    p, b, t = (np.concatenate(x) if len(x) > 1 else x[0] for x in (p_parts, b_parts, t_parts))
    g0 = first - (len(t) - len(t_parts[-1]))  # the series' row of the parts' first row
    if cut == 0:
        h, origin = 0, 0  # the block lies in the first segment: run from row 0 (g0 is 0)
    else:
        lc = cut - g0  # the cut, counted from the parts' first row
        h = int(np.searchsorted(t[: lc - 1], _edge(int(t[lc - 1]), span), side="right"))
        origin = lc - h
    out = run(p[h:], b[h:], t[h:], origin)
    return out[first - g0 - h :]


def blocks(
    run: Callable[..., np.ndarray],
    k: int,
    p: Any,
    b: Any,
    t: Any,
    table: np.ndarray,
    checks: list[Any],
    *,
    span: int,
    segment: int,
) -> Any:
    """The lazy (rows x [columns x] k) results of `run` over every block of p
    (time along axis 0, any chunks), b (the benchmark, 1-D) and t (times),
    each block run with its history."""
    rows_of = p.chunks[0]
    starts = np.cumsum((0, *rows_of))
    lasts = table[:, 1]
    p_d = p.to_delayed()
    if p.ndim == 1:
        p_d = p_d[:, None]
    b_d = b.rechunk({0: rows_of}).to_delayed()
    t_d = t.to_delayed()
    col_chunks = p.chunks[1] if p.ndim == 2 else (None,)
    grid = []
    for j, n in enumerate(rows_of):
        first = int(starts[j])
        cut = first - first % segment
        if cut == 0:
            keep_row, bound, k0 = 0, _LOW, 0
        else:
            m = int(np.searchsorted(starts, cut - 1, side="right")) - 1  # block of row cut - 1
            keep_row, bound = cut - 1, _edge(int(table[m, 0]), span)
            # the first block that may hold a later time (the bounds do not go back)
            k0 = int(np.searchsorted(lasts[:m], bound, side="right"))
        hist = range(k0, j)

        def tails(
            blocks_d: Any, hist: range = hist, keep: int = keep_row, bound: int = bound
        ) -> list[Any]:
            return [delayed(_tail)(blocks_d[q], t_d[q], int(starts[q]), keep, bound) for q in hist]

        t_parts = [*tails(t_d), t_d[j]]
        b_parts = [*tails(b_d), b_d[j]]
        row = []
        for i, cols in enumerate(col_chunks):
            p_parts = [*tails(p_d[:, i]), p_d[j, i]]
            task = delayed(_run_block)(
                run, p_parts, b_parts, t_parts, checks, first=first, cut=cut, span=span
            )
            shape = (n, k) if cols is None else (n, cols, k)
            row.append(da.from_delayed(task, shape=shape, dtype=np.float64))
        grid.append(da.concatenate(row, axis=1) if len(row) > 1 else row[0])
    return da.concatenate(grid, axis=0) if len(grid) > 1 else grid[0]


# --- the kernels on a block -----------------------------------------------------------------


def pair_run(
    p: np.ndarray,
    b: np.ndarray,
    t: np.ndarray,
    origin: int,
    *,
    names: tuple[str, ...],
    span: int,
    segment: int,
    min_periods: int,
    ddof: float,
    periods: float,
    risk_free: float,
    geometric_alpha: bool,
    policy: str,
    threads: int,
) -> np.ndarray:
    p = np.ascontiguousarray(p, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    t = np.ascontiguousarray(t)
    out = np.empty((*p.shape, len(names)))
    outs = [out[..., i] for i in range(len(names))]
    _core.rolling_time(
        list(names), p, b, t, span, min_periods, ddof, periods, risk_free, geometric_alpha,
        outs, threads, segment=segment, origin=origin,
    )  # fmt: skip
    if policy == "propagate":
        bad = _inputs.nan_mask(_inputs.Inputs(p, b, None))
        if bad is not None:
            _rolling._propagate_time(outs, bad, t, span)
    return out


def risk_run(
    p: np.ndarray,
    b: np.ndarray,
    t: np.ndarray,
    origin: int,
    *,
    metric: str,
    two: bool,
    span: int,
    segment: int,
    min_periods: int,
    target: float,
    periods: float,
    policy: str,
    threads: int,
) -> np.ndarray:
    t = np.ascontiguousarray(t)
    out = np.empty((*p.shape, 1), dtype=np.float64)
    _core.rolling_risk_time(
        metric, p, b if two else None, t, span, min_periods, target, periods, out[..., 0], threads,
        segment=segment, origin=origin,
    )  # fmt: skip
    if policy == "propagate":
        bad = _inputs.nan_mask(_inputs.Inputs(p, b, None), two)
        if bad is not None:
            _rolling._propagate_time([out[..., 0]], bad, t, span)
    return out


def rolling(
    kernel: Callable[..., np.ndarray],
    k: int,
    p: Any,
    b: Any,
    times: Any,
    index: Any,
    partitions: tuple[int, ...],
    span: int,
    checks: list[Any],
    **options: Any,
) -> Any:
    """The lazy (rows x [columns x] k) results of `kernel` (pair_run or
    risk_run, with `options`) over time windows of `span` nanoseconds.
    `index`, `partitions`: the dask DataFrame's index and partition lengths."""
    rows = int(p.shape[0])
    t, table, (first, last) = stamps(times, index, rows, p.chunks[0], partitions)
    segment = _core.time_segment_length(first, last, rows, span)
    run = functools.partial(kernel, span=span, segment=segment, **options)
    return blocks(run, k, p, b, t, table, checks, span=span, segment=segment)


def min_periods(value: Any) -> int:
    return _rolling._time_min_periods(value)
