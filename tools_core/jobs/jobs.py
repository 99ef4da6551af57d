"""Jobs: list, get, create, update (partial), delete.

Creates and updates are validated before anything is sent (spec shape, task DAG, and that
the notebooks/files the tasks run exist), so a call that fails validation creates nothing.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any, Literal

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.jobs.errors import JOB_HINT, missing_id
from tools_core.jobs.models import (
    JobDetail,
    JobList,
    JobRow,
    JobWritten,
    TaskInfo,
    schedule_text,
    task_kind,
)
from tools_core.jobs.notifications import check_destinations
from tools_core.jobs.spec import check_paths_exist, job_settings, validate_job_spec
from tools_core.retries import single_attempt

MAX_JOBS = 500
MAX_SETTINGS_CHARS = 20_000
# Active runs counted in a delete preview.
ACTIVE_RUNS_CAP = 25


def list_jobs(backend: Backend, name: str | None = None, limit: int = 50) -> JobList:
    """Jobs, newest first; ``name`` filters on the exact name (case-insensitive)."""
    if not 1 <= limit <= MAX_JOBS:
        raise InvalidInput(f"limit must be between 1 and {MAX_JOBS}, got {limit}.")
    page = min(limit + 1, 100)
    found = list(
        itertools.islice(backend.client.jobs.list(name=name or None, limit=page), limit + 1)
    )
    return JobList(jobs=[JobRow.from_sdk(j) for j in found[:limit]], truncated=len(found) > limit)


def get_job(
    backend: Backend, job_id: int, detail: Literal["summary", "full"] = "summary"
) -> JobDetail:
    """A job's settings: tasks with kinds, paths and dependencies, schedule, parameters."""
    with missing_id(JOB_HINT):
        job = backend.client.jobs.get(job_id)
    settings = job.settings
    if detail == "full":
        text = json.dumps(settings.as_dict() if settings else {}, indent=1)
        hint = ""
        if len(text) > MAX_SETTINGS_CHARS:
            hint = f"(settings cut at {MAX_SETTINGS_CHARS} of {len(text)} chars)"
            text = text[:MAX_SETTINGS_CHARS]
        return JobDetail(
            job_id=job_id, name=settings.name if settings else None, settings_json=text, hint=hint
        )
    tasks = []
    for task in (settings.tasks if settings else None) or []:
        kind, path = task_kind(task)
        deps = [d.task_key for d in task.depends_on or []]
        tasks.append(TaskInfo(task_key=task.task_key, kind=kind, path=path, depends_on=deps))
    params = {p.name: p.default for p in (settings.parameters if settings else None) or []}
    return JobDetail(
        job_id=job.job_id or job_id,
        name=settings.name if settings else None,
        creator=job.creator_user_name,
        tasks=tasks,
        schedule=schedule_text(settings.schedule) if settings else None,
        parameters=params,
        max_concurrent_runs=settings.max_concurrent_runs if settings else None,
        timeout_seconds=settings.timeout_seconds if settings else None,
        tags=dict(settings.tags or {}) if settings else {},
        hint="full settings JSON: detail='full'; run it: jobs_run_now",
    )


def create_job(backend: Backend, spec: Mapping[str, Any]) -> JobWritten:
    """Create a job from a JobSettings-shaped spec; naming-convention warnings in the result."""
    warnings = validate_job_spec(spec)
    check_paths_exist(backend, spec.get("tasks") or [], git=spec.get("git_source") is not None)
    check_destinations(backend, spec)
    settings = job_settings(spec)
    fields = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    # jobs/create has no idempotency token: a retry after a lost answer makes a second job.
    with single_attempt(
        f"Creating job {settings.name!r}",
        f"jobs_list name={settings.name!r}" if settings.name else "jobs_list",
    ):
        created = backend.client.jobs.create(**{k: v for k, v in fields.items() if v is not None})
    return JobWritten(
        job_id=created.job_id or 0,
        action="created",
        name=settings.name,
        tasks=len(settings.tasks or []),
        warnings=warnings,
    )


def update_job(
    backend: Backend,
    job_id: int,
    new_settings: Mapping[str, Any] | None = None,
    fields_to_remove: Sequence[str] = (),
) -> JobWritten:
    """Partial update: top-level fields of ``new_settings`` replace the job's (tasks merge by
    task_key); ``fields_to_remove`` drops top-level fields or ``tasks/<task_key>``."""
    from databricks.sdk.service.jobs import JobSettings

    new_settings = dict(new_settings or {})
    if not new_settings and not fields_to_remove:
        raise InvalidInput("nothing to update.", "Pass new_settings and/or fields_to_remove.")
    with missing_id(JOB_HINT):
        current = backend.client.jobs.get(job_id)
    current_keys = [
        t.task_key for t in (current.settings.tasks if current.settings else None) or []
    ]
    removed_tasks = {f.split("/", 1)[1] for f in fields_to_remove if f.startswith("tasks/")}
    _check_removals(fields_to_remove, current_keys)
    kept = [k for k in current_keys if k not in removed_tasks]
    warnings = validate_job_spec(new_settings, partial=True, existing_task_keys=kept)
    git = new_settings.get("git_source") is not None or bool(
        current.settings and current.settings.git_source
    )
    check_paths_exist(backend, new_settings.get("tasks") or [], git=git)
    check_destinations(backend, new_settings)
    backend.client.jobs.update(
        job_id,
        new_settings=JobSettings.from_dict(new_settings) if new_settings else None,
        fields_to_remove=list(fields_to_remove) or None,
    )
    after = backend.client.jobs.get(job_id).settings
    return JobWritten(
        job_id=job_id,
        action="updated",
        name=after.name if after else None,
        tasks=len(after.tasks or []) if after else None,
        warnings=warnings,
    )


def _check_removals(fields_to_remove: Sequence[str], current_keys: Sequence[str]) -> None:
    from databricks.sdk.service.jobs import JobSettings

    names = {f.name for f in dataclasses.fields(JobSettings)}
    problems = []
    for field in fields_to_remove:
        head, _, key = field.partition("/")
        if head not in names:
            problems.append(f"{field!r} is not a JobSettings field")
        elif key and head == "tasks" and key not in current_keys:
            problems.append(
                f"{field!r}: the job has no task {key!r} (tasks: {', '.join(current_keys)})"
            )
        elif key and head not in ("tasks", "job_clusters"):
            problems.append(
                f"{field!r}: only tasks/<key> and job_clusters/<key> can be removed inside"
            )
    if problems:
        raise InvalidInput("fields_to_remove: " + "; ".join(problems) + ".", "Nothing was changed.")


def delete_job(backend: Backend, job_id: int, confirm: bool = False) -> JobWritten:
    """Delete a job; without ``confirm`` only say what would go (name, tasks, active runs)."""
    with missing_id(JOB_HINT):
        job = backend.client.jobs.get(job_id)
    settings = job.settings
    name = settings.name if settings else None
    tasks = len(settings.tasks or []) if settings else 0
    if not confirm:
        active = itertools.islice(
            backend.client.jobs.list_runs(job_id=job_id, active_only=True, limit=ACTIVE_RUNS_CAP),
            ACTIVE_RUNS_CAP,
        )
        return JobWritten(
            job_id=job_id,
            action="delete",
            name=name,
            tasks=tasks,
            active_runs=sum(1 for _ in active),
            done=False,
        )
    # It existed a moment ago: "does not exist" now (the only error missing_id turns into a
    # ToolsCoreError) means it is gone, as asked: the SDK retried a delete that was applied,
    # or someone deleted it meanwhile.
    with suppress(ToolsCoreError), missing_id(JOB_HINT):
        backend.client.jobs.delete(job_id)
    return JobWritten(job_id=job_id, action="deleted", name=name, tasks=tasks)
