"""Result models of the jobs operations and their compact text."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pydantic import Field

from tools_core.jobs.task_rules import task_kinds
from tools_core.results import Result, markdown_table

if TYPE_CHECKING:
    from databricks.sdk.service.jobs import BaseJob, BaseRun, Run, RunTask

# A run is over in these life-cycle states.
FINAL_STATES = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")


def iso(ms: int | None) -> str | None:
    """A millisecond epoch as compact UTC text, or None for 0/None."""
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def duration_s(start: int | None, end: int | None, run_duration: int | None) -> float | None:
    """Seconds a run or task took (so far, when still running)."""
    if run_duration:
        return round(run_duration / 1000, 1)
    if not start:
        return None
    stop = end or int(time.time() * 1000)
    return round(max(stop - start, 0) / 1000, 1)


def _value(enum_value: Any) -> str | None:
    return None if enum_value is None else str(getattr(enum_value, "value", enum_value))


def task_kind(task: Any) -> tuple[str, str | None]:
    """(kind, path or query) of an SDK Task or RunTask."""
    for kind, attr in (
        ("notebook_task", "notebook_path"),
        ("spark_python_task", "python_file"),
        ("python_wheel_task", "entry_point"),
        ("pipeline_task", "pipeline_id"),
        ("run_job_task", "job_id"),
        ("sql_task", "warehouse_id"),
    ):
        body = getattr(task, kind, None)
        if body is not None:
            detail = getattr(body, attr, None)
            if kind == "sql_task":
                file = getattr(body, "file", None)
                query = getattr(body, "query", None)
                detail = getattr(file, "path", None) or getattr(query, "query_id", None) or detail
            return kind, None if detail is None else str(detail)
    for name in task_kinds():
        if getattr(task, name, None) is not None:
            return name, None
    return "?", None


class TaskRunRow(Result):
    """One task of a run."""

    task_key: str
    run_id: int | None = None
    state: str
    result_state: str | None = None
    attempt: int = 0
    duration_s: float | None = None
    start: str | None = None
    message: str | None = None

    @classmethod
    def from_sdk(cls, task: RunTask) -> TaskRunRow:
        """The useful fields of an SDK RunTask."""
        state = task.state
        return cls(
            task_key=task.task_key,
            run_id=task.run_id,
            state=(_value(state.life_cycle_state) if state else None) or "PENDING",
            result_state=_value(state.result_state) if state else None,
            attempt=task.attempt_number or 0,
            duration_s=duration_s(task.start_time, task.end_time, task.run_duration),
            start=iso(task.start_time),
            message=(state.state_message or None) if state else None,
        )

    @property
    def shown_state(self) -> str:
        """The result when there is one, else the life-cycle state."""
        return self.result_state or self.state


class RunSummary(Result):
    """Where a run stands: overall state and one row per task."""

    run_id: int
    job_id: int | None = None
    run_name: str | None = None
    state: str
    result_state: str | None = None
    message: str | None = None
    url: str | None = None
    start: str | None = None
    duration_s: float | None = None
    tasks: list[TaskRunRow] = Field(default_factory=list)
    repairs: int = 0
    done: bool = False
    timed_out: bool = False
    hint: str = ""

    @classmethod
    def from_sdk(cls, run: Run | BaseRun) -> RunSummary:
        """The useful fields of an SDK Run."""
        state = run.state
        life = (_value(state.life_cycle_state) if state else None) or "PENDING"
        tasks = latest_tasks(run.tasks or [])
        repairs = sum(1 for item in run.repair_history or [] if _value(item.type) == "REPAIR")
        return cls(
            run_id=run.run_id or 0,
            job_id=run.job_id,
            run_name=run.run_name,
            state=life,
            result_state=_value(state.result_state) if state else None,
            message=(state.state_message or None) if state else None,
            url=run.run_page_url,
            start=iso(run.start_time),
            duration_s=duration_s(run.start_time, run.end_time, run.run_duration),
            tasks=[TaskRunRow.from_sdk(t) for t in tasks],
            repairs=repairs,
            done=life in FINAL_STATES,
        )

    @property
    def shown_state(self) -> str:
        """``TERMINATED SUCCESS`` style."""
        return f"{self.state} {self.result_state}" if self.result_state else self.state

    def progress(self) -> tuple[int, int, str]:
        """(finished tasks, all tasks, what is happening) for progress notifications."""
        total = max(len(self.tasks), 1)
        finished = sum(1 for t in self.tasks if t.state in FINAL_STATES)
        if self.done:
            return total, total, f"run {self.run_id} {self.shown_state}"
        active = [f"{t.task_key} {t.state}" for t in self.tasks if t.state not in FINAL_STATES]
        message = f"{finished}/{total} tasks done"
        if active:
            message += "; " + ", ".join(active[:4])
        return finished, total, message

    def to_text(self) -> str:
        name = f" '{self.run_name}'" if self.run_name else ""
        job = f" (job {self.job_id}{name})" if self.job_id else name
        head = f"run {self.run_id}{job}: {self.shown_state}"
        if self.duration_s is not None:
            head += f" after {self.duration_s} s"
        lines = [head]
        if self.message:
            lines.append(f"message: {self.message}")
        if self.url:
            lines.append(f"url: {self.url}")
        if self.repairs:
            lines.append(f"repairs: {self.repairs}")
        if self.tasks:
            rows = [
                (
                    t.task_key,
                    t.run_id,
                    t.shown_state,
                    t.attempt,
                    t.duration_s,
                    t.start,
                    t.message or "",
                )
                for t in self.tasks
            ]
            headers = ["task", "task run_id", "state", "attempt", "secs", "start", "message"]
            lines.append(markdown_table(headers, rows))
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


def latest_tasks(tasks: list[RunTask]) -> list[RunTask]:
    """One task run per task key: the latest attempt (repairs and retries add task runs)."""
    latest: dict[str, RunTask] = {}
    for task in tasks:
        seen = latest.get(task.task_key)
        if seen is None or _attempt_order(task) >= _attempt_order(seen):
            latest[task.task_key] = task
    return list(latest.values())


def _attempt_order(task: RunTask) -> tuple[int, int]:
    return task.attempt_number or 0, task.start_time or 0


class RunStarted(Result):
    """A run that was started (or found again through its idempotency token)."""

    run_id: int
    job_id: int | None = None
    url: str | None = None
    idempotency_token: str | None = None
    repair_id: int | None = None
    rerun_tasks: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        if self.repair_id is not None:
            what = ", ".join(self.rerun_tasks) if self.rerun_tasks else "failed tasks"
            lines = [f"repair {self.repair_id} of run {self.run_id} started: rerunning {what}"]
        else:
            lines = [f"run_id: {self.run_id}" + (f" (job {self.job_id})" if self.job_id else "")]
        if self.url:
            lines.append(f"url: {self.url}")
        if self.idempotency_token:
            lines.append(
                f"idempotency_token: {self.idempotency_token} (pass it again to retry this call "
                "without starting a second run)"
            )
        lines.append(f"next: jobs_wait_run run_id={self.run_id}")
        return "\n".join(lines)


class RunRow(Result):
    """One run in a list."""

    run_id: int
    job_id: int | None = None
    run_name: str | None = None
    state: str
    start: str | None = None
    duration_s: float | None = None

    @classmethod
    def from_sdk(cls, run: BaseRun) -> RunRow:
        """The useful fields of an SDK BaseRun."""
        summary = RunSummary.from_sdk(run)
        return cls(
            run_id=summary.run_id,
            job_id=run.job_id,
            run_name=run.run_name,
            state=summary.shown_state,
            start=summary.start,
            duration_s=summary.duration_s,
        )


class RunList(Result):
    """Runs, newest first."""

    runs: list[RunRow]
    truncated: bool = False

    def to_text(self) -> str:
        rows = [
            (r.run_id, r.job_id or "", r.run_name, r.state, r.start, r.duration_s)
            for r in self.runs
        ]
        text = markdown_table(["run_id", "job_id", "name", "state", "start", "secs"], rows)
        if self.truncated:
            text += "\n(more runs exist: raise limit or filter by job_id)"
        return text


class TaskOutput(Result):
    """The output of one task run: error, traceback, logs (tails), notebook exit value."""

    run_id: int
    task_key: str | None = None
    state: str | None = None
    error: str | None = None
    error_trace: str | None = None
    logs: str | None = None
    notebook_output: str | None = None
    truncated: bool = False
    hint: str = ""

    def to_text(self) -> str:
        task = f" (task {self.task_key})" if self.task_key else ""
        lines = [f"task run {self.run_id}{task}: {self.state or '?'}"]
        if self.error:
            lines.append(f"error: {self.error}")
        if self.error_trace:
            lines += ["error_trace:", self.error_trace]
        if self.logs:
            lines += ["logs:", self.logs]
        if self.notebook_output is not None:
            lines.append(f"notebook_output: {self.notebook_output}")
        if not (self.error or self.error_trace or self.logs or self.notebook_output):
            lines.append("(no output)")
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


class TaskInfo(Result):
    """A task of a job's settings."""

    task_key: str
    kind: str
    path: str | None = None
    depends_on: list[str] = Field(default_factory=list)


class JobRow(Result):
    """One job in a list."""

    job_id: int
    name: str | None = None
    schedule: str | None = None
    creator: str | None = None

    @classmethod
    def from_sdk(cls, job: BaseJob) -> JobRow:
        """The useful fields of an SDK BaseJob."""
        settings = job.settings
        return cls(
            job_id=job.job_id or 0,
            name=settings.name if settings else None,
            schedule=schedule_text(settings.schedule) if settings else None,
            creator=job.creator_user_name,
        )


def schedule_text(schedule: Any) -> str | None:
    """``0 0 6 * * ? UTC (PAUSED)`` style, or None."""
    if schedule is None:
        return None
    paused = _value(schedule.pause_status)
    text = f"{schedule.quartz_cron_expression} {schedule.timezone_id}"
    return text + (" (PAUSED)" if paused == "PAUSED" else "")


class JobList(Result):
    """Jobs of the workspace."""

    jobs: list[JobRow]
    truncated: bool = False

    def to_text(self) -> str:
        rows = [(j.job_id, j.name, j.schedule or "", j.creator) for j in self.jobs]
        text = markdown_table(["job_id", "name", "schedule", "creator"], rows)
        if self.truncated:
            text += "\n(more jobs exist: raise limit or filter by exact name)"
        return text


class JobDetail(Result):
    """A job's settings, summarised (or in full with detail='full')."""

    job_id: int
    name: str | None = None
    creator: str | None = None
    tasks: list[TaskInfo] = Field(default_factory=list)
    schedule: str | None = None
    parameters: dict[str, str] = Field(default_factory=dict)
    max_concurrent_runs: int | None = None
    timeout_seconds: int | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    settings_json: str | None = None
    hint: str = ""

    def to_text(self) -> str:
        if self.settings_json is not None:
            return f"job {self.job_id} settings:\n{self.settings_json}" + (
                f"\n{self.hint}" if self.hint else ""
            )
        lines = [f"job {self.job_id}: {self.name or '(no name)'}"]
        if self.creator:
            lines.append(f"creator: {self.creator}")
        lines.append(f"schedule: {self.schedule or 'none (manual runs)'}")
        if self.parameters:
            params = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
            lines.append(f"parameters: {params}")
        for label, value in (
            ("max_concurrent_runs", self.max_concurrent_runs),
            ("timeout_seconds", self.timeout_seconds),
        ):
            if value:
                lines.append(f"{label}: {value}")
        if self.tags:
            lines.append("tags: " + ", ".join(f"{k}={v}" for k, v in self.tags.items()))
        rows = [(t.task_key, t.kind, t.path, ", ".join(t.depends_on)) for t in self.tasks]
        lines.append(markdown_table(["task", "kind", "path", "depends_on"], rows))
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


class JobWritten(Result):
    """A job created, updated or deleted (or what a delete would do without confirm)."""

    job_id: int
    action: str
    name: str | None = None
    tasks: int | None = None
    active_runs: int | None = None
    warnings: list[str] = Field(default_factory=list)
    done: bool = True

    def to_text(self) -> str:
        name = f" '{self.name}'" if self.name else ""
        if not self.done:
            runs = self.active_runs or 0
            lines = [
                f"would delete job {self.job_id}{name} ({self.tasks or 0} tasks, {runs} active "
                "runs, cancelled with it). Call again with confirm=true."
            ]
        else:
            tasks = f" ({self.tasks} tasks)" if self.tasks is not None else ""
            lines = [f"{self.action} job {self.job_id}{name}{tasks}"]
        lines += [f"WARNING: {w}" for w in self.warnings]
        if self.done and self.action in ("created", "updated"):
            lines.append(f"next: jobs_run_now job_id={self.job_id}")
        return "\n".join(lines)
