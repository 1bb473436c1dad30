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
