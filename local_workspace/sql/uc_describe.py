"""SHOW CREATE TABLE and DESCRIBE {SCHEMA|DATABASE|CATALOG|QUERY|HISTORY}, answered from the
catalog with Databricks' result layouts.

``SHOW CREATE TABLE`` prints a statement that re-creates the table (columns, NOT NULL,
comments, PARTITIONED BY / CLUSTER BY and TBLPROPERTIES as stored); ``DESCRIBE HISTORY``
reads the table's change log (``catalog.history``), newest version first.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from local_workspace.sql.commands import Commands, Output, strings
from local_workspace.sql.errors import SqlError, parse_error, quoted
from local_workspace.sql.translate import Scope, parse_name

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

# Runs a query in the statement's session and returns its result (a ResultSet).
Runner = Callable[[str], Any]

_IDENT = r"(?:`(?:[^`]|``)+`|[\w\-]+)"
_NAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT})*"
SHOW_CREATE = re.compile(
    rf"^SHOW\s+CREATE\s+TABLE\s+(?P<name>{_NAME})(?:\s+AS\s+SERDE)?\s*;?\s*$", re.I
)
DESCRIBE_SCHEMA = re.compile(
    rf"^DESC(?:RIBE)?\s+(?P<kind>SCHEMA|DATABASE|CATALOG)\s+(?P<ext>EXTENDED\s+)?(?P<name>{_NAME})\s*;?\s*$",
    re.I,
)
DESCRIBE_QUERY = re.compile(r"^DESC(?:RIBE)?\s+QUERY\s+(?P<query>.+?)\s*;?\s*$", re.I | re.S)
SHOW_INFO_TABLES = re.compile(
    rf"^SHOW\s+TABLES\s+(?:IN|FROM)\s+(?:(?P<catalog>{_IDENT})\s*\.\s*)?`?information_schema`?"
    r"(?:\s+(?:LIKE\s+)?'(?P<like>[^']*)')?\s*;?\s*$",
    re.I,
)
DESCRIBE_INFO = re.compile(
    rf"^DESC(?:RIBE)?(?:\s+TABLE)?(?:\s+EXTENDED)?\s+(?P<name>(?:{_IDENT}\s*\.\s*)?"
    r"`?information_schema`?\s*\.\s*[\w`]+)\s*;?\s*$",
    re.I,
)
DESCRIBE_HISTORY = re.compile(
    rf"^DESC(?:RIBE)?\s+HISTORY\s+(?P<name>{_NAME})(?:\s+LIMIT\s+(?P<limit>\d+))?\s*;?\s*$",
    re.I,
)
HISTORY_COLUMNS = [
    ("version", "BIGINT"),
    ("timestamp", "TIMESTAMP"),
    ("userId", "VARCHAR"),
    ("userName", "VARCHAR"),
    ("operation", "VARCHAR"),
    ("operationParameters", "MAP(VARCHAR, VARCHAR)"),
    ("job", "STRUCT(jobId VARCHAR, jobName VARCHAR, runId VARCHAR, jobOwnerId VARCHAR)"),
    ("notebook", "STRUCT(notebookId VARCHAR)"),
    ("clusterId", "VARCHAR"),
    ("readVersion", "BIGINT"),
    ("isolationLevel", "VARCHAR"),
    ("isBlindAppend", "BOOLEAN"),
    ("operationMetrics", "MAP(VARCHAR, VARCHAR)"),
    ("userMetadata", "VARCHAR"),
    ("engineInfo", "VARCHAR"),
]
ENGINE_INFO = "Databricks-Runtime/local-workspace"
_UPPER_WORD = re.compile(r"\b([A-Z_]+)\b(?!:)")
_LOWER_WORD = re.compile(r"\b([a-z_]+)\b(?!:)")


def answer(text: str, scope: Scope, catalog: Catalog, run: Runner) -> Output | None:
    """The result of SHOW CREATE TABLE or a DESCRIBE this module knows; None otherwise."""
    commands = Commands(catalog)
    if match := SHOW_CREATE.match(text):
        return Output(strings("createtab_stmt"), [[show_create(commands, match["name"], scope)]])
    if match := DESCRIBE_SCHEMA.match(text):
        extended = bool(match["ext"])
        if match["kind"].upper() == "CATALOG":
            return describe_catalog(commands, match["name"], extended)
        return describe_schema(commands, match["name"], extended, scope)
    if match := SHOW_INFO_TABLES.match(text):
        return show_info_tables(commands, match["catalog"], match["like"], scope)
    if match := DESCRIBE_INFO.match(text):
        return describe_query(f"SELECT * FROM {match['name']}", run)
    if match := DESCRIBE_QUERY.match(text):
        return describe_query(match["query"], run)
    if match := DESCRIBE_HISTORY.match(text):
        limit = int(match["limit"]) if match["limit"] else None
        return describe_history(commands, match["name"], limit, scope)
    return None


def _time(ms: Any) -> str | None:
    if not isinstance(ms, int | float):
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime(
        "%a %b %d %H:%M:%S UTC %Y"
    )


def _iso(ms: int) -> str:
    when = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ident(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else f"`{name.replace('`', '``')}`"


def _databricks_sql(duckdb_sql: str) -> str:
    """A view body as DuckDB keeps it, in Databricks SQL (identifiers in backticks)."""
    import sqlglot

    try:
        return sqlglot.transpile(duckdb_sql, read="duckdb", write="databricks")[0]
    except sqlglot.errors.SqlglotError:
        return duckdb_sql


def sql_type(type_text: str) -> str:
    """A catalog type (``decimal(10,2)``, ``struct<a:int>``) as DDL prints it (upper case)."""
    return _LOWER_WORD.sub(lambda m: m.group(1).upper(), type_text)


def show_create(commands: Commands, name: str, scope: Scope) -> str:
    """A CREATE statement that re-creates the table or view."""
    table = commands.table_of(name, scope)
    info = commands.table_info(table)
    full = ".".join(_ident(p) for p in table)
    if info.get("table_type") == "VIEW":
        cols = ",\n  ".join(_ident(str(c["name"])) for c in info.get("columns") or [])
        text = f"CREATE VIEW {full} (\n  {cols})\n"
        if info.get("comment"):
            text += f"COMMENT {_sql_string(str(info['comment']))}\n"
        return text + f"AS {_databricks_sql(str(info.get('view_definition') or ''))}\n"
    lines = []
    for column in info.get("columns") or []:
        line = f"{_ident(str(column['name']))} {sql_type(str(column.get('type_text') or 'string'))}"
        if column.get("nullable") is False:
            line += " NOT NULL"
        if column.get("comment"):
            line += f" COMMENT {_sql_string(str(column['comment']))}"
        lines.append(line)
    text = f"CREATE TABLE {full} (\n  " + ",\n  ".join(lines) + ")\nUSING delta\n"
    layout = commands.catalog.meta.row(
        "SELECT extra FROM objects WHERE kind = 'table' AND full_name = ?", (".".join(table),)
    )
    extra = json.loads(layout["extra"]) if layout and layout.get("extra") else {}
    if extra.get("partition_by"):
        text += f"PARTITIONED BY ({', '.join(_ident(c) for c in extra['partition_by'])})\n"
    if extra.get("cluster_by"):
        text += f"CLUSTER BY ({', '.join(_ident(c) for c in extra['cluster_by'])})\n"
    if info.get("comment"):
        text += f"COMMENT {_sql_string(str(info['comment']))}\n"
    properties = info.get("properties") or {}
    if properties:
        pairs = ",\n  ".join(
            f"{_sql_string(k)} = {_sql_string(str(v))}" for k, v in sorted(properties.items())
        )
        text += f"TBLPROPERTIES (\n  {pairs})\n"
    return text


def describe_schema(commands: Commands, name: str, extended: bool, scope: Scope) -> Output:
    """DESCRIBE SCHEMA [EXTENDED]: info_name / info_value rows."""
    catalog_name, schema = commands.schema_of(name, scope)
    info = commands.catalog.schemas.get(f"{catalog_name}.{schema}")
    rows: list[list[str | None]] = [
        ["Catalog Name", catalog_name],
        ["Namespace Name", schema],
        ["Comment", info.get("comment") or ""],
        ["Owner", info.get("owner")],
    ]
    if extended:
        properties = info.get("properties") or {}
        rows += [
            ["Created By", info.get("created_by")],
            ["Created At", _time(info.get("created_at"))],
            ["Properties", ", ".join(f"({k},{v})" for k, v in sorted(properties.items()))],
        ]
    return Output(strings("info_name", "info_value"), rows)


def describe_catalog(commands: Commands, name: str, extended: bool) -> Output:
    """DESCRIBE CATALOG [EXTENDED]: info_name / info_value rows."""
    catalog_name = parse_name(name)[0].lower()
    commands.require_catalog(catalog_name)
    info = commands.catalog.catalogs.get(catalog_name)
    rows: list[list[str | None]] = [
        ["Catalog Name", catalog_name],
        ["Comment", info.get("comment") or ""],
        ["Owner", info.get("owner")],
        ["Catalog Type", "Regular"],
    ]
    if extended:
        rows += [
            ["Created By", info.get("created_by")],
            ["Created At", _time(info.get("created_at"))],
            ["Updated By", info.get("updated_by")],
            ["Updated At", _time(info.get("updated_at"))],
        ]
    return Output(strings("info_name", "info_value"), rows)


def describe_query(query: str, run: Runner) -> Output:
    """DESCRIBE QUERY: the result columns of a query (it reads no rows)."""
    if not re.match(r"^\s*(?:\(\s*)*(SELECT|WITH|VALUES|TABLE|FROM)\b", query, re.I):
        raise parse_error(query.split()[0] if query.split() else "end of input")
    result = run(f"SELECT * FROM ({query}) LIMIT 0")
    rows: list[list[str | None]] = [
        [c["name"], _UPPER_WORD.sub(lambda m: m.group(1).lower(), str(c["type_text"])), None]
        for c in result.columns
    ]
    return Output(strings("col_name", "data_type", "comment"), rows)


def show_info_tables(
    commands: Commands, catalog: str | None, pattern: str | None, scope: Scope
) -> Output:
    """SHOW TABLES IN [catalog.]information_schema: its views."""
    from local_workspace.sql.commands import like
    from local_workspace.sql.info_schema import COLUMNS, SCHEMA

    owner = parse_name(catalog)[0].lower() if catalog else scope.catalog
    if owner != "system":
        commands.require_catalog(owner)
    rows: list[list[str | None]] = [
        [SCHEMA, name, "false"] for name in sorted(COLUMNS) if like(pattern, name)
    ]
    return Output([*strings("database", "tableName"), ("isTemporary", "BOOLEAN")], rows)


def describe_history(commands: Commands, name: str, limit: int | None, scope: Scope) -> Output:
    """DESCRIBE HISTORY [LIMIT n]: the table's versions, newest first."""
    table = commands.table_of(name, scope)
    info = commands.table_info(table)
    if info.get("table_type") == "VIEW":
        raise SqlError(
            "EXPECT_TABLE_NOT_VIEW.NO_ALTERNATIVE",
            f"'DESCRIBE HISTORY' expects a table but {quoted(*table)} is a view.",
            "42809",
        )
    versions = commands.catalog.history.of(".".join(table), limit)
    if not versions and limit != 0:
        # A table no statement reported (created through the API, or before history was
        # kept): its creation is version 0, as on Databricks.
        versions = [
            {
                "version": 0,
                "timestamp": info.get("created_at") or 0,
                "user_name": info.get("created_by") or "",
                "operation": "CREATE TABLE",
                "parameters": {"isManaged": "true", "partitionBy": "[]", "properties": "{}"},
                "metrics": {},
                "blind_append": 1,
            }
        ]
    rows: list[list[str | None]] = []
    for v in versions:
        version = int(v["version"])
        rows.append(
            [
                str(version),
                _iso(int(v["timestamp"])),
                v["user_name"],
                v["user_name"],
                v["operation"],
                json.dumps(v["parameters"], separators=(",", ":")),
                None,
                None,
                None,
                str(version - 1) if version > 0 else None,
                "WriteSerializable",
                "true" if v["blind_append"] else "false",
                json.dumps(v["metrics"], separators=(",", ":")),
                None,
                ENGINE_INFO,
            ]
        )
    return Output(HISTORY_COLUMNS, rows)
