"""Shared pieces of the MLflow tracking operations: errors, experiment lookup, formatting.

MLflow is imported inside functions only: ``import mlflow`` takes seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError, one_line

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Experiment

# The guide's convention: experiments live at a workspace path (Databricks requires it).
WORKSPACE_PATH = re.compile(r"^/(Users/[^/]+|Workspace|Shared|Repos/[^/]+)/.+")
NAMING_HINT = (
    "experiment names should be workspace paths like /Users/<user>/<project> "
    "(or /Shared/<project>); Databricks rejects other names"
)
LIST_HINT = "List experiments with mlflow_list_experiments."
RUN_HINT = "List runs with mlflow_search_runs."
FILTER_HINT = (
    "Filter syntax: metrics.f1 > 0.8 and params.model = 'xgb' (strings in single quotes; "
    "also attributes.status = 'FINISHED', tags.k = 'v'); order_by: 'metrics.f1 DESC'."
)


@contextmanager
def mlflow_errors(hints: Mapping[str, str]) -> Iterator[None]:
    """Turn an MLflow error into a ToolsCoreError with the code, one line and the hint for it.

    Codes without a hint here pass through untouched to the server's boundary.
    """
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        code = str(exc.error_code or "")
        if code not in hints:
            raise
        raise ToolsCoreError(code, one_line(exc.message, code), hints[code]) from exc


def naming_warnings(name: str) -> list[str]:
    """The guide's naming conventions for an experiment name, as warnings."""
    if WORKSPACE_PATH.match(name):
        return []
    return [f"{name!r}: {NAMING_HINT}"]


def resolve_experiment(client: MlflowClient, ref: str) -> Experiment:
    """An experiment by id (digits) or by name; unknown ones fail with a hint."""
    from mlflow.exceptions import MlflowException

    ref = ref.strip()
    if not ref:
        raise InvalidInput("experiment name or id is empty", LIST_HINT)
    if ref.isdigit():
        try:
            return client.get_experiment(ref)
        except MlflowException as exc:
            # A digits-only name is possible, if unusual: fall back to a lookup by name.
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
    experiment = client.get_experiment_by_name(ref)
    if experiment is None:
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST", f"no experiment with name or id {ref!r}", LIST_HINT
        )
    return experiment


def client_of(backend: Backend) -> MlflowClient:
    """The backend's MLflow client. Call it before importing any ``mlflow.*`` submodule: it
    imports the ``mlflow`` package whole first. Importing a submodule first while another
    thread (the local workspace's MLflow server) is importing mlflow takes the module locks
    in the opposite order and can deadlock on MLflow's circular imports."""
    from tools_core.mlflow_client import mlflow_client

    return mlflow_client(backend)


def run_url(backend: Backend, experiment_id: str, run_id: str) -> str | None:
    """The run's page in the workspace UI (the local workspace serves MLflow's UI at /mlflow/)."""
    if not backend.host:
        return None
    host = backend.host.rstrip("/")
    if backend.kind == "local":
        return f"{host}/mlflow/#/experiments/{experiment_id}/runs/{run_id}"
    return f"{host}/ml/experiments/{experiment_id}/runs/{run_id}"


def num(value: Any) -> Any:
    """A number rounded to 4 significant digits for tables; other values unchanged."""
    if isinstance(value, bool) or not isinstance(value, float):
        return value
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return float(f"{value:.4g}")


def when(ms: int | None) -> str | None:
    """A millisecond epoch as compact UTC text."""
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")


def clip(text: str | None, width: int) -> str:
    """Text cut to ``width`` characters (tables stay narrow)."""
    if text is None:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"
