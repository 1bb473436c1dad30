"""trackerr: tracking error and benchmark-relative metrics.

Fast, exact C++ kernels behind a numpy/pandas API. Every function takes
``(portfolio, benchmark, /, *, ...)`` periodic returns; see each docstring for
its formula and ``trackerr.reference`` for plain numpy versions.
"""

from . import datasets, optimize, reference, stream
from ._fullsample import (
    active_return,
    alpha,
    beta,
    correlation,
    information_ratio,
    r_squared,
    tracking_difference,
    tracking_error,
)
from ._monitor import Event, Monitor
from ._options import PERIODS_PER_YEAR
from ._prices import PeriodsInference, infer_periods_per_year, returns_from_prices
from ._risk import (
    down_capture,
    max_drawdown,
    omega_ratio,
    rolling_down_capture,
    rolling_max_drawdown,
    rolling_omega_ratio,
    rolling_sharpe_ratio,
    rolling_sortino_ratio,
    rolling_up_capture,
    sharpe_ratio,
    sortino_ratio,
    up_capture,
)
from ._rolling import (
    RollingStats,
    rolling_active_return,
    rolling_alpha,
    rolling_beta,
    rolling_correlation,
    rolling_information_ratio,
    rolling_r_squared,
    rolling_stats,
    rolling_tracking_error,
)
from ._simd import set_simd, simd, simd_available
from ._timing import (
    HorizonProfile,
    LeadLag,
    TimingDecomposition,
    lead_lag,
    timing_decomposition,
    tracking_error_by_horizon,
)

__version__ = "0.1.0"


def get_include() -> str:
    """Directory of trackerr's C++ headers (``#include <trackerr/trackerr.hpp>``)."""
    from pathlib import Path

    here = Path(__file__).resolve().parent
    for candidate in (here / "include", here.parent.parent / "cpp" / "include"):
        if (candidate / "trackerr" / "trackerr.hpp").is_file():
            return str(candidate)
    raise FileNotFoundError("trackerr's C++ headers are not installed with this copy of trackerr")


def get_cmake_dir() -> str:
    """Directory holding trackerrConfig.cmake, for ``find_package(trackerr)``
    (pass it as ``trackerr_DIR`` or add it to ``CMAKE_PREFIX_PATH``)."""
    from pathlib import Path

    path = Path(__file__).resolve().parent / "share" / "cmake" / "trackerr"
    if not (path / "trackerrConfig.cmake").is_file():
        raise FileNotFoundError(
            "trackerr's CMake package files are not installed with this copy of trackerr"
        )
    return str(path)


__all__ = [
    "PERIODS_PER_YEAR",
    "Event",
    "HorizonProfile",
    "LeadLag",
    "Monitor",
    "PeriodsInference",
    "RollingStats",
    "TimingDecomposition",
    "__version__",
    "active_return",
    "alpha",
    "beta",
    "correlation",
    "datasets",
    "down_capture",
    "get_cmake_dir",
    "get_include",
    "infer_periods_per_year",
    "information_ratio",
    "lead_lag",
    "max_drawdown",
    "omega_ratio",
    "optimize",
    "r_squared",
    "reference",
    "returns_from_prices",
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
    "set_simd",
    "sharpe_ratio",
    "simd",
    "simd_available",
    "sortino_ratio",
    "stream",
    "timing_decomposition",
    "tracking_difference",
    "tracking_error",
    "tracking_error_by_horizon",
    "up_capture",
]
