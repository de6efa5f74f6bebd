"""The TidyTuesday Spotify songs catalog, one record per track.

The shared file has one row per (track, playlist) membership. The loader
folds rows into tracks: a track keeps its first title, artist, album and
release date, and gathers every playlist, genre and subgenre it appears in.
Tracks whose title and artist are both missing (empty or R's ``NA``; four
tracks in the file) are dropped.
"""

from __future__ import annotations

import csv
import logging
import pathlib
from dataclasses import dataclass

import numpy as np

from ltrr_fast.datasets.ir import data_root

logger = logging.getLogger(__name__)

#: Folder of the catalog under the data root.
SPOTIFY_FOLDER = "music_spotify_songs_tidytuesday"

#: Audio descriptor columns, in the order of :attr:`MusicCatalog.audio`.
AUDIO_COLUMNS: tuple[str, ...] = (
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "duration_ms",
)


@dataclass
class MusicCatalog:
    """A music catalog held in memory, one entry per track.

    Every list and array is parallel, indexed by track position.

    Attributes
    ----------
    ids : list of str
        Spotify track ids, in first-appearance order.
    titles, artists : list of str
        Track name and primary artist.
    album_ids, albums : list of str
        Album id and album name.
    release_years : numpy.ndarray of int16
        Year of release (the date's first four digits); 0 when unknown.
    popularity : numpy.ndarray of float32
        Spotify popularity, 0 to 100.
    playlists, playlist_ids : list of tuple of str
        Names and ids of the playlists the track appears in.
    genres, subgenres : list of tuple of str
        Distinct playlist genres and subgenres of the track, sorted.
    audio : numpy.ndarray of float32, shape (n, 12)
        Audio descriptors in :data:`AUDIO_COLUMNS` order.
    """

    ids: list[str]
    titles: list[str]
    artists: list[str]
    album_ids: list[str]
    albums: list[str]
    release_years: np.ndarray
    popularity: np.ndarray
    playlists: list[tuple[str, ...]]
    playlist_ids: list[tuple[str, ...]]
    genres: list[tuple[str, ...]]
    subgenres: list[tuple[str, ...]]
    audio: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"MusicCatalog(n_tracks={len(self.ids)})"


def load_spotify(root: str | None = None, limit: int | None = None) -> MusicCatalog:
    """Load the Spotify songs catalog.

    Parameters
    ----------
    root : str, optional
        Data directory; defaults to :func:`ltrr_fast.datasets.data_root`.
    limit : int, optional
        Keep only the first ``limit`` distinct tracks (for quick runs).

    Returns
    -------
    MusicCatalog

    Raises
    ------
    FileNotFoundError
        When the catalog file is not under the data directory.
    ValueError
        When the file lacks an expected column or ``limit`` is not positive.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    base = pathlib.Path(root) if root is not None else data_root()
    path = base / SPOTIFY_FOLDER / "spotify_songs.csv"
    if not path.is_file():
        raise FileNotFoundError(f"Spotify catalog not found at {path}")

    position: dict[str, int] = {}
    ids: list[str] = []
    titles: list[str] = []
    artists: list[str] = []
    album_ids: list[str] = []
    albums: list[str] = []
    years: list[int] = []
    popularity: list[float] = []
    playlists: list[dict[str, str]] = []
    genres: list[set[str]] = []
    subgenres: list[set[str]] = []
    audio: list[list[float]] = []

    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        expected = {"track_id", "track_name", "track_artist", "playlist_genre", *AUDIO_COLUMNS}
        missing = expected - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path} lacks columns {sorted(missing)}")
        for row in reader:
            track = row["track_id"]
            if _missing(row["track_name"]) and _missing(row["track_artist"]):
                continue
            i = position.get(track)
            if i is None:
                if limit is not None and len(ids) >= limit:
                    continue
                i = len(ids)
                position[track] = i
                ids.append(track)
                titles.append(row["track_name"])
                artists.append(row["track_artist"])
                album_ids.append(row["track_album_id"])
                albums.append(row["track_album_name"])
                date = row["track_album_release_date"]
                years.append(int(date[:4]) if date[:4].isdigit() else 0)
                popularity.append(float(row["track_popularity"] or 0.0))
                playlists.append({})
                genres.append(set())
                subgenres.append(set())
                audio.append([float(row[c] or "nan") for c in AUDIO_COLUMNS])
            playlists[i].setdefault(row["playlist_id"], row["playlist_name"])
            genres[i].add(row["playlist_genre"])
            subgenres[i].add(row["playlist_subgenre"])

    logger.info("loaded %d Spotify tracks from %s", len(ids), path)
    return MusicCatalog(
        ids=ids,
        titles=titles,
        artists=artists,
        album_ids=album_ids,
        albums=albums,
        release_years=np.asarray(years, dtype=np.int16),
        popularity=np.asarray(popularity, dtype=np.float32),
        playlists=[tuple(p.values()) for p in playlists],
        playlist_ids=[tuple(p.keys()) for p in playlists],
        genres=[tuple(sorted(g)) for g in genres],
        subgenres=[tuple(sorted(s)) for s in subgenres],
        audio=np.asarray(audio, dtype=np.float32).reshape(len(ids), len(AUDIO_COLUMNS)),
    )


def _missing(value: str) -> bool:
    value = value.strip()
    return not value or value == "NA"


#: Text fields, attribute keys and static scores of :func:`music_records`.
MUSIC_TEXT_FIELDS: tuple[str, ...] = ("title", "artist", "album", "playlist")
MUSIC_ATTRIBUTE_KEYS: tuple[str, ...] = ("genre", "subgenre", "artist_name", "album_id")
MUSIC_STATIC_NAMES: tuple[str, ...] = ("popularity", "year")


def music_records(catalog: MusicCatalog) -> list[dict]:
    """Catalog records for :class:`ltrr_fast.index.catalog.Catalog`.

    Text fields are the title, artist, album and the playlist names joined by
    `` | ``; attributes are the genres, subgenres, the exact artist string and
    the album id; static scores are the popularity (0 to 100) and the release
    year (0 when unknown).
    """
    return [
        {
            "id": catalog.ids[i],
            "fields": {
                "title": catalog.titles[i],
                "artist": catalog.artists[i],
                "album": catalog.albums[i],
                "playlist": " | ".join(catalog.playlists[i]),
            },
            "attributes": {
                "genre": catalog.genres[i],
                "subgenre": catalog.subgenres[i],
                "artist_name": (catalog.artists[i],),
                "album_id": (catalog.album_ids[i],),
            },
            "static": {
                "popularity": float(catalog.popularity[i]),
                "year": float(catalog.release_years[i]),
            },
        }
        for i in range(len(catalog))
    ]
