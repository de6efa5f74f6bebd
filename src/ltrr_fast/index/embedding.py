"""Embedders: text to L2-normalised float32 vectors for the vector index.

:class:`LSAEmbedder` is the default and needs no network or model download: TF-IDF over words
and character n-grams of the catalog's text fields, reduced by a seeded randomised truncated SVD
(numpy and scipy only), fitted on the catalog. Items and queries go through the same transform.
:class:`CallableEmbedder` wraps any encoder, e.g. a sentence-transformers model's ``encode``,
and checks what it returns.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ltrr_fast.index.encoders import (
    CallableEmbedder,
    Columns,
    Embedder,
    as_columns,
    as_texts,
    embed_catalog,
    embed_query,
    field_weights_for,
    int_at_least,
    n_rows,
    normalize_rows,
)
from ltrr_fast.index.lexical import LexicalIndex
from ltrr_fast.index.randomized_svd import randomized_svd

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["CallableEmbedder", "Embedder", "LSAEmbedder", "embed_catalog", "embed_query"]

logger = logging.getLogger(__name__)

LSA_FORMAT_VERSION = 1
_FEW_ROWS = 16  # up to this many texts are projected without a sparse matrix


class LSAEmbedder:
    """Latent semantic analysis: TF-IDF over words and character n-grams, then truncated SVD.

    Parameters
    ----------
    dim : int
        Output dimension (SVD rank); capped by the fitted vocabulary and item count.
    char_ngrams : int or None
        Length of the character n-grams taken of each word with boundary marks (``"^tay"``,
        ``"or$"``); ``None`` uses words only.
    words : bool
        Use whole words as features.
    min_df : int
        Drop features found in fewer items.
    max_features : int
        Keep at most this many features, the most frequent first.
    n_iter : int
        Power iterations of the randomised SVD (more is closer to the exact SVD).
    seed : int
        Seed of the randomised SVD: the same catalog and seed give the same vectors.

    Notes
    -----
    Words come from the compiled analyzer (lowercased, accent-folded, CJK bigrams), so a
    query and the catalog are split the same way as in the lexical index. Term frequencies
    are sublinear (``1 + ln tf``), IDF is ``ln((1 + n) / (1 + df)) + 1``; rows are
    L2-normalised before and after the projection. A text with no known feature gives an
    all-zero row.
    """

    def __init__(
        self,
        dim: int = 128,
        *,
        char_ngrams: int | None = 3,
        words: bool = True,
        min_df: int = 2,
        max_features: int = 100_000,
        n_iter: int = 4,
        seed: int = 0,
    ) -> None:
        self._dim = int_at_least("dim", dim, 1)
        if char_ngrams is not None:
            int_at_least("char_ngrams", char_ngrams, 1)
        if not isinstance(words, bool):
            raise TypeError(f"words must be a bool, got {type(words).__name__}")
        if char_ngrams is None and not words:
            raise ValueError("an LSA embedder needs words or character n-grams (or both)")
        self.char_ngrams = char_ngrams
        self.words = words
        self.min_df = int_at_least("min_df", min_df, 1)
        self.max_features = int_at_least("max_features", max_features, 1)
        self.n_iter = int_at_least("n_iter", n_iter, 0)
        self.seed = int_at_least("seed", seed, 0)
        self._analyzer = LexicalIndex(fields=("text",))
        self._vocabulary: dict[str, int] = {}
        self._idf = np.zeros(0, dtype=np.float32)
        self._components = np.zeros((0, 0), dtype=np.float32)  # (dim, n_features)
        self._projection = np.zeros((0, 0), dtype=np.float32)  # its transpose, C order
        self._word_cache: dict[str, list[str]] = {}

    @property
    def dim(self) -> int:
        """Output dimension (after fitting, the SVD rank actually kept)."""
        return self._dim

    @property
    def fitted(self) -> bool:
        return self._components.size > 0

    @property
    def n_features(self) -> int:
        return len(self._vocabulary)

    def __repr__(self) -> str:
        return f"LSAEmbedder(dim={self._dim}, n_features={self.n_features})"

    # Fitting

    def fit(
        self, columns: Columns | Sequence[str], field_weights: Mapping[str, float] | None = None
    ) -> LSAEmbedder:
        """Fit the vocabulary, IDF and projection on item texts.

        ``columns`` maps field names to one text per item (or is a plain list of texts);
        ``field_weights`` scales each field's term frequencies (fields left out weigh 1).
        """
        columns = as_columns(columns)
        n_items = n_rows(columns)
        if n_items < 2:
            raise ValueError(f"fitting needs at least 2 items, got {n_items}")
        rows = self._feature_rows(columns, field_weights)
        df: dict[str, int] = {}
        for row in rows:
            for feature in row:
                df[feature] = df.get(feature, 0) + 1
        kept = [f for f, c in df.items() if c >= self.min_df]
        kept.sort(key=lambda f: (-df[f], f))
        kept = sorted(kept[: self.max_features])
        if not kept:
            raise ValueError(
                f"no feature occurs in at least min_df={self.min_df} items; lower min_df"
            )
        self._vocabulary = {f: i for i, f in enumerate(kept)}
        counts = np.asarray([df[f] for f in kept], dtype=np.float64)
        self._idf = (np.log((1.0 + n_items) / (1.0 + counts)) + 1.0).astype(np.float32)
        matrix = self._tfidf(rows)
        rank = min(self._dim, matrix.shape[0] - 1, matrix.shape[1] - 1)
        if rank < 1:
            raise ValueError(f"too few items or features for an SVD: shape {matrix.shape}")
        if rank < self._dim:
            logger.info("LSA dimension capped at %d by the data (asked %d)", rank, self._dim)
        self._set_components(randomized_svd(matrix, rank, self.n_iter, self.seed))
        self._dim = rank
        logger.info("fitted LSA on %d items, %d features, dim %d", n_items, len(kept), rank)
        return self

    # Transforms

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Query vectors, one row per text, L2-normalised (all zero for a text with no feature)."""
        return self.embed_fields({"text": as_texts(texts, "texts")})

    def embed_fields(
        self, columns: Columns, field_weights: Mapping[str, float] | None = None
    ) -> np.ndarray:
        """Item vectors from text fields, L2-normalised; the fitted transform."""
        self._check_fitted()
        rows = self._feature_rows(as_columns(columns), field_weights)
        if len(rows) <= _FEW_ROWS:
            projected = self._project_few(rows)
        else:
            projected = np.asarray(self._tfidf(rows) @ self._projection, dtype=np.float32)
        return normalize_rows(projected)

    # Persistence

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted embedder to one ``.npz`` file, atomically."""
        self._check_fitted()
        config = {
            "format_version": LSA_FORMAT_VERSION,
            "dim": self._dim,
            "char_ngrams": self.char_ngrams,
            "words": self.words,
            "min_df": self.min_df,
            "max_features": self.max_features,
            "n_iter": self.n_iter,
            "seed": self.seed,
        }
        vocabulary = np.asarray(sorted(self._vocabulary, key=self._vocabulary.__getitem__))
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".ltrr-lsa-", suffix=".npz", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(
                    handle,
                    config=np.asarray(json.dumps(config)),
                    vocabulary=vocabulary,
                    idf=self._idf,
                    components=self._components,
                )
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LSAEmbedder:
        """Read an embedder written by :meth:`save`; ``ValueError`` for a foreign or bad file."""
        try:
            with np.load(os.fspath(path), allow_pickle=False) as data:
                config = json.loads(str(data["config"]))
                vocabulary = [str(v) for v in data["vocabulary"]]
                idf = np.asarray(data["idf"], dtype=np.float32)
                components = np.asarray(data["components"], dtype=np.float32)
        except (KeyError, ValueError, json.JSONDecodeError, EOFError) as error:
            raise ValueError(f"{os.fspath(path)!r} is not a saved LSA embedder: {error}") from None
        if config.get("format_version") != LSA_FORMAT_VERSION:
            raise ValueError(
                f"LSA embedder format version {config.get('format_version')} not supported "
                f"(this build reads version {LSA_FORMAT_VERSION})"
            )
        n = len(vocabulary)
        if (
            idf.shape != (n,)
            or components.shape != (config["dim"], n)
            or len(set(vocabulary)) != n
        ):
            raise ValueError(f"saved LSA embedder {os.fspath(path)!r} has inconsistent arrays")
        self = cls(
            config["dim"],
            char_ngrams=config["char_ngrams"],
            words=config["words"],
            min_df=config["min_df"],
            max_features=config["max_features"],
            n_iter=config["n_iter"],
            seed=config["seed"],
        )
        self._vocabulary = {f: i for i, f in enumerate(vocabulary)}
        self._idf = idf
        self._set_components(components)
        return self

    # Internals

    def _set_components(self, components: np.ndarray) -> None:
        self._components = components
        self._projection = np.ascontiguousarray(components.T)

    def _check_fitted(self) -> None:
        if not self.fitted:
            raise ValueError("this LSAEmbedder is not fitted yet; call fit() first")

    def _word_features(self, word: str) -> list[str]:
        features = self._word_cache.get(word)
        if features is None:
            features = ["w:" + word] if self.words else []
            n = self.char_ngrams
            if n is not None:
                marked = f"^{word}$"
                if len(marked) <= n:
                    features.append("c:" + marked)
                else:
                    features.extend("c:" + marked[i : i + n] for i in range(len(marked) - n + 1))
            if len(self._word_cache) < 1_000_000:
                self._word_cache[word] = features
        return features

    def _feature_rows(
        self, columns: Columns, field_weights: Mapping[str, float] | None
    ) -> list[dict[str, float]]:
        """Per item, feature to weighted sublinear term frequency."""
        weights = field_weights_for(columns, field_weights)
        rows: list[dict[str, float]] = [{} for _ in range(n_rows(columns))]
        for name, texts in columns.items():
            weight = weights[name]
            if weight == 0.0:
                continue
            for i, text in enumerate(texts):
                counts: dict[str, int] = {}
                for word in self._analyzer.tokenize(text):
                    for feature in self._word_features(word):
                        counts[feature] = counts.get(feature, 0) + 1
                row = rows[i]
                for feature, tf in counts.items():
                    row[feature] = row.get(feature, 0.0) + weight * (1.0 + math.log(tf))
        return rows

    def _project_few(self, rows: list[dict[str, float]]) -> np.ndarray:
        """The TF-IDF rows projected without building a sparse matrix (queries)."""
        out = np.zeros((len(rows), self._projection.shape[1]), dtype=np.float32)
        vocabulary = self._vocabulary
        for i, row in enumerate(rows):
            pairs = [(vocabulary[f], tf) for f, tf in row.items() if f in vocabulary]
            if not pairs:
                continue
            cols = np.fromiter((j for j, _ in pairs), dtype=np.int64, count=len(pairs))
            values = np.fromiter((tf for _, tf in pairs), dtype=np.float32, count=len(pairs))
            values *= self._idf[cols]
            out[i] = (values / np.linalg.norm(values)) @ self._projection[cols]
        return out

    def _tfidf(self, rows: list[dict[str, float]]) -> sp.csr_matrix:
        """Rows as an L2-normalised TF-IDF matrix over the fitted vocabulary."""
        import scipy.sparse as sp  # scipy is needed to fit and for batches, not for queries

        vocabulary = self._vocabulary
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indices: list[int] = []
        values: list[float] = []
        for i, row in enumerate(rows):
            for feature, tf in row.items():
                j = vocabulary.get(feature)
                if j is not None:
                    indices.append(j)
                    values.append(tf)
            indptr[i + 1] = len(indices)
        data = np.asarray(values, dtype=np.float32)
        cols = np.asarray(indices, dtype=np.int64)
        data *= self._idf[cols]
        matrix = sp.csr_matrix((data, cols, indptr), shape=(len(rows), len(vocabulary)))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(sp.diags(1.0 / norms.astype(np.float32)) @ matrix)
