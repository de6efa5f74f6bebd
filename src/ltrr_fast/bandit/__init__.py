"""Policies over retrieval strategies, propensity logging and off-policy evaluation."""

from __future__ import annotations

from ltrr_fast.bandit.features import ActionFeatures, ContextFeatures, UserSummary, query_kind
from ltrr_fast.bandit.ope import Estimate, doubly_robust, ips, snips
from ltrr_fast.bandit.policy import Decision, StrategyPolicy
from ltrr_fast.bandit.rewards import DEFAULT_GRADES, RewardConfig, strategy_rewards

__all__ = [
    "DEFAULT_GRADES",
    "ActionFeatures",
    "ContextFeatures",
    "Decision",
    "Estimate",
    "RewardConfig",
    "StrategyPolicy",
    "UserSummary",
    "doubly_robust",
    "ips",
    "query_kind",
    "snips",
    "strategy_rewards",
]
