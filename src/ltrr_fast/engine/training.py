"""Training rankers from the event log: every logged impression with its feedback.

A logged request holds the query, each strategy's candidates (ids and scores) and what was
served; its feedback rows say what the user did. From them the engine's feature builder
rebuilds, row for row, the features the served items had (the same query parse, strategy
lists, static scores and match features), so a ranker trained here sees what it will be
served with. Labels are the graded actions (0 for a served item nobody acted on); one group
per request, in display order, with each item's position for position-bias weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ltrr_fast.ranking import LambdaMARTRanker, OnlineRanker, PositionBias, Ranker
from ltrr_fast.strategies import Candidates

if TYPE_CHECKING:
    from ltrr_fast.engine.core import Engine


@dataclass(frozen=True)
class TrainingRows:
    """Logged impressions as ranker training data.

    Attributes
    ----------
    X : numpy.ndarray of float32, (n_rows, n_features)
        Features of every served item, groups one after another.
    labels : numpy.ndarray of float64
        Largest grade of an action on the item, 0 when none.
    groups : numpy.ndarray of int64
        Rows per request, in log order.
    positions : numpy.ndarray of int64
        0-based display position of each row.
    request_ids : list of str
        The request of each group.
    """

    X: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    positions: np.ndarray
    request_ids: list[str]


def training_rows(engine: Engine) -> TrainingRows:
    """Rows of every logged request that received feedback and served something."""
    log = engine.event_log
    grades: dict[str, dict[str, float]] = {}
    for row in log.feedback():
        if row["action"] == "none":
            grades.setdefault(row["request_id"], {})
            continue
        grade = engine.rewards.grade(row["action"])
        acted = grades.setdefault(row["request_id"], {})
        acted[row["item"]] = max(acted.get(row["item"], 0.0), grade)

    blocks, labels, groups, positions, request_ids = [], [], [], [], []
    for request in log.requests():
        acted = grades.get(request["request_id"])
        if acted is None or not request["served"]:
            continue
        served_ids = [engine.catalog.doc_id(i) for i in request["served"]]
        if any(d is None for d in served_ids):
            continue  # an item deleted since: the impression cannot be rebuilt
        candidates = {}
        scores = request.get("candidate_scores") or {}
        for name, ids in request["candidates"].items():
            if name not in engine.arms or not ids or name not in scores:
                continue
            doc_ids = [engine.catalog.doc_id(i) for i in ids]
            keep = [k for k, d in enumerate(doc_ids) if d is not None]
            candidates[name] = Candidates.from_arrays(
                np.asarray([doc_ids[k] for k in keep], dtype=np.uint32),
                np.asarray([scores[name][k] for k in keep], dtype=np.float32),
            )
        parsed = engine.parse(request["query"], request["user"], request["ts"])
        served = np.asarray(served_ids, dtype=np.uint32)
        X = engine.build_features(parsed, candidates, served).X
        blocks.append(X)
        labels.extend(acted.get(i, 0.0) for i in request["served"])
        groups.append(len(served_ids))
        positions.extend(range(len(served_ids)))
        request_ids.append(request["request_id"])
    width = engine.features.n_features
    return TrainingRows(
        X=np.concatenate(blocks) if blocks else np.zeros((0, width), dtype=np.float32),
        labels=np.asarray(labels, dtype=np.float64),
        groups=np.asarray(groups, dtype=np.int64),
        positions=np.asarray(positions, dtype=np.int64),
        request_ids=request_ids,
    )


def fit_ranker(engine: Engine, kind: str, **options: Any) -> tuple[Ranker, dict[str, float]]:
    """A new ranker trained on the engine's event log, and how much it learnt from (see
    :meth:`Engine.fit_ranker`)."""
    rows = engine.training_rows()
    if rows.groups.size == 0:
        raise ValueError("the event log holds no impression with feedback to learn from")
    schema = engine.features.schema
    if kind == "lambdamart":
        # Grades are fractions (a click is 0.5): ranked into LightGBM's integer levels.
        options.setdefault("label_transform", "dense")
        ranker = LambdaMARTRanker(engine.features.n_features, schema=schema, **options)
        ranker.fit(rows.X, rows.labels, rows.groups)
    elif kind == "online":
        options.setdefault("learning_rate", engine.config.ranker_learning_rate)
        options.setdefault(
            "position_bias",
            PositionBias.power_law(max(engine.config.k, 10), eta=engine.config.examination_eta),
        )
        ranker = OnlineRanker(engine.features.n_features, schema=schema, **options)
        start = 0
        for size in rows.groups.tolist():
            block = slice(start, start + size)
            if rows.labels[block].any():
                ranker.update(rows.X[block], rows.labels[block], rows.positions[block])
            start += size
    else:
        raise ValueError(f"kind must be 'lambdamart' or 'online', got {kind!r}")
    return ranker, {"impressions": float(rows.groups.size), "rows": float(rows.X.shape[0])}
