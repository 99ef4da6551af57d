"""Unity Catalog metadata statements the workspace answers itself: tags, comments, owners.

``ALTER {CATALOG|SCHEMA|TABLE|VIEW|VOLUME} name {SET|UNSET} TAGS (...)``,
``ALTER TABLE t ALTER COLUMN c {SET|UNSET} TAGS (...)``, ``{SET|UNSET} TAG ON ...``,
``ALTER TABLE t {ALTER|CHANGE} [COLUMN] c COMMENT '...'``, ``COMMENT ON {TABLE|COLUMN}`` and
``ALTER {CATALOG|SCHEMA|TABLE|VIEW} name [SET] OWNER TO principal``.
sqlglot reads most of these as raw commands (or not at all), so they are matched on the text,
before parsing (:func:`answer`); the describe family lives in ``uc_describe``. Tags go to the
catalog's tag store (the Entity Tag Assignments API and ``information_schema.*_tags`` read it);
comments go to DuckDB, where the Tables API reads them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from local_workspace.catalog.names import literal, quote
from local_workspace.errors import ApiError
from local_workspace.sql import uc_describe
from local_workspace.sql.commands import Commands, Output, catalog_errors
from local_workspace.sql.errors import SqlError, parse_error, quoted
from local_workspace.sql.translate import Scope

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

_IDENT = r"(?:`(?:[^`]|``)+`|[\w\-]+)"
_NAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT})*"
_KINDS = r"CATALOG|SCHEMA|DATABASE|TABLE|VIEW|MATERIALIZED\s+VIEW|STREAMING\s+TABLE|VOLUME"
_STRING = r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\""
ALTER_TAGS = re.compile(
    rf"^ALTER\s+(?P<kind>{_KINDS})\s+(?P<name>{_NAME})"
    rf"(?:\s+(?:ALTER|CHANGE)(?:\s+COLUMN)?\s+(?P<column>{_IDENT}))?"
    r"\s+(?P<verb>SET|UNSET)\s+TAGS\s*\((?P<body>.*)\)\s*;?\s*$",
    re.I | re.S,
)
TAG_ON = re.compile(
    rf"^(?P<verb>SET|UNSET)\s+TAG\s+ON\s+(?P<kind>{_KINDS}|COLUMN)\s+(?P<name>{_NAME})\s+"
    rf"(?P<key>{_IDENT}|{_STRING})(?:\s*=\s*(?P<value>{_IDENT}|{_STRING}))?\s*;?\s*$",
    re.I | re.S,
)
ALTER_COMMENT = re.compile(
    rf"^ALTER\s+TABLE\s+(?P<name>{_NAME})\s+(?:ALTER|CHANGE)(?:\s+COLUMN)?\s+"
    rf"(?P<column>{_IDENT})\s+COMMENT\s+(?P<comment>{_STRING}|NULL)\s*;?\s*$",
    re.I | re.S,
)
COMMENT_ON = re.compile(
    rf"^COMMENT\s+ON\s+(?P<kind>TABLE|VIEW|COLUMN)\s+(?P<name>{_NAME})\s+IS\s+"
    rf"(?P<comment>{_STRING}|NULL)\s*;?\s*$",
    re.I | re.S,
)
ALTER_OWNER = re.compile(
    rf"^ALTER\s+(?P<kind>CATALOG|SCHEMA|DATABASE|TABLE|VIEW|MATERIALIZED\s+VIEW)\s+"
    rf"(?P<name>{_NAME})\s+(?:SET\s+)?OWNER\s+TO\s+(?P<who>{_IDENT}|[\w@.+\-]+)\s*;?\s*$",
    re.I | re.S,
)
# Comments before the statement (a client's header line) do not change what it is.
_LEADING_COMMENTS = re.compile(r"^(?:\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/))*", re.S)
_ITEM = re.compile(rf"\s*(?P<key>{_STRING}|{_IDENT})\s*(?:=\s*(?P<value>{_STRING}|{_IDENT}))?\s*")


def answer(
    statement: str, scope: Scope, catalog: Catalog, run: uc_describe.Runner
) -> Output | None:
    """The result of a tag, comment or describe statement; None for any other statement."""
    text = _LEADING_COMMENTS.sub("", statement).strip()
    head = text[:12].upper()
    if not head.startswith(("ALTER", "SET", "UNSET", "COMMENT", "SHOW", "DESC")):
        return None
    commands = Commands(catalog)
    if match := ALTER_TAGS.match(text):
        kind = "COLUMN" if match["column"] else match["kind"]
        name = f"{match['name']}.{match['column']}" if match["column"] else match["name"]
        entity_type, full_name = entity(commands, kind, name, scope)
        if match["verb"].upper() == "SET":
            tags = tag_items(match["body"], with_values=True)
            with catalog_errors():
                catalog.tags.set(entity_type, full_name, tags)
        else:
            keys = list(tag_items(match["body"], with_values=False))
            with catalog_errors():
                catalog.tags.unset(entity_type, full_name, keys)
        return Output()
    if match := TAG_ON.match(text):
        entity_type, full_name = entity(commands, match["kind"], match["name"], scope)
        key = unquote(match["key"])
        with catalog_errors():
            if match["verb"].upper() == "SET":
                value = unquote(match["value"]) if match["value"] else None
                catalog.tags.set(entity_type, full_name, {key: value})
            elif not catalog.tags.unset(entity_type, full_name, [key]):
                raise SqlError(
                    "INVALID_PARAMETER_VALUE",
                    f"The tag '{key}' is not set on {match['kind'].upper()} "
                    f"{quoted(*full_name.split('.'))}.",
                    "22023",
                )
        return Output()
    if match := ALTER_OWNER.match(text):
        entity_type, full_name = entity(commands, match["kind"], match["name"], scope)
        owner = unquote(match["who"])
        with catalog_errors():
            if entity_type == "catalogs":
                catalog.catalogs.update(full_name, owner=owner)
            elif entity_type == "schemas":
                catalog.schemas.update(full_name, owner=owner)
            else:
                catalog.tables.update(full_name, owner=owner)
        return Output()
    if match := ALTER_COMMENT.match(text):
        set_column_comment(
            catalog, commands, match["name"], match["column"], match["comment"], scope
        )
        return Output()
    if match := COMMENT_ON.match(text):
        kind = match["kind"].upper()
        if kind == "COLUMN":
            relation, column = split_column(match["name"])
            set_column_comment(catalog, commands, relation, column, match["comment"], scope)
        else:
            set_table_comment(catalog, commands, match["name"], match["comment"], scope)
        return Output()
    return uc_describe.answer(text, scope, catalog, run)


def unquote(token: str) -> str:
    """An identifier or string literal's text."""
    token = token.strip()
    if token[:1] == "`":
        return token[1:-1].replace("``", "`")
    if token[:1] == "'":
        return token[1:-1].replace("''", "'").replace("\\'", "'")
    if token[:1] == '"':
        return token[1:-1].replace('\\"', '"')
    return token


def tag_items(body: str, with_values: bool) -> dict[str, str | None]:
    """``'k' = 'v', 'k2'`` -> {k: v, k2: None}; PARSE_SYNTAX_ERROR for anything else."""
    items: dict[str, str | None] = {}
    at = 0
    body = body.strip()
    while at < len(body):
        match = _ITEM.match(body, at)
        if match is None or match.end() == at:
            raise parse_error(body[at : at + 20] or ")")
        if match["value"] is not None and not with_values:
            raise parse_error("=", "UNSET TAGS takes tag keys only.")
        items[unquote(match["key"])] = unquote(match["value"]) if match["value"] else None
        at = match.end()
        if at < len(body):
            if body[at] != ",":
                raise parse_error(body[at : at + 20])
            at += 1
    if not items:
        raise parse_error(")", "Name at least one tag.")
    return items


def split_column(name: str) -> tuple[str, str]:
    """``relation.column`` -> (relation, column)."""
    parts = [unquote(p) for p in re.findall(_IDENT, name)]
    if len(parts) < 2 or len(parts) > 4:
        raise parse_error(name, "Name the column as <table>.<column>.")
    relation = ".".join(f"`{p}`" for p in parts[:-1])
    return relation, parts[-1]


def entity(commands: Commands, kind: str, name: str, scope: Scope) -> tuple[str, str]:
    """(Entity Tag Assignments entity type, full public name) of an existing securable."""
    kind = " ".join(kind.upper().split())
    if kind == "COLUMN":
        relation, column = split_column(name)
        table = commands.table_of(relation, scope)
        return "columns", f"{'.'.join(table)}.{column_of(commands, table, column)}"
    securable_type, full_name = commands.securable(kind, name, scope)
    if securable_type == "volume":
        full_name = full_name.lower()
        require_volume(commands, full_name)
    return f"{securable_type}s", full_name  # the tags API's plural: catalogs, tables, ...


def require_volume(commands: Commands, full_name: str) -> None:
    """UC_VOLUME_NOT_FOUND unless the volume exists (its schema's errors as for tables)."""
    commands.schema_of(".".join(f"`{p}`" for p in full_name.split(".")[:2]), Scope())
    try:
        commands.catalog.volumes.get(full_name)
    except ApiError as exc:
        if exc.status != 404:
            raise
        raise SqlError(
            "UC_VOLUME_NOT_FOUND",
            f"Volume {quoted(*full_name.split('.'))} does not exist. Use 'SHOW VOLUMES' to "
            "list available volumes.",
            "42704",
            "NOT_FOUND",
        ) from exc


def column_of(commands: Commands, table: tuple[str, str, str], column: str) -> str:
    """The column's name as the table spells it; UNRESOLVED_COLUMN when it has none."""
    names = [str(c["name"]) for c in commands.table_info(table).get("columns") or []]
    for candidate in names:
        if candidate.lower() == column.lower():
            return candidate
    suggestions = ", ".join(f"`{n}`" for n in names[:5])
    raise SqlError(
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        f"A column, variable, or function parameter with name `{column}` cannot be resolved. "
        f"Did you mean one of the following? [{suggestions}].",
        "42703",
    )


def _target(catalog: Catalog, table: tuple[str, str, str]) -> str:
    return f"{quote(catalog.engine.to_internal(table[0]))}.{quote(table[1])}.{quote(table[2])}"


def _comment_sql(token: str) -> str:
    return "NULL" if token.upper() == "NULL" else literal(unquote(token))


def set_table_comment(
    catalog: Catalog, commands: Commands, name: str, comment: str, scope: Scope
) -> None:
    """COMMENT ON TABLE: DuckDB keeps it, so SQL and the Tables API read the same one."""
    table = commands.table_of(name, scope)
    info = commands.table_info(table)
    what = "VIEW" if info.get("table_type") == "VIEW" else "TABLE"
    catalog.engine.execute(
        f"COMMENT ON {what} {_target(catalog, table)} IS {_comment_sql(comment)}"
    )


def set_column_comment(
    catalog: Catalog, commands: Commands, name: str, column: str, comment: str, scope: Scope
) -> None:
    """A column's comment (ALTER COLUMN ... COMMENT, COMMENT ON COLUMN)."""
    table = commands.table_of(name, scope)
    real = column_of(commands, table, unquote(column))
    catalog.engine.execute(
        f"COMMENT ON COLUMN {_target(catalog, table)}.{quote(real)} IS {_comment_sql(comment)}"
    )
