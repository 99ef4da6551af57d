"""Notification Destinations API (``/api/2.0/notification-destinations``), as the SDK's
``w.notification_destinations`` calls it: create, get, list (paged), update (PATCH), delete.

Job notifications name these destinations by id (``webhook_notifications``); the store and
its rules are in :mod:`local_workspace.notification_destinations`.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import invalid
from local_workspace.http import json_body, json_response, query_int
from local_workspace.notification_destinations import (
    PAGE_DEFAULT,
    PAGE_MAX,
    DestinationsStore,
    destinations_of,
)
from local_workspace.state import WorkspaceState

PREFIX = "/api/2.0/notification-destinations"


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The destinations routes."""

    def store() -> DestinationsStore:
        return destinations_of(state)

    async def create(request: Request) -> Response:
        body = await json_body(request)
        made = await run_in_threadpool(store().create, body.get("display_name"), body.get("config"))
        return json_response(made)

    async def list_(request: Request) -> Response:
        size = query_int(request, "page_size") or PAGE_DEFAULT
        if not 1 <= size <= PAGE_MAX:
            raise invalid(f"page_size must be between 1 and {PAGE_MAX}, got {size}.")
        token = request.query_params.get("page_token") or "0"
        if not token.isdigit():
            raise invalid(f"Invalid page_token {token!r}.")
        offset = int(token)
        items, more = await run_in_threadpool(store().page, offset, size)
        answer: dict[str, object] = {"results": items}
        if more:
            answer["next_page_token"] = str(offset + size)
        return json_response(answer)

    async def get(request: Request) -> Response:
        found = await run_in_threadpool(store().get, request.path_params["id"])
        return json_response(found)

    async def update(request: Request) -> Response:
        body = await json_body(request)
        changed = await run_in_threadpool(
            store().update, request.path_params["id"], body.get("display_name"), body.get("config")
        )
        return json_response(changed)

    async def delete(request: Request) -> Response:
        await run_in_threadpool(store().delete, request.path_params["id"])
        return json_response({})

    return [
        Route(PREFIX, create, methods=["POST"]),
        Route(PREFIX, list_, methods=["GET"]),
        Route(PREFIX + "/{id}", get, methods=["GET"]),
        Route(PREFIX + "/{id}", update, methods=["PATCH"]),
        Route(PREFIX + "/{id}", delete, methods=["DELETE"]),
    ]
