"""sql tools: read-only queries, writes, result paging, warehouses."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from server.registry import reader, writer
from server.runtime import backend_of, runtime_of
from tools_core import sql as core

# Terse on purpose: tools/list is context every agent pays on every turn.
Statement = Annotated[str, Field(description="One SQL statement")]
Params = Annotated[dict[str, Any], Field(description=":name values")]
WarehouseId = Annotated[str, Field(description="Warehouse id")]
Rows = Annotated[int, Field(ge=1, le=1000, description="Max rows")]
Timeout = Annotated[int, Field(ge=0, le=600, description="Wait seconds")]
SaveTo = Annotated[str, Field(description="Save all rows: name.csv/.json/.parquet")]


@reader("sql")
def sql_query(
    ctx: Context,
    statement: Statement,
    params: Params = None,  # type: ignore[assignment]
    warehouse_id: WarehouseId = "",
    limit: Rows = 50,
    timeout_s: Timeout = 60,
    save_to: SaveTo = "",
) -> core.SqlResult:
    """One read-only statement (SELECT/SHOW/DESCRIBE/EXPLAIN); typed rows."""
    runtime = runtime_of(ctx)
    return core.query(
        runtime.backend(),
        statement,
        params,
        warehouse_id or None,
        limit=limit,
        timeout_s=timeout_s,
        save_to=save_to or None,
        results_dir=runtime.results_dir,
    )


@writer("sql", destructive=True, idempotent=False)
def sql_execute(
    ctx: Context,
    statement: Statement,
    params: Params = None,  # type: ignore[assignment]
    warehouse_id: WarehouseId = "",
    limit: Rows = 50,
    timeout_s: Timeout = 60,
    save_to: SaveTo = "",
    confirm: Annotated[bool, Field(description="Really run")] = False,
) -> core.SqlResult:
    """Run one SQL statement; destructive ones (DROP...) preview unless confirm=true."""
    runtime = runtime_of(ctx)
    return core.execute(
        runtime.backend(),
        statement,
        params,
        warehouse_id or None,
        limit=limit,
        timeout_s=timeout_s,
        save_to=save_to or None,
        confirm=confirm,
        results_dir=runtime.results_dir,
    )


@reader("sql")
def sql_get_result(
    ctx: Context,
    statement_id: Annotated[str, Field(description="Statement id")],
    offset: Annotated[int, Field(ge=0, description="First row")] = 0,
    limit: Rows = 50,
    timeout_s: Timeout = 0,
    save_to: SaveTo = "",
) -> core.SqlResult:
    """Page a result or poll a statement."""
    runtime = runtime_of(ctx)
    return core.get_result(
        runtime.backend(),
        statement_id,
        offset,
        limit,
        timeout_s,
        save_to or None,
        runtime.results_dir,
    )


@reader("sql")
def sql_list_warehouses(ctx: Context) -> core.WarehouseList:
    """SQL warehouses (first 50) with state; default marked."""
    return core.list_warehouses(backend_of(ctx))


Wait = Annotated[int, Field(ge=0, le=600, description="Wait seconds for the state")]


@writer("sql", destructive=False, idempotent=True)
def sql_start_warehouse(
    ctx: Context, warehouse_id: WarehouseId, timeout_s: Wait = 0
) -> core.WarehouseChange:
    """Start a warehouse; no-op if running."""
    return core.start_warehouse(backend_of(ctx), warehouse_id, timeout_s)


@writer("sql", destructive=True, idempotent=True)
def sql_stop_warehouse(
    ctx: Context,
    warehouse_id: WarehouseId,
    confirm: Annotated[bool, Field(description="Really stop")] = False,
    timeout_s: Wait = 0,
) -> core.WarehouseChange:
    """Stop a warehouse (interrupts queries); preview unless confirm=true."""
    return core.stop_warehouse(backend_of(ctx), warehouse_id, confirm, timeout_s)
