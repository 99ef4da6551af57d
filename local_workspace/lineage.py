"""Table and column lineage of the local workspace, in SQLite (``<data_dir>/lineage.sqlite``).

An edge says "``source`` was read to write ``target``", with who did it (an ``Entity``: a
query, a job run, a notebook, a pipeline update) and when it last happened. Column edges say
which source column feeds which target column. Names are public three-level names
(``catalog.schema.table``), lower-cased as Unity Catalog reports them. Edges are kept after a
table is dropped, as on Databricks (lineage is history, not the catalog's current state).

Recording is cheap (one small transaction) and callers must never fail a user's statement
because recording failed: ``record`` logs and swallows SQLite errors.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from local_workspace.sqlite_store import SqliteStore

log = logging.getLogger(__name__)

EntityKind = Literal["JOB", "NOTEBOOK", "PIPELINE", "QUERY"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS edges (
    source      TEXT NOT NULL,
    target      TEXT NOT NULL,
    entity_kind TEXT NOT NULL DEFAULT '',
    entity_id   TEXT NOT NULL DEFAULT '',
    entity_name TEXT,
    extra       TEXT,
    ts          INTEGER NOT NULL,
    PRIMARY KEY (source, target, entity_kind, entity_id)
);
CREATE INDEX IF NOT EXISTS edges_target ON edges(target);
CREATE TABLE IF NOT EXISTS column_edges (
    source_table  TEXT NOT NULL,
    source_column TEXT NOT NULL,
    target_table  TEXT NOT NULL,
    target_column TEXT NOT NULL,
    ts            INTEGER NOT NULL,
    PRIMARY KEY (source_table, source_column, target_table, target_column)
);
CREATE INDEX IF NOT EXISTS column_edges_target ON column_edges(target_table, target_column);
"""


@dataclass(frozen=True)
class Entity:
    """Who read or wrote: a job (run), a notebook, a pipeline (update) or a SQL query."""

    kind: EntityKind
    id: str  # job_id, notebook path, pipeline_id, statement id
    name: str | None = None
    extra: dict[str, Any] | None = (
        None  # e.g. {"job_run_id": ..., "task_key": ..., "update_id": ...}
    )


@dataclass(frozen=True)
class Edge:
    """One table-to-table edge as stored (``other`` is the upstream or downstream table)."""

    other: str
    entity: Entity | None
    timestamp_ms: int


@dataclass(frozen=True)
class ColumnEdge:
    """One column-to-column edge seen from the asked column."""

    table: str
    column: str
    timestamp_ms: int


def _norm(name: str) -> str:
    return name.strip().lower()


class LineageStore(SqliteStore):
    """The lineage database, safe to use from several threads."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir / "lineage.sqlite", _SCHEMA)

    def record(
        self,
        sources: Sequence[str],
        targets: Sequence[str],
        entity: Entity | None,
        columns: Iterable[tuple[str, str, str, str]] = (),
    ) -> None:
        """Record that ``sources`` were read to write ``targets`` (public three-level names).

        ``columns``: (source_table, source_column, target_table, target_column). A table
        reading itself (``INSERT INTO t SELECT ... FROM t``) is not an edge. Never raises on a
        storage problem: lineage must not fail the statement that produced it.
        """
        ts = int(time.time() * 1000)
        kind, ident = (entity.kind, entity.id) if entity else ("", "")
        name = entity.name if entity else None
        extra = json.dumps(entity.extra) if entity and entity.extra else None
        rows = [
            (_norm(s), _norm(t), kind, str(ident), name, extra, ts)
            for s in dict.fromkeys(sources)
            for t in dict.fromkeys(targets)
            if _norm(s) != _norm(t)
        ]
        col_rows = [
            (_norm(st), _norm(sc), _norm(tt), _norm(tc), ts)
            for st, sc, tt, tc in dict.fromkeys(columns)
            if (_norm(st), _norm(sc)) != (_norm(tt), _norm(tc))
        ]
        if not rows and not col_rows:
            return
        try:
            with self.transaction() as db:
                db.executemany(
                    "INSERT INTO edges VALUES (?,?,?,?,?,?,?) "
                    "ON CONFLICT(source, target, entity_kind, entity_id) DO UPDATE SET "
                    "entity_name=excluded.entity_name, extra=excluded.extra, ts=excluded.ts",
                    rows,
                )
                db.executemany(
                    "INSERT INTO column_edges VALUES (?,?,?,?,?) "
                    "ON CONFLICT DO UPDATE SET ts=excluded.ts",
                    col_rows,
                )
        except sqlite3.Error:
            log.exception("could not record lineage %s -> %s", sources, targets)

    def upstream(self, table: str) -> list[Edge]:
        """Edges into ``table`` (one level), newest first."""
        return self._edges(
            "SELECT source, entity_kind, entity_id, entity_name, extra, ts "
            "FROM edges WHERE target=?",
            table,
        )

    def downstream(self, table: str) -> list[Edge]:
        """Edges out of ``table`` (one level), newest first."""
        return self._edges(
            "SELECT target, entity_kind, entity_id, entity_name, extra, ts "
            "FROM edges WHERE source=?",
            table,
        )

    def known(self, table: str) -> bool:
        """Whether ``table`` takes part in any recorded edge."""
        row = self.query_one(
            "SELECT 1 FROM edges WHERE source=? OR target=? LIMIT 1", (_norm(table), _norm(table))
        )
        return row is not None

    def column_upstream(self, table: str, column: str) -> list[ColumnEdge]:
        """Source columns feeding ``table.column`` (one level)."""
        return self._columns(
            "SELECT source_table, source_column, ts FROM column_edges "
            "WHERE target_table=? AND target_column=? ORDER BY source_table, source_column",
            table,
            column,
        )

    def column_downstream(self, table: str, column: str) -> list[ColumnEdge]:
        """Target columns fed by ``table.column`` (one level)."""
        return self._columns(
            "SELECT target_table, target_column, ts FROM column_edges "
            "WHERE source_table=? AND source_column=? ORDER BY target_table, target_column",
            table,
            column,
        )

    def _edges(self, sql: str, table: str) -> list[Edge]:
        rows = self.query(sql + " ORDER BY ts DESC", (_norm(table),))
        edges = []
        for other, kind, ident, name, extra, ts in rows:
            entity = (
                Entity(kind, ident, name, json.loads(extra) if extra else None) if kind else None
            )
            edges.append(Edge(other, entity, ts))
        return edges

    def _columns(self, sql: str, table: str, column: str) -> list[ColumnEdge]:
        rows = self.query(sql, (_norm(table), _norm(column)))
        return [ColumnEdge(t, c, ts) for t, c, ts in rows]


def lineage_store(state: Any) -> LineageStore:
    """The workspace's lineage store (``state.services["lineage"]``), opened on first use."""
    store: LineageStore = state.service("lineage", lambda: LineageStore(state.config.data_dir))
    return store


# -- who ran a statement -----------------------------------------------------------------

# The query tag a job task's ``spark.sql`` puts on its Statement Execution requests. It names
# only the task run; everything else (job, run, notebook) is read from the workspace's own
# jobs store, and only while that task is running, so a client cannot label its statements
# with a job it is not: at worst it borrows a running task's name, and a label is all it is.
TASK_RUN_TAG = "dbx_devkit.task_run_id"
_ACTIVE = frozenset({"QUEUED", "PENDING", "RUNNING", "TERMINATING", "WAITING_FOR_RETRY", "BLOCKED"})


def job_entity(
    job_id: int | None,
    job_name: str,
    run_id: int,
    task_key: str,
    task_run_id: int,
    notebook_path: str | None = None,
) -> Entity:
    """The entity of a job task: the JOB (with run and task), or the NOTEBOOK of a one-time run."""
    extra: dict[str, Any] = {
        "job_run_id": run_id,
        "task_key": task_key,
        "task_run_id": task_run_id,
    }
    if notebook_path:
        extra["notebook_path"] = notebook_path
    if job_id is None and notebook_path:
        return Entity("NOTEBOOK", notebook_path, None, extra)
    return Entity("JOB", str(job_id or ""), job_name or None, extra)


def entity_from_tags(state: Any, tags: Any) -> Entity | None:
    """The job task entity named by a Statement Execution request's ``query_tags``, if any.

    None (the statement stays a QUERY) unless the tag names a task run that is running now.
    """
    if not isinstance(tags, list):
        return None
    raw = next(
        (t.get("value") for t in tags if isinstance(t, dict) and t.get("key") == TASK_RUN_TAG),
        None,
    )
    if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 18:
        return None
    jobs = state.services.get("jobs")
    if jobs is None:
        return None
    parent = jobs.store.parent_of_task_run(int(raw))
    doc = jobs.store.get_run(parent[0]) if parent else None
    if parent is None or doc is None:
        return None
    task = next((t for t in doc.get("tasks") or [] if t.get("task_key") == parent[1]), None)
    life = ((task or {}).get("state") or {}).get("life_cycle_state")
    if task is None or life not in _ACTIVE:
        return None
    notebook = (task.get("spec") or {}).get("notebook_task") or {}
    return job_entity(
        doc.get("job_id"),
        str(doc.get("run_name") or ""),
        int(doc["run_id"]),
        parent[1],
        int(raw),
        notebook.get("notebook_path"),
    )
