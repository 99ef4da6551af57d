"""mlflow_evaluate: evaluate a registered model version or a serving endpoint on a Unity
Catalog table, as a one-time job run on the workspace, and summarize the evaluation run.

Why a job run: ``mlflow.evaluate``/``mlflow.genai.evaluate`` work through MLflow's process
globals (tracking URI, active run) and import heavy modules; the caller's process keeps
neither. The job's Python task runs them where the data and the endpoints are (Databricks
serverless, or the local workspace's task runtime, which points MLflow at the workspace),
into an MLflow run this module creates first, and reads back through its own MlflowClient.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.evaluation.models import EvaluationResult
from tools_core.evaluation.read import read_evaluation
from tools_core.jobs import runs as job_runs
from tools_core.registry.promote import EVALUATION_TAG
from tools_core.tracking.common import client_of, clip, resolve_experiment, run_url
from tools_core.tracking.dedupe import create_run_once

if TYPE_CHECKING:
    from mlflow import MlflowClient

ProgressFn = Callable[[float, float, str], None]

CLASSIC = ("classifier", "regressor")  # mlflow.evaluate model types: ground-truth metrics
CODE = ("exact_match", "contains_expected", "latency_ms")  # genai code scorers, offline
JUDGES = ("correctness", "relevance_to_query", "safety")  # LLM judges: need a chat endpoint
NEEDS_LABEL = ("classifier", "regressor", "exact_match", "contains_expected", "correctness")
MAX_ROWS = 1000
MAX_TIMEOUT_S = 600
TASK_DIR = ".dbx_devkit"  # under the user's home folder in the workspace
# What the task's serverless environment installs on Databricks (the local workspace has it).
DEPENDENCIES = ["mlflow[databricks]>=3.1"]
JUDGE_DEPENDENCIES = ["databricks-agents"]
MODEL_URI = re.compile(r"^models:/([^/@]+\.[^/@]+\.[^/@]+)(?:/(\d+)|@([\w-]+))$")
ENDPOINT_URI = re.compile(r"^endpoints:/([\w-]+)$")
EXPERIMENT_NAME = "dbx-devkit-evaluations"


def evaluate(
    backend: Backend,
    target: str,
    table: str,
    scorers: Sequence[str],
    label: str = "",
    inputs: Sequence[str] = (),
    judge_endpoint: str = "",
    experiment: str = "",
    max_rows: int = 200,
    timeout_s: float = 300,
    on_progress: ProgressFn | None = None,
    check: Callable[[], None] | None = None,
) -> EvaluationResult:
    """Evaluate ``target`` (``models:/c.s.m/1``, ``models:/c.s.m@alias`` or
    ``endpoints:/name``) on ``table`` with ``scorers``; ``label`` is the ground-truth column
    (mlflow.evaluate's targets, or genai's expected_response); ``inputs`` the columns the
    model is given (default: every other column).

    Everything that can be checked is checked before anything starts. The evaluation run is
    created here, then filled by a one-time job run this call waits for (``timeout_s``); on
    timeout the result says what still runs and how to follow it.
    """
    family = _family(scorers)
    if not 1 <= max_rows <= MAX_ROWS:
        raise InvalidInput(f"max_rows must be between 1 and {MAX_ROWS}, got {max_rows}.")
    if not 0 <= timeout_s <= MAX_TIMEOUT_S:
        raise InvalidInput(f"timeout_s must be between 0 and {MAX_TIMEOUT_S}, got {timeout_s}.")
    version = _check_target(backend, target)
    columns = _columns(backend, table, label, inputs, scorers)
    judge = _judge(backend, scorers, judge_endpoint)
    client = client_of(backend)
    experiment_id = _experiment(backend, client, experiment)
    run, _ = create_run_once(client, experiment_id, f"evaluate {target}")
    run_id = run.info.run_id
    spec = {
        "run_id": run_id,
        "target": target,
        "table": table,
        "columns": columns,
        "label": label or None,
        "family": family,
        "scorers": list(scorers),
        "judge": judge,
        "max_rows": max_rows,
    }
    from databricks.sdk.errors import DatabricksError
    from requests import RequestException

    try:
        job_run_id = _submit(backend, spec, with_judge=judge == "databricks")
    except (DatabricksError, RequestException, ToolsCoreError):
        client.set_terminated(run_id, "FAILED")  # nothing will fill it
        raise
    summary = job_runs.wait_run(backend, job_run_id, timeout_s, on_progress, check)
    url = run_url(backend, experiment_id, run_id)
    if summary.timed_out:
        return EvaluationResult(
            run_id=run_id,
            experiment_id=experiment_id,
            job_run_id=job_run_id,
            state="RUNNING",
            url=url,
            hint=(
                f"still running after {timeout_s:g} s; follow with jobs_wait_run "
                f"run_id={job_run_id}, then mlflow_get_run run_id={run_id}."
            ),
        )
    if summary.result_state != "SUCCESS":
        _fail_run(client, run_id)
        output = job_runs.get_run_output(backend, job_run_id, max_chars=2_000)
        error = clip(output.error or summary.message or str(summary.result_state), 600)
        raise ToolsCoreError(
            "EVALUATION_FAILED",
            f"the evaluation job run {job_run_id} ended {summary.result_state}: {error}",
            f"Details: jobs_get_run_output run_id={job_run_id}.",
        )
    result = read_evaluation(client, run_id, family, label or None)
    result.experiment_id = experiment_id
    result.job_run_id = job_run_id
    result.url = url
    if version is not None:
        # The version remembers its evaluation: registry_promote metric_from=evaluation reads it.
        name, number = version
        client.set_model_version_tag(name, number, EVALUATION_TAG, run_id)
        result.hint = " ".join(
            filter(None, [result.hint, f"Tagged {name} v{number} {EVALUATION_TAG}={run_id}."])
        )
    return result


def _family(scorers: Sequence[str]) -> str:
    if not scorers:
        raise InvalidInput("give at least one scorer.", _SCORER_HINT)
    unknown = [s for s in scorers if s not in (*CLASSIC, *CODE, *JUDGES)]
    if unknown:
        raise InvalidInput(f"unknown scorer {', '.join(map(repr, unknown))}.", _SCORER_HINT)
    classic = [s for s in scorers if s in CLASSIC]
    if classic and (len(classic) > 1 or len(scorers) > 1):
        raise InvalidInput(
            f"{classic[0]} runs mlflow.evaluate (classic model metrics) on its own.",
            "Give exactly one of classifier/regressor, or genai scorers only.",
        )
    return "classic" if classic else "genai"


_SCORER_HINT = (
    f"Classic models (mlflow.evaluate): {' or '.join(CLASSIC)}. GenAI (mlflow.genai.evaluate): "
    f"code scorers {', '.join(CODE)}; LLM judges {', '.join(JUDGES)} (need judge_endpoint)."
)


def _check_target(backend: Backend, target: str) -> tuple[str, str] | None:
    """The model version or endpoint exists: a typo fails here, not in a job's log. For a
    model, its (name, version number)."""
    from databricks.sdk.errors import NotFound
    from mlflow.exceptions import MlflowException

    model = MODEL_URI.match(target)
    endpoint = ENDPOINT_URI.match(target)
    if endpoint:
        try:
            backend.client.serving_endpoints.get(endpoint.group(1))
        except NotFound as exc:
            raise ToolsCoreError(
                "RESOURCE_DOES_NOT_EXIST",
                f"serving endpoint {endpoint.group(1)!r} does not exist.",
                "List endpoints with serving_list_endpoints.",
            ) from exc
        return None
    if not model:
        raise InvalidInput(
            f"target {target!r} is neither models:/<catalog>.<schema>.<model>/<version> (or "
            "@<alias>) nor endpoints:/<endpoint>."
        )
    name, version, alias = model.groups()
    client = client_of(backend)
    try:
        if version:
            found = client.get_model_version(name, version)
        else:
            found = client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code not in (
            "RESOURCE_DOES_NOT_EXIST",
            "NOT_FOUND",
            "INVALID_PARAMETER_VALUE",
        ):
            raise
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            f"{target} does not exist.",
            f"List versions with registry_list_versions name={name}.",
        ) from exc
    return name, str(found.version)


def _columns(
    backend: Backend, table: str, label: str, inputs: Sequence[str], scorers: Sequence[str]
) -> list[str]:
    """The table's columns (inputs, then the label), read from Unity Catalog."""
    from databricks.sdk.errors import NotFound

    if table.count(".") != 2:
        raise InvalidInput(f"table {table!r} must be a three-level name catalog.schema.table.")
    try:
        info = backend.client.tables.get(table)
    except NotFound as exc:
        raise ToolsCoreError(
            "TABLE_OR_VIEW_NOT_FOUND",
            f"The table or view `{table}` cannot be found.",
            "Check the name with uc_list_tables.",
        ) from exc
    names = [c.name for c in info.columns or [] if c.name]
    needs = [s for s in scorers if s in NEEDS_LABEL]
    missing = [c for c in (*inputs, label) if c and c not in names]
    if missing:
        raise InvalidInput(
            f"{table} has no column {', '.join(map(repr, missing))}; its columns: "
            f"{', '.join(names)}.",
        )
    if needs and not label:
        raise InvalidInput(
            f"{', '.join(needs)} compare with the ground truth: pass label=<column>.",
            f"Columns of {table}: {', '.join(names)}.",
        )
    chosen = [n for n in inputs if n != label] or [n for n in names if n != label]
    if not chosen:
        raise InvalidInput(f"{table} has no input column besides {label!r}.")
    return chosen + ([label] if label else [])


def _judge(backend: Backend, scorers: Sequence[str], judge_endpoint: str) -> str | None:
    """The judge model URI LLM-judge scorers use, or None when none is asked for."""
    from databricks.sdk.errors import NotFound

    judges = [s for s in scorers if s in JUDGES]
    if not judges:
        if judge_endpoint:
            raise InvalidInput(
                "judge_endpoint is only used by the LLM judges: " + ", ".join(JUDGES)
            )
        return None
    if judge_endpoint:
        try:
            backend.client.serving_endpoints.get(judge_endpoint)
        except NotFound as exc:
            raise ToolsCoreError(
                "RESOURCE_DOES_NOT_EXIST",
                f"judge endpoint {judge_endpoint!r} does not exist.",
                "Serve a chat model or agent (serving_create_endpoint) and name it.",
            ) from exc
        return f"endpoints:/{judge_endpoint}"
    if backend.kind == "local":
        raise InvalidInput(
            f"{', '.join(judges)} are LLM judges and need a chat model: the local workspace "
            "has no Databricks-managed judge.",
            "Pass judge_endpoint=<a served chat endpoint of this workspace> (it must answer "
            "JSON with result and rationale), or use the code scorers " + ", ".join(CODE) + ".",
        )
    return "databricks"  # Databricks' managed judges


def _experiment(backend: Backend, client: MlflowClient, ref: str) -> str:
    """The experiment to log into: ``ref``, or the user's evaluations experiment."""
    from mlflow.exceptions import MlflowException

    if ref:
        return str(resolve_experiment(client, ref).experiment_id)
    name = f"/Users/{backend.user}/{EXPERIMENT_NAME}"
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    try:
        return str(client.create_experiment(name))
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return str(resolve_experiment(client, name).experiment_id)


def task_source() -> str:
    """The evaluation task's python source (uploaded as a workspace file)."""
    return resources.files("tools_core.evaluation").joinpath("eval_task.py").read_text("utf-8")


def _upload_task(backend: Backend) -> str:
    """The task file's workspace path; named by its content, so it is uploaded once."""
    from databricks.sdk.errors import NotFound, ResourceAlreadyExists
    from databricks.sdk.service.workspace import ImportFormat

    source = task_source()
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    folder = f"/Users/{backend.user}/{TASK_DIR}"
    path = f"{folder}/evaluate_{digest}.py"
    try:
        backend.client.workspace.get_status(path)
        return path
    except NotFound:
        pass
    backend.client.workspace.mkdirs(folder)
    with contextlib.suppress(ResourceAlreadyExists):  # uploaded meanwhile: same content
        backend.client.workspace.upload(path, source.encode(), format=ImportFormat.AUTO)
    return path


def _submit(backend: Backend, spec: dict[str, Any], with_judge: bool) -> int:
    """A one-time job run of the evaluation task on serverless; its run id."""
    from databricks.sdk.service.compute import Environment
    from databricks.sdk.service.jobs import JobEnvironment, SubmitTask

    path = _upload_task(backend)
    dependencies = DEPENDENCIES + (JUDGE_DEPENDENCIES if with_judge else [])
    task = {
        "task_key": "evaluate",
        "spark_python_task": {
            "python_file": path,
            "source": "WORKSPACE",
            "parameters": [json.dumps(spec)],
        },
        "environment_key": "default",
    }
    environment = Environment(environment_version="2", dependencies=dependencies)
    started = backend.client.jobs.submit(
        run_name=f"mlflow_evaluate {spec['target']}",
        tasks=[SubmitTask.from_dict(task)],
        environments=[JobEnvironment(environment_key="default", spec=environment)],
        idempotency_token=spec["run_id"],  # one job run per evaluation run, even if retried
    )
    return int(started.run_id)


def _fail_run(client: MlflowClient, run_id: str) -> None:
    """Mark the evaluation run FAILED unless the task already ended it."""
    run = client.get_run(run_id)
    if run.info.status == "RUNNING":
        client.set_terminated(run_id, "FAILED")
