"""Files of MLflow's artifact proxy (``mlflow-artifacts:/`` locations), fetched with a given
client's own credentials: MLflow's artifact repositories read ``MLFLOW_TRACKING_TOKEN`` from
the environment instead. Shared by :mod:`tools_core.mlflow_rest` and
:mod:`tools_core.mlflow_uc`; MLflow is imported by the function that needs it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from mlflow.utils.rest_utils import MlflowHostCreds

# Where MLflow's server proxies the artifacts of ``mlflow-artifacts:/`` URIs.
PROXIED_ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts/"
ARTIFACT_TIMEOUT_S = 120


def fetch_proxied(creds: MlflowHostCreds, remote: str, local: Path) -> None:
    """Stream the artifact ``remote`` (a path under MLflow's artifact proxy) to ``local`` with
    ``creds``. Not through MLflow's JSON checks: an artifact is any file."""
    from mlflow.utils.request_utils import augmented_raise_for_status
    from mlflow.utils.rest_utils import http_request

    endpoint = PROXIED_ARTIFACTS + quote(remote.lstrip("/"))
    local.parent.mkdir(parents=True, exist_ok=True)
    response = http_request(creds, endpoint, "GET", stream=True, timeout=ARTIFACT_TIMEOUT_S)
    augmented_raise_for_status(response)
    with response, local.open("wb") as out:
        for chunk in response.iter_content(chunk_size=1 << 20):
            out.write(chunk)
