"""Input checks, distances and atomic file writes for the vector index."""

from __future__ import annotations

import os
import tempfile

import numpy as np

#: Metric names and the aliases accepted for them.
METRICS: tuple[str, ...] = ("cos", "ip", "l2sq")
_ALIASES = {"cos": "cos", "cosine": "cos", "ip": "ip", "dot": "ip", "l2sq": "l2sq", "l2": "l2sq"}
MAX_DOC_ID = 2**32 - 1


def usearch_distances(queries: np.ndarray, vectors: np.ndarray, metric: str) -> np.ndarray:
    """USearch's distances, computed with numpy, shape ``(n_queries, n_vectors)``."""
    dots = queries @ vectors.T
    if metric == "ip":
        return 1.0 - dots
    if metric == "cos":
        norms = np.linalg.norm(queries, axis=1)[:, None] * np.linalg.norm(vectors, axis=1)[None]
        return 1.0 - dots / norms
    sq = (queries * queries).sum(1)[:, None] + (vectors * vectors).sum(1)[None, :]
    return np.maximum(sq - 2.0 * dots, 0.0)


def write_atomically(path: str, header: bytes, payload: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ltrr-vec-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(header)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some systems cannot open directories; the rename already happened
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def metric_name(metric: object) -> str:
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a str, got {type(metric).__name__}")
    try:
        return _ALIASES[metric.lower()]
    except KeyError:
        raise ValueError(
            f"unknown metric {metric!r}; expected one of {sorted(_ALIASES)}"
        ) from None


def check_int(name: str, value: object, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def as_doc_ids(doc_ids: object, name: str = "doc_ids") -> np.ndarray:
    if isinstance(doc_ids, (str, bytes)):
        raise TypeError(f"{name} must be integers, got {type(doc_ids).__name__}")
    array = np.asarray(list(doc_ids) if not isinstance(doc_ids, np.ndarray) else doc_ids)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integers, got dtype {array.dtype}")
    array = array.ravel()
    if array.min() < 0 or array.max() > MAX_DOC_ID:
        bad = array[(array < 0) | (array > MAX_DOC_ID)][0]
        raise ValueError(f"{name} must lie in [0, 2**32 - 1] (catalog doc ids), got {bad}")
    return array.astype(np.int64)


def as_matrix(vectors: object, dim: int, name: str, *, zero_ok: bool) -> np.ndarray:
    """Coerce to a C-contiguous float32 ``(n, dim)`` matrix, refusing bad rows."""
    try:
        array = np.asarray(vectors)
    except ValueError:
        lengths = sorted({len(v) for v in vectors})  # type: ignore[union-attr]
        raise ValueError(
            f"{name} rows must all have dimension {dim}, got rows of lengths {lengths}"
        ) from None
    if array.dtype == object:
        lengths = sorted({np.size(v) for v in vectors})  # type: ignore[union-attr]
        raise ValueError(
            f"{name} rows must all have dimension {dim}, got rows of lengths {lengths}"
        )
    if array.size and array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != dim:
        if array.size == 0 and array.ndim == 2:
            return np.zeros((0, dim), dtype=np.float32)
        got = array.shape[-1] if array.ndim else "a scalar"
        raise ValueError(f"{name} must have dimension {dim}, got {got} (shape {array.shape})")
    with np.errstate(over="ignore", invalid="ignore"):  # overflow shows as inf, refused below
        matrix = np.ascontiguousarray(array, dtype=np.float32)
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise ValueError(f"{name} row {row} holds NaN or infinite values (or overflows float32)")
    if not zero_ok:
        zero = ~np.any(matrix, axis=1)
        if zero.any():
            raise ValueError(
                f"{name} row {int(np.argmax(zero))} is all zero, which has no cosine direction"
            )
    return matrix
