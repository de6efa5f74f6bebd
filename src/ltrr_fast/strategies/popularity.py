"""Popularity strategy: the most popular items in the categories a query points to.

Slots of category fields (a genre, a subgenre) select the items carrying any of the matched
values (every constrained field at once); the strategy returns the best of them by static score
(popularity). A query without such slots, or whose categories hold no live item, gets the most
popular items overall. Ties go to the smaller doc id. The ranking of each category is computed
once and kept until the index is refreshed (:meth:`CatalogIndex.ranked`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np

from ltrr_fast.strategies.base import Candidates, Strategy
from ltrr_fast.strategies.lexical import (
    CatalogIndex,
    check_quota,
    slot_constraints,
    top_by_score,
)
from ltrr_fast.understanding.parsed import ParsedQuery

logger = logging.getLogger(__name__)


class PopularityStrategy(Strategy):
    """Most popular items within the query's categories, or overall.

    Parameters
    ----------
    index : CatalogIndex
        The shared index; its static score is the popularity.
    category_fields : sequence of str
        Attribute keys whose slots restrict the items, e.g. ``("genre", "subgenre")``.
    min_confidence : float
        Least slot confidence for a category to count.
    """

    name = "popularity"
    feature_names = ("popularity", "popularity_in_category")

    def __init__(
        self,
        index: CatalogIndex,
        category_fields: Sequence[str] = (),
        *,
        min_confidence: float = 0.5,
    ) -> None:
        if not isinstance(index, CatalogIndex):
            raise TypeError(f"index must be a CatalogIndex, got {type(index).__name__}")
        if isinstance(category_fields, str):
            raise TypeError("category_fields must be a sequence of names, not a single str")
        unknown = sorted(set(category_fields) - set(index.attribute_keys))
        if unknown:
            raise ValueError(
                f"category_fields {unknown} are not attributes; "
                f"known: {list(index.attribute_keys)}"
            )
        if index.static_name is None:
            raise ValueError("the index has no static score to rank by popularity")
        self.index = index
        self.category_fields = tuple(category_fields)
        self.min_confidence = float(min_confidence)
        self._overall: np.ndarray | None = None
        self._overall_for: int = -1
        self.overall()

    def overall(self) -> np.ndarray:
        """Every live doc id, most popular first (cached until the index is refreshed)."""
        if self._overall is None or self._overall_for != self.index.version:
            live = np.flatnonzero(self.index.catalog.live_mask())
            self._overall = top_by_score(live, self.index.static, live.shape[0])
            self._overall_for = self.index.version
        return self._overall

    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        quota = check_quota(quota)
        constraints = slot_constraints(query, self.category_fields, self.min_confidence)
        doc_ids = np.zeros(0, dtype=np.uint32)
        while constraints and doc_ids.shape[0] == 0:
            if time.perf_counter() > deadline:
                return Candidates.empty(len(self.feature_names))
            doc_ids = self.index.ranked(constraints)[:quota]
            constraints = constraints[:-1]
        in_category = doc_ids.shape[0] > 0
        if not in_category:
            doc_ids = self.overall()[:quota]
        scores = self.index.static[doc_ids]
        features = np.column_stack([scores, np.full(scores.shape, float(in_category))])
        return Candidates.from_arrays(doc_ids, scores, features)
