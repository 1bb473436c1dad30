"""trackerr: tracking error and benchmark-relative metrics.

Fast, exact C++ kernels behind a numpy/pandas API. Every function takes
``(portfolio, benchmark, /, *, ...)`` periodic returns; see each docstring for
its formula and ``trackerr.reference`` for plain numpy versions.
"""

from . import datasets, reference, stream
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
from ._options import PERIODS_PER_YEAR
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

__version__ = "0.1.0"

__all__ = [
    "PERIODS_PER_YEAR",
    "RollingStats",
    "__version__",
    "active_return",
    "alpha",
    "beta",
    "correlation",
    "datasets",
    "information_ratio",
    "r_squared",
    "reference",
    "rolling_active_return",
    "rolling_alpha",
    "rolling_beta",
    "rolling_correlation",
    "rolling_information_ratio",
    "rolling_r_squared",
    "rolling_stats",
    "rolling_tracking_error",
    "stream",
    "tracking_difference",
    "tracking_error",
]
