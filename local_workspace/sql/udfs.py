"""SQL functions of Unity Catalog and the identity functions, on DuckDB.

``CREATE FUNCTION c.s.f(p T) RETURNS R RETURN expr`` becomes a DuckDB macro in the catalog's
attached file (``RETURNS TABLE`` a table macro), recorded with its FunctionInfo; calls written
``c.s.f(x)``, ``s.f(x)`` or ``f(x)`` are renamed to the macro. ``current_user()``,
``is_member('g')`` and ``is_account_group_member('g')`` read a per-cursor DuckDB variable set
from the local identity, so function bodies and views evaluate them when they run, not when
they were created.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import duckdb
from sqlglot import exp

from local_workspace.errors import ApiError
from local_workspace.sql import builtins
from local_workspace.sql.commands import Output, strings
from local_workspace.sql.errors import SqlError, parse_error, quoted, unsupported
from local_workspace.sql.translate import WRITE, Scope, qualify, to_duckdb, value_sql

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

# The DuckDB variable holding {user, groups} of the session (set on every cursor).
IDENTITY_VARIABLE = "__dbx_identity"
USER_FUNCTIONS = frozenset({"current_user", "user", "session_user"})
MEMBER_FUNCTIONS = frozenset({"is_member", "is_account_group_member"})
SHOW = re.compile(
    r"^(?:(?P<kind>USER|SYSTEM|ALL)\s+)?FUNCTIONS"
    r"(?:\s+(?:IN|FROM)\s+(?P<schema>[\w`.-]+))?"
    r"(?:\s+(?:LIKE\s+)?'(?P<like>[^']*)')?\s*;?$",
    re.I | re.S,
)


def set_identity(cursor: duckdb.DuckDBPyConnection, catalog: Catalog) -> None:
    """Give ``cursor`` the identity the identity functions answer."""
    groups = [g.lower() for g in catalog.groups.of_user()]
    cursor.execute(
        f"SET VARIABLE {IDENTITY_VARIABLE} = {{'user': $1, 'groups': $2::VARCHAR[]}}",
        [catalog.owner, groups],
    )


def _identity_field(name: str) -> exp.Expression:
    variable = exp.Anonymous(
        this="getvariable", expressions=[exp.Literal.string(IDENTITY_VARIABLE)]
    )
    return exp.Anonymous(this="struct_extract", expressions=[variable, exp.Literal.string(name)])


def _name_of(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


IDENTITY_SETTING = "identity_in_stored_sql"


def note_identity_stored(catalog: Catalog) -> None:
    """Remember that a view or function body asks for the identity (from now on every
    statement gets it)."""
    if catalog.meta.setting(IDENTITY_SETTING) is None:
        catalog.meta.set_setting(IDENTITY_SETTING, "1")


def identity_stored(catalog: Catalog) -> bool:
    """Whether any stored view or function body may ask for the identity."""
    return catalog.meta.setting(IDENTITY_SETTING) is not None


def identity(tree: exp.Expression) -> bool:
    """Rewrite the identity functions of ``tree`` (in place) to read the session identity;
    whether there were any."""
    found = False
    for node in list(tree.find_all(exp.CurrentUser, exp.SessionUser, exp.Anonymous)):
        name = _name_of(node)
        if isinstance(node, exp.CurrentUser | exp.SessionUser) or (
            name in USER_FUNCTIONS and not node.expressions
        ):
            node.replace(_identity_field("user"))
            found = True
        elif name in MEMBER_FUNCTIONS and len(node.expressions) == 1:
            member = exp.Anonymous(
                this="list_contains",
                expressions=[_identity_field("groups"), exp.Lower(this=node.expressions[0])],
            )
            node.replace(exp.Coalesce(this=member, expressions=[exp.false()]))
            found = True
    return found


def _parts(node: exp.Expression) -> list[str]:
    """``a.b`` (Dot/Identifier/Column chains) as name parts."""
    if isinstance(node, exp.Identifier):
        return [node.name]
    if isinstance(node, exp.Column):
        return [p.name for p in node.parts]
    if isinstance(node, exp.Dot):
        return _parts(node.this) + _parts(node.expression)
    return [node.sql(dialect="databricks")]


def _qualified(catalog: Catalog, parts: list[str], scope: Scope) -> tuple[str, str, str]:
    if len(parts) == 1:
        parts = [scope.catalog, scope.schema, *parts]
    elif len(parts) == 2:
        parts = [scope.catalog, *parts]
    return parts[-3].lower(), parts[-2].lower(), parts[-1].lower()


def _macro_name(catalog: Catalog, full: tuple[str, str, str], call: exp.Expression) -> exp.Dot:
    internal = catalog.engine.to_internal(full[0])
    return exp.Dot.build(
        [exp.to_identifier(internal, quoted=True), exp.to_identifier(full[1], quoted=True), call]
    )


def routine_not_found(full: tuple[str, ...], scope: Scope) -> SqlError:
    """UNRESOLVED_ROUTINE for a qualified function that does not exist."""
    from local_workspace.sql.errors import unresolved_routine

    return unresolved_routine(".".join(full), scope.catalog, scope.schema)


def routines(tree: exp.Expression, scope: Scope, catalog: Catalog) -> None:
    """Point calls of Unity Catalog functions at their macros (in place)."""
    for node in list(tree.find_all(exp.Anonymous)):
        parent = node.parent
        if isinstance(parent, exp.Dot) and parent.expression is node:
            qualifier = _parts(parent.this)
            if qualifier and qualifier[0].lower().startswith("uc_"):
                continue  # ours already
            full = _qualified(catalog, [*qualifier, node.name], scope)
            if catalog.functions.find(".".join(full)) is None:
                raise routine_not_found(full, scope)
            parent.replace(_macro_name(catalog, full, node.copy()))
        elif isinstance(parent, exp.Table) and parent.this is node:
            if not parent.db:
                full = _qualified(catalog, [node.name], scope)
                if catalog.functions.find(".".join(full)) is None:
                    continue  # a built-in table function (range, explode...)
            else:
                full = _qualified(
                    catalog, [p for p in (parent.catalog, parent.db, node.name) if p], scope
                )
                if catalog.functions.find(".".join(full)) is None:
                    raise routine_not_found(full, scope)
            parent.set("catalog", exp.to_identifier(catalog.engine.to_internal(full[0]), True))
            parent.set("db", exp.to_identifier(full[1], quoted=True))
        elif not isinstance(parent, exp.Dot):
            full = (scope.catalog.lower(), scope.schema.lower(), str(node.name).lower())
            if catalog.functions.find(".".join(full)) is not None:
                node.replace(_macro_name(catalog, full, node.copy()))


# -- CREATE / DROP / DESCRIBE / SHOW FUNCTION ------------------------------------------------


def _type_facts(data_type: exp.DataType) -> dict[str, Any]:
    from local_workspace.catalog.objects import _type_facts as facts

    text, name, spark, precision, scale = facts(data_type.sql(dialect=WRITE))
    out: dict[str, Any] = {"type_text": text, "type_name": name, "type_json": spark}
    if precision is not None:
        out["type_precision"], out["type_scale"] = precision, scale
    return out


def _param(column: exp.ColumnDef, position: int) -> dict[str, Any]:
    kind = column.args.get("kind")
    if not isinstance(kind, exp.DataType):
        raise parse_error(column.name, "Give every parameter a type.")
    param: dict[str, Any] = {
        "name": column.name,
        **_type_facts(kind),
        "position": position,
        "parameter_mode": "IN",
        "parameter_type": "PARAM",
    }
    for constraint in column.constraints:
        inner = constraint.args.get("kind")
        if isinstance(inner, exp.DefaultColumnConstraint):
            param["parameter_default"] = inner.this.sql(dialect="databricks")
        if isinstance(inner, exp.CommentColumnConstraint):
            param["comment"] = inner.this.name
    return param


def _prop(tree: exp.Create, kind: type[exp.Expression]) -> exp.Expression | None:
    props = tree.args.get("properties")
    if props is None:
        return None
    return next((p for p in props.expressions if isinstance(p, kind)), None)


def create(tree: exp.Create, scope: Scope, catalog: Catalog) -> Output:
    """CREATE [OR REPLACE] FUNCTION [IF NOT EXISTS] ... RETURN ... (SQL functions)."""
    udf = tree.this
    if not isinstance(udf, exp.UserDefinedFunction) or not isinstance(udf.this, exp.Table):
        raise parse_error("FUNCTION")
    if _prop(tree, exp.TemporaryProperty) is not None:
        raise unsupported(
            "CREATE TEMPORARY FUNCTION (each statement is its own session: create the "
            "function in a schema)"
        )
    language = _prop(tree, exp.LanguageProperty)
    if (language is not None and language.name.upper() != "SQL") or not isinstance(
        tree.expression, exp.Return
    ):
        raise SqlError(
            "UNSUPPORTED_FEATURE",
            "Python UDFs require Unity Catalog on a pro or serverless SQL warehouse; the "
            "local warehouse runs SQL functions only (LANGUAGE SQL ... RETURN expression).",
            "0A000",
        )
    target = udf.this
    full = _qualified(catalog, [p for p in (target.catalog, target.db, target.name) if p], scope)
    if not catalog.schemas.has(full[0], full[1]):
        from local_workspace.sql.errors import schema_not_found

        raise schema_not_found(full[0], full[1])
    params = [_param(c, i) for i, c in enumerate(udf.expressions)]
    returns = _prop(tree, exp.ReturnsProperty)
    body = tree.expression.this
    definition = body.sql(dialect="databricks")
    info: dict[str, Any] = {
        "name": full[2],
        "catalog_name": full[0],
        "schema_name": full[1],
        "full_name": ".".join(full),
        "input_params": {"parameters": params},
        "routine_body": "SQL",
        "routine_definition": definition,
        "parameter_style": "S",
        "is_deterministic": True,
        "sql_data_access": "READS_SQL_DATA" if body.find(exp.Table) else "CONTAINS_SQL",
        "is_null_call": False,
        "security_type": "DEFINER",
        "specific_name": full[2],
    }
    comment = _prop(tree, exp.SchemaCommentProperty)
    if comment is not None:
        info["comment"] = comment.this.name
    if isinstance(returns, exp.ReturnsProperty) and returns.args.get("is_table"):
        macro = _table_macro(info, returns, body, scope, catalog)
    else:
        macro = _scalar_macro(info, returns, body, scope, catalog)
    replace = bool(tree.args.get("replace"))
    if_not_exists = bool(tree.args.get("exists"))
    if replace and if_not_exists:
        raise parse_error("IF", "OR REPLACE and IF NOT EXISTS cannot be used together.")
    if catalog.functions.find(info["full_name"]) is not None and not (replace or if_not_exists):
        raise SqlError(
            "ROUTINE_ALREADY_EXISTS",
            f"Cannot create the function {quoted(*full)} because it already exists. Choose a "
            "different name, drop or replace the existing function, or add the IF NOT EXISTS "
            "clause to tolerate a pre-existing function.",
            "42723",
        )
    try:
        catalog.functions.create(info, macro, replace, if_not_exists)
    except duckdb.Error as exc:
        raise SqlError(
            "INVALID_SQL_FUNCTION_PLAN_STRUCTURE"
            if "Binder" in type(exc).__name__
            else "INTERNAL_ERROR",
            catalog.engine.public_text(str(exc)).split("\n")[0],
            "42000",
        ) from exc
    return Output()


def _body_sql(
    body: exp.Expression, params: list[dict[str, Any]], scope: Scope, catalog: Catalog
) -> str:
    """The body as DuckDB SQL, parameters cast to their declared types."""
    body = body.copy()
    types = {p["name"].lower(): p for p in params}
    for column in list(body.find_all(exp.Column)):
        if not column.table and column.name.lower() in types:
            declared = exp.DataType.build(
                types[column.name.lower()]["type_text"], dialect="databricks"
            )
            column.replace(exp.Cast(this=exp.column(column.name, quoted=True), to=declared))
    builtins.rewrite(body)
    if identity(body):
        note_identity_stored(catalog)
    routines(body, scope, catalog)
    qualify(body, scope, catalog.engine)
    return to_duckdb(body)


def _signature(info: dict[str, Any]) -> str:
    out = []
    for p in info["input_params"]["parameters"]:
        name = '"' + p["name"].replace('"', '""') + '"'
        default = p.get("parameter_default")
        if default is not None:
            from local_workspace.sql.translate import parse

            select = parse(f"SELECT {default}")
            if not isinstance(select, exp.Select):
                raise parse_error(str(default))
            name += f" := {select.selects[0].sql(dialect=WRITE)}"
        out.append(name)
    return ", ".join(out)


def _macro_target(info: dict[str, Any], catalog: Catalog) -> str:
    internal = catalog.engine.to_internal(info["catalog_name"])
    return ".".join(
        '"' + p.replace('"', '""') + '"' for p in (internal, info["schema_name"], info["name"])
    )


def _scalar_macro(
    info: dict[str, Any],
    returns: exp.Expression | None,
    body: exp.Expression,
    scope: Scope,
    catalog: Catalog,
) -> str:
    if isinstance(body, exp.Query):
        body = exp.Subquery(this=body)
    params = info["input_params"]["parameters"]
    sql = _body_sql(body, params, scope, catalog)
    if isinstance(returns, exp.ReturnsProperty) and isinstance(returns.this, exp.DataType):
        facts = _type_facts(returns.this)
        info["data_type"] = facts["type_name"]
        info["full_data_type"] = returns.this.sql(dialect="databricks")
        sql = f"CAST(({sql}) AS {returns.this.sql(dialect=WRITE)})"
    else:  # RETURNS omitted: the body's type (read when the function is first created)
        info["data_type"], info["full_data_type"] = "STRING", "STRING"
    return f"CREATE OR REPLACE MACRO {_macro_target(info, catalog)}({_signature(info)}) AS {sql}"


def _table_macro(
    info: dict[str, Any],
    returns: exp.ReturnsProperty,
    body: exp.Expression,
    scope: Scope,
    catalog: Catalog,
) -> str:
    if not isinstance(body, exp.Query):
        raise parse_error("RETURN", "A table function returns a query.")
    params = info["input_params"]["parameters"]
    sql = _body_sql(body, params, scope, catalog)
    schema = returns.this
    columns = [
        c
        for c in (schema.expressions if isinstance(schema, exp.Schema) else [])
        if isinstance(c, exp.ColumnDef)
    ]
    info["data_type"] = "TABLE_TYPE"
    if columns:
        facts = [
            {
                "name": c.name,
                **_type_facts(c.args["kind"]),
                "position": i,
                "parameter_mode": "IN",
                "parameter_type": "COLUMN",
            }
            for i, c in enumerate(columns)
        ]
        info["return_params"] = {"parameters": facts}
        info["full_data_type"] = ", ".join(
            f"{c.name} {c.args['kind'].sql(dialect='databricks')}" for c in columns
        )
        names = ", ".join('"' + c.name.replace('"', '""') + '"' for c in columns)
        casts = ", ".join(
            f'CAST("{c.name}" AS {c.args["kind"].sql(dialect=WRITE)}) AS "{c.name}"'
            for c in columns
        )
        sql = f"SELECT {casts} FROM ({sql}) AS __q({names})"
    else:
        info["full_data_type"] = "TABLE"
    return (
        f"CREATE OR REPLACE MACRO {_macro_target(info, catalog)}({_signature(info)}) AS TABLE {sql}"
    )


def missing_routine(full: tuple[str, ...]) -> SqlError:
    """ROUTINE_NOT_FOUND: a statement names a function that does not exist."""
    return SqlError(
        "ROUTINE_NOT_FOUND",
        f"The routine {quoted(*full)} cannot be found. Verify the spelling and correctness of "
        "the schema and catalog.\nIf you did not qualify the name with a schema and catalog, "
        "verify the current_schema() output, or qualify the name with the correct schema and "
        "catalog.\nTo tolerate the error on drop use DROP FUNCTION IF EXISTS.",
        "42883",
    )


def drop(tree: exp.Drop, scope: Scope, catalog: Catalog) -> Output:
    """DROP [TEMPORARY] FUNCTION [IF EXISTS] name."""
    tables = tree.args.get("tables") or [tree.this]
    target = tables[0]
    if not isinstance(target, exp.Table):
        raise parse_error("FUNCTION")
    full = _qualified(catalog, [p for p in (target.catalog, target.db, target.name) if p], scope)
    if catalog.functions.find(".".join(full)) is None:
        if tree.args.get("exists"):
            return Output()
        raise missing_routine(full)
    catalog.functions.delete(".".join(full))
    return Output()


def describe(tree: exp.Describe, scope: Scope, catalog: Catalog) -> Output:
    """DESCRIBE FUNCTION [EXTENDED] name: one ``function_desc`` column."""
    target = tree.this
    parts = (
        _parts(target)
        if not isinstance(target, exp.Table)
        else [p for p in (target.catalog, target.db, target.name) if p]
    )
    full = _qualified(catalog, parts, scope)
    info = catalog.functions.find(".".join(full))
    if info is None:
        raise missing_routine(full)
    params = info["input_params"]["parameters"]
    inputs = [f"{p['name']} {p['type_text'].upper()}" for p in params] or ["()"]
    rows = [
        f"Function: {info['full_name']}",
        f"Type:     {'TABLE' if info.get('data_type') == 'TABLE_TYPE' else 'SCALAR'}",
    ]
    rows.append(f"Input:    {inputs[0]}")
    rows += [f"          {i}" for i in inputs[1:]]
    rows.append(f"Returns:  {info.get('full_data_type', '')}")
    if str(tree.args.get("style") or "").upper() == "EXTENDED":
        created = dt.datetime.fromtimestamp(info["created_at"] / 1000, dt.timezone.utc)
        rows += [
            f"Comment:       {info.get('comment') or ''}",
            "Deterministic: true",
            f"Data Access:   {info['sql_data_access'].replace('_', ' ')}",
            f"Owner:         {info['owner']}",
            f"Create Time:   {created.strftime('%a %b %d %H:%M:%S UTC %Y')}",
            f"Body:          {info['routine_definition']}",
        ]
    return Output(strings("function_desc"), [[r] for r in rows])


def show(
    text: str, scope: Scope, catalog: Catalog, system: Callable[[], list[str]]
) -> Output | None:
    """SHOW [USER|SYSTEM|ALL] FUNCTIONS [IN schema] [[LIKE] 'pattern']; None: not this."""
    match = SHOW.match(text.strip())
    if match is None:
        return None
    kind = (match["kind"] or "ALL").upper()
    parts = [p.strip("`") for p in (match["schema"] or "").split(".") if p]
    if len(parts) == 1:
        parts.insert(0, scope.catalog)
    cat, schema = (parts[0].lower(), parts[1].lower()) if parts else (scope.catalog, scope.schema)
    names: list[str] = []
    if kind in ("USER", "ALL"):
        try:
            names += [f["full_name"] for f in catalog.functions.list_in(cat, schema)]
        except ApiError as exc:
            from local_workspace.sql.errors import schema_not_found

            raise schema_not_found(cat, schema) from exc
    if kind in ("SYSTEM", "ALL"):
        names += system()
    pattern = match["like"]
    if pattern:
        # Databricks LIKE patterns here: `*` any characters, `|` alternatives.
        globs = [p.strip().lower() for p in pattern.split("|")]
        names = [
            n
            for n in names
            if any(
                fnmatch.fnmatchcase(n.split(".")[-1].lower(), g)
                or fnmatch.fnmatchcase(n.lower(), g)
                for g in globs
            )
        ]
    return Output(strings("function"), [[n] for n in names])


def literal_sql(value: Any) -> str:
    """A Python value as a DuckDB literal."""
    return value_sql(value)
