"""The interface every ranker offers, and the one-file format rankers are saved in.

A ranker scores rows of a float32 feature matrix; rows of one query form a *group*, given as
group sizes in row order. The engine only uses :class:`Ranker`'s methods, so the online
linear ranker and LambdaMART swap freely.

File format (little-endian): the magic ``b"LTRRRANK"``, a uint32 format version, a uint64
header length, a UTF-8 JSON header (ranker kind, parameters, the name, dtype, shape and byte
offset of each array, the payload's length and CRC-32), then the payload: the arrays' raw bytes
one after another. Files are written beside the target and renamed over it, so a save either
happens whole or not at all; a foreign, truncated or corrupt file raises
:class:`RankerFormatError`.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import pathlib
import struct
import tempfile
import zlib
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ltrr_fast.ranking._checks import check_features, check_groups, single_group
from ltrr_fast.ranking.features import CandidateFeatures, FeatureSchema

logger = logging.getLogger(__name__)

MAGIC = b"LTRRRANK"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIQ")

#: kind name -> ranker class, filled by :meth:`Ranker.__init_subclass__`.
RANKER_KINDS: dict[str, type[Ranker]] = {}


class RankerFormatError(ValueError):
    """A ranker file is foreign, truncated, corrupt or of a newer format."""


class Ranker(ABC):
    """Scores candidate rows; learns from labelled groups of rows.

    Subclasses set ``kind`` (the name stored in saved files) and implement
    :meth:`fit`, :meth:`score`, :meth:`_state` and :meth:`_from_state`.
    """

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            RANKER_KINDS[cls.kind] = cls

    def __init__(self, n_features: int, schema: FeatureSchema | None = None) -> None:
        if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)):
            raise TypeError(f"n_features must be an int, got {type(n_features).__name__}")
        if n_features < 1:
            raise ValueError(f"n_features must be >= 1, got {n_features}")
        if schema is not None and schema.n_features != n_features:
            raise ValueError(
                f"the feature schema has {schema.n_features} features but n_features is "
                f"{n_features}; pass the builder's schema with its own width"
            )
        self._n_features = int(n_features)
        self.schema = schema

    @property
    def n_features(self) -> int:
        """Width of the rows the ranker scores."""
        return self._n_features

    @abstractmethod
    def fit(
        self,
        X: np.ndarray,
        labels: np.ndarray,
        groups: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> Ranker:
        """Train on labelled groups of rows; returns ``self``.

        Parameters
        ----------
        X : (n_rows, n_features) array, finite
        labels : (n_rows,) array, higher is better
        groups : sequence of int, the size of each query's run of rows (0 sizes are dropped)
        weights : (n_rows,) array, optional, per-row weights (e.g. inverse propensities)
        """

    @abstractmethod
    def _raw_scores(self, X: np.ndarray) -> np.ndarray:
        """Scores of validated float32 rows."""

    def score(self, X: np.ndarray) -> np.ndarray:
        """Score every row; higher ranks first.

        Returns
        -------
        (n_rows,) float64
        """
        return self._raw_scores(check_features(X, self._n_features))

    def score_candidates(self, candidates: CandidateFeatures) -> np.ndarray:
        """Scores of built candidates, after checking their schema against the model's."""
        if self.schema is not None:
            self.schema.check_compatible(candidates.schema)
        return self.score(candidates.X)

    def rank(self, X: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
        """Row indices ordered by decreasing score within each group.

        Ties keep row order, so equal scores always come out the same way.

        Parameters
        ----------
        X : (n_rows, n_features) array
        groups : sequence of int, optional; one group of all rows when omitted

        Returns
        -------
        (n_rows,) int64
            Indices into ``X``: the first group's rows, best first, then the next group's.
        """
        rows = check_features(X, self._n_features)
        _, indptr = (
            single_group(rows.shape[0]) if groups is None else check_groups(groups, rows.shape[0])
        )
        scores = self._raw_scores(rows)
        order = np.empty(rows.shape[0], dtype=np.int64)
        for start, end in itertools.pairwise(indptr):
            order[start:end] = start + np.argsort(-scores[start:end], kind="stable")
        return order

    # -- persistence -----------------------------------------------------------------------

    @abstractmethod
    def _state(self) -> tuple[dict[str, Any], dict[str, np.ndarray | bytes]]:
        """JSON-able parameters and the arrays (or raw bytes) that restore the ranker."""

    @classmethod
    @abstractmethod
    def _from_state(cls, params: dict[str, Any], arrays: dict[str, np.ndarray | bytes]) -> Ranker:
        """Rebuild a ranker from :meth:`_state`'s output."""

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the ranker to one file, atomically (see the module docstring)."""
        params, arrays = self._state()
        params = dict(params, n_features=self._n_features)
        if self.schema is not None:
            params["schema"] = self.schema.to_dict()
        write_ranker_file(path, self.kind, params, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Ranker:
        """Read a ranker saved by :meth:`save`; the file must hold this class's kind."""
        kind, params, arrays = read_ranker_file(path)
        if cls.kind and kind != cls.kind:
            raise RankerFormatError(f"{path}: holds a {kind!r} ranker, not a {cls.kind!r} one")
        return _rebuild(kind, params, arrays)


def _rebuild(kind: str, params: dict[str, Any], arrays: dict[str, Any]) -> Ranker:
    if kind not in RANKER_KINDS:
        known = ", ".join(sorted(RANKER_KINDS))
        raise RankerFormatError(f"unknown ranker kind {kind!r}; known kinds: {known}")
    ranker = RANKER_KINDS[kind]._from_state(params, arrays)
    schema = params.get("schema")
    ranker.schema = FeatureSchema.from_dict(schema) if schema is not None else None
    return ranker


def load_ranker(path: str | os.PathLike[str]) -> Ranker:
    """Read any ranker saved by :meth:`Ranker.save`, whatever its kind."""
    return _rebuild(*read_ranker_file(path))


def write_ranker_file(
    path: str | os.PathLike[str],
    kind: str,
    params: dict[str, Any],
    arrays: dict[str, np.ndarray | bytes],
) -> None:
    """Write a ranker file atomically: a temporary file beside ``path``, fsync, rename."""
    entries = []
    chunks = []
    offset = 0
    for name, value in arrays.items():
        if isinstance(value, bytes):
            raw, entry = value, {"name": name, "bytes": True}
        else:
            arr = np.ascontiguousarray(value)
            raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
            entry = {"name": name, "dtype": arr.dtype.newbyteorder("<").str, "shape": arr.shape}
        entry.update(offset=offset, nbytes=len(raw))
        entries.append(entry)
        chunks.append(raw)
        offset += len(raw)
    payload = b"".join(chunks)
    header = {
        "kind": kind,
        "params": params,
        "arrays": entries,
        "payload_bytes": len(payload),
        "crc32": zlib.crc32(payload),
    }
    header_raw = json.dumps(header, sort_keys=True).encode("utf-8")

    target = pathlib.Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(header_raw)))
            handle.write(header_raw)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        pathlib.Path(tmp_name).unlink(missing_ok=True)
        raise
    logger.debug("saved %s ranker to %s (%d bytes of arrays)", kind, target, len(payload))


def read_ranker_file(
    path: str | os.PathLike[str],
) -> tuple[str, dict[str, Any], dict[str, np.ndarray | bytes]]:
    """Read and verify a ranker file; returns its kind, parameters and arrays."""
    data = pathlib.Path(path).read_bytes()
    if len(data) < _PREFIX.size:
        raise RankerFormatError(f"{path}: too short to be a ranker file ({len(data)} bytes)")
    magic, version, header_len = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise RankerFormatError(f"{path}: not a ranker file (magic {magic!r})")
    if version > FORMAT_VERSION:
        raise RankerFormatError(
            f"{path}: format version {version} is newer than this release reads "
            f"({FORMAT_VERSION}); upgrade ltrr_fast"
        )
    start = _PREFIX.size + header_len
    try:
        header = json.loads(data[_PREFIX.size : start].decode("utf-8"))
        payload = data[start:]
        if len(payload) != header["payload_bytes"] or zlib.crc32(payload) != header["crc32"]:
            raise RankerFormatError(f"{path}: truncated or corrupt (payload check failed)")
        arrays: dict[str, np.ndarray | bytes] = {}
        for entry in header["arrays"]:
            raw = payload[entry["offset"] : entry["offset"] + entry["nbytes"]]
            if entry.get("bytes"):
                arrays[entry["name"]] = raw
            else:
                arr = np.frombuffer(raw, dtype=np.dtype(entry["dtype"]))
                arrays[entry["name"]] = arr.reshape(entry["shape"]).copy()
        return str(header["kind"]), dict(header["params"]), arrays
    except RankerFormatError:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise RankerFormatError(f"{path}: corrupt ranker header ({error})") from error
