"""Unity Catalog functions (SQL UDFs), row filters, column masks and the local identity.

A SQL function is a DuckDB macro in its catalog's attached file (so ``c.s.f(x)`` runs in
DuckDB) plus a FunctionInfo record in SQLite (types, comment and body as Databricks reports
them). Row filters and column masks are records keyed by table; the SQL engine enforces them
(``local_workspace/sql/governance.py``). Groups of the workspace's single user are the
built-in ``admins`` and ``users`` plus the SCIM groups listing it as a member
(``local_workspace/identity.py``).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_workspace.catalog.meta import now_ms
from local_workspace.catalog.names import lowered, quote, split_name
from local_workspace.errors import already_exists, not_found
from local_workspace.identity import user_group_names

if TYPE_CHECKING:
    from local_workspace.catalog.engine import DuckEngine
    from local_workspace.catalog.meta import MetaStore
    from local_workspace.catalog.schemas import Schemas

_TABLES = (
    """CREATE TABLE IF NOT EXISTS functions (
        full_name TEXT PRIMARY KEY, catalog_name TEXT NOT NULL, schema_name TEXT NOT NULL,
        info TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS row_filters (
        table_name TEXT PRIMARY KEY, function_name TEXT NOT NULL, columns TEXT NOT NULL,
        table_id TEXT)""",
    """CREATE TABLE IF NOT EXISTS column_masks (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, function_name TEXT NOT NULL,
        using_columns TEXT NOT NULL, table_id TEXT, PRIMARY KEY (table_name, column_name))""",
)


def ensure_tables(meta: MetaStore) -> None:
    """Create this module's SQLite tables (idempotent)."""
    with meta.transaction() as db:
        for statement in _TABLES:
            db.execute(statement)


class Functions:
    """SQL functions of Unity Catalog: DuckDB macros plus FunctionInfo records."""

    def __init__(
        self,
        engine: DuckEngine,
        meta: MetaStore,
        schemas: Schemas,
        owner: str,
        metastore_id: str,
    ) -> None:
        self.engine = engine
        self.meta = meta
        self.schemas = schemas
        self.owner = owner
        self.metastore_id = metastore_id
        ensure_tables(meta)

    def _macro_exists(self, catalog: str, schema: str, name: str) -> bool:
        if not self.engine.is_attached(catalog):
            return False
        cursor = self.engine.cursor()
        try:
            found = cursor.execute(
                "SELECT 1 FROM duckdb_functions() WHERE database_name = $1 "
                "AND lower(schema_name) = $2 AND lower(function_name) = $3 "
                "AND function_type IN ('macro', 'table_macro') LIMIT 1",
                [self.engine.to_internal(catalog), schema, name],
            ).fetchone()
        finally:
            cursor.close()
        return found is not None

    def find(self, full_name: str) -> dict[str, Any] | None:
        """The FunctionInfo dict of ``c.s.f`` (its macro still existing), or None."""
        key = lowered(full_name)
        row = self.meta.row("SELECT info FROM functions WHERE full_name = ?", (key,))
        if row is None:
            return None
        catalog, schema, name = key.split(".")
        if not self._macro_exists(catalog, schema, name):  # its schema was dropped by SQL
            self._forget(key)
            return None
        info: dict[str, Any] = json.loads(row["info"])
        return info

    def get(self, full_name: str) -> dict[str, Any]:
        """One FunctionInfo dict; 404 FUNCTION_DOES_NOT_EXIST."""
        catalog, schema, name = split_name(full_name, 3, "function")
        self.schemas.require(f"{catalog}.{schema}")
        found = self.find(f"{catalog}.{schema}.{name}")
        if found is None:
            raise not_found(
                f"Function '{catalog}.{schema}.{name}' does not exist.",
                "FUNCTION_DOES_NOT_EXIST",
            )
        return found

    def list_in(self, catalog: str, schema: str) -> list[dict[str, Any]]:
        """FunctionInfo dicts of a schema, sorted by name."""
        catalog, schema = self.schemas.require(f"{catalog}.{schema}")
        rows = self.meta.rows(
            "SELECT full_name FROM functions WHERE catalog_name = ? AND schema_name = ? "
            "ORDER BY full_name",
            (catalog, schema),
        )
        return [info for r in rows if (info := self.find(r["full_name"])) is not None]

    def create(
        self, info: dict[str, Any], macro_sql: str, replace: bool, if_not_exists: bool
    ) -> dict[str, Any]:
        """Run ``macro_sql`` (CREATE MACRO) and record ``info``; 409 when it exists."""
        full_name = lowered(info["full_name"])
        catalog, schema, _name = full_name.split(".")
        catalog, schema = self.schemas.require(f"{catalog}.{schema}")
        with self.engine.lock:
            existing = self.find(full_name)
            if existing is not None and if_not_exists:
                return existing
            if existing is not None and not replace:
                raise already_exists(
                    f"Function '{full_name}' already exists.", "FUNCTION_ALREADY_EXISTS"
                )
            now = now_ms()
            record = {
                **info,
                "full_name": full_name,
                "catalog_name": catalog,
                "schema_name": schema,
                "owner": (existing or {}).get("owner", self.owner),
                "created_at": (existing or {}).get("created_at", now),
                "created_by": (existing or {}).get("created_by", self.owner),
                "updated_at": now,
                "updated_by": self.owner,
                "function_id": (existing or {}).get("function_id", str(uuid.uuid4())),
                "metastore_id": self.metastore_id,
            }
            if existing is not None:
                self._drop_macro(existing)
            self.engine.execute(macro_sql)
            with self.meta.transaction() as db:
                db.execute(
                    "INSERT OR REPLACE INTO functions VALUES (?, ?, ?, ?)",
                    (full_name, catalog, schema, json.dumps(record)),
                )
        return record

    def set_owner(self, full_name: str, owner: str | None) -> dict[str, Any]:
        """Change a function's owner (the field the Functions API updates)."""
        info = self.get(full_name)
        if owner:
            info = {**info, "owner": owner, "updated_at": now_ms(), "updated_by": self.owner}
            with self.meta.transaction() as db:
                db.execute(
                    "UPDATE functions SET info = ? WHERE full_name = ?",
                    (json.dumps(info), info["full_name"]),
                )
        return info

    def delete(self, full_name: str) -> None:
        """Drop a function (its macro and its record); 404 when missing."""
        info = self.get(full_name)
        with self.engine.lock:
            self._drop_macro(info)
            self._forget(info["full_name"])

    def _drop_macro(self, info: dict[str, Any]) -> None:
        kind = "MACRO TABLE" if info.get("data_type") == "TABLE_TYPE" else "MACRO"
        target = (
            f"{quote(self.engine.to_internal(info['catalog_name']))}."
            f"{quote(info['schema_name'])}.{quote(info['name'])}"
        )
        self.engine.execute(f"DROP {kind} IF EXISTS {target}")

    def _forget(self, full_name: str) -> None:
        with self.meta.transaction() as db:
            db.execute("DELETE FROM functions WHERE full_name = ?", (full_name,))


class Policies:
    """Row filters and column masks of tables (names are public and lowercased)."""

    def __init__(self, meta: MetaStore) -> None:
        self.meta = meta
        ensure_tables(meta)

    def set_filter(
        self, table: str, function: str, columns: list[str], table_id: str | None = None
    ) -> None:
        """Set (or replace) the row filter of ``table`` (``table_id``: the table it is for)."""
        with self.meta.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO row_filters VALUES (?, ?, ?, ?)",
                (lowered(table), lowered(function), json.dumps(columns), table_id),
            )

    def drop_filter(self, table: str) -> None:
        """Remove the row filter of ``table`` (none: nothing happens)."""
        with self.meta.transaction() as db:
            db.execute("DELETE FROM row_filters WHERE table_name = ?", (lowered(table),))

    def set_mask(
        self,
        table: str,
        column: str,
        function: str,
        using: list[str],
        table_id: str | None = None,
    ) -> None:
        """Set (or replace) the mask of one column."""
        with self.meta.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO column_masks VALUES (?, ?, ?, ?, ?)",
                (lowered(table), column.lower(), lowered(function), json.dumps(using), table_id),
            )

    def drop_mask(self, table: str, column: str) -> None:
        """Remove the mask of one column."""
        with self.meta.transaction() as db:
            db.execute(
                "DELETE FROM column_masks WHERE table_name = ? AND column_name = ?",
                (lowered(table), column.lower()),
            )

    def forget(self, table: str) -> None:
        """Remove every policy of a dropped table."""
        with self.meta.transaction() as db:
            db.execute("DELETE FROM row_filters WHERE table_name = ?", (lowered(table),))
            db.execute("DELETE FROM column_masks WHERE table_name = ?", (lowered(table),))

    def _stale(self, table: str, stored: str | None, table_id: str | None) -> bool:
        """A policy of a table since dropped (another table has the name now): forgotten."""
        if stored is None or table_id is None or stored == table_id:
            return False
        self.forget(table)
        return True

    def row_filter(self, table: str, table_id: str | None = None) -> dict[str, Any] | None:
        """``{"function_name", "input_column_names"}`` (the SDK's TableRowFilter), or None."""
        row = self.meta.row("SELECT * FROM row_filters WHERE table_name = ?", (lowered(table),))
        if row is None or self._stale(table, row["table_id"], table_id):
            return None
        return {
            "function_name": row["function_name"],
            "input_column_names": json.loads(row["columns"]),
        }

    def masks(self, table: str, table_id: str | None = None) -> dict[str, dict[str, Any]]:
        """Column name -> ``{"function_name", "using_column_names"}`` (the SDK's ColumnMask)."""
        rows = self.meta.rows("SELECT * FROM column_masks WHERE table_name = ?", (lowered(table),))
        if any(self._stale(table, r["table_id"], table_id) for r in rows):
            return {}
        return {
            r["column_name"]: {
                "function_name": r["function_name"],
                "using_column_names": json.loads(r["using_columns"]),
            }
            for r in rows
        }

    def tables(self) -> set[str]:
        """Every table with a row filter or a column mask (a cheap check before reads)."""
        rows = self.meta.rows(
            "SELECT table_name FROM row_filters UNION SELECT table_name FROM column_masks"
        )
        return {r["table_name"] for r in rows}

    def annotate(self, info: dict[str, Any]) -> None:
        """Add ``row_filter`` and column ``mask`` fields to a TableInfo dict."""
        full_name = info.get("full_name") or ""
        found = self.row_filter(full_name, info.get("table_id"))
        if found is not None:
            info["row_filter"] = found
        masks = self.masks(full_name, info.get("table_id"))
        for column in info.get("columns") or []:
            mask = masks.get(str(column.get("name", "")).lower())
            if mask is not None:
                column["mask"] = mask


class Groups:
    """The groups of the workspace's single user, as SQL's ``is_member()`` and
    ``is_account_group_member()`` see them: read from the SCIM identity store
    (``local_workspace/identity.py``), so a group joined through ``w.groups.patch`` counts at
    once."""

    def __init__(self, data_dir: Path, user: str) -> None:
        self.data_dir = data_dir
        self.user = user

    def of_user(self) -> list[str]:
        """Names of the groups the workspace's user belongs to (nested groups included)."""
        return user_group_names(self.data_dir, self.user)
