"""The lexical index's public entry: defined results for edge cases, clear errors for bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltrr_fast.index import BM25Params, Filter, LexicalIndex


@pytest.fixture
def index() -> LexicalIndex:
    ix = LexicalIndex(fields=("title", "text"))
    ix.add_batch(
        ["a", "b", "c"],
        {"title": ["red song", "blue song", "green"], "text": ["one two", "two three", "four"]},
        static_scores=[1.0, 2.0, 3.0],
    )
    return ix


def test_search_returns_nothing_when_query_is_empty_or_whitespace(index):
    for query in ("", "   \t\n", "?!,."):
        hits = index.search(query, k=5)
        assert len(hits) == 0 and hits.doc_ids.dtype == np.uint32


def test_search_returns_nothing_when_every_query_term_is_unknown(index):
    assert len(index.search("zzqx unseenword", k=3)) == 0


def test_search_returns_only_real_matches_when_k_exceeds_them(index):
    hits = index.search("song", k=100)
    assert sorted(hits.ids) == ["a", "b"]
    assert np.all(hits.scores > 0)


def test_search_returns_nothing_when_k_is_zero(index):
    assert len(index.search("song", k=0)) == 0


def test_index_of_empty_and_whitespace_docs_indexes_and_searches():
    ix = LexicalIndex()
    ix.add_batch(["1", "2", "3", "4", "5"], ["", "", "", "", "   \t\n"])
    assert len(ix) == 5
    assert len(ix.search("what is it", k=2)) == 0
    ix.add("6", "what")
    assert ix.search("what is it", k=2).ids == ["6"]


def test_adding_an_existing_id_replaces_the_document(index):
    index.add("a", {"title": "purple"})
    assert len(index) == 3
    assert "a" not in index.search("red", k=5).ids
    assert index.search("purple", k=5).ids == ["a"]


def test_duplicate_ids_in_one_batch_keep_the_last(index):
    index.add_batch(["x", "x"], ["first", "second"])
    assert len(index) == 4
    assert index.search("first").ids == [] and index.search("second").ids == ["x"]


def test_delete_reports_whether_the_id_was_present(index):
    assert index.delete("a") is True
    assert index.delete("a") is False
    assert "a" not in index and len(index) == 2


def test_row_wise_and_column_wise_batches_index_the_same(index):
    rows = LexicalIndex(fields=("title", "text"))
    rows.add_batch(
        ["a", "b", "c"],
        [
            {"title": "red song", "text": "one two"},
            {"title": "blue song", "text": "two three"},
            {"title": "green", "text": "four"},
        ],
        static_scores=[1.0, 2.0, 3.0],
    )
    for query in ("song", "two", "green four"):
        ours, theirs = rows.search(query), index.search(query)
        assert ours.ids == theirs.ids and np.array_equal(ours.scores, theirs.scores)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda ix: ix.search(123), TypeError, "query must be str"),
        (lambda ix: ix.search("x", k=-1), ValueError, "k must be >= 0"),
        (lambda ix: ix.search("x", k=2.5), TypeError, "k must be an int"),
        (lambda ix: ix.search("x", k=True), TypeError, "k must be an int"),
        (lambda ix: ix.add(5, "x"), TypeError, "doc_ids\\[0\\] must be str"),
        (lambda ix: ix.add("", "x"), ValueError, "empty"),
        (lambda ix: ix.add("d", {"nope": "x"}), ValueError, "unknown field"),
        (lambda ix: ix.add("d", {"title": 5}), TypeError, "must be str"),
        (lambda ix: ix.add("d", "x", static_score=math.nan), ValueError, "finite and >= 0"),
        (lambda ix: ix.add("d", "x", static_score=-1), ValueError, "finite and >= 0"),
        (lambda ix: ix.add("d", "x", attributes={"g": 5}), TypeError, "values must be str"),
        (lambda ix: ix.add("d", "x", attributes=["g"]), TypeError, "must be a mapping"),
        (lambda ix: ix.add_batch(["d"], ["x", "y"]), ValueError, "2 rows for 1"),
        (lambda ix: ix.add_batch("d", ["x"]), TypeError, "sequence of str"),
        (lambda ix: ix.delete(3), TypeError, "doc_id must be str"),
        (lambda ix: ix.search("x", filter="genre"), TypeError, "expected a Filter"),
        (lambda ix: ix.search_batch("abc"), TypeError, "sequence of str"),
        (lambda ix: ix.search_batch(["x"], n_threads=0), ValueError, "n_threads must be an int"),
        (
            lambda ix: ix.search("x", params=BM25Params(field_weights={"nope": 1.0})),
            ValueError,
            "unknown fields",
        ),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(index, call, error, message):
    before = [(h.ids, h.scores.tolist()) for h in index.search_batch(["song", "two", "red"])]
    with pytest.raises(error, match=message):
        call(index)
    after = [(h.ids, h.scores.tolist()) for h in index.search_batch(["song", "two", "red"])]
    assert len(index) == 3 and before == after


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variant": "okapi"}, "unknown BM25 variant"),
        ({"k1": -0.1}, "k1 must be finite"),
        ({"k1": math.inf}, "k1 must be finite"),
        ({"b": 1.5}, "b must be finite and \\[0.0, 1.0\\]"),
        ({"b": {"title": -1}}, "b\\['title'\\]"),
        ({"field_weights": {"title": -2}}, "field_weights\\['title'\\]"),
        ({"prior_weight": math.nan}, "prior_weight"),
        ({"k1": "1.2"}, "k1 must be a number"),
    ],
)
def test_bm25_params_reject_out_of_range_values(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        BM25Params(**kwargs)


def test_batch_search_equals_single_searches_on_any_thread_count(index):
    queries = ["song", "two three", "", "green", "zzz", "red blue song four"]
    for n_threads in (1, 2, 4):
        batch = index.search_batch(queries, k=2, n_threads=n_threads)
        assert len(batch) == len(queries)
        for query, hits in zip(queries, batch):
            single = index.search(query, k=2)
            assert hits.ids == single.ids and np.array_equal(hits.scores, single.scores)


def test_static_score_prior_reorders_equal_text_matches():
    ix = LexicalIndex()
    ix.add_batch(["low", "high"], ["hit song", "hit song"], static_scores=[1.0, 90.0])
    assert ix.search("hit").ids == ["low", "high"]  # tie broken by insertion order
    boosted = ix.search("hit", params=BM25Params(prior_weight=0.5))
    assert boosted.ids == ["high", "low"]
    plain = ix.search("hit").scores[0]
    assert boosted.scores[0] == pytest.approx(plain + 0.5 * math.log1p(90.0), rel=1e-6)


def test_field_weight_zero_leaves_a_field_out():
    ix = LexicalIndex(fields=("title", "artist"))
    ix.add_batch(["s1", "s2"], [{"title": "taylor"}, {"artist": "taylor"}])
    only_title = BM25Params(field_weights={"artist": 0.0})
    assert ix.search("taylor", params=only_title).ids == ["s1"]
    assert sorted(ix.search("taylor").ids) == ["s1", "s2"]


def test_external_ids_reject_ids_out_of_range(index):
    with pytest.raises(IndexError, match="out of range"):
        index.external_ids([99])
    with pytest.raises(OverflowError):
        index.external_ids([2**32])


def test_filter_never_returns_a_document_outside_it():
    ix = LexicalIndex()
    ix.add_batch(
        ["p1", "r1", "p2"],
        ["love song", "love song", "love"],
        attributes=[{"genre": "pop"}, {"genre": "rock"}, {"genre": ["pop", "dance"]}],
    )
    assert sorted(ix.search("love", filter=Filter.attr("genre", "pop")).ids) == ["p1", "p2"]
    assert ix.search("love", filter=~Filter.attr("genre", "pop")).ids == ["r1"]
    assert ix.search("love", filter=Filter.attr("genre", "jazz")).ids == []
    both = Filter.attr("genre", "pop") & Filter.attr("genre", "dance")
    assert ix.search("love", filter=both).ids == ["p2"]


def test_add_batch_reports_progress_and_indexes_like_one_call():
    texts = [f"song {i % 7} word{i % 13}" for i in range(150_000)]
    ids = [f"d{i}" for i in range(len(texts))]
    calls = []
    chunked = LexicalIndex()
    chunked.add_batch(ids, texts, progress=lambda done, total: calls.append((done, total)))
    whole = LexicalIndex()
    whole.add_batch(ids, texts)
    assert calls[-1] == (150_000, 150_000) and len(calls) == 3
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    for query in ("song 3", "word5", "song 6 word12"):
        a, b = chunked.search(query, k=20), whole.search(query, k=20)
        assert a.ids == b.ids and np.array_equal(a.scores, b.scores)


def test_bad_row_late_in_a_chunked_batch_stores_nothing():
    index = LexicalIndex()
    texts = ["fine"] * 100_000
    with pytest.raises(ValueError, match="static_scores\\[99999\\]"):
        index.add_batch(
            [f"d{i}" for i in range(100_000)],
            texts,
            static_scores=[1.0] * 99_999 + [-1.0],
            progress=lambda done, total: None,
        )
    assert len(index) == 0


def test_large_batches_on_several_threads_equal_single_searches():
    ix = LexicalIndex()
    words = ["red", "blue", "green", "song", "night", "day", "love", "rain"]
    ix.add_batch(
        [f"d{i}" for i in range(500)],
        [" ".join(words[(i * j) % 8] for j in range(1, 6)) for i in range(500)],
    )
    queries = [f"{words[i % 8]} {words[(i * 3) % 8]}" for i in range(200)]
    for n_threads in (2, 4):
        batch = ix.search_batch(queries, k=7, n_threads=n_threads)
        for query, hits in zip(queries, batch):
            single = ix.search(query, k=7)
            assert hits.ids == single.ids and np.array_equal(hits.scores, single.scores)
