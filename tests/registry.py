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
