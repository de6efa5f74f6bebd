"""Lexical, structured, popularity, related and memory strategies on the Spotify catalog."""

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
from ltrr_fast.index import BM25Params, Filter
from ltrr_fast.index.catalog import Catalog
from ltrr_fast.strategies import run_strategy
from ltrr_fast.strategies.lexical import CatalogIndex, LexicalStrategy
from ltrr_fast.strategies.memory import MemoryIndex, MemoryStrategy
from ltrr_fast.strategies.popularity import PopularityStrategy
from ltrr_fast.strategies.related import RelatedStrategy
from ltrr_fast.strategies.structured import StructuredStrategy
from ltrr_fast.understanding import ParsedQuery, QueryUnderstanding, Slot
from ltrr_fast.understanding.predicted import MUSIC_TEMPLATES

SLOT_FIELDS = ("artist_name", "genre", "subgenre", "album", "playlist", "title")
QUERIES = ("tayler swift lover", "love", "queen", "blinding lights", "rock", "xyzzy", "")


class Setup:
    def __init__(self) -> None:
        self.music = load_spotify()
        self.catalog = Catalog(MUSIC_TEXT_FIELDS, MUSIC_ATTRIBUTE_KEYS, MUSIC_STATIC_NAMES)
        self.catalog.add(music_records(self.music))
        self.understanding = QueryUnderstanding.from_catalog(
            self.catalog, SLOT_FIELDS, separators={"playlist": " | "}
        )
        self.index = CatalogIndex(self.catalog)
        self.lexical = LexicalStrategy(self.index)
        self.structured = StructuredStrategy(
            self.index,
            filter_fields=("artist_name", "genre", "subgenre"),
            field_weights={"title": 2.0, "artist": 1.5},
        )
        self.popularity = PopularityStrategy(self.index, ("genre", "subgenre"))
        self.related = RelatedStrategy(self.index)
        self.memory = MemoryStrategy(
            MemoryIndex.from_catalog(self.catalog, MUSIC_TEMPLATES), clock=lambda: 0.0
        )
        self._columns: dict[str, list[tuple[str, ...]]] = {}
        self.strategies = (
            self.lexical,
            self.structured,
            self.popularity,
            self.related,
            self.memory,
        )

    def run(self, strategy, text: str, quota: int = 20):
        result = run_strategy(
            strategy, self.understanding.parse(text), quota, time.perf_counter() + 5
        )
        assert result.status == "ok", result.error
        return result.candidates

    def column(self, key: str) -> list[tuple[str, ...]]:
        if key not in self._columns:
            self._columns[key] = self.catalog.attributes(key)
        return self._columns[key]

    def titles(self, doc_ids) -> list[str]:
        return [self.music.titles[int(d)] for d in doc_ids]

    def artists(self, doc_ids) -> list[str]:
        return [self.music.artists[int(d)] for d in doc_ids]


@pytest.fixture(scope="module")
def s() -> Setup:
    return Setup()


# Every strategy


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("name", ["lexical", "structured", "popularity", "related", "memory"])
def test_every_strategy_keeps_its_contract(s, name, query):
    strategy = getattr(s, name)
    got = s.run(strategy, query, quota=7)
    assert len(got) <= 7
    assert got.doc_ids.dtype == np.uint32 and got.scores.dtype == np.float32
    assert len(set(got.doc_ids.tolist())) == len(got)
    assert np.all(np.diff(got.scores) <= 0)
    assert got.features.shape == (len(got), len(strategy.feature_names))
    assert s.catalog.is_live(got.doc_ids).all()


@pytest.mark.parametrize("name", ["lexical", "structured", "popularity", "related", "memory"])
def test_a_passed_deadline_and_a_failure_never_fail_the_request(s, name, monkeypatch):
    strategy = getattr(s, name)
    query = s.understanding.parse("queen")
    late = run_strategy(strategy, query, 10, time.perf_counter() - 1.0)
    assert late.status in ("ok", "cut") and len(late.candidates) == 0
    with pytest.raises(ValueError, match="quota must be >= 1"):
        strategy.retrieve(query, 0, time.perf_counter() + 5)

    def broken(*args, **kwargs):
        raise RuntimeError("index gone")

    monkeypatch.setattr(s.index, "search", broken)
    monkeypatch.setattr(s.index, "filter_doc_ids", broken)
    monkeypatch.setattr(s.memory.memory, "lookup", broken)
    failed = run_strategy(strategy, query, 10, time.perf_counter() + 5)
    if name != "popularity":  # popularity answers "queen" from its cached overall ranking
        assert failed.status == "failed" and "index gone" in failed.error
    assert failed.candidates.features.shape[1] == len(strategy.feature_names)


# Lexical


def test_lexical_finds_the_misspelt_artists_song_by_its_title_word(s):
    got = s.run(s.lexical, "tayler swift lover", quota=10)
    pairs = list(zip(s.titles(got.doc_ids), s.artists(got.doc_ids)))
    assert any(a == "Taylor Swift" and "Lover" in t for t, a in pairs)


def test_lexical_love_finds_songs_titled_love_and_songs_of_love_playlists(s):
    got = s.run(s.lexical, "love", quota=100)
    music = s.music
    assert any(music.titles[d] == "Love" for d in got.doc_ids)
    assert any(
        "love" not in music.titles[d].lower()
        and any("love" in p.lower() for p in music.playlists[d])
        for d in got.doc_ids
    )


def test_lexical_answers_in_catalog_doc_ids(s):
    for text in ("eminem", "shape of you", "latin hip hop"):
        got = s.run(s.lexical, text, quota=15)
        hits = s.index.index.search(text, 15)
        assert s.catalog.external_ids(got.doc_ids) == hits.ids


# Structured


def satisfies(s: Setup, doc_id: int, constraints) -> bool:
    return all(set(s.column(name)[doc_id]) & set(values) for name, values, _ in constraints)


@pytest.mark.parametrize("query", ["tayler swift lover", "queen", "rock", "hard rock", "eminem"])
def test_structured_results_all_satisfy_the_slot_filter(s, query):
    parsed = s.understanding.parse(query)
    constraints = s.structured.constraints(parsed)
    assert constraints
    got = s.structured.retrieve(parsed, 50, time.perf_counter() + 5)
    n_inside = sum(satisfies(s, d, constraints) for d in range(s.catalog.n_slots))
    assert len(got) == min(50, n_inside)
    assert all(satisfies(s, int(d), constraints) for d in got.doc_ids)


def test_structured_puts_the_misspelt_artists_title_match_first(s):
    got = s.run(s.structured, "tayler swift lover", quota=10)
    assert s.artists(got.doc_ids[:3]) == ["Taylor Swift"] * 3
    assert any("Lover" in t for t in s.titles(got.doc_ids[:3]))


def test_structured_fills_the_quota_with_the_filters_most_popular_items(s):
    # The artist's name is not in the text, so only the title word matches.
    slots = (Slot("artist_name", "Queen", 0, 1, 0.9),)
    parsed = ParsedQuery("bohemian", "bohemian", ("bohemian",), slots=slots)
    got = s.structured.retrieve(parsed, 40, time.perf_counter() + 5)
    matched = got.features[:, 1] == 1
    assert matched[0] and not matched.all() and np.all(np.diff(matched.astype(int)) <= 0)
    rest = got.doc_ids[~matched]
    assert set(s.artists(rest)) == {"Queen"}
    popularity = s.index.static[rest]
    assert np.all(np.diff(popularity) <= 0)


def test_structured_does_not_filter_on_an_artist_inside_a_longer_title_slot(s):
    parsed = s.understanding.parse("blinding lights")
    assert ("artist_name", "Lights") in {(x.field, x.value) for x in parsed.slots}
    assert s.structured.constraints(parsed) == []
    got = s.structured.retrieve(parsed, 5, time.perf_counter() + 5)
    assert "The Weeknd" in s.artists(got.doc_ids[:2])


def test_structured_relaxes_the_least_confident_constraint_when_nothing_passes(s):
    slots = (
        Slot("artist_name", "Queen", 0, 1, 1.0),
        Slot("genre", "latin", 1, 2, 0.9),
    )
    parsed = ParsedQuery("queen latin", "queen latin", ("queen", "latin"), slots=slots)
    queen = s.catalog.doc_ids([i for i, a in zip(s.music.ids, s.music.artists) if a == "Queen"])
    assert not any("latin" in s.column("genre")[d] for d in queen)
    got = s.structured.retrieve(parsed, 10, time.perf_counter() + 5)
    assert len(got) == 10 and set(s.artists(got.doc_ids)) == {"Queen"}
    assert got.features[0, 2] == 1  # one constraint left


def test_structured_without_slots_is_fielded_bm25(s):
    parsed = ParsedQuery("love", "love", ("love",))
    got = s.structured.retrieve(parsed, 10, time.perf_counter() + 5)
    weights = {"title": 2.0, "artist": 1.5, "album": 1.0, "playlist": 1.0}
    hits = s.index.index.search("love", 10, params=BM25Params(field_weights=weights))
    assert s.catalog.external_ids(got.doc_ids) == hits.ids


# Popularity


def brute_force_popular(s: Setup, constraints, quota: int) -> list[int]:
    popularity = s.catalog.static("popularity")
    live = s.catalog.live_mask()
    ids = [
        i
        for i in range(s.catalog.n_slots)
        if live[i] and all(set(s.column(k)[i]) & set(v) for k, v in constraints)
    ]
    ids = np.asarray(ids)
    return ids[np.argsort(-popularity[ids], kind="stable")][:quota].tolist()


@pytest.mark.parametrize(
    "query, constraints",
    [
        ("rock", [("genre", {"rock"})]),
        ("edm", [("genre", {"edm"})]),
        ("hard rock", [("subgenre", {"hard rock"})]),
        ("xyzzy", []),
    ],
)
def test_popularity_equals_a_numpy_argsort_over_the_catalog(s, query, constraints):
    parsed = s.understanding.parse(query)
    got = s.popularity.retrieve(parsed, 25, time.perf_counter() + 5)
    assert got.doc_ids.tolist() == brute_force_popular(s, constraints, 25)
    assert got.features[0, 1] == float(bool(constraints))


def test_popularity_follows_deletes_after_a_refresh():
    catalog = Catalog(("title",), ("genre",), ("popularity",))
    catalog.add(
        [
            {
                "id": f"s{i}",
                "fields": {"title": f"song {i}"},
                "attributes": {"genre": "pop"},
                "static": {"popularity": p},
            }
            for i, p in enumerate([10, 50, 50, 30])
        ]
    )
    index = CatalogIndex(catalog)
    strategy = PopularityStrategy(index, ("genre",))
    pop = ParsedQuery("pop", "pop", ("pop",), slots=(Slot("genre", "pop", 0, 1, 1.0),))
    assert strategy.retrieve(pop, 3, time.perf_counter() + 5).doc_ids.tolist() == [1, 2, 3]
    catalog.delete("s1")
    index.refresh([1])  # the strategy's cached rankings follow
    assert strategy.retrieve(pop, 3, time.perf_counter() + 5).doc_ids.tolist() == [2, 3, 0]
    blank = ParsedQuery("", "", ())
    assert strategy.retrieve(blank, 9, time.perf_counter() + 5).doc_ids.tolist() == [2, 3, 0]


# Related


def test_related_returns_the_album_and_artist_beside_the_matched_song(s):
    parsed = s.understanding.parse("bohemian rhapsody")
    seeds, _ = s.index.search(parsed.normalized, s.related.n_seeds)
    got = s.related.retrieve(parsed, 30, time.perf_counter() + 5)
    assert len(got) > 0 and not set(got.doc_ids.tolist()) & set(seeds.tolist())
    assert set(s.artists(got.doc_ids)) == {"Queen"}
    seed_keys = {
        key: {s.column(key)[int(d)][0] for d in seeds} for key in ("album_id", "artist_name")
    }
    for d in got.doc_ids:
        assert any(s.column(k)[int(d)][0] in v for k, v in seed_keys.items())
    # Songs of a seed's album come before songs that only share its artist.
    closest = got.features[:, 1]
    assert closest[0] == 1 and closest.min() == 0 and np.all(np.diff(closest) <= 0)
    album_ids = {s.music.album_ids[int(d)] for d in got.doc_ids[closest == 1]}
    assert album_ids <= seed_keys["album_id"]


# Memory on the real catalog


def test_memory_cold_start_answers_an_artist_and_an_artist_plus_title(s):
    eminem = s.run(s.memory, "eminem", quota=10)
    assert set(s.artists(eminem.doc_ids)) == {"Eminem"}
    exact = s.run(s.memory, "ed sheeran shape of you", quota=3)
    assert s.titles(exact.doc_ids[:1]) == ["Shape of You"]
    assert s.artists(exact.doc_ids[:1]) == ["Ed Sheeran"]


# Bad input


def test_strategies_refuse_bad_configuration(s):
    with pytest.raises(TypeError, match="catalog must be a Catalog"):
        CatalogIndex([])
    with pytest.raises(ValueError, match="unknown static score 'plays'"):
        CatalogIndex(s.catalog, static_name="plays")
    with pytest.raises(TypeError, match="index must be a CatalogIndex"):
        LexicalStrategy(s.catalog)
    with pytest.raises(ValueError, match=r"filter_fields \['mood'\] are not attributes"):
        StructuredStrategy(s.index, filter_fields=["mood"])
    with pytest.raises(ValueError, match=r"field_weights names unknown fields \['lyrics'\]"):
        StructuredStrategy(s.index, field_weights={"lyrics": 2.0})
    with pytest.raises(ValueError, match=r"category_fields \['mood'\] are not attributes"):
        PopularityStrategy(s.index, ["mood"])
    with pytest.raises(ValueError, match="keys must name attributes"):
        RelatedStrategy(s.index, {"label": 1.0})
    with pytest.raises(TypeError, match="quota must be an int"):
        s.lexical.retrieve(s.understanding.parse("queen"), 2.5, time.perf_counter() + 5)


def test_catalog_index_refresh_follows_replaced_and_deleted_items():
    catalog = Catalog(("title",), ("genre",), ("popularity",))
    catalog.add(
        [{"id": f"s{i}", "fields": {"title": t}} for i, t in enumerate(["a b", "b c", "c d"])]
    )
    index = CatalogIndex(catalog)
    assert index.search("b", 5)[0].tolist() == [0, 1]
    catalog.add([{"id": "s0", "fields": {"title": "x y"}}])  # replaced, keeps doc id 0
    catalog.delete("s1")
    catalog.add([{"id": "s3", "fields": {"title": "b x"}}])  # new, doc id 3
    index.refresh([0, 1, 3])
    assert index.search("b", 5)[0].tolist() == [3]
    assert sorted(index.search("x", 5)[0].tolist()) == [0, 3]
    assert index.version == 2
    assert index.filter_doc_ids(Filter.all()).tolist() == [0, 2, 3]
