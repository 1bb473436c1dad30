"""One table of the public metrics and the options each accepts.

The tests read it to sweep every metric against ``trackerr.reference`` with
every option set that applies.
"""

from __future__ import annotations

from typing import Any

# name -> list of keyword-option sets to try
METRICS: dict[str, list[dict[str, Any]]] = {
    "tracking_error": [
        {},
        {"ddof": 0},
        {"ddof": 2, "periods_per_year": 252},
        {"periods_per_year": "crypto-daily"},
    ],
    "tracking_difference": [
        {},
        {"periods_per_year": 252},
        {"method": "arithmetic"},
        {"method": "arithmetic", "periods_per_year": "monthly"},
    ],
    "active_return": [
        {},
        {"periods_per_year": 52},
        {"method": "geometric"},
        {"method": "geometric", "periods_per_year": 365},
    ],
    "information_ratio": [
        {},
        {"ddof": 0, "periods_per_year": 252},
        {"method": "geometric", "periods_per_year": 252},
    ],
    "beta": [{}],
    "alpha": [
        {},
        {"risk_free": 0.0001, "periods_per_year": 252},
        {"method": "geometric", "periods_per_year": 252},
    ],
    "correlation": [{}],
    "r_squared": [{}],
}

# Metrics whose value is a difference of compounded growth factors: their
# rounding is relative to the growth factors (about 1), not to the difference.
GROWTH_BASED = {"tracking_difference", "active_return"}

# Rolling metrics: name -> option sets (window and min_periods are swept separately)
ROLLING: dict[str, list[dict[str, Any]]] = {
    "rolling_tracking_error": [{}, {"ddof": 0, "periods_per_year": 252}],
    "rolling_active_return": [{"periods_per_year": "crypto-daily"}],
    "rolling_information_ratio": [{"periods_per_year": 252}],
    "rolling_beta": [{}],
    "rolling_alpha": [{"risk_free": 1e-4, "periods_per_year": 252}, {"method": "geometric"}],
    "rolling_correlation": [{}],
    "rolling_r_squared": [{}],
}

# rolling_stats field -> the single-metric function it must equal
STATS_FIELDS = {
    "tracking_error": "rolling_tracking_error",
    "active_return": "rolling_active_return",
    "information_ratio": "rolling_information_ratio",
    "beta": "rolling_beta",
    "alpha": "rolling_alpha",
    "correlation": "rolling_correlation",
    "r_squared": "rolling_r_squared",
}
