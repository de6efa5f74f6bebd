"""Memory strategy: the query-to-entity (Q2E) memory of what users acted on.

Every (normalised query, doc id) pair has a score, the posterior mean of the pair's action rate
under a Beta prior centred on a prediction::

    score = (actions + p * s) / (impressions + s)

where ``p`` is the pair's predicted rate (``default_prior`` for a pair nobody predicted) and
``s`` the prior strength. With no feedback the score is the prediction; as impressions grow,
the observed rate ``actions / impressions`` takes over.

Cold start (:meth:`MemoryIndex.from_catalog`): for every item, queries predicted from its fields
by templates such as ``"{artist} {title}"`` or ``"{genre} songs"``, with predicted rates
(:func:`~ltrr_fast.understanding.predict_queries`); each query keeps its
``max_items_per_query`` best items.

Feedback (:meth:`MemoryIndex.record`): impressions and actions of a pair, for any query, so a
query that reached an item through another strategy adds a pair. Counts decay exponentially
with ``half_life`` seconds: at time ``t`` a count recorded at ``t0`` weighs
``0.5 ** ((t - t0) / half_life)``. Every time is an explicit argument (or the strategy's clock).

Persistence: one file, written atomically, with a magic number, a format version and a CRC-32;
a foreign, truncated, corrupt or newer file raises :class:`MemoryFormatError`.
"""

from __future__ import annotations

import io
import logging
import math
import os
import struct
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence

import numpy as np

from ltrr_fast.index.catalog import Catalog
from ltrr_fast.strategies.base import Candidates, Strategy
from ltrr_fast.strategies.lexical import check_quota
from ltrr_fast.understanding.normalize import normalize
from ltrr_fast.understanding.parsed import ParsedQuery
from ltrr_fast.understanding.predicted import QueryTemplate, predict_queries

logger = logging.getLogger(__name__)

MEMORY_FORMAT_VERSION = 1
_MAGIC = b"LTRRQ2E\x00"
_HEAD = struct.Struct("<8sIQI")  # magic, version, payload length, CRC-32 of the payload


class MemoryFormatError(ValueError):
    """A memory file that is foreign, truncated, corrupt or of an unsupported version."""


class MemoryIndex:
    """Scores of (normalised query, doc id) pairs: predictions replaced by observations.

    Parameters
    ----------
    prior_strength : float
        ``s`` above: how many impressions the prediction is worth, > 0.
    default_prior : float
        Predicted rate of a pair without a prediction, in (0, 1).
    half_life : float
        Seconds for observed counts to lose half their weight; ``math.inf`` for no decay.
    """

    def __init__(
        self,
        *,
        prior_strength: float = 10.0,
        default_prior: float = 0.02,
        half_life: float = 30 * 86400.0,
    ) -> None:
        _check_positive("prior_strength", prior_strength)
        _check_positive("half_life", half_life, allow_inf=True)
        if not 0.0 < float(default_prior) < 1.0:
            raise ValueError(f"default_prior must lie in (0, 1), got {default_prior!r}")
        self.prior_strength = float(prior_strength)
        self.default_prior = float(default_prior)
        self.half_life = float(half_life)
        self._query_ids: dict[str, int] = {}
        self._queries: list[str] = []
        # Predictions in CSR form, sorted by doc id inside each query.
        self._indptr = np.zeros(1, dtype=np.int64)
        self._docs = np.zeros(0, dtype=np.uint32)
        self._priors = np.zeros(0, dtype=np.float32)
        # Observations: query id -> doc id -> [impressions, actions, time of last update].
        self._observed: dict[int, dict[int, list[float]]] = {}

    @property
    def n_queries(self) -> int:
        return len(self._queries)

    @property
    def n_predictions(self) -> int:
        return int(self._docs.shape[0])

    @property
    def n_observed(self) -> int:
        return sum(len(pairs) for pairs in self._observed.values())

    @classmethod
    def from_catalog(
        cls,
        catalog: Catalog,
        templates: Sequence[QueryTemplate],
        *,
        popularity: str | None = "",
        max_items_per_query: int = 100,
        **options: float,
    ) -> MemoryIndex:
        """Cold-start a memory with queries predicted from every live item's fields.

        Parameters
        ----------
        catalog : Catalog
            The items.
        templates : sequence of QueryTemplate
            Queries to predict per item (see :func:`~ltrr_fast.understanding.predict_queries`).
        popularity : str or None
            Static score scaling predictions; the catalog's first by default, None for none.
        max_items_per_query : int
            Items kept per predicted query, best predictions first.
        **options
            Passed to the constructor.
        """
        if not isinstance(catalog, Catalog):
            raise TypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        if isinstance(max_items_per_query, bool) or not isinstance(max_items_per_query, int):
            raise TypeError(f"max_items_per_query must be an int, got {max_items_per_query!r}")
        if max_items_per_query < 1:
            raise ValueError(f"max_items_per_query must be >= 1, got {max_items_per_query}")
        memory = cls(**options)
        queries, query_ids, doc_ids, priors = predict_queries(catalog, templates, popularity)
        memory._queries = queries
        memory._query_ids = {q: i for i, q in enumerate(queries)}
        memory._set_predictions(query_ids, doc_ids, priors, max_items_per_query)
        logger.info(
            "memory cold start: %d queries, %d predicted pairs",
            memory.n_queries,
            memory.n_predictions,
        )
        return memory

    def _query_id(self, query: str) -> int:
        q = self._query_ids.get(query)
        if q is None:
            q = self._query_ids[query] = len(self._queries)
            self._queries.append(query)
        return q

    def _set_predictions(
        self, query_ids: np.ndarray, doc_ids: np.ndarray, priors: np.ndarray, max_items: int
    ) -> None:
        # Best prediction first within each query; one entry per (query, doc).
        order = np.lexsort((doc_ids, -priors, query_ids))
        q, d, p = query_ids[order], doc_ids[order], priors[order]
        pair = q * (1 << 32) + d
        first = np.ones(q.shape[0], dtype=bool)
        if q.shape[0]:
            _, keep_at = np.unique(pair, return_index=True)
            first[:] = False
            first[keep_at] = True
        q, d, p = q[first], d[first], p[first]
        # Rank within the query; keep the best max_items.
        starts = np.searchsorted(q, q, side="left")
        keep = (np.arange(q.shape[0]) - starts) < max_items
        q, d, p = q[keep], d[keep], p[keep]
        order = np.lexsort((d, q))
        q, d, p = q[order], d[order], p[order]
        self._indptr = np.zeros(len(self._queries) + 1, dtype=np.int64)
        np.add.at(self._indptr, q + 1, 1)
        self._indptr = np.cumsum(self._indptr)
        self._docs = d.astype(np.uint32)
        self._priors = p.astype(np.float32)

    def _full_indptr(self) -> np.ndarray:
        # Queries first seen in feedback have no predictions: empty rows at the end.
        missing = len(self._queries) + 1 - self._indptr.shape[0]
        return np.concatenate([self._indptr, np.full(missing, self._indptr[-1], np.int64)])

    def prediction(self, query: str, doc_id: int) -> float | None:
        """The predicted rate of a pair, or None when the pair was not predicted."""
        q = self._query_ids.get(normalize(query))
        if q is None or q + 1 >= self._indptr.shape[0]:
            return None
        lo, hi = self._indptr[q], self._indptr[q + 1]
        j = lo + np.searchsorted(self._docs[lo:hi], doc_id)
        return float(self._priors[j]) if j < hi and self._docs[j] == doc_id else None

    def record(
        self,
        query: str,
        doc_ids: int | Sequence[int] | np.ndarray,
        impressions: float | Sequence[float] | np.ndarray = 1.0,
        actions: float | Sequence[float] | np.ndarray = 0.0,
        *,
        now: float,
    ) -> None:
        """Add observed impressions and actions of (query, doc id) pairs at time ``now``.

        Parameters
        ----------
        query : str
            Raw or normalised query text; it is normalised here.
        doc_ids : int or array-like of int
            Catalog doc ids shown for the query.
        impressions, actions : float or array-like of float
            Counts per doc id (broadcast), with ``0 <= actions <= impressions``.
        now : float
            Time of the feedback in seconds (any fixed origin, e.g. Unix time).
        """
        if not isinstance(query, str):
            raise TypeError(f"query must be str, got {type(query).__name__}")
        _check_time(now)
        docs = np.atleast_1d(np.asarray(doc_ids))
        if docs.ndim != 1 or (docs.size and docs.dtype.kind not in "iu"):
            raise TypeError(f"doc_ids must be an int or a 1-d array of ints, got {doc_ids!r}")
        if docs.size and (docs.min() < 0 or docs.max() > np.iinfo(np.uint32).max):
            raise ValueError("doc_ids must lie in [0, 2**32 - 1]")
        try:
            imps = np.broadcast_to(np.asarray(impressions, dtype=np.float64), docs.shape)
            acts = np.broadcast_to(np.asarray(actions, dtype=np.float64), docs.shape)
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"impressions and actions must be numbers or arrays of {docs.size} numbers"
            ) from error
        bad = ~np.isfinite(imps) | ~np.isfinite(acts) | (acts < 0) | (acts > imps)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"need finite counts with 0 <= actions <= impressions; doc {int(docs[j])} has "
                f"impressions={imps[j]}, actions={acts[j]}"
            )
        normalized = normalize(query)
        if not normalized:
            raise ValueError(f"query {query!r} has no words to remember")
        pairs = self._observed.setdefault(self._query_id(normalized), {})
        for doc, n, a in zip(docs.tolist(), imps.tolist(), acts.tolist()):
            entry = pairs.get(doc)
            if entry is None:
                pairs[doc] = [n, a, float(now)]
                continue
            weight = self._decay(now - entry[2])
            entry[0] = entry[0] * weight + n
            entry[1] = entry[1] * weight + a
            entry[2] = max(entry[2], float(now))

    def _decay(self, elapsed: float) -> float:
        if elapsed <= 0 or math.isinf(self.half_life):
            return 1.0
        return 0.5 ** (elapsed / self.half_life)

    def lookup(self, query: str, k: int, *, now: float) -> tuple[np.ndarray, ...]:
        """Best ``k`` doc ids of a query at time ``now``, by posterior mean.

        Returns
        -------
        doc_ids : numpy.ndarray of uint32
        scores : numpy.ndarray of float32
            Posterior means, non-increasing; ties go to the smaller doc id.
        features : numpy.ndarray of float32, shape (n, 3)
            Prediction (the default for unpredicted pairs), decayed impressions and actions.
        """
        if not isinstance(query, str):
            raise TypeError(f"query must be str, got {type(query).__name__}")
        _check_time(now)
        q = self._query_ids.get(normalize(query))
        if q is None:
            return _empty_lookup()
        lo, hi = (
            (self._indptr[q], self._indptr[q + 1]) if q + 1 < self._indptr.shape[0] else (0, 0)
        )
        docs = self._docs[lo:hi].astype(np.int64)
        priors = self._priors[lo:hi].astype(np.float64)
        imps = np.zeros(docs.shape[0])
        acts = np.zeros(docs.shape[0])
        observed = self._observed.get(q)
        if observed:
            obs_docs = np.fromiter(observed.keys(), dtype=np.int64, count=len(observed))
            stats = np.asarray(list(observed.values()), dtype=np.float64).reshape(-1, 3)
            weight = np.asarray([self._decay(now - t) for t in stats[:, 2].tolist()])
            at = np.searchsorted(docs, obs_docs)
            found = np.zeros(obs_docs.shape[0], dtype=bool)
            if docs.shape[0]:
                found = docs[np.minimum(at, docs.shape[0] - 1)] == obs_docs
            imps[at[found]] = stats[found, 0] * weight[found]
            acts[at[found]] = stats[found, 1] * weight[found]
            new = ~found
            docs = np.concatenate([docs, obs_docs[new]])
            priors = np.concatenate([priors, np.full(int(new.sum()), self.default_prior)])
            imps = np.concatenate([imps, stats[new, 0] * weight[new]])
            acts = np.concatenate([acts, stats[new, 1] * weight[new]])
        s = self.prior_strength
        scores = (acts + priors * s) / (imps + s)
        order = np.lexsort((docs, -scores))[:k]
        features = np.column_stack([priors[order], imps[order], acts[order]])
        return (
            docs[order].astype(np.uint32),
            scores[order].astype(np.float32),
            features.astype(np.float32),
        )

    # Persistence

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the memory to one file atomically (write beside, fsync, rename)."""
        path = os.fspath(path)
        rows = [(q, d, *e) for q, pairs in self._observed.items() for d, e in pairs.items()]
        observed = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
        config = [self.prior_strength, self.default_prior, self.half_life]
        buffer = io.BytesIO()
        np.savez(
            buffer,
            config=np.asarray(config, dtype=np.float64),
            queries=np.frombuffer("\n".join(self._queries).encode("utf-8"), dtype=np.uint8),
            n_queries=np.asarray([len(self._queries)], dtype=np.int64),
            indptr=self._full_indptr(),
            docs=self._docs,
            priors=self._priors,
            observed=observed,
        )
        payload = buffer.getvalue()
        head = _HEAD.pack(_MAGIC, MEMORY_FORMAT_VERSION, len(payload), zlib.crc32(payload))
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".memory-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(head + payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MemoryIndex:
        """Read a memory written by :meth:`save`; :class:`MemoryFormatError` if it is bad."""
        with open(os.fspath(path), "rb") as handle:
            data = handle.read()
        if len(data) < _HEAD.size or data[:8] != _MAGIC:
            raise MemoryFormatError(f"{path} is not a memory file (bad magic number)")
        _, version, length, crc = _HEAD.unpack_from(data)
        if version != MEMORY_FORMAT_VERSION:
            raise MemoryFormatError(
                f"{path} has format version {version}; this build reads {MEMORY_FORMAT_VERSION}"
            )
        payload = data[_HEAD.size :]
        if len(payload) != length or zlib.crc32(payload) != crc:
            raise MemoryFormatError(f"{path} is truncated or corrupt (length or CRC mismatch)")
        try:
            with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
                return cls._from_arrays({name: arrays[name] for name in arrays.files})
        except MemoryFormatError:
            raise
        except Exception as error:  # noqa: BLE001 - whatever a damaged archive raises
            raise MemoryFormatError(f"{path} is corrupt: {error!r}") from None

    @classmethod
    def _from_arrays(cls, arrays: dict[str, np.ndarray]) -> MemoryIndex:
        prior_strength, default_prior, half_life = arrays["config"].tolist()
        memory = cls(
            prior_strength=prior_strength, default_prior=default_prior, half_life=half_life
        )
        n_queries = int(arrays["n_queries"][0])
        text = arrays["queries"].tobytes().decode("utf-8")
        queries = text.split("\n") if n_queries else []
        indptr = arrays["indptr"].astype(np.int64)
        docs = arrays["docs"].astype(np.uint32)
        priors = arrays["priors"].astype(np.float32)
        observed = arrays["observed"].reshape(-1, 5)
        if (
            len(queries) != n_queries
            or indptr.shape != (n_queries + 1,)
            or indptr[0] != 0
            or np.any(np.diff(indptr) < 0)
            or indptr[-1] != docs.shape[0]
            or priors.shape != docs.shape
            or (
                observed.size
                and not (0 <= observed[:, 0].min() <= observed[:, 0].max() < n_queries)
            )
        ):
            raise MemoryFormatError("inconsistent table sizes")
        memory._queries = queries
        memory._query_ids = {q: i for i, q in enumerate(queries)}
        memory._indptr, memory._docs, memory._priors = indptr, docs, priors
        for q, d, n, a, t in observed.tolist():
            memory._observed.setdefault(int(q), {})[int(d)] = [n, a, t]
        return memory


class MemoryStrategy(Strategy):
    """Items users acted on for this normalised query (cold-started from predictions).

    Parameters
    ----------
    memory : MemoryIndex
        The tables.
    clock : callable, optional
        Returns the current time in seconds for decay; :func:`time.time` by default.
    """

    name = "memory"
    feature_names = ("memory_prior", "memory_impressions", "memory_actions")

    def __init__(self, memory: MemoryIndex, clock: Callable[[], float] = time.time) -> None:
        if not isinstance(memory, MemoryIndex):
            raise TypeError(f"memory must be a MemoryIndex, got {type(memory).__name__}")
        self.memory = memory
        self.clock = clock

    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        quota = check_quota(quota)
        if not query.normalized or time.perf_counter() > deadline:
            return Candidates.empty(len(self.feature_names))
        now = query.time if query.time is not None else self.clock()
        doc_ids, scores, features = self.memory.lookup(query.normalized, quota, now=now)
        return Candidates.from_arrays(doc_ids, scores, features)


def _empty_lookup() -> tuple[np.ndarray, ...]:
    return (
        np.zeros(0, dtype=np.uint32),
        np.zeros(0, dtype=np.float32),
        np.zeros((0, 3), dtype=np.float32),
    )


def _check_time(now: object) -> None:
    if isinstance(now, bool) or not isinstance(now, (int, float, np.integer, np.floating)):
        raise TypeError(f"now must be a number of seconds, got {type(now).__name__}")
    if not math.isfinite(float(now)):
        raise ValueError(f"now must be finite, got {now!r}")


def _check_positive(name: str, value: object, allow_inf: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    v = float(value)
    if not v > 0 or math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(
            f"{name} must be a positive {'number' if allow_inf else 'finite number'}, "
            f"got {value!r}"
        )
