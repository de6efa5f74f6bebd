"""Engine configuration: one frozen, validated, JSON-serialisable record."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from ltrr_fast.bandit.rewards import DEFAULT_GRADES, RewardConfig

#: Every strategy the engine knows how to build, in trace order.
STRATEGY_NAMES: tuple[str, ...] = (
    "lexical",
    "structured",
    "fuzzy",
    "semantic",
    "memory",
    "popularity",
    "related",
    "explore",
    "personal",
)


@dataclass(frozen=True)
class EngineConfig:
    """How an engine retrieves, selects, ranks and learns.

    Parameters
    ----------
    strategies : tuple of str, optional
        Strategies to build (a subset of :data:`STRATEGY_NAMES`); by default every one the
        catalog supports (structured, popularity and related need attributes or static
        scores).
    budget : int
        Total candidates the chosen strategies share per request.
    n_chosen : int
        Strategies drawn from per request.
    k : int
        Items returned by default.
    budget_ms : float
        Default latency budget of a request; retrieval gets ``retrieve_share`` of it.
    retrieve_share : float
        Share of the budget strategies may use before they are cut.
    alpha, epsilon, exploration
        The bandit's confidence weight, random-choice rate and scoring
        (:class:`~ltrr_fast.bandit.StrategyPolicy`).
    quota_temperature : float
        Temperature of the softmax splitting the budget over the chosen strategies' scores;
        low values let the best strategy take most of the budget.
    shadow_rate : float
        Share of requests on which the unchosen strategies also run, off the response path,
        so every strategy gets an observed reward.
    ranker : str
        ``"online"`` (a linear ranker learned from clicks) or ``"fusion"`` (reciprocal-rank
        fusion of the strategies' lists, no learning).
    ranker_learning_rate : float
        Step size of the online ranker.
    examination_eta : float
        The ranker corrects clicks for position bias with examination ``1 / (1 + rank)^eta``.
    grades : mapping of str to float
        Action kind to reward grade in [0, 1].
    reward_rank_discount : bool
        Discount a strategy's reward by the rank at which it had the acted-on item
        (``grade / log2(1 + rank)``); off by default.
    reward_share : bool
        Split an acted-on item's grade among the strategies that retrieved it (each earns
        its full grade only for what it alone found). On by default: with the colder budget
        split (0.02) it raised the Vaswani main job's nDCG@10 and recall and left Spotify's
        unchanged (settings chosen on those same runs).
    vector_dim : int
        Dimension of the default (LSA) item and query embeddings.
    context_features : tuple of str
        Names of numbers the caller passes in ``context["features"]`` (e.g. device, market,
        session depth); they join the bandit's context, 0 when a search omits one.
    match_fields : tuple of str
        Text fields compared with the query for the ranker's match features.
    fuzzy_fields : tuple of str, optional
        Fields the fuzzy strategy indexes; by default the first two text fields short enough
        to be typed (mean under 60 characters), else the first text field.
    threads : int
        Worker threads that run strategies concurrently; 0 runs them one after another in
        the calling thread.
    seed : int
        Seed of every random choice; the same seed replays the same answers.
    """

    strategies: tuple[str, ...] | None = None
    budget: int = 200
    n_chosen: int = 3
    k: int = 10
    budget_ms: float = 50.0
    retrieve_share: float = 0.8
    alpha: float = 0.3
    epsilon: float = 0.05
    exploration: str = "ucb"
    quota_temperature: float = 0.02
    shadow_rate: float = 0.1
    ranker: str = "online"
    ranker_learning_rate: float = 0.05
    examination_eta: float = 1.0
    grades: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_GRADES))
    reward_rank_discount: bool = False
    reward_share: bool = True
    vector_dim: int = 64
    context_features: tuple[str, ...] = ()
    match_fields: tuple[str, ...] = ()
    fuzzy_fields: tuple[str, ...] | None = None
    threads: int = 4
    seed: int = 0

    def __post_init__(self) -> None:
        if self.strategies is not None:
            names = tuple(self.strategies)
            unknown = sorted(set(names) - set(STRATEGY_NAMES))
            if unknown or not names or len(set(names)) != len(names):
                raise ValueError(
                    f"strategies must be distinct names from {STRATEGY_NAMES}, got {names}"
                )
            object.__setattr__(self, "strategies", names)
        for name, low in (("budget", 1), ("n_chosen", 1), ("k", 1), ("vector_dim", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if self.budget < self.n_chosen:
            raise ValueError(f"budget ({self.budget}) must be at least n_chosen ({self.n_chosen})")
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 0:
            raise ValueError(f"threads must be an int >= 0, got {self.threads!r}")
        _positive(self.budget_ms, "budget_ms")
        _positive(self.ranker_learning_rate, "ranker_learning_rate")
        _positive(self.quota_temperature, "quota_temperature")
        for name in ("retrieve_share", "epsilon", "shadow_rate"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must lie in [0, 1], got {value!r}")
        if not (math.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be finite and >= 0, got {self.alpha}")
        if not (math.isfinite(self.examination_eta) and self.examination_eta >= 0):
            raise ValueError(
                f"examination_eta must be finite and >= 0, got {self.examination_eta}"
            )
        if self.exploration not in ("ucb", "thompson"):
            raise ValueError(f"exploration must be 'ucb' or 'thompson', got {self.exploration!r}")
        if self.ranker not in ("online", "fusion"):
            raise ValueError(f"ranker must be 'online' or 'fusion', got {self.ranker!r}")
        object.__setattr__(
            self, "grades", MappingProxyType(dict(RewardConfig(self.grades).grades))
        )
        object.__setattr__(self, "match_fields", tuple(self.match_fields))
        names = tuple(self.context_features)
        if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"context_features must be distinct non-empty names, got {names}")
        object.__setattr__(self, "context_features", names)
        if self.fuzzy_fields is not None:
            object.__setattr__(self, "fuzzy_fields", tuple(self.fuzzy_fields))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["grades"] = dict(self.grades)
        for name in ("strategies", "match_fields", "fuzzy_fields", "context_features"):
            if data[name] is not None:
                data[name] = list(data[name])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngineConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown engine settings {unknown}; known: {sorted(known)}")
        values = dict(data)
        for name in ("strategies", "match_fields", "fuzzy_fields", "context_features"):
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        return cls(**values)


def _positive(value: object, name: str) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value > 0)
    ):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
