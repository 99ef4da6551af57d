"""Volumes and grants of the catalog engine (a mixin of :class:`Catalog`).

Volumes live only in SQLite (managed ones own a directory under the data dir); grants are
checked against the securable's existence, then kept in SQLite (see ``grants``).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from local_workspace.catalog import grants
from local_workspace.catalog.meta import MetaStore, now_ms
from local_workspace.catalog.objects import check_name, split_name
from local_workspace.errors import already_exists, invalid, not_found


class SecurablesMixin:
    """Volumes and grants; the rest of the engine is in ``engine.Catalog``."""

    meta: MetaStore
    owner: str
    metastore_id: str
    _volume_dir: Path

    # Provided by Catalog.
    def _existing_schema(self, full_name: str) -> tuple[str, str]:
        raise NotImplementedError

    def _catalog_row(self, name: str) -> dict[str, Any]:
        raise NotImplementedError

    def get_table(self, full_name: str) -> dict[str, Any]:
        """One TableInfo dict (implemented by Catalog)."""
        raise NotImplementedError

    def volume_path(self, catalog: str, schema: str, name: str) -> Path:
        """Directory of a managed volume (``/Volumes/c/s/v`` in the Files API)."""
        return self._volume_dir / catalog.lower() / schema.lower() / name.lower()

    # -- volumes -------------------------------------------------------------------------

    def _volume_info(self, row: dict[str, Any]) -> dict[str, Any]:
        info = {k: row[k] for k in row if k != "id"}
        info["volume_id"] = row["id"]
        info["metastore_id"] = self.metastore_id
        return info

    def list_volumes(self, catalog: str, schema: str) -> list[dict[str, Any]]:
        """VolumeInfo dicts of a schema, sorted by name."""
        catalog, schema = self._existing_schema(f"{catalog}.{schema}")
        rows = self.meta.rows(
            "SELECT * FROM volumes WHERE catalog_name = ? AND schema_name = ? ORDER BY name",
            (catalog, schema),
        )
        return [self._volume_info(r) for r in rows]

    def get_volume(self, full_name: str) -> dict[str, Any]:
        """One VolumeInfo dict; 404 when missing."""
        catalog, schema, name = split_name(full_name, 3, "volume")
        row = self.meta.row(
            "SELECT * FROM volumes WHERE full_name = ?", (f"{catalog}.{schema}.{name}",)
        )
        if row is None:
            self._existing_schema(f"{catalog}.{schema}")
            raise not_found(f"Volume '{catalog}.{schema}.{name}' does not exist.")
        return self._volume_info(row)

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
        catalog, schema = self._existing_schema(f"{catalog}.{schema}")
        name = check_name(name, "volume")
        full_name = f"{catalog}.{schema}.{name}"
        if volume_type not in ("MANAGED", "EXTERNAL"):
            raise invalid(f"Invalid volume_type '{volume_type}'.")
        if volume_type == "EXTERNAL" and not storage_location:
            raise invalid("An EXTERNAL volume needs a storage_location.")
        if volume_type == "MANAGED":
            path = self.volume_path(catalog, schema, name)
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
            self.volume_path(catalog, schema, name).mkdir(parents=True, exist_ok=True)
        return self.get_volume(full_name)

    def delete_volume(self, full_name: str) -> None:
        """Delete a volume (and, if managed, its files)."""
        info = self.get_volume(full_name)
        with self.meta.transaction() as db:
            db.execute("DELETE FROM volumes WHERE full_name = ?", (info["full_name"],))
        if info["volume_type"] == "MANAGED":
            shutil.rmtree(
                self.volume_path(info["catalog_name"], info["schema_name"], info["name"]),
                ignore_errors=True,
            )
        grants.forget(self.meta, info["full_name"], ("volume",), children=False)

    # -- grants --------------------------------------------------------------------------

    def _securable(self, securable_type: str, full_name: str) -> tuple[str, str]:
        """The normalized (type, full name) of an existing securable; 404 otherwise."""
        kind = grants.normalize_type(securable_type)
        if kind == "catalog":
            return kind, self._catalog_row(full_name)["name"]
        if kind == "schema":
            catalog, schema = self._existing_schema(full_name)
            return kind, f"{catalog}.{schema}"
        if kind == "table":
            return kind, self.get_table(full_name)["full_name"]
        if kind == "volume":
            return kind, self.get_volume(full_name)["full_name"]
        raise not_found(f"{kind.upper()} '{full_name}' does not exist.")

    def get_grants(
        self, securable_type: str, full_name: str, principal: str | None = None
    ) -> list[dict[str, Any]]:
        """Direct grants: ``[{"principal", "privileges": [...]}]``."""
        kind, name = self._securable(securable_type, full_name)
        return grants.direct(self.meta, kind, name, principal)

    def update_grants(
        self, securable_type: str, full_name: str, changes: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Apply ``[{"principal", "add", "remove"}]``; returns the new direct assignments."""
        kind, name = self._securable(securable_type, full_name)
        return grants.update(self.meta, kind, name, changes)

    def get_effective_grants(
        self, securable_type: str, full_name: str, principal: str | None = None
    ) -> list[dict[str, Any]]:
        """Direct plus inherited privileges of each principal."""
        kind, name = self._securable(securable_type, full_name)
        return grants.effective(self.meta, kind, name, principal)
