"""Offline evaluation of rankings against relevance judgements."""

from __future__ import annotations

from ltrr_fast.evaluation.metrics import (
    MetricResult,
    average_precision,
    mrr,
    ndcg_at_k,
    recall_at_k,
)

__all__ = ["MetricResult", "average_precision", "mrr", "ndcg_at_k", "recall_at_k"]
