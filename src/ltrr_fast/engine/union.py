"""Building the union of the strategies' candidates: quotas, spill-over, fusion prior."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ltrr_fast.strategies import Candidates, StrategyResult

_FUSION_K = 60.0  # reciprocal-rank fusion constant


def allocate(
    results: Sequence[StrategyResult], quotas: Sequence[int], budget: int
) -> dict[str, Candidates]:
    """Keep each strategy's quota of distinct candidates; give unfilled slots to the others.

    Strategies are visited best first. Each contributes a prefix of its list: first until it
    has added ``quota`` new distinct items to the union (items another strategy already
    added are kept in its list and cost nothing), then, while the union is below ``budget``,
    further items from the strategies that still have some, best first. A strategy that
    answered late or failed contributes nothing and its quota is shared out the same way.
    """
    answered = [(r, q) for r, q in zip(results, quotas) if r.status == "ok"]
    lists = [r.candidates.doc_ids.tolist() for r, _ in answered]
    taken = [0] * len(answered)
    union: set[int] = set()

    def walk(i: int, new_items: int) -> None:
        ids = lists[i]
        while taken[i] < len(ids) and new_items > 0 and len(union) < budget:
            if ids[taken[i]] not in union:
                union.add(ids[taken[i]])
                new_items -= 1
            taken[i] += 1

    for i, (_, quota) in enumerate(answered):
        walk(i, quota)
    for i in range(len(answered)):
        walk(i, budget - len(union))
    return {
        r.name: Candidates(
            r.candidates.doc_ids[: taken[i]],
            r.candidates.scores[: taken[i]],
            r.candidates.features[: taken[i]],
        )
        for i, (r, _) in enumerate(answered)
    }


def fusion(candidates: Mapping[str, Candidates]) -> tuple[np.ndarray, np.ndarray]:
    """Reciprocal-rank fusion: each strategy adds ``1 / (60 + rank)`` to its candidates."""
    total: dict[int, float] = {}
    for c in candidates.values():
        for rank, doc_id in enumerate(c.doc_ids.tolist()):
            total[doc_id] = total.get(doc_id, 0.0) + 1.0 / (_FUSION_K + rank + 1)
    ids = np.fromiter(total.keys(), dtype=np.int64, count=len(total))
    values = np.fromiter(total.values(), dtype=np.float64, count=len(total))
    # Scaled so the best possible single-strategy item scores 1.
    return ids, values * (_FUSION_K + 1)
