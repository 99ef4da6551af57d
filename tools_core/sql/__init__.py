"""SQL on a warehouse: read-only queries, writes, paging results, warehouses.

``query`` refuses anything but one read statement (checked with sqlglot before it is sent);
``execute`` runs anything, but a destructive statement (DROP, TRUNCATE, DELETE without
WHERE...) only with ``confirm``: without it the answer is a preview of what would be lost.
Both bind ``:name`` parameters, wait up to ``timeout_s`` and return a capped page of rows
with a statement_id to page further, or write the full result to a new file in the results
folder ``results_dir`` with ``save_to``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from tools_core import ids
from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.sql.models import SqlColumn, SqlLoss, SqlResult, Warehouse, WarehouseList
from tools_core.sql.preview import preview
from tools_core.sql.readonly import check_read_only
from tools_core.sql.run import (
    ParamValue,
    page,
    poll,
    raise_if_failed,
    resolve_warehouse,
    still_running,
    submit,
)
from tools_core.sql.save import check_save_to, save_result
from tools_core.sql.warehouses import (
    WarehouseChange,
    default_warehouse_id,
    list_warehouses,
    start_warehouse,
    stop_warehouse,
)

DEFAULT_ROWS = 50
MAX_ROWS = 1000
MAX_TIMEOUT_S = 600

__all__ = [
    "SqlColumn",
    "SqlLoss",
    "SqlResult",
    "Warehouse",
    "WarehouseChange",
    "WarehouseList",
    "check_read_only",
    "default_warehouse_id",
    "execute",
    "get_result",
    "list_warehouses",
    "query",
    "start_warehouse",
    "stop_warehouse",
]


def _bounds(limit: int, timeout_s: float) -> None:
    if not 1 <= limit <= MAX_ROWS:
        raise InvalidInput(f"limit must be between 1 and {MAX_ROWS}, got {limit}.")
    if not 0 <= timeout_s <= MAX_TIMEOUT_S:
        raise InvalidInput(f"timeout_s must be between 0 and {MAX_TIMEOUT_S}, got {timeout_s}.")


def execute(
    backend: Backend,
    statement: str,
    params: Mapping[str, ParamValue] | None = None,
    warehouse_id: str | None = None,
    catalog: str | None = None,
    schema: str | None = None,
    limit: int = DEFAULT_ROWS,
    timeout_s: float = 60,
    save_to: str | None = None,
    confirm: bool = False,
    results_dir: Path | None = None,
) -> SqlResult:
    """Run any one statement; rows capped at ``limit`` (or all written to ``save_to`` in
    ``results_dir``). A destructive statement runs only with ``confirm``; without it the
    result (state PREVIEW) says what it would lose and nothing is sent."""
    _bounds(limit, timeout_s)
    if save_to:
        check_save_to(results_dir, save_to)
    warehouse = resolve_warehouse(backend, warehouse_id)
    if not confirm:
        answer = preview(backend, statement, warehouse, params, catalog, schema, timeout_s)
        if answer is not None:
            return answer
    response = submit(backend, statement, warehouse, params, catalog, schema, timeout_s)
    return _finish(backend, response, 0, limit, save_to, results_dir)


def query(
    backend: Backend,
    statement: str,
    params: Mapping[str, ParamValue] | None = None,
    warehouse_id: str | None = None,
    catalog: str | None = None,
    schema: str | None = None,
    limit: int = DEFAULT_ROWS,
    timeout_s: float = 60,
    save_to: str | None = None,
    results_dir: Path | None = None,
) -> SqlResult:
    """Like :func:`execute`, but only one read statement (SELECT/WITH/SHOW/DESCRIBE/EXPLAIN)."""
    check_read_only(statement)
    # A read destroys nothing: no preview needed.
    return execute(
        backend,
        statement,
        params,
        warehouse_id,
        catalog,
        schema,
        limit,
        timeout_s,
        save_to,
        confirm=True,
        results_dir=results_dir,
    )


def get_result(
    backend: Backend,
    statement_id: str,
    offset: int = 0,
    limit: int = DEFAULT_ROWS,
    timeout_s: float = 0,
    save_to: str | None = None,
    results_dir: Path | None = None,
) -> SqlResult:
    """A page of a statement's result from ``offset``; waits up to ``timeout_s`` if running."""
    _bounds(limit, timeout_s)
    if offset < 0:
        raise InvalidInput(f"offset must be >= 0, got {offset}.")
    if save_to:
        check_save_to(results_dir, save_to)
    ids.opaque_id(statement_id, "statement_id")
    response = backend.client.statement_execution.get_statement(statement_id)
    response = poll(backend, response, time.monotonic() + timeout_s)
    return _finish(backend, response, offset, limit, save_to, results_dir)


def _finish(
    backend: Backend,
    response: object,
    offset: int,
    limit: int,
    save_to: str | None,
    results_dir: Path | None,
) -> SqlResult:
    from databricks.sdk.service.sql import StatementResponse

    assert isinstance(response, StatementResponse)
    state = response.status.state.value if response.status and response.status.state else ""
    if state in ("PENDING", "RUNNING", ""):
        return still_running(response)
    raise_if_failed(response)
    if save_to and results_dir is not None:
        return save_result(backend, response, save_to, results_dir)
    return page(backend, response, offset, limit)
