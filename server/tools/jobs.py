"""jobs tools: jobs (list, get, create, update, delete) and runs (start, watch, output, repair)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from server.progress import wait_with_progress
from server.registry import reader, writer
from server.runtime import backend
from tools_core import jobs as core

# Terse on purpose: tools/list is context every agent pays on every turn.
JobId = Annotated[int, Field(description="Job id")]
RunId = Annotated[int, Field(description="Run id")]
Spec = Annotated[dict[str, Any], Field(description="JobSettings JSON (name, tasks, ...)")]
Token = Annotated[str, Field(max_length=64, description="Idempotency token; reuse on retry")]
Params = Annotated[dict[str, str], Field(description="Parameter values")]
NewSettings = Annotated[dict[str, Any], Field(description="JobSettings fields to set")]
Removals = Annotated[list[str], Field(description="e.g. schedule, tasks/<key>")]
Args = Annotated[list[str], Field(description="argv of a .py file")]
TaskKeys = Annotated[list[str], Field(description="Task keys; default failed")]


@reader("jobs")
def jobs_list(
    name: Annotated[str, Field(description="Exact name filter")] = "",
    limit: Annotated[int, Field(ge=1, le=500, description="Max jobs")] = 50,
) -> core.JobList:
    """Jobs, newest first. Details: jobs_get."""
    return core.list_jobs(backend(), name or None, limit)


@reader("jobs")
def jobs_get(
    job_id: JobId,
    detail: Annotated[Literal["summary", "full"], Field(description="full = raw JSON")] = "summary",
) -> core.JobDetail:
    """A job's tasks (kind, path, depends_on), schedule, parameters."""
    return core.get_job(backend(), job_id, detail)


@writer("jobs", destructive=False, idempotent=False)
def jobs_create(spec: Spec) -> core.JobWritten:
    """Create a job; spec and paths checked first. Name: domain-action-frequency."""
    return core.create_job(backend(), spec)


@writer("jobs", destructive=True, idempotent=True)
def jobs_update(
    job_id: JobId,
    new_settings: NewSettings = None,  # type: ignore[assignment]
    fields_to_remove: Removals = None,  # type: ignore[assignment]
) -> core.JobWritten:
    """Partial update; tasks merge by task_key."""
    return core.update_job(backend(), job_id, new_settings, fields_to_remove or ())


@writer("jobs", destructive=True, idempotent=True)
def jobs_delete(
    job_id: JobId, confirm: Annotated[bool, Field(description="Really delete")] = False
) -> core.JobWritten:
    """Delete a job. Without confirm=true: preview only."""
    return core.delete_job(backend(), job_id, confirm)


@writer("jobs", destructive=False, idempotent=True)
def jobs_run_now(
    job_id: JobId,
    job_parameters: Params = None,  # type: ignore[assignment]
    idempotency_token: Token = "",
) -> core.RunStarted:
    """Start a run; returns run_id, URL, token at once. Then jobs_wait_run."""
    return core.run_now(backend(), job_id, job_parameters, idempotency_token or None)


@writer("jobs", destructive=False, idempotent=True)
def jobs_submit(
    path: Annotated[str, Field(description="Notebook or .py workspace path")],
    params: Params = None,  # type: ignore[assignment]
    args: Args = None,  # type: ignore[assignment]
    run_name: Annotated[str, Field(description="Run name")] = "",
    cluster_id: Annotated[str, Field(description="Cluster; default serverless")] = "",
    idempotency_token: Token = "",
) -> core.RunStarted:
    """One-time run of a notebook or file; returns run_id at once."""
    return core.submit_run(
        backend(),
        path,
        params,
        args or (),
        run_name or None,
        cluster_id or None,
        idempotency_token or None,
    )


@reader("jobs")
def jobs_get_run(run_id: RunId) -> core.RunSummary:
    """Run state and per-task states, attempts, durations."""
    return core.get_run(backend(), run_id)


@reader("jobs")
async def jobs_wait_run(
    run_id: RunId,
    ctx: Context,
    timeout_s: Annotated[int, Field(ge=1, le=600, description="Max wait seconds")] = 120,
) -> core.RunSummary:
    """Wait for a run to end, with progress; on timeout poll with jobs_get_run."""
    return await wait_with_progress(
        ctx, lambda progress, check: core.wait_run(backend(), run_id, timeout_s, progress, check)
    )


@reader("jobs")
def jobs_get_run_output(
    run_id: RunId,
    task_key: Annotated[str, Field(description="Task of a job run")] = "",
    max_chars: Annotated[int, Field(ge=500, le=100_000, description="Max chars")] = 8_000,
) -> core.TaskOutput:
    """Error, traceback, log tail, notebook exit value of a task run."""
    return core.get_run_output(backend(), run_id, task_key or None, max_chars)


@reader("jobs")
def jobs_list_runs(
    job_id: Annotated[int | None, Field(description="Only this job")] = None,
    active_only: Annotated[bool, Field(description="Only active")] = False,
    completed_only: Annotated[bool, Field(description="Only completed")] = False,
    limit: Annotated[int, Field(ge=1, le=200, description="Max runs")] = 20,
) -> core.RunList:
    """Runs, newest first."""
    return core.list_runs(backend(), job_id, active_only, completed_only, limit)


@writer("jobs", destructive=True, idempotent=True)
def jobs_cancel_run(run_id: RunId) -> core.RunSummary:
    """Cancel a run; waits briefly for it to end."""
    return core.cancel_run(backend(), run_id)


@writer("jobs", destructive=False, idempotent=False)
def jobs_repair_run(
    run_id: RunId,
    rerun_tasks: TaskKeys = None,  # type: ignore[assignment]
) -> core.RunStarted:
    """Rerun failed (or given) tasks of a finished run. Then jobs_wait_run."""
    return core.repair_run(backend(), run_id, rerun_tasks or ())
