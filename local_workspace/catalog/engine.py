"""The catalog engine: one shared DuckDB instance, one attached DuckDB file per UC catalog.

Tables, views, schemas and columns are read from DuckDB itself, so SQL DDL and the Unity
Catalog API never disagree. What DuckDB lacks (owners, timestamps, catalog and schema
comments, volumes, grants) lives in SQLite next to it (``uc.sqlite``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

import duckdb

from local_workspace.catalog import grants
from local_workspace.catalog.constraints import Constraints
from local_workspace.catalog.meta import MetaStore, dumps, loads, now_ms
from local_workspace.catalog.objects import ObjectReader, check_name, quote, split_name
from local_workspace.catalog.securables import SecurablesMixin
from local_workspace.errors import ApiError, already_exists, invalid, not_found

# DuckDB reserves `main`, `system`, `temp`... as database names, so every catalog gets a
# uniform internal alias; clients never see it.
INTERNAL_PREFIX = "uc_"
# Rows of objects inside a container (`_` must not act as a LIKE wildcard here).
_UNDER = "DELETE FROM objects WHERE substr(full_name, 1, ?) = ?"
# close(): how long work still running on cursors may delay it, and the interrupt cadence.
CLOSE_WAIT_S = 10.0
_INTERRUPT_EVERY_S = 0.02

# DuckDB databases other services attach to the shared instance (relative to the data
# directory), with the files DuckDB keeps beside them: the only single files SQL may reach.
ENGINE_DATABASES = ("pipelines/progress.duckdb",)
_DATABASE_SIDE_FILES = ("", ".wal", ".wal.checkpoint")
# Session settings our own code changes per cursor after the lock (SET TIME ZONE).
_SESSION_SETTINGS = ["TimeZone"]

log = logging.getLogger("local_workspace.catalog")


class Catalog(SecurablesMixin):
    """Unity Catalog objects of one local workspace (thread-safe)."""

    def __init__(self, data_dir: Path, owner: str, seed: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.owner = owner
        self._catalog_dir = self.data_dir / "catalogs"
        self._volume_dir = self.data_dir / "volumes"
        self._catalog_dir.mkdir(parents=True, exist_ok=True)
        self._volume_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = open_sandboxed(self.data_dir, [self._catalog_dir, self._volume_dir])
        self._attached: set[str] = set()
        # Cursors handed out, so close() can interrupt work still running on them.
        self._cursors: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
        self.meta = MetaStore(self.data_dir / "uc.sqlite")
        self.metastore_id = self._metastore_id()
        self.objects = ObjectReader(self)
        self.constraints = Constraints(self.meta)
        for row in self.meta.rows("SELECT name FROM catalogs ORDER BY name"):
            self._attach(row["name"])
        if seed and self.meta.setting("seeded") is None:
            from local_workspace.catalog.seed import seed_workspace

            seed_workspace(self)
            self.meta.set_setting("seeded", "1")

    def _metastore_id(self) -> str:
        found = self.meta.setting("metastore_id")
        if found is None:
            found = str(uuid.uuid4())
            self.meta.set_setting("metastore_id", found)
        return found

    # -- DuckDB access -------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor of the shared instance (every catalog attached); one per statement."""
        cursor = self._db.cursor()
        self._cursors.add(cursor)
        return cursor

    def to_internal(self, catalog: str) -> str:
        """UC catalog name -> DuckDB alias."""
        return INTERNAL_PREFIX + catalog.lower()

    def to_public(self, internal: str) -> str:
        """DuckDB alias -> UC catalog name (identity for names that are not ours)."""
        if internal.lower().startswith(INTERNAL_PREFIX):
            return internal[len(INTERNAL_PREFIX) :]
        return internal

    def public_text(self, text: str) -> str:
        """``text`` with internal catalog aliases replaced by their public names."""
        names = sorted(self._attached, key=len, reverse=True)
        if not names:
            return text
        pattern = re.compile(
            r"\b" + INTERNAL_PREFIX + "(" + "|".join(re.escape(n) for n in names) + r")\b"
        )
        return pattern.sub(lambda m: m.group(1), text)

    def _attach(self, name: str) -> None:
        path = self._catalog_dir / f"{name}.duckdb"
        literal = str(path).replace("'", "''")
        with self._lock:
            self._db.execute(f"ATTACH '{literal}' AS {quote(self.to_internal(name))}")
            self._attached.add(name)

    def _detach(self, name: str) -> None:
        with self._lock:
            self._db.execute(f"DETACH {quote(self.to_internal(name))}")
            self._attached.discard(name)

    def has_catalog(self, name: str) -> bool:
        """Whether the UC catalog exists."""
        return name.lower() in self._attached

    def has_schema(self, catalog: str, schema: str) -> bool:
        """Whether the schema exists."""
        return self.has_catalog(catalog) and schema.lower() in self.objects.schema_names(catalog)

    def has_table(self, catalog: str, schema: str, table: str) -> bool:
        """Whether the table or view exists."""
        return self.has_schema(catalog, schema) and bool(
            self.objects.relations(catalog.lower(), schema.lower(), table.lower())
        )

    # -- catalogs ------------------------------------------------------------------------

    def _catalog_info(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": row["name"],
            "full_name": row["name"],
            "comment": row["comment"],
            "owner": row["owner"],
            "properties": loads(row["properties"]),
            "created_at": row["created_at"],
            "created_by": row["created_by"],
            "updated_at": row["updated_at"],
            "updated_by": row["updated_by"],
            "catalog_type": "MANAGED_CATALOG",
            "isolation_mode": "OPEN",
            "securable_type": "CATALOG",
            "metastore_id": self.metastore_id,
            "browse_only": False,
        }

    def list_catalogs(self) -> list[dict[str, Any]]:
        """Every catalog as CatalogInfo dicts, sorted by name."""
        return [
            self._catalog_info(r) for r in self.meta.rows("SELECT * FROM catalogs ORDER BY name")
        ]

    def _catalog_row(self, name: str) -> dict[str, Any]:
        row = self.meta.row("SELECT * FROM catalogs WHERE name = ?", (name.lower(),))
        if row is None:
            raise not_found(f"Catalog '{name}' does not exist.", "CATALOG_DOES_NOT_EXIST")
        return row

    def get_catalog(self, name: str) -> dict[str, Any]:
        """One CatalogInfo dict; 404 CATALOG_DOES_NOT_EXIST."""
        return self._catalog_info(self._catalog_row(name))

    def create_catalog(
        self, name: str, comment: str | None = None, properties: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Create a catalog (a new attached DuckDB file) with schema ``default``."""
        name = check_name(name, "catalog")
        with self._lock:
            if self.has_catalog(name):
                raise already_exists(f"Catalog '{name}' already exists.", "CATALOG_ALREADY_EXISTS")
            _remove_files(self._catalog_dir / f"{name}.duckdb")  # leftovers of a crashed drop
            self._attach(name)
            now = now_ms()
            with self.meta.transaction() as db:
                db.execute(
                    "INSERT INTO catalogs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        comment,
                        self.owner,
                        dumps(properties),
                        now,
                        self.owner,
                        now,
                        self.owner,
                        str(uuid.uuid4()),
                    ),
                )
            self.create_schema(name, "default", "Default schema (auto-created)")
        return self.get_catalog(name)

    def update_catalog(
        self,
        name: str,
        comment: str | None = None,
        owner: str | None = None,
        properties: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Update a catalog's comment, owner or properties (None leaves a field unchanged)."""
        row = self._catalog_row(name)
        with self.meta.transaction() as db:
            db.execute(
                "UPDATE catalogs SET comment = ?, owner = ?, properties = ?, updated_at = ?, "
                "updated_by = ? WHERE name = ?",
                (
                    row["comment"] if comment is None else comment,
                    owner or row["owner"],
                    row["properties"] if properties is None else dumps(properties),
                    now_ms(),
                    self.owner,
                    row["name"],
                ),
            )
        return self.get_catalog(name)

    def delete_catalog(self, name: str, force: bool = False) -> None:
        """Drop a catalog; refuses a non-empty one unless ``force``."""
        name = self._catalog_row(name)["name"]
        with self._lock:
            if not force:
                extra = [s for s in self.objects.schema_names(name) if s != "default"]
                tables = self.objects.relations(name, None, None)
                volumes = self.meta.rows("SELECT 1 FROM volumes WHERE catalog_name = ?", (name,))
                if extra or tables or volumes:
                    raise invalid(
                        f"Catalog '{name}' is not empty ({len(extra)} other schema(s), "
                        f"{len(tables)} table(s), {len(volumes)} volume(s)). Use force=true.",
                        "CATALOG_NOT_EMPTY",
                    )
            self._detach(name)
            _remove_files(self._catalog_dir / f"{name}.duckdb")
            shutil.rmtree(self._volume_dir / name, ignore_errors=True)
            with self.meta.transaction() as db:
                db.execute("DELETE FROM catalogs WHERE name = ?", (name,))
                db.execute(_UNDER, (len(name) + 1, name + "."))
                db.execute("DELETE FROM volumes WHERE catalog_name = ?", (name,))
            grants.forget(self.meta, name, ("catalog",), children=True)
            self.constraints.forget(name, children=True)

    # -- schemas -------------------------------------------------------------------------

    def list_schemas(self, catalog: str) -> list[dict[str, Any]]:
        """SchemaInfo dicts of a catalog, sorted by name."""
        catalog = self._catalog_row(catalog)["name"]
        return [self.objects.schema_info(catalog, s) for s in self.objects.schema_names(catalog)]

    def get_schema(self, full_name: str) -> dict[str, Any]:
        """One SchemaInfo dict; 404 SCHEMA_DOES_NOT_EXIST."""
        catalog, schema = self._existing_schema(full_name)
        return self.objects.schema_info(catalog, schema)

    def _existing_schema(self, full_name: str) -> tuple[str, str]:
        catalog, schema = split_name(full_name, 2, "schema")
        self._catalog_row(catalog)
        if not self.has_schema(catalog, schema):
            raise not_found(f"Schema '{catalog}.{schema}' does not exist.", "SCHEMA_DOES_NOT_EXIST")
        return catalog, schema

    def create_schema(self, catalog: str, name: str, comment: str | None = None) -> dict[str, Any]:
        """Create a schema."""
        catalog = self._catalog_row(catalog)["name"]
        name = check_name(name, "schema")
        if self.has_schema(catalog, name):
            raise already_exists(
                f"Schema '{catalog}.{name}' already exists.", "SCHEMA_ALREADY_EXISTS"
            )
        cur = self.cursor()
        try:
            cur.execute(
                f"CREATE SCHEMA IF NOT EXISTS {quote(self.to_internal(catalog))}.{quote(name)}"
            )
        finally:
            cur.close()
        self.note_created("schema", f"{catalog}.{name}", comment)
        return self.get_schema(f"{catalog}.{name}")

    def update_schema(
        self, full_name: str, comment: str | None = None, owner: str | None = None
    ) -> dict[str, Any]:
        """Update a schema's comment or owner."""
        catalog, schema = self._existing_schema(full_name)
        self._update_object("schema", f"{catalog}.{schema}", comment, owner)
        return self.get_schema(full_name)

    def delete_schema(self, full_name: str, force: bool = False) -> None:
        """Drop a schema; refuses a non-empty one unless ``force``."""
        catalog, schema = self._existing_schema(full_name)
        tables = self.objects.relations(catalog, schema, None)
        volumes = self.meta.rows(
            "SELECT 1 FROM volumes WHERE catalog_name = ? AND schema_name = ?", (catalog, schema)
        )
        if (tables or volumes) and not force:
            raise invalid(
                f"Schema '{catalog}.{schema}' is not empty ({len(tables)} table(s), "
                f"{len(volumes)} volume(s)). Use force=true.",
                "SCHEMA_NOT_EMPTY",
            )
        cur = self.cursor()
        try:
            cur.execute(f"DROP SCHEMA {quote(self.to_internal(catalog))}.{quote(schema)} CASCADE")
        finally:
            cur.close()
        shutil.rmtree(self._volume_dir / catalog / schema, ignore_errors=True)
        with self.meta.transaction() as db:
            db.execute(
                "DELETE FROM volumes WHERE catalog_name = ? AND schema_name = ?", (catalog, schema)
            )
        self.note_dropped("schema", f"{catalog}.{schema}")

    # -- tables --------------------------------------------------------------------------

    def list_tables(self, catalog: str, schema: str) -> list[dict[str, Any]]:
        """TableInfo dicts (with columns) of a schema, sorted by name."""
        catalog, schema = self._existing_schema(f"{catalog}.{schema}")
        return self.objects.table_infos(catalog, schema, None)

    def get_table(self, full_name: str) -> dict[str, Any]:
        """One TableInfo dict with columns; 404 TABLE_DOES_NOT_EXIST."""
        catalog, schema, table = split_name(full_name, 3, "table")
        self._catalog_row(catalog)
        if self.has_schema(catalog, schema):
            found = self.objects.table_infos(catalog, schema, table)
            if found:
                return found[0]
        raise not_found(
            f"Table '{catalog}.{schema}.{table}' does not exist.", "TABLE_DOES_NOT_EXIST"
        )

    def create_table(
        self,
        catalog: str,
        schema: str,
        name: str,
        columns: list[dict[str, Any]],
        comment: str | None = None,
        table_type: str = "MANAGED",
        properties: dict[str, str] | None = None,
        storage_location: str | None = None,
    ) -> dict[str, Any]:
        """Create a real (queryable) DuckDB table from UC ColumnInfo dicts."""
        from local_workspace.types import duckdb_type_of

        catalog, schema = self._existing_schema(f"{catalog}.{schema}")
        name = check_name(name, "table")
        if table_type not in ("MANAGED", "EXTERNAL"):
            raise invalid(f"table_type {table_type} cannot be created through this API.")
        if not columns:
            raise invalid("A table needs at least one column.")
        if self.has_table(catalog, schema, name):
            raise already_exists(
                f"Table '{catalog}.{schema}.{name}' already exists.", "TABLE_ALREADY_EXISTS"
            )
        target = f"{quote(self.to_internal(catalog))}.{quote(schema)}.{quote(name)}"
        ordered = sorted(columns, key=lambda c: c.get("position") or 0)
        defs = []
        for col in ordered:
            try:
                dtype = duckdb_type_of(
                    col.get("type_text"),
                    col.get("type_name"),
                    col.get("type_precision"),
                    col.get("type_scale"),
                )
            except ValueError as exc:
                raise invalid(f"Column '{col.get('name')}': {exc}") from exc
            null = "" if col.get("nullable", True) else " NOT NULL"
            defs.append(f"{quote(str(col['name']))} {dtype}{null}")
        statements = [f"CREATE TABLE {target} ({', '.join(defs)})"]
        statements += [
            f"COMMENT ON COLUMN {target}.{quote(str(c['name']))} IS {_literal(c['comment'])}"
            for c in ordered
            if c.get("comment")
        ]
        if comment:
            statements.append(f"COMMENT ON TABLE {target} IS {_literal(comment)}")
        cur = self.cursor()
        try:
            cur.execute("BEGIN")
            try:
                for statement in statements:
                    cur.execute(statement)
            except duckdb.Error as exc:
                cur.execute("ROLLBACK")
                raise invalid(self.public_text(str(exc))) from exc
            cur.execute("COMMIT")
        finally:
            cur.close()
        extra = {"table_type": table_type, "properties": properties}
        if table_type == "EXTERNAL":
            extra["storage_location"] = storage_location
        self._record("table", f"{catalog}.{schema}.{name}", None, extra)
        return self.get_table(f"{catalog}.{schema}.{name}")

    def update_table(self, full_name: str, owner: str | None = None) -> None:
        """Change a table's owner (the one field the Tables API updates)."""
        info = self.get_table(full_name)
        self._update_object("table", info["full_name"], None, owner)

    def delete_table(self, full_name: str) -> None:
        """Drop a table or view."""
        info = self.get_table(full_name)
        kind = "VIEW" if info["table_type"] == "VIEW" else "TABLE"
        target = (
            f"{quote(self.to_internal(info['catalog_name']))}.{quote(info['schema_name'])}."
            f"{quote(info['name'])}"
        )
        cur = self.cursor()
        try:
            cur.execute(f"DROP {kind} {target}")
        finally:
            cur.close()
        self.note_dropped(kind.lower(), info["full_name"])

    # -- metadata records and hooks for the SQL engine ----------------------------------

    def _record(
        self, kind: str, full_name: str, comment: str | None, extra: dict[str, Any] | None = None
    ) -> None:
        now = now_ms()
        with self.meta.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    full_name,
                    comment,
                    self.owner,
                    now,
                    self.owner,
                    now,
                    self.owner,
                    str(uuid.uuid4()),
                    json.dumps(extra) if extra else None,
                ),
            )

    def _update_object(
        self, kind: str, full_name: str, comment: str | None, owner: str | None
    ) -> None:
        if (
            self.meta.row(
                "SELECT 1 FROM objects WHERE kind = ? AND full_name = ?", (kind, full_name)
            )
            is None
        ):
            self._record(kind, full_name, None)
        with self.meta.transaction() as db:
            if comment is not None:
                db.execute(
                    "UPDATE objects SET comment = ? WHERE kind = ? AND full_name = ?",
                    (comment, kind, full_name),
                )
            if owner:
                db.execute(
                    "UPDATE objects SET owner = ? WHERE kind = ? AND full_name = ?",
                    (owner, kind, full_name),
                )
            db.execute(
                "UPDATE objects SET updated_at = ?, updated_by = ? "
                "WHERE kind = ? AND full_name = ?",
                (now_ms(), self.owner, kind, full_name),
            )

    def note_created(
        self,
        kind: str,
        full_name: str,
        comment: str | None = None,
        table_type: str | None = None,
    ) -> None:
        """Record metadata of a schema/table/view created by SQL DDL (names are public);
        ``table_type`` overrides MANAGED (pipelines: MATERIALIZED_VIEW, STREAMING_TABLE)."""
        kind = "table" if kind == "view" else kind
        name = ".".join(p.lower() for p in full_name.split("."))
        if kind == "table" and comment:
            # DuckDB holds table comments, so SQL and the API read the same one.
            catalog, schema, table = split_name(name, 3, "table")
            info = self.get_table(name)
            what = "VIEW" if info["table_type"] == "VIEW" else "TABLE"
            target = f"{quote(self.to_internal(catalog))}.{quote(schema)}.{quote(table)}"
            cur = self.cursor()
            try:
                cur.execute(f"COMMENT ON {what} {target} IS {_literal(comment)}")
            finally:
                cur.close()
            comment = None
        self._record(kind, name, comment, {"table_type": table_type} if table_type else None)

    def note_dropped(self, kind: str, full_name: str) -> None:
        """Forget metadata and grants of a dropped schema/table/view."""
        kind = "table" if kind == "view" else kind
        name = ".".join(p.lower() for p in full_name.split("."))
        with self.meta.transaction() as db:
            db.execute("DELETE FROM objects WHERE kind = ? AND full_name = ?", (kind, name))
            if kind == "schema":
                db.execute(_UNDER, (len(name) + 1, name + "."))
        grants.forget(self.meta, name, (kind,), children=kind == "schema")
        self.constraints.forget(name, children=kind == "schema")

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Detach every catalog (flushing it to disk) and close DuckDB and SQLite.

        DuckDB refuses to close while a cursor executes ("connection is busy"): the owners
        of that work (statements, pipeline updates, job tasks) stop it first; whatever still
        runs is interrupted here, repeatedly, for at most ``wait_s`` seconds. Past that the
        instance is left open (released when the process exits) rather than raising.
        """
        deadline = time.monotonic() + wait_s
        with self._lock:
            while True:
                # Nothing should run any more; what still does must not see its catalog go.
                for cursor in _snapshot(self._cursors):
                    with contextlib.suppress(duckdb.Error):  # closed meanwhile
                        cursor.interrupt()
                try:
                    for name in sorted(self._attached):
                        self._db.execute(f"DETACH {quote(self.to_internal(name))}")
                        self._attached.discard(name)
                    self._db.close()
                    break
                except duckdb.Error as exc:
                    if time.monotonic() >= deadline:
                        log.warning("the catalog did not close: %s", exc)
                        return
                time.sleep(_INTERRUPT_EVERY_S)
            self.meta.close()


def _snapshot(cursors: weakref.WeakSet[duckdb.DuckDBPyConnection]) -> list[Any]:
    """The live cursors (another thread may add one while the set is read: read again)."""
    while True:
        try:
            return list(cursors)
        except RuntimeError:
            continue


def open_sandboxed(data_dir: Path, directories: list[Path]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB instance that reaches no host path but ``directories``.

    External access is off (no file outside the allowed directories and engine databases,
    no INSTALL/LOAD of extensions, no HTTP, no persistent secrets), the spill directory is
    private to the data directory, and the configuration is locked so no statement can undo
    any of it. Settings every cursor shares (ANSI division, UTC) are set globally before the
    lock; only the session time zone stays changeable. The SQL parser refuses DuckDB-only
    statements too (local_workspace/sql/sandbox.py): COPY TO inside an allowed directory
    would still work, so no state file (uc.sqlite, token, ...) lives in one.
    """
    db = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "allow_unsigned_extensions": False,
        },
    )
    files = [
        str(data_dir / name) + suffix
        for name in ENGINE_DATABASES
        for suffix in _DATABASE_SIDE_FILES
    ]
    # Order matters: allowed paths cannot change once external access is off, and nothing
    # can change once the configuration is locked.
    settings: list[tuple[str, object]] = [
        ("temp_directory", str(data_dir / "engine_tmp")),
        ("allowed_directories", [str(d) + "/" for d in directories]),
        ("allowed_paths", files),
        ("allow_persistent_secrets", False),
        ("python_enable_replacements", False),
        ("enable_progress_bar", False),
        ("allowed_configs", _SESSION_SETTINGS),
        ("enable_external_access", False),
    ]
    for name, value in settings:
        db.execute(f"SET {name} = $1", [value])
    # What Databricks SQL does by default: ANSI division (errors, not inf), UTC sessions.
    db.execute("SET GLOBAL TimeZone = 'UTC'")
    db.execute("SET GLOBAL ieee_floating_point_ops = false")
    db.execute("SET lock_configuration = true")
    return db


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _remove_files(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


__all__ = ["ApiError", "Catalog"]
