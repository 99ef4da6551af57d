"""SQLite metadata DuckDB has no place for: owners, timestamps, comments, volumes, grants."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from local_workspace.sqlite_store import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalogs (
    name TEXT PRIMARY KEY, comment TEXT, owner TEXT NOT NULL, properties TEXT,
    created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL, id TEXT NOT NULL
);
-- Schemas, tables and views: DuckDB holds the objects, this holds who/when/comment.
CREATE TABLE IF NOT EXISTS objects (
    kind TEXT NOT NULL, full_name TEXT NOT NULL, comment TEXT, owner TEXT NOT NULL,
    created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL, id TEXT NOT NULL, extra TEXT,
    PRIMARY KEY (kind, full_name)
);
CREATE TABLE IF NOT EXISTS volumes (
    full_name TEXT PRIMARY KEY, catalog_name TEXT NOT NULL, schema_name TEXT NOT NULL,
    name TEXT NOT NULL, volume_type TEXT NOT NULL, storage_location TEXT NOT NULL,
    comment TEXT, owner TEXT NOT NULL, created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL, id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS grants (
    securable_type TEXT NOT NULL, full_name TEXT NOT NULL, principal TEXT NOT NULL,
    privilege TEXT NOT NULL,
    PRIMARY KEY (securable_type, full_name, principal, privilege)
);
"""


def now_ms() -> int:
    """Milliseconds since the epoch, as Unity Catalog reports times."""
    return int(time.time() * 1000)


class MetaStore(SqliteStore):
    """The SQLite file ``uc.sqlite``: rows come back as dicts."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)
        self._db.row_factory = sqlite3.Row

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Query rows as dicts."""
        return [dict(row) for row in self.query(sql, params)]

    def row(self, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        """The first row, or None."""
        found = self.rows(sql, params)
        return found[0] if found else None

    def setting(self, key: str) -> str | None:
        """A value of the settings table."""
        found = self.row("SELECT value FROM settings WHERE key = ?", (key,))
        return None if found is None else str(found["value"])

    def set_setting(self, key: str, value: str) -> None:
        """Store a value in the settings table."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))


def dumps(value: dict[str, str] | None) -> str | None:
    """Properties as stored JSON."""
    return json.dumps(value) if value else None


def loads(value: str | None) -> dict[str, str] | None:
    """Stored JSON properties."""
    return json.loads(value) if value else None
