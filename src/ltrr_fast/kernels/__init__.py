"""Numba kernels: arrays in, arrays out, compiled once and cached, free of the GIL."""

from __future__ import annotations

from ltrr_fast.kernels.hybrid import hybrid_scores, hybrid_update
from ltrr_fast.kernels.linucb import (
    linear_ts_scores,
    linucb_fit_batch,
    linucb_scores,
    linucb_scores_parallel,
    linucb_theta,
    linucb_update,
    linucb_update_batch,
    refactor_inverses,
)

__all__ = [
    "hybrid_scores",
    "hybrid_update",
    "linear_ts_scores",
    "linucb_fit_batch",
    "linucb_scores",
    "linucb_scores_parallel",
    "linucb_theta",
    "linucb_update",
    "linucb_update_batch",
    "refactor_inverses",
]
