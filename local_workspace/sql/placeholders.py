"""``CREATE TABLE t`` without columns: Databricks' empty placeholder table for COPY INTO.

Databricks documents this pattern for loading files whose schema is not known yet::

    CREATE TABLE IF NOT EXISTS t;
    COPY INTO t FROM '/Volumes/...' FILEFORMAT = CSV
      FORMAT_OPTIONS ('header' = 'true', 'inferSchema' = 'true')
      COPY_OPTIONS ('mergeSchema' = 'true');

DuckDB has no table without columns, so the placeholder is a row of ``uc.sqlite``
(``table_placeholders``) until the first COPY INTO with mergeSchema gives it the files'
columns: the DuckDB table is created then, and recorded in Unity Catalog like SQL DDL.
Until that load the name is reserved (a second CREATE fails, IF NOT EXISTS is a no-op) and
``DROP TABLE`` removes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

from local_workspace.sql.commands import Output
from local_workspace.sql.errors import SqlError, quoted, schema_not_found
from local_workspace.sql.translate import Scope, parse_name

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

# schema_id: the schema the placeholder was created in (a dropped and re-created schema
# has a new id, so its old placeholders no longer count).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS table_placeholders (
    full_name TEXT PRIMARY KEY, comment TEXT, schema_id TEXT
)
"""

Name = tuple[str, str, str]


def name_of(table: exp.Expression, scope: Scope) -> Name:
    """The public, lower-case three-part name of a table reference."""
    parts = parse_name(table.sql(dialect="databricks"))
    full = [scope.catalog, scope.schema][: 3 - len(parts)] + parts
    return (full[0].lower(), full[1].lower(), full[2].lower())


def already_exists(name: Name) -> SqlError:
    """TABLE_OR_VIEW_ALREADY_EXISTS, as DuckDB's own errors are mapped."""
    return SqlError(
        "TABLE_OR_VIEW_ALREADY_EXISTS",
        f"Cannot create table or view {quoted(*name)} because it already exists.\nChoose a "
        "different name, drop or replace the existing object, or add the IF NOT EXISTS "
        "clause to tolerate pre-existing objects.",
        "42P07",
        "ALREADY_EXISTS",
    )


def _schema_id(catalog: Catalog, name: Name) -> str | None:
    if not catalog.catalogs.has(name[0]) or not catalog.schemas.has(name[0], name[1]):
        return None
    return str(catalog.schemas.get(f"{name[0]}.{name[1]}").get("schema_id"))


def comment_of(catalog: Catalog, name: Name) -> tuple[bool, str | None]:
    """Whether ``name`` is a placeholder (of its schema as it is now), and its comment."""
    with catalog.meta.transaction() as db:
        db.execute(_SCHEMA)
        row = db.execute(
            "SELECT comment, schema_id FROM table_placeholders WHERE full_name = ?",
            (".".join(name),),
        ).fetchone()
    if row is None or row[1] != _schema_id(catalog, name):
        return (False, None)
    return (True, row[0])


def take(tree: exp.Expression, scope: Scope, catalog: Catalog) -> Output | None:
    """Answer CREATE TABLE without columns and DROP TABLE of a placeholder; else None."""
    if str(tree.args.get("kind") or "").upper() != "TABLE":
        return None
    if isinstance(tree, exp.Create) and _column_less(tree):
        return _create(tree, name_of(tree.this, scope), catalog)
    targets = (tree.args.get("tables") or []) if isinstance(tree, exp.Drop) else []
    if len(targets) == 1 and isinstance(targets[0], exp.Table):
        name = name_of(targets[0], scope)
        if comment_of(catalog, name)[0] and not catalog.tables.has(*name):
            _forget(catalog, name)
            return Output()
    return None


def _column_less(tree: exp.Create) -> bool:
    """``CREATE TABLE t [USING DELTA] [COMMENT ...] [TBLPROPERTIES (...)]``: no columns, no
    query, no LIKE/CLONE/LOCATION (those go their own way)."""
    if not isinstance(tree.this, exp.Table) or tree.expression or tree.args.get("clone"):
        return False
    props = tree.args.get("properties")
    kinds = (exp.SchemaCommentProperty, exp.FileFormatProperty, exp.Property)
    return all(type(p) in kinds for p in (props.expressions if props else []))


def _create(tree: exp.Create, name: Name, catalog: Catalog) -> Output:
    if not catalog.catalogs.has(name[0]) or not catalog.schemas.has(name[0], name[1]):
        raise schema_not_found(name[0], name[1])
    if catalog.tables.has(*name) or comment_of(catalog, name)[0]:
        if tree.args.get("exists"):
            return Output()
        raise already_exists(name)
    comment = None
    props = tree.args.get("properties")
    for prop in props.expressions if props is not None else []:
        if isinstance(prop, exp.SchemaCommentProperty):
            comment = prop.this.name
    with catalog.meta.transaction() as db:
        db.execute(_SCHEMA)
        db.execute(
            "INSERT OR REPLACE INTO table_placeholders VALUES (?, ?, ?)",
            (".".join(name), comment, _schema_id(catalog, name)),
        )
    return Output()


def _forget(catalog: Catalog, name: Name) -> None:
    with catalog.meta.transaction() as db:
        db.execute(_SCHEMA)
        db.execute("DELETE FROM table_placeholders WHERE full_name = ?", (".".join(name),))


def materialize(
    catalog: Catalog, name: Name, columns: list[tuple[str, str]], cursor: duckdb.DuckDBPyConnection
) -> None:
    """Create the DuckDB table of a placeholder with ``columns`` (name, DuckDB type)."""
    comment = comment_of(catalog, name)[1]
    internal = ".".join(_q(p) for p in (catalog.engine.to_internal(name[0]), name[1], name[2]))
    body = ", ".join(f"{_q(n)} {t}" for n, t in columns)
    cursor.execute(f"CREATE TABLE {internal} ({body})")
    catalog.ddl.created("table", ".".join(name), comment)
    _forget(catalog, name)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
