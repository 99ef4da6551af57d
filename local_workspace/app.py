"""The local workspace's Starlette application: auth, discovery, and the API modules."""

from __future__ import annotations

import dataclasses
import functools
import hmac
import logging
import re
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from local_workspace.api import (
    compute,
    data_quality,
    dbfs,
    files,
    functions,
    jobs,
    lineage,
    mlflow,
    mlflow_traces,
    monitors,
    notification_destinations,
    pipelines,
    scim,
    secrets,
    serving,
    sharing,
    sql,
    tokens,
    uc,
    uc_models,
    uc_registered_models,
    uc_surface,
    uc_tags,
    vector_search,
    workspace,
)
from local_workspace.config import LocalConfig
from local_workspace.errors import ApiError, internal, invalid
from local_workspace.faults import FAULTS_PATH
from local_workspace.http import json_response
from local_workspace.mlflow_server import MlflowServer
from local_workspace.state import WorkspaceState

log = logging.getLogger("local_workspace")

# Paths any client may call without a token, as on Databricks.
# The root only redirects to the MLflow UI (which needs its login cookie).
PUBLIC_PATHS = frozenset({"/.well-known/databricks-config", "/health", "/", mlflow.LOGIN_PATH})


class BearerAuth:
    """Require ``Authorization: Bearer <token>`` like a Databricks workspace (pure ASGI)."""

    def __init__(
        self, app: ASGIApp, token: str, issued: Callable[[bytes], bool] = lambda _: False
    ) -> None:
        self.app = app
        self._issued = issued  # tokens made through the Token API
        self._expected = f"Bearer {token}".encode()
        self._cookie = f"{mlflow.COOKIE_NAME}={token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path in PUBLIC_PATHS
            or mlflow.is_ui_link(path)
            # Presigned URLs carry their own signature instead of a token (mlflow_traces).
            or path.startswith(mlflow_traces.SIGNED_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        if (
            hmac.compare_digest(given, self._expected)
            or self._ui_cookie(scope)
            or self._issued(given)
        ):
            await self.app(scope, receive, send)
            return
        message = "Invalid or missing access token: send 'Authorization: Bearer <token>'."
        if path.startswith(mlflow.UI_PREFIX + "/"):
            # A browser following a "View run" link lands here before it has the UI's cookie.
            message += (
                " In a browser, open the MLflow UI login address `dbx-devkit local` prints"
                f" ({mlflow.LOGIN_PATH}?token=<token>), then the link again."
            )
        error = ApiError(401, "UNAUTHENTICATED", message)
        await json_response(error.body(), error.status)(scope, receive, send)

    def _ui_cookie(self, scope: Scope) -> bool:
        """The MLflow UI's login cookie (a browser cannot send the header): /mlflow/ only."""
        if not scope["path"].startswith(mlflow.UI_PREFIX + "/"):
            return False
        cookies = dict(scope["headers"]).get(b"cookie", b"")
        return any(hmac.compare_digest(part.strip(), self._cookie) for part in cookies.split(b";"))


class OrgIdHeader:
    """Send ``x-databricks-org-id`` (the workspace id) on every answer, as Databricks does:
    MLflow's Unity Catalog registry reads it to link a model version to its source run."""

    def __init__(self, app: ASGIApp, workspace_id: int | str) -> None:
        self.app = app
        self._header = (b"x-databricks-org-id", str(workspace_id).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self._header]}
            await send(message)

        await self.app(scope, receive, with_header)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body(), exc.status)


async def _unexpected(request: Request, exc: Exception) -> Response:
    """Any other exception: Databricks' JSON error shape with status 500, never a plain-text
    page or a traceback (Starlette re-raises it after this answer: uvicorn logs it)."""
    if isinstance(exc, OverflowError):
        # A number too large for SQLite or a C library: the request's fault, not ours.
        error = invalid("A number in the request is out of range (64-bit integers at most).")
    else:
        error = internal()
    return json_response(error.body(), error.status)


def _no_api(request: Request) -> Response:
    """Databricks' answer to a path or method it has no API for: 404 ENDPOINT_NOT_FOUND,
    naming the path without its ``/api/<version>`` prefix ("No API found for 'GET /x/y'")."""
    path = re.sub(r"^/api/\d+\.\d+(?=/)", "", request.url.path)
    error = ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{request.method} {path}'")
    return json_response(error.body(), error.status)


async def _not_found(request: Request, exc: Exception) -> Response:
    return _no_api(request)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    # Databricks routes on method and path together: a wrong method is an unknown API.
    return _no_api(request)


def _discovery_routes(state: WorkspaceState) -> list[BaseRoute]:
    async def databricks_config(request: Request) -> Response:
        # Answering this keeps the SDK quiet and makes it send X-Databricks-Workspace-Id.
        return json_response({"workspace_id": state.workspace_id})

    async def health(request: Request) -> Response:
        mlflow: MlflowServer = state.services["mlflow"]
        return json_response(
            {"status": "ok", "product": "dbx-devkit-local-workspace", "mlflow": mlflow.state}
        )

    return [
        Route("/.well-known/databricks-config", databricks_config),
        Route("/health", health),
    ]


def _fault_routes(state: WorkspaceState) -> list[BaseRoute]:
    """Tests re-arm the faults of a running workspace process and read its counters here;
    the route exists only when the workspace was started with faults (never by default)."""
    faults = state.config.faults
    if faults is None:
        return []

    async def control(request: Request) -> Response:
        if request.method == "PUT":
            body = await request.json()
            try:
                faults.arm(str(body.get("spec", "")))
            except ValueError as exc:
                raise invalid(str(exc)) from exc
        return json_response(dataclasses.asdict(faults.counters))

    return [Route(FAULTS_PATH, control, methods=["GET", "PUT"])]


def build_state(config: LocalConfig) -> WorkspaceState:
    """Open (or create) the workspace's data directory and its services."""
    from local_workspace.catalog import Catalog

    config.data_dir.mkdir(parents=True, exist_ok=True)
    state = WorkspaceState(config=config, token=config.resolved_token())
    state.services["catalog"] = Catalog(config.data_dir, config.user, seed=config.seed)
    # Cheap: MLflow itself is imported in the background once the workspace serves.
    state.services["mlflow"] = MlflowServer(config.data_dir)
    # Registered models are Unity Catalog securables: grants find them in MLflow's registry.
    state.catalog.grants.model_named = functools.partial(uc_models.model_named, state)
    return state


def create_app(config: LocalConfig) -> Starlette:
    """The ASGI app of a local workspace whose data lives in ``config.data_dir``."""
    state = build_state(config)
    # Order matters: sql opens the catalog engine that uc reads; jobs use workspace and sql.
    routes: list[BaseRoute] = [*_discovery_routes(state), *_fault_routes(state)]
    for module in (
        scim,
        workspace,
        sql,
        uc,
        files,
        functions,
        uc_tags,
        uc_surface,
        sharing,
        monitors,
        data_quality,
        jobs,
        mlflow,
        mlflow_traces,
        uc_models,
        uc_registered_models,
        vector_search,
        serving,
        lineage,
        pipelines,
        compute,
        secrets,
        dbfs,
        tokens,
        notification_destinations,
    ):
        routes.extend(module.routes(state))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(OrgIdHeader, workspace_id=state.workspace_id),
            Middleware(BearerAuth, token=state.token, issued=tokens.issued_token_check(state)),
            Middleware(mlflow.MlflowMount, server=state.services["mlflow"]),
        ],
        exception_handlers={
            ApiError: _api_error,
            OverflowError: _unexpected,
            404: _not_found,
            405: _method_not_allowed,
            Exception: _unexpected,
        },
    )
    app.state.workspace = state
    return app
