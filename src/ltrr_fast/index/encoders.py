"""The embedder protocol, a checked wrapper for any encoder, and catalog helpers.

:class:`CallableEmbedder` wraps any encoder from a list of texts to a 2-d float array, e.g. a
sentence-transformers model's ``encode``, and checks what it returns (shape, finiteness).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

logger = logging.getLogger(__name__)

Columns = Mapping[str, Sequence[str]]


@runtime_checkable
class Embedder(Protocol):
    """What the vector strategies need of an embedder."""

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors, shape ``(len(texts), dim)``; an all-zero row when a text is empty."""

    def embed_fields(
        self, columns: Columns, field_weights: Mapping[str, float] | None = None
    ) -> np.ndarray:
        """Item vectors from text fields given column-wise (field name to one text per item)."""


class CallableEmbedder:
    """Any encoder from a list of texts to a 2-d float array, checked and normalised.

    Parameters
    ----------
    encode : callable
        ``encode(list_of_str)`` returning an array-like of shape ``(len(texts), dim)``, e.g.
        ``SentenceTransformer(...).encode``.
    dim : int, optional
        Expected dimension; taken from the first answer when not given.
    normalize : bool
        L2-normalise rows (rows that come back all zero stay zero).
    batch_size : int
        Texts per call of ``encode``.
    separator : str
        Joins an item's text fields into one text for :meth:`embed_fields`.
    """

    def __init__(
        self,
        encode: Callable[[list[str]], Any],
        *,
        dim: int | None = None,
        normalize: bool = True,
        batch_size: int = 256,
        separator: str = " | ",
    ) -> None:
        if not callable(encode):
            raise TypeError(f"encode must be callable, got {type(encode).__name__}")
        self._encode = encode
        self._dim = None if dim is None else int_at_least("dim", dim, 1)
        self.normalize = bool(normalize)
        self.batch_size = int_at_least("batch_size", batch_size, 1)
        self.separator = separator

    @property
    def dim(self) -> int:
        """Output dimension; when not given, learnt by encoding one short text."""
        if self._dim is None:
            self.embed(["dimension probe"])
        assert self._dim is not None
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of texts, validated (shape, finiteness) and optionally normalised."""
        texts = as_texts(texts, "texts")
        parts = []
        for lo in range(0, len(texts), self.batch_size):
            chunk = texts[lo : lo + self.batch_size]
            parts.append(self._check(self._encode(chunk), len(chunk)))
        if not parts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        out = np.concatenate(parts)
        return normalize_rows(out) if self.normalize else out

    def embed_fields(
        self, columns: Columns, field_weights: Mapping[str, float] | None = None
    ) -> np.ndarray:
        """Item vectors: the non-empty fields of weight > 0 joined by ``separator``."""
        columns = as_columns(columns)
        weights = field_weights_for(columns, field_weights)
        names = [name for name in columns if weights[name] > 0]
        texts = [
            self.separator.join(t for t in (columns[name][i] for name in names) if t)
            for i in range(n_rows(columns))
        ]
        return self.embed(texts)

    def _check(self, answer: Any, n: int) -> np.ndarray:
        try:
            array = np.asarray(answer, dtype=np.float32)
        except (TypeError, ValueError):
            raise TypeError(
                f"the encoder must return a 2-d array of numbers, got {type(answer).__name__}"
            ) from None
        if array.ndim != 2 or array.shape[0] != n:
            raise ValueError(
                f"the encoder must return shape ({n}, dim) for {n} texts, got {array.shape}"
            )
        if self._dim is None:
            self._dim = int(array.shape[1])
        if array.shape[1] != self._dim:
            raise ValueError(
                f"the encoder returned dimension {array.shape[1]}, expected {self._dim}"
            )
        if not np.isfinite(array).all():
            raise ValueError("the encoder returned NaN or infinite values")
        return np.ascontiguousarray(array)


def embed_catalog(
    catalog: Any,
    embedder: Embedder,
    *,
    fields: Sequence[str] | None = None,
    field_weights: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectors of a catalog's live items, ready for ``VectorIndex.add_batch``.

    Returns ``(doc_ids, vectors)``; items whose vector is all zero (no known text) are left
    out, since cosine gives them no direction.
    """
    fields = tuple(catalog.text_fields if fields is None else fields)
    doc_ids = np.flatnonzero(catalog.live_mask()).astype(np.uint32)
    columns = {}
    for name in fields:
        texts = catalog.texts(name)
        columns[name] = [texts[i] for i in doc_ids.tolist()]
    vectors = embedder.embed_fields(columns, field_weights)
    nonzero = np.any(vectors, axis=1)
    if not nonzero.all():
        logger.info("%d items have no text the embedder knows; left out", int((~nonzero).sum()))
    return doc_ids[nonzero], np.ascontiguousarray(vectors[nonzero])


def embed_query(embedder: Embedder, text: str) -> np.ndarray | None:
    """One query's vector, or None when the embedder knows nothing of the text (zero row)."""
    vector = np.asarray(embedder.embed([text]), dtype=np.float32)[0]
    return vector if np.any(vector) and np.isfinite(vector).all() else None


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


def as_texts(texts: object, name: str) -> list[str]:
    if isinstance(texts, str) or not isinstance(texts, Sequence):
        raise TypeError(f"{name} must be a sequence of str, got {type(texts).__name__}")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{i}] must be str, got {type(text).__name__}")
    return list(texts)


def as_columns(columns: object) -> dict[str, list[str]]:
    if isinstance(columns, Mapping):
        out = {str(name): as_texts(texts, f"columns[{name!r}]") for name, texts in columns.items()}
    else:
        out = {"text": as_texts(columns, "texts")}
    if not out:
        raise ValueError("columns must name at least one text field")
    lengths = {len(texts) for texts in out.values()}
    if len(lengths) > 1:
        raise ValueError(
            "every field needs one text per item; got lengths "
            f"{ {name: len(texts) for name, texts in out.items()} }"
        )
    return out


def n_rows(columns: Columns) -> int:
    return len(next(iter(columns.values())))


def field_weights_for(columns: Columns, weights: Mapping[str, float] | None) -> dict[str, float]:
    weights = dict(weights or {})
    unknown = sorted(set(weights) - set(columns))
    if unknown:
        raise ValueError(f"field_weights names unknown fields {unknown}; got {list(columns)}")
    for name, value in weights.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (math.isfinite(value) and value >= 0)
        ):
            raise ValueError(
                f"field_weights[{name!r}] must be a finite number >= 0, got {value!r}"
            )
    return {name: float(weights.get(name, 1.0)) for name in columns}


def int_at_least(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)
