"""Semantic strategy: nearest neighbours of the query's embedding in the vector index."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

import numpy as np

from ltrr_fast.index.catalog import Catalog
from ltrr_fast.index.embedding import Embedder, embed_query
from ltrr_fast.index.vectors import VectorIndex
from ltrr_fast.strategies.base import Candidates, Strategy
from ltrr_fast.understanding.parsed import ParsedQuery

logger = logging.getLogger(__name__)


class SemanticStrategy(Strategy):
    """Items whose vectors are nearest the query's vector.

    Parameters
    ----------
    index : VectorIndex
        Item vectors keyed by catalog doc id.
    embedder : Embedder
        Turns the query text into a vector of ``index.dim``; the same embedder (or transform)
        that made the item vectors.
    catalog : Catalog, optional
        When given, dead items are dropped and slots can filter.
    use_slots : bool
        Search first among items whose slot fields hold the query's slot values (values of
        one field are alternatives, fields must all match), then fill the quota from the
        unfiltered neighbours. Needs ``catalog``.
    min_slot_confidence : float
        Slots matched with less confidence do not filter.

    Notes
    -----
    Features: the similarity to the query (``1 - cosine distance`` under cosine) and whether
    the candidate passed the slot filter. A query the embedder knows nothing of gives no
    candidates. The slot filter's value tables are rebuilt when the catalog gains slots or
    on :meth:`refresh`; call it after replacing items in place.
    """

    name = "semantic"
    feature_names = ("semantic_similarity", "semantic_slot_match")

    def __init__(
        self,
        index: VectorIndex,
        embedder: Embedder,
        *,
        catalog: Catalog | None = None,
        use_slots: bool = False,
        min_slot_confidence: float = 0.8,
    ) -> None:
        if not isinstance(index, VectorIndex):
            raise TypeError(f"index must be a VectorIndex, got {type(index).__name__}")
        if use_slots and catalog is None:
            raise ValueError("use_slots=True needs the catalog to resolve slot values")
        self.index, self.embedder, self.catalog = index, embedder, catalog
        self.use_slots = bool(use_slots)
        self.min_slot_confidence = float(min_slot_confidence)
        self._tables: dict[str, dict[str, np.ndarray]] = {}
        self._tables_slots = -1
        self._lock = threading.Lock()

    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        vector = embed_query(self.embedder, query.normalized or query.text)
        if vector is None or quota < 1 or time.perf_counter() > deadline:
            return Candidates.empty(len(self.feature_names))
        allowed = self._slot_filter(query) if self.use_slots else None
        if allowed is None:  # the common case: one search, nothing to merge
            hits = self.index.search(vector, quota)
            doc_ids, scores = hits.doc_ids, hits.scores
            if self.catalog is not None:
                live = self.catalog.is_live(doc_ids)
                doc_ids, scores = doc_ids[live], scores[live]
            features = np.zeros((doc_ids.shape[0], 2), dtype=np.float32)
            features[:, 0] = scores
            return Candidates(doc_ids, scores, features)
        parts = [(self.index.search(vector, quota, allowed=allowed), 1.0)]
        if len(parts[0][0]) < quota and time.perf_counter() < deadline:
            parts.append((self.index.search(vector, 2 * quota), 0.0))
        doc_ids = np.concatenate([hits.doc_ids for hits, _ in parts])
        scores = np.concatenate([hits.scores for hits, _ in parts])
        matched = np.concatenate([np.full(len(hits), flag, np.float32) for hits, flag in parts])
        keep = _first_occurrences(doc_ids) if len(parts) > 1 else np.ones(len(doc_ids), bool)
        if self.catalog is not None:
            keep &= self.catalog.is_live(doc_ids)
        doc_ids, scores, matched = (
            doc_ids[keep][:quota],
            scores[keep][:quota],
            matched[keep][:quota],
        )
        # Slot matches come first; keep the scores non-increasing as the protocol asks.
        features = np.stack([scores, matched], axis=1) if scores.shape[0] else None
        ranked = np.minimum.accumulate(scores) if scores.shape[0] else scores
        return Candidates.from_arrays(doc_ids, ranked, features)

    def refresh(self) -> None:
        """Rebuild the slot value tables from the catalog on the next filtered query."""
        with self._lock:
            self._tables, self._tables_slots = {}, -1

    def _slot_filter(self, query: ParsedQuery) -> np.ndarray | None:
        """Doc ids allowed by the query's confident slots, or None when none applies."""
        wanted: dict[str, list[str]] = {}
        for slot in query.slots:
            if slot.confidence >= self.min_slot_confidence:
                wanted.setdefault(slot.field, []).append(slot.value)
        allowed: np.ndarray | None = None
        for field_name, values in wanted.items():
            table = self._table(field_name)
            if table is None:
                continue
            found = [table.get(v.casefold()) for v in values]
            ids = np.unique(np.concatenate([f for f in found if f is not None] or [np.zeros(0)]))
            allowed = ids if allowed is None else np.intersect1d(allowed, ids)
        return None if allowed is None else allowed.astype(np.int64)

    def _table(self, field_name: str) -> Mapping[str, np.ndarray] | None:
        """Casefolded value -> doc ids, for an attribute or a text field of the catalog."""
        catalog = self.catalog
        assert catalog is not None
        with self._lock:
            if self._tables_slots != catalog.n_slots:
                self._tables, self._tables_slots = {}, catalog.n_slots
            table = self._tables.get(field_name)
            if table is not None:
                return table
            if field_name in catalog.attribute_keys:
                rows = catalog.attributes(field_name)
            elif field_name in catalog.text_fields:
                rows = [(text,) for text in catalog.texts(field_name)]
            else:
                logger.debug(
                    "slot field %r is not in the catalog; not filtering on it", field_name
                )
                return None
            lists: dict[str, list[int]] = {}
            for doc_id, values in enumerate(rows):
                for value in values or ():
                    lists.setdefault(value.casefold(), []).append(doc_id)
            table = {v: np.asarray(ids, dtype=np.int64) for v, ids in lists.items()}
            self._tables[field_name] = table
            return table


def _first_occurrences(doc_ids: np.ndarray) -> np.ndarray:
    """Mask keeping the first occurrence of each doc id."""
    keep = np.zeros(doc_ids.shape[0], dtype=bool)
    keep[np.unique(doc_ids, return_index=True)[1]] = True
    return keep
