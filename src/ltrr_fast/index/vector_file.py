"""The vector index file: our small header, then the USearch payload.

Header (little-endian): magic ``LTRRVEC\\0``, format version, dimension, metric code, vector
count, exact-search threshold, HNSW connectivity and expansion settings, payload length and
the payload's CRC-32. The checksum is verified before USearch sees a byte of the payload.
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import Any

from ltrr_fast.index.vector_checks import METRICS

FORMAT_VERSION = 1
_MAGIC = b"LTRRVEC\x00"
_HEADER = struct.Struct("<8sIIIQQIIIQI")
_FIELDS = (
    "dim",
    "metric",
    "count",
    "exact_threshold",
    "connectivity",
    "expansion_add",
    "expansion_search",
)


class VectorFormatError(ValueError):
    """A vector index file that is foreign, truncated, corrupt or of another version."""


def pack_header(settings: dict[str, Any], payload: bytes) -> bytes:
    """The header for a payload; ``settings`` holds the names of ``_FIELDS``."""
    values = [settings[name] for name in _FIELDS]
    values[1] = METRICS.index(values[1])
    return _HEADER.pack(_MAGIC, FORMAT_VERSION, *values, len(payload), zlib.crc32(payload))


def read_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], bytes]:
    """Settings and the checked payload of a vector index file."""
    name = os.fspath(path)
    with open(name, "rb") as handle:
        data = handle.read()
    if len(data) < _HEADER.size or data[:8] != _MAGIC:
        raise VectorFormatError(f"{name!r} is not a vector index file")
    _, version, *values, n_payload, crc = _HEADER.unpack_from(data)
    if version != FORMAT_VERSION:
        raise VectorFormatError(
            f"vector index format version {version} not supported (this build reads "
            f"version {FORMAT_VERSION})"
        )
    settings = dict(zip(_FIELDS, values))
    if settings["metric"] >= len(METRICS) or settings["dim"] == 0:
        raise VectorFormatError(f"corrupt vector index header in {name!r}")
    settings["metric"] = METRICS[settings["metric"]]
    payload = data[_HEADER.size :]
    if len(payload) != n_payload or zlib.crc32(payload) != crc:
        raise VectorFormatError(
            f"vector index {name!r} is truncated or corrupt (payload of {len(payload)} bytes, "
            f"header says {n_payload}, or its checksum differs)"
        )
    return settings, payload
