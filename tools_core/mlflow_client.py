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
        if backend._mlflow_client is None:
            os.environ.update(dict(backend.mlflow.env))
            from mlflow import MlflowClient

            backend._mlflow_client = MlflowClient(
                tracking_uri=backend.mlflow.tracking_uri,
                registry_uri=backend.mlflow.registry_uri,
            )
        client: MlflowClient = backend._mlflow_client
        return client
