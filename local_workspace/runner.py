"""Run a local workspace: in a background thread (embedded) or in the foreground.

A running workspace writes ``server.json`` (url, pid) into its data directory so that other
processes on the same data directory attach to it instead of opening the same DuckDB files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import uvicorn

from local_workspace.app import create_app
from local_workspace.config import LocalConfig
from local_workspace.faults import with_faults

log = logging.getLogger("local_workspace")

START_TIMEOUT_S = 60.0
# The longest request line and headers h11 reads (its default is 16 KiB): past it, the
# connection is dropped while the client still sends, and the client sees a reset instead
# of an answer. A 1 MB name in a query string gets a Databricks-style answer instead.
MAX_REQUEST_HEAD_BYTES = 4 * 1024 * 1024


class LocalWorkspace:
    """A local workspace served by uvicorn on 127.0.0.1 (a free port unless configured).

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, config: LocalConfig | None = None) -> None:
        self.config = config or LocalConfig()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.token = ""
        self._services: dict[str, Any] = {}

    def start(self) -> LocalWorkspace:
        """Build the app, serve it in a daemon thread and wait until it answers."""
        app = create_app(self.config)
        self.token = app.state.workspace.token
        self._services = app.state.workspace.services
        uv_config = uvicorn.Config(
            with_faults(app, self.config.faults),
            host=self.config.host,
            port=self.config.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        )
        self._server = uvicorn.Server(uv_config)
        self._thread = threading.Thread(
            target=self._server.run, name="dbx-devkit-local-workspace", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"The local workspace failed to start on {self.config.host}:{self.config.port}"
                )
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://{self.config.host}:{port}"
        _write_server_file(self.config.data_dir, self.url)
        if self.config.warm_mlflow:
            _start_mlflow(self._services)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        _remove_server_file(self.config.data_dir, self.url)
        # Services holding files (DuckDB, SQLite) release them so a restart can reopen them.
        # Reverse order: services opened later (SQL statements) depend on earlier ones (catalog).
        for service in reversed(list(self._services.values())):
            close = getattr(service, "close", None)
            if callable(close):
                close()
        self._services = {}

    def __enter__(self) -> LocalWorkspace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _start_mlflow(services: dict[str, Any]) -> None:
    """Import MLflow's server in the background now that the workspace answers: seconds of
    work that MLflow requests wait for and no other API does."""
    mlflow = services.get("mlflow")
    if mlflow is not None:
        mlflow.start_background()


def _server_file(data_dir: Path) -> Path:
    return data_dir / "server.json"


def _write_server_file(data_dir: Path, url: str) -> None:
    _server_file(data_dir).write_text(json.dumps({"url": url, "pid": os.getpid()}))


def _remove_server_file(data_dir: Path, url: str) -> None:
    path = _server_file(data_dir)
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("url") == url:
            path.unlink()


def find_running(data_dir: Path) -> str | None:
    """The URL of a live local workspace serving ``data_dir``, if another process runs one."""
    try:
        info: dict[str, Any] = json.loads(_server_file(data_dir).read_text())
    except (OSError, ValueError):
        return None
    url = str(info.get("url", ""))
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as resp:
            return url if resp.status == 200 else None
    except (OSError, urllib.error.URLError, ValueError):
        return None


def serve_forever(config: LocalConfig) -> None:
    """Serve in the foreground until interrupted (``dbx-devkit local``)."""
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            with_faults(app, config.faults),
            host=config.host,
            port=config.port,
            log_level="warning",
            lifespan="off",
            h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        )
    )
    original_startup = server.startup

    async def startup(sockets: Any = None) -> None:
        await original_startup(sockets)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://{config.host}:{port}"
        _write_server_file(config.data_dir, url)
        if config.warm_mlflow:
            _start_mlflow(app.state.workspace.services)
        announce = getattr(config, "on_ready", None)
        if callable(announce):
            announce(url, app.state.workspace.token)

    server.startup = startup  # type: ignore[method-assign]
    try:
        server.run()
    finally:
        with contextlib.suppress(OSError):
            _server_file(config.data_dir).unlink()
        for service in reversed(list(app.state.workspace.services.values())):
            close = getattr(service, "close", None)
            if callable(close):
                close()
