"""The event log: every request and every feedback row, in SQLite (WAL mode).

Two tables. ``requests`` holds one row per search: time, user, query, context vector,
strategies chosen with their propensities and quotas, each strategy's candidates (external
ids) and their scores, what was served, whether shadow strategies ran (and their
candidates), per-stage latency and each strategy's status. ``feedback`` holds one row per
user action with the rewards it gave each strategy. Lists and mappings are stored as JSON
text, so the log is queryable with plain SQL (``json_extract``) and exportable to Parquet.

One connection serves every thread under a lock; WAL mode lets other processes read while
the engine writes.
"""

from __future__ import annotations

import json
import os
import pathlib
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    user TEXT,
    query TEXT NOT NULL,
    context TEXT NOT NULL,
    chosen TEXT NOT NULL,
    quotas TEXT NOT NULL,
    propensities TEXT NOT NULL,
    candidates TEXT NOT NULL,
    served TEXT NOT NULL,
    shadow INTEGER NOT NULL,
    shadow_candidates TEXT NOT NULL,
    latency_ms TEXT NOT NULL,
    status TEXT NOT NULL,
    candidate_scores TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS feedback (
    row INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests(request_id),
    ts REAL NOT NULL,
    item TEXT NOT NULL,
    action TEXT NOT NULL,
    position INTEGER,
    rewards TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_request ON feedback(request_id);
"""

REQUEST_COLUMNS: tuple[str, ...] = (
    "request_id",
    "ts",
    "user",
    "query",
    "context",
    "chosen",
    "quotas",
    "propensities",
    "candidates",
    "served",
    "shadow",
    "shadow_candidates",
    "latency_ms",
    "status",
    "candidate_scores",
)
FEEDBACK_COLUMNS: tuple[str, ...] = (
    "row",
    "request_id",
    "ts",
    "item",
    "action",
    "position",
    "rewards",
)
_JSON_COLUMNS = {
    "context",
    "chosen",
    "quotas",
    "propensities",
    "candidates",
    "served",
    "shadow_candidates",
    "latency_ms",
    "status",
    "rewards",
    "candidate_scores",
}


class EventLog:
    """Requests and feedback of one engine, in one SQLite file.

    Parameters
    ----------
    path : str or path-like
        The database file; created with its tables when missing. ``":memory:"`` keeps the
        log in memory (nothing survives the process).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            pathlib.Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == 1:  # version 2 added each strategy's candidate scores
            self._db.execute(
                "ALTER TABLE requests ADD COLUMN candidate_scores TEXT NOT NULL DEFAULT '{}'"
            )
            version = 0
        if version == 0:
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        elif version != SCHEMA_VERSION:
            self._db.close()
            raise ValueError(
                f"event log schema version {version} is not supported; this build reads "
                f"{SCHEMA_VERSION}"
            )

    def close(self) -> None:
        """Close the connection; later calls raise."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> EventLog:  # noqa: PYI034 - typing.Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_request(self, row: Mapping[str, Any]) -> None:
        """Append one request; ``row`` has every name of :data:`REQUEST_COLUMNS`."""
        values = [_encode(name, row[name]) for name in REQUEST_COLUMNS]
        marks = ", ".join("?" * len(values))
        with self._lock:
            self._db.execute(
                f"INSERT INTO requests ({', '.join(REQUEST_COLUMNS)}) VALUES ({marks})", values
            )

    def log_feedback(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append feedback rows in one transaction (every name of :data:`FEEDBACK_COLUMNS`
        except ``row``)."""
        names = FEEDBACK_COLUMNS[1:]
        values = [[_encode(name, r[name]) for name in names] for r in rows]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    f"INSERT INTO feedback ({', '.join(names)}) VALUES (?, ?, ?, ?, ?, ?)",
                    values,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def set_shadow_candidates(self, request_id: str, candidates: Mapping[str, Any]) -> None:
        """Record the candidates shadow strategies found for a logged request."""
        with self._lock:
            self._db.execute(
                "UPDATE requests SET shadow_candidates = ? WHERE request_id = ?",
                (_encode("shadow_candidates", dict(candidates)), request_id),
            )

    def backup_to(self, path: str | os.PathLike[str]) -> None:
        """Copy the whole log into a database file (replacing its contents)."""
        target = sqlite3.connect(str(path))
        try:
            with self._lock:
                self._db.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
        finally:
            target.close()

    def request(self, request_id: str) -> dict[str, Any] | None:
        """One logged request, decoded, or None."""
        with self._lock:
            cursor = self._db.execute(
                f"SELECT {', '.join(REQUEST_COLUMNS)} FROM requests WHERE request_id = ?",
                (request_id,),
            )
            found = cursor.fetchone()
        return None if found is None else _decode(REQUEST_COLUMNS, found)

    def has_feedback(self, request_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "SELECT 1 FROM feedback WHERE request_id = ? LIMIT 1", (request_id,)
            )
            return cursor.fetchone() is not None

    def count(self, table: str = "requests") -> int:
        if table not in ("requests", "feedback"):
            raise ValueError(f"table must be 'requests' or 'feedback', got {table!r}")
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def requests(self) -> Iterator[dict[str, Any]]:
        """Every request in logging order, decoded."""
        yield from self._rows("requests", REQUEST_COLUMNS, "rowid")

    def feedback(self) -> Iterator[dict[str, Any]]:
        """Every feedback row in logging order, decoded."""
        yield from self._rows("feedback", FEEDBACK_COLUMNS, "row")

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only SQL statement against the log."""
        if not sql.lstrip().lower().startswith(("select", "with")):
            raise ValueError("only SELECT (or WITH ... SELECT) statements are allowed")
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()

    def export_parquet(self, directory: str | os.PathLike[str]) -> list[pathlib.Path]:
        """Write ``requests.parquet`` and ``feedback.parquet``; needs pyarrow.

        JSON columns stay JSON text, so the files hold exactly what the log holds.
        """
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise ImportError(
                "Parquet export needs pyarrow: pip install 'ltrr-fast[parquet]'"
            ) from None
        out = pathlib.Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for table, columns in (("requests", REQUEST_COLUMNS), ("feedback", FEEDBACK_COLUMNS)):
            with self._lock:
                rows = self._db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            data = {name: [r[i] for r in rows] for i, name in enumerate(columns)}
            path = out / f"{table}.parquet"
            pq.write_table(pa.table(data), path)
            written.append(path)
        return written

    def _rows(self, table: str, columns: tuple[str, ...], order: str) -> Iterator[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"
            ).fetchall()
        for found in rows:
            yield _decode(columns, found)


def _encode(name: str, value: Any) -> Any:
    if name in _JSON_COLUMNS:
        return json.dumps(value, separators=(",", ":"))
    if name == "shadow":
        return int(bool(value))
    return value


def _decode(columns: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    return {
        name: json.loads(value) if name in _JSON_COLUMNS else value
        for name, value in zip(columns, values)
    }
