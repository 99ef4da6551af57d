"""SCIM ``Me``: who the token belongs to."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.http import json_response
from local_workspace.state import WorkspaceState


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """``GET /api/2.0/preview/scim/v2/Me``."""

    async def me(request: Request) -> Response:
        user = state.user
        return json_response(
            {
                "id": "1",
                "userName": user,
                "displayName": user.split("@")[0],
                "active": True,
                "emails": [{"value": user, "primary": True, "type": "work"}],
                "groups": [{"display": "admins", "value": "admins"}],
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            }
        )

    return [Route("/api/2.0/preview/scim/v2/Me", me)]
