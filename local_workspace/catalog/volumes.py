"""Unity Catalog volumes: rows of ``uc.sqlite``; a managed one owns a directory under the
data directory (``/Volumes/<catalog>/<schema>/<volume>`` in the Files API and in SQL)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_workspace.catalog import tags
from local_workspace.catalog.meta import now_ms
from local_workspace.catalog.names import check_name, split_name
from local_workspace.catalog.privileges import forget_grants
from local_workspace.errors import already_exists, invalid, not_available, not_found

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
        if volume_type == "EXTERNAL" or storage_location:
            # External volumes live in cloud storage behind an external location: the local
            # workspace has neither, so only managed volumes (folders of its own) exist.
            raise not_available("External volumes (cloud storage behind an external location)")
        storage_location = str(self.path(catalog, schema, name))
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
        self.path(catalog, schema, name).mkdir(parents=True, exist_ok=True)
        return self.get(full_name)

    def update(
        self,
        full_name: str,
        comment: str | None = None,
        owner: str | None = None,
        new_name: str | None = None,
    ) -> dict[str, Any]:
        """Change a volume's comment or owner (None leaves them) or rename it inside its
        schema; a rename moves its folder, so its files keep their paths under the new name."""
        info = self.get(full_name)
        catalog, schema, name = info["catalog_name"], info["schema_name"], info["name"]
        target = check_name(new_name, "volume") if new_name else name
        new_full = f"{catalog}.{schema}.{target}"
        with self.meta.transaction() as db:
            if (
                target != name
                and db.execute("SELECT 1 FROM volumes WHERE full_name = ?", (new_full,)).fetchone()
            ):
                raise already_exists(f"Volume '{new_full}' already exists.")
            db.execute(
                "UPDATE volumes SET full_name = ?, name = ?, storage_location = ?, comment = ?, "
                "owner = ?, updated_at = ?, updated_by = ? WHERE full_name = ?",
                (
                    new_full,
                    target,
                    str(self.path(catalog, schema, target)),
                    info["comment"] if comment is None else comment,
                    owner or info["owner"],
                    now_ms(),
                    self.owner,
                    info["full_name"],
                ),
            )
            if target != name:
                db.execute(
                    "UPDATE grants SET full_name = ? WHERE securable_type = 'volume' "
                    "AND full_name = ?",
                    (new_full, info["full_name"]),
                )
                db.execute(  # its tags follow it, as its grants do
                    "UPDATE entity_tags SET entity_name = ? WHERE entity_type = 'volumes' "
                    "AND entity_name = ?",
                    (new_full, info["full_name"]),
                )
                # Inside the transaction: a failed move leaves the old name and folder.
                old, new = self.path(catalog, schema, name), self.path(catalog, schema, target)
                if new.exists():
                    shutil.rmtree(new)  # leftovers of a crashed drop, never a live volume
                new.parent.mkdir(parents=True, exist_ok=True)
                if old.exists():
                    old.rename(new)
                else:
                    new.mkdir()
        return self.get(new_full)

    def forget_schema(self, catalog: str, schema: str) -> None:
        """Drop the volumes of a dropped schema: rows, grants and folders."""
        rows = self.meta.rows(
            "SELECT full_name FROM volumes WHERE catalog_name = ? AND schema_name = ?",
            (catalog.lower(), schema.lower()),
        )
        with self.meta.transaction() as db:
            db.execute(
                "DELETE FROM volumes WHERE catalog_name = ? AND schema_name = ?",
                (catalog.lower(), schema.lower()),
            )
        for row in rows:
            forget_grants(self.meta, row["full_name"], ("volume",), children=False)
        shutil.rmtree(self.volume_dir / catalog.lower() / schema.lower(), ignore_errors=True)

    def delete(self, full_name: str) -> None:
        """Delete a volume (and, if managed, its files)."""
        info = self.get(full_name)
        with self.meta.transaction() as db:
            db.execute("DELETE FROM volumes WHERE full_name = ?", (info["full_name"],))
        shutil.rmtree(
            self.path(info["catalog_name"], info["schema_name"], info["name"]),
            ignore_errors=True,
        )
        forget_grants(self.meta, info["full_name"], ("volume",), children=False)
        tags.forget(self.meta, "volume", info["full_name"])
