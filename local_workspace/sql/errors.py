"""SQL errors as Databricks reports them: ``[ERROR_CLASS] message SQLSTATE: xxxxx``.

A failed statement ends ``FAILED`` with ``status.error = {"error_code", "message"}`` (the
error_code is one of the SDK's ``ServiceErrorCode`` values) and ``status.sql_state``.
DuckDB's Catalog/Parser/Binder errors are mapped to the Databricks error classes an agent
knows, with public (never internal) names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import duckdb


class SqlError(Exception):
    """A statement failure with a Databricks error class."""

    def __init__(
        self,
        error_class: str,
        message: str,
        sql_state: str = "42000",
        error_code: str = "BAD_REQUEST",
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.sql_state = sql_state
        self.error_code = error_code

    def full_message(self) -> str:
        """The message as Databricks words it."""
        return f"[{self.error_class}] {self.message} SQLSTATE: {self.sql_state}"

    def status_error(self) -> dict[str, str]:
        """``status.error`` of a FAILED statement."""
        return {"error_code": self.error_code, "message": self.full_message()}


def quoted(*parts: str) -> str:
    """A name the way Databricks messages quote it: `a`.`b`.`c`."""
    return ".".join(f"`{part}`" for part in parts)


def table_not_found(name: Sequence[str]) -> SqlError:
    """TABLE_OR_VIEW_NOT_FOUND for a public name."""
    return SqlError(
        "TABLE_OR_VIEW_NOT_FOUND",
        f"The table or view {quoted(*name)} cannot be found. Verify the spelling and "
        "correctness of the schema and catalog.\nIf you did not qualify the name with a "
        "schema, verify the current_schema() output, or qualify the name with the correct "
        "schema and catalog.\nTo tolerate the error on drop use DROP VIEW IF EXISTS or DROP "
        "TABLE IF EXISTS.",
        "42P01",
    )


def schema_not_found(catalog: str, schema: str) -> SqlError:
    """SCHEMA_NOT_FOUND for a public name."""
    return SqlError(
        "SCHEMA_NOT_FOUND",
        f"The schema {quoted(catalog, schema)} cannot be found. Verify the spelling and "
        "correctness of the schema and catalog.\nIf you did not qualify the name with a "
        "catalog, verify the current_schema() output, or qualify the name with the correct "
        "catalog.\nTo tolerate the error on drop use DROP SCHEMA IF EXISTS.",
        "42704",
    )


def catalog_not_found(catalog: str) -> SqlError:
    """NO_SUCH_CATALOG_EXCEPTION, as Databricks names it."""
    return SqlError(
        "NO_SUCH_CATALOG_EXCEPTION",
        f"Catalog '{catalog}' was not found. Please verify the catalog name and then retry "
        "the query or command again.",
        "42704",
    )


def parse_error(near: str, detail: str = "") -> SqlError:
    """PARSE_SYNTAX_ERROR at a token."""
    extra = f" {detail}" if detail else ""
    return SqlError("PARSE_SYNTAX_ERROR", f"Syntax error at or near '{near}'.{extra}", "42601")


def unsupported(what: str) -> SqlError:
    """A statement the local workspace cannot run (said plainly, never faked)."""
    return SqlError(
        "UNSUPPORTED_FEATURE",
        f"{what} is not available in the local workspace; use a real Databricks workspace.",
        "0A000",
    )


def search_path(catalog: str, schema: str) -> str:
    """The search path Databricks prints in UNRESOLVED_ROUTINE."""
    builtin, session = quoted("system", "builtin"), quoted("system", "session")
    return f"[{builtin}, {session}, {quoted(catalog, schema)}]"


def unresolved_routine(name: str, catalog: str, schema: str, hint: str = "") -> SqlError:
    """UNRESOLVED_ROUTINE: a function the warehouse does not have (``hint``: what to use)."""
    extra = f" {hint}" if hint else ""
    return SqlError(
        "UNRESOLVED_ROUTINE",
        f"Cannot resolve routine `{name}` on search path {search_path(catalog, schema)}.{extra}",
        "42883",
    )


def config_not_available(key: str, hint: str = "") -> SqlError:
    """CONFIG_NOT_AVAILABLE: what a SQL warehouse answers for a setting it does not offer."""
    extra = f" {hint}" if hint else ""
    return SqlError(
        "CONFIG_NOT_AVAILABLE", f"Configuration {key} is not available.{extra}", "42K0I"
    )


def invalid_time_zone(value: str) -> SqlError:
    """INVALID_CONF_VALUE.TIME_ZONE for a zone that is neither a region id nor an offset."""
    return SqlError(
        "INVALID_CONF_VALUE.TIME_ZONE",
        f"The value '{value}' in the config \"spark.sql.session.timeZone\" is invalid. Cannot "
        "resolve the given timezone. Use a region id such as 'America/Los_Angeles' or an "
        "offset such as '+02:00'.",
        "22022",
    )


# DuckDB names a missing table as written after renaming: `t`, `s.t` or `uc_c.s.t`.
_TABLE_MISSING = re.compile(r'Table with name "?([^"!]+?)"? does not exist')
_SCHEMA_MISSING = re.compile(r'Schema with name "?([^"!]+?)"? does not exist')
_TABLE_EXISTS = re.compile(r'Table with name "?([^"!]+?)"? already exists')
_VIEW_EXISTS = re.compile(r'View with name "?([^"!]+?)"? already exists')
_SCHEMA_EXISTS = re.compile(r'Schema with name "?([^"!]+?)"? already exists')
_COLUMN_MISSING = re.compile(r'Referenced column "?([^"]+?)"? not found')
_CANDIDATES = re.compile(r"Candidate bindings: (.*)")
_FUNCTION_MISSING = re.compile(r"Function with name (\S+) does not exist")
_NEAR = re.compile(r'syntax error at or near "([^"]*)"')
_CAST = re.compile(r"Could not convert string '(.*)' to (\w+)")
_NOT_A_CATALOG = re.compile(
    r'"([^"]+)" is not a catalog or schema|Catalog "?([^"!]+?)"? does not exist'
)
_PARAM = re.compile(r"Values were not provided for the following parameters?: (.*)")

# Resolves a DuckDB-side name (as it appears in a message) to the public 3-part name.
NameResolver = Callable[[str], "tuple[str, ...]"]


def from_duckdb(
    exc: duckdb.Error,
    resolve: NameResolver,
    public_text: Callable[[str], str],
    scope: tuple[str, str] = ("main", "default"),
) -> SqlError:
    """The Databricks error for a DuckDB error; names go through ``resolve``/``public_text``;
    ``scope`` (catalog, schema) words the search path of an unknown function."""
    text = str(exc).split("\n\nLINE ")[0].split("\n")[0]
    for prefix in ("Catalog Error: ", "Binder Error: ", "Parser Error: ", "Invalid Input Error: "):
        text = text.removeprefix(prefix)
    if match := _NOT_A_CATALOG.search(text):
        return catalog_not_found(resolve(match.group(1) or match.group(2))[0])
    if isinstance(exc, duckdb.CatalogException):
        if match := _TABLE_MISSING.search(text):
            return table_not_found(resolve(match.group(1)))
        if match := _SCHEMA_MISSING.search(text):
            if "." not in match.group(1) and match.group(1).startswith("uc_"):
                # DuckDB read `catalog.schema.table` as schema `catalog`: the catalog is missing.
                return catalog_not_found(resolve(match.group(1))[0])
            parts = resolve(match.group(1))
            return schema_not_found(*parts[-2:]) if len(parts) >= 2 else table_not_found(parts)
        if match := _TABLE_EXISTS.search(text) or _VIEW_EXISTS.search(text):
            return SqlError(
                "TABLE_OR_VIEW_ALREADY_EXISTS",
                f"Cannot create table or view {quoted(*resolve(match.group(1)))} because it "
                "already exists.\nChoose a different name, drop or replace the existing "
                "object, or add the IF NOT EXISTS clause to tolerate pre-existing objects.",
                "42P07",
                "ALREADY_EXISTS",
            )
        if match := _SCHEMA_EXISTS.search(text):
            return SqlError(
                "SCHEMA_ALREADY_EXISTS",
                f"Cannot create schema {quoted(*resolve(match.group(1)))} because it already "
                "exists.\nChoose a different name, drop the existing schema, or add the IF NOT "
                "EXISTS clause to tolerate pre-existing schema.",
                "42P06",
                "ALREADY_EXISTS",
            )
        if match := _FUNCTION_MISSING.search(text):
            name = public_text(match.group(1).replace('"', ""))
            return unresolved_routine(name, *scope, "Verify the spelling of the routine.")
    if isinstance(exc, duckdb.ParserException):
        near = _NEAR.search(text)
        return parse_error(public_text(near.group(1)) if near else "end of input")
    if isinstance(exc, duckdb.BinderException) and (match := _COLUMN_MISSING.search(text)):
        full = str(exc)
        candidates = _CANDIDATES.search(full)
        suggestion = ""
        if candidates:
            names = [c.strip().strip('"') for c in candidates.group(1).split(",") if c.strip()]
            suggestion = (
                " Did you mean one of the following? ["
                + ", ".join(f"`{name}`" for name in names)
                + "]."
            )
        column = public_text(match.group(1))
        return SqlError(
            "UNRESOLVED_COLUMN.WITH_SUGGESTION" if suggestion else "UNRESOLVED_COLUMN",
            f"A column, variable, or function parameter with name `{column}` cannot be "
            f"resolved.{suggestion}",
            "42703",
        )
    if "Division by zero" in text:
        return SqlError(
            "DIVIDE_BY_ZERO",
            "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL "
            'instead. If necessary set "ansi_mode" to "false" to bypass this error.',
            "22012",
        )
    if isinstance(exc, duckdb.ConversionException) and (match := _CAST.search(text)):
        return SqlError(
            "CAST_INVALID_INPUT",
            f"The value '{match.group(1)}' of the type \"STRING\" cannot be cast to "
            f'"{match.group(2)}" because it is malformed. Correct the value as per the syntax, '
            "or change its target type. Use `try_cast` to tolerate malformed input and return "
            "NULL instead.",
            "22018",
        )
    if match := _PARAM.search(text):
        return unbound_parameter(match.group(1))
    if isinstance(exc, duckdb.ConstraintException):
        return SqlError("CONSTRAINT_VIOLATION", public_text(text), "23000")
    return SqlError("INTERNAL_ERROR", public_text(text), "XX000", "INTERNAL_ERROR")


def unbound_parameter(name: str) -> SqlError:
    """UNBOUND_SQL_PARAMETER: the statement uses ``:name`` but the request did not bind it."""
    return SqlError(
        "UNBOUND_SQL_PARAMETER",
        f"Found the unbound parameter: {name}. Please, fix `args` and provide a mapping of the "
        "parameter to either a SQL literal or collection constructor functions such as "
        "`map()`, `array()`, `struct()`.",
        "42P02",
    )
