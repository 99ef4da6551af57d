"""Small HTTP helpers shared by the API modules."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from local_workspace.errors import invalid


def json_response(body: Any, status: int = 200) -> Response:
    """A compact JSON response, rendered into one buffer."""
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body; an empty body is ``{}``."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise invalid(f"Malformed JSON request body: {exc.msg}", "MALFORMED_REQUEST") from exc
    if not isinstance(body, dict):
        raise invalid("Request body must be a JSON object.", "MALFORMED_REQUEST")
    return body


def query_int(request: Request, name: str, default: int | None = None) -> int | None:
    """An integer query parameter, or ``default`` when absent."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise invalid(f"Parameter '{name}' must be an integer, got {raw!r}.") from exc


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    """A boolean query parameter (``true``/``false``)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return raw.lower() in ("true", "1", "yes")


def require(body: dict[str, Any], name: str) -> Any:
    """A required field of a request body, or a 400 that names it."""
    value = body.get(name)
    if value is None or value == "":
        raise invalid(f"Missing required field: {name}")
    return value
