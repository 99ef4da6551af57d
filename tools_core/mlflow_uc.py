"""MLflow's Unity Catalog registry store with this client's own host and token.

The registry of every backend is Unity Catalog (registry URI ``databricks-uc``): one code
path, the rules Databricks enforces (three-level names, a signature, aliases not stages)
checked by MLflow's own client. MLflow's ``UcModelRegistryStore`` reads its credentials
from databricks-sdk's unified auth (environment, ``~/.databrickscfg``) and reaches a few
things through MLflow's process-wide settings (the logged model of a version, the download
of its files). A server process holding several backends cannot use either, so the store
here is MLflow's, with those seams given this client's host and token:

- credentials for the registry and the source run's lineage: this backend's;
- the version's source files: downloaded through the workspace's artifact API with them;
- the version's destination: MLflow's Files API repository for models
  (``DatabricksSDKModelsArtifactRepository``, ``/Models/<catalog>/<schema>/<model>/<v>``)
  on this backend's ``WorkspaceClient``.

Used for the local workspace; against Databricks MLflow's store is used as it is.
"""

from __future__ import annotations

import contextlib
import functools
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mlflow.store._unity_catalog.registry.rest_store import UcModelRegistryStore
from mlflow.store.artifact.cloud_artifact_repo import CloudArtifactRepository
from mlflow.store.artifact.databricks_sdk_models_artifact_repo import (
    DatabricksSDKModelsArtifactRepository,
)
from mlflow.store.model_registry.base_rest_store import BaseRestStore
from mlflow.utils.proto_json_utils import parse_dict
from mlflow.utils.rest_utils import MlflowHostCreds, http_request

from tools_core.mlflow_artifacts import ARTIFACT_TIMEOUT_S, PROXIED_ARTIFACTS, fetch_proxied

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from mlflow.entities import LoggedModel

LISTING = PROXIED_ARTIFACTS.rstrip("/")  # GET ?path=: a folder of the artifact proxy
# A model's files: enough for any real model, bounded against a runaway listing.
MAX_FILES = 10_000


class _ModelFilesRepository(DatabricksSDKModelsArtifactRepository):
    """MLflow's Files API repository for model versions, on a given WorkspaceClient (MLflow's
    own builds one from the environment)."""

    def __init__(self, name: str, version: str, workspace: WorkspaceClient) -> None:
        self.model_name = name
        self.model_version = version
        self.model_base_path = f"/Models/{name.replace('.', '/')}/{version}"
        self.client = workspace
        CloudArtifactRepository.__init__(self, self.model_base_path, None, "databricks-uc")


class LocalUcRegistryStore(UcModelRegistryStore):
    """``UcModelRegistryStore`` with this client's credentials (see the module doc)."""

    def __init__(self, creds: MlflowHostCreds, workspace: WorkspaceClient) -> None:
        BaseRestStore.__init__(self, get_host_creds=lambda: creds)
        self.store_uri = "databricks-uc"
        # A Databricks tracking URI makes MLflow record the source run's lineage (job, notebook).
        self.tracking_uri = "databricks"
        # MLflow declares this attribute a functools.partial: keep its type.
        self.get_tracking_host_creds = functools.partial(lambda given: given, creds)
        self._creds = creds
        self._workspace = workspace
        self.spark = None  # MLflow completes two-level names from a Spark session: none here

    def _get_artifact_repo(
        self, model_version: Any, model_name: str | None = None, storage_location: Any = None
    ) -> _ModelFilesRepository:
        name = model_name if model_name is not None else model_version.name
        return _ModelFilesRepository(name, str(model_version.version), self._workspace)

    def _get_logged_model_from_model_id(self, model_id: str | None) -> LoggedModel | None:
        if model_id is None:
            return None
        from mlflow.entities import LoggedModel
        from mlflow.protos.service_pb2 import GetLoggedModel

        answer = self._get(f"/api/2.0/mlflow/logged-models/{quote(model_id)}")
        if answer is None:
            return None
        message = GetLoggedModel.Response()
        parse_dict(answer, message)
        return LoggedModel.from_proto(message.model)

    @contextlib.contextmanager
    def _local_model_dir(self, source: str, local_model_path: str | None) -> Iterator[str]:
        if local_model_path is not None:
            yield local_model_path
            return
        folder = tempfile.mkdtemp(prefix="dbx-devkit-model-")
        try:
            self._download(self._artifact_path(source), Path(folder))
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _get(self, endpoint: str, params: dict[str, str] | None = None) -> Any:
        """GET a JSON document with this store's credentials (None when it does not exist)."""
        from mlflow.utils.rest_utils import verify_rest_response

        response = http_request(
            self._creds, endpoint, "GET", params=params, timeout=ARTIFACT_TIMEOUT_S
        )
        if response.status_code == 404:
            return None
        verify_rest_response(response, endpoint)
        return response.json()

    def _artifact_path(self, source: str) -> str:
        """The artifact server path of a registration's source (``models:/<id>`` of a logged
        model, or an ``mlflow-artifacts:/`` location)."""
        from mlflow.exceptions import MlflowException

        location = source
        if source.startswith("models:/m-"):
            logged = self._get_logged_model_from_model_id(source[len("models:/") :])
            if logged is None:
                raise MlflowException(f"Logged model {source!r} does not exist.")
            location = logged.artifact_location
        prefix = "mlflow-artifacts:"
        if not location.startswith(prefix):
            raise MlflowException(
                f"Cannot register {source!r}: the local workspace keeps model files at "
                "mlflow-artifacts:/ locations (runs:/<run_id>/<path> or models:/<model_id>)."
            )
        return location[len(prefix) :].lstrip("/")

    def _download(self, path: str, folder: Path) -> None:
        """Copy the artifact folder ``path`` into ``folder`` (files and subfolders)."""
        pending, seen = [""], 0
        while pending:
            relative = pending.pop()
            listing = self._get(LISTING, {"path": posixpath.join(path, relative)}) or {}
            for entry in listing.get("files", []):
                seen += 1
                if seen > MAX_FILES:
                    raise ValueError(f"More than {MAX_FILES} files under {path}.")
                child = posixpath.join(relative, posixpath.basename(entry["path"]))
                if entry.get("is_dir"):
                    pending.append(child)
                else:
                    fetch_proxied(self._creds, posixpath.join(path, child), folder / child)
