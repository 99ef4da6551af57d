"""sql tools: read-only queries, writes, result paging, warehouses."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from server.registry import reader, writer
from server.runtime import backend
from tools_core import sql as core

Statement = Annotated[str, Field(description="One SQL statement")]
Params = Annotated[
    dict[str, str | int | float | bool | None] | None,
    Field(description="Values for :name markers"),
]
WarehouseId = Annotated[str | None, Field(description="Warehouse id (default: configured)")]
CatalogName = Annotated[str | None, Field(description="Default catalog")]
SchemaName = Annotated[str | None, Field(description="Default schema")]
Rows = Annotated[int, Field(ge=1, le=1000, description="Max rows shown")]
Timeout = Annotated[int, Field(ge=0, le=600, description="Max seconds to wait")]
SaveTo = Annotated[str | None, Field(description="Local .csv/.json/.parquet for all rows")]


@reader("sql")
def sql_query(
    statement: Statement,
    params: Params = None,
    warehouse_id: WarehouseId = None,
    catalog: CatalogName = None,
    schema: SchemaName = None,
    limit: Rows = 50,
    timeout_s: Timeout = 60,
    save_to: SaveTo = None,
) -> core.SqlResult:
    """Run one read-only statement (SELECT/WITH/SHOW/DESCRIBE/EXPLAIN); typed rows, capped."""
    return core.query(
        backend(), statement, params, warehouse_id, catalog, schema, limit, timeout_s, save_to
    )


@writer("sql", destructive=True, idempotent=False)
def sql_execute(
    statement: Statement,
    params: Params = None,
    warehouse_id: WarehouseId = None,
    catalog: CatalogName = None,
    schema: SchemaName = None,
    limit: Rows = 50,
    timeout_s: Timeout = 60,
    save_to: SaveTo = None,
) -> core.SqlResult:
    """Run any one SQL statement (DDL, DML, MERGE, GRANT...)."""
    return core.execute(
        backend(), statement, params, warehouse_id, catalog, schema, limit, timeout_s, save_to
    )


@reader("sql")
def sql_get_result(
    statement_id: Annotated[str, Field(description="From sql_query/sql_execute")],
    offset: Annotated[int, Field(ge=0, description="First row")] = 0,
    limit: Rows = 50,
    timeout_s: Timeout = 0,
    save_to: SaveTo = None,
) -> core.SqlResult:
    """Next rows of a result, or poll a running statement."""
    return core.get_result(backend(), statement_id, offset, limit, timeout_s, save_to)


@reader("sql")
def sql_list_warehouses(
    limit: Annotated[int, Field(ge=1, le=200, description="Max items")] = 50,
) -> core.WarehouseList:
    """SQL warehouses with state; the default is marked."""
    return core.list_warehouses(backend(), limit)
