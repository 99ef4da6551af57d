"""Pipelines, their updates and their event logs, in SQLite (``<data_dir>/pipelines.sqlite``).

A pipeline is its spec (``PipelineSpec.as_dict()`` JSON) plus creator and times; an update is
one JSON document (``UpdateInfo``-shaped) rewritten on each state change; an event is one
``PipelineEvent``-shaped JSON document with a few columns kept apart for filtering and paging.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_workspace.sqlite_store import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pipelines (
    pipeline_id   TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    spec          TEXT NOT NULL,
    creator       TEXT NOT NULL,
    created_time  INTEGER NOT NULL,
    last_modified INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS updates (
    update_id     TEXT PRIMARY KEY,
    pipeline_id   TEXT NOT NULL,
    creation_time INTEGER NOT NULL,
    active        INTEGER NOT NULL,
    doc           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS updates_pipeline ON updates(pipeline_id, creation_time);
CREATE TABLE IF NOT EXISTS events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline_id TEXT NOT NULL,
    level       TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    timestamp   TEXT NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_pipeline ON events(pipeline_id, seq);
-- The tables a pipeline manages (dropped with it), and which pipeline owns each.
CREATE TABLE IF NOT EXISTS datasets (
    full_name   TEXT PRIMARY KEY,
    pipeline_id TEXT NOT NULL,
    kind        TEXT NOT NULL
);
"""


def now_ms() -> int:
    """Milliseconds since the epoch."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class PipelineRecord:
    """One stored pipeline."""

    pipeline_id: str
    spec: dict[str, Any]
    creator: str
    created_time: int
    last_modified: int

    @property
    def name(self) -> str:
        """The pipeline's name."""
        return str(self.spec.get("name") or "")


class PipelinesStore(SqliteStore):
    """The pipelines database, safe to use from several threads."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir / "pipelines.sqlite", _SCHEMA)

    # -- pipelines ---------------------------------------------------------------------

    def insert(self, pipeline_id: str, spec: dict[str, Any], creator: str) -> None:
        """Store a new pipeline."""
        now = now_ms()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO pipelines VALUES (?, ?, ?, ?, ?, ?)",
                (pipeline_id, str(spec.get("name") or ""), json.dumps(spec), creator, now, now),
            )

    def get(self, pipeline_id: str) -> PipelineRecord | None:
        """A pipeline by id, or None."""
        row = self.query_one(
            "SELECT pipeline_id, spec, creator, created_time, last_modified FROM pipelines "
            "WHERE pipeline_id = ?",
            (pipeline_id,),
        )
        return PipelineRecord(row[0], json.loads(row[1]), row[2], row[3], row[4]) if row else None

    def by_name(self, name: str) -> PipelineRecord | None:
        """A pipeline by exact name, or None."""
        row = self.query_one("SELECT pipeline_id FROM pipelines WHERE name = ?", (name,))
        return self.get(row[0]) if row else None

    def all(self) -> list[PipelineRecord]:
        """Every pipeline, by id."""
        rows = self.query(
            "SELECT pipeline_id, spec, creator, created_time, last_modified FROM pipelines "
            "ORDER BY pipeline_id"
        )
        return [PipelineRecord(r[0], json.loads(r[1]), r[2], r[3], r[4]) for r in rows]

    def save(self, pipeline_id: str, spec: dict[str, Any]) -> None:
        """Replace a pipeline's spec."""
        with self.transaction() as db:
            db.execute(
                "UPDATE pipelines SET name = ?, spec = ?, last_modified = ? WHERE pipeline_id = ?",
                (str(spec.get("name") or ""), json.dumps(spec), now_ms(), pipeline_id),
            )

    def delete(self, pipeline_id: str) -> None:
        """Forget a pipeline, its updates and its events."""
        with self.transaction() as db:
            for table in ("pipelines", "updates", "events"):
                db.execute(f"DELETE FROM {table} WHERE pipeline_id = ?", (pipeline_id,))

    # -- updates -----------------------------------------------------------------------

    def save_update(self, doc: dict[str, Any], active: bool) -> None:
        """Insert or rewrite an update's document."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO updates VALUES (?, ?, ?, ?, ?)",
                (
                    doc["update_id"],
                    doc["pipeline_id"],
                    doc["creation_time"],
                    int(active),
                    json.dumps(doc),
                ),
            )

    def get_update(self, update_id: str) -> dict[str, Any] | None:
        """An update's document, or None."""
        row = self.query_one("SELECT doc FROM updates WHERE update_id = ?", (update_id,))
        return json.loads(row[0]) if row else None

    def updates(
        self, pipeline_id: str, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """A pipeline's updates, newest first; and has_more."""
        rows = self.query(
            "SELECT doc FROM updates WHERE pipeline_id = ? "
            "ORDER BY creation_time DESC, rowid DESC LIMIT ? OFFSET ?",
            (pipeline_id, limit + 1, offset),
        )
        docs = [json.loads(r[0]) for r in rows]
        return docs[:limit], len(docs) > limit

    def active_updates(self) -> list[dict[str, Any]]:
        """Every update not yet finished."""
        rows = self.query("SELECT doc FROM updates WHERE active = 1")
        return [json.loads(r[0]) for r in rows]

    # -- events ------------------------------------------------------------------------

    def add_event(self, pipeline_id: str, doc: dict[str, Any]) -> int:
        """Append an event; its sequence number."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO events (pipeline_id, level, event_type, timestamp, doc) "
                "VALUES (?, ?, ?, ?, ?)",
                (pipeline_id, doc["level"], doc["event_type"], doc["timestamp"], json.dumps(doc)),
            )
            return int(cursor.lastrowid or 0)

    def events(
        self,
        pipeline_id: str,
        where: list[tuple[str, list[Any]]],
        ascending: bool,
        offset: int,
        limit: int,
    ) -> tuple[list[dict[str, Any]], bool]:
        """A pipeline's events in sequence order, filtered by SQL clauses we build ourselves."""
        sql = "SELECT seq, doc FROM events WHERE pipeline_id = ?"
        args: list[Any] = [pipeline_id]
        for clause, values in where:
            sql += f" AND {clause}"
            args.extend(values)
        sql += f" ORDER BY seq {'ASC' if ascending else 'DESC'} LIMIT ? OFFSET ?"
        args += [limit + 1, offset]
        rows = self.query(sql, args)
        docs = []
        for seq, raw in rows:
            doc = json.loads(raw)
            doc["sequence"] = {"control_plane_seq_no": str(seq)}
            docs.append(doc)
        return docs[:limit], len(docs) > limit

    # -- datasets ----------------------------------------------------------------------

    def owner_of(self, full_name: str) -> str | None:
        """The pipeline that manages the table ``full_name``, or None."""
        row = self.query_one("SELECT pipeline_id FROM datasets WHERE full_name = ?", (full_name,))
        return str(row[0]) if row else None

    def claim(self, full_name: str, pipeline_id: str, kind: str) -> None:
        """Record that ``pipeline_id`` manages the table ``full_name`` (a ``kind`` dataset)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO datasets VALUES (?, ?, ?)", (full_name, pipeline_id, kind)
            )

    def datasets(self, pipeline_id: str) -> list[str]:
        """Full names of the tables ``pipeline_id`` manages."""
        rows = self.query("SELECT full_name FROM datasets WHERE pipeline_id = ?", (pipeline_id,))
        return [str(row[0]) for row in rows]

    def forget_datasets(self, pipeline_id: str) -> None:
        """Forget which tables ``pipeline_id`` manages."""
        with self.transaction() as db:
            db.execute("DELETE FROM datasets WHERE pipeline_id = ?", (pipeline_id,))
