"""trackerr: tracking error and benchmark-relative metrics.

Fast, exact C++ kernels behind a numpy/pandas API. Every function takes
``(portfolio, benchmark, /, *, ...)`` periodic returns; see each docstring for
its formula and ``trackerr.reference`` for plain numpy versions.
"""

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

__version__ = "0.1.0"

__all__ = [
    "PERIODS_PER_YEAR",
    "__version__",
    "active_return",
    "alpha",
    "beta",
    "correlation",
    "information_ratio",
    "r_squared",
    "tracking_difference",
    "tracking_error",
]
