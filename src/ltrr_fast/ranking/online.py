"""A linear ranker learned online from clicks or graded labels, with position-bias correction.

The score of a row is ``x . w``. Each update is one step of gradient descent (AdaGrad by
default) on the pairwise logistic loss of a mini-batch of groups, the pairs weighted by their
nDCG change under LambdaRank (``loss="lambdarank"``) or not (``loss="pairwise"``); the
gradients come from :mod:`ltrr_fast.kernels.ranker`.

Learning from clicks: :meth:`OnlineRanker.update` takes one impression (rows in the order they
were shown, and which were clicked) and pairs each clicked row with every other row shown.
With a :class:`~ltrr_fast.ranking.PositionBias`, each clicked row weighs
``1 / examination(position)``, which removes the position bias of the clicks in expectation
(inverse propensity scoring); without one, clicks are taken at face value. :meth:`fit` and
:meth:`partial_fit` learn from graded labels instead, pairing rows of different grades.

Every input is validated before the model changes: a bad call raises and leaves the weights,
the optimiser state and the random generator as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from ltrr_fast.kernels.ranker import OPT_ADAGRAD, OPT_SGD, linear_scores, ranker_step
from ltrr_fast.ranking._checks import check_features, check_groups, check_vector
from ltrr_fast.ranking.base import Ranker, RankerFormatError
from ltrr_fast.ranking.features import CandidateFeatures, FeatureSchema
from ltrr_fast.ranking.propensity import PositionBias

logger = logging.getLogger(__name__)

LOSSES = ("lambdarank", "pairwise")
OPTIMIZERS = {"sgd": OPT_SGD, "adagrad": OPT_ADAGRAD}


class OnlineRanker(Ranker):
    """Linear ranker trained by per-event or mini-batch gradient steps.

    Parameters
    ----------
    n_features : int
        Width of the feature rows.
    loss : {"lambdarank", "pairwise"}, default "lambdarank"
        Pair weighting: nDCG change (LambdaRank) or uniform (RankNet).
    learning_rate : float, default 0.03
    l2 : float, default 0.0
        L2 penalty on the weights.
    sigma : float, default 1.0
        Steepness of the logistic pair loss.
    truncation : int, default 30
        Pairs count only when one of the two rows is ranked above this position.
    optimizer : {"adagrad", "sgd"}, default "adagrad"
    position_bias : PositionBias, optional
        Examination probabilities for inverse-propensity weighting of clicks in
        :meth:`update`; ``None`` takes clicks at face value.
    schema : FeatureSchema, optional
        The feature layout the rows follow; checked by :meth:`score_candidates`.
    seed : int, default 0
        Seed of the generator that shuffles groups in :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> ranker = OnlineRanker(2, learning_rate=0.1)
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    >>> for _ in range(20):
    ...     _ = ranker.update(X, clicks=[0, 1])
    >>> ranker.rank(X).tolist()
    [1, 0]
    """

    kind = "online_linear"

    def __init__(
        self,
        n_features: int,
        *,
        loss: str = "lambdarank",
        learning_rate: float = 0.03,
        l2: float = 0.0,
        sigma: float = 1.0,
        truncation: int = 30,
        optimizer: str = "adagrad",
        position_bias: PositionBias | None = None,
        schema: FeatureSchema | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(n_features, schema)
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {list(LOSSES)}, got {loss!r}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
        for name, value in (("learning_rate", learning_rate), ("sigma", sigma)):
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be finite and > 0, got {value}")
        if not (np.isfinite(l2) and l2 >= 0):
            raise ValueError(f"l2 must be finite and >= 0, got {l2}")
        if isinstance(truncation, bool) or not isinstance(truncation, int) or truncation < 1:
            raise ValueError(f"truncation must be an int >= 1, got {truncation!r}")
        if position_bias is not None and not isinstance(position_bias, PositionBias):
            raise TypeError(
                f"position_bias must be a PositionBias or None, got {type(position_bias)}"
            )
        self.loss = loss
        self.learning_rate = float(learning_rate)
        self.l2 = float(l2)
        self.sigma = float(sigma)
        self.truncation = truncation
        self.optimizer = optimizer
        self.position_bias = position_bias
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._w = np.zeros(self.n_features)
        self._grad_sq = np.zeros(self.n_features)
        self.n_updates = 0

    def __repr__(self) -> str:
        return (
            f"OnlineRanker(n_features={self.n_features}, loss={self.loss!r}, "
            f"n_updates={self.n_updates})"
        )

    @property
    def weights(self) -> np.ndarray:
        """A copy of the weight vector."""
        return self._w.copy()

    def _raw_scores(self, X: np.ndarray) -> np.ndarray:
        return linear_scores(X, self._w)

    # -- learning --------------------------------------------------------------------------

    def _step(
        self,
        X: np.ndarray,
        labels: np.ndarray,
        weights: np.ndarray,
        indptr: np.ndarray,
        click_pairs: bool = False,
    ) -> float:
        loss = ranker_step(
            X,
            labels,
            weights,
            indptr,
            self._w,
            self._grad_sq,
            self.learning_rate,
            self.l2,
            self.sigma,
            self.loss == "lambdarank",
            self.truncation,
            OPTIMIZERS[self.optimizer],
            click_pairs,
        )
        self.n_updates += 1
        return float(loss)

    def _checked(self, X, labels, groups, weights):
        rows = check_features(X, self.n_features)
        labels = check_vector(labels, rows.shape[0], "labels", non_negative=False)
        weights = (
            np.ones(rows.shape[0])
            if weights is None
            else check_vector(weights, rows.shape[0], "weights", non_negative=True)
        )
        _, indptr = check_groups(groups, rows.shape[0])
        return rows, labels, weights, indptr

    def partial_fit(
        self,
        X: np.ndarray,
        labels: np.ndarray,
        groups: Sequence[int] | np.ndarray,
        weights: np.ndarray | None = None,
    ) -> float:
        """One gradient step on one mini-batch of groups.

        Parameters
        ----------
        X : (n_rows, n_features) array
        labels : (n_rows,) array, grades or clicks
        groups : sequence of int, sizes of consecutive groups (empty groups are dropped)
        weights : (n_rows,) array, optional, weight of each row when preferred in a pair

        Returns
        -------
        float
            The mini-batch loss before the step.
        """
        return self._step(*self._checked(X, labels, groups, weights))

    def fit(
        self,
        X: np.ndarray,
        labels: np.ndarray,
        groups: Sequence[int] | np.ndarray,
        weights: np.ndarray | None = None,
        *,
        epochs: int = 20,
        batch_groups: int = 1,
    ) -> OnlineRanker:
        """Passes over logged groups, in a seeded random order, ``batch_groups`` per step.

        Continues from the current weights (call on a fresh ranker to train from scratch).
        """
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
        if isinstance(batch_groups, bool) or not isinstance(batch_groups, int) or batch_groups < 1:
            raise ValueError(f"batch_groups must be an int >= 1, got {batch_groups!r}")
        rows, labels, weights, indptr = self._checked(X, labels, groups, weights)
        n_groups = indptr.shape[0] - 1
        for _ in range(epochs):
            order = self._rng.permutation(n_groups)
            for first in range(0, n_groups, batch_groups):
                chosen = order[first : first + batch_groups]
                index = np.concatenate([np.arange(indptr[g], indptr[g + 1]) for g in chosen])
                sizes = indptr[chosen + 1] - indptr[chosen]
                sub_indptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
                self._step(rows[index], labels[index], weights[index], sub_indptr)
        logger.debug("fit: %d epochs over %d groups", epochs, n_groups)
        return self

    def update(
        self,
        X: np.ndarray,
        clicks: Sequence[float] | np.ndarray,
        positions: Sequence[int] | np.ndarray | None = None,
    ) -> float:
        """Learn from one impression: the rows shown for a query and which were clicked.

        Parameters
        ----------
        X : (n_shown, n_features) array
            The rows shown, in display order unless ``positions`` says otherwise.
        clicks : (n_shown,) array
            1 for a clicked row, 0 otherwise (graded actions or counts are accepted too).
        positions : (n_shown,) array of int, optional
            0-based display position of each row; by default the row order.

        Returns
        -------
        float
            The loss before the step.
        """
        rows = check_features(X, self.n_features)
        clicks = check_vector(clicks, rows.shape[0], "clicks", non_negative=True)
        if positions is None:
            positions = np.arange(rows.shape[0])
        positions = np.asarray(positions)
        if positions.shape != (rows.shape[0],) or (
            positions.size and not np.issubdtype(positions.dtype, np.integer)
        ):
            raise ValueError(f"positions must be {rows.shape[0]} integers, one per row")
        if positions.size and positions.min() < 0:
            raise ValueError("positions must be >= 0")
        if self.position_bias is None:
            weights = np.ones(rows.shape[0])
        else:
            weights = self.position_bias.weights(positions)
        indptr = np.array([0, rows.shape[0]], dtype=np.int64)
        return self._step(rows, clicks, weights, indptr, click_pairs=True)

    def feedback(
        self,
        candidates: CandidateFeatures,
        shown: Sequence[int] | np.ndarray,
        clicked: Sequence[int] | np.ndarray,
    ) -> float:
        """Learn from an impression given by doc ids: ``shown`` in display order, ``clicked``.

        Raises
        ------
        ValueError
            If a shown id is not among the candidates, a clicked id was not shown, or the
            candidates' schema differs from the model's.
        """
        if self.schema is not None:
            self.schema.check_compatible(candidates.schema)
        shown_ids = np.asarray(shown, dtype=np.int64)
        clicked_ids = np.asarray(clicked, dtype=np.int64)
        row_of = {int(doc_id): row for row, doc_id in enumerate(candidates.doc_ids)}
        unknown = [int(doc_id) for doc_id in shown_ids if int(doc_id) not in row_of]
        if unknown:
            raise ValueError(f"shown doc ids {unknown[:5]} are not among the candidates")
        not_shown = sorted(set(clicked_ids.tolist()) - set(shown_ids.tolist()))
        if not_shown:
            raise ValueError(f"clicked doc ids {not_shown[:5]} were not shown")
        rows = np.array([row_of[int(doc_id)] for doc_id in shown_ids], dtype=np.int64)
        clicks = np.isin(shown_ids, clicked_ids).astype(np.float64)
        return self.update(candidates.X[rows], clicks)

    # -- persistence -----------------------------------------------------------------------

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray | bytes]]:
        params = {
            "loss": self.loss,
            "learning_rate": self.learning_rate,
            "l2": self.l2,
            "sigma": self.sigma,
            "truncation": self.truncation,
            "optimizer": self.optimizer,
            "seed": self.seed,
            "n_updates": self.n_updates,
            "rng_state": self._rng.bit_generator.state,
            "max_weight": None if self.position_bias is None else self.position_bias.max_weight,
        }
        arrays: dict[str, np.ndarray | bytes] = {"w": self._w, "grad_sq": self._grad_sq}
        if self.position_bias is not None:
            arrays["propensities"] = self.position_bias.propensities
        return params, arrays

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, Any]) -> OnlineRanker:
        bias = None
        if "propensities" in arrays:
            bias = PositionBias(arrays["propensities"], max_weight=params["max_weight"])
        ranker = cls(
            int(params["n_features"]),
            loss=params["loss"],
            learning_rate=params["learning_rate"],
            l2=params["l2"],
            sigma=params["sigma"],
            truncation=int(params["truncation"]),
            optimizer=params["optimizer"],
            position_bias=bias,
            seed=params["seed"],
        )
        for name in ("w", "grad_sq"):
            if arrays[name].shape != (ranker.n_features,):
                raise RankerFormatError(
                    f"saved {name} has shape {arrays[name].shape}, not ({ranker.n_features},)"
                )
        ranker._w = arrays["w"].astype(np.float64)
        ranker._grad_sq = arrays["grad_sq"].astype(np.float64)
        ranker.n_updates = int(params["n_updates"])
        ranker._rng.bit_generator.state = params["rng_state"]
        return ranker
