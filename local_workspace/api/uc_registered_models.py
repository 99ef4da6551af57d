"""Registered models and model versions in the Unity Catalog REST API 2.1
(``/api/2.1/unity-catalog/models``: the SDK's ``registered_models`` and ``model_versions``).

The same registry the MLflow client reaches at ``/api/2.0/mlflow/unity-catalog/...``
(:mod:`local_workspace.api.uc_models`): MLflow's own registry store, shown in Unity Catalog's
shapes (``RegisteredModelInfo``, ``ModelVersionInfo``: ``full_name``, ``comment``,
``aliases`` as ``alias_name``/``version_num``, times in ms). Models are securables: their
grants are those of a FUNCTION (``/permissions/function/<full_name>``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.api.uc_models import storage_location
from local_workspace.errors import ApiError, invalid, not_found
from local_workspace.http import json_body, json_response, query_int
from local_workspace.state import WorkspaceState

PREFIX = "/api/2.1/unity-catalog/models"
MAX_RESULTS = 1000

Handler = Callable[["Models", Request, dict[str, Any]], dict[str, Any]]


def _missing(full_name: str) -> ApiError:
    # Unity Catalog's text for a model it cannot find (models are routines in its metastore).
    return not_found(f"Routine or Model '{full_name}' does not exist.", "RESOURCE_DOES_NOT_EXIST")


def _aliases(aliases: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"alias_name": a, "version_num": int(v)} for a, v in sorted(aliases.items())]


class Models:
    """Unity Catalog views of MLflow's registry store (blocking: run in a worker thread)."""

    def __init__(self, state: WorkspaceState) -> None:
        self.state = state
        self.store = state.services["mlflow"].registry_store()
        self.metastore_id = state.catalog.metastore_id

    def _model(self, full_name: str) -> Any:
        from mlflow.exceptions import MlflowException

        name = full_name.lower()
        if name.count(".") != 2:
            raise invalid(
                f"Invalid full name '{full_name}': expected catalog_name.schema_name.model_name."
            )
        try:
            return self.store.get_registered_model(name)
        except MlflowException as exc:
            raise _missing(name) from exc

    def model_info(self, model: Any, with_aliases: bool = True) -> dict[str, Any]:
        """``RegisteredModelInfo`` of an MLflow RegisteredModel."""
        catalog, schema, name = model.name.split(".")
        info = {
            "full_name": model.name,
            "catalog_name": catalog,
            "schema_name": schema,
            "name": name,
            "owner": self.state.user,
            "comment": model.description or None,
            "created_at": model.creation_timestamp,
            "created_by": self.state.user,
            "updated_at": model.last_updated_timestamp,
            "updated_by": self.state.user,
            "metastore_id": self.metastore_id,
            "storage_location": storage_location(model.name, "").rstrip("/"),
        }
        if with_aliases:
            info["aliases"] = _aliases(dict(model.aliases or {}))
        return {k: v for k, v in info.items() if v is not None}

    def version_info(self, mv: Any, aliases: dict[str, Any]) -> dict[str, Any]:
        """``ModelVersionInfo`` of an MLflow ModelVersion."""
        catalog, schema, name = mv.name.split(".")
        version = int(mv.version)
        info = {
            "model_name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "version": version,
            "source": mv.source,
            "run_id": mv.run_id or None,
            "run_workspace_id": int(self.state.workspace_id) if mv.run_id else None,
            "status": mv.status or "READY",
            "comment": mv.description or None,
            "created_at": mv.creation_timestamp,
            "created_by": mv.user_id or self.state.user,
            "updated_at": mv.last_updated_timestamp,
            "updated_by": mv.user_id or self.state.user,
            "metastore_id": self.metastore_id,
            "storage_location": storage_location(mv.name, version),
            "aliases": _aliases({a: v for a, v in aliases.items() if int(v) == version}),
        }
        return {k: v for k, v in info.items() if v is not None}

    # registered models
    def create(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        catalog, schema = self.state.catalog.schemas.require(
            f"{body.get('catalog_name', '')}.{body.get('schema_name', '')}"
        )
        name = str(body.get("name") or "").lower()
        if not name or "." in name:
            raise invalid("name is required: the model's name inside its schema.")
        model = self.store.create_registered_model(
            f"{catalog}.{schema}.{name}", description=body.get("comment")
        )
        return self.model_info(model)

    def list_models(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        params = request.query_params
        prefix = ".".join(
            p.lower() for p in (params.get("catalog_name"), params.get("schema_name")) if p
        )
        if params.get("schema_name") and not params.get("catalog_name"):
            raise invalid("catalog_name is required when schema_name is given.")
        limit = min(query_int(request, "max_results", 0) or MAX_RESULTS, MAX_RESULTS)
        page = self.store.search_registered_models(
            filter_string=f"name LIKE '{prefix}.%'" if prefix else "name LIKE '%.%.%'",
            max_results=limit,
            order_by=["name ASC"],
            page_token=params.get("page_token") or None,
        )
        token = page.token.decode() if isinstance(page.token, bytes) else page.token
        models = [self.model_info(m) for m in page if m.name.count(".") == 2]
        return {"registered_models": models, **({"next_page_token": token} if token else {})}

    def get(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        return self.model_info(self._model(request.path_params["full_name"]))

    def update(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        model = self._model(request.path_params["full_name"])
        if body.get("new_name"):
            raise invalid("Renaming a registered model is not available in the local workspace.")
        if "comment" in body:
            self.store.update_registered_model(model.name, body.get("comment") or "")
        return self.model_info(self._model(model.name))

    def delete(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        self.store.delete_registered_model(self._model(request.path_params["full_name"]).name)
        return {}

    def set_alias(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        model = self._model(request.path_params["full_name"])
        alias = request.path_params["alias"]
        version = body.get("version_num")
        if not isinstance(version, int) or version < 1:
            raise invalid("version_num is required: the version the alias points at.")
        self._version(model.name, version)
        self.store.set_registered_model_alias(model.name, alias, str(version))
        return {"alias_name": alias, "version_num": version}

    def delete_alias(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        model = self._model(request.path_params["full_name"])
        self.store.delete_registered_model_alias(model.name, request.path_params["alias"])
        return {}

    # model versions
    def _version(self, name: str, version: Any) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return self.store.get_model_version(name, str(version))
        except MlflowException as exc:
            raise not_found(
                f"Model Version '{name}/{version}' does not exist.", "RESOURCE_DOES_NOT_EXIST"
            ) from exc

    def versions(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        model = self._model(request.path_params["full_name"])
        aliases = dict(model.aliases or {})
        found = self.store.search_model_versions(f"name = '{model.name}'", max_results=10_000)
        ordered = sorted(found, key=lambda mv: -int(mv.version))
        return {"model_versions": [self.version_info(mv, aliases) for mv in ordered]}

    def version(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        model = self._model(request.path_params["full_name"])
        mv = self._version(model.name, request.path_params["version"])
        return self.version_info(mv, dict(model.aliases or {}))

    def by_alias(self, request: Request, body: dict[str, Any]) -> dict[str, Any]:
        model = self._model(request.path_params["full_name"])
        aliases = dict(model.aliases or {})
        alias = request.path_params["alias"]
        if alias not in aliases:
            raise not_found(
                f"Alias '{alias}' does not exist for model '{model.name}'.",
                "RESOURCE_DOES_NOT_EXIST",
            )
        return self.version_info(self._version(model.name, aliases[alias]), aliases)


def _endpoint(handler: Handler) -> Callable[[Request], Any]:
    async def answer(request: Request) -> Response:
        body = await json_body(request) if request.method in ("POST", "PATCH", "PUT") else {}
        state: WorkspaceState = request.app.state.workspace

        def run() -> dict[str, Any]:
            return handler(Models(state), request, body)

        return json_response(await run_in_threadpool(run))

    return answer


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The registered-model and model-version routes of the UC API."""
    one = PREFIX + "/{full_name}"
    return [
        Route(PREFIX, _endpoint(Models.list_models), methods=["GET"]),
        Route(PREFIX, _endpoint(Models.create), methods=["POST"]),
        Route(one + "/versions", _endpoint(Models.versions), methods=["GET"]),
        Route(one + "/versions/{version:int}", _endpoint(Models.version), methods=["GET"]),
        Route(one + "/aliases/{alias}", _endpoint(Models.by_alias), methods=["GET"]),
        Route(one + "/aliases/{alias}", _endpoint(Models.set_alias), methods=["PUT"]),
        Route(one + "/aliases/{alias}", _endpoint(Models.delete_alias), methods=["DELETE"]),
        Route(one, _endpoint(Models.get), methods=["GET"]),
        Route(one, _endpoint(Models.update), methods=["PATCH"]),
        Route(one, _endpoint(Models.delete), methods=["DELETE"]),
    ]
