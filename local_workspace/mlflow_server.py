"""The real MLflow tracking server (full ``mlflow``), run in-process for one local workspace.

MLflow's server app (``mlflow.server:app``, Flask) is configured through process-wide
environment variables and caches its stores in module globals, so one data directory per
process may own it at a time. Importing it takes seconds and creating the SQLite schema a
few more: :meth:`MlflowServer.start_background` does both in a thread once the workspace
answers requests, and MLflow requests wait for it (bounded). Other APIs never wait.

Requests reach the Flask app through a small WSGI bridge that runs it in a worker thread
and sends each response in one buffer (see FACTS: two writes cost ~40 ms on loopback).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.types import Receive, Scope, Send

from local_workspace.errors import ApiError
from local_workspace.http import json_response

log = logging.getLogger("local_workspace")

START_WAIT_S = 60.0
NEEDS_FULL_MLFLOW = (
    "The local workspace's MLflow server needs the full mlflow: install dbx-devkit with the "
    "`mlflow` extra (`uv run --extra mlflow ...`)."
)

# Runs left RUNNING by a stopped workspace end KILLED with this tag (end_abandoned_runs).
END_REASON_TAG = "dbx_devkit.end_reason"
ABANDONED_RUN_REASON = (
    "The local workspace stopped (its process exited or was killed) while this run was "
    "RUNNING; it was ended as KILLED when the workspace restarted."
)
_SEARCH_PAGE = 1000
_SEARCH_EXPERIMENTS = 100  # experiment ids per search_runs call

# The variables `mlflow server` hands its workers (mlflow/server/constants.py).
_BACKEND_STORE = "_MLFLOW_SERVER_FILE_STORE"
_ARTIFACT_ROOT = "_MLFLOW_SERVER_ARTIFACT_ROOT"
_SERVE_ARTIFACTS = "_MLFLOW_SERVER_SERVE_ARTIFACTS"
_ARTIFACTS_DESTINATION = "_MLFLOW_SERVER_ARTIFACT_DESTINATION"
_REGISTRY_STORE = "_MLFLOW_SERVER_REGISTRY_STORE"

WsgiApp = Callable[..., Iterable[bytes]]


class _Process:
    """What is process-global: the imported Flask app and which server owns its stores."""

    lock = threading.RLock()  # guards owner and stores_of together
    import_lock = threading.Lock()
    app: WsgiApp | None = None
    import_error: str | None = None
    owner: MlflowServer | None = None
    stores_of: MlflowServer | None = None  # whose data dir MLflow's cached stores hold


class MlflowServer:
    """The MLflow server of one local workspace: SQLite store and artifacts in its data dir."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "mlflow"
        self._ready = threading.Event()
        self._error: ApiError | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    @property
    def backend_store_uri(self) -> str:
        """Where runs, metrics and the registry live."""
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def artifacts_dir(self) -> Path:
        """The local artifact store the server proxies (``mlflow-artifacts:/``)."""
        return self.root / "artifacts"

    # -- start -------------------------------------------------------------------------

    def start_background(self) -> None:
        """Import the server and open its store in a daemon thread (idempotent)."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._start, name="dbx-devkit-mlflow-start", daemon=True
                )
                self._thread.start()

    def _start(self) -> None:
        try:
            # Claim first when free: the variables must be set before MLflow is imported.
            claimed = self._claim()
            app = _import_server()
            if app is None:
                self._error = ApiError(501, "NOT_IMPLEMENTED", NEEDS_FULL_MLFLOW)
            elif claimed:
                self._open_stores()  # no-op if this server was closed meanwhile
        except Exception as exc:  # a thread's top level: requests report it, never hang
            log.warning("the local MLflow server failed to start", exc_info=True)
            self._error = ApiError(
                503, "TEMPORARILY_UNAVAILABLE", f"The local MLflow server failed to start: {exc}"
            )
        finally:
            self._ready.set()

    def _claim(self) -> bool:
        """Own the process's MLflow server if nobody does; True when this server owns it."""
        with _Process.lock:
            if _Process.owner is self:
                return True
            if _Process.owner is not None or self._closed:
                return False
            _Process.owner = self
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        os.environ[_BACKEND_STORE] = self.backend_store_uri
        os.environ[_ARTIFACT_ROOT] = "mlflow-artifacts:/"
        os.environ[_SERVE_ARTIFACTS] = "true"
        os.environ[_ARTIFACTS_DESTINATION] = str(self.artifacts_dir)
        os.environ.pop(_REGISTRY_STORE, None)
        return True

    def _open_stores(self) -> None:
        """Create or migrate the SQLite schema now rather than on the first request."""
        # MLflow logs its schema creation at INFO on stderr: noise in the MCP server's log
        # and in every command that embeds the workspace.
        logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
        with _Process.lock:
            if _Process.owner is self and _Process.stores_of is not self:
                self._open_stores_locked()
                _Process.stores_of = self

    def _open_stores_locked(self) -> None:
        from mlflow.server import handlers
        from mlflow.tracking._model_registry import utils as registry_utils
        from mlflow.tracking._tracking_service import utils as tracking_utils

        # Opening the stores points this process's MLflow client (and MLFLOW_TRACKING_URI /
        # MLFLOW_REGISTRY_URI) at the SQLite file: put them back, so in-process clients and
        # task subprocesses keep talking to the workspace over HTTP.
        saved_env = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
        saved_tracking = tracking_utils._tracking_uri
        saved_registry = registry_utils._registry_uri
        try:
            handlers.initialize_backend_stores(self.backend_store_uri, None, "mlflow-artifacts:/")
        finally:
            tracking_utils._tracking_uri = saved_tracking
            registry_utils._registry_uri = saved_registry
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        # Before this workspace answers any MLflow request: no run of its own is RUNNING yet.
        ended = end_abandoned_runs(handlers._get_tracking_store())
        if ended:
            log.warning("ended %d MLflow run(s) left RUNNING by a stopped workspace", ended)

    # -- serve -------------------------------------------------------------------------

    async def app_for_request(self) -> WsgiApp:
        """The Flask app once this workspace owns it, or the ApiError to answer instead."""
        self.start_background()
        if not self._ready.is_set():
            ready = await anyio.to_thread.run_sync(self._ready.wait, START_WAIT_S)
            if not ready:
                raise ApiError(
                    503,
                    "TEMPORARILY_UNAVAILABLE",
                    f"The local MLflow server is still starting (waited {START_WAIT_S:.0f} s); "
                    "retry in a moment.",
                )
        if self._error is not None:
            raise self._error
        app = _Process.app
        assert app is not None
        if _Process.stores_of is self:
            return app  # the usual case, without taking the lock on the event loop
        # Claiming may wait for another workspace opening its stores: not on the event loop.
        if not await anyio.to_thread.run_sync(self._claim):
            owner = _Process.owner
            where = owner.root.parent if owner is not None else "another data directory"
            raise ApiError(
                503,
                "TEMPORARILY_UNAVAILABLE",
                "The MLflow server of this process belongs to the local workspace on "
                f"{where}; run this workspace in its own process (`dbx-devkit local`) to use "
                "its MLflow.",
            )
        if _Process.stores_of is not self:
            # Ownership passed to us after a previous owner stopped: open our stores now.
            await anyio.to_thread.run_sync(self._open_stores)
            if _Process.stores_of is not self:
                raise ApiError(503, "TEMPORARILY_UNAVAILABLE", "This local workspace is stopping.")
        return app

    async def handle(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """Answer one HTTP request with MLflow's app, as if it had arrived on ``path``."""
        try:
            app = await self.app_for_request()
        except ApiError as error:
            await json_response(error.body(), error.status)(scope, receive, send)
            return
        await call_wsgi(app, scope, receive, send, path)

    def close(self) -> None:
        """Give up the process's MLflow server so another workspace may own it."""
        with _Process.lock:
            self._closed = True
            if _Process.owner is not self:
                return
            _Process.owner = None
            if _Process.stores_of is not self:
                return
            _Process.stores_of = None
            from mlflow.server import handlers

            # The stores are module globals of MLflow's handlers: drop them (and their SQLite
            # connections) so the next owner opens its own data directory.
            for name in (
                "_tracking_store",
                "_model_registry_store",
                "_job_store",
                "_artifact_repo",
            ):
                store = getattr(handlers, name, None)
                engine = getattr(store, "engine", None)
                if engine is not None:
                    engine.dispose()
                setattr(handlers, name, None)


def end_abandoned_runs(store: Any) -> int:
    """End as KILLED, with a tag saying why, every run still RUNNING in ``store``; how many.

    Called when a workspace process opens its MLflow store. A data directory is served by
    one process at a time and MLflow clients reach the store only through it, so a run still
    RUNNING then was started through a workspace process that has exited (stopped, crashed,
    killed): nothing will end it. A client that outlived that process may still log to the
    run or set its final status (MLflow allows it).
    """
    from mlflow.entities import RunStatus, RunTag, ViewType
    from mlflow.exceptions import MlflowException

    experiment_ids: list[str] = []
    token = None
    while True:
        page = store.search_experiments(
            view_type=ViewType.ALL, max_results=_SEARCH_PAGE, page_token=token
        )
        experiment_ids += [e.experiment_id for e in page]
        token = page.token
        if not token:
            break
    abandoned: list[Any] = []
    for start in range(0, len(experiment_ids), _SEARCH_EXPERIMENTS):
        token = None
        while True:
            page = store.search_runs(
                experiment_ids[start : start + _SEARCH_EXPERIMENTS],
                "attributes.status = 'RUNNING'",
                ViewType.ACTIVE_ONLY,
                max_results=_SEARCH_PAGE,
                page_token=token,
            )
            abandoned += list(page)
            token = page.token
            if not token:
                break
    ended_at = int(time.time() * 1000)
    for run in abandoned:
        try:
            store.set_tag(run.info.run_id, RunTag(END_REASON_TAG, ABANDONED_RUN_REASON))
            store.update_run_info(
                run.info.run_id, RunStatus.KILLED, end_time=ended_at, run_name=run.info.run_name
            )
        except MlflowException:
            log.warning("could not end the abandoned MLflow run %s", run.info.run_id, exc_info=True)
    return len(abandoned)


def _import_server() -> WsgiApp | None:
    """``mlflow.server:app``, imported once per process; None without the full mlflow."""
    with _Process.import_lock:
        if _Process.app is None and _Process.import_error is None:
            try:
                from mlflow.server import app
            except ImportError as exc:  # mlflow-skinny: no Flask, no server
                _Process.import_error = str(exc)
            else:
                _use_server_store_for_logged_models()
                _Process.app = app
        return _Process.app


class _ServerStoreClient:
    """Stands in for ``MlflowClient()`` inside MLflow's SQL registry store.

    Registering ``models:/<model_id>`` makes that store look the logged model up through the
    process-global tracking URI, which a standalone ``mlflow server`` points at its own store.
    Embedded, that URI belongs to this process's own MLflow clients, so the lookup goes to the
    server's tracking store directly instead.
    """

    def get_logged_model(self, model_id: str) -> Any:
        """The logged model, from the server's tracking store."""
        from mlflow.server import handlers

        return handlers._get_tracking_store().get_logged_model(model_id)


def _use_server_store_for_logged_models() -> None:
    from mlflow.store.model_registry import sqlalchemy_store

    setattr(sqlalchemy_store, "MlflowClient", _ServerStoreClient)  # noqa: B010


# -- a minimal WSGI bridge (starlette.middleware.wsgi is deprecated) ---------------------


def _environ(scope: Scope, body: bytes, path: str) -> dict[str, Any]:
    import io
    import sys

    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("127.0.0.1", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif name == "CONTENT_LENGTH":
            environ["CONTENT_LENGTH"] = value
        else:
            key = f"HTTP_{name}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ.setdefault("CONTENT_LENGTH", str(len(body)))
    return environ


def _run_wsgi(
    app: WsgiApp, environ: dict[str, Any]
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: chunks.append(data)

    chunks: list[bytes] = []
    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if callable(close):
            close()
    status, headers = started
    raw_headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in headers
        if k.lower() != "content-length"
    ]
    body = b"".join(chunks)
    raw_headers.append((b"content-length", str(len(body)).encode()))
    return int(status.split(" ", 1)[0]), raw_headers, body


async def call_wsgi(app: WsgiApp, scope: Scope, receive: Receive, send: Send, path: str) -> None:
    """Run the WSGI ``app`` on this ASGI request (as ``path``) in a worker thread."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    environ = _environ(scope, b"".join(chunks), path)
    status, headers, body = await anyio.to_thread.run_sync(_run_wsgi, app, environ)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    with contextlib.suppress(OSError):
        await send({"type": "http.response.body", "body": body})
