"""Unity Catalog tables and views: real DuckDB tables, read back from DuckDB's own catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb

from local_workspace.catalog.names import check_name, literal, quote, split_name
from local_workspace.errors import already_exists, invalid, not_found

if TYPE_CHECKING:
    from local_workspace.catalog.catalogs import Catalogs
    from local_workspace.catalog.engine import DuckEngine
    from local_workspace.catalog.objects import ObjectReader
    from local_workspace.catalog.records import ObjectRecords
    from local_workspace.catalog.schemas import Schemas


class Tables:
    """Create, read, update and drop tables (and read and drop views)."""

    def __init__(
        self,
        catalogs: Catalogs,
        schemas: Schemas,
        engine: DuckEngine,
        objects: ObjectReader,
        records: ObjectRecords,
    ) -> None:
        self.catalogs = catalogs
        self.schemas = schemas
        self.engine = engine
        self.objects = objects
        self.records = records

    def has(self, catalog: str, schema: str, table: str) -> bool:
        """Whether the table or view exists."""
        return self.schemas.has(catalog, schema) and bool(
            self.objects.relations(catalog.lower(), schema.lower(), table.lower())
        )

    def list_in(self, catalog: str, schema: str) -> list[dict[str, Any]]:
        """TableInfo dicts (with columns) of a schema, sorted by name."""
        catalog, schema = self.schemas.require(f"{catalog}.{schema}")
        return self.objects.table_infos(catalog, schema, None)

    def get(self, full_name: str) -> dict[str, Any]:
        """One TableInfo dict with columns; 404 TABLE_DOES_NOT_EXIST."""
        catalog, schema, table = split_name(full_name, 3, "table")
        self.catalogs.row(catalog)
        if self.schemas.has(catalog, schema):
            found = self.objects.table_infos(catalog, schema, table)
            if found:
                return found[0]
        raise not_found(
            f"Table '{catalog}.{schema}.{table}' does not exist.", "TABLE_DOES_NOT_EXIST"
        )

    def create(
        self,
        catalog: str,
        schema: str,
        name: str,
        columns: list[dict[str, Any]],
        comment: str | None = None,
        table_type: str = "MANAGED",
        properties: dict[str, str] | None = None,
        storage_location: str | None = None,
    ) -> dict[str, Any]:
        """Create a real (queryable) DuckDB table from UC ColumnInfo dicts."""
        catalog, schema = self.schemas.require(f"{catalog}.{schema}")
        name = check_name(name, "table")
        if table_type not in ("MANAGED", "EXTERNAL"):
            raise invalid(f"table_type {table_type} cannot be created through this API.")
        if not columns:
            raise invalid("A table needs at least one column.")
        if self.has(catalog, schema, name):
            raise already_exists(
                f"Table '{catalog}.{schema}.{name}' already exists.", "TABLE_ALREADY_EXISTS"
            )
        target = f"{quote(self.engine.to_internal(catalog))}.{quote(schema)}.{quote(name)}"
        ordered = sorted(columns, key=lambda c: c.get("position") or 0)
        statements = [f"CREATE TABLE {target} ({', '.join(_column_defs(ordered))})"]
        statements += [
            f"COMMENT ON COLUMN {target}.{quote(str(c['name']))} IS {literal(c['comment'])}"
            for c in ordered
            if c.get("comment")
        ]
        if comment:
            statements.append(f"COMMENT ON TABLE {target} IS {literal(comment)}")
        cur = self.engine.cursor()
        try:
            cur.execute("BEGIN")
            try:
                for statement in statements:
                    cur.execute(statement)
            except duckdb.Error as exc:
                cur.execute("ROLLBACK")
                raise invalid(self.engine.public_text(str(exc))) from exc
            cur.execute("COMMIT")
        finally:
            cur.close()
        extra = {"table_type": table_type, "properties": properties}
        if table_type == "EXTERNAL":
            extra["storage_location"] = storage_location
        self.records.record("table", f"{catalog}.{schema}.{name}", None, extra)
        return self.get(f"{catalog}.{schema}.{name}")

    def update(self, full_name: str, owner: str | None = None) -> None:
        """Change a table's owner (the one field the Tables API updates)."""
        info = self.get(full_name)
        self.records.update("table", info["full_name"], None, owner)

    def delete(self, full_name: str) -> None:
        """Drop a table or view."""
        info = self.get(full_name)
        kind = "VIEW" if info["table_type"] == "VIEW" else "TABLE"
        target = (
            f"{quote(self.engine.to_internal(info['catalog_name']))}."
            f"{quote(info['schema_name'])}.{quote(info['name'])}"
        )
        self.engine.execute(f"DROP {kind} {target}")
        self.records.forget("table", info["full_name"])


def _column_defs(columns: list[dict[str, Any]]) -> list[str]:
    """DuckDB column definitions of UC ColumnInfo dicts; 400 for a type DuckDB cannot hold."""
    from local_workspace.types import duckdb_type_of

    defs = []
    for col in columns:
        try:
            dtype = duckdb_type_of(
                col.get("type_text"),
                col.get("type_name"),
                col.get("type_precision"),
                col.get("type_scale"),
            )
        except ValueError as exc:
            raise invalid(f"Column '{col.get('name')}': {exc}") from exc
        null = "" if col.get("nullable", True) else " NOT NULL"
        defs.append(f"{quote(str(col['name']))} {dtype}{null}")
    return defs
