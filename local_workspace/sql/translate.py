"""Databricks SQL -> DuckDB SQL with sqlglot: parse once, qualify, rename catalogs, bind params.

Every UC catalog is a DuckDB database attached under an internal alias
(``DuckEngine.to_internal``), so table names are rewritten in the tree: unqualified names get
the request's catalog/schema, and the catalog part becomes the internal alias. The public names
are kept to word errors.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from local_workspace.sql.errors import SqlError, parse_error, unbound_parameter

# sqlglot warns on every Delta-only clause it drops (USING DELTA, TBLPROPERTIES...): harmless.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

READ = "databricks"
WRITE = "duckdb"


class Names(Protocol):
    """The part of the catalog engine the translation needs (catalog name mapping)."""

    def to_internal(self, catalog: str) -> str: ...

    def to_public(self, internal: str) -> str: ...


@dataclass
class Scope:
    """The session of a statement: where unqualified names resolve (``main.default``) and
    its time zone. The Statement Execution API gives each request a new one; a caller that
    runs several statements as one session (a SQL file task) passes the same Scope, which
    USE and SET TIME ZONE then change for the statements after them."""

    catalog: str = "main"
    schema: str = "default"
    time_zone: str = "UTC"


@dataclass
class Param:
    """One bound parameter of the request: ``{name, value, type}``."""

    name: str
    value: str | None
    type: str = "STRING"


@dataclass
class Translated:
    """A statement rewritten for DuckDB, with the public names it references."""

    tree: exp.Expression
    sql: str
    params: dict[str, str | None]
    tables: list[tuple[str, str, str]] = field(default_factory=list)


def parse(statement: str) -> exp.Expression:
    """The one statement of ``statement`` (Databricks dialect), or PARSE_SYNTAX_ERROR."""
    try:
        trees = [t for t in sqlglot.parse(statement, read=READ) if t is not None]
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        near = _duckdb_near(statement) or str(first.get("highlight") or "end of input")
        raise parse_error(near) from exc
    except TokenError as exc:
        raise parse_error("end of input", str(exc)) from exc
    if not trees:
        raise parse_error("end of input")
    if len(trees) > 1:
        raise parse_error(
            ";", "The Statement Execution API runs one statement per request; send them apart."
        )
    tree = trees[0]
    assert isinstance(tree, exp.Expression)
    return tree


def _duckdb_near(statement: str) -> str | None:
    """The token DuckDB's parser stops at: it names the culprit better than sqlglot."""
    try:
        duckdb.extract_statements(statement)
    except duckdb.ParserException as exc:
        match = re.search(r'at or near "([^"]*)"', str(exc))
        return match.group(1) if match else None
    except duckdb.Error:
        return None
    return None


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def cte_names(tree: exp.Expression) -> set[str]:
    """Names defined by WITH clauses anywhere in the statement (they are not tables)."""
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def qualify_table(table: exp.Table, scope: Scope, names: Names) -> tuple[str, str, str]:
    """Fill catalog/schema of a table reference and rename its catalog; returns the public name."""
    catalog = table.catalog or scope.catalog
    schema = table.db or scope.schema
    name = table.name
    table.set("catalog", _ident(names.to_internal(catalog)))
    table.set("db", exp.to_identifier(schema))
    return catalog.lower(), schema, name


def qualify_schema(table: exp.Table, scope: Scope, names: Names) -> tuple[str, str]:
    """A schema reference (``CREATE SCHEMA c.s``: sqlglot puts s in ``db``, c in ``catalog``)."""
    if table.args.get("this") is None:
        catalog, schema = table.catalog or scope.catalog, table.db
        table.set("catalog", _ident(names.to_internal(catalog)))
    else:  # some statements parse `c.s` as table=s, db=c
        catalog, schema = table.db or scope.catalog, table.name
        table.set("db", _ident(names.to_internal(catalog)))
    return catalog.lower(), schema


def qualify(tree: exp.Expression, scope: Scope, names: Names) -> list[tuple[str, str, str]]:
    """Qualify every table reference in ``tree`` (in place); the public names, in order."""
    if isinstance(tree, exp.Create | exp.Drop) and str(tree.args.get("kind", "")).upper() in (
        "SCHEMA",
        "DATABASE",
    ):
        target = tree.this if tree.this is not None else (tree.args.get("tables") or [None])[0]
        if not isinstance(target, exp.Table):
            raise parse_error(str(tree.args.get("kind")), "Name the schema.")
        catalog, schema = qualify_schema(target, scope, names)
        return [(catalog, schema, "")]
    local = cte_names(tree)
    found = []
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue  # table functions: range(10), read_csv(...)
        if not table.db and not table.catalog and table.name.lower() in local:
            continue
        found.append(qualify_table(table, scope, names))
    return found


def current_names(tree: exp.Expression, scope: Scope) -> None:
    """current_catalog()/current_schema() answer the request's scope, not DuckDB's."""
    for catalog_node in list(tree.find_all(exp.CurrentCatalog)):
        catalog_node.replace(exp.Literal.string(scope.catalog))
    for schema_node in list(tree.find_all(exp.CurrentSchema, exp.CurrentDatabase)):
        schema_node.replace(exp.Literal.string(scope.schema))


def bind(tree: exp.Expression, params: list[Param]) -> dict[str, str | None]:
    """Turn ``:name`` markers into typed DuckDB parameters ``CAST($name AS type)``.

    Values are bound, never spliced into the SQL text. A marker without a parameter fails
    with UNBOUND_SQL_PARAMETER, as on Databricks.
    """
    by_name = {p.name.lower(): p for p in params}
    bound: dict[str, str | None] = {}
    for marker in list(tree.find_all(exp.Placeholder)):
        name = str(marker.name or "").lower()
        if not name:
            raise SqlError(
                "UNSUPPORTED_FEATURE",
                "Positional parameters (?) are not supported: use named markers (:name).",
                "0A000",
            )
        param = by_name.get(name)
        if param is None:
            raise unbound_parameter(name)
        try:
            data_type = exp.DataType.build(param.type or "STRING", dialect=READ)
        except (ParseError, ValueError) as exc:
            raise SqlError(
                "INVALID_PARAMETER_VALUE",
                f"Parameter '{param.name}' has an unknown type {param.type!r}.",
                "22023",
            ) from exc
        marker.replace(exp.Cast(this=exp.Placeholder(this=name), to=data_type))
        bound[name] = param.value
    return bound


def to_duckdb(tree: exp.Expression) -> str:
    """DuckDB SQL for a (rewritten) tree; comments are dropped (DuckDB needs none, and no
    text of the user's then reaches DuckDB outside a literal or a quoted name)."""
    return tree.sql(dialect=WRITE, comments=False)


def translate(tree: exp.Expression, scope: Scope, names: Names, params: list[Param]) -> Translated:
    """Qualify, rename, bind: everything a statement needs before DuckDB runs it."""
    tables = qualify(tree, scope, names)
    current_names(tree, scope)
    bound = bind(tree, params)
    return Translated(tree=tree, sql=to_duckdb(tree), params=bound, tables=tables)


def parse_name(text: str) -> list[str]:
    """A dotted name (``a.`b c`.d``) as parts, via sqlglot so backticks work."""
    try:
        table = exp.to_table(text.strip(), dialect=READ)
    except (ParseError, TokenError, ValueError) as exc:
        raise parse_error(text.strip()[:40] or "end of input") from exc
    parts = [p for p in (table.catalog, table.db, table.name) if p]
    return parts


def value_sql(value: Any) -> str:
    """A Python value as a SQL literal (only for values we produce ourselves)."""
    return exp.convert(value).sql(dialect=WRITE)
