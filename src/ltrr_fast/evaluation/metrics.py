"""Ranking metrics over a run and relevance judgements (qrels).

Conventions follow trec_eval, so numbers are comparable with published ones:

- A *run* maps a query id to its ranked list of doc ids, best first.
- *qrels* map a query id to ``{doc_id: grade}``. A doc is relevant when its
  grade is > 0; unjudged docs count as grade 0.
- nDCG uses linear gain (gain = grade; negative grades give gain 0) and a
  log2 discount: the doc at rank ``r`` (1-based) adds ``grade / log2(r + 1)``.
  The ideal ranking sorts the relevant docs of the query by grade.
- A query with no relevant doc (no judgement, or all grades <= 0) has no
  defined score: it is *excluded*, never scored 0, and counted in
  :attr:`MetricResult.n_excluded`. Averaging such queries in as 0 would let a
  perfect ranking score below 1.
- A query with relevant docs but no entry in the run is scored as an empty
  ranking (0), like ``trec_eval -c``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

Run = Mapping[str, Sequence[str]]
Qrels = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class MetricResult:
    """The outcome of one metric over a set of queries.

    Attributes
    ----------
    mean : float
        Mean of :attr:`per_query`; ``nan`` when no query could be scored.
    per_query : dict of str to float
        Score of every evaluated query.
    n_excluded : int
        Queries seen in the run or the qrels that were left out because they
        have no relevant doc.
    """

    mean: float
    per_query: dict[str, float] = field(default_factory=dict)
    n_excluded: int = 0

    @property
    def n_queries(self) -> int:
        """Number of evaluated queries."""
        return len(self.per_query)


def _check_k(k: int | None, allow_none: bool) -> None:
    if k is None and allow_none:
        return
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")


def _ranking(run: Run, query_id: str) -> Sequence[str]:
    ranked = run.get(query_id, ())
    if len(set(ranked)) != len(ranked):
        raise ValueError(
            f"query {query_id!r}: the ranking lists a doc id more than once; "
            "deduplicate the run before evaluating"
        )
    return ranked


def _evaluate(run: Run, qrels: Qrels, score_query) -> MetricResult:
    per_query: dict[str, float] = {}
    n_excluded = 0
    for query_id in sorted(set(run) | set(qrels)):
        judged = qrels.get(query_id, {})
        if not any(grade > 0 for grade in judged.values()):
            n_excluded += 1
            continue
        per_query[query_id] = float(score_query(_ranking(run, query_id), judged))

    if n_excluded:
        logger.debug("%d queries without a relevant doc were excluded", n_excluded)
    mean = math.fsum(per_query.values()) / len(per_query) if per_query else math.nan
    return MetricResult(mean=mean, per_query=per_query, n_excluded=n_excluded)


def _dcg(grades: Sequence[float]) -> float:
    return math.fsum(grade / math.log2(rank + 2) for rank, grade in enumerate(grades))


def ndcg_at_k(run: Run, qrels: Qrels, k: int = 10) -> MetricResult:
    """Normalised discounted cumulative gain of the top ``k`` docs.

    Gain is linear (the grade) with a ``log2(rank + 1)`` discount, as in
    trec_eval's ``ndcg_cut``. Queries without a relevant doc are excluded.

    Parameters
    ----------
    run : mapping of str to sequence of str
        Ranked doc ids per query, best first.
    qrels : mapping of str to mapping of str to int
        Grades per query and doc.
    k : int, default 10
        Rank cut-off.

    Returns
    -------
    MetricResult
        Mean over evaluated queries, per-query values and the excluded count.

    Examples
    --------
    >>> ndcg_at_k({"q": ["a", "b"]}, {"q": {"a": 1}}, k=10).mean
    1.0
    """
    _check_k(k, allow_none=False)

    def score(ranked: Sequence[str], judged: Mapping[str, int]) -> float:
        gains = [max(judged.get(doc_id, 0), 0) for doc_id in ranked[:k]]
        ideal = sorted((grade for grade in judged.values() if grade > 0), reverse=True)[:k]
        return _dcg(gains) / _dcg(ideal)

    return _evaluate(run, qrels, score)


def recall_at_k(run: Run, qrels: Qrels, k: int = 10) -> MetricResult:
    """Fraction of a query's relevant docs found in its top ``k``.

    Parameters
    ----------
    run : mapping of str to sequence of str
        Ranked doc ids per query, best first.
    qrels : mapping of str to mapping of str to int
        Grades per query and doc; grade > 0 means relevant.
    k : int, default 10
        Rank cut-off.

    Returns
    -------
    MetricResult
        Mean over evaluated queries, per-query values and the excluded count.
    """
    _check_k(k, allow_none=False)

    def score(ranked: Sequence[str], judged: Mapping[str, int]) -> float:
        relevant = {doc_id for doc_id, grade in judged.items() if grade > 0}
        return sum(doc_id in relevant for doc_id in ranked[:k]) / len(relevant)

    return _evaluate(run, qrels, score)


def mrr(run: Run, qrels: Qrels, k: int | None = None) -> MetricResult:
    """Mean reciprocal rank of the first relevant doc.

    A query whose ranking (cut at ``k`` when given) holds no relevant doc
    scores 0.

    Parameters
    ----------
    run : mapping of str to sequence of str
        Ranked doc ids per query, best first.
    qrels : mapping of str to mapping of str to int
        Grades per query and doc; grade > 0 means relevant.
    k : int or None, default None
        Rank cut-off; ``None`` uses the whole ranking.

    Returns
    -------
    MetricResult
        Mean over evaluated queries, per-query values and the excluded count.
    """
    _check_k(k, allow_none=True)

    def score(ranked: Sequence[str], judged: Mapping[str, int]) -> float:
        for rank, doc_id in enumerate(ranked[:k], start=1):
            if judged.get(doc_id, 0) > 0:
                return 1.0 / rank
        return 0.0

    return _evaluate(run, qrels, score)


def average_precision(run: Run, qrels: Qrels, k: int | None = None) -> MetricResult:
    """Average precision; its mean over queries is MAP.

    The precision at the rank of each retrieved relevant doc is summed and
    divided by the number of relevant docs of the query (retrieved or not),
    as trec_eval's ``map`` does.

    Parameters
    ----------
    run : mapping of str to sequence of str
        Ranked doc ids per query, best first.
    qrels : mapping of str to mapping of str to int
        Grades per query and doc; grade > 0 means relevant.
    k : int or None, default None
        Rank cut-off; ``None`` uses the whole ranking.

    Returns
    -------
    MetricResult
        Mean over evaluated queries (MAP), per-query values and the excluded
        count.
    """
    _check_k(k, allow_none=True)

    def score(ranked: Sequence[str], judged: Mapping[str, int]) -> float:
        n_relevant = sum(grade > 0 for grade in judged.values())
        n_hits = 0
        precisions = []
        for rank, doc_id in enumerate(ranked[:k], start=1):
            if judged.get(doc_id, 0) > 0:
                n_hits += 1
                precisions.append(n_hits / rank)
        return math.fsum(precisions) / n_relevant

    return _evaluate(run, qrels, score)
