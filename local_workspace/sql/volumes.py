"""Volume statements the workspace answers itself (DuckDB has no volumes).

CREATE [EXTERNAL] VOLUME, DROP VOLUME, ALTER VOLUME ... RENAME TO / [SET] OWNER TO,
DESCRIBE VOLUME, SHOW VOLUMES, COMMENT ON VOLUME, and the SCHEMA_NOT_EMPTY check of DROP
SCHEMA without CASCADE on a schema holding volumes. They go through ``catalog.volumes``, so
SQL, the Unity Catalog API and the Files API see the same volumes and folders.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from local_workspace.errors import ApiError
from local_workspace.sql.commands import Output, catalog_errors, like, strings
from local_workspace.sql.errors import (
    SqlError,
    catalog_not_found,
    parse_error,
    quoted,
    schema_not_found,
    unsupported,
)
from local_workspace.sql.translate import Scope, parse_name

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

_NAME = r"(?:`[^`]+`|[\w\-]+)(?:\.(?:`[^`]+`|[\w\-]+))*"
_STRING = r"'(?:[^'\\]|\\.|'')*'"
CREATE = re.compile(
    rf"^CREATE\s+(?P<external>EXTERNAL\s+)?VOLUME\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?"
    rf"(?P<name>{_NAME})(?:\s+LOCATION\s+(?P<location>{_STRING}))?"
    rf"(?:\s+COMMENT\s+(?P<comment>{_STRING}))?\s*;?\s*$",
    re.I | re.S,
)
DROP = re.compile(rf"^DROP\s+VOLUME\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_NAME})\s*;?\s*$", re.I)
RENAME = re.compile(
    rf"^ALTER\s+VOLUME\s+(?P<name>{_NAME})\s+RENAME\s+TO\s+(?P<to>{_NAME})\s*;?\s*$", re.I
)
OWNER = re.compile(
    rf"^ALTER\s+VOLUME\s+(?P<name>{_NAME})\s+(?:SET\s+)?OWNER\s+TO\s+(?P<who>`[^`]+`|[\w@.\-]+)"
    r"\s*;?\s*$",
    re.I,
)
DESCRIBE = re.compile(rf"^(?:DESCRIBE|DESC)\s+VOLUME\s+(?P<name>{_NAME})\s*;?\s*$", re.I)
SHOW = re.compile(
    rf"^VOLUMES(?:\s+(?:IN|FROM)\s+(?P<in>{_NAME}))?(?:\s+(?:LIKE\s+)?'(?P<like>[^']*)')?\s*$",
    re.I,
)
COMMENT = re.compile(
    rf"^COMMENT\s+ON\s+VOLUME\s+(?P<name>{_NAME})\s+IS\s+(?P<comment>{_STRING}|NULL)\s*;?\s*$",
    re.I | re.S,
)


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", r"\1", body.replace("''", "'"))


def volume_not_found(name: tuple[str, str, str]) -> SqlError:
    """UC_VOLUME_NOT_FOUND, worded as Databricks words it."""
    return SqlError(
        "UC_VOLUME_NOT_FOUND",
        f"Volume {quoted(*name)} does not exist. Please use 'SHOW VOLUMES' to list available "
        "volumes.",
        "42704",
        "NOT_FOUND",
    )


def volume_exists(name: tuple[str, str, str]) -> SqlError:
    """VOLUME_ALREADY_EXISTS."""
    return SqlError(
        "VOLUME_ALREADY_EXISTS",
        f"Cannot create volume {quoted(*name)} because it already exists.\nChoose a different "
        "name, drop or replace the existing object, or add the IF NOT EXISTS clause to "
        "tolerate pre-existing objects.",
        "42000",
        "ALREADY_EXISTS",
    )


class VolumeStatements:
    """Answers the volume statements of one catalog engine."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def _schema(self, catalog: str, schema: str) -> None:
        if not self.catalog.catalogs.has(catalog):
            raise catalog_not_found(catalog)
        if not self.catalog.schemas.has(catalog, schema):
            raise schema_not_found(catalog, schema)

    def _name(self, text: str, scope: Scope) -> tuple[str, str, str]:
        """``[[catalog.]schema.]volume`` -> its lowercased parts, the schema checked."""
        parts = parse_name(text)
        if len(parts) > 3:
            raise parse_error(text.strip()[:40])
        while len(parts) < 3:
            parts.insert(0, scope.schema if len(parts) == 2 else scope.catalog)
        catalog, schema, name = (p.lower() for p in parts)
        self._schema(catalog, schema)
        return catalog, schema, name

    def _has(self, name: tuple[str, str, str]) -> bool:
        try:
            self.catalog.volumes.get(".".join(name))
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _existing(self, text: str, scope: Scope) -> tuple[str, str, str]:
        name = self._name(text, scope)
        if not self._has(name):
            raise volume_not_found(name)
        return name

    def answer(self, tree: exp.Expression, scope: Scope) -> Output | None:
        """The answer to a volume statement, or None for any other statement."""
        if isinstance(tree, exp.Drop):
            self._check_drop_schema(tree, scope)
            return None
        if not isinstance(tree, exp.Command):
            return None
        word = str(tree.this).upper()
        rest = tree.expression
        text = str(rest.this if isinstance(rest, exp.Literal) else rest or "").strip()
        if word == "SHOW" and text.upper().startswith("VOLUMES"):
            return self.show(text, scope)
        if not re.match(r"^(?:EXTERNAL\s+)?VOLUME\b|^ON\s+VOLUME\b", text, re.I):
            return None
        statement = f"{word} {text}"
        if word == "CREATE":
            return self.create(statement, scope)
        if word == "DROP":
            return self.drop(statement, scope)
        if word == "ALTER":
            return self.alter(statement, scope)
        if word == "COMMENT":
            return self.comment(statement, scope)
        return None

    def create(self, statement: str, scope: Scope) -> Output:
        """CREATE [EXTERNAL] VOLUME [IF NOT EXISTS] name [LOCATION '...'] [COMMENT '...']."""
        match = CREATE.match(statement)
        if match is None:
            raise parse_error("VOLUME")
        if match["external"] or match["location"]:
            raise unsupported("CREATE EXTERNAL VOLUME (cloud storage behind an external location)")
        name = self._name(match["name"], scope)
        if self._has(name):
            if match["ine"]:
                return Output()
            raise volume_exists(name)
        comment = _unquote(match["comment"]) if match["comment"] else None
        with catalog_errors():
            self.catalog.volumes.create(*name, comment=comment)
        return Output()

    def drop(self, statement: str, scope: Scope) -> Output:
        """DROP VOLUME [IF EXISTS] name: its files go with it."""
        match = DROP.match(statement)
        if match is None:
            raise parse_error("VOLUME")
        parts = parse_name(match["name"])
        while len(parts) < 3:
            parts.insert(0, scope.schema if len(parts) == 2 else scope.catalog)
        name = (parts[0].lower(), parts[1].lower(), parts[2].lower())
        missing = (
            not self.catalog.catalogs.has(name[0])
            or not self.catalog.schemas.has(name[0], name[1])
            or not self._has(name)
        )
        if missing:
            if match["ie"]:
                return Output()
            self._schema(name[0], name[1])
            raise volume_not_found(name)
        with catalog_errors():
            self.catalog.volumes.delete(".".join(name))
        return Output()

    def alter(self, statement: str, scope: Scope) -> Output | None:
        """ALTER VOLUME name RENAME TO new | [SET] OWNER TO principal (None: another form,
        e.g. SET TAGS, left to whoever answers it)."""
        if match := RENAME.match(statement):
            name = self._existing(match["name"], scope)
            target = parse_name(match["to"])
            prefix = [p.lower() for p in target[:-1]]
            if len(target) > 3 or (prefix and prefix != list(name[:2])[-len(prefix) :]):
                raise SqlError(
                    "INVALID_PARAMETER_VALUE",
                    "A volume can be renamed only inside its schema.",
                    "22023",
                )
            new = (name[0], name[1], target[-1].lower())
            if new != name and self._has(new):
                raise volume_exists(new)
            with catalog_errors():
                self.catalog.volumes.update(".".join(name), new_name=new[2])
            return Output()
        if match := OWNER.match(statement):
            name = self._existing(match["name"], scope)
            with catalog_errors():
                self.catalog.volumes.update(".".join(name), owner=match["who"].strip("`"))
            return Output()
        return None

    def comment(self, statement: str, scope: Scope) -> Output:
        """COMMENT ON VOLUME name IS 'text' | NULL."""
        match = COMMENT.match(statement)
        if match is None:
            raise parse_error("VOLUME")
        name = self._existing(match["name"], scope)
        raw = match["comment"]
        comment = "" if raw.upper() == "NULL" else _unquote(raw)
        with catalog_errors():
            self.catalog.volumes.update(".".join(name), comment=comment)
        return Output()

    def describe(self, statement: str, scope: Scope) -> Output | None:
        """DESCRIBE VOLUME name (sqlglot cannot parse it: matched on the text)."""
        match = DESCRIBE.match(statement.strip())
        if match is None:
            return None
        name = self._existing(match["name"], scope)
        with catalog_errors():
            info = self.catalog.volumes.get(".".join(name))
        location = info.get("storage_location") if info["volume_type"] == "EXTERNAL" else None
        row: list[str | None] = [
            info["name"],
            info["catalog_name"],
            info["schema_name"],
            info["owner"],
            location,
            info["volume_type"],
            info.get("comment") or None,
        ]
        columns = strings(
            "name", "catalog", "database", "owner", "storageLocation", "volumeType", "comment"
        )
        return Output(columns, [row])

    def show(self, text: str, scope: Scope) -> Output:
        """SHOW VOLUMES [IN|FROM schema] [[LIKE] 'pattern']: database, volumeName."""
        match = SHOW.match(text)
        if match is None:
            raise parse_error("VOLUMES")
        if match["in"]:
            parts = parse_name(match["in"])
            catalog, schema = (parts[0], parts[1]) if len(parts) == 2 else (scope.catalog, parts[0])
        else:
            catalog, schema = scope.catalog, scope.schema
        catalog, schema = catalog.lower(), schema.lower()
        self._schema(catalog, schema)
        with catalog_errors():
            volumes = self.catalog.volumes.list_in(catalog, schema)
        rows: list[list[str | None]] = [
            [schema, v["name"]] for v in volumes if like(match["like"], v["name"])
        ]
        return Output(strings("database", "volumeName"), rows)

    def _check_drop_schema(self, tree: exp.Drop, scope: Scope) -> None:
        """DROP SCHEMA without CASCADE refuses a schema that holds volumes (DuckDB, which
        knows only its tables, would drop it)."""
        kind = str(tree.args.get("kind") or "").upper()
        if kind not in ("SCHEMA", "DATABASE") or tree.args.get("cascade"):
            return
        tables = tree.args.get("tables") or [tree.this]
        target = tables[0]
        if not isinstance(target, exp.Table):
            return
        catalog = target.catalog or scope.catalog
        schema = target.db or target.name
        if not catalog or not schema:
            return
        catalog, schema = catalog.lower(), schema.lower()
        if not self.catalog.schemas.has(catalog, schema):
            return
        if self.catalog.volumes.list_in(catalog, schema):
            raise SqlError(
                "SCHEMA_NOT_EMPTY",
                f"Cannot drop a schema {quoted(schema)} because it contains objects.\nUse DROP "
                "SCHEMA ... CASCADE to drop the schema and all its objects.",
                "2BP01",
            )
