"""Semantic, personal and explore strategies on the Spotify catalog, pinned against numpy."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pytest

from ltrr_fast.datasets.music import (
    MUSIC_ATTRIBUTE_KEYS,
    MUSIC_STATIC_NAMES,
    MUSIC_TEXT_FIELDS,
    load_spotify,
    music_records,
)
from ltrr_fast.index.catalog import Catalog
from ltrr_fast.index.embedding import LSAEmbedder, embed_catalog
from ltrr_fast.index.vectors import VectorIndex
from ltrr_fast.strategies import run_strategy
from ltrr_fast.strategies.explore import ExploreStrategy
from ltrr_fast.strategies.personal import PersonalStrategy
from ltrr_fast.strategies.semantic import SemanticStrategy
from ltrr_fast.understanding import ParsedQuery, Slot

FIELDS = {"title": 1.0, "artist": 1.0, "album": 0.5}


def query(text: str, **kw) -> ParsedQuery:
    return ParsedQuery(text=text, normalized=text.lower(), tokens=tuple(text.split()), **kw)


def later(seconds: float = 10.0) -> float:
    return time.perf_counter() + seconds


@dataclass
class World:
    catalog: Catalog
    embedder: LSAEmbedder
    index: VectorIndex
    doc_ids: np.ndarray
    vectors: np.ndarray

    def artist(self, doc_id: int) -> str:
        return self.catalog.text("artist", int(doc_id))

    def exact(self, vector: np.ndarray, k: int, exclude=()) -> np.ndarray:
        keep = ~np.isin(self.doc_ids, np.asarray(exclude, dtype=np.int64))
        sims = self.vectors[keep] @ vector / np.linalg.norm(vector)
        order = np.lexsort((self.doc_ids[keep], -sims))[:k]
        return self.doc_ids[keep][order], sims[order]


@pytest.fixture(scope="module")
def world() -> World:
    catalog = Catalog(MUSIC_TEXT_FIELDS, MUSIC_ATTRIBUTE_KEYS, MUSIC_STATIC_NAMES)
    catalog.add(music_records(load_spotify()))
    embedder = LSAEmbedder(128, seed=0).fit({f: catalog.texts(f) for f in FIELDS}, FIELDS)
    doc_ids, vectors = embed_catalog(catalog, embedder, fields=tuple(FIELDS), field_weights=FIELDS)
    # Exact search everywhere, so results can be compared with numpy one for one.
    index = VectorIndex(embedder.dim, exact_threshold=len(doc_ids), expansion_add=16)
    index.add_batch(doc_ids, vectors)
    return World(catalog, embedder, index, doc_ids.astype(np.int64), vectors)


def assert_same_up_to_ties(got_ids, got_scores, want_ids, want_scores):
    np.testing.assert_allclose(got_scores, want_scores, atol=2e-5)
    assert len(got_ids) == len(want_ids)
    # Where scores tie, order may differ: compare as sets of ids above the last tied score.
    cut = want_scores[-1] + 2e-5
    assert set(np.asarray(got_ids)[got_scores > cut]) == set(want_ids[want_scores > cut])


def test_semantic_finds_the_tracks_of_the_querys_artist_and_title(world):
    semantic = SemanticStrategy(world.index, world.embedder, catalog=world.catalog)

    def tracks(text: str, k: int) -> list[tuple[str, str]]:
        found = semantic.retrieve(query(text), k, later())
        return [(world.artist(d), world.catalog.text("title", d)) for d in found.doc_ids]

    assert ("Eminem", "Lose Yourself - Soundtrack Version") in tracks("eminem lose yourself", 3)
    assert tracks("coldplay yellow", 1) == [("Coldplay", "Yellow")]
    assert sum(a == "Taylor Swift" for a, _ in tracks("Taylor Swift", 10)) >= 8
    assert tracks("shape of you ed sheeran", 2) == [("Ed Sheeran", "Shape of You")] * 2


def test_semantic_equals_exact_cosine_top_k(world):
    semantic = SemanticStrategy(world.index, world.embedder)
    for text in ("love song", "queen", "reggaeton latino", "summer hits 2019"):
        found = semantic.retrieve(query(text), 20, later())
        want_ids, want_sims = world.exact(world.embedder.embed([text.lower()])[0], 20)
        assert_same_up_to_ties(found.doc_ids, found.scores, want_ids, want_sims)
        np.testing.assert_array_equal(found.features[:, 0], found.scores)


def test_semantic_searches_within_slots_first_then_fills_the_quota(world):
    semantic = SemanticStrategy(world.index, world.embedder, catalog=world.catalog, use_slots=True)
    slot = Slot("artist_name", "Queen", 0, 1, 1.0)
    found = semantic.retrieve(query("love", slots=(slot,)), 40, later())
    matched = found.features[:, 1] == 1
    queen = np.asarray([world.artist(d) == "Queen" for d in found.doc_ids])
    assert matched.sum() == queen[matched].sum() > 0  # every slot match is a Queen track
    assert matched[: matched.sum()].all()  # and they come first
    assert len(found) == 40 and len(set(found.doc_ids.tolist())) == 40
    assert np.all(np.diff(found.scores) <= 0)
    weak = Slot("artist_name", "Queen", 0, 1, 0.5)  # too unsure to filter
    assert semantic.retrieve(query("love", slots=(weak,)), 5, later()).features[:, 1].sum() == 0


def test_semantic_gives_nothing_for_unknown_text_or_a_passed_deadline(world):
    semantic = SemanticStrategy(world.index, world.embedder)
    assert len(semantic.retrieve(query("ᚠᚢᚦᚨ"), 5, later())) == 0
    assert len(semantic.retrieve(query("love"), 5, time.perf_counter() - 1)) == 0
    result = run_strategy(semantic, query("love"), 3, later())
    assert result.status == "ok" and len(result.candidates) == 3
    assert result.candidates.features.shape == (3, 2)


def test_personal_returns_the_neighbours_of_the_users_history(world):
    personal = PersonalStrategy(world.index)
    queen = [d for d in world.doc_ids[:20000] if world.artist(d) == "Queen"][:6]
    for d in queen:
        personal.record("ann", int(d))
    found = personal.retrieve(ParsedQuery("", "", (), user="ann"), 10, later())
    mean = world.vectors[np.searchsorted(world.doc_ids, queen)].sum(axis=0)
    want_ids, want_sims = world.exact(mean / np.linalg.norm(mean), 10, exclude=queen)
    assert_same_up_to_ties(found.doc_ids, found.scores, want_ids, want_sims)
    assert not set(found.doc_ids.tolist()) & set(queen)
    assert sum(world.artist(d) == "Queen" for d in found.doc_ids) >= 8
    assert (found.features[:, 1] == 6).all()


def test_personal_gives_nothing_without_a_user_or_history(world):
    personal = PersonalStrategy(world.index)
    assert len(personal.retrieve(query("queen"), 5, later())) == 0  # the query names no user
    assert len(personal.retrieve(ParsedQuery("q", "q", (), user="new"), 5, later())) == 0
    personal.record("gone", 10**6)  # an item without a vector
    assert personal.user_vector("gone") is None
    assert len(personal.retrieve_for("gone", 5, later())) == 0


def test_recency_weighting_leans_toward_the_latest_actions(world):
    a, b = (int(d) for d in world.doc_ids[[100, 20000]])
    flat, recent = PersonalStrategy(world.index), PersonalStrategy(world.index, half_life=0.5)
    for strategy in (flat, recent):
        for d in (a, a, a, b):
            strategy.record("u", d)
    vb = world.vectors[np.searchsorted(world.doc_ids, b)]
    assert recent.user_vector("u") @ vb > flat.user_vector("u") @ vb
    bounded = PersonalStrategy(world.index, max_history=2)
    for d in (a, a, b, b):
        bounded.record("u", d)
    assert bounded.history("u").tolist() == [b, b]
    np.testing.assert_allclose(bounded.user_vector("u"), vb, atol=1e-6)
    with pytest.raises(TypeError, match="user_id must be a non-empty str"):
        bounded.record("", a)
    with pytest.raises(ValueError, match="weight must be a number > 0"):
        bounded.record("u", a, weight=0)


def test_explore_prefers_unexposed_items_near_the_query(world):
    explore = ExploreStrategy(world.index, world.embedder, catalog=world.catalog, seed=7)
    text = "queen"
    neighbourhood, _ = world.exact(world.embedder.embed([text])[0], 50)
    first = explore.retrieve(query(text), 5, later())
    assert set(first.doc_ids.tolist()) <= set(neighbourhood.tolist())
    # Show the 25 nearest a lot: draws now come mostly from the other, unexposed half.
    exposed = neighbourhood[:25]
    explore.record_exposure(np.repeat(exposed, 50))
    drawn = np.concatenate([explore.retrieve(query(text), 5, later()).doc_ids for _ in range(40)])
    share_exposed = np.isin(drawn, exposed).mean()
    assert share_exposed < 0.2, share_exposed
    found = explore.retrieve(query(text), 5, later())
    np.testing.assert_array_equal(found.features[:, 1], explore.exposure(found.doc_ids))
    assert np.all(np.diff(found.scores) <= 0)


def test_explore_replays_with_the_same_seed_and_respects_quota(world):
    a = ExploreStrategy(world.index, world.embedder, seed=11)
    b = ExploreStrategy(world.index, world.embedder, seed=11)
    for text in ("love", "rock", "taylor swift"):
        x, y = a.retrieve(query(text), 7, later()), b.retrieve(query(text), 7, later())
        assert x.doc_ids.tolist() == y.doc_ids.tolist() and len(x) == 7
    assert len(a.retrieve(query("ᚠᚢᚦᚨ"), 5, later())) == 0
    with pytest.raises(ValueError, match="doc ids"):
        a.record_exposure([-1])
    with pytest.raises(ValueError, match="temperature must be > 0"):
        ExploreStrategy(world.index, world.embedder, temperature=0)


def test_strategies_refuse_what_is_not_a_vector_index(world):
    with pytest.raises(TypeError, match="index must be a VectorIndex, got dict"):
        SemanticStrategy({}, world.embedder)
    with pytest.raises(ValueError, match="use_slots=True needs the catalog"):
        SemanticStrategy(world.index, world.embedder, use_slots=True)
    with pytest.raises(ValueError, match="max_history must be an int >= 1"):
        PersonalStrategy(world.index, max_history=0)
