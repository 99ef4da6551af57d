"""One served model version: downloaded from the workspace's MLflow over HTTP, run in-process.

The model is fetched through the MLflow configuration the workspace's process set once at
start (its own URL and token: :meth:`MlflowServer._configure_clients`), so it comes from the
workspace's own registry and artifact store, and loaded with ``mlflow.pyfunc``. Scoring
reuses MLflow's scoring server (``invocations``), so payload
parsing (dataframe_records, dataframe_split, inputs, instances, chat ``messages``) and schema
enforcement behave as on Databricks Model Serving, which runs the same code.

Traces: a served agent (``ChatAgent``, ``ResponsesAgent``, or any model using MLflow
tracing) traces each request, and on Databricks those traces go to the experiment the model
was logged in. Here each request names that experiment as its trace destination in a
context of its own (MLflow's context-local destination, a ``ContextVar``): the process's
MLflow settings stay as the workspace set them, and two endpoints serving models of
different experiments never see each other's destination. The exporter is the process's
one, sending to the workspace's own URL.
"""

from __future__ import annotations

import contextvars
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_workspace.errors import ApiError

NEEDS_FULL_MLFLOW = (
    "Model Serving in the local workspace needs the full mlflow: install dbx-devkit with the "
    "`mlflow` extra (`uv run --extra mlflow ...`)."
)


@dataclass(frozen=True)
class Served:
    """A loaded model and the experiment its requests' traces go to (None: MLflow's default)."""

    model: Any
    trace_experiment: str | None


def load(name: str, version: str, scratch: Path) -> Served:
    """Download ``models:/<name>/<version>`` from the workspace's registry and load it.

    Call once the workspace's MLflow is ready (it configures the process's clients)."""
    try:
        import mlflow.artifacts
        import mlflow.pyfunc
    except ImportError as exc:
        raise ApiError(501, "NOT_IMPLEMENTED", NEEDS_FULL_MLFLOW) from exc
    scratch.mkdir(parents=True, exist_ok=True)
    dst = tempfile.mkdtemp(prefix="model-", dir=scratch)
    path = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{name}/{version}", dst_path=dst
    )
    return Served(mlflow.pyfunc.load_model(path), _logged_in(name, version))


def _logged_in(name: str, version: str) -> str | None:
    """The experiment a version's model was logged in: its logged model's, else its run's."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    try:
        model_version = client.get_model_version(name, version)
        # MLflow's server leaves model_id empty; the source then names the logged model.
        source = str(model_version.source or "")
        model_id = model_version.model_id or (
            source.removeprefix("models:/") if source.startswith("models:/m-") else None
        )
        if model_id:
            return str(client.get_logged_model(model_id).experiment_id)
        if model_version.run_id:
            return str(client.get_run(model_version.run_id).info.experiment_id)
    except MlflowException:
        return None  # the source is gone: traces go to MLflow's default experiment
    return None


def invoke(served: Served, body: bytes) -> dict[str, Any]:
    """Score one JSON request; its traces go to the model's experiment (see the module doc)."""
    return contextvars.copy_context().run(_invoke, served, body)


def _invoke(served: Served, body: bytes) -> dict[str, Any]:
    """Score one JSON request with MLflow's scoring code; a rejected payload is a 400."""
    if served.trace_experiment is not None:
        _trace_to(served.trace_experiment)
    model = served.model
    from mlflow.exceptions import MlflowException
    from mlflow.pyfunc import scoring_server

    try:
        schema = model.metadata.get_input_schema()
        answer = scoring_server.invocations(body, "application/json", model, schema)
    except MlflowException as exc:
        raise ApiError(400, "BAD_REQUEST", _first_lines(exc.message)) from exc
    if answer.status != 200:
        raise ApiError(answer.status, "BAD_REQUEST", _first_lines(str(answer.response)))
    result = json.loads(answer.response)
    if isinstance(result, dict) and "messages" in result and "choices" not in result:
        result["choices"] = _choices(result["messages"])
    return result if isinstance(result, dict) else {"predictions": result}


def _trace_to(experiment_id: str) -> None:
    """This context's traces go to ``experiment_id`` (MLflow's context-local destination).

    Set on MLflow's destination registry directly: ``mlflow.tracing.set_destination`` would
    also rebuild the process's tracer provider on every request, and the provider already
    exports to the workspace's own tracking server; only the experiment differs."""
    from mlflow.entities.trace_location import MlflowExperimentLocation
    from mlflow.tracing.provider import _MLFLOW_TRACE_USER_DESTINATION

    _MLFLOW_TRACE_USER_DESTINATION.set(MlflowExperimentLocation(experiment_id), context_local=True)


def _choices(messages: Any) -> list[dict[str, Any]]:
    """ChatAgent answers ``messages``; clients reading OpenAI-style ``choices`` see the last."""
    if not isinstance(messages, list) or not messages:
        return []
    last = messages[-1]
    message = {"role": last.get("role", "assistant"), "content": last.get("content", "")}
    return [{"index": 0, "message": message, "finish_reason": "stop"}]


def _first_lines(message: str, limit: int = 1500) -> str:
    """Model errors can embed the whole input frame: keep the answer short."""
    return message if len(message) <= limit else message[:limit] + " ..."
