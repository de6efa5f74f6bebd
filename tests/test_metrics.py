"""Ranking metrics against trec_eval (through pytrec_eval) and CASES row 16."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltrr_fast.evaluation import average_precision, mrr, ndcg_at_k, recall_at_k

QUERY_IDS = [f"q{i}" for i in range(5)]
DOC_IDS = [f"d{i}" for i in range(15)]
CUTOFFS = (1, 3, 5, 10, 20)


@st.composite
def runs_and_qrels(draw: st.DrawFn) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    """Random qrels (grades 0-3, some queries unjudged) and a run over them."""
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, list[str]] = {}
    for query_id in QUERY_IDS:
        judged = draw(st.lists(st.sampled_from(DOC_IDS), unique=True, max_size=8))
        if judged:
            grades = draw(st.lists(st.integers(0, 3), min_size=len(judged), max_size=len(judged)))
            qrels[query_id] = dict(zip(judged, grades))
        if draw(st.booleans()) or judged:
            ranked = draw(st.permutations(DOC_IDS))
            run[query_id] = ranked[: draw(st.integers(0, len(DOC_IDS)))]
    return run, qrels


def _reference(
    run: dict[str, list[str]], qrels: dict[str, dict[str, int]], measures: set[str]
) -> dict[str, dict[str, float]]:
    """Per-query values from trec_eval, for queries that have a relevant doc."""
    pytrec_eval = pytest.importorskip(
        "pytrec_eval", reason="pytrec_eval (pip: pytrec-eval-terrier) is the metric reference"
    )
    # trec_eval ranks by score, so strictly decreasing scores keep our order.
    scored = {
        query_id: {doc_id: float(len(ranked) - rank) for rank, doc_id in enumerate(ranked)}
        for query_id, ranked in run.items()
    }
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, measures)
    values = evaluator.evaluate(scored)
    return {
        query_id: per_query
        for query_id, per_query in values.items()
        if any(grade > 0 for grade in qrels[query_id].values())
    }


def _assert_matches(ours: dict[str, float], reference: dict[str, float]) -> None:
    # Queries trec_eval skips (no run entry) must be scored 0 by us, like `trec_eval -c`.
    for query_id, value in ours.items():
        assert value == pytest.approx(reference.get(query_id, 0.0), rel=1e-9, abs=1e-12)


@settings(deadline=None, max_examples=150)
@given(runs_and_qrels())
def test_metrics_equal_trec_eval_when_runs_are_random(
    data: tuple[dict[str, list[str]], dict[str, dict[str, int]]],
) -> None:
    run, qrels = data
    measures = {
        f"ndcg_cut.{','.join(map(str, CUTOFFS))}",
        f"recall.{','.join(map(str, CUTOFFS))}",
        "recip_rank",
        "map",
    }
    reference = _reference(run, qrels, measures)

    for k in CUTOFFS:
        ndcg = ndcg_at_k(run, qrels, k=k)
        _assert_matches(ndcg.per_query, {q: v[f"ndcg_cut_{k}"] for q, v in reference.items()})
        recall = recall_at_k(run, qrels, k=k)
        _assert_matches(recall.per_query, {q: v[f"recall_{k}"] for q, v in reference.items()})
    _assert_matches(mrr(run, qrels).per_query, {q: v["recip_rank"] for q, v in reference.items()})
    _assert_matches(
        average_precision(run, qrels).per_query, {q: v["map"] for q, v in reference.items()}
    )


def test_metrics_equal_trec_eval_when_data_is_seeded_and_larger() -> None:
    rng = random.Random(20240611)
    docs = [f"doc{i}" for i in range(300)]
    qrels = {
        f"query{i}": {doc_id: rng.choice([0, 1, 1, 2, 4]) for doc_id in rng.sample(docs, 25)}
        for i in range(40)
    }
    run = {query_id: rng.sample(docs, rng.randint(0, 150)) for query_id in qrels}
    reference = _reference(run, qrels, {"ndcg_cut.10,100", "recall.100", "recip_rank", "map"})

    for name, ours in [
        ("ndcg_cut_10", ndcg_at_k(run, qrels, k=10)),
        ("ndcg_cut_100", ndcg_at_k(run, qrels, k=100)),
        ("recall_100", recall_at_k(run, qrels, k=100)),
        ("recip_rank", mrr(run, qrels)),
        ("map", average_precision(run, qrels)),
    ]:
        expected = {query_id: values[name] for query_id, values in reference.items()}
        _assert_matches(ours.per_query, expected)
        assert ours.mean == pytest.approx(sum(expected.values()) / len(expected), rel=1e-9)


def test_ndcg_is_one_when_ranking_is_ideal_and_one_query_has_no_relevant_doc() -> None:
    # CASES row 16: y = [[1, 0, 1], [0, 0, 0]], scored by y itself.
    labels = [[1, 0, 1], [0, 0, 0]]
    qrels = {
        f"q{qi}": {f"d{di}": grade for di, grade in enumerate(row)}
        for qi, row in enumerate(labels)
    }
    run = {
        query_id: sorted(judged, key=lambda doc_id: -judged[doc_id])
        for query_id, judged in qrels.items()
    }

    result = ndcg_at_k(run, qrels, k=3)

    assert result.mean == 1.0
    assert result.per_query == {"q0": 1.0}
    assert result.n_excluded == 1


@pytest.mark.parametrize("metric", [ndcg_at_k, recall_at_k, mrr, average_precision])
def test_metric_excludes_and_counts_queries_when_they_have_no_relevant_doc(metric) -> None:
    qrels = {"a": {"x": 1}, "b": {"x": 0}, "c": {}}
    run = {"a": ["x"], "b": ["x"], "c": ["x"], "d": ["x"]}

    result = metric(run, qrels)

    assert result.per_query == {"a": 1.0}
    assert result.mean == 1.0
    assert result.n_excluded == 3


@pytest.mark.parametrize("metric", [ndcg_at_k, recall_at_k, mrr, average_precision])
def test_metric_scores_zero_when_a_judged_query_is_missing_from_the_run(metric) -> None:
    result = metric({"a": ["x"]}, {"a": {"x": 1}, "b": {"y": 2}})

    assert result.per_query == {"a": 1.0, "b": 0.0}
    assert result.mean == 0.5


@pytest.mark.parametrize("metric", [ndcg_at_k, recall_at_k, mrr, average_precision])
def test_metric_mean_is_nan_when_no_query_has_a_relevant_doc(metric) -> None:
    result = metric({"a": ["x"]}, {"a": {"x": 0}})

    assert math.isnan(result.mean)
    assert result.n_queries == 0
    assert result.n_excluded == 1


@pytest.mark.parametrize("metric", [ndcg_at_k, recall_at_k, mrr, average_precision])
def test_metric_raises_when_a_ranking_repeats_a_doc(metric) -> None:
    with pytest.raises(ValueError, match="more than once"):
        metric({"a": ["x", "y", "x"]}, {"a": {"x": 1}})


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_ndcg_raises_when_k_is_not_a_positive_int(k) -> None:
    with pytest.raises(ValueError, match="positive int"):
        ndcg_at_k({"a": ["x"]}, {"a": {"x": 1}}, k=k)


def test_ndcg_uses_linear_gain_and_log2_discount_when_grades_are_graded() -> None:
    qrels = {"q": {"a": 3, "b": 1}}

    result = ndcg_at_k({"q": ["b", "a"]}, qrels, k=2)

    dcg = 1 / math.log2(2) + 3 / math.log2(3)
    ideal = 3 / math.log2(2) + 1 / math.log2(3)
    assert result.mean == pytest.approx(dcg / ideal, rel=1e-12)
