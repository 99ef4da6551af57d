"""Unity Catalog functions REST API 2.1, as the SDK's ``w.functions`` calls it.

``GET /functions?catalog_name=&schema_name=`` (paged), ``GET|PATCH|DELETE
/functions/{full_name}`` and ``POST /functions`` (SQL functions: the body is run as
``CREATE FUNCTION``, the way SQL creates them, so both doors make the same macro).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.api.uc import PREFIX, _required_query, _run, _sdk, catalog_of, page
from local_workspace.catalog.names import split_name
from local_workspace.errors import invalid
from local_workspace.http import json_body, json_response, require
from local_workspace.state import WorkspaceState


def _create(catalog: Any, info: dict[str, Any]) -> dict[str, Any]:
    from local_workspace.sql import udfs
    from local_workspace.sql.errors import SqlError
    from local_workspace.sql.translate import Scope, parse

    if str(info.get("routine_body") or "SQL").upper() != "SQL":
        raise invalid(
            "Python UDFs require Unity Catalog on a pro or serverless SQL warehouse; the "
            "local workspace creates SQL functions only (routine_body SQL)."
        )
    name = ".".join(f"`{require(info, key)}`" for key in ("catalog_name", "schema_name", "name"))
    params = ", ".join(
        f"`{p['name']}` {p.get('type_text') or p.get('type_name')}"
        for p in sorted(
            (info.get("input_params") or {}).get("parameters") or [],
            key=lambda p: p.get("position") or 0,
        )
    )
    returns = info.get("full_data_type") or info.get("data_type") or "STRING"
    if str(info.get("data_type") or "").upper() == "TABLE_TYPE":
        returns = f"TABLE ({info.get('full_data_type') or ''})"
    comment = info.get("comment")
    text = (
        f"CREATE FUNCTION {name}({params}) RETURNS {returns}"
        + (f" COMMENT '{str(comment).replace(chr(39), chr(39) * 2)}'" if comment else "")
        + f" RETURN {require(info, 'routine_definition')}"
    )
    try:
        tree = parse(text)
        if not isinstance(tree, exp.Create):
            raise invalid("routine_definition must be a SQL expression or query.")
        udfs.create(tree, Scope(), catalog)
    except SqlError as exc:
        raise invalid(exc.full_message()) from exc
    found: dict[str, Any] = catalog.functions.get(name.replace("`", ""))
    return found


async def functions(request: Request) -> Response:
    """GET: the functions of a schema (paged); POST: create a SQL function."""
    cat = catalog_of(request)
    if request.method == "POST":
        body = await json_body(request)
        info = body.get("function_info")
        if not isinstance(info, dict):
            raise invalid("function_info is required.")
        created = await _run(cat, _create, cat, info)
        return json_response(_sdk().FunctionInfo.from_dict(created).as_dict())
    items = await _run(
        cat,
        cat.functions.list_in,
        _required_query(request, "catalog_name"),
        _required_query(request, "schema_name"),
    )
    return json_response(page(request, items, "functions", _sdk().FunctionInfo.from_dict))


async def function(request: Request) -> Response:
    """GET, PATCH (owner) or DELETE one function."""
    cat = catalog_of(request)
    full_name = ".".join(split_name(request.path_params["full_name"], 3, "function"))
    if request.method == "DELETE":
        await _run(cat, cat.functions.delete, full_name)
        return json_response({})
    if request.method == "PATCH":
        body = await json_body(request)
        info = await _run(cat, cat.functions.set_owner, full_name, body.get("owner"))
        return json_response(_sdk().FunctionInfo.from_dict(info).as_dict())
    info = await _run(cat, cat.functions.get, full_name)
    return json_response(_sdk().FunctionInfo.from_dict(info).as_dict())


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The functions routes."""
    return [
        Route(f"{PREFIX}/functions", functions, methods=["GET", "POST"]),
        Route(f"{PREFIX}/functions/{{full_name}}", function, methods=["GET", "PATCH", "DELETE"]),
    ]
