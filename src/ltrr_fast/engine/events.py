"""Rows of the event log: what a request and its feedback record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ltrr_fast.bandit import Decision
    from ltrr_fast.engine.core import Engine
    from ltrr_fast.engine.pending import Pending
    from ltrr_fast.engine.results import Trace
    from ltrr_fast.strategies import Candidates, StrategyResult


def log_request(
    engine: Engine,
    request_id: str,
    now: float,
    query: str,
    user: str | None,
    x: np.ndarray,
    decision: Decision,
    results: Sequence[StrategyResult],
    candidates: Mapping[str, Candidates],
    served: np.ndarray,
    trace: Trace,
) -> None:
    """Log one request: context, decision, each strategy's candidates, what was served."""
    names = engine.catalog.external_ids
    engine.event_log.log_request(
        {
            "request_id": request_id,
            "ts": now,
            "user": user,
            "query": query,
            "context": x.tolist(),
            "chosen": list(decision.arms),
            "quotas": list(decision.quotas),
            "propensities": decision.propensities,
            "candidates": {
                r.name: names(candidates[r.name].doc_ids) if r.name in candidates else []
                for r in results
            },
            "served": names(served),
            "shadow": trace.shadow,
            "shadow_candidates": {},
            "latency_ms": trace.latency_ms,
            "status": {r.name: r.status for r in results},
            "candidate_scores": {
                name: c.scores.astype(float).tolist() for name, c in candidates.items()
            },
        }
    )


def log_feedback(
    engine: Engine,
    request_id: str,
    now: float,
    acted: Sequence[tuple[int, str]],
    pending: Pending,
    rewards: Mapping[str, Any],
) -> None:
    """Log the actions on a request (one row each, or a row saying there were none) and the
    candidates its shadow strategies found."""
    names = engine.catalog.external_ids
    served = pending.served.tolist()
    rows = [
        {
            "request_id": request_id,
            "ts": now,
            "item": names([doc_id])[0],
            "action": kind,
            "position": served.index(doc_id) if doc_id in served else None,
            "rewards": rewards,
        }
        for doc_id, kind in acted
    ]
    if pending.shadow:
        shadow = {arm: names(ids) for arm, ids in pending.shadow.items()}
        engine.event_log.set_shadow_candidates(request_id, shadow)
    if rows:
        engine.event_log.log_feedback(rows)
    else:
        engine.event_log.log_feedback(
            [
                {
                    "request_id": request_id,
                    "ts": now,
                    "item": "",
                    "action": "none",
                    "position": None,
                    "rewards": rewards,
                }
            ]
        )
