"""The local SQL warehouse speaks Databricks SQL, never DuckDB's host access.

Every statement is checked here, on its sqlglot tree, before it is answered or translated:
DuckDB-only statements (COPY ... TO, ATTACH, INSTALL/LOAD, PRAGMA, CALL, CHECKPOINT,
EXPORT/IMPORT DATABASE, CREATE SECRET/MACRO...) are syntax errors, as on Databricks; table
functions must be Databricks table functions (an allow-list), and DuckDB's file, metadata and
setting functions are unknown routines wherever they appear (CTEs, subqueries, views, CTAS,
INSERT/MERGE sources, EXPLAIN); a file path in FROM is a syntax error; only Databricks
configuration parameters can be SET. The engine itself is locked down too (external access
off, configuration locked: ``catalog.engine.open_sandboxed``); this check is the first wall,
and the one that answers with Databricks errors.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass

from sqlglot import exp

from local_workspace.sql import file_reads, policies
from local_workspace.sql.commands import IGNORED
from local_workspace.sql.errors import (
    SqlError,
    config_not_available,
    invalid_time_zone,
    parse_error,
    unresolved_routine,
    unsupported,
)
from local_workspace.sql.translate import parse

# One short sentence naming the Databricks way, added to each refusal.
FILES_HINT = (
    "Files enter the workspace through Unity Catalog volumes: "
    "read_files('/Volumes/<catalog>/<schema>/<volume>/...'), COPY INTO or the Files API."
)
METADATA_HINT = (
    "List objects with SHOW CATALOGS / SCHEMAS / TABLES, DESCRIBE TABLE or the Unity Catalog API."
)
SYNTAX_HINT = (
    "That is DuckDB syntax, not Databricks SQL; files go through Unity Catalog volumes "
    "(read_files('/Volumes/...'), COPY INTO, the Files API)."
)
CONFIG_HINT = (
    "Databricks SQL sets only its configuration parameters (ANSI_MODE, TIMEZONE, "
    "STATEMENT_TIMEOUT, ...) and Spark confs are no-ops here; the engine's settings are fixed."
)

# Table functions of Databricks SQL (https://docs.databricks.com/sql/language-manual, "table-
# valued functions") that the warehouse runs or answers with a clear error. Any other function
# in FROM is an unknown routine: DuckDB's readers (read_text, read_csv, glob...) never run.
TABLE_FUNCTIONS = frozenset(
    {
        "range",
        "explode",
        "explode_outer",
        "posexplode",
        "posexplode_outer",
        "inline",
        "inline_outer",
        "stack",
        "json_tuple",
        "variant_explode",
        "variant_explode_outer",
        "generate_series",  # sqlglot's name for explode(sequence(...))
        "unnest",  # sqlglot's name for explode in some rewrites
        "read_files",  # on volume paths only: local_workspace/sql/file_reads.py
    }
)
# Scalar functions DuckDB has and Databricks does not, that read the host, the engine's
# settings, its internal names or its logs, or run SQL from a string.
SCALAR_FUNCTIONS = frozenset(
    {
        "current_setting",
        "getenv",
        "getvariable",
        "current_query",
        "current_schemas",
        "current_connection_id",
        "current_transaction_id",
        "current_query_id",
        "in_search_path",
        "txid_current",
        "nextval",
        "currval",
        "setval",
        "get_block_size",
        "write_log",
        "parse_duckdb_log_message",
        "sleep_ms",
        "json_serialize_sql",
        "json_deserialize_sql",
        "json_serialize_plan",
        "col_description",
        "obj_description",
        "shobj_description",
        "format_pg_type",
        "stats",
        "query",
        "query_table",
        "checkpoint",
        "force_checkpoint",
    }
)
# DuckDB function families that are never Databricks functions (metadata that leaks host
# paths such as attached file names, file readers, extension and secret helpers).
DENIED_PREFIXES = (
    "duckdb_",
    "pragma_",
    "pg_",
    "read_",
    "parquet_",
    "sqlite_",
    "iceberg_",
    "delta_",
    "json_execute",
    "inet_",
    "has_",
    "which_secret",
    "load_aws",
    "sniff_",
    "glob",
    "icu_",
)
# Databricks table functions over files and streams the local workspace lacks: answered as
# such rather than as unknown routines (read_files reads volumes: sql/file_reads.py).
DATABRICKS_READERS = frozenset(
    {
        "cloud_files",
        "cloud_files_state",
        "read_kafka",
        "read_kinesis",
        "read_pubsub",
        "read_pulsar",
        "read_statestore",
    }
)
# First words of DuckDB-only statements sqlglot cannot parse (their error gets the hint).
DUCKDB_WORDS = frozenset(
    {
        "ATTACH",
        "DETACH",
        "INSTALL",
        "FORCE",
        "LOAD",
        "PRAGMA",
        "CALL",
        "CHECKPOINT",
        "EXPORT",
        "IMPORT",
        "COPY",
        "SUMMARIZE",
        "PIVOT",
        "UNPIVOT",
    }
)
# Databricks EXPLAIN modes (the engine explains the statement the DuckDB way).
EXPLAIN_MODES = frozenset({"EXTENDED", "FORMATTED", "COST", "CODEGEN"})
# Statements answered by the workspace itself when sqlglot parses them as a Command.
NATIVE_COMMANDS = frozenset({"SHOW", "DESCRIBE", "DESC", "GRANT", "REVOKE", *IGNORED})
# Delta/Spark maintenance statements sqlglot parses into typed nodes: answered as no-ops, like
# the IGNORED commands (never sent to DuckDB).
MAINTENANCE = exp.Analyze | exp.Refresh | exp.Cache | exp.Uncache
# Databricks statements the local warehouse does not run (said plainly, not as syntax errors).
NOT_LOCAL_WORDS = frozenset({"GET", "PUT", "REMOVE", "EXECUTE", "DECLARE"})
# Volume statements (CREATE [EXTERNAL] VOLUME, DROP/ALTER VOLUME, COMMENT ON VOLUME).
_VOLUME = re.compile(r"^(?:EXTERNAL\s+|ON\s+)?VOLUME\b", re.I)
# Statement kinds DuckDB runs after translation.
CREATE_KINDS = frozenset({"TABLE", "VIEW", "SCHEMA", "DATABASE", "FUNCTION"})
# Configuration parameters of Databricks SQL (sql-ref-parameters), settable per session.
PARAMETERS = frozenset(
    {
        "ansi_mode",
        "legacy_time_parser_policy",
        "max_file_partition_bytes",
        "read_only_external_metastore",
        "statement_timeout",
        "timezone",
        "use_cached_result",
        "enable_photon",
    }
)
TIME_ZONE_KEYS = frozenset({"timezone", "spark.sql.session.timezone"})
# What sqlglot reads `RESET [key]` as: a column RESET, aliased as the key.
_RESET = "reset"
_OFFSET = re.compile(r"^(?:UTC|GMT)?[+-]\d{1,2}(?::?\d{2})?$", re.I)
# A table name part holding a path, a URL or a file name (UC names hold none of / \ . :).
_PATH = re.compile(r"[/\\.:]")
_INTERNAL_CATALOG = re.compile(r"^uc_", re.I)


@dataclass
class Setting:
    """A SET/RESET the workspace answers: the key (lower case) and the value, if any."""

    key: str
    value: str | None = None


def not_local(what: str) -> SqlError:
    """UNSUPPORTED_FEATURE for a Databricks way to read files that is not local yet."""
    return SqlError(
        "UNSUPPORTED_FEATURE",
        f"{what} is not available in the local workspace yet: load the rows into a table "
        "(INSERT INTO ... VALUES, CREATE TABLE ... AS SELECT) or use a Databricks workspace.",
        "0A000",
    )


def duckdb_only(near: str) -> SqlError:
    """PARSE_SYNTAX_ERROR for a DuckDB-only statement or clause, with the Databricks way."""
    return parse_error(near[:60], SYNTAX_HINT)


def with_hint(error: SqlError, statement: str) -> SqlError:
    """A parse error of a statement that starts with a DuckDB-only word, with the hint."""
    words = statement.split(None, 1)
    if error.error_class != "PARSE_SYNTAX_ERROR" or not words:
        return error
    if words[0].upper().rstrip(";") not in DUCKDB_WORDS or SYNTAX_HINT in error.message:
        return error
    return SqlError(error.error_class, f"{error.message} {SYNTAX_HINT}", error.sql_state)


def check_text(statement: str) -> None:
    """Refuse, before parsing, the Databricks statements the local warehouse does not run
    (file commands on volumes, EXECUTE IMMEDIATE, DECLARE): sqlglot misreads some of them."""
    words = statement.split(None, 1)
    word = words[0].upper().rstrip(";") if words else ""
    if word in NOT_LOCAL_WORDS:
        raise unsupported(word if word != "EXECUTE" else "EXECUTE IMMEDIATE")


def check(tree: exp.Expr, catalog: str = "main", schema: str = "default") -> None:
    """Raise a Databricks SqlError unless ``tree`` is one statement the sandbox lets through.

    ``catalog``/``schema`` only word the search path of UNRESOLVED_ROUTINE.
    """
    _statement(tree)
    _functions(tree, catalog, schema)
    _tables(tree)


def check_query(tree: exp.Expr, catalog: str = "main", schema: str = "default") -> None:
    """Check an expression or query nested in another statement (pipeline queries, CDC
    clauses, expectations): the functions and tables it reads."""
    _functions(tree, catalog, schema)
    _tables(tree)


def command_text(tree: exp.Command) -> str:
    """What follows a Command's first word."""
    rest = tree.expression
    return str(rest.this if isinstance(rest, exp.Literal) else rest or "").strip()


def explained(tree: exp.Command, catalog: str = "main", schema: str = "default") -> exp.Expression:
    """The statement an EXPLAIN explains, parsed and checked: a query or DML, never a
    command DuckDB would run as raw text."""
    text = command_text(tree)
    words = text.split(None, 1)
    if words and words[0].upper() in EXPLAIN_MODES:
        text = words[1] if len(words) > 1 else ""
    inner = parse(text)
    if isinstance(inner, exp.Command) or not isinstance(
        inner, exp.Query | exp.Insert | exp.Update | exp.Delete | exp.Merge | exp.Create
    ):
        raise parse_error(text.split()[0] if text.split() else "end of input")
    check(inner, catalog, schema)
    return inner


# -- statements ----------------------------------------------------------------------------


def _statement(tree: exp.Expr) -> None:
    if isinstance(tree, exp.Command):
        _command(tree)
    elif isinstance(tree, exp.Query | exp.Values):
        if isinstance(tree, exp.Select) and tree.args.get("into") is not None:
            raise duckdb_only("INTO")
    elif isinstance(tree, exp.Insert):
        if not isinstance(tree.this, exp.Table | exp.Schema):
            raise duckdb_only("DIRECTORY")  # INSERT OVERWRITE DIRECTORY writes host files
    elif isinstance(tree, exp.Copy):
        if not tree.args.get("kind"):
            raise duckdb_only("TO")  # COPY ... TO writes a file
        # COPY INTO reads volume files only: local_workspace/sql/copy_into.py
    elif isinstance(tree, exp.Create):
        kind = str(tree.args.get("kind") or "").upper()
        if kind not in CREATE_KINDS:
            raise duckdb_only(kind or "CREATE")
    elif isinstance(tree, exp.Drop):
        kind = str(tree.args.get("kind") or "").upper()
        if kind not in CREATE_KINDS:
            raise duckdb_only(kind or "DROP")
    elif isinstance(tree, exp.Set):
        settings(tree)  # raises for an engine setting
    elif reset_of(tree) is not None:
        settings(tree)
    elif not isinstance(
        tree,
        MAINTENANCE
        | exp.Update
        | exp.Delete
        | exp.Merge
        | exp.Alter
        | exp.Comment
        | exp.Describe
        | exp.Use
        | exp.Grant
        | exp.Revoke
        | exp.TruncateTable
        | exp.Transaction
        | exp.Commit
        | exp.Rollback,
    ):
        raise duckdb_only(_first_word(tree))


def _command(tree: exp.Command) -> None:
    word = str(tree.this).upper()
    rest = command_text(tree)
    first = rest.split()[0].upper() if rest.split() else ""
    if word in NATIVE_COMMANDS:
        return
    if word in ("CREATE", "DROP", "ALTER", "COMMENT") and _VOLUME.match(rest):
        return  # answered by sql/volumes.py, never sent to DuckDB
    if word == "ALTER" and policies.ALTER.match(f"ALTER {rest}"):
        return  # row filters and column masks: answered by the workspace
    if word in ("CREATE", "DROP"):
        if first == "CATALOG":
            return
        raise duckdb_only(first or word)
    if word == "SET":
        time_zone_of(tree)  # SET TIME ZONE, or SET <key> to show a value; raises otherwise
        return
    if word == "EXPLAIN":
        explained(tree)
        return
    raise duckdb_only(word)


def _first_word(tree: exp.Expr) -> str:
    text = tree.sql(dialect="databricks").split()
    return text[0] if text else type(tree).__name__.upper()


# -- SET / RESET ---------------------------------------------------------------------------


def reset_of(tree: exp.Expr) -> Setting | None:
    """``RESET`` / ``RESET key`` (which sqlglot reads as a column named RESET), else None."""
    if isinstance(tree, exp.Column) and tree.name.lower() == _RESET and not tree.table:
        return Setting("")
    if (
        isinstance(tree, exp.Alias)
        and isinstance(tree.this, exp.Column)
        and tree.this.name.lower() == _RESET
        and not tree.this.table
    ):
        return Setting(tree.alias.lower())
    return None


def _key(item: exp.Expr) -> str:
    return item.sql(dialect="databricks").replace("`", "").strip().lower()


def allowed_key(key: str) -> bool:
    """A Databricks configuration parameter, or a Spark conf (a no-op locally)."""
    return key in PARAMETERS or key.startswith("spark.")


def settings(tree: exp.Expr) -> list[Setting]:
    """The settings a SET/RESET statement changes; CONFIG_NOT_AVAILABLE for engine settings."""
    reset = reset_of(tree)
    if reset is not None:
        if reset.key and not allowed_key(reset.key):
            raise config_not_available(reset.key, CONFIG_HINT)
        return [reset]
    out: list[Setting] = []
    for item in tree.expressions:
        kind = str(item.args.get("kind") or "").upper()
        assignment = item.this
        if kind == "VARIABLE":
            continue  # SET VAR: session variables are Databricks SQL (no engine effect)
        if kind:
            raise duckdb_only(kind)  # SET GLOBAL/SESSION/LOCAL: DuckDB scopes
        if not isinstance(assignment, exp.EQ):
            raise parse_error(_key(assignment) or "SET")
        key = _key(assignment.this)
        if not allowed_key(key):
            raise config_not_available(key, CONFIG_HINT)
        value = assignment.expression
        text = value.name if isinstance(value, exp.Literal | exp.Identifier) else _key(value)
        if key in TIME_ZONE_KEYS:
            text = valid_time_zone(text)
        out.append(Setting(key, text))
    return out


def time_zone_of(tree: exp.Command) -> str | None:
    """The zone of ``SET TIME ZONE 'zone' | LOCAL`` (LOCAL: the default, UTC); None for
    ``SET key`` (showing a value). Anything else a Command SET holds is refused."""
    rest = command_text(tree)
    match = re.fullmatch(r"TIME\s+ZONE\s+(.+?)\s*;?", rest, re.I | re.S)
    if match is None:
        key = rest.replace("`", "").strip().lower()
        if not re.fullmatch(r"-v|[\w.]+", key):
            raise parse_error(rest.split()[0] if rest.split() else "SET")
        if key != "-v" and not allowed_key(key):
            raise config_not_available(key, CONFIG_HINT)
        return None
    value = match.group(1).strip()
    if value.upper() == "LOCAL":
        return "UTC"
    if value.upper().startswith("INTERVAL"):
        raise unsupported("SET TIME ZONE INTERVAL (use an offset string such as '+02:00')")
    if len(value) < 2 or value[0] != "'" or value[-1] != "'":
        raise parse_error(value.split()[0])
    return valid_time_zone(value[1:-1])


def valid_time_zone(value: str) -> str:
    """``value`` as DuckDB's TimeZone setting takes it, or INVALID_CONF_VALUE.TIME_ZONE."""
    text = value.strip()
    if text.upper() in ("UTC", "Z", "GMT"):
        return "UTC"
    if _OFFSET.match(text):
        sign_at = next(i for i, c in enumerate(text) if c in "+-")
        digits = text[sign_at + 1 :].replace(":", "")
        hours, minutes = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "00")
        if int(hours) > 18 or int(minutes) > 59:
            raise invalid_time_zone(value)
        # DuckDB (ICU) takes offsets as custom ids GMT+hh:mm, not as a bare +hh:mm.
        return f"GMT{text[sign_at]}{int(hours):02d}:{minutes}"
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise invalid_time_zone(value) from exc
    return text


# -- functions and tables ------------------------------------------------------------------


def function_name(node: exp.Func) -> str:
    """The name a function call was written with, lower case."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _denied(name: str) -> bool:
    if name in DATABRICKS_READERS or name == file_reads.READER:
        return False
    return name in SCALAR_FUNCTIONS or name.startswith(DENIED_PREFIXES)


def _functions(tree: exp.Expr, catalog: str, schema: str) -> None:
    for node in tree.find_all(exp.Func):
        name = function_name(node)
        if name in DATABRICKS_READERS:
            raise not_local(f"{name}()")
        if _denied(name):
            raise unresolved_routine(name, catalog, schema, _hint_for(name))
        parent = node.parent
        if isinstance(parent, exp.Dot) and parent.expression is node:
            qualifier = parent.this.sql(dialect="databricks").replace("`", "").split(".")[0]
            if _INTERNAL_CATALOG.match(qualifier):
                raise unresolved_routine(f"{qualifier}.{name}", catalog, schema)
    for position in _table_function_positions(tree):
        name = function_name(position)
        if name not in TABLE_FUNCTIONS:
            raise unresolved_routine(name, catalog, schema, _hint_for(name))


def _hint_for(name: str) -> str:
    if name.startswith(("duckdb_", "pragma_", "pg_")) or name in ("current_setting", "getenv"):
        return METADATA_HINT
    return FILES_HINT


def _table_function_positions(tree: exp.Expr) -> list[exp.Func]:
    """Functions used as relations: ``FROM f(...)``, ``JOIN f(...)``, ``LATERAL f(...)``."""
    found: list[exp.Func] = []
    for table in tree.find_all(exp.Table):
        # A qualified name (`s.f(...)`) is a Unity Catalog function (resolved, or refused, by
        # local_workspace/sql/udfs.py), unless it names DuckDB's own functions.
        if isinstance(table.this, exp.Func) and (
            not table.db
            or _denied(function_name(table.this))
            or table.catalog.lower() in ("system", "temp", "memory")
        ):
            found.append(table.this)
    for lateral in tree.find_all(exp.Lateral):
        inner = lateral.this
        if isinstance(inner, exp.Func) and not lateral.args.get("view"):
            found.append(inner)
    return found


def _tables(tree: exp.Expr) -> None:
    """A file path, file name or URL where a table name belongs is DuckDB's file scan."""
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier) or _volume_read(table):
            continue
        for part in (table.catalog, table.db, table.name):
            if part and _PATH.search(part):
                raise duckdb_only(f"'{part}'")


def _volume_read(table: exp.Table) -> bool:
    """A path Databricks reads as files (``csv.`path```, a path in COPY INTO's SELECT): only
    file_reads/copy_into answer those, and only for paths inside volumes."""
    if file_reads.is_file_table(table):
        return True
    copy = table.find_ancestor(exp.Copy)
    return copy is not None and not table.db and not table.catalog and "/" in table.name
