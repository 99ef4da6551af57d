"""The MLflow client of a backend: one code path for Databricks and the local workspace."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

from tools_core.backend import Backend

if TYPE_CHECKING:
    from mlflow import MlflowClient

_lock = threading.Lock()


def mlflow_client(backend: Backend) -> MlflowClient:
    """An ``MlflowClient`` on the backend's tracking and registry URIs (made once per backend).

    MLflow's REST client reads credentials from the environment only, so the backend's
    MLflow credentials (the local workspace's token) are put there first. MLflow is
    imported here, not at module import: it takes seconds to load.
    """
    with _lock:
        # Set on every call, not once: MLflow reads the token at each request, and whoever
        # cleared the environment since (a test's isolation fixture) must not break the client.
        os.environ.update(dict(backend.mlflow.env))
        # MLflow writes "View run ... at: <url>" to stdout when a run ends: in the stdio
        # server, stdout carries only MCP messages.
        os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
        if backend._mlflow_client is None:
            from mlflow import MlflowClient

            backend._mlflow_client = MlflowClient(
                tracking_uri=backend.mlflow.tracking_uri,
                registry_uri=backend.mlflow.registry_uri,
            )
        client: MlflowClient = backend._mlflow_client
        return client
