"""The server's runtime: settings plus a backend created on first use.

Each server holds its own runtime and hands it to its tools through the MCP context
(:func:`runtime_of`, :func:`backend_of`); there is no process-wide current runtime.

Creating the backend imports databricks-sdk (seconds) and may start the embedded local
workspace, so it happens on the first tool call, never before tools/list is answered.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from server.settings import Settings

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from local_workspace.supervisor import Supervisor
    from tools_core.backend import Backend
    from tools_core.retries import Timeouts

log = logging.getLogger("dbx_devkit")

# Seconds after start-up before the background warm-up: tools/list is answered well before,
# so the warm-up never competes with the cold start for the GIL.
WARM_UP_DELAY_S = 1.5

LOCAL_BANNER = (
    "dbx-devkit: no Databricks configuration found; using the embedded LOCAL workspace "
    "(offline rehearsal sandbox, data in {data_dir})."
)


class Runtime:
    """Holds the settings and, once needed, the backend."""

    def __init__(self, settings: Settings, backend: Backend | None = None) -> None:
        self.settings = settings
        self._backend = backend
        self._lock = threading.Lock()
        self._local: Supervisor | None = None
        self._local_lock = threading.Lock()
        self._early_start = False  # start_local_workspace ran
        self.toolsets: list[str] = []  # the enabled toolsets, set by build_server
        self._warm_up_timer: threading.Timer | None = None

    @property
    def backend_kind(self) -> str:
        """``local`` or ``remote``, known without connecting."""
        if self._backend is not None:
            return self._backend.kind
        return "remote" if self.settings.remote_configured() else "local"

    @property
    def data_dir(self) -> Path:
        """The local workspace's data directory."""
        from local_workspace.config import default_data_dir

        return self.settings.data_dir or default_data_dir()

    @property
    def results_dir(self) -> Path:
        """The one folder tools write result files into (``save_to``), local even against a
        remote workspace. Outside the folders the local warehouse's SQL can reach."""
        folder = self.settings.results_dir or self.data_dir / "results"
        return Path(os.path.abspath(folder.expanduser()))

    @property
    def timeouts(self) -> Timeouts:
        """The time limits of a tool call (``DBX_DEVKIT_CALL_TIMEOUT_S``)."""
        from tools_core.retries import Timeouts

        return Timeouts(self.settings.call_timeout_s)

    def bounded_call(self) -> AbstractContextManager[None]:
        """The scope of one tool call: its requests are retried only while the call can still
        answer within ``call_timeout_s`` (see :mod:`tools_core.retries`)."""
        from tools_core.retries import bounded_call

        return bounded_call(self.settings.call_timeout_s)

    def backend(self) -> Backend:
        """The backend, created on first call (thread-safe); made again if the supervised
        local workspace came back on another URL."""
        with self._lock:
            moved = self._local is not None and self._local.url != getattr(
                self._backend, "host", None
            )
            if self._backend is None or moved:
                self._backend = self._connect()
            return self._backend

    def _connect(self) -> Backend:
        from tools_core.backend import Backend, MlflowTarget, local_backend, workspace_client

        settings = self.settings
        timeouts = self.timeouts
        if settings.remote_configured():
            client = workspace_client(profile=settings.profile, timeouts=timeouts)
            mlflow = MlflowTarget.databricks(settings.profile)
            host = client.config.host or ""
            backend = Backend(client, "remote", host, settings.warehouse_id, mlflow, timeouts)
        else:
            # The SDK loads (seconds) here while the workspace process starts on another core.
            sdk = threading.Thread(target=_import_sdk, name="dbx-devkit-sdk-import", daemon=True)
            sdk.start()
            url, token = self._local_workspace()
            sdk.join()
            backend = local_backend(url, token, settings.warehouse_id, timeouts)
        if settings.mlflow_tracking_uri:
            # MLFLOW_TRACKING_URI wins, as in MLflow itself; the registry follows it unless set,
            # except that the workspace's own URL keeps its Unity Catalog registry.
            tracking = settings.mlflow_tracking_uri
            own = tracking.rstrip("/") == backend.host.rstrip("/")
            backend.mlflow = MlflowTarget(
                tracking,
                settings.mlflow_registry_uri or (backend.mlflow.registry_uri if own else tracking),
                backend.mlflow.token,
            )
        return backend

    def _local_workspace(self) -> tuple[str, str]:
        """The local workspace's URL and token: attached to the one already serving the data
        dir, or started as a supervised child process (its output goes to its log file)."""
        supervisor = self._supervisor()
        url = supervisor.start()
        return url, supervisor.config.resolved_token()

    def _supervisor(self) -> Supervisor:
        from local_workspace.config import LocalConfig
        from local_workspace.supervisor import Supervisor

        with self._local_lock:
            if self._local is None:
                config = LocalConfig(data_dir=self.data_dir)
                print(LOCAL_BANNER.format(data_dir=config.data_dir), file=sys.stderr)
                self._local = Supervisor(config)
            return self._local

    def warm_up_later(
        self, build_tools: Callable[[], object] | None = None, delay_s: float = WARM_UP_DELAY_S
    ) -> None:
        """Prepare the backend in the background, so the first tool call does not pay for
        importing the SDK and starting the local workspace.

        The local workspace's process starts at once: it works on another core, and this
        process only waits for its readiness line. The imports this process needs (tool
        modules, the SDK) wait until the handshake is over, so they never compete with it.
        """
        self.start_local_workspace()
        self._warm_up_timer = threading.Timer(delay_s, self._warm_up, (build_tools,))
        self._warm_up_timer.daemon = True
        self._warm_up_timer.start()

    def start_local_workspace(self) -> None:
        """Start (or attach to) the local workspace's process in the background, if this
        server uses one: the earlier, the sooner the first tool call is answered."""
        with self._local_lock:
            if self._early_start or self.backend_kind != "local" or self._backend is not None:
                return
            self._early_start = True
        threading.Thread(
            target=self._start_local_workspace, name="dbx-devkit-local-start", daemon=True
        ).start()

    def _start_local_workspace(self) -> None:
        try:
            self._supervisor().start()
        except Exception:  # a thread's top level: the first tool call retries and reports
            log.warning("starting the local workspace failed", exc_info=True)

    def _warm_up(self, build_tools: Callable[[], object] | None) -> None:
        if build_tools is not None:
            build_tools()  # tools listed from the cache are built on first call: import them now
        if self.settings.remote_configured():
            # Only import: connecting may start an interactive OAuth login, which must wait
            # for a tool call the user asked for.
            import databricks.sdk  # noqa: F401

            return
        try:
            self.backend()
        except Exception:  # a thread's top level: the first tool call retries and reports
            log.warning("warming up the local workspace failed", exc_info=True)

    def close(self) -> None:
        """Give up the local workspace (it stops unless another server still uses it)."""
        if self._warm_up_timer is not None:
            self._warm_up_timer.cancel()
        if self._local is not None:
            self._local.close()
            self._local = None


def runtime_of(ctx: Context) -> Runtime:
    """The runtime of the server handling this tool call: what its lifespan yielded
    (:func:`server.app.build_server`), so servers built in one process never share one."""
    runtime: object = ctx.request_context.lifespan_context
    if not isinstance(runtime, Runtime):
        raise RuntimeError("no dbx-devkit runtime: build the server with server.app.build_server")
    return runtime


def backend_of(ctx: Context) -> Backend:
    """The backend of this tool call's server (created on first use)."""
    return runtime_of(ctx).backend()


def _import_sdk() -> None:
    try:
        import databricks.sdk  # noqa: F401
    except ImportError:  # a thread's top level: building the client reports it
        log.warning("importing databricks-sdk failed", exc_info=True)
