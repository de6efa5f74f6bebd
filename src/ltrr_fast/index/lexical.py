"""Python face of the compiled lexical index: BM25 / BM25F over roaring-bitmap postings.

Input is validated here, once; the compiled index re-checks cheaply and does the work with the
GIL released.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ltrr_fast import _core
from ltrr_fast.index.stopwords import resolve_stopwords

logger = logging.getLogger(__name__)

IndexFormatError = _core.IndexFormatError
VARIANTS: tuple[str, ...] = ("lucene", "robertson", "atire")
PROGRESS_CHUNK = 65_536  # documents per chunk when add_batch reports progress
MAX_THREADS = 1024

FieldTexts = str | Mapping[str, Any]
Attributes = Mapping[str, str | Iterable[str]]


@dataclass(frozen=True)
class BM25Params:
    """Scoring parameters for one search.

    Parameters
    ----------
    variant
        ``"lucene"`` (default; IDF ``ln(1 + (N - df + 0.5) / (df + 0.5))``), ``"robertson"``
        (IDF ``ln((N - df + 0.5) / (df + 0.5))`` floored at 0) or ``"atire"`` (IDF
        ``ln(N / df)``, saturation times ``k1 + 1``). No variant gives a negative IDF.
    k1
        Term frequency saturation, >= 0.
    b
        Length normalisation in [0, 1]: one value for every field, or a mapping per field
        (fields left out use 0.75).
    field_weights
        BM25F weight per field, >= 0; fields left out weigh 1, weight 0 leaves a field out.
    prior_weight
        Adds ``prior_weight * log1p(static_score)`` to every matching document.
    exhaustive
        Score every match without dynamic pruning. Results are identical either way; this is the
        reference path for tests.
    """

    variant: str = "lucene"
    k1: float = 1.2
    b: float | Mapping[str, float] = 0.75
    field_weights: Mapping[str, float] | None = None
    prior_weight: float = 0.0
    exhaustive: bool = False
    _compiled: dict[tuple[str, ...], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown BM25 variant {self.variant!r}; expected one of {VARIANTS}")
        _check_number("k1", self.k1, low=0.0)
        if not isinstance(self.exhaustive, bool):
            raise TypeError(f"exhaustive must be a bool, got {type(self.exhaustive).__name__}")
        # Private read-only copies: mutating the caller's dict later changes nothing.
        for name in ("b", "field_weights"):
            value = getattr(self, name)
            if isinstance(value, Mapping):
                object.__setattr__(self, name, MappingProxyType(dict(value)))
            elif name == "field_weights" and value is not None:
                raise TypeError(
                    f"field_weights must map field names to weights, got {type(value).__name__}"
                )
        if isinstance(self.b, Mapping):
            for name, value in self.b.items():
                _check_number(f"b[{name!r}]", value, low=0.0, high=1.0)
        else:
            _check_number("b", self.b, low=0.0, high=1.0)
        for name, value in (self.field_weights or {}).items():
            _check_number(f"field_weights[{name!r}]", value, low=0.0)
        _check_number("prior_weight", self.prior_weight, low=0.0)

    def compile(self, fields: tuple[str, ...]) -> Any:
        """Return the compiled parameters for an index with these fields (cached)."""
        compiled = self._compiled.get(fields)
        if compiled is not None:
            return compiled
        known = set(fields)
        for label, mapping in (("b", self.b), ("field_weights", self.field_weights)):
            if isinstance(mapping, Mapping):
                unknown = sorted(set(mapping) - known)
                if unknown:
                    raise ValueError(
                        f"{label} names unknown fields {unknown}; the index has {list(fields)}"
                    )
        params = _core.SearchParams()
        params.variant = self.variant
        params.k1 = float(self.k1)
        if isinstance(self.b, Mapping):
            params.b = [float(self.b.get(f, 0.75)) for f in fields]
        else:
            params.b = [float(self.b)]
        if self.field_weights is not None:
            params.field_weights = [float(self.field_weights.get(f, 1.0)) for f in fields]
        params.prior_weight = float(self.prior_weight)
        params.exhaustive = bool(self.exhaustive)
        self._compiled[fields] = params
        return params


class Filter:
    """A boolean filter over keyword attributes, applied inside scoring.

    Build with :meth:`attr` and combine with ``&`` (and), ``|`` (or) and ``~`` (not)::

        Filter.attr("genre", "pop") & ~Filter.attr("explicit", "yes")

    A filtered search never returns a document outside the filter.
    """

    __slots__ = ("_ops", "_program")

    def __init__(self, ops: tuple[tuple[str, str, str, int], ...]) -> None:
        self._ops = ops
        self._program: Any = None

    @classmethod
    def attr(cls, key: str, value: str) -> Filter:
        """Documents whose attribute ``key`` has ``value``."""
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"attribute key and value must be str, got {type(key).__name__} "
                f"and {type(value).__name__}"
            )
        return cls((("attr", key, value, 0),))

    @classmethod
    def any_of(cls, key: str, values: Iterable[str]) -> Filter:
        """Documents whose attribute ``key`` has any of ``values``."""
        if isinstance(values, str):
            raise TypeError(
                f"any_of({key!r}, ...) needs an iterable of values, got the str {values!r}; "
                "use Filter.attr for a single value"
            )
        parts = [cls.attr(key, v) for v in values]
        if not parts:
            raise ValueError(f"any_of({key!r}, ...) needs at least one value")
        return cls._combine("or", parts)

    @classmethod
    def all(cls) -> Filter:
        """Every live document."""
        return cls((("all", "", "", 0),))

    @classmethod
    def _combine(cls, op: str, parts: Sequence[Filter]) -> Filter:
        ops: list[tuple[str, str, str, int]] = []
        for part in parts:
            ops.extend(part._ops)
        if len(parts) > 1:
            ops.append((op, "", "", len(parts)))
        return cls(tuple(ops))

    def __and__(self, other: Filter) -> Filter:
        return Filter._combine("and", [self, _as_filter(other)])

    def __or__(self, other: Filter) -> Filter:
        return Filter._combine("or", [self, _as_filter(other)])

    def __invert__(self) -> Filter:
        return Filter(self._ops + (("not", "", "", 0),))

    def __bool__(self) -> bool:
        raise TypeError("a Filter has no truth value; combine filters with &, | and ~")

    def compile(self) -> Any:
        """Return the compiled program (cached)."""
        if self._program is None:
            self._program = _core.FilterProgram(list(self._ops))
        return self._program

    def __repr__(self) -> str:
        return f"Filter({list(self._ops)!r})"


@dataclass(frozen=True, eq=False)
class Hits:
    """Results of one search, best first (ties by smaller internal doc id)."""

    doc_ids: np.ndarray  # uint32 internal ids
    scores: np.ndarray  # float32
    ids: list[str]  # external ids

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return zip(self.ids, self.scores.tolist())


@dataclass(frozen=True, eq=False)
class BatchHits:
    """Results of a batch search in CSR form: query i owns ``[indptr[i], indptr[i + 1])``."""

    indptr: np.ndarray  # int64, n_queries + 1
    doc_ids: np.ndarray  # uint32
    scores: np.ndarray  # float32
    ids: list[str]  # external ids, flat like doc_ids

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def __getitem__(self, i: int) -> Hits:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"batch results are indexed by int, got {type(i).__name__}")
        if not -len(self) <= i < len(self):
            raise IndexError(f"query {i} out of range for a batch of {len(self)}")
        i %= len(self)
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return Hits(self.doc_ids[lo:hi], self.scores[lo:hi], self.ids[lo:hi])

    def __iter__(self) -> Iterator[Hits]:
        return (self[i] for i in range(len(self)))


class LexicalIndex:
    """An incremental inverted index with BM25 / BM25F top-k search.

    Documents have named text fields, a non-negative static score (e.g. popularity) and
    keyword attributes for filters. Adding an id that is already present replaces that
    document. After any sequence of adds and deletes, scores equal those of a fresh index
    built from the surviving documents.

    Parameters
    ----------
    fields
        Names of the text fields, in order.
    stopwords
        ``None``, a list name (``"en"``) or an iterable of words. Stop words are folded like
        text and count toward no document length.
    stemmer
        ``None`` or a Snowball language name such as ``"english"``. Each distinct token is
        stemmed once at add time.
    fold_accents
        Lowercase and strip diacritics of Latin letters ("Café" -> "cafe"); letters of other
        scripts are lowercased where they have case.
    cjk_bigrams
        Split runs of Han, kana and Hangul into overlapping bigrams (a lone character stays a
        unigram); otherwise into single characters.
    """

    def __init__(
        self,
        fields: Sequence[str] = ("text",),
        *,
        stopwords: str | Iterable[str] | None = None,
        stemmer: str | None = None,
        fold_accents: bool = True,
        cjk_bigrams: bool = True,
    ) -> None:
        if isinstance(fields, str):
            fields = (fields,)
        fields = tuple(fields)
        for name in fields:
            if not isinstance(name, str):
                raise TypeError(f"field names must be str, got {type(name).__name__}")
        if stemmer is not None and not isinstance(stemmer, str):
            raise TypeError(f"stemmer must be a language name or None, got {stemmer!r}")
        for name, flag in (("fold_accents", fold_accents), ("cjk_bigrams", cjk_bigrams)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
        self._core = _core.Index(
            list(fields),
            fold_accents=bool(fold_accents),
            cjk_bigrams=bool(cjk_bigrams),
            stemmer=(stemmer or "").lower(),
            stopwords=resolve_stopwords(stopwords),
        )
        self._fields = fields

    @classmethod
    def _wrap(cls, core: Any) -> LexicalIndex:
        self = cls.__new__(cls)
        self._core = core
        self._fields = tuple(core.fields)
        return self

    @property
    def fields(self) -> tuple[str, ...]:
        return self._fields

    @property
    def n_terms(self) -> int:
        """Distinct terms ever indexed."""
        return int(self._core.n_terms)

    def __len__(self) -> int:
        return len(self._core)

    def __contains__(self, doc_id: object) -> bool:
        return (
            isinstance(doc_id, str) and _encodable(doc_id) and self._core.internal_id(doc_id) >= 0
        )

    def __repr__(self) -> str:
        fields = list(self._fields[:8]) + (["..."] if len(self._fields) > 8 else [])
        return f"LexicalIndex(fields={fields}, docs={len(self)})"

    # Documents

    def add(
        self,
        doc_id: str,
        fields: FieldTexts,
        *,
        static_score: float = 0.0,
        attributes: Attributes | None = None,
    ) -> None:
        """Add one document, replacing any document with the same id.

        ``fields`` maps field names to text; a plain string is the text of the first field.
        ``attributes`` maps keys to a value or to several values.
        """
        if isinstance(static_score, bool) or not isinstance(
            static_score, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"static_score must be a number, got {type(static_score).__name__}")
        self.add_batch([doc_id], [fields], static_scores=[static_score], attributes=[attributes])

    def add_batch(
        self,
        doc_ids: Sequence[str],
        fields: Mapping[str, Sequence[str]] | Sequence[FieldTexts],
        *,
        static_scores: Sequence[float] | np.ndarray | None = None,
        attributes: Sequence[Attributes | None] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Add many documents at once; all or nothing.

        ``fields`` is either column-wise (a mapping from field name to one text per document)
        or row-wise (one mapping or string per document). A later duplicate id in the batch
        replaces an earlier one. ``progress(done, total)``, when given, is called as chunks of
        the batch are indexed; every input is checked before the first chunk. If the callback
        itself raises, the chunks indexed so far stay.
        """
        if isinstance(doc_ids, str) or not isinstance(doc_ids, Sequence):
            raise TypeError(f"doc_ids must be a sequence of str, got {type(doc_ids).__name__}")
        if progress is not None and not callable(progress):
            raise TypeError(f"progress must be callable or None, got {type(progress).__name__}")
        n = len(doc_ids)
        for i, doc_id in enumerate(doc_ids):
            if not isinstance(doc_id, str):
                raise TypeError(f"doc_ids[{i}] must be str, got {type(doc_id).__name__}")
            if not doc_id:
                raise ValueError(f"doc_ids[{i}] is empty; ids must be non-empty strings")
        columns = self._columns(fields, n)
        scores = self._static_scores(static_scores, n)
        rows = None if attributes is None else self._attribute_rows(attributes, n)
        ids = list(doc_ids)
        step = n if progress is None else PROGRESS_CHUNK
        try:
            for lo in range(0, n, max(step, 1)):
                hi = min(n, lo + step)
                self._core.add_batch(
                    ids[lo:hi],
                    [column[lo:hi] for column in columns],
                    scores[lo:hi],
                    None if rows is None else rows[lo:hi],
                )
                if progress is not None:
                    progress(hi, n)
        except TypeError:
            _explain_unencodable([*ids, *(t for column in columns for t in column)])
            raise

    def delete(self, doc_id: str) -> bool:
        """Delete a document; returns False when no document has this id."""
        _check_id(doc_id)
        return bool(self._core.remove(doc_id))

    def compact(self) -> None:
        """Drop deleted documents from postings now (it also happens automatically)."""
        self._core.compact()

    # Search

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        params: BM25Params | None = None,
        filter: Filter | None = None,
    ) -> Hits:
        """Top-k documents for a query; fewer when fewer documents match.

        An empty query, or one whose terms are all unknown, returns no hits.
        """
        if not isinstance(query, str):
            raise TypeError(f"query must be str, got {type(query).__name__}")
        k = _check_k(k)
        compiled = _as_params(params).compile(self._fields)
        program = _as_filter(filter).compile() if filter is not None else None
        try:
            doc_ids, scores, ids = self._core.search(query, k, compiled, program)
        except TypeError:
            _explain_unencodable([query])
            raise
        return Hits(doc_ids, scores, ids)

    def search_batch(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        params: BM25Params | None = None,
        filter: Filter | None = None,
        n_threads: int | None = None,
    ) -> BatchHits:
        """Top-k for many queries on ``n_threads`` threads (default: every core)."""
        if isinstance(queries, str) or not isinstance(queries, Sequence):
            raise TypeError(f"queries must be a sequence of str, got {type(queries).__name__}")
        for i, query in enumerate(queries):
            if not isinstance(query, str):
                raise TypeError(f"queries[{i}] must be str, got {type(query).__name__}")
        k = _check_k(k)
        if n_threads is None:
            n_threads = 0
        elif (
            isinstance(n_threads, bool)
            or not isinstance(n_threads, (int, np.integer))
            or not 1 <= n_threads <= MAX_THREADS
        ):
            raise ValueError(
                f"n_threads must be an int in [1, {MAX_THREADS}] or None, got {n_threads!r}"
            )
        compiled = _as_params(params).compile(self._fields)
        program = _as_filter(filter).compile() if filter is not None else None
        try:
            indptr, doc_ids, scores, ids = self._core.search_batch(
                list(queries), k, compiled, program, int(n_threads)
            )
        except TypeError:
            _explain_unencodable(queries)
            raise
        return BatchHits(indptr, doc_ids, scores, ids)

    # Lookups

    def tokenize(self, text: str) -> list[str]:
        """The terms this index makes of a text (folded, stop words removed, stemmed)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        try:
            return list(self._core.tokenize(text))
        except TypeError:
            _explain_unencodable([text])
            raise

    def doc_freq(self, term: str, field: str | None = None) -> int:
        """Live documents containing an (already analysed) term in a field."""
        if not isinstance(term, str) or not _encodable(term):
            raise TypeError(f"term must be a str of valid Unicode, got {term!r}")
        field = self._fields[0] if field is None else field
        if field not in self._fields:
            raise ValueError(f"unknown field {field!r}; the index has {list(self._fields)}")
        return int(self._core.doc_freq(field, term))

    def internal_id(self, doc_id: str) -> int | None:
        """The dense internal id of a live document, or None."""
        _check_id(doc_id)
        found = int(self._core.internal_id(doc_id))
        return None if found < 0 else found

    def external_ids(self, doc_ids: np.ndarray | Sequence[int]) -> list[str]:
        """External ids for internal ids ("" for a deleted document)."""
        array = np.asarray(doc_ids)
        if array.size and array.dtype.kind not in "iu":
            raise TypeError(f"doc_ids must be integers, got dtype {array.dtype}")
        if array.size and (array.min() < 0 or array.max() > np.iinfo(np.uint32).max):
            raise OverflowError("doc_ids must lie in [0, 2**32 - 1]")
        return list(self._core.external_ids(array.astype(np.uint32, copy=False)))

    def filter_doc_ids(self, filter: Filter) -> np.ndarray:
        """Internal ids of the live documents that pass a filter, ascending."""
        return self._core.filter_doc_ids(_as_filter(filter).compile())

    # Persistence

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to one file, atomically (write beside, fsync, rename).

        Only a regular file is replaced (keeping its permissions); a path that is a link, a
        device or a directory is refused with ``OSError``.
        """
        self._core.save(_check_path(path))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LexicalIndex:
        """Read an index written by :meth:`save`.

        Raises :class:`IndexFormatError` (a ``ValueError``) for a file that is foreign,
        truncated, corrupt or of an unsupported format version, and ``OSError`` when the file
        cannot be read.
        """
        return cls._wrap(_core.Index.load(_check_path(path)))

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        """Pickle (and deep-copy) through the same file format as :meth:`save`."""
        with tempfile.TemporaryDirectory(prefix="ltrr-") as tmp:
            path = os.path.join(tmp, "index.ltrr")
            self.save(path)
            with open(path, "rb") as handle:
                return (_index_from_bytes, (handle.read(),))

    # Input normalisation

    def _columns(
        self, fields: Mapping[str, Sequence[str]] | Sequence[FieldTexts], n: int
    ) -> list[list[str]]:
        names = self._fields
        if isinstance(fields, Mapping):
            unknown = sorted(set(fields) - set(names))
            if unknown:
                raise ValueError(f"unknown fields {unknown}; the index has {list(names)}")
            columns = []
            for name in names:
                column = fields.get(name)
                if column is None:
                    columns.append([""] * n)
                    continue
                if isinstance(column, str) or len(column) != n:
                    raise ValueError(f"field {name!r} needs a sequence of {n} texts")
                columns.append([_text(t, name, i) for i, t in enumerate(column)])
            return columns
        if isinstance(fields, str) or not isinstance(fields, Sequence):
            raise TypeError(
                "fields must map field names to texts, or give one str or mapping per document; "
                f"got {type(fields).__name__}"
            )
        if len(fields) != n:
            raise ValueError(f"fields has {len(fields)} rows for {n} doc ids")
        columns = [[""] * n for _ in names]
        for i, row in enumerate(fields):
            if isinstance(row, str):
                columns[0][i] = row
            elif isinstance(row, Mapping):
                for name, text in row.items():
                    try:
                        columns[names.index(name)][i] = _text(text, name, i)
                    except ValueError:
                        raise ValueError(
                            f"document {i}: unknown field {name!r}; the index has {list(names)}"
                        ) from None
            else:
                raise TypeError(
                    f"document {i}: expected a str or a mapping of field texts, "
                    f"got {type(row).__name__}"
                )
        return columns

    @staticmethod
    def _static_scores(scores: Sequence[float] | np.ndarray | None, n: int) -> np.ndarray:
        if scores is None:
            return np.zeros(n, dtype=np.float64)
        raw = np.asarray(scores)
        if raw.size and raw.dtype.kind not in "iuf":
            raise TypeError(f"static_scores must be numbers, got dtype {raw.dtype}")
        array = raw.astype(np.float64)
        if array.shape != (n,):
            raise ValueError(f"static_scores needs shape ({n},), got {array.shape}")
        bad = ~np.isfinite(array) | (array < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"static_scores[{i}] must be finite and >= 0, got {array[i]}")
        return np.ascontiguousarray(array)

    @staticmethod
    def _attribute_rows(
        attributes: Sequence[Attributes | None], n: int
    ) -> list[list[tuple[str, str]]]:
        if len(attributes) != n:
            raise ValueError(f"attributes has {len(attributes)} rows for {n} doc ids")
        rows: list[list[tuple[str, str]]] = []
        for i, row in enumerate(attributes):
            pairs: list[tuple[str, str]] = []
            if row is not None:
                if not isinstance(row, Mapping):
                    raise TypeError(
                        f"attributes[{i}] must be a mapping of key to value(s), "
                        f"got {type(row).__name__}"
                    )
                for key, values in row.items():
                    if not isinstance(key, str) or not key or "\x1f" in key:
                        raise ValueError(
                            f"attributes[{i}]: keys must be non-empty str without \\x1f, "
                            f"got {key!r}"
                        )
                    if isinstance(values, str):
                        values = [values]
                    elif not isinstance(values, Iterable):
                        raise TypeError(
                            f"attributes[{i}][{key!r}] values must be str or an iterable of str, "
                            f"got {type(values).__name__}"
                        )
                    for value in values:
                        if not isinstance(value, str):
                            raise TypeError(
                                f"attributes[{i}][{key!r}] values must be str, "
                                f"got {type(value).__name__}"
                            )
                        if "\x1f" in value:
                            raise ValueError(
                                f"attributes[{i}][{key!r}]: values must not hold \\x1f"
                            )
                        pairs.append((key, value))
            rows.append(pairs)
        return rows


def _explain_unencodable(texts: Iterable[str]) -> None:
    """Raise a clear error if a text cannot cross into the compiled core as UTF-8."""
    for i, text in enumerate(texts):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(
                f"text {i} holds {text[error.start]!r} at position {error.start}, a lone "
                "surrogate that is not valid Unicode; decode your input with errors='replace'"
            ) from None


def _index_from_bytes(data: bytes) -> LexicalIndex:
    with tempfile.TemporaryDirectory(prefix="ltrr-") as tmp:
        path = os.path.join(tmp, "index.ltrr")
        with open(path, "wb") as handle:
            handle.write(data)
        return LexicalIndex.load(path)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_id(doc_id: object) -> None:
    if not isinstance(doc_id, str):
        raise TypeError(f"doc_id must be str, got {type(doc_id).__name__}")
    if not _encodable(doc_id):
        raise ValueError(f"doc_id {doc_id!r} holds a lone surrogate, which is not valid Unicode")


def _check_path(path: object) -> str:
    text = os.fspath(path)  # type: ignore[arg-type]
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if "\x00" in text:
        raise ValueError(f"path {text!r} holds a NUL byte")
    return text


def _as_params(params: object) -> BM25Params:
    if params is None:
        return DEFAULT_PARAMS
    if not isinstance(params, BM25Params):
        raise TypeError(f"params must be a BM25Params, got {type(params).__name__}")
    return params


def _as_filter(value: object) -> Filter:
    if not isinstance(value, Filter):
        raise TypeError(f"expected a Filter, got {type(value).__name__}")
    return value


def _text(value: object, name: str, i: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"document {i}: field {name!r} must be str, got {type(value).__name__}")
    return value


def _check_k(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    return min(int(k), 2**62)  # the core clamps to the number of live documents anyway


def _check_number(
    name: str, value: object, *, low: float | None = None, high: float | None = None
) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or (low is not None and v < low) or (high is not None and v > high):
        bounds = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be finite and {bounds}, got {value!r}")


DEFAULT_PARAMS = BM25Params()
