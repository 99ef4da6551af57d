"""What one task attempt runs: parameters, sources from the workspace, and the in-process
task types (``sql_task`` on the local warehouse, ``condition_task``).

Notebook and python file tasks become a :class:`TaskLaunch` for the task runtime; task
types the local workspace cannot run end as FAILED with a clear error, never a fake success.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlglot.tokens import Tokenizer, TokenType

from local_workspace.errors import ApiError
from local_workspace.jobs.store import now_ms
from local_workspace.jobs.tasks import TaskLaunch, TaskOutcome
from local_workspace.workspace_store import canonical

REF = re.compile(r"\{\{\s*([\w.\-]+)\s*\}\}")
SQL_LOG_ROWS = 20
UNSUPPORTED = {
    "run_job_task": "run_job_task (triggering another job from a task)",
    "pipeline_task": "pipeline_task (Lakeflow Declarative Pipelines)",
    "spark_jar_task": "spark_jar_task (a JAR on a Spark cluster)",
    "spark_submit_task": "spark_submit_task (spark-submit on a Spark cluster)",
    "python_wheel_task": "python_wheel_task (a wheel entry point on a cluster)",
    "dbt_task": "dbt_task",
    "dbt_cloud_task": "dbt_cloud_task",
    "dbt_platform_task": "dbt_platform_task",
    "for_each_task": "for_each_task",
    "dashboard_task": "dashboard_task (Lakeview dashboards)",
    "clean_rooms_notebook_task": "clean_rooms_notebook_task (clean rooms)",
    "power_bi_task": "power_bi_task",
    "alert_task": "alert_task (SQL alerts)",
    "gen_ai_compute_task": "gen_ai_compute_task (GPU compute)",
    "ai_function_task": "ai_function_task",
    "ai_runtime_task": "ai_runtime_task",
    "python_operator_task": "python_operator_task",
}


class LaunchError(Exception):
    """A task that cannot start: it fails with this message (and termination code)."""

    def __init__(self, message: str, code: str = "RUN_EXECUTION_ERROR") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class Context:
    """What dynamic value references (``{{job.id}}``...) and parameters resolve from."""

    job_id: int | None
    job_name: str
    run_id: int
    task_key: str
    task_run_id: int
    attempt: int
    job_parameters: dict[str, str] = field(default_factory=dict)
    overriding: dict[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        """Reference name -> value."""
        refs = {
            "job.id": str(self.job_id or ""),
            "job_id": str(self.job_id or ""),
            "job.name": self.job_name,
            "job.run_id": str(self.run_id),
            "run_id": str(self.run_id),
            "run.id": str(self.run_id),
            "parent_run_id": str(self.run_id),
            "job.trigger.type": "ONE_TIME",
            "job.repair_count": "0",
            "task.name": self.task_key,
            "task_key": self.task_key,
            "task.run_id": str(self.task_run_id),
            "task.execution_count": str(self.attempt + 1),
        }
        for name, value in self.job_parameters.items():
            refs[f"job.parameters.{name}"] = value
        return refs

    def resolve(self, text: Any) -> str:
        """``text`` with its known ``{{...}}`` references replaced (unknown ones left as is)."""
        refs = self.values()
        return REF.sub(lambda m: refs.get(m.group(1), m.group(0)), str(text))


def notebook_widgets(spec: dict[str, Any], ctx: Context) -> dict[str, str]:
    """Widgets of a notebook task: base_parameters < run-now notebook_params < job params."""
    widgets = {k: str(v) for k, v in (spec.get("base_parameters") or {}).items()}
    widgets.update({k: str(v) for k, v in (ctx.overriding.get("notebook_params") or {}).items()})
    widgets.update(ctx.job_parameters)
    return {k: ctx.resolve(v) for k, v in widgets.items()}


def python_argv(spec: dict[str, Any], ctx: Context) -> list[str]:
    """Arguments of a python file task: its parameters, replaced by run-now python_params."""
    args = ctx.overriding.get("python_params")
    if args is None:
        args = spec.get("parameters") or []
    return [ctx.resolve(a) for a in args]


def _workspace_path(path: str) -> str:
    return canonical(path).rstrip("/") or "/"


def read_source(workspace: Any, raw_path: str, what: str) -> tuple[str, str, str | None]:
    """(path, text, notebook language) of a workspace object, or a LaunchError."""
    if raw_path.startswith(("dbfs:/", "s3://", "abfss://", "gs://", "/Volumes/")):
        raise LaunchError(
            f"{what} {raw_path} is not in the workspace tree; the local workspace runs "
            "workspace files and notebooks only.",
            "RESOURCE_NOT_FOUND",
        )
    if not raw_path.startswith("/"):
        raise LaunchError(
            f"{what} {raw_path} is a relative (Git) path; Git sources are not available in the "
            "local workspace: use an absolute workspace path.",
            "INVALID_RUN_CONFIGURATION",
        )
    path = _workspace_path(raw_path)
    obj = workspace.get(path)
    if obj is None or obj.object_type == "DIRECTORY":
        raise LaunchError(
            f"RESOURCE_DOES_NOT_EXIST: Unable to access the {what.lower()} {raw_path}: "
            "it does not exist in the workspace.",
            "RESOURCE_NOT_FOUND",
        )
    data = workspace.read(obj)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LaunchError(f"{what} {raw_path} is not UTF-8 text: {exc}") from exc
    language = obj.language
    if obj.object_type == "FILE":
        language = {".py": "PYTHON", ".sql": "SQL", ".r": "R", ".scala": "SCALA"}.get(
            Path(path).suffix.lower()
        )
    return path, text, language


def build_launch(
    spec: dict[str, Any],
    ctx: Context,
    workspace: Any,
    workdir: Path,
    env: dict[str, str],
    environment: dict[str, Any] | None,
) -> TaskLaunch:
    """The TaskLaunch of a notebook or python file task."""
    timeout = float(spec.get("timeout_seconds") or 0) or None
    libraries = list(spec.get("libraries") or [])
    if spec.get("notebook_task") is not None:
        nb = spec["notebook_task"]
        if nb.get("source") == "GIT":
            raise LaunchError(
                "Git sources are not available in the local workspace.",
                "INVALID_RUN_CONFIGURATION",
            )
        path, text, language = read_source(workspace, str(nb["notebook_path"]), "Notebook")
        return TaskLaunch(
            task_key=ctx.task_key,
            kind="notebook",
            source=text,
            source_path=path,
            language=language or "PYTHON",
            parameters=notebook_widgets(nb, ctx),
            workdir=workdir,
            env=env,
            timeout_s=timeout,
            libraries=libraries,
            environment=environment,
        )
    py = spec["spark_python_task"]
    if py.get("source") == "GIT":
        raise LaunchError(
            "Git sources are not available in the local workspace.", "INVALID_RUN_CONFIGURATION"
        )
    path, text, _ = read_source(workspace, str(py["python_file"]), "Python file")
    return TaskLaunch(
        task_key=ctx.task_key,
        kind="python",
        source=text,
        source_path=path,
        argv=python_argv(py, ctx),
        workdir=workdir,
        env=env,
        timeout_s=timeout,
        libraries=libraries,
        environment=environment,
    )


def failed_outcome(message: str, started: int | None = None) -> TaskOutcome:
    """The outcome of a task that could not run."""
    now = now_ms()
    return TaskOutcome(
        result_state="FAILED",
        exit_code=None,
        logs="",
        logs_truncated=False,
        error=message,
        error_trace=None,
        notebook_output=None,
        start_time_ms=started or now,
        end_time_ms=now,
    )


# -- condition_task --------------------------------------------------------------------


def run_condition(spec: dict[str, Any], ctx: Context) -> tuple[TaskOutcome, str]:
    """(outcome, "true"/"false") of a condition task; numbers compare as numbers."""
    cond = spec["condition_task"]
    left, right = ctx.resolve(cond["left"]), ctx.resolve(cond["right"])
    op = cond["op"]
    a: Any
    b: Any
    try:
        a, b = float(left), float(right)
    except ValueError:
        a, b = left, right
    if op in ("EQUAL_TO", "NOT_EQUAL"):
        a, b = (a, b) if isinstance(a, float) else (left, right)
        value = (a == b) == (op == "EQUAL_TO")
    elif not isinstance(a, float):
        return failed_outcome(f"condition_task {op} needs numbers, got {left!r} and {right!r}."), ""
    else:
        value = {
            "GREATER_THAN": a > b,
            "GREATER_THAN_OR_EQUAL": a >= b,
            "LESS_THAN": a < b,
            "LESS_THAN_OR_EQUAL": a <= b,
        }[op]
    now = now_ms()
    outcome = TaskOutcome(
        "SUCCESS", 0, f"{left} {op} {right}: {value}", False, None, None, None, now, now
    )
    return outcome, "true" if value else "false"


# -- sql_task ---------------------------------------------------------------------------


def split_sql(text: str) -> list[str]:
    """The statements of a SQL script (semicolons inside strings and comments are kept)."""
    tokens = Tokenizer().tokenize(text)
    parts: list[str] = []
    start = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            parts.append(text[start : token.start])
            start = token.end + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip() and not _only_comments(p)]


def _only_comments(text: str) -> bool:
    return not Tokenizer().tokenize(text)


def sql_text(spec: dict[str, Any], workspace: Any) -> tuple[str, str]:
    """(label, SQL script) of a sql task, or a LaunchError for what cannot run here."""
    sql = spec["sql_task"]
    if sql.get("file"):
        file = sql["file"]
        if file.get("source") == "GIT":
            raise LaunchError(
                "Git sources are not available in the local workspace.",
                "INVALID_RUN_CONFIGURATION",
            )
        path, text, _ = read_source(workspace, str(file["path"]), "SQL file")
        return path, text
    if sql.get("query"):
        raise LaunchError(
            "sql_task.query runs a saved query (query_id) of the Queries API, which is not "
            "available in the local workspace: use sql_task.file with a SQL file instead.",
            "INVALID_RUN_CONFIGURATION",
        )
    kind = "alert" if sql.get("alert") else "dashboard"
    raise LaunchError(
        f"sql_task.{kind} is not available in the local workspace.", "INVALID_RUN_CONFIGURATION"
    )


def run_sql(
    services: dict[str, Any],
    spec: dict[str, Any],
    ctx: Context,
    workspace: Any,
    cancel: threading.Event,
) -> TaskOutcome:
    """Run a sql task's statements one by one on the local warehouse, in-process."""
    from local_workspace.lineage import job_entity
    from local_workspace.sql.engine import Request as SqlRequest
    from local_workspace.sql.translate import Param, Scope

    started = now_ms()
    sql = spec["sql_task"]
    warehouse_id = str(sql["warehouse_id"])
    try:
        services["sql_warehouses"].ensure_running(warehouse_id)
    except ApiError as exc:
        return failed_outcome(f"{exc.error_code}: {exc.message}", started)
    label, script = sql_text(spec, workspace)
    values = {**ctx.job_parameters, **{k: str(v) for k, v in (sql.get("parameters") or {}).items()}}
    values.update({k: str(v) for k, v in (ctx.overriding.get("sql_params") or {}).items()})
    params = [Param(name=k, value=ctx.resolve(v)) for k, v in values.items()]
    timeout = float(spec.get("timeout_seconds") or 0)
    deadline = time.monotonic() + timeout if timeout else None
    statements = services["sql_statements"]
    logs: list[str] = [f"-- {label} on warehouse {warehouse_id}"]
    entity = job_entity(ctx.job_id, ctx.job_name, ctx.run_id, ctx.task_key, ctx.task_run_id)
    session = Scope()  # one session for the file: USE and SET TIME ZONE carry on, as on Databricks
    for index, text in enumerate(split_sql(script), start=1):
        statement = statements.submit(
            SqlRequest(statement=text, scope=session, params=params, entity=entity)
        )
        while not statement.done.done():
            if cancel.is_set() or (deadline is not None and time.monotonic() > deadline):
                statements.cancel(statement)
                statement.done.result(timeout=30)
                state: Literal["CANCELED", "TIMEDOUT"] = (
                    "CANCELED" if cancel.is_set() else "TIMEDOUT"
                )
                error = (
                    "Run was cancelled."
                    if cancel.is_set()
                    else f"Task timed out after {timeout:g} s"
                )
                return TaskOutcome(
                    state, None, "\n".join(logs), False, error, text, None, started, now_ms()
                )
            time.sleep(0.02)
        if statement.state != "SUCCEEDED":
            err = statement.error
            message = err.full_message() if err is not None else f"statement {statement.state}"
            logs.append(f"-- statement {index} FAILED: {message}")
            return TaskOutcome(
                "FAILED",
                None,
                "\n".join(logs),
                False,
                message,
                f"Statement {index} of {label}:\n{text}",
                None,
                started,
                now_ms(),
            )
        logs.append(f"-- statement {index}: OK")
        result = statement.result
        if result is not None and result.columns:
            logs.append("\t".join(str(c.get("name")) for c in result.columns))
            logs.extend(
                "\t".join("NULL" if v is None else v for v in row)
                for row in result.rows[:SQL_LOG_ROWS]
            )
            if len(result.rows) > SQL_LOG_ROWS:
                logs.append(f"... {len(result.rows) - SQL_LOG_ROWS} more row(s)")
    return TaskOutcome("SUCCESS", 0, "\n".join(logs), False, None, None, None, started, now_ms())
