"""Query understanding: normalisation, script and language, slots on the Spotify catalog,
intent and the feature vector."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ltrr_fast.datasets.music import (
    MUSIC_ATTRIBUTE_KEYS,
    MUSIC_STATIC_NAMES,
    MUSIC_TEXT_FIELDS,
    load_spotify,
    music_records,
)
from ltrr_fast.index import LexicalIndex
from ltrr_fast.index.catalog import Catalog
from ltrr_fast.understanding import (
    FEATURE_VERSION,
    SCRIPTS,
    QueryUnderstanding,
    SlotMatcher,
    detect_script,
    feature_names,
    guess_language,
    normalize,
    tokenize,
)
from ltrr_fast.understanding.predicted import QueryTemplate, predict_queries

SLOT_FIELDS = ("artist_name", "genre", "subgenre", "album", "playlist", "title")


@pytest.fixture(scope="module")
def music():
    return load_spotify()


@pytest.fixture(scope="module")
def understanding(music):
    catalog = Catalog(MUSIC_TEXT_FIELDS, MUSIC_ATTRIBUTE_KEYS, MUSIC_STATIC_NAMES)
    catalog.add(music_records(music))
    return QueryUnderstanding.from_catalog(catalog, SLOT_FIELDS, separators={"playlist": " | "})


# Normalisation, script, language


@pytest.mark.parametrize(
    "text", ["  Café  DEL-Mar!! ", "straße", "ΌΣΟΣ", "Ёж йогурт", "don't stop", "Tiësto’s"]
)
def test_normalize_agrees_with_the_index_analyzer(text):
    analyzer = LexicalIndex(fields=("t",))
    assert normalize(text) == " ".join(analyzer.tokenize(text))
    assert tokenize(text) == analyzer.tokenize(text)


def test_normalize_folds_case_accents_punctuation_and_whitespace():
    assert normalize("  Café\tDEL-Mar!! ") == "cafe del mar"
    assert normalize("") == "" and normalize("?!") == ""


def test_tokenize_refuses_what_is_not_text():
    with pytest.raises(TypeError, match="text must be str, got int"):
        tokenize(3)
    with pytest.raises(ValueError, match="surrogate"):
        tokenize("bad \udc80")


@pytest.mark.parametrize(
    "text, script",
    [
        ("Taylor Swift", "latin"),
        ("Beyoncé", "latin"),
        ("Привет мир", "cyrillic"),
        ("Москва rock", "cyrillic"),
        ("Ωραία", "greek"),
        ("日本語", "cjk"),
        ("カタカナ", "cjk"),
        ("안녕하세요", "cjk"),
        ("שלום", "hebrew"),
        ("مرحبا", "arabic"),
        ("नमस्ते", "devanagari"),
        ("สวัสดี", "thai"),
        ("ሰላም", "other"),
        ("123 !!", "none"),
        ("", "none"),
    ],
)
def test_detect_script_names_the_dominant_writing_system(text, script):
    assert detect_script(text) == script
    assert script in SCRIPTS


@pytest.mark.parametrize(
    "text, language",
    [
        ("the best of you", "en"),
        ("canciones de amor", "es"),
        ("chansons pour mon amour", "fr"),
        ("lieder der liebe", "de"),
        ("xyzzy plugh", None),
        ("de la", None),  # Spanish, French, Portuguese and Italian all have these
        ("Ωραία", "el"),
        ("カタカナ", "ja"),
        ("안녕", "ko"),
        ("日本", None),
        ("мы", "ru"),
        ("їжак", "uk"),
        ("привет", None),
    ],
)
def test_guess_language_answers_only_when_the_evidence_is_clear(text, language):
    tokens = tokenize(text)
    assert guess_language(text, tokens, detect_script(text)) == language


# Slot matching on a small vocabulary


def small_matcher(**options) -> SlotMatcher:
    return SlotMatcher(
        {
            "artist": ["Taylor Swift"] * 5 + ["Tyler Shaw", "Ed Sheeran", "Queen"],
            "genre": ["pop"] * 10 + ["rock"] * 10,
        },
        **options,
    )


def test_slot_matcher_finds_exact_values_with_full_confidence():
    slots = small_matcher().match(tokenize("queen rock"))
    found = {(s.field, s.value, s.start, s.end, s.confidence) for s in slots}
    assert ("artist", "Queen", 0, 1, 1.0) in found
    assert ("genre", "rock", 1, 2, 1.0) in found


def test_slot_matcher_forgives_a_typo_with_lower_confidence():
    slots = small_matcher().match(tokenize("ed sheerin"))
    assert slots[0].value == "Ed Sheeran" and (slots[0].start, slots[0].end) == (0, 2)
    assert 0.8 < slots[0].confidence < 1.0


def test_slot_matcher_scores_part_of_a_value_below_the_whole():
    whole = small_matcher().match(tokenize("taylor swift"))[0]
    part = small_matcher().match(tokenize("taylor"))[0]
    assert whole.value == part.value == "Taylor Swift"
    assert whole.confidence == 1.0 and 0.45 <= part.confidence < 0.8


def test_slot_matcher_respects_its_limits():
    matcher = small_matcher(min_confidence=0.99, max_slots=1)
    assert [s.value for s in matcher.match(tokenize("queen rock"))] in (["Queen"], ["rock"])
    assert matcher.match(tokenize("taylor")) == []
    assert small_matcher().match([]) == []


@pytest.mark.parametrize(
    "values, options, error, message",
    [
        ([("artist", "x")], {}, TypeError, "values must map field names"),
        ({"artist": "Queen"}, {}, TypeError, "not one str"),
        ({"artist": [1]}, {}, TypeError, "must be str, got int"),
        ({"": ["x"]}, {}, ValueError, "non-empty str"),
        ({"artist": ["x"]}, {"min_confidence": 2}, ValueError, r"min_confidence must lie"),
        ({"artist": ["x"]}, {"max_slots": 0}, ValueError, "max_slots must be a positive int"),
    ],
)
def test_slot_matcher_refuses_bad_input(values, options, error, message):
    with pytest.raises(error, match=message):
        SlotMatcher(values, **options)


# The Spotify catalog


def test_misspelt_artist_plus_a_title_word_finds_the_artist_and_the_title(understanding):
    parsed = understanding.parse("Tayler Swift lover")
    assert parsed.normalized == "tayler swift lover"
    artists = [s for s in parsed.slots if s.field == "artist_name"]
    taylor = next(s for s in artists if s.value == "Taylor Swift")
    assert (taylor.start, taylor.end) == (0, 2) and 0.85 < taylor.confidence < 1.0
    assert any(s.field == "title" and s.value == "Lover" and s.start == 2 for s in parsed.slots)
    assert parsed.intent == "entity"
    # With the surname left out the artist is still found, with less confidence.
    short = understanding.parse("tayler lover")
    found = next(s for s in short.slots if s.value == "Taylor Swift")
    assert found.field == "artist_name" and found.confidence < taylor.confidence


def test_love_is_both_a_title_and_a_playlist_category(understanding, music):
    assert "Love" in music.titles
    assert any("love" in p.lower() for ps in music.playlists for p in ps)
    parsed = understanding.parse("love")
    assert any(
        s.field == "title" and s.value == "Love" and s.confidence == 1.0 for s in parsed.slots
    )
    playlists = [s for s in parsed.slots if s.field == "playlist"]
    assert playlists and all("love" in s.value.lower() for s in playlists)
    assert "playlist" in understanding.category_fields


def test_an_artist_alone_is_an_entity_query(understanding):
    parsed = understanding.parse("EMINEM")
    assert (parsed.slots[0].field, parsed.slots[0].value) == ("artist_name", "Eminem")
    assert parsed.slots[0].confidence == 1.0 and parsed.intent == "entity"


def test_a_title_alone_beats_an_artist_named_by_one_of_its_words(understanding):
    parsed = understanding.parse("blinding lights")
    best = parsed.slots[0]
    assert best.field in ("title", "album") and best.value == "Blinding Lights"
    assert (best.start, best.end) == (0, 2) and parsed.intent == "entity"


def test_a_genre_alone_is_a_broad_query(understanding):
    parsed = understanding.parse("Hard Rock")
    assert ("subgenre", "hard rock") in {(s.field, s.value) for s in parsed.slots}
    assert parsed.intent == "broad"
    assert set(understanding.category_fields) >= {"genre", "subgenre"}
    assert "artist_name" not in understanding.category_fields


def test_words_matching_nothing_give_no_slots_and_an_unknown_intent(understanding):
    parsed = understanding.parse("xyzzy qwfp")
    assert parsed.slots == () and parsed.intent == "unknown"


def test_query_features_follow_the_documented_layout(understanding):
    names = understanding.feature_names
    assert names == feature_names(SLOT_FIELDS) and len(set(names)) == len(names)
    assert FEATURE_VERSION == 1 and understanding.feature_version == 1
    parsed = understanding.parse("tayler swift lover")
    features = dict(zip(names, parsed.features.tolist()))
    assert parsed.features.dtype == np.float32 and parsed.features.shape == (len(names),)
    assert features["bias"] == 1.0 and features["n_tokens"] == 3
    assert features["n_chars"] == len("tayler swift lover")
    assert features["slots_artist_name"] >= 1 and features["best_confidence"] == 1.0
    assert features["slot_coverage"] == 1.0 and features["fuzzy_slot"] == 1.0
    assert (features["intent_entity"], features["intent_broad"]) == (1.0, 0.0)
    assert features["script_latin"] == 1.0 and sum(features[f"script_{s}"] for s in SCRIPTS) == 1
    empty = dict(zip(names, understanding.parse("").features.tolist()))
    assert empty["n_tokens"] == 0 and empty["intent_unknown"] == 1 and empty["script_none"] == 1


def test_parse_is_well_under_a_millisecond_on_short_queries(understanding, music):
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(music), 200)
    queries = [music.artists[i] for i in picks[:100]] + [
        f"{music.artists[i]} {music.titles[i].split(' ')[0]}" for i in picks[100:]
    ]
    for query in queries[:20]:
        understanding.parse(query)
    seconds = []
    for query in queries:
        start = time.perf_counter()
        understanding.parse(query)
        seconds.append(time.perf_counter() - start)
    assert np.median(seconds) < 1e-3


def test_a_long_query_is_cut_before_matching(understanding):
    parsed = understanding.parse("love " * 1000)
    assert len(parsed.tokens) == 32 and parsed.text == "love " * 1000


def test_parse_and_from_catalog_refuse_bad_input(understanding):
    with pytest.raises(TypeError, match="query must be str, got NoneType"):
        understanding.parse(None)
    with pytest.raises(ValueError, match="surrogate"):
        understanding.parse("x \udc80")
    catalog = Catalog(("title",), ("genre",))
    with pytest.raises(ValueError, match="slot field 'mood' is neither"):
        QueryUnderstanding.from_catalog(catalog, ["mood"])
    with pytest.raises(TypeError, match="catalog must be a Catalog"):
        QueryUnderstanding.from_catalog({"title": []})
    with pytest.raises(ValueError, match=r"category_fields \['title'\] are not slot fields"):
        QueryUnderstanding.from_catalog(catalog, ["genre"], category_fields=["title"])


def test_from_catalog_reads_only_live_items():
    catalog = Catalog(("title",), ("genre",))
    catalog.add(
        [
            {"id": "a", "fields": {"title": "Zombie"}, "attributes": {"genre": "rock"}},
            {"id": "b", "fields": {"title": "Halo"}, "attributes": {"genre": ["pop", "soul"]}},
        ]
    )
    catalog.delete("a")
    matcher = QueryUnderstanding.from_catalog(catalog, ["title", "genre"]).matcher
    assert matcher.match(["zombie"]) == [] and matcher.match(["rock"]) == []
    assert [s.value for s in matcher.match(["soul"])] == ["soul"]


# Queries predicted from item fields (the memory's cold start)


def test_predict_queries_expands_templates_over_fields_and_attribute_values():
    catalog = Catalog(("title", "artist"), ("genre",), ("popularity",))
    catalog.add(
        [
            {
                "id": "a",
                "fields": {"title": "Love Story", "artist": "Taylor Swift"},
                "attributes": {"genre": ["pop", "country"]},
                "static": {"popularity": 80},
            },
            {"id": "b", "fields": {"title": "Halo"}, "static": {"popularity": 40}},
        ]
    )
    templates = [QueryTemplate("{artist} {title}", 0.5), QueryTemplate("{genre} songs", 0.1)]
    queries, query_ids, doc_ids, rates = predict_queries(catalog, templates)
    triples = {(queries[q], d, round(r, 6)) for q, d, r in zip(query_ids, doc_ids, rates)}
    assert triples == {
        ("taylor swift love story", 0, 0.5),
        ("pop songs", 0, 0.1),
        ("country songs", 0, 0.1),
    }  # "b" has no artist and no genre, so no query
    _, _, _, flat = predict_queries(catalog, [QueryTemplate("{title}", 0.4)], popularity=None)
    assert flat.tolist() == [0.4, 0.4]
    _, _, docs, scaled = predict_queries(catalog, [QueryTemplate("{title}", 0.4)])
    assert scaled[docs == 1][0] == pytest.approx(0.4 * (0.5 + 0.5 * 40 / 80))


@pytest.mark.parametrize(
    "pattern, score, message",
    [("title", 0.5, "placeholder"), ("{title}", 1.0, r"score must lie in \(0, 1\)")],
)
def test_query_template_refuses_bad_patterns_and_scores(pattern, score, message):
    with pytest.raises(ValueError, match=message):
        QueryTemplate(pattern, score)


def test_predict_queries_names_an_unknown_placeholder():
    catalog = Catalog(("title",))
    catalog.add([{"id": "a", "fields": {"title": "x"}}])
    with pytest.raises(ValueError, match=r"placeholder \{mood\} names no text field"):
        predict_queries(catalog, [QueryTemplate("{mood}", 0.5)])
