"""MLflow clients whose URIs and credentials are their own, not the process's.

``MlflowClient(tracking_uri=..., registry_uri=...)`` takes its URIs per client, but for an
``http`` URI MLflow's REST stores read the token from ``MLFLOW_TRACKING_TOKEN`` at every
request, and its artifact repositories do the same. Two backends in one process (two MCP
sessions, a script beside a test) would then share one token. So the stores here are MLflow's
own REST stores built with a credentials function that returns *this* client's token, and
artifact listing goes through the REST API with the same credentials. With a ``databricks``
URI MLflow resolves credentials through databricks-sdk from the URI's profile: nothing to
add. MLflow is imported by this module: import it only when a client is needed.

One thing MLflow reads from the environment only: its HTTP timeouts and retries (no
parameter reaches them from a client). :func:`apply_http_limits` is the single place that
sets them, with ``setdefault`` so that a user's own ``MLFLOW_HTTP_*`` settings win.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflow import MlflowClient
from mlflow.entities import FileInfo
from mlflow.protos.service_pb2 import ListArtifacts
from mlflow.store.artifact.mlflow_artifacts_repo import MlflowArtifactsRepository
from mlflow.store.model_registry.rest_store import RestStore as RegistryRestStore
from mlflow.store.tracking.rest_store import RestStore
from mlflow.tracing.client import TracingClient
from mlflow.tracing.utils.artifact_utils import get_artifact_uri_for_trace
from mlflow.tracking._model_registry.client import ModelRegistryClient
from mlflow.tracking._tracking_service.client import TrackingServiceClient
from mlflow.utils.proto_json_utils import message_to_json
from mlflow.utils.rest_utils import MlflowHostCreds, call_endpoint

from tools_core.mlflow_artifacts import fetch_proxied

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

LIST_ARTIFACTS = "/api/2.0/mlflow/artifacts/list"


def apply_http_limits(limits: Mapping[str, str]) -> None:
    """MLflow's HTTP timeout and retry settings (environment only, see the module doc)."""
    for name, value in limits.items():
        os.environ.setdefault(name, value)


class _OwnStore:
    """A client of MLflow's on the store (and credentials) given, not the one MLflow would
    build from the URI and the environment. Listed first among the bases: its ``store``
    replaces MLflow's."""

    def __init__(self, tracking_uri: str, store: Any, creds: MlflowHostCreds | None) -> None:
        self._store = store
        self._creds = creds
        super().__init__(tracking_uri)  # type: ignore[call-arg]

    @property
    def store(self) -> Any:
        """The store this client was built with."""
        return self._store


class _TrackingClient(_OwnStore, TrackingServiceClient):
    """MLflow's tracking client on a given store; prints nothing to stdout."""

    def _log_url(self, run_id: str) -> None:
        """MLflow prints "View run ... at" when a run ends: stdout may carry only MCP."""

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """A run's artifacts, with this client's credentials when it has its own."""
        if self._creds is None:
            return list(super().list_artifacts(run_id, path))
        request = ListArtifacts(run_id=run_id, path=path or "")
        response = call_endpoint(
            self._creds, LIST_ARTIFACTS, "GET", message_to_json(request), ListArtifacts.Response()
        )
        return [FileInfo.from_proto(f) for f in response.files]

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """A run's artifact file, fetched with this client's credentials when it has its own
        (MLflow's artifact repositories would read ``MLFLOW_TRACKING_TOKEN``); its local path."""
        root = self.store.get_run(run_id).info.artifact_uri or ""
        if self._creds is None or not root.startswith("mlflow-artifacts:/"):
            return str(super().download_artifacts(run_id, path, dst_path))
        remote = root[len("mlflow-artifacts:/") :].strip("/") + "/" + path.lstrip("/")
        folder = Path(dst_path) if dst_path else Path(tempfile.mkdtemp(prefix="mlflow-"))
        local = folder / Path(path).name
        fetch_proxied(self._creds, remote, local)
        return str(local)


class _RegistryClient(ModelRegistryClient):
    """MLflow's registry client on a given store."""

    def __init__(self, registry_uri: str, tracking_uri: str, store: Any) -> None:
        self._store = store
        super().__init__(registry_uri, tracking_uri)

    @property
    def store(self) -> Any:
        """The store this client was built with."""
        return self._store


class _TraceArtifacts(MlflowArtifactsRepository):
    """A trace's files on the tracking server, read with this client's credentials."""

    def __init__(self, artifact_uri: str, tracking_uri: str, token: str | None) -> None:
        self._token = token
        super().__init__(artifact_uri, tracking_uri=tracking_uri)

    @property
    def _host_creds(self) -> MlflowHostCreds:
        # Paths are relative to the resolved artifact URI, as in MLflow's own repository.
        return MlflowHostCreds(self.artifact_uri, token=self._token)


class _TracingClient(_OwnStore, TracingClient):
    """MLflow's tracing client on a given store; a trace's span files are fetched with the
    same credentials (MLflow's default artifact repository reads the environment's token)."""

    def _get_artifact_repo_for_trace(self, trace_info: Any) -> Any:
        uri = get_artifact_uri_for_trace(trace_info)
        if self._creds is None or not uri.startswith("mlflow-artifacts:"):
            return super()._get_artifact_repo_for_trace(trace_info)
        return _TraceArtifacts(uri, self.tracking_uri, self._creds.token)


def client(
    tracking_uri: str,
    registry_uri: str,
    token: str | None,
    workspace: WorkspaceClient | None = None,
) -> MlflowClient:
    """An MlflowClient on these URIs; with ``token``, every request (tracking, registry,
    artifact listing, traces) carries it and nothing reads ``MLFLOW_TRACKING_TOKEN``. A
    ``databricks-uc`` registry with a token is MLflow's Unity Catalog store on the tracking
    host, its model files through ``workspace``'s Files API (:mod:`tools_core.mlflow_uc`)."""
    mlflow = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)
    if token is None:
        store = TrackingServiceClient(tracking_uri).store
        mlflow._tracking_client = _TrackingClient(tracking_uri, store, None)
        return mlflow
    tracking_creds = MlflowHostCreds(tracking_uri, token=token)
    registry_creds = MlflowHostCreds(registry_uri, token=token)
    tracking_store = RestStore(lambda: tracking_creds)
    mlflow._tracking_client = _TrackingClient(tracking_uri, tracking_store, tracking_creds)
    mlflow._tracing_client = _TracingClient(tracking_uri, tracking_store, tracking_creds)
    # MlflowClient builds its registry client lazily under this attribute name.
    if registry_uri.startswith("databricks-uc") and workspace is not None:
        from tools_core.mlflow_uc import LocalUcRegistryStore

        registry_store: Any = LocalUcRegistryStore(tracking_creds, workspace)
    else:
        registry_store = RegistryRestStore(lambda: registry_creds)
    registry = _RegistryClient(registry_uri, tracking_uri, registry_store)
    setattr(mlflow, "_registry_client_lazy", registry)  # noqa: B010  (not in MLflow's stubs)
    return mlflow
