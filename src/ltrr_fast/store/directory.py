"""An engine directory: generations of state files under one atomically replaced manifest.

Layout::

    <root>/manifest.json        format version, configuration, current generation, checksums
    <root>/gen-000007/...       the state files of generation 7
    <root>/events.sqlite3       the event log (append-only, outside generations)

A save writes every state file into a fresh generation directory, fsyncs them and the
directory, then replaces ``manifest.json`` by an atomic rename (after an fsync of the new
manifest), and only then removes older generations. A crash at any point leaves the previous
manifest and its generation whole. A load checks the format version and every file's
SHA-256 before anything is read, so a corrupt, truncated or foreign directory raises
:class:`EngineFormatError` instead of loading half a state.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import shutil
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

#: Version of the directory layout and manifest; bumped on incompatible change.
ENGINE_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_MAGIC = "ltrr_fast engine"


class EngineFormatError(ValueError):
    """An engine directory that is missing, foreign, corrupt or of an unsupported version."""


def _fsync_path(path: pathlib.Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(root: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of an engine directory, checked for format and version."""
    root = pathlib.Path(root)
    path = root / MANIFEST
    if not path.is_file():
        raise EngineFormatError(f"{root} is not an engine directory: {MANIFEST} is missing")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise EngineFormatError(f"{path} is unreadable: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("magic") != _MAGIC:
        raise EngineFormatError(f"{path} is not an ltrr_fast engine manifest")
    version = manifest.get("format_version")
    if version != ENGINE_FORMAT_VERSION:
        raise EngineFormatError(
            f"engine format version {version!r} is not supported; this build reads "
            f"version {ENGINE_FORMAT_VERSION}"
        )
    return manifest


def generation_files(root: str | os.PathLike[str], manifest: Mapping[str, Any]) -> pathlib.Path:
    """Directory of the manifest's generation, every file verified against its checksum."""
    root = pathlib.Path(root)
    folder = root / f"gen-{int(manifest['generation']):06d}"
    files = manifest.get("files", {})
    for name, expected in files.items():
        path = folder / name
        if not path.is_file():
            raise EngineFormatError(f"{path} is missing from the engine directory")
        if _sha256(path) != expected:
            raise EngineFormatError(f"{path} does not match its checksum; the file is corrupt")
    return folder


def write_generation(
    root: str | os.PathLike[str],
    writers: Mapping[str, Callable[[pathlib.Path], None]],
    config: Mapping[str, Any],
) -> int:
    """Write a new generation and switch the manifest to it; returns its number.

    ``writers`` maps a file name to a function that writes that file at the path it is
    given. ``config`` is stored in the manifest as is (it must be JSON-serialisable).
    """
    root = pathlib.Path(root)
    root.mkdir(parents=True, exist_ok=True)
    previous = 0
    if (root / MANIFEST).exists():
        previous = int(read_manifest(root)["generation"])
    generation = previous + 1
    folder = root / f"gen-{generation:06d}"
    if folder.exists():  # left by a save that crashed before its manifest was written
        shutil.rmtree(folder)
    folder.mkdir()
    checksums = {}
    for name, write in writers.items():
        if "/" in name or name in ("", ".", ".."):
            raise ValueError(f"state file names must be plain names, got {name!r}")
        path = folder / name
        write(path)
        _fsync_path(path)
        checksums[name] = _sha256(path)
    _fsync_path(folder)
    manifest = {
        "magic": _MAGIC,
        "format_version": ENGINE_FORMAT_VERSION,
        "generation": generation,
        "files": checksums,
        "config": dict(config),
    }
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, indent=2, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, root / MANIFEST)
    except BaseException:
        pathlib.Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_path(root)
    for old in root.glob("gen-*"):
        if old.is_dir() and old != folder:
            shutil.rmtree(old, ignore_errors=True)
    return generation
