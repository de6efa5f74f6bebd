"""Numba kernels: arrays in, arrays out, compiled once and cached, free of the GIL."""

from __future__ import annotations

from ltrr_fast.kernels.linucb import (
    linear_ts_scores,
    linucb_scores,
    linucb_scores_parallel,
    linucb_theta,
    linucb_update,
    linucb_update_batch,
    refactor_inverses,
)

__all__ = [
    "linear_ts_scores",
    "linucb_scores",
    "linucb_scores_parallel",
    "linucb_theta",
    "linucb_update",
    "linucb_update_batch",
    "refactor_inverses",
]
