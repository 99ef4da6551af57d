"""Write the registry: register versions, set and delete aliases, set tags."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.mlflow_client import mlflow_client
from tools_core.registry.models import RegistryChange, alias_map
from tools_core.registry.names import (
    alias_warnings,
    check_model_name,
    is_missing,
    mlflow_errors,
    tag_key_warnings,
)
from tools_core.registry.read import get_registered, get_version_or_fail
from tools_core.tracking.dedupe import create_version_once

if TYPE_CHECKING:
    from mlflow import MlflowClient

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
# Versions searched for an earlier registration of the same source.
DUPLICATE_SCAN = 200
ALIAS_HINT = "Aliases are letters, digits and _ (not 'latest' or v<N>), e.g. champion."
URI_HINT = "Pass runs:/<run_id>/<artifact_path> (e.g. runs:/<run_id>/model) or models:/<model_id>."


def _resolve_source(client: MlflowClient, model_uri: str) -> tuple[str, str | None, str | None]:
    """(source, run_id, logged model id) to register for ``model_uri``."""
    uri = model_uri.strip()
    if _RUN_ID.match(uri):
        uri = f"runs:/{uri}/model"
    if uri.startswith("m-"):
        uri = f"models:/{uri}"
    if uri.startswith("models:/m-") and "/" not in uri[len("models:/") :]:
        model_id = uri[len("models:/") :]
        with mlflow_errors("Check the id: mlflow_get_run shows a run's logged models."):
            logged = client.get_logged_model(model_id)
        return uri, logged.source_run_id or None, model_id
    match = re.match(r"^runs:/([^/]+)/(.+)$", uri)
    if not match:
        raise InvalidInput(f"cannot register {model_uri!r}.", URI_HINT)
    run_id, path = match.group(1), match.group(2).strip("/")
    with mlflow_errors("Check the run id with mlflow_search_runs or mlflow_get_run."):
        run = client.get_run(run_id)
        # MLflow 3 logs models as logged models named after their artifact path.
        page = client.search_logged_models(
            experiment_ids=[run.info.experiment_id],
            filter_string=f"name = '{path}'",
            max_results=50,
        )
    logged_models = [m for m in page if m.source_run_id == run_id]
    if logged_models:
        newest = max(logged_models, key=lambda m: m.creation_timestamp or 0)
        return f"models:/{newest.model_id}", run_id, newest.model_id
    # MLflow 2 style: the model is an artifact directory of the run.
    with mlflow_errors():
        files = [f.path for f in client.list_artifacts(run_id, path)]
    if f"{path}/MLmodel" in files:
        return f"{run.info.artifact_uri.rstrip('/')}/{path}", run_id, None
    raise ToolsCoreError(
        "RESOURCE_DOES_NOT_EXIST",
        f"run {run_id} has no logged model at {path!r}.",
        "Log one with mlflow.<flavor>.log_model(model, name=...) in that run, "
        "or pass models:/<model_id>.",
    )


def register_version(
    backend: Backend, name: str, model_uri: str, description: str = ""
) -> RegistryChange:
    """Register a run's logged model as a new version (the model is created if missing).

    Not idempotent: each call makes a new version (one, even when MLflow retries the create:
    see :mod:`tools_core.tracking.dedupe`); a warning says when the same source already has one.
    """
    from mlflow.exceptions import MlflowException

    warnings = check_model_name(name)
    client = mlflow_client(backend)
    source, run_id, model_id = _resolve_source(client, model_uri)
    created_model = False
    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if not is_missing(exc):
            raise
        created_model = _create_model(client, name)
    if not created_model:
        warnings += _duplicates(client, name, source, run_id, model_id)
    with mlflow_errors():
        mv = create_version_once(client, name, source, run_id, description or None, model_id)
    made = f"created model {name}; " if created_model else ""
    return RegistryChange(
        name=name,
        action="registered",
        version=int(mv.version),
        message=(
            f"{made}registered {model_uri} as {name} version {mv.version} ({mv.status}). "
            "Next: registry_set_alias (e.g. challenger)."
        ),
        warnings=warnings,
    )


def _create_model(client: MlflowClient, name: str) -> bool:
    """Create the registered model; False when it exists (made by a retried request of ours
    or by someone else meanwhile: either way it is there to register into)."""
    from mlflow.exceptions import MlflowException

    try:
        with mlflow_errors("Check that the catalog and schema exist (uc_list_schemas)."):
            client.create_registered_model(name)
    except (MlflowException, ToolsCoreError) as exc:
        if getattr(exc, "error_code", None) not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
        return False
    return True


def _duplicates(
    client: MlflowClient, name: str, source: str, run_id: str | None, model_id: str | None
) -> list[str]:
    with mlflow_errors():
        page = client.search_model_versions(f"name = '{name}'", max_results=DUPLICATE_SCAN)

    def same_source(found: str) -> bool:
        # A logged model's version records its artifact location, which names its id.
        return found == source or bool(model_id and f"/models/{model_id}/" in f"{found}/")

    same = sorted(
        int(v.version) for v in page if same_source(v.source or "") and (v.run_id or None) == run_id
    )
    if not same:
        return []
    listed = ", ".join(str(v) for v in same)
    return [f"this source is already registered as version(s) {listed}: this is a new copy."]


def set_alias(backend: Backend, name: str, alias: str, version: int) -> RegistryChange:
    """Point ``alias`` at an existing version (moving it if it pointed elsewhere)."""
    warnings = check_model_name(name) + alias_warnings(alias)
    client = mlflow_client(backend)
    previous = alias_map(get_registered(client, name).aliases).get(alias)
    get_version_or_fail(client, name, version)
    if previous == version:
        message = f"{alias} already points at {name} version {version}: nothing changed."
        return RegistryChange(
            name=name,
            action="unchanged",
            done=False,
            version=version,
            alias=alias,
            previous=str(previous),
            message=message,
            warnings=warnings,
        )
    with mlflow_errors(ALIAS_HINT):
        client.set_registered_model_alias(name, alias, str(version))
    was = f"moved from version {previous}" if previous is not None else "new alias"
    return RegistryChange(
        name=name,
        action="alias set",
        version=version,
        alias=alias,
        previous=None if previous is None else str(previous),
        message=f"{alias} → {name} version {version} ({was}). Load: models:/{name}@{alias}",
        warnings=warnings,
    )


def delete_alias(backend: Backend, name: str, alias: str, confirm: bool = False) -> RegistryChange:
    """Delete an alias; without ``confirm`` only say what would happen."""
    warnings = check_model_name(name)
    client = mlflow_client(backend)
    aliases = alias_map(get_registered(client, name).aliases)
    if alias not in aliases:
        listed = ", ".join(f"{a}→v{v}" for a, v in aliases.items()) or "none"
        return RegistryChange(
            name=name,
            action="unchanged",
            done=False,
            alias=alias,
            warnings=warnings,
            message=f"{name} has no alias {alias!r} (aliases: {listed}): nothing to delete.",
        )
    version = aliases[alias]
    if not confirm:
        return RegistryChange(
            name=name,
            action="preview",
            done=False,
            alias=alias,
            version=version,
            warnings=warnings,
            message=(
                f"WOULD DELETE alias {alias} (→ version {version}) of {name}; nothing changed. "
                f"Loading models:/{name}@{alias} would then fail. Call again with confirm=true."
            ),
        )
    _delete_alias(client, name, alias)
    return RegistryChange(
        name=name,
        action="alias deleted",
        alias=alias,
        version=version,
        warnings=warnings,
        message=f"deleted alias {alias} of {name} (it pointed at version {version}).",
    )


def _delete_alias(client: MlflowClient, name: str, alias: str) -> None:
    """Delete the alias, which was there a moment ago: "not found" now means it is gone, as
    asked (MLflow retried a delete that was applied, or someone deleted it meanwhile)."""
    from mlflow.exceptions import MlflowException

    try:
        with mlflow_errors():
            client.delete_registered_model_alias(name, alias)
    except (MlflowException, ToolsCoreError) as exc:
        if not is_missing(exc):
            raise


def set_tag(
    backend: Backend, name: str, key: str, value: str, version: int | None = None
) -> RegistryChange:
    """Set a tag on the model, or on one of its versions."""
    warnings = check_model_name(name) + tag_key_warnings(key)
    if not key:
        raise InvalidInput("tag key is empty.", "Pass e.g. key='team'.")
    client = mlflow_client(backend)
    if version is None:
        previous = (get_registered(client, name).tags or {}).get(key)
        with mlflow_errors():
            client.set_registered_model_tag(name, key, value)
        target = name
    else:
        previous = (get_version_or_fail(client, name, version).tags or {}).get(key)
        with mlflow_errors():
            client.set_model_version_tag(name, str(version), key, value)
        target = f"{name} version {version}"
    was = f" (was {previous!r})" if previous is not None else ""
    return RegistryChange(
        name=name,
        action="tag set",
        version=version,
        key=key,
        value=value,
        previous=previous,
        message=f"tag {key}={value!r} on {target}{was}.",
        warnings=warnings,
    )
