"""Start a local workspace as its own process, find one already running, stop it.

:class:`LocalWorkspace` is a handle on a child process (``python -m local_workspace``): the
workspace shares no memory, environment or MLflow settings with whoever started it (an MCP
server, a test, a bench). The child reports readiness on a pipe; its output goes to
``<data_dir>/logs/local-workspace.log``, never to its starter's stdout or stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from local_workspace.config import TOKEN_ENV, LocalConfig
from local_workspace.discovery import find_running, healthy
from local_workspace.owners import Owners

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
# What a failed start reports from the child's log.
LOG_TAIL_CHARS = 1500
# The starter's configuration for *its* clients: never the workspace's business.
_CLIENT_ENV_PREFIXES = ("DATABRICKS_", "MLFLOW_", "DBX_DEVKIT_")


class LocalWorkspace:
    """A local workspace served by its own process on 127.0.0.1 (a free port unless set).

    Use as a context manager, or call :meth:`start` and :meth:`stop`. The starting process
    takes an owner lease (:mod:`local_workspace.owners`): the workspace ends by itself once no
    lease names a live process, so it never outlives a starter that died without stopping it.
    """

    def __init__(self, config: LocalConfig | None = None) -> None:
        self.config = config or LocalConfig()
        self.url = ""
        self.token = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._ready: IO[bytes] | None = None  # the readiness pipe, until read
        self._lease: Owners | None = None  # this handle's owner lease, from spawn()

    @property
    def pid(self) -> int | None:
        """The workspace process's id, once started."""
        return self._process.pid if self._process is not None else None

    @property
    def log_path(self) -> Path:
        """Where the workspace process writes its log."""
        return self.config.data_dir / "logs" / "local-workspace.log"

    def start(self) -> LocalWorkspace:
        """Start the process and wait (bounded) until it answers requests."""
        self.spawn()
        return self.wait_ready()

    def spawn(self, spare: bool = False) -> LocalWorkspace:
        """Start the process without waiting. A ``spare`` one imports everything it needs,
        then waits for :meth:`activate` before it touches the data directory (it ends if
        its starter goes away first): a restart then costs no imports."""
        data_dir = self.config.data_dir = self.config.data_dir.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._lease = Owners(data_dir)
        self._lease.add()
        read_fd, write_fd = os.pipe()
        try:
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    self._command(write_fd, spare),
                    stdin=subprocess.PIPE if spare else subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=data_dir,
                    env=self._env(),
                    pass_fds=(write_fd,),
                    # Its own session: a Ctrl-C meant for the starter's terminal does not
                    # reach a workspace other owners may still use.
                    start_new_session=True,
                )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self._ready = os.fdopen(read_fd, "rb")
        return self

    def activate(self) -> LocalWorkspace:
        """Let a spare process (:meth:`spawn`) serve, and wait until it answers."""
        process = self._process
        assert process is not None and process.stdin is not None
        with contextlib.suppress(OSError):  # it died meanwhile: wait_ready says so
            process.stdin.write(b"go\n")
            process.stdin.close()
        return self.wait_ready()

    def wait_ready(self) -> LocalWorkspace:
        """Wait (bounded) until the spawned process answers requests."""
        assert self._ready is not None
        with self._ready:
            info = self._wait_ready(self._ready)
        self._ready = None
        self.token = self.config.resolved_token()
        self.url = str(info["url"])
        return self

    def _command(self, ready_fd: int, spare: bool) -> list[str]:
        config = self.config
        command = [sys.executable, "-m", "local_workspace", "--data-dir", str(config.data_dir)]
        command += ["--host", config.host, "--port", str(config.port), "--user", config.user]
        command += ["--ready-fd", str(ready_fd)]
        if not config.seed:
            command.append("--no-seed")
        if not config.warm_mlflow:
            command.append("--no-warm-mlflow")
        if config.faults is not None:
            command += ["--faults", config.faults.to_spec()]
        command.append("--owned")
        if spare:
            command.append("--spare")
        return command

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_CLIENT_ENV_PREFIXES)}
        # The child imports this very copy of the package, whatever its working folder.
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        if self.config.token:
            env[TOKEN_ENV] = self.config.token
        return env

    def _wait_ready(self, ready: IO[bytes]) -> dict[str, Any]:
        """The child's ready line; a clear error with its log when it exits or hangs."""
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                raise RuntimeError(
                    f"The local workspace did not start within {START_TIMEOUT_S:.0f} s."
                    + self._log_tail()
                )
            readable, _, _ = select.select([ready], [], [], left)
            if readable:
                chunk = os.read(ready.fileno(), 4096)
                if not chunk:
                    break  # the child closed the pipe: it exited
                line += chunk
        if not line.endswith(b"\n"):
            code = self._process.wait(timeout=STOP_TIMEOUT_S)
            raise RuntimeError(
                f"The local workspace failed to start on {self.config.host}:{self.config.port}"
                f" (exit code {code})." + self._log_tail()
            )
        info: dict[str, Any] = json.loads(line)
        return info

    def _log_tail(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        tail = text[-LOG_TAIL_CHARS:].strip()
        return f" Its log ({self.log_path}) ends with:\n{tail}" if tail else ""

    def alive(self) -> bool:
        """Whether the workspace process still runs."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Stop the process: SIGTERM (it closes its files), SIGKILL if it does not end; then
        give up this handle's lease."""
        self._stop_process()
        self.release()

    def release(self) -> None:
        """Give up this handle's lease without stopping the process (others may use it)."""
        if self._lease is not None:
            self._lease.remove()

    def _stop_process(self) -> None:
        process = self._process
        if process is None:
            return
        if self._ready is not None:
            self._ready.close()
            self._ready = None
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # a spare that was never activated ends on its own
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)

    def __enter__(self) -> LocalWorkspace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["LocalWorkspace", "find_running", "healthy"]
