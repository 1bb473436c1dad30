"""Typed surface of trackerr's private compiled module."""

from typing import Any

import numpy as np
import numpy.typing as npt

def evaluate(
    metric: str,
    portfolio: npt.NDArray[np.floating[Any]],
    benchmark: npt.NDArray[np.floating[Any]],
    ddof: float,
    periods: float,
    risk_free: float,
) -> tuple[Any, Any]: ...

class Moments:
    n: float
    mean: float
    m2: float
    def __init__(self) -> None: ...
    def add(self, x: float) -> None: ...
    def variance(self, ddof: float = 1.0) -> float: ...
    def __iadd__(self, other: Moments) -> Moments: ...
    def __add__(self, other: Moments) -> Moments: ...

class CoMoments:
    n: float
    mean_p: float
    mean_b: float
    c_pp: float
    c_bb: float
    c_pb: float
    def __init__(self) -> None: ...
    def add(self, p: float, b: float) -> None: ...
    def beta(self) -> float: ...
    def correlation(self) -> float: ...
    def __iadd__(self, other: CoMoments) -> CoMoments: ...
    def __add__(self, other: CoMoments) -> CoMoments: ...

def active_moments(
    portfolio: npt.NDArray[np.float64], benchmark: npt.NDArray[np.float64]
) -> tuple[Moments, int]: ...
def comoments(
    portfolio: npt.NDArray[np.float64], benchmark: npt.NDArray[np.float64]
) -> tuple[CoMoments, int]: ...
def rolling(
    metrics: list[str],
    portfolio: npt.NDArray[np.floating[Any]],
    benchmark: npt.NDArray[np.floating[Any]],
    window: int,
    min_periods: int,
    ddof: float,
    periods: float,
    risk_free: float,
    geometric_alpha: bool,
    outputs: list[npt.NDArray[np.float64]],
    threads: int,
    segment: int = 0,
    origin: int = 0,
) -> None: ...
def segment_length(rows: int, window: int) -> int: ...
def rolling_time(
    metrics: list[str],
    portfolio: npt.NDArray[np.float64],
    benchmark: npt.NDArray[np.float64],
    times: npt.NDArray[np.int64],
    span: int,
    min_periods: int,
    ddof: float,
    periods: float,
    risk_free: float,
    geometric_alpha: bool,
    outputs: list[npt.NDArray[np.float64]],
    threads: int,
    segment: int = 0,
    origin: int = 0,
) -> None: ...
def time_segment_length(first: int, last: int, rows: int, span: int) -> int: ...
def risk(
    metric: str,
    returns: npt.NDArray[np.floating[Any]],
    benchmark: npt.NDArray[np.floating[Any]] | None,
    target: float,
    periods: float,
) -> tuple[Any, Any]: ...
def rolling_risk(
    metric: str,
    returns: npt.NDArray[np.floating[Any]],
    benchmark: npt.NDArray[np.floating[Any]] | None,
    window: int,
    min_periods: int,
    target: float,
    periods: float,
    out: npt.NDArray[np.float64],
    threads: int,
) -> None: ...
def rolling_risk_time(
    metric: str,
    returns: npt.NDArray[np.floating[Any]],
    benchmark: npt.NDArray[np.floating[Any]] | None,
    times: npt.NDArray[np.int64],
    span: int,
    min_periods: int,
    target: float,
    periods: float,
    out: npt.NDArray[np.float64],
    threads: int,
    segment: int = 0,
    origin: int = 0,
) -> None: ...

class _StreamState:
    tracking_error: Any
    active_return: Any
    information_ratio: Any
    beta: Any
    alpha: Any  # Jensen's alpha read-out (every state)
    correlation: Any
    r_squared: Any
    count: Any
    n_portfolios: int | None
    def update(self, p: Any, b: Any, t: Any = ...) -> None: ...
    # the pybind11 overloads behind update (two floats take a faster path)
    def _update(self, p: Any, b: Any, t: Any = ...) -> None: ...
    def tracking_error_path(self, p: Any, b: Any) -> npt.NDArray[np.float64]: ...
    def reset(self) -> None: ...
    def copy(self) -> Any: ...
    def to_bytes(self) -> bytes: ...
    def __setstate__(self, state: tuple[bytes]) -> None: ...

class Cumulative(_StreamState):
    def __init__(
        self,
        n: int,
        scalar: bool,
        ddof: float,
        periods: float,
        min_periods: int,
        risk_free: float,
    ) -> None: ...
    def merge(self, other: Cumulative) -> Cumulative: ...

class Window(_StreamState):
    window: int
    def __init__(
        self,
        window: int,
        n: int,
        scalar: bool,
        ddof: float,
        periods: float,
        min_periods: int,
        risk_free: float,
    ) -> None: ...

class TimeWindow(_StreamState):
    span: int  # nanoseconds
    held: int
    ticks: int
    last_time: int | None
    _zone: str | None  # 'naive' or 'aware' once a tick came; None before
    def __init__(
        self,
        span: int,
        n: int,
        scalar: bool,
        ddof: float,
        periods: float,
        min_periods: int,
        risk_free: float,
    ) -> None: ...
    def tracking_error_path(self, p: Any, b: Any, t: Any = ...) -> npt.NDArray[np.float64]: ...

class Exponential(_StreamState):
    smoothing: float  # the smoothing factor (NaN when time-based)
    halflife_time: float  # the half-life in time units (NaN unless time-based)
    adjust: bool
    time_based: bool
    def __init__(
        self,
        alpha: float,
        halflife_time: float,
        adjust: bool,
        n: int,
        scalar: bool,
        ddof: float,
        periods: float,
        min_periods: int,
        risk_free: float,
    ) -> None: ...
    def merge(self, other: Exponential) -> Exponential: ...

class _Probe:
    def __init__(self) -> None: ...
    def noop(self, p: float, b: float) -> None: ...

def simd() -> str: ...
def set_simd(name: str) -> str: ...
def simd_available() -> list[str]: ...
def parse_decimals(
    cells: list[Any],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def risk_summaries(
    metric: str,
    returns: npt.NDArray[np.floating[Any]],
    benchmark: npt.NDArray[np.floating[Any]] | None,
    target: float,
    periods: float,
) -> npt.NDArray[np.uint8]: ...
def risk_merge(
    metric: str, left: npt.NDArray[np.uint8], right: npt.NDArray[np.uint8]
) -> npt.NDArray[np.uint8]: ...
def risk_values(
    metric: str, summaries: npt.NDArray[np.uint8], target: float, periods: float, rows: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]: ...
def growth_states(
    portfolio: npt.NDArray[np.floating[Any]], benchmark: npt.NDArray[np.floating[Any]]
) -> npt.NDArray[np.float64]: ...
