"""Unity Catalog Entity Tag Assignments API (``/api/2.1/unity-catalog/entity-tag-assignments``).

The same store as SQL's ``SET TAGS`` / ``SET TAG ON`` and ``information_schema.*_tags``
(``catalog.tags``). Entity types are ``catalogs``, ``schemas``, ``tables``, ``columns`` and
``volumes``; the entity must exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.api.uc import PREFIX, _run, _sdk, catalog_of, page
from local_workspace.catalog.tags import PARTS, check_type
from local_workspace.errors import already_exists, invalid, not_found
from local_workspace.http import json_body, json_response, require
from local_workspace.state import WorkspaceState

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

BASE = f"{PREFIX}/entity-tag-assignments"


def require_entity(cat: Catalog, entity_type: str, entity_name: str) -> str:
    """The entity's stored name, once checked to exist (404 otherwise)."""
    check_type(entity_type)
    parts = entity_name.split(".")
    if len(parts) != PARTS[entity_type] or not all(parts):
        raise invalid(f"Invalid entity_name '{entity_name}' for entity_type '{entity_type}'.")
    if entity_type == "catalogs":
        return str(cat.catalogs.get(entity_name)["name"])
    if entity_type == "schemas":
        return str(cat.schemas.get(entity_name)["full_name"])
    if entity_type == "volumes":
        return str(cat.volumes.get(entity_name)["full_name"])
    table = cat.tables.get(".".join(parts[:3]))
    if entity_type == "tables":
        return str(table["full_name"])
    for column in table.get("columns") or []:
        if str(column["name"]).lower() == parts[3].lower():
            return f"{table['full_name']}.{column['name']}"
    raise not_found(f"Column '{parts[3]}' does not exist in table '{table['full_name']}'.")


async def create(request: Request) -> Response:
    """POST: assign a tag to an entity (409 when the key is already set)."""
    cat = catalog_of(request)
    body = await json_body(request)
    body = body.get("tag_assignment", body)  # the SDK sends the assignment itself

    def assign() -> dict[str, Any]:
        entity_type = require(body, "entity_type")
        name = require_entity(cat, entity_type, require(body, "entity_name"))
        key = require(body, "tag_key")
        if any(t["tag_key"] == key for t in cat.tags.of(entity_type, name)):
            raise already_exists(f"Tag assignment with key '{key}' already exists on '{name}'.")
        cat.tags.set(entity_type, name, {key: body.get("tag_value")})
        return cat.tags.as_assignment(cat.tags.get(entity_type, name, key))

    return json_response(_sdk().EntityTagAssignment.from_dict(await _run(cat, assign)).as_dict())


async def list_tags(request: Request) -> Response:
    """GET: the tag assignments of an entity (paged)."""
    cat = catalog_of(request)
    entity_type = request.path_params["entity_type"]
    entity_name = request.path_params["entity_name"]

    def collect() -> list[dict[str, Any]]:
        name = require_entity(cat, entity_type, entity_name)
        return [cat.tags.as_assignment(t) for t in cat.tags.of(entity_type, name)]

    items = await _run(cat, collect)
    return json_response(
        page(request, items, "tag_assignments", _sdk().EntityTagAssignment.from_dict)
    )


async def one(request: Request) -> Response:
    """GET, PATCH (tag_value) or DELETE one tag assignment."""
    cat = catalog_of(request)
    entity_type = request.path_params["entity_type"]
    entity_name = request.path_params["entity_name"]
    key = request.path_params["tag_key"]
    body = await json_body(request) if request.method == "PATCH" else {}

    def act() -> dict[str, Any]:
        name = require_entity(cat, entity_type, entity_name)
        found = cat.tags.get(entity_type, name, key)
        if request.method == "DELETE":
            cat.tags.unset(entity_type, name, [key])
            return {}
        if request.method == "PATCH":
            mask = request.query_params.get("update_mask") or ""
            if mask and not {"tag_value", "*"} & set(mask.split(",")):
                raise invalid(f"Only tag_value can be updated (update_mask '{mask}').")
            cat.tags.set(entity_type, name, {key: body.get("tag_value")})
            found = cat.tags.get(entity_type, name, key)
        return cat.tags.as_assignment(found)

    result = await _run(cat, act)
    if not result:
        return json_response({})
    return json_response(_sdk().EntityTagAssignment.from_dict(result).as_dict())


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The Entity Tag Assignments routes (entity names hold dots, never slashes)."""
    return [
        Route(BASE, create, methods=["POST"]),
        Route(f"{BASE}/{{entity_type}}/{{entity_name}}/tags", list_tags, methods=["GET"]),
        Route(
            f"{BASE}/{{entity_type}}/{{entity_name}}/tags/{{tag_key}}",
            one,
            methods=["GET", "PATCH", "DELETE"],
        ),
    ]
