"""The shared catalog, the Spotify loader and the strategy runner."""

from __future__ import annotations

import csv
import time

import numpy as np
import pytest

from ltrr_fast.datasets import data_root
from ltrr_fast.datasets.music import (
    MUSIC_ATTRIBUTE_KEYS,
    MUSIC_STATIC_NAMES,
    MUSIC_TEXT_FIELDS,
    SPOTIFY_FOLDER,
    load_spotify,
    music_records,
)
from ltrr_fast.index.catalog import Catalog
from ltrr_fast.strategies import Candidates, Strategy, run_strategy
from ltrr_fast.understanding import ParsedQuery


def small_catalog() -> Catalog:
    catalog = Catalog(("title", "artist"), ("genre",), ("popularity",))
    catalog.add(
        [
            {"id": "a", "fields": {"title": "Love Story", "artist": "Taylor Swift"}},
            {"id": "b", "fields": {"title": "Lose Yourself"}, "attributes": {"genre": "rap"}},
            {"id": "c", "static": {"popularity": 80}},
        ]
    )
    return catalog


def test_doc_ids_are_dense_in_insertion_order_and_stable_under_replace():
    catalog = small_catalog()
    assert catalog.doc_ids(["a", "b", "c"]).tolist() == [0, 1, 2]
    assert catalog.add([{"id": "b", "fields": {"title": "Stan"}}]).tolist() == [1]
    assert catalog.text("title", 1) == "Stan"
    assert catalog.attributes("genre")[1] == ()  # a replace drops what the new record lacks
    assert len(catalog) == 3 and catalog.n_slots == 3


def test_delete_keeps_the_slot_resolvable_but_dead():
    catalog = small_catalog()
    assert catalog.delete("b") and not catalog.delete("b")
    assert "b" not in catalog and len(catalog) == 2
    assert catalog.external_ids([1]) == ["b"]
    assert catalog.is_live(np.array([0, 1, 2, 7])).tolist() == [True, False, True, False]
    with pytest.raises(KeyError, match="'b'"):
        catalog.doc_ids(["b"])
    assert catalog.add([{"id": "b"}]).tolist() == [1] and "b" in catalog


@pytest.mark.parametrize(
    "record, error, message",
    [
        ({"id": ""}, ValueError, "non-empty str"),
        ({"id": "x", "fields": {"lyrics": "la"}}, ValueError, "unknown text field 'lyrics'"),
        ({"id": "x", "static": {"popularity": float("nan")}}, ValueError, "finite"),
        ({"id": "x", "attributes": {"genre": [1]}}, TypeError, "str values"),
        ({"id": "x", "colour": "red"}, ValueError, "unknown keys"),
    ],
)
def test_a_bad_record_is_refused_and_nothing_is_added(record, error, message):
    catalog = small_catalog()
    with pytest.raises(error, match=message):
        catalog.add([{"id": "new"}, record])
    assert "new" not in catalog and catalog.n_slots == 3


def test_spotify_tracks_fold_playlist_rows_into_one_record_per_track():
    catalog = load_spotify()
    path = data_root() / SPOTIFY_FOLDER / "spotify_songs.csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    named = {r["track_id"] for r in rows if (r["track_name"], r["track_artist"]) != ("NA", "NA")}
    assert sorted(catalog.ids) == sorted(named)
    genres: dict[str, set[str]] = {}
    for r in rows:
        genres.setdefault(r["track_id"], set()).add(r["playlist_genre"])
    for i in range(0, len(catalog), 997):
        assert set(catalog.genres[i]) == genres[catalog.ids[i]]
    assert catalog.audio.shape == (len(catalog), 12) and np.isfinite(catalog.audio).all()
    assert 0 <= catalog.popularity.min() and catalog.popularity.max() <= 100


def test_music_records_load_into_a_catalog():
    music = load_spotify(limit=500)
    catalog = Catalog(MUSIC_TEXT_FIELDS, MUSIC_ATTRIBUTE_KEYS, MUSIC_STATIC_NAMES)
    doc_ids = catalog.add(music_records(music))
    assert doc_ids.tolist() == list(range(500))
    assert catalog.texts("artist") == music.artists
    assert np.array_equal(catalog.static("popularity"), music.popularity)


class _Fixed(Strategy):
    name = "fixed"
    feature_names = ("one",)

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay, self.fail = delay, fail

    def retrieve(self, query: ParsedQuery, quota: int, deadline: float) -> Candidates:
        if self.fail:
            raise RuntimeError("backend down")
        time.sleep(self.delay)
        n = 5
        return Candidates.from_arrays(np.arange(n), -np.arange(n, dtype=float), np.ones((n, 1)))


QUERY = ParsedQuery(text="love", normalized="love", tokens=("love",))


def test_runner_trims_to_the_quota():
    result = run_strategy(_Fixed(), QUERY, 3, time.perf_counter() + 5)
    assert result.status == "ok" and result.candidates.doc_ids.tolist() == [0, 1, 2]
    assert result.candidates.features.shape == (3, 1)


def test_runner_turns_lateness_and_failure_into_empty_results():
    late = run_strategy(_Fixed(delay=0.05), QUERY, 3, time.perf_counter() + 0.01)
    assert late.status == "cut" and len(late.candidates) == 0
    failed = run_strategy(_Fixed(fail=True), QUERY, 3, time.perf_counter() + 5)
    assert failed.status == "failed" and "backend down" in failed.error
    assert failed.candidates.features.shape == (0, 1)


def test_candidates_check_shapes():
    with pytest.raises(ValueError, match="one length"):
        Candidates.from_arrays(np.arange(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"shape \(3, n_features\)"):
        Candidates.from_arrays(np.arange(3), np.zeros(3), np.zeros((2, 1)))
