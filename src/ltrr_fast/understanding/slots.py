"""Slot matching: spans of a query mapped to catalog values, typos included.

Every value of every slot field (artist names, genres, albums, ...) is tokenised once and
indexed three ways: by its whole normalised text (exact matches cost one dict lookup), by each
of its words (posting lists sorted shortest value first), and through a delete neighbourhood
of the word vocabulary (each word with one letter removed, two for long words), which finds the
vocabulary words within a small edit distance of a misspelt query word without comparing it to
the whole vocabulary. Candidates found this way are then scored with rapidfuzz. Only query
words absent from the vocabulary are looked up as typos.

Confidence of a span matched to a value:

* exact match of the whole value: 1;
* whole value, with typos: the rapidfuzz ``ratio`` of span and value, in [0, 1];
* part of a value (``"taylor"`` in ``"taylor swift"``): the rapidfuzz ``partial_ratio`` of the
  span within the value, times ``0.5 + 0.5 * coverage`` (the share of the value's characters
  the best-aligned window holds), times ``0.5 + 0.5 * idf`` (how rare the span's rarest word
  is among the field's values, scaled to [0, 1]), times ``0.7 + 0.3 * prominence`` (how many
  items carry the value, on a log scale relative to the field's most common value).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from ltrr_fast.understanding.normalize import tokenize
from ltrr_fast.understanding.parsed import Slot

logger = logging.getLogger(__name__)

#: Longest span, in words, matched against values.
MAX_SPAN = 6
#: Candidates scored per span and posting list; posting lists are sorted shortest value first,
#: which are the ones a part-match scores highest on.
SCAN_LIMIT = 8
#: Words shorter than this are matched exactly only.
MIN_FUZZY_LENGTH = 4
#: Words at least this long may be two edits away from a vocabulary word; shorter ones one.
TWO_EDITS_LENGTH = 8
#: Lowest rapidfuzz similarity (0 to 1) for a vocabulary word to stand in for a query word.
MIN_WORD_SIMILARITY = 0.75
#: Vocabulary words kept per misspelt query word.
MAX_EXPANSIONS = 3


@dataclass(frozen=True)
class _Value:
    field: int
    text: str  # as stored in the catalog
    normalized: str
    tokens: tuple[str, ...]
    token_set: frozenset[str]
    n_items: int
    prominence: float = 1.0  # 0.7 + 0.3 * log1p(n_items) / log1p(most items of a value)


class SlotMatcher:
    """Finds catalog values in queries, exactly or despite typos.

    Parameters
    ----------
    values : mapping of str to iterable of str
        For each slot field, its values, one entry per item carrying it (repeats count how many
        items carry a value, which breaks ties between equally good matches).
    min_confidence : float
        Matches below this confidence are dropped.
    max_per_field : int
        Most slots kept per field, best first.
    max_slots : int
        Most slots kept in all.
    """

    def __init__(
        self,
        values: Mapping[str, Iterable[str]],
        *,
        min_confidence: float = 0.45,
        max_per_field: int = 3,
        max_slots: int = 10,
    ) -> None:
        if not isinstance(values, Mapping):
            raise TypeError(f"values must map field names to values, got {type(values).__name__}")
        if not 0.0 <= float(min_confidence) <= 1.0:
            raise ValueError(f"min_confidence must lie in [0, 1], got {min_confidence!r}")
        for name, limit in (("max_per_field", max_per_field), ("max_slots", max_slots)):
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError(f"{name} must be a positive int, got {limit!r}")
        self.fields: tuple[str, ...] = tuple(values)
        self.min_confidence = float(min_confidence)
        self.max_per_field = max_per_field
        self.max_slots = max_slots
        self._values: list[_Value] = []
        self._exact: dict[tuple[int, str], int] = {}
        # Per word, per field: values holding the word, shortest first.
        self._postings: dict[str, list[list[int]]] = {}
        self._n_postings: dict[str, int] = {}
        self._field_df: list[dict[str, int]] = []
        self._field_size: list[int] = []
        for f, name in enumerate(self.fields):
            if not isinstance(name, str) or not name:
                raise ValueError(f"slot field names must be non-empty str, got {name!r}")
            self._add_field(f, name, values[name])
        for word, per_field in self._postings.items():
            for postings in per_field:
                postings.sort(
                    key=lambda v: (len(self._values[v].normalized), -self._values[v].n_items)
                )
            self._n_postings[word] = sum(len(p) for p in per_field)
        self._deletes: dict[str, list[str]] = {}
        for word in self._postings:
            for key in _deletes(word):
                self._deletes.setdefault(key, []).append(word)
        logger.debug(
            "slot matcher: %d values, %d words, %d delete keys",
            len(self._values),
            len(self._postings),
            len(self._deletes),
        )

    def _add_field(self, f: int, name: str, texts: Iterable[str]) -> None:
        if isinstance(texts, str):
            raise TypeError(f"values of field {name!r} must be an iterable of str, not one str")
        counts: dict[str, int] = {}
        first: dict[str, str] = {}
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"values of field {name!r} must be str, got {type(text).__name__}")
            norm = " ".join(tokenize(text))
            if norm:
                counts[norm] = counts.get(norm, 0) + 1
                first.setdefault(norm, text)
        df: dict[str, int] = {}
        for norm, n_items in counts.items():
            tokens = tuple(norm.split(" "))
            v = len(self._values)
            self._values.append(_Value(f, first[norm], norm, tokens, frozenset(tokens), n_items))
            self._exact[(f, norm)] = v
            for token in set(tokens):
                per_field = self._postings.get(token)
                if per_field is None:
                    per_field = self._postings[token] = [[] for _ in self.fields]
                per_field[f].append(v)
                df[token] = df.get(token, 0) + 1
        self._field_df.append(df)
        self._field_size.append(len(counts))
        most = math.log1p(max(counts.values(), default=1))
        for v in range(len(self._values) - len(counts), len(self._values)):
            value = self._values[v]
            factor = 0.7 + 0.3 * math.log1p(value.n_items) / most
            self._values[v] = dataclasses.replace(value, prominence=factor)

    @property
    def n_values(self) -> int:
        """Distinct values over all fields."""
        return len(self._values)

    def match(self, tokens: Sequence[str]) -> list[Slot]:
        """Slots found in a tokenised query, best first.

        Parameters
        ----------
        tokens : sequence of str
            Words of the normalised query (see :func:`~ltrr_fast.understanding.tokenize`).

        Returns
        -------
        list of Slot
            At most ``max_per_field`` per field and ``max_slots`` in all, each value once (with
            its best span), sorted by confidence, then longer span, then more items.
        """
        n = len(tokens)
        expansions = [self._expand(t) for t in tokens]
        best: dict[int, tuple[float, int, int]] = {}
        for start in range(n):
            for end in range(start + 1, min(n, start + MAX_SPAN) + 1):
                if not expansions[end - 1]:
                    break
                if not self._match_span(tokens, expansions, start, end, best):
                    break  # no value holds these words, so none holds a longer span
        ranked = sorted(
            best.items(),
            key=lambda item: (
                -item[1][0],
                item[1][1] - item[1][2],
                -self._values[item[0]].n_items,
            ),
        )
        per_field = [0] * len(self.fields)
        slots: list[Slot] = []
        for v, (confidence, start, end) in ranked:
            value = self._values[v]
            if per_field[value.field] >= self.max_per_field:
                continue
            per_field[value.field] += 1
            slots.append(Slot(self.fields[value.field], value.text, start, end, confidence))
            if len(slots) >= self.max_slots:
                break
        return slots

    def _expand(self, token: str) -> list[tuple[str, float]]:
        """Vocabulary words standing for a query word, with their similarity."""
        if token in self._postings:
            return [(token, 1.0)]
        out: list[tuple[str, float]] = []
        if len(token) < MIN_FUZZY_LENGTH or token.isdigit():
            return out
        seen = {token}
        scored = []
        for key in _deletes(token):
            for word in self._deletes.get(key, ()):
                if word in seen:
                    continue
                seen.add(word)
                similarity = fuzz.ratio(token, word) / 100.0
                if similarity >= MIN_WORD_SIMILARITY:
                    scored.append((similarity, self._n_postings[word], word))
        scored.sort(reverse=True)
        out.extend((word, sim) for sim, _, word in scored[:MAX_EXPANSIONS])
        return out

    def _match_span(
        self,
        tokens: Sequence[str],
        expansions: list[list[tuple[str, float]]],
        start: int,
        end: int,
        best: dict[int, tuple[float, int, int]],
    ) -> bool:
        """Score the values holding the span; False when no value holds all its words."""
        span_text = " ".join(tokens[start:end])
        length = end - start
        # Whole-value exact matches: one lookup per field.
        for f in range(len(self.fields)):
            v = self._exact.get((f, span_text))
            if v is not None:
                _keep(best, v, 1.0, start, end)
        # Candidates: values holding a stand-in of the span's rarest position.
        rarest = min(
            range(start, end), key=lambda i: min(self._n_postings[w] for w, _ in expansions[i])
        )
        others = [[w for w, _ in expansions[i]] for i in range(start, end) if i != rarest]
        held = False
        span_tokens = tokens[start:end]
        for word, word_similarity in expansions[rarest]:
            for f, postings in enumerate(self._postings[word]):
                if not postings:
                    continue
                specificity = self._specificity(f, span_tokens)
                for v in postings[:SCAN_LIMIT]:
                    value = self._values[v]
                    if len(value.tokens) < length:
                        continue
                    if others and not all(any(w in value.token_set for w in ws) for ws in others):
                        continue
                    held = True
                    if len(value.tokens) == length:
                        if v not in best or best[v][0] < 1.0:
                            confidence = fuzz.ratio(span_text, value.normalized) / 100.0
                            if confidence >= self.min_confidence:
                                _keep(best, v, confidence, start, end)
                        continue
                    # Part of a value. Values come shortest first, so once even a perfect
                    # window could not reach min_confidence, no later one can.
                    coverage = min(1.0, len(span_text) / len(value.normalized))
                    bound = word_similarity * (0.5 + 0.5 * coverage) * specificity
                    if bound < self.min_confidence:
                        break
                    if v in best and best[v][0] >= bound * value.prominence:
                        continue
                    confidence = self._part_score(value, span_text, specificity)
                    if confidence >= self.min_confidence:
                        _keep(best, v, confidence, start, end)
        return held

    def _specificity(self, f: int, span_tokens: Sequence[str]) -> float:
        """``0.5 + 0.5 * idf`` of the span's rarest word among field ``f``'s values."""
        df_table = self._field_df[f]
        df = min((df_table[t] for t in span_tokens if t in df_table), default=1)
        n_values = self._field_size[f]
        idf = math.log((n_values + 1) / (df + 0.5)) / math.log((n_values + 1) / 0.5)
        return 0.5 + 0.5 * max(0.0, idf)

    @staticmethod
    def _part_score(value: _Value, span_text: str, specificity: float) -> float:
        """Confidence of a span matching part of a value (see the module notes)."""
        alignment = fuzz.partial_ratio_alignment(span_text, value.normalized)
        if alignment is None:
            return 0.0
        window = alignment.dest_end - alignment.dest_start
        coverage = min(1.0, window / len(value.normalized))
        similarity = alignment.score / 100.0
        return similarity * (0.5 + 0.5 * coverage) * specificity * value.prominence


def _keep(
    best: dict[int, tuple[float, int, int]], v: int, confidence: float, s: int, e: int
) -> None:
    old = best.get(v)
    if old is None or confidence > old[0] or (confidence == old[0] and e - s > old[2] - old[1]):
        best[v] = (confidence, s, e)


def _deletes(word: str) -> set[str]:
    """The word and every string made from it by deleting one letter (two for long words)."""
    if len(word) < MIN_FUZZY_LENGTH or word.isdigit():
        return {word}
    out = {word}
    frontier = {word}
    for _ in range(2 if len(word) >= TWO_EDITS_LENGTH else 1):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out
