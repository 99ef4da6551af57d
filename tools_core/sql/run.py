"""Run statements through the Statement Execution API and page their results.

``execute_statement`` waits on the server only as long as fits in one HTTP timeout (Databricks
allows 5-50 s, or 0); past that we poll ``get_statement`` until the caller's deadline, then
hand back the statement_id ("still running"). A write is submitted once (see
:mod:`tools_core.retries`). Rows are read from the result chunks
(``get_statement_result_chunk_n``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, cast

from tools_core import ids
from tools_core.backend import Backend
from tools_core.errors import InvalidInput, OutcomeUnknown, ToolsCoreError
from tools_core.retries import describe_failure, each_poll, single_attempt
from tools_core.sql.models import SqlColumn, SqlResult
from tools_core.sql.readonly import check_read_only

if TYPE_CHECKING:
    from databricks.sdk.service.sql import ResultData, StatementResponse

ParamValue = str | int | float | bool | None
MAX_TEXT_CHARS = 12_000
# A longer value is cut in the page (save_to keeps it whole): one cell may not fill the page.
MAX_CELL_CHARS = 2_000
MAX_NAME_CHARS = 255
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "CLOSED"}

# What to do next, by Databricks error class.
SQL_HINTS = {
    "TABLE_OR_VIEW_NOT_FOUND": "Check the name with SHOW TABLES IN <catalog>.<schema> or "
    "uc_list_tables; qualify it as catalog.schema.table.",
    "SCHEMA_NOT_FOUND": "List schemas with SHOW SCHEMAS IN <catalog>.",
    "NO_SUCH_CATALOG_EXCEPTION": "List catalogs with SHOW CATALOGS.",
    "UNRESOLVED_COLUMN": "Check the column names with DESCRIBE TABLE <name>.",
    "PARSE_SYNTAX_ERROR": "Fix the SQL syntax (Databricks SQL) and run it again.",
    "UNBOUND_SQL_PARAMETER": "Pass a value for every :name marker in params.",
    "DIVIDE_BY_ZERO": "Use try_divide(a, b) or guard the divisor.",
    "TABLE_OR_VIEW_ALREADY_EXISTS": "Use another name, CREATE OR REPLACE, or IF NOT EXISTS.",
    "SCHEMA_ALREADY_EXISTS": "Use another name or IF NOT EXISTS.",
    "CAST_INVALID_INPUT": "Fix the value or use try_cast.",
}
_CLASS = re.compile(r"^\[([A-Z0-9_.]+)\]\s*")


def resolve_warehouse(backend: Backend, warehouse_id: str | None) -> str:
    """The argument, else the backend's configured warehouse, else the workspace default."""
    from tools_core.sql.warehouses import default_warehouse_id

    chosen = warehouse_id or default_warehouse_id(backend)
    if not chosen:
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            "No SQL warehouse is configured or available in this workspace.",
            "Create one, or set DATABRICKS_WAREHOUSE_ID / pass warehouse_id.",
        )
    _require_running(backend, chosen)
    return chosen


# States in which a statement would not run now: Databricks would (re)start the warehouse,
# which takes minutes and is billed, so the agent decides explicitly instead.
NOT_RUNNING = {"STOPPED", "STOPPING", "DELETED", "DELETING"}


def _require_running(backend: Backend, warehouse_id: str) -> None:
    """Refuse a missing or stopped warehouse with what to do next."""
    from databricks.sdk.errors import NotFound

    ids.opaque_id(warehouse_id, "warehouse_id", example="dbxlocal00000001")
    try:
        warehouse = backend.client.warehouses.get(warehouse_id)
    except NotFound as exc:
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            f"SQL warehouse {warehouse_id!r} does not exist.",
            "Pick a warehouse id from sql_list_warehouses, or omit warehouse_id for the default.",
        ) from exc
    state = getattr(warehouse.state, "value", None) or "UNKNOWN"
    if state in NOT_RUNNING:
        raise ToolsCoreError(
            "INVALID_STATE",
            f"SQL warehouse {warehouse_id!r} is {state}; a statement would have to start it "
            "first (minutes on Databricks, and billed).",
            f"Start it (`databricks warehouses start {warehouse_id}` or the SQL UI), or pick a "
            "RUNNING one from sql_list_warehouses.",
        )


def statement_params(params: Mapping[str, ParamValue] | None) -> list[Any]:
    """``{name: value}`` -> StatementParameterListItem with a type from the Python value."""
    from databricks.sdk.service.sql import StatementParameterListItem

    items = []
    for name, value in (params or {}).items():
        if isinstance(value, bool):
            kind, text = "BOOLEAN", "true" if value else "false"
        elif isinstance(value, int):
            kind, text = "BIGINT", str(value)
        elif isinstance(value, float):
            kind, text = "DOUBLE", repr(value)
        elif value is None:
            kind, text = "STRING", None
        elif isinstance(value, str):
            kind, text = "STRING", value
        else:
            raise InvalidInput(f"Parameter {name!r} must be a string, number, bool or null.")
        items.append(StatementParameterListItem(name=name, value=text, type=kind))
    return items


def submit(
    backend: Backend,
    statement: str,
    warehouse_id: str,
    params: Mapping[str, ParamValue] | None,
    catalog: str | None,
    schema: str | None,
    timeout_s: float,
) -> StatementResponse:
    """Execute and wait up to ``timeout_s`` (server-side wait first, then polling)."""
    from databricks.sdk.service.sql import (
        Disposition,
        ExecuteStatementRequestOnWaitTimeout,
        Format,
    )

    deadline = time.monotonic() + timeout_s
    # The server-side wait must end well within one HTTP timeout; past it we poll.
    wait = int(min(timeout_s, backend.timeouts.sql_wait_s))
    reads = _only_reads(statement)
    # A write sent twice is applied twice (an INSERT adds its rows again): a write is sent
    # once, and a failure that may have reached the warehouse is reported as unknown.
    once = (
        nullcontext()
        if reads
        else single_attempt("The statement", "sql_query (e.g. SELECT what it would have changed)")
    )
    with once:
        # resolve_warehouse has checked that the warehouse exists and runs.
        response = backend.client.statement_execution.execute_statement(
            statement=statement,
            warehouse_id=warehouse_id,
            catalog=catalog,
            schema=schema,
            parameters=statement_params(params) or None,
            wait_timeout=f"{wait}s" if wait >= 5 else "0s",
            on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CONTINUE,
            disposition=Disposition.INLINE,
            format=Format.JSON_ARRAY,
        )
    if reads:
        return poll(backend, response, deadline)
    return _poll_submitted(backend, response, deadline)


def _only_reads(statement: str) -> bool:
    """Whether the statement only reads (what sql_query accepts): it may then be resent."""
    try:
        check_read_only(statement)
    except ToolsCoreError:
        return False
    return True


def _poll_submitted(
    backend: Backend, response: StatementResponse, deadline: float
) -> StatementResponse:
    """Poll a write the warehouse accepted. Its state unreadable now is not a failure to
    retry (that would run it twice): it is unknown, and the statement_id says where to look."""
    from databricks.sdk.errors import DatabricksError
    from requests import RequestException

    statement_id = response.statement_id or ""
    try:
        return poll(backend, response, deadline)
    except (DatabricksError, RequestException, TimeoutError) as exc:
        raise OutcomeUnknown(
            f"Statement {statement_id} (accepted by the warehouse)",
            describe_failure(exc),
            f"sql_get_result statement_id={statement_id}",
        ) from exc


def poll(backend: Backend, response: StatementResponse, deadline: float) -> StatementResponse:
    """Poll ``get_statement`` until the statement ends or the deadline passes."""
    pause = 0.05
    while _state(response) not in TERMINAL and time.monotonic() < deadline:
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, 1.0)
        with each_poll():
            response = backend.client.statement_execution.get_statement(response.statement_id or "")
    return response


def _state(response: StatementResponse) -> str:
    status = response.status
    return status.state.value if status and status.state else "PENDING"


def raise_if_failed(response: StatementResponse) -> None:
    """A FAILED/CANCELED/CLOSED statement as a ToolsCoreError coded by its error class."""
    state = _state(response)
    statement_id = response.statement_id or ""
    if state == "FAILED":
        error = response.status.error if response.status else None
        message = (error.message if error else None) or "The statement failed."
        match = _CLASS.match(message)
        error_class = (
            match.group(1)
            if match
            else (error.error_code.value if error and error.error_code else "SQL_ERROR")
        )
        base_class = error_class.split(".")[0]
        # Databricks messages run to several lines of advice: the first says what failed.
        message = _CLASS.sub("", message).split("\n")[0].split(" SQLSTATE:")[0]
        if len(message) > 600:
            message = message[:600] + "…"
        raise ToolsCoreError(
            base_class,
            f"{message} (statement_id {statement_id})",
            SQL_HINTS.get(base_class, "Fix the statement as the message says and run it again."),
        )
    if state == "CANCELED":
        raise ToolsCoreError(
            "CANCELED", f"Statement {statement_id} was canceled.", "Run it again if needed."
        )
    if state == "CLOSED":
        raise ToolsCoreError(
            "CLOSED",
            f"The result of statement {statement_id} is no longer available.",
            "Run the statement again.",
        )


def still_running(response: StatementResponse) -> SqlResult:
    """The answer for a statement that outlived the caller's deadline."""
    statement_id = response.statement_id or ""
    return SqlResult(
        statement_id=statement_id,
        state=_state(response),
        hint=f"still running; poll with sql_get_result statement_id={statement_id}",
    )


def columns_of(response: StatementResponse) -> list[SqlColumn]:
    """Columns of a SUCCEEDED statement, typed the way Databricks prints them."""
    manifest = response.manifest
    schema = manifest.schema if manifest else None
    return [
        SqlColumn(
            name=c.name or f"_c{i}",
            type=(c.type_text or (c.type_name.value if c.type_name else "string")).lower(),
        )
        for i, c in enumerate((schema.columns if schema else None) or [])
    ]


def iter_rows(
    backend: Backend, response: StatementResponse, offset: int = 0
) -> Iterator[list[str | None]]:
    """Rows from ``offset`` on, fetching only the chunks needed (chunk 0 is inline)."""
    manifest = response.manifest
    chunks = (manifest.chunks if manifest else None) or []
    start_chunk = 0
    for chunk in chunks:
        if (chunk.row_offset or 0) <= offset:
            start_chunk = chunk.chunk_index or 0
    data: ResultData | None = (
        response.result if start_chunk == 0 else _chunk(backend, response, start_chunk)
    )
    while data is not None:
        base = data.row_offset or 0
        for i, row in enumerate(data.data_array or []):
            if base + i >= offset:
                yield cast("list[str | None]", row)
        if data.next_chunk_index is None:
            return
        data = _chunk(backend, response, data.next_chunk_index)


def _chunk(backend: Backend, response: StatementResponse, index: int) -> ResultData:
    return backend.client.statement_execution.get_statement_result_chunk_n(
        response.statement_id or "", index
    )


CELL_CUT = " chars cut]"


def _cell(value: Any, limit: int = MAX_CELL_CHARS) -> Any:
    """A value cut to ``limit`` characters, saying how much was cut."""
    if not isinstance(value, str) or len(value) <= limit:
        return value
    return f"{value[:limit]}…[{len(value) - limit:,}{CELL_CUT}"


def page(backend: Backend, response: StatementResponse, offset: int, limit: int) -> SqlResult:
    """At most ``limit`` rows (and about MAX_TEXT_CHARS of text) from ``offset``."""
    statement_id = response.statement_id or ""
    # A column named by a long expression (SELECT '<1 MB literal>') is cut like a value.
    columns = [
        c.model_copy(update={"name": _cell(c.name, MAX_NAME_CHARS)}) for c in columns_of(response)
    ]
    manifest = response.manifest
    total = manifest.total_row_count if manifest else None
    rows: list[list[str | None]] = []
    size = 0
    cut = False
    for row in iter_rows(backend, response, offset):
        if len(rows) >= limit:
            cut = True
            break
        size += sum(len(v or "") + 3 for v in row)
        if rows and size > MAX_TEXT_CHARS:
            cut = True
            break
        rows.append([_cell(v) for v in row])
    long_values = any(v is not None and v.endswith(CELL_CUT) for row in rows for v in row)
    truncated = cut or long_values or bool(manifest and manifest.truncated)
    hint = ""
    if cut:
        hint = (
            f"(more rows: sql_get_result statement_id={statement_id} "
            f"offset={offset + len(rows)}, or save_to=<file.csv> for the full result)"
        )
    elif long_values:
        hint = f"(values over {MAX_CELL_CHARS:,} characters cut: save_to=<file.csv> keeps them)"
    return SqlResult(
        statement_id=statement_id,
        state="SUCCEEDED",
        columns=columns,
        rows=rows,
        offset=offset,
        total_row_count=total,
        truncated=truncated,
        hint=hint,
    )
