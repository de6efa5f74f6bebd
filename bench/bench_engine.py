"""End-to-end search latency of the engine on one core, beside the static union.

Two catalogs: Vaswani (11,429 abstracts, its 93 queries) and the Spotify catalog (28,352
tracks, queries typed by simulated listeners). Two engines on each, built the same way:

- **LTR&R**: the default engine (bandit choosing 2 strategies, learned ranker), after 300
  searches with feedback from the relevance judgments (or the listener's intent);
- **static union**: every strategy every time with even quotas, ranked by reciprocal-rank
  fusion, no learning.

Both run their strategies in the calling thread (``threads=0``) and the process is pinned to
one CPU, so the figures are single-core latencies. Every search is timed on its own; the
report keeps p50, p99 and the mean in ``extra_info``. Run:

    pytest bench/bench_engine.py -p no:cacheprovider --benchmark-json bench/results/engine.json
    python bench/summarize_engine.py bench/results/engine.json > bench/results/engine.md
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from ltrr_fast import Engine, EngineConfig
from ltrr_fast.evaluation.simulate import SimulationSettings, UserStream, build_engine

N_TRAIN = int(os.environ.get("LTRR_BENCH_ENGINE_TRAIN", "300"))
N_QUERIES = int(os.environ.get("LTRR_BENCH_ENGINE_QUERIES", "500"))
NOW = 1_790_000_000.0

pytestmark = pytest.mark.filterwarnings("default")


def _pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _static_union(engine: Engine) -> dict:
    return {
        "n_chosen": len(engine.arms),
        "quota_temperature": 1e9,  # even quotas
        "ranker": "fusion",
        "shadow_rate": 0.0,
        "epsilon": 0.0,
    }


_CACHE: dict[tuple[str, str], tuple[Engine, list[tuple[str, str | None]]]] = {}


def prepared(collection: str, kind: str) -> tuple[Engine, list[tuple[str, str | None]]]:
    key = (collection, kind)
    if key in _CACHE:
        return _CACHE[key]
    _pin_one_core()
    settings = SimulationSettings(collection, rounds=1, seed=0)
    engine, source = build_engine(settings)
    if kind == "static union":
        config = EngineConfig.from_dict({**engine.config.to_dict(), **_static_union(engine)})
        engine = Engine.from_catalog(engine.catalog, config, strategies=engine.arms)
    users = UserStream(settings, engine, source)
    queries = []
    for t in range(N_TRAIN + N_QUERIES):
        text, relevant, user = users.next()
        queries.append((text, user, relevant))
    if kind == "LTR&R":
        for t, (text, user, relevant) in enumerate(queries[:N_TRAIN]):
            context = {"time": NOW + t} if user is None else {"time": NOW + t, "user": user}
            result = engine.search(text, context)
            ids = engine.catalog.doc_ids(result.ids)
            hit = [result.ids[i] for i, d in enumerate(ids.tolist()) if d in relevant][:1]
            engine.feedback(result.request_id, [(h, "click") for h in hit])
    timed = [(text, user) for text, user, _ in queries[N_TRAIN:]]
    _CACHE[key] = (engine, timed)
    return _CACHE[key]


@pytest.mark.parametrize("collection", ["vaswani", "music"])
@pytest.mark.parametrize("kind", ["LTR&R", "static union"])
def test_search_latency(benchmark, collection, kind):
    engine, queries = prepared(collection, kind)
    latencies: list[float] = []

    def run():
        latencies.clear()
        for t, (text, user) in enumerate(queries):
            context = {"time": NOW + 1e6 + t} if user is None else {"time": NOW + t, "user": user}
            started = time.perf_counter()
            engine.search(text, context)
            latencies.append((time.perf_counter() - started) * 1000.0)

    benchmark.group = f"search latency, {collection}"
    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    values = np.asarray(latencies)
    benchmark.extra_info.update(
        engine=kind,
        collection=collection,
        n_items=len(engine.catalog),
        queries=len(values),
        p50_ms=float(np.percentile(values, 50)),
        p99_ms=float(np.percentile(values, 99)),
        mean_ms=float(values.mean()),
        strategies=list(engine.arms),
    )
