"""Python face of USearch: a vector index keyed by catalog doc ids.

Keys are the catalog's dense ``uint32`` doc ids (stored by USearch as ``uint64``). Below
``exact_threshold`` live vectors a search scans every vector; above it, the HNSW graph answers.
Every call takes one lock, so threads may add, delete, list, save and search at once.

Filtered search: USearch's Python API has no predicate search, so a filter is applied by
over-fetching from the graph and dropping what the filter refuses, widening the fetch until ``k``
results pass. When the allowed set is small (at most ``exact_threshold`` ids, or under
``FILTER_EXACT_FRACTION`` of the index) over-fetching would need most of the graph, so those
vectors are fetched and scanned exactly instead: filtered results are exact for selective
filters and approximate, like unfiltered ones, for broad filters.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable

import numpy as np

from ltrr_fast.index.vector_checks import (
    MAX_DOC_ID,
    as_doc_ids,
    as_matrix,
    check_int,
    metric_name,
    usearch_distances,
    write_atomically,
)
from ltrr_fast.index.vector_file import (
    FORMAT_VERSION,
    VectorFormatError,
    pack_header,
    read_file,
)
from ltrr_fast.index.vector_hits import (
    BatchVectorHits,
    VectorHits,
    batch_from_rows,
    batch_from_usearch,
    empty_batch,
    usearch_counts,
)

__all__ = [
    "FILTER_EXACT_FRACTION",
    "FORMAT_VERSION",
    "BatchVectorHits",
    "VectorFormatError",
    "VectorHits",
    "VectorIndex",
]

logger = logging.getLogger(__name__)

#: Allowed sets below this fraction of the index are searched exactly.
FILTER_EXACT_FRACTION = 0.05
_NO_IDS = np.zeros(0, dtype=np.uint32)
_NO_DISTANCES = np.zeros(0, dtype=np.float32)


class VectorIndex:
    """Nearest-neighbour search over vectors keyed by catalog doc ids.

    Adding a doc id that is present replaces its vector (never a second copy). A batch is
    checked whole before anything changes and is added all or nothing. NaN or infinite
    values, rows of the wrong dimension and, for cosine, all-zero rows are refused with
    ``ValueError``.

    Parameters
    ----------
    dim : int
        Dimension of every vector.
    metric : str
        ``"cos"`` (alias ``"cosine"``), ``"ip"`` (inner product, alias ``"dot"``) or
        ``"l2sq"`` (squared Euclidean, alias ``"l2"``).
    exact_threshold : int
        Up to this many live vectors, searches scan every vector exactly; above it the HNSW
        graph answers. ``0`` always uses the graph.
    connectivity, expansion_add, expansion_search : int
        HNSW parameters: edges per node, candidate list size while building and while
        searching.
    threads : int
        Threads USearch may use for batch adds and searches; ``0`` means every core.
    """

    def __init__(
        self,
        dim: int,
        metric: str = "cos",
        *,
        exact_threshold: int = 10_000,
        connectivity: int = 16,
        expansion_add: int = 128,
        expansion_search: int = 64,
        threads: int = 0,
    ) -> None:
        self._dim = check_int("dim", dim)
        self._metric = metric_name(metric)
        self._exact_threshold = check_int("exact_threshold", exact_threshold, low=0)
        self._connectivity = check_int("connectivity", connectivity, low=2)
        self._expansion_add = check_int("expansion_add", expansion_add)
        self._expansion_search = check_int("expansion_search", expansion_search)
        self._threads = check_int("threads", threads, low=0)
        self._index = _new_usearch(
            self._dim,
            self._metric,
            self._connectivity,
            self._expansion_add,
            self._expansion_search,
        )
        self._live = np.zeros(0, dtype=bool)
        self._n_live = 0
        self._lock = threading.RLock()

    # Properties

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def metric(self) -> str:
        return self._metric

    @property
    def exact_threshold(self) -> int:
        return self._exact_threshold

    @property
    def usearch_index(self):
        """The wrapped ``usearch.index.Index``; read it only while no thread writes."""
        return self._index

    def __len__(self) -> int:
        return self._n_live

    def __contains__(self, doc_id: object) -> bool:
        if isinstance(doc_id, bool) or not isinstance(doc_id, (int, np.integer)):
            return False
        with self._lock:
            return 0 <= doc_id < self._live.shape[0] and bool(self._live[doc_id])

    def __repr__(self) -> str:
        return f"VectorIndex(dim={self._dim}, metric={self._metric!r}, n_vectors={len(self)})"

    # Writes

    def add(self, doc_id: int, vector: np.ndarray) -> None:
        """Add one vector, replacing the vector this doc id had."""
        vectors = vector[None, ...] if isinstance(vector, np.ndarray) else [vector]
        self.add_batch([doc_id], vectors)

    def add_batch(self, doc_ids: Iterable[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Add many vectors; all or nothing. A later duplicate doc id replaces an earlier one.

        Raises
        ------
        TypeError
            When doc ids are not integers or vectors are not numbers.
        ValueError
            When a doc id is outside ``[0, 2**32 - 1]``, the counts differ, or a vector has
            the wrong dimension, a NaN or infinite value, or (for cosine) zero norm.
        """
        keys = as_doc_ids(doc_ids)
        matrix = as_matrix(vectors, self._dim, "vectors", zero_ok=self._metric != "cos")
        if matrix.shape[0] != keys.shape[0]:
            raise ValueError(
                f"got {keys.shape[0]} doc ids but {matrix.shape[0]} vectors; expected one each"
            )
        if keys.shape[0] == 0:
            return
        # A later duplicate wins: keep the last occurrence of each doc id.
        last = keys.shape[0] - 1 - np.unique(keys[::-1], return_index=True)[1]
        if last.shape[0] != keys.shape[0]:
            last.sort()
            keys, matrix = keys[last], matrix[last]
        with self._lock:
            self._grow(int(keys.max()) + 1)
            replaced = keys[self._live[keys]]
            old = self._get_locked(replaced) if replaced.shape[0] else None
            try:
                if replaced.shape[0]:
                    self._index.remove(replaced.astype(np.uint64))
                self._index.add(keys.astype(np.uint64), matrix, threads=self._threads)
            except BaseException:
                self._roll_back(keys, replaced, old)
                raise
            self._n_live += int(keys.shape[0] - replaced.shape[0])
            self._live[keys] = True

    def delete(self, doc_id: int) -> bool:
        """Delete one vector; returns False when the doc id has none."""
        return self.delete_batch([doc_id]) == 1

    def delete_batch(self, doc_ids: Iterable[int] | np.ndarray) -> int:
        """Delete vectors; returns how many of the doc ids had one."""
        keys = np.unique(as_doc_ids(doc_ids))
        with self._lock:
            keys = keys[keys < self._live.shape[0]]
            keys = keys[self._live[keys]]
            if keys.shape[0]:
                self._index.remove(keys.astype(np.uint64))
                self._live[keys] = False
                self._n_live -= int(keys.shape[0])
            return int(keys.shape[0])

    # Reads

    def doc_ids(self) -> np.ndarray:
        """Doc ids holding a vector, ascending (``uint32``)."""
        with self._lock:
            return np.flatnonzero(self._live).astype(np.uint32)

    def get(self, doc_ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """Stored vectors of doc ids, shape ``(n, dim)``; KeyError naming a missing doc id."""
        keys = as_doc_ids(doc_ids)
        with self._lock:
            missing = ~self._live_of(keys)
            if missing.any():
                raise KeyError(f"doc id {int(keys[np.argmax(missing)])} has no vector")
            return self._get_locked(keys)

    def search(
        self,
        query: np.ndarray,
        k: int = 10,
        *,
        allowed: np.ndarray | Iterable[int] | None = None,
        exact: bool | None = None,
    ) -> VectorHits:
        """The ``k`` nearest vectors of one query, nearest first.

        Parameters
        ----------
        query : array-like of shape (dim,)
            The query vector; for cosine it must not be all zero.
        k : int
            Number of neighbours wanted; fewer come back when fewer vectors (pass the filter).
        allowed : boolean mask over doc ids, or doc ids, optional
            Only these doc ids may be returned (see the module notes for how).
        exact : bool, optional
            Force an exact scan (True) or the graph (False); by default exact below
            ``exact_threshold`` live vectors.
        """
        if allowed is None and exact is None and self._plain_query(query):
            k = check_int("k", k, low=0)
            with self._lock:  # the common case, kept lean: one float32 vector, no filter
                if k == 0 or self._n_live == 0:
                    return VectorHits(_NO_IDS, _NO_DISTANCES, self._metric)
                found = self._index.search(
                    query, min(k, self._n_live), exact=self._n_live <= self._exact_threshold
                )
                return VectorHits(found.keys.astype(np.uint32), found.distances, self._metric)
        matrix = as_matrix(query, self._dim, "query", zero_ok=self._metric != "cos")
        if matrix.shape[0] != 1:
            raise ValueError(f"search takes one query vector, got {matrix.shape[0]}")
        found = self._search_checked(matrix, k, allowed, exact)
        return VectorHits(found.doc_ids, found.distances, self._metric)

    def search_batch(
        self,
        queries: np.ndarray,
        k: int = 10,
        *,
        allowed: np.ndarray | Iterable[int] | None = None,
        exact: bool | None = None,
    ) -> BatchVectorHits:
        """The ``k`` nearest vectors of each query, in CSR form (see :meth:`search`)."""
        matrix = as_matrix(queries, self._dim, "queries", zero_ok=self._metric != "cos")
        return self._search_checked(matrix, k, allowed, exact)

    def _search_checked(
        self, matrix: np.ndarray, k: int, allowed: object, exact: bool | None
    ) -> BatchVectorHits:
        k = check_int("k", k, low=0)
        if exact is not None and not isinstance(exact, bool):
            raise TypeError(f"exact must be a bool or None, got {type(exact).__name__}")
        with self._lock:
            n_queries = matrix.shape[0]
            if k == 0 or self._n_live == 0 or n_queries == 0:
                return empty_batch(n_queries, self._metric)
            use_exact = self._n_live <= self._exact_threshold if exact is None else exact
            if allowed is None:
                return self._search_all(matrix, k, use_exact)
            allowed_ids = self._allowed_ids(allowed)
            if allowed_ids.shape[0] == 0:
                return empty_batch(n_queries, self._metric)
            small = allowed_ids.shape[0] <= max(
                self._exact_threshold, FILTER_EXACT_FRACTION * self._n_live
            )
            if use_exact or small:
                return self._scan(matrix, allowed_ids, k)
            return self._search_filtered(matrix, allowed_ids, k)

    # Persistence

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to one file, atomically (write beside, fsync, rename).

        The file is our header (format version, dimension, metric, count, HNSW settings,
        payload length and CRC-32) followed by the USearch payload.
        """
        path = os.fspath(path)
        with self._lock:
            payload = bytes(self._index.save())
            header = pack_header(
                {
                    "dim": self._dim,
                    "metric": self._metric,
                    "count": self._n_live,
                    "exact_threshold": self._exact_threshold,
                    "connectivity": self._connectivity,
                    "expansion_add": self._expansion_add,
                    "expansion_search": self._expansion_search,
                },
                payload,
            )
        write_atomically(path, header, payload)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        dim: int | None = None,
        metric: str | None = None,
        threads: int = 0,
    ) -> VectorIndex:
        """Read an index written by :meth:`save`.

        ``dim`` and ``metric``, when given, are what the caller expects; a file with another
        dimension or metric is refused. Raises :class:`VectorFormatError` (a ``ValueError``)
        for a foreign, truncated, corrupt or future-version file and ``OSError`` when the file
        cannot be read.
        """
        settings, payload = read_file(path)
        file_dim, file_metric, count = settings["dim"], settings["metric"], settings["count"]
        if dim is not None and check_int("dim", dim) != file_dim:
            raise ValueError(f"vector index has dimension {file_dim}, expected {dim}")
        if metric is not None and metric_name(metric) != file_metric:
            raise ValueError(f"vector index has metric {file_metric!r}, expected {metric!r}")
        self = cls(
            file_dim,
            file_metric,
            exact_threshold=settings["exact_threshold"],
            connectivity=settings["connectivity"],
            expansion_add=settings["expansion_add"],
            expansion_search=settings["expansion_search"],
            threads=threads,
        )
        try:
            self._index.load(bytearray(payload))
        except Exception as error:  # USearch reports a bad payload as RuntimeError
            raise VectorFormatError(f"USearch could not read the payload: {error}") from error
        keys = np.asarray(self._index.keys, dtype=np.uint64)
        if len(self._index) != count or keys.shape[0] != count or self._index.ndim != file_dim:
            raise VectorFormatError(
                f"vector index holds {len(self._index)} vectors of dimension "
                f"{self._index.ndim}; the header says {count} of dimension {file_dim}"
            )
        if count and int(keys.max()) > MAX_DOC_ID:
            raise VectorFormatError("vector index holds a key outside the uint32 doc id range")
        self._grow(int(keys.max()) + 1 if count else 0)
        self._live[keys.astype(np.int64)] = True
        self._n_live = int(np.count_nonzero(self._live))
        return self

    # Internals (the lock is held)

    def _plain_query(self, query: object) -> bool:
        """A 1-d float32 vector of the right length whose values are finite (non-zero for
        cosine): its squared norm is finite and positive, which one dot product tells."""
        if not (
            isinstance(query, np.ndarray)
            and query.dtype == np.float32
            and query.shape == (self._dim,)
            and query.flags.c_contiguous
        ):
            return False
        with np.errstate(over="ignore", invalid="ignore"):  # overflow goes the long way
            square = float(np.dot(query, query))
        return np.isfinite(square) and (square > 0 or self._metric != "cos")

    def _grow(self, n: int) -> None:
        if n > self._live.shape[0]:
            grown = np.zeros(max(n, 2 * self._live.shape[0], 1024), dtype=bool)
            grown[: self._live.shape[0]] = self._live
            self._live = grown

    def _live_of(self, keys: np.ndarray) -> np.ndarray:
        inside = keys < self._live.shape[0]
        out = np.zeros(keys.shape[0], dtype=bool)
        out[inside] = self._live[keys[inside]]
        return out

    def _get_locked(self, keys: np.ndarray) -> np.ndarray:
        if keys.shape[0] == 0:
            return np.zeros((0, self._dim), dtype=np.float32)
        out = self._index.get(keys.astype(np.uint64), dtype=np.float32)
        return np.ascontiguousarray(np.asarray(out, dtype=np.float32).reshape(-1, self._dim))

    def _roll_back(self, keys: np.ndarray, replaced: np.ndarray, old: np.ndarray | None) -> None:
        """Undo a failed add: drop what got in, put back the vectors it replaced."""
        try:
            present = keys[np.asarray(self._index.contains(keys.astype(np.uint64)), dtype=bool)]
            if present.shape[0]:
                self._index.remove(present.astype(np.uint64))
            if old is not None and replaced.shape[0]:
                self._index.add(replaced.astype(np.uint64), old)
        except Exception:  # the original error is the one to report
            logger.exception("rolling back a failed vector add also failed")

    def _allowed_ids(self, allowed: object) -> np.ndarray:
        if isinstance(allowed, np.ndarray) and allowed.dtype == bool:
            if allowed.ndim != 1:
                raise ValueError(f"an allowed mask must be 1-d, got shape {allowed.shape}")
            n = min(allowed.shape[0], self._live.shape[0])
            return np.flatnonzero(allowed[:n] & self._live[:n]).astype(np.uint32)
        ids = np.unique(as_doc_ids(allowed, name="allowed"))
        return ids[self._live_of(ids)]

    def _search_all(self, matrix: np.ndarray, k: int, exact: bool) -> BatchVectorHits:
        k = min(k, self._n_live)
        found = self._index.search(matrix, k, exact=exact, threads=self._threads)
        return batch_from_usearch(found.keys, found.distances, usearch_counts(found), self._metric)

    def _scan(self, matrix: np.ndarray, allowed_ids: np.ndarray, k: int) -> BatchVectorHits:
        """Exact search over the allowed vectors only."""
        vectors = self._get_locked(allowed_ids)
        distances = usearch_distances(matrix, vectors, self._metric)
        k = min(k, allowed_ids.shape[0])
        top = np.argpartition(distances, k - 1, axis=1)[:, :k]
        part = np.take_along_axis(distances, top, axis=1)
        order = np.lexsort((allowed_ids[top], part), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        n = matrix.shape[0]
        return BatchVectorHits(
            np.arange(n + 1, dtype=np.int64) * k,
            allowed_ids[top].ravel().astype(np.uint32),
            np.take_along_axis(distances, top, axis=1).ravel().astype(np.float32),
            self._metric,
        )

    def _search_filtered(
        self, matrix: np.ndarray, allowed_ids: np.ndarray, k: int
    ) -> BatchVectorHits:
        """Over-fetch from the graph and drop refused ids, widening until k pass."""
        mask = np.zeros(self._live.shape[0], dtype=bool)
        mask[allowed_ids] = True
        k = min(k, allowed_ids.shape[0])
        fetch = min(self._n_live, int(np.ceil(2 * k * self._n_live / allowed_ids.shape[0])) + 16)
        results: list[tuple[np.ndarray, np.ndarray] | None] = [None] * matrix.shape[0]
        todo = np.arange(matrix.shape[0])
        while todo.shape[0]:
            found = self._index.search(matrix[todo], fetch, threads=self._threads)
            keys, distances = np.atleast_2d(found.keys), np.atleast_2d(found.distances)
            counts = np.atleast_1d(usearch_counts(found))
            short = []
            for row, q in enumerate(todo):
                got = keys[row, : counts[row]].astype(np.int64)
                keep = mask[got]
                if keep.sum() >= k or fetch >= self._n_live:
                    results[q] = (got[keep][:k], distances[row, : counts[row]][keep][:k])
                else:
                    short.append(q)
            todo = np.asarray(short, dtype=np.int64)
            if todo.shape[0] and 2 * fetch >= self._n_live:
                # Widening would need most of the graph: scan the allowed vectors instead.
                rest = self._scan(matrix[todo], allowed_ids, k)
                for row, q in enumerate(todo):
                    hits = rest[row]
                    results[q] = (hits.doc_ids.astype(np.int64), hits.distances)
                break
            fetch = min(self._n_live, 4 * fetch)
        return batch_from_rows(results, self._metric)


def _new_usearch(
    dim: int, metric: str, connectivity: int, expansion_add: int, expansion_search: int
):
    try:
        from usearch.index import Index
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "VectorIndex needs the usearch package; install it with `pip install usearch`"
        ) from error
    return Index(
        ndim=dim,
        metric=metric,
        dtype="f32",
        connectivity=connectivity,
        expansion_add=expansion_add,
        expansion_search=expansion_search,
    )
