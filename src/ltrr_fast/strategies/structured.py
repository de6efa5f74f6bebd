"""Structured strategy: fielded BM25F inside the constraints query understanding found.

Slots of attribute fields (an artist, a genre) become a filter: any of a field's matched values,
and every constrained field. Slots of text fields (a title, an album) raise that field's weight
instead. The whole normalised query is then scored with BM25F inside the filter, and when fewer
documents match than the quota, the rest of the filter's items follow by static score (the
most popular songs of the artist the query names). Fallbacks, in order:

1. the filter keeps no item: the least confident field is dropped, and so on;
2. no constraint is left, or the query has no slots: plain BM25F with the field weights.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

import numpy as np

from ltrr_fast.index import BM25Params
from ltrr_fast.strategies.base import Candidates, Strategy
from ltrr_fast.strategies.lexical import (
    CatalogIndex,
    check_quota,
    constraint_filter,
    slot_constraints,
)
from ltrr_fast.understanding.parsed import ParsedQuery

logger = logging.getLogger(__name__)


class StructuredStrategy(Strategy):
    """BM25F under filters from slots, with sensible fallbacks.

    Parameters
    ----------
    index : CatalogIndex
        The shared index.
    filter_fields : sequence of str, optional
        Slot fields that become filters; they must be attribute keys of the catalog. Every
        attribute key by default.
    min_confidence : float
        Least slot confidence for a filter or a field boost.
    field_weights : mapping of str to float, optional
        Base BM25F weights per text field (1 for fields left out).
    boost : float
        Factor on the weight of a text field a slot matched.
    """

    name = "structured"
    feature_names = ("structured_score", "structured_text_match", "structured_n_constraints")

    def __init__(
        self,
        index: CatalogIndex,
        *,
        filter_fields: Sequence[str] | None = None,
        min_confidence: float = 0.5,
        field_weights: Mapping[str, float] | None = None,
        boost: float = 2.0,
    ) -> None:
        if not isinstance(index, CatalogIndex):
            raise TypeError(f"index must be a CatalogIndex, got {type(index).__name__}")
        fields = tuple(index.attribute_keys if filter_fields is None else filter_fields)
        unknown = sorted(set(fields) - set(index.attribute_keys))
        if unknown:
            raise ValueError(
                f"filter_fields {unknown} are not attributes; known: {list(index.attribute_keys)}"
            )
        weights = dict(field_weights or {})
        unknown = sorted(set(weights) - set(index.fields))
        if unknown:
            raise ValueError(
                f"field_weights names unknown fields {unknown}; known: {index.fields}"
            )
        if not boost > 0:
            raise ValueError(f"boost must be > 0, got {boost!r}")
        self.index = index
        self.filter_fields = fields
        self.min_confidence = float(min_confidence)
        self.field_weights = {f: float(weights.get(f, 1.0)) for f in index.fields}
        self.boost = float(boost)
        self._params: dict[frozenset[str], BM25Params] = {}

    def constraints(self, query: ParsedQuery) -> list[tuple[str, tuple[str, ...], float]]:
        """The filter constraints of a query: (field, values, best confidence), best first."""
        return slot_constraints(query, self.filter_fields, self.min_confidence)

    def params(self, query: ParsedQuery) -> BM25Params:
        """BM25F parameters: base weights, times ``boost`` on text fields a slot matched."""
        boosted = frozenset(
            s.field
            for s in query.slots
            if s.field in self.field_weights and s.confidence >= self.min_confidence
        )
        params = self._params.get(boosted)
        if params is None:
            weights = {
                f: w * (self.boost if f in boosted else 1.0) for f, w in self.field_weights.items()
            }
            params = self._params[boosted] = BM25Params(field_weights=weights)
        return params

    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        quota = check_quota(quota)
        n_features = len(self.feature_names)
        text = query.normalized
        params = self.params(query)
        constraints = self.constraints(query)
        while constraints:
            if time.perf_counter() > deadline:
                return Candidates.empty(n_features)
            found = self._constrained(text, params, constraints, quota)
            if found is not None:
                doc_ids, scores, matched = found
                features = np.column_stack(
                    [scores, matched, np.full(scores.shape, len(constraints), np.float32)]
                )
                return Candidates.from_arrays(doc_ids, scores, features)
            logger.debug("structured: no item under %s; relaxing", constraints[-1][0])
            constraints = constraints[:-1]
        if not text or time.perf_counter() > deadline:
            return Candidates.empty(n_features)
        doc_ids, scores = self.index.search(text, quota, params=params)
        features = np.column_stack([scores, np.ones_like(scores), np.zeros_like(scores)])
        return Candidates.from_arrays(doc_ids, scores, features)

    def _constrained(
        self,
        text: str,
        params: BM25Params,
        constraints: list[tuple[str, tuple[str, ...], float]],
        quota: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Text matches inside the filter, then its other items by static score; None if empty."""
        doc_ids = np.zeros(0, dtype=np.uint32)
        scores = np.zeros(0, dtype=np.float32)
        if text:
            filter = constraint_filter(constraints)
            doc_ids, scores = self.index.search(text, quota, params=params, filter=filter)
        if doc_ids.shape[0] < quota:
            ranking = self.index.ranked(constraints)
            if ranking.shape[0] == 0:
                return None
            # The best of the filter by static score, less the text matches already taken.
            extra = ranking[:quota]
            extra = extra[~np.isin(extra, doc_ids)][: quota - doc_ids.shape[0]]
            matched = np.concatenate(
                [np.ones(doc_ids.shape[0], np.float32), np.zeros(extra.shape[0], np.float32)]
            )
            doc_ids = np.concatenate([doc_ids, extra])
            scores = np.concatenate([scores, np.zeros(extra.shape[0], np.float32)])
            return doc_ids, scores, matched
        return doc_ids, scores, np.ones(doc_ids.shape[0], np.float32)
