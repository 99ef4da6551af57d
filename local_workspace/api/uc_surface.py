"""The rest of the Unity Catalog REST surface the SDK's ``w.*`` services call.

Two kinds of answers:
- Objects that point outside the workspace (storage credentials and external locations
  name cloud storage, connections a remote database, service credentials a cloud service,
  online tables a serving store): the workspace has none, so lists are empty (``{}``, as
  Databricks answers an empty list), reads are 404 with Databricks' code, and creates are
  400 ``FEATURE_DISABLED``, the code a workspace without the feature answers.
- Objects that mean something with one workspace: the metastore (summary, current
  assignment, system schemas), workspace bindings and artifact allowlists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.api.refusals import feature_disabled, run
from local_workspace.api.uc import PREFIX, catalog_of
from local_workspace.catalog.bindings import SurfaceStore
from local_workspace.catalog.meta import now_ms
from local_workspace.errors import invalid, not_found
from local_workspace.http import json_body, json_response
from local_workspace.state import WorkspaceState

T = TypeVar("T")

# System schemas Databricks lists for a metastore; none holds data in the local workspace.
SYSTEM_SCHEMAS = (
    "access",
    "billing",
    "compute",
    "lakeflow",
    "marketplace",
    "query",
    "serving",
    "storage",
)
# Securable types whose workspace bindings are kept.
BINDABLE = frozenset({"catalog", "external_location", "storage_credential", "credential"})


# -- families with no object in the local workspace -------------------------------------


@dataclass(frozen=True)
class Absent:
    """A family of objects that cannot exist locally, and how Databricks names them."""

    path: str  # under /api/2.1/unity-catalog, or absolute
    list_key: str
    title: str
    code: str
    feature: str
    reason: str
    # Paths below one object (AI gateway credentials, skill finalize) that answer its 404.
    subpaths: bool = False


NO_CLOUD = "the local workspace has no cloud storage (managed tables and volumes live in it)"
GATEWAY = "serve models and tools with the local serving endpoints"
ABSENT = (
    Absent(
        "storage-credentials",
        "storage_credentials",
        "Storage Credential",
        "STORAGE_CREDENTIAL_DOES_NOT_EXIST",
        "Storage credentials",
        NO_CLOUD,
    ),
    Absent(
        "external-locations",
        "external_locations",
        "External Location",
        "EXTERNAL_LOCATION_DOES_NOT_EXIST",
        "External locations",
        NO_CLOUD,
    ),
    Absent(
        "connections",
        "connections",
        "Connection",
        "RESOURCE_DOES_NOT_EXIST",
        "Lakehouse Federation",
        "the local workspace reaches no external database",
    ),
    Absent(
        "credentials",
        "credentials",
        "Credential",
        "RESOURCE_DOES_NOT_EXIST",
        "Service credentials",
        "the local workspace reaches no cloud service",
    ),
    Absent(
        "secrets",
        "secrets",
        "Secret",
        "RESOURCE_DOES_NOT_EXIST",
        "Unity Catalog secrets",
        "use the workspace secret scopes (w.secrets)",
    ),
    *(
        Absent(path, key, title, "RESOURCE_DOES_NOT_EXIST", "AI Gateway", GATEWAY, True)
        for path, key, title in (
            ("mcp-services", "mcp_services", "MCP service"),
            ("model-services", "model_services", "Model service"),
            ("model-provider-services", "model_provider_services", "Model provider service"),
            ("skills", "skills", "Skill"),
        )
    ),
    Absent(
        "/api/2.0/quality-monitors",
        "quality_monitors",
        "Quality monitor",
        "RESOURCE_DOES_NOT_EXIST",
        "Anomaly detection",
        "profile tables with w.quality_monitors or w.data_quality instead",
        True,
    ),
)


def _absent_routes(family: Absent) -> list[BaseRoute]:
    async def collection(request: Request) -> Response:
        if request.method == "POST":
            await json_body(request)  # a malformed body is still a 400 MALFORMED_REQUEST
            raise feature_disabled(family.feature, family.reason)
        return json_response({})

    async def one(request: Request) -> Response:
        name = request.path_params["name"]
        raise not_found(f"{family.title} '{name}' does not exist.", family.code)

    base = family.path if family.path.startswith("/") else f"{PREFIX}/{family.path}"
    methods = ["GET", "PATCH", "PUT", "DELETE"]
    found: list[BaseRoute] = [
        Route(base, collection, methods=["GET", "POST"]),
        Route(base + "/{name}", one, methods=methods),
    ]
    if family.subpaths:
        found.append(Route(base + "/{name:path}", one, methods=[*methods, "POST"]))
    return found


def _refusing(feature: str, reason: str) -> Callable[[Request], object]:
    async def refuse(request: Request) -> Response:
        raise feature_disabled(feature, reason)

    return refuse


async def _online_table(request: Request) -> Response:
    name = request.path_params["name"]
    raise not_found(f"Online table '{name}' does not exist.")


async def _policies(request: Request) -> Response:
    """ABAC policies of a securable: none (row filters and masks are set by SQL)."""
    return json_response({})


async def _policy(request: Request) -> Response:
    name = request.path_params["name"]
    raise not_found(f"Policy '{name}' does not exist.")


async def _quotas(request: Request) -> Response:
    return json_response({})


async def _quota(request: Request) -> Response:
    raise not_found(f"Quota '{request.path_params['quota_name']}' does not exist.")


async def privilege_assignments(request: Request) -> Response:
    """Direct grants on a securable, as the paged list API answers them (one page)."""
    cat = catalog_of(request)
    kind, full_name = request.path_params["securable_type"], request.path_params["full_name"]
    principal = request.query_params.get("principal") or None
    found = await run(cat.grants.get, kind, full_name, principal)
    return json_response({"privilege_assignments": found} if found else {})


async def effective_privilege_assignments(request: Request) -> Response:
    """Direct and inherited grants on a securable (one page)."""
    cat = catalog_of(request)
    kind, full_name = request.path_params["securable_type"], request.path_params["full_name"]
    principal = request.query_params.get("principal") or None
    found = await run(cat.grants.effective, kind, full_name, principal)
    return json_response({"privilege_assignments": found} if found else {})


# -- the metastore ----------------------------------------------------------------------


def _summary(request: Request) -> dict[str, object]:
    state: WorkspaceState = request.app.state.workspace
    metastore_id = state.catalog.metastore_id
    created = _created_at(state)
    return {
        "metastore_id": metastore_id,
        "global_metastore_id": f"local:local:{metastore_id}",
        "name": "local",
        "owner": state.user,
        "cloud": "local",
        "region": "local",
        "created_at": created,
        "created_by": state.user,
        "updated_at": created,
        "updated_by": state.user,
        "delta_sharing_scope": "INTERNAL",
        "delta_sharing_organization_name": "local",
        "privilege_model_version": "1.0",
        "external_access_enabled": False,
    }


def _created_at(state: WorkspaceState) -> int:
    """When the metastore was first described (kept: it never changes afterwards)."""
    meta = state.catalog.meta
    found = meta.setting("metastore_created_at")
    if found is None:
        found = str(now_ms())
        meta.set_setting("metastore_created_at", found)
    return int(found)


async def metastore_summary(request: Request) -> Response:
    """The metastore the workspace is assigned to."""
    return json_response(_summary(request))


async def current_assignment(request: Request) -> Response:
    """The workspace's metastore assignment."""
    state: WorkspaceState = request.app.state.workspace
    return json_response(
        {
            "workspace_id": int(state.workspace_id),
            "metastore_id": state.catalog.metastore_id,
            "default_catalog_name": "main",
        }
    )


async def metastores(request: Request) -> Response:
    """GET: the one metastore; POST: creating one is an account admin's cloud setup."""
    if request.method == "POST":
        raise feature_disabled("Creating metastores", "the local workspace has exactly one")
    return json_response({"metastores": [_summary(request)]})


def _require_metastore(request: Request, key: str) -> None:
    wanted = request.path_params[key]
    if wanted != catalog_of(request).metastore_id:
        raise not_found(f"Metastore '{wanted}' does not exist.", "METASTORE_DOES_NOT_EXIST")


async def metastore(request: Request) -> Response:
    """GET the metastore by id; PATCH/DELETE: account admin operations, refused."""
    _require_metastore(request, "id")
    if request.method != "GET":
        raise feature_disabled("Changing the metastore", "the local workspace has exactly one")
    return json_response(_summary(request))


async def system_schemas(request: Request) -> Response:
    """The system schemas of the metastore: none available (no billing or audit data)."""
    _require_metastore(request, "metastore_id")
    return json_response(
        {"schemas": [{"schema": s, "state": "UNAVAILABLE"} for s in SYSTEM_SCHEMAS]}
    )


async def system_schema(request: Request) -> Response:
    """Enable/disable a system schema: nothing to serve locally."""
    _require_metastore(request, "metastore_id")
    schema = request.path_params["schema_name"]
    if schema not in SYSTEM_SCHEMAS:
        raise not_found(f"System schema '{schema}' does not exist.")
    raise feature_disabled(
        f"System schema '{schema}'", "the local workspace records no system tables"
    )


# -- workspace bindings and artifact allowlists ------------------------------------------


def _surface(request: Request) -> SurfaceStore:
    state: WorkspaceState = request.app.state.workspace
    return state.service(
        "uc_surface",
        lambda: SurfaceStore(
            state.config.data_dir / "surface.sqlite", state.user, state.catalog.metastore_id
        ),
    )


async def _securable(request: Request, securable_type: str, name: str) -> str:
    """The canonical name of a bindable securable; 404 when it does not exist."""
    kind = securable_type.lower().replace("-", "_")
    if kind not in BINDABLE:
        raise invalid(f"Securable type '{securable_type}' cannot be bound to workspaces.")
    if kind == "catalog":
        cat = catalog_of(request)
        info = await run(cat.catalogs.get, name)
        return str(info["name"])
    family = next(f for f in ABSENT if f.list_key == kind + "s")
    raise not_found(f"{family.title} '{name}' does not exist.", family.code)


async def catalog_bindings(request: Request) -> Response:
    """GET/PATCH the workspaces a catalog is bound to (ids only)."""
    surface = _surface(request)
    name = await _securable(request, "catalog", request.path_params["name"])
    if request.method == "PATCH":
        body = await json_body(request)
        await run(
            surface.update_bindings,
            "catalog",
            name,
            list(body.get("assign_workspaces") or []),
            list(body.get("unassign_workspaces") or []),
        )
    found = await run(surface.bindings, "catalog", name)
    return json_response({"workspaces": [b["workspace_id"] for b in found]} if found else {})


async def bindings(request: Request) -> Response:
    """GET/PATCH the workspace bindings of a securable (with binding types)."""
    surface = _surface(request)
    kind = request.path_params["securable_type"].lower()
    name = await _securable(request, kind, request.path_params["securable_name"])
    if request.method == "PATCH":
        body = await json_body(request)
        await run(
            surface.update_bindings,
            kind,
            name,
            list(body.get("add") or []),
            list(body.get("remove") or []),
        )
    found = await run(surface.bindings, kind, name)
    return json_response({"bindings": found} if found else {})


async def artifact_allowlist(request: Request) -> Response:
    """GET/PUT the allowlist of an artifact type (init scripts, jars, Maven coordinates)."""
    surface = _surface(request)
    kind = request.path_params["artifact_type"]
    if request.method == "PUT":
        body = await json_body(request)
        return json_response(
            await run(surface.set_allowlist, kind, body.get("artifact_matchers") or [])
        )
    return json_response(await run(surface.allowlist, kind))


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The remaining Unity Catalog routes (see the module docstring)."""
    found: list[BaseRoute] = []
    for family in ABSENT:
        found.extend(_absent_routes(family))
    cloud = _refusing("Credential vending", NO_CLOUD)
    found += [
        Route(f"{PREFIX}/validate-storage-credentials", cloud, methods=["POST"]),
        Route(f"{PREFIX}/validate-credentials", cloud, methods=["POST"]),
        Route(f"{PREFIX}/temporary-service-credentials", cloud, methods=["POST"]),
        Route("/api/2.0/unity-catalog/temporary-table-credentials", cloud, methods=["POST"]),
        Route("/api/2.0/unity-catalog/temporary-volume-credentials", cloud, methods=["POST"]),
        Route("/api/2.0/unity-catalog/temporary-path-credentials", cloud, methods=["POST"]),
        Route(
            "/api/2.0/online-tables",
            _refusing("Online tables", "serve features with the local serving endpoints"),
            methods=["POST"],
        ),
        Route("/api/2.0/online-tables/{name}", _online_table, methods=["GET", "DELETE"]),
        Route(
            f"{PREFIX}/policies",
            _refusing("ABAC policies", "use row filters and column masks (ALTER TABLE)"),
            methods=["POST"],
        ),
        Route(f"{PREFIX}/policies/{{securable_type}}/{{full_name}}", _policies, methods=["GET"]),
        Route(
            f"{PREFIX}/policies/{{securable_type}}/{{full_name}}/{{name}}",
            _policy,
            methods=["GET", "PATCH", "DELETE"],
        ),
        Route(f"{PREFIX}/resource-quotas/all-resource-quotas", _quotas, methods=["GET"]),
        Route(
            f"{PREFIX}/resource-quotas/{{securable_type}}/{{full_name}}/{{quota_name}}",
            _quota,
            methods=["GET"],
        ),
        Route(
            f"{PREFIX}/privilege-assignments/{{securable_type}}/{{full_name}}",
            privilege_assignments,
            methods=["GET"],
        ),
        Route(
            f"{PREFIX}/effective-privilege-assignments/{{securable_type}}/{{full_name}}",
            effective_privilege_assignments,
            methods=["GET"],
        ),
        Route(
            f"{PREFIX}/metastores:undropById",
            _refusing("Restoring metastores", "the local workspace has exactly one"),
            methods=["POST"],
        ),
        Route(f"{PREFIX}/metastore_summary", metastore_summary, methods=["GET"]),
        Route(f"{PREFIX}/current-metastore-assignment", current_assignment, methods=["GET"]),
        Route(f"{PREFIX}/metastores", metastores, methods=["GET", "POST"]),
        Route(f"{PREFIX}/metastores/{{id}}", metastore, methods=["GET", "PATCH", "DELETE"]),
        Route(
            f"{PREFIX}/metastores/{{metastore_id}}/systemschemas", system_schemas, methods=["GET"]
        ),
        Route(
            f"{PREFIX}/metastores/{{metastore_id}}/systemschemas/{{schema_name}}",
            system_schema,
            methods=["PUT", "DELETE"],
        ),
        Route(
            f"{PREFIX}/workspaces/{{workspace_id}}/metastore",
            _refusing("Changing the metastore assignment", "the local workspace has one metastore"),
            methods=["PUT", "PATCH", "DELETE"],
        ),
        Route(
            f"{PREFIX}/workspace-bindings/catalogs/{{name}}",
            catalog_bindings,
            methods=["GET", "PATCH"],
        ),
        Route(
            f"{PREFIX}/bindings/{{securable_type}}/{{securable_name}}",
            bindings,
            methods=["GET", "PATCH"],
        ),
        Route(
            f"{PREFIX}/artifact-allowlists/{{artifact_type}}",
            artifact_allowlist,
            methods=["GET", "PUT"],
        ),
    ]
    return found
