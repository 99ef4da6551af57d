"""One served model version: downloaded from the workspace's MLflow over HTTP, run in-process.

The model is fetched through the MLflow configuration the workspace's process set once at
start (its own URL and token: :meth:`MlflowServer._configure_clients`), so it comes from the
workspace's own registry and artifact store, and loaded with ``mlflow.pyfunc``. Scoring
reuses MLflow's scoring server (``invocations``), so payload
parsing (dataframe_records, dataframe_split, inputs, instances, chat ``messages``) and schema
enforcement behave as on Databricks Model Serving, which runs the same code.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from local_workspace.errors import ApiError

NEEDS_FULL_MLFLOW = (
    "Model Serving in the local workspace needs the full mlflow: install dbx-devkit with the "
    "`mlflow` extra (`uv run --extra mlflow ...`)."
)


def load(name: str, version: str, scratch: Path) -> Any:
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
    return mlflow.pyfunc.load_model(path)


def invoke(model: Any, body: bytes) -> dict[str, Any]:
    """Score one JSON request with MLflow's scoring code; a rejected payload is a 400."""
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
