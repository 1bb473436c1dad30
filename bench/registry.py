"""Former home of the benchmark tables; they now live in ``bench/comparisons.py``.

``COMPARISONS`` there is the one table of every public metric, its reference
and its peers, shared by tests/ and bench/. This module re-exports the names it
used to define (``CASES``, ``ROLLING_CASES``, ``Impl``, ``RollingImpl``,
``BASELINE``, ``is_panel``, ...) so older imports keep working. The lookup is
lazy so that a table merged into ``comparisons`` (``bench/risk_cases.py``) may
itself import ``Impl`` from here while ``comparisons`` is still loading.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    import comparisons

    try:
        return getattr(comparisons, name)
    except AttributeError:
        raise AttributeError(f"module 'registry' has no attribute {name!r}") from None
