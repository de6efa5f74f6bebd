"""The engine: understand, select, retrieve, union and rank under a latency budget; learn.

:class:`Engine` ties the layers together and is the only module that knows every one. A
search parses the query, lets the bandit choose strategies and quotas for its context, runs
them concurrently under a deadline, unions their candidates (keeping who found what, at which
rank and score), ranks the union and returns the top ``k`` with a request id and a trace.
Feedback on a request id turns the user's actions into a reward per strategy (was the item
among its candidates?) and teaches the bandit, the ranker, the memory index, the explore and
personal strategies, and writes the event log.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import pathlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent import futures
from typing import Any

import numpy as np

from ltrr_fast.bandit import (
    ActionFeatures,
    ContextFeatures,
    RewardConfig,
    StrategyPolicy,
    UserSummary,
    query_kind,
    strategy_rewards,
)
from ltrr_fast.engine.build import STRATEGY_KINDS, build_parts
from ltrr_fast.engine.config import EngineConfig
from ltrr_fast.engine.events import log_feedback, log_request
from ltrr_fast.engine.gate import Gate
from ltrr_fast.engine.inputs import check_budget, check_int, parse_context
from ltrr_fast.engine.pending import Pending
from ltrr_fast.engine.persist import EVENTS, load_engine, save_engine
from ltrr_fast.engine.reindex import reindex
from ltrr_fast.engine.results import Item, SearchResult, StrategyTrace, Trace
from ltrr_fast.engine.training import TrainingRows, fit_ranker, training_rows
from ltrr_fast.engine.union import allocate, fusion
from ltrr_fast.index.catalog import Catalog
from ltrr_fast.ranking import (
    CandidateFeatures,
    FeatureBuilder,
    OnlineRanker,
    PositionBias,
)
from ltrr_fast.store import EventLog
from ltrr_fast.strategies import Candidates, Strategy, StrategyResult, run_strategy
from ltrr_fast.understanding import INTENTS, ParsedQuery
from ltrr_fast.understanding.predicted import QueryTemplate

logger = logging.getLogger(__name__)

#: Requests kept in memory awaiting feedback; older ones are forgotten.
PENDING_LIMIT = 100_000
#: Shadow strategies may take this many request budgets before they are cut.
SHADOW_BUDGETS = 10
#: Extra seconds feedback waits past the shadow deadline for a strategy that overran it.
SHADOW_GRACE_S = 30.0
_NO_IDS = np.zeros(0, dtype=np.uint32)


class Engine:
    """A learning-to-rank-and-retrieve engine over one catalog.

    Build one with :meth:`Engine.build` (from records) or :meth:`Engine.from_catalog`;
    restore one with :meth:`Engine.load`. The constructor takes assembled parts and is meant
    for those builders and for tests.

    Examples
    --------
    >>> from ltrr_fast import Engine
    >>> engine = Engine.build(
    ...     [{"id": "s1", "fields": {"title": "Love Story", "artist": "Taylor Swift"}},
    ...      {"id": "s2", "fields": {"title": "Lose Yourself", "artist": "Eminem"}}],
    ...     text_fields=("title", "artist"),
    ... )
    >>> result = engine.search("love story")
    >>> result.ids[0]
    's1'
    >>> engine.feedback(result.request_id, [("s1", "play")])
    """

    def __init__(
        self,
        catalog: Catalog,
        strategies: Mapping[str, Strategy],
        *,
        config: EngineConfig,
        kinds: Mapping[str, str],
        understanding: Any,
        memory: Any = None,
        explore: Any = None,
        personal: Any = None,
        event_log: EventLog | None = None,
        parts: Mapping[str, Any] | None = None,
    ) -> None:
        if not strategies:
            raise ValueError("an engine needs at least one strategy")
        self.catalog = catalog
        self.config = config
        self.strategies = dict(strategies)
        self.arms = tuple(self.strategies)
        self.understanding = understanding
        self.memory = memory
        self.explore = explore
        self.personal = personal
        self.parts = dict(parts or {})
        self.event_log = event_log if event_log is not None else EventLog(":memory:")
        self.rewards = RewardConfig(config.grades)
        query_names = tuple(getattr(understanding, "feature_names", ()))
        self.context_features = ContextFeatures(query_names)
        # Evidence the memory holds for the query: what users did after typing it before.
        self._memory_names = ("memory.log_actions", "memory.best_score") if memory else ()
        self.action_features = ActionFeatures({a: kinds[a] for a in self.arms})
        n_chosen = min(config.n_chosen, len(self.arms))
        self.policy = StrategyPolicy(
            self.arms,
            self.context_features.n_features
            + len(self._memory_names)
            + len(config.context_features),
            n_chosen=n_chosen,
            budget=config.budget,
            alpha=config.alpha,
            epsilon=config.epsilon,
            exploration=config.exploration,
            quota_temperature=config.quota_temperature,
            seed=config.seed,
        )
        self.features = FeatureBuilder(
            self.arms,
            static=catalog.static_names,
            # The builder measures the query's length itself.
            query_features=tuple(n for n in query_names if n not in ("n_terms", "n_chars")),
            intents=INTENTS,
            match_fields=config.match_fields,
            extra=("fusion",),
        )
        self.ranker = OnlineRanker(
            self.features.n_features,
            learning_rate=config.ranker_learning_rate,
            position_bias=PositionBias.power_law(max(config.k, 10), eta=config.examination_eta),
            schema=self.features.schema,
            seed=config.seed,
        )
        self._fusion_column = self.features.schema.index("extra.fusion")
        self._query_names = query_names
        self._ranker_query_names = frozenset(self.features.query_features)
        self._rng = np.random.default_rng(config.seed + 1)
        self._lock = threading.RLock()
        self._gate = Gate()  # searches read the catalog; add and delete change it
        self._pending: OrderedDict[str, Pending] = OrderedDict()
        self._users: dict[str, UserSummary] = {}
        self._n_requests = 0
        self._statics: dict[str, np.ndarray] = {}
        self._statics_slots = -1
        self._pool = (
            futures.ThreadPoolExecutor(config.threads, thread_name_prefix="ltrr-strategy")
            if config.threads > 0
            else None
        )
        self._warm_up()

    def _warm_up(self) -> None:
        """Load the compiled kernels now, so the first request does not pay for it."""
        scratch = StrategyPolicy(self.arms, self.policy.n_features, n_chosen=self.policy.n_chosen)
        x = np.zeros(self.policy.n_features)
        scratch.update(x, {scratch.decide(x).arms[0]: 0.0})
        self.ranker.score(np.zeros((1, self.features.n_features), dtype=np.float32))

    # Building, saving, loading

    @classmethod
    def build(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        text_fields: Sequence[str],
        attribute_keys: Sequence[str] = (),
        static_names: Sequence[str] = (),
        config: EngineConfig | None = None,
        **options: Any,
    ) -> Engine:
        """An engine over items given as records.

        Records are mappings with ``"id"`` and optionally ``"fields"``, ``"attributes"`` and
        ``"static"`` (see :meth:`ltrr_fast.index.catalog.Catalog.add`). Other keyword
        arguments go to :meth:`from_catalog`.
        """
        catalog = Catalog(text_fields, attribute_keys, static_names)
        catalog.add(records)
        return cls.from_catalog(catalog, config, **options)

    @classmethod
    def from_catalog(
        cls,
        catalog: Catalog,
        config: EngineConfig | None = None,
        *,
        strategies: Sequence[str] | None = None,
        event_log: EventLog | str | os.PathLike[str] | None = None,
        templates: Sequence[tuple[str, float]] | None = None,
        slot_fields: Sequence[str] | None = None,
        separators: Mapping[str, str] | None = None,
        progress: Callable[[str], None] | None = None,
        preloaded: Mapping[str, Any] | None = None,
    ) -> Engine:
        """An engine over a catalog.

        Parameters
        ----------
        catalog : Catalog
            The items.
        config : EngineConfig, optional
            Defaults to ``EngineConfig()``.
        strategies : sequence of str, optional
            Overrides ``config.strategies``.
        event_log : EventLog or path, optional
            Where requests and feedback are logged; in memory by default.
        templates : sequence of (pattern, score), optional
            Predicted queries for the memory's cold start, e.g. ``("{artist} {title}", 0.5)``;
            by default the catalog's short text fields.
        slot_fields, separators
            Catalog values query understanding looks for (every attribute by default), and
            separators of text fields that join several values.
        progress : callable, optional
            Called with the name of each build step.
        """
        config = config or EngineConfig()
        if strategies is not None:
            config = dataclasses.replace(config, strategies=tuple(strategies))
        build_options = {
            "templates": None if templates is None else [list(t) for t in templates],
            "slot_fields": None if slot_fields is None else list(slot_fields),
            "separators": None if separators is None else dict(separators),
        }
        parts = build_parts(
            catalog,
            config,
            templates=None
            if templates is None
            else tuple(QueryTemplate(p, float(score)) for p, score in templates),
            slot_fields=slot_fields,
            separators=separators,
            progress=progress,
            preloaded=preloaded,
        )
        if event_log is not None and not isinstance(event_log, EventLog):
            event_log = EventLog(event_log)
        return cls(
            catalog,
            parts.strategies,
            config=config,
            kinds={name: STRATEGY_KINDS[name] for name in parts.strategies},
            understanding=parts.understanding,
            memory=parts.memory,
            explore=parts.explore,
            personal=parts.personal,
            event_log=event_log,
            parts={
                "embedder": parts.embedder,
                "vectors": parts.vectors,
                "lexical_index": parts.lexical_index,
                "build_options": build_options,
            },
        )

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Save the engine into a directory, atomically (see :mod:`ltrr_fast.engine.persist`).

        The event log is copied into ``directory/events.sqlite3`` unless it already lives
        there.
        """
        save_engine(self, directory)
        target = pathlib.Path(directory) / EVENTS
        if pathlib.Path(self.event_log.path).resolve() != target.resolve():
            self.event_log.backup_to(target)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> Engine:
        """Restore an engine saved with :meth:`save`; the same seed then gives the same
        answers as the engine that was saved."""
        return load_engine(directory)

    # Life cycle

    def close(self) -> None:
        """Stop the worker threads and close the event log."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self.event_log.close()

    def __enter__(self) -> Engine:  # noqa: PYI034 - typing.Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.catalog)

    def __repr__(self) -> str:
        return f"Engine(n_items={len(self.catalog)}, strategies={list(self.arms)})"

    # Search

    def search(
        self,
        query: str,
        context: Mapping[str, Any] | None = None,
        k: int | None = None,
        budget_ms: float | None = None,
    ) -> SearchResult:
        """Ranked items for a query (see :meth:`_search` for the parameters)."""
        with self._gate.reading():
            return self._search(query, context, k, budget_ms)

    def _search(
        self,
        query: str,
        context: Mapping[str, Any] | None = None,
        k: int | None = None,
        budget_ms: float | None = None,
    ) -> SearchResult:
        """Ranked items for a query.

        Parameters
        ----------
        query : str
            The query as typed; it must hold a non-space character.
        context : mapping, optional
            ``"user"`` (str id; enables personal results and history features), ``"time"``
            (epoch seconds; now by default) and ``"features"`` (name to number for the names
            in ``EngineConfig.context_features``; they join the bandit's context).
        k : int, optional
            Items to return; the configured ``k`` by default.
        budget_ms : float, optional
            Latency budget; strategies still running at ``retrieve_share`` of it are cut.

        Returns
        -------
        SearchResult
        """
        start = time.perf_counter()
        if not isinstance(query, str):
            raise TypeError(f"query must be str, got {type(query).__name__}")
        if not query.strip():
            raise ValueError("query is empty; give at least one non-space character")
        k = self.config.k if k is None else check_int(k, "k", 1)
        budget_ms = self.config.budget_ms if budget_ms is None else check_budget(budget_ms)
        user, now, extra = parse_context(context, self.config.context_features)

        parsed = dataclasses.replace(self.understanding.parse(query), user=user, time=now)
        kind_of_query = query_kind(parsed.intent, len(parsed.tokens))
        x = self._context_vector(parsed, now, user, extra)
        understood = time.perf_counter()

        with self._lock:
            decision = self.policy.decide(x)
            shadow = self.config.shadow_rate > 0 and self._rng.random() < self.config.shadow_rate
            self._n_requests += 1
            request_id = f"r{self.config.seed}-{self._n_requests}"
        selected = time.perf_counter()

        deadline = start + budget_ms * self.config.retrieve_share / 1000.0
        # Each chosen strategy is asked for the whole budget; _allocate then keeps its quota
        # and hands what a strategy could not fill to the others.
        asked = [self.config.budget] * len(decision.arms)
        results = self._retrieve(parsed, decision.arms, asked, deadline)
        retrieved = time.perf_counter()

        results = [self._live_only(r) for r in results]
        candidates = allocate(results, decision.quotas, self.config.budget)
        doc_ids, X, scores, order = self._rank(parsed, candidates)
        ranked = time.perf_counter()

        top = order[:k]
        served = doc_ids[top]
        items = self._items(served, scores[top], candidates)
        pending = Pending(
            query=parsed.normalized or query,
            user=user,
            x=x,
            kind_of_query=kind_of_query,
            chosen=decision.arms,
            quotas=decision.quotas,
            candidates={
                r.name: candidates[r.name].doc_ids if r.name in candidates else _NO_IDS
                for r in results
            },
            served=served,
            served_rows=X[top],
        )
        unchosen = [a for a in self.arms if a not in decision.arms]
        if shadow and unchosen:
            self._start_shadow(pending, parsed, unchosen)
        else:
            pending.shadow_done.set()
        if self.explore is not None and served.size:
            self.explore.record_exposure(served)
        with self._lock:
            self._pending[request_id] = pending
            while len(self._pending) > PENDING_LIMIT:
                self._pending.popitem(last=False)

        propensities = decision.propensities
        strategy_traces = [
            StrategyTrace(
                r.name,
                True,
                propensities[r.name],
                quota,
                r.status,
                len(candidates[r.name]) if r.name in candidates else 0,
                r.seconds * 1000.0,
                r.error,
            )
            for r, quota in zip(results, decision.quotas)
        ]
        strategy_traces += (
            [StrategyTrace(a, False, propensities[a], 0, "pending", 0, 0.0) for a in unchosen]
            if shadow
            else []
        )
        total = time.perf_counter()
        latency = {
            "understand": (understood - start) * 1000.0,
            "select": (selected - understood) * 1000.0,
            "retrieve": (retrieved - selected) * 1000.0,
            "rank": (ranked - retrieved) * 1000.0,
            "total": (total - start) * 1000.0,
        }
        trace = Trace(
            strategies=tuple(strategy_traces),
            latency_ms=latency,
            deadline_hit=tuple(r.name for r in results if r.status == "cut"),
            shadow=shadow,
            n_candidates=int(doc_ids.shape[0]),
            intent=parsed.intent,
            slots=tuple((s.field, s.value, s.confidence) for s in parsed.slots),
        )
        log_request(
            self, request_id, now, query, user, x, decision, results, candidates, served, trace
        )
        return SearchResult(request_id, tuple(items), trace)

    @property
    def context_names(self) -> tuple[str, ...]:
        """Names of the bandit's context features, in order."""
        return (
            *self.context_features.names,
            *self._memory_names,
            *(f"caller.{n}" for n in self.config.context_features),
        )

    def _context_vector(
        self, parsed: ParsedQuery, now: float, user: str | None, extra: np.ndarray
    ) -> np.ndarray:
        x = self.context_features(parsed.features, now, self._users.get(user or ""))
        if not self._memory_names:
            return np.concatenate((x, extra))
        _, scores, features = self.memory.lookup(parsed.normalized, 5, now=now)
        actions = float(features[:, 2].sum()) if features.shape[0] else 0.0
        best = float(scores[0]) if scores.shape[0] else 0.0
        return np.concatenate((x, [np.log1p(actions), best], extra))

    def parse(
        self, query: str, user: str | None = None, time_: float | None = None
    ) -> ParsedQuery:
        """The query as the engine understands it (with its user and time attached)."""
        if not isinstance(query, str):
            raise TypeError(f"query must be str, got {type(query).__name__}")
        return dataclasses.replace(self.understanding.parse(query), user=user, time=time_)

    def rank(
        self, parsed: ParsedQuery, candidates: Mapping[str, Candidates], k: int | None = None
    ) -> np.ndarray:
        """Doc ids of the union of ``candidates`` (strategy name to its candidates), best
        first, as the current ranker orders them; at most ``k`` when given.

        It is the ranking a search would serve had exactly these strategies answered; the
        main job uses it to rank what other candidate sets would have offered.
        """
        unknown = sorted(set(candidates) - set(self.arms))
        if unknown:
            raise ValueError(f"unknown strategies {unknown}; the engine has {list(self.arms)}")
        doc_ids, _, _, order = self._rank(parsed, candidates)
        ranked = doc_ids[order]
        return ranked if k is None else ranked[:k]

    def _retrieve(
        self, parsed: ParsedQuery, arms: Sequence[str], quotas: Sequence[int], deadline: float
    ) -> list[StrategyResult]:
        if self._pool is None or len(arms) == 1:
            return [
                run_strategy(self.strategies[a], parsed, q, deadline) for a, q in zip(arms, quotas)
            ]
        submitted_at = time.perf_counter()
        submitted = [
            self._pool.submit(run_strategy, self.strategies[a], parsed, q, deadline)
            for a, q in zip(arms, quotas)
        ]
        futures.wait(submitted, timeout=max(0.0, deadline - time.perf_counter()))
        results = []
        for arm, future in zip(arms, submitted):
            if future.done():
                results.append(future.result())
            else:
                # Still running at the deadline: its answer will be dropped.
                n_features = len(self.strategies[arm].feature_names)
                seconds = time.perf_counter() - submitted_at
                results.append(StrategyResult(arm, Candidates.empty(n_features), "cut", seconds))
        return results

    def _live_only(self, result: StrategyResult) -> StrategyResult:
        """Drop candidates deleted from the catalog that an index still holds."""
        c = result.candidates
        if result.status != "ok" or not len(c):
            return result
        live = self.catalog.is_live(c.doc_ids)
        if live.all():
            return result
        kept = Candidates(c.doc_ids[live], c.scores[live], c.features[live])
        return dataclasses.replace(result, candidates=kept)

    # Catalog changes

    def add(self, records: Iterable[Mapping[str, Any]]) -> np.ndarray:
        """Add or replace items (records as in :meth:`build`); searchable on return.

        Returns their doc ids. Searches wait while the indexes change, so none sees half a
        change. Query understanding keeps the values it was built with: slots for new
        artists or genres come with a rebuild of the engine.
        """
        with self._gate.writing():
            doc_ids = self.catalog.add(records)
            reindex(self, doc_ids)
        return doc_ids

    def delete(self, item_ids: Iterable[str]) -> int:
        """Delete items by external id; returns how many were live. Unknown ids are skipped."""
        if isinstance(item_ids, str):
            raise TypeError("item_ids must be a sequence of ids, not a single str")
        with self._gate.writing():
            gone = [self.catalog.doc_id(i) for i in item_ids]
            gone = [d for d in gone if d is not None]
            for item_id in self.catalog.external_ids(gone):
                self.catalog.delete(item_id)
            if gone:
                reindex(self, np.asarray(gone, dtype=np.uint32))
        return len(gone)

    def _start_shadow(self, pending: Pending, parsed: ParsedQuery, arms: list[str]) -> None:
        quota = max(1, self.config.budget // max(1, self.policy.n_chosen))
        allowed = SHADOW_BUDGETS * self.config.budget_ms / 1000.0
        pending.shadow_deadline = time.perf_counter() + allowed

        def run() -> None:
            # The deadline starts when the run does (a deferred run starts at feedback).
            deadline = time.perf_counter() + allowed
            pending.shadow_deadline = deadline
            try:
                for arm in arms:
                    result = run_strategy(self.strategies[arm], parsed, quota, deadline)
                    pending.shadow[arm] = result.candidates.doc_ids
            finally:
                pending.shadow_done.set()

        if self._pool is None:
            # No worker threads: run the shadow strategies when feedback arrives, which is
            # the only time their candidates are needed, instead of on the response path.
            pending.shadow_job = run
        else:
            self._pool.submit(run)

    def _rank(
        self, parsed: ParsedQuery, candidates: Mapping[str, Candidates]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Union the candidates, build features, score them; doc ids, features, scores and
        the order best first."""
        built = self.build_features(parsed, candidates)
        X = built.X
        scores = X[:, self._fusion_column].astype(np.float64)
        if self.config.ranker == "online":
            with self._lock:
                scores = scores + self.ranker.score(X)
        # Best score first; ties by smaller doc id so the order is reproducible.
        order = np.lexsort((built.doc_ids, -scores))
        return built.doc_ids, X, scores, order

    def build_features(
        self,
        parsed: ParsedQuery,
        candidates: Mapping[str, Candidates],
        rows: np.ndarray | None = None,
    ) -> CandidateFeatures:
        """The ranker's features of the union of ``candidates`` (or of ``rows``, doc ids in
        that order), exactly as a search builds them."""
        return self.features.build(
            {name: (c.doc_ids, c.scores) for name, c in candidates.items()},
            query_text=parsed.text,
            static=self._static_columns(),
            query_features={
                name: value
                for name, value in zip(self._query_names, parsed.features.tolist())
                if name in self._ranker_query_names
            },
            intent=parsed.intent if parsed.intent in INTENTS else None,
            field_text=self._field_text if self.config.match_fields else None,
            extra={"fusion": fusion(candidates)},
            candidates=rows,
        )

    def _field_text(self, doc_ids: np.ndarray) -> dict[str, list[str]]:
        return {name: self.catalog.texts_of(name, doc_ids) for name in self.config.match_fields}

    def _static_columns(self) -> dict[str, np.ndarray]:
        # Static scores scaled to [0, 1] by their largest value, refreshed when items come.
        if self._statics_slots != self.catalog.n_slots:
            statics = {}
            for name in self.catalog.static_names:
                column = self.catalog.static(name).astype(np.float32)
                top = float(np.abs(column).max()) if column.size else 0.0
                statics[name] = column / top if top > 0 else column
            self._statics, self._statics_slots = statics, self.catalog.n_slots
        return self._statics

    def _items(
        self, served: np.ndarray, scores: np.ndarray, candidates: Mapping[str, Candidates]
    ) -> list[Item]:
        external = self.catalog.external_ids(served)
        where: dict[int, dict[str, tuple[int, float]]] = {}
        wanted = set(served.tolist())
        for name, c in candidates.items():
            for rank, (doc_id, score) in enumerate(zip(c.doc_ids.tolist(), c.scores.tolist())):
                if doc_id in wanted:
                    where.setdefault(doc_id, {})[name] = (rank + 1, score)
        return [
            Item(ext, float(s), where.get(int(d), {}))
            for ext, s, d in zip(external, scores.tolist(), served.tolist())
        ]

    # Training from the event log

    def training_rows(self) -> TrainingRows:
        """Every logged impression with feedback, as ranker training rows (see
        :mod:`ltrr_fast.engine.training`)."""
        with self._gate.reading():
            return training_rows(self)

    def fit_ranker(self, kind: str = "lambdamart", **options: Any) -> dict[str, float]:
        """Train a new ranker on the event log and serve with it from now on.

        ``kind="lambdamart"`` fits LightGBM's lambdarank (the ``ltr`` extra) on the graded
        labels; ``kind="online"`` replays the impressions through a fresh online ranker with
        position-bias weights. ``options`` go to the ranker's constructor. Returns the number
        of impressions and rows used. The engine keeps its current ranker when training
        fails.
        """
        ranker, used = fit_ranker(self, kind, **options)
        with self._lock:
            self.ranker = ranker
        return used

    # Feedback

    def feedback(
        self,
        request_id: str,
        actions: Sequence[tuple[str, str]] | Mapping[str, str],
        *,
        time_: float | None = None,
    ) -> dict[str, float]:
        """Learn from what the user did with a request's results.

        Parameters
        ----------
        request_id : str
            From :attr:`SearchResult.request_id`.
        actions : sequence of (item id, action kind), or mapping of item id to kind
            E.g. ``[("s1", "click"), ("s1", "play")]``; kinds are graded by the
            configuration's ``grades``. An empty sequence says the user acted on nothing.
        time_ : float, optional
            Epoch seconds of the feedback; now by default.

        Returns
        -------
        dict of str to float
            The reward each strategy earned.

        Raises
        ------
        KeyError
            For an unknown (or long forgotten) request id.
        ValueError
            For feedback given twice, an unknown item or action kind; nothing is learnt then.
        """
        if isinstance(actions, Mapping):
            actions = list(actions.items())
        if isinstance(actions, (str, bytes)) or not isinstance(actions, Sequence):
            raise TypeError("actions must be a sequence of (item id, action kind) pairs")
        now = time.time() if time_ is None else float(time_)
        if not math.isfinite(now):
            raise ValueError(f"time_ must be finite, got {time_!r}")
        with self._lock:
            pending = self._pending.get(request_id)
            if pending is None:
                raise KeyError(f"unknown request id {request_id!r} (or forgotten: too old)")
            if pending.answered:
                raise ValueError(f"feedback for request {request_id!r} was already given")
            acted: list[tuple[int, str]] = []
            for i, pair in enumerate(actions):
                if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                    raise ValueError(f"actions[{i}] must be an (item id, action kind) pair")
                item, kind = pair
                self.rewards.grade(kind)
                doc_id = self.catalog.doc_id(item) if isinstance(item, str) else None
                if doc_id is None:
                    raise ValueError(f"actions[{i}] names an unknown item {item!r}")
                acted.append((doc_id, kind))
            pending.answered = True

        if pending.shadow_job is not None:
            pending.shadow_job()
            pending.shadow_job = None
        # Shadow runs are off the response path but not off the learning path: wait for them
        # (each is cut at its own deadline), so what is learnt does not depend on timing.
        if not pending.shadow_done.wait(
            timeout=max(0.0, pending.shadow_deadline - time.perf_counter()) + SHADOW_GRACE_S
        ):
            logger.warning(
                "shadow strategies of %s still running; learning without them", request_id
            )
        sets = dict(pending.candidates)
        sets.update(pending.shadow)
        rewards = strategy_rewards(
            sets,
            acted,
            self.rewards,
            rank_discount=self.config.reward_rank_discount,
            share=self.config.reward_share,
        )
        grade_of: dict[int, float] = {}
        for doc_id, kind in acted:
            grade_of[doc_id] = max(grade_of.get(doc_id, 0.0), self.rewards.grade(kind))
        with self._lock:
            self.policy.update(pending.x, rewards)
            for arm in pending.chosen:
                quota = pending.quotas[pending.chosen.index(arm)]
                returned = len(pending.candidates.get(arm, ()))
                self.action_features.observe(
                    arm, pending.kind_of_query, rewards[arm], returned, quota
                )
            clicks = np.array([grade_of.get(int(d), 0.0) for d in pending.served])
            # A ranker fitted offline (LambdaMART) learns only when it is fitted again.
            learns = isinstance(self.ranker, OnlineRanker)
            if self.config.ranker == "online" and learns and clicks.any():
                self.ranker.update(pending.served_rows, clicks)
            if self.memory is not None and pending.served.size:
                self.memory.record(
                    pending.query, pending.served, 1.0, (clicks > 0).astype(float), now=now
                )
            if pending.user is not None and grade_of:
                summary = self._users.get(pending.user, UserSummary())
                self._users[pending.user] = UserSummary(summary.n_actions + len(acted), now)
                if self.personal is not None:
                    for doc_id, grade in grade_of.items():
                        if grade > 0:
                            self.personal.record(pending.user, doc_id, grade)
        log_feedback(self, request_id, now, acted, pending, rewards)
        return rewards

    # Event log
