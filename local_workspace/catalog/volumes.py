"""Unity Catalog volumes: rows of ``uc.sqlite``; a managed one owns a directory under the
data directory (``/Volumes/<catalog>/<schema>/<volume>`` in the Files API and in SQL)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_workspace.catalog.meta import now_ms
from local_workspace.catalog.names import check_name, split_name
from local_workspace.catalog.privileges import forget_grants
from local_workspace.errors import already_exists, invalid, not_found

if TYPE_CHECKING:
    from local_workspace.catalog.meta import MetaStore
    from local_workspace.catalog.schemas import Schemas


class Volumes:
    """Create, read and delete volumes."""

    def __init__(
        self, schemas: Schemas, meta: MetaStore, volume_dir: Path, owner: str, metastore_id: str
    ) -> None:
        self.schemas = schemas
        self.meta = meta
        self.volume_dir = volume_dir
        self.owner = owner
        self.metastore_id = metastore_id

    def path(self, catalog: str, schema: str, name: str) -> Path:
        """Directory of a managed volume (``/Volumes/c/s/v`` in the Files API)."""
        return self.volume_dir / catalog.lower() / schema.lower() / name.lower()

    def _info(self, row: dict[str, Any]) -> dict[str, Any]:
        info = {k: row[k] for k in row if k != "id"}
        info["volume_id"] = row["id"]
        info["metastore_id"] = self.metastore_id
        return info

    def list_in(self, catalog: str, schema: str) -> list[dict[str, Any]]:
        """VolumeInfo dicts of a schema, sorted by name."""
        catalog, schema = self.schemas.require(f"{catalog}.{schema}")
        rows = self.meta.rows(
            "SELECT * FROM volumes WHERE catalog_name = ? AND schema_name = ? ORDER BY name",
            (catalog, schema),
        )
        return [self._info(r) for r in rows]

    def get(self, full_name: str) -> dict[str, Any]:
        """One VolumeInfo dict; 404 when missing."""
        catalog, schema, name = split_name(full_name, 3, "volume")
        row = self.meta.row(
            "SELECT * FROM volumes WHERE full_name = ?", (f"{catalog}.{schema}.{name}",)
        )
        if row is None:
            self.schemas.require(f"{catalog}.{schema}")
            raise not_found(f"Volume '{catalog}.{schema}.{name}' does not exist.")
        return self._info(row)

    def create(
        self,
        catalog: str,
        schema: str,
        name: str,
        volume_type: str = "MANAGED",
        comment: str | None = None,
        storage_location: str | None = None,
    ) -> dict[str, Any]:
        """Create a volume (managed: a directory under the data dir)."""
        catalog, schema = self.schemas.require(f"{catalog}.{schema}")
        name = check_name(name, "volume")
        full_name = f"{catalog}.{schema}.{name}"
        if volume_type not in ("MANAGED", "EXTERNAL"):
            raise invalid(f"Invalid volume_type '{volume_type}'.")
        if volume_type == "EXTERNAL" and not storage_location:
            raise invalid("An EXTERNAL volume needs a storage_location.")
        if volume_type == "MANAGED":
            path = self.path(catalog, schema, name)
            storage_location = str(path)
        now = now_ms()
        with self.meta.transaction() as db:
            if db.execute("SELECT 1 FROM volumes WHERE full_name = ?", (full_name,)).fetchone():
                raise already_exists(f"Volume '{full_name}' already exists.")
            db.execute(
                "INSERT INTO volumes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    full_name,
                    catalog,
                    schema,
                    name,
                    volume_type,
                    storage_location,
                    comment,
                    self.owner,
                    now,
                    self.owner,
                    now,
                    self.owner,
                    str(uuid.uuid4()),
                ),
            )
        if volume_type == "MANAGED":
            self.path(catalog, schema, name).mkdir(parents=True, exist_ok=True)
        return self.get(full_name)

    def delete(self, full_name: str) -> None:
        """Delete a volume (and, if managed, its files)."""
        info = self.get(full_name)
        with self.meta.transaction() as db:
            db.execute("DELETE FROM volumes WHERE full_name = ?", (info["full_name"],))
        if info["volume_type"] == "MANAGED":
            shutil.rmtree(
                self.path(info["catalog_name"], info["schema_name"], info["name"]),
                ignore_errors=True,
            )
        forget_grants(self.meta, info["full_name"], ("volume",), children=False)
