"""Python faces of the compiled indexes."""

from __future__ import annotations

from ltrr_fast.index.lexical import (
    VARIANTS,
    BatchHits,
    BM25Params,
    Filter,
    Hits,
    IndexFormatError,
    LexicalIndex,
)
from ltrr_fast.index.vectors import VectorIndex

__all__ = [
    "VARIANTS",
    "BM25Params",
    "BatchHits",
    "Filter",
    "Hits",
    "IndexFormatError",
    "LexicalIndex",
    "VectorIndex",
]
