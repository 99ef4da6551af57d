"""MLflow traces from clients whose tracking URI is ``databricks``, stored by MLflow's server.

With tracking URI ``databricks`` (MLflow 3.17), a finished trace is exported in two steps
(``MlflowV3SpanExporter._log_trace``):

1. ``POST /api/3.0/mlflow/traces`` (StartTraceV3): the trace's info; MLflow's server answers
   it as it is, with the tag ``mlflow.artifactLocation`` saying where the spans go.
2. The spans (``traces.json``) go to that location through MLflow's
   ``DatabricksArtifactRepository``: ``GET /api/2.0/mlflow/traces/{id}/credentials-for-data-
   upload`` hands out a presigned URL, and the client ``PUT``s the file there. Reading a
   trace back is the same with ``credentials-for-data-download`` and a ``GET``.

The client accepts only a ``dbfs:/databricks/mlflow-tracking/<experiment>/<trace id>/...``
location for that repository, while MLflow's server stores ``mlflow-artifacts:/<experiment>/
traces/<trace id>/artifacts``, the form HTTP clients (job tasks, tools, the UI) need. So the
trace answers a Databricks client reads (``/api/3.0/mlflow/traces...``) show the ``dbfs:``
form of the same location (the rewrite, for runs and logged models too, is
:func:`local_workspace.api.mlflow_files.databricks_view`). The
presigned URLs point at this workspace (``/signed-storage/...``), carry an expiry and an
HMAC keyed by the workspace's secret token instead of a bearer token, as cloud presigned
URLs do, and reach only that trace's files inside MLflow's artifact store.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import uuid
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import ApiError, invalid, not_found
from local_workspace.http import json_response
from local_workspace.mlflow_server import MlflowServer
from local_workspace.state import WorkspaceState

CREDENTIALS = re.compile(
    r"^/api/2\.0/mlflow/traces/(?P<trace_id>[^/]+)/credentials-for-data-(?P<op>upload|download)$"
)
SIGNED_PREFIX = "/signed-storage/traces/"
URL_TTL_S = 15 * 60
# The largest trace file accepted (MLflow's spans of one trace, as JSON).
MAX_UPLOAD_BYTES = 256 * 1024 * 1024
TRACES_FILE = "traces.json"
_ATTACHMENT = re.compile(r"^attachments/[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_TRACE_ID = re.compile(r"^tr-[0-9a-f]{1,64}$")
ARTIFACT_LOCATION_TAG = "mlflow.artifactLocation"
SERVER_SCHEME = "mlflow-artifacts:/"


def is_credentials_path(path: str) -> bool:
    """Whether the workspace answers ``path`` itself (MLflow's OSS server has no such API)."""
    return CREDENTIALS.match(path) is not None


def _file_name(raw: Any) -> str:
    name = str(raw or TRACES_FILE)
    if name != TRACES_FILE and not _ATTACHMENT.match(name):
        raise invalid(f"Invalid trace artifact path {name[:100]!r}.")
    return name


def _signature(token: str, method: str, trace_id: str, name: str, expires: int) -> str:
    message = f"{method}\n{trace_id}\n{name}\n{expires}".encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()


def _data_file(server: MlflowServer, trace_id: str, name: str) -> Path:
    """Where a trace's file lives in MLflow's artifact store (blocking: a worker thread)."""
    if not _TRACE_ID.match(trace_id):
        raise not_found(f"Trace with ID {trace_id[:100]} not found.")
    store = server.tracking_store()  # waits for MLflow before importing any of it
    from mlflow.exceptions import MlflowException

    try:
        info = store.get_trace_info(trace_id)
    except MlflowException as exc:
        raise not_found(f"Trace with ID {trace_id} not found.") from exc
    location = str(info.tags.get(ARTIFACT_LOCATION_TAG) or "")
    if not location.startswith(SERVER_SCHEME):
        raise not_found(f"Trace {trace_id} keeps no span data in artifact storage.")
    root = server.artifacts_dir.resolve()
    path = (root / location[len(SERVER_SCHEME) :].lstrip("/") / name).resolve()
    if not path.is_relative_to(root):
        raise not_found(f"Trace {trace_id} keeps no span data in artifact storage.")
    return path


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The trace-data credentials and the presigned URLs they hand out."""
    server: MlflowServer = state.services["mlflow"]

    async def credentials(request: Request) -> Response:
        match = CREDENTIALS.match(request.url.path)
        assert match is not None
        trace_id, op = match["trace_id"], match["op"]
        name = _file_name(request.query_params.get("path"))
        await run_in_threadpool(_data_file, server, trace_id, name)  # the trace must exist
        method = "PUT" if op == "upload" else "GET"
        expires = int(time.time()) + URL_TTL_S
        signature = _signature(state.token, method, trace_id, name, expires)
        base = str(request.base_url).rstrip("/")
        url = f"{base}{SIGNED_PREFIX}{trace_id}/{name}?expires={expires}&signature={signature}"
        return json_response(
            {"credential_info": {"signed_uri": url, "type": "AWS_PRESIGNED_URL", "headers": []}}
        )

    async def signed(request: Request) -> Response:
        trace_id = request.path_params["trace_id"]
        name = _file_name(request.path_params["name"])
        try:
            expires = int(request.query_params.get("expires", ""))
        except ValueError:
            expires = 0
        expected = _signature(state.token, request.method, trace_id, name, expires)
        given = request.query_params.get("signature", "")
        if expires < time.time() or not hmac.compare_digest(given, expected):
            raise ApiError(403, "PERMISSION_DENIED", "The presigned URL is invalid or expired.")
        path = await run_in_threadpool(_data_file, server, trace_id, name)
        if request.method == "GET":
            if not path.is_file():
                raise not_found(f"No {name} for trace {trace_id}.")
            return Response(await run_in_threadpool(path.read_bytes))
        body = await request.body()
        if len(body) > MAX_UPLOAD_BYTES:
            raise invalid(f"A trace file may have at most {MAX_UPLOAD_BYTES:,} bytes.")
        await run_in_threadpool(_write, path, body)
        return Response(b"")

    return [
        Route("/api/2.0/mlflow/traces/{trace_id}/credentials-for-data-upload", credentials),
        Route("/api/2.0/mlflow/traces/{trace_id}/credentials-for-data-download", credentials),
        Route(SIGNED_PREFIX + "{trace_id}/{name:path}", signed, methods=["GET", "PUT"]),
    ]


def _write(path: Path, data: bytes) -> None:
    """Whole or not at all: a reader never sees half a trace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
