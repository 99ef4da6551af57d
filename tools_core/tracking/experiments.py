"""MLflow experiments: list (bounded, paged) and create (idempotent by name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.tracking.common import client_of, mlflow_errors, naming_warnings, when
from tools_core.tracking.models import ExperimentCreated, ExperimentList, ExperimentRow

if TYPE_CHECKING:
    from mlflow.entities import Experiment


def _row(experiment: Experiment) -> ExperimentRow:
    return ExperimentRow(
        experiment_id=str(experiment.experiment_id),
        name=experiment.name,
        lifecycle_stage=experiment.lifecycle_stage,
        last_update=when(experiment.last_update_time),
    )


def list_experiments(
    backend: Backend,
    name_contains: str | None = None,
    limit: int = 50,
    page_token: str | None = None,
) -> ExperimentList:
    """Active experiments, most recently updated first, optionally filtered by name."""
    client = client_of(backend)  # first: it imports mlflow whole (see client_of)
    from mlflow.entities import ViewType

    filter_string = None
    if name_contains:
        # MLflow's filter grammar has no escapes for quotes: refuse them instead of guessing.
        if "'" in name_contains:
            raise InvalidInput("name_contains cannot hold a single quote")
        filter_string = f"name LIKE '%{name_contains}%'"
    with mlflow_errors({"INVALID_PARAMETER_VALUE": "Check page_token and name_contains."}):
        page = client.search_experiments(
            view_type=ViewType.ACTIVE_ONLY,
            max_results=limit,  # always passed: the OSS server refuses 0
            filter_string=filter_string,
            order_by=["last_update_time DESC"],
            page_token=page_token,
        )
    return ExperimentList(
        experiments=[_row(e) for e in page],
        truncated=bool(page.token),
        next_page_token=page.token or None,
    )


def create_experiment(backend: Backend, name: str) -> ExperimentCreated:
    """Create an experiment, or return the active one that already has this name.

    Idempotent on purpose: an agent retrying a create gets the same experiment back.
    """
    name = name.strip()
    if not name:
        raise InvalidInput("experiment name is empty", "Use /Users/<user>/<project>.")
    client = client_of(backend)
    from mlflow.exceptions import MlflowException

    warnings = naming_warnings(name)
    existing = client.get_experiment_by_name(name)
    created = False
    if existing is None:
        try:
            experiment_id = client.create_experiment(name)
            created = True
        except MlflowException as exc:
            # Someone created it between our lookup and our create: reuse theirs.
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        existing = client.get_experiment_by_name(name)
        if existing is None:  # pragma: no cover  (created, then deleted at once)
            raise ToolsCoreError("RESOURCE_DOES_NOT_EXIST", f"experiment {name!r} vanished")
    if existing.lifecycle_stage == "deleted":
        raise ToolsCoreError(
            "RESOURCE_ALREADY_EXISTS",
            f"experiment {name!r} ({existing.experiment_id}) exists but is deleted",
            "Pick another name, or restore it (MlflowClient.restore_experiment).",
        )
    experiment_id = str(existing.experiment_id)
    return ExperimentCreated(
        experiment_id=experiment_id, name=name, created=created, warnings=warnings
    )
