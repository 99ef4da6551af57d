"""The real MLflow tracking server (full ``mlflow``), run in-process for one local workspace.

MLflow's server app (``mlflow.server:app``, Flask) is configured through process-wide
environment variables and caches its stores in module globals: the workspace's process is
its own, so they are set once, at start, for this one data directory. Importing the server
takes seconds and creating the SQLite schema a few more: :meth:`MlflowServer.start_background`
does both in a thread once the workspace answers requests, and MLflow requests wait for it
(bounded). Other APIs never wait.

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
from local_workspace.http import buffered, json_response

log = logging.getLogger("local_workspace")

START_WAIT_S = 60.0
IMPORT_ATTEMPTS = 5
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


class MlflowServer:
    """The MLflow server of one local workspace: SQLite store and artifacts in its data dir.

    A workspace process has exactly one: it configures the process's MLflow once (the
    server's stores, then every in-process MLflow client pointed at the workspace's own URL
    and token), so model serving and anything else in the process read the workspace's own
    registry and artifacts, never a default store in some working folder.
    """

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "mlflow"
        self._ready = threading.Event()
        self._error: ApiError | None = None
        self._app: WsgiApp | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._url = ""
        self._token = ""

    @property
    def backend_store_uri(self) -> str:
        """Where runs, metrics and the registry live."""
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def artifacts_dir(self) -> Path:
        """The local artifact store the server proxies (``mlflow-artifacts:/``)."""
        return self.root / "artifacts"

    @property
    def state(self) -> str:
        """``idle`` (not started: it starts on the first MLflow request), ``starting``,
        ``ready`` or ``unavailable``."""
        if self._thread is None:
            return "idle"
        if not self._ready.is_set():
            return "starting"
        return "unavailable" if self._error is not None else "ready"

    # -- start -------------------------------------------------------------------------

    def configure(self, url: str, token: str) -> None:
        """The workspace's own address and token, known once it listens (before any start)."""
        self._url, self._token = url, token

    def start_background(self) -> None:
        """Import the server and open its store in a daemon thread (idempotent)."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._start, name="dbx-devkit-mlflow-start", daemon=True
                )
                self._thread.start()

    def wait_ready(self, timeout_s: float = START_WAIT_S) -> None:
        """Block until the server can answer (a worker thread, never the event loop)."""
        self.start_background()
        if not self._ready.wait(timeout_s):
            raise ApiError(
                503,
                "TEMPORARILY_UNAVAILABLE",
                f"The local MLflow server is still starting (waited {timeout_s:.0f} s); "
                "retry in a moment.",
            )
        if self._error is not None:
            raise self._error

    def _start(self) -> None:
        try:
            if not self._url:
                raise RuntimeError("the workspace's URL is not known yet (configure first)")
            self._configure_server()
            try:
                app = _import_server()
            except ImportError:  # mlflow-skinny: no Flask, no server
                self._error = ApiError(501, "NOT_IMPLEMENTED", NEEDS_FULL_MLFLOW)
                return
            _use_server_store_for_logged_models()
            self._open_stores()
            self._configure_clients()
            self._app = app
        except Exception as exc:  # a thread's top level: requests report it, never hang
            log.warning("the local MLflow server failed to start", exc_info=True)
            self._error = ApiError(
                503, "TEMPORARILY_UNAVAILABLE", f"The local MLflow server failed to start: {exc}"
            )
        finally:
            self._ready.set()

    def _configure_server(self) -> None:
        """What `mlflow server` hands its workers; read when MLflow's server is imported."""
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        os.environ[_BACKEND_STORE] = self.backend_store_uri
        os.environ[_ARTIFACT_ROOT] = "mlflow-artifacts:/"
        os.environ[_SERVE_ARTIFACTS] = "true"
        os.environ[_ARTIFACTS_DESTINATION] = str(self.artifacts_dir)
        os.environ.pop(_REGISTRY_STORE, None)

    def _open_stores(self) -> None:
        """Create or migrate the SQLite schema now rather than on the first request."""
        from mlflow.server import handlers

        # MLflow logs its schema creation at INFO on stderr: noise in the workspace's log.
        logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
        handlers.initialize_backend_stores(self.backend_store_uri, None, "mlflow-artifacts:/")
        # Before this workspace answers any MLflow request: no run of its own is RUNNING yet.
        ended = end_abandoned_runs(handlers._get_tracking_store())
        if ended:
            log.warning("ended %d MLflow run(s) left RUNNING by a stopped workspace", ended)

    def _configure_clients(self) -> None:
        """Point this process's MLflow clients at the workspace itself, over HTTP, once.

        Opening the stores pointed them at the SQLite file, where ``mlflow-artifacts:/``
        locations cannot be resolved; over HTTP the workspace's clients (model serving)
        see exactly what any other client sees. MLflow's REST client reads its token from
        the environment only: this process is the workspace's own, so that is the place.
        """
        import mlflow

        os.environ["MLFLOW_TRACKING_TOKEN"] = self._token
        os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
        mlflow.set_tracking_uri(self._url)
        mlflow.set_registry_uri(self._url)

    def registry_store(self) -> Any:
        """MLflow's own registry store (blocking until the server is ready): the Unity
        Catalog registry paths write through it, so one registry serves every client."""
        self.wait_ready()
        from mlflow.server import handlers

        return handlers._get_model_registry_store()

    def tracking_store(self) -> Any:
        """MLflow's own tracking store (blocking until the server is ready)."""
        self.wait_ready()
        from mlflow.server import handlers

        return handlers._get_tracking_store()

    # -- serve -------------------------------------------------------------------------

    async def handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        path: str,
        rewrite: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """Answer one HTTP request with MLflow's app, as if it had arrived on ``path``;
        ``rewrite`` edits the answer's body."""
        try:
            if not self._ready.is_set():
                body_receive = await self._wait_for_start(receive)
                if body_receive is None:
                    return  # the client gave up waiting: it retries, and only that is served
                receive = body_receive
            elif self._error is not None:
                raise self._error
        except ApiError as error:
            await json_response(error.body(), error.status)(scope, receive, send)
            return
        assert self._app is not None
        await call_wsgi(self._app, scope, receive, send, path, rewrite)

    async def _wait_for_start(self, receive: Receive) -> Receive | None:
        """Wait until MLflow has started; None when the client disconnected meanwhile.

        A client whose HTTP timeout ends first sends the request again: were the first copy
        still served once MLflow is up, a create would happen twice (the retry answering
        "already exists"). So the body is read first, and then only a disconnect can arrive."""
        _, replay = await buffered(receive)
        gone = False
        failure: ApiError | None = None
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                nonlocal gone
                if (await receive())["type"] == "http.disconnect":
                    gone = True
                    group.cancel_scope.cancel()

            group.start_soon(watch)
            try:
                await anyio.to_thread.run_sync(self.wait_ready, abandon_on_cancel=True)
            except ApiError as error:  # raised after the group: not wrapped in a group
                failure = error
            group.cancel_scope.cancel()
        if failure is not None:
            raise failure
        return None if gone else replay

    def close(self) -> None:
        """Release the SQLite connections of MLflow's stores (the process is ending)."""
        if not self._ready.is_set() or self._app is None:
            return
        from mlflow.server import handlers

        for name in ("_tracking_store", "_model_registry_store", "_job_store"):
            engine = getattr(getattr(handlers, name, None), "engine", None)
            if engine is not None:
                engine.dispose()


def _import_server() -> Any:
    """``mlflow.server.app``. A request thread importing an MLflow module at the same moment
    (serving a model, reading an exception class) can make Python refuse one of the two
    imports with "deadlock detected by _ModuleLock": the other import then completes, so
    this one is tried again rather than leaving MLflow failed for the process's lifetime."""
    for attempt in range(IMPORT_ATTEMPTS):
        try:
            from mlflow.server import app

            return app
        except ImportError as exc:
            if "deadlock detected" not in str(exc) or attempt == IMPORT_ATTEMPTS - 1:
                raise
            time.sleep(0.1 * (attempt + 1))  # the other thread finishes its import meanwhile
    raise AssertionError("unreachable")


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
    return int(status.split(" ", 1)[0]), raw_headers, b"".join(chunks)


async def call_wsgi(
    app: WsgiApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    path: str,
    rewrite: Callable[[bytes], bytes] | None = None,
) -> None:
    """Run the WSGI ``app`` on this ASGI request (as ``path``) in a worker thread; its
    body passes through ``rewrite`` if given."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    environ = _environ(scope, b"".join(chunks), path)
    status, headers, body = await anyio.to_thread.run_sync(_run_wsgi, app, environ)
    if rewrite is not None:
        body = rewrite(body)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    with contextlib.suppress(OSError):
        await send({"type": "http.response.body", "body": body})
