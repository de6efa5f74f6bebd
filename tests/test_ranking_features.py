"""FeatureBuilder, FeatureSchema and the string match features."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ltrr_fast.ranking import FEATURE_VERSION, FeatureBuilder, FeatureSchema
from ltrr_fast.ranking.match import levenshtein, levenshtein_python, match_features

TITLES = ["Love Story", "Shake It Off", "love  story", "Yesterday", "Blank Space"]
ARTISTS = ["Taylor Swift", "Taylor Swift", "Someone Else", "The Beatles", "Taylor Swift"]


def full_builder() -> FeatureBuilder:
    return FeatureBuilder(
        ("lexical", "semantic", "memory"),
        bm25_fields=("title", "artist"),
        vector=True,
        memory=True,
        static=("popularity", "recency"),
        query_features=("slots_matched",),
        intents=("artist", "song"),
        match_fields=("title", "artist"),
        extra=("custom",),
    )


def build(builder: FeatureBuilder, **overrides):
    inputs = {
        "query_text": "Love Story",
        "bm25": {"title": ([0, 2], [2.5, 1.5]), "artist": np.linspace(0, 1, 5)},
        "vector": ([2, 4], [0.9, 0.3]),
        "memory": lambda ids: ids.astype(float) / 10,
        "static": {"popularity": np.arange(5.0), "recency": ([4], [1.0])},
        "query_features": {"slots_matched": 1.0},
        "intent": "song",
        "field_text": {"title": TITLES, "artist": ARTISTS},
        "extra": {"custom": np.full(5, 7.0)},
    }
    inputs.update(overrides)
    results = {"lexical": ([0, 2, 3], [9.0, 5.0, 1.0]), "semantic": ([4, 0], [0.8, 0.7])}
    return builder.build(results, **inputs)


def column(features, name):
    return features.X[:, features.schema.index(name)]


def test_feature_builder_unions_candidates_in_first_seen_order_with_found_indicators():
    features = build(full_builder())
    assert features.doc_ids.tolist() == [0, 2, 3, 4]
    assert features.X.dtype == np.float32
    assert features.X.shape == (4, full_builder().n_features)
    np.testing.assert_array_equal(column(features, "strategy.lexical.found"), [1, 1, 1, 0])
    np.testing.assert_array_equal(column(features, "strategy.lexical.score"), [9, 5, 1, 0])
    np.testing.assert_allclose(
        column(features, "strategy.lexical.reciprocal_rank"), [1, 1 / 2, 1 / 3, 0]
    )
    np.testing.assert_allclose(
        column(features, "strategy.semantic.reciprocal_rank"), [0.5, 0, 0, 1]
    )
    np.testing.assert_array_equal(column(features, "strategy.memory.found"), 0)  # did not run
    np.testing.assert_array_equal(column(features, "strategy.n_found"), [2, 1, 1, 1])


def test_feature_builder_fills_every_kind_of_column_source():
    features = build(full_builder())
    np.testing.assert_allclose(column(features, "bm25.title"), [2.5, 1.5, 0, 0])
    np.testing.assert_allclose(column(features, "bm25.artist"), [0, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(column(features, "vector.similarity"), [0, 0.9, 0, 0.3])
    np.testing.assert_array_equal(column(features, "vector.found"), [0, 1, 0, 1])
    np.testing.assert_allclose(column(features, "memory.score"), [0, 0.2, 0.3, 0.4])
    np.testing.assert_array_equal(column(features, "static.popularity"), [0, 2, 3, 4])
    np.testing.assert_array_equal(column(features, "static.recency"), [0, 0, 0, 1])
    np.testing.assert_array_equal(column(features, "query.n_terms"), 2)
    np.testing.assert_array_equal(column(features, "query.n_chars"), 10)
    np.testing.assert_array_equal(column(features, "query.slots_matched"), 1)
    np.testing.assert_array_equal(column(features, "query.intent.song"), 1)
    np.testing.assert_array_equal(column(features, "query.intent.artist"), 0)
    np.testing.assert_array_equal(column(features, "extra.custom"), 7)


def test_feature_builder_match_features_find_exact_titles_and_the_best_field():
    features = build(full_builder())
    # doc 0 "Love Story" and doc 2 "love  story" match exactly after normalisation
    np.testing.assert_array_equal(column(features, "match.title.exact"), [1, 1, 0, 0])
    np.testing.assert_array_equal(column(features, "match.artist.exact"), 0)
    best = column(features, "match.best_similarity")
    assert best[0] == 1.0 and best[1] == 1.0 and best[2] < 1.0
    # doc 3 "Yesterday" vs "The Beatles": the best field's distance is reported
    title_d = levenshtein("love story", "yesterday")
    artist_d = levenshtein("love story", "the beatles")
    assert column(features, "match.best_distance")[2] == min(title_d, artist_d)


def test_feature_builder_rows_are_identical_when_built_twice_for_training_and_serving():
    a = build(full_builder())
    b = build(full_builder())
    np.testing.assert_array_equal(a.X, b.X)
    assert a.schema == b.schema and a.schema.version == FEATURE_VERSION


def test_feature_builder_uses_given_candidates_when_replaying_logged_rows():
    builder = FeatureBuilder(("lexical",))
    features = builder.build({"lexical": ([5, 6], [2.0, 1.0])}, candidates=[6, 9])
    assert features.doc_ids.tolist() == [6, 9]
    np.testing.assert_array_equal(features.X[:, 0], [1, 0])


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"static": {"popularity": np.arange(3.0), "recency": ([4], [1.0])}}, "unknown doc id 4"),
        ({"field_text": {"title": TITLES[:2], "artist": ARTISTS}}, "unknown doc id"),
        ({"vector": None}, "vector is required"),
        ({"bm25": {"title": ([0], [1.0])}}, "no input for 'artist'"),
        ({"bm25": {"title": ([0], [np.nan]), "artist": ([0], [1.0])}}, "finite"),
        ({"bm25": {"title": ([0, 1], [1.0]), "artist": ([0], [1.0])}}, "expected 2 values"),
        ({"query_features": {}}, "missing"),
        ({"intent": "album"}, "unknown intent"),
        ({"extra": {"custom": np.ones(5), "other": np.ones(5)}}, "unknown names"),
        ({"memory": lambda ids: np.ones(2)}, "expected 4 values"),
    ],
)
def test_feature_builder_raises_a_clear_error_when_input_is_bad(overrides, message):
    with pytest.raises(ValueError, match=message):
        build(full_builder(), **overrides)


def test_feature_builder_raises_when_a_strategy_is_unknown_or_lists_an_id_twice():
    builder = FeatureBuilder(("lexical",))
    with pytest.raises(ValueError, match="unknown strategies"):
        builder.build({"fuzzy": ([1], [1.0])})
    with pytest.raises(ValueError, match="appears twice"):
        builder.build({"lexical": ([1, 1], [1.0, 0.5])})
    with pytest.raises(TypeError, match="integers"):
        builder.build({"lexical": (["a"], [1.0])})


def test_feature_builder_returns_no_rows_when_no_strategy_found_anything():
    builder = FeatureBuilder(("lexical",), static=("popularity",))
    features = builder.build({}, static={"popularity": np.ones(3)})
    assert features.X.shape == (0, builder.n_features)


def test_feature_schema_round_trips_and_reports_differences():
    schema = full_builder().schema
    assert FeatureSchema.from_dict(schema.to_dict()) == schema
    schema.check_compatible(schema)
    smaller = FeatureBuilder(("lexical",)).schema
    with pytest.raises(ValueError, match="missing"):
        schema.check_compatible(smaller)
    with pytest.raises(ValueError, match="version"):
        schema.check_compatible(FeatureSchema(schema.names, version=FEATURE_VERSION + 1))
    with pytest.raises(KeyError):
        schema.index("nope")


@settings(deadline=None, max_examples=200)
@given(st.text(max_size=12), st.text(max_size=12))
def test_levenshtein_equals_the_plain_dynamic_programme_when_strings_are_random(a, b):
    assert levenshtein(a, b) == levenshtein_python(a, b)


def test_match_features_give_zero_when_both_texts_are_empty():
    assert match_features("", "  ") == (0.0, 0.0, 0.0)
    assert match_features("Taylor", "taylor") == (1.0, 0.0, 1.0)
