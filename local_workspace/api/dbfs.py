"""DBFS API 2.0 (``/api/2.0/dbfs/...``): answered as a workspace whose DBFS root is
disabled answers.

New Databricks accounts are provisioned without the DBFS root and mounts; there, every DBFS
call on a root path fails with ``PERMISSION_DENIED``: "Public DBFS root is disabled. Access
is denied on path: <path>". The local workspace has no DBFS root either, so it answers the
same: client code that handles that answer (and moves to Unity Catalog volumes) runs
unchanged. Files live in volumes: the SDK's ``w.dbfs`` helpers (``list``, ``upload``,
``download``, ``exists``, ``mkdirs``, ``delete``) send ``/Volumes/...`` paths to the Files
API, which the workspace serves (``local_workspace/api/files.py``); the raw DBFS endpoints
do not operate on volume paths.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import ApiError, invalid
from local_workspace.http import json_body
from local_workspace.state import WorkspaceState

PREFIX = "/api/2.0/dbfs"
GET_ENDPOINTS = ("list", "get-status", "read")
POST_ENDPOINTS = ("mkdirs", "delete", "put", "create", "add-block", "close", "move")


def _path(raw: Any, field: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise invalid(f"Missing required field: {field}")
    path = raw.removeprefix("dbfs:")
    if not path.startswith("/"):
        raise invalid(f"Path must be absolute: {raw}")
    return path


def denied(path: str) -> ApiError:
    """What a workspace without the DBFS root answers for ``path``."""
    if path == "/Volumes" or path.startswith("/Volumes/"):
        # Volumes are reached through the Files API (/api/2.0/fs/...), not the DBFS API.
        return invalid(f"No operations allowed on this path: {path}")
    return ApiError(
        403, "PERMISSION_DENIED", f"Public DBFS root is disabled. Access is denied on path: {path}"
    )


async def _request_path(request: Request, endpoint: str) -> str:
    if request.method == "GET":
        return _path(request.query_params.get("path"), "path")
    body = await json_body(request)
    if endpoint == "move":
        return _path(body.get("source_path"), "source_path")
    if endpoint in ("add-block", "close"):
        # Streams are opened by create, which is refused: no handle can exist.
        raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"Handle {body.get('handle')} not found.")
    return _path(body.get("path"), "path")


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """Every DBFS endpoint, each refused as on a workspace without the DBFS root."""

    def handler(endpoint: str) -> Any:
        async def refuse(request: Request) -> Response:
            raise denied(await _request_path(request, endpoint))

        return refuse

    found: list[BaseRoute] = []
    for endpoint in GET_ENDPOINTS:
        found.append(Route(f"{PREFIX}/{endpoint}", handler(endpoint), methods=["GET"]))
    for endpoint in POST_ENDPOINTS:
        found.append(Route(f"{PREFIX}/{endpoint}", handler(endpoint), methods=["POST"]))
    return found
