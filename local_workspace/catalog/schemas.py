"""Unity Catalog schemas: DuckDB schemas of a catalog's file, plus their metadata records."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_workspace.catalog.names import check_name, quote, split_name
from local_workspace.errors import already_exists, invalid, not_found

if TYPE_CHECKING:
    from local_workspace.catalog.catalogs import Catalogs
    from local_workspace.catalog.engine import DuckEngine
    from local_workspace.catalog.meta import MetaStore
    from local_workspace.catalog.objects import ObjectReader
    from local_workspace.catalog.records import ObjectRecords


class Schemas:
    """Create, read, update and drop schemas."""

    def __init__(
        self,
        catalogs: Catalogs,
        engine: DuckEngine,
        meta: MetaStore,
        objects: ObjectReader,
        records: ObjectRecords,
        volume_dir: Path,
    ) -> None:
        self.catalogs = catalogs
        self.engine = engine
        self.meta = meta
        self.objects = objects
        self.records = records
        self.volume_dir = volume_dir

    def has(self, catalog: str, schema: str) -> bool:
        """Whether the schema exists."""
        return self.catalogs.has(catalog) and schema.lower() in self.objects.schema_names(catalog)

    def require(self, full_name: str) -> tuple[str, str]:
        """(catalog, schema) of an existing schema, lowercased; 404 otherwise."""
        catalog, schema = split_name(full_name, 2, "schema")
        self.catalogs.row(catalog)
        if not self.has(catalog, schema):
            raise not_found(f"Schema '{catalog}.{schema}' does not exist.", "SCHEMA_DOES_NOT_EXIST")
        return catalog, schema

    def list_in(self, catalog: str) -> list[dict[str, Any]]:
        """SchemaInfo dicts of a catalog, sorted by name."""
        catalog = self.catalogs.row(catalog)["name"]
        return [self.objects.schema_info(catalog, s) for s in self.objects.schema_names(catalog)]

    def get(self, full_name: str) -> dict[str, Any]:
        """One SchemaInfo dict; 404 SCHEMA_DOES_NOT_EXIST."""
        catalog, schema = self.require(full_name)
        return self.objects.schema_info(catalog, schema)

    def create(self, catalog: str, name: str, comment: str | None = None) -> dict[str, Any]:
        """Create a schema."""
        catalog = self.catalogs.row(catalog)["name"]
        name = check_name(name, "schema")
        if self.has(catalog, name):
            raise already_exists(
                f"Schema '{catalog}.{name}' already exists.", "SCHEMA_ALREADY_EXISTS"
            )
        self.engine.execute(
            f"CREATE SCHEMA IF NOT EXISTS {quote(self.engine.to_internal(catalog))}.{quote(name)}"
        )
        self.records.record("schema", f"{catalog}.{name}", comment)
        return self.get(f"{catalog}.{name}")

    def update(
        self, full_name: str, comment: str | None = None, owner: str | None = None
    ) -> dict[str, Any]:
        """Update a schema's comment or owner."""
        catalog, schema = self.require(full_name)
        self.records.update("schema", f"{catalog}.{schema}", comment, owner)
        return self.get(full_name)

    def delete(self, full_name: str, force: bool = False) -> None:
        """Drop a schema; refuses a non-empty one unless ``force``."""
        catalog, schema = self.require(full_name)
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
        self.engine.execute(
            f"DROP SCHEMA {quote(self.engine.to_internal(catalog))}.{quote(schema)} CASCADE"
        )
        shutil.rmtree(self.volume_dir / catalog / schema, ignore_errors=True)
        with self.meta.transaction() as db:
            db.execute(
                "DELETE FROM volumes WHERE catalog_name = ? AND schema_name = ?", (catalog, schema)
            )
        self.records.forget("schema", f"{catalog}.{schema}")
