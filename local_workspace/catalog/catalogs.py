"""Unity Catalog catalogs: each one an attached DuckDB file plus a row of ``uc.sqlite``."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_workspace.catalog import history, tags
from local_workspace.catalog.meta import dumps, loads, now_ms
from local_workspace.catalog.names import check_name, quote
from local_workspace.catalog.privileges import forget_grants
from local_workspace.catalog.records import UNDER
from local_workspace.errors import already_exists, invalid, not_found

if TYPE_CHECKING:
    from local_workspace.catalog.constraints import Constraints
    from local_workspace.catalog.engine import DuckEngine
    from local_workspace.catalog.meta import MetaStore
    from local_workspace.catalog.objects import ObjectReader
    from local_workspace.catalog.records import ObjectRecords

DEFAULT_SCHEMA = "default"


class Catalogs:
    """Create, read, update and drop catalogs (thread-safe)."""

    def __init__(
        self,
        engine: DuckEngine,
        meta: MetaStore,
        objects: ObjectReader,
        records: ObjectRecords,
        constraints: Constraints,
        volume_dir: Path,
        owner: str,
        metastore_id: str,
    ) -> None:
        self.engine = engine
        self.meta = meta
        self.objects = objects
        self.records = records
        self.constraints = constraints
        self.volume_dir = volume_dir
        self.owner = owner
        self.metastore_id = metastore_id

    def has(self, name: str) -> bool:
        """Whether the catalog exists."""
        return self.engine.is_attached(name)

    def row(self, name: str) -> dict[str, Any]:
        """The stored row of a catalog; 404 CATALOG_DOES_NOT_EXIST."""
        row = self.meta.row("SELECT * FROM catalogs WHERE name = ?", (name.lower(),))
        if row is None:
            raise not_found(f"Catalog '{name}' does not exist.", "CATALOG_DOES_NOT_EXIST")
        return row

    def _info(self, row: dict[str, Any]) -> dict[str, Any]:
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

    def all(self) -> list[dict[str, Any]]:
        """Every catalog as CatalogInfo dicts, sorted by name."""
        return [self._info(r) for r in self.meta.rows("SELECT * FROM catalogs ORDER BY name")]

    def get(self, name: str) -> dict[str, Any]:
        """One CatalogInfo dict; 404 CATALOG_DOES_NOT_EXIST."""
        return self._info(self.row(name))

    def create(
        self, name: str, comment: str | None = None, properties: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Create a catalog (a new attached DuckDB file) with schema ``default``."""
        name = check_name(name, "catalog")
        with self.engine.lock:
            if self.has(name):
                raise already_exists(f"Catalog '{name}' already exists.", "CATALOG_ALREADY_EXISTS")
            self.engine.remove_file(name)  # leftovers of a crashed drop
            self.engine.attach(name)
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
            target = f"{quote(self.engine.to_internal(name))}.{quote(DEFAULT_SCHEMA)}"
            self.engine.execute(f"CREATE SCHEMA IF NOT EXISTS {target}")
            self.records.record(
                "schema", f"{name}.{DEFAULT_SCHEMA}", "Default schema (auto-created)"
            )
        return self.get(name)

    def update(
        self,
        name: str,
        comment: str | None = None,
        owner: str | None = None,
        properties: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Update a catalog's comment, owner or properties (None leaves a field unchanged)."""
        row = self.row(name)
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
        return self.get(name)

    def delete(self, name: str, force: bool = False) -> None:
        """Drop a catalog; refuses a non-empty one unless ``force``."""
        name = self.row(name)["name"]
        with self.engine.lock:
            if not force:
                extra = [s for s in self.objects.schema_names(name) if s != DEFAULT_SCHEMA]
                tables = self.objects.relations(name, None, None)
                volumes = self.meta.rows("SELECT 1 FROM volumes WHERE catalog_name = ?", (name,))
                if extra or tables or volumes:
                    raise invalid(
                        f"Catalog '{name}' is not empty ({len(extra)} other schema(s), "
                        f"{len(tables)} table(s), {len(volumes)} volume(s)). Use force=true.",
                        "CATALOG_NOT_EMPTY",
                    )
            self.engine.detach(name)
            self.engine.remove_file(name)
            shutil.rmtree(self.volume_dir / name, ignore_errors=True)
            with self.meta.transaction() as db:
                db.execute("DELETE FROM catalogs WHERE name = ?", (name,))
                db.execute(UNDER, (len(name) + 1, name + "."))
                db.execute("DELETE FROM volumes WHERE catalog_name = ?", (name,))
            forget_grants(self.meta, name, ("catalog",), children=True)
            tags.forget(self.meta, "catalog", name)
            history.forget(self.meta, "catalog", name)
            self.constraints.forget(name, children=True)
