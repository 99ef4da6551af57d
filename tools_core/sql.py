"""SQL operations (placeholder until the SQL work lands)."""

from __future__ import annotations

from tools_core.backend import Backend


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
