"""Row filters and column masks: set by SQL, enforced on every read.

``ALTER TABLE t SET ROW FILTER f ON (cols)`` / ``DROP ROW FILTER``, ``ALTER TABLE t ALTER
COLUMN c SET MASK f [USING COLUMNS (...)]`` / ``DROP MASK`` and the ``MASK`` / ``WITH ROW
FILTER`` clauses of CREATE TABLE are stored by the Catalog (``catalog.policies``). Every read
of such a table (queries, joins, subqueries, CTAS, INSERT/MERGE sources, views over it) is
rewritten to read ``(SELECT m(c) AS c, ... FROM t WHERE f(cols)) AS t``; UPDATE, DELETE and
MERGE change only rows the filter lets the user see, as Databricks documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from local_workspace.sql.commands import Output
from local_workspace.sql.errors import SqlError, parse_error, quoted, table_not_found
from local_workspace.sql.translate import READ, Scope, cte_names, parse_name
from local_workspace.sql.udfs import identity, missing_routine, routines

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

_NAME = r"(?:`[^`]*`|[^\s`(),;])+"
ALTER = re.compile(
    rf"^\s*ALTER\s+TABLE\s+(?P<table>{_NAME})\s+(?:"
    rf"SET\s+ROW\s+FILTER\s+(?P<filter>{_NAME})\s+ON\s*\((?P<on>[^)]*)\)"
    r"|(?P<drop_filter>DROP\s+ROW\s+FILTER)"
    rf"|ALTER\s+COLUMN\s+(?P<column>{_NAME})\s+(?:SET\s+MASK\s+(?P<mask>{_NAME})"
    r"(?:\s+USING\s+COLUMNS\s*\((?P<using>[^)]*)\))?|(?P<drop_mask>DROP\s+MASK)))\s*;?\s*$",
    re.I | re.S,
)
CREATE_TABLE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\b", re.I)
ROW_FILTER_CLAUSE = re.compile(
    rf"\bWITH\s+ROW\s+FILTER\s+(?P<filter>{_NAME})\s+ON\s*\((?P<on>[^)]*)\)", re.I
)
MASK_CLAUSE = re.compile(
    rf"\bMASK\s+(?P<mask>{_NAME})(?:\s+USING\s+COLUMNS\s*\((?P<using>[^)]*)\))?", re.I
)


@dataclass
class Pending:
    """Policies of a CREATE TABLE, stored once the table exists."""

    row_filter: tuple[str, list[str]] | None = None
    masks: dict[str, tuple[str, list[str]]] = field(default_factory=dict)


def _items(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def _column_before(statement: str, at: int) -> str:
    """The name of the column definition a MASK clause at ``at`` belongs to."""
    depth, start = 0, 0
    for i in range(at - 1, -1, -1):
        char = statement[i]
        if char == ")":
            depth += 1
        elif char == "(" and depth:
            depth -= 1
        elif char in "(," and depth == 0:
            start = i + 1
            break
    words = statement[start:at].split()
    if not words:
        raise parse_error("MASK")
    return words[0].strip("`")


def take_create_clauses(statement: str) -> tuple[str, Pending | None]:
    """Strip MASK / WITH ROW FILTER clauses from a CREATE TABLE (sqlglot has no grammar for
    them); what they set is returned to store after the table is created."""
    if not CREATE_TABLE.match(statement) or not re.search(
        r"\b(MASK|ROW\s+FILTER)\b", statement, re.I
    ):
        return statement, None
    pending = Pending()
    match = ROW_FILTER_CLAUSE.search(statement)
    if match is not None:
        pending.row_filter = (match["filter"], _items(match["on"]))
        statement = statement[: match.start()] + statement[match.end() :]
    while (match := MASK_CLAUSE.search(statement)) is not None:
        column = _column_before(statement, match.start())
        pending.masks[column.lower()] = (match["mask"], _items(match["using"]))
        statement = statement[: match.start()] + statement[match.end() :]
    return statement, pending


def _full(parts: list[str], scope: Scope) -> tuple[str, str, str]:
    if len(parts) == 1:
        parts = [scope.catalog, scope.schema, *parts]
    elif len(parts) == 2:
        parts = [scope.catalog, *parts]
    return parts[-3].lower(), parts[-2].lower(), parts[-1].lower()


class PolicyCommands:
    """The statements that set and drop row filters and column masks."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def _table(self, text: str, scope: Scope) -> tuple[dict[str, Any], str]:
        full = _full(parse_name(text), scope)
        if not self.catalog.catalogs.has(full[0]) or not self.catalog.tables.has(*full):
            raise table_not_found(full)
        info = self.catalog.tables.get(".".join(full))
        if info["table_type"] == "VIEW":
            raise SqlError(
                "INVALID_PARAMETER_VALUE.ROW_COLUMN_ACCESS_POLICY_NOT_SUPPORTED",
                f"Row filters and column masks apply to tables, not to the view {quoted(*full)}.",
                "22023",
            )
        return info, ".".join(full)

    def _function(self, text: str, scope: Scope, arity: int) -> dict[str, Any]:
        full = _full(parse_name(text), scope)
        info = self.catalog.functions.find(".".join(full))
        if info is None:
            raise missing_routine(full)
        params = info["input_params"]["parameters"]
        required = [p for p in params if p.get("parameter_default") is None]
        if not len(required) <= arity <= len(params):
            raise SqlError(
                "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
                f"The {quoted(*full)} requires {len(params)} parameters but the actual "
                f"number is {arity}.",
                "42605",
            )
        return info

    def _columns(self, info: dict[str, Any], names: list[str]) -> list[str]:
        known = {str(c["name"]).lower() for c in info.get("columns") or []}
        for name in names:
            if _is_literal(name):
                continue
            if name.strip("`").lower() not in known:
                raise SqlError(
                    "UNRESOLVED_COLUMN.WITH_SUGGESTION",
                    f"A column, variable, or function parameter with name `{name.strip('`')}` "
                    f"cannot be resolved. Did you mean one of the following? "
                    f"[{', '.join('`' + k + '`' for k in sorted(known))}].",
                    "42703",
                )
        return [n if _is_literal(n) else n.strip("`").lower() for n in names]

    def alter(self, statement: str, scope: Scope) -> Output | None:
        """ALTER TABLE ... SET/DROP ROW FILTER | ALTER COLUMN ... SET/DROP MASK; None: not one."""
        match = ALTER.match(statement)
        if match is None:
            return None
        info, table = self._table(match["table"], scope)
        policies = self.catalog.policies
        if match["filter"]:
            on = self._columns(info, _items(match["on"]))
            function = self._function(match["filter"], scope, len(on))
            if function.get("data_type") != "BOOLEAN":
                raise SqlError(
                    "INVALID_PARAMETER_VALUE.ROW_FILTER_NOT_BOOLEAN",
                    f"The row filter {function['full_name']} must return BOOLEAN.",
                    "22023",
                )
            policies.set_filter(table, function["full_name"], on, info.get("table_id"))
        elif match["drop_filter"]:
            policies.drop_filter(table)
        else:
            column = self._columns(info, [match["column"]])[0]
            if match["drop_mask"]:
                policies.drop_mask(table, column)
            else:
                using = self._columns(info, _items(match["using"]))
                function = self._function(match["mask"], scope, 1 + len(using))
                policies.set_mask(table, column, function["full_name"], using, info.get("table_id"))
        return Output()

    def store(self, pending: Pending, tree: exp.Expression, scope: Scope) -> None:
        """Store the policies of a CREATE TABLE that just ran."""
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        if not isinstance(target, exp.Table):
            return
        name = ".".join(p for p in (target.catalog, target.db, target.name) if p)
        name = self.catalog.engine.public_text(name.replace('"', ""))
        for column, (mask, using) in pending.masks.items():
            self.alter(
                f"ALTER TABLE {name} ALTER COLUMN `{column}` SET MASK {mask}"
                + (f" USING COLUMNS ({', '.join(using)})" if using else ""),
                scope,
            )
        if pending.row_filter is not None:
            function, on = pending.row_filter
            self.alter(f"ALTER TABLE {name} SET ROW FILTER {function} ON ({', '.join(on)})", scope)


def _is_literal(text: str) -> bool:
    return bool(re.fullmatch(r"'.*'|-?\d+(\.\d+)?|TRUE|FALSE|NULL", text.strip(), re.I | re.S))


# -- enforcement -------------------------------------------------------------------------


def _argument(text: str, qualifier: str | None = None) -> exp.Expression:
    if _is_literal(text):
        return exp.maybe_parse(text, dialect=READ)
    return exp.column(text, table=qualifier, quoted=True)


def _call(catalog: Catalog, function: str, args: list[exp.Expression]) -> exp.Expression:
    cat, schema, name = function.split(".")
    call = exp.Anonymous(this=exp.to_identifier(name, quoted=True), expressions=args)
    return exp.Dot.build(
        [
            exp.to_identifier(catalog.engine.to_internal(cat), quoted=True),
            exp.to_identifier(schema, quoted=True),
            call,
        ]
    )


def _filter_of(catalog: Catalog, table: str, qualifier: str | None) -> exp.Expression | None:
    found = catalog.policies.row_filter(table, catalog.tables.get(table).get("table_id"))
    if found is None:
        return None
    args = [_argument(c, qualifier) for c in found["input_column_names"]]
    return _call(catalog, found["function_name"], args)


def _projection(catalog: Catalog, table: exp.Table, full: str) -> exp.Subquery:
    """``(SELECT masked columns FROM t WHERE filter) AS <alias or t>``."""
    info = catalog.tables.get(full)
    masks = catalog.policies.masks(full, info.get("table_id"))
    selects: list[exp.Expr] = []
    for column in info.get("columns") or []:
        name = str(column["name"])
        mask = masks.get(name.lower())
        if mask is None:
            selects.append(exp.column(name, quoted=True))
            continue
        args = [exp.column(name, quoted=True)] + [_argument(u) for u in mask["using_column_names"]]
        selects.append(exp.alias_(_call(catalog, mask["function_name"], args), name, quoted=True))
    cat, schema, name = full.split(".")
    inner = exp.Table(
        this=exp.to_identifier(name, quoted=True),
        db=exp.to_identifier(schema, quoted=True),
        catalog=exp.to_identifier(cat, quoted=True),
    )
    query = exp.select(*selects).from_(inner)
    where = _filter_of(catalog, full, None)
    if where is not None:
        query = query.where(where)
    alias = table.args.get("alias")
    if alias is None:
        alias = exp.TableAlias(this=exp.to_identifier(table.name, quoted=True))
    return exp.Subquery(this=query, alias=alias.copy())


def _write_targets(tree: exp.Expression) -> list[exp.Table]:
    target = (
        tree.this
        if isinstance(tree, exp.Insert | exp.Update | exp.Delete | exp.Merge | exp.Create)
        else None
    )
    if isinstance(target, exp.Schema):
        target = target.this
    return [target] if isinstance(target, exp.Table) else []


def _public(table: exp.Table, scope: Scope, catalog: Catalog) -> str:
    parts = [p for p in (table.catalog, table.db, table.name) if p]
    if len(parts) == 3:
        parts[0] = catalog.engine.to_public(parts[0])
    return ".".join(_full(parts, scope))


def enforce(tree: exp.Expression, scope: Scope, catalog: Catalog) -> None:
    """Rewrite every read of a table with a row filter or column masks (in place), and keep
    UPDATE/DELETE/MERGE to the rows the filter shows."""
    protected = catalog.policies.tables()
    if not protected:
        return
    if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() != "TABLE":
        return  # views are expanded when read; functions read through their callers
    if not isinstance(
        tree, exp.Query | exp.Insert | exp.Update | exp.Delete | exp.Merge | exp.Create
    ):
        return
    targets = _write_targets(tree)
    for target in targets:
        _constrain_write(tree, target, scope, catalog, protected)
    _rewrite_reads(tree, scope, catalog, protected, {id(t) for t in targets}, depth=0)


def _rewrite_reads(
    tree: exp.Expression,
    scope: Scope,
    catalog: Catalog,
    protected: set[str],
    skip: set[int],
    depth: int,
) -> bool:
    local = cte_names(tree)
    changed = False
    for table in list(tree.find_all(exp.Table)):
        if id(table) in skip or not isinstance(table.this, exp.Identifier):
            continue
        if not table.db and not table.catalog and table.name.lower() in local:
            continue
        full = _public(table, scope, catalog)
        cat, schema, name = full.split(".")
        if not catalog.catalogs.has(cat) or not catalog.tables.has(cat, schema, name):
            continue  # DuckDB words the error
        if full in protected:
            if table.args.get("alias") is None:
                _unqualify_columns(tree, table.name)
            table.replace(_projection(catalog, table, full))
            changed = True
            continue
        if depth < 8:
            view = _expanded_view(catalog, full, protected, depth)
            if view is not None:
                alias = table.args.get("alias") or exp.TableAlias(
                    this=exp.to_identifier(table.name, quoted=True)
                )
                table.replace(exp.Subquery(this=view, alias=alias.copy()))
                changed = True
    return changed


def _unqualify_columns(tree: exp.Expression, name: str) -> None:
    """``s.t.c`` -> ``t.c``: the subquery that replaces ``t`` is named ``t`` alone."""
    for column in tree.find_all(exp.Column):
        if column.table.lower() == name.lower() and (
            column.args.get("db") or column.args.get("catalog")
        ):
            column.set("db", None)
            column.set("catalog", None)


def _expanded_view(
    catalog: Catalog, full: str, protected: set[str], depth: int
) -> exp.Expression | None:
    """The body of a view that reads a protected table, with the reads rewritten; None when
    the view reads none (it is then left as it is)."""
    info = catalog.tables.get(full)
    body = info.get("view_definition") if info.get("table_type") == "VIEW" else None
    if not body:
        return None
    import sqlglot

    try:
        query = sqlglot.parse_one(body, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    if not isinstance(query, exp.Expression):
        return None
    cat, schema, _ = full.split(".")
    view_scope = Scope(catalog=cat, schema=schema)
    if not _rewrite_reads(query, view_scope, catalog, protected, set(), depth + 1):
        return None
    routines(query, view_scope, catalog)
    identity(query)
    return query


def _constrain_write(
    tree: exp.Expression, target: exp.Table, scope: Scope, catalog: Catalog, protected: set[str]
) -> None:
    if not isinstance(tree, exp.Update | exp.Delete | exp.Merge):
        return
    full = _public(target, scope, catalog)
    if full not in protected:
        return
    alias = target.alias
    if isinstance(tree, exp.Merge):
        condition = _filter_of(catalog, full, alias or target.name)
        if condition is None:
            return
        for when in tree.find_all(exp.When):
            if when.args.get("matched"):
                existing = when.args.get("condition")
                when.set(
                    "condition",
                    exp.and_(condition.copy(), existing) if existing else condition.copy(),
                )
        return
    condition = _filter_of(catalog, full, alias or None)
    if condition is None:
        return
    where = tree.args.get("where")
    combined = exp.and_(condition, where.this) if where is not None else condition
    tree.set("where", exp.Where(this=combined))
