"""The rules of a job's task list, in one place for jobs/create, reset, update and runs/submit.

A task list is valid when task keys are unique, every task has exactly one task type (the
``*_task`` fields of the SDK's ``Task``), a ``sql_task`` says what it runs, every
``depends_on`` names another task of the job, and the dependencies form no cycle (stdlib
``graphlib``). The fields each task type requires are the required fields of its SDK
dataclass, checked with the rest of each task's shape by :func:`shape_problem`.

Databricks refuses the first problem with 400 INVALID_PARAMETER_VALUE and stores nothing; so
does :func:`check_tasks`. The dependency messages follow Databricks' own (``Invalid
dependency graph, task 'a' can not reference itself.``).
"""

# Kept separate because tools_core/jobs/task_rules.py holds the same rules for job specs and
# bundles and neither side may import the other: the layer rule (local_workspace imports
# neither tools_core nor server; tools_core never imports local_workspace). Both follow the
# same structure and messages; tests/test_jobs_local_api.py feeds the same bad specs to both.

from __future__ import annotations

import dataclasses
import difflib
import graphlib
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from databricks.sdk.service.jobs import ConditionTaskOp, RunIf, Task

from local_workspace.errors import invalid

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
MAX_TASKS = 1000
TASK_KEY = re.compile(r"^[\w\-]{1,100}$")
RUN_IFS = frozenset(r.value for r in RunIf)
CONDITION_OPS = frozenset(op.value for op in ConditionTaskOp)


@dataclasses.dataclass(frozen=True)
class TaskProblem:
    """One problem of a task list: the task's index, the field of the task it is about
    (``task_key``, ``depends_on[0].task_key``; empty for the task as a whole), the message."""

    task: int
    field: str
    message: str


def task_kinds() -> tuple[str, ...]:
    """The Task fields that name a task type (exactly one per task)."""
    return tuple(f.name for f in dataclasses.fields(Task) if f.name.endswith("_task"))


def check_tasks(tasks: Any) -> list[dict[str, Any]]:
    """Tasks checked one by one (:func:`shape_problem`) and by the task rules
    (:func:`task_problems`); INVALID_PARAMETER_VALUE with the first problem otherwise."""
    if tasks is None:
        return []
    if not isinstance(tasks, list):
        raise invalid("tasks must be a list.")
    if len(tasks) > MAX_TASKS:
        raise invalid(f"A job can have at most {MAX_TASKS} tasks.")
    for index, task in enumerate(tasks):
        problem = shape_problem(task, index)
        if problem:
            raise invalid(problem)
    problems = task_problems(tasks)
    if problems:
        raise invalid(problems[0].message)
    return tasks


def task_problems(tasks: Sequence[Any], known_keys: Iterable[str] = ()) -> list[TaskProblem]:
    """Every problem of ``tasks`` (JSON-shaped task objects), in task order, the cycle last.

    ``known_keys`` are task keys that exist besides ``tasks`` (an update's current tasks).
    Whatever is not of the right shape (a task that is not an object, a key that is not a
    string) is skipped here: :func:`shape_problem` reports it.
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


def shape_problem(task: Any, index: int) -> str | None:
    """The first problem of one task's shape (what the type check reports on the tools side):
    an object with a valid task_key, each task type's required fields (those of its SDK
    dataclass), run_if and condition operators known, counts not negative, depends_on a
    list of ``{task_key}`` objects."""
    if not isinstance(task, dict):
        return f"Task #{index} must be an object."
    key = task.get("task_key")
    if not key:
        return f"Task #{index} is missing the required field task_key."
    if not isinstance(key, str) or not TASK_KEY.match(key):
        return f"Invalid task_key {key!r}: use 1-100 letters, digits, '_' or '-' characters."
    for kind in task_kinds():
        body = task.get(kind)
        if body is None:
            continue
        if not isinstance(body, dict):
            return f"task {key!r}: {kind} must be an object."
        for name in required_fields(kind):
            if body.get(name) is None or body.get(name) == "":
                return f"task {key!r}: {kind}: required field {name!r} is missing."
        if kind == "condition_task" and body["op"] not in CONDITION_OPS:
            return (
                f"task {key!r}: condition_task.op must be one of {sorted(CONDITION_OPS)}, "
                f"got {body['op']!r}."
            )
    run_if = task.get("run_if")
    if run_if is not None and run_if not in RUN_IFS:
        return f"task {key!r}: run_if must be one of {sorted(RUN_IFS)}, got {run_if!r}."
    for name in ("timeout_seconds", "max_retries", "min_retry_interval_millis"):
        if name == "max_retries" and task.get(name) == -1:
            continue  # -1 means retry forever on Databricks
        problem = non_negative_problem(f"task {key!r}: {name}", task.get(name))
        if problem:
            return problem
    depends = task.get("depends_on") or []
    if not isinstance(depends, list) or not all(
        isinstance(d, dict) and d.get("task_key") for d in depends
    ):
        return f"task {key!r}: depends_on must be a list of {{task_key}} objects."
    return None


def required_fields(kind: str) -> tuple[str, ...]:
    """The fields a task type requires: the fields without a default of its SDK dataclass."""
    hint = typing.get_type_hints(Task)[kind]
    (cls,) = [arg for arg in typing.get_args(hint) if arg is not type(None)] or [hint]
    return tuple(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def non_negative_problem(where: str, value: Any) -> str | None:
    """The problem of a count that is not a non-negative integer (None is not set)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return f"{where} must be a non-negative integer, got {value!r}."
    return None


def _runs_something(sql_task: Any) -> bool:
    """A sql_task names what it runs (not an object: the shape check reports it)."""
    return not isinstance(sql_task, Mapping) or any(sql_task.get(k) for k in SQL_TASK_SOURCES)


def _label(key: Any, index: int) -> str:
    return repr(key) if isinstance(key, str) and key else f"#{index}"
