"""Policies over retrieval strategies, propensity logging and off-policy evaluation."""

from __future__ import annotations

from ltrr_fast.bandit.ope import Estimate, doubly_robust, ips, snips

__all__ = ["Estimate", "doubly_robust", "ips", "snips"]
