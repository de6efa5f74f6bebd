"""Ranking: candidate features, an online linear ranker learned from clicks, LambdaMART.

Every ranker implements :class:`Ranker` (fit, score, rank, save, load), so the engine can
swap them; :func:`load_ranker` reads any saved ranker.
"""

from __future__ import annotations

from ltrr_fast.ranking.base import Ranker, RankerFormatError, load_ranker
from ltrr_fast.ranking.features import (
    FEATURE_VERSION,
    CandidateFeatures,
    FeatureBuilder,
    FeatureSchema,
)
from ltrr_fast.ranking.lambdamart import LambdaMARTRanker, map_labels
from ltrr_fast.ranking.online import OnlineRanker
from ltrr_fast.ranking.propensity import PositionBias

__all__ = [
    "FEATURE_VERSION",
    "CandidateFeatures",
    "FeatureBuilder",
    "FeatureSchema",
    "LambdaMARTRanker",
    "OnlineRanker",
    "PositionBias",
    "Ranker",
    "RankerFormatError",
    "load_ranker",
    "map_labels",
]
