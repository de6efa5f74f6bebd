"""The catalog: one table from external ids to dense doc ids, shared by every strategy.

Each item has an external id (a non-empty string), text fields, keyword
attributes (each a tuple of values) and static scores (named floats such as
popularity). The catalog gives it a dense ``uint32`` doc id in insertion
order. Re-adding an id replaces the item in place and keeps its doc id;
deleting marks the slot dead and frees nothing, so an id another strategy
still holds stays valid to look up (and is reported dead by :meth:`is_live`).
"""

from __future__ import annotations

import json
import math
import threading
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

CATALOG_FORMAT_VERSION = 1
_MAGIC = b"LTRRCAT\x00"


class Catalog:
    """Items with text fields, attributes and static scores under dense doc ids.

    Parameters
    ----------
    text_fields : sequence of str
        Names of the text fields, e.g. ``("title", "artist", "album")``.
    attribute_keys : sequence of str, optional
        Names of the keyword attributes, e.g. ``("genre", "playlist")``.
    static_names : sequence of str, optional
        Names of the static scores, e.g. ``("popularity",)``.

    Notes
    -----
    Reads and writes take one lock, so threads may add, delete and read at
    once. Arrays returned by :meth:`static` are copies.
    """

    def __init__(
        self,
        text_fields: Sequence[str],
        attribute_keys: Sequence[str] = (),
        static_names: Sequence[str] = (),
    ) -> None:
        self.text_fields = _names(text_fields, "text_fields", allow_empty=False)
        self.attribute_keys = _names(attribute_keys, "attribute_keys")
        self.static_names = _names(static_names, "static_names")
        clash = set(self.text_fields) & set(self.attribute_keys)
        if clash:
            raise ValueError(f"names used both as text field and attribute: {sorted(clash)}")
        self._lock = threading.RLock()
        self._ids: list[str] = []
        self._position: dict[str, int] = {}
        self._texts: dict[str, list[str]] = {name: [] for name in self.text_fields}
        self._attributes: dict[str, list[tuple[str, ...]]] = {k: [] for k in self.attribute_keys}
        self._static: dict[str, list[float]] = {name: [] for name in self.static_names}
        # Live flags in a growable array, so checks cost what they ask, not the catalog size.
        self._live = np.zeros(64, dtype=bool)
        self._n_live = 0

    def __len__(self) -> int:
        """Number of live items."""
        return self._n_live

    @property
    def n_slots(self) -> int:
        """Number of doc ids ever given (live and dead)."""
        return len(self._ids)

    def __contains__(self, external_id: object) -> bool:
        with self._lock:
            i = self._position.get(external_id) if isinstance(external_id, str) else None
            return i is not None and self._live[i]

    def __repr__(self) -> str:
        return f"Catalog(n_items={len(self)}, text_fields={list(self.text_fields)})"

    def add(self, records: Iterable[Mapping[str, Any]]) -> np.ndarray:
        """Add items; all or nothing. Returns their doc ids (``uint32``).

        Each record is a mapping with ``"id"`` (str), and optionally
        ``"fields"`` (text field name to str), ``"attributes"`` (key to a
        str or a sequence of str) and ``"static"`` (name to a finite float).
        Missing fields are empty, missing attributes have no value and
        missing static scores are 0.
        """
        rows = [self._check_record(r, i) for i, r in enumerate(records)]
        with self._lock:
            doc_ids = np.empty(len(rows), dtype=np.uint32)
            for j, (ext, texts, attrs, static) in enumerate(rows):
                i = self._position.get(ext)
                if i is None:
                    i = len(self._ids)
                    self._position[ext] = i
                    self._ids.append(ext)
                    if i == self._live.shape[0]:
                        grown = np.zeros(2 * self._live.shape[0], dtype=bool)
                        grown[:i] = self._live
                        self._live = grown
                    for column in (*self._texts.values(), *self._attributes.values()):
                        column.append(None)  # type: ignore[arg-type]
                    for values in self._static.values():
                        values.append(0.0)
                for name in self.text_fields:
                    self._texts[name][i] = texts.get(name, "")
                for key in self.attribute_keys:
                    self._attributes[key][i] = attrs.get(key, ())
                for name in self.static_names:
                    self._static[name][i] = static.get(name, 0.0)
                if not self._live[i]:
                    self._live[i] = True
                    self._n_live += 1
                doc_ids[j] = i
            return doc_ids

    def delete(self, external_id: str) -> bool:
        """Mark an item dead; returns False when no live item has this id."""
        if not isinstance(external_id, str):
            raise TypeError(f"external_id must be str, got {type(external_id).__name__}")
        with self._lock:
            i = self._position.get(external_id)
            if i is None or not self._live[i]:
                return False
            self._live[i] = False
            self._n_live -= 1
            return True

    def doc_id(self, external_id: str) -> int | None:
        """Doc id of a live item, or None."""
        with self._lock:
            i = self._position.get(external_id)
            return i if i is not None and self._live[i] else None

    def doc_ids(self, external_ids: Iterable[str]) -> np.ndarray:
        """Doc ids of live items (``uint32``); raises KeyError naming an unknown id."""
        with self._lock:
            out = []
            for ext in external_ids:
                i = self._position.get(ext)
                if i is None or not self._live[i]:
                    raise KeyError(f"no live item with id {ext!r}")
                out.append(i)
            return np.asarray(out, dtype=np.uint32)

    def external_ids(self, doc_ids: Iterable[int] | np.ndarray) -> list[str]:
        """External ids of doc ids (live or dead); IndexError when out of range."""
        with self._lock:
            n = len(self._ids)
            out = []
            for i in np.asarray(doc_ids, dtype=np.int64).ravel().tolist():
                if not 0 <= i < n:
                    raise IndexError(f"doc id {i} out of range for a catalog of {n} slots")
                out.append(self._ids[i])
            return out

    def is_live(self, doc_ids: np.ndarray) -> np.ndarray:
        """Boolean mask: which doc ids name live items."""
        doc_ids = np.asarray(doc_ids, dtype=np.int64)
        out = np.zeros(doc_ids.shape, dtype=bool)
        with self._lock:
            inside = (doc_ids >= 0) & (doc_ids < len(self._ids))
            out[inside] = self._live[doc_ids[inside]]
        return out

    def text(self, field_name: str, doc_id: int) -> str:
        """One text field of one item."""
        with self._lock:
            return self._column(self._texts, field_name, "text field")[doc_id]

    def texts_of(self, field_name: str, doc_ids: Iterable[int] | np.ndarray) -> list[str]:
        """One text field of several items (one lock for all)."""
        with self._lock:
            column = self._column(self._texts, field_name, "text field")
            return [column[i] for i in np.asarray(doc_ids, dtype=np.int64).tolist()]

    def texts(self, field_name: str) -> list[str]:
        """A text field for every doc id (dead slots keep their last text)."""
        with self._lock:
            return list(self._column(self._texts, field_name, "text field"))

    def attributes(self, key: str) -> list[tuple[str, ...]]:
        """An attribute's values for every doc id."""
        with self._lock:
            return list(self._column(self._attributes, key, "attribute"))

    def static(self, name: str) -> np.ndarray:
        """A static score for every doc id, as float32."""
        with self._lock:
            return np.asarray(self._column(self._static, name, "static score"), np.float32)

    def live_mask(self) -> np.ndarray:
        """Boolean array over doc ids: True where the item is live."""
        with self._lock:
            return self._live[: len(self._ids)].copy()

    # Persistence

    def to_bytes(self) -> bytes:
        """The whole catalog, dead slots included, as checksummed JSON."""
        with self._lock:
            payload = json.dumps(
                {
                    "format_version": CATALOG_FORMAT_VERSION,
                    "text_fields": self.text_fields,
                    "attribute_keys": self.attribute_keys,
                    "static_names": self.static_names,
                    "ids": self._ids,
                    "live": self._live[: len(self._ids)].tolist(),
                    "texts": self._texts,
                    "attributes": self._attributes,
                    "static": self._static,
                },
                separators=(",", ":"),
            ).encode("utf-8")
        return _MAGIC + zlib.crc32(payload).to_bytes(4, "little") + payload

    @classmethod
    def from_bytes(cls, data: bytes) -> Catalog:
        """Restore a catalog saved by :meth:`to_bytes`; ValueError on foreign or corrupt data."""
        if not isinstance(data, (bytes, bytearray)) or data[: len(_MAGIC)] != _MAGIC:
            raise ValueError("not a saved Catalog")
        head = len(_MAGIC)
        payload = bytes(data[head + 4 :])
        if zlib.crc32(payload) != int.from_bytes(data[head : head + 4], "little"):
            raise ValueError("saved Catalog is corrupt: checksum mismatch")
        state = json.loads(payload)
        if state.get("format_version") != CATALOG_FORMAT_VERSION:
            raise ValueError(
                f"catalog format version {state.get('format_version')!r} is not supported; "
                f"this build reads {CATALOG_FORMAT_VERSION}"
            )
        catalog = cls(state["text_fields"], state["attribute_keys"], state["static_names"])
        catalog._ids = list(state["ids"])
        catalog._position = {ext: i for i, ext in enumerate(catalog._ids)}
        live = np.asarray(state["live"], dtype=bool)
        if live.shape != (len(catalog._ids),):
            raise ValueError("saved Catalog is inconsistent: live flags do not match the ids")
        catalog._live = np.zeros(max(64, 2 * live.shape[0]), dtype=bool)
        catalog._live[: live.shape[0]] = live
        catalog._n_live = int(live.sum())
        catalog._texts = {k: list(v) for k, v in state["texts"].items()}
        catalog._attributes = {
            k: [tuple(values) for values in column] for k, column in state["attributes"].items()
        }
        catalog._static = {k: [float(v) for v in column] for k, column in state["static"].items()}
        return catalog

    @staticmethod
    def _column(columns: dict[str, Any], name: str, kind: str) -> Any:
        try:
            return columns[name]
        except KeyError:
            raise KeyError(f"unknown {kind} {name!r}; known: {sorted(columns)}") from None

    def _check_record(
        self, record: Mapping[str, Any], i: int
    ) -> tuple[str, dict[str, str], dict[str, tuple[str, ...]], dict[str, float]]:
        if not isinstance(record, Mapping):
            raise TypeError(f"records[{i}] must be a mapping, got {type(record).__name__}")
        unknown = set(record) - {"id", "fields", "attributes", "static"}
        if unknown:
            raise ValueError(
                f"records[{i}] has unknown keys {sorted(unknown)}; "
                "expected id, fields, attributes, static"
            )
        ext = record.get("id")
        if not isinstance(ext, str) or not ext:
            raise ValueError(f"records[{i}]['id'] must be a non-empty str, got {ext!r}")
        texts = dict(record.get("fields") or {})
        for name, text in texts.items():
            if name not in self._texts:
                raise ValueError(
                    f"records[{i}] has unknown text field {name!r}; "
                    f"known: {list(self.text_fields)}"
                )
            if not isinstance(text, str):
                raise TypeError(
                    f"records[{i}]['fields'][{name!r}] must be str, got {type(text).__name__}"
                )
        attrs: dict[str, tuple[str, ...]] = {}
        for key, value in dict(record.get("attributes") or {}).items():
            if key not in self._attributes:
                raise ValueError(
                    f"records[{i}] has unknown attribute {key!r}; "
                    f"known: {list(self.attribute_keys)}"
                )
            values = (value,) if isinstance(value, str) else tuple(value)
            if not all(isinstance(v, str) for v in values):
                raise TypeError(f"records[{i}]['attributes'][{key!r}] must hold str values")
            attrs[key] = values
        static: dict[str, float] = {}
        for name, value in dict(record.get("static") or {}).items():
            if name not in self._static:
                raise ValueError(
                    f"records[{i}] has unknown static score {name!r}; "
                    f"known: {list(self.static_names)}"
                )
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(
                    f"records[{i}]['static'][{name!r}] must be a number, got {value!r}"
                )
            if not math.isfinite(float(value)):
                raise ValueError(f"records[{i}]['static'][{name!r}] must be finite, got {value}")
            static[name] = float(value)
        return ext, texts, attrs, static


def _names(names: Sequence[str], what: str, allow_empty: bool = True) -> tuple[str, ...]:
    if isinstance(names, str):
        raise TypeError(f"{what} must be a sequence of names, not a single str")
    out = tuple(names)
    if not out and not allow_empty:
        raise ValueError(f"{what} must name at least one field")
    for name in out:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{what} must hold non-empty str, got {name!r}")
    if len(set(out)) != len(out):
        raise ValueError(f"{what} has duplicates: {list(out)}")
    return out
