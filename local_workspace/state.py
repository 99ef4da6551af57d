"""The shared state of one local workspace: its configuration and its services.

Each API module (``local_workspace/api/*.py``) reads the services it needs from here.
Services own their part of the data directory; a restart reopens them and loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from local_workspace.config import WORKSPACE_ID, LocalConfig

T = TypeVar("T")

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog


@dataclass
class WorkspaceState:
    """Configuration plus the services that hold the workspace's data."""

    config: LocalConfig
    token: str
    workspace_id: str = WORKSPACE_ID
    # Filled by the service modules at start-up (see app.create_app); typed loosely here so
    # that this module does not import DuckDB or sqlglot.
    services: dict[str, Any] = field(default_factory=dict)

    @property
    def user(self) -> str:
        """The workspace's single user (the token's owner)."""
        return self.config.user

    @property
    def catalog(self) -> Catalog:
        """The Unity Catalog engine (DuckDB + metadata), opened by ``app.build_state``."""
        catalog: Catalog = self.services["catalog"]
        return catalog

    def service(self, key: str, create: Callable[[], T]) -> T:
        """The service stored under ``key``, made by ``create()`` on first use."""
        found = self.services.get(key)
        if found is None:
            found = self.services[key] = create()
        return cast(T, found)
