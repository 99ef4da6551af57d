"""Secrets API 2.0 (``/api/2.0/secrets/...``), as the SDK's ``w.secrets`` calls it.

Scopes are Databricks-backed (Azure Key Vault scopes need Azure: refused as a workspace
without them refuses). ``secrets/get`` answers the value base64-encoded, as the SDK and
``dbutils.secrets`` expect; no other call returns a value, and none is logged.
"""

from __future__ import annotations

import base64
import binascii

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import ApiError, invalid
from local_workspace.http import json_body, json_response, require
from local_workspace.secrets_store import SecretsStore, secrets_store
from local_workspace.state import WorkspaceState

PREFIX = "/api/2.0/secrets"


def store_of(state: WorkspaceState) -> SecretsStore:
    """The workspace's secrets store, opened on first use."""
    return state.service("secrets", lambda: secrets_store(state.config.data_dir))


def _query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise invalid(f"Missing required field: {name}")
    return value


def _secret_bytes(body: dict[str, object]) -> bytes:
    """The value of a put: exactly one of string_value (UTF-8) and bytes_value (base64)."""
    text, raw = body.get("string_value"), body.get("bytes_value")
    if (text is None) == (raw is None):
        raise invalid(
            "Exactly one of string_value and bytes_value must be specified.", "MALFORMED_REQUEST"
        )
    if text is not None:
        if not isinstance(text, str):
            raise invalid("string_value must be a string.")
        return text.encode("utf-8")
    if not isinstance(raw, str):
        raise invalid("bytes_value must be a base64-encoded string.")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid("bytes_value must be a base64-encoded string.") from exc


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """Scopes, secrets and ACLs."""

    async def create_scope(request: Request) -> Response:
        body = await json_body(request)
        scope = require(body, "scope")
        backend = str(body.get("scope_backend_type") or "DATABRICKS").upper()
        if backend != "DATABRICKS" or body.get("backend_azure_keyvault"):
            raise ApiError(
                400,
                "BAD_REQUEST",
                "Azure KeyVault-backed secret scopes are not available in this workspace;"
                " create a Databricks-backed scope.",
            )
        principal = body.get("initial_manage_principal")
        await run_in_threadpool(
            store_of(state).create_scope, scope, state.user, principal and str(principal)
        )
        return json_response({})

    async def list_scopes(request: Request) -> Response:
        scopes = await run_in_threadpool(store_of(state).scopes)
        if not scopes:
            return json_response({})
        return json_response(
            {"scopes": [{"name": name, "backend_type": backend} for name, backend in scopes]}
        )

    async def delete_scope(request: Request) -> Response:
        body = await json_body(request)
        await run_in_threadpool(store_of(state).delete_scope, require(body, "scope"))
        return json_response({})

    async def put_secret(request: Request) -> Response:
        body = await json_body(request)
        scope, key = require(body, "scope"), require(body, "key")
        value = _secret_bytes(body)
        await run_in_threadpool(store_of(state).put, scope, key, value)
        return json_response({})

    async def list_secrets(request: Request) -> Response:
        found = await run_in_threadpool(store_of(state).secrets, _query(request, "scope"))
        if not found:
            return json_response({})
        return json_response(
            {
                "secrets": [
                    {"key": meta.key, "last_updated_timestamp": meta.updated_ms} for meta in found
                ]
            }
        )

    async def get_secret(request: Request) -> Response:
        scope, key = _query(request, "scope"), _query(request, "key")
        value = await run_in_threadpool(store_of(state).value, scope, key)
        return json_response({"key": key, "value": base64.b64encode(value).decode("ascii")})

    async def delete_secret(request: Request) -> Response:
        body = await json_body(request)
        scope, key = require(body, "scope"), require(body, "key")
        await run_in_threadpool(store_of(state).delete, scope, key)
        return json_response({})

    async def put_acl(request: Request) -> Response:
        body = await json_body(request)
        scope, principal = require(body, "scope"), require(body, "principal")
        permission = str(require(body, "permission")).upper()
        await run_in_threadpool(store_of(state).put_acl, scope, principal, permission)
        return json_response({})

    async def get_acl(request: Request) -> Response:
        scope, principal = _query(request, "scope"), _query(request, "principal")
        permission = await run_in_threadpool(store_of(state).acl, scope, principal)
        return json_response({"principal": principal, "permission": permission})

    async def list_acls(request: Request) -> Response:
        acls = await run_in_threadpool(store_of(state).acls, _query(request, "scope"))
        return json_response(
            {"items": [{"principal": who, "permission": level} for who, level in acls]}
        )

    async def delete_acl(request: Request) -> Response:
        body = await json_body(request)
        scope, principal = require(body, "scope"), require(body, "principal")
        await run_in_threadpool(store_of(state).delete_acl, scope, principal)
        return json_response({})

    post, get = ["POST"], ["GET"]
    return [
        Route(f"{PREFIX}/scopes/create", create_scope, methods=post),
        Route(f"{PREFIX}/scopes/list", list_scopes, methods=get),
        Route(f"{PREFIX}/scopes/delete", delete_scope, methods=post),
        Route(f"{PREFIX}/put", put_secret, methods=post),
        Route(f"{PREFIX}/list", list_secrets, methods=get),
        Route(f"{PREFIX}/get", get_secret, methods=get),
        Route(f"{PREFIX}/delete", delete_secret, methods=post),
        Route(f"{PREFIX}/acls/put", put_acl, methods=post),
        Route(f"{PREFIX}/acls/get", get_acl, methods=get),
        Route(f"{PREFIX}/acls/list", list_acls, methods=get),
        Route(f"{PREFIX}/acls/delete", delete_acl, methods=post),
    ]
