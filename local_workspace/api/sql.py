"""SQL warehouses API 2.0 and Statement Execution API 2.0 of the local workspace.

Statements run on the local DuckDB engine (``local_workspace.sql``). Only what Databricks
allows is accepted: INLINE disposition with JSON_ARRAY (EXTERNAL_LINKS needs cloud storage:
refused as not available), ``wait_timeout`` of 0s or 5s-50s, ``on_wait_timeout``
CONTINUE|CANCEL. A stopped warehouse auto-starts on a statement, as Databricks serverless
warehouses do; an unknown or deleted warehouse id is refused with 404.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.api.refusals import sharing_store
from local_workspace.errors import invalid, not_available
from local_workspace.http import json_body, json_response, require
from local_workspace.lineage import entity_from_tags, lineage_store
from local_workspace.sql.engine import Request as SqlRequest
from local_workspace.sql.sharing import SharingSql
from local_workspace.sql.statements import Statements
from local_workspace.sql.translate import Param, Scope
from local_workspace.sql.warehouses import Warehouses
from local_workspace.state import WorkspaceState

WAIT = re.compile(r"^(\d+)s$")
CANCEL_GRACE_S = 5.0


def _catalog(state: WorkspaceState) -> Any:
    """The catalog engine (created by build_state; opened here if not yet)."""
    catalog = state.services.get("catalog")
    if catalog is None:
        from local_workspace.catalog import Catalog

        catalog = Catalog(state.config.data_dir, state.user, seed=state.config.seed)
        state.services["catalog"] = catalog
    return catalog


def _services(state: WorkspaceState) -> tuple[Warehouses, Statements]:
    if "sql_warehouses" not in state.services:
        state.services["sql_warehouses"] = Warehouses(state.config.data_dir, state.user)
    if "sql_statements" not in state.services:
        state.services["sql_statements"] = Statements(_catalog(state))
        state.services["sql_statements"].engine.lineage = lineage_store(state)
        state.services["sql_statements"].engine.sharing = SharingSql(lambda: sharing_store(state))
    return state.services["sql_warehouses"], state.services["sql_statements"]


def _int_field(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise invalid(f"{name} must be an integer, got {value!r}.") from exc
    if number < 0:
        raise invalid(f"{name} must be >= 0, got {number}.")
    return number


def _wait_seconds(raw: Any) -> int:
    match = WAIT.match(str(raw if raw is not None else "10s"))
    seconds = int(match.group(1)) if match else -1
    if seconds != 0 and not 5 <= seconds <= 50:
        raise invalid(
            f"wait_timeout must be '0s' or between '5s' and '50s', got {raw!r}.",
        )
    return seconds


def _params(raw: Any) -> list[Param]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise invalid("parameters must be a list of {name, value, type}.")
    params = []
    for item in raw:
        if not isinstance(item, dict) or not item.get("name"):
            raise invalid("Each parameter needs a name: {name, value, type}.")
        value = item.get("value")
        params.append(
            Param(
                name=str(item["name"]),
                value=None if value is None else str(value),
                type=str(item.get("type") or "STRING"),
            )
        )
    return params


def _sql_request(body: dict[str, Any]) -> SqlRequest:
    disposition = str(body.get("disposition") or "INLINE").upper()
    if disposition == "EXTERNAL_LINKS":
        raise not_available("EXTERNAL_LINKS disposition (results in cloud storage)")
    if disposition != "INLINE":
        raise invalid(f"Unknown disposition {disposition!r}: use INLINE.")
    result_format = str(body.get("format") or "JSON_ARRAY").upper()
    if result_format != "JSON_ARRAY":
        raise invalid(
            f"{result_format} format is only supported with EXTERNAL_LINKS disposition; "
            "use JSON_ARRAY with INLINE."
        )
    catalog = str(body.get("catalog") or "main")
    schema = str(body.get("schema") or "default")
    return SqlRequest(
        statement=str(require(body, "statement")),
        scope=Scope(catalog=catalog.lower(), schema=schema),
        params=_params(body.get("parameters")),
        row_limit=_int_field(body, "row_limit"),
        byte_limit=_int_field(body, "byte_limit"),
    )


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """Warehouses (list/get/create/edit/delete/start/stop) and statements."""
    warehouses, statements = _services(state)

    async def execute(request: Request) -> Response:
        body = await json_body(request)
        warehouse_id = str(require(body, "warehouse_id"))
        sql_request = _sql_request(body)
        # A job task's spark.sql tags its statements with its task run: lineage names the job.
        sql_request.entity = entity_from_tags(state, body.get("query_tags"))
        wait_s = _wait_seconds(body.get("wait_timeout"))
        on_timeout = str(body.get("on_wait_timeout") or "CONTINUE").upper()
        if on_timeout not in ("CONTINUE", "CANCEL"):
            raise invalid(f"on_wait_timeout must be CONTINUE or CANCEL, got {on_timeout!r}.")
        warehouses.ensure_running(warehouse_id)
        statement = statements.submit(sql_request)
        await statements.wait(statement, wait_s)
        if wait_s > 0 and not statement.finished and on_timeout == "CANCEL":
            statements.cancel(statement)
            await statements.wait(statement, CANCEL_GRACE_S)
        return json_response(statements.response(statement))

    async def get_statement(request: Request) -> Response:
        statement = statements.get(request.path_params["statement_id"])
        return json_response(statements.response(statement))

    async def get_chunk(request: Request) -> Response:
        statement = statements.get(request.path_params["statement_id"])
        return json_response(statements.chunk(statement, request.path_params["chunk_index"]))

    async def cancel(request: Request) -> Response:
        statements.cancel(statements.get(request.path_params["statement_id"]))
        return json_response({})

    async def list_warehouses(request: Request) -> Response:
        return json_response({"warehouses": warehouses.list()})

    async def create_warehouse(request: Request) -> Response:
        record = warehouses.create(await json_body(request))
        return json_response({"id": record["id"]})

    async def warehouse(request: Request) -> Response:
        warehouse_id = request.path_params["warehouse_id"]
        if request.method == "DELETE":
            warehouses.delete(warehouse_id)
            return json_response({})
        return json_response(warehouses.get(warehouse_id))

    async def edit_warehouse(request: Request) -> Response:
        warehouses.edit(request.path_params["warehouse_id"], await json_body(request))
        return json_response({})

    async def start(request: Request) -> Response:
        warehouses.set_state(request.path_params["warehouse_id"], "RUNNING")
        return json_response({})

    async def stop(request: Request) -> Response:
        warehouses.set_state(request.path_params["warehouse_id"], "STOPPED")
        return json_response({})

    base = "/api/2.0/sql"
    return [
        Route(f"{base}/statements", execute, methods=["POST"]),
        Route(f"{base}/statements/", execute, methods=["POST"]),
        Route(f"{base}/statements/{{statement_id}}", get_statement, methods=["GET"]),
        Route(
            f"{base}/statements/{{statement_id}}/result/chunks/{{chunk_index:int}}",
            get_chunk,
            methods=["GET"],
        ),
        Route(f"{base}/statements/{{statement_id}}/cancel", cancel, methods=["POST"]),
        Route(f"{base}/warehouses", list_warehouses, methods=["GET"]),
        Route(f"{base}/warehouses", create_warehouse, methods=["POST"]),
        Route(f"{base}/warehouses/{{warehouse_id}}", warehouse, methods=["GET", "DELETE"]),
        Route(f"{base}/warehouses/{{warehouse_id}}/edit", edit_warehouse, methods=["POST"]),
        Route(f"{base}/warehouses/{{warehouse_id}}/start", start, methods=["POST"]),
        Route(f"{base}/warehouses/{{warehouse_id}}/stop", stop, methods=["POST"]),
    ]
