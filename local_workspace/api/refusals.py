"""Answers shared by the Unity Catalog surface modules (uc_surface, sharing, monitors,
data_quality, and uc for foreign catalogs): FEATURE_DISABLED for what the local workspace
cannot have, and the thread-pool runner of store calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import duckdb
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from local_workspace.catalog.sharing import SharingStore
from local_workspace.errors import ApiError, invalid, not_found
from local_workspace.state import WorkspaceState

T = TypeVar("T")


def feature_disabled(feature: str, reason: str) -> ApiError:
    """400 FEATURE_DISABLED: what a workspace without ``feature`` answers."""
    return ApiError(
        400, "FEATURE_DISABLED", f"{feature} is not enabled in this workspace: {reason}."
    )


async def run(fn: Callable[..., T], *args: object) -> T:
    """Run a store or catalog call in the thread pool (SQLite and DuckDB block)."""
    try:
        return await run_in_threadpool(fn, *args)
    except duckdb.Error as exc:
        raise invalid(str(exc)) from exc


def sharing_store(state: WorkspaceState) -> SharingStore:
    """The sharing store of the REST API and SQL (created on first use)."""
    return state.service(
        "sharing",
        lambda: SharingStore(state.config.data_dir / "sharing.sqlite", state.catalog, state.user),
    )


async def foreign_catalog(request: Request, body: dict[str, object]) -> None:
    """Refuse a catalog made from a share or a connection as Databricks would here: the
    connection does not exist (none can), or the provider's share is out of reach."""
    connection = body.get("connection_name")
    if connection:
        raise not_found(f"Connection '{connection}' does not exist.", "RESOURCE_DOES_NOT_EXIST")
    provider = str(body.get("provider_name") or "")
    if not provider:
        raise invalid("provider_name is required with share_name.")
    await run(sharing_store(request.app.state.workspace).get_provider, provider)
    raise feature_disabled(
        "Catalogs from a provider's share",
        "the local workspace cannot reach the provider's Delta Sharing server",
    )
