"""Per-asset inputs of trackerr.optimize: real vectors and matrices, and pandas
labels matched by asset (shared by optimize.py and _estimators.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import _inputs

_F = npt.NDArray[np.float64]


def real_vector(name: str, x: Any) -> _F:
    """A finite 1-D float64 array (a copy when x is not one already)."""
    arr = _inputs.as_real_array(x, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per asset); got shape {arr.shape}")
    out = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        i = int(np.flatnonzero(~np.isfinite(out))[0])
        raise ValueError(f"{name} has a non-finite value {float(out[i])!r} at position {i}")
    return out


def real_matrix(name: str, x: Any, shape: tuple[int, ...]) -> _F:
    """A finite float64 array of the given shape."""
    out = np.asarray(_inputs.as_real_array(x, name), dtype=np.float64)
    if out.shape != shape:
        raise ValueError(f"{name} has shape {out.shape}; expected {shape}")
    if not np.all(np.isfinite(out)):
        at = tuple(int(v) for v in np.argwhere(~np.isfinite(out))[0])
        raise ValueError(f"{name} has a non-finite value {float(out[at])!r} at {list(at)}")
    return out


def symmetric(name: str, s: _F) -> None:
    """Refuse a matrix that is not symmetric (beyond 1e-12 of its largest entry)."""
    scale = float(np.max(np.abs(s))) if s.size else 0.0
    gap = float(np.max(np.abs(s - s.T))) if s.size else 0.0
    if gap > 1e-12 * scale:
        raise ValueError(f"{name} is not symmetric (largest |S - S'| = {gap:g} of {scale:g})")


def labels(x: Any) -> Any:
    """The asset labels of a pandas Series or DataFrame (its index), or None."""
    pd = _inputs._pandas()
    if pd is not None and isinstance(x, (pd.Series, pd.DataFrame)):
        return x.index
    return None


def aligned(
    name: str, x: Any, order: Any, axis: str = "index", what: str = "assets than the weights"
) -> Any:
    """A pandas object put in the order of the labels `order` along `axis`
    (the same set of labels, each once); anything else as it is."""
    if order is None or not _inputs._is_pandas(x):
        return x
    own = getattr(x, axis)
    if not own.is_unique:
        raise ValueError(f"{name} has repeated labels")
    missing = order.difference(own)
    extra = own.difference(order)
    if len(missing) or len(extra):
        raise ValueError(
            f"{name} is labelled by other {what}: missing "
            f"{list(missing)[:5]!r}, extra {list(extra)[:5]!r}"
        )
    return x.reindex(order, axis=axis)
