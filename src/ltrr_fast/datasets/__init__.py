"""Loaders for the real test collections kept outside the repository."""

from __future__ import annotations

from ltrr_fast.datasets.ir import IR_COLLECTIONS, IRCollection, data_root, load_ir
from ltrr_fast.datasets.music import MusicCatalog, load_spotify

__all__ = [
    "IR_COLLECTIONS",
    "IRCollection",
    "MusicCatalog",
    "data_root",
    "load_ir",
    "load_spotify",
]
