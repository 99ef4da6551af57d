"""``<catalog>.information_schema.*`` and ``system.information_schema.*``, built from the catalog.

Every reference to an information_schema relation in a query is replaced, before
translation, by a subquery over the rows the catalog holds at that moment (typed VALUES with
Databricks' column names and types), so the Unity Catalog API, SHOW/DESCRIBE and the
information schema always agree. A catalog's information schema shows that catalog; the
``system`` one shows every catalog. Unqualified names resolve in the statement's catalog
(``USE CATALOG``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from local_workspace.sql.commands import catalog_errors
from local_workspace.sql.errors import catalog_not_found, table_not_found
from local_workspace.sql.translate import Scope

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

SCHEMA = "information_schema"
S, N, T = "STRING", "INT", "TIMESTAMP"
Row = list[Any]

_AUDIT = [("created", T), ("created_by", S), ("last_altered", T), ("last_altered_by", S)]
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "catalogs": [("catalog_name", S), ("catalog_owner", S), ("comment", S), *_AUDIT],
    "schemata": [
        ("catalog_name", S),
        ("schema_name", S),
        ("schema_owner", S),
        ("comment", S),
        *_AUDIT,
    ],
    "tables": [
        ("table_catalog", S),
        ("table_schema", S),
        ("table_name", S),
        ("table_type", S),
        ("is_insertable_into", S),
        ("commit_action", S),
        ("table_owner", S),
        ("comment", S),
        *_AUDIT,
        ("data_source_format", S),
        ("storage_path", S),
        ("storage_sub_directory", S),
    ],
    "columns": [
        ("table_catalog", S),
        ("table_schema", S),
        ("table_name", S),
        ("column_name", S),
        ("ordinal_position", N),
        ("column_default", S),
        ("is_nullable", S),
        ("full_data_type", S),
        ("data_type", S),
        ("character_maximum_length", N),
        ("character_octet_length", N),
        ("numeric_precision", N),
        ("numeric_precision_radix", N),
        ("numeric_scale", N),
        ("datetime_precision", N),
        ("interval_type", S),
        ("interval_precision", N),
        ("maximum_cardinality", N),
        ("is_identity", S),
        ("identity_generation", S),
        ("identity_start", S),
        ("identity_increment", S),
        ("identity_maximum", S),
        ("identity_minimum", S),
        ("identity_cycle", S),
        ("is_generated", S),
        ("generation_expression", S),
        ("is_system_time_period_start", S),
        ("is_system_time_period_end", S),
        ("system_time_period_timestamp_generation", S),
        ("is_updatable", S),
        ("partition_index", N),
        ("comment", S),
    ],
    "views": [
        ("table_catalog", S),
        ("table_schema", S),
        ("table_name", S),
        ("view_definition", S),
        ("check_option", S),
        ("is_updatable", S),
        ("is_insertable_into", S),
        ("sql_path", S),
    ],
    "volumes": [
        ("volume_catalog", S),
        ("volume_schema", S),
        ("volume_name", S),
        ("volume_type", S),
        ("volume_owner", S),
        ("comment", S),
        *_AUDIT,
        ("storage_location", S),
    ],
    "catalog_privileges": [
        ("grantor", S),
        ("grantee", S),
        ("catalog_name", S),
        ("privilege_type", S),
        ("is_grantable", S),
        ("inherited_from", S),
    ],
    "schema_privileges": [
        ("grantor", S),
        ("grantee", S),
        ("catalog_name", S),
        ("schema_name", S),
        ("privilege_type", S),
        ("is_grantable", S),
        ("inherited_from", S),
    ],
    "table_privileges": [
        ("grantor", S),
        ("grantee", S),
        ("table_catalog", S),
        ("table_schema", S),
        ("table_name", S),
        ("privilege_type", S),
        ("is_grantable", S),
        ("inherited_from", S),
    ],
    "catalog_tags": [("catalog_name", S), ("tag_name", S), ("tag_value", S)],
    "schema_tags": [("catalog_name", S), ("schema_name", S), ("tag_name", S), ("tag_value", S)],
    "table_tags": [
        ("catalog_name", S),
        ("schema_name", S),
        ("table_name", S),
        ("tag_name", S),
        ("tag_value", S),
    ],
    "column_tags": [
        ("catalog_name", S),
        ("schema_name", S),
        ("table_name", S),
        ("column_name", S),
        ("tag_name", S),
        ("tag_value", S),
    ],
    "volume_tags": [
        ("catalog_name", S),
        ("schema_name", S),
        ("volume_name", S),
        ("tag_name", S),
        ("tag_value", S),
    ],
}
# Bits of base-2 numeric types and digits of the others (information_schema.columns).
_PRECISION = {"BYTE": 8, "SHORT": 16, "INT": 32, "LONG": 64, "FLOAT": 24, "DOUBLE": 53}


def _ts(ms: Any) -> dt.datetime | None:
    if not isinstance(ms, int | float):
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).replace(tzinfo=None)


class Snapshot:
    """The catalog's objects in some catalogs, read once per statement."""

    def __init__(self, catalog: Catalog, names: list[str]) -> None:
        self.catalog = catalog
        self.names = names

    @cached_property
    def catalogs(self) -> list[dict[str, Any]]:
        return [self.catalog.catalogs.get(n) for n in self.names]

    @cached_property
    def schemas(self) -> list[dict[str, Any]]:
        return [s for n in self.names for s in self.catalog.schemas.list_in(n)]

    @cached_property
    def tables(self) -> list[dict[str, Any]]:
        return [
            t
            for s in self.schemas
            for t in self.catalog.tables.list_in(s["catalog_name"], s["name"])
        ]

    @cached_property
    def volumes(self) -> list[dict[str, Any]]:
        return [
            v
            for s in self.schemas
            for v in self.catalog.volumes.list_in(s["catalog_name"], s["name"])
        ]

    def grants(self, securable_type: str) -> Iterator[dict[str, Any]]:
        in_catalogs = tuple(self.names)
        marks = ",".join("?" * len(in_catalogs))
        yield from self.catalog.meta.rows(
            "SELECT * FROM grants WHERE securable_type = ? AND "
            f"substr(full_name || '.', 1, instr(full_name || '.', '.') - 1) IN ({marks}) "
            "ORDER BY full_name, principal, privilege",
            (securable_type, *in_catalogs),
        )

    def tags(self, entity_type: str, existing: set[str]) -> Iterator[tuple[list[str], Row]]:
        for name in self.names:
            for tag in self.catalog.tags.under(entity_type, name):
                if tag["entity_name"] in existing:
                    parts = tag["entity_name"].split(".", 3)
                    yield parts, [tag["tag_key"], tag["tag_value"] or ""]


def _rows(view: str, snap: Snapshot) -> list[Row]:
    return list(_BUILDERS[view](snap))


def _catalogs(snap: Snapshot) -> Iterator[Row]:
    for c in snap.catalogs:
        yield [c["name"], c["owner"], c.get("comment"), *_audit(c)]


def _audit(info: dict[str, Any]) -> Row:
    return [
        _ts(info.get("created_at")),
        info.get("created_by"),
        _ts(info.get("updated_at")),
        info.get("updated_by"),
    ]


def _schemata(snap: Snapshot) -> Iterator[Row]:
    for s in snap.schemas:
        yield [s["catalog_name"], s["name"], s["owner"], s.get("comment"), *_audit(s)]


def _tables(snap: Snapshot) -> Iterator[Row]:
    for t in snap.tables:
        view = t.get("table_type") == "VIEW"
        yield [
            t["catalog_name"],
            t["schema_name"],
            t["name"],
            t.get("table_type"),
            "NO" if view else "YES",
            "PRESERVE",
            t.get("owner"),
            t.get("comment"),
            *_audit(t),
            "UNKNOWN_DATA_SOURCE_FORMAT" if view else t.get("data_source_format") or "DELTA",
            t.get("storage_location"),
            None,
        ]


def _columns(snap: Snapshot) -> Iterator[Row]:
    for t in snap.tables:
        for c in t.get("columns") or []:
            kind = str(c.get("type_name") or "STRING")
            precision: int | None = _PRECISION.get(kind)
            radix: int | None = 2 if precision is not None else None
            scale: int | None = 0 if kind in ("BYTE", "SHORT", "INT", "LONG") else None
            if kind == "DECIMAL":
                precision, radix, scale = c.get("type_precision"), 10, c.get("type_scale")
            datetime_precision = {"DATE": 0, "TIMESTAMP": 3, "TIMESTAMP_NTZ": 3}.get(kind)
            yield [
                t["catalog_name"],
                t["schema_name"],
                t["name"],
                c["name"],
                int(c.get("position") or 0) + 1,
                None,
                "NO" if c.get("nullable") is False else "YES",
                c.get("type_text"),
                kind,
                None,
                None,
                precision,
                radix,
                scale,
                datetime_precision,
                None,
                None,
                None,
                "NO",
                None,
                None,
                None,
                None,
                None,
                None,
                "NEVER",
                None,
                "NO",
                "NO",
                None,
                "YES",
                c.get("partition_index"),
                c.get("comment"),
            ]


def _views(snap: Snapshot) -> Iterator[Row]:
    for t in snap.tables:
        if t.get("table_type") == "VIEW":
            yield [
                t["catalog_name"],
                t["schema_name"],
                t["name"],
                t.get("view_definition"),
                "NONE",
                "NO",
                "NO",
                None,
            ]


def _volumes(snap: Snapshot) -> Iterator[Row]:
    for v in snap.volumes:
        yield [
            v["catalog_name"],
            v["schema_name"],
            v["name"],
            v.get("volume_type"),
            v.get("owner"),
            v.get("comment"),
            *_audit(v),
            v.get("storage_location"),
        ]


def _privileges(securable_type: str, parts: int) -> Callable[[Snapshot], Iterator[Row]]:
    def build(snap: Snapshot) -> Iterator[Row]:
        for g in snap.grants(securable_type):
            names = g["full_name"].split(".")[:parts]
            yield [snap.catalog.owner, g["principal"], *names, g["privilege"], "NO", "NONE"]

    return build


def _catalog_tags(snap: Snapshot) -> Iterator[Row]:
    existing = {c["name"] for c in snap.catalogs}
    for parts, tag in snap.tags("catalogs", existing):
        yield [*parts, *tag]


def _schema_tags(snap: Snapshot) -> Iterator[Row]:
    existing = {f"{s['catalog_name']}.{s['name']}" for s in snap.schemas}
    for parts, tag in snap.tags("schemas", existing):
        yield [*parts, *tag]


def _table_tags(snap: Snapshot) -> Iterator[Row]:
    existing = {t["full_name"] for t in snap.tables}
    for parts, tag in snap.tags("tables", existing):
        yield [*parts, *tag]


def _column_tags(snap: Snapshot) -> Iterator[Row]:
    existing = {
        f"{t['full_name']}.{c['name']}" for t in snap.tables for c in t.get("columns") or []
    }
    for parts, tag in snap.tags("columns", existing):
        yield [*parts, *tag]


def _volume_tags(snap: Snapshot) -> Iterator[Row]:
    existing = {v["full_name"] for v in snap.volumes}
    for parts, tag in snap.tags("volumes", existing):
        yield [*parts, *tag]


_BUILDERS: dict[str, Callable[[Snapshot], Iterator[Row]]] = {
    "catalogs": _catalogs,
    "schemata": _schemata,
    "tables": _tables,
    "columns": _columns,
    "views": _views,
    "volumes": _volumes,
    "catalog_privileges": _privileges("catalog", 1),
    "schema_privileges": _privileges("schema", 2),
    "table_privileges": _privileges("table", 3),
    "catalog_tags": _catalog_tags,
    "schema_tags": _schema_tags,
    "table_tags": _table_tags,
    "column_tags": _column_tags,
    "volume_tags": _volume_tags,
}


_DUCK_TYPES = {S: "VARCHAR", N: "INTEGER", T: "TIMESTAMPTZ"}


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc).isoformat()
    return value


def relation(view: str, rows: list[Row]) -> exp.Expression:
    """A typed subquery of ``rows`` with the view's columns.

    The rows travel as one JSON string literal that DuckDB casts to a list of structs and
    unnests: generating and parsing that stays fast for thousands of rows, where a VALUES
    list of as many literals takes seconds."""
    columns = COLUMNS[view]
    fields = ", ".join(f'"{name}" {_DUCK_TYPES[kind]}' for name, kind in columns)
    template = sqlglot.parse_one(
        f"SELECT * FROM (SELECT UNNEST(CAST(CAST('[]' AS JSON) AS STRUCT({fields})[]), "
        "recursive := TRUE))",
        read="duckdb",
    )
    names = [name for name, _ in columns]
    data = json.dumps(
        [dict(zip(names, (_json_value(v) for v in row), strict=True)) for row in rows],
        separators=(",", ":"),
    )
    literal = next(node for node in template.find_all(exp.Literal) if node.this == "[]")
    literal.replace(exp.Literal.string(data))
    assert isinstance(template, exp.Select)
    return template.subquery()


def is_reference(table: exp.Table, scope: Scope) -> bool:
    """Whether a table reference names an information_schema relation."""
    if not isinstance(table.this, exp.Identifier):
        return False
    schema = table.db or ("" if table.catalog else scope.schema)
    return schema.lower() == SCHEMA


def rewrite(tree: exp.Expression, scope: Scope, catalog: Catalog) -> None:
    """Replace information_schema references in ``tree`` (in place) by their rows."""
    for table in list(tree.find_all(exp.Table)):
        if not is_reference(table, scope):
            continue
        owner = (table.catalog or scope.catalog).lower()
        view = table.name.lower()
        if view not in COLUMNS:
            raise table_not_found((owner, SCHEMA, table.name))
        if owner == "system":
            names = sorted(c["name"] for c in catalog.catalogs.all())
        elif catalog.catalogs.has(owner):
            names = [owner]
        else:
            raise catalog_not_found(owner)
        with catalog_errors():
            rows = _rows(view, Snapshot(catalog, names))
        alias = table.alias or table.name
        subquery = relation(view, rows)
        subquery.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
        table.replace(subquery)
