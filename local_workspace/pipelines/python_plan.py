"""Python pipeline sources planned into pipeline SQL, in a child process (parent side).

The child (``python -m local_workspace.pipelines.python_child``) runs the user's code with an
allow-listed environment (the job task runtime's: jobs/tasks.task_environment) holding only
this workspace's host and token, so its DataFrames reach the SQL warehouse over HTTP for
schema lookups. It returns ``CREATE ...`` / ``APPLY CHANGES`` statements, tagged with the
Python file and line of each definition, which the runner plans together with the SQL
sources. The SQL datasets go to the child so Python reads of them know their columns.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_workspace.jobs.redact import redact
from local_workspace.jobs.tasks import task_environment
from local_workspace.pipelines.sources import Source, UpdateFailed
from local_workspace.pipelines.sqlfile import Statement
from local_workspace.workspace_store import canonical

if TYPE_CHECKING:
    from local_workspace.pipelines.plan import Plan
    from local_workspace.workspace_store import WorkspaceStore

# Planning runs the user's module-level code and dataset functions: bounded, as a task is.
PLAN_TIMEOUT_S = 600.0
_POLL_S = 0.05
_KILL_GRACE_S = 2.0
_STDERR_TAIL = 2000
# Workspace .py files copied for imports: bounded (a pipeline folder, not a whole tree).
MAX_MODULE_FILES = 500
MAX_MODULE_BYTES = 20 * 1024 * 1024


@dataclass
class ChildSettings:
    """How a planning process reaches the workspace, and where it works."""

    env: dict[str, str]  # DATABRICKS_HOST / DATABRICKS_TOKEN / DBX_DEVKIT_WAREHOUSE_ID
    workdir: Path
    cancel: threading.Event = field(default_factory=threading.Event)
    timeout_s: float = PLAN_TIMEOUT_S


def sql_datasets(plan: Plan) -> dict[str, dict[str, Any]]:
    """The SQL datasets of a plan as the child needs them: query, or a CDC target's spec."""
    out: dict[str, dict[str, Any]] = {}
    for key, dataset in plan.datasets.items():
        if dataset.query is not None:
            out[key] = {"kind": dataset.kind, "query": dataset.query}
        elif key in plan.cdc:
            spec = plan.cdc[key][0]
            out[key] = {
                "kind": dataset.kind,
                "cdc": {
                    "target": key,
                    "source": str(spec.source),
                    "keys": list(spec.keys),
                    "sequence_by": spec.sequence_by,
                    "scd_type": spec.scd_type,
                    "column_list": spec.column_list,
                    "except_column_list": spec.except_column_list,
                },
            }
    return out


def plan_python(
    sources: list[Source],
    spec: dict[str, Any],
    datasets: dict[str, dict[str, Any]],
    settings: ChildSettings,
    workspace: WorkspaceStore | None = None,
) -> list[Statement]:
    """The pipeline statements the Python sources define; UpdateFailed with the user's error."""
    request: dict[str, Any] = {
        "sources": [{"path": s.path, "text": s.text} for s in sources],
        "sql_datasets": datasets,
        "catalog": str(spec.get("catalog") or ""),
        "schema": str(spec.get("schema") or spec.get("target") or ""),
        "configuration": dict(spec.get("configuration") or {}),
    }
    workdir = settings.workdir
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    try:
        if workspace is not None:
            request["sys_path"] = _copy_modules(sources, spec, workspace, workdir / "modules")
        (workdir / "plan_in.json").write_text(json.dumps(request), encoding="utf-8")
        out = _run_child(settings)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    secrets = [v for k, v in settings.env.items() if k.endswith("_TOKEN") and v]
    if "error" in out:
        message = redact(str(out["error"]), secrets)
        trace = redact(str(out.get("trace") or ""), secrets)
        if trace:
            message += "\nTraceback (the pipeline's source files, most recent call last):\n"
            message += trace.rstrip()
        raise UpdateFailed(message, str(out.get("class_name") or "PythonException"))
    return [
        Statement(text=str(s["sql"]), path=str(s["path"]), line=int(s["line"]))
        for s in out.get("statements") or []
    ]


def _copy_modules(
    sources: list[Source], spec: dict[str, Any], workspace: WorkspaceStore, root: Path
) -> list[str]:
    """Copy the .py workspace files of the sources' folders (and the pipeline's root_path)
    under ``root``; the folders to put on sys.path, as Databricks puts a source's folder.

    ``from helpers import clean`` next to a pipeline source then imports the workspace file.
    """
    folders: list[str] = []
    for path in [s.path for s in sources] + [str(spec.get("root_path") or "") + "/x"]:
        folder = canonical(path).rsplit("/", 1)[0]
        if folder and folder not in folders:
            folders.append(folder)
    copied: set[str] = set()
    total = 0
    for folder in folders:
        for obj in workspace.descendants(folder):
            if obj.object_type != "FILE" or not obj.path.endswith(".py") or obj.path in copied:
                continue
            if len(copied) >= MAX_MODULE_FILES or total + (obj.size or 0) > MAX_MODULE_BYTES:
                # A huge folder (a home folder): what is left out fails its import, if used.
                return _importable(root, folders)
            data = workspace.read(obj)
            total += len(data)
            target = root / obj.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            copied.add(obj.path)
    return _importable(root, folders)


def _importable(root: Path, folders: list[str]) -> list[str]:
    return [str(root / f.lstrip("/")) for f in folders if (root / f.lstrip("/")).is_dir()]


def _run_child(settings: ChildSettings) -> dict[str, Any]:
    workdir = settings.workdir
    env = task_environment(os.environ, settings.env, workdir)
    with open(workdir / "stderr.txt", "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "local_workspace.pipelines.python_child", str(workdir)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # print() in pipeline code goes nowhere, as in a plan
            stderr=stderr,
            start_new_session=True,
        )
        deadline = time.monotonic() + settings.timeout_s
        try:
            while True:
                try:
                    proc.wait(timeout=_POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    if settings.cancel.is_set():
                        raise UpdateFailed("The update was canceled.", "Canceled") from None
                    if time.monotonic() > deadline:
                        raise UpdateFailed(
                            f"Planning the Python sources took more than {settings.timeout_s:g} "
                            "s: a dataset function or module-level code does not end.",
                            "TimeoutException",
                        ) from None
        finally:
            _end(proc)
    try:
        found = json.loads((workdir / "plan_out.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tail = (workdir / "stderr.txt").read_bytes()[-_STDERR_TAIL:].decode("utf-8", "replace")
        return {
            "error": f"The Python planning process ended with code {proc.returncode} without "
            f"a result.{(' Its last output: ' + tail.strip()) if tail.strip() else ''}",
            "class_name": "PythonException",
        }
    return found if isinstance(found, dict) else {"error": "unreadable planning result"}


def _end(proc: subprocess.Popen[bytes]) -> None:
    """End the child's whole process group (it may have started processes of its own)."""
    import signal

    for signum, grace in ((signal.SIGTERM, _KILL_GRACE_S), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, signum)
        except (ProcessLookupError, PermissionError):
            break
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # grandchildren left in the group
