"""Engine directory generations, the SQLite event log and catalog persistence."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from ltrr_fast.index.catalog import Catalog
from ltrr_fast.store import (
    EngineFormatError,
    EventLog,
    generation_files,
    read_manifest,
    write_generation,
)
from ltrr_fast.store.eventlog import REQUEST_COLUMNS


def writer(text: str):
    def write(path):
        path.write_text(text, encoding="utf-8")

    return write


def test_a_generation_is_written_verified_and_replaces_the_previous_one(tmp_path):
    assert write_generation(tmp_path, {"a.txt": writer("one")}, {"k": 1}) == 1
    assert write_generation(tmp_path, {"a.txt": writer("two")}, {"k": 2}) == 2
    manifest = read_manifest(tmp_path)
    folder = generation_files(tmp_path, manifest)
    assert (folder / "a.txt").read_text() == "two" and manifest["config"] == {"k": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gen-000002", "manifest.json"]


def test_a_save_that_fails_midway_leaves_the_previous_state_whole(tmp_path):
    write_generation(tmp_path, {"a.txt": writer("one"), "b.txt": writer("uno")}, {})

    def broken(path):
        path.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_generation(tmp_path, {"a.txt": writer("two"), "b.txt": broken}, {})
    folder = generation_files(tmp_path, read_manifest(tmp_path))
    assert (folder / "a.txt").read_text() == "one" and (folder / "b.txt").read_text() == "uno"
    # The next save overwrites the abandoned generation and succeeds.
    assert write_generation(tmp_path, {"a.txt": writer("three")}, {}) == 2


def test_corrupt_foreign_and_future_directories_are_refused(tmp_path):
    with pytest.raises(EngineFormatError, match="manifest.json is missing"):
        read_manifest(tmp_path)
    write_generation(tmp_path, {"a.txt": writer("one")}, {})
    folder = generation_files(tmp_path, read_manifest(tmp_path))
    (folder / "a.txt").write_text("tampered", encoding="utf-8")
    with pytest.raises(EngineFormatError, match="checksum"):
        generation_files(tmp_path, read_manifest(tmp_path))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["format_version"] = 99
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(EngineFormatError, match="version 99 is not supported"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(EngineFormatError, match="unreadable"):
        read_manifest(tmp_path)


def request_row(request_id: str, **changes):
    row = {
        "request_id": request_id,
        "ts": 1.5,
        "user": "u1",
        "query": "tayler love",
        "context": [1.0, 0.5],
        "chosen": ["fuzzy", "memory"],
        "quotas": [60, 40],
        "propensities": {"fuzzy": 0.9, "memory": 0.55, "lexical": 0.55},
        "candidates": {"fuzzy": ["t1", "t2"], "memory": ["t2"]},
        "served": ["t2", "t1"],
        "shadow": False,
        "shadow_candidates": {},
        "latency_ms": {"retrieve": 0.8},
        "status": {"fuzzy": "ok", "memory": "ok"},
        "candidate_scores": {"fuzzy": [0.9, 0.5], "memory": [0.7]},
    }
    row.update(changes)
    return row


def test_the_event_log_keeps_requests_and_feedback_queryable(tmp_path):
    path = tmp_path / "events.sqlite3"
    with EventLog(path) as log:
        log.log_request(request_row("r1"))
        log.log_request(request_row("r2", shadow=True, shadow_candidates={"lexical": ["t9"]}))
        log.log_feedback(
            [
                {
                    "request_id": "r1",
                    "ts": 2.0,
                    "item": "t2",
                    "action": "play",
                    "position": 0,
                    "rewards": {"fuzzy": 1.0, "memory": 1.0},
                }
            ]
        )
        assert log.request("r2")["shadow_candidates"] == {"lexical": ["t9"]}
        assert log.request("nope") is None
        assert log.has_feedback("r1") and not log.has_feedback("r2")
        assert log.count("requests") == 2 and log.count("feedback") == 1
        got = log.query(
            "SELECT json_extract(propensities, '$.fuzzy') FROM requests WHERE request_id = ?",
            ("r1",),
        )
        assert got == [(0.9,)]
        with pytest.raises(ValueError, match="only SELECT"):
            log.query("DELETE FROM requests")
        with pytest.raises(sqlite3.IntegrityError):
            log.log_request(request_row("r1"))  # a request id is logged once
    reopened = EventLog(path)
    assert [r["request_id"] for r in reopened.requests()] == ["r1", "r2"]
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    reopened.close()


def test_the_event_log_exports_to_parquet(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    log = EventLog(tmp_path / "events.sqlite3")
    for i in range(3):
        log.log_request(request_row(f"r{i}"))
    requests, feedback = log.export_parquet(tmp_path / "out")
    table = pq.read_table(requests)
    assert table.num_rows == 3 and table.column("request_id").to_pylist() == ["r0", "r1", "r2"]
    assert json.loads(table.column("propensities")[0].as_py())["fuzzy"] == 0.9
    assert pq.read_table(feedback).num_rows == 0


def test_threads_logging_at_once_lose_nothing(tmp_path):
    log = EventLog(tmp_path / "events.sqlite3")

    def work(t):
        for i in range(100):
            log.log_request(request_row(f"t{t}-{i}"))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.count() == 400


def test_a_catalog_round_trips_and_refuses_corrupt_bytes():
    catalog = Catalog(("title",), ("genre",), ("popularity",))
    catalog.add(
        [
            {"id": "a", "fields": {"title": "Love"}, "attributes": {"genre": ["pop", "r&b"]}},
            {"id": "b", "fields": {"title": "Stan"}, "static": {"popularity": 7.5}},
        ]
    )
    catalog.delete("a")
    data = catalog.to_bytes()
    copy = Catalog.from_bytes(data)
    assert copy.to_bytes() == data and len(copy) == 1 and "a" not in copy
    assert copy.attributes("genre")[0] == ("pop", "r&b") and copy.static("popularity")[1] == 7.5
    assert copy.add([{"id": "c"}]).tolist() == [2]
    with pytest.raises(ValueError, match="checksum"):
        Catalog.from_bytes(data[:-1] + b"x")
    with pytest.raises(ValueError, match="not a saved Catalog"):
        Catalog.from_bytes(b"hello")


def test_a_version_1_event_log_is_migrated_in_place(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    columns = ", ".join(
        f"{c} TEXT" for c in REQUEST_COLUMNS if c not in ("candidate_scores", "request_id")
    )
    old.execute(f"CREATE TABLE requests (request_id TEXT PRIMARY KEY, {columns})")
    old.execute("INSERT INTO requests (request_id, ts, query) VALUES ('r0', 1.0, 'q')")
    old.execute("PRAGMA user_version=1")
    old.commit()
    old.close()
    log = EventLog(path)
    assert log.query("SELECT candidate_scores FROM requests WHERE request_id = 'r0'") == [("{}",)]
    log.log_request(request_row("r1"))
    assert log.request("r1")["candidate_scores"]["fuzzy"] == [0.9, 0.5]
    version = sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]
    assert version == 2
    log.close()
