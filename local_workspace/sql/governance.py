"""The engine's hooks for Unity Catalog functions, identity, row filters and column masks.

``Engine.execute`` calls :func:`before_parse` on the text, :func:`native` from ``_native``,
:func:`rewrite` before translating, and :func:`after` once DDL ran (see ``udfs`` and
``policies`` for the work itself).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

from local_workspace.sql import builtins, policies, udfs
from local_workspace.sql.commands import Commands, Output
from local_workspace.sql.sandbox import _denied, command_text
from local_workspace.sql.translate import Scope

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog


def before_parse(statement: str) -> tuple[str, policies.Pending | None]:
    """The statement sqlglot can parse, and the CREATE TABLE policies it held."""
    return policies.take_create_clauses(statement)


def native(
    tree: exp.Expression,
    statement: str,
    scope: Scope,
    catalog: Catalog,
    cursor: duckdb.DuckDBPyConnection,
) -> Output | None:
    """Answer the function and policy statements; None for any other statement."""
    kind = str(tree.args.get("kind") or "").upper()
    if isinstance(tree, exp.Create) and kind == "FUNCTION":
        return udfs.create(tree, scope, catalog)
    if isinstance(tree, exp.Drop) and kind == "FUNCTION":
        return udfs.drop(tree, scope, catalog)
    if isinstance(tree, exp.Describe) and kind == "FUNCTION":
        return udfs.describe(tree, scope, catalog)
    if isinstance(tree, exp.Describe) and kind in ("", "TABLE"):
        return _describe_extended(tree, scope, catalog)
    if isinstance(tree, exp.Command) and str(tree.this).upper() == "SHOW":
        return udfs.show(command_text(tree), scope, catalog, lambda: _system_functions(catalog))
    if isinstance(tree, exp.Alter | exp.Command) and statement.lstrip()[:5].upper() == "ALTER":
        return policies.PolicyCommands(catalog).alter(statement, scope)
    return None


def rewrite(
    tree: exp.Expression, scope: Scope, catalog: Catalog, cursor: duckdb.DuckDBPyConnection
) -> None:
    """Databricks built-ins, identity functions, UC function calls, row filters and column
    masks (in place); gives ``cursor`` the identity when the statement may ask for it."""
    builtins.rewrite(tree)
    asks = udfs.identity(tree)
    if asks and isinstance(tree, exp.Create):
        udfs.note_identity_stored(catalog)  # a view that asks who reads it
    udfs.routines(tree, scope, catalog)
    policies.enforce(tree, scope, catalog)
    # Setting it costs a DuckDB round trip: only statements that may evaluate an identity
    # function pay it (their own calls, or views and functions that hold one).
    if asks or udfs.identity_stored(catalog):
        udfs.set_identity(cursor, catalog)


def after(
    tree: exp.Expression, pending: policies.Pending | None, scope: Scope, catalog: Catalog
) -> None:
    """Store the policies of a CREATE TABLE; forget those of a dropped table."""
    if pending is not None and isinstance(tree, exp.Create):
        policies.PolicyCommands(catalog).store(pending, tree, scope)
    if isinstance(tree, exp.Drop) and str(tree.args.get("kind") or "").upper() == "TABLE":
        for table in tree.args.get("tables") or []:
            if isinstance(table, exp.Table):
                parts = [p for p in (table.catalog, table.db, table.name) if p]
                parts[0] = catalog.engine.to_public(parts[0]) if len(parts) == 3 else parts[0]
                name = ".".join(policies._full(parts, scope))
                cat, schema, name_ = name.split(".")
                if not catalog.tables.has(cat, schema, name_):
                    catalog.policies.forget(name)


def _describe_extended(tree: exp.Describe, scope: Scope, catalog: Catalog) -> Output | None:
    """DESCRIBE TABLE EXTENDED of a table with a row filter or masks: the usual answer plus
    the policies; None for every other DESCRIBE (the engine answers it)."""
    if str(tree.args.get("style") or "").upper() not in ("EXTENDED", "FORMATTED"):
        return None
    if not isinstance(tree.this, exp.Table) or not catalog.policies.tables():
        return None
    parts = [p for p in (tree.this.catalog, tree.this.db, tree.this.name) if p]
    full = ".".join(policies._full(parts, scope))
    if full not in catalog.policies.tables():
        return None
    output = Commands(catalog).describe(tree.this.sql(dialect="databricks"), True, scope)
    table_id = catalog.tables.get(full).get("table_id")
    row_filter = catalog.policies.row_filter(full, table_id)
    if row_filter is not None:
        output.rows += [
            ["", "", ""],
            ["# Row Filter", "", ""],
            ["Function", row_filter["function_name"], ""],
            ["Input Columns", ", ".join(row_filter["input_column_names"]), ""],
        ]
    masks = catalog.policies.masks(full, table_id)
    if masks:
        output.rows += [["", "", ""], ["# Column Masks", "", ""]]
        output.rows += [
            [column, mask["function_name"], ", ".join(mask["using_column_names"])]
            for column, mask in sorted(masks.items())
        ]
    return output


def _system_functions(catalog: Catalog) -> list[str]:
    """Built-in function names for SHOW SYSTEM FUNCTIONS (DuckDB-only ones left out)."""
    cursor = catalog.engine.cursor()
    try:
        rows = cursor.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE internal "
            "AND function_type IN ('scalar', 'aggregate', 'table') ORDER BY 1"
        ).fetchall()
    finally:
        cursor.close()
    return [
        str(r[0])
        for r in rows
        if re.fullmatch(r"[a-z_][a-z0-9_]*", str(r[0])) and not _denied(str(r[0]))
    ]
