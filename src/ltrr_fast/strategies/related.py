"""Related strategy: items beside the best lexical hits (same album, same artist).

A listener who finds a song expects the rest of its album and more of its artist next to it.
The strategy takes the top ``n_seeds`` BM25 hits of the query as seeds and returns the other
items sharing one of their relation keys (by default ``album_id`` and ``artist_name``). Only an
item's first value of each key counts.

Score of a related item: the sum, over the seeds it shares a key with, of
``seed_weight * key_weight``, where ``seed_weight = 1 / (1 + seed rank)`` and ``key_weight`` is
the key's weight (an album ties closer than an artist); ties go to the more popular item, then
the smaller doc id. Seeds themselves are left out: the lexical strategy already returns them.
When a seed's artist has very many items, only the most popular ``SHORTLIST_FACTOR * quota``
of those outside the seeds' albums are scored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import numpy as np

from ltrr_fast.index import BM25Params, Filter
from ltrr_fast.strategies.base import Candidates, Strategy
from ltrr_fast.strategies.lexical import CatalogIndex, check_quota, top_by_score
from ltrr_fast.understanding.parsed import ParsedQuery

logger = logging.getLogger(__name__)

DEFAULT_KEYS: Mapping[str, float] = {"album_id": 2.0, "artist_name": 1.0}
#: With more related items than this times the quota, only those sharing the closest key and
#: the most popular of the rest are scored.
SHORTLIST_FACTOR = 8


class RelatedStrategy(Strategy):
    """Items sharing an album or an artist with the query's best lexical hits.

    Parameters
    ----------
    index : CatalogIndex
        The shared index.
    keys : mapping of str to float
        Relation attribute keys and their weights; keys the catalog lacks are refused.
    n_seeds : int
        How many top lexical hits act as seeds.
    params : BM25Params, optional
        Scoring parameters of the seed search.
    """

    name = "related"
    feature_names = ("related_score", "related_closest_key", "related_n_shared")

    def __init__(
        self,
        index: CatalogIndex,
        keys: Mapping[str, float] = DEFAULT_KEYS,
        *,
        n_seeds: int = 3,
        params: BM25Params | None = None,
    ) -> None:
        if not isinstance(index, CatalogIndex):
            raise TypeError(f"index must be a CatalogIndex, got {type(index).__name__}")
        unknown = sorted(set(keys) - set(index.attribute_keys))
        if unknown or not keys:
            raise ValueError(
                f"keys must name attributes of the catalog; unknown: {unknown}, "
                f"known: {list(index.attribute_keys)}"
            )
        if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
            raise ValueError(f"n_seeds must be a positive int, got {n_seeds!r}")
        self.index = index
        self.keys = {k: float(w) for k, w in keys.items()}
        self.n_seeds = n_seeds
        self.params = params
        self.refresh()

    def refresh(self) -> None:
        """Re-read the relation keys after the catalog changed."""
        # Per key, an integer code of every doc id's first value (-1 for none), so scoring is
        # vectorised whatever the number of related items.
        self._codes: dict[str, np.ndarray] = {}
        self._values: dict[str, list[str]] = {}
        for key in self.keys:
            codes: dict[str, int] = {}
            column = self.index.catalog.attributes(key)
            self._codes[key] = np.asarray(
                [codes.setdefault(vs[0], len(codes)) if vs else -1 for vs in column],
                dtype=np.int64,
            )
            self._values[key] = list(codes)

    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        quota = check_quota(quota)
        empty = Candidates.empty(len(self.feature_names))
        if not query.normalized:
            return empty
        seeds, _ = self.index.search(query.normalized, self.n_seeds, params=self.params)
        if seeds.shape[0] == 0 or time.perf_counter() > deadline:
            return empty
        parts = []
        for key in self.keys:
            seed_codes = self._codes[key][seeds.astype(np.int64)]
            values = sorted({self._values[key][c] for c in seed_codes.tolist() if c >= 0})
            if values:
                parts.append(Filter.any_of(key, values))
        if not parts:
            return empty
        combined = parts[0]
        for part in parts[1:]:
            combined = combined | part
        related = self.index.filter_doc_ids(combined).astype(np.int64)
        related = related[~np.isin(related, seeds)]
        if related.shape[0] == 0 or time.perf_counter() > deadline:
            return empty
        related = self._shortlist(related, seeds.astype(np.int64), quota)
        score, closest, shared = self._score(related, seeds.astype(np.int64))
        popularity = self.index.static[related]
        order = np.lexsort((related, -popularity, -score))[:quota]
        features = np.column_stack([score[order], closest[order], shared[order]])
        return Candidates.from_arrays(related[order], score[order], features)

    def _shortlist(self, related: np.ndarray, seeds: np.ndarray, quota: int) -> np.ndarray:
        """Every item sharing the closest key, and the most popular others, when too many."""
        limit = SHORTLIST_FACTOR * quota
        if related.shape[0] <= limit:
            return related
        best_key = max(self.keys, key=lambda k: self.keys[k])
        codes = self._codes[best_key]
        seed_codes = codes[seeds]
        close = np.isin(codes[related], seed_codes[seed_codes >= 0])
        others = related[~close]
        keep = top_by_score(others, self.index.static, limit).astype(np.int64)
        return np.sort(np.concatenate([related[close], keep]))

    def _score(
        self, related: np.ndarray, seeds: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = related.shape[0]
        score = np.zeros(n, dtype=np.float32)
        closest = np.zeros(n, dtype=np.float32)
        shared = np.zeros(n, dtype=np.float32)
        best_key = max(self.keys, key=lambda k: self.keys[k])  # the closest relation
        for key, weight in self.keys.items():
            codes = self._codes[key]
            mine = codes[related]
            for rank, seed_code in enumerate(codes[seeds].tolist()):
                if seed_code < 0:
                    continue
                same = mine == seed_code
                score += np.float32(weight / (1.0 + rank)) * same
                shared += same
                if key == best_key:
                    closest[same] = 1.0
        return score, closest, shared
