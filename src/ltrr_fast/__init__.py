"""ltrr_fast: an in-process learning-to-rank-and-retrieve engine.

The stable entry point is :class:`ltrr_fast.Engine` (with :class:`ltrr_fast.EngineConfig`);
they are imported on first use, so ``import ltrr_fast`` stays light.
"""

from __future__ import annotations

import logging
from typing import Any

__version__ = "0.1.0"
__all__ = ["Engine", "EngineConfig", "SearchResult"]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ltrr_fast import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'ltrr_fast' has no attribute {name!r}")
