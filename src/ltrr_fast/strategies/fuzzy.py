"""Fuzzy strategy: typo-tolerant matching of names through character n-gram terms.

Each name field (title, artist) of every item is indexed in a compiled
:class:`~ltrr_fast.index.LexicalIndex` as the character n-grams of its words, with word
boundaries marked (``"^ta"``, ``"tay"``, ..., ``"or$"``). A query is cut the same way and
BM25 over the n-grams finds items sharing many of them, even when a word is misspelled. The
best ``pool`` of these are re-scored by edit distance between the query's words and the
item's words, so a name one or two edits away ("tayler swift", "beyonse") comes first.

The analyzer keeps only letters and digits in a term, so terms are spelled with an escape: a
boundary is ``"0x"``, a digit ``d`` is ``"0d"``, a deletion variant starts with ``"0y"``;
letters stand for themselves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence

import numpy as np

from ltrr_fast.index.catalog import Catalog
from ltrr_fast.index.lexical import LexicalIndex
from ltrr_fast.strategies.base import Candidates, Strategy
from ltrr_fast.understanding.parsed import ParsedQuery

logger = logging.getLogger(__name__)


class FuzzyStrategy(Strategy):
    """Items whose names are within a few edits of the query's words.

    Parameters
    ----------
    catalog : Catalog
        The shared catalog; its live items are indexed at construction.
    fields : sequence of str
        Text fields holding names.
    ngram : int
        Length of the character n-grams (boundary marks included).
    pool : int
        How many n-gram hits (at least the quota) are re-scored by edit distance.
    max_edits : int
        Most edits allowed for a word of six letters or more; words of three to five letters
        allow one edit (at most ``max_edits``), shorter words must match exactly.

    Notes
    -----
    The score of an item is the mean, over the query's words, of ``1 - edits / length`` for
    the item word nearest to it (0 when none is within the allowed edits), plus a tie-break
    of at most 0.001 from the n-gram BM25 score. Features: that similarity, the n-gram BM25
    score and the total edits of the matched words. Call :meth:`index_items` and
    :meth:`delete_items` as the catalog changes.
    """

    name = "fuzzy"
    feature_names = ("fuzzy_similarity", "fuzzy_gram_score", "fuzzy_edits")

    def __init__(
        self,
        catalog: Catalog,
        fields: Sequence[str] = ("title", "artist"),
        *,
        ngram: int = 3,
        pool: int = 200,
        max_edits: int = 2,
    ) -> None:
        try:
            from rapidfuzz.distance import Levenshtein
            from rapidfuzz.process import cdist
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError(
                "FuzzyStrategy needs the rapidfuzz package; "
                "install it with `pip install rapidfuzz`"
            ) from error
        self._distance, self._cdist = Levenshtein.distance, cdist
        if not isinstance(catalog, Catalog):
            raise TypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
        fields = (fields,) if isinstance(fields, str) else tuple(fields)
        unknown = sorted(set(fields) - set(catalog.text_fields))
        if not fields or unknown:
            raise ValueError(
                f"fields must name text fields of the catalog {list(catalog.text_fields)}, "
                f"got {list(fields)}"
            )
        for label, value, low in (
            ("ngram", ngram, 2),
            ("pool", pool, 1),
            ("max_edits", max_edits, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{label} must be an int >= {low}, got {value!r}")
        self.catalog, self.fields = catalog, fields
        self.ngram, self.pool, self.max_edits = ngram, pool, max_edits
        self._grams = LexicalIndex(fields=fields)
        self._term_ok: dict[str, bool] = {}
        self._lock = threading.Lock()
        # Words of each item's fields, kept for re-scoring (bounded; cleared when full).
        self._item_words: dict[int, list[str]] = {}
        self.index_items(np.flatnonzero(catalog.live_mask()))

    # Keeping up with the catalog

    def index_items(self, doc_ids: Iterable[int] | np.ndarray) -> None:
        """Index (or re-index) items from the catalog's current text."""
        ids = np.asarray(doc_ids if isinstance(doc_ids, np.ndarray) else list(doc_ids))
        ids = ids.astype(np.int64).ravel().tolist()
        if not ids:
            return
        for d in ids:
            self._item_words.pop(d, None)
        if len(ids) > 1000:  # many items: one copy of each column beats a lookup per item
            columns = {name: self.catalog.texts(name) for name in self.fields}
            texts = {name: [columns[name][d] for d in ids] for name in self.fields}
        else:
            texts = {name: [self.catalog.text(name, d) for d in ids] for name in self.fields}
        with self._lock:
            grams = {name: [self._gram_text(t) for t in texts[name]] for name in self.fields}
        self._grams.add_batch([str(d) for d in ids], grams)
        logger.debug("fuzzy index holds %d items", len(self._grams))

    def delete_items(self, doc_ids: Iterable[int] | np.ndarray) -> int:
        """Drop items; returns how many were indexed."""
        ids = [int(d) for d in np.asarray(list(doc_ids)).ravel()]
        for d in ids:
            self._item_words.pop(d, None)
        return sum(self._grams.delete(str(d)) for d in ids)

    def __len__(self) -> int:
        return len(self._grams)

    # Retrieval

    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        words = self._words(query.text)
        if not words or quota < 1:
            return Candidates.empty(len(self.feature_names))
        # The n-gram search looks for the longest few words: short ones (a, for, the) have
        # common n-grams that cost time and say little; re-scoring still uses every word.
        longest = sorted(words, key=len, reverse=True)[:_GRAM_WORDS]
        with self._lock:
            gram_query = " ".join(self._grams_of(w) for w in longest)
        hits = self._grams.search(gram_query, k=max(self.pool, quota))
        doc_ids = np.asarray([int(x) for x in hits.ids], dtype=np.int64)
        live = self.catalog.is_live(doc_ids)
        doc_ids, gram_scores = doc_ids[live], hits.scores[live]
        if doc_ids.shape[0] == 0:
            return Candidates.empty(len(self.feature_names))
        if time.perf_counter() > deadline:  # no time to re-score: the n-gram order stands
            n = min(quota, doc_ids.shape[0])
            features = np.zeros((n, 3), dtype=np.float32)
            features[:, 1] = gram_scores[:n]
            return Candidates.from_arrays(doc_ids[:n], gram_scores[:n], features)
        similarity, edits = self._rescore(words, doc_ids)
        top = gram_scores.max()
        score = similarity + 1e-3 * gram_scores / (top if top > 0 else 1.0)
        keep = similarity > 0
        order = np.flatnonzero(keep)[np.argsort(-score[keep], kind="stable")][:quota]
        features = np.stack([similarity[order], gram_scores[order], edits[order]], axis=1)
        return Candidates.from_arrays(doc_ids[order], score[order], features)

    def allowed_edits(self, length: int) -> int:
        """Edits allowed for a query word of this many characters."""
        if length <= 2:
            return 0
        if length <= 5:
            return min(1, self.max_edits)
        return self.max_edits

    def _rescore(self, words: list[str], doc_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per item: mean similarity of the query's words to its nearest words, and edits."""
        item_words: list[str] = []
        owner: list[int] = []
        cache = self._item_words
        for row, d in enumerate(doc_ids.tolist()):
            tokens = cache.get(d)
            if tokens is None:
                tokens = [
                    w for name in self.fields for w in self._words(self.catalog.text(name, d))
                ]
                if len(cache) >= _WORD_CACHE_ITEMS:
                    cache.clear()
                cache[d] = tokens
            item_words.extend(tokens)
            owner.extend([row] * len(tokens))
        n_items = doc_ids.shape[0]
        if not item_words:
            return np.zeros(n_items, np.float32), np.zeros(n_items, np.float32)
        distances = np.asarray(
            self._cdist(words, item_words, scorer=self._distance, dtype=np.int32, workers=1)
        )
        query_len = np.asarray([len(w) for w in words])[:, None]
        item_len = np.asarray([len(w) for w in item_words])[None, :]
        allowed = np.asarray([self.allowed_edits(len(w)) for w in words])[:, None]
        match = distances <= allowed
        sim = np.where(match, 1.0 - distances / np.maximum(query_len, item_len), 0.0)
        # Best item word per (query word, item): a segmented max over each item's words.
        owner_arr = np.asarray(owner)
        starts = np.flatnonzero(np.r_[True, owner_arr[1:] != owner_arr[:-1]])
        best_sim = np.zeros((len(words), n_items))
        best_sim[:, owner_arr[starts]] = np.maximum.reduceat(sim, starts, axis=1)
        # Fewest edits of a matching item word (0 where no word matched).
        edits = np.minimum.reduceat(np.where(match, distances, _NO_MATCH), starts, axis=1)
        best_edits = np.zeros((len(words), n_items))
        best_edits[:, owner_arr[starts]] = np.where(edits == _NO_MATCH, 0, edits)
        return best_sim.mean(axis=0).astype(np.float32), best_edits.sum(axis=0).astype(np.float32)

    # Words and n-grams

    def _words(self, text: str) -> list[str]:
        return self._grams.tokenize(text)

    def _gram_text(self, text: str) -> str:
        return " ".join(self._grams_of(w) for w in self._words(text))

    def _grams_of(self, word: str) -> str:
        """The escaped terms of one word, space-separated (the lock is held).

        N-grams of the marked word, and for words of three to five characters (too short
        for one edit to leave an n-gram intact) the word and its one-deletion variants, so
        that two such words one edit apart share a term.
        """
        marked = "\x02" + word + "\x03"
        n = self.ngram
        if len(marked) <= n:
            grams = [marked]
        else:
            grams = [marked[i : i + n] for i in range(len(marked) - n + 1)]
        if 3 <= len(word) <= 5:
            variants = {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}
            grams.extend("\x01" + v for v in sorted(variants))
        terms = []
        for gram in grams:
            term = "".join(_ESCAPES.get(c, c) for c in gram)
            ok = self._term_ok.get(term)
            if ok is None:
                # Scripts split by the analyzer (e.g. CJK bigrams) cannot form one term.
                ok = self._grams.tokenize(term) == [term]
                if len(self._term_ok) < 2_000_000:
                    self._term_ok[term] = ok
            if ok:
                terms.append(term)
        if not terms:
            terms.append(word)  # an unsplittable word still matches exactly
        return " ".join(terms)


_GRAM_WORDS = 4  # query words whose n-grams are searched
_WORD_CACHE_ITEMS = 200_000  # items whose words are kept for re-scoring
_NO_MATCH = 1 << 20
_ESCAPES = {"\x01": "0y", "\x02": "0x", "\x03": "0x", **{str(d): f"0{d}" for d in range(10)}}
