"""Pipelines API 2.0 of the local workspace, at the paths the SDK calls.

Pipelines: create, get, list (filter, paging), edit (PUT), delete; updates: start, list, get;
events (filter on level / event_type, order_by timestamp, paging); stop. SQL pipelines run for
real (see ``local_workspace/pipelines/runner.py``); Python pipelines fail their update.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import invalid
from local_workspace.http import json_body, json_response, query_int
from local_workspace.pipelines.service import PipelinesService
from local_workspace.state import WorkspaceState

LIST_BOUNDS = (1, 100, 25)
EVENTS_BOUNDS = (1, 1000, 100)
UPDATES_BOUNDS = (1, 100, 25)
_LEVEL_EQ = re.compile(r"^level\s*=\s*'(\w+)'$", re.I)
_LEVEL_IN = re.compile(r"^level\s+in\s*\(([^)]*)\)$", re.I)
_TYPE_EQ = re.compile(r"^event_type\s*=\s*'(\w+)'$", re.I)
_TIME = re.compile(r"^timestamp\s*(>=|<=|>|<|=)\s*'([^']+)'$", re.I)


def service(state: WorkspaceState) -> PipelinesService:
    """The pipelines service (created on first use; needs the catalog and workspace)."""
    return state.service("pipelines", lambda: PipelinesService(state))


def _page(request: Request, bounds: tuple[int, int, int]) -> tuple[int, int]:
    low, high, default = bounds
    limit = query_int(request, "max_results", default)
    limit = limit if limit else default
    if not low <= limit <= high:
        raise invalid(f"max_results must be between {low} and {high}, got {limit}.")
    token = request.query_params.get("page_token")
    try:
        offset = int(token) if token else 0
    except ValueError as exc:
        raise invalid(f"Invalid page_token {token!r}.") from exc
    return max(0, offset), limit


def _paged(body: dict[str, Any], offset: int, limit: int, more: bool) -> dict[str, Any]:
    if more:
        body["next_page_token"] = str(offset + limit)
    if offset > 0:
        body["prev_page_token"] = str(max(0, offset - limit))
    return body


def event_filter(text: str | None) -> list[tuple[str, list[Any]]]:
    """SQL clauses for the events filter (``level='ERROR' AND event_type='flow_progress'``)."""
    if not text or not text.strip():
        return []
    clauses: list[tuple[str, list[Any]]] = []
    for part in re.split(r"\s+AND\s+", text.strip(), flags=re.I):
        part = part.strip()
        if m := _LEVEL_EQ.match(part):
            clauses.append(("level = ?", [m.group(1).upper()]))
        elif m := _LEVEL_IN.match(part):
            values = [v.strip().strip("'").upper() for v in m.group(1).split(",") if v.strip()]
            clauses.append((f"level IN ({', '.join('?' for _ in values)})", values))
        elif m := _TYPE_EQ.match(part):
            clauses.append(("event_type = ?", [m.group(1)]))
        elif m := _TIME.match(part):
            clauses.append((f"timestamp {m.group(1)} ?", [m.group(2)]))
        else:
            raise invalid(
                f"Unsupported events filter {part!r}: use level='ERROR', level in ('WARN', "
                "'ERROR'), event_type='flow_progress' or timestamp > '...', joined by AND."
            )
    return clauses


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The Pipelines API routes."""

    def pipelines() -> PipelinesService:
        return service(state)

    async def create(request: Request) -> Response:
        body = await json_body(request)
        return json_response(pipelines().create(body))

    async def list_pipelines(request: Request) -> Response:
        offset, limit = _page(request, LIST_BOUNDS)
        items, more = pipelines().list_pipelines(request.query_params.get("filter"), offset, limit)
        return json_response(_paged({"statuses": items}, offset, limit, more))

    async def one(request: Request) -> Response:
        pipeline_id = request.path_params["pipeline_id"]
        if request.method == "GET":
            return json_response(pipelines().view(pipeline_id))
        if request.method == "PUT":
            body = await json_body(request)
            pipelines().edit(pipeline_id, body)
            return json_response({})
        await asyncio.to_thread(pipelines().delete, pipeline_id)
        return json_response({})

    async def updates(request: Request) -> Response:
        pipeline_id = request.path_params["pipeline_id"]
        if request.method == "POST":
            body = await json_body(request)
            base_url = str(request.base_url).rstrip("/")
            update_id = pipelines().start_update(pipeline_id, body, base_url)
            return json_response({"update_id": update_id})
        pipelines().require(pipeline_id)
        offset, limit = _page(request, UPDATES_BOUNDS)
        docs, more = pipelines().store.updates(pipeline_id, offset, limit)
        until = request.query_params.get("until_update_id")
        if until:
            ids = [d["update_id"] for d in docs]
            if until in ids:
                docs, more = docs[: ids.index(until) + 1], False
        return json_response(_paged({"updates": docs}, offset, limit, more))

    async def get_update(request: Request) -> Response:
        params = request.path_params
        return json_response(
            {"update": pipelines().update(params["pipeline_id"], params["update_id"])}
        )

    async def events(request: Request) -> Response:
        pipeline_id = request.path_params["pipeline_id"]
        pipelines().require(pipeline_id)
        offset, limit = _page(request, EVENTS_BOUNDS)
        order = " ".join(request.query_params.getlist("order_by")).lower()
        ascending = "asc" in order.replace("desc", "")
        where = event_filter(request.query_params.get("filter"))
        docs, more = pipelines().store.events(pipeline_id, where, ascending, offset, limit)
        return json_response(_paged({"events": docs}, offset, limit, more))

    async def stop(request: Request) -> Response:
        await asyncio.to_thread(pipelines().stop, request.path_params["pipeline_id"], 10.0)
        return json_response({})

    prefix = "/api/2.0/pipelines"
    return [
        Route(prefix, create, methods=["POST"]),
        Route(prefix, list_pipelines, methods=["GET"]),
        Route(prefix + "/{pipeline_id}", one, methods=["GET", "PUT", "DELETE"]),
        Route(prefix + "/{pipeline_id}/updates", updates, methods=["GET", "POST"]),
        Route(prefix + "/{pipeline_id}/updates/{update_id}", get_update, methods=["GET"]),
        Route(prefix + "/{pipeline_id}/events", events, methods=["GET"]),
        Route(prefix + "/{pipeline_id}/stop", stop, methods=["POST"]),
    ]
