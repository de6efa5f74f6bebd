"""Candidates and features for the queries of an ad-hoc retrieval collection (CISI, Vaswani).

The collection is indexed with a title and a text field (English stop words, Snowball
stemming). Each query's candidates are the top ``depth`` documents of BM25F over both fields
(the ``"bm25"`` strategy, Lucene variant, k1 = 1.2, b = 0.75); their features come from
:class:`~ltrr_fast.ranking.FeatureBuilder`: the strategy's score and rank, BM25 of the query
against each field alone, BM25F under other parameters (k1 = 0.5; b = 0; b = 1; k1 = 2 with
b = 0.3), the share of the query's distinct terms the document holds (plain and IDF-weighted),
the log of each document's text length in characters, query length, and how close the title
is to the query (exact match, edit distance).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ltrr_fast.index import BM25Params, LexicalIndex
from ltrr_fast.ranking.features import CandidateFeatures, FeatureBuilder, FeatureSchema

logger = logging.getLogger(__name__)

FIELDS = ("title", "text")
STRATEGY = "bm25"
VARIANTS = {
    "bm25_k1_0.5": BM25Params(k1=0.5),
    "bm25_b_0": BM25Params(b=0.0),
    "bm25_b_1": BM25Params(b=1.0),
    "bm25_k1_2_b_0.3": BM25Params(k1=2.0, b=0.3),
}


class Collection(Protocol):
    """What :func:`collection_candidates` needs of a collection (see ``IRCollection``)."""

    doc_ids: list[str]
    titles: list[str]
    texts: list[str]
    query_ids: list[str]
    queries: list[str]
    qrels: dict[str, dict[str, int]]


@dataclass
class QueryCandidates:
    """One query's candidates: features, external ids and grades, in the strategy's order."""

    query_id: str
    features: CandidateFeatures
    ids: list[str]
    grades: np.ndarray

    @property
    def X(self) -> np.ndarray:
        """The feature rows."""
        return self.features.X


@dataclass
class CollectionCandidates:
    """Candidates of every query of a collection."""

    schema: FeatureSchema
    queries: list[QueryCandidates] = field(default_factory=list)
    qrels: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def strategy_run(self) -> dict[str, list[str]]:
        """The candidates in the strategy's (BM25F) order, per query id."""
        return {query.query_id: list(query.ids) for query in self.queries}


def _field_scores(
    index: LexicalIndex, queries: Sequence[str], params: BM25Params, n_threads: int | None
) -> list[tuple[np.ndarray, np.ndarray]]:
    batch = index.search_batch(list(queries), k=len(index), params=params, n_threads=n_threads)
    return [(hits.doc_ids, hits.scores) for hits in batch]


def collection_candidates(
    collection: Collection, depth: int = 20, n_threads: int | None = None
) -> CollectionCandidates:
    """Index a collection, retrieve each query's top ``depth`` and build their features.

    Parameters
    ----------
    collection : IRCollection or alike
        Documents (ids, titles, texts), queries and judgements.
    depth : int, default 20
        Candidates per query.
    n_threads : int, optional
        Threads for the batch searches.

    Returns
    -------
    CollectionCandidates
        Queries without any candidate are left out.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be an int >= 1, got {depth!r}")
    index = LexicalIndex(fields=FIELDS, stopwords="en", stemmer="english")
    index.add_batch(
        list(collection.doc_ids), {"title": collection.titles, "text": collection.texts}
    )
    queries = list(collection.queries)
    base = index.search_batch(queries, k=depth, n_threads=n_threads)
    per_field = {
        name: _field_scores(
            index,
            queries,
            BM25Params(field_weights={other: float(other == name) for other in FIELDS}),
            n_threads,
        )
        for name in FIELDS
    }
    variants = {
        name: _field_scores(index, queries, params, n_threads) for name, params in VARIANTS.items()
    }
    doc_length = np.log1p(np.array([len(text) for text in collection.texts], dtype=np.float64))
    doc_terms = [
        set(index.tokenize(f"{title} {text}"))
        for title, text in zip(collection.titles, collection.texts)
    ]
    doc_freq: dict[str, int] = {}
    for terms in doc_terms:
        for term in terms:
            doc_freq[term] = doc_freq.get(term, 0) + 1
    n_docs = len(doc_terms)

    builder = FeatureBuilder(
        (STRATEGY,),
        bm25_fields=FIELDS,
        match_fields=("title",),
        extra=(*VARIANTS, "term_coverage", "idf_coverage", "log_text_length"),
    )
    out = CollectionCandidates(schema=builder.schema, qrels=collection.qrels)
    for q, (query_id, query) in enumerate(zip(collection.query_ids, queries)):
        hits = base[q]
        if len(hits) == 0:
            continue
        terms = set(index.tokenize(query))
        idf = {term: np.log(n_docs / doc_freq.get(term, 1)) for term in terms}
        total_idf = sum(idf.values()) or 1.0
        held = [[term for term in terms if term in doc_terms[doc]] for doc in hits.doc_ids]
        coverage = np.array([len(found) / max(len(terms), 1) for found in held])
        idf_coverage = np.array([sum(idf[term] for term in found) / total_idf for found in held])
        extra = {name: variants[name][q] for name in VARIANTS}
        extra.update(
            term_coverage=(hits.doc_ids, coverage),
            idf_coverage=(hits.doc_ids, idf_coverage),
            log_text_length=doc_length,
        )
        features = builder.build(
            {STRATEGY: (hits.doc_ids, hits.scores)},
            query_text=query,
            bm25={name: per_field[name][q] for name in FIELDS},
            field_text={"title": collection.titles},
            extra=extra,
        )
        judged = collection.qrels.get(query_id, {})
        grades = np.array([judged.get(doc_id, 0) for doc_id in hits.ids], dtype=np.float64)
        out.queries.append(QueryCandidates(query_id, features, list(hits.ids), grades))
    logger.debug("%d queries with candidates at depth %d", len(out.queries), depth)
    return out
