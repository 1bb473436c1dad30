"""trackerr on Dask: the same kernels over arrays larger than memory or spread
over a cluster (``pip install "trackerr[dask]"``).

Inputs are dask arrays with time along axis 0 (a length-T series, or a T x N
panel of portfolios against a length-T benchmark), or dask DataFrames and
Series (one column per portfolio). Results are lazy, like every dask result:
``.compute()`` runs them on whatever scheduler is active (the threads of this
process by default, or a ``distributed.Client``'s workers).

Rolling metrics (``rolling_tracking_error`` ... ``rolling_stats``, and the
risk metrics ``rolling_max_drawdown`` ... ``rolling_down_capture``) equal the
in-memory functions bit for bit, whatever the chunking. The kernels cut a
series into segments (``trackerr._core.segment_length`` rows, fixed by the
series' length and the window) and a segment's values depend only on its own
rows and the ``window`` rows before it. So each block is given the rows
before it back to ``window`` rows before the start of the segment holding its
first row (``map_overlap`` with a halo of segment + window rows: a few
thousand, against blocks of millions), and the kernel is told where the
whole series' cuts fall. The input's chunks are kept (a chunk shorter than
the halo joins its neighbour); portfolios (axis 1) are independent. Each
block runs the kernel on one thread (``threads=1``): Dask runs the blocks in
parallel.

Time-span windows (``window='30D'``, with ``times=`` or a dask DataFrame's
DatetimeIndex) are exact the same way: the time kernels cut the series into
segments of ``trackerr._core.time_segment_length`` rows (fixed by the first
and last times, the row count and the span), and each block is given the
rows back to the window before the cut preceding it, found from the times.
The times are read when the function is called (their first and last value
per block, and the in-memory checks: no NaT, none going back, rows named in
the whole series).

How to chunk: along time, blocks of 1e6 to 1e7 rows for a long series (the
halo is then a fraction of a percent); a panel of a few thousand periods is
best left whole along time and chunked across portfolios, about 50 to 200 MB
a block (2,520 x 2,500 float64 is 50 MB).

Full-sample metrics are reductions: a state per block, merged pairwise up a
tree, read out at the root. ``tracking_error`` ... ``r_squared`` and
``sharpe_ratio`` merge :class:`trackerr.stream.Cumulative` states (the
full-sample block kernels; Chan's formulas), the risk metrics the risk
kernels' summaries (``_core.risk_summaries``: exact pairs of sums, and log
growth, peak, trough and drawdown), ``tracking_difference`` the growth states
(mantissa and exponent of each side's compounded growth). They agree with the
in-memory functions to rounding (see the README for the measured
differences); the states cross processes as bytes or checkpoints.

NaN policies are those of the in-memory functions: 'omit' drops a pair with
a NaN, 'propagate' makes every window (or result) containing one NaN, and
'raise' raises ValueError naming the first row (of the whole series) holding
NaN and how many do, when the result is computed.

Limits: one benchmark column for every portfolio; the full-sample metrics
merged from Cumulative states refuse data beyond 1e-150 .. 1e150 in
magnitude (the states square deviations; the in-memory kernels rescale by
powers of two); rolling series with values
outside about 1e-90 .. 1e90 are rescaled by the kernel per block rather than
per series, so their last bits may differ from the in-memory result. A dask
DataFrame's partition lengths are computed, and its index checked against the
benchmark's (rows are paired by position), when a function is called.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    import dask.array as da
    from dask.delayed import delayed
except ImportError as exc:  # pragma: no cover - exercised without dask installed
    raise ImportError(
        'trackerr.dask needs dask: pip install "trackerr[dask]" (or pip install "dask[array]")'
    ) from exc

from . import _core, _inputs, _options
from ._rolling import _FIELDS, RollingStats, _time_span

__all__ = [
    "active_return",
    "alpha",
    "beta",
    "correlation",
    "down_capture",
    "information_ratio",
    "max_drawdown",
    "omega_ratio",
    "r_squared",
    "rolling_active_return",
    "rolling_alpha",
    "rolling_beta",
    "rolling_correlation",
    "rolling_down_capture",
    "rolling_information_ratio",
    "rolling_max_drawdown",
    "rolling_omega_ratio",
    "rolling_r_squared",
    "rolling_sharpe_ratio",
    "rolling_sortino_ratio",
    "rolling_stats",
    "rolling_tracking_error",
    "rolling_up_capture",
    "sharpe_ratio",
    "sortino_ratio",
    "tracking_difference",
    "tracking_error",
    "up_capture",
]


# --- inputs ------------------------------------------------------------------------------


class _Frame:
    """How to give a result the input's form: a dask array as is, or a dask
    DataFrame / Series on the portfolio's index and columns."""

    def __init__(
        self,
        kind: str,
        index: Any = None,
        columns: Any = None,
        name: Any = None,
        rows: tuple[int, ...] = (),
    ):
        self.kind, self.index, self.columns, self.name = kind, index, columns, name
        self.rows = rows  # the partitions' lengths

    def rolling(self, values: Any, field: str) -> Any:
        if self.kind == "array":
            return values
        import dask.dataframe as dd

        values = values.rechunk({0: self.rows})  # back on the input's partitions

        if self.kind == "series":
            return dd.from_dask_array(values, columns=field, index=self.index)
        return dd.from_dask_array(values, columns=list(self.columns), index=self.index)


def _is_dask_frame(obj: Any) -> bool:
    try:
        import dask.dataframe as dd
    except ImportError:  # dask without its dataframe extra
        return False
    return isinstance(obj, (dd.DataFrame, dd.Series))


def _as_dask(obj: Any, name: str) -> tuple[Any, Any]:
    """(a dask array of time x ..., its dask DataFrame/Series or None)."""
    if _is_dask_frame(obj):
        arr = obj.to_dask_array(lengths=True)
        return arr, obj
    if isinstance(obj, da.Array):
        return obj, None
    if isinstance(obj, (np.ndarray, list, tuple)) or _inputs._is_pandas(obj):
        raise TypeError(
            f"{name} is a {type(obj).__name__}: trackerr.dask takes dask arrays or dask "
            "DataFrames (dask.array.from_array(x, chunks=...)); in-memory data runs faster "
            "through trackerr itself"
        )
    raise TypeError(
        f"{name} must be a dask array or a dask DataFrame/Series, not {type(obj).__name__}"
    )


def _aligned(portfolio: Any, benchmark: Any) -> tuple[Any, Any]:
    """A dask DataFrame/Series and its benchmark, checked to share their known
    divisions and their index (a benchmark DataFrame of one column becomes
    that column)."""
    if portfolio.npartitions != benchmark.npartitions or not (
        portfolio.known_divisions
        and benchmark.known_divisions
        and tuple(portfolio.divisions) == tuple(benchmark.divisions)
    ):
        raise ValueError(
            "portfolio and benchmark must share their partitions (the same known "
            "divisions): align them first (for example benchmark = "
            "benchmark.repartition(divisions=portfolio.divisions))"
        )
    if benchmark.ndim == 2:
        if len(benchmark.columns) != 1:
            raise ValueError(
                f"benchmark must be one column; got a DataFrame of {len(benchmark.columns)}"
            )
        benchmark = benchmark[benchmark.columns[0]]
    # Rows are paired by position below: refuse, rather than pair, two indexes
    # that differ (the in-memory functions would align them on their dates).
    # This reads both indexes now, partition by partition.
    same = portfolio.map_partitions(
        _same_index, benchmark, meta=(None, bool), align_dataframes=False
    ).all()
    if not bool(same.compute()):
        raise ValueError(
            "portfolio and benchmark have different indexes (dates): align them first, for "
            "example with dask.dataframe.concat([portfolio, benchmark], axis=1, join='inner')"
        )
    return portfolio, benchmark


def _same_index(left: Any, right: Any) -> Any:
    import pandas as pd

    return pd.Series([left.index.equals(right.index)])


def _inputs_of(portfolio: Any, benchmark: Any, first: str = "portfolio") -> tuple[Any, Any, _Frame]:
    """(P, B, frame): P a float dask array (T,) or (T, N), B its (T,) benchmark;
    shapes and dtypes checked as the in-memory functions check them. `first`
    names the portfolio in errors ('returns' for a one-series metric)."""
    if _is_dask_frame(portfolio) and _is_dask_frame(benchmark):
        portfolio, benchmark = _aligned(portfolio, benchmark)
    p, p_frame = _as_dask(portfolio, first)
    b, _ = _as_dask(benchmark, "benchmark")
    for name, x in ((first, p), ("benchmark", b)):
        if x.dtype.kind not in "fiu":
            raise TypeError(f"{name} must hold real numbers; got a dask array of dtype {x.dtype}")
        if x.ndim not in (1, 2):
            raise ValueError(f"{name} must be 1-D or 2-D; got {x.ndim}-D with shape {x.shape}")
        if any(math.isnan(s) for s in x.shape):
            raise ValueError(
                f"{name} has unknown chunk sizes (shape {x.shape}); call "
                "compute_chunk_sizes() on it first"
            )
        if x.size == 0:
            raise ValueError(f"{name} is empty (shape {x.shape})")
    if b.ndim == 2:
        if b.shape[1] != 1:
            raise ValueError(
                f"benchmark must be 1-D (one benchmark for every portfolio); got shape {b.shape}"
            )
        b = b[:, 0]
    if p.shape[0] != b.shape[0]:
        raise ValueError(f"{first} has length {p.shape[0]} but benchmark has length {b.shape[0]}")
    if p.dtype not in (np.float32, np.float64):
        p = p.astype(np.float64)
    if b.dtype not in (np.float32, np.float64):
        b = b.astype(np.float64)
    if p_frame is None:
        frame = _Frame("array")
    elif p.ndim == 1:
        frame = _Frame("series", index=p_frame.index, name=p_frame.name, rows=p.chunks[0])
    else:
        frame = _Frame("frame", index=p_frame.index, columns=p_frame.columns, rows=p.chunks[0])
    return p, b, frame


def _row_chunks(chunks: tuple[int, ...], least: int) -> tuple[int, ...]:
    """The chunks along time with every one but the last holding at least
    `least` rows (a block's history comes from the one before it): a short
    chunk joins the next, a short last one the one before."""
    out: list[int] = []
    run = 0
    for c in chunks:
        run += c
        if run >= least:
            out.append(run)
            run = 0
    if run:
        if out:
            out[-1] += run
        else:
            out.append(run)
    return tuple(out)


# --- NaN policies across blocks -------------------------------------------------------------


def _first_nan(p: Any, b: Any) -> tuple[Any, Any]:
    """Lazy 0-d arrays: the first row of the whole series holding a NaN (the
    length when none does) and how many rows do."""
    # per row, across the portfolios' chunks by a reduction (no block ever
    # holds more columns than the input's)
    p_bad = da.isnan(p).any(axis=1) if p.ndim == 2 else da.isnan(p)
    bad = p_bad | da.isnan(b.rechunk({0: p.chunks[0]}))
    rows = da.arange(bad.shape[0], chunks=bad.chunks)
    return da.where(bad, rows, bad.shape[0]).min(), bad.sum()


def _checks(p: Any, b: Any, policy: str) -> list[Any]:
    """The delayed (first NaN row, count) that nan_policy='raise' reads, or none."""
    return [c.to_delayed().item() for c in _first_nan(p, b)] if policy == "raise" else []


def _raise_if_nan(first: np.ndarray, count: np.ndarray) -> None:
    if int(count):
        raise ValueError(
            f"nan_policy='raise' but the input holds NaN: first at row {int(first)}, "
            f"{int(count)} row(s) in all"
        )


# --- rolling -------------------------------------------------------------------------------


def _count_window_times(times: Any, window: Any) -> None:
    """times= given with a window of rows: refused (as in memory)."""
    if times is not None:
        raise ValueError(
            "times is for a time-span window (window='30D', a timedelta); window "
            f"(={window!r}) is a count of rows"
        )


def _time_blocks(p: Any, b: Any, chunk_rows: int | None, depth: int) -> tuple[Any, Any]:
    """p and its benchmark as a T x 1 column (blocks then align on time only),
    chunked along time as asked, every chunk but the last at least `depth` rows."""
    p = _chunked(p, chunk_rows)
    time_chunks = _row_chunks(p.chunks[0], depth)
    return p.rechunk({0: time_chunks}), b.rechunk({0: time_chunks})[:, None]


def _with_halos(p: Any, b: Any, depth: int) -> tuple[Any, Any, Any, Any]:
    """The blocks of p and of its benchmark column b, and for each the `depth`
    rows before it (arrays of blocks of `depth` rows; every block but the
    last holds `depth` rows or more, so a halo is a view of the block before
    it, not a copy of the block). The first block's halo is a stand-in, its
    own first row (dask drops empty blocks), which it does not read. b is
    1-D again for a 1-D p. map_blocks pairs the blocks by position."""
    starts = np.cumsum(p.chunks[0])[:-1]

    def halos(x: Any) -> Any:
        return da.concatenate([x[:1], *(x[s - depth : s] for s in starts)], axis=0)

    if p.ndim == 1:
        b = b[:, 0]
    return p, b, halos(p), halos(b)


def _run_rolling(
    p: np.ndarray, b: np.ndarray, origin: int, out: np.ndarray, names: tuple[str, ...],
    window: int, options: dict[str, Any],
) -> None:  # fmt: skip
    """The pair kernel on rows p, b (cuts at `origin` and every segment rows
    on) into out (rows x [columns x] metrics)."""
    outs = [out[..., i] for i in range(len(names))]
    _core.rolling(
        list(names), p, b, window, options["min_periods"], options["ddof"], options["periods"],
        options["risk_free"], options["geometric_alpha"], outs, options["threads"],
        segment=options["segment"], origin=origin,
    )  # fmt: skip
    if options["policy"] == "propagate":
        _inputs.propagate(outs, _inputs.nan_mask(_inputs.Inputs(p, b, None)), window)


def _rolling_block(
    p_block: np.ndarray,
    b_block: np.ndarray,
    p_halo: np.ndarray,
    b_halo: np.ndarray,
    *checks: np.ndarray,
    names: tuple[str, ...],
    window: int,
    block_info: Any = None,
    **options: Any,
) -> np.ndarray:
    """One block, and the `depth` (= segment + window) rows before it (none for
    the first). The whole series is cut into segments of `segment` rows from
    row 0, and a segment's values depend only on its rows and the `window`
    rows before it. So the block runs in place, told that its cuts fall at
    the first of the whole series' cuts at least `window` rows into it (every
    row from there on gets the in-memory value, and nothing is copied); its
    rows before that cut run again from the start of the segment holding its
    first row, with the rows of the halo that segment needs (a copy of at
    most segment + 2 window rows). Returns the metrics on a last axis."""
    if checks:
        _raise_if_nan(*checks)
    first = block_info[0]["array-location"][0][0]  # the block's first row in the series
    segment = options["segment"]
    b1 = b_block.reshape(len(b_block))
    n = len(p_block)
    out = np.empty((*p_block.shape, len(names)), dtype=np.float64)
    if first == 0:
        _run_rolling(p_block, b1, 0, out, names, window, options)
        return out
    # the first cut at least `window` rows into the block, in the block's rows
    inside = -(-(first + window) // segment) * segment - first
    if inside < n:
        _run_rolling(p_block, b1, inside, out, names, window, options)
    head = min(inside, n)
    start = first - first % segment - window  # the first row the head's segment needs
    take = len(p_halo) - (first - start)
    p_head = np.concatenate([p_halo[take:], p_block[:head]])
    b_head = np.concatenate([b_halo.reshape(len(b_halo))[take:], b1[:head]])
    head_out = np.empty((*p_head.shape, len(names)), dtype=np.float64)
    _run_rolling(p_head, b_head, window, head_out, names, window, options)
    out[:head] = head_out[first - start :]
    return out


def _rolling(
    names: tuple[str, ...],
    portfolio: Any,
    benchmark: Any,
    window: Any,
    *,
    min_periods: int | None,
    ddof: float,
    periods_per_year: Any,
    nan_policy: str,
    risk_free: float = 0.0,
    geometric_alpha: bool = False,
    threads: int | None = 1,
    chunk_rows: int | None = None,
    times: Any = None,
) -> tuple[list[Any], _Frame]:
    span = _time_span(window)
    if span is not None:
        return _rolling_in_time(
            names, portfolio, benchmark, span, times, min_periods=min_periods, ddof=ddof,
            periods_per_year=periods_per_year, nan_policy=nan_policy, risk_free=risk_free,
            geometric_alpha=geometric_alpha, threads=threads, chunk_rows=chunk_rows,
        )  # fmt: skip
    _count_window_times(times, window)
    policy = _options.nan_policy(nan_policy)
    ddof = _options.ddof(ddof)
    periods = _options.periods(periods_per_year)
    w = _inputs.window(window, ddof)
    mp = _inputs.min_periods(min_periods, w)
    n_threads = _inputs.threads(threads)
    p, b, frame = _inputs_of(portfolio, benchmark)
    rows = int(p.shape[0])
    segment = _core.segment_length(rows, w)
    # a block needs the rows from `window` before the start of the segment
    # holding its first row: at most segment + window - 1 rows before it
    depth = segment + w
    p, b = _time_blocks(p, b, chunk_rows, depth)
    checks = list(_first_nan(p, b[:, 0])) if policy == "raise" else []
    kwargs = {
        "names": names,
        "window": w,
        "min_periods": mp,
        "ddof": ddof,
        "periods": periods,
        "risk_free": risk_free,
        "geometric_alpha": geometric_alpha,
        "segment": segment,
        "policy": policy,
        "threads": n_threads,
    }
    k = len(names)
    stacked = da.map_blocks(
        _rolling_block,
        *_with_halos(p, b, depth),
        *checks,
        dtype=np.float64,
        chunks=(*p.chunks, (k,)),
        new_axis=p.ndim,
        **kwargs,
    )
    return [stacked[..., i] for i in range(k)], frame


def _rolling_in_time(
    names: tuple[str, ...],
    portfolio: Any,
    benchmark: Any,
    span: int,
    times: Any,
    *,
    min_periods: int | None,
    ddof: float,
    periods_per_year: Any,
    nan_policy: str,
    risk_free: float,
    geometric_alpha: bool,
    threads: int | None,
    chunk_rows: int | None,
) -> tuple[list[Any], _Frame]:
    """_rolling over time windows of `span` nanoseconds (see _dask_time)."""
    from . import _dask_time

    policy = _options.nan_policy(nan_policy)
    ddof = _options.ddof(ddof)
    periods = _options.periods(periods_per_year)
    mp = _dask_time.min_periods(min_periods)
    n_threads = _inputs.threads(threads)
    p, b, frame = _inputs_of(portfolio, benchmark)
    p = _chunked(p, chunk_rows)
    b = b.rechunk({0: p.chunks[0]})
    checks = [c.to_delayed().item() for c in _first_nan(p, b)] if policy == "raise" else []
    stacked = _dask_time.rolling(
        _dask_time.pair_run, len(names), p, b, times, frame.index, frame.rows, span, checks,
        names=names, min_periods=mp, ddof=ddof, periods=periods, risk_free=risk_free,
        geometric_alpha=geometric_alpha, policy=policy, threads=n_threads,
    )  # fmt: skip
    return [stacked[..., i] for i in range(len(names))], frame


def _rolling_public(
    names: tuple[str, ...], portfolio: Any, benchmark: Any, window: Any, **options: Any
) -> list[Any]:
    values, frame = _rolling(names, portfolio, benchmark, window, **options)
    return [frame.rolling(v, name) for v, name in zip(values, names, strict=True)]


_ROLLING_DOC = """Rolling {what} on dask arrays or DataFrames: lazy, and equal bit for
    bit to :func:`trackerr.{name}` on the same data whatever the chunking.

    Parameters
    ----------
    portfolio, benchmark : dask array (T or T x N; T x 1 for the benchmark) or
        dask DataFrame / Series (sharing their divisions)
    window : int or span of time
        Rows per window, or a span of time ('30D', a timedelta): row t's
        window is then the rows with times in (t - span, t].
    min_periods, {options}nan_policy
        As in :func:`trackerr.{name}`.
    threads : int or None, default 1
        Threads of each block's kernel call (Dask runs blocks in parallel;
        None: one per core in every block).
    chunk_rows : int, optional
        Rows per block along time (default: the input's chunks).
    times : datetime64 values, optional
        The rows' times for a span window (a dask or numpy array, a pandas
        or dask index or Series); default: the dask DataFrame's DatetimeIndex.

    Returns
    -------
    A lazy dask array of the portfolio's shape, or a dask DataFrame / Series.
    """


def rolling_tracking_error(
    portfolio: Any,
    benchmark: Any,
    window: Any,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: Any = None,
    nan_policy: str = "omit",
    threads: int | None = 1,
    chunk_rows: int | None = None,
    times: Any = None,
) -> Any:
    (out,) = _rolling_public(
        ("tracking_error",),
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=ddof,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        threads=threads,
        chunk_rows=chunk_rows,
        times=times,
    )
    return out


def rolling_active_return(
    portfolio: Any,
    benchmark: Any,
    window: Any,
    /,
    *,
    min_periods: int | None = None,
    periods_per_year: Any = None,
    nan_policy: str = "omit",
    threads: int | None = 1,
    chunk_rows: int | None = None,
    times: Any = None,
) -> Any:
    (out,) = _rolling_public(
        ("active_return",),
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=0.0,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        threads=threads,
        chunk_rows=chunk_rows,
        times=times,
    )
    return out


def rolling_information_ratio(
    portfolio: Any,
    benchmark: Any,
    window: Any,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: Any = None,
    nan_policy: str = "omit",
    threads: int | None = 1,
    chunk_rows: int | None = None,
    times: Any = None,
) -> Any:
    (out,) = _rolling_public(
        ("information_ratio",),
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=ddof,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        threads=threads,
        chunk_rows=chunk_rows,
        times=times,
    )
    return out


def _pair_rolling(name: str) -> Any:
    def rolling_pair(
        portfolio: Any,
        benchmark: Any,
        window: Any,
        /,
        *,
        min_periods: int | None = None,
        nan_policy: str = "omit",
        threads: int | None = 1,
        chunk_rows: int | None = None,
        times: Any = None,
    ) -> Any:
        (out,) = _rolling_public(
            (name,),
            portfolio,
            benchmark,
            window,
            min_periods=min_periods,
            ddof=0.0,
            periods_per_year=None,
            nan_policy=nan_policy,
            threads=threads,
            chunk_rows=chunk_rows,
            times=times,
        )
        return out

    rolling_pair.__name__ = rolling_pair.__qualname__ = f"rolling_{name}"
    rolling_pair.__doc__ = _ROLLING_DOC.format(
        what=name.replace("_", " "), name=f"rolling_{name}", options=""
    )
    return rolling_pair


rolling_beta = _pair_rolling("beta")
rolling_correlation = _pair_rolling("correlation")
rolling_r_squared = _pair_rolling("r_squared")


def rolling_alpha(
    portfolio: Any,
    benchmark: Any,
    window: Any,
    /,
    *,
    min_periods: int | None = None,
    risk_free: float = 0.0,
    periods_per_year: Any = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
    threads: int | None = 1,
    chunk_rows: int | None = None,
    times: Any = None,
) -> Any:
    _options.choice("method", method, ("arithmetic", "geometric"))
    (out,) = _rolling_public(
        ("alpha",),
        portfolio,
        benchmark,
        window,
        min_periods=min_periods,
        ddof=0.0,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        risk_free=_options.real("risk_free", risk_free),
        geometric_alpha=method == "geometric",
        threads=threads,
        chunk_rows=chunk_rows,
        times=times,
    )
    return out


def rolling_stats(
    portfolio: Any,
    benchmark: Any,
    window: Any,
    /,
    *,
    min_periods: int | None = None,
    ddof: float = 1,
    periods_per_year: Any = None,
    risk_free: float = 0.0,
    nan_policy: str = "omit",
    threads: int | None = 1,
    chunk_rows: int | None = None,
    times: Any = None,
) -> RollingStats:
    """All seven rolling metrics from one pass over each block (as
    :func:`trackerr.rolling_stats`): a :class:`trackerr.RollingStats` of lazy
    dask arrays (or DataFrames), bit for bit the in-memory values."""
    return RollingStats(
        *_rolling_public(
            _FIELDS,
            portfolio,
            benchmark,
            window,
            min_periods=min_periods,
            ddof=ddof,
            periods_per_year=periods_per_year,
            risk_free=_options.real("risk_free", risk_free),
            nan_policy=nan_policy,
            threads=threads,
            chunk_rows=chunk_rows,
            times=times,
        )
    )


_f: Any
for _f, _what, _opts in (
    (rolling_tracking_error, "tracking error", "ddof, periods_per_year, "),
    (rolling_active_return, "active return", "periods_per_year, "),
    (rolling_information_ratio, "information ratio", "ddof, periods_per_year, "),
    (rolling_alpha, "alpha", "risk_free, periods_per_year, method, "),
):
    _f.__doc__ = _ROLLING_DOC.format(what=_what, name=_f.__name__, options=_opts)


# --- full-sample reductions ------------------------------------------------------------


# The stream states square deviations as they come: values (or active
# returns) beyond this range underflow or overflow in them, where the
# in-memory kernels rescale by a power of two. Such data is refused here.
_STATE_RANGE = (1e-150, 1e150)


def _tops(x: np.ndarray) -> np.ndarray:
    """The largest finite |value| of each column (0 where none is finite).
    Two reductions that skip NaN; the masked copies only for an inf."""
    if not len(x):
        return np.zeros(x.shape[1:])
    top = np.fmax(np.abs(np.fmax.reduce(x, axis=0)), np.abs(np.fmin.reduce(x, axis=0)))
    if np.isinf(top).any():
        top = np.where(np.isfinite(x), np.abs(x), 0.0).max(axis=0)
    return np.nan_to_num(np.asarray(top, dtype=np.float64), nan=0.0)


def _state_of(p_block: np.ndarray, b_block: np.ndarray, options: dict[str, Any]) -> Any:
    """(the Cumulative state of one block; per portfolio, the largest of the
    largest finite |p|, |b| and |p - b|; and the smallest of those that are
    not 0): what the read-out checks against the states' range."""
    from .stream import Cumulative

    n = None if p_block.ndim == 1 else p_block.shape[1]
    b1 = b_block.reshape(len(b_block))
    state = Cumulative(n_portfolios=n, **options)
    state.update(p_block, b1)
    a = p_block - (b1[:, None] if p_block.ndim == 2 else b1)
    tops = np.broadcast_arrays(_tops(p_block), _tops(b1), _tops(a))
    stacked = np.stack(tops)
    low = np.where(stacked > 0.0, stacked, np.inf).min(axis=0)
    return state, stacked.max(axis=0), low


def _merged(left: Any, right: Any) -> Any:
    out = left[0].copy()
    out.merge(right[0])
    return out, np.maximum(left[1], right[1]), np.minimum(left[2], right[2])


def _read(part: Any, *checks: Any, names: Sequence[str], rows: int, policy: str) -> np.ndarray:
    """The metrics of the merged state, one row each; NaN where 'propagate'
    met a NaN (fewer valid pairs than rows)."""
    if checks:
        _raise_if_nan(*checks)
    state, top, low = part
    out = (np.atleast_1d(top) > _STATE_RANGE[1]) | (np.atleast_1d(low) < _STATE_RANGE[0])
    if out.any():
        j = int(np.flatnonzero(out)[0])
        top, low = np.atleast_1d(top)[j], np.atleast_1d(low)[j]
        worst = top if top > _STATE_RANGE[1] else low
        raise ValueError(
            f"{names[0]}: the data reach {worst:.3g} in magnitude, beyond the "
            f"{_STATE_RANGE[0]:g} .. {_STATE_RANGE[1]:g} that merged states hold (their squares "
            "leave the double range); compute it with the in-memory trackerr function"
        )
    values = np.array([np.asarray(getattr(state, name), dtype=np.float64) for name in names])
    if policy == "propagate":
        values = np.where(np.asarray(state.count) < rows, np.nan, values)
    return values.reshape(len(names), -1)


def _tree_reduce(
    p: Any, b: Any, part: Any, merge: Any, read: Any, k: int, checks: Sequence[Any]
) -> list[Any]:
    """For each chunk of portfolios: part(p_block, b_block) of every time block,
    merged in order (left before right) by adjacent pairs up a tree (log2
    of the blocks merges on any path), and read(root, *checks) as k rows of
    values. Returns the k results: dask arrays of p's portfolios (0-d for a
    1-D p)."""
    b_blocks = b.rechunk({0: p.chunks[0]}).to_delayed()
    p_blocks = p.to_delayed() if p.ndim == 2 else p.to_delayed()[:, None]
    columns = []
    for j, width in enumerate(p.chunks[1] if p.ndim == 2 else (1,)):
        parts = [delayed(part)(p_blocks[i, j], b_blocks[i]) for i in range(len(b_blocks))]
        while len(parts) > 1:
            merged = [delayed(merge)(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
            parts = merged + ([parts[-1]] if len(parts) % 2 else [])
        values = delayed(read)(parts[0], *checks)
        columns.append(da.from_delayed(values, shape=(k, width), dtype=np.float64))
    table = da.concatenate(columns, axis=1)
    return [table[i] if p.ndim == 2 else table[i, 0] for i in range(k)]


def _reduce(
    names: tuple[str, ...],
    portfolio: Any,
    benchmark: Any,
    *,
    ddof: float = 1,
    periods_per_year: Any = None,
    risk_free: float = 0.0,
    nan_policy: str = "omit",
    raw: bool = False,
) -> Any:
    """The metrics `names` of merged Cumulative states; with `raw`, (the dask
    arrays, the frame to wrap them with) instead of wrapped results."""
    policy = _options.nan_policy(nan_policy)
    options = {
        "ddof": _options.ddof(ddof),
        "periods_per_year": periods_per_year,
        "risk_free": _options.real("risk_free", risk_free),
    }
    _options.periods(periods_per_year)  # checked now, not in a worker
    p, b, frame = _inputs_of(portfolio, benchmark)
    read = functools.partial(_read, names=names, rows=int(p.shape[0]), policy=policy)
    arrays = _tree_reduce(
        p, b, functools.partial(_state_of, options=options), _merged, read, len(names),
        _checks(p, b, policy),
    )  # fmt: skip
    return (arrays, frame) if raw else _frame_reduced(frame, arrays, names)


_FULL_DOC = """{what} of the whole series, as :func:`trackerr.{name}`, on dask arrays or
    DataFrames: a reduction (a stream.Cumulative state per block, merged
    pairwise), lazy. Returns a 0-d dask array for a series, a length-N one
    for a T x N panel, or a lazy dask Series indexed by the DataFrame's columns.
    """


def tracking_error(
    portfolio: Any,
    benchmark: Any,
    /,
    *,
    ddof: float = 1,
    periods_per_year: Any = None,
    nan_policy: str = "omit",
) -> Any:
    (out,) = _reduce(
        ("tracking_error",),
        portfolio,
        benchmark,
        ddof=ddof,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
    )
    return out


def active_return(
    portfolio: Any,
    benchmark: Any,
    /,
    *,
    periods_per_year: Any = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
) -> Any:
    _options.choice("method", method, ("arithmetic", "geometric"))
    if method == "geometric":  # (1 + R_p) / (1 + R_b) - 1 from the growth states
        policy = _options.nan_policy(nan_policy)
        periods = _options.periods(periods_per_year)
        value, frame = _growth_reduce(portfolio, benchmark, periods, policy, "ratio")
        return _frame_reduced(frame, [value], ("active_return",))[0]
    (out,) = _reduce(
        ("active_return",),
        portfolio,
        benchmark,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
    )
    return out


def information_ratio(
    portfolio: Any,
    benchmark: Any,
    /,
    *,
    ddof: float = 1,
    periods_per_year: Any = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
) -> Any:
    _options.choice("method", method, ("arithmetic", "geometric"))
    if method == "geometric":  # (CAGR_p - CAGR_b) / TE
        policy = _options.nan_policy(nan_policy)
        periods = _options.periods(periods_per_year)
        td_, frame = _growth_reduce(portfolio, benchmark, periods, policy, "difference")
        (te,), _ = _reduce(
            ("tracking_error",), portfolio, benchmark, ddof=ddof,
            periods_per_year=periods_per_year, nan_policy=nan_policy, raw=True,
        )  # fmt: skip
        value = da.where(te > 0, td_ / da.where(te > 0, te, 1.0), np.nan)
        return _frame_reduced(frame, [value], ("information_ratio",))[0]
    (out,) = _reduce(
        ("information_ratio",),
        portfolio,
        benchmark,
        ddof=ddof,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
    )
    return out


def beta(portfolio: Any, benchmark: Any, /, *, nan_policy: str = "omit") -> Any:
    (out,) = _reduce(("beta",), portfolio, benchmark, nan_policy=nan_policy)
    return out


def correlation(portfolio: Any, benchmark: Any, /, *, nan_policy: str = "omit") -> Any:
    (out,) = _reduce(("correlation",), portfolio, benchmark, nan_policy=nan_policy)
    return out


def r_squared(portfolio: Any, benchmark: Any, /, *, nan_policy: str = "omit") -> Any:
    (out,) = _reduce(("r_squared",), portfolio, benchmark, nan_policy=nan_policy)
    return out


def alpha(
    portfolio: Any,
    benchmark: Any,
    /,
    *,
    risk_free: float = 0.0,
    periods_per_year: Any = None,
    nan_policy: str = "omit",
    method: str = "arithmetic",
) -> Any:
    _options.choice("method", method, ("arithmetic", "geometric"))
    if method == "geometric":  # (1 + alpha_1)^P - 1 of the per-period alpha
        periods = _options.periods(periods_per_year)
        (per_period,), frame = _reduce(
            ("alpha",), portfolio, benchmark, risk_free=risk_free, nan_policy=nan_policy,
            raw=True,
        )  # fmt: skip
        value = per_period.map_blocks(_compound, 1.0 if periods != periods else periods)
        return _frame_reduced(frame, [value], ("alpha",))[0]
    (out,) = _reduce(
        ("alpha",),
        portfolio,
        benchmark,
        risk_free=risk_free,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
    )
    return out


def _compound(a: np.ndarray, per_year: float) -> np.ndarray:
    """metrics.hpp's compound, value by value: (1 + a)^P - 1, NaN when a
    negative 1 + a is raised to P != 1."""
    out = np.empty(np.shape(a))
    for i, x in enumerate(np.ravel(a).tolist()):
        g = 1.0 + x
        if g < 0.0 and per_year != 1.0:
            out.flat[i] = math.nan
        else:
            try:
                out.flat[i] = math.pow(g, per_year) - 1.0
            except (OverflowError, ValueError):  # as C's pow: inf past the range, NaN off domain
                out.flat[i] = float(np.power(np.float64(g), per_year)) - 1.0
    return out


for _f, _what in (
    (tracking_error, "Tracking error"),
    (active_return, "Active return"),
    (information_ratio, "Information ratio"),
    (beta, "Beta"),
    (correlation, "Correlation"),
    (r_squared, "R^2"),
    (alpha, "Jensen's alpha (arithmetic)"),
):
    _f.__doc__ = _FULL_DOC.format(what=_what, name=_f.__name__)


# --- rolling risk metrics ----------------------------------------------------------------
#
# The risk kernels slide two stacks over the rows (see risk.hpp): the window's
# suffix sums are rebuilt from its rows whenever the front stack runs out,
# which for a window of w rows happens at the rows 0, w, 2w, ... of the run.
# After such a rebuild a run depends only on the window's rows. So a run
# started at a multiple of w rebuilds where the whole series does, and from w
# rows on every value is the in-memory one, bit for bit: a block runs in
# place from its first row on a multiple of w, and its rows before that one's
# exact values run again from the multiple of w at least w before its start.


def _run_risk(
    p: np.ndarray, b: np.ndarray, out: np.ndarray, window: int, options: dict[str, Any]
) -> None:
    """The risk kernel on rows p (and b) into out, from a rebuild at row 0."""
    two = options["two"]
    _core.rolling_risk(
        options["metric"], p, b if two else None, window, options["min_periods"],
        options["target"], options["periods"], out, options["threads"],
    )  # fmt: skip
    if options["policy"] == "propagate":
        bad = _inputs.nan_mask(_inputs.Inputs(p, b, None), two)
        _inputs.propagate([out], bad, window)


def _risk_block(
    p_block: np.ndarray,
    b_block: np.ndarray,
    p_halo: np.ndarray,
    b_halo: np.ndarray,
    *checks: np.ndarray,
    window: int,
    block_info: Any = None,
    **options: Any,
) -> np.ndarray:
    """One block, and the 2 window rows before it (none for the first). The
    block runs in place from its first row on a multiple of the window (the
    whole series' rebuilds fall there), which gives the in-memory values a
    window later; the rows before those run again from the multiple of the
    window at least a window before the block's first row, with the rows of
    the halo that needs (a copy of at most 3 windows of rows)."""
    if checks:
        _raise_if_nan(*checks)
    first = block_info[0]["array-location"][0][0]
    b1 = b_block.reshape(len(b_block))
    n = len(p_block)
    out = np.empty(p_block.shape, dtype=np.float64)
    if first == 0:
        _run_risk(p_block, b1, out, window, options)
        return out
    on = -first % window  # the block's first row on a multiple of the window
    head = min(on + window, n)  # rows before the in-place run's exact ones
    if head < n:
        _run_risk(p_block[on:], b1[on:], out[on:], window, options)
    start = first - first % window - window  # a multiple, at least a window back
    take = len(p_halo) - (first - start)
    p_head = np.concatenate([p_halo[take:], p_block[:head]])
    b_head = np.concatenate([b_halo.reshape(len(b_halo))[take:], b1[:head]])
    head_out = np.empty(p_head.shape, dtype=np.float64)
    _run_risk(p_head, b_head, head_out, window, options)
    out[:head] = head_out[first - start :]
    return out


def _rolling_risk(
    metric: str,
    portfolio: Any,
    benchmark: Any,
    window: Any,
    *,
    two: bool,
    min_periods: int | None,
    nan_policy: str,
    threads: int | None,
    chunk_rows: int | None,
    target: float = 0.0,
    periods: float = math.nan,
    times: Any = None,
) -> Any:
    span = _time_span(window)
    if span is not None:
        return _rolling_risk_in_time(
            metric, portfolio, benchmark, span, times, two=two, min_periods=min_periods,
            nan_policy=nan_policy, threads=threads, chunk_rows=chunk_rows, target=target,
            periods=periods,
        )  # fmt: skip
    _count_window_times(times, window)
    policy = _options.nan_policy(nan_policy)
    w = _inputs.window(window)
    mp = _inputs.min_periods(min_periods, w)
    n_threads = _inputs.threads(threads)
    p, b, frame = _risk_inputs(portfolio, benchmark, two)
    depth = 2 * w
    p, b = _time_blocks(p, b, chunk_rows, depth)
    checks = list(_first_nan(p, b[:, 0])) if policy == "raise" else []
    values = da.map_blocks(
        _risk_block,
        *_with_halos(p, b, depth),
        *checks,
        dtype=np.float64,
        chunks=p.chunks,
        metric=metric,
        two=two,
        window=w,
        min_periods=mp,
        target=target,
        periods=periods,
        policy=policy,
        threads=n_threads,
    )
    return frame.rolling(values, metric)


def _rolling_risk_in_time(
    metric: str,
    portfolio: Any,
    benchmark: Any,
    span: int,
    times: Any,
    *,
    two: bool,
    min_periods: int | None,
    nan_policy: str,
    threads: int | None,
    chunk_rows: int | None,
    target: float,
    periods: float,
) -> Any:
    """_rolling_risk over time windows of `span` nanoseconds (see _dask_time)."""
    from . import _dask_time

    policy = _options.nan_policy(nan_policy)
    mp = _dask_time.min_periods(min_periods)
    n_threads = _inputs.threads(threads)
    p, b, frame = _risk_inputs(portfolio, benchmark, two)
    p = _chunked(p, chunk_rows)
    b = b.rechunk({0: p.chunks[0]})
    checks = [c.to_delayed().item() for c in _first_nan(p, b)] if policy == "raise" else []
    stacked = _dask_time.rolling(
        _dask_time.risk_run, 1, p, b, times, frame.index, frame.rows, span, checks,
        metric=metric, two=two, min_periods=mp, target=target, periods=periods, policy=policy,
        threads=n_threads,
    )  # fmt: skip
    return frame.rolling(stacked[..., 0], metric)


def _risk_inputs(portfolio: Any, benchmark: Any, two: bool) -> tuple[Any, Any, _Frame]:
    """(P, B, frame) of a risk metric: B the benchmark of a capture ratio, or
    zeros (a stand-in the one-series kernels do not read)."""
    if two:
        return _inputs_of(portfolio, benchmark)
    p, _, frame = _inputs_of(portfolio, _zeros_like_rows(portfolio), "returns")
    return p, da.zeros(p.shape[0], chunks=p.chunks[0], dtype=np.float64), frame


def _zeros_like_rows(returns: Any) -> Any:
    """A stand-in benchmark for one-series metrics, checked like the returns."""
    p, _ = _as_dask(returns, "returns")
    return da.zeros(p.shape[0] if p.ndim else 1, chunks=p.chunks[0] if p.ndim else 1)


def _chunked(p: Any, chunk_rows: int | None) -> Any:
    if chunk_rows is None:
        return p
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, numbers.Integral):
        raise TypeError(f"chunk_rows must be an integer, not {type(chunk_rows).__name__}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows (={chunk_rows!r}) must be a positive number of rows")
    return p.rechunk({0: int(chunk_rows)})


def rolling_max_drawdown(
    returns: Any,
    window: Any,
    /,
    *,
    min_periods: int | None = None,
    nan_policy: str = "omit",
    threads: int | None = 1,
    chunk_rows: int | None = None,
    times: Any = None,
) -> Any:
    """Rolling maximum drawdown (:func:`trackerr.rolling_max_drawdown`) on dask
    arrays or DataFrames: lazy, bit for bit the in-memory values."""
    return _rolling_risk(
        "max_drawdown", returns, None, window, two=False, min_periods=min_periods,
        nan_policy=nan_policy, threads=threads, chunk_rows=chunk_rows, times=times,
    )  # fmt: skip


def rolling_sortino_ratio(
    returns: Any,
    window: Any,
    /,
    *,
    min_periods: int | None = None,
    target: float = 0.0,
    periods_per_year: Any = None,
    nan_policy: str = "omit",
    threads: int | None = 1,
    chunk_rows: int | None = None,
    times: Any = None,
) -> Any:
    """Rolling Sortino ratio (:func:`trackerr.rolling_sortino_ratio`) on dask
    arrays or DataFrames: lazy, bit for bit the in-memory values."""
    return _rolling_risk(
        "sortino_ratio", returns, None, window, two=False, min_periods=min_periods,
        nan_policy=nan_policy, threads=threads, chunk_rows=chunk_rows, times=times,
        target=_options.real("target", target), periods=_options.periods(periods_per_year),
    )  # fmt: skip


def rolling_omega_ratio(
    returns: Any,
    window: Any,
    /,
    *,
    min_periods: int | None = None,
    threshold: float = 0.0,
    nan_policy: str = "omit",
    threads: int | None = 1,
    chunk_rows: int | None = None,
    times: Any = None,
) -> Any:
    """Rolling Omega ratio (:func:`trackerr.rolling_omega_ratio`) on dask
    arrays or DataFrames: lazy, bit for bit the in-memory values."""
    return _rolling_risk(
        "omega_ratio", returns, None, window, two=False, min_periods=min_periods,
        nan_policy=nan_policy, threads=threads, chunk_rows=chunk_rows, times=times,
        target=_options.real("threshold", threshold),
    )  # fmt: skip


def _capture(name: str) -> Any:
    def rolling_capture(
        portfolio: Any,
        benchmark: Any,
        window: Any,
        /,
        *,
        method: str = "geometric",
        periods_per_year: Any = None,
        min_periods: int | None = None,
        nan_policy: str = "omit",
        threads: int | None = 1,
        chunk_rows: int | None = None,
        times: Any = None,
    ) -> Any:
        from ._risk import _capture_periods

        return _rolling_risk(
            name, portfolio, benchmark, window, two=True, min_periods=min_periods,
            nan_policy=nan_policy, threads=threads, chunk_rows=chunk_rows, times=times,
            periods=_capture_periods(method, periods_per_year),
        )  # fmt: skip

    rolling_capture.__name__ = rolling_capture.__qualname__ = f"rolling_{name}"
    rolling_capture.__doc__ = (
        f"Rolling {name.replace('_', ' ')} (:func:`trackerr.rolling_{name}`) on dask arrays "
        "or DataFrames: lazy, bit for bit the in-memory values."
    )
    return rolling_capture


rolling_up_capture = _capture("up_capture")
rolling_down_capture = _capture("down_capture")


def rolling_sharpe_ratio(
    returns: Any,
    window: Any,
    /,
    *,
    min_periods: int | None = None,
    risk_free: float = 0.0,
    periods_per_year: Any = None,
    ddof: float = 1,
    nan_policy: str = "omit",
    threads: int | None = 1,
    chunk_rows: int | None = None,
    times: Any = None,
) -> Any:
    """Rolling Sharpe ratio (:func:`trackerr.rolling_sharpe_ratio`: the rolling
    information ratio against a constant benchmark) on dask arrays or
    DataFrames: lazy, bit for bit the in-memory values."""
    p, _, _ = _inputs_of(returns, _zeros_like_rows(returns), "returns")  # checked as returns
    rf = da.full(p.shape[0], _options.real("risk_free", risk_free), chunks=p.chunks[0])
    (out,) = _rolling_public(
        ("information_ratio",),
        returns,
        rf,
        window,
        min_periods=min_periods,
        ddof=ddof,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
        threads=threads,
        chunk_rows=chunk_rows,
        times=times,
    )
    return out


# --- full-sample risk metrics -------------------------------------------------------------
#
# Each is a function of a summary of its rows that merges (risk.hpp's
# mergeable summaries: sums kept as exact pairs, drawdown as log growth, peak,
# trough and drawdown): a summary per block, merged in order up a tree.


def _risk_summary(p_block: np.ndarray, b_block: np.ndarray, metric: str, two: bool,
                  target: float, periods: float) -> np.ndarray:  # fmt: skip
    return _core.risk_summaries(
        metric, p_block, b_block.reshape(len(b_block)) if two else None, target, periods
    )


def _risk_merged(metric: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    return _core.risk_merge(metric, left, right)


def _risk_read(summary: np.ndarray, *checks: Any, metric: str, target: float, periods: float,
               rows: int, policy: str) -> np.ndarray:  # fmt: skip
    if checks:
        _raise_if_nan(*checks)
    values, skipped = _core.risk_values(metric, summary, target, periods, rows)
    if policy == "propagate":
        values = np.where(skipped > 0, np.nan, values)
    return values.reshape(1, -1)


def _reduce_risk(
    metric: str,
    portfolio: Any,
    benchmark: Any,
    *,
    two: bool,
    nan_policy: str,
    target: float = 0.0,
    periods: float = math.nan,
) -> Any:
    policy = _options.nan_policy(nan_policy)
    p, b, frame = _risk_inputs(portfolio, benchmark, two)
    part = functools.partial(_risk_summary, metric=metric, two=two, target=target, periods=periods)
    read = functools.partial(
        _risk_read, metric=metric, target=target, periods=periods, rows=int(p.shape[0]),
        policy=policy,
    )  # fmt: skip
    merge = functools.partial(_risk_merged, metric)
    (values,) = _tree_reduce(p, b, part, merge, read, 1, _checks(p, b, policy))
    return _frame_reduced(frame, [values], (metric,))[0]


def _frame_reduced(frame: _Frame, out: list[Any], names: Sequence[str]) -> list[Any]:
    """Reductions as dask arrays, or lazy pandas Series on a DataFrame's columns."""
    if frame.kind != "frame":
        return out
    import dask.dataframe as dd
    import pandas as pd

    labels = list(frame.columns)
    return [
        dd.from_delayed(
            [delayed(pd.Series)(v.to_delayed().item(), index=labels, name=name)],
            meta=pd.Series(dtype=np.float64, name=name),
        )
        for v, name in zip(out, names, strict=True)
    ]


def max_drawdown(returns: Any, /, *, nan_policy: str = "omit") -> Any:
    return _reduce_risk("max_drawdown", returns, None, two=False, nan_policy=nan_policy)


def sortino_ratio(
    returns: Any, /, *, target: float = 0.0, periods_per_year: Any = None, nan_policy: str = "omit"
) -> Any:
    return _reduce_risk(
        "sortino_ratio", returns, None, two=False, nan_policy=nan_policy,
        target=_options.real("target", target), periods=_options.periods(periods_per_year),
    )  # fmt: skip


def omega_ratio(returns: Any, /, *, threshold: float = 0.0, nan_policy: str = "omit") -> Any:
    return _reduce_risk(
        "omega_ratio", returns, None, two=False, nan_policy=nan_policy,
        target=_options.real("threshold", threshold),
    )  # fmt: skip


def _full_capture(name: str) -> Any:
    def capture(
        portfolio: Any,
        benchmark: Any,
        /,
        *,
        method: str = "geometric",
        periods_per_year: Any = None,
        nan_policy: str = "omit",
    ) -> Any:
        from ._risk import _capture_periods

        return _reduce_risk(
            name, portfolio, benchmark, two=True, nan_policy=nan_policy,
            periods=_capture_periods(method, periods_per_year),
        )  # fmt: skip

    capture.__name__ = capture.__qualname__ = name
    capture.__doc__ = (
        f"{name.replace('_', ' ').capitalize()} (:func:`trackerr.{name}`) on dask arrays or "
        "DataFrames: merged risk summaries, lazy."
    )
    return capture


up_capture = _full_capture("up_capture")
down_capture = _full_capture("down_capture")


def sharpe_ratio(
    returns: Any,
    /,
    *,
    risk_free: float = 0.0,
    periods_per_year: Any = None,
    ddof: float = 1,
    nan_policy: str = "omit",
) -> Any:
    p, _, _ = _inputs_of(returns, _zeros_like_rows(returns), "returns")  # checked as returns
    rf = da.full(p.shape[0], _options.real("risk_free", risk_free), chunks=p.chunks[0])
    (out,) = _reduce(
        ("information_ratio",),
        returns,
        rf,
        ddof=ddof,
        periods_per_year=periods_per_year,
        nan_policy=nan_policy,
    )
    return out


for _f, _what in (
    (max_drawdown, "Maximum drawdown"),
    (sortino_ratio, "Sortino ratio"),
    (omega_ratio, "Omega ratio"),
    (up_capture, "Up capture"),
    (down_capture, "Down capture"),
    (sharpe_ratio, "Sharpe ratio"),
):
    _f.__doc__ = _FULL_DOC.format(what=_what, name=_f.__name__).replace(
        "a stream.Cumulative state per block", "a mergeable summary per block"
    )


# --- tracking difference -------------------------------------------------------------------
#
# The compounded growth of each side as a mantissa in [0.5, 1) and a binary
# exponent (comoments.hpp's Growth): a block's state from the full-sample
# kernel, states merged as Growth::operator+= merges them (the mantissas
# multiplied, renormalised with frexp, the exponents added), read out with
# its formulas. The products round in another order than in memory, so the
# growth factors agree to a few units in the last place, and their difference
# (the tracking difference) to that much of the growth.

_LN2 = 0.69314718055994530942


def _growth_block(p_block: np.ndarray, b_block: np.ndarray) -> np.ndarray:
    return _core.growth_states(p_block, b_block.reshape(len(b_block)))


def _growth_merged(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out: np.ndarray = a + b  # n, exponents, bad and skipped add
    for m, e in ((1, 3), (2, 4)):
        mant, shift = np.frexp(a[:, m] * b[:, m])
        out[:, m] = mant
        out[:, e] = a[:, e] + b[:, e] + shift
    return out


def _growth_of(m: float, e: float) -> float:
    if m == 0.0 or m != m:
        return m
    if e > 4096:
        return math.inf if m > 0 else -math.inf
    if e < -4096:
        return 0.0 * m
    try:
        return math.ldexp(m, int(e))
    except OverflowError:  # past the double range: inf, as std::ldexp gives
        return math.inf if m > 0 else -math.inf


def _cagr(m: float, e: float, n: float, periods: float) -> float:
    if not n > 0.0 or m != m or m < 0.0:
        return math.nan
    if m == 0.0:
        return -1.0
    return math.expm1((math.log(m) + e * _LN2) * (periods / n))


def _td_read(state: np.ndarray, *checks: Any, periods: float, policy: str, mode: str) -> np.ndarray:
    """metrics.hpp's tracking_difference ('difference') or active_return_geometric
    ('ratio') of merged growth states, one value per portfolio."""
    if checks:
        _raise_if_nan(*checks)
    out = np.empty(len(state))
    for j, (n, mp, mb, ep, eb, bad, skipped) in enumerate(state.tolist()):
        if not n > 0.0 or bad != 0.0 or (policy == "propagate" and skipped > 0):
            out[j] = math.nan
            continue
        if periods == periods:  # annualized: from the CAGRs
            gp, gb = _cagr(mp, ep, n, periods), _cagr(mb, eb, n, periods)
            out[j] = gp - gb if mode == "difference" else _ratio(1.0 + gp, 1.0 + gb) - 1.0
        else:
            gp, gb = _growth_of(mp, ep), _growth_of(mb, eb)
            out[j] = gp - gb if mode == "difference" else _ratio(gp, gb) - 1.0
    return out.reshape(1, -1)


def _ratio(x: float, y: float) -> float:
    """x / y with IEEE rules, as C++ divides (Python's / raises on 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(x) / np.float64(y))


def _growth_reduce(
    portfolio: Any, benchmark: Any, periods: float, policy: str, mode: str
) -> tuple[Any, _Frame]:
    """The growth states of the blocks merged up a tree and read as the
    tracking difference (mode 'difference') or the geometric active return
    ('ratio'): a dask array and the frame to wrap it with."""
    p, b, frame = _inputs_of(portfolio, benchmark)
    read = functools.partial(_td_read, periods=periods, policy=policy, mode=mode)
    (values,) = _tree_reduce(p, b, _growth_block, _growth_merged, read, 1, _checks(p, b, policy))
    return values, frame


def tracking_difference(
    portfolio: Any,
    benchmark: Any,
    /,
    *,
    periods_per_year: Any = None,
    nan_policy: str = "omit",
    method: str = "geometric",
) -> Any:
    """Tracking difference (:func:`trackerr.tracking_difference`) on dask
    arrays or DataFrames, lazy. ``method='geometric'``: prod(1 + p) -
    prod(1 + b), or CAGR_p - CAGR_b with ``periods_per_year``, from the blocks'
    growth states merged up a tree (agrees with the in-memory value to about
    sqrt(n) units in the last place of the growth factors).
    ``method='arithmetic'``: the sum of the active returns, or their mean
    times ``periods_per_year``, from merged Cumulative states."""
    _options.choice("method", method, ("geometric", "arithmetic"))
    policy = _options.nan_policy(nan_policy)
    periods = _options.periods(periods_per_year)
    if method == "arithmetic":
        (mean, count), frame = _reduce(
            ("active_return", "count"), portfolio, benchmark, nan_policy=nan_policy, raw=True
        )
        # the mean active return times P, or times the count of pairs (the sum)
        value = mean * periods if periods == periods else mean * count
        value = da.where(count > 0, value, np.nan)
    else:
        value, frame = _growth_reduce(portfolio, benchmark, periods, policy, "difference")
    return _frame_reduced(frame, [value], ("tracking_difference",))[0]
