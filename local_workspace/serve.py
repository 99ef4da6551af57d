"""Serve one local workspace in this process, in the foreground, until told to stop.

This is the body of the workspace's own process (``python -m local_workspace``, started by
:class:`local_workspace.runner.LocalWorkspace` or by ``dbx-devkit local``). The process
belongs to this workspace alone: MLflow and the other process-wide settings are configured
once, here, for it (see :meth:`MlflowServer.start_background`).

Once listening it writes ``server.json`` (url, pid) into the data directory, so other
processes on the same data directory attach to it instead of opening the same DuckDB files.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn

from local_workspace.app import create_app
from local_workspace.config import LocalConfig
from local_workspace.discovery import remove_server_file, write_server_file
from local_workspace.faults import with_faults
from local_workspace.owners import Owners

log = logging.getLogger("local_workspace")

# The longest request line and headers h11 reads (its default is 16 KiB): past it, the
# connection is dropped while the client still sends, and the client sees a reset instead
# of an answer. A 1 MB name in a query string gets a Databricks-style answer instead.
MAX_REQUEST_HEAD_BYTES = 4 * 1024 * 1024
# How often an owned workspace checks that one of its owners still lives.
OWNER_CHECK_S = 0.5
# How long after it listens a workspace starts importing MLflow's server (see serve()).
MLFLOW_WARM_DELAY_S = 5.0

OnReady = Callable[[str, str], None]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn's server, plus what a workspace process does once it listens, and a stop on
    SIGTERM/SIGINT that lets :func:`serve` close its files (uvicorn re-raises the signal
    after its own shutdown, which would end the process before that)."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[str], None]) -> None:
        super().__init__(config)
        self._on_listening = on_listening
        self.url = ""

    async def startup(self, sockets: Any = None) -> None:
        """Start listening, then announce where."""
        await super().startup(sockets)
        if self.servers and not self.should_exit:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            self.url = f"http://{host}:{port}"
            self._on_listening(self.url)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Stop gracefully on SIGTERM/SIGINT; restore the handlers, re-raise nothing."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def serve(config: LocalConfig, on_ready: OnReady | None = None, owned: bool = False) -> None:
    """Serve ``config``'s workspace until SIGTERM/SIGINT (or, when ``owned``, until no
    process leases it any more). ``on_ready(url, token)`` runs once it answers requests."""
    config.data_dir = config.data_dir.resolve()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    # Anything relative (a library's default file, a model's scratch space) lands in the
    # workspace's own storage, never in the folder its starter happened to run in.
    os.chdir(config.data_dir)
    app = create_app(config)
    services: dict[str, Any] = app.state.workspace.services
    token: str = app.state.workspace.token
    stop_watching = threading.Event()

    def listening(url: str) -> None:
        write_server_file(config.data_dir, url, owned)
        mlflow = services.get("mlflow")
        if mlflow is not None:
            mlflow.configure(url, token)
            if config.warm_mlflow:
                # Seconds of CPU: not while the first calls arrive, nor in a workspace that
                # lives shorter than that. An MLflow request before then starts it at once.
                warm = threading.Timer(MLFLOW_WARM_DELAY_S, mlflow.start_background)
                warm.daemon = True
                warm.start()
        if on_ready is not None:
            on_ready(url, token)
        if owned:
            _watch_owners(config.data_dir, server, stop_watching)

    uv_config = uvicorn.Config(
        with_faults(app, config.faults),
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
    )
    server = _Server(uv_config, listening)
    try:
        server.run()
    finally:
        stop_watching.set()
        remove_server_file(config.data_dir, server.url)
        # Services holding files (DuckDB, SQLite) release them so a restart can reopen them.
        # Reverse order: services opened later (SQL statements) depend on earlier ones.
        for service in reversed(list(services.values())):
            close = getattr(service, "close", None)
            if callable(close):
                close()


def _watch_owners(data_dir: Path, server: uvicorn.Server, stop: threading.Event) -> None:
    """End the server once no owner lease names a live process."""
    owners = Owners(data_dir)

    def watch() -> None:
        while not stop.wait(OWNER_CHECK_S):
            if not owners.alive():
                log.warning("no owner of the local workspace is left: stopping")
                server.should_exit = True
                return

    threading.Thread(target=watch, name="dbx-devkit-owner-watch", daemon=True).start()
