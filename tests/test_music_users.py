"""Simulated music listeners drawn from the real catalog."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr_fast.datasets.music import load_spotify
from ltrr_fast.evaluation.music_users import MusicUsers, clean_title, misspell


@pytest.fixture(scope="module")
def catalog():
    return load_spotify()


def levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def test_a_typo_is_one_or_two_edits_and_keeps_the_first_letter():
    rng = np.random.default_rng(0)
    for word in ["taylor", "beyonce", "eminem", "shakira", "love"] * 40:
        typo = misspell(word, rng)
        assert typo[0] == word[0]
        assert 1 <= levenshtein(word, typo) <= 2  # a swap of neighbours counts as two


def test_release_suffixes_are_dropped_from_titles():
    assert clean_title("Memories - Dillon Francis Remix") == "Memories"
    assert clean_title("Strip That Down (feat. Quavo)") == "Strip That Down"
    assert clean_title("(I Can't Get No) Satisfaction") == "(I Can't Get No) Satisfaction"


def test_intents_point_at_real_tracks_and_queries_name_them(catalog):
    users = MusicUsers(catalog, typo_rate=0.0, seed=3)
    kinds = set()
    for query in users.stream(400):
        kinds.add(query.kind)
        assert query.relevant and all(g in (1, 2) for g in query.relevant.values())
        tracks = list(query.relevant)
        if query.kind == "song":
            titles = {catalog.titles[t] for t in tracks}
            artists = {catalog.artists[t] for t in tracks}
            assert titles == {query.target} and len(artists) == 1
            assert (
                query.text.split()[0] in (clean_title(query.target) + " " + artists.pop()).lower()
            )
        elif query.kind == "artist":
            assert {catalog.artists[t] for t in tracks} == {query.target}
            assert query.text.startswith(query.target.lower())
        else:
            assert all(query.target in catalog.genres[t] + catalog.subgenres[t] for t in tracks)
            assert len(tracks) <= 50
    assert kinds == {"song", "artist", "genre"}


def test_a_seed_replays_the_stream_and_typos_follow_the_rate(catalog):
    first = MusicUsers(catalog, typo_rate=0.5, seed=7).stream(300)
    again = MusicUsers(catalog, typo_rate=0.5, seed=7).stream(300)
    assert first == again
    share = np.mean([q.misspelled for q in first])
    assert 0.3 < share < 0.6


def test_bad_settings_are_refused(catalog):
    with pytest.raises(ValueError, match="three non-negative"):
        MusicUsers(catalog, mix=(1.0, -1.0, 0.0))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        MusicUsers(catalog, typo_rate=2.0)
