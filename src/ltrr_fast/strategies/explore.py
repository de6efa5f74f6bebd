"""Explore strategy: new or under-exposed items near the query, for counterfactual feedback.

The query's semantic neighbourhood (``pool`` times the quota nearest items) is re-weighted
toward items shown less often, and the quota is drawn from it without replacement with
probability proportional to ``similarity ** (1 / temperature) / (1 + exposure) ** strength``
(a Plackett-Luce draw through Gumbel keys, from a seeded generator, so a run replays).
Exposure counts per doc id are kept here and fed by :meth:`ExploreStrategy.record_exposure`.
"""

from __future__ import annotations

import ast
import threading
import time

import numpy as np

from ltrr_fast.index.catalog import Catalog
from ltrr_fast.index.embedding import Embedder, embed_query
from ltrr_fast.index.vectors import VectorIndex
from ltrr_fast.strategies.base import Candidates, Strategy
from ltrr_fast.understanding.parsed import ParsedQuery


class ExploreStrategy(Strategy):
    """Draws near-the-query items, favouring the rarely shown.

    Parameters
    ----------
    index : VectorIndex
        Item vectors keyed by catalog doc id.
    embedder : Embedder
        Turns the query text into a vector of ``index.dim``.
    catalog : Catalog, optional
        When given, dead items are dropped.
    pool : int
        The neighbourhood holds ``pool * quota`` nearest items.
    strength : float
        How strongly exposure lowers an item's weight (0 ignores exposure).
    temperature : float
        Lower values follow similarity more closely; higher values draw more evenly.
    seed : int
        Seed of the draws.

    Notes
    -----
    Candidates come back in order of their weight, best first; the draw decides which items
    are in the set. Features: similarity to the query and the item's exposure count at the
    time of the draw. Similarities at or below zero get a tiny weight, never zero.
    """

    name = "explore"
    feature_names = ("explore_similarity", "explore_exposure")

    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder,
        *,
        catalog: Catalog | None = None,
        pool: int = 10,
        strength: float = 1.0,
        temperature: float = 0.1,
        seed: int = 0,
    ) -> None:
        if not isinstance(index, VectorIndex):
            raise TypeError(f"index must be a VectorIndex, got {type(index).__name__}")
        if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
            raise ValueError(f"pool must be an int >= 1, got {pool!r}")
        for label, value in (("strength", strength), ("temperature", temperature)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{label} must be a number >= 0, got {value!r}")
        if temperature == 0:
            raise ValueError("temperature must be > 0")
        self.index, self.embedder, self.catalog = index, embedder, catalog
        self.pool, self.strength, self.temperature = pool, float(strength), float(temperature)
        self._rng = np.random.default_rng(seed)
        self._exposure = np.zeros(0, dtype=np.int64)
        self._lock = threading.Lock()

    # Exposure

    def record_exposure(self, doc_ids: np.ndarray | list[int]) -> None:
        """Count one showing of each doc id (repeats count again)."""
        ids = np.asarray(doc_ids)
        if ids.size == 0:
            return
        if ids.dtype.kind not in "iu" or ids.min() < 0:
            raise ValueError(f"doc_ids must be catalog doc ids (ints >= 0), got {ids.dtype}")
        ids = ids.astype(np.int64).ravel()
        with self._lock:
            self._grow(int(ids.max()) + 1)
            np.add.at(self._exposure, ids, 1)

    def exposure(self, doc_ids: np.ndarray | list[int]) -> np.ndarray:
        """Showings counted so far for each doc id (``int64``)."""
        ids = np.asarray(doc_ids, dtype=np.int64).ravel()
        with self._lock:
            out = np.zeros(ids.shape[0], dtype=np.int64)
            inside = (ids >= 0) & (ids < self._exposure.shape[0])
            out[inside] = self._exposure[ids[inside]]
            return out

    # Retrieval

    def state(self) -> dict:
        """Exposure counts and the random generator, JSON-serialisable, for :meth:`load_state`."""
        with self._lock:
            return {
                "exposure": self._exposure.tolist(),
                "rng": repr(self._rng.bit_generator.state),
            }

    def load_state(self, state: dict) -> None:
        """Continue from a :meth:`state`: same exposures, same draws to come."""
        exposure = np.asarray(state["exposure"], dtype=np.int64)
        if exposure.ndim != 1 or (exposure < 0).any():
            raise ValueError("exposure counts must be a flat list of non-negative ints")
        with self._lock:
            self._exposure = exposure
            self._rng.bit_generator.state = ast.literal_eval(state["rng"])

    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        vector = embed_query(self.embedder, query.normalized or query.text)
        if vector is None or quota < 1 or time.perf_counter() > deadline:
            return Candidates.empty(len(self.feature_names))
        hits = self.index.search(vector, self.pool * quota)
        doc_ids, similarity = hits.doc_ids.astype(np.int64), hits.scores.astype(np.float64)
        if self.catalog is not None:
            live = self.catalog.is_live(doc_ids)
            doc_ids, similarity = doc_ids[live], similarity[live]
        if doc_ids.shape[0] == 0 or time.perf_counter() > deadline:
            return Candidates.empty(len(self.feature_names))
        exposure = self.exposure(doc_ids)
        log_weight = np.log(
            np.clip(similarity, 1e-6, None)
        ) / self.temperature - self.strength * np.log1p(exposure)
        with self._lock:
            keys = log_weight + self._rng.gumbel(size=log_weight.shape[0])
        n = min(quota, doc_ids.shape[0])
        chosen = np.argpartition(-keys, n - 1)[:n]
        chosen = chosen[np.argsort(-log_weight[chosen], kind="stable")]
        scores = np.exp(log_weight[chosen] - log_weight[chosen].max())
        features = np.stack([similarity[chosen], exposure[chosen]], axis=1)
        return Candidates.from_arrays(doc_ids[chosen], scores, features)

    def _grow(self, n: int) -> None:
        if n > self._exposure.shape[0]:
            grown = np.zeros(max(n, 2 * self._exposure.shape[0], 1024), dtype=np.int64)
            grown[: self._exposure.shape[0]] = self._exposure
            self._exposure = grown
