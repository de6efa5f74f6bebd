"""The main job: does learning to retrieve pay off? A seeded simulation on real data.

Users search, an :class:`~ltrr_fast.Engine` answers, and the users click through a
position-based model driven by what they really wanted: the relevance judgments of an IR
collection (CISI, Vaswani), or an intent drawn from the Spotify catalog (a song, an artist, a
genre) with the query such a listener types (:mod:`ltrr_fast.evaluation.music_users`). The
engine learns from those clicks (bandit, ranker, memory).

Alongside, every round also asks every strategy for its full quota (full information, for
evaluation only; the engine learns from its own feedback alone), so the candidate sets other
policies would have offered at the same total budget ``B`` are known:

- **each strategy alone**: its top ``B``;
- **static union**: every strategy's top ``B / n_strategies``;
- **best fixed subset**: of every set of 1 to ``n_chosen`` strategies sharing the budget
  evenly, the one with the best mean candidate recall over the whole run, in hindsight;
- **LTR&R**: what the engine's bandit chose, at the quotas it chose, ranked by its ranker;
- **oracle**: per round, the one of those sets with the best recall.

Every candidate set is ranked by the engine's current ranker (as if those strategies had
answered), so differences in nDCG@10 and MRR come from retrieval, not from the ranker.
Metrics per round: candidate recall at the budget, nDCG@10, reciprocal rank (relevant
items only), and for the engine the reward (a relevant item was clicked) and the latency.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ltrr_fast.datasets import load_ir, load_spotify
from ltrr_fast.datasets.music import (
    MUSIC_ATTRIBUTE_KEYS,
    MUSIC_STATIC_NAMES,
    MUSIC_TEXT_FIELDS,
    music_records,
)
from ltrr_fast.engine import Engine, EngineConfig
from ltrr_fast.engine.build import supported_strategies
from ltrr_fast.evaluation.click_models import PositionBasedModel
from ltrr_fast.evaluation.metrics import mrr, ndcg_at_k
from ltrr_fast.evaluation.music_users import MusicUsers
from ltrr_fast.index.catalog import Catalog
from ltrr_fast.strategies import Candidates
from ltrr_fast.understanding.predicted import MUSIC_TEMPLATES

logger = logging.getLogger(__name__)

COLLECTIONS = ("vaswani", "cisi", "music")
_T0 = 1_790_000_000.0  # simulated clock origin (epoch seconds)
_SECONDS_PER_ROUND = 60.0


@dataclass(frozen=True)
class SimulationSettings:
    """What to simulate.

    Parameters
    ----------
    collection : str
        ``"vaswani"``, ``"cisi"`` or ``"music"``.
    rounds : int
        Searches in the stream.
    budget : int
        Total candidates per search, the same for every policy compared.
    n_chosen : int
        Strategies the engine draws from per search (and the size of compared subsets).
    k : int
        Results shown; clicks happen among them.
    eta : float
        Examination of 0-based position ``p`` is ``1 / (p + 1) ** eta``.
    click_relevant, click_irrelevant : float
        Click probability of an examined relevant and irrelevant result.
    n_users : int
        Distinct simulated users (music), so personal results have histories.
    music_items : int, optional
        Use only the first tracks of the catalog (quick runs).
    seed : int
        Seed of the users, the clicks and the engine.
    engine : dict
        Further :class:`~ltrr_fast.EngineConfig` settings.
    """

    collection: str = "vaswani"
    rounds: int = 2000
    budget: int = 100
    n_chosen: int = 2
    k: int = 10
    eta: float = 1.0
    click_relevant: float = 0.9
    click_irrelevant: float = 0.02
    n_users: int = 200
    music_items: int | None = None
    seed: int = 0
    engine: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.collection not in COLLECTIONS:
            raise ValueError(f"collection must be one of {COLLECTIONS}, got {self.collection!r}")
        for name in ("rounds", "budget", "n_chosen", "k", "n_users"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}")
        if self.budget < self.n_chosen:
            raise ValueError(f"budget ({self.budget}) must be at least n_chosen")


@dataclass
class SimulationResult:
    """Per-round measurements of one simulation.

    ``recall``, ``ndcg`` and ``rr`` map a policy name to one value per round (NaN where the
    round has no relevant item). ``chosen`` is (rounds, n_strategies): which strategies the
    engine drew from. ``latency_ms`` is the engine's end-to-end time per search.
    """

    settings: SimulationSettings
    strategies: tuple[str, ...]
    recall: dict[str, np.ndarray]
    ndcg: dict[str, np.ndarray]
    rr: dict[str, np.ndarray]
    reward: np.ndarray
    chosen: np.ndarray
    latency_ms: np.ndarray
    best_subset: tuple[str, ...]
    build_seconds: float
    run_seconds: float
    n_items: int

    def summary(self, start: int | None = None, stop: int | None = None) -> list[dict[str, Any]]:
        """Mean metrics per policy over rounds ``start:stop`` (the second half by default)."""
        start = self.settings.rounds // 2 if start is None else start
        window = slice(start, stop)
        return [
            {
                "policy": name,
                "recall": float(np.nanmean(self.recall[name][window])),
                "ndcg@10": float(np.nanmean(self.ndcg[name][window])),
                "mrr": float(np.nanmean(self.rr[name][window])),
            }
            for name in self.recall
        ]


class UserStream:
    """A seeded stream of (query, relevant doc ids with grades, user) for a collection."""

    def __init__(self, settings: SimulationSettings, engine: Engine, source: Any) -> None:
        self.settings = settings
        self._rng = np.random.default_rng(settings.seed + 11)
        if settings.collection == "music":
            self._music = MusicUsers(source, seed=settings.seed + 12)
        else:
            ids = engine.catalog
            self._queries = []
            for qid, text in zip(source.query_ids, source.queries):
                judged = source.qrels.get(qid, {})
                relevant = {int(ids.doc_id(d)): g for d, g in judged.items() if g > 0 and d in ids}
                if relevant:
                    self._queries.append((text, relevant))

    def next(self) -> tuple[str, dict[int, int], str | None]:
        if self.settings.collection == "music":
            query = self._music.sample()
            user = f"u{int(self._rng.integers(self.settings.n_users))}"
            return query.text, query.relevant, user
        text, relevant = self._queries[int(self._rng.integers(len(self._queries)))]
        return text, relevant, None


def build_engine(settings: SimulationSettings) -> tuple[Engine, Any]:
    """The engine of a simulation and the raw collection it was built from."""
    config = EngineConfig(
        budget=settings.budget,
        n_chosen=settings.n_chosen,
        k=settings.k,
        examination_eta=settings.eta,
        seed=settings.seed,
        threads=0,
        budget_ms=1_000.0,
        **settings.engine,
    )
    if settings.collection == "music":
        music = load_spotify(limit=settings.music_items)
        config = dataclasses.replace(config, match_fields=("title", "artist"))
        engine = Engine.build(
            music_records(music),
            text_fields=MUSIC_TEXT_FIELDS,
            attribute_keys=MUSIC_ATTRIBUTE_KEYS,
            static_names=MUSIC_STATIC_NAMES,
            config=config,
            templates=[(t.pattern, t.score) for t in MUSIC_TEMPLATES],
            slot_fields=("artist_name", "genre", "subgenre"),
        )
        return engine, music
    collection = load_ir(settings.collection)
    records = [
        {"id": d, "fields": {"title": t, "text": x}}
        for d, t, x in zip(collection.doc_ids, collection.titles, collection.texts)
    ]
    catalog = Catalog(("title", "text"))
    catalog.add(records)
    if config.strategies is None:
        # Nobody has a history in a replayed test collection: no personal strategy.
        names = tuple(s for s in supported_strategies(catalog) if s != "personal")
        config = dataclasses.replace(config, strategies=names)
    return Engine.from_catalog(catalog, config), collection


def simulate(
    settings: SimulationSettings, progress: Callable[[int, int], None] | None = None
) -> SimulationResult:
    """Run the simulation; ``progress(done, total)`` is called as rounds complete."""
    started = time.perf_counter()
    engine, source = build_engine(settings)
    built = time.perf_counter()
    users = UserStream(settings, engine, source)
    clicks = PositionBasedModel.power_law(
        settings.k,
        settings.eta,
        click_relevant=settings.click_relevant,
        click_irrelevant=settings.click_irrelevant,
    )
    click_rng = np.random.default_rng(settings.seed + 13)
    arms = engine.arms
    n, budget, m = settings.rounds, settings.budget, min(settings.n_chosen, len(arms))
    subsets = [tuple(s) for size in range(1, m + 1) for s in itertools.combinations(arms, size)]
    names = [*arms, "static union", *(" + ".join(s) for s in subsets if len(s) > 1)]
    names += ["LTR&R", "oracle"]
    recall = {name: np.full(n, np.nan) for name in names}
    ndcg = {name: np.full(n, np.nan) for name in names}
    rr = {name: np.full(n, np.nan) for name in names}
    reward = np.zeros(n)
    chosen = np.zeros((n, len(arms)), dtype=bool)
    latency = np.zeros(n)
    far = float("inf")

    for t in range(n):
        text, relevant, user = users.next()
        now = _T0 + t * _SECONDS_PER_ROUND
        context = {"time": now} if user is None else {"time": now, "user": user}
        result = engine.search(text, context)
        latency[t] = result.trace.latency_ms["total"]
        served_by = [s.name for s in result.trace.strategies if s.chosen]
        chosen[t] = [a in served_by for a in arms]

        # Full information: every strategy's full quota, for evaluation only.
        parsed = engine.parse(text, user, now)
        full = {a: engine.strategies[a].retrieve(parsed, budget, far) for a in arms}
        logged = engine.event_log.request(result.request_id)["candidates"]
        engine_sets = {
            a: _take(full[a], engine.catalog.doc_ids(ids)) for a, ids in logged.items() if ids
        }
        sets: dict[str, dict[str, Candidates]] = {a: {a: _head(full[a], budget)} for a in arms}
        sets["static union"] = {a: _head(full[a], budget // len(arms)) for a in arms}
        for subset in subsets:
            if len(subset) > 1:
                share = budget // len(subset)
                sets[" + ".join(subset)] = {a: _head(full[a], share) for a in subset}
        sets["LTR&R"] = engine_sets
        relevant_ids = np.fromiter(relevant.keys(), dtype=np.int64)
        for name, cands in sets.items():
            recall[name][t] = _recall(cands, relevant_ids)
        best = max(subsets, key=lambda s: recall[" + ".join(s)][t])
        recall["oracle"][t] = recall[" + ".join(best)][t]
        sets["oracle"] = sets[" + ".join(best)]
        for name, cands in sets.items():
            ranked = engine.rank(parsed, cands, settings.k) if cands else np.zeros(0, np.int64)
            ndcg[name][t], rr[name][t] = _ndcg_rr(ranked, relevant, settings.k)
        served = engine.catalog.doc_ids(result.ids)
        ranked_engine = np.asarray(served, dtype=np.int64)
        ndcg["LTR&R"][t], rr["LTR&R"][t] = _ndcg_rr(ranked_engine, relevant, settings.k)

        grades = np.array([relevant.get(int(d), 0) for d in ranked_engine], dtype=float)
        clicked = clicks.clicks(grades, click_rng)
        actions = [
            (result.ids[i], "play" if grades[i] >= 2 else "click")
            for i in np.flatnonzero(clicked).tolist()
        ]
        reward[t] = float(any(grades[i] > 0 for i in np.flatnonzero(clicked)))
        engine.feedback(result.request_id, actions, time_=now + 5.0)
        if progress is not None:
            progress(t + 1, n)

    subset_names = [" + ".join(s) for s in subsets]
    best_subset = max(subset_names, key=lambda s: float(np.nanmean(recall[s])))
    keep = [*arms, "static union", best_subset, "LTR&R", "oracle"]
    keep = list(dict.fromkeys(keep))  # a single strategy may be the best fixed set
    renamed = {best_subset: f"best fixed set ({best_subset})"} if " + " in best_subset else {}
    result = SimulationResult(
        settings=settings,
        strategies=arms,
        recall={renamed.get(k, k): recall[k] for k in keep},
        ndcg={renamed.get(k, k): ndcg[k] for k in keep},
        rr={renamed.get(k, k): rr[k] for k in keep},
        reward=reward,
        chosen=chosen,
        latency_ms=latency,
        best_subset=tuple(best_subset.split(" + ")),
        build_seconds=built - started,
        run_seconds=time.perf_counter() - built,
        n_items=len(engine.catalog),
    )
    engine.close()
    return result


def _head(c: Candidates, quota: int) -> Candidates:
    return Candidates(c.doc_ids[:quota], c.scores[:quota], c.features[:quota])


def _take(c: Candidates, doc_ids: np.ndarray) -> Candidates:
    """The engine's own candidates, with the scores the full run gave them."""
    score_of = dict(zip(c.doc_ids.tolist(), c.scores.tolist()))
    ids = np.asarray(doc_ids, dtype=np.uint32)
    scores = np.array([score_of.get(int(d), 0.0) for d in ids], dtype=np.float32)
    return Candidates(ids, scores, np.zeros((ids.shape[0], 0), dtype=np.float32))


def _recall(candidates: dict[str, Candidates], relevant: np.ndarray) -> float:
    if not candidates:
        return 0.0
    union = np.unique(np.concatenate([c.doc_ids.astype(np.int64) for c in candidates.values()]))
    return float(np.isin(relevant, union).mean())


def _ndcg_rr(ranked: np.ndarray, relevant: dict[int, int], k: int) -> tuple[float, float]:
    """nDCG@k and reciprocal rank within k of one ranking (the project's trec_eval-checked
    metrics; NaN when nothing is relevant)."""
    run = {"q": [str(d) for d in ranked.tolist()]}
    qrels = {"q": {str(d): g for d, g in relevant.items()}}
    return ndcg_at_k(run, qrels, k).mean, mrr(run, qrels, k).mean
