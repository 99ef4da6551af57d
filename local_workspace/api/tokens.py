"""Token API 2.0 (``/api/2.0/token/...``: ``w.tokens``) and workspace configuration
(``/api/2.0/workspace-conf``: ``w.workspace_conf``).

Tokens made here are real: they authenticate (see :func:`issued_token_check`, which the
app's auth middleware asks) until they expire or are revoked. ``enableTokensConfig=false``
refuses new tokens, as on a workspace where an admin disabled them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import ApiError, invalid
from local_workspace.http import int64, json_body, json_response, require
from local_workspace.settings_store import SettingsStore, settings_store
from local_workspace.state import WorkspaceState


def store_of(state: WorkspaceState) -> SettingsStore:
    """The workspace's settings store, opened on first use."""
    return state.service("settings", lambda: settings_store(state.config.data_dir))


def issued_token_check(state: WorkspaceState) -> Callable[[bytes], bool]:
    """For the auth middleware: whether an ``Authorization`` header carries a valid token
    made through the Token API (the workspace's own token is checked before)."""
    data_dir: Path = state.config.data_dir

    def check(header: bytes) -> bool:
        if not header.startswith(b"Bearer ") or not (data_dir / "settings").exists():
            return False
        return store_of(state).valid(header[len(b"Bearer ") :].decode(errors="replace"))

    return check


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """token/create, token/list, token/delete and workspace-conf GET/PATCH."""

    async def create(request: Request) -> Response:
        body = await json_body(request)
        store = store_of(state)
        enabled = await run_in_threadpool(store.conf, ["enableTokensConfig"])
        if (enabled["enableTokensConfig"] or "true").lower() == "false":
            raise ApiError(
                403,
                "PERMISSION_DENIED",
                "Token creation is disabled for this workspace (enableTokensConfig).",
            )
        lifetime = body.get("lifetime_seconds")
        seconds = None if lifetime is None else int64(lifetime, "lifetime_seconds")
        comment = body.get("comment")
        value, info = await run_in_threadpool(
            store.create_token, None if comment is None else str(comment), seconds
        )
        return json_response({"token_value": value, "token_info": info.as_dict()})

    async def list_tokens(request: Request) -> Response:
        found = await run_in_threadpool(store_of(state).tokens)
        return json_response({"token_infos": [info.as_dict() for info in found]})

    async def delete(request: Request) -> Response:
        body = await json_body(request)
        await run_in_threadpool(store_of(state).revoke, str(require(body, "token_id")))
        return json_response({})

    async def workspace_conf(request: Request) -> Response:
        store = store_of(state)
        if request.method == "GET":
            keys = [k.strip() for k in (request.query_params.get("keys") or "").split(",")]
            keys = [k for k in keys if k]
            if not keys:
                raise invalid("Missing required field: keys")
            return json_response(await run_in_threadpool(store.conf, keys))
        await run_in_threadpool(store.set_conf, await json_body(request))
        return Response(status_code=204)

    return [
        Route("/api/2.0/token/create", create, methods=["POST"]),
        Route("/api/2.0/token/list", list_tokens, methods=["GET"]),
        Route("/api/2.0/token/delete", delete, methods=["POST"]),
        Route("/api/2.0/workspace-conf", workspace_conf, methods=["GET", "PATCH"]),
    ]
