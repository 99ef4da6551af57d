"""Keep a local workspace process serving a data directory for as long as this process needs it.

An MCP server holds one :class:`Supervisor`. :meth:`Supervisor.start` attaches to the
workspace already serving the data directory (another MCP server's, or ``dbx-devkit
local``) or starts one as a child process; either way this process takes an owner lease
(:mod:`local_workspace.owners`). A watcher thread checks it twice a second and starts it
again if it died (on the same port when it can, so clients keep their URL). A spare process
that has already imported everything takes over, so a restart costs no imports; a new spare
is then prepared.
:meth:`Supervisor.close` gives the lease up and stops the child unless another owner is
attached; the workspace ends by itself once the last owner is gone, even a killed one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from local_workspace.config import LocalConfig
from local_workspace.discovery import find_running, healthy, mlflow_state
from local_workspace.owners import Owners
from local_workspace.runner import LocalWorkspace

log = logging.getLogger("local_workspace")

CHECK_S = 0.5
# The spare is prepared once the workspace has finished starting (its MLflow import done), so
# its imports never compete with the first calls, and not before SPARE_AFTER_S: a short
# session (a CLI call, a quick question) never pays for a process it will not use. At the
# latest SPARE_AT_LATEST_S after a start.
SPARE_AFTER_S = 20.0
SPARE_AT_LATEST_S = 30.0
# Failing health checks in a row before an attached workspace counts as gone: one slow
# answer under load is not a death.
ATTACHED_MISSES = 3


class Supervisor:
    """The local workspace this process uses: attached or started, watched, restarted."""

    def __init__(self, config: LocalConfig, check_s: float = CHECK_S) -> None:
        self.config = config
        self.check_s = check_s
        self.url = ""
        self.restarts = 0
        self._owners = Owners(config.data_dir)
        self._child: LocalWorkspace | None = None
        # A process with everything imported, waiting to replace the workspace if it dies.
        self._spare: LocalWorkspace | None = None
        self._spare_early = 0.0  # no spare before then (monotonic)
        self._spare_due = 0.0  # a spare from then on, started or not (monotonic)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def child_pid(self) -> int | None:
        """The pid of the workspace process this supervisor started, if it started one."""
        return self._child.pid if self._child is not None else None

    @property
    def log_path(self) -> Path:
        """The workspace process's log."""
        return self.config.data_dir / "logs" / "local-workspace.log"

    def start(self) -> str:
        """Attach to or start the workspace; its URL. Then watch it (idempotent)."""
        with self._lock:
            if not self.url:
                self._attach_or_start()
        if self._watcher is None:
            self._watcher = threading.Thread(
                target=self._watch, name="dbx-devkit-local-supervisor", daemon=True
            )
            self._watcher.start()
        return self.url

    def _attach_or_start(self) -> None:
        # Lease first: the workspace we attach to must not end between finding and leasing.
        self._owners.add()
        if self._child is not None:
            self._child.release()  # a dead child's handle holds nothing up
        with _start_lock(self.config.data_dir):
            running = find_running(self.config.data_dir)
            if running:
                log.info("attaching to the local workspace at %s", running)
                self.url, self._child = running, None
                return
            self._child = self._start_child()
            self.url = self._child.url

    def _start_child(self) -> LocalWorkspace:
        port = _port_of(self.url) or self.config.port
        spare, self._spare = self._spare, None
        try:
            if spare is not None and spare.config.port == port and spare.alive():
                child = spare.activate()
            else:
                if spare is not None:
                    spare.stop()
                child = self._workspace(port).start()
        except RuntimeError:
            if port == self.config.port:
                raise
            # The old port was taken meanwhile: a new one (clients rebuild on the new URL).
            child = self._workspace(self.config.port).start()
        self._spare_early = time.monotonic() + SPARE_AFTER_S
        self._spare_due = time.monotonic() + SPARE_AT_LATEST_S
        return child

    def _prepare_spare(self) -> None:
        """Spawn the spare once the child is done starting (see SPARE_AT_LATEST_S)."""
        child = self._child
        if child is None or self._spare is not None or not child.alive():
            return
        now = time.monotonic()
        if now < self._spare_early:
            return
        started = mlflow_state(child.url) in ("ready", "unavailable")
        if now < self._spare_due and not started:
            return
        with self._lock:
            if self._child is child and self._spare is None and not self._stop.is_set():
                self._spare = self._workspace(_port_of(child.url)).spawn(spare=True)

    def _workspace(self, port: int) -> LocalWorkspace:
        return LocalWorkspace(dataclasses.replace(self.config, port=port))

    def _watch(self) -> None:
        misses = 0
        while not self._stop.wait(self.check_s):
            if self._child is not None:
                misses = 0 if self._child.alive() else ATTACHED_MISSES
            else:
                misses = 0 if healthy(self.url) else misses + 1
            if misses < ATTACHED_MISSES:
                self._prepare_spare()
                continue
            log.warning("the local workspace process is gone: starting it again")
            try:
                with self._lock:
                    if self._stop.is_set():
                        return
                    self._attach_or_start()
                    self.restarts += 1
                misses = 0
            except Exception:  # a thread's top level: the next check tries again
                log.warning("restarting the local workspace failed", exc_info=True)

    def close(self) -> None:
        """Stop watching, give the lease up, and stop the child unless others use it."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        with self._lock:
            self._owners.remove()
            for handle in (self._child, self._spare):
                if handle is not None:
                    handle.release()
            if self._child is not None and not self._owners.alive():
                self._child.stop()
            if self._spare is not None:
                self._spare.stop()
            self._child = self._spare = None
            self.url = ""


@contextlib.contextmanager
def _start_lock(data_dir: Path) -> Iterator[None]:
    """One starter at a time per data directory: two would open the same DuckDB files."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "start.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _port_of(url: str) -> int:
    """The port of ``http://host:port`` (0 if none)."""
    _, _, port = url.rpartition(":")
    return int(port) if port.isdigit() else 0
