"""Checks beyond types: job task graphs, local source files, naming conventions, modes.

Naming conventions are the project guide's (warnings, never errors): jobs
``domain-action-frequency`` (``sales-ingest-daily``); registered models and tables
``catalog.schema.noun_noun`` in lowercase snake_case; experiments under ``/Users/...`` or
``/Workspace/...``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tools_core.bundles.findings import Findings
from tools_core.bundles.nodes import Node
from tools_core.bundles.schema import is_reference, suggest
from tools_core.jobs.task_rules import task_problems

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
NOUN_NOUN = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
JOB_NAME = re.compile(r"^[a-z][a-z0-9_]*-[a-z][a-z0-9_]*-([a-z][a-z0-9_]*)$")
FREQUENCIES = (
    "hourly", "daily", "weekly", "monthly", "quarterly", "yearly", "adhoc", "on_demand",
    "triggered", "continuous", "streaming", "manual",
)  # fmt: skip
EXPERIMENT_ROOTS = ("/Users/", "/Workspace/", "/Shared/")
NOTEBOOK_SUFFIXES = ("", ".py", ".ipynb", ".sql", ".scala", ".r", ".R")


def check_resources(config: Node, root: Path, found: Findings) -> None:
    """Job graphs, source files and naming of every resource."""
    resources = config.get("resources")
    if resources is None or not resources.is_map:
        return
    for rtype, group in resources.value.items():
        if not group.is_map:
            continue
        for key, resource in group.value.items():
            path = f"resources.{rtype}.{key}"
            if not resource.is_map:
                continue
            if rtype == "jobs":
                check_job(resource, path, root, found)
                _job_name(resource, key, path, found)
            elif rtype == "registered_models":
                _model_name(resource, path, found)
            elif rtype == "experiments":
                _experiment_name(resource, path, found)
            elif rtype == "model_serving_endpoints":
                _served_entities(resource, path, found)
            elif rtype in ("schemas", "volumes"):
                _snake(resource.get("name"), f"{path}.name", rtype[:-1], found)
            elif rtype == "pipelines":
                _pipeline_sources(resource, path, root, found)


def check_job(job: Node, path: str, root: Path, found: Findings) -> None:
    """Tasks: the task rules (:mod:`tools_core.jobs.task_rules`: unique task_key, one task
    type, depends_on known tasks, no cycles); keys of job clusters and environments exist;
    local source files exist."""
    tasks = job.get("tasks")
    if tasks is None or not tasks.is_list:
        return
    plain = [_for_rules(task) for task in tasks.value]
    first: dict[Any, int] = {}
    for i, task in enumerate(plain):
        first.setdefault(task.get("task_key"), i)
    for problem in task_problems(plain):
        task = tasks.value[problem.task]
        node = _field_node(task, problem.field) or task
        where = f"{path}.tasks[{problem.task}]" + (f".{problem.field}" if problem.field else "")
        message = problem.message
        earlier = first.get(plain[problem.task].get("task_key"), problem.task)
        if problem.field == "task_key" and earlier < problem.task:
            other = tasks.value[earlier].get("task_key") or tasks.value[earlier]
            message += f" (first at {other.file}:{other.where})"
        found.error(node.file, node.where, where, message)
    cluster_keys = _keys(job.get("job_clusters"), "job_cluster_key")
    env_keys = _keys(job.get("environments"), "environment_key")
    has_git = job.get("git_source") is not None
    for i, task in enumerate(tasks.value):
        if not task.is_map:
            continue
        tpath = f"{path}.tasks[{i}]"
        _ref_key(task, "job_cluster_key", cluster_keys, tpath, "job_clusters", found)
        _ref_key(task, "environment_key", env_keys, tpath, "environments", found)
        if not has_git:
            _task_sources(task, tpath, root, found)


def _for_rules(task: Node) -> dict[str, Any]:
    """A task as the task rules read it: task keys as the CLI makes them (strings), and
    ``${...}`` references left out (they are resolved at deploy)."""
    if not task.is_map:
        return {}
    plain: dict[str, Any] = task.plain()
    if _plain_scalar(plain.get("task_key")):
        plain["task_key"] = str(plain["task_key"])
    deps = plain.get("depends_on")
    if isinstance(deps, list):
        plain["depends_on"] = [
            {**dep, "task_key": str(dep["task_key"])}
            if isinstance(dep, dict) and _plain_scalar(dep.get("task_key"))
            else {}
            for dep in deps
        ]
    return plain


def _plain_scalar(value: Any) -> bool:
    return value is not None and not is_reference(value) and not isinstance(value, dict | list)


def _field_node(task: Node, field: str) -> Node | None:
    """The node of a field path such as ``depends_on[0].task_key`` (None if absent)."""
    node: Node | None = task
    for part in field.split(".") if field else []:
        name, _, index = part.partition("[")
        node = node.get(name) if node is not None else None
        if index and node is not None and node.is_list:
            position = int(index.rstrip("]"))
            node = node.value[position] if position < len(node.value) else None
    return node


def _keys(node: Node | None, key: str) -> set[str] | None:
    if node is None or not node.is_list:
        return None
    return {str(i.scalar(key)) for i in node.value if i.is_map and i.scalar(key) is not None}


def _ref_key(
    task: Node, field: str, known: set[str] | None, path: str, where: str, found: Findings
) -> None:
    node = task.get(field)
    if node is None or is_reference(node.value):
        return
    if known is None or str(node.value) not in known:
        found.error(
            node.file,
            node.where,
            f"{path}.{field}",
            f"{field} '{node.value}' is not defined in the job's {where}"
            + suggest(str(node.value), known or ()),
        )


def _task_sources(task: Node, path: str, root: Path, found: Findings) -> None:
    for kind, field, suffixes in (
        ("notebook_task", "notebook_path", NOTEBOOK_SUFFIXES),
        ("spark_python_task", "python_file", ("",)),
    ):
        spec = task.get(kind)
        node = spec.get(field) if spec is not None else None
        if spec is not None and spec.scalar("source") == "GIT":
            continue
        if node is not None:
            _local_file(node, f"{path}.{kind}.{field}", suffixes, root, found)


def _pipeline_sources(pipeline: Node, path: str, root: Path, found: Findings) -> None:
    libraries = pipeline.get("libraries")
    if libraries is None or not libraries.is_list:
        return
    for i, library in enumerate(libraries.value):
        for kind in ("notebook", "file"):
            spec = library.get(kind) if library.is_map else None
            node = spec.get("path") if spec is not None else None
            if node is not None:
                suffixes = NOTEBOOK_SUFFIXES if kind == "notebook" else ("",)
                _local_file(node, f"{path}.libraries[{i}].{kind}.path", suffixes, root, found)


def _local_file(
    node: Node, path: str, suffixes: tuple[str, ...], root: Path, found: Findings
) -> None:
    """A relative source path must exist next to the YAML file that names it."""
    value = node.value
    if not isinstance(value, str) or "${" in value or value.startswith("/") or "://" in value:
        return
    if any(ch in value for ch in "*?["):
        return  # a glob (pipelines accept them)
    base = (root / node.file).parent
    if not any((base / f"{value}{suffix}").exists() for suffix in suffixes):
        found.warning(
            node.file, node.where, path, f"{value} not found (relative to {Path(node.file).parent})"
        )


def _job_name(job: Node, key: str, path: str, found: Findings) -> None:
    node = job.get("name")
    name = node.value if node is not None else key
    if not isinstance(name, str) or "${" in name:
        return
    # Development mode prefixes "[dev user] " at deploy; a name may carry it already.
    bare = re.sub(r"^\[[^\]]*\]\s*", "", name)
    match = JOB_NAME.match(bare)
    if match is None or match.group(1) not in FREQUENCIES:
        where = node if node is not None else job
        found.warning(
            where.file,
            where.where,
            f"{path}.name",
            f"job name '{name}' should be domain-action-frequency, e.g. sales-ingest-daily "
            f"(frequency: {', '.join(FREQUENCIES[:4])}, ...)",
        )


def _model_name(model: Node, path: str, found: Findings) -> None:
    name = model.get("name")
    if name is None or not isinstance(name.value, str) or "${" in name.value:
        return
    parts = [model.get("catalog_name"), model.get("schema_name")]
    if any(p is None for p in parts) and name.value.count(".") != 2:
        found.warning(
            model.file,
            model.where,
            path,
            "registered model should be three-level catalog.schema.noun_noun "
            "(set catalog_name and schema_name)",
        )
    for part in parts:
        _snake(part, f"{path}.{_field_of(model, part)}", "name part", found)
    bare = name.value.rsplit(".", 1)[-1]
    if not NOUN_NOUN.match(bare):
        found.warning(
            name.file,
            name.where,
            f"{path}.name",
            f"model name '{name.value}' should be lowercase snake_case noun_noun, "
            "e.g. churn_classifier",
        )


def _field_of(parent: Node, child: Node | None) -> str:
    return next((k for k, v in parent.value.items() if v is child), "")


def _snake(node: Node | None, path: str, what: str, found: Findings) -> None:
    if node is None or not isinstance(node.value, str) or "${" in node.value:
        return
    if not SNAKE.match(node.value):
        found.warning(
            node.file, node.where, path, f"{what} '{node.value}' should be lowercase snake_case"
        )


def _experiment_name(experiment: Node, path: str, found: Findings) -> None:
    name = experiment.get("name")
    if name is None or not isinstance(name.value, str) or name.value.startswith("${"):
        return
    if not name.value.startswith(EXPERIMENT_ROOTS):
        found.warning(
            name.file,
            name.where,
            f"{path}.name",
            f"experiment '{name.value}' should be a workspace path under /Users/... or "
            "/Workspace/...",
        )


def _served_entities(endpoint: Node, path: str, found: Findings) -> None:
    config = endpoint.get("config")
    entities = config.get("served_entities") if config is not None else None
    if entities is None or not entities.is_list:
        return
    for i, entity in enumerate(entities.value):
        name = entity.get("entity_name") if entity.is_map else None
        if name is None or not isinstance(name.value, str) or "${" in name.value:
            continue
        is_uc_model = entity.get("entity_version") is not None
        if is_uc_model and name.value.count(".") != 2:
            found.warning(
                name.file,
                name.where,
                f"{path}.config.served_entities[{i}].entity_name",
                f"served model '{name.value}' should be a Unity Catalog model "
                "catalog.schema.noun_noun",
            )


def check_mode(config: Node, mode: Node | None, target: str, found: Findings) -> None:
    """Production mode wants a fixed root path (one copy deployed) and a run_as identity."""
    if mode is None or mode.value != "production":
        return
    workspace = config.get("workspace")
    root_path = workspace.get("root_path") if workspace is not None else None
    run_as = config.get("run_as")
    path = f"targets.{target}.mode"
    if root_path is None:
        message = (
            f"target {target} in production mode should set workspace.root_path so that only "
            "one copy is deployed, e.g. /Workspace/Shared/.bundle/${bundle.name}/${bundle.target}"
        )
        if run_as is None:
            found.error(mode.file, mode.where, path, message.replace("should", "must"))
        else:
            found.warning(mode.file, mode.where, path, message)
    if run_as is None:
        found.info(
            mode.file,
            mode.where,
            path,
            f"target {target} in production mode has no run_as: jobs run as the deploying "
            "user; consider a service principal",
        )
