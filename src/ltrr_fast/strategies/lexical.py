"""Lexical strategy: full-text BM25 over every text field of the catalog.

:class:`CatalogIndex` builds one :class:`~ltrr_fast.index.LexicalIndex` from a
:class:`~ltrr_fast.index.catalog.Catalog` (text fields, attributes as filter keys, one static
score as the prior) and maps the index's internal ids back to catalog doc ids. The lexical,
structured, popularity and related strategies share one such index.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import numpy as np

from ltrr_fast.index import BM25Params, Filter, Hits, LexicalIndex
from ltrr_fast.index.catalog import Catalog
from ltrr_fast.strategies.base import Candidates, Strategy
from ltrr_fast.understanding.features import chosen_slots
from ltrr_fast.understanding.parsed import ParsedQuery

logger = logging.getLogger(__name__)

#: Filter rankings a CatalogIndex keeps (see :meth:`CatalogIndex.ranked`).
RANKING_CACHE_SIZE = 1024
#: A chosen slot this much more confident than an overlapping one keeps it out of filters.
DOMINANCE_MARGIN = 0.25


class CatalogIndex:
    """A lexical index over a catalog's live items, answering in catalog doc ids.

    Parameters
    ----------
    catalog : Catalog
        The items; every live one is indexed, in doc id order.
    static_name : str or None
        Static score used as the BM25 prior and by the popularity strategy; the catalog's first
        static score by default, None for none.
    stopwords, stemmer
        Passed to :class:`~ltrr_fast.index.LexicalIndex` (English stop words and Snowball
        stemming by default).

    Notes
    -----
    Limitation: the index is a snapshot. Items added to or deleted from the catalog later are
    seen only after :meth:`refresh` with their doc ids.
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        static_name: str | None = "",
        stopwords: str | None = "en",
        stemmer: str | None = "english",
    ) -> None:
        if not isinstance(catalog, Catalog):
            raise TypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        if static_name == "":
            static_name = catalog.static_names[0] if catalog.static_names else None
        if static_name is not None and static_name not in catalog.static_names:
            raise ValueError(
                f"unknown static score {static_name!r}; "
                f"the catalog has {list(catalog.static_names)}"
            )
        self.catalog = catalog
        self.static_name = static_name
        self.index = LexicalIndex(fields=catalog.text_fields, stopwords=stopwords, stemmer=stemmer)
        self._to_catalog = np.zeros(0, dtype=np.uint32)
        self._ascending = True  # internal order equals catalog order: no sort needed
        self._lock = threading.Lock()
        #: Incremented by every :meth:`refresh`; caches built on the index compare it.
        self.version = 0
        self._rankings: dict[tuple[tuple[str, tuple[str, ...]], ...], np.ndarray] = {}
        self._static = np.zeros(0, dtype=np.float32)
        self.refresh(np.flatnonzero(catalog.live_mask()))

    @property
    def fields(self) -> tuple[str, ...]:
        return self.catalog.text_fields

    @property
    def attribute_keys(self) -> tuple[str, ...]:
        return self.catalog.attribute_keys

    @property
    def static(self) -> np.ndarray:
        """The static score of every catalog doc id (zeros when there is none)."""
        return self._static

    def refresh(self, doc_ids: np.ndarray | Sequence[int]) -> None:
        """(Re-)index catalog items: live ones are added or replaced, dead ones deleted."""
        doc_ids = np.asarray(doc_ids, dtype=np.int64).ravel()
        catalog = self.catalog
        live = catalog.is_live(doc_ids)
        ext = catalog.external_ids(doc_ids)
        for dead in (e for e, alive in zip(ext, live) if not alive):
            self.index.delete(dead)
        keep = doc_ids[live]
        if keep.size:
            texts = {name: catalog.texts(name) for name in catalog.text_fields}
            columns = {name: [texts[name][i] for i in keep] for name in catalog.text_fields}
            attrs = {key: catalog.attributes(key) for key in catalog.attribute_keys}
            rows = [{key: attrs[key][i] for key in attrs} for i in keep]
            static = self._catalog_static()
            added = [ext[j] for j in np.flatnonzero(live)]
            self.index.add_batch(
                added, columns, static_scores=np.maximum(static[keep], 0.0), attributes=rows
            )
            first = self.index.internal_id(added[0])
            last = self.index.internal_id(added[-1])
            if first is None or last is None or last - first != len(added) - 1:
                raise RuntimeError("the lexical index did not number a batch consecutively")
            size = max(self._to_catalog.shape[0], last + 1)
            mapping = np.zeros(size, dtype=np.uint32)
            mapping[: self._to_catalog.shape[0]] = self._to_catalog
            mapping[first : last + 1] = keep
            self._to_catalog = mapping
            # Dead internal ids are never returned, so only live ones need to ascend.
            live_internal = mapping[self.index.filter_doc_ids(Filter.all())]
            self._ascending = bool(np.all(np.diff(live_internal.astype(np.int64)) > 0))
        self._static = self._catalog_static()
        with self._lock:
            self._rankings.clear()
            self.version += 1
        logger.debug("catalog index refreshed %d items (%d live)", doc_ids.size, keep.size)

    def _catalog_static(self) -> np.ndarray:
        if self.static_name is None:
            return np.zeros(self.catalog.n_slots, dtype=np.float32)
        return self.catalog.static(self.static_name)

    def to_catalog(self, internal_ids: np.ndarray) -> np.ndarray:
        """Catalog doc ids of internal index ids."""
        return self._to_catalog[np.asarray(internal_ids, dtype=np.int64)]

    def search(
        self,
        query: str,
        k: int,
        *,
        params: BM25Params | None = None,
        filter: Filter | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k catalog doc ids (uint32) and BM25 scores (float32) for a query."""
        hits: Hits = self.index.search(query, k, params=params, filter=filter)
        return self.to_catalog(hits.doc_ids), hits.scores

    def ranked(self, constraints: Sequence[tuple[str, tuple[str, ...], float]]) -> np.ndarray:
        """Doc ids passing :func:`constraint_filter` of ``constraints``, best static score first.

        Rankings are kept (the oldest of ``RANKING_CACHE_SIZE`` dropped first) until
        :meth:`refresh`; categories and artists recur across queries, so most are computed once.
        Do not modify the returned array.
        """
        key = tuple((name, tuple(sorted(values))) for name, values, _ in constraints)
        with self._lock:
            ranking = self._rankings.get(key)
        if ranking is None:
            inside = self.filter_doc_ids(constraint_filter(constraints))
            ranking = top_by_score(inside, self._static, inside.shape[0])
            with self._lock:
                if len(self._rankings) >= RANKING_CACHE_SIZE:
                    self._rankings.pop(next(iter(self._rankings)))
                self._rankings[key] = ranking
        return ranking

    def filter_doc_ids(self, filter: Filter) -> np.ndarray:
        """Catalog doc ids (ascending) of the live items that pass a filter."""
        doc_ids = self.to_catalog(self.index.filter_doc_ids(filter))
        return doc_ids if self._ascending else np.sort(doc_ids)


def check_quota(quota: object) -> int:
    """The quota as an int >= 1, or a clear error."""
    if isinstance(quota, bool) or not isinstance(quota, (int, np.integer)):
        raise TypeError(f"quota must be an int, got {type(quota).__name__}")
    if quota < 1:
        raise ValueError(f"quota must be >= 1, got {quota}")
    return int(quota)


def rank_features(scores: np.ndarray) -> np.ndarray:
    """Two features per candidate: the score and the reciprocal of the 1-based rank."""
    n = scores.shape[0]
    out = np.empty((n, 2), dtype=np.float32)
    out[:, 0] = scores
    out[:, 1] = 1.0 / np.arange(1, n + 1, dtype=np.float32)
    return out


class LexicalStrategy(Strategy):
    """BM25 over every text field, on the normalised query.

    Parameters
    ----------
    index : CatalogIndex
        The shared index.
    params : BM25Params, optional
        Scoring parameters; field weights such as ``{"title": 2.0}`` favour a field.
    """

    name = "lexical"
    feature_names = ("lexical_score", "lexical_reciprocal_rank")

    def __init__(self, index: CatalogIndex, params: BM25Params | None = None) -> None:
        if not isinstance(index, CatalogIndex):
            raise TypeError(f"index must be a CatalogIndex, got {type(index).__name__}")
        self.index = index
        self.params = params

    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        quota = check_quota(quota)
        text = query.normalized or query.text
        if not text or time.perf_counter() > deadline:
            return Candidates.empty(len(self.feature_names))
        doc_ids, scores = self.index.search(text, quota, params=self.params)
        return Candidates.from_arrays(doc_ids, scores, rank_features(scores))


def slot_constraints(
    query: ParsedQuery, fields: Sequence[str], min_confidence: float
) -> list[tuple[str, tuple[str, ...], float]]:
    """Constraints from a query's slots: per field, its values and best confidence.

    Only slots of ``fields`` reaching ``min_confidence`` count, and none that an overlapping
    chosen slot dominates: by a longer span (``"blinding lights"`` names a title, not the artist
    ``Lights``) or by a confidence higher by more than ``DOMINANCE_MARGIN`` (``"rock"`` is the
    genre, not a part of the subgenre ``"hard rock"``). Fields come best first.
    """
    chosen = chosen_slots(query.slots)
    grouped: dict[str, tuple[list[str], float]] = {}
    for slot in query.slots:
        if slot.field not in fields or slot.confidence < min_confidence:
            continue
        if any(
            c.start < slot.end
            and slot.start < c.end
            and (
                c.end - c.start > slot.end - slot.start
                or c.confidence > slot.confidence + DOMINANCE_MARGIN
            )
            for c in chosen
        ):
            continue
        values, _ = grouped.setdefault(slot.field, ([], slot.confidence))
        if slot.value not in values:
            values.append(slot.value)
    ranked = sorted(grouped.items(), key=lambda item: -item[1][1])
    return [(name, tuple(values), best) for name, (values, best) in ranked]


def constraint_filter(constraints: Sequence[tuple[str, tuple[str, ...], float]]) -> Filter | None:
    """Any of a field's values, and every field: ``(a1 | a2) & (g1)``; None when empty."""
    parts = [Filter.any_of(name, values) for name, values, _ in constraints]
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


def top_by_score(doc_ids: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` doc ids with the highest ``scores[doc_id]``, best first; ties by smaller id.

    ``doc_ids`` must be ascending (as filters return them) for the tie rule to hold.
    """
    if doc_ids.shape[0] == 0:
        return doc_ids.astype(np.uint32)
    values = scores[doc_ids]
    if doc_ids.shape[0] > 4 * k:
        # Keep every id scoring at least the k-th best, then sort that short list stably.
        kth = np.partition(values, values.shape[0] - k)[values.shape[0] - k]
        keep = values >= kth
        doc_ids, values = doc_ids[keep], values[keep]
    order = np.argsort(-values, kind="stable")[:k]
    return doc_ids[order].astype(np.uint32)
