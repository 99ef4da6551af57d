"""Unity Catalog REST API 2.1: catalogs, schemas, tables, volumes, grants.

Handlers parse the top level of requests by hand and answer through the SDK's own dataclasses
(``CatalogInfo.from_dict(...).as_dict()``), so the wire shapes are Databricks'. The catalog
engine is synchronous (DuckDB, SQLite), so its calls run in the thread pool.
"""

from __future__ import annotations

import base64
import fnmatch
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import ApiError, invalid, not_available
from local_workspace.http import json_body, json_response, query_bool, query_int, require
from local_workspace.state import WorkspaceState

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

PREFIX = "/api/2.1/unity-catalog"
# Page length when the client sends no max_results or 0 ("server default").
DEFAULT_PAGE = 1000
T = TypeVar("T")


@cache
def _sdk() -> Any:
    """The SDK's catalog dataclasses, imported on first use (the SDK takes seconds to load)."""
    from databricks.sdk.service import catalog

    return catalog


def page(
    request: Request, items: list[dict[str, Any]], key: str, shape: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    """One page of ``items`` as the SDK pages: max_results/page_token in, next_page_token out."""
    size = query_int(request, "max_results", 0) or 0
    if size < 0:
        raise invalid("max_results must be zero or positive.")
    size = size or DEFAULT_PAGE
    token = request.query_params.get("page_token") or ""
    try:
        start = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    except ValueError as exc:
        raise invalid(f"Invalid page_token {token!r}.") from exc
    chunk = items[start : start + size]
    body: dict[str, Any] = {key: [shape(item).as_dict() for item in chunk]}
    if start + size < len(items):
        body["next_page_token"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return body


def catalog_of(request: Request) -> Catalog:
    """The catalog engine of the workspace serving ``request``."""
    state: WorkspaceState = request.app.state.workspace
    return state.catalog


async def _run(catalog: Catalog, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run an engine call in the thread pool; DuckDB errors become 400s with public names."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except duckdb.Error as exc:
        raise invalid(catalog.engine.public_text(str(exc))) from exc


# -- catalogs ------------------------------------------------------------------------------


async def catalogs(request: Request) -> Response:
    """GET: list catalogs (paged); POST: create one."""
    cat = catalog_of(request)
    if request.method == "POST":
        body = await json_body(request)
        if body.get("share_name") or body.get("connection_name"):
            from local_workspace.api.refusals import foreign_catalog

            await foreign_catalog(request, body)
        info = await _run(
            cat,
            cat.catalogs.create,
            require(body, "name"),
            body.get("comment"),
            body.get("properties"),
        )
        return json_response(_sdk().CatalogInfo.from_dict(info).as_dict())
    items = await _run(cat, cat.catalogs.all)
    return json_response(page(request, items, "catalogs", _sdk().CatalogInfo.from_dict))


async def catalog(request: Request) -> Response:
    """GET, PATCH (comment, owner, properties) or DELETE one catalog."""
    cat = catalog_of(request)
    name = request.path_params["name"]
    if request.method == "DELETE":
        await _run(cat, cat.catalogs.delete, name, query_bool(request, "force"))
        return json_response({})
    if request.method == "PATCH":
        body = await json_body(request)
        if body.get("new_name") and body["new_name"].lower() != name.lower():
            raise not_available("Renaming a catalog")
        info = await _run(
            cat,
            cat.catalogs.update,
            name,
            body.get("comment"),
            body.get("owner"),
            body.get("properties"),
        )
        return json_response(_sdk().CatalogInfo.from_dict(info).as_dict())
    return json_response(
        _sdk().CatalogInfo.from_dict(await _run(cat, cat.catalogs.get, name)).as_dict()
    )


# -- schemas -------------------------------------------------------------------------------


async def schemas(request: Request) -> Response:
    """GET: list the schemas of a catalog (paged); POST: create one."""
    cat = catalog_of(request)
    if request.method == "POST":
        body = await json_body(request)
        info = await _run(
            cat,
            cat.schemas.create,
            require(body, "catalog_name"),
            require(body, "name"),
            body.get("comment"),
        )
        return json_response(_sdk().SchemaInfo.from_dict(info).as_dict())
    catalog_name = _required_query(request, "catalog_name")
    items = await _run(cat, cat.schemas.list_in, catalog_name)
    return json_response(page(request, items, "schemas", _sdk().SchemaInfo.from_dict))


async def schema(request: Request) -> Response:
    """GET, PATCH (comment, owner) or DELETE one schema."""
    cat = catalog_of(request)
    full_name = request.path_params["full_name"]
    if request.method == "DELETE":
        await _run(cat, cat.schemas.delete, full_name, query_bool(request, "force"))
        return json_response({})
    if request.method == "PATCH":
        body = await json_body(request)
        if body.get("new_name") and body["new_name"].lower() != full_name.split(".")[-1]:
            raise not_available("Renaming a schema")
        info = await _run(
            cat, cat.schemas.update, full_name, body.get("comment"), body.get("owner")
        )
        return json_response(_sdk().SchemaInfo.from_dict(info).as_dict())
    return json_response(
        _sdk().SchemaInfo.from_dict(await _run(cat, cat.schemas.get, full_name)).as_dict()
    )


# -- tables --------------------------------------------------------------------------------


async def tables(request: Request) -> Response:
    """GET: list the tables of a schema (paged); POST: create one."""
    cat = catalog_of(request)
    if request.method == "POST":
        body = await json_body(request)
        info = await _run(
            cat,
            cat.tables.create,
            require(body, "catalog_name"),
            require(body, "schema_name"),
            require(body, "name"),
            body.get("columns") or [],
            body.get("comment"),
            body.get("table_type") or "MANAGED",
            body.get("properties"),
            body.get("storage_location"),
        )
        return json_response(_sdk().TableInfo.from_dict(info).as_dict())
    catalog_name = _required_query(request, "catalog_name")
    schema_name = _required_query(request, "schema_name")
    items = await _run(cat, cat.tables.list_in, catalog_name, schema_name)
    if query_bool(request, "omit_columns"):
        items = [{k: v for k, v in t.items() if k != "columns"} for t in items]
    if query_bool(request, "omit_properties"):
        items = [{k: v for k, v in t.items() if k != "properties"} for t in items]
    return json_response(page(request, items, "tables", _sdk().TableInfo.from_dict))


async def table(request: Request) -> Response:
    """GET, PATCH (owner) or DELETE one table."""
    cat = catalog_of(request)
    full_name = request.path_params["full_name"]
    if request.method == "DELETE":
        await _run(cat, cat.tables.delete, full_name)
        return json_response({})
    if request.method == "PATCH":
        body = await json_body(request)
        await _run(cat, cat.tables.update, full_name, body.get("owner"))
        return json_response({})
    return json_response(
        _sdk().TableInfo.from_dict(await _run(cat, cat.tables.get, full_name)).as_dict()
    )


async def table_exists(request: Request) -> Response:
    """Whether a table exists (404s of the table or its containers answer false)."""
    cat = catalog_of(request)
    full_name = request.path_params["full_name"]
    try:
        await _run(cat, cat.tables.get, full_name)
    except ApiError as exc:
        if exc.status != 404:
            raise
        return json_response({"table_exists": False})
    return json_response({"table_exists": True})


async def table_summaries(request: Request) -> Response:
    """Full name and type of the tables of a catalog matching name patterns (paged)."""
    cat = catalog_of(request)
    catalog_name = _required_query(request, "catalog_name")
    schema_pattern = _pattern(request.query_params.get("schema_name_pattern"))
    table_pattern = _pattern(request.query_params.get("table_name_pattern"))

    def collect() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for s in cat.schemas.list_in(catalog_name):
            if fnmatch.fnmatchcase(s["name"], schema_pattern):
                found.extend(
                    {"full_name": t["full_name"], "table_type": t["table_type"]}
                    for t in cat.tables.list_in(catalog_name, s["name"])
                    if fnmatch.fnmatchcase(t["name"].lower(), table_pattern)
                )
        return found

    items = await _run(cat, collect)
    return json_response(page(request, items, "tables", _sdk().TableSummary.from_dict))


# -- volumes -------------------------------------------------------------------------------


async def volumes(request: Request) -> Response:
    """GET: list the volumes of a schema (paged); POST: create one."""
    cat = catalog_of(request)
    if request.method == "POST":
        body = await json_body(request)
        info = await _run(
            cat,
            cat.volumes.create,
            require(body, "catalog_name"),
            require(body, "schema_name"),
            require(body, "name"),
            body.get("volume_type") or "MANAGED",
            body.get("comment"),
            body.get("storage_location"),
        )
        return json_response(_sdk().VolumeInfo.from_dict(info).as_dict())
    catalog_name = _required_query(request, "catalog_name")
    schema_name = _required_query(request, "schema_name")
    items = await _run(cat, cat.volumes.list_in, catalog_name, schema_name)
    return json_response(page(request, items, "volumes", _sdk().VolumeInfo.from_dict))


async def volume(request: Request) -> Response:
    """GET, PATCH (comment, owner, new_name) or DELETE one volume."""
    cat = catalog_of(request)
    name = request.path_params["name"]
    if request.method == "DELETE":
        await _run(cat, cat.volumes.delete, name)
        return json_response({})
    if request.method == "PATCH":
        body = await json_body(request)
        info = await _run(
            cat,
            cat.volumes.update,
            name,
            body.get("comment"),
            body.get("owner"),
            body.get("new_name"),
        )
        return json_response(_sdk().VolumeInfo.from_dict(info).as_dict())
    return json_response(
        _sdk().VolumeInfo.from_dict(await _run(cat, cat.volumes.get, name)).as_dict()
    )


# -- grants --------------------------------------------------------------------------------


async def permissions(request: Request) -> Response:
    """GET: direct grants on a securable; PATCH: apply grant changes."""
    cat = catalog_of(request)
    kind, full_name = request.path_params["securable_type"], request.path_params["full_name"]
    if request.method == "PATCH":
        body = await json_body(request)
        changes = body.get("changes") or []
        if not isinstance(changes, list):
            raise invalid("changes must be a list.")
        assignments = await _run(cat, cat.grants.update, kind, full_name, changes)
        return json_response(
            _sdk()
            .UpdatePermissionsResponse.from_dict({"privilege_assignments": assignments})
            .as_dict()
        )
    principal = request.query_params.get("principal") or None
    assignments = await _run(cat, cat.grants.get, kind, full_name, principal)
    return json_response(
        _sdk().GetPermissionsResponse.from_dict({"privilege_assignments": assignments}).as_dict()
    )


async def effective_permissions(request: Request) -> Response:
    """Direct and inherited grants on a securable."""
    cat = catalog_of(request)
    kind, full_name = request.path_params["securable_type"], request.path_params["full_name"]
    principal = request.query_params.get("principal") or None
    assignments = await _run(cat, cat.grants.effective, kind, full_name, principal)
    return json_response(
        _sdk().EffectivePermissionsList.from_dict({"privilege_assignments": assignments}).as_dict()
    )


# -- table constraints (informational primary/foreign keys) --------------------------------


async def create_constraint(request: Request) -> Response:
    """Declare a primary or foreign key on a table."""
    cat = catalog_of(request)
    body = await json_body(request)
    full_name = str(require(body, "full_name_arg"))
    constraint = body.get("constraint")
    if not isinstance(constraint, dict):
        raise invalid("Missing required field: constraint")

    def add() -> dict[str, Any]:
        from local_workspace.catalog.constraints import column_nullability

        info = cat.tables.get(full_name)
        if info["table_type"] == "VIEW":
            raise invalid(f"{info['full_name']} is a view: constraints go on tables.")
        return cat.constraints.add(info["full_name"], constraint, column_nullability(info))

    created = await _run(cat, add)
    return json_response(_sdk().TableConstraint.from_dict(created).as_dict())


async def delete_constraint(request: Request) -> Response:
    """Drop a constraint of a table by name."""
    cat = catalog_of(request)
    full_name = request.path_params["full_name"]
    name = _required_query(request, "constraint_name")

    def drop() -> None:
        info = cat.tables.get(full_name)
        cat.constraints.drop(info["full_name"], name, cascade=query_bool(request, "cascade"))

    await _run(cat, drop)
    return json_response({})


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The Unity Catalog routes; handlers find the workspace on ``request.app.state``."""
    return [
        Route(f"{PREFIX}/constraints", create_constraint, methods=["POST"]),
        Route(f"{PREFIX}/constraints/{{full_name}}", delete_constraint, methods=["DELETE"]),
        Route(f"{PREFIX}/catalogs", catalogs, methods=["GET", "POST"]),
        Route(f"{PREFIX}/catalogs/{{name}}", catalog, methods=["GET", "PATCH", "DELETE"]),
        Route(f"{PREFIX}/schemas", schemas, methods=["GET", "POST"]),
        Route(f"{PREFIX}/schemas/{{full_name}}", schema, methods=["GET", "PATCH", "DELETE"]),
        Route(f"{PREFIX}/tables", tables, methods=["GET", "POST"]),
        Route(f"{PREFIX}/tables/{{full_name}}/exists", table_exists, methods=["GET"]),
        Route(f"{PREFIX}/tables/{{full_name}}", table, methods=["GET", "PATCH", "DELETE"]),
        Route(f"{PREFIX}/table-summaries", table_summaries, methods=["GET"]),
        Route(f"{PREFIX}/volumes", volumes, methods=["GET", "POST"]),
        Route(f"{PREFIX}/volumes/{{name}}", volume, methods=["GET", "PATCH", "DELETE"]),
        Route(
            f"{PREFIX}/permissions/{{securable_type}}/{{full_name}}",
            permissions,
            methods=["GET", "PATCH"],
        ),
        Route(
            f"{PREFIX}/effective-permissions/{{securable_type}}/{{full_name}}",
            effective_permissions,
            methods=["GET"],
        ),
    ]


def _required_query(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise invalid(f"Missing required parameter: {name}")
    return value


def _pattern(raw: str | None) -> str:
    """A UC name pattern (``%``/``*`` wildcards) as an fnmatch pattern."""
    return (raw or "*").lower().replace("%", "*")
