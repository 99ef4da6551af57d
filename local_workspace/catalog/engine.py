"""The catalog engine: one shared DuckDB instance, one attached DuckDB file per UC catalog.

Tables, views, schemas and columns are read from DuckDB itself, so SQL DDL and the Unity
Catalog API never disagree. What DuckDB lacks (owners, timestamps, catalog and schema
comments, volumes, grants) lives in SQLite next to it (``uc.sqlite``).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import duckdb

# DuckDB reserves `main`, `system`, `temp`... as database names, so every catalog gets a
# uniform internal alias; clients never see it.
INTERNAL_PREFIX = "uc_"
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,254}$")


class Catalog:
    """Unity Catalog objects of one local workspace (thread-safe)."""

    def __init__(self, data_dir: Path, owner: str, seed: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.owner = owner
        self._catalog_dir = self.data_dir / "catalogs"
        self._catalog_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = duckdb.connect(
            ":memory:",
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
        )
        self._attached: set[str] = set()

    # -- DuckDB access -------------------------------------------------------------------

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor of the shared instance (every catalog attached); one per statement."""
        return self._db.cursor()

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
        alias = self.to_internal(name)
        self._db.execute(f"ATTACH '{_sql_str(str(path))}' AS \"{alias}\"")
        self._attached.add(name)

    def _detach(self, name: str) -> None:
        self._db.execute(f'DETACH "{self.to_internal(name)}"')
        self._attached.discard(name)

    def has_catalog(self, name: str) -> bool:
        """Whether the UC catalog exists."""
        return name.lower() in self._attached

    def has_schema(self, catalog: str, schema: str) -> bool:
        """Whether the schema exists."""
        raise NotImplementedError

    def has_table(self, catalog: str, schema: str, table: str) -> bool:
        """Whether the table or view exists."""
        raise NotImplementedError

    # -- catalogs ------------------------------------------------------------------------

    def list_catalogs(self) -> list[dict[str, Any]]:
        """Every catalog as CatalogInfo dicts, sorted by name."""
        raise NotImplementedError

    def get_catalog(self, name: str) -> dict[str, Any]:
        """One CatalogInfo dict; 404 CATALOG_DOES_NOT_EXIST."""
        raise NotImplementedError

    def create_catalog(
        self, name: str, comment: str | None = None, properties: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Create a catalog (a new attached DuckDB file) with schema ``default``."""
        raise NotImplementedError

    def update_catalog(
        self, name: str, comment: str | None = None, owner: str | None = None
    ) -> dict[str, Any]:
        """Update a catalog's comment/owner."""
        raise NotImplementedError

    def delete_catalog(self, name: str, force: bool = False) -> None:
        """Drop a catalog; refuses a non-empty one unless ``force``."""
        raise NotImplementedError

    # -- schemas -------------------------------------------------------------------------

    def list_schemas(self, catalog: str) -> list[dict[str, Any]]:
        """SchemaInfo dicts of a catalog."""
        raise NotImplementedError

    def get_schema(self, full_name: str) -> dict[str, Any]:
        """One SchemaInfo dict; 404 SCHEMA_DOES_NOT_EXIST."""
        raise NotImplementedError

    def create_schema(self, catalog: str, name: str, comment: str | None = None) -> dict[str, Any]:
        """Create a schema."""
        raise NotImplementedError

    def delete_schema(self, full_name: str, force: bool = False) -> None:
        """Drop a schema; refuses a non-empty one unless ``force``."""
        raise NotImplementedError

    # -- tables --------------------------------------------------------------------------

    def list_tables(self, catalog: str, schema: str) -> list[dict[str, Any]]:
        """TableInfo dicts (with columns) of a schema."""
        raise NotImplementedError

    def get_table(self, full_name: str) -> dict[str, Any]:
        """One TableInfo dict with columns; 404 TABLE_DOES_NOT_EXIST."""
        raise NotImplementedError

    def create_table(
        self,
        catalog: str,
        schema: str,
        name: str,
        columns: list[dict[str, Any]],
        comment: str | None = None,
        table_type: str = "MANAGED",
    ) -> dict[str, Any]:
        """Create a real (queryable) DuckDB table from UC ColumnInfo dicts."""
        raise NotImplementedError

    def delete_table(self, full_name: str) -> None:
        """Drop a table or view."""
        raise NotImplementedError

    # -- volumes -------------------------------------------------------------------------

    def list_volumes(self, catalog: str, schema: str) -> list[dict[str, Any]]:
        """VolumeInfo dicts of a schema."""
        raise NotImplementedError

    def get_volume(self, full_name: str) -> dict[str, Any]:
        """One VolumeInfo dict."""
        raise NotImplementedError

    def create_volume(
        self,
        catalog: str,
        schema: str,
        name: str,
        volume_type: str = "MANAGED",
        comment: str | None = None,
        storage_location: str | None = None,
    ) -> dict[str, Any]:
        """Create a volume (managed: a directory under the data dir)."""
        raise NotImplementedError

    def delete_volume(self, full_name: str) -> None:
        """Delete a volume and its files."""
        raise NotImplementedError

    # -- grants --------------------------------------------------------------------------

    def get_grants(
        self, securable_type: str, full_name: str, principal: str | None = None
    ) -> list[dict[str, Any]]:
        """Direct grants: ``[{"principal", "privileges": [...]}]``."""
        raise NotImplementedError

    def update_grants(
        self, securable_type: str, full_name: str, changes: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Apply ``[{"principal", "add", "remove"}]``; returns the new direct assignments."""
        raise NotImplementedError

    def get_effective_grants(
        self, securable_type: str, full_name: str, principal: str | None = None
    ) -> list[dict[str, Any]]:
        """Direct plus inherited privileges of each principal."""
        raise NotImplementedError

    # -- hooks for the SQL engine --------------------------------------------------------

    def note_created(self, kind: str, full_name: str, comment: str | None = None) -> None:
        """Record metadata of a schema/table/view created by SQL DDL."""
        raise NotImplementedError

    def note_dropped(self, kind: str, full_name: str) -> None:
        """Forget metadata and grants of a dropped schema/table/view."""
        raise NotImplementedError

    def close(self) -> None:
        """Checkpoint and close DuckDB and SQLite."""
        self._db.close()


def _sql_str(value: str) -> str:
    """A value escaped for a single-quoted SQL literal."""
    return value.replace("'", "''")
