"""Keeping every index in line with the catalog after items are added, replaced or deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ltrr_fast.engine.core import Engine


def reindex(engine: Engine, doc_ids: np.ndarray) -> None:
    """Bring every index in line with the catalog for these doc ids."""
    live = engine.catalog.is_live(doc_ids)
    engine.parts["lexical_index"].refresh(doc_ids)
    fuzzy = engine.strategies.get("fuzzy")
    if fuzzy is not None:
        fuzzy.delete_items(doc_ids[~live])
        fuzzy.index_items(doc_ids[live])
    vectors, embedder = engine.parts.get("vectors"), engine.parts.get("embedder")
    if vectors is not None:
        vectors.delete_batch(doc_ids[~live])
        added = doc_ids[live]
        if added.size:
            columns = {n: engine.catalog.texts_of(n, added) for n in engine.catalog.text_fields}
            matrix = embedder.embed_fields(columns)
            known = np.any(matrix, axis=1)  # no known text: no direction to search by
            vectors.delete_batch(added[~known])
            if known.any():
                vectors.add_batch(added[known], np.ascontiguousarray(matrix[known]))
    for name in ("related", "semantic"):
        if name in engine.strategies:
            engine.strategies[name].refresh()
    engine._statics_slots = -1
