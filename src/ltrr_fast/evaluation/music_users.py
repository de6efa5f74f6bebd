"""Simulated music listeners: an intent drawn from the catalog, and the query they type.

Intents, drawn in proportions ``mix`` (song, artist, genre):

- **song**: one track, drawn by popularity. Relevant: that track (grade 2) and its other
  releases with the same title and artist (grade 2). Queries: the full title, the first one
  or two words of the title, the artist plus the title, or the title plus the artist.
- **artist**: an artist with at least two tracks, drawn by summed popularity. Relevant: their
  tracks, grade 2 for their five most popular and 1 for the rest. Queries: the artist's name,
  alone or with "songs".
- **genre**: a genre or subgenre. Relevant: its 50 most popular tracks (grade 1). Queries:
  the genre word, alone or with "songs", "music" or "playlist".

Any query is misspelled with probability ``typo_rate``: one word of four or more letters gets
one edit (a deletion, a doubled letter, a swap of neighbours or a vowel substituted), the
kind of slip that keeps the word readable. Titles are cleaned of bracketed and dashed
suffixes ("- Remix", "(feat. ...)") before a query is made of them, as listeners type the
song's name rather than the release's.

Everything is drawn from one seeded generator, so a stream replays exactly.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ltrr_fast.datasets.music import MusicCatalog

INTENT_KINDS: tuple[str, ...] = ("song", "artist", "genre")
_SUFFIX = re.compile(r"\s*(\(.*?\)|\[.*?\]|\s-\s.*)$")
_VOWELS = "aeiou"


@dataclass(frozen=True)
class SimulatedQuery:
    """One simulated search: what the user wants and what they typed.

    Attributes
    ----------
    text : str
        The query as typed.
    kind : str
        Intent kind, one of :data:`INTENT_KINDS`.
    target : str
        The track title, artist name or genre the user has in mind.
    relevant : dict of int to int
        Catalog position (doc id) to grade (1 or 2) of every relevant track.
    misspelled : bool
        Whether a typo was introduced.
    """

    text: str
    kind: str
    target: str
    relevant: dict[int, int]
    misspelled: bool


def clean_title(title: str) -> str:
    """The song's name without release suffixes such as ``" - Remix"`` or ``"(feat. X)"``."""
    previous = None
    while previous != title:
        previous = title
        title = _SUFFIX.sub("", title).strip()
    return title or previous or ""


def misspell(word: str, rng: np.random.Generator) -> str:
    """One readable edit of a word: delete, double, swap neighbours or change a vowel."""
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 1))  # keep the first letter, as people do
    kind = int(rng.integers(4))
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2 and i + 1 < len(word) and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    vowels = [j for j in range(1, len(word)) if word[j].lower() in _VOWELS]
    if vowels:
        j = vowels[int(rng.integers(len(vowels)))]
        choices = [v for v in _VOWELS if v != word[j].lower()]
        return word[:j] + choices[int(rng.integers(len(choices)))] + word[j + 1 :]
    return word[:i] + word[i + 1 :]


class MusicUsers:
    """A seeded stream of simulated music searches over a catalog.

    Parameters
    ----------
    catalog : MusicCatalog
        Tracks; their positions are the doc ids in :attr:`SimulatedQuery.relevant`.
    mix : sequence of three floats
        Shares of song, artist and genre intents.
    typo_rate : float
        Probability that a query is misspelled.
    seed : int
        Seed of the stream.
    """

    def __init__(
        self,
        catalog: MusicCatalog,
        mix: Sequence[float] = (0.6, 0.25, 0.15),
        typo_rate: float = 0.2,
        seed: int = 0,
    ) -> None:
        mix = np.asarray(mix, dtype=float)
        if mix.shape != (3,) or (mix < 0).any() or mix.sum() <= 0:
            raise ValueError(f"mix must be three non-negative shares, got {mix.tolist()}")
        if not 0.0 <= typo_rate <= 1.0:
            raise ValueError(f"typo_rate must lie in [0, 1], got {typo_rate}")
        if len(catalog) == 0:
            raise ValueError("the catalog is empty")
        self.catalog = catalog
        self.mix = mix / mix.sum()
        self.typo_rate = float(typo_rate)
        self._rng = np.random.default_rng(seed)
        weight = catalog.popularity.astype(float) + 1.0
        self._song_p = weight / weight.sum()
        self._releases: dict[tuple[str, str], list[int]] = defaultdict(list)
        by_artist: dict[str, list[int]] = defaultdict(list)
        by_genre: dict[str, list[int]] = defaultdict(list)
        for i, (title, artist) in enumerate(zip(catalog.titles, catalog.artists)):
            self._releases[(title.lower(), artist.lower())].append(i)
            by_artist[artist].append(i)
            for genre in (*catalog.genres[i], *catalog.subgenres[i]):
                by_genre[genre].append(i)
        self._artists = sorted(a for a, tracks in by_artist.items() if len(tracks) >= 2)
        self._artist_tracks = {a: by_artist[a] for a in self._artists}
        artist_weight = np.array([weight[by_artist[a]].sum() for a in self._artists])
        self._artist_p = artist_weight / artist_weight.sum() if self._artists else None
        self._genres = sorted(by_genre)
        self._genre_tracks = by_genre
        self._weight = weight

    def sample(self) -> SimulatedQuery:
        """The next simulated search."""
        rng = self._rng
        kind = INTENT_KINDS[int(rng.choice(3, p=self.mix))]
        if kind == "artist" and self._artist_p is None:
            kind = "song"
        if kind == "song":
            query = self._song(rng)
        elif kind == "artist":
            query = self._artist(rng)
        else:
            query = self._genre(rng)
        text, target, relevant = query
        misspelled = False
        if rng.random() < self.typo_rate:
            words = text.split()
            long = [j for j, w in enumerate(words) if len(w) >= 4]
            if long:
                j = long[int(rng.integers(len(long)))]
                typo = misspell(words[j], rng)
                misspelled = typo != words[j]
                words[j] = typo
                text = " ".join(words)
        return SimulatedQuery(text, kind, target, relevant, misspelled)

    def stream(self, n: int) -> list[SimulatedQuery]:
        """The next ``n`` searches."""
        return [self.sample() for _ in range(n)]

    def _song(self, rng: np.random.Generator) -> tuple[str, str, dict[int, int]]:
        c = self.catalog
        i = int(rng.choice(len(c), p=self._song_p))
        title, artist = clean_title(c.titles[i]), c.artists[i]
        relevant = dict.fromkeys(self._releases[(c.titles[i].lower(), artist.lower())], 2)
        words = title.split()
        form = int(rng.integers(4))
        if form == 0 or len(words) <= 2:
            text = title
        elif form == 1:
            text = " ".join(words[: int(rng.integers(1, 3))])
        elif form == 2:
            text = f"{artist} {title}"
        else:
            text = f"{title} {artist}"
        return text.lower(), c.titles[i], relevant

    def _artist(self, rng: np.random.Generator) -> tuple[str, str, dict[int, int]]:
        artist = self._artists[int(rng.choice(len(self._artists), p=self._artist_p))]
        tracks = self._artist_tracks[artist]
        order = sorted(tracks, key=lambda t: -self._weight[t])
        relevant = {t: (2 if rank < 5 else 1) for rank, t in enumerate(order)}
        text = artist if rng.random() < 0.7 else f"{artist} songs"
        return text.lower(), artist, relevant

    def _genre(self, rng: np.random.Generator) -> tuple[str, str, dict[int, int]]:
        genre = self._genres[int(rng.integers(len(self._genres)))]
        tracks = self._genre_tracks[genre]
        top = sorted(tracks, key=lambda t: -self._weight[t])[:50]
        suffix = ("", " songs", " music", " playlist")[int(rng.integers(4))]
        return f"{genre}{suffix}".lower(), genre, dict.fromkeys(top, 1)
