"""Task runtime: run one job task attempt in its own subprocess (own process group).

The scheduler builds a ``TaskLaunch`` (source fetched from the workspace store, parameters,
environment) and drives a ``TaskProcess``: ``start()``, then ``wait()`` for the
``TaskOutcome``; ``cancel()`` from any thread ends the whole process group.

Files in the attempt's ``workdir``: ``launch.json`` (what the child runs; no env, so no
token on disk), ``pid``, ``outcome.json`` (written by the child, read and removed by the
parent), ``logs.txt`` (the kept tail of stdout+stderr, redacted), ``task_values.json``
(``dbutils.jobs.taskValues.set``), ``tmp/`` (the task's TMPDIR).

A task gets an allow-listed environment (``TASK_ENV_ALLOWED``), never the server's; what it
returns (logs, error, traceback, notebook output) is redacted (``redact.redact``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from local_workspace.jobs.redact import redact

# The child's module imports the task runtime (dbutils, spark): only its constant here.
PARENT_PID_ENV = "DBX_DEVKIT_PARENT_PID"

# The parent keeps at most this much of a task's output (the tail) in memory and in logs.txt.
LOG_TAIL_BYTES = 1024 * 1024
# Seconds between SIGTERM and SIGKILL of the process group.
KILL_GRACE_S = 2.0
# Bounds on what the child reports (it applies them; the parent re-applies them defensively).
MAX_ERROR_TRACE_CHARS = 64 * 1024
MAX_NOTEBOOK_OUTPUT_CHARS = 1024 * 1024
# The directory holding the ``local_workspace`` package, so the child can import it.
_PROJECT_ROOT = str(Path(__file__).resolve().parents[2])

# The only variables a task process takes from the server's environment, and why. Everything
# else stays out of user code: API keys, cloud credentials, the server's Databricks and MLflow
# settings. The task's own variables (this workspace's host and token, MLflow's target, the
# run's ids: scheduler.task_env) come from its launch; HOME and TMPDIR are private (_spawn).
TASK_ENV_ALLOWED: dict[str, str] = {
    "PATH": "programs the task starts (pip, git, a shell)",
    "LANG": "the locale: text encoding of files and the terminal",
    "LANGUAGE": "the locale's message language",
    "TZ": "the host's time zone for local times",
    "USER": "getpass.getuser() and libraries naming the user",
    "LOGNAME": "getpass.getuser() and libraries naming the user",
    "VIRTUAL_ENV": "tools that look for the active virtual environment (the task runs in it)",
    "PYTHONHOME": "where the interpreter finds its standard library, when the host sets it",
    "PYTHONPATH": "the host's import path (the runtime puts its own root first)",
    "LD_LIBRARY_PATH": "native libraries of the interpreter and its extensions",
    "OPENBLAS_CORETYPE": "numpy's OpenBLAS crashes or miscomputes on some CPUs without it",
    "OPENBLAS_L2_SIZE": "numpy's OpenBLAS crashes or miscomputes on some CPUs without it",
    "SYSTEMROOT": "Windows: Python's socket and random modules need it",
    "COMSPEC": "Windows: subprocess with shell=True",
    "PATHEXT": "Windows: finding programs on PATH",
}
# Prefixes allowed the same way: LC_ALL, LC_CTYPE... (the locale, as LANG).
TASK_ENV_ALLOWED_PREFIXES = ("LC_",)

ResultState = Literal["SUCCESS", "FAILED", "TIMEDOUT", "CANCELED"]


@dataclass
class TaskLaunch:
    """Everything a task attempt needs to run."""

    task_key: str
    kind: Literal["notebook", "python"]
    source: str
    source_path: str
    language: str = "PYTHON"
    parameters: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    workdir: Path = Path(".")
    env: dict[str, str] = field(default_factory=dict)
    timeout_s: float | None = None
    libraries: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] | None = None


@dataclass
class TaskOutcome:
    """How a task attempt ended."""

    result_state: ResultState
    exit_code: int | None
    logs: str
    logs_truncated: bool
    error: str | None
    error_trace: str | None
    notebook_output: str | None
    start_time_ms: int
    end_time_ms: int
    # True when the dbutils.notebook.exit value was cut to MAX_NOTEBOOK_OUTPUT_CHARS.
    notebook_output_truncated: bool = False


class TailBuffer:
    """The last ``limit`` bytes written to it, and how many bytes were dropped before them."""

    def __init__(self, limit: int = LOG_TAIL_BYTES) -> None:
        self.limit = limit
        self.dropped = 0
        self._data = bytearray()
        self._lock = threading.Lock()

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``, dropping the oldest bytes past the limit."""
        with self._lock:
            self._data += chunk
            excess = len(self._data) - self.limit
            if excess > 0:
                del self._data[:excess]
                self.dropped += excess

    def text(self) -> str:
        """The kept bytes as text (a character cut at the start shows as U+FFFD)."""
        with self._lock:
            return self._data.decode("utf-8", errors="replace")


class TaskProcess:
    """One task attempt as a subprocess in its own process group."""

    def __init__(self, launch: TaskLaunch) -> None:
        self.launch = launch
        self.workdir = Path(launch.workdir)
        self.pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._logs = TailBuffer()
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._reason: ResultState | None = None  # CANCELED or TIMEDOUT once we kill it
        self._kill_timer: threading.Timer | None = None
        self._exited = False
        self._start_error: str | None = None
        self._outcome: TaskOutcome | None = None
        self._start_ms = _now_ms()

    def start(self) -> None:
        """Spawn ``python -m local_workspace.jobs.child <workdir>`` in a new process group.

        Call ``start()`` and ``wait()`` from the same thread: the child ends itself when the
        thread that spawned it ends (Linux parent-death signal), which must not happen first.
        A failure to spawn is not raised: ``wait()`` then returns FAILED with the reason.
        """
        with self._lock:
            if self._proc is not None or self._start_error is not None:
                raise RuntimeError("TaskProcess.start() was already called.")
            self._start_ms = _now_ms()
            if self._reason is not None:  # cancelled before it started
                return
            try:
                self._proc = self._spawn()
            except OSError as exc:
                self._start_error = f"Could not start the task process: {exc}"
                return
            self.pid = self._proc.pid
        (self.workdir / "pid").write_text(f"{self._proc.pid}\n")
        assert self._proc.stdout is not None
        self._reader = threading.Thread(
            target=_drain,
            args=(self._proc.stdout, self._logs),
            name=f"task-logs-{self.launch.task_key}",
            daemon=True,
        )
        self._reader.start()

    def wait(self) -> TaskOutcome:
        """Block until the process ends, the timeout kills it (TIMEDOUT) or cancel() does."""
        if self._outcome is not None:
            return self._outcome
        proc = self._proc
        if proc is None:
            if self._reason is None and self._start_error is None:
                raise RuntimeError("TaskProcess.wait() called before start().")
            self._outcome = self._finish(None)
            return self._outcome
        timeout = self.launch.timeout_s or None
        deadline = None if timeout is None else self._start_ms / 1000 + timeout
        try:
            remaining = None if deadline is None else max(0.0, deadline - time.time())
            returncode = proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            self._kill("TIMEDOUT")
            returncode = proc.wait()  # SIGKILL follows SIGTERM within KILL_GRACE_S
        with self._lock:
            self._exited = True
            if self._kill_timer is not None:
                self._kill_timer.cancel()
        # Grandchildren left in the group would keep the pipe open (and run on): end them.
        _signal_group(proc.pid, signal.SIGKILL)
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._outcome = self._finish(returncode)
        return self._outcome

    def cancel(self) -> None:
        """End the process group (SIGTERM, SIGKILL after ~2 s); returns at once, idempotent."""
        self._kill("CANCELED")

    # -- internals -------------------------------------------------------------------------

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        for stale in ("outcome.json", "logs.txt", "pid"):
            (self.workdir / stale).unlink(missing_ok=True)
        launch = asdict(self.launch)
        launch["workdir"] = str(self.workdir)
        del launch["env"]  # the environment holds the token: it goes to the process, not disk
        (self.workdir / "launch.json").write_text(json.dumps(launch))
        env = task_environment(os.environ, self.launch.env, self.workdir)
        return subprocess.Popen(
            [sys.executable, "-m", "local_workspace.jobs.child", str(self.workdir)],
            cwd=self.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _kill(self, reason: ResultState) -> None:
        with self._lock:
            if self._exited or self._reason is not None:
                return  # already ended, or already being killed: the first reason wins
            self._reason = reason
            proc = self._proc
            if proc is None:
                return  # not started: start() will not spawn, wait() reports the reason
            _signal_group(proc.pid, signal.SIGTERM)
            self._kill_timer = threading.Timer(
                KILL_GRACE_S, _signal_group, (proc.pid, signal.SIGKILL)
            )
            self._kill_timer.daemon = True
            self._kill_timer.start()

    def _finish(self, returncode: int | None) -> TaskOutcome:
        secrets = launch_secrets(self.launch.env)
        logs = redact(self._logs.text(), secrets)
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            (self.workdir / "logs.txt").write_text(logs, encoding="utf-8")
        except OSError:
            pass  # the outcome still carries the logs
        report = _read_report(self.workdir / "outcome.json") if returncode is not None else {}
        # The child's report is raw (the token may be in it): only its redacted copy is kept.
        (self.workdir / "outcome.json").unlink(missing_ok=True)
        for key in ("error", "error_trace", "notebook_output"):
            if isinstance(report.get(key), str):
                report[key] = redact(report[key], secrets)
        state: ResultState
        error: str | None = None
        trace = _cap_tail(report.get("error_trace"), MAX_ERROR_TRACE_CHARS)
        if self._reason == "CANCELED":
            state, error = "CANCELED", "The task was canceled."
        elif self._reason == "TIMEDOUT":
            state = "TIMEDOUT"
            error = f"Task timed out after {self.launch.timeout_s:g} s."
        elif self._start_error is not None:
            state, error = "FAILED", self._start_error
        elif report:
            error = report.get("error")
            state = "FAILED" if error else "SUCCESS"
            if not error and returncode:
                state, error = "FAILED", _exit_message(returncode)
        elif returncode == 0:
            state = "SUCCESS"  # e.g. os._exit(0): the process itself says it succeeded
        else:
            state, error = "FAILED", _exit_message(returncode or 0)
        output = report.get("notebook_output")
        output_truncated = bool(report.get("notebook_output_truncated"))
        if isinstance(output, str) and len(output) > MAX_NOTEBOOK_OUTPUT_CHARS:
            output, output_truncated = output[:MAX_NOTEBOOK_OUTPUT_CHARS], True
        return TaskOutcome(
            result_state=state,
            exit_code=returncode,
            logs=logs,
            logs_truncated=self._logs.dropped > 0,
            error=error,
            error_trace=trace,
            notebook_output=output if isinstance(output, str) else None,
            start_time_ms=self._start_ms,
            end_time_ms=_now_ms(),
            notebook_output_truncated=output_truncated,
        )


def task_environment(
    host: Mapping[str, str], launch_env: Mapping[str, str], workdir: Path
) -> dict[str, str]:
    """The environment of a task process: the allowed host variables, then its launch's own,
    a private HOME and TMPDIR, and what the runtime needs (unbuffered UTF-8 output, its root
    on PYTHONPATH)."""
    env = {
        k: v
        for k, v in host.items()
        if k in TASK_ENV_ALLOWED or k.startswith(TASK_ENV_ALLOWED_PREFIXES)
    }
    env.update(launch_env)
    # Not the host's HOME: it holds ~/.databrickscfg, ~/.aws, ~/.ssh, ~/.netrc. The
    # scheduler gives one under the data dir (caches such as matplotlib's survive runs).
    home = Path(env.get("HOME") or workdir / "home")
    tmp = workdir / "tmp"
    for folder in (home, tmp):
        folder.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env["TMPDIR"] = env["TEMP"] = env["TMP"] = str(tmp)
    env["PYTHONUNBUFFERED"] = "1"  # interleave prints and tracebacks as they happen
    env["PYTHONIOENCODING"] = "utf-8"
    env[PARENT_PID_ENV] = str(os.getpid())  # the task ends itself if this process dies
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = _PROJECT_ROOT + (os.pathsep + path if path else "")
    return env


def launch_secrets(env: Mapping[str, str]) -> list[str]:
    """The secret values a task was given (its tokens), masked in everything it returns."""
    return [v for k, v in env.items() if k.endswith("_TOKEN") and v]


def _drain(stream: IO[bytes], buffer: TailBuffer) -> None:
    """Copy the child's output into the bounded buffer until EOF."""
    fd = stream.fileno()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        buffer.write(chunk)
    stream.close()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone
        os.killpg(pgid, signum)


def _exit_message(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"The task process was killed by {name}."
    return f"The task process exited with code {returncode}."


def _read_report(path: Path) -> dict[str, Any]:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return report if isinstance(report, dict) else {}


def _cap_tail(text: Any, limit: int) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    if len(text) <= limit:
        return text
    return f"... ({len(text) - limit} characters cut)\n" + text[-limit:]


def _now_ms() -> int:
    return int(time.time() * 1000)
