"""Context and action features of the bandit over strategies: documented and extensible.

Context features describe the request and have per-arm coefficients (every strategy learns
how it fares on such requests). :class:`ContextFeatures` lays them out as:

==================  =====================================================================
``bias``            1, so each arm learns its base rate
``query.{name}``    whatever query understanding reports (length, slots found, intent,
                    script, ...), under the names it gives
``hour_sin/cos``    time of day on the unit circle (local hour / 24)
``weekday_sin/cos`` day of the week on the unit circle
``user_history``    log(1 + the user's past actions) / log(1 + 1000), capped at 1
``user_recency``    exp(-days since the user's last action / 30); 0 without history
extra features      named callables given at construction, appended in order
==================  =====================================================================

Action features describe each strategy and go to the shared part of the hybrid model, so a
strategy like the known ones does not start from nothing. :class:`ActionFeatures` tracks,
per arm: the kind of source (one-hot over :data:`SOURCE_KINDS`), its smoothed reward on
queries of the same kind (intent times length bucket; a Beta(1, 1) posterior mean), and its
expected result count (running mean of candidates returned over quota).

Both carry a ``version``; the layout changes only with a new version.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

CONTEXT_FEATURES_VERSION = 1
ACTION_FEATURES_VERSION = 1

#: Kinds of candidate source; each strategy declares one.
SOURCE_KINDS: tuple[str, ...] = (
    "lexical",
    "fuzzy",
    "vector",
    "memory",
    "popularity",
    "explore",
    "graph",
)

_DAY = 86_400.0


@dataclass(frozen=True)
class UserSummary:
    """Aggregates of one user's history: action count and time of the last action."""

    n_actions: int = 0
    last_action_time: float | None = None  # seconds since the epoch


class ContextFeatures:
    """Builds the bandit's context vector from query features, time and the user.

    Parameters
    ----------
    query_feature_names : sequence of str
        Names of the query features, in the order query understanding reports them.
    extra : mapping of str to callable, optional
        Further features: name to ``f(query_features, timestamp, user) -> float``.
    utc_offset_hours : float
        Offset of local time from UTC, for the time-of-day features.
    """

    version = CONTEXT_FEATURES_VERSION

    def __init__(
        self,
        query_feature_names: Sequence[str],
        extra: Mapping[str, Callable[[np.ndarray, float, UserSummary | None], float]]
        | None = None,
        utc_offset_hours: float = 0.0,
    ) -> None:
        self.query_feature_names = tuple(query_feature_names)
        self.extra = dict(extra or {})
        for name, fn in self.extra.items():
            if not callable(fn):
                raise TypeError(f"extra feature {name!r} must be callable, got {fn!r}")
        if not math.isfinite(utc_offset_hours) or abs(utc_offset_hours) > 14:
            raise ValueError(f"utc_offset_hours must lie in [-14, 14], got {utc_offset_hours}")
        self.utc_offset_hours = float(utc_offset_hours)
        self.names: tuple[str, ...] = (
            "bias",
            *(f"query.{name}" for name in self.query_feature_names),
            "hour_sin",
            "hour_cos",
            "weekday_sin",
            "weekday_cos",
            "user_history",
            "user_recency",
            *self.extra,
        )
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"context feature names must be distinct, got {self.names}")

    @property
    def n_features(self) -> int:
        return len(self.names)

    def __call__(
        self,
        query_features: np.ndarray | Sequence[float],
        timestamp: float,
        user: UserSummary | None = None,
    ) -> np.ndarray:
        """The context vector (float64) for one request at ``timestamp`` (epoch seconds)."""
        q = np.asarray(query_features, dtype=np.float64)
        if q.shape != (len(self.query_feature_names),):
            raise ValueError(
                f"query_features must have shape ({len(self.query_feature_names)},), got {q.shape}"
            )
        if not math.isfinite(timestamp):
            raise ValueError(f"timestamp must be finite, got {timestamp}")
        local = timestamp + self.utc_offset_hours * 3600.0
        hour = 2 * math.pi * ((local % _DAY) / _DAY)
        # 1970-01-01 was a Thursday; weekday 0 is Monday.
        weekday = 2 * math.pi * (((local // _DAY) + 3) % 7) / 7
        history = recency = 0.0
        if user is not None and user.n_actions > 0:
            history = min(1.0, math.log1p(user.n_actions) / math.log1p(1000))
            if user.last_action_time is not None:
                days = max(0.0, (timestamp - user.last_action_time) / _DAY)
                recency = math.exp(-days / 30.0)
        extra = [float(fn(q, timestamp, user)) for fn in self.extra.values()]
        x = np.concatenate(
            (
                [1.0],
                q,
                [math.sin(hour), math.cos(hour), math.sin(weekday), math.cos(weekday)],
                [history, recency],
                extra,
            )
        )
        if not np.isfinite(x).all():
            bad = [n for n, v in zip(self.names, x) if not math.isfinite(v)]
            raise ValueError(f"context features are not finite: {bad}")
        return x


def query_kind(intent: str, n_tokens: int) -> str:
    """Bucket of similar queries: intent times length (1, 2, 3+ tokens)."""
    return f"{intent}:{min(max(n_tokens, 1), 3)}"


class ActionFeatures:
    """Per-strategy features for the hybrid model's shared coefficients.

    Parameters
    ----------
    kinds : mapping of str to str
        Strategy name to its kind of source (one of :data:`SOURCE_KINDS`).
    """

    version = ACTION_FEATURES_VERSION

    def __init__(self, kinds: Mapping[str, str]) -> None:
        self._kinds: dict[str, str] = {}
        self._hits: dict[tuple[str, str], list[float]] = {}
        self._fill: dict[str, list[float]] = {}
        for name, kind in kinds.items():
            self.add(name, kind)
        self.names: tuple[str, ...] = (
            *(f"source_{k}" for k in SOURCE_KINDS),
            "reward_on_similar_queries",
            "expected_fill",
        )

    @property
    def n_features(self) -> int:
        return len(SOURCE_KINDS) + 2

    def add(self, name: str, kind: str) -> None:
        """Register a strategy."""
        if kind not in SOURCE_KINDS:
            raise ValueError(f"kind of {name!r} must be one of {SOURCE_KINDS}, got {kind!r}")
        self._kinds[name] = kind
        self._fill.setdefault(name, [0.0, 0.0])

    def observe(
        self, name: str, kind_of_query: str, reward: float, n_returned: int, quota: int
    ) -> None:
        """Record one outcome of a strategy on a query of the given kind."""
        if name not in self._kinds:
            raise ValueError(f"unknown strategy {name!r}; known: {sorted(self._kinds)}")
        if not 0.0 <= reward <= 1.0:
            raise ValueError(f"reward must lie in [0, 1], got {reward}")
        if quota < 1 or n_returned < 0:
            raise ValueError(f"need quota >= 1 and n_returned >= 0, got {quota}, {n_returned}")
        stats = self._hits.setdefault((name, kind_of_query), [0.0, 0.0])
        stats[0] += reward
        stats[1] += 1.0
        fill = self._fill[name]
        fill[0] += min(n_returned / quota, 1.0)
        fill[1] += 1.0

    def state(self) -> dict:
        """JSON-serialisable statistics, for :meth:`load_state`."""
        return {
            "kinds": dict(self._kinds),
            "hits": [[name, kind, *stats] for (name, kind), stats in self._hits.items()],
            "fill": {name: list(v) for name, v in self._fill.items()},
        }

    def load_state(self, state: dict) -> None:
        """Replace the statistics with those of :meth:`state`."""
        self._kinds = dict(state["kinds"])
        self._hits = {(n, k): [float(t), float(c)] for n, k, t, c in state["hits"]}
        self._fill = {n: [float(a), float(b)] for n, (a, b) in state["fill"].items()}

    def matrix(self, strategies: Sequence[str], kind_of_query: str) -> np.ndarray:
        """(n_strategies, n_features) float64, rows in the order given."""
        out = np.zeros((len(strategies), self.n_features))
        for row, name in enumerate(strategies):
            kind = self._kinds.get(name)
            if kind is None:
                raise ValueError(f"unknown strategy {name!r}; known: {sorted(self._kinds)}")
            out[row, SOURCE_KINDS.index(kind)] = 1.0
            total, count = self._hits.get((name, kind_of_query), (0.0, 0.0))
            out[row, len(SOURCE_KINDS)] = (total + 1.0) / (count + 2.0)
            filled, seen = self._fill[name]
            out[row, len(SOURCE_KINDS) + 1] = filled / seen if seen else 1.0
        return out
