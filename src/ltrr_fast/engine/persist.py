"""Saving and loading a whole engine directory (see :mod:`ltrr_fast.store.directory`).

State files of one generation:

==================  ==========================================================
``catalog.bin``     the catalog, dead slots included
``embedder.lsa``    the fitted LSA embedder (when a vector strategy is built)
``vectors.usearch`` the item vectors (idem)
``memory.q2e``      the query-to-item memory (when the memory strategy is built)
``policy.npz``      the bandit, its random generator included
``ranker.bin``      the online ranker
``learners.json``   users' summaries and histories, exposure counts, action-feature
                    statistics, counters and the engine's random generator
==================  ==========================================================

Indexes that are pure functions of the catalog (the lexical and fuzzy indexes, query
understanding) are rebuilt on load rather than stored, which keeps the directory small and
the format free of their internals; loading a large catalog takes their build time.
"""

from __future__ import annotations

import ast
import json
import os
import pathlib
from typing import TYPE_CHECKING, Any

from ltrr_fast.bandit import StrategyPolicy, UserSummary
from ltrr_fast.engine.config import EngineConfig
from ltrr_fast.index.catalog import Catalog
from ltrr_fast.index.embedding import LSAEmbedder
from ltrr_fast.index.vectors import VectorIndex
from ltrr_fast.ranking import load_ranker
from ltrr_fast.store import EventLog, generation_files, read_manifest, write_generation
from ltrr_fast.strategies.memory import MemoryIndex

if TYPE_CHECKING:
    from ltrr_fast.engine.core import Engine

EVENTS = "events.sqlite3"


def save_engine(engine: Engine, directory: str | os.PathLike[str]) -> None:
    """Write the engine's state as a new generation of ``directory``."""
    root = pathlib.Path(directory)
    with engine._lock:
        writers: dict[str, Any] = {
            "catalog.bin": _bytes_writer(engine.catalog.to_bytes()),
            "policy.npz": _bytes_writer(engine.policy.to_bytes()),
            "learners.json": _bytes_writer(json.dumps(_learners(engine)).encode("utf-8")),
            "ranker.bin": engine.ranker.save,
        }
        parts = engine.parts
        if parts.get("embedder") is not None:
            writers["embedder.lsa"] = parts["embedder"].save
            writers["vectors.usearch"] = parts["vectors"].save
        if engine.memory is not None:
            writers["memory.q2e"] = engine.memory.save
        config = {
            "engine": engine.config.to_dict(),
            "build": parts.get("build_options", {}),
            "arms": list(engine.arms),
        }
        write_generation(root, writers, config)


def load_engine(directory: str | os.PathLike[str], event_log: bool = True) -> Engine:
    """Restore an engine saved by :func:`save_engine`."""
    from ltrr_fast.engine.core import Engine

    root = pathlib.Path(directory)
    manifest = read_manifest(root)
    folder = generation_files(root, manifest)
    config = EngineConfig.from_dict(manifest["config"]["engine"])
    build = dict(manifest["config"].get("build", {}))
    catalog = Catalog.from_bytes((folder / "catalog.bin").read_bytes())
    preloaded: dict[str, Any] = {}
    if (folder / "embedder.lsa").exists():
        preloaded["embedder"] = LSAEmbedder.load(folder / "embedder.lsa")
        preloaded["vectors"] = VectorIndex.load(folder / "vectors.usearch")
    if (folder / "memory.q2e").exists():
        preloaded["memory"] = MemoryIndex.load(folder / "memory.q2e")
    log = EventLog(root / EVENTS) if event_log else None
    engine = Engine.from_catalog(
        catalog,
        config,
        strategies=tuple(manifest["config"]["arms"]),
        event_log=log,
        preloaded=preloaded,
        **build,
    )
    engine.policy = StrategyPolicy.from_bytes((folder / "policy.npz").read_bytes())
    engine.ranker = load_ranker(folder / "ranker.bin")
    _restore_learners(engine, json.loads((folder / "learners.json").read_text("utf-8")))
    return engine


def _bytes_writer(data: bytes):
    def write(path: pathlib.Path) -> None:
        path.write_bytes(data)

    return write


def _learners(engine: Engine) -> dict[str, Any]:
    state: dict[str, Any] = {
        "n_requests": engine._n_requests,
        "rng": repr(engine._rng.bit_generator.state),
        "users": {u: [s.n_actions, s.last_action_time] for u, s in engine._users.items()},
        "action_features": engine.action_features.state(),
    }
    if engine.explore is not None:
        state["explore"] = engine.explore.state()
    if engine.personal is not None:
        state["personal"] = engine.personal.state()
    return state


def _restore_learners(engine: Engine, state: dict[str, Any]) -> None:
    engine._n_requests = int(state["n_requests"])
    engine._rng.bit_generator.state = ast.literal_eval(state["rng"])
    engine._users = {
        u: UserSummary(int(n), None if t is None else float(t))
        for u, (n, t) in state["users"].items()
    }
    engine.action_features.load_state(state["action_features"])
    if engine.explore is not None and "explore" in state:
        engine.explore.load_state(state["explore"])
    if engine.personal is not None and "personal" in state:
        engine.personal.load_state(state["personal"])
