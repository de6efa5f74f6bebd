"""Queries predicted from item fields: the cold start of the query-to-item memory.

Before anyone has searched, the queries that should reach an item can be guessed from its
fields: its title, its artist, the artist and the title together, its album, its genre followed
by "songs". A :class:`QueryTemplate` spells one such guess with ``{name}`` placeholders and
gives its predicted action rate; :func:`predict_queries` applies templates to every live item of
a catalog, normalising each query exactly as query understanding normalises typed queries.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ltrr_fast.index.catalog import Catalog
from ltrr_fast.understanding.normalize import normalize

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: Most queries one template makes of one item whose placeholders hold several values.
MAX_COMBINATIONS = 16


@dataclass(frozen=True)
class QueryTemplate:
    """A query users are predicted to type for an item.

    Attributes
    ----------
    pattern : str
        Text with ``{name}`` placeholders naming text fields or attribute keys, e.g.
        ``"{artist} {title}"`` or ``"{genre} songs"``. An attribute with several values gives
        one query per value; an item with an empty placeholder gives no query.
    score : float
        Predicted action rate of the query's most popular item, in (0, 1).
    """

    pattern: str
    score: float

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, str) or not _PLACEHOLDER.search(self.pattern):
            raise ValueError(
                f"pattern needs at least one {{name}} placeholder, got {self.pattern!r}"
            )
        if isinstance(self.score, bool) or not 0.0 < float(self.score) < 1.0:
            raise ValueError(f"score must lie in (0, 1), got {self.score!r}")


#: Templates for the music catalog of :func:`ltrr_fast.datasets.music.music_records`.
MUSIC_TEMPLATES: tuple[QueryTemplate, ...] = (
    QueryTemplate("{artist} {title}", 0.5),
    QueryTemplate("{title} {artist}", 0.4),
    QueryTemplate("{title}", 0.3),
    QueryTemplate("{artist}", 0.15),
    QueryTemplate("{album}", 0.1),
    QueryTemplate("{genre} songs", 0.05),
    QueryTemplate("{subgenre}", 0.05),
)


def predict_queries(
    catalog: Catalog, templates: Sequence[QueryTemplate], popularity: str | None = ""
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Predicted (query, item, rate) triples for every live item of a catalog.

    The predicted rate of a query for an item is
    ``template.score * (0.5 + 0.5 * popularity / max popularity)``, so of two items the same
    template reaches, the more popular is predicted to draw more actions.

    Parameters
    ----------
    catalog : Catalog
        The items.
    templates : sequence of QueryTemplate
        The queries to predict per item.
    popularity : str or None
        Static score scaling the rates; the catalog's first by default, None for none.

    Returns
    -------
    queries : list of str
        Distinct normalised queries.
    query_ids : numpy.ndarray of int64
        Per triple, the position of its query in ``queries``.
    doc_ids : numpy.ndarray of int64
        Per triple, the item's doc id.
    rates : numpy.ndarray of float64
        Per triple, the predicted rate. A (query, item) pair may repeat when two templates
        make the same query.
    """
    if not isinstance(catalog, Catalog):
        raise TypeError(f"catalog must be a Catalog, got {type(catalog).__name__}")
    if isinstance(templates, QueryTemplate) or not isinstance(templates, Sequence):
        raise TypeError("templates must be a sequence of QueryTemplate")
    live = np.flatnonzero(catalog.live_mask())
    if popularity == "":
        popularity = catalog.static_names[0] if catalog.static_names else None
    scale = np.ones(catalog.n_slots, dtype=np.float64)
    if popularity is not None:
        pop = np.maximum(catalog.static(popularity).astype(np.float64), 0.0)
        top = pop[live].max() if live.size else 0.0
        scale = 0.5 + 0.5 * (pop / top if top > 0 else pop)
    columns: dict[str, list[tuple[str, ...]]] = {}
    ids: dict[str, int] = {}
    query_ids: list[int] = []
    doc_ids: list[int] = []
    rates: list[float] = []
    for template in templates:
        if not isinstance(template, QueryTemplate):
            raise TypeError(f"templates must hold QueryTemplate, got {type(template).__name__}")
        pieces = _PLACEHOLDER.split(template.pattern)  # literal, name, literal, name, ...
        names = pieces[1::2]
        for name in names:
            if name not in columns:
                columns[name] = _normalised_column(catalog, name)
        literals = [normalize(text) for text in pieces[0::2]]
        for i in live.tolist():
            values = [columns[name][i] for name in names]
            if not all(values):
                continue
            for combo in itertools.islice(itertools.product(*values), MAX_COMBINATIONS):
                words = [literals[0]]
                for value, literal in zip(combo, literals[1:]):
                    words += [value, literal]
                query = " ".join(w for w in words if w)
                query_ids.append(ids.setdefault(query, len(ids)))
                doc_ids.append(i)
                rates.append(template.score * scale[i])
    return (
        list(ids),
        np.asarray(query_ids, dtype=np.int64),
        np.asarray(doc_ids, dtype=np.int64),
        np.asarray(rates, dtype=np.float64),
    )


def _normalised_column(catalog: Catalog, name: str) -> list[tuple[str, ...]]:
    """Per doc id, the normalised non-empty values of a text field or an attribute."""
    if name in catalog.text_fields:
        return [(n,) if n else () for n in map(normalize, catalog.texts(name))]
    if name in catalog.attribute_keys:
        cache: dict[str, str] = {}
        out = []
        for values in catalog.attributes(name):
            normed = (
                cache[v] if v in cache else cache.setdefault(v, normalize(v)) for v in values
            )
            out.append(tuple(n for n in normed if n))
        return out
    raise ValueError(
        f"template placeholder {{{name}}} names no text field or attribute; text fields: "
        f"{list(catalog.text_fields)}, attributes: {list(catalog.attribute_keys)}"
    )
