"""LexicalIndex.search against the brute-force oracle in tests/oracle.py.

Corpora are plain lowercase ascii words from a small alphabet, indexed without
stopwords or stemming, so the index's tokens are the words themselves (one
test pins that). Every property runs both the pruned path and the
exhaustive path, and requires them to be identical.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ltrr_fast.index import BM25Params, LexicalIndex
from oracle import VARIANTS, OracleBM25, OracleParams, top_k_problems

WORDS = ("apple", "bird", "cat", "dog", "egg", "fig", "gum", "hat")
UNKNOWN_WORD = "zebra"
FIELD_NAMES = ("title", "text", "body")
REL_TOL = 1e-5
ABS_TOL = 1e-7
PROPERTY_SETTINGS = settings(
    deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow]
)

Doc = dict[str, list[str]]


# ---------------------------------------------------------------------------
# Strategies


def docs_for(fields: Sequence[str], max_words: int = 8) -> st.SearchStrategy[Doc]:
    """One doc: a list of words per field (possibly empty)."""
    words = st.lists(st.sampled_from(WORDS), max_size=max_words)
    return st.fixed_dictionaries({name: words for name in fields})


queries = st.lists(st.sampled_from((*WORDS, UNKNOWN_WORD)), max_size=5)


@st.composite
def bm25_params(draw: st.DrawFn, fields: Sequence[str]) -> OracleParams:
    """Random variant, k1, b (one or per field) and, half the time, field weights (some 0)."""
    weights = None
    if draw(st.booleans()):
        weight = st.one_of(st.floats(0.1, 4.0, allow_nan=False), st.just(0.0))
        weights = {name: draw(weight) for name in fields}
    unit = st.floats(0.0, 1.0, allow_nan=False)
    b = draw(st.one_of(unit, st.fixed_dictionaries({name: unit for name in fields})))
    return OracleParams(
        variant=draw(st.sampled_from(VARIANTS)),
        k1=draw(st.one_of(st.just(0.0), st.floats(0.05, 3.0, allow_nan=False))),
        b=b,
        field_weights=weights,
        prior_weight=draw(st.sampled_from((0.0, 0.0, 0.5))),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    """Fields, docs with static scores, params, queries and k."""
    fields = FIELD_NAMES[: draw(st.integers(1, 3))]
    docs = draw(st.lists(docs_for(fields), max_size=14))
    statics = [draw(st.floats(0.0, 10.0, allow_nan=False)) for _ in docs]
    return {
        "fields": fields,
        "docs": docs,
        "statics": statics,
        "params": draw(bm25_params(fields)),
        "queries": draw(st.lists(queries, min_size=1, max_size=4)),
        "k": draw(st.integers(0, len(docs) + 3)),
        "batch": draw(st.booleans()),
    }


# ---------------------------------------------------------------------------
# Helpers


def _text(words: Sequence[str]) -> str:
    return " ".join(words)


def _params(params: OracleParams, exhaustive: bool) -> BM25Params:
    return BM25Params(
        variant=params.variant,
        k1=params.k1,
        b=dict(params.b) if isinstance(params.b, Mapping) else params.b,
        field_weights=None if params.field_weights is None else dict(params.field_weights),
        prior_weight=params.prior_weight,
        exhaustive=exhaustive,
    )


def _add(
    index: LexicalIndex, oracle: OracleBM25, doc_id: str, doc: Doc, static_score: float = 0.0
) -> None:
    """Add to both; a live id is replaced and then counts as inserted last."""
    texts = {name: _text(words) for name, words in doc.items()}
    index.add(doc_id, texts, static_score=static_score)
    oracle.delete(doc_id)
    oracle.add(doc_id, {name: index.tokenize(text) for name, text in texts.items()}, static_score)


def _build(
    fields: Sequence[str],
    docs: Sequence[Doc],
    statics: Sequence[float] | None = None,
    batch: bool = False,
) -> tuple[LexicalIndex, OracleBM25]:
    index = LexicalIndex(fields=tuple(fields))
    oracle = OracleBM25(fields)
    statics = list(statics) if statics is not None else [0.0] * len(docs)
    ids = [f"d{i}" for i in range(len(docs))]
    if batch and docs:
        columns = {name: [_text(doc[name]) for doc in docs] for name in fields}
        index.add_batch(ids, columns, static_scores=np.asarray(statics, dtype=np.float64))
        for doc_id, doc, static in zip(ids, docs, statics):
            tokens = {name: index.tokenize(_text(words)) for name, words in doc.items()}
            oracle.add(doc_id, tokens, static)
    else:
        for doc_id, doc, static in zip(ids, docs, statics):
            _add(index, oracle, doc_id, doc, static)
    return index, oracle


def assert_hits_match_oracle(
    index: LexicalIndex, oracle: OracleBM25, query: str, k: int, params: OracleParams
) -> list[str]:
    """Search both paths, require them identical and check them against the oracle.

    See :func:`oracle.top_k_problems` for how ties are judged. Returns the hit ids.
    """
    pruned = index.search(query, k=k, params=_params(params, exhaustive=False))
    full = index.search(query, k=k, params=_params(params, exhaustive=True))
    np.testing.assert_array_equal(pruned.doc_ids, full.doc_ids)
    np.testing.assert_array_equal(pruned.scores, full.scores)
    assert list(pruned.ids) == list(full.ids)
    assert pruned.scores.dtype == np.float32

    tokens = index.tokenize(query)
    oracle_scores = oracle.scores(tokens, params)
    order = {doc_id: rank for rank, doc_id in enumerate(oracle.doc_ids)}
    ids = list(full.ids)
    scores = full.scores.tolist()
    keys = oracle.tie_keys(tokens, params)
    problems = top_k_problems(ids, scores, oracle_scores, order, k, REL_TOL, ABS_TOL, keys)
    assert not problems, (
        f"query={query!r} k={k} params={params}\n got={list(zip(ids, scores))}\n"
        f" oracle={oracle.search(tokens, k, params)}\n" + "\n".join(problems)
    )
    return ids


# ---------------------------------------------------------------------------
# The oracle itself


def test_oracle_equals_bm25s_when_corpus_has_one_field() -> None:
    bm25s = pytest.importorskip("bm25s")
    rng = random.Random(7)
    docs = [[rng.choice(WORDS) for _ in range(rng.randint(1, 10))] for _ in range(30)]
    oracle = OracleBM25()
    for i, words in enumerate(docs):
        oracle.add(f"d{i}", words)

    for variant in VARIANTS:
        reference = bm25s.BM25(method=variant, k1=1.3, b=0.6, dtype="float64")
        reference.index(docs, show_progress=False)
        for _ in range(20):
            query = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
            expected = reference.get_scores(query)
            scores = oracle.scores(query, OracleParams(variant=variant, k1=1.3, b=0.6))
            for i in range(len(docs)):
                assert scores.get(f"d{i}", 0.0) == pytest.approx(expected[i], rel=1e-12)


def test_oracle_sums_weighted_normalised_tf_when_term_is_in_two_fields() -> None:
    oracle = OracleBM25(("title", "text"))
    oracle.add("a", {"title": ["cat"], "text": ["cat", "cat", "dog"]})
    oracle.add("b", {"title": ["dog", "dog"], "text": ["egg"]})
    params = OracleParams(k1=1.2, b=0.5, field_weights={"title": 2.0, "text": 1.0})

    score = oracle.scores(["cat"], params)["a"]

    norm_title = 1 - 0.5 + 0.5 * 1 / 1.5
    norm_text = 1 - 0.5 + 0.5 * 3 / 2.0
    pseudo_tf = 2.0 * 1 / norm_title + 1.0 * 2 / norm_text
    idf = math.log(1 + (2 - 1 + 0.5) / (1 + 0.5))
    assert score == pytest.approx(idf * pseudo_tf / (pseudo_tf + 1.2), rel=1e-12)


# ---------------------------------------------------------------------------
# Index against the oracle


def test_tokenize_returns_the_words_when_text_is_plain_lowercase_ascii() -> None:
    index = LexicalIndex(fields=("text",))

    assert index.tokenize(" ".join(WORDS + (UNKNOWN_WORD,))) == [*WORDS, UNKNOWN_WORD]


@PROPERTY_SETTINGS
@given(scenarios())
def test_search_equals_oracle_when_corpus_params_and_k_are_random(scenario: dict) -> None:
    index, oracle = _build(
        scenario["fields"], scenario["docs"], scenario["statics"], scenario["batch"]
    )

    for words in scenario["queries"]:
        assert_hits_match_oracle(index, oracle, _text(words), scenario["k"], scenario["params"])


@PROPERTY_SETTINGS
@given(scenarios())
def test_search_returns_every_match_and_no_padding_when_k_exceeds_matches(
    scenario: dict,
) -> None:
    index, oracle = _build(scenario["fields"], scenario["docs"], scenario["statics"])
    k = len(scenario["docs"]) + 5

    for words in scenario["queries"]:
        ids = assert_hits_match_oracle(index, oracle, _text(words), k, scenario["params"])
        assert set(ids) == set(oracle.scores(index.tokenize(_text(words)), scenario["params"]))


@PROPERTY_SETTINGS
@given(scenarios(), st.sampled_from(WORDS))
def test_search_never_lowers_a_score_when_a_matched_term_is_added_to_the_query(
    scenario: dict, extra: str
) -> None:
    # CASES row 1: every term contributes a non-negative amount.
    index, _oracle = _build(scenario["fields"], scenario["docs"], scenario["statics"])
    n_docs = max(len(index), 1)

    for words in scenario["queries"]:
        for exhaustive in (True, False):
            params = _params(scenario["params"], exhaustive)
            before = index.search(_text(words), k=n_docs, params=params)
            after = index.search(_text([*words, extra]), k=n_docs, params=params)
            after_scores = dict(zip(after.ids, after.scores.tolist()))
            for doc_id, score in zip(before.ids, before.scores.tolist()):
                assert doc_id in after_scores
                assert after_scores[doc_id] >= score * (1 - REL_TOL) - ABS_TOL


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(("add", "add", "add", "delete", "delete", "compact")),
        st.sampled_from([f"d{i}" for i in range(8)]),
        docs_for(("title", "text"), max_words=6),
    ),
    max_size=30,
)


@PROPERTY_SETTINGS
@given(OPERATIONS, st.lists(queries, min_size=1, max_size=4), bm25_params(("title", "text")))
def test_search_equals_a_fresh_index_when_docs_are_added_deleted_and_readded(
    operations: list[tuple[str, str, Doc]], query_list: list[list[str]], params: OracleParams
) -> None:
    fields = ("title", "text")
    index = LexicalIndex(fields=fields)
    oracle = OracleBM25(fields)
    survivors: dict[str, Doc] = {}
    for op, doc_id, doc in operations:
        if op == "add":
            _add(index, oracle, doc_id, doc)
            survivors.pop(doc_id, None)
            survivors[doc_id] = doc
        elif op == "delete":
            assert index.delete(doc_id) == oracle.delete(doc_id)
            survivors.pop(doc_id, None)
        else:
            index.compact()
        assert len(index) == len(survivors)
    assert all(doc_id in index for doc_id in survivors)
    assert all(f"d{i}" not in index for i in range(8) if f"d{i}" not in survivors)

    # A fresh index of the survivors, in their insertion order.
    fresh = LexicalIndex(fields=fields)
    for doc_id, doc in survivors.items():
        fresh.add(doc_id, {name: _text(words) for name, words in doc.items()})

    for words in query_list:
        for k in (1, 3, len(survivors) + 1):
            assert_hits_match_oracle(index, oracle, _text(words), k, params)
            for exhaustive in (True, False):
                got = index.search(_text(words), k=k, params=_params(params, exhaustive))
                want = fresh.search(_text(words), k=k, params=_params(params, exhaustive))
                assert list(got.ids) == list(want.ids)
                np.testing.assert_array_equal(got.scores, want.scores)


@pytest.mark.parametrize("seed", range(4))
def test_search_equals_oracle_when_many_deletes_trigger_compaction(seed: int) -> None:
    # More than 64 dead docs, and a quarter of the live ones, compacts postings
    # on its own; ids and scores must not notice.
    rng = random.Random(seed)
    fields = ("title", "text")
    index = LexicalIndex(fields=fields)
    oracle = OracleBM25(fields)
    for step in range(600):
        doc_id = f"d{rng.randrange(150)}"
        if rng.random() < 0.55:
            doc = {name: rng.choices(WORDS, k=rng.randint(0, 12)) for name in fields}
            _add(index, oracle, doc_id, doc, static_score=rng.random() * 5)
        else:
            assert index.delete(doc_id) == oracle.delete(doc_id)
        if step % 97 == 0:
            query = " ".join(rng.choices(WORDS, k=rng.randint(1, 4)))
            params = OracleParams(variant=rng.choice(VARIANTS), prior_weight=0.2)
            assert_hits_match_oracle(index, oracle, query, rng.choice([1, 5, 200]), params)

    assert len(index) == len(oracle)
    for _ in range(20):
        query = " ".join(rng.choices(WORDS, k=rng.randint(1, 5)))
        params = OracleParams(variant=rng.choice(VARIANTS), k1=rng.uniform(0, 3))
        assert_hits_match_oracle(index, oracle, query, rng.choice([1, 3, 10, 200]), params)


@pytest.mark.parametrize("seed", range(3))
def test_search_equals_oracle_when_postings_span_many_blocks(seed: int) -> None:
    # Thousands of docs with skewed word frequencies, so posting lists span many
    # blocks and block-level bounds get to prune; some deletes leave holes.
    rng = random.Random(1000 + seed)
    vocabulary = [f"w{i}" for i in range(40)]

    def word() -> str:
        return vocabulary[min(int(len(vocabulary) * rng.random() ** 3), len(vocabulary) - 1)]

    fields = ("title", "text")
    index = LexicalIndex(fields=fields)
    oracle = OracleBM25(fields)
    for i in range(2500):
        doc = {
            "title": [word() for _ in range(rng.randint(0, 4))],
            "text": [word() for _ in range(rng.choice([rng.randint(0, 8), rng.randint(20, 60)]))],
        }
        _add(index, oracle, f"d{i}", doc, static_score=rng.choice([0.0, rng.random() * 50]))
    for i in rng.sample(range(2500), 300):
        assert index.delete(f"d{i}") and oracle.delete(f"d{i}")

    for _ in range(25):
        query = " ".join(word() for _ in range(rng.randint(1, 6)))
        params = OracleParams(
            variant=rng.choice(VARIANTS),
            k1=rng.choice([0.0, 0.9, 1.2, 2.5]),
            b=rng.choice([0.0, 0.4, 0.75, 1.0]),
            field_weights=rng.choice([None, {"title": 3.0, "text": 1.0}, {"title": 0.0}]),
            prior_weight=rng.choice([0.0, 0.0, 0.3]),
        )
        assert_hits_match_oracle(index, oracle, query, rng.choice([1, 10, 100]), params)


@settings(deadline=None, max_examples=60)
@given(OPERATIONS, st.lists(queries, min_size=1, max_size=4), bm25_params(("title", "text")))
def test_search_is_unchanged_when_the_index_is_saved_and_loaded(
    operations: list[tuple[str, str, Doc]], query_list: list[list[str]], params: OracleParams
) -> None:
    fields = ("title", "text")
    index = LexicalIndex(fields=fields)
    oracle = OracleBM25(fields)
    for op, doc_id, doc in operations:
        if op == "add":
            _add(index, oracle, doc_id, doc, static_score=float(len(doc["title"])))
        elif op == "delete":
            index.delete(doc_id)
            oracle.delete(doc_id)

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "index")
        index.save(path)
        loaded = LexicalIndex.load(path)

    assert len(loaded) == len(index)
    for words in query_list:
        for k in (1, 4, len(oracle) + 1):
            for exhaustive in (True, False):
                want = index.search(_text(words), k=k, params=_params(params, exhaustive))
                got = loaded.search(_text(words), k=k, params=_params(params, exhaustive))
                assert list(got.ids) == list(want.ids)
                np.testing.assert_array_equal(got.scores, want.scores)
            assert_hits_match_oracle(loaded, oracle, _text(words), k, params)


@settings(deadline=None, max_examples=60)
@given(scenarios())
def test_search_batch_equals_single_searches_when_queries_are_random(scenario: dict) -> None:
    index, _ = _build(scenario["fields"], scenario["docs"], scenario["statics"])
    texts = [_text(words) for words in scenario["queries"]]
    params = _params(scenario["params"], exhaustive=False)

    batch = index.search_batch(texts, k=scenario["k"], params=params, n_threads=2)

    assert len(batch) == len(texts)
    for i, text in enumerate(texts):
        single = index.search(text, k=scenario["k"], params=params)
        assert list(batch[i].ids) == list(single.ids)
        np.testing.assert_array_equal(batch[i].scores, single.scores)


# ---------------------------------------------------------------------------
# Edge cases


@pytest.mark.parametrize("exhaustive", [True, False])
@pytest.mark.parametrize("variant", VARIANTS)
def test_search_returns_nothing_when_k_is_zero(variant: str, exhaustive: bool) -> None:
    index, _ = _build(("text",), [{"text": ["cat", "dog"]}, {"text": ["cat"]}])

    hits = index.search("cat", k=0, params=BM25Params(variant=variant, exhaustive=exhaustive))

    assert len(hits.ids) == 0 and hits.doc_ids.size == 0 and hits.scores.size == 0


@pytest.mark.parametrize("exhaustive", [True, False])
@pytest.mark.parametrize("query", ["", "   \t\n", UNKNOWN_WORD, f"{UNKNOWN_WORD} unseenword"])
def test_search_returns_nothing_when_query_has_no_indexed_term(
    query: str, exhaustive: bool
) -> None:
    # CASES row 2 (a) and the empty query.
    index, _ = _build(("text",), [{"text": ["cat", "dog"]}, {"text": ["egg"]}, {"text": []}])

    hits = index.search(query, k=3, params=BM25Params(exhaustive=exhaustive))

    assert list(hits.ids) == []


@pytest.mark.parametrize("exhaustive", [True, False])
def test_search_returns_nothing_when_every_doc_is_empty(exhaustive: bool) -> None:
    # CASES row 2 (b): empty and whitespace-only docs index and search cleanly.
    index = LexicalIndex()
    for i, text in enumerate(["", "", "", "", "   \t\n"]):
        index.add(f"d{i}", text)

    assert len(index) == 5
    for query in ("what is it", "", "cat"):
        hits = index.search(query, k=2, params=BM25Params(exhaustive=exhaustive))
        assert list(hits.ids) == []


@pytest.mark.parametrize("exhaustive", [True, False])
@pytest.mark.parametrize("variant", ["lucene", "atire"])
def test_search_ranks_the_doc_with_both_terms_first_when_terms_are_in_half_the_docs(
    variant: str, exhaustive: bool
) -> None:
    # CASES row 1: k1 and t1 each occur in 2 of 4 docs.
    index = LexicalIndex()
    for doc_id, text in [("D0", "a k1 k2"), ("D1", "b k1 t1"), ("D2", "c t1 t2"), ("D3", "d e")]:
        index.add(doc_id, text)

    hits = index.search("k1 t1", k=4, params=BM25Params(variant=variant, exhaustive=exhaustive))

    assert list(hits.ids) == ["D1", "D0", "D2"]
    assert all(score > 0 for score in hits.scores)
    assert hits.scores[0] > hits.scores[1]


def test_robertson_scores_zero_when_terms_are_in_half_the_docs() -> None:
    # The documented floor of Robertson's idf: matches stay, in insertion order, at score 0.
    index = LexicalIndex()
    for doc_id, text in [("D0", "a k1 k2"), ("D1", "b k1 t1"), ("D2", "c t1 t2"), ("D3", "d e")]:
        index.add(doc_id, text)

    hits = index.search("k1 t1", k=4, params=BM25Params(variant="robertson"))

    assert list(hits.ids) == ["D0", "D1", "D2"]
    assert hits.scores.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("exhaustive", [True, False])
def test_search_score_equals_fresh_index_when_docs_were_deleted_and_saved(
    tmp_path, exhaustive: bool
) -> None:
    # CASES row 5: deletes remove df and length contributions, and survive save/load.
    params = BM25Params(exhaustive=exhaustive)
    index = LexicalIndex()
    for doc_id in ("d1", "d2", "d3"):
        index.add(doc_id, "tok")
    assert index.delete("d2") and index.delete("d3")
    assert not index.delete("d3")

    s1 = index.search("tok", k=1, params=params).scores.tolist()
    index.save(str(tmp_path / "index"))
    s2 = LexicalIndex.load(str(tmp_path / "index")).search("tok", k=1, params=params)
    fresh = LexicalIndex()
    fresh.add("d1", "tok")
    s0 = fresh.search("tok", k=1, params=params).scores.tolist()

    expected = math.log(1 + (1 - 1 + 0.5) / (1 + 0.5)) * 1 / (1 + 1.2)
    assert s1 == s2.scores.tolist() == s0
    assert s0[0] == pytest.approx(expected, rel=REL_TOL)
    assert list(s2.ids) == ["d1"]


def test_add_keeps_one_copy_when_an_id_is_added_twice() -> None:
    index = LexicalIndex()
    index.add("d1", "cat dog")
    index.add("d2", "cat")
    index.add("d1", "cat")

    hits = index.search("cat", k=5)

    assert len(index) == 2
    assert list(hits.ids).count("d1") == 1
    assert hits.scores[0] == hits.scores[1]
    # The replaced doc counts as inserted last, so it loses the exact tie.
    assert list(hits.ids) == ["d2", "d1"]


def _weights(fields: Sequence[str], values: Sequence[float]) -> Mapping[str, float]:
    return dict(zip(fields, values))


@pytest.mark.parametrize("exhaustive", [True, False])
def test_search_equals_oracle_when_field_weights_favour_the_title(exhaustive: bool) -> None:
    fields = ("title", "text")
    docs = [
        {"title": ["cat"], "text": ["dog", "dog", "egg"]},
        {"title": ["dog"], "text": ["cat", "cat", "cat", "egg"]},
        {"title": [], "text": ["cat", "fig"]},
        {"title": ["cat", "dog"], "text": []},
    ]
    index, oracle = _build(fields, docs)

    for weights in ([1.0, 1.0], [5.0, 0.5], [0.5, 5.0]):
        params = OracleParams(field_weights=_weights(fields, weights), b=0.6)
        for query in ("cat", "dog", "cat dog", "cat cat egg"):
            assert_hits_match_oracle(index, oracle, query, 4, params)
