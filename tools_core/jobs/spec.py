"""Validation of JobSettings-shaped specs before anything is sent.

Every problem is collected (not just the first) and raised together as one
:class:`InvalidInput`, so an agent fixes a spec in one round trip. Types, required fields
and unknown keys are checked against the SDK's own dataclass annotations (``JobSettings``,
``Task`` and everything nested), so the rules follow the SDK when it moves. They are walked
here because pydantic's ``TypeAdapter`` cannot build a schema of them: ``Task``'s field
``compute`` (default None) shadows the module its ``libraries`` annotation names
(pydantic#10572, not planned; tests/test_jobs_spec.py notices when that changes).
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import re
import typing
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.jobs.notifications import notification_problems
from tools_core.jobs.task_rules import task_problems

if TYPE_CHECKING:
    from databricks.sdk.service.jobs import JobSettings

    from tools_core.backend import Backend

# The guide's convention: `domain-action-frequency`, e.g. `fraud-training-daily`.
FREQUENCIES = (
    "hourly",
    "daily",
    "nightly",
    "weekly",
    "biweekly",
    "monthly",
    "quarterly",
    "yearly",
    "adhoc",
    "manual",
    "triggered",
    "continuous",
    "streaming",
    "once",
)
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+){2,}$")
# Bundles in development mode prefix names with "[dev someone] ": not part of the convention.
_BUNDLE_PREFIX = re.compile(r"^\[[^\]]*\]\s*")
MAX_PROBLEMS = 20


def naming_warning(name: str | None) -> str | None:
    """A warning when ``name`` breaks the ``domain-action-frequency`` convention, else None."""
    if not name:
        return "job has no name; name it domain-action-frequency (e.g. fraud-training-daily)."
    bare = _BUNDLE_PREFIX.sub("", name)
    if _NAME.match(bare) and bare.rsplit("-", 1)[1] in FREQUENCIES:
        return None
    return (
        f"job name {name!r} does not follow domain-action-frequency (lowercase words joined "
        f"by hyphens, ending in a frequency such as {', '.join(FREQUENCIES[:6])}, adhoc; "
        "e.g. fraud-training-daily)."
    )


def validate_job_spec(
    spec: Any, *, partial: bool = False, existing_task_keys: Iterable[str] = ()
) -> list[str]:
    """Check a JobSettings-shaped dict; return warnings, raise InvalidInput listing every problem.

    ``partial`` is for updates: ``tasks`` may be absent, and ``depends_on`` may also name the
    job's current tasks (``existing_task_keys``).
    """
    if not isinstance(spec, Mapping):
        raise InvalidInput(
            f"spec must be a JSON object (JobSettings), got {type(spec).__name__}.",
            "Pass e.g. {'name': 'sales-report-daily', 'tasks': [...]}.",
        )
    from databricks.sdk.service.jobs import JobSettings

    problems: list[str] = []
    check_value(JobSettings, dict(spec), "spec", problems)
    tasks = spec.get("tasks")
    if tasks is None and not partial:
        problems.append("spec: 'tasks' is missing; a job needs at least one task.")
    if isinstance(tasks, list):
        if not tasks and not partial:
            problems.append("spec.tasks is empty; a job needs at least one task.")
        problems.extend(check_tasks(tasks, known_keys=existing_task_keys))
    problems.extend(notification_problems(spec))
    _raise_if(problems)
    warnings = []
    if not partial or "name" in spec:
        warning = naming_warning(spec.get("name"))
        if warning:
            warnings.append(warning)
    return warnings


def job_settings(spec: Mapping[str, Any]) -> JobSettings:
    """The typed JobSettings of a spec that passed :func:`validate_job_spec`."""
    from databricks.sdk.service.jobs import JobSettings

    return JobSettings.from_dict(dict(spec))


def check_tasks(tasks: list[Any], known_keys: Iterable[str] = ()) -> list[str]:
    """Problems of a task list: the task rules (:mod:`tools_core.jobs.task_rules`) and
    notebook paths that are not absolute.

    ``known_keys`` are task keys that exist besides ``tasks`` (an update's current tasks).
    """
    problems = [p.message for p in task_problems(tasks, known_keys)]
    for index, task in enumerate(tasks):
        if isinstance(task, Mapping):
            key = task.get("task_key")
            where = f"task {key!r}" if isinstance(key, str) and key else f"spec.tasks[{index}]"
            problems.extend(_check_paths_shape(task, where))
    return problems


def _check_paths_shape(task: Mapping[str, Any], where: str) -> list[str]:
    notebook = task.get("notebook_task")
    if isinstance(notebook, Mapping):
        path = notebook.get("notebook_path")
        if isinstance(path, str) and notebook.get("source") != "GIT" and not path.startswith("/"):
            return [
                f"{where}: notebook_task.notebook_path must be an absolute workspace path "
                f"(e.g. /Users/me/etl), got {path!r}."
            ]
    return []


# --- type checks from the SDK dataclass annotations ------------------------------------


def check_value(annotation: Any, value: Any, where: str, problems: list[str]) -> None:
    """Append the problems of ``value`` against a type annotation of the SDK dataclasses."""
    if len(problems) >= MAX_PROBLEMS:
        return
    origin = typing.get_origin(annotation)
    if origin is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if value is None:
            return
        check_value(args[0] if len(args) == 1 else Any, value, where, problems)
        return
    if annotation is Any:
        return
    if origin in (list, typing.List):  # noqa: UP006  (the SDK's annotations use typing.List)
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list, got {_kind(value)}.")
            return
        (item,) = typing.get_args(annotation) or (Any,)
        for index, element in enumerate(value):
            check_value(item, element, f"{where}[{index}]", problems)
        return
    if origin in (dict, typing.Dict):  # noqa: UP006
        if not isinstance(value, Mapping):
            problems.append(f"{where}: expected an object, got {_kind(value)}.")
            return
        pair = typing.get_args(annotation)
        item = pair[1] if len(pair) == 2 else Any
        for key, element in value.items():
            check_value(item, element, f"{where}.{key}", problems)
        return
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        _check_dataclass(annotation, value, where, problems)
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        allowed = [member.value for member in annotation]
        if value not in allowed:
            problems.append(f"{where}: {value!r} is not one of {', '.join(map(str, allowed))}.")
    elif annotation is bool:
        if not isinstance(value, bool):
            problems.append(f"{where}: expected true/false, got {_kind(value)}.")
    elif annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{where}: expected an integer, got {_kind(value)}.")
        elif value < -1:
            problems.append(f"{where}: must not be negative, got {value}.")
    elif annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where}: expected a number, got {_kind(value)}.")
    elif annotation is str and not isinstance(value, str):
        problems.append(f"{where}: expected a string, got {_kind(value)}.")


def _check_dataclass(cls: type, value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, Mapping):
        problems.append(f"{where}: expected an object ({cls.__name__}), got {_kind(value)}.")
        return
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key, element in value.items():
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.6)
            guess = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"{where}: unknown field {key!r} of {cls.__name__}{guess}")
            continue
        check_value(hints[key], element, f"{where}.{key}", problems)
    for name, field in fields.items():
        required = (
            field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        )
        if required and value.get(name) is None:
            problems.append(f"{where}: required field {name!r} is missing.")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), type(value).__name__) + f" ({_short(value)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _raise_if(problems: list[str]) -> None:
    if problems:
        # The type check stops at MAX_PROBLEMS; the task rules may add more: show that many.
        more = f" (first {MAX_PROBLEMS} shown)" if len(problems) >= MAX_PROBLEMS else ""
        raise InvalidInput(
            f"the job spec has {len(problems)} problem(s){more}:\n- "
            + "\n- ".join(problems[:MAX_PROBLEMS])
            + "\n",
            "Fix them and call again; nothing was created.",
        )


# --- workspace paths ------------------------------------------------------------------


def source_paths(tasks: Iterable[Mapping[str, Any]], git: bool = False) -> list[tuple[str, str]]:
    """(task_key, workspace path) of the notebooks and python files tasks run from the
    workspace (not git, not DBFS/volumes/cloud URIs)."""
    found = []
    for task in tasks:
        key = str(task.get("task_key", "?"))
        for kind, field in (
            ("notebook_task", "notebook_path"),
            ("spark_python_task", "python_file"),
        ):
            body = task.get(kind)
            if not isinstance(body, Mapping):
                continue
            path = body.get(field)
            source = body.get("source") or ("GIT" if git else "WORKSPACE")
            if isinstance(path, str) and source == "WORKSPACE" and _is_workspace_path(path):
                found.append((key, path))
    return found


def _is_workspace_path(path: str) -> bool:
    return path.startswith("/") and not path.startswith(("/dbfs/", "/Volumes/"))


def check_paths_exist(backend: Backend, tasks: Iterable[Mapping[str, Any]], git: bool) -> None:
    """Raise RESOURCE_DOES_NOT_EXIST naming every task whose notebook or file is missing."""
    from databricks.sdk.errors import NotFound

    missing = []
    for key, path in source_paths(tasks, git):
        # The Workspace API names objects without the /Workspace prefix jobs also accept.
        lookup = path[len("/Workspace") :] if path.startswith("/Workspace/") else path
        try:
            backend.client.workspace.get_status(lookup)
        except NotFound:
            missing.append(f"task {key!r}: {path}")
    if missing:
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            "these notebooks/files do not exist in the workspace: " + "; ".join(missing) + ".",
            "Upload them with workspace_write (or fix the paths), then call again; "
            "nothing was created.",
        )
