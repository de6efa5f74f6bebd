"""Policies over retrieval strategies, propensity logging and off-policy evaluation."""

from __future__ import annotations

from ltrr_fast.bandit.ope import Estimate, doubly_robust, ips, snips
from ltrr_fast.bandit.policy import Decision, StrategyPolicy

__all__ = ["Decision", "Estimate", "StrategyPolicy", "doubly_robust", "ips", "snips"]
