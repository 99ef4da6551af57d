"""Statements the workspace answers itself because DuckDB lacks them.

SHOW CATALOGS/SCHEMAS/TABLES/COLUMNS/GRANTS, DESCRIBE [TABLE] [EXTENDED], GRANT/REVOKE, USE,
CREATE/DROP CATALOG and the Delta maintenance commands that are harmless to ignore. They read
and write through the Catalog, so SQL and the Unity Catalog API always agree.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local_workspace.errors import ApiError
from local_workspace.sql.errors import (
    SqlError,
    catalog_not_found,
    parse_error,
    schema_not_found,
    table_not_found,
    unsupported,
)
from local_workspace.sql.translate import Scope, parse_name

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog


@dataclass
class Output:
    """A small result: column (name, DuckDB type) pairs and rows of strings."""

    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)


def strings(*columns: str) -> list[tuple[str, str]]:
    """STRING columns."""
    return [(name, "VARCHAR") for name in columns]


@contextmanager
def catalog_errors() -> Iterator[None]:
    """Catalog API errors -> the SQL error classes Databricks uses for them."""
    try:
        yield
    except ApiError as exc:
        mapped = {
            "CATALOG_DOES_NOT_EXIST": ("NO_SUCH_CATALOG_EXCEPTION", "42704"),
            "SCHEMA_DOES_NOT_EXIST": ("SCHEMA_NOT_FOUND", "42704"),
            "TABLE_DOES_NOT_EXIST": ("TABLE_OR_VIEW_NOT_FOUND", "42P01"),
            "CATALOG_ALREADY_EXISTS": ("CATALOG_ALREADY_EXISTS", "42P04"),
            "SCHEMA_ALREADY_EXISTS": ("SCHEMA_ALREADY_EXISTS", "42P06"),
            "TABLE_ALREADY_EXISTS": ("TABLE_OR_VIEW_ALREADY_EXISTS", "42P07"),
        }
        error_class, state = mapped.get(exc.error_code, (exc.error_code, "42000"))
        code = {404: "NOT_FOUND", 409: "ALREADY_EXISTS", 501: "BAD_REQUEST"}.get(
            exc.status, "BAD_REQUEST"
        )
        raise SqlError(error_class, exc.message, state, code) from exc


def like(pattern: str | None, name: str) -> bool:
    """Databricks SHOW ... LIKE: ``*`` wildcard, ``|`` alternatives, case-insensitive."""
    if not pattern:
        return True
    return any(fnmatch.fnmatchcase(name.lower(), alt.strip().lower()) for alt in pattern.split("|"))


_NAME = r"(?:`[^`]+`|[\w\-]+)(?:\.(?:`[^`]+`|[\w\-]+))*"
_LIKE = r"(?:\s+(?:LIKE\s+)?'(?P<like>[^']*)')?"
SHOW_CATALOGS = re.compile(rf"^CATALOGS{_LIKE}\s*$", re.I)
SHOW_SCHEMAS = re.compile(
    rf"^(?:SCHEMAS|DATABASES)(?:\s+(?:IN|FROM)\s+(?P<in>{_NAME}))?{_LIKE}\s*$", re.I
)
SHOW_TABLES = re.compile(
    rf"^(?P<what>TABLES|VIEWS)(?:\s+(?:IN|FROM)\s+(?P<in>{_NAME}))?{_LIKE}\s*$", re.I
)
SHOW_COLUMNS = re.compile(
    rf"^COLUMNS\s+(?:IN|FROM)\s+(?P<t>{_NAME})(?:\s+(?:IN|FROM)\s+(?P<in>{_NAME}))?\s*$", re.I
)
SHOW_GRANTS = re.compile(
    rf"^GRANTS?(?:\s+(?P<who>`[^`]+`|[\w@.\-]+))?\s+ON\s+(?P<kind>CATALOG|SCHEMA|DATABASE|TABLE|VIEW|VOLUME)\s+(?P<name>{_NAME})\s*$",
    re.I,
)
GRANT = re.compile(
    rf"^(?P<verb>GRANT|REVOKE)\s+(?P<privs>.+?)\s+ON\s+(?:(?P<kind>CATALOG|SCHEMA|DATABASE|TABLE|VIEW|VOLUME)\s+)?(?P<name>{_NAME})\s+(?:TO|FROM)\s+(?P<who>.+?)\s*;?\s*$",
    re.I | re.S,
)
CREATE_CATALOG = re.compile(
    rf"^CREATE\s+CATALOG\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>{_NAME})(?:\s+MANAGED\s+LOCATION\s+'[^']*')?(?:\s+COMMENT\s+'(?P<comment>(?:[^']|'')*)')?\s*;?\s*$",
    re.I,
)
DROP_CATALOG = re.compile(
    rf"^DROP\s+CATALOG\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})(?:\s+(?P<mode>CASCADE|RESTRICT))?\s*;?\s*$",
    re.I,
)

# Delta/Spark maintenance commands with nothing to do in DuckDB.
IGNORED = {"OPTIMIZE", "VACUUM", "ANALYZE", "REFRESH", "MSCK", "CACHE", "UNCACHE", "FSCK"}


class Commands:
    """Answers the statements DuckDB cannot, through the Catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    # -- name helpers -----------------------------------------------------------------

    def schema_of(self, text: str | None, scope: Scope) -> tuple[str, str]:
        """``[catalog.]schema`` -> (catalog, schema), checked to exist."""
        if not text:
            catalog, schema = scope.catalog, scope.schema
        else:
            parts = parse_name(text)
            catalog, schema = (parts[0], parts[1]) if len(parts) == 2 else (scope.catalog, parts[0])
        catalog = catalog.lower()
        self.require_catalog(catalog)
        if not self.catalog.schemas.has(catalog, schema):
            raise schema_not_found(catalog, schema)
        return catalog, schema

    def table_of(self, text: str, scope: Scope) -> tuple[str, str, str]:
        """``[[catalog.]schema.]table`` -> the public 3-part name, checked to exist."""
        parts = parse_name(text)
        while len(parts) < 3:
            parts.insert(0, scope.catalog if len(parts) == 2 else scope.schema)
        catalog, schema, table = parts[-3].lower(), parts[-2], parts[-1]
        if not self.catalog.catalogs.has(catalog) or not self.catalog.tables.has(
            catalog, schema, table
        ):
            raise table_not_found((catalog, schema, table))
        return catalog, schema, table

    def require_catalog(self, catalog: str) -> None:
        """NO_SUCH_CATALOG_EXCEPTION unless ``catalog`` exists."""
        if not self.catalog.catalogs.has(catalog):
            raise catalog_not_found(catalog)

    def securable(self, kind: str, name: str, scope: Scope) -> tuple[str, str]:
        """(securable_type as the UC API spells it, full public name)."""
        kind = kind.upper()
        if kind == "CATALOG":
            catalog = parse_name(name)[0].lower()
            self.require_catalog(catalog)
            return "catalog", catalog
        if kind in ("SCHEMA", "DATABASE"):
            return "schema", ".".join(self.schema_of(name, scope))
        if kind == "VOLUME":
            parts = parse_name(name)
            while len(parts) < 3:
                parts.insert(0, scope.catalog if len(parts) == 2 else scope.schema)
            return "volume", ".".join(parts)
        return "table", ".".join(self.table_of(name, scope))

    # -- statements -------------------------------------------------------------------

    def show(self, text: str, scope: Scope) -> Output:
        """SHOW CATALOGS | SCHEMAS | TABLES | VIEWS | COLUMNS | GRANTS."""
        if match := SHOW_CATALOGS.match(text):
            with catalog_errors():
                names = [c["name"] for c in self.catalog.catalogs.all()]
            return Output(
                strings("catalog"), [[n] for n in sorted(names) if like(match["like"], n)]
            )
        if match := SHOW_SCHEMAS.match(text):
            catalog = parse_name(match["in"])[0].lower() if match["in"] else scope.catalog
            self.require_catalog(catalog)
            with catalog_errors():
                names = [s["name"] for s in self.catalog.schemas.list_in(catalog)]
            return Output(
                strings("databaseName"),
                [[n] for n in sorted(names) if like(match["like"], n)],
            )
        if match := SHOW_TABLES.match(text):
            catalog, schema = self.schema_of(match["in"], scope)
            views_only = match["what"].upper() == "VIEWS"
            with catalog_errors():
                tables = self.catalog.tables.list_in(catalog, schema)
            rows: list[list[str | None]] = []
            for table in sorted(tables, key=lambda t: str(t["name"])):
                if views_only and table.get("table_type") != "VIEW":
                    continue
                if like(match["like"], table["name"]):
                    rows.append([schema, table["name"], "false"])
            head = "namespace" if views_only else "database"
            name_col = "viewName" if views_only else "tableName"
            return Output([*strings(head, name_col), ("isTemporary", "BOOLEAN")], rows)
        if match := SHOW_COLUMNS.match(text):
            name = match["t"] if not match["in"] else f"{match['in']}.{match['t']}"
            info = self.table_info(self.table_of(name, scope))
            return Output(strings("col_name"), [[c["name"]] for c in info.get("columns", [])])
        if match := SHOW_GRANTS.match(text):
            securable_type, full_name = self.securable(match["kind"], match["name"], scope)
            who = match["who"].strip("`") if match["who"] else None
            with catalog_errors():
                grants = self.catalog.grants.get(securable_type, full_name, who)
            rows = [
                [g["principal"], privilege, securable_type.upper(), full_name]
                for g in grants
                for privilege in g.get("privileges", [])
            ]
            return Output(strings("Principal", "ActionType", "ObjectType", "ObjectKey"), rows)
        word = text.split()[0].upper() if text.split() else ""
        raise unsupported(f"SHOW {word}".strip())

    def table_info(self, name: tuple[str, str, str]) -> dict[str, Any]:
        """TableInfo dict of a public name."""
        with catalog_errors():
            return self.catalog.tables.get(".".join(name))

    def describe(self, text: str, extended: bool, scope: Scope) -> Output:
        """DESCRIBE [TABLE] [EXTENDED] t: col_name, data_type, comment (+ details)."""
        name = self.table_of(text, scope)
        info = self.table_info(name)
        rows: list[list[str | None]] = [
            [c["name"], c.get("type_text") or c.get("type_name", "").lower(), c.get("comment")]
            for c in info.get("columns", [])
        ]
        if extended:
            created = info.get("created_at")
            created_text = (
                dt.datetime.fromtimestamp(created / 1000, dt.timezone.utc).strftime(
                    "%a %b %d %H:%M:%S UTC %Y"
                )
                if isinstance(created, int | float)
                else None
            )
            details: list[tuple[str, Any]] = [
                ("Catalog", name[0]),
                ("Database", name[1]),
                ("Table", name[2]),
                ("Created Time", created_text),
                ("Created By", info.get("created_by")),
                ("Owner", info.get("owner")),
                ("Type", info.get("table_type")),
                ("Comment", info.get("comment")),
                ("Location", info.get("storage_location")),
                ("Provider", str(info.get("data_source_format") or "delta").lower()),
            ]
            rows.append(["", "", ""])
            rows.append(["# Detailed Table Information", "", ""])
            rows.extend([key, str(value), ""] for key, value in details if value is not None)
        return Output(strings("col_name", "data_type", "comment"), rows)

    def grant(self, text: str, scope: Scope) -> Output:
        """GRANT/REVOKE privileges ON securable TO/FROM principals."""
        match = GRANT.match(text.strip())
        if not match:
            raise parse_error(text.strip().split()[0] if text.strip() else "end of input")
        kind = match["kind"] or "TABLE"
        securable_type, full_name = self.securable(kind, match["name"], scope)
        privileges = [
            re.sub(r"\s+", "_", p.strip().upper()) for p in match["privs"].split(",") if p.strip()
        ]
        privileges = ["ALL_PRIVILEGES" if p == "ALL" else p for p in privileges]
        principals = [p.strip().strip("`") for p in match["who"].split(",") if p.strip()]
        key = "add" if match["verb"].upper() == "GRANT" else "remove"
        changes = [{"principal": p, key: privileges} for p in principals]
        with catalog_errors():
            self.catalog.grants.update(securable_type, full_name, changes)
        return Output()

    def use(self, kind: str, target: list[str], scope: Scope) -> Output:
        """USE [CATALOG|SCHEMA] name: checks it exists and moves ``scope`` there.

        The Statement Execution API gives each request its own scope, so (as on Databricks)
        USE changes nothing for later requests: send ``catalog``/``schema`` with them. A
        caller running statements as one session (a SQL file task) shares the scope.
        """
        if kind == "CATALOG":
            catalog = target[-1].lower()
            self.require_catalog(catalog)
            scope.catalog, scope.schema = catalog, "default"
        else:
            catalog, schema = self.schema_of(".".join(f"`{p}`" for p in target), scope)
            scope.catalog, scope.schema = catalog, schema
        return Output()

    def create_catalog(self, text: str) -> Output:
        """CREATE CATALOG [IF NOT EXISTS] name [COMMENT '...']."""
        match = CREATE_CATALOG.match(text.strip())
        if not match:
            raise parse_error("CATALOG")
        name = parse_name(match["name"])[0].lower()
        if match["ine"] and self.catalog.catalogs.has(name):
            return Output()
        comment = match["comment"].replace("''", "'") if match["comment"] else None
        with catalog_errors():
            self.catalog.catalogs.create(name, comment=comment)
        return Output()

    def drop_catalog(self, text: str) -> Output:
        """DROP CATALOG [IF EXISTS] name [CASCADE]."""
        match = DROP_CATALOG.match(text.strip())
        if not match:
            raise parse_error("CATALOG")
        name = parse_name(match["name"])[0].lower()
        if not self.catalog.catalogs.has(name):
            if match["ie"]:
                return Output()
            raise catalog_not_found(name)
        with catalog_errors():
            self.catalog.catalogs.delete(name, force=(match["mode"] or "").upper() == "CASCADE")
        return Output()
