"""The Unity Catalog model registry as MLflow's client calls it with registry URI
``databricks-uc``: ``/api/2.0/mlflow/unity-catalog/...`` (MLflow's ``UcModelRegistryStore``,
protos ``databricks_uc_registry_messages``/``_service``).

One registry: every call reads and writes MLflow's own registry store (the one the OSS
``/api/2.0/mlflow/registered-models/...`` paths, the ``registry_*`` tools and the MLflow UI
use), with Unity Catalog's rules on top: three-level names in an existing schema, stored
lower case; a version is ``PENDING_REGISTRATION`` until the client uploaded its files and
called ``finalize``; stages do not exist (MLflow's client refuses them itself).

Model files: the workspace answers ``is-databricks-sdk-models-artifact-repository-enabled``
with true, so the stock client uploads and downloads a version's files through the Files
API at ``/Models/<catalog>/<schema>/<model>/<version>/...`` (its
``DatabricksSDKModelsArtifactRepository``): no cloud credentials. Those paths live in the
MLflow server's artifact store, so a version's ``storage_location`` is an
``mlflow-artifacts:/`` URI that OSS clients (serving, tools) read too. Temporary cloud
credentials (the other upload route) do not exist here: that call answers 501.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.catalog import volume_files as vf
from local_workspace.errors import ApiError, invalid, not_available
from local_workspace.http import json_body, json_response
from local_workspace.state import WorkspaceState

PREFIX = "/api/2.0/mlflow/unity-catalog/"
FILES_PREFIX = "/Models/"
# Where the Files API's /Models/... area lives inside the MLflow artifact store.
STORAGE_SUBDIR = "unity-catalog/models"
# Databricks' answer to a name without three levels (MLflow's client matches on
# "specify all three levels" to add its hint about the workspace registry).
BAD_NAME = (
    "Bad model name: please specify all three levels of the model in the form "
    "`catalog_name.schema_name.model_name`"
)
PENDING = "PENDING_REGISTRATION"
READY = "READY"
UC_NAMES_FILTER = "name LIKE '%.%.%'"

Params = dict[str, Any]


def full_name(raw: Any) -> str:
    """A checked ``catalog.schema.model`` name, lower case as Unity Catalog stores it."""
    name = str(raw or "").strip().lower()
    parts = name.split(".")
    if len(parts) != 3 or not all(parts):
        raise invalid(BAD_NAME)
    return name


def version_dir(state: WorkspaceState, name: str, version: str | int) -> Path:
    """The folder of one version's files (the Files API's /Models/c/s/m/v)."""
    catalog, schema, model = name.split(".")
    root: Path = state.services["mlflow"].artifacts_dir / STORAGE_SUBDIR
    return root / catalog / schema / model / str(version)


def storage_location(name: str, version: str | int) -> str:
    """The version's files as a URI any MLflow client of this workspace can read."""
    return f"mlflow-artifacts:/{STORAGE_SUBDIR}/{name.replace('.', '/')}/{version}"


# -- entities as Unity Catalog's registry protos (JSON) -------------------------------


def _token(token: str | bytes | None) -> str | None:
    """A page token as JSON text (MLflow's SQL store makes bytes)."""
    return token.decode() if isinstance(token, bytes) else token


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v not in (None, "", [])}


def registered_model_json(model: Any, user: str) -> dict[str, Any]:
    """An MLflow RegisteredModel as the UC ``RegisteredModel`` message."""
    aliases = getattr(model, "aliases", None) or {}
    return _clean(
        {
            "name": model.name,
            "creation_timestamp": model.creation_timestamp,
            "last_updated_timestamp": model.last_updated_timestamp,
            "user_id": user,
            "description": model.description,
            "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(aliases.items())],
            "tags": [{"key": k, "value": v} for k, v in sorted(model.tags.items())],
        }
    )


def model_version_json(mv: Any, user: str) -> dict[str, Any]:
    """An MLflow ModelVersion as the UC ``ModelVersion`` message."""
    return _clean(
        {
            "name": mv.name,
            "version": str(mv.version),
            "creation_timestamp": mv.creation_timestamp,
            "last_updated_timestamp": mv.last_updated_timestamp,
            "user_id": mv.user_id or user,
            "description": mv.description,
            "source": mv.source,
            "run_id": mv.run_id,
            "status": mv.status,
            "status_message": mv.status_message,
            "storage_location": storage_location(mv.name, mv.version),
            "aliases": [{"alias": a, "version": str(mv.version)} for a in sorted(mv.aliases)],
            "tags": [{"key": k, "value": v} for k, v in sorted(mv.tags.items())],
            "model_id": getattr(mv, "model_id", None),
        }
    )


def model_named(state: WorkspaceState, full_name: str) -> str | None:
    """The registered model ``full_name`` as the registry spells it, or None (blocking)."""
    if full_name.count(".") != 2:
        return None
    store = state.services["mlflow"].registry_store()  # before any MLflow import (above)
    from mlflow.exceptions import MlflowException

    try:
        return str(store.get_registered_model(full_name).name)
    except MlflowException:
        return None


# -- operations (run in a worker thread: MLflow's store is blocking) -------------------


class Registry:
    """The UC registry operations over MLflow's registry store."""

    def __init__(self, state: WorkspaceState) -> None:
        self.state = state
        self.store = state.services["mlflow"].registry_store()
        self.user = state.user

    def _model(self, name: str) -> dict[str, Any]:
        return {"registered_model": registered_model_json(self._get_model(name), self.user)}

    def _get_model(self, name: str) -> Any:
        return self.store.get_registered_model(name)

    def _version(self, name: str, version: Any) -> dict[str, Any]:
        mv = self.store.get_model_version(name, str(version))
        return {"model_version": model_version_json(mv, self.user)}

    def _set_version_fields(self, name: str, version: str, **fields: Any) -> None:
        """Fields MLflow's store has no setter for (status, storage location)."""
        with self.store.ManagedSessionMaker(read_only=False) as session:
            row = self.store._get_sql_model_version(session, name, version)
            for key, value in fields.items():
                setattr(row, key, value)

    # registered models
    def create_model(self, p: Params) -> dict[str, Any]:
        from mlflow.entities.model_registry import RegisteredModelTag

        name = full_name(p.get("name"))
        catalog, schema, _ = name.split(".")
        self.state.catalog.schemas.get(f"{catalog}.{schema}")  # 404 for a missing schema
        tags = [RegisteredModelTag(t["key"], t.get("value", "")) for t in p.get("tags") or []]
        self.store.create_registered_model(name, tags=tags, description=p.get("description"))
        return self._model(name)

    def update_model(self, p: Params) -> dict[str, Any]:
        name = full_name(p.get("name"))
        if p.get("description") is not None:
            self.store.update_registered_model(name, p["description"])
        if p.get("new_name"):
            new_name = full_name(p["new_name"])
            if new_name.rsplit(".", 1)[0] != name.rsplit(".", 1)[0]:
                raise invalid("A registered model can be renamed within its schema only.")
            self.store.rename_registered_model(name, new_name)
            old, new = version_dir(self.state, name, 0).parent, version_dir(self.state, new_name, 0)
            if old.is_dir():
                old.rename(new.parent)
            name = new_name
        return self._model(name)

    def delete_model(self, p: Params) -> dict[str, Any]:
        name = full_name(p.get("name"))
        self.store.delete_registered_model(name)
        shutil.rmtree(version_dir(self.state, name, 0).parent, ignore_errors=True)
        return {}

    def get_model(self, p: Params) -> dict[str, Any]:
        return self._model(full_name(p.get("name")))

    def search_models(self, p: Params) -> dict[str, Any]:
        page = self.store.search_registered_models(
            filter_string=UC_NAMES_FILTER,
            max_results=int(p.get("max_results") or 100),
            order_by=None,
            page_token=p.get("page_token") or None,
        )
        return _clean(
            {
                "registered_models": [registered_model_json(m, self.user) for m in page],
                "next_page_token": _token(page.token),
            }
        )

    # model versions
    def create_version(self, p: Params) -> dict[str, Any]:
        from mlflow.entities.model_registry import ModelVersionTag

        name = full_name(p.get("name"))
        tags = [ModelVersionTag(t["key"], t.get("value", "")) for t in p.get("tags") or []]
        mv = self.store.create_model_version(
            name,
            p.get("source") or "",
            run_id=p.get("run_id") or None,
            tags=tags,
            description=p.get("description"),
            model_id=p.get("model_id") or None,
        )
        version = str(mv.version)
        self._set_version_fields(
            name, version, status=PENDING, storage_location=storage_location(name, version)
        )
        version_dir(self.state, name, version).mkdir(parents=True, exist_ok=True)
        return self._version(name, version)

    def update_version(self, p: Params) -> dict[str, Any]:
        name = full_name(p.get("name"))
        if p.get("description") is not None:
            self.store.update_model_version(name, str(p.get("version")), p["description"])
        return self._version(name, p.get("version"))

    def delete_version(self, p: Params) -> dict[str, Any]:
        name = full_name(p.get("name"))
        version = str(p.get("version"))
        self.store.delete_model_version(name, version)
        shutil.rmtree(version_dir(self.state, name, version), ignore_errors=True)
        return {}

    def get_version(self, p: Params) -> dict[str, Any]:
        return self._version(full_name(p.get("name")), p.get("version"))

    def search_versions(self, p: Params) -> dict[str, Any]:
        page = self.store.search_model_versions(
            filter_string=p.get("filter") or None,
            max_results=int(p.get("max_results") or 10_000),
            order_by=None,
            page_token=p.get("page_token") or None,
        )
        return _clean(
            {
                "model_versions": [
                    model_version_json(mv, self.user) for mv in page if mv.name.count(".") == 2
                ],
                "next_page_token": _token(page.token),
            }
        )

    def finalize(self, p: Params) -> dict[str, Any]:
        name = full_name(p.get("name"))
        version = str(p.get("version"))
        self.store.get_model_version(name, version)  # 404 first
        self._set_version_fields(name, version, status=READY)
        return self._version(name, version)

    def download_uri(self, p: Params) -> dict[str, Any]:
        name = full_name(p.get("name"))
        mv = self.store.get_model_version(name, str(p.get("version")))
        return {"artifact_uri": storage_location(name, mv.version)}

    def temporary_credentials(self, p: Params) -> dict[str, Any]:
        raise not_available("Temporary cloud storage credentials for model versions")

    # aliases and tags
    def set_alias(self, p: Params) -> dict[str, Any]:
        self.store.set_registered_model_alias(
            full_name(p.get("name")), str(p.get("alias") or ""), str(p.get("version"))
        )
        return {}

    def delete_alias(self, p: Params) -> dict[str, Any]:
        self.store.delete_registered_model_alias(full_name(p.get("name")), str(p.get("alias")))
        return {}

    def get_by_alias(self, p: Params) -> dict[str, Any]:
        mv = self.store.get_model_version_by_alias(full_name(p.get("name")), str(p.get("alias")))
        return {"model_version": model_version_json(mv, self.user)}

    def set_model_tag(self, p: Params) -> dict[str, Any]:
        from mlflow.entities.model_registry import RegisteredModelTag

        tag = RegisteredModelTag(str(p.get("key")), str(p.get("value", "")))
        self.store.set_registered_model_tag(full_name(p.get("name")), tag)
        return {}

    def delete_model_tag(self, p: Params) -> dict[str, Any]:
        self.store.delete_registered_model_tag(full_name(p.get("name")), str(p.get("key")))
        return {}

    def set_version_tag(self, p: Params) -> dict[str, Any]:
        from mlflow.entities.model_registry import ModelVersionTag

        tag = ModelVersionTag(str(p.get("key")), str(p.get("value", "")))
        self.store.set_model_version_tag(full_name(p.get("name")), str(p.get("version")), tag)
        return {}

    def delete_version_tag(self, p: Params) -> dict[str, Any]:
        self.store.delete_model_version_tag(
            full_name(p.get("name")), str(p.get("version")), str(p.get("key"))
        )
        return {}

    def emit_lineage(self, p: Params) -> dict[str, Any]:
        # Lineage of a model's consumers is not recorded locally; the client only reports it.
        return {}

    def sdk_files_enabled(self, p: Params) -> dict[str, Any]:
        # Model files go through the Files API (/Models/...): no cloud credentials needed.
        return {"is_databricks_sdk_models_artifact_repository_enabled": True}


Operation = Callable[[Registry, Params], dict[str, Any]]
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "registered-models/create"): Registry.create_model,
    ("PATCH", "registered-models/update"): Registry.update_model,
    ("DELETE", "registered-models/delete"): Registry.delete_model,
    ("GET", "registered-models/get"): Registry.get_model,
    ("GET", "registered-models/search"): Registry.search_models,
    ("POST", "model-versions/create"): Registry.create_version,
    ("PATCH", "model-versions/update"): Registry.update_version,
    ("DELETE", "model-versions/delete"): Registry.delete_version,
    ("GET", "model-versions/get"): Registry.get_version,
    ("GET", "model-versions/search"): Registry.search_versions,
    ("POST", "model-versions/finalize"): Registry.finalize,
    ("GET", "model-versions/get-download-uri"): Registry.download_uri,
    ("POST", "model-versions/generate-temporary-credentials"): Registry.temporary_credentials,
    ("POST", "model-versions/emit-lineage"): Registry.emit_lineage,
    ("POST", "registered-models/alias"): Registry.set_alias,
    ("DELETE", "registered-models/alias"): Registry.delete_alias,
    ("GET", "registered-models/alias"): Registry.get_by_alias,
    ("POST", "registered-models/set-tag"): Registry.set_model_tag,
    ("DELETE", "registered-models/delete-tag"): Registry.delete_model_tag,
    ("POST", "model-versions/set-tag"): Registry.set_version_tag,
    ("DELETE", "model-versions/delete-tag"): Registry.delete_version_tag,
    (
        "GET",
        "registered-models:is-databricks-sdk-models-artifact-repository-enabled",
    ): Registry.sdk_files_enabled,
}


def _run(state: WorkspaceState, operation: Operation, params: Params) -> dict[str, Any]:
    registry = Registry(state)  # waits for MLflow first: nothing imports it while it starts
    from mlflow.exceptions import MlflowException

    try:
        return operation(registry, params)
    except MlflowException as exc:
        raise ApiError(exc.get_http_status_code(), exc.error_code, exc.message) from exc


async def dispatch(request: Request) -> Response:
    """Answer one UC registry call (404 ENDPOINT_NOT_FOUND for an unknown path or method)."""
    op = request.path_params["op"]
    operation = OPERATIONS.get((request.method, op))
    if operation is None:
        raise ApiError(
            404,
            "ENDPOINT_NOT_FOUND",
            f"No API found for '{request.method} /mlflow/unity-catalog/{op}'",
        )
    params: Params = dict(request.query_params)
    if request.method != "GET":
        params |= await json_body(request)
    state: WorkspaceState = request.app.state.workspace
    return json_response(await run_in_threadpool(_run, state, operation, params))


# -- the Files API's /Models/ area ----------------------------------------------------


def _outside(path: str, why: str) -> ApiError:
    return invalid(
        f"Invalid path '{path}': {why}. Model version files are reached as "
        "/Models/<catalog>/<schema>/<model>/<version>/<path>."
    )


def resolve_files_path(state: WorkspaceState, path: str) -> vf.VolumePath:
    """A checked ``/Models/c/s/m/v/...`` path of an existing model version."""
    parts = vf.path_parts(path, FILES_PREFIX, _outside)
    if len(parts) < 4:
        raise _outside(path, "it names no model version")
    name = ".".join(p.lower() for p in parts[:3])
    version = parts[3]
    _run(state, lambda registry, _: registry._version(name, version), {})
    relative = PurePosixPath(*parts[4:]) if parts[4:] else PurePosixPath()
    public = FILES_PREFIX + "/".join([*name.split("."), version, *parts[4:]])
    found = vf.VolumePath(
        public, f"{name}.{version}", version_dir(state, name, version), relative, FILES_PREFIX
    )
    vf.check_links(found)
    return found


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The UC model registry routes."""
    return [
        Route(PREFIX + "{op:path}", dispatch, methods=["GET", "POST", "PATCH", "DELETE", "PUT"])
    ]
