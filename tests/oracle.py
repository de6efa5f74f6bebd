"""Brute-force BM25 / BM25F scorer: the independent reference for the index.

It follows the formulas of the lexical index API in the most direct way:
every live doc is a dict of per-field token lists, collection statistics are
recomputed from scratch after every change, every matching doc is scored in
full, and ranking sorts them all.
Nothing here is shared with the compiled index except the token lists it is
given.

Per field ``f`` with weight ``w_f`` (default 1) and ``b_f`` (one ``b`` for all
fields, or one per field with 0.75 for fields left out)::

    B_f   = 1 - b_f + b_f * dl_f / avgdl_f
    tf~   = sum_f w_f * tf_f / B_f
    lucene:    idf = ln(1 + (N - df + 0.5) / (df + 0.5));  tfc = tf~ / (tf~ + k1)
    robertson: idf = ln(max(1, (N - df + 0.5) / (df + 0.5))); tfc = tf~ / (tf~ + k1)
    atire:     idf = ln(N / df);                           tfc = tf~ * (k1 + 1) / (tf~ + k1)
    score(d) = sum over distinct query terms t in d of qtf(t) * idf(t) * tfc(t, d)
               + prior_weight * log1p(static_score(d))

With one field of weight 1 this is ``tf / (tf + k1 * B)``. ``N`` is the number
of live docs, ``df`` the number of live docs holding ``t`` in any field,
``dl_f`` a doc's token count in field ``f`` and ``avgdl_f`` its mean over live
docs. A doc *matches* when it holds at least one query term in any field;
only matching docs are ranked, best first, exact ties by insertion order.
A field of weight 0 is left out of the query altogether (of ``df`` and of
matching too), as ``BM25Params`` documents; fields not named weigh 1.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

VARIANTS = ("lucene", "robertson", "atire")


@dataclass(frozen=True)
class OracleParams:
    """Scoring parameters, mirroring ``ltrr_fast.index.BM25Params``."""

    variant: str = "lucene"
    k1: float = 1.2
    b: float | Mapping[str, float] = 0.75
    field_weights: Mapping[str, float] | None = None
    prior_weight: float = 0.0


@dataclass
class _Doc:
    fields: dict[str, Counter[str]]
    lengths: dict[str, int]
    static_score: float


def idf(variant: str, n_docs: int, df: int) -> float:
    """Inverse document frequency of a term held by ``df`` of ``n_docs`` docs."""
    if variant == "lucene":
        return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
    if variant == "robertson":
        return math.log(max(1.0, (n_docs - df + 0.5) / (df + 0.5)))
    if variant == "atire":
        return math.log(n_docs / df)
    raise ValueError(f"unknown variant {variant!r}; valid: {VARIANTS}")


def tf_component(variant: str, pseudo_tf: float, k1: float) -> float:
    """Saturated term frequency of a length-normalised (pseudo) tf."""
    if variant == "atire":
        return pseudo_tf * (k1 + 1.0) / (pseudo_tf + k1)
    return pseudo_tf / (pseudo_tf + k1)


class OracleBM25:
    """A BM25F index that scores every matching doc in full for each query.

    Parameters
    ----------
    fields : sequence of str
        Field names, as given to the index.
    """

    def __init__(self, fields: Sequence[str] = ("text",)) -> None:
        self.fields = tuple(fields)
        # Insertion order of the dict is the tie-break order; re-adding a
        # deleted id appends it at the end.
        self._docs: dict[str, _Doc] = {}
        self._stats: tuple[dict[str, float], dict[str, list[str]]] | None = None

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._docs

    @property
    def doc_ids(self) -> list[str]:
        """Live doc ids in insertion order."""
        return list(self._docs)

    def add(
        self,
        doc_id: str,
        tokens: Mapping[str, Sequence[str]] | Sequence[str],
        static_score: float = 0.0,
    ) -> None:
        """Add a doc given its token list per field (a plain list: first field)."""
        if doc_id in self._docs:
            raise ValueError(f"doc id {doc_id!r} is already live")
        if not isinstance(tokens, Mapping):
            tokens = {self.fields[0]: tokens}
        unknown = set(tokens) - set(self.fields)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; fields are {self.fields}")
        per_field = {name: Counter(tokens.get(name, ())) for name in self.fields}
        lengths = {name: len(tokens.get(name, ())) for name in self.fields}
        self._docs[doc_id] = _Doc(per_field, lengths, float(static_score))
        self._stats = None

    def delete(self, doc_id: str) -> bool:
        """Remove a doc; False when it is not live."""
        self._stats = None
        return self._docs.pop(doc_id, None) is not None

    def _collection_stats(self) -> tuple[dict[str, float], dict[str, list[str]]]:
        """Mean field lengths and, per term, the live docs holding it (in order)."""
        if self._stats is None:
            n_docs = max(len(self._docs), 1)
            avgdl = {
                name: sum(doc.lengths[name] for doc in self._docs.values()) / n_docs
                for name in self.fields
            }
            holders: dict[str, list[str]] = {}
            for doc_id, doc in self._docs.items():
                terms = set().union(*(doc.fields[name] for name in self.fields))
                for term in terms:
                    holders.setdefault(term, []).append(doc_id)
            self._stats = (avgdl, holders)
        return self._stats

    def _weights(self, params: OracleParams) -> dict[str, float]:
        if params.field_weights is None:
            return {name: 1.0 for name in self.fields}
        return {name: float(params.field_weights.get(name, 1.0)) for name in self.fields}

    def _holders(
        self, term: str, holders: Mapping[str, list[str]], weights: Mapping[str, float]
    ) -> list[str]:
        """Live docs holding ``term`` in a field of positive weight, in insertion order."""
        docs = holders.get(term, [])
        if all(weight > 0 for weight in weights.values()):
            return docs
        return [
            doc_id
            for doc_id in docs
            if any(
                weights[name] > 0 and self._docs[doc_id].fields[name][term] > 0
                for name in self.fields
            )
        ]

    def scores(
        self, query_tokens: Iterable[str], params: OracleParams = OracleParams()
    ) -> dict[str, float]:
        """Score every matching doc.

        Parameters
        ----------
        query_tokens : iterable of str
            Query terms; a repeated term counts that many times.
        params : OracleParams
            Variant, saturation, length normalisation and field weights.

        Returns
        -------
        dict of str to float
            Score of every matching doc, in insertion order.
        """
        query_counts = Counter(query_tokens)
        n_docs = len(self._docs)
        avgdl, holders = self._collection_stats()
        weights = self._weights(params)
        if isinstance(params.b, Mapping):
            field_b = {name: float(params.b.get(name, 0.75)) for name in self.fields}
        else:
            field_b = {name: float(params.b) for name in self.fields}

        # Term at a time over the docs holding each term: a doc matches when
        # it holds any query term, so this is still every doc that can score.
        totals: dict[str, float] = {}
        for term, qtf in query_counts.items():
            term_holders = self._holders(term, holders, weights)
            if not term_holders:
                continue
            term_idf = idf(params.variant, n_docs, len(term_holders))
            for doc_id in term_holders:
                doc = self._docs[doc_id]
                pseudo_tf = 0.0
                for name in self.fields:
                    tf = doc.fields[name][term] if weights[name] > 0 else 0
                    if tf > 0:
                        b = field_b[name]
                        norm = 1.0 - b + b * doc.lengths[name] / avgdl[name]
                        pseudo_tf += weights[name] * tf / norm
                weight = qtf * term_idf * tf_component(params.variant, pseudo_tf, params.k1)
                totals[doc_id] = totals.get(doc_id, 0.0) + weight

        result: dict[str, float] = {}
        for doc_id, doc in self._docs.items():
            if doc_id in totals:
                score = totals[doc_id]
                if params.prior_weight:
                    score += params.prior_weight * math.log1p(doc.static_score)
                result[doc_id] = score
        return result

    def tie_keys(
        self,
        query_tokens: Iterable[str],
        params: OracleParams = OracleParams(),
        doc_ids: Iterable[str] | None = None,
    ) -> dict[str, Hashable]:
        """Per matching doc, everything its score depends on besides collection statistics.

        Two docs with equal keys get bit-identical scores from any deterministic
        scorer, so they are the exact ties that insertion order must break. Docs
        whose scores are only mathematically equal (say tf 1 in 3 tokens and tf 3
        in 9 tokens with ``b = 1``) can differ in the last bit, as rounding goes.
        Keys cover ``doc_ids`` when given (e.g. from :func:`contenders`), else
        every matching doc.
        """
        terms = list(Counter(query_tokens))
        if doc_ids is None:
            _, holders = self._collection_stats()
            weights = self._weights(params)
            doc_ids = set().union(*(self._holders(term, holders, weights) for term in terms))
        keys: dict[str, Hashable] = {}
        for doc_id in doc_ids:
            doc = self._docs[doc_id]
            keys[doc_id] = (
                tuple(
                    tuple(doc.fields[name].get(term, 0) for name in self.fields) for term in terms
                ),
                tuple(doc.lengths[name] for name in self.fields),
                doc.static_score if params.prior_weight else None,
            )
        return keys

    def search(
        self, query_tokens: Iterable[str], k: int, params: OracleParams = OracleParams()
    ) -> list[tuple[str, float]]:
        """Top ``k`` matching docs as ``(doc_id, score)``, best first.

        Exact ties keep insertion order (Python's sort is stable).
        """
        scored = self.scores(query_tokens, params)
        ranked = sorted(scored.items(), key=lambda item: -item[1])
        return ranked[: max(k, 0)]


def contenders(
    oracle_scores: Mapping[str, float], k: int, rel_tol: float = 1e-5, abs_tol: float = 1e-7
) -> list[str]:
    """Docs scoring at least about the k-th best: all that can enter a top ``k`` or tie there."""
    if k <= 0 or not oracle_scores:
        return []
    floor = sorted(oracle_scores.values(), reverse=True)[:k][-1]
    return [
        doc_id
        for doc_id, score in oracle_scores.items()
        if score >= floor or math.isclose(score, floor, rel_tol=rel_tol, abs_tol=abs_tol)
    ]


def top_k_problems(
    ids: Sequence[str],
    scores: Sequence[float],
    oracle_scores: Mapping[str, float],
    insertion_order: Mapping[str, int],
    k: int,
    rel_tol: float = 1e-5,
    abs_tol: float = 1e-7,
    tie_keys: Mapping[str, Hashable] | None = None,
) -> list[str]:
    """Differences between a ranked top ``k`` and the oracle's scores.

    Parameters
    ----------
    ids, scores : sequence
        The ranking under test, best first, with its scores.
    oracle_scores : mapping of str to float
        Oracle score of every matching doc (from :meth:`OracleBM25.scores`).
    insertion_order : mapping of str to int
        Rank of each live doc in insertion order (the tie-break order).
    k : int
        Requested number of hits.
    rel_tol, abs_tol : float
        Score tolerance, as in :func:`math.isclose`.
    tie_keys : mapping of str to hashable, optional
        From :meth:`OracleBM25.tie_keys`, covering at least :func:`contenders`
        and ``ids``; docs with equal keys are exact ties. Without it, equal
        oracle scores are.

    Returns
    -------
    list of str
        One line per problem; empty when the ranking is a correct top ``k``.

    Notes
    -----
    Exact ties must follow insertion order, also across the cut-off. Other
    docs whose scores are closer than the tolerance (near-ties) may come out
    in either order; without near-ties the id lists must be identical.
    """

    def close(a: float, b: float) -> bool:
        return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)

    keys: Mapping[str, Hashable] = oracle_scores if tie_keys is None else tie_keys
    problems: list[str] = []
    expected = sorted(oracle_scores.items(), key=lambda item: -item[1])[: max(k, 0)]
    if len(ids) != len(expected):
        problems.append(
            f"{len(ids)} hits, expected {len(expected)} (matches: {len(oracle_scores)}, k={k})"
        )
    if len(set(ids)) != len(ids):
        problems.append(f"duplicate ids in {list(ids)}")
    fakes = [doc_id for doc_id in ids if doc_id not in oracle_scores]
    if fakes:
        problems.append(f"docs that match no query term: {fakes}")
        return problems

    for rank, (doc_id, score) in enumerate(zip(ids, scores)):
        if not close(score, oracle_scores[doc_id]):
            problems.append(f"{doc_id}: score {score!r}, oracle {oracle_scores[doc_id]!r}")
        if rank < len(expected) and not close(oracle_scores[doc_id], expected[rank][1]):
            problems.append(
                f"rank {rank}: {doc_id} has oracle score {oracle_scores[doc_id]!r}, "
                f"the oracle's rank-{rank} score is {expected[rank][1]!r}"
            )
    if any(a < b for a, b in itertools.pairwise(scores)):
        problems.append("scores are not in descending order")

    # Exact ties: insertion order inside the list and across the cut-off.
    latest_kept: dict[Hashable, str] = {}
    for doc_id in ids:
        key = keys[doc_id]
        previous = latest_kept.get(key)
        if previous is not None and insertion_order[previous] > insertion_order[doc_id]:
            problems.append(f"exact tie {previous} before {doc_id} breaks insertion order")
        if previous is None or insertion_order[doc_id] > insertion_order[previous]:
            latest_kept[key] = doc_id
    # Only docs scoring at least about the k-th best can be in the list or tie with it.
    near_top = contenders(oracle_scores, k, rel_tol, abs_tol)
    chosen = set(ids)
    for doc_id in near_top:
        kept = latest_kept.get(keys[doc_id])
        if (
            doc_id not in chosen
            and kept is not None
            and (insertion_order[kept] > insertion_order[doc_id])
        ):
            problems.append(f"exact tie at the cut-off: {kept} kept over earlier {doc_id}")

    # Near-ties: distinct tie groups with scores within tolerance.
    group_scores = sorted({keys[doc_id]: oracle_scores[doc_id] for doc_id in near_top}.values())
    no_near_ties = all(not close(a, b) for a, b in itertools.pairwise(group_scores))
    if no_near_ties and list(ids) != [doc_id for doc_id, _ in expected]:
        problems.append("order differs with no near-ties to explain it")
    return problems
