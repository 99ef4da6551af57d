"""Serve one local workspace in this process, in the foreground, until told to stop.

This is the body of the workspace's own process (``python -m local_workspace``, started by
:class:`local_workspace.runner.LocalWorkspace` or by ``dbx-devkit local``). The process
belongs to this workspace alone: MLflow and the other process-wide settings are configured
once, here, for it (see :meth:`MlflowServer.start_background`).

Once listening it writes ``server.json`` (url, pid) into the data directory, so other
processes on the same data directory attach to it instead of opening the same DuckDB files.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
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

OnReady = Callable[[str, str], None]


def serve(config: LocalConfig, on_ready: OnReady | None = None, owned: bool = False) -> None:
    """Serve ``config``'s workspace until SIGINT/SIGTERM (or, when ``owned``, until no
    process leases it any more). ``on_ready(url, token)`` runs once it answers requests."""
    config.data_dir = config.data_dir.resolve()
    config.data_dir.mkdir(parents=True, exist_ok=True)
    # Anything relative (a library's default file, a model's scratch space) lands in the
    # workspace's own storage, never in the folder its starter happened to run in.
    os.chdir(config.data_dir)
    app = create_app(config)
    services: dict[str, Any] = app.state.workspace.services
    token: str = app.state.workspace.token
    server = uvicorn.Server(
        uvicorn.Config(
            with_faults(app, config.faults),
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            h11_max_incomplete_event_size=MAX_REQUEST_HEAD_BYTES,
        )
    )
    stop_watching = threading.Event()
    original_startup = server.startup
    url = ""

    async def startup(sockets: Any = None) -> None:
        nonlocal url
        await original_startup(sockets)
        if not server.servers:
            return  # could not bind: uvicorn exits
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://{config.host}:{port}"
        write_server_file(config.data_dir, url, owned)
        mlflow = services.get("mlflow")
        if mlflow is not None:
            mlflow.configure(url, token)
            if config.warm_mlflow:
                mlflow.start_background()
        if on_ready is not None:
            on_ready(url, token)
        if owned:
            _watch_owners(config.data_dir, server, stop_watching)

    server.startup = startup  # type: ignore[method-assign]
    try:
        server.run()
    finally:
        stop_watching.set()
        remove_server_file(config.data_dir, url)
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
