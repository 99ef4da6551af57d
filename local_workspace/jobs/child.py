"""Entry of a task process: ``python -m local_workspace.jobs.child <workdir>``.

Reads ``<workdir>/launch.json``, checks the task's libraries, runs the notebook or python
file in a fresh ``__main__`` module, and writes ``<workdir>/outcome.json`` (error, bounded
traceback, notebook exit value). stdout/stderr go to the parent's bounded log buffer.
A process that dies without writing the outcome (os._exit, a signal) is reported by the
parent from its exit code.
"""

from __future__ import annotations

import builtins
import ctypes
import json
import linecache
import os
import select
import signal
import sys
import threading
import time
import traceback
import types
from pathlib import Path
from typing import Any

from local_workspace.jobs.dbutils import (
    DBUtils,
    NotebookExit,
    RedactingStream,
    install_runtime_module,
)
from local_workspace.jobs.libraries import LibraryUnavailable, check_environment
from local_workspace.jobs.notebook import TaskError, run_notebook
from local_workspace.spark import SparkSession, display, install_modules

MAX_ERROR_TRACE_CHARS = 64 * 1024
MAX_NOTEBOOK_OUTPUT_CHARS = 1024 * 1024
MAX_ERROR_CHARS = 2000
# Frames of these files are the runtime's own, hidden from the top of tracebacks.
_RUNTIME_DIR = str(Path(__file__).resolve().parent)


# Set by the task runtime: the workspace process this task must not outlive.
PARENT_PID_ENV = "DBX_DEVKIT_PARENT_PID"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_PARENT_POLL_S = 0.5  # without pidfd_open (not Linux, or a kernel older than 5.3)


def die_with_parent() -> None:
    """End this task's whole process group as soon as the workspace process dies.

    ``kill -9`` of the workspace gives it no chance to end its tasks, and a task (started in
    its own session) would run on as an orphan. Two ways notice: the kernel's parent-death
    signal (Linux: SIGHUP once the thread that spawned us ends; that thread waits for us
    until we exit, so it ends early only with the process) and a thread watching the parent.
    Both kill the group (the task's own subprocesses too), not only this process.
    """
    parent = int(os.environ.get(PARENT_PID_ENV) or 0)
    if parent <= 0:
        return
    signal.signal(signal.SIGHUP, lambda *_: _end_group())
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGHUP, 0, 0, 0)
    threading.Thread(
        target=_watch_parent, args=(parent,), name="dbx-devkit-parent-watch", daemon=True
    ).start()


def _watch_parent(parent: int) -> None:
    try:
        handle: int | None = os.pidfd_open(parent)
    except (AttributeError, OSError):
        handle = None
    # Checked after opening: if the parent is still ours now, the handle is the parent's.
    if os.getppid() == parent:
        if handle is not None:
            select.select([handle], [], [])  # readable once the parent has exited
        else:
            while os.getppid() == parent:
                time.sleep(_PARENT_POLL_S)
    _end_group()


def _end_group() -> None:
    """SIGKILL this process's group when it leads one (it does: the runtime starts a new
    session), else this process alone: never the group of whoever started us."""
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def main(workdir: Path) -> int:
    """Run the task described in ``workdir/launch.json``; 0 when it succeeded."""
    die_with_parent()
    launch = json.loads((workdir / "launch.json").read_text(encoding="utf-8"))
    outcome: dict[str, Any] = {"error": None, "error_trace": None, "notebook_output": None}
    try:
        outcome["notebook_output"] = _run(launch, workdir)
    except NotebookExit as done:
        outcome["notebook_output"] = done.value
    except SystemExit as exc:
        if exc.code not in (None, 0):
            outcome["error"] = f"SystemExit: {exc.code}"
            outcome["error_trace"] = _trace(exc)
    except (TaskError, LibraryUnavailable) as exc:
        outcome["error"] = str(exc)
    except BaseException as exc:  # noqa: BLE001 - the task's own failure, whatever it is
        outcome["error"] = _error_line(exc)
        outcome["error_trace"] = _trace(exc)
        if launch["kind"] == "python":  # as a script would, the traceback goes to stderr
            print(outcome["error_trace"], file=sys.stderr, end="", flush=True)
    if isinstance(sys.stdout, RedactingStream):  # the task read secrets: mask them here too
        for key in ("error", "error_trace", "notebook_output"):
            if isinstance(outcome.get(key), str):
                outcome[key] = sys.stdout.redact(outcome[key])
    _bound(outcome)
    _write_outcome(workdir, outcome)
    sys.stdout.flush()
    sys.stderr.flush()
    return 1 if outcome["error"] else 0


def _run(launch: dict[str, Any], workdir: Path) -> str | None:
    """Run the task; the notebook exit value when it gave one."""
    for note in check_environment(launch.get("libraries") or [], launch.get("environment")):
        print(note, flush=True)
    path = str(launch.get("source_path") or f"<{launch['task_key']}>")
    source = str(launch.get("source") or "")
    # Tracebacks read source lines through linecache: give it the workspace file's text.
    linecache.cache[path] = (len(source), None, source.splitlines(True), path)
    dbutils = DBUtils(launch.get("parameters") or {}, workdir)
    # `import pyspark` / `from delta.tables import DeltaTable` in the task give the local API
    # (even when a real pyspark is installed: it has no engine here).
    install_modules()
    spark = SparkSession.builder.getOrCreate()
    module = types.ModuleType("__main__")
    namespace = module.__dict__
    namespace.update(
        __file__=path,
        __builtins__=builtins,
        dbutils=dbutils,
        spark=spark,
        display=display,
        getArgument=dbutils.widgets.getArgument,
        sql=spark.sql,
        table=spark.table,
    )
    sys.modules["__main__"] = module
    install_runtime_module(namespace)
    if launch["kind"] == "python":
        sys.argv = [path, *[str(arg) for arg in launch.get("argv") or []]]
        code = compile(source, path, "exec", dont_inherit=True)
        exec(code, namespace)
        return None
    sys.argv = [path]
    run_notebook(source, path, str(launch.get("language") or "PYTHON"), namespace, spark, dbutils)
    return None


def _error_line(exc: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    line = text.splitlines()[-1] if text else type(exc).__name__
    # A SyntaxError's last line is the message; the first lines show where.
    if isinstance(exc, SyntaxError):
        line = f"SyntaxError: {exc.msg} ({exc.filename}, line {exc.lineno})"
    elif "\n" in str(exc) or type(exc).__module__.startswith("local_workspace."):
        # The first line of a long message; the runtime's own errors without module path.
        message = str(exc).strip().splitlines()
        line = f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__
    return line[:MAX_ERROR_CHARS]


def _trace(exc: BaseException) -> str:
    """The traceback without the runtime's own frames at the top."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_RUNTIME_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def _bound(outcome: dict[str, Any]) -> None:
    trace = outcome.get("error_trace")
    if isinstance(trace, str) and len(trace) > MAX_ERROR_TRACE_CHARS:
        cut = len(trace) - MAX_ERROR_TRACE_CHARS
        outcome["error_trace"] = f"... ({cut} characters cut)\n" + trace[-MAX_ERROR_TRACE_CHARS:]
    value = outcome.get("notebook_output")
    if value is not None and len(value) > MAX_NOTEBOOK_OUTPUT_CHARS:
        print(
            f"dbutils.notebook.exit value cut to {MAX_NOTEBOOK_OUTPUT_CHARS} of "
            f"{len(value)} characters.",
            flush=True,
        )
        outcome["notebook_output"] = value[:MAX_NOTEBOOK_OUTPUT_CHARS]
        outcome["notebook_output_truncated"] = True


def _write_outcome(workdir: Path, outcome: dict[str, Any]) -> None:
    temporary = workdir / "outcome.json.tmp"
    temporary.write_text(json.dumps(outcome), encoding="utf-8")
    os.replace(temporary, workdir / "outcome.json")


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
