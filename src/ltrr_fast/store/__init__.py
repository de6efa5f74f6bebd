"""Engine directory (manifest, atomic generations) and the SQLite event log."""

from __future__ import annotations

from ltrr_fast.store.directory import (
    ENGINE_FORMAT_VERSION,
    EngineFormatError,
    generation_files,
    read_manifest,
    write_generation,
)
from ltrr_fast.store.eventlog import EventLog

__all__ = [
    "ENGINE_FORMAT_VERSION",
    "EngineFormatError",
    "EventLog",
    "generation_files",
    "read_manifest",
    "write_generation",
]
