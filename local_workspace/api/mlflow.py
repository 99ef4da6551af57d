"""MLflow in the local workspace: its REST paths as on Databricks, and its web UI.

- ``/api/2.0/mlflow/...``, ``/api/2.0/mlflow-artifacts/...``, ``/api/3.0/mlflow/...``,
  ``/ajax-api/...``, ``/get-artifact``, ``/model-versions/get-artifact``: MLflow's server,
  same paths (what the MLflow client calls with the workspace URL as tracking URI).
- ``/mlflow/``: MLflow's UI (``/`` redirects there); its pages fetch relative paths
  (``static-files/...``, ``ajax-api/...``), which arrive under ``/mlflow/`` and go to
  MLflow without the prefix.
- ``/ml/<page>``: the links MLflow prints for tracking URI ``databricks`` ("View run ... at
  <host>/ml/experiments/<id>/runs/<run>") redirect to the same page of the UI
  (``/mlflow/#/<page>``); the links it prints for an http tracking URI (``<host>/#/...``)
  reach the UI through the root's redirect, which browsers follow keeping the ``#...``.
- ``GET /mlflow/login?token=<token>``: a browser cannot send the bearer header, so a valid
  token (from a loopback client) sets an HttpOnly, SameSite=Strict cookie scoped to
  ``/mlflow``, and the auth middleware accepts that cookie for ``/mlflow/`` paths only.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from local_workspace.api import mlflow_files, mlflow_traces
from local_workspace.errors import ApiError, invalid
from local_workspace.http import buffered, int64, json_response
from local_workspace.mlflow_server import MlflowServer
from local_workspace.state import WorkspaceState

UI_PREFIX = "/mlflow"
LOGIN_PATH = "/mlflow/login"
# Databricks' UI path of MLflow pages: the same routes as OSS MLflow's hash router.
DATABRICKS_UI_PREFIX = "/ml/"
COOKIE_NAME = "dbx_devkit_mlflow"
# Paths MLflow answers at the same place as on its own server (and as on Databricks).
SAME_PATH_PREFIXES = (
    "/api/2.0/mlflow/",
    "/api/2.0/mlflow-artifacts/",
    "/api/3.0/mlflow/",
    "/ajax-api/",
)
SAME_PATHS = frozenset({"/get-artifact", "/model-versions/get-artifact"})
# MLflow's JSON APIs, whose requests are checked before MLflow sees them.
CHECKED_PREFIXES = ("/api/2.0/mlflow/", "/api/3.0/mlflow/", "/ajax-api/")
# Numeric ids MLflow's SQL store converts to SQLite integers.
INT_ID_FIELDS = ("experiment_id", "experiment_ids")
# Search filters become SQL LIKE patterns: SQLite refuses long ones ("pattern too complex").
FILTER_FIELDS = ("filter", "filter_string")
FILTER_MAX_CHARS = 10_000


# The Unity Catalog registry paths (registry URI ``databricks-uc``) are Databricks-only:
# the workspace answers them itself (local_workspace/api/uc_models.py).
UC_REGISTRY_PREFIX = "/api/2.0/mlflow/unity-catalog/"


def is_ui_link(path: str) -> bool:
    """Whether ``path`` only redirects to the UI (no token needed: it reveals nothing)."""
    return path == "/" or path.startswith(DATABRICKS_UI_PREFIX)


def ui_page(path: str, query_string: bytes) -> str:
    """The UI address of a Databricks-style page link ``/ml/<page>?<query>``."""
    page = path[len(DATABRICKS_UI_PREFIX) :]
    query = query_string.decode("latin-1")
    return f"{UI_PREFIX}/#/{page}" + (f"?{query}" if query else "")


def mlflow_path(path: str) -> str | None:
    """The path MLflow's app should see for a workspace path, or None if it is not MLflow's."""
    if path.startswith(UC_REGISTRY_PREFIX) or mlflow_traces.is_credentials_path(path):
        return None
    if path.startswith(SAME_PATH_PREFIXES) or path in SAME_PATHS:
        return path
    if path.startswith(UI_PREFIX + "/") and path != LOGIN_PATH:
        return path[len(UI_PREFIX) :]
    return None


class MlflowMount:
    """Pure ASGI middleware (inside the auth middleware) sending MLflow's paths to MLflow."""

    def __init__(self, app: ASGIApp, server: MlflowServer) -> None:
        self.app = app
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["path"] in ("/", UI_PREFIX):
                # The UI's assets are relative: it is served from a path ending in '/'. The
                # root redirects too: MLflow clients print "View run at <url>/#/experiments/..."
                # and browsers keep the '#...' part across the redirect.
                await RedirectResponse(UI_PREFIX + "/")(scope, receive, send)
                return
            if scope["path"].startswith(DATABRICKS_UI_PREFIX):
                location = ui_page(scope["path"], scope.get("query_string", b""))
                await RedirectResponse(location)(scope, receive, send)
                return
            target = mlflow_path(scope["path"])
            if target is not None:
                if target.startswith(CHECKED_PREFIXES):
                    body, receive = await buffered(receive)
                    try:
                        check_request(scope.get("query_string", b""), body)
                    except ApiError as error:
                        await json_response(error.body(), error.status)(scope, receive, send)
                        return
                rewrite = mlflow_files.databricks_view(scope, target)
                await self.server.handle(scope, receive, send, target, rewrite)
                return
        await self.app(scope, receive, send)


def check_request(query_string: bytes, body: bytes) -> None:
    """A 400 for input MLflow's server would fail on with a 500 (which its client retries
    for minutes): numeric ids beyond int64 (SQLite's integers), page tokens that are not
    ASCII (MLflow base64-decodes them), search filters too long for SQLite."""
    fields: list[tuple[str, Any]] = parse_qsl(query_string.decode("latin-1"))
    try:
        parsed = json.loads(body) if body else {}
    except ValueError:
        parsed = {}  # MLflow answers malformed JSON itself
    if isinstance(parsed, dict):
        fields += list(parsed.items())
    for name, value in fields:
        values = value if isinstance(value, list) else [value]
        if name in INT_ID_FIELDS:
            for item in values:
                if isinstance(item, int | str) and str(item).strip().lstrip("-").isdigit():
                    int64(item, name)
        elif name == "page_token" and isinstance(value, str) and not value.isascii():
            raise invalid(f"Invalid page_token {value!r}: use the next_page_token of a response.")
        elif name in FILTER_FIELDS and isinstance(value, str) and len(value) > FILTER_MAX_CHARS:
            raise invalid(
                f"{name} has {len(value):,} characters; at most {FILTER_MAX_CHARS:,} are allowed."
            )


def is_loopback(host: str | None) -> bool:
    """Whether a client address is this machine."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """``GET /mlflow/login?token=...``: the UI's cookie login."""

    async def login(request: Request) -> Response:
        client = request.client.host if request.client else None
        if not is_loopback(client):
            error = ApiError(
                403, "PERMISSION_DENIED", "The MLflow UI login is for loopback clients only."
            )
            return json_response(error.body(), error.status)
        given = request.query_params.get("token", "")
        if not hmac.compare_digest(given.encode(), state.token.encode()):
            error = ApiError(
                401, "UNAUTHENTICATED", "Invalid token: open the address `dbx-devkit local` prints."
            )
            return json_response(error.body(), error.status)
        response = RedirectResponse(UI_PREFIX + "/", status_code=303)
        response.set_cookie(
            COOKIE_NAME, state.token, path=UI_PREFIX, httponly=True, samesite="strict"
        )
        return response

    return [Route(LOGIN_PATH, login)]
