"""Assembling an engine's parts from a catalog: indexes, strategies, query understanding.

Which strategies a catalog supports: lexical, fuzzy, semantic, memory and explore need only
text; structured needs keyword attributes (to constrain by); popularity needs a static
score; related needs an ``album_id`` or ``artist_name`` attribute; personal needs users,
which any catalog may have; fuzzy needs a text field short enough to be typed (a title, a
name), since character n-grams of long texts make a slow and unfocused index. When the
configuration names no strategies, every supported one is built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ltrr_fast.engine.config import STRATEGY_NAMES, EngineConfig
from ltrr_fast.index.catalog import Catalog
from ltrr_fast.index.embedding import LSAEmbedder, embed_catalog
from ltrr_fast.index.vectors import VectorIndex
from ltrr_fast.strategies.explore import ExploreStrategy
from ltrr_fast.strategies.fuzzy import FuzzyStrategy
from ltrr_fast.strategies.lexical import CatalogIndex, LexicalStrategy
from ltrr_fast.strategies.memory import MemoryIndex, MemoryStrategy
from ltrr_fast.strategies.personal import PersonalStrategy
from ltrr_fast.strategies.popularity import PopularityStrategy
from ltrr_fast.strategies.related import DEFAULT_KEYS, RelatedStrategy
from ltrr_fast.strategies.semantic import SemanticStrategy
from ltrr_fast.strategies.structured import StructuredStrategy
from ltrr_fast.understanding import QueryUnderstanding
from ltrr_fast.understanding.predicted import QueryTemplate

logger = logging.getLogger(__name__)

#: Kind of source of each strategy, for the bandit's action features.
STRATEGY_KINDS: Mapping[str, str] = {
    "lexical": "lexical",
    "structured": "lexical",
    "fuzzy": "fuzzy",
    "semantic": "vector",
    "memory": "memory",
    "popularity": "popularity",
    "related": "graph",
    "explore": "explore",
    "personal": "vector",
}

#: A text field whose mean length is below this makes a plausible typed query.
SHORT_FIELD_CHARS = 60


@dataclass
class Parts:
    """Everything :class:`~ltrr_fast.engine.Engine` is made of, besides its learners."""

    catalog: Catalog
    strategies: dict[str, Any]
    understanding: QueryUnderstanding
    lexical_index: CatalogIndex
    embedder: LSAEmbedder | None
    vectors: VectorIndex | None
    memory: MemoryIndex | None
    explore: ExploreStrategy | None
    personal: PersonalStrategy | None


def supported_strategies(catalog: Catalog) -> tuple[str, ...]:
    """The strategies a catalog can feed, in :data:`STRATEGY_NAMES` order."""
    names = ["lexical", "semantic", "memory", "explore", "personal"]
    if short_fields(catalog):
        names.append("fuzzy")  # n-grams of long texts make a slow, unfocused index
    if catalog.attribute_keys:
        names.append("structured")
    if catalog.static_names:
        names.append("popularity")
    if set(DEFAULT_KEYS) & set(catalog.attribute_keys):
        names.append("related")
    return tuple(n for n in STRATEGY_NAMES if n in names)


def short_fields(catalog: Catalog) -> tuple[str, ...]:
    """Text fields short enough to be typed as a query (mean length of 1 to 60 characters)."""
    live = np.flatnonzero(catalog.live_mask())[:2000]
    short = []
    for name in catalog.text_fields:
        texts = [catalog.text(name, int(i)) for i in live]
        mean = np.mean([len(t) for t in texts]) if texts else 0.0
        if 1.0 <= mean < SHORT_FIELD_CHARS:
            short.append(name)
    return tuple(short)


def default_templates(catalog: Catalog) -> tuple[QueryTemplate, ...]:
    """Predicted queries for the memory's cold start: the catalog's short text fields.

    The first short field (a title) is predicted at rate 0.3, the next ones at 0.15, and each
    pair of the first three short fields, joined, at 0.4 (e.g. artist plus title).
    """
    short = short_fields(catalog)
    templates = [QueryTemplate(f"{{{n}}}", 0.3 if i == 0 else 0.15) for i, n in enumerate(short)]
    for i, first in enumerate(short[:3]):
        for second in short[i + 1 : 3]:
            templates.append(QueryTemplate(f"{{{second}}} {{{first}}}", 0.4))
    return tuple(templates)


def build_parts(
    catalog: Catalog,
    config: EngineConfig,
    *,
    templates: Sequence[QueryTemplate] | None = None,
    slot_fields: Sequence[str] | None = None,
    separators: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
    preloaded: Mapping[str, Any] | None = None,
) -> Parts:
    """Build indexes and strategies for a catalog as the configuration asks.

    ``preloaded`` may hold a fitted ``embedder`` with its ``vectors`` and a ``memory``
    restored from disk; they are used instead of being built.
    """
    preloaded = dict(preloaded or {})
    say = progress or (lambda step: None)
    supported = supported_strategies(catalog)
    wanted = config.strategies or supported
    missing = sorted(set(wanted) - set(supported))
    if missing:
        raise ValueError(
            f"strategies {missing} need what this catalog lacks (attributes, a static score "
            f"or album_id/artist_name); it supports {list(supported)}"
        )
    say("lexical index")
    index = CatalogIndex(catalog)
    say("query understanding")
    if slot_fields is None:
        slot_fields = tuple(catalog.attribute_keys)
    understanding = (
        QueryUnderstanding.from_catalog(catalog, slot_fields, separators=separators)
        if slot_fields
        else QueryUnderstanding.from_catalog(catalog, ())
    )

    embedder, vectors = preloaded.get("embedder"), preloaded.get("vectors")
    vector_strategies = {"semantic", "explore", "personal"} & set(wanted)
    if embedder is None and vector_strategies:
        say("embeddings")
        try:
            embedder = LSAEmbedder(config.vector_dim, seed=config.seed).fit(
                {name: catalog.texts(name) for name in catalog.text_fields}
            )
        except ValueError as error:
            if config.strategies is not None:
                raise ValueError(
                    f"strategies {sorted(vector_strategies)} need embeddings, and none could "
                    f"be fitted on this catalog: {error}"
                ) from None
            # Too little text to embed (a handful of items): build without them.
            logger.warning("no embeddings (%s); building without %s", error, vector_strategies)
            wanted = tuple(n for n in wanted if n not in vector_strategies)
        else:
            doc_ids, matrix = embed_catalog(catalog, embedder)
            vectors = VectorIndex(embedder.dim)
            vectors.add_batch(doc_ids, matrix)

    strategies: dict[str, Any] = {}
    memory = explore = personal = None
    for name in wanted:
        say(f"strategy {name}")
        if name == "lexical":
            strategies[name] = LexicalStrategy(index)
        elif name == "structured":
            strategies[name] = StructuredStrategy(index)
        elif name == "fuzzy":
            fields = config.fuzzy_fields or short_fields(catalog)[:2] or _first_filled(catalog)
            strategies[name] = FuzzyStrategy(catalog, fields)
        elif name == "semantic":
            strategies[name] = SemanticStrategy(vectors, embedder, catalog=catalog)
        elif name == "memory":
            memory = preloaded.get("memory") or MemoryIndex.from_catalog(
                catalog, tuple(templates) if templates is not None else default_templates(catalog)
            )
            strategies[name] = MemoryStrategy(memory)
        elif name == "popularity":
            category = [k for k in understanding.category_fields if k in catalog.attribute_keys]
            strategies[name] = PopularityStrategy(index, category)
        elif name == "related":
            keys = {k: w for k, w in DEFAULT_KEYS.items() if k in catalog.attribute_keys}
            strategies[name] = RelatedStrategy(index, keys)
        elif name == "explore":
            # A neighbourhood of three times the quota keeps the vector search cheap when the
            # engine asks for the whole budget.
            explore = ExploreStrategy(vectors, embedder, catalog=catalog, pool=3, seed=config.seed)
            strategies[name] = explore
        elif name == "personal":
            personal = PersonalStrategy(vectors)
            strategies[name] = personal
    return Parts(
        catalog=catalog,
        strategies=strategies,
        understanding=understanding,
        lexical_index=index,
        embedder=embedder,
        vectors=vectors,
        memory=memory,
        explore=explore,
        personal=personal,
    )


def _first_filled(catalog: Catalog) -> tuple[str, ...]:
    """The first text field that holds any text (long fields make a slow fuzzy index)."""
    live = np.flatnonzero(catalog.live_mask())[:2000]
    for name in catalog.text_fields:
        if any(catalog.text(name, int(i)) for i in live):
            return (name,)
    return catalog.text_fields[:1]
