"""Latency of query understanding and of the lexical, structured, memory, popularity and related
strategies, on the Spotify catalog and on a synthetic catalog of Zipfian titles and artists.

Each benchmark answers one fixed query set (quota 100) one query at a time; the per-query
latencies of every round give p50 and p99, kept in ``extra_info``. Run:

    pytest bench/bench_strategies_a.py -p no:cacheprovider \\
        --benchmark-json bench/results/strategies_a.json
    python bench/bench_strategies_a.py bench/results/strategies_a.json \\
        > bench/results/strategies_a.md

``LTRR_BENCH_SYNTH_ITEMS`` sets the synthetic catalog's size (default 1,000,000; ``0`` skips
it); ``LTRR_BENCH_STRATEGY_QUERIES`` the number of queries per set (default 500).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
import time
from typing import Any

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
from ltrr_fast.strategies import (
    CatalogIndex,
    LexicalStrategy,
    MemoryIndex,
    MemoryStrategy,
    PopularityStrategy,
    RelatedStrategy,
    StructuredStrategy,
)
from ltrr_fast.understanding import QueryUnderstanding
from ltrr_fast.understanding.predicted import MUSIC_TEMPLATES, QueryTemplate

SYNTH_ITEMS = int(float(os.environ.get("LTRR_BENCH_SYNTH_ITEMS", "1000000")))
N_QUERIES = int(os.environ.get("LTRR_BENCH_STRATEGY_QUERIES", "500"))
QUOTA = 100
ROUNDS = 3
STRATEGIES = ("lexical", "structured", "memory", "popularity", "related")
CATALOGS = ("spotify", "synthetic")

pytestmark = pytest.mark.filterwarnings("default")


class Bundle:
    """A catalog with its understanding, index, memory, strategies and query set."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.build_seconds: dict[str, float] = {}
        rng = np.random.default_rng(7)
        start = time.perf_counter()
        if name == "spotify":
            music = load_spotify()
            self.catalog = Catalog(MUSIC_TEXT_FIELDS, MUSIC_ATTRIBUTE_KEYS, MUSIC_STATIC_NAMES)
            self.catalog.add(music_records(music))
            slot_fields = ("artist_name", "genre", "subgenre", "album", "playlist", "title")
            separators = {"playlist": " | "}
            templates = MUSIC_TEMPLATES
            titles, artists = music.titles, music.artists
        else:
            records, titles, artists = synthetic_records(SYNTH_ITEMS, rng)
            self.catalog = Catalog(
                ("title", "artist", "album"),
                ("genre", "subgenre", "artist_name", "album_id"),
                ("popularity",),
            )
            self.catalog.add(records)
            del records
            slot_fields = ("artist_name", "genre", "subgenre")
            separators = {}
            templates = (
                QueryTemplate("{artist} {title}", 0.5),
                QueryTemplate("{title}", 0.3),
                QueryTemplate("{artist}", 0.15),
                QueryTemplate("{genre} songs", 0.05),
            )
        self._lap("catalog", start)
        start = time.perf_counter()
        self.understanding = QueryUnderstanding.from_catalog(
            self.catalog, slot_fields, separators=separators
        )
        self._lap("understanding", start)
        start = time.perf_counter()
        self.index = CatalogIndex(self.catalog)
        self._lap("lexical_index", start)
        start = time.perf_counter()
        memory = MemoryIndex.from_catalog(self.catalog, templates)
        self._lap("memory_cold_start", start)
        genres = ("genre", "subgenre")
        self.strategies = {
            "lexical": LexicalStrategy(self.index),
            "structured": StructuredStrategy(
                self.index,
                filter_fields=("artist_name", *genres),
                field_weights={"title": 2.0, "artist": 1.5},
            ),
            "memory": MemoryStrategy(memory, clock=lambda: 0.0),
            "popularity": PopularityStrategy(self.index, genres),
            "related": RelatedStrategy(self.index),
        }
        self.queries = query_set(titles, artists, self.catalog, rng)
        self.parsed = [self.understanding.parse(q) for q in self.queries]
        self.n_items = len(self.catalog)

    def _lap(self, what: str, start: float) -> None:
        self.build_seconds[what] = round(time.perf_counter() - start, 2)


def zipf_choice(rng: np.random.Generator, n_values: int, size: int, a: float = 1.1) -> np.ndarray:
    weights = 1.0 / np.arange(1, n_values + 1) ** a
    return rng.choice(n_values, size=size, p=weights / weights.sum())


def synthetic_words(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct pronounceable words: syllables drawn at random."""
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
    words: set[str] = set()
    while len(words) < n:
        k = rng.integers(2, 4)
        words.add("".join(syllables[i] for i in rng.integers(0, len(syllables), k)))
    return sorted(words)


def synthetic_records(n: int, rng: np.random.Generator) -> tuple[list[dict], list[str], list[str]]:
    """Items with Zipfian title words, artists, albums, genres and a heavy-tailed popularity."""
    vocab = np.asarray(synthetic_words(rng, 50_000), dtype=object)
    names = np.asarray(synthetic_words(rng, 20_000), dtype=object)
    n_artists = max(10, n // 10)
    artist_names = [
        f"{names[i].title()} {names[j].title()}"
        for i, j in zip(
            rng.integers(0, len(names), n_artists), rng.integers(0, len(names), n_artists)
        )
    ]
    genres = [f"genre{g}" for g in range(20)]
    subgenres = [f"{genres[s % 20]} {vocab[s]}" for s in range(120)]
    artist_of = zipf_choice(rng, n_artists, n, 1.05)
    title_lengths = rng.integers(1, 5, n)
    title_words = vocab[zipf_choice(rng, len(vocab), int(title_lengths.sum()))]
    ends = np.cumsum(title_lengths)
    titles = [" ".join(title_words[e - k : e]).title() for e, k in zip(ends, title_lengths)]
    album_of = artist_of * 4 + rng.integers(0, 4, n)
    sub_of = zipf_choice(rng, len(subgenres), n, 0.8)
    popularity = np.clip(rng.gamma(2.0, 15.0, n), 0, 100).round()
    artists = [artist_names[a] for a in artist_of]
    records = [
        {
            "id": f"t{i}",
            "fields": {
                "title": titles[i],
                "artist": artists[i],
                "album": f"Album {vocab[album_of[i] % len(vocab)]}",
            },
            "attributes": {
                "genre": genres[sub_of[i] % 20],
                "subgenre": subgenres[sub_of[i]],
                "artist_name": artists[i],
                "album_id": f"a{album_of[i]}",
            },
            "static": {"popularity": float(popularity[i])},
        }
        for i in range(n)
    ]
    return records, titles, artists


def query_set(titles, artists, catalog: Catalog, rng: np.random.Generator) -> list[str]:
    """Titles, artists, artist plus a title word, misspelt artists and genres, in equal parts."""
    picks = rng.integers(0, len(titles), N_QUERIES).tolist()
    genres = sorted({g for gs in catalog.attributes("genre") for g in gs})
    queries = []
    for j, i in enumerate(picks):
        kind = j % 5
        if kind == 0:
            queries.append(titles[i])
        elif kind == 1:
            queries.append(artists[i])
        elif kind == 2:
            queries.append(f"{artists[i]} {titles[i].split(' ')[0]}")
        elif kind == 3:
            name = artists[i]
            k = int(rng.integers(0, max(1, len(name) - 1)))
            queries.append(name[:k] + name[k + 1 :])  # one letter dropped
        else:
            queries.append(f"{genres[j % len(genres)]} songs")
    return queries


_BUNDLES: dict[str, Bundle] = {}


@pytest.fixture(scope="module", params=CATALOGS)
def bundle(request: pytest.FixtureRequest) -> Bundle:
    name = request.param
    if name == "synthetic" and SYNTH_ITEMS <= 0:
        pytest.skip("LTRR_BENCH_SYNTH_ITEMS=0 skips the synthetic catalog")
    for other in list(_BUNDLES):
        if other != name:
            del _BUNDLES[other]
            gc.collect()
    if name not in _BUNDLES:
        _BUNDLES[name] = Bundle(name)
    return _BUNDLES[name]


def timed_rounds(benchmark, bundle: Bundle, one: Any) -> None:
    """Run ``one(i)`` for every query, ROUNDS times; record p50 and p99 per query."""
    seconds: list[float] = []

    def run_all() -> None:
        for i in range(len(bundle.queries)):
            start = time.perf_counter()
            one(i)
            seconds.append(time.perf_counter() - start)

    run_all()  # warm-up, not recorded
    seconds.clear()
    benchmark.pedantic(run_all, rounds=ROUNDS, iterations=1)
    per_query = np.asarray(seconds) * 1e6
    benchmark.extra_info.update(
        catalog=bundle.name,
        n_items=bundle.n_items,
        n_queries=len(bundle.queries),
        quota=QUOTA,
        p50_us=float(np.percentile(per_query, 50)),
        p99_us=float(np.percentile(per_query, 99)),
        mean_us=float(per_query.mean()),
        build_seconds=bundle.build_seconds,
        machine=platform.processor() or platform.machine(),
        cores=os.cpu_count(),
        load_average=os.getloadavg()[0],
    )


def test_understanding(benchmark, bundle):
    benchmark.group = f"understanding {bundle.name}"
    benchmark.extra_info["stage"] = "understanding"
    parse = bundle.understanding.parse
    timed_rounds(benchmark, bundle, lambda i: parse(bundle.queries[i]))


@pytest.mark.parametrize("name", STRATEGIES)
def test_strategy(benchmark, bundle, name):
    benchmark.group = f"strategies {bundle.name}"
    benchmark.extra_info["stage"] = name
    strategy = bundle.strategies[name]
    deadline = float("inf")
    timed_rounds(benchmark, bundle, lambda i: strategy.retrieve(bundle.parsed[i], QUOTA, deadline))


def summarize(path: str) -> str:
    """Markdown tables of a run's JSON: p50 / p99 per stage and catalog, and build times."""
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)
    rows: dict[str, dict[str, tuple[float, float]]] = {}
    meta: dict[str, dict[str, Any]] = {}
    for bench in report["benchmarks"]:
        info = bench["extra_info"]
        rows.setdefault(info["stage"], {})[info["catalog"]] = (info["p50_us"], info["p99_us"])
        meta[info["catalog"]] = info
    catalogs = [c for c in CATALOGS if c in meta]
    cpu = report["machine_info"].get("cpu", {}).get("brand_raw", "?")
    commit = report.get("commit_info", {}).get("id", "?")[:7]
    cores = meta[catalogs[0]]["cores"]
    load = max(meta[c].get("load_average", 0.0) for c in catalogs)
    header = [
        f"{c} ({meta[c]['n_items']:,} items, {meta[c]['n_queries']} queries)" for c in catalogs
    ]
    lines = [
        f"Machine: {cpu}, {cores} cores (load average up to {load:.1f}); commit {commit}.",
        "",
        (
            f"Per-query latency, one query at a time, quota {QUOTA}; p50 / p99 in microseconds "
            f"over {ROUNDS} rounds of the query set."
        ),
        "",
        "| stage | " + " | ".join(header) + " |",
        "|---|" + "---:|" * len(catalogs),
    ]
    for stage in ("understanding", *STRATEGIES):
        cells = [
            "{:,.0f} / {:,.0f}".format(*rows[stage][c]) if c in rows.get(stage, {}) else "-"
            for c in catalogs
        ]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += [
        "",
        (
            "Queries: titles, artists, an artist plus the first word of one of their titles, artists "
            "with one letter dropped, and `<genre> songs`, in equal parts. Synthetic catalog: titles "
            "of 1-4 words from a 50,000-word vocabulary (Zipf 1.1), n/10 two-word artists drawn by "
            "Zipf 1.05 (so the top artist holds several percent of all items), four albums per "
            "artist, 120 subgenres under 20 genres (Zipf 0.8), popularity Gamma(2, 15) clipped to "
            "100. Strategies as in the tests: structured filters on artist, genre and subgenre slots; "
            "related keys album (2) and artist (1) around three seeds."
        ),
        "",
        "Build seconds (one thread):",
        "",
        "| step | " + " | ".join(catalogs) + " |",
        "|---|" + "---:|" * len(catalogs),
    ]
    for step in meta[catalogs[0]]["build_seconds"]:
        cells = [str(meta[c]["build_seconds"].get(step, "-")) for c in catalogs]
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(
        summarize(sys.argv[1] if len(sys.argv) > 1 else "bench/results/strategies_a.json")
    )
