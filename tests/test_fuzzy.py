"""The fuzzy strategy: misspelled names on the Spotify catalog, edit distances against a plain
dynamic programme, n-gram terms the analyzer keeps whole, deadlines and catalog changes."""

from __future__ import annotations

import time

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from ltrr_fast.datasets.music import (
    MUSIC_ATTRIBUTE_KEYS,
    MUSIC_STATIC_NAMES,
    MUSIC_TEXT_FIELDS,
    load_spotify,
    music_records,
)
from ltrr_fast.index.catalog import Catalog
from ltrr_fast.strategies import run_strategy
from ltrr_fast.strategies.fuzzy import FuzzyStrategy
from ltrr_fast.understanding import ParsedQuery


def levenshtein(a: str, b: str) -> int:
    """Edit distance by the textbook dynamic programme."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def query(text: str) -> ParsedQuery:
    return ParsedQuery(text=text, normalized=text.lower(), tokens=tuple(text.lower().split()))


def later(seconds: float = 10.0) -> float:
    return time.perf_counter() + seconds


@pytest.fixture(scope="module")
def spotify():
    catalog = Catalog(MUSIC_TEXT_FIELDS, MUSIC_ATTRIBUTE_KEYS, MUSIC_STATIC_NAMES)
    catalog.add(music_records(load_spotify()))
    return catalog, FuzzyStrategy(catalog)


@pytest.mark.parametrize(
    "typed, artist",
    [
        ("tayler swift", "Taylor Swift"),
        ("beyonse", "Beyoncé"),
        ("eminen", "Eminem"),
        ("ed sheran", "Ed Sheeran"),
        ("arianna grande", "Ariana Grande"),
    ],
)
def test_misspelled_artists_are_found_on_spotify(spotify, typed, artist):
    catalog, fuzzy = spotify
    found = fuzzy.retrieve(query(typed), 10, later())
    assert len(found) == 10
    assert [catalog.text("artist", d) for d in found.doc_ids] == [artist] * 10
    assert np.all(np.diff(found.scores) <= 0)


def test_a_short_misspelled_word_finds_names_holding_the_word(spotify):
    catalog, fuzzy = spotify
    found = fuzzy.retrieve(query("qeen"), 10, later())
    for d in found.doc_ids:
        names = fuzzy._words(catalog.text("title", d)) + fuzzy._words(catalog.text("artist", d))
        assert "queen" in names


def test_a_misspelled_title_and_artist_find_the_track(spotify):
    catalog, fuzzy = spotify
    found = fuzzy.retrieve(query("eminen lose yourslef"), 5, later())
    top = int(found.doc_ids[0])
    assert catalog.text("artist", top) == "Eminem"
    assert catalog.text("title", top).startswith("Lose Yourself")


def test_edit_features_equal_a_plain_dynamic_programme(spotify):
    catalog, fuzzy = spotify
    words = ["tayler", "swfit"]
    found = fuzzy.retrieve(query(" ".join(words)), 20, later())
    for d, (similarity, _, edits) in zip(found.doc_ids, found.features):
        names = fuzzy._words(catalog.text("title", d)) + fuzzy._words(catalog.text("artist", d))
        want_edits, want_sim = 0, 0.0
        for word in words:
            allowed = fuzzy.allowed_edits(len(word))
            near = [(levenshtein(word, n), n) for n in names if levenshtein(word, n) <= allowed]
            if near:
                want_edits += min(e for e, _ in near)
                want_sim += max(1 - e / max(len(word), len(n)) for e, n in near)
        assert edits == want_edits
        assert similarity == pytest.approx(want_sim / len(words), abs=1e-6)


def test_rapidfuzz_agrees_with_the_dynamic_programme_on_random_words():
    rng = np.random.default_rng(0)
    alphabet = list("abcdeé2 ")
    for _ in range(300):
        a = "".join(rng.choice(alphabet, rng.integers(0, 9)))
        b = "".join(rng.choice(alphabet, rng.integers(0, 9)))
        assert Levenshtein.distance(a, b) == levenshtein(a, b)


def small_catalog(rows: list[tuple[str, str]]) -> Catalog:
    catalog = Catalog(("title", "artist"))
    catalog.add(
        [{"id": f"t{i}", "fields": {"title": t, "artist": a}} for i, (t, a) in enumerate(rows)]
    )
    return catalog


def test_digits_accents_cjk_and_empty_names_index_and_match():
    catalog = small_catalog(
        [
            ("California Love", "2Pac"),
            ("Café del Mar", "Energy 52"),
            ("黄山归来", "华山"),
            ("", ""),
        ]
    )
    fuzzy = FuzzyStrategy(catalog)
    assert fuzzy.retrieve(query("2pac"), 3, later()).doc_ids.tolist() == [0]
    assert fuzzy.retrieve(query("energy 25"), 3, later()).doc_ids[0] == 1  # one edit away
    assert fuzzy.retrieve(query("cafe"), 3, later()).doc_ids.tolist() == [1]
    assert fuzzy.retrieve(query("黄山"), 3, later()).doc_ids.tolist() == [2]
    assert len(fuzzy.retrieve(query("zzqx"), 3, later())) == 0
    assert len(fuzzy.retrieve(query(""), 3, later())) == 0
    # A digit spelled inside a term never collides with letters: "0x" marks a boundary only.
    assert fuzzy._grams_of("a0") != fuzzy._grams_of("ax")


def test_short_words_must_match_exactly_and_long_ones_allow_two_edits():
    catalog = small_catalog([("Up", "Cat"), ("Ux", "Cot"), ("Something", "Anybody")])
    fuzzy = FuzzyStrategy(catalog)
    assert fuzzy.retrieve(query("up"), 5, later()).doc_ids.tolist() == [0]
    assert fuzzy.retrieve(query("cat"), 5, later()).doc_ids.tolist() == [0, 1]
    assert fuzzy.retrieve(query("somthinng"), 5, later()).doc_ids.tolist() == [2]
    assert len(fuzzy.retrieve(query("smthinng"), 5, later())) == 0  # three edits


def test_catalog_changes_are_followed_and_dead_items_never_return():
    catalog = small_catalog([("Halo", "Beyoncé"), ("Hello", "Adele")])
    fuzzy = FuzzyStrategy(catalog)
    catalog.delete("t0")
    assert fuzzy.retrieve(query("beyonse"), 5, later()).doc_ids.tolist() == []
    catalog.add([{"id": "t0", "fields": {"title": "Halo", "artist": "Beyonce"}}])
    catalog.add([{"id": "t1", "fields": {"title": "Skyfall", "artist": "Adele"}}])
    fuzzy.index_items([1])
    assert fuzzy.retrieve(query("skyfal"), 5, later()).doc_ids.tolist() == [1]
    assert fuzzy.delete_items([1]) == 1 and len(fuzzy) == 1
    assert fuzzy.retrieve(query("skyfal"), 5, later()).doc_ids.tolist() == []


def test_quota_and_deadline_are_respected(spotify):
    _, fuzzy = spotify
    assert len(fuzzy.retrieve(query("love"), 3, later())) == 3
    late = fuzzy.retrieve(query("tayler swift"), 5, time.perf_counter() - 1)
    assert len(late) <= 5 and late.features.shape == (len(late), 3)
    result = run_strategy(fuzzy, query("beyonse"), 4, later())
    assert result.status == "ok" and len(result.candidates) == 4


def test_bad_construction_is_refused():
    catalog = small_catalog([("a", "b")])
    with pytest.raises(ValueError, match="text fields of the catalog"):
        FuzzyStrategy(catalog, fields=("lyrics",))
    with pytest.raises(ValueError, match="ngram must be an int >= 2"):
        FuzzyStrategy(catalog, ngram=1)
    with pytest.raises(TypeError, match="catalog must be a Catalog"):
        FuzzyStrategy({"a": "b"})
