"""Simulated users: clicks drawn from a position-based model, and learning a ranker from them.

Position-based model (PBM): the result at 0-based position ``k`` is examined with probability
``examination[k]``, independently of the others; an examined result is clicked with a
probability that depends only on its relevance grade (``click_relevant`` for grade > 0,
``click_irrelevant`` otherwise, the latter being noise). The examination probabilities are
known to the simulation, so a ranker can be given them (inverse propensity weighting) or not.

:func:`click_experiment` replays this on a retrieval collection: candidates are BM25F's top
``depth`` per query (:func:`ltrr_fast.ranking.collection.collection_candidates`), a logged
user sees them in BM25F order and clicks under the PBM, and two online rankers learn from
the same click stream, one weighting clicks by ``1 / examination`` and one not. With
``evaluate_on="held_out"`` queries are split in two folds; each ranker is trained on one fold's
clicks and evaluated on the other fold's queries, so every query's nDCG@10 is measured on a
ranker that never saw its clicks. With ``evaluate_on="all"`` the rankers learn from clicks on
every query and are evaluated on every query after learning. Everything is drawn from one
seed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ltrr_fast.evaluation.metrics import ndcg_at_k
from ltrr_fast.ranking.collection import CollectionCandidates, QueryCandidates
from ltrr_fast.ranking.online import OnlineRanker
from ltrr_fast.ranking.propensity import PositionBias

logger = logging.getLogger(__name__)


class PositionBasedModel:
    """Clicks under the position-based model.

    Parameters
    ----------
    examination : sequence of float
        Examination probability of each 0-based position, in [0, 1]; positions past the end
        are never examined.
    click_relevant : float, default 1.0
        Click probability of an examined result with grade > 0.
    click_irrelevant : float, default 0.1
        Click probability of an examined result with grade <= 0 (click noise).
    """

    def __init__(
        self,
        examination: Sequence[float] | np.ndarray,
        click_relevant: float = 1.0,
        click_irrelevant: float = 0.1,
    ) -> None:
        arr = np.asarray(examination, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"examination must be a non-empty 1-D sequence, got {arr.shape}")
        if not (np.isfinite(arr).all() and (arr >= 0).all() and (arr <= 1).all()):
            raise ValueError("examination probabilities must lie in [0, 1]")
        for name, value in (
            ("click_relevant", click_relevant),
            ("click_irrelevant", click_irrelevant),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        self.examination = arr
        self.click_relevant = float(click_relevant)
        self.click_irrelevant = float(click_irrelevant)

    @classmethod
    def power_law(cls, n_positions: int, eta: float = 1.0, **kwargs: float) -> PositionBasedModel:
        """Examination ``(1 / (k + 1)) ** eta`` at 0-based position ``k``."""
        return cls(PositionBias.power_law(n_positions, eta).propensities, **kwargs)

    def position_bias(self, max_weight: float | None = None) -> PositionBias:
        """The true examination probabilities as a :class:`PositionBias` for a ranker."""
        return PositionBias(np.maximum(self.examination, 1e-6), max_weight=max_weight)

    def click_probability(self, grades: np.ndarray) -> np.ndarray:
        """Click probability of each result of a list shown in this order."""
        grades = np.asarray(grades, dtype=np.float64)
        n = grades.shape[0]
        examined = np.zeros(n)
        shown = min(n, self.examination.size)
        examined[:shown] = self.examination[:shown]
        attractive = np.where(grades > 0, self.click_relevant, self.click_irrelevant)
        return examined * attractive

    def clicks(self, grades: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw the clicks (0/1 float64) on a list shown in this order."""
        probability = self.click_probability(grades)
        return (rng.random(probability.shape[0]) < probability).astype(np.float64)


@dataclass(frozen=True)
class ClickExperimentResult:
    """nDCG@10 of the three rankings over the held-out queries, and the set-up."""

    ndcg_bm25: float
    ndcg_uncorrected: float
    ndcg_corrected: float
    n_queries: int
    n_sessions: int
    n_clicks: int


def _train(
    ranker: OnlineRanker,
    queries: list[QueryCandidates],
    model: PositionBasedModel,
    n_sessions: int,
    rng: np.random.Generator,
) -> int:
    n_clicks = 0
    picks = rng.integers(len(queries), size=n_sessions)
    for pick in picks:
        query = queries[pick]
        clicks = model.clicks(query.grades, rng)
        if clicks.any():
            n_clicks += int(clicks.sum())
            ranker.update(query.X, clicks)
    return n_clicks


def _run(queries: list[QueryCandidates], scores: list[np.ndarray] | None) -> dict[str, list[str]]:
    run = {}
    for i, query in enumerate(queries):
        if scores is None:
            run[query.query_id] = list(query.ids)
        else:
            order = np.argsort(-scores[i], kind="stable")
            run[query.query_id] = [query.ids[j] for j in order]
    return run


def click_experiment(
    candidates: CollectionCandidates,
    *,
    eta: float = 1.0,
    click_relevant: float = 1.0,
    click_irrelevant: float = 0.1,
    n_sessions: int = 50_000,
    learning_rate: float = 0.02,
    loss: str = "pairwise",
    evaluate_on: str = "all",
    seed: int = 0,
) -> ClickExperimentResult:
    """Learn online rankers from PBM clicks with and without position-bias correction.

    Parameters
    ----------
    candidates : CollectionCandidates
        Per-query candidates in BM25F order, their features and grades.
    eta : float, default 1.0
        Examination ``(1 / (k + 1)) ** eta`` at position ``k`` of the shown list.
    click_relevant, click_irrelevant : float
        Click probabilities of examined relevant and non-relevant results.
    n_sessions : int, default 50000
        Impressions simulated per fold (queries drawn uniformly from the fold).
    learning_rate, loss
        Passed to both :class:`OnlineRanker`.
    evaluate_on : {"all", "held_out"}, default "all"
        Two-fold evaluation on unseen queries, or evaluation on all queries after learning.
    seed : int, default 0
        Seeds the fold split, the sessions and the clicks.

    Returns
    -------
    ClickExperimentResult
        Mean nDCG@10 over all judged queries (under ``"held_out"`` each scored by the rankers
        of the other fold).
    """
    if evaluate_on not in ("held_out", "all"):
        raise ValueError(f"evaluate_on must be 'held_out' or 'all', got {evaluate_on!r}")
    queries = list(candidates.queries)
    if len(queries) < 2:
        raise ValueError(f"need at least 2 queries with candidates, got {len(queries)}")
    depth = max(query.X.shape[0] for query in queries)
    model = PositionBasedModel.power_law(
        depth, eta, click_relevant=click_relevant, click_irrelevant=click_irrelevant
    )
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(queries)) % 2
    folds = (0, 1)
    if evaluate_on == "all":
        fold_of[:] = 0
        folds = (0,)

    scores: dict[str, list[np.ndarray | None]] = {
        "uncorrected": [None] * len(queries),
        "corrected": [None] * len(queries),
    }
    n_clicks = 0
    for fold in folds:
        train = [queries[i] for i in np.flatnonzero(fold_of == fold)]
        held_out = np.flatnonzero(fold_of != fold) if len(folds) == 2 else range(len(queries))
        # Both rankers see the very same sessions and clicks.
        session_seed = int(rng.integers(2**63))
        for name, bias in (("uncorrected", None), ("corrected", model.position_bias())):
            ranker = OnlineRanker(
                candidates.schema.n_features,
                loss=loss,
                learning_rate=learning_rate,
                position_bias=bias,
                schema=candidates.schema,
                seed=seed,
            )
            clicks = _train(ranker, train, model, n_sessions, np.random.default_rng(session_seed))
            for i in held_out:
                scores[name][i] = ranker.score(queries[i].X)
        n_clicks += clicks

    qrels = candidates.qrels
    result = ClickExperimentResult(
        ndcg_bm25=ndcg_at_k(_run(queries, None), qrels, 10).mean,
        ndcg_uncorrected=ndcg_at_k(_run(queries, scores["uncorrected"]), qrels, 10).mean,
        ndcg_corrected=ndcg_at_k(_run(queries, scores["corrected"]), qrels, 10).mean,
        n_queries=len(queries),
        n_sessions=len(folds) * n_sessions,
        n_clicks=n_clicks,
    )
    logger.debug("click experiment: %s", result)
    return result
