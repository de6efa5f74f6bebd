"""Candidate features: one float32 row per (query, context, candidate), the same for training
and serving.

A :class:`FeatureBuilder` is configured once with the names of what it will be given
(strategies, BM25 fields, static scores, query features, intents, fields to match the query
against, extra columns); its :class:`FeatureSchema` lists every column name and the layout
version. :meth:`FeatureBuilder.build` takes plain arrays for one query and returns the union of
the candidates with their feature matrix.

Columns, in order (``{s}`` a strategy, ``{f}`` a field, ``{n}`` a name):

===============================  ==============================================================
``strategy.{s}.found``           1 when strategy ``s`` returned the candidate, else 0
``strategy.{s}.score``           its score from ``s`` (0 when not found)
``strategy.{s}.reciprocal_rank`` ``1 / rank`` in ``s``'s list, rank from 1 (0 when not found)
``strategy.n_found``             how many strategies returned the candidate
``bm25.{f}``                     BM25 of the query against field ``f`` (0 when not given)
``vector.similarity``            similarity of query and candidate embeddings (0 if missing)
``vector.found``                 1 when a similarity was given for the candidate
``memory.score``                 score of the memory of past actions (0 when not given)
``static.{n}``                   a static score (popularity, recency, ...)
``query.n_terms``, ``n_chars``   whitespace-separated terms and characters of the query
``query.{n}``                    a query feature (e.g. slots matched), the same on every row
``query.intent.{n}``             one-hot of the query's intent
``match.{f}.exact``              1 when the normalised query equals the normalised field
``match.{f}.similarity``         ``1 - levenshtein / longer length`` of query and field
``match.best_similarity``        the largest ``match.{f}.similarity`` over the fields
``match.best_distance``          the Levenshtein distance of that best field
``extra.{n}``                    a caller-defined column
===============================  ==============================================================

A per-candidate input (BM25, vector, memory, static, extra) may be given as any of:

- a pair ``(doc_ids, values)``: values for those ids, 0 for candidates not listed (ids not
  among the candidates are ignored);
- a 1-D array indexed by doc id (a catalog column); a candidate id past its end is an error;
- a callable taking the candidates' doc ids and returning one value per candidate.

Extending: add a name to the builder's configuration (a strategy, a static score, an
``extra`` column) and the schema grows by the matching columns; bump :data:`FEATURE_VERSION`
only when the meaning or order of existing columns changes. A model records the schema it was
trained with and refuses rows built with another (:meth:`FeatureSchema.check_compatible`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ltrr_fast.ranking.match import match_arrays

logger = logging.getLogger(__name__)

#: Version of the column layout produced by :class:`FeatureBuilder`.
FEATURE_VERSION = 1

ColumnSource = (
    tuple[Sequence[int] | np.ndarray, Sequence[float] | np.ndarray]
    | np.ndarray
    | Callable[[np.ndarray], Any]
)


@dataclass(frozen=True)
class FeatureSchema:
    """Names of the feature columns, in order, and the layout version.

    Attributes
    ----------
    names : tuple of str
        One name per column.
    version : int
        Layout version (:data:`FEATURE_VERSION` for schemas made by this release).
    """

    names: tuple[str, ...]
    version: int = FEATURE_VERSION

    def __post_init__(self) -> None:
        if len(set(self.names)) != len(self.names):
            raise ValueError("feature names must be unique")

    @property
    def n_features(self) -> int:
        """Number of columns."""
        return len(self.names)

    def index(self, name: str) -> int:
        """Column of the feature ``name``."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no feature named {name!r} in this schema") from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"names": list(self.names), "version": self.version}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSchema:
        """Inverse of :meth:`to_dict`."""
        return cls(names=tuple(data["names"]), version=int(data["version"]))

    def check_compatible(self, other: FeatureSchema) -> None:
        """Raise ``ValueError`` unless ``other`` has the same version and columns."""
        if self.version != other.version:
            raise ValueError(
                f"feature layout version {other.version} does not match the model's "
                f"{self.version}; retrain the model or build rows with the matching layout"
            )
        if self.names != other.names:
            missing = [name for name in self.names if name not in other.names]
            added = [name for name in other.names if name not in self.names]
            raise ValueError(
                "feature columns differ from the model's: "
                f"missing {missing[:5]}, unexpected {added[:5]} (order matters too)"
            )


@dataclass
class CandidateFeatures:
    """Candidates of one query and their features.

    Attributes
    ----------
    doc_ids : (n_candidates,) uint32
        The union of the strategies' candidates, in order of first appearance (strategies in
        the builder's order, each in rank order).
    X : (n_candidates, n_features) float32
    schema : FeatureSchema
    """

    doc_ids: np.ndarray
    X: np.ndarray
    schema: FeatureSchema

    def __len__(self) -> int:
        return int(self.doc_ids.shape[0])


def _names(values: Sequence[str], what: str) -> tuple[str, ...]:
    names = tuple(values)
    for name in names:
        if not isinstance(name, str) or not name:
            raise TypeError(f"{what} names must be non-empty strings, got {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"{what} names must be unique, got {list(names)}")
    return names


def _doc_ids(values: object, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{what}: doc ids must be 1-D, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{what}: doc ids must be integers (internal ids), got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > np.iinfo(np.uint32).max):
        raise ValueError(f"{what}: doc ids must lie in [0, 2^32), got [{arr.min()}, {arr.max()}]")
    return arr.astype(np.uint32)


def _values(values: object, n: int, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{what}: expected {n} values, one per doc id, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what}: values must be finite, got NaN or infinite values")
    return arr


class FeatureBuilder:
    """Builds the feature matrix of a query's candidates (see the module docstring).

    Parameters
    ----------
    strategies : sequence of str
        Strategy names, in the order their columns appear.
    bm25_fields : sequence of str, default ()
        Fields whose per-field BM25 score is given to :meth:`build`.
    vector : bool, default False
        Whether a vector similarity is given.
    memory : bool, default False
        Whether a memory-index score is given.
    static : sequence of str, default ()
        Static score names (e.g. ``("popularity", "recency")``).
    query_features : sequence of str, default ()
        Names of query-level features given to :meth:`build` (e.g. ``("slots_matched",)``).
    intents : sequence of str, default ()
        Possible query intents, one-hot encoded.
    match_fields : sequence of str, default ()
        Fields whose text is compared with the query text (exact match, edit distance).
    extra : sequence of str, default ()
        Names of caller-defined columns.
    """

    def __init__(
        self,
        strategies: Sequence[str],
        *,
        bm25_fields: Sequence[str] = (),
        vector: bool = False,
        memory: bool = False,
        static: Sequence[str] = (),
        query_features: Sequence[str] = (),
        intents: Sequence[str] = (),
        match_fields: Sequence[str] = (),
        extra: Sequence[str] = (),
    ) -> None:
        self.strategies = _names(strategies, "strategy")
        self.bm25_fields = _names(bm25_fields, "BM25 field")
        self.vector = bool(vector)
        self.memory = bool(memory)
        self.static = _names(static, "static score")
        self.query_features = _names(query_features, "query feature")
        self.intents = _names(intents, "intent")
        self.match_fields = _names(match_fields, "match field")
        self.extra = _names(extra, "extra feature")
        if not self.strategies:
            raise ValueError("a feature builder needs at least one strategy name")

        names: list[str] = []
        for strategy in self.strategies:
            names += [f"strategy.{strategy}.{part}" for part in ("found", "score")]
            names.append(f"strategy.{strategy}.reciprocal_rank")
        names.append("strategy.n_found")
        names += [f"bm25.{field}" for field in self.bm25_fields]
        names += ["vector.similarity", "vector.found"] if self.vector else []
        names += ["memory.score"] if self.memory else []
        names += [f"static.{name}" for name in self.static]
        names += ["query.n_terms", "query.n_chars"]
        names += [f"query.{name}" for name in self.query_features]
        names += [f"query.intent.{name}" for name in self.intents]
        for field in self.match_fields:
            names += [f"match.{field}.exact", f"match.{field}.similarity"]
        if self.match_fields:
            names += ["match.best_similarity", "match.best_distance"]
        names += [f"extra.{name}" for name in self.extra]
        self.schema = FeatureSchema(names=tuple(names))

    def __repr__(self) -> str:
        return f"FeatureBuilder(strategies={self.strategies}, n_features={self.n_features})"

    @property
    def n_features(self) -> int:
        """Width of the rows built."""
        return self.schema.n_features

    def build(
        self,
        strategy_results: Mapping[str, tuple[Sequence[int] | np.ndarray, Sequence[float]]],
        *,
        query_text: str = "",
        bm25: Mapping[str, ColumnSource] | None = None,
        vector: ColumnSource | None = None,
        memory: ColumnSource | None = None,
        static: Mapping[str, ColumnSource] | None = None,
        query_features: Mapping[str, float] | None = None,
        intent: str | None = None,
        field_text: Mapping[str, Sequence[str]] | Callable[[np.ndarray], Any] | None = None,
        extra: Mapping[str, ColumnSource] | None = None,
        candidates: Sequence[int] | np.ndarray | None = None,
    ) -> CandidateFeatures:
        """Union the strategies' candidates and build their features.

        Parameters
        ----------
        strategy_results : mapping of str to (doc_ids, scores)
            Per strategy that ran, its candidates in rank order and their scores. A configured
            strategy may be missing (it did not run); an unknown name is an error.
        query_text : str
            The query as typed, for query-length and match features.
        bm25, static, extra : mapping of str to column source
            One entry per configured name (see the module docstring for column sources).
        vector, memory : column source
            Required when the builder was configured with them.
        query_features : mapping of str to float
            One value per configured query feature.
        intent : str, optional
            The query's intent, one of the configured ones, or None.
        field_text : mapping of str to sequence of str, or callable
            Text of each match field, either a catalog column indexed by doc id, or a callable
            taking the candidates' doc ids and returning ``{field: texts}``.
        candidates : array of int, optional
            The rows to build, in this order, instead of the union of the strategies' lists
            (e.g. when replaying logged candidates); strategy results for other ids are
            ignored.

        Returns
        -------
        CandidateFeatures

        Raises
        ------
        ValueError, TypeError
            On an unknown name, a missing required input, ids out of a catalog column's range,
            mismatched lengths, duplicate ids in one strategy's list, or non-finite values.
        """
        for given, configured, what in (
            (bm25, self.bm25_fields, "bm25"),
            (static, self.static, "static"),
            (extra, self.extra, "extra"),
        ):
            unknown = sorted(set(given or {}) - set(configured))
            if unknown:
                raise ValueError(
                    f"{what}: unknown names {unknown}; the builder knows {list(configured)}"
                )
        results = self._strategy_arrays(strategy_results)
        if candidates is not None:
            doc_ids = _doc_ids(candidates, "candidates")
            if np.unique(doc_ids).shape[0] != doc_ids.shape[0]:
                raise ValueError("candidates: doc ids must be unique")
        else:
            doc_ids = _union([ids for ids, _ in results.values()])

        n = doc_ids.shape[0]
        X = np.zeros((n, self.n_features), dtype=np.float32)
        sorted_ids = np.sort(doc_ids)
        position_of_sorted = np.argsort(doc_ids, kind="stable")
        col = 0

        n_found = np.zeros(n)
        for strategy in self.strategies:
            if strategy in results:
                ids, scores = results[strategy]
                rows, keep = _locate(sorted_ids, position_of_sorted, ids)
                ranks = np.flatnonzero(keep) + 1.0
                X[rows, col] = 1.0
                X[rows, col + 1] = scores[keep]
                X[rows, col + 2] = 1.0 / ranks
                n_found[rows] += 1.0
            col += 3
        X[:, col] = n_found
        col += 1

        for field in self.bm25_fields:
            X[:, col] = self._column(_entry(bm25, field, "bm25"), doc_ids, f"bm25[{field!r}]")
            col += 1
        if self.vector:
            present = np.zeros(n)
            X[:, col] = self._column(_required(vector, "vector"), doc_ids, "vector", present)
            X[:, col + 1] = present
            col += 2
        if self.memory:
            X[:, col] = self._column(_required(memory, "memory"), doc_ids, "memory")
            col += 1
        for name in self.static:
            X[:, col] = self._column(_entry(static, name, "static"), doc_ids, f"static[{name!r}]")
            col += 1

        X[:, col] = len(query_text.split())
        X[:, col + 1] = len(query_text)
        col += 2
        col = self._query_columns(X, col, query_features, intent)
        col = self._match_columns(X, col, query_text, field_text, doc_ids)
        for name in self.extra:
            X[:, col] = self._column(_entry(extra, name, "extra"), doc_ids, f"extra[{name!r}]")
            col += 1

        if not np.isfinite(X).all():
            raise ValueError("a feature value overflowed float32; rescale the inputs")
        return CandidateFeatures(doc_ids=doc_ids, X=X, schema=self.schema)

    # -- pieces of build -------------------------------------------------------------------

    def _strategy_arrays(
        self, strategy_results: Mapping[str, Any]
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        unknown = sorted(set(strategy_results) - set(self.strategies))
        if unknown:
            raise ValueError(
                f"unknown strategies {unknown}; the builder knows {list(self.strategies)}"
            )
        out = {}
        for strategy in self.strategies:
            if strategy not in strategy_results:
                continue
            ids, scores = strategy_results[strategy]
            ids = _doc_ids(ids, f"strategy {strategy!r}")
            scores = _values(scores, ids.shape[0], f"strategy {strategy!r} scores")
            if np.unique(ids).shape[0] != ids.shape[0]:
                raise ValueError(f"strategy {strategy!r}: a doc id appears twice in its list")
            out[strategy] = (ids, scores)
        return out

    def _column(
        self,
        source: ColumnSource,
        doc_ids: np.ndarray,
        what: str,
        present: np.ndarray | None = None,
    ) -> np.ndarray:
        n = doc_ids.shape[0]
        if callable(source):
            values = _values(source(doc_ids), n, what)
            if present is not None:
                present[:] = 1.0
            return values
        if isinstance(source, tuple):
            ids = _doc_ids(source[0], what)
            values = _values(source[1], ids.shape[0], what)
            sorted_ids = np.sort(doc_ids)
            rows, keep = _locate(sorted_ids, np.argsort(doc_ids, kind="stable"), ids)
            out = np.zeros(n)
            out[rows] = values[keep]
            if present is not None:
                present[rows] = 1.0
            return out
        column = np.asarray(source, dtype=np.float64)
        if column.ndim != 1:
            raise ValueError(f"{what}: a catalog column must be 1-D, got shape {column.shape}")
        if n and int(doc_ids.max()) >= column.shape[0]:
            raise ValueError(
                f"{what}: unknown doc id {int(doc_ids.max())}; the column covers ids "
                f"0..{column.shape[0] - 1}"
            )
        values = column[doc_ids]
        if not np.isfinite(values).all():
            raise ValueError(f"{what}: values must be finite, got NaN or infinite values")
        if present is not None:
            present[:] = 1.0
        return values

    def _query_columns(
        self,
        X: np.ndarray,
        col: int,
        query_features: Mapping[str, float] | None,
        intent: str | None,
    ) -> int:
        given = dict(query_features or {})
        unknown = sorted(set(given) - set(self.query_features))
        missing = [name for name in self.query_features if name not in given]
        if unknown or missing:
            raise ValueError(
                f"query_features must give exactly {list(self.query_features)}; "
                f"missing {missing}, unknown {unknown}"
            )
        for name in self.query_features:
            value = float(given[name])
            if not np.isfinite(value):
                raise ValueError(f"query feature {name!r} must be finite, got {value}")
            X[:, col] = value
            col += 1
        if intent is not None and intent not in self.intents:
            raise ValueError(f"unknown intent {intent!r}; the builder knows {list(self.intents)}")
        for name in self.intents:
            X[:, col] = float(name == intent)
            col += 1
        return col

    def _match_columns(
        self,
        X: np.ndarray,
        col: int,
        query_text: str,
        field_text: Mapping[str, Sequence[str]] | Callable[[np.ndarray], Any] | None,
        doc_ids: np.ndarray,
    ) -> int:
        if not self.match_fields:
            return col
        if field_text is None:
            raise ValueError(f"field_text is required for the match fields {self.match_fields}")
        texts = field_text(doc_ids) if callable(field_text) else field_text
        best_similarity = np.zeros(doc_ids.shape[0])
        best_distance = np.zeros(doc_ids.shape[0])
        for field in self.match_fields:
            if field not in texts:
                raise ValueError(f"field_text has no texts for the match field {field!r}")
            column = texts[field]
            if callable(field_text):
                if len(column) != doc_ids.shape[0]:
                    raise ValueError(
                        f"field_text[{field!r}]: expected {doc_ids.shape[0]} texts, one per "
                        f"candidate, got {len(column)}"
                    )
                rows = list(column)
            else:
                if doc_ids.shape[0] and int(doc_ids.max()) >= len(column):
                    raise ValueError(
                        f"field_text[{field!r}]: unknown doc id {int(doc_ids.max())}; the "
                        f"column covers ids 0..{len(column) - 1}"
                    )
                rows = [column[int(doc_id)] for doc_id in doc_ids]
            exact, distance, similarity = match_arrays(query_text, rows)
            X[:, col] = exact
            X[:, col + 1] = similarity
            better = similarity > best_similarity
            if field == self.match_fields[0]:
                better[:] = True
            best_similarity[better] = similarity[better]
            best_distance[better] = distance[better]
            col += 2
        X[:, col] = best_similarity
        X[:, col + 1] = best_distance
        return col + 2


def _union(id_lists: list[np.ndarray]) -> np.ndarray:
    """Distinct ids in order of first appearance."""
    if not id_lists:
        return np.zeros(0, dtype=np.uint32)
    stacked = np.concatenate(id_lists)
    _, first = np.unique(stacked, return_index=True)
    return stacked[np.sort(first)]


def _locate(
    sorted_ids: np.ndarray, position_of_sorted: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``ids`` among the candidates, and which of ``ids`` are candidates at all."""
    if sorted_ids.shape[0] == 0 or ids.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(ids.shape[0], dtype=bool)
    where = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.shape[0] - 1)
    keep = sorted_ids[where] == ids
    return position_of_sorted[where[keep]], keep


def _entry(sources: Mapping[str, ColumnSource] | None, name: str, what: str) -> ColumnSource:
    if sources is None or name not in sources:
        raise ValueError(f"{what}: no input for {name!r}, which the builder was configured with")
    return sources[name]


def _required(source: ColumnSource | None, what: str) -> ColumnSource:
    if source is None:
        raise ValueError(f"{what} is required: the builder was configured with {what}=True")
    return source
