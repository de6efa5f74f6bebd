"""Results of vector searches: one query's neighbours and a batch in CSR form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class VectorHits:
    """Nearest neighbours of one query, nearest first.

    Attributes
    ----------
    doc_ids : numpy.ndarray of uint32
        Catalog doc ids.
    distances : numpy.ndarray of float32
        USearch distances: ``1 - cos`` for ``"cos"``, ``1 - dot`` for ``"ip"``, squared
        Euclidean for ``"l2sq"``.
    metric : str
        The index's metric.
    """

    doc_ids: np.ndarray
    distances: np.ndarray
    metric: str

    def __len__(self) -> int:
        return int(self.doc_ids.shape[0])

    @property
    def scores(self) -> np.ndarray:
        """Similarities, larger is nearer: ``1 - distance`` (cos, ip) or ``-distance`` (l2sq)."""
        if self.metric == "l2sq":
            return -self.distances
        return (1.0 - self.distances).astype(np.float32)


@dataclass(frozen=True, eq=False)
class BatchVectorHits:
    """Results of a batch search in CSR form: query i owns ``[indptr[i], indptr[i + 1])``."""

    indptr: np.ndarray  # int64, n_queries + 1
    doc_ids: np.ndarray  # uint32
    distances: np.ndarray  # float32
    metric: str

    def __len__(self) -> int:
        return int(self.indptr.shape[0]) - 1

    def __getitem__(self, i: int) -> VectorHits:
        if not -len(self) <= i < len(self):
            raise IndexError(f"query {i} out of range for a batch of {len(self)}")
        i %= len(self)
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return VectorHits(self.doc_ids[lo:hi], self.distances[lo:hi], self.metric)


def usearch_counts(found: object) -> np.ndarray:
    """Results per query of a USearch answer (one query gives ``Matches`` without counts)."""
    counts = getattr(found, "counts", None)
    if counts is None:
        return np.asarray([len(found.keys)])  # type: ignore[attr-defined]
    return np.asarray(counts)


def batch_from_usearch(
    keys: np.ndarray, distances: np.ndarray, counts: np.ndarray, metric: str
) -> BatchVectorHits:
    keys, distances = np.atleast_2d(keys), np.atleast_2d(distances)
    counts = np.atleast_1d(counts).astype(np.int64)
    indptr = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    if (counts == keys.shape[1]).all():
        return BatchVectorHits(
            indptr, keys.ravel().astype(np.uint32), distances.ravel().astype(np.float32), metric
        )
    keep = np.arange(keys.shape[1])[None, :] < counts[:, None]
    return BatchVectorHits(
        indptr, keys[keep].astype(np.uint32), distances[keep].astype(np.float32), metric
    )


def batch_from_rows(rows: list, metric: str) -> BatchVectorHits:
    counts = np.asarray([r[0].shape[0] for r in rows], dtype=np.int64)
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return BatchVectorHits(
        indptr,
        np.concatenate([r[0] for r in rows]).astype(np.uint32),
        np.concatenate([r[1] for r in rows]).astype(np.float32),
        metric,
    )


def empty_batch(n_queries: int, metric: str) -> BatchVectorHits:
    return BatchVectorHits(
        np.zeros(n_queries + 1, dtype=np.int64),
        np.zeros(0, dtype=np.uint32),
        np.zeros(0, dtype=np.float32),
        metric,
    )
