"""One run in detail, runs side by side, and recording a run (an agent's evaluation)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, OutcomeUnknown, ToolsCoreError
from tools_core.retries import describe_failure
from tools_core.tracking.common import (
    RUN_HINT,
    client_of,
    mlflow_errors,
    naming_warnings,
    resolve_experiment,
    run_url,
    when,
)
from tools_core.tracking.dedupe import KEY_TAG, create_run_once, may_have_been_applied
from tools_core.tracking.models import (
    ArtifactRow,
    CompareRow,
    RunComparison,
    RunDetail,
    RunLogged,
    as_value,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

MAX_ARTIFACTS = 50
MAX_KEYS = 100
MAX_COMPARE_ROWS = 100
# log_batch limits of the MLflow REST API.
BATCH_LIMITS = {"params": 100, "tags": 100, "metrics": 1000}
NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST": RUN_HINT, "NOT_FOUND": RUN_HINT}


def fetch_run(client: MlflowClient, run_id: str) -> Run:
    """A run by id; an unknown id fails with the code and where to find run ids."""
    if not run_id.strip():
        raise InvalidInput("run_id is empty", RUN_HINT)
    with mlflow_errors({**NOT_FOUND, "INVALID_PARAMETER_VALUE": RUN_HINT}):
        return client.get_run(run_id.strip())


def get_run(backend: Backend, run_id: str, all_tags: bool = False) -> RunDetail:
    """A run's params, latest metrics, tags (system tags only when asked), artifacts, models."""
    client = client_of(backend)
    run = fetch_run(client, run_id)
    info, data = run.info, run.data
    omitted: list[str] = []
    # System tags (MLflow's, and the key of a deduplicated create) only when asked.
    hidden = ("mlflow.", KEY_TAG)
    tags = {k: v for k, v in data.tags.items() if all_tags or not k.startswith(hidden)}
    artifacts, artifacts_truncated, note = _artifacts(client, info.run_id)
    if note:
        omitted.append(note)
    params = _bounded(data.params, "params", omitted)
    metrics = _bounded({k: as_value(v) for k, v in data.metrics.items()}, "metrics", omitted)
    return RunDetail(
        run_id=info.run_id,
        name=info.run_name,
        experiment_id=str(info.experiment_id),
        status=info.status,
        start=when(info.start_time),
        end=when(info.end_time),
        user=data.tags.get("mlflow.user") or info.user_id or None,
        source=data.tags.get("mlflow.source.name"),
        params=params,
        metrics=metrics,
        tags=_bounded(tags, "tags", omitted),
        artifacts=artifacts,
        artifacts_truncated=artifacts_truncated,
        models=_models(client, run),
        datasets=_datasets(run),
        omitted=omitted,
        url=run_url(backend, str(info.experiment_id), info.run_id),
    )


def _bounded(mapping: Mapping[str, Any], what: str, omitted: list[str]) -> dict[str, Any]:
    keys = sorted(mapping)
    if len(keys) > MAX_KEYS:
        omitted.append(f"{len(keys) - MAX_KEYS} more {what} not shown")
    return {k: mapping[k] for k in keys[:MAX_KEYS]}


def _artifacts(client: MlflowClient, run_id: str) -> tuple[list[ArtifactRow], bool, str]:
    """The top level of the run's artifacts and one level below, at most MAX_ARTIFACTS."""
    from mlflow.exceptions import MlflowException

    rows: list[ArtifactRow] = []
    try:
        top = client.list_artifacts(run_id)
        for item in top:
            rows.append(ArtifactRow(path=item.path, is_dir=item.is_dir, size=item.file_size))
            if item.is_dir and len(rows) < MAX_ARTIFACTS:
                for child in client.list_artifacts(run_id, item.path):
                    rows.append(
                        ArtifactRow(path=child.path, is_dir=child.is_dir, size=child.file_size)
                    )
    except MlflowException as exc:
        # The run itself is readable; say why its artifacts are not, and go on.
        return rows[:MAX_ARTIFACTS], False, f"artifacts not listed: {exc.error_code}"
    return rows[:MAX_ARTIFACTS], len(rows) > MAX_ARTIFACTS, ""


def _models(client: MlflowClient, run: Run) -> list[str]:
    """Models the run logged: MLflow 3 logged models, or the legacy history tag."""
    from mlflow.exceptions import MlflowException

    names: list[str] = []
    outputs = getattr(run, "outputs", None)
    model_ids = [o.model_id for o in getattr(outputs, "model_outputs", None) or []]
    if model_ids:
        try:
            found = client.search_logged_models(
                experiment_ids=[str(run.info.experiment_id)],
                filter_string=f"source_run_id = '{run.info.run_id}'",
                max_results=20,
            )
            names = [f"{m.name} ({m.model_id})" for m in found]
        except MlflowException:
            names = list(model_ids)  # an older server: the ids still help
    history = run.data.tags.get("mlflow.log-model.history")
    if history and not names:
        # A malformed legacy tag is not worth failing get_run over.
        with contextlib.suppress(ValueError, AttributeError):
            names = [f"artifact {m.get('artifact_path')}" for m in json.loads(history)]
    return names[:20]


def _datasets(run: Run) -> list[str]:
    inputs = getattr(run, "inputs", None)
    found = getattr(inputs, "dataset_inputs", None) or []
    return [f"{d.dataset.name} ({d.dataset.digest})" for d in found][:20]


def compare_runs(
    backend: Backend, run_ids: Sequence[str], show_same: bool = False
) -> RunComparison:
    """Runs side by side: params and metrics that differ first, identical ones counted."""
    if not 2 <= len(run_ids) <= 10:
        raise InvalidInput("compare 2 to 10 runs", RUN_HINT)
    client = client_of(backend)
    runs = [fetch_run(client, run_id) for run_id in run_ids]
    keys = sorted({f"params.{k}" for r in runs for k in r.data.params}) + sorted(
        {f"metrics.{k}" for r in runs for k in r.data.metrics}
    )
    differ: list[CompareRow] = []
    same: list[CompareRow] = []
    for key in keys:
        kind, name = key.split(".", 1)
        values = [
            as_value((r.data.params if kind == "params" else r.data.metrics).get(name))
            for r in runs
        ]
        row = CompareRow(key=key, values=values)
        (same if all(v == values[0] for v in values) else differ).append(row)
    return RunComparison(
        run_ids=[r.info.run_id for r in runs],
        names=[r.info.run_name for r in runs],
        differ=differ[:MAX_COMPARE_ROWS],
        same=same[:MAX_COMPARE_ROWS] if show_same else [],
        same_count=len(same),
    )


def log_run(
    backend: Backend,
    experiment: str = "",
    run_name: str = "",
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    run_id: str = "",
    step: int = 0,
) -> RunLogged:
    """Record params, metrics and tags: in a new, finished run of ``experiment`` (created
    when the name is new), or added to the existing run ``run_id``.

    Not idempotent: each call without ``run_id`` makes a new run, but only one even when
    MLflow retries the create (see :mod:`tools_core.tracking.dedupe`).
    """
    params, metrics, tags = dict(params or {}), dict(metrics or {}), dict(tags or {})
    for what, mapping in (("params", params), ("metrics", metrics), ("tags", tags)):
        if len(mapping) > BATCH_LIMITS[what]:
            raise InvalidInput(f"at most {BATCH_LIMITS[what]} {what} per call")
    client = client_of(backend)
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.exceptions import MlflowException

    warnings: list[str] = []
    if run_id:
        run = fetch_run(client, run_id)
        experiment_id, created = str(run.info.experiment_id), False
    else:
        if not experiment.strip():
            raise InvalidInput("give an experiment (or a run_id to add to)", RUN_HINT)
        experiment_id, warnings = _experiment_for_logging(client, experiment)
        run, notes = create_run_once(client, experiment_id, run_name or None)
        warnings += notes
        created = True
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    hints = {
        "INVALID_PARAMETER_VALUE": "A logged param cannot change (use a new key, or a new run "
        "without run_id); keys: letters, digits, spaces and _-./"
    }
    try:
        with mlflow_errors(hints):
            client.log_batch(
                run_id,
                metrics=[Metric(k, float(v), now, step) for k, v in metrics.items()],
                params=[Param(k, str(v)) for k, v in params.items()],
                tags=[RunTag(k, str(v)) for k, v in tags.items()],
            )
    except (MlflowException, ToolsCoreError) as exc:
        if may_have_been_applied(exc):
            # The batch may be in; a plain "retry later" would invite a second run.
            raise OutcomeUnknown(
                f"Logging to run {run_id}",
                describe_failure(exc),
                f"mlflow_get_run run_id={run_id} (add what is missing with run_id={run_id})",
            ) from exc
        if created:
            client.set_terminated(run_id, "FAILED")  # no half-logged run left RUNNING
        raise
    if created:
        warnings += _finish(client, run_id)
    return RunLogged(
        run_id=run_id,
        experiment_id=experiment_id,
        created=created,
        params=len(params),
        metrics=len(metrics),
        tags=len(tags),
        url=run_url(backend, experiment_id, run_id),
        warnings=warnings,
    )


def _finish(client: MlflowClient, run_id: str) -> list[str]:
    """Mark the run FINISHED; all is logged already, so a failure here is a warning, not an
    error (an error would invite logging the whole run again)."""
    from mlflow.exceptions import MlflowException

    try:
        client.set_terminated(run_id, "FINISHED")
    except (MlflowException, ToolsCoreError) as exc:
        if not may_have_been_applied(exc):
            raise
        return [f"logged, but marking the run FINISHED failed ({describe_failure(exc)})"]
    return []


def _experiment_for_logging(client: MlflowClient, ref: str) -> tuple[str, list[str]]:
    """The experiment's id, creating it when ``ref`` is a new name."""
    from mlflow.exceptions import MlflowException

    try:
        experiment = resolve_experiment(client, ref)
    except ToolsCoreError as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST" or ref.strip().isdigit():
            raise
        name = ref.strip()
        try:
            return str(client.create_experiment(name)), naming_warnings(name)
        except MlflowException as created:
            # Made meanwhile (or by MLflow's retry of our own create): use it.
            if created.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            experiment = resolve_experiment(client, name)
    return str(experiment.experiment_id), naming_warnings(experiment.name)
