"""BM25 on real collections (CISI, Vaswani NPL) against the oracle and bm25s.

Each doc is indexed as one "text" field holding its title and abstract
joined by a newline (Vaswani has no titles), so bm25s, which knows one field
only, scores the same token lists. Two analysers run: plain (no stopwords,
no stemming) and English (stopwords="en", stemmer="english"). Lucene BM25
with k1=1.2, b=0.75 throughout.

bm25s is fed our own tokens (``LexicalIndex.tokenize``) pre-tokenised, so any
difference is in scoring or ranking, never in tokenising.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass

import numpy as np
import pytest

from ltrr_fast.datasets import IRCollection, data_root, load_ir
from ltrr_fast.evaluation import ndcg_at_k
from ltrr_fast.index import BM25Params, LexicalIndex
from oracle import OracleBM25, OracleParams, contenders, top_k_problems

logger = logging.getLogger(__name__)

K = 10
K1 = 1.2
B = 0.75
REL_TOL = 1e-5
MIN_SET_AGREEMENT = 0.99

try:
    data_root()
except FileNotFoundError as error:
    pytest.skip(
        f"shared data directory not found, so the real-collection tests cannot run: {error}",
        allow_module_level=True,
    )


@functools.cache
def _collection(name: str) -> IRCollection:
    return load_ir(name)


@dataclass
class Setup:
    """One collection indexed with one analyser, with our top-10 per query."""

    name: str
    collection: IRCollection
    index: LexicalIndex
    doc_tokens: list[list[str]]
    query_tokens: list[list[str]]
    ids: list[list[str]]
    scores: list[list[float]]


@pytest.fixture(
    scope="module",
    params=[("cisi", False), ("cisi", True), ("vaswani", False), ("vaswani", True)],
    ids=["cisi-plain", "cisi-english", "vaswani-plain", "vaswani-english"],
)
def setup(request: pytest.FixtureRequest) -> Setup:
    name, english = request.param
    collection = _collection(name)
    index = LexicalIndex(
        fields=("text",),
        stopwords="en" if english else None,
        stemmer="english" if english else None,
    )
    texts = [f"{title}\n{text}" for title, text in zip(collection.titles, collection.texts)]
    index.add_batch(collection.doc_ids, {"text": texts})

    pruned = index.search_batch(collection.queries, k=K, params=BM25Params(k1=K1, b=B))
    full = index.search_batch(
        collection.queries, k=K, params=BM25Params(k1=K1, b=B, exhaustive=True)
    )
    np.testing.assert_array_equal(pruned.indptr, full.indptr)
    np.testing.assert_array_equal(pruned.doc_ids, full.doc_ids)
    np.testing.assert_array_equal(pruned.scores, full.scores)

    return Setup(
        name=f"{name}-{'english' if english else 'plain'}",
        collection=collection,
        index=index,
        doc_tokens=[index.tokenize(text) for text in texts],
        query_tokens=[index.tokenize(query) for query in collection.queries],
        ids=[list(full[i].ids) for i in range(len(full))],
        scores=[full[i].scores.tolist() for i in range(len(full))],
    )


def _bm25s_top_k(setup: Setup) -> tuple[list[list[str]], list[list[float]]]:
    """bm25s (Lucene) top-k per query over our tokens; ties by corpus position."""
    bm25s = pytest.importorskip("bm25s")
    retriever = bm25s.BM25(method="lucene", k1=K1, b=B)
    retriever.index(setup.doc_tokens, show_progress=False)

    doc_ids = setup.collection.doc_ids
    all_ids: list[list[str]] = []
    all_scores: list[list[float]] = []
    for tokens in setup.query_tokens:
        known = [token for token in tokens if token in retriever.vocab_dict]
        if not known:
            all_ids.append([])
            all_scores.append([])
            continue
        scores = retriever.get_scores(known)
        # Stable sort on the negated score keeps corpus order within exact ties.
        ranked = [int(i) for i in np.argsort(-scores, kind="stable")[:K] if scores[i] > 0]
        all_ids.append([doc_ids[i] for i in ranked])
        all_scores.append([float(scores[i]) for i in ranked])
    return all_ids, all_scores


def test_collection_search_equals_oracle_when_queries_are_real(setup: Setup) -> None:
    started = time.perf_counter()
    oracle = OracleBM25(("text",))
    for doc_id, tokens in zip(setup.collection.doc_ids, setup.doc_tokens):
        oracle.add(doc_id, tokens)
    order = {doc_id: rank for rank, doc_id in enumerate(setup.collection.doc_ids)}
    params = OracleParams(variant="lucene", k1=K1, b=B)

    failures = []
    for query_id, tokens, ids, scores in zip(
        setup.collection.query_ids, setup.query_tokens, setup.ids, setup.scores
    ):
        oracle_scores = oracle.scores(tokens, params)
        near_top = contenders(oracle_scores, K, REL_TOL)
        keys = oracle.tie_keys(tokens, params, doc_ids={*near_top, *ids})
        problems = top_k_problems(ids, scores, oracle_scores, order, K, REL_TOL, tie_keys=keys)
        if problems:
            failures.append(f"query {query_id}: " + "; ".join(problems[:3]))

    logger.info("%s: oracle check took %.1f s", setup.name, time.perf_counter() - started)
    assert not failures, f"{len(failures)} queries differ:\n" + "\n".join(failures[:20])


def test_collection_top_k_sets_equal_bm25s_when_fed_our_tokens(setup: Setup) -> None:
    reference_ids, reference_scores = _bm25s_top_k(setup)

    mismatches = []
    for query_id, ours, our_scores, theirs, their_scores in zip(
        setup.collection.query_ids, setup.ids, setup.scores, reference_ids, reference_scores
    ):
        if set(ours) == set(theirs):
            continue
        # A difference is a tie at the cut-off when every doc in it scores
        # within tolerance of bm25s's k-th score.
        cutoff = their_scores[-1] if their_scores else 0.0
        known = {**dict(zip(ours, our_scores)), **dict(zip(theirs, their_scores))}
        tied = len(ours) == len(theirs) and all(
            abs(known[doc_id] - cutoff) <= REL_TOL * cutoff for doc_id in set(ours) ^ set(theirs)
        )
        if not tied:
            mismatches.append(
                f"query {query_id}: only ours {sorted(set(ours) - set(theirs))}, "
                f"only bm25s {sorted(set(theirs) - set(ours))}"
            )

    agreement = 1.0 - len(mismatches) / len(setup.ids)
    logger.info("%s: top-%d set agreement %.4f", setup.name, K, agreement)
    for line in mismatches:
        logger.warning("%s: %s", setup.name, line)
    assert agreement >= MIN_SET_AGREEMENT, f"{setup.name}: {len(mismatches)} mismatches:\n" + (
        "\n".join(mismatches)
    )


def test_collection_ndcg_equals_bm25s_when_fed_our_tokens(setup: Setup) -> None:
    reference_ids, _ = _bm25s_top_k(setup)
    qrels = setup.collection.qrels
    query_ids = setup.collection.query_ids

    ours = ndcg_at_k(dict(zip(query_ids, setup.ids)), qrels, k=K)
    theirs = ndcg_at_k(dict(zip(query_ids, reference_ids)), qrels, k=K)

    logger.info("%s: nDCG@%d ours %.6f, bm25s %.6f", setup.name, K, ours.mean, theirs.mean)
    assert ours.n_queries == len(query_ids)
    assert ours.mean > 0.1
    assert ours.mean == pytest.approx(theirs.mean, abs=1e-6)
