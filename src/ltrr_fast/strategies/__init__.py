"""Candidate strategies, the bandit's arms: one module per strategy."""

from __future__ import annotations

from ltrr_fast.strategies.base import Candidates, Strategy, StrategyResult, run_strategy

__all__ = ["Candidates", "Strategy", "StrategyResult", "run_strategy"]
