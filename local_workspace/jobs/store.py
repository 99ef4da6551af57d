"""Jobs and runs of the local workspace, in SQLite (``<data_dir>/jobs.sqlite``).

A job is its settings (``JobSettings.as_dict()`` JSON) plus creator and creation time. A run
is one JSON document (state, tasks with their attempts, parameters, repair history) rewritten
on every change; a few columns (job, start time, activity, idempotency token) are kept apart
for listing. Run ids, task run ids and repair ids share one increasing sequence, as on
Databricks. Task outputs live in files under ``<data_dir>/runs/<run_id>/<task_key>/attempt-<n>/``
(``result.json``: the outcome the API reports; the task runtime adds ``pid``, ``logs.txt``).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_workspace.sqlite_store import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    settings     TEXT NOT NULL,
    creator      TEXT NOT NULL,
    created_time INTEGER NOT NULL,
    runs_started INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS ids (id INTEGER PRIMARY KEY AUTOINCREMENT);
CREATE TABLE IF NOT EXISTS runs (
    run_id     INTEGER PRIMARY KEY,
    job_id     INTEGER,
    run_type   TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    active     INTEGER NOT NULL,
    doc        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_job ON runs(job_id, run_id);
CREATE TABLE IF NOT EXISTS task_runs (
    task_run_id INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL,
    task_key    TEXT NOT NULL
);
-- A token maps to its run for good (Databricks: 60 days); deleting the run keeps the token.
CREATE TABLE IF NOT EXISTS tokens (
    scope   TEXT NOT NULL,
    token   TEXT NOT NULL,
    run_id  INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, token)
);
"""

# Run ids start far from job ids so that mixing them up fails loudly instead of silently.
RUN_ID_BASE = 1_000_000
RESTART_MESSAGE = (
    "The local workspace stopped while this run was active (its process exited or was "
    "killed); the run was ended when the workspace restarted."
)


def now_ms() -> int:
    """Milliseconds since the epoch."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class JobRecord:
    """One stored job."""

    job_id: int
    settings: dict[str, Any]
    creator: str
    created_time: int


class JobsStore(SqliteStore):
    """The jobs database, safe to use from several threads."""

    def __init__(self, data_dir: Path) -> None:
        self.runs_dir = data_dir / "runs"
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(data_dir / "jobs.sqlite", _SCHEMA)

    # -- jobs --------------------------------------------------------------------------

    def create_job(self, settings: dict[str, Any], creator: str) -> int:
        """Store a new job; its id."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO jobs (name, settings, creator, created_time) VALUES (?, ?, ?, ?)",
                (str(settings.get("name") or ""), json.dumps(settings), creator, now_ms()),
            )
            return int(cursor.lastrowid or 0)

    def get_job(self, job_id: int) -> JobRecord | None:
        """A job by id, or None."""
        row = self.query_one(
            "SELECT job_id, settings, creator, created_time FROM jobs WHERE job_id = ?",
            (job_id,),
        )
        return JobRecord(row[0], json.loads(row[1]), row[2], row[3]) if row else None

    def list_jobs(self, name: str | None, offset: int, limit: int) -> tuple[list[JobRecord], bool]:
        """Jobs, most recent first, optionally of one name (case-insensitive); and has_more."""
        sql = "SELECT job_id, settings, creator, created_time FROM jobs"
        args: list[Any] = []
        if name is not None:
            sql += " WHERE lower(name) = lower(?)"
            args.append(name)
        sql += " ORDER BY job_id DESC LIMIT ? OFFSET ?"
        args += [limit + 1, offset]
        rows = self.query(sql, args)
        jobs = [JobRecord(r[0], json.loads(r[1]), r[2], r[3]) for r in rows]
        return jobs[:limit], len(jobs) > limit

    def save_job_settings(self, job_id: int, settings: dict[str, Any]) -> None:
        """Replace a job's settings."""
        with self.transaction() as db:
            db.execute(
                "UPDATE jobs SET name = ?, settings = ? WHERE job_id = ?",
                (str(settings.get("name") or ""), json.dumps(settings), job_id),
            )

    def delete_job(self, job_id: int) -> None:
        """Forget a job (its runs stay readable, as on Databricks until they expire)."""
        with self.transaction() as db:
            db.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))

    def next_number_in_job(self, job_id: int) -> int:
        """The sequence number of a job's next run."""
        with self.transaction() as db:
            db.execute(
                "UPDATE jobs SET runs_started = runs_started + 1 WHERE job_id = ?", (job_id,)
            )
            row = db.execute("SELECT runs_started FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return int(row[0]) if row else 0

    # -- ids and tokens ----------------------------------------------------------------

    def new_id(self) -> int:
        """A fresh id for a run, a task run or a repair."""
        with self.transaction() as db:
            cursor = db.execute("INSERT INTO ids DEFAULT VALUES")
            return RUN_ID_BASE + int(cursor.lastrowid or 0)

    def token_run(self, scope: str, token: str) -> tuple[int, bool] | None:
        """(run_id, deleted) of an idempotency token already used in ``scope``."""
        row = self.query_one(
            "SELECT run_id, deleted FROM tokens WHERE scope = ? AND token = ?", (scope, token)
        )
        return (int(row[0]), bool(row[1])) if row else None

    # -- runs --------------------------------------------------------------------------

    def insert_run(self, doc: dict[str, Any], token_scope: str | None) -> None:
        """Store a new run (and claim its idempotency token, if any)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs (run_id, job_id, run_type, start_time, active, doc) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    doc["run_id"],
                    doc.get("job_id"),
                    doc["run_type"],
                    doc["start_time"],
                    int(doc["active"]),
                    json.dumps(doc),
                ),
            )
            if token_scope is not None and doc.get("idempotency_token"):
                db.execute(
                    "INSERT INTO tokens (scope, token, run_id) VALUES (?, ?, ?)",
                    (token_scope, doc["idempotency_token"], doc["run_id"]),
                )
            self._index_tasks(db, doc)

    def save_run(self, doc: dict[str, Any]) -> None:
        """Rewrite a run's document."""
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET active = ?, start_time = ?, doc = ? WHERE run_id = ?",
                (int(doc["active"]), doc["start_time"], json.dumps(doc), doc["run_id"]),
            )
            self._index_tasks(db, doc)

    @staticmethod
    def _index_tasks(db: sqlite3.Connection, doc: dict[str, Any]) -> None:
        rows = [
            (attempt["run_id"], doc["run_id"], task["task_key"])
            for task in doc["tasks"]
            for attempt in [*task["history"], task]
        ]
        db.executemany(
            "INSERT OR IGNORE INTO task_runs (task_run_id, run_id, task_key) VALUES (?, ?, ?)",
            rows,
        )

    def get_run(self, run_id: int) -> dict[str, Any] | None:
        """A run's document, or None."""
        row = self.query_one("SELECT doc FROM runs WHERE run_id = ?", (run_id,))
        return json.loads(row[0]) if row else None

    def parent_of_task_run(self, task_run_id: int) -> tuple[int, str] | None:
        """(run_id, task_key) of a task run id."""
        row = self.query_one(
            "SELECT run_id, task_key FROM task_runs WHERE task_run_id = ?", (task_run_id,)
        )
        return (int(row[0]), str(row[1])) if row else None

    def list_runs(
        self,
        job_id: int | None,
        active: bool | None,
        run_type: str | None,
        start_from: int | None,
        start_to: int | None,
        offset: int,
        limit: int,
    ) -> tuple[list[dict[str, Any]], bool]:
        """Runs, most recent first, filtered; and has_more."""
        where: list[str] = []
        args: list[Any] = []
        for clause, value in (
            ("job_id = ?", job_id),
            ("active = ?", None if active is None else int(active)),
            ("run_type = ?", run_type),
            ("start_time >= ?", start_from),
            ("start_time <= ?", start_to),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        sql = "SELECT doc FROM runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY start_time DESC, run_id DESC LIMIT ? OFFSET ?"
        args += [limit + 1, offset]
        rows = self.query(sql, args)
        docs = [json.loads(r[0]) for r in rows]
        return docs[:limit], len(docs) > limit

    def active_runs(self) -> list[dict[str, Any]]:
        """Every run not yet finished."""
        rows = self.query("SELECT doc FROM runs WHERE active = 1")
        return [json.loads(r[0]) for r in rows]

    def delete_run(self, run_id: int) -> None:
        """Forget a run and its files; its idempotency token stays taken."""
        with self.transaction() as db:
            db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM task_runs WHERE run_id = ?", (run_id,))
            db.execute("UPDATE tokens SET deleted = 1 WHERE run_id = ?", (run_id,))
        shutil.rmtree(self.runs_dir / str(run_id), ignore_errors=True)

    def attempt_dir(self, run_id: int, task_key: str, attempt: int) -> Path:
        """Where one task attempt keeps its logs and outcome (created)."""
        path = self.runs_dir / str(run_id) / task_key / f"attempt-{attempt}"
        path.mkdir(parents=True, exist_ok=True)
        return path
