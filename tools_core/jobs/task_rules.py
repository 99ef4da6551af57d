"""The rules of a job's task list, in one place for job specs and bundle jobs.

A task list is valid when task keys are unique, every task has exactly one task type (the
``*_task`` fields of the SDK's ``Task``), a ``sql_task`` says what it runs, every
``depends_on`` names another task of the job, and the dependencies form no cycle (stdlib
``graphlib``). The fields each task type requires are the required fields of its SDK
dataclass: the type check of the caller reports those with every other type problem
(:func:`tools_core.jobs.spec.check_value`, :mod:`tools_core.bundles.schema`).

The dependency messages follow Databricks' own (``Invalid dependency graph, task 'a' can not
reference itself.``); the local workspace answers with the same words.
"""

# Kept separate because local_workspace/jobs/task_rules.py holds the same rules for the local
# workspace's REST API and neither side may import the other: the layer rule (tools_core never
# imports local_workspace; local_workspace imports neither tools_core nor server). Both follow
# the same structure and messages; tests/test_jobs_local_api.py feeds the same bad specs to both.

from __future__ import annotations

import dataclasses
import difflib
import graphlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DUPLICATE_KEY = "duplicate task_key {key!r}: more than one task uses it; task keys must be unique."
ONE_TASK_TYPE = (
    "task {task} must have exactly one task type, has {found} "
    "(e.g. notebook_task, spark_python_task, sql_task)."
)
SQL_TASK_SOURCE = "task {task}: sql_task needs one of query, file, alert or dashboard."
SELF_DEPENDENCY = "Invalid dependency graph, task {task} can not reference itself."
UNKNOWN_DEPENDENCY = "Invalid dependency graph, task {task} depends on unknown task {dep!r}{guess}."
CYCLE = "Invalid dependency graph, tasks depend on each other in a cycle: {cycle}."
SQL_TASK_SOURCES = ("query", "file", "alert", "dashboard")


@dataclasses.dataclass(frozen=True)
class TaskProblem:
    """One problem of a task list: the task's index, the field of the task it is about
    (``task_key``, ``depends_on[0].task_key``; empty for the task as a whole), the message."""

    task: int
    field: str
    message: str


def task_kinds() -> tuple[str, ...]:
    """The Task fields that name a task type (exactly one per task)."""
    from databricks.sdk.service.jobs import Task

    return tuple(f.name for f in dataclasses.fields(Task) if f.name.endswith("_task"))


def task_problems(tasks: Sequence[Any], known_keys: Iterable[str] = ()) -> list[TaskProblem]:
    """Every problem of ``tasks`` (JSON-shaped task objects), in task order, the cycle last.

    ``known_keys`` are task keys that exist besides ``tasks`` (an update's current tasks).
    Whatever is not of the right shape (a task that is not an object, a key that is not a
    string) is skipped here: the type check reports it.
    """
    problems: list[TaskProblem] = []
    kinds = task_kinds()
    first: dict[str, int] = {}
    for index, task in enumerate(tasks):
        if not isinstance(task, Mapping):
            continue
        key = task.get("task_key")
        if isinstance(key, str) and key:
            if key in first:
                problems.append(TaskProblem(index, "task_key", DUPLICATE_KEY.format(key=key)))
            else:
                first[key] = index
        label = _label(key, index)
        present = [k for k in kinds if task.get(k) is not None]
        if len(present) != 1:
            found = ", ".join(present) if present else "none"
            problems.append(TaskProblem(index, "", ONE_TASK_TYPE.format(task=label, found=found)))
        elif present == ["sql_task"] and not _runs_something(task["sql_task"]):
            problems.append(TaskProblem(index, "sql_task", SQL_TASK_SOURCE.format(task=label)))
    known = set(first) | set(known_keys)
    depends_on: dict[str, set[str]] = {}
    for index, task in enumerate(tasks):
        key = task.get("task_key") if isinstance(task, Mapping) else None
        deps = task.get("depends_on") if isinstance(task, Mapping) else None
        if not isinstance(key, str) or not key or not isinstance(deps, list):
            continue
        for position, dep in enumerate(deps):
            target = dep.get("task_key") if isinstance(dep, Mapping) else None
            if not isinstance(target, str):
                continue
            where = f"depends_on[{position}].task_key"
            if target == key:
                problems.append(TaskProblem(index, where, SELF_DEPENDENCY.format(task=repr(key))))
            elif target not in known:
                close = difflib.get_close_matches(target, sorted(known), n=1)
                guess = f" (did you mean {close[0]!r}?)" if close else ""
                message = UNKNOWN_DEPENDENCY.format(task=repr(key), dep=target, guess=guess)
                problems.append(TaskProblem(index, where, message))
            else:
                depends_on.setdefault(key, set()).add(target)
    cycle = dependency_cycle(depends_on, list(first))
    if cycle:
        message = CYCLE.format(cycle=" -> ".join(cycle))
        problems.append(TaskProblem(first.get(cycle[0], 0), "task_key", message))
    return problems


def dependency_cycle(depends_on: Mapping[str, Iterable[str]], order: Sequence[str]) -> list[str]:
    """One cycle of ``depends_on`` (task -> the tasks it depends on) as a closed path
    ``[a, b, a]`` (a depends on b, b on a) starting at its task first in ``order``; or ``[]``."""
    try:
        graphlib.TopologicalSorter(depends_on).prepare()
    except graphlib.CycleError as exc:
        # graphlib lists each task before the tasks that depend on it: reverse to follow
        # depends_on, and start at the earliest task so the message does not vary.
        ring = list(reversed(exc.args[1]))[:-1]
        rank = {key: position for position, key in enumerate(order)}
        start = min(range(len(ring)), key=lambda i: rank.get(ring[i], len(rank)))
        ring = ring[start:] + ring[:start]
        return [*ring, ring[0]]
    return []


def _runs_something(sql_task: Any) -> bool:
    """A sql_task names what it runs (not an object: the type check reports it)."""
    return not isinstance(sql_task, Mapping) or any(sql_task.get(k) for k in SQL_TASK_SOURCES)


def _label(key: Any, index: int) -> str:
    return repr(key) if isinstance(key, str) and key else f"#{index}"
