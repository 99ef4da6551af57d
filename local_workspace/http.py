"""Small HTTP helpers shared by the API modules."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive

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


# Databricks' ids and counts are 64-bit integers (int64: SQLite's INTEGER too).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def query_int(request: Request, name: str, default: int | None = None) -> int | None:
    """An integer query parameter (within int64), or ``default`` when absent."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return int64(raw, name)


def _decimal(text: str) -> bool:
    digits = text.strip().removeprefix("-").removeprefix("+")
    return digits.isascii() and digits.isdigit()


def int64(value: Any, name: str) -> int:
    """``value`` (a JSON number or a decimal string, as the SDK sends ids in queries) as an
    int64, or a 400 INVALID_PARAMETER_VALUE: never an overflow deeper down (SQLite)."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _decimal(value):
        try:
            number = int(value)
        except ValueError:  # more digits than Python converts: out of range anyway
            number = INT64_MAX + 1
    if number is None:
        raise invalid(f"Invalid value for parameter {name}: expected an integer, got {value!r}.")
    if not INT64_MIN <= number <= INT64_MAX:
        raise invalid(
            f"Invalid value for parameter {name}: {value} is out of the range of a 64-bit integer."
        )
    return number


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


async def buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The request body, and a ``receive`` that hands it out again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Any:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay
