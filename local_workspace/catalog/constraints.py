"""Table constraints (primary and foreign keys) of Unity Catalog tables, kept in SQLite.

As on Databricks they are informational: declared, checked when declared (columns exist,
primary key columns are NOT NULL, a foreign key references a primary key), reported in
``TableInfo.table_constraints``, and never enforced on the data (DuckDB never sees them).
Constraints are stored as the SDK's ``TableConstraint`` dicts.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local_workspace.errors import ApiError, already_exists, invalid, not_found

if TYPE_CHECKING:
    from local_workspace.catalog.meta import MetaStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS table_constraints (
    full_name TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
    seq INTEGER NOT NULL, PRIMARY KEY (full_name, name)
)
"""
PK = "primary_key_constraint"
FK = "foreign_key_constraint"
KINDS = (PK, FK)


def kind_of(constraint: dict[str, Any]) -> str:
    """Which one field of a TableConstraint dict is set; 400 otherwise."""
    kinds = [k for k in (*KINDS, "named_table_constraint") if constraint.get(k)]
    if len(kinds) != 1:
        raise invalid(
            "A table constraint sets exactly one of primary_key_constraint or "
            "foreign_key_constraint."
        )
    if kinds[0] not in KINDS:
        raise invalid("Only primary and foreign key constraints are supported locally.")
    return kinds[0]


class Constraints:
    """Constraints of every table, keyed by the table's lowercased full name."""

    def __init__(self, meta: MetaStore) -> None:
        self.meta = meta
        with meta.transaction() as db:
            db.execute(_SCHEMA)

    def of(self, full_name: str) -> list[dict[str, Any]]:
        """TableConstraint dicts of a table, primary key first, then in creation order."""
        rows = self.meta.rows(
            "SELECT kind, body FROM table_constraints WHERE full_name = ? ORDER BY kind != ?, seq",
            (full_name.lower(), PK),
        )
        return [{row["kind"]: json.loads(row["body"])} for row in rows]

    def primary_key(self, full_name: str) -> dict[str, Any] | None:
        """The PrimaryKeyConstraint dict of a table, or None."""
        found = [c[PK] for c in self.of(full_name) if PK in c]
        return found[0] if found else None

    def add(
        self, full_name: str, constraint: dict[str, Any], columns: dict[str, bool]
    ) -> dict[str, Any]:
        """Check and store one constraint; ``columns`` maps column name -> nullable."""
        full_name = full_name.lower()
        kind = kind_of(constraint)
        body = dict(constraint[kind])
        name = str(body.get("name") or "")
        if not name:
            raise invalid("A table constraint needs a name.")
        child = [str(c) for c in body.get("child_columns") or []]
        if not child:
            raise invalid(f"Constraint '{name}' needs child_columns.")
        by_lower = {c.lower(): c for c in columns}
        missing = [c for c in child if c.lower() not in by_lower]
        if missing:
            raise invalid(
                f"Constraint '{name}': column(s) {', '.join(missing)} do not exist in "
                f"table {full_name}."
            )
        child = [by_lower[c.lower()] for c in child]
        body["child_columns"] = child
        catalog, schema = full_name.split(".")[:2]
        if self.meta.row(
            "SELECT 1 FROM table_constraints WHERE substr(full_name, 1, ?) = ? AND name = ?",
            (len(catalog) + len(schema) + 2, f"{catalog}.{schema}.", name),
        ):
            raise already_exists(
                f"A constraint named '{name}' already exists in schema {catalog}.{schema}.",
                "RESOURCE_ALREADY_EXISTS",
            )
        if kind == PK:
            self._check_primary_key(full_name, name, body, child, columns, by_lower)
        else:
            self._check_foreign_key(name, body, child)
        with self.meta.transaction() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM table_constraints").fetchone()
            db.execute(
                "INSERT INTO table_constraints VALUES (?, ?, ?, ?, ?)",
                (full_name, name, kind, json.dumps(body), seq[0]),
            )
        return {kind: body}

    def _check_primary_key(
        self,
        full_name: str,
        name: str,
        body: dict[str, Any],
        child: list[str],
        columns: dict[str, bool],
        by_lower: dict[str, str],
    ) -> None:
        if self.primary_key(full_name) is not None:
            raise invalid(
                f"Table {full_name} already has a primary key; drop it first "
                f"(ALTER TABLE {full_name} DROP PRIMARY KEY).",
                "RESOURCE_ALREADY_EXISTS",
            )
        nullable = [c for c in child if columns[c]]
        if nullable:
            raise invalid(
                f"Cannot create the primary key `{name}` because its child column(s) "
                f"{', '.join(f'`{c}`' for c in nullable)} is nullable. Change the column "
                f"nullability (ALTER TABLE {full_name} ALTER COLUMN <col> SET NOT NULL) "
                "and retry.",
            )
        series = [str(c) for c in body.get("timeseries_columns") or []]
        if len(series) > 1:
            raise invalid(f"Primary key '{name}' can have at most one TIMESERIES column.")
        if series and series[0].lower() not in [c.lower() for c in child]:
            raise invalid(
                f"Primary key '{name}': the TIMESERIES column {series[0]} must be a key column."
            )
        if series:
            body["timeseries_columns"] = [by_lower[series[0].lower()]]

    def _check_foreign_key(self, name: str, body: dict[str, Any], child: list[str]) -> None:
        parent = str(body.get("parent_table") or "").lower()
        parent_pk = self.primary_key(parent) if parent.count(".") == 2 else None
        if parent_pk is None:
            raise invalid(
                f"Foreign key '{name}' must reference a table with a primary key; "
                f"{parent or '(no parent_table)'} has none."
            )
        body["parent_table"] = parent
        wanted = [str(c) for c in body.get("parent_columns") or parent_pk["child_columns"]]
        if [c.lower() for c in wanted] != [c.lower() for c in parent_pk["child_columns"]]:
            raise invalid(
                f"Foreign key '{name}' must reference the primary key columns of {parent} "
                f"({', '.join(parent_pk['child_columns'])})."
            )
        if len(wanted) != len(child):
            raise invalid(f"Foreign key '{name}' has {len(child)} column(s) for {len(wanted)}.")
        body["parent_columns"] = list(parent_pk["child_columns"])

    def drop(
        self, full_name: str, name: str | None, if_exists: bool = False, cascade: bool = False
    ) -> None:
        """Drop a constraint by name (None: the primary key); 404 unless ``if_exists``."""
        full_name = full_name.lower()
        if name is None:
            pk = self.primary_key(full_name)
            if pk is None:
                if if_exists:
                    return
                raise not_found(f"Table {full_name} has no primary key.")
            name = str(pk["name"])
        row = self.meta.row(
            "SELECT kind FROM table_constraints WHERE full_name = ? AND name = ?",
            (full_name, name),
        )
        if row is None:
            if if_exists:
                return
            raise not_found(f"Constraint '{name}' does not exist on table {full_name}.")
        children = self._children(full_name) if row["kind"] == PK else []
        if children and not cascade:
            raise invalid(
                f"Cannot drop the primary key '{name}': foreign key(s) "
                f"{', '.join(n for _, n in children)} reference it. Drop them first or use "
                "CASCADE.",
            )
        with self.meta.transaction() as db:
            db.execute(
                "DELETE FROM table_constraints WHERE full_name = ? AND name = ?", (full_name, name)
            )
            for child_table, child_name in children:
                db.execute(
                    "DELETE FROM table_constraints WHERE full_name = ? AND name = ?",
                    (child_table, child_name),
                )

    def _children(self, parent: str) -> list[tuple[str, str]]:
        rows = self.meta.rows(
            "SELECT full_name, name, body FROM table_constraints WHERE kind = ?", (FK,)
        )
        return [
            (r["full_name"], r["name"])
            for r in rows
            if str(json.loads(r["body"]).get("parent_table", "")).lower() == parent
        ]

    def forget(self, full_name: str, children: bool = False) -> None:
        """Forget the constraints of a dropped table (``children``: of everything under a
        dropped schema or catalog)."""
        name = full_name.lower()
        with self.meta.transaction() as db:
            if children:
                db.execute(
                    "DELETE FROM table_constraints WHERE substr(full_name, 1, ?) = ?",
                    (len(name) + 1, name + "."),
                )
            else:
                db.execute("DELETE FROM table_constraints WHERE full_name = ?", (name,))


def column_nullability(info: dict[str, Any]) -> dict[str, bool]:
    """Column name -> nullable, from a TableInfo dict."""
    return {str(c["name"]): bool(c.get("nullable", True)) for c in info.get("columns") or []}


__all__ = ["FK", "PK", "ApiError", "Constraints", "column_nullability", "kind_of"]
