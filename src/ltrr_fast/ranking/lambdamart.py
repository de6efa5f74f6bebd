"""LambdaMART trained offline from logged rows, through LightGBM (the optional ``ltr`` extra).

LightGBM's lambdarank objective takes integer labels below the length of its ``label_gain``
table (31 by default, so 0..30) and fails deep inside on anything else. Graded actions
(dwell buckets, purchase counts, raw click counts) are mapped here first, by
``label_transform``:

- ``"none"``: labels must already be integers in ``[0, max_label]``; others get a
  ``ValueError`` naming the transforms below;
- ``"clip"``: ``min(floor(label), max_label)``;
- ``"log2"``: ``min(floor(log2(1 + label)), max_label)``, for counts (72 becomes 6);
- ``"dense"``: the rank of each distinct label value (0 for the smallest), which keeps the
  order of the grades and nothing of their spacing.

Groups of size 0 are dropped before training; groups of one row, or whose rows share one
label, have no pair to learn from and train without error. Scores tie only between rows
LightGBM cannot tell apart; :meth:`Ranker.rank` breaks ties by row order.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from ltrr_fast.ranking._checks import check_features, check_groups, check_vector
from ltrr_fast.ranking.base import Ranker, RankerFormatError
from ltrr_fast.ranking.features import FeatureSchema

logger = logging.getLogger(__name__)

LABEL_TRANSFORMS = ("none", "clip", "log2", "dense")

#: Parameters of LightGBM's lambdarank example (examples/lambdarank/train.conf), and
#: determinism switched on.
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "learning_rate": 0.1,
    "num_leaves": 31,
    "max_bin": 255,
    "feature_fraction": 1.0,
    "bagging_freq": 1,
    "bagging_fraction": 0.9,
    "min_data_in_leaf": 50,
    "min_sum_hessian_in_leaf": 5.0,
    "deterministic": True,
    "seed": 0,
    "num_threads": 1,
    "verbose": -1,
}


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as error:
        raise ImportError(
            "LambdaMARTRanker needs LightGBM: pip install 'ltrr-fast[ltr]' (or lightgbm>=4)"
        ) from error
    return lightgbm


def map_labels(labels: np.ndarray, transform: str, max_label: int) -> np.ndarray:
    """Map graded labels into LightGBM's lambdarank range ``[0, max_label]`` (int32).

    Raises
    ------
    ValueError
        On an unknown transform, negative labels, or (``"none"``) labels that are not
        integers in range, or (``"dense"``) more than ``max_label + 1`` distinct values.
    """
    if transform not in LABEL_TRANSFORMS:
        raise ValueError(
            f"label_transform must be one of {list(LABEL_TRANSFORMS)}, got {transform!r}"
        )
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be >= 0 for lambdarank, got minimum {labels.min()}")
    if transform == "none":
        integral = (labels == np.floor(labels)).all()
        if not integral or (labels.size and labels.max() > max_label):
            raise ValueError(
                f"lambdarank labels must be integers in [0, {max_label}] (one per entry of "
                f"LightGBM's label_gain), got values up to {labels.max()}"
                f"{'' if integral else ' that are not whole'}; pass label_transform='log2' "
                "(for counts), 'clip' or 'dense' to map graded actions into that range"
            )
        return labels.astype(np.int32)
    if transform == "clip":
        return np.minimum(np.floor(labels), max_label).astype(np.int32)
    if transform == "log2":
        return np.minimum(np.floor(np.log2(1.0 + labels)), max_label).astype(np.int32)
    values, dense = np.unique(labels, return_inverse=True)
    if values.size > max_label + 1:
        raise ValueError(
            f"label_transform='dense' found {values.size} distinct labels, more than the "
            f"{max_label + 1} grades lambdarank supports; use 'log2' or 'clip'"
        )
    return dense.astype(np.int32)


class LambdaMARTRanker(Ranker):
    """Gradient-boosted trees with the LambdaRank objective (LightGBM).

    Parameters
    ----------
    n_features : int
        Width of the feature rows.
    params : mapping, optional
        LightGBM parameters, laid over :data:`DEFAULT_PARAMS`.
    num_boost_round : int, default 100
        Number of trees.
    label_transform : {"none", "clip", "log2", "dense"}, default "none"
        How labels are mapped into the supported range (see the module docstring).
    schema : FeatureSchema, optional
        The feature layout the rows follow.
    """

    kind = "lambdamart"

    def __init__(
        self,
        n_features: int,
        *,
        params: Mapping[str, Any] | None = None,
        num_boost_round: int = 100,
        label_transform: str = "none",
        schema: FeatureSchema | None = None,
    ) -> None:
        super().__init__(n_features, schema)
        if label_transform not in LABEL_TRANSFORMS:
            raise ValueError(
                f"label_transform must be one of {list(LABEL_TRANSFORMS)}, got {label_transform!r}"
            )
        if (
            isinstance(num_boost_round, bool)
            or not isinstance(num_boost_round, int)
            or (num_boost_round < 1)
        ):
            raise ValueError(f"num_boost_round must be an int >= 1, got {num_boost_round!r}")
        self.params = {**DEFAULT_PARAMS, **dict(params or {})}
        if self.params.get("objective") not in ("lambdarank", "rank_xendcg"):
            raise ValueError(
                "objective must be 'lambdarank' or 'rank_xendcg', "
                f"got {self.params['objective']!r}"
            )
        self.num_boost_round = num_boost_round
        self.label_transform = label_transform
        self.booster: Any = None

    def __repr__(self) -> str:
        trained = "untrained" if self.booster is None else f"{self.booster.num_trees()} trees"
        return f"LambdaMARTRanker(n_features={self.n_features}, {trained})"

    @property
    def max_label(self) -> int:
        """Largest label LightGBM accepts with these parameters."""
        gains = self.params.get("label_gain")
        return 30 if gains is None else len(gains) - 1

    def fit(
        self,
        X: np.ndarray,
        labels: np.ndarray,
        groups: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> LambdaMARTRanker:
        """Train a new model on labelled groups of rows (replacing any previous model).

        Every input is checked before LightGBM is called; on error the old model stays.

        Raises
        ------
        ValueError
            On non-finite or mis-shaped rows, labels out of range under ``label_transform``,
            group sizes that do not add up, or no rows at all.
        RuntimeError
            If LightGBM itself fails (e.g. parameters it rejects); the message carries its own.
        """
        lightgbm = _lightgbm()
        rows = check_features(X, self.n_features)
        raw_labels = check_vector(labels, rows.shape[0], "labels", non_negative=False)
        sizes, _ = check_groups(groups, rows.shape[0])
        if sizes.size == 0:
            raise ValueError("no rows to train on: every group is empty")
        mapped = map_labels(raw_labels, self.label_transform, self.max_label)
        row_weights = None
        if weights is not None:
            row_weights = check_vector(weights, rows.shape[0], "weights", non_negative=True)

        dataset = lightgbm.Dataset(rows, label=mapped, group=sizes, weight=row_weights)
        try:
            booster = lightgbm.train(self.params, dataset, num_boost_round=self.num_boost_round)
        except lightgbm.basic.LightGBMError as error:
            raise RuntimeError(
                f"LightGBM failed to train with parameters {self.params}: {error}"
            ) from error
        self.booster = booster
        logger.debug("LambdaMART: %d trees on %d groups", booster.num_trees(), sizes.size)
        return self

    def _raw_scores(self, X: np.ndarray) -> np.ndarray:
        if self.booster is None:
            raise RuntimeError("LambdaMARTRanker.fit (or load) must come before scoring")
        threads = int(self.params.get("num_threads", 0))
        return np.asarray(self.booster.predict(X, num_threads=threads), dtype=np.float64)

    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray | bytes]]:
        if self.booster is None:
            raise RuntimeError("nothing to save: the LambdaMART model is not trained")
        params = {
            "params": self.params,
            "num_boost_round": self.num_boost_round,
            "label_transform": self.label_transform,
        }
        return params, {"model": self.booster.model_to_string().encode("utf-8")}

    @classmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, Any]) -> LambdaMARTRanker:
        lightgbm = _lightgbm()
        ranker = cls(
            int(params["n_features"]),
            params=params["params"],
            num_boost_round=int(params["num_boost_round"]),
            label_transform=params["label_transform"],
        )
        try:
            ranker.booster = lightgbm.Booster(model_str=arrays["model"].decode("utf-8"))
        except (lightgbm.basic.LightGBMError, UnicodeDecodeError, KeyError) as error:
            raise RankerFormatError(f"corrupt LightGBM model in ranker file ({error})") from error
        return ranker
