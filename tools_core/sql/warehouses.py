"""SQL warehouses: which one to use, and the list an agent can pick from."""

from __future__ import annotations

import itertools

from tools_core.backend import Backend
from tools_core.sql.models import Warehouse, WarehouseList


def default_warehouse_id(backend: Backend) -> str | None:
    """The configured warehouse, else the first running one, else the first one."""
    if backend.warehouse_id:
        return backend.warehouse_id
    first: str | None = None
    for warehouse in backend.client.warehouses.list():
        state = getattr(warehouse.state, "value", None)
        if state == "RUNNING":
            return warehouse.id
        first = first or warehouse.id
    return first


def list_warehouses(backend: Backend, limit: int = 50) -> WarehouseList:
    """Warehouses with state and size; the default one is marked."""
    items = list(itertools.islice(backend.client.warehouses.list(), limit + 1))
    warehouses = [
        Warehouse(
            id=w.id or "",
            name=w.name or "",
            state=getattr(w.state, "value", None) or "UNKNOWN",
            size=w.cluster_size,
            serverless=w.enable_serverless_compute,
        )
        for w in items[:limit]
    ]
    default = backend.warehouse_id
    if default is None:
        default = next((w.id for w in warehouses if w.state == "RUNNING"), None)
        default = default or (warehouses[0].id if warehouses else None)
    return WarehouseList(warehouses=warehouses, default_id=default, truncated=len(items) > limit)
