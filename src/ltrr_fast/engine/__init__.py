"""The engine: retrieve, select, union and rank under latency budgets, learning from feedback."""

from __future__ import annotations

from ltrr_fast.engine.config import STRATEGY_NAMES, EngineConfig
from ltrr_fast.engine.core import Engine
from ltrr_fast.engine.results import Item, SearchResult, StrategyTrace, Trace

__all__ = [
    "STRATEGY_NAMES",
    "Engine",
    "EngineConfig",
    "Item",
    "SearchResult",
    "StrategyTrace",
    "Trace",
]
