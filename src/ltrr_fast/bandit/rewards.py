"""Rewards of strategies from user feedback, with graded actions.

The seed formulation of learning to retrieve: a strategy earns a reward when the item the
user acted on was among its candidates. Graded rewards let a play count for more than a click:
a strategy's reward is the largest grade among the actions whose item it retrieved, 0 when it
retrieved none of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

#: Default grades per action kind; a skip says the item was seen and not wanted.
DEFAULT_GRADES: Mapping[str, float] = MappingProxyType(
    {"play": 1.0, "like": 1.0, "purchase": 1.0, "click": 0.5, "skip": 0.0}
)


@dataclass(frozen=True)
class RewardConfig:
    """Grades of action kinds, each in [0, 1].

    Parameters
    ----------
    grades : mapping of str to float
        Action kind to grade, e.g. ``{"play": 1.0, "click": 0.5}``.
    """

    grades: Mapping[str, float] = field(default_factory=lambda: DEFAULT_GRADES)

    def __post_init__(self) -> None:
        if not isinstance(self.grades, Mapping) or not self.grades:
            raise ValueError("grades must be a non-empty mapping of action kind to grade")
        checked = {}
        for kind, grade in self.grades.items():
            if not isinstance(kind, str) or not kind:
                raise ValueError(f"action kinds must be non-empty str, got {kind!r}")
            if isinstance(grade, bool) or not isinstance(grade, (int, float, np.number)):
                raise TypeError(f"grade of {kind!r} must be a number, got {grade!r}")
            if not (math.isfinite(grade) and 0.0 <= grade <= 1.0):
                raise ValueError(f"grade of {kind!r} must lie in [0, 1], got {grade}")
            checked[kind] = float(grade)
        object.__setattr__(self, "grades", MappingProxyType(checked))

    def grade(self, kind: str) -> float:
        """Grade of one action kind; ValueError naming the known kinds otherwise."""
        try:
            return self.grades[kind]
        except (KeyError, TypeError):
            raise ValueError(
                f"unknown action kind {kind!r}; known: {sorted(self.grades)}"
            ) from None


def strategy_rewards(
    candidates: Mapping[str, np.ndarray | Iterable[int]],
    actions: Iterable[tuple[int, str]],
    config: RewardConfig | None = None,
    *,
    rank_discount: bool = False,
    share: bool = False,
) -> dict[str, float]:
    """Reward of every strategy for one request.

    Parameters
    ----------
    candidates : mapping of str to array of int
        Strategy name to the doc ids it retrieved (whether or not they were shown).
    actions : iterable of (doc_id, kind)
        What the user did, e.g. ``[(17, "click"), (17, "play")]``.
    config : RewardConfig, optional
        Grades; :data:`DEFAULT_GRADES` when omitted.
    rank_discount : bool
        Divide each grade by ``log2(1 + rank)`` of the item in the strategy's list (rank from
        1), so a strategy that ranked the wanted item higher earns more.
    share : bool
        Split each item's grade among the strategies that retrieved it, so a strategy earns
        its full grade only for what no other strategy found (its unique contribution).

    Returns
    -------
    dict of str to float
        Every strategy in ``candidates``: the largest grade among the actions on items it
        retrieved, or 0.

    Raises
    ------
    ValueError
        On an unknown action kind or a negative doc id; nothing is returned then.
    """
    config = config or RewardConfig()
    best: dict[int, float] = {}
    for doc_id, kind in actions:
        grade = config.grade(kind)
        if isinstance(doc_id, bool) or not isinstance(doc_id, (int, np.integer)) or doc_id < 0:
            raise ValueError(f"action doc ids must be non-negative ints, got {doc_id!r}")
        best[int(doc_id)] = max(best.get(int(doc_id), 0.0), grade)
    if not best:
        return dict.fromkeys(candidates, 0.0)
    acted = np.fromiter(best.keys(), dtype=np.int64, count=len(best))
    grades = np.fromiter(best.values(), dtype=np.float64, count=len(best))
    found_by = {
        name: np.isin(acted, np.asarray(doc_ids, dtype=np.int64))
        for name, doc_ids in candidates.items()
    }
    if share:
        finders = np.sum(list(found_by.values()), axis=0)
        grades = grades / np.maximum(finders, 1)
    rewards = {}
    for name, doc_ids in candidates.items():
        ids = np.asarray(doc_ids, dtype=np.int64)
        found = found_by[name]
        if not found.any():
            rewards[name] = 0.0
        elif rank_discount:
            # Rank (from 1) of each found item in this strategy's list.
            position = {d: r for r, d in enumerate(ids.tolist())}
            ranks = np.array([position[d] + 1 for d in acted[found].tolist()], dtype=np.float64)
            rewards[name] = float((grades[found] / np.log2(ranks + 1.0)).max())
        else:
            rewards[name] = float(grades[found].max())
    return rewards
