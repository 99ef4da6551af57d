"""The change log of each table (what ``DESCRIBE HISTORY`` shows): one version per committed
write, stored in ``uc.sqlite``.

DuckDB keeps no versions, so the SQL engine reports every write statement it ran
(CREATE TABLE [AS SELECT], INSERT, UPDATE, DELETE, MERGE, TRUNCATE, ALTER ...) with
Databricks' operation name, parameters and metrics. A dropped table's history goes with it,
so a table created again under the same name starts at version 0, as a new Delta table does.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local_workspace.catalog.meta import now_ms

if TYPE_CHECKING:
    from local_workspace.catalog.meta import MetaStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS table_history (
    full_name TEXT NOT NULL, version INTEGER NOT NULL, timestamp INTEGER NOT NULL,
    user_name TEXT NOT NULL, operation TEXT NOT NULL, parameters TEXT NOT NULL,
    metrics TEXT NOT NULL, blind_append INTEGER NOT NULL,
    PRIMARY KEY (full_name, version)
);
"""


class TableHistory:
    """Versions of tables (names are public and lowercased)."""

    def __init__(self, meta: MetaStore, owner: str) -> None:
        self.meta = meta
        self.owner = owner
        with meta.transaction() as db:
            db.execute(_SCHEMA)

    def record(
        self,
        full_name: str,
        operation: str,
        parameters: dict[str, str],
        metrics: dict[str, str] | None = None,
        blind_append: bool = False,
        fresh: bool = False,
    ) -> int:
        """Append a version (``fresh``: a new table replaces the old log); its number."""
        name = full_name.lower()
        with self.meta.transaction() as db:
            if fresh:
                db.execute("DELETE FROM table_history WHERE full_name = ?", (name,))
            row = db.execute(
                "SELECT max(version) FROM table_history WHERE full_name = ?", (name,)
            ).fetchone()
            version = 0 if row is None or row[0] is None else int(row[0]) + 1
            db.execute(
                "INSERT INTO table_history VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    version,
                    now_ms(),
                    self.owner,
                    operation,
                    json.dumps(parameters),
                    json.dumps(metrics or {}),
                    int(blind_append),
                ),
            )
        return version

    def of(self, full_name: str, limit: int | None = None) -> list[dict[str, Any]]:
        """Versions of a table, newest first."""
        sql = "SELECT * FROM table_history WHERE full_name = ? ORDER BY version DESC"
        params: tuple[Any, ...] = (full_name.lower(),)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        rows = self.meta.rows(sql, params)
        for row in rows:
            row["parameters"] = json.loads(row["parameters"])
            row["metrics"] = json.loads(row["metrics"])
        return rows


def forget(meta: MetaStore, kind: str, full_name: str) -> None:
    """Drop the history of a dropped table, or of every table of a dropped schema/catalog."""
    name = full_name.lower()
    with meta.transaction() as db:
        if kind == "table":
            db.execute("DELETE FROM table_history WHERE full_name = ?", (name,))
        elif kind in ("catalog", "schema"):
            db.execute(
                "DELETE FROM table_history WHERE substr(full_name, 1, ?) = ?",
                (len(name) + 1, name + "."),
            )
