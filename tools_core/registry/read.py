"""Read the registry: list and get models, list and get versions (by number or alias)."""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.mlflow_client import mlflow_client
from tools_core.registry.models import (
    ModelDetail,
    ModelList,
    ModelRow,
    VersionDetail,
    VersionList,
    VersionRow,
    alias_map,
    iso,
    lineage_of,
)
from tools_core.registry.names import MODEL_HINT, check_model_name, is_missing, mlflow_errors
from tools_core.tracking.dedupe import KEY_TAG

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel

MAX_LIST = 200
# Newest versions shown by get_model; versions listed when naming a missing version.
DETAIL_VERSIONS = 5
EXISTING_CAP = 20
MAX_METRICS = 20
# Models scanned for a client-side name filter (Unity Catalog's search takes no filter).
UC_SCAN_CAP = 2_000
# Models of a list whose aliases are read one by one (Unity Catalog's search has none).
ALIAS_READS = 10


def is_unity_catalog(backend: Backend) -> bool:
    """Whether the registry is Unity Catalog (its search takes no filter or order)."""
    return backend.mlflow.registry_uri.startswith("databricks-uc")


def get_registered(client: MlflowClient, name: str) -> RegisteredModel:
    """The registered model, or the store's error code with where to look."""
    with mlflow_errors(MODEL_HINT):
        return client.get_registered_model(name)


def existing_versions(client: MlflowClient, name: str) -> str:
    """The model's newest version numbers as text, for error messages."""
    with mlflow_errors(MODEL_HINT):
        page = client.search_model_versions(f"name = '{name}'", max_results=EXISTING_CAP)
    numbers = sorted((int(v.version) for v in page), reverse=True)
    more = ", ..." if page.token else ""
    return ", ".join(str(n) for n in numbers) + more if numbers else "none"


def get_version_or_fail(client: MlflowClient, name: str, version: int) -> ModelVersion:
    """A model version; a missing one fails with the versions that exist."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version(name, str(version))
    except MlflowException as exc:
        if not is_missing(exc):
            raise
        get_registered(client, name)  # a missing model says so first
        raise ToolsCoreError(
            str(exc.error_code),
            f"{name} has no version {version} (versions: {existing_versions(client, name)}).",
            "Pick an existing version, or register one with registry_register_version.",
        ) from exc


def version_by_alias(client: MlflowClient, name: str, alias: str) -> ModelVersion:
    """The version an alias points at; a missing alias fails with the aliases that exist."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        model = get_registered(client, name)  # a missing model says so first
        aliases = alias_map(model.aliases)
        if alias in aliases:
            raise
        listed = ", ".join(f"{a}→v{v}" for a, v in aliases.items()) or "none"
        raise ToolsCoreError(
            str(exc.error_code),
            f"{name} has no alias {alias!r} (aliases: {listed}).",
            "Set it with registry_set_alias, or use one of those.",
        ) from exc


def list_models(
    backend: Backend, name_like: str = "", limit: int = 50, page_token: str = ""
) -> ModelList:
    """Registered models, optionally whose full name matches a SQL LIKE pattern
    (``main.models.%``, ``%fraud%``)."""
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST}, got {limit}.")
    if "'" in name_like:
        raise InvalidInput("name_like cannot contain quotes.", "e.g. name_like='main.models.%'.")
    client = mlflow_client(backend)
    if is_unity_catalog(backend) and name_like:
        return _filter_client_side(client, name_like, limit)
    filter_string = f"name LIKE '{name_like}'" if name_like else None
    with mlflow_errors("Check name_like: a SQL LIKE pattern such as 'main.models.%'."):
        page = client.search_registered_models(
            filter_string=filter_string, max_results=limit, page_token=page_token or None
        )
    rows = [ModelRow.from_mlflow(m) for m in page]
    return ModelList(
        models=rows,
        truncated=bool(page.token),
        next_page_token=page.token or None,
        note=_fill_aliases(client, rows),
    )


def _fill_aliases(client: MlflowClient, rows: list[ModelRow]) -> str:
    """Aliases of the listed models: Unity Catalog's search gives none, so a short list
    reads each model; a long one says where to look."""
    from mlflow.exceptions import MlflowException

    if len(rows) > ALIAS_READS:
        return "(aliases: registry_get_model)" if not any(r.aliases for r in rows) else ""
    for row in rows:
        if not row.aliases:
            with contextlib.suppress(MlflowException):  # deleted meanwhile: no aliases
                row.aliases = alias_map(client.get_registered_model(row.name).aliases)
    return ""


def like_pattern(name_like: str) -> re.Pattern[str]:
    """A SQL LIKE pattern (``%`` any run, ``_`` one character) as a case-insensitive regex."""
    return re.compile(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in name_like),
        re.IGNORECASE,
    )


def _filter_client_side(client: MlflowClient, name_like: str, limit: int) -> ModelList:
    """Unity Catalog's search has no filter: scan pages (bounded) and match names here."""
    pattern = like_pattern(name_like)
    found: list[ModelRow] = []
    token: str | None = None
    scanned = 0
    while len(found) <= limit and scanned < UC_SCAN_CAP:
        with mlflow_errors():
            page = client.search_registered_models(max_results=1000, page_token=token)
        scanned += len(page)
        found += [ModelRow.from_mlflow(m) for m in page if pattern.fullmatch(m.name)]
        token = page.token or None
        if not token:
            break
    note = f"(filtered here: scanned the first {scanned} models)" if token else ""
    shown = found[:limit]
    note = " ".join(filter(None, [note, _fill_aliases(client, shown)]))
    return ModelList(models=shown, truncated=len(found) > limit or bool(token), note=note)


def get_model(backend: Backend, name: str) -> ModelDetail:
    """A registered model: description, tags, aliases and its newest versions."""
    warnings = check_model_name(name)
    client = mlflow_client(backend)
    model = get_registered(client, name)
    aliases = alias_map(model.aliases)
    versions, token = _versions_page(backend, client, name, DETAIL_VERSIONS, "", aliases)
    return ModelDetail(
        name=model.name,
        description=model.description or None,
        tags={str(k): str(v) for k, v in (model.tags or {}).items()},
        aliases=aliases,
        versions=versions,
        versions_truncated=bool(token),
        warnings=warnings,
    )


def _versions_page(
    backend: Backend,
    client: MlflowClient,
    name: str,
    limit: int,
    page_token: str,
    aliases: dict[str, int],
) -> tuple[list[VersionRow], str | None]:
    # Unity Catalog takes no order_by: sort each page here as well.
    order = None if is_unity_catalog(backend) else ["version_number DESC"]
    with mlflow_errors(MODEL_HINT):
        page = client.search_model_versions(
            f"name = '{name}'", max_results=limit, order_by=order, page_token=page_token or None
        )
    rows = sorted((VersionRow.from_mlflow(v) for v in page), key=lambda r: -r.version)
    # Searched versions come without their aliases: take them from the model.
    for row in rows:
        row.aliases = sorted({*row.aliases, *(a for a, v in aliases.items() if v == row.version)})
    return rows, page.token or None


def list_versions(
    backend: Backend, name: str, limit: int = 50, page_token: str = ""
) -> VersionList:
    """Versions of a model, newest first: status, aliases, source run, created, source."""
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIST}, got {limit}.")
    check_model_name(name)
    client = mlflow_client(backend)
    # Read first: an unknown model is an error, not an empty list, and it has the aliases.
    aliases = alias_map(get_registered(client, name).aliases)
    rows, token = _versions_page(backend, client, name, limit, page_token, aliases)
    return VersionList(name=name, versions=rows, truncated=bool(token), next_page_token=token)


def get_version(
    backend: Backend, name: str, version: int | None = None, alias: str = ""
) -> VersionDetail:
    """One version, by number or alias, with the metrics of its source run."""
    from mlflow.exceptions import MlflowException

    warnings = check_model_name(name)
    if (version is None) == (not alias):
        raise InvalidInput("pass exactly one of version and alias.", "e.g. alias='champion'.")
    client = mlflow_client(backend)
    if alias:
        mv = version_by_alias(client, name, alias)
    else:
        mv = get_version_or_fail(client, name, int(version or 0))
    metrics: dict[str, float] = {}
    lineage: dict[str, str] = {}
    more = False
    if mv.run_id:
        try:
            run = client.get_run(mv.run_id)
        except MlflowException as exc:
            if not is_missing(exc):
                raise
            warnings.append(f"source run {mv.run_id} not found (deleted?): no metrics.")
        else:
            logged = run.data.metrics
            lineage = lineage_of(run.data.tags)
            keys = sorted(logged)
            metrics = {k: float(logged[k]) for k in keys[:MAX_METRICS]}
            more = len(keys) > MAX_METRICS
    return VersionDetail(
        name=name,
        version=int(mv.version),
        status=str(mv.status) if mv.status else None,
        aliases=[str(a) for a in mv.aliases or []],
        run_id=mv.run_id or None,
        source=mv.source or None,
        created=iso(mv.creation_timestamp),
        description=mv.description or None,
        tags={str(k): str(v) for k, v in (mv.tags or {}).items() if k != KEY_TAG},
        metrics=metrics,
        metrics_truncated=more,
        lineage=lineage,
        warnings=warnings,
    )
