"""Latency of the semantic, fuzzy, personal and explore strategies, and our overhead over USearch.

Two catalogs: the Spotify songs catalog (LSA vectors, real names) and a seeded synthetic one
(``LTRR_BENCH_ITEMS`` items, default 100,000; set 1000000 for the full run, which builds the
HNSW graph for several minutes on 2 cores). Every strategy answers the same queries one at a
time with a quota of 100; each query is timed, and p50/p99 are stored in ``extra_info``. The
overhead groups time the same query vectors through raw ``usearch.index.Index.search``, through
``VectorIndex`` and through ``SemanticStrategy`` (with an embedder that only looks the vector
up, so the difference is ours alone). Run:

    pytest bench/bench_strategies_b.py -p no:cacheprovider \\
        --benchmark-json bench/results/strategies_b.json
    python bench/bench_strategies_b.py bench/results/strategies_b.json \\
        > bench/results/strategies_b.md
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from ltrr_fast.index.catalog import Catalog
from ltrr_fast.index.embedding import CallableEmbedder, LSAEmbedder, embed_catalog
from ltrr_fast.index.vectors import VectorIndex
from ltrr_fast.strategies.explore import ExploreStrategy
from ltrr_fast.strategies.fuzzy import FuzzyStrategy
from ltrr_fast.strategies.personal import PersonalStrategy
from ltrr_fast.strategies.semantic import SemanticStrategy
from ltrr_fast.understanding import ParsedQuery

N_ITEMS = int(float(os.environ.get("LTRR_BENCH_ITEMS", "100000")))
N_QUERIES = int(os.environ.get("LTRR_BENCH_QUERIES", "500"))
QUOTA = 100
ROUNDS = 3
DIM_SYNTHETIC = 64

pytestmark = pytest.mark.filterwarnings("default")


@dataclass
class World:
    """A catalog with its vector index, strategies and query set."""

    name: str
    catalog: Catalog
    index: VectorIndex
    queries: list[str]
    query_vectors: np.ndarray
    strategies: dict[str, Any]
    users: list[str]
    info: dict[str, Any] = field(default_factory=dict)

    def parsed(self, i: int) -> ParsedQuery:
        text = self.queries[i]
        return ParsedQuery(text, text, tuple(text.split()), user=self.users[i % len(self.users)])


def _misspell(word: str, rng: np.random.Generator) -> str:
    if len(word) < 5:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(3))
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + "aeiou"[int(rng.integers(5))] + word[i + 1 :]


def _queries_from_names(catalog: Catalog, n: int, seed: int) -> list[str]:
    """Artist names, title plus artist, and misspelled artists, in equal shares."""
    rng = np.random.default_rng(seed)
    titles, artists = catalog.texts("title"), catalog.texts("artist")
    picks = rng.choice(len(artists), n, replace=n > len(artists))
    out = []
    for j, d in enumerate(picks.tolist()):
        artist, title = artists[d].lower(), titles[d].lower()
        if j % 3 == 0:
            out.append(artist)
        elif j % 3 == 1:
            out.append(f"{title} {artist}")
        else:
            out.append(" ".join(_misspell(w, rng) for w in artist.split()))
    return out


def _strategies(
    catalog: Catalog, index: VectorIndex, embedder: Any, seed: int
) -> tuple[dict[str, Any], list[str], float]:
    t0 = time.perf_counter()
    fuzzy = FuzzyStrategy(catalog)
    fuzzy_build = time.perf_counter() - t0
    personal = PersonalStrategy(index, half_life=10.0)
    rng = np.random.default_rng(seed)
    users = [f"u{i}" for i in range(1000)]
    live = index.doc_ids()
    for user in users:
        for d in rng.choice(live, 20):
            personal.record(user, int(d))
    strategies = {
        "semantic": SemanticStrategy(index, embedder, catalog=catalog),
        "fuzzy": fuzzy,
        "personal": personal,
        "explore": ExploreStrategy(index, embedder, catalog=catalog, seed=seed),
    }
    return strategies, users, fuzzy_build


def build_spotify() -> World:
    from ltrr_fast.datasets.music import (
        MUSIC_ATTRIBUTE_KEYS,
        MUSIC_STATIC_NAMES,
        MUSIC_TEXT_FIELDS,
        load_spotify,
        music_records,
    )

    seconds = {}
    t0 = time.perf_counter()
    catalog = Catalog(MUSIC_TEXT_FIELDS, MUSIC_ATTRIBUTE_KEYS, MUSIC_STATIC_NAMES)
    catalog.add(music_records(load_spotify()))
    seconds["catalog"] = time.perf_counter() - t0
    weights = {"title": 1.0, "artist": 1.0, "album": 0.5}
    t0 = time.perf_counter()
    embedder = LSAEmbedder(128, seed=0).fit({f: catalog.texts(f) for f in weights}, weights)
    doc_ids, vectors = embed_catalog(
        catalog, embedder, fields=tuple(weights), field_weights=weights
    )
    seconds["lsa_fit_and_embed"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = VectorIndex(embedder.dim)
    index.add_batch(doc_ids, vectors)
    seconds["hnsw_build"] = time.perf_counter() - t0
    queries = _queries_from_names(catalog, N_QUERIES, seed=1)
    strategies, users, seconds["fuzzy_build"] = _strategies(catalog, index, embedder, seed=2)
    query_vectors = embedder.embed(queries)
    known = np.any(query_vectors, axis=1)
    return World(
        "spotify",
        catalog,
        index,
        queries,
        query_vectors[known],
        strategies,
        users,
        {"items": len(catalog), "dim": embedder.dim, "setup_seconds": seconds},
    )


_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"] + ["an", "el", "or", "is"]


def _pseudo_words(rng: np.random.Generator, n: int) -> list[str]:
    lengths = rng.integers(2, 5, n)
    table = np.asarray(_SYLLABLES)
    return ["".join(table[rng.integers(len(table), size=k)]) for k in lengths.tolist()]


def build_synthetic(n_items: int) -> World:
    """Clustered vectors (one centre per artist) and names made of pseudo-words, seeded."""
    rng = np.random.default_rng(0)
    seconds = {}
    t0 = time.perf_counter()
    n_artists = max(10, n_items // 50)
    artist_names = [
        " ".join(p) for p in zip(_pseudo_words(rng, n_artists), _pseudo_words(rng, n_artists))
    ]
    words = _pseudo_words(rng, 20_000)
    artist_of = rng.integers(n_artists, size=n_items)
    title_len = rng.integers(1, 4, n_items)
    word_ids = rng.integers(len(words), size=(n_items, 3))
    records = [
        {
            "id": f"s{i}",
            "fields": {
                "title": " ".join(words[w] for w in word_ids[i, : title_len[i]]),
                "artist": artist_names[artist_of[i]],
            },
        }
        for i in range(n_items)
    ]
    catalog = Catalog(("title", "artist"))
    catalog.add(records)
    del records
    seconds["catalog"] = time.perf_counter() - t0
    centres = rng.normal(size=(n_artists, DIM_SYNTHETIC)).astype(np.float32)
    vectors = centres[artist_of] + 0.5 * rng.normal(size=(n_items, DIM_SYNTHETIC)).astype(
        np.float32
    )
    t0 = time.perf_counter()
    index = VectorIndex(DIM_SYNTHETIC, expansion_add=64)
    for lo in range(0, n_items, 100_000):
        hi = min(n_items, lo + 100_000)
        index.add_batch(np.arange(lo, hi), vectors[lo:hi])
    seconds["hnsw_build"] = time.perf_counter() - t0
    queries = _queries_from_names(catalog, N_QUERIES, seed=1)
    by_artist = {name: centres[i] for i, name in enumerate(artist_names)}

    def encode(texts: list[str]) -> np.ndarray:
        # A stand-in encoder: an artist's centre when the text ends with a known artist,
        # else a vector seeded by the text.
        out = []
        for text in texts:
            tail = " ".join(text.split()[-2:])
            vector = by_artist.get(tail)
            if vector is None:
                seed = abs(hash(text)) % (2**32)
                vector = np.random.default_rng(seed).normal(size=DIM_SYNTHETIC)
            out.append(vector)
        return np.asarray(out, dtype=np.float32)

    embedder = CallableEmbedder(encode, dim=DIM_SYNTHETIC)
    strategies, users, seconds["fuzzy_build"] = _strategies(catalog, index, embedder, seed=2)
    return World(
        f"synthetic {n_items:,}",
        catalog,
        index,
        queries,
        embedder.embed(queries),
        strategies,
        users,
        {"items": n_items, "dim": DIM_SYNTHETIC, "setup_seconds": seconds},
    )


@pytest.fixture(scope="module", params=["spotify", "synthetic"])
def world(request: pytest.FixtureRequest) -> World:
    return build_spotify() if request.param == "spotify" else build_synthetic(N_ITEMS)


def _environment() -> dict[str, Any]:
    import usearch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(l.split(":", 1)[1].strip() for l in handle if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "usearch": usearch.__version__}


def _percentiles(times: list[float]) -> dict[str, float]:
    array = np.asarray(times) * 1e6
    return {
        "p50_us": float(np.percentile(array, 50)),
        "p99_us": float(np.percentile(array, 99)),
        "mean_us": float(array.mean()),
    }


@pytest.mark.parametrize("strategy", ["semantic", "fuzzy", "personal", "explore"])
def test_strategy_latency(benchmark, world, strategy):
    chosen = world.strategies[strategy]
    parsed = [world.parsed(i) for i in range(len(world.queries))]
    times: list[float] = []
    sizes: list[int] = []

    def run() -> None:
        for query in parsed:
            start = time.perf_counter()
            found = chosen.retrieve(query, QUOTA, start + 10.0)
            times.append(time.perf_counter() - start)
            sizes.append(len(found))

    benchmark.group = f"strategy latency | {world.name}"
    benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(
        strategy=strategy,
        quota=QUOTA,
        queries=len(parsed),
        mean_candidates=float(np.mean(sizes)),
        **_percentiles(times[len(parsed) :] or times),  # the warm-up round is left out
        **world.info,
        **_environment(),
    )


def _paired_overhead(raw: Any, ours: Any, rounds: int) -> float:
    """Median of ``ours / raw - 1`` over rounds run back to back, alternating which goes first,
    so that load from other processes weighs on both alike."""
    ratios = []
    for r in range(rounds):
        times = {}
        for name in ("raw", "ours") if r % 2 == 0 else ("ours", "raw"):
            start = time.perf_counter()
            (raw if name == "raw" else ours)()
            times[name] = time.perf_counter() - start
        ratios.append(times["ours"] / times["raw"])
    return float(100 * (np.median(ratios) - 1))


@pytest.mark.parametrize("engine", ["raw usearch", "VectorIndex"])
def test_batch_search_overhead(benchmark, world, engine):
    queries = np.ascontiguousarray(world.query_vectors[:1000])
    index, raw = world.index, world.index.usearch_index

    def run_raw() -> None:
        raw.search(queries, 10, threads=0)

    def run_ours() -> None:
        index.search_batch(queries, 10)

    benchmark.group = f"batch k=10 | {world.name}"
    benchmark.pedantic(
        run_raw if engine == "raw usearch" else run_ours, rounds=20, warmup_rounds=2
    )
    benchmark.extra_info.update(engine=engine, queries=len(queries), **world.info)
    if engine != "raw usearch":
        benchmark.extra_info["paired_overhead_pct"] = _paired_overhead(run_raw, run_ours, 40)


@pytest.mark.parametrize("engine", ["raw usearch", "VectorIndex", "SemanticStrategy"])
def test_single_search_overhead(benchmark, world, engine):
    queries = np.ascontiguousarray(world.query_vectors[:N_QUERIES])
    index, raw = world.index, world.index.usearch_index
    table = {f"q{i}": queries[i] for i in range(len(queries))}
    lookup = CallableEmbedder(lambda texts: [table[t] for t in texts], normalize=False)
    # No catalog: its liveness check is not search work (see the notes in the results file).
    semantic = SemanticStrategy(index, lookup)
    parsed = [ParsedQuery(f"q{i}", f"q{i}", (f"q{i}",)) for i in range(len(queries))]

    def run_raw() -> None:
        for q in queries:
            raw.search(q, 10)

    def run_index() -> None:
        for q in queries:
            index.search(q, 10)

    def run_semantic() -> None:
        deadline = time.perf_counter() + 60
        for query in parsed:
            semantic.retrieve(query, 10, deadline)

    run = {"raw usearch": run_raw, "VectorIndex": run_index, "SemanticStrategy": run_semantic}
    benchmark.group = f"single k=10 | {world.name}"
    benchmark.pedantic(run[engine], rounds=ROUNDS, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(engine=engine, queries=len(queries), **world.info)
    if engine != "raw usearch":
        benchmark.extra_info["paired_overhead_pct"] = _paired_overhead(run_raw, run[engine], 10)


NOTES = [
    "Strategy latency: each query timed alone, quota 100, over all rounds after a warm-up round;",
    "queries are artist names, title plus artist, and artists with one edit, in equal shares.",
    "Semantic, fuzzy and explore check liveness through `Catalog.is_live`, which copies the",
    "catalog's live list on every call (about 18 ms at 1M items); explore searches 10x the quota.",
    "Overhead: the same query vectors through raw `usearch.index.Index.search`, `VectorIndex`",
    "and `SemanticStrategy` (no catalog, an embedder that looks the vector up). 'paired rounds'",
    "is the median ratio of back-to-back rounds in alternating order, which cancels most of the",
    "load other processes put on the machine; 'medians' compares independent medians.",
]


def summarize(path: str) -> str:
    """Markdown tables from a pytest-benchmark JSON file of this script."""
    with open(path) as handle:
        data = json.load(handle)
    groups: dict[str, list[dict[str, Any]]] = {}
    for bench in data["benchmarks"]:
        groups.setdefault(bench["group"], []).append(bench)
    lines = ["# Strategy benchmarks (semantic, fuzzy, personal, explore)", ""]
    machine = data.get("machine_info", {})
    first = data["benchmarks"][0]["extra_info"] if data["benchmarks"] else {}
    lines.append(
        f"Machine: {first.get('cpu', machine.get('cpu', {}).get('brand_raw', '?'))}, "
        f"{first.get('cores', '?')} cores; usearch {first.get('usearch', '?')}; "
        f"commit {data.get('commit_info', {}).get('id', '?')[:7]}; {data.get('datetime', '')}."
    )
    lines += ["", *NOTES]
    for group, benches in sorted(groups.items()):
        info = benches[0]["extra_info"]
        setup = ", ".join(f"{k} {v:.1f} s" for k, v in info.get("setup_seconds", {}).items())
        lines += [
            "",
            f"## {group}",
            "",
            f"{info.get('items', '?'):,} items, dim {info.get('dim')}; setup: {setup}",
            "",
        ]
        if group.startswith("strategy latency"):
            lines += [
                "| strategy | p50 | p99 | mean | mean candidates |",
                "|---|---:|---:|---:|---:|",
            ]
            for b in benches:
                e = b["extra_info"]
                lines.append(
                    f"| {e['strategy']} | {e['p50_us']:.0f} us | {e['p99_us']:.0f} us | "
                    f"{e['mean_us']:.0f} us | {e['mean_candidates']:.1f} |"
                )
            continue
        raw = next((b for b in benches if b["extra_info"]["engine"] == "raw usearch"), None)
        lines += [
            "| engine | median round | per query | vs raw (medians) | vs raw (paired rounds) |",
            "|---|---:|---:|---:|---:|",
        ]
        for b in benches:
            e, median = b["extra_info"], b["stats"]["median"]
            over = f"{100 * (median / raw['stats']['median'] - 1):+.1f}%" if raw else "-"
            paired = e.get("paired_overhead_pct")
            paired_text = "-" if paired is None else f"{paired:+.1f}%"
            lines.append(
                f"| {e['engine']} | {median * 1e3:.2f} ms | {median / e['queries'] * 1e6:.1f} us "
                f"| {over} | {paired_text} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(
        summarize(sys.argv[1] if len(sys.argv) > 1 else "bench/results/strategies_b.json")
    )
