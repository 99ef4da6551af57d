"""Run and logged-model artifacts for clients whose tracking URI is ``databricks``.

On Databricks, MLflow 3 (``DatabricksRunArtifactRepository``,
``DatabricksLoggedModelArtifactRepository``) moves the files of a run whose artifact URI is
``dbfs:/databricks/mlflow-tracking/<experiment>/<run>/artifacts`` through the Files API, at
``/WorkspaceInternal/Mlflow/Artifacts/<experiment>/Runs/<run>/artifacts/...`` (a logged
model's: ``.../<experiment>/LoggedModels/<model id>/artifacts/...``).

MLflow's server behind the workspace keeps those files in its artifact store as
``mlflow-artifacts:/<experiment>/<run>/artifacts`` (``.../models/<model id>/artifacts``), the
form HTTP clients (job tasks on the workspace URL, the tools, the UI) need. So a Databricks
client (told apart as :mod:`local_workspace.api.mlflow_traces` does) is shown the ``dbfs:``
form of the same locations, and the Files API's ``/WorkspaceInternal/Mlflow/Artifacts/`` area
reaches the same folders: one store, both kinds of client.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath

from starlette.types import Scope

from local_workspace.catalog import volume_files as vf
from local_workspace.errors import ApiError, invalid, not_found
from local_workspace.state import WorkspaceState

FILES_PREFIX = "/WorkspaceInternal/Mlflow/Artifacts/"
_EXPERIMENT = re.compile(r"^\d{1,18}$")
_RUN = re.compile(r"^[0-9a-f]{32}$")
_MODEL = re.compile(r"^m-[0-9a-f]{32}$")

DATABRICKS_CLIENT = b"databricks-sdk-py/"
# MLflow's REST answers (not its artifact proxy, /api/2.0/mlflow-artifacts/, nor files).
REST_PATHS = ("/api/2.0/mlflow/", "/api/3.0/mlflow/")
# MLflow's server form → Databricks' form, in the JSON answers a Databricks client reads.
_TRACE = re.compile(rb'"mlflow-artifacts:/(\d+)/traces/(tr-[0-9a-f]+)/artifacts"')
_LOGGED_MODEL = re.compile(rb'"mlflow-artifacts:/(\d+)/models/(m-[0-9a-f]{32})(/artifacts[^"]*)"')
_RUN_ARTIFACTS = re.compile(rb'"mlflow-artifacts:/(\d+)/([0-9a-f]{32})(/artifacts[^"]*)"')
_EXPERIMENT_ROOT = re.compile(rb'"mlflow-artifacts:/(\d+)"')


def databricks_view(scope: Scope, path: str) -> Callable[[bytes], bytes] | None:
    """For a Databricks client (told apart by the Databricks SDK's ``User-Agent``, which
    every ``databricks``-URI request of MLflow carries): how to rewrite MLflow's answer."""
    if not path.startswith(REST_PATHS):
        return None
    agent = dict(scope.get("headers") or []).get(b"user-agent", b"")
    return to_databricks_form if DATABRICKS_CLIENT in agent else None


def to_databricks_form(body: bytes) -> bytes:
    """Trace, run, logged-model and experiment artifact locations as a Databricks client
    expects them (traces: see :mod:`local_workspace.api.mlflow_traces`)."""
    body = _TRACE.sub(rb'"dbfs:/databricks/mlflow-tracking/\1/\2/artifacts"', body)
    body = _LOGGED_MODEL.sub(rb'"dbfs:/databricks/mlflow-tracking/\1/logged_models/\2\3"', body)
    body = _RUN_ARTIFACTS.sub(rb'"dbfs:/databricks/mlflow-tracking/\1/\2\3"', body)
    return _EXPERIMENT_ROOT.sub(rb'"dbfs:/databricks/mlflow-tracking/\1"', body)


def _outside(path: str, why: str) -> ApiError:
    return invalid(
        f"Invalid path '{path}': {why}. MLflow's artifacts are reached as "
        f"{FILES_PREFIX}<experiment>/Runs/<run>/artifacts/... or "
        f"{FILES_PREFIX}<experiment>/LoggedModels/<model id>/artifacts/..."
    )


def resolve_files_path(state: WorkspaceState, path: str) -> vf.VolumePath:
    """A checked path of an existing run's or logged model's artifacts (blocking)."""
    parts = vf.path_parts(path, FILES_PREFIX, _outside)
    if len(parts) < 4 or parts[3] != "artifacts" or not _EXPERIMENT.match(parts[0]):
        raise _outside(path, "it names no run or logged model's artifacts")
    experiment, kind, ident = parts[0], parts[1], parts[2]
    if kind == "Runs" and _RUN.match(ident):
        stored = [experiment, ident]
    elif kind == "LoggedModels" and _MODEL.match(ident):
        stored = [experiment, "models", ident]
    else:
        raise _outside(path, "it names no run or logged model's artifacts")
    _require(state, kind, experiment, ident)
    root = state.services["mlflow"].artifacts_dir.joinpath(*stored, "artifacts")
    relative = PurePosixPath(*parts[4:]) if parts[4:] else PurePosixPath()
    public = FILES_PREFIX + "/".join(parts)
    found = vf.VolumePath(public, f"{kind}/{ident}", root, relative, FILES_PREFIX)
    vf.check_links(found)
    return found


def _require(state: WorkspaceState, kind: str, experiment: str, ident: str) -> None:
    """404 unless the run (or logged model) exists in that experiment."""
    store = state.services["mlflow"].tracking_store()  # waits for MLflow before importing it
    from mlflow.exceptions import MlflowException

    try:
        found = store.get_run(ident).info if kind == "Runs" else store.get_logged_model(ident)
    except MlflowException as exc:
        raise not_found(
            f"{kind[:-1]} '{ident}' does not exist.", "RESOURCE_DOES_NOT_EXIST"
        ) from exc
    if str(found.experiment_id) != experiment:
        raise not_found(
            f"{kind[:-1]} '{ident}' is not in experiment {experiment}.", "RESOURCE_DOES_NOT_EXIST"
        )
