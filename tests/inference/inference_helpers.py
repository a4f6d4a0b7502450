"""Reading R's JSON tables (``auto_unbox`` turns one-element vectors into scalars)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def vec(value: Any) -> NDArray[np.float64]:
    """A JSON number or list (``null`` = NaN) as a float vector."""
    return np.atleast_1d(np.asarray(value, dtype=float))


def names(value: Any) -> list[str]:
    """A JSON string or list of strings as a list."""
    return [value] if isinstance(value, str) else list(value)


def matrix(value: Any, ncol: int) -> NDArray[np.float64]:
    """A JSON matrix (list of rows, or one row unboxed) with ``ncol`` columns."""
    return np.asarray(value, dtype=float).reshape(-1, ncol)


def rel_err(ours: Any, theirs: Any) -> float:
    """Largest relative difference, ignoring positions missing in both."""
    a, b = vec(ours), vec(theirs)
    assert a.shape == b.shape, (a.shape, b.shape)
    both_nan = np.isnan(a) & np.isnan(b)
    assert not np.any(np.isnan(a) ^ np.isnan(b)), (a, b)
    a, b = a[~both_nan], b[~both_nan]
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300), initial=0.0))
