"""What the SQL engine and pipelines tell the catalog after DDL ran in DuckDB.

CREATE and DROP of schemas, tables and views run as SQL; these hooks keep the metadata
records (owner, times, comment, table type), grants and constraints in step with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from local_workspace.catalog.names import literal, lowered, quote, split_name

if TYPE_CHECKING:
    from local_workspace.catalog.engine import DuckEngine
    from local_workspace.catalog.records import ObjectRecords
    from local_workspace.catalog.tables import Tables
    from local_workspace.catalog.volumes import Volumes


class DdlHooks:
    """Record created objects, forget dropped ones (names are public)."""

    def __init__(
        self, engine: DuckEngine, tables: Tables, records: ObjectRecords, volumes: Volumes
    ) -> None:
        self.engine = engine
        self.tables = tables
        self.records = records
        self.volumes = volumes

    def created(
        self,
        kind: str,
        full_name: str,
        comment: str | None = None,
        table_type: str | None = None,
    ) -> None:
        """Record a ``schema``, ``table`` or ``view`` created by SQL DDL; ``table_type``
        overrides MANAGED (pipelines: MATERIALIZED_VIEW, STREAMING_TABLE)."""
        kind = "table" if kind == "view" else kind
        name = lowered(full_name)
        if kind == "table" and comment:
            # DuckDB holds table comments, so SQL and the API read the same one.
            catalog, schema, table = split_name(name, 3, "table")
            info = self.tables.get(name)
            what = "VIEW" if info["table_type"] == "VIEW" else "TABLE"
            target = f"{quote(self.engine.to_internal(catalog))}.{quote(schema)}.{quote(table)}"
            self.engine.execute(f"COMMENT ON {what} {target} IS {literal(comment)}")
            comment = None
        self.records.record(kind, name, comment, {"table_type": table_type} if table_type else None)

    def dropped(self, kind: str, full_name: str) -> None:
        """Forget the metadata, grants and constraints of a dropped schema, table or view (a
        schema's volumes go with it: DROP SCHEMA ... CASCADE)."""
        self.records.forget("table" if kind == "view" else kind, lowered(full_name))
        if kind == "schema":
            catalog, schema = split_name(lowered(full_name), 2, "schema")
            self.volumes.forget_schema(catalog, schema)
