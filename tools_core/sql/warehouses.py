"""SQL warehouses: which one to use, and the list an agent can pick from."""

from __future__ import annotations

import itertools

from tools_core import ids
from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.results import Result
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


class WarehouseChange(Result):
    """What a start/stop did (or, unconfirmed, would do) to a warehouse."""

    warehouse_id: str
    action: str
    state: str
    done: bool
    message: str

    def to_text(self) -> str:
        return f"{self.warehouse_id}: {self.message} (state {self.state})"


MAX_WAIT_S = 600


def _state(backend: Backend, warehouse_id: str) -> str:
    found = backend.client.warehouses.get(ids.opaque_id(warehouse_id, "warehouse_id"))
    return getattr(found.state, "value", None) or "UNKNOWN"


def _wait(backend: Backend, warehouse_id: str, target: str, timeout_s: float) -> str:
    """Wait (bounded) with the SDK's waiter; the state reached, or the current one."""
    import datetime as dt

    if timeout_s <= 0:
        return _state(backend, warehouse_id)
    waiters = backend.client.warehouses
    wait = (
        waiters.wait_get_warehouse_running
        if target == "RUNNING"
        else waiters.wait_get_warehouse_stopped
    )
    try:
        reached = wait(warehouse_id, timeout=dt.timedelta(seconds=timeout_s))
    except TimeoutError:  # still on its way: say where it stands, the caller may poll
        return _state(backend, warehouse_id)
    return getattr(reached.state, "value", None) or target


def _check_wait(timeout_s: float) -> None:
    if not 0 <= timeout_s <= MAX_WAIT_S:
        raise InvalidInput(f"timeout_s must be between 0 and {MAX_WAIT_S}, got {timeout_s}.")


def start_warehouse(backend: Backend, warehouse_id: str, timeout_s: float = 0) -> WarehouseChange:
    """Start a warehouse (a no-op when it runs); optionally wait up to ``timeout_s`` for RUNNING."""
    _check_wait(timeout_s)
    before = _state(backend, warehouse_id)
    if before == "RUNNING":
        return WarehouseChange(
            warehouse_id=warehouse_id,
            action="start",
            state=before,
            done=True,
            message="already running",
        )
    backend.client.warehouses.start(warehouse_id)
    state = _wait(backend, warehouse_id, "RUNNING", timeout_s)
    message = "started" if state == "RUNNING" else "starting; check with sql_list_warehouses"
    return WarehouseChange(
        warehouse_id=warehouse_id, action="start", state=state, done=True, message=message
    )


def stop_warehouse(
    backend: Backend, warehouse_id: str, confirm: bool = False, timeout_s: float = 0
) -> WarehouseChange:
    """Stop a warehouse (interrupts its running queries): a preview unless ``confirm``."""
    _check_wait(timeout_s)
    before = _state(backend, warehouse_id)
    if before in ("STOPPED", "STOPPING", "DELETED", "DELETING"):
        return WarehouseChange(
            warehouse_id=warehouse_id,
            action="stop",
            state=before,
            done=True,
            message=f"already {before.lower()}",
        )
    if not confirm:
        return WarehouseChange(
            warehouse_id=warehouse_id,
            action="stop",
            state=before,
            done=False,
            message="would stop it, interrupting its running queries; call again with confirm=true",
        )
    backend.client.warehouses.stop(warehouse_id)
    state = _wait(backend, warehouse_id, "STOPPED", timeout_s)
    message = "stopped" if state == "STOPPED" else "stopping; check with sql_list_warehouses"
    return WarehouseChange(
        warehouse_id=warehouse_id, action="stop", state=state, done=True, message=message
    )
