"""Grants on Unity Catalog securables: checked against the securable's existence first, then
read or changed in SQLite (``privileges``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from local_workspace.catalog import privileges
from local_workspace.errors import not_found

if TYPE_CHECKING:
    from local_workspace.catalog.catalogs import Catalogs
    from local_workspace.catalog.meta import MetaStore
    from local_workspace.catalog.schemas import Schemas
    from local_workspace.catalog.tables import Tables
    from local_workspace.catalog.volumes import Volumes


# The securable types a registered model answers to in the Grants API.
MODEL_TYPES = {"function", "registered_model", "model"}


class Grants:
    """Direct and effective privileges of catalogs, schemas, tables and volumes."""

    def __init__(
        self,
        meta: MetaStore,
        catalogs: Catalogs,
        schemas: Schemas,
        tables: Tables,
        volumes: Volumes,
    ) -> None:
        self.meta = meta
        self.catalogs = catalogs
        self.schemas = schemas
        self.tables = tables
        self.volumes = volumes
        # Registered models live in MLflow's registry, not here: the workspace gives a lookup
        # (full name → the model's name, or None) once both exist.
        self.model_named: Callable[[str], str | None] = lambda _name: None

    def _securable(self, securable_type: str, full_name: str) -> tuple[str, str]:
        """The normalized (type, full name) of an existing securable; 404 otherwise."""
        kind = privileges.normalize_type(securable_type)
        if kind == "catalog":
            return kind, self.catalogs.row(full_name)["name"]
        if kind == "schema":
            catalog, schema = self.schemas.require(full_name)
            return kind, f"{catalog}.{schema}"
        if kind == "table":
            return kind, self.tables.get(full_name)["full_name"]
        if kind == "volume":
            return kind, self.volumes.get(full_name)["full_name"]
        if kind in MODEL_TYPES:
            # Unity Catalog grants on a registered model are grants on a FUNCTION.
            model = self.model_named(full_name.lower())
            if model is not None:
                return "function", model
            raise not_found(f"Function '{full_name}' does not exist.")
        raise not_found(f"{kind.upper()} '{full_name}' does not exist.")

    def get(
        self, securable_type: str, full_name: str, principal: str | None = None
    ) -> list[dict[str, Any]]:
        """Direct grants: ``[{"principal", "privileges": [...]}]``."""
        kind, name = self._securable(securable_type, full_name)
        return privileges.direct(self.meta, kind, name, principal)

    def update(
        self, securable_type: str, full_name: str, changes: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Apply ``[{"principal", "add", "remove"}]``; returns the new direct assignments."""
        kind, name = self._securable(securable_type, full_name)
        return privileges.update(self.meta, kind, name, changes)

    def effective(
        self, securable_type: str, full_name: str, principal: str | None = None
    ) -> list[dict[str, Any]]:
        """Direct plus inherited privileges of each principal."""
        kind, name = self._securable(securable_type, full_name)
        return privileges.effective(self.meta, kind, name, principal)
