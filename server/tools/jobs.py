"""jobs tools: jobs (list, get, create, update, delete) and runs (start, watch, output, repair)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from server.progress import wait_with_progress
from server.registry import reader, writer
from server.runtime import backend_of
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
    ctx: Context,
    name: Annotated[str, Field(description="Exact name filter")] = "",
    limit: Annotated[int, Field(ge=1, le=500, description="Max jobs")] = 50,
) -> core.JobList:
    """Jobs, newest first. Details: jobs_get."""
    return core.list_jobs(backend_of(ctx), name or None, limit)


@reader("jobs")
def jobs_get(
    ctx: Context,
    job_id: JobId,
    detail: Annotated[Literal["summary", "full"], Field(description="full = raw JSON")] = "summary",
) -> core.JobDetail:
    """A job's tasks (kind, path, depends_on), schedule, parameters."""
    return core.get_job(backend_of(ctx), job_id, detail)


@writer("jobs", destructive=False, idempotent=False)
def jobs_create(ctx: Context, spec: Spec) -> core.JobWritten:
    """Create a job; spec and paths checked first. Name: domain-action-frequency."""
    return core.create_job(backend_of(ctx), spec)


@writer("jobs", destructive=True, idempotent=True)
def jobs_update(
    ctx: Context,
    job_id: JobId,
    new_settings: NewSettings = None,  # type: ignore[assignment]
    fields_to_remove: Removals = None,  # type: ignore[assignment]
) -> core.JobWritten:
    """Partial update; tasks merge by task_key."""
    return core.update_job(backend_of(ctx), job_id, new_settings, fields_to_remove or ())


@writer("jobs", destructive=True, idempotent=True)
def jobs_delete(
    ctx: Context,
    job_id: JobId,
    confirm: Annotated[bool, Field(description="Really delete")] = False,
) -> core.JobWritten:
    """Delete a job. Without confirm=true: preview only."""
    return core.delete_job(backend_of(ctx), job_id, confirm)


@writer("jobs", destructive=False, idempotent=True)
def jobs_run_now(
    ctx: Context,
    job_id: JobId,
    job_parameters: Params = None,  # type: ignore[assignment]
    idempotency_token: Token = "",
) -> core.RunStarted:
    """Start a run; returns run_id, URL, token at once. Then jobs_wait_run."""
    return core.run_now(backend_of(ctx), job_id, job_parameters, idempotency_token or None)


@writer("jobs", destructive=False, idempotent=True)
def jobs_submit(
    ctx: Context,
    path: Annotated[str, Field(description="Notebook or .py workspace path")],
    params: Params = None,  # type: ignore[assignment]
    args: Args = None,  # type: ignore[assignment]
    run_name: Annotated[str, Field(description="Run name")] = "",
    cluster_id: Annotated[str, Field(description="Cluster; default serverless")] = "",
    idempotency_token: Token = "",
) -> core.RunStarted:
    """One-time run of a notebook or file; returns run_id at once."""
    return core.submit_run(
        backend_of(ctx),
        path,
        params,
        args or (),
        run_name or None,
        cluster_id or None,
        idempotency_token or None,
    )


@reader("jobs")
def jobs_get_run(ctx: Context, run_id: RunId) -> core.RunSummary:
    """Run state and per-task states, attempts, durations."""
    return core.get_run(backend_of(ctx), run_id)


@reader("jobs")
async def jobs_wait_run(
    run_id: RunId,
    ctx: Context,
    timeout_s: Annotated[int, Field(ge=1, le=600, description="Max wait seconds")] = 120,
) -> core.RunSummary:
    """Wait for a run to end, with progress; on timeout poll with jobs_get_run."""
    return await wait_with_progress(
        ctx,
        lambda progress, check: core.wait_run(backend_of(ctx), run_id, timeout_s, progress, check),
    )


@reader("jobs")
def jobs_get_run_output(
    ctx: Context,
    run_id: RunId,
    task_key: Annotated[str, Field(description="Task of a job run")] = "",
    max_chars: Annotated[int, Field(ge=500, le=100_000, description="Max chars")] = 8_000,
) -> core.TaskOutput:
    """Error, traceback, log tail, notebook exit value of a task run."""
    return core.get_run_output(backend_of(ctx), run_id, task_key or None, max_chars)


@reader("jobs")
def jobs_list_runs(
    ctx: Context,
    job_id: Annotated[int | None, Field(description="Only this job")] = None,
    active_only: Annotated[bool, Field(description="Only active")] = False,
    completed_only: Annotated[bool, Field(description="Only completed")] = False,
    limit: Annotated[int, Field(ge=1, le=200, description="Max runs")] = 20,
) -> core.RunList:
    """Runs, newest first."""
    return core.list_runs(backend_of(ctx), job_id, active_only, completed_only, limit)


@writer("jobs", destructive=True, idempotent=True)
def jobs_cancel_run(ctx: Context, run_id: RunId) -> core.RunSummary:
    """Cancel a run; waits briefly for it to end."""
    return core.cancel_run(backend_of(ctx), run_id)


@writer("jobs", destructive=False, idempotent=False)
def jobs_repair_run(
    ctx: Context,
    run_id: RunId,
    rerun_tasks: TaskKeys = None,  # type: ignore[assignment]
) -> core.RunStarted:
    """Rerun failed (or given) tasks of a finished run. Then jobs_wait_run."""
    return core.repair_run(backend_of(ctx), run_id, rerun_tasks or ())
