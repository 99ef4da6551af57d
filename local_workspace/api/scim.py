"""SCIM: ``Me`` (who the token belongs to) and the workspace's groups.

The workspace has one user (SCIM id ``1``), member of the built-in ``admins`` and ``users``
groups; groups created here (``w.groups.create``/``patch``) can list it as a member, and SQL's
``is_member()``/``is_account_group_member()`` answer from the same groups.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.catalog.functions import USER_ID
from local_workspace.errors import invalid
from local_workspace.http import json_body, json_response, query_int, require
from local_workspace.state import WorkspaceState

PREFIX = "/api/2.0/preview/scim/v2"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def _group(group: dict[str, Any]) -> dict[str, Any]:
    return {**group, "schemas": [GROUP_SCHEMA]}


def _members(values: Any) -> list[str]:
    if not isinstance(values, list):
        raise invalid("members must be a list of {value}.")
    return [str(m.get("value")) for m in values if isinstance(m, dict) and m.get("value")]


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """``Me`` and ``Groups`` (list, create, get, patch members, delete)."""

    async def me(request: Request) -> Response:
        user = state.user
        groups = await run_in_threadpool(state.catalog.groups.all)
        return json_response(
            {
                "id": USER_ID,
                "userName": user,
                "displayName": user.split("@")[0],
                "active": True,
                "emails": [{"value": user, "primary": True, "type": "work"}],
                "groups": [
                    {
                        "display": g["displayName"],
                        "value": g["id"],
                        "type": "direct",
                        "$ref": f"Groups/{g['id']}",
                    }
                    for g in groups
                    if any(m.get("value") == USER_ID for m in g["members"])
                ],
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            }
        )

    async def groups(request: Request) -> Response:
        store = state.catalog.groups
        if request.method == "POST":
            body = await json_body(request)
            name = str(require(body, "displayName"))
            created = await run_in_threadpool(
                store.create, name, _members(body.get("members") or [])
            )
            return json_response(_group(created), status=201)
        found = [_group(g) for g in await run_in_threadpool(store.all)]
        wanted = request.query_params.get("filter") or ""
        if wanted.lower().startswith("displayname eq "):
            name = wanted[len("displayName eq ") :].strip().strip('"')
            found = [g for g in found if g["displayName"] == name]
        start = max(query_int(request, "startIndex", 1) or 1, 1)
        count = query_int(request, "count", 10_000) or 10_000
        page = found[start - 1 : start - 1 + count]
        return json_response(
            {
                "schemas": [LIST_SCHEMA],
                "totalResults": len(found),
                "startIndex": start,
                "itemsPerPage": len(page),
                "Resources": page,
            }
        )

    async def group(request: Request) -> Response:
        store = state.catalog.groups
        group_id = request.path_params["id"]
        if request.method == "DELETE":
            await run_in_threadpool(store.delete, group_id)
            return Response(status_code=204)
        if request.method == "PATCH":
            body = await json_body(request)
            members = {
                m["value"] for m in (await run_in_threadpool(store.get, group_id))["members"]
            }
            for op in body.get("Operations") or []:
                kind = str(op.get("op") or "").lower()
                path = str(op.get("path") or "members")
                if path.startswith("members[value eq"):  # remove one: members[value eq "id"]
                    members.discard(path.split('"')[1] if '"' in path else "")
                elif kind == "add":
                    members |= set(_members(op.get("value") or []))
                elif kind == "remove":
                    members -= set(_members(op.get("value") or []))
                elif kind == "replace":
                    members = set(_members(op.get("value") or []))
            await run_in_threadpool(store.set_members, group_id, sorted(members))
            return Response(status_code=204)
        return json_response(_group(await run_in_threadpool(store.get, group_id)))

    return [
        Route(f"{PREFIX}/Me", me),
        Route(f"{PREFIX}/Groups", groups, methods=["GET", "POST"]),
        Route(f"{PREFIX}/Groups/{{id}}", group, methods=["GET", "PATCH", "DELETE"]),
    ]
