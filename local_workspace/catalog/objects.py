"""Reading schemas, tables, views and columns from DuckDB's own catalog, plus SQLite metadata.

DuckDB is the source of truth for what exists (so SQL DDL shows up in the API at once);
SQLite adds who created it and when. Objects created by SQL that never reported themselves
get the workspace user as owner and their catalog's creation time.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_workspace.catalog.constraints import Constraints
    from local_workspace.catalog.engine import DuckEngine
    from local_workspace.catalog.functions import Policies
    from local_workspace.catalog.meta import MetaStore

# DuckDB schemas that are not Unity Catalog schemas. `main` exists in every DuckDB file; it
# only shows up when someone created it in UC terms or put tables in it.
_HIDDEN = ("information_schema", "pg_catalog")

_RELATIONS = """
SELECT schema_name, table_name AS name, comment, 'MANAGED' AS table_type, NULL AS sql
FROM duckdb_tables() WHERE database_name = $db {filters}
UNION ALL
SELECT schema_name, view_name, comment, 'VIEW', sql
FROM duckdb_views() WHERE database_name = $db AND NOT internal {filters}
ORDER BY schema_name, name
"""

_COLUMNS = """
SELECT table_name, column_name, data_type, is_nullable, comment, column_index
FROM duckdb_columns() WHERE database_name = $db AND schema_name = $schema {filters}
ORDER BY table_name, column_index
"""

_type_lock = threading.Lock()


@lru_cache(maxsize=2048)
def _type_facts(data_type: str) -> tuple[str, str, str, int | None, int | None]:
    """(type_text, type_name, Spark JSON type, precision, scale) of a DuckDB type string."""
    from local_workspace import types

    with _type_lock:  # duckdb.sqltype uses the module's default connection
        text, name = types.databricks_type(data_type)
        spark = json.dumps(types.spark_type(data_type), separators=(",", ":"))
        parts = types.decimal_parts(data_type)
    return text, name, spark, parts[0] if parts else None, parts[1] if parts else None


def column_info(
    name: str, data_type: str, nullable: bool, comment: str | None, position: int
) -> dict[str, Any]:
    """A ColumnInfo dict for a DuckDB column (position counts from 0, as in Databricks)."""
    text, type_name, spark, precision, scale = _type_facts(data_type)
    metadata = json.dumps({"comment": comment} if comment else {}, separators=(",", ":"))
    type_json = (
        f'{{"name":{json.dumps(name)},"type":{spark},'
        f'"nullable":{"true" if nullable else "false"},"metadata":{metadata}}}'
    )
    info: dict[str, Any] = {
        "name": name,
        "type_text": text,
        "type_name": type_name,
        "type_json": type_json,
        "position": position,
        "nullable": nullable,
    }
    if precision is not None:
        info["type_precision"] = precision
        info["type_scale"] = scale
    if comment:
        info["comment"] = comment
    return info


class ObjectReader:
    """Queries DuckDB's catalog functions, and adds the SQLite metadata of what it finds."""

    def __init__(
        self,
        engine: DuckEngine,
        meta: MetaStore,
        constraints: Constraints,
        owner: str,
        metastore_id: str,
        policies: Policies | None = None,
    ) -> None:
        self.engine = engine
        self.policies = policies
        self.meta = meta
        self.constraints = constraints
        self.owner = owner
        self.metastore_id = metastore_id

    def _query(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        cur = self.engine.cursor()
        try:
            return cur.execute(sql, params).fetchall()
        finally:
            cur.close()

    def _meta(self, kind: str, full_name: str) -> dict[str, Any] | None:
        return self.meta.row(
            "SELECT * FROM objects WHERE kind = ? AND full_name = ?", (kind, full_name)
        )

    def schema_names(self, catalog: str) -> list[str]:
        """UC schema names of a catalog, sorted."""
        db = self.engine.to_internal(catalog)
        rows = self._query(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = $db "
            "AND schema_name NOT IN ('information_schema', 'pg_catalog') ORDER BY schema_name",
            {"db": db},
        )
        names = [r[0] for r in rows]
        if "main" in names and not (
            self._meta("schema", f"{catalog}.main") or self.relations(catalog, "main", None)
        ):
            names.remove("main")
        return names

    def relations(
        self, catalog: str, schema: str | None, table: str | None
    ) -> list[tuple[Any, ...]]:
        """(schema, name, comment, table_type, view sql) of tables and views."""
        filters = ""
        params: dict[str, Any] = {"db": self.engine.to_internal(catalog)}
        if schema is not None:
            filters += " AND schema_name = $schema"
            params["schema"] = schema
        else:
            filters += " AND schema_name NOT IN ('information_schema', 'pg_catalog')"
        if table is not None:
            filters += " AND lower({name}) = $table"
            params["table"] = table.lower()
        sql = _RELATIONS.format(filters=filters)
        sql = sql.replace("{name}", "table_name", 1).replace("{name}", "view_name", 1)
        return self._query(sql, params)

    def schema_info(self, catalog: str, schema: str) -> dict[str, Any]:
        """A SchemaInfo dict (the schema must exist)."""
        full_name = f"{catalog}.{schema}"
        row = self._meta("schema", full_name) or self._default_meta(catalog)
        return {
            "name": schema,
            "catalog_name": catalog,
            "full_name": full_name,
            "comment": row.get("comment"),
            "owner": row["owner"],
            "created_at": row["created_at"],
            "created_by": row["created_by"],
            "updated_at": row["updated_at"],
            "updated_by": row["updated_by"],
            "schema_id": row.get("id"),
            "metastore_id": self.metastore_id,
            "catalog_type": "MANAGED_CATALOG",
            "browse_only": False,
        }

    def _default_meta(self, catalog: str) -> dict[str, Any]:
        row = self.meta.row(
            "SELECT owner, created_at, created_by, updated_at, updated_by FROM catalogs "
            "WHERE name = ?",
            (catalog,),
        )
        return dict(row or {}) | {"owner": self.owner, "comment": None, "id": None}

    def table_infos(self, catalog: str, schema: str, table: str | None) -> list[dict[str, Any]]:
        """TableInfo dicts (with columns) of one table or every table of a schema."""
        relations = self.relations(catalog, schema, table)
        if not relations:
            return []
        params: dict[str, Any] = {"db": self.engine.to_internal(catalog), "schema": schema}
        filters = ""
        if table is not None:
            filters = " AND lower(table_name) = $table"
            params["table"] = table.lower()
        columns: dict[str, list[dict[str, Any]]] = {}
        for tname, cname, dtype, nullable, comment, index in self._query(
            _COLUMNS.format(filters=filters), params
        ):
            columns.setdefault(tname, []).append(
                column_info(cname, dtype, bool(nullable), comment, int(index) - 1)
            )
        prefix = f"{catalog}.{schema}."
        metas = {
            r["full_name"]: r
            for r in self.meta.rows(
                "SELECT * FROM objects WHERE kind = 'table' AND substr(full_name, 1, ?) = ?",
                (len(prefix), prefix),
            )
        }
        default = self._default_meta(catalog)
        infos = []
        for _schema, name, comment, table_type, view_sql in relations:
            full_name = f"{catalog}.{schema}.{name.lower()}"
            meta = metas.get(full_name) or default
            extra = json.loads(meta["extra"]) if meta.get("extra") else {}
            info: dict[str, Any] = {
                "name": name,
                "catalog_name": catalog,
                "schema_name": schema,
                "full_name": full_name,
                "table_type": table_type
                if table_type == "VIEW"
                else extra.get("table_type", "MANAGED"),
                "columns": columns.get(name, []),
                "comment": comment or meta.get("comment"),
                "owner": meta["owner"],
                "created_at": meta["created_at"],
                "created_by": meta["created_by"],
                "updated_at": meta["updated_at"],
                "updated_by": meta["updated_by"],
                "table_id": meta.get("id"),
                "metastore_id": self.metastore_id,
                "properties": extra.get("properties"),
                "storage_location": extra.get("storage_location"),
            }
            constraints = self.constraints.of(full_name)
            if constraints:
                info["table_constraints"] = constraints
            if table_type == "VIEW":
                info["view_definition"] = _view_body(self.engine.public_text(view_sql or ""))
            else:
                info["data_source_format"] = "DELTA"
            if self.policies is not None:
                self.policies.annotate(info)
            infos.append(info)
        return infos


def _view_body(sql: str) -> str:
    """The SELECT of a ``CREATE VIEW ... AS SELECT ...;`` statement."""
    upper = sql.upper()
    at = upper.find(" AS ")
    body = sql[at + 4 :] if at >= 0 else sql
    return body.strip().rstrip(";")
