"""Candidate strategies, the bandit's arms: one module per strategy."""

from __future__ import annotations

from ltrr_fast.strategies.base import Candidates, Strategy, StrategyResult, run_strategy
from ltrr_fast.strategies.explore import ExploreStrategy
from ltrr_fast.strategies.fuzzy import FuzzyStrategy
from ltrr_fast.strategies.lexical import CatalogIndex, LexicalStrategy
from ltrr_fast.strategies.memory import MemoryFormatError, MemoryIndex, MemoryStrategy
from ltrr_fast.strategies.personal import PersonalStrategy
from ltrr_fast.strategies.popularity import PopularityStrategy
from ltrr_fast.strategies.related import RelatedStrategy
from ltrr_fast.strategies.semantic import SemanticStrategy
from ltrr_fast.strategies.structured import StructuredStrategy

__all__ = [
    "Candidates",
    "CatalogIndex",
    "ExploreStrategy",
    "FuzzyStrategy",
    "LexicalStrategy",
    "MemoryFormatError",
    "MemoryIndex",
    "MemoryStrategy",
    "PersonalStrategy",
    "PopularityStrategy",
    "RelatedStrategy",
    "SemanticStrategy",
    "Strategy",
    "StrategyResult",
    "StructuredStrategy",
    "run_strategy",
]
