"""Validation of ranker inputs at the public entry: features, labels, weights and groups."""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)


def check_features(X: object, n_features: int | None, name: str = "X") -> np.ndarray:
    """A C-contiguous float32 (n_rows, n_features) copy-if-needed of ``X``, all finite."""
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be a 2-D array of numbers, got {type(X).__name__}"
        ) from error
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows x features), got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(
            f"{name} must have {n_features} feature columns (the model's width), got "
            f"{arr.shape[1]}; build rows with the same feature schema as the model"
        )
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        rows, cols = np.nonzero(~np.isfinite(arr))
        raise ValueError(
            f"{name} must be finite; got {rows.size} NaN or infinite values, the first at "
            f"row {int(rows[0])}, column {int(cols[0])}"
        )
    return arr


def check_vector(values: object, n_rows: int, name: str, *, non_negative: bool) -> np.ndarray:
    """A float64 vector of length ``n_rows``, finite (and >= 0 when asked)."""
    arr = np.asarray(values)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
    if arr.shape != (n_rows,):
        raise ValueError(f"{name} must have shape ({n_rows},), one per row, got {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got {int((~np.isfinite(arr)).sum())} NaN/inf")
    if non_negative and (arr < 0).any():
        raise ValueError(f"{name} must be >= 0, got minimum {arr.min()}")
    return arr


def check_groups(groups: object, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Group sizes with the empty groups dropped, and their boundaries (``indptr``).

    Raises
    ------
    ValueError
        If a size is negative or not an integer, or the sizes do not add up to ``n_rows``.
    """
    arr = np.asarray(groups)
    if arr.ndim != 1:
        raise ValueError(f"groups must be a 1-D sequence of group sizes, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        as_float = arr.astype(np.float64, copy=False)
        if not (np.isfinite(as_float).all() and (as_float == np.round(as_float)).all()):
            raise ValueError(f"groups must hold whole numbers (row counts), got {arr[:5]}")
    sizes = arr.astype(np.int64)
    if (sizes < 0).any():
        raise ValueError(f"group sizes must be >= 0, got {int(sizes.min())}")
    if int(sizes.sum()) != n_rows:
        raise ValueError(
            f"group sizes must add up to the number of rows ({n_rows}), got {int(sizes.sum())}"
        )
    n_empty = int((sizes == 0).sum())
    if n_empty:
        logger.debug("%d empty groups dropped", n_empty)
        sizes = sizes[sizes > 0]
    indptr = np.zeros(sizes.shape[0] + 1, dtype=np.int64)
    np.cumsum(sizes, out=indptr[1:])
    return sizes, indptr


def single_group(n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Sizes and boundaries of one group holding every row."""
    return np.array([n_rows], dtype=np.int64), np.array([0, n_rows], dtype=np.int64)
