"""Quality monitors REST API as the SDK's ``w.quality_monitors`` calls it
(``/api/2.1/unity-catalog/tables/{table_name}/monitor``...). The work is in
local_workspace/monitors/; answers go through the SDK's own dataclasses.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.api.refusals import feature_disabled, run
from local_workspace.api.uc import PREFIX
from local_workspace.http import int64, json_body, json_response
from local_workspace.monitors.service import Monitors
from local_workspace.state import WorkspaceState


@cache
def _sdk() -> Any:
    """The SDK's catalog dataclasses, imported on first use."""
    from databricks.sdk.service import catalog

    return catalog


def service(state: WorkspaceState) -> Monitors:
    """The monitors service (created on first use)."""
    return state.service(
        "monitors", lambda: Monitors(state.config.data_dir / "monitors.sqlite", state.catalog)
    )


def _monitors(request: Request) -> Monitors:
    return service(request.app.state.workspace)


def _info(info: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = _sdk().MonitorInfo.from_dict(info).as_dict()
    # output_schema_name is not a MonitorInfo field in every SDK version; Databricks sends it.
    shaped.setdefault("output_schema_name", info.get("output_schema_name"))
    return shaped


async def monitor(request: Request) -> Response:
    """POST create, GET, PUT update or DELETE the monitor of a table."""
    monitors = _monitors(request)
    table_name = request.path_params["table_name"]
    if request.method == "DELETE":
        await run(monitors.delete, table_name)
        return json_response({})
    if request.method == "POST":
        info = await run(monitors.create, table_name, await json_body(request))
    elif request.method == "PUT":
        info = await run(monitors.update, table_name, await json_body(request))
    else:
        info = await run(monitors.get, table_name)
    return json_response(_info(info))


def _refresh(info: dict[str, Any]) -> dict[str, Any]:
    shaped: dict[str, Any] = _sdk().MonitorRefreshInfo.from_dict(info).as_dict()
    return shaped


async def refreshes(request: Request) -> Response:
    """POST: run a refresh now; GET: the refreshes, newest first."""
    monitors = _monitors(request)
    table_name = request.path_params["table_name"]
    if request.method == "POST":
        return json_response(_refresh(await run(monitors.run_refresh, table_name)))
    found = await run(monitors.list_refreshes, table_name)
    return json_response({"refreshes": [_refresh(r) for r in found]})


async def refresh(request: Request) -> Response:
    """One refresh."""
    refresh_id = int64(request.path_params["refresh_id"], "refresh_id")
    found = await run(_monitors(request).get_refresh, request.path_params["table_name"], refresh_id)
    return json_response(_refresh(found))


async def cancel(request: Request) -> Response:
    """Cancel a refresh still pending or running."""
    refresh_id = int64(request.path_params["refresh_id"], "refresh_id")
    await run(_monitors(request).cancel_refresh, request.path_params["table_name"], refresh_id)
    return json_response({})


async def dashboard(request: Request) -> Response:
    """The monitor's dashboard: the local workspace has no Lakeview dashboards."""
    await run(_monitors(request).get, request.path_params["table_name"])
    raise feature_disabled(
        "Monitor dashboards", "query the profile and drift metric tables with SQL instead"
    )


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The quality monitor routes."""
    base = PREFIX + "/tables/{table_name}/monitor"
    return [
        Route(base, monitor, methods=["GET", "POST", "PUT", "DELETE"]),
        Route(base + "/refreshes", refreshes, methods=["GET", "POST"]),
        Route(base + "/refreshes/{refresh_id}", refresh, methods=["GET"]),
        Route(base + "/refreshes/{refresh_id}/cancel", cancel, methods=["POST"]),
        Route(
            "/api/2.1/quality-monitoring/tables/{table_name}/monitor/dashboard",
            dashboard,
            methods=["POST"],
        ),
    ]
