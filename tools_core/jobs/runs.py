"""Runs: start (run now, one-time submit), watch (get, wait, list), read output, cancel, repair.

Starting returns the run_id at once; waiting is a separate, bounded call that never starts
anything. Starts always carry an idempotency token, so a retried call finds the run the
first call started instead of starting a second one.
"""

from __future__ import annotations

import itertools
import posixpath
import re
import uuid
from collections.abc import Callable, Mapping, Sequence

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.jobs.errors import JOB_HINT, RUN_HINT, missing_id
from tools_core.jobs.models import (
    RunList,
    RunRow,
    RunStarted,
    RunSummary,
    TaskOutput,
    latest_tasks,
)
from tools_core.polling import poll_until_done
from tools_core.retries import single_attempt

MAX_TIMEOUT_S = 600
MAX_RUNS = 200
DEFAULT_OUTPUT_CHARS = 8_000
MAX_OUTPUT_CHARS = 100_000
ERROR_CHARS = 1_000
# Result states of a task that repair_run reruns by default.
NOT_OK = (
    "FAILED",
    "TIMEDOUT",
    "CANCELED",
    "UPSTREAM_FAILED",
    "UPSTREAM_CANCELED",
    "MAXIMUM_CONCURRENT_RUNS_REACHED",
)
ProgressFn = Callable[[float, float, str], None]


def _token(idempotency_token: str | None) -> str:
    if idempotency_token is None or idempotency_token == "":
        return uuid.uuid4().hex
    if len(idempotency_token) > 64:
        raise InvalidInput("idempotency_token must be at most 64 characters.")
    return idempotency_token


def _url(backend: Backend, run_id: int) -> str | None:
    """The run's page, or None when it cannot be read now: the run has started either way,
    and failing the call would invite a second start without the token."""
    from databricks.sdk.errors import DatabricksError
    from requests import RequestException

    try:
        return backend.client.jobs.get_run(run_id).run_page_url
    except (DatabricksError, RequestException, TimeoutError):
        return None


def run_now(
    backend: Backend,
    job_id: int,
    job_parameters: Mapping[str, str] | None = None,
    idempotency_token: str | None = None,
    only: Sequence[str] = (),
) -> RunStarted:
    """Trigger a job run and return its run_id at once (no waiting).

    Without ``idempotency_token`` one is generated and returned: pass it again to retry the
    call without starting a second run.
    """
    token = _token(idempotency_token)
    params = {k: str(v) for k, v in (job_parameters or {}).items()}
    with missing_id(JOB_HINT):
        started = backend.client.jobs.run_now(
            job_id, job_parameters=params or None, idempotency_token=token, only=list(only) or None
        )
    run_id = int(started.run_id)
    return RunStarted(
        run_id=run_id, job_id=job_id, url=_url(backend, run_id), idempotency_token=token
    )


def submit_run(
    backend: Backend,
    path: str,
    params: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    run_name: str | None = None,
    cluster_id: str | None = None,
    idempotency_token: str | None = None,
) -> RunStarted:
    """A one-time run of a workspace notebook (``params`` are its widgets) or python file
    (``args`` its argv), on ``cluster_id`` or serverless. Returns the run_id at once."""
    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.compute import Environment
    from databricks.sdk.service.jobs import JobEnvironment, SubmitTask

    if not path.startswith("/"):
        raise InvalidInput(f"path must be an absolute workspace path, got {path!r}.")
    try:
        info = backend.client.workspace.get_status(path)
    except NotFound as exc:
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            f"{path} does not exist in the workspace.",
            "Upload it with workspace_write (or fix the path); nothing was started.",
        ) from exc
    kind = str(getattr(info.object_type, "value", info.object_type))
    key = re.sub(r"[^A-Za-z0-9_-]", "_", posixpath.basename(path).rsplit(".", 1)[0]) or "task"
    task: dict[str, object] = {"task_key": key[:100]}
    environments = None
    if kind == "NOTEBOOK":
        task["notebook_task"] = {
            "notebook_path": path,
            "source": "WORKSPACE",
            "base_parameters": {k: str(v) for k, v in (params or {}).items()},
        }
    elif kind == "FILE":
        task["spark_python_task"] = {
            "python_file": path,
            "source": "WORKSPACE",
            "parameters": list(args),
        }
    else:
        raise InvalidInput(f"{path} is a {kind}; jobs_submit runs a notebook or a python file.")
    if cluster_id:
        task["existing_cluster_id"] = cluster_id
    elif kind == "FILE":
        # Serverless python file tasks need an environment; notebooks use the default one.
        task["environment_key"] = "default"
        environments = [
            JobEnvironment(environment_key="default", spec=Environment(environment_version="2"))
        ]
    token = _token(idempotency_token)
    started = backend.client.jobs.submit(
        run_name=run_name or posixpath.basename(path),
        tasks=[SubmitTask.from_dict(task)],
        environments=environments,
        idempotency_token=token,
    )
    run_id = int(started.run_id)
    return RunStarted(run_id=run_id, url=_url(backend, run_id), idempotency_token=token)


def get_run(backend: Backend, run_id: int) -> RunSummary:
    """Where a run stands: overall state and message, one row per task, repairs."""
    with missing_id(RUN_HINT):
        run = backend.client.jobs.get_run(run_id, include_history=True)
    summary = RunSummary.from_sdk(run)
    summary.hint = _next_step(summary)
    return summary


def _next_step(summary: RunSummary) -> str:
    if not summary.done:
        return f"next: jobs_wait_run run_id={summary.run_id}"
    failed = [t.task_key for t in summary.tasks if t.result_state in NOT_OK[:2]]
    if failed:
        return (
            f"next: jobs_get_run_output run_id={summary.run_id} task_key={failed[0]} for the "
            f"error; after fixing, jobs_repair_run run_id={summary.run_id}"
        )
    if summary.result_state in NOT_OK[:2]:
        return f"next: jobs_get_run_output run_id={summary.run_id} for the error"
    return ""


def wait_run(
    backend: Backend,
    run_id: int,
    timeout_s: float = 60,
    on_progress: ProgressFn | None = None,
    check: Callable[[], None] | None = None,
) -> RunSummary:
    """Poll a run until it ends or ``timeout_s`` passes; never starts anything.

    ``on_progress(done_tasks, total_tasks, message)`` is called whenever the picture changes;
    ``check()`` before every poll (it raises to stop waiting, e.g. when the caller gave up).
    On timeout the result (not an error) says the run is still running and how to poll.
    """
    if not 0 <= timeout_s <= MAX_TIMEOUT_S:
        raise InvalidInput(f"timeout_s must be between 0 and {MAX_TIMEOUT_S}, got {timeout_s}.")
    summary, done = poll_until_done(
        lambda: get_run(backend, run_id),
        lambda run: run.done,
        lambda run: run.progress(),
        timeout_s,
        on_progress,
        check,
        first_interval_s=0.5,
    )
    if not done:
        summary.timed_out = True
        summary.hint = (
            f"still running after {timeout_s:g} s; poll with jobs_get_run run_id={run_id} "
            "(or jobs_wait_run again). Nothing was restarted."
        )
    return summary


def list_runs(
    backend: Backend,
    job_id: int | None = None,
    active_only: bool = False,
    completed_only: bool = False,
    limit: int = 20,
) -> RunList:
    """Runs, newest first, of one job or all; optionally only active or only completed."""
    if active_only and completed_only:
        raise InvalidInput("active_only and completed_only exclude each other; pass one.")
    if not 1 <= limit <= MAX_RUNS:
        raise InvalidInput(f"limit must be between 1 and {MAX_RUNS}, got {limit}.")
    runs = backend.client.jobs.list_runs(
        job_id=job_id,
        active_only=active_only or None,
        completed_only=completed_only or None,
        limit=min(limit + 1, 25),
    )
    found = list(itertools.islice(runs, limit + 1))
    return RunList(runs=[RunRow.from_sdk(r) for r in found[:limit]], truncated=len(found) > limit)


def get_run_output(
    backend: Backend,
    run_id: int,
    task_key: str | None = None,
    max_chars: int = DEFAULT_OUTPUT_CHARS,
) -> TaskOutput:
    """A task run's error, traceback and logs (tails, capped at ``max_chars``) and notebook
    exit value. ``run_id`` is a task run, or a job run with ``task_key`` (the only failed
    task is picked when task_key is omitted)."""
    if not 500 <= max_chars <= MAX_OUTPUT_CHARS:
        raise InvalidInput(
            f"max_chars must be between 500 and {MAX_OUTPUT_CHARS}, got {max_chars}."
        )
    with missing_id(RUN_HINT):
        run = backend.client.jobs.get_run(run_id)
    target, key = _task_run(run_id, latest_tasks(run.tasks or []), task_key)
    output = backend.client.jobs.get_run_output(target)
    meta = output.metadata
    state = None
    if meta is not None:
        state = RunSummary.from_sdk(meta).shown_state
    error = _head(output.error, ERROR_CHARS)
    budget = max_chars - len(error or "")
    logs_text = output.logs
    if output.error_trace and logs_text and output.error_trace.strip() in logs_text:
        # stderr carries the traceback too: show it once.
        logs_text = logs_text.replace(output.error_trace.strip(), "[traceback: see error_trace]")
    trace, trace_cut = _tail(output.error_trace, budget // 2 if logs_text else budget)
    budget -= len(trace or "")
    logs, logs_cut = _tail(logs_text, max(budget, 0))
    notebook = output.notebook_output.result if output.notebook_output else None
    if notebook == "":
        notebook = None  # no dbutils.notebook.exit value
    truncated = trace_cut or logs_cut or bool(output.logs_truncated)
    hint = ""
    if trace_cut or logs_cut:
        hint = (
            f"(output cut to the last {max_chars} chars: raise max_chars, up to {MAX_OUTPUT_CHARS})"
        )
    elif output.logs_truncated:
        hint = "(the workspace kept only the end of the logs)"
    return TaskOutput(
        run_id=target,
        task_key=key,
        state=state,
        error=error,
        error_trace=trace,
        logs=logs,
        notebook_output=_head(notebook, 2_000),
        truncated=truncated,
        hint=hint,
    )


def _task_run(run_id: int, tasks: Sequence[object], task_key: str | None) -> tuple[int, str | None]:
    """(task run id, task key) whose output to read."""
    from databricks.sdk.service.jobs import RunTask

    rows = [t for t in tasks if isinstance(t, RunTask)]
    keys = ", ".join(t.task_key for t in rows)
    if task_key:
        match = [t for t in rows if t.task_key == task_key]
        if not match:
            raise InvalidInput(
                f"run {run_id} has no task {task_key!r}; its tasks: {keys or 'none'}."
            )
        return int(match[0].run_id or run_id), task_key
    if len(rows) == 1:
        return int(rows[0].run_id or run_id), rows[0].task_key
    if len(rows) > 1:
        failed = [
            t
            for t in rows
            if t.state and t.state.result_state and t.state.result_state.value in NOT_OK[:2]
        ]
        if len(failed) == 1:
            return int(failed[0].run_id or run_id), failed[0].task_key
        raise InvalidInput(
            f"run {run_id} has {len(rows)} tasks ({keys}).", "Pass task_key to pick one."
        )
    return run_id, None


def _head(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _tail(text: str | None, limit: int) -> tuple[str | None, bool]:
    """The last ``limit`` chars of ``text`` from a line start (the end of a log matters most)."""
    if not text:
        return None, False
    if len(text) <= limit:
        return text, False
    if limit <= 0:
        return f"[{len(text)} chars not shown]", True
    cut = text[-limit:]
    newline = cut.find("\n")
    if 0 <= newline < len(cut) // 4:
        cut = cut[newline + 1 :]
    return f"[first {len(text) - len(cut)} of {len(text)} chars cut]\n{cut}", True


def cancel_run(backend: Backend, run_id: int, timeout_s: float = 15) -> RunSummary:
    """Cancel a run (or task run) and wait up to ``timeout_s`` for it to end."""
    with missing_id(RUN_HINT):
        backend.client.jobs.cancel_run(run_id)
    summary = wait_run(backend, run_id, timeout_s)
    if summary.timed_out:
        summary.hint = (
            f"cancel requested; still {summary.shown_state} after {timeout_s:g} s: poll with "
            f"jobs_get_run run_id={run_id}"
        )
    return summary


def repair_run(backend: Backend, run_id: int, rerun_tasks: Sequence[str] = ()) -> RunStarted:
    """Rerun the failed tasks of a finished job run (or the given task keys) in the same run.

    The run's latest repair id is sent along, so a retry after a repair already started is
    refused by the workspace instead of starting a second repair.
    """
    from databricks.sdk.service.jobs import RepairRunResponse

    with missing_id(RUN_HINT):
        run = backend.client.jobs.get_run(run_id, include_history=True)
    summary = RunSummary.from_sdk(run)
    if not summary.done:
        raise ToolsCoreError(
            "INVALID_STATE",
            f"run {run_id} is still {summary.state}; only a finished run can be repaired.",
            f"Wait with jobs_wait_run run_id={run_id}, or cancel it with jobs_cancel_run.",
        )
    keys = [t.task_key for t in summary.tasks]
    unknown = [k for k in rerun_tasks if k not in keys]
    if unknown:
        raise InvalidInput(
            f"run {run_id} has no task {', '.join(map(repr, unknown))}; "
            f"its tasks: {', '.join(keys)}."
        )
    failed = [t.task_key for t in summary.tasks if t.result_state in NOT_OK]
    if not rerun_tasks and not failed:
        raise InvalidInput(
            f"run {run_id} has no failed task to repair.",
            "Pass rerun_tasks to rerun chosen tasks, or start a new run with jobs_run_now.",
        )
    repairs = [item.id for item in run.repair_history or [] if item.id and _is_repair(item)]
    # A repeat after a lost answer would be refused (latest_repair_id is stale by then) with
    # an error that hides the repair it started: one attempt, and an honest "unknown".
    with single_attempt(f"Repairing run {run_id}", f"jobs_get_run run_id={run_id}"):
        started = backend.client.jobs.repair_run(
            run_id,
            rerun_tasks=list(rerun_tasks) or None,
            rerun_all_failed_tasks=None if rerun_tasks else True,
            latest_repair_id=repairs[-1] if repairs else None,
        )
    response: RepairRunResponse | None = started.response
    repair_id = response.repair_id if response else None
    return RunStarted(
        run_id=run_id,
        job_id=run.job_id,
        url=run.run_page_url,
        repair_id=repair_id or 0,
        rerun_tasks=list(rerun_tasks) or failed,
    )


def _is_repair(item: object) -> bool:
    kind = getattr(item, "type", None)
    return str(getattr(kind, "value", kind)) == "REPAIR"
