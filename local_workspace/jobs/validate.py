"""Validation of job settings and submitted runs, and the merge rule of ``jobs/update``.

The task list follows the task rules (:mod:`local_workspace.jobs.task_rules`).

Databricks refuses a malformed job at create/reset/update time with 400
INVALID_PARAMETER_VALUE and stores nothing; so does the local workspace. Settings are
normalised through the SDK's ``JobSettings`` so stored JSON has the SDK's wire shape.
"""

from __future__ import annotations

from typing import Any

from databricks.sdk.service.jobs import JobSettings

from local_workspace.errors import invalid
from local_workspace.jobs.task_rules import check_tasks, non_negative_problem

# Arrays that jobs/update merges element by element, and the key naming an element.
MERGED_ARRAYS = {
    "tasks": "task_key",
    "job_clusters": "job_cluster_key",
    "environments": "environment_key",
    "parameters": "name",
}


def _non_negative(where: str, value: Any) -> None:
    problem = non_negative_problem(where, value)
    if problem:
        raise invalid(problem)


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
