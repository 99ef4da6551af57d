"""Validation of job settings and submitted runs, and the merge rule of ``jobs/update``.

Databricks refuses a malformed job at create/reset/update time with 400
INVALID_PARAMETER_VALUE and stores nothing; so does the local workspace. Settings are
normalised through the SDK's ``JobSettings`` so stored JSON has the SDK's wire shape.
"""

from __future__ import annotations

import re
from typing import Any

from databricks.sdk.service.jobs import JobSettings, RunIf

from local_workspace.errors import invalid

# Every task type of the Jobs API; one (and only one) per task.
TASK_KINDS = (
    "notebook_task",
    "spark_python_task",
    "sql_task",
    "condition_task",
    "run_job_task",
    "pipeline_task",
    "spark_jar_task",
    "spark_submit_task",
    "python_wheel_task",
    "dbt_task",
    "dbt_cloud_task",
    "dbt_platform_task",
    "for_each_task",
    "dashboard_task",
    "clean_rooms_notebook_task",
    "power_bi_task",
    "alert_task",
    "gen_ai_compute_task",
    "ai_function_task",
    "ai_runtime_task",
    "python_operator_task",
)
RUN_IFS = frozenset(r.value for r in RunIf)
TASK_KEY = re.compile(r"^[\w\-]{1,100}$")
CONDITION_OPS = frozenset(
    {
        "EQUAL_TO",
        "NOT_EQUAL",
        "GREATER_THAN",
        "GREATER_THAN_OR_EQUAL",
        "LESS_THAN",
        "LESS_THAN_OR_EQUAL",
    }
)
# Arrays that jobs/update merges element by element, and the key naming an element.
MERGED_ARRAYS = {
    "tasks": "task_key",
    "job_clusters": "job_cluster_key",
    "environments": "environment_key",
    "parameters": "name",
}


def task_kind(task: dict[str, Any]) -> str | None:
    """The task type field set on ``task`` (e.g. ``notebook_task``)."""
    kinds = [k for k in TASK_KINDS if task.get(k) is not None]
    return kinds[0] if len(kinds) == 1 else None


def _non_negative(where: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"{where} must be a non-negative integer, got {value!r}.")


def _check_task(task: Any, index: int) -> str:
    if not isinstance(task, dict):
        raise invalid(f"Task #{index} must be an object.")
    key = task.get("task_key")
    if not key:
        raise invalid(f"Task #{index} is missing the required field task_key.")
    if not isinstance(key, str) or not TASK_KEY.match(key):
        raise invalid(
            f"Invalid task_key {key!r}: use 1-100 letters, digits, '_' or '-' characters."
        )
    kinds = [k for k in TASK_KINDS if task.get(k) is not None]
    if len(kinds) != 1:
        found = ", ".join(kinds) if kinds else "none"
        raise invalid(
            f"Task {key} must specify exactly one task type (notebook_task, "
            f"spark_python_task, sql_task, ...); found: {found}."
        )
    kind = kinds[0]
    body = task[kind]
    if not isinstance(body, dict):
        raise invalid(f"Task {key}: {kind} must be an object.")
    required = {
        "notebook_task": ("notebook_path",),
        "spark_python_task": ("python_file",),
        "sql_task": ("warehouse_id",),
        "condition_task": ("op", "left", "right"),
        "run_job_task": ("job_id",),
    }.get(kind, ())
    for name in required:
        if body.get(name) is None or body.get(name) == "":
            raise invalid(f"Task {key}: {kind}.{name} is required.")
    if kind == "sql_task" and not any(body.get(k) for k in ("query", "file", "alert", "dashboard")):
        raise invalid(f"Task {key}: sql_task needs one of query, file, alert or dashboard.")
    if kind == "condition_task" and body.get("op") not in CONDITION_OPS:
        raise invalid(
            f"Task {key}: condition_task.op must be one of {sorted(CONDITION_OPS)}, "
            f"got {body.get('op')!r}."
        )
    run_if = task.get("run_if")
    if run_if is not None and run_if not in RUN_IFS:
        raise invalid(f"Task {key}: run_if must be one of {sorted(RUN_IFS)}, got {run_if!r}.")
    for name in ("timeout_seconds", "max_retries", "min_retry_interval_millis"):
        if name == "max_retries" and task.get(name) == -1:
            continue  # -1 means retry forever on Databricks
        _non_negative(f"Task {key}: {name}", task.get(name))
    depends = task.get("depends_on") or []
    if not isinstance(depends, list) or not all(
        isinstance(d, dict) and d.get("task_key") for d in depends
    ):
        raise invalid(f"Task {key}: depends_on must be a list of {{task_key}} objects.")
    return str(key)


def _check_dag(tasks: list[dict[str, Any]]) -> None:
    deps = {t["task_key"]: [d["task_key"] for d in t.get("depends_on") or []] for t in tasks}
    for key, wanted in deps.items():
        for dep in wanted:
            if dep not in deps:
                raise invalid(f"Task {key} depends on {dep}, which is not a task of this job.")
            if dep == key:
                raise invalid(f"Task {key} cannot depend on itself.")
    # Kahn's algorithm: whatever is left over sits on a cycle.
    remaining = {k: set(v) for k, v in deps.items()}
    while True:
        free = [k for k, v in remaining.items() if not v]
        if not free:
            break
        for key in free:
            del remaining[key]
        for pending in remaining.values():
            pending.difference_update(free)
    if remaining:
        cycle = ", ".join(sorted(remaining))
        raise invalid(f"The task dependencies form a cycle: {cycle}.")


def check_tasks(tasks: Any) -> list[dict[str, Any]]:
    """Tasks checked one by one and as a DAG; INVALID_PARAMETER_VALUE otherwise."""
    if tasks is None:
        return []
    if not isinstance(tasks, list):
        raise invalid("tasks must be a list.")
    if len(tasks) > 1000:
        raise invalid("A job can have at most 1000 tasks.")
    seen: set[str] = set()
    for index, task in enumerate(tasks):
        key = _check_task(task, index)
        if key in seen:
            raise invalid(
                f"Task key {key} is used by more than one task; task keys must be unique."
            )
        seen.add(key)
    _check_dag(tasks)
    return tasks


def check_settings(raw: Any) -> dict[str, Any]:
    """Job settings in the SDK's wire shape, or INVALID_PARAMETER_VALUE."""
    if not isinstance(raw, dict):
        raise invalid("Job settings must be an object.")
    check_tasks(raw.get("tasks"))
    _non_negative("timeout_seconds", raw.get("timeout_seconds"))
    _non_negative("max_concurrent_runs", raw.get("max_concurrent_runs"))
    params = raw.get("parameters") or []
    if not isinstance(params, list):
        raise invalid("parameters must be a list of {name, default}.")
    names: set[str] = set()
    for param in params:
        if not isinstance(param, dict) or not param.get("name"):
            raise invalid("Each job parameter needs a name: {name, default}.")
        if param.get("default") is None:
            raise invalid(f"Job parameter {param['name']} needs a default value.")
        if param["name"] in names:
            raise invalid(f"Job parameter {param['name']} is defined twice.")
        names.add(param["name"])
    settings = JobSettings.from_dict(raw).as_dict()
    settings.setdefault("name", "Untitled")
    settings.setdefault("max_concurrent_runs", 1)
    return settings


def merge_update(current: dict[str, Any], new: dict[str, Any], remove: list[str]) -> dict[str, Any]:
    """``jobs/update``: top-level fields replace, arrays merge by key, ``fields_to_remove``."""
    merged = dict(current)
    for name, value in new.items():
        key = MERGED_ARRAYS.get(name)
        if key is None or not isinstance(value, list):
            merged[name] = value
            continue
        items = {item.get(key): item for item in merged.get(name) or []}
        for item in value:
            if isinstance(item, dict):
                items[item.get(key)] = item
        merged[name] = list(items.values())
    for field_name in remove:
        if not isinstance(field_name, str):
            raise invalid("fields_to_remove must be a list of strings.")
        head, _, element = field_name.partition("/")
        if not element:
            merged.pop(head, None)
            continue
        key = MERGED_ARRAYS.get(head)
        if key is None:
            raise invalid(f"Cannot remove {field_name!r}: {head} is not a keyed array.")
        before = merged.get(head) or []
        after = [item for item in before if item.get(key) != element]
        if len(after) == len(before):
            raise invalid(f"Cannot remove {field_name!r}: no such element.")
        merged[head] = after
    return merged
