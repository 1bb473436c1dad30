"""Validation of keyword options shared by every metric (private)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection

import numpy as np

PERIODS_PER_YEAR: dict[str, int] = {
    "daily": 252,
    "weekly": 52,
    "monthly": 12,
    "quarterly": 4,
    "semi-annual": 2,
    "annual": 1,
    "crypto-daily": 365,
    "crypto-hourly": 8760,
    "crypto-30-minute": 17520,
    "crypto-15-minute": 35040,
    "crypto-5-minute": 105120,
    "crypto-1-minute": 525600,
}
"""Named presets accepted wherever ``periods_per_year`` is."""

NAN_POLICIES = ("omit", "propagate", "raise")


def periods(periods_per_year: float | str | None) -> float:
    """Return periods per year as a float, NaN for ``None`` (per-period figures)."""
    if periods_per_year is None:
        return math.nan
    if isinstance(periods_per_year, str):
        try:
            return float(PERIODS_PER_YEAR[periods_per_year])
        except KeyError:
            names = ", ".join(repr(k) for k in PERIODS_PER_YEAR)
            raise ValueError(
                f"periods_per_year (={periods_per_year!r}) is not a known preset; "
                f"use a positive number or one of {names}"
            ) from None
    if isinstance(periods_per_year, bool) or not isinstance(periods_per_year, numbers.Real):
        raise TypeError(
            f"periods_per_year must be a number, a preset name or None, "
            f"not {type(periods_per_year).__name__} (={periods_per_year!r})"
        )
    value = float(periods_per_year)
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"periods_per_year (={periods_per_year!r}) must be positive and finite")
    return value


def ddof(value: float) -> float:
    """Check a delta-degrees-of-freedom argument (a non-negative number)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"ddof must be a number, not {type(value).__name__} (={value!r})")
    out = float(value)
    if not (out >= 0.0 and math.isfinite(out)):
        raise ValueError(f"ddof (={value!r}) must be a finite number >= 0")
    return out


def nan_policy(value: str) -> str:
    """Check a scipy-style ``nan_policy``."""
    if not isinstance(value, str) or value not in NAN_POLICIES:
        raise ValueError(f"nan_policy (={value!r}) must be one of 'omit', 'propagate', 'raise'")
    return value


def choice(name: str, value: str, allowed: Collection[str]) -> str:
    """Check a string option against its allowed values."""
    if not isinstance(value, str) or value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} (={value!r}) must be one of {options}")
    return value


def real(name: str, value: float) -> float:
    """Check a finite real scalar option such as ``risk_free``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, not {type(value).__name__} (={value!r})")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} (={value!r}) must be finite")
    return out


def flag(name: str, value: object) -> bool:
    """A boolean option (Python or numpy bool)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, not {type(value).__name__} (={value!r})")
    return bool(value)
