"""Vector Search API 2.0 of the local workspace, at the paths the SDK calls.

Endpoints: create (ONLINE at once), list, get, delete. Indexes: create, list, get, delete,
sync, upsert-data, delete-data, query, query-next-page (one page: always empty), scan.
Search is exact (numpy); see ``local_workspace/vector_search/search.py`` for scoring.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.http import json_body, json_response, require
from local_workspace.state import WorkspaceState
from local_workspace.vector_search import VectorSearchService, search

PREFIX = "/api/2.0/vector-search"


def service(state: WorkspaceState) -> VectorSearchService:
    """The vector search service (created on first use)."""
    return state.service("vector_search", lambda: VectorSearchService(state))


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The Vector Search routes."""
    vs = service(state)

    async def endpoints(request: Request) -> Response:
        if request.method == "GET":
            return json_response({"endpoints": [vs.endpoint_info(n) for n in sorted(vs.endpoints)]})
        body = await json_body(request)
        info = vs.create_endpoint(require(body, "name"), body.get("endpoint_type") or "STANDARD")
        return json_response(info)

    async def endpoint(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "DELETE":
            vs.delete_endpoint(name)
            return json_response({})
        return json_response(vs.endpoint_info(name))

    async def indexes(request: Request) -> Response:
        if request.method == "GET":
            endpoint_name = request.query_params.get("endpoint_name")
            if endpoint_name:
                vs.endpoint_info(endpoint_name)
            found = [
                {
                    key: info.get(key)
                    for key in ("name", "endpoint_name", "primary_key", "index_type", "creator")
                }
                for info in (vs.index_info(d) for _, d in sorted(vs.indexes.items()))
                if not endpoint_name or info["endpoint_name"] == endpoint_name
            ]
            return json_response({"vector_indexes": found})
        body = await json_body(request)
        return json_response(await asyncio.to_thread(vs.create_index, body))

    async def index(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "DELETE":
            vs.delete_index(name)
            return json_response({})
        return json_response(vs.index_info(vs.get(name)))

    async def sync(request: Request) -> Response:
        await asyncio.to_thread(vs.sync, request.path_params["name"])
        return json_response({})

    async def upsert(request: Request) -> Response:
        body = await json_body(request)
        name = request.path_params["name"]
        inputs = require(body, "inputs_json")
        return json_response(await asyncio.to_thread(search.upsert, vs, name, inputs))

    async def delete_data(request: Request) -> Response:
        keys = request.query_params.getlist("primary_keys")
        if request.method == "POST":
            keys = list((await json_body(request)).get("primary_keys") or keys)
        return json_response(search.delete_rows(vs, request.path_params["name"], keys))

    async def query(request: Request) -> Response:
        body = await json_body(request)
        name = request.path_params["name"]
        return json_response(await asyncio.to_thread(search.query, vs, name, body))

    async def next_page(request: Request) -> Response:
        # Every query answers in one page (no next_page_token), so there is never more.
        data = vs.get(request.path_params["name"])
        del data
        return json_response(
            {
                "manifest": {"column_count": 0, "columns": []},
                "result": {"row_count": 0, "data_array": []},
            }
        )

    async def scan(request: Request) -> Response:
        body = await json_body(request)
        return json_response(search.scan(vs, request.path_params["name"], body))

    base = f"{PREFIX}/indexes/{{name}}"
    return [
        Route(f"{PREFIX}/endpoints", endpoints, methods=["GET", "POST"]),
        Route(f"{PREFIX}/endpoints/{{name}}", endpoint, methods=["GET", "DELETE"]),
        Route(f"{PREFIX}/indexes", indexes, methods=["GET", "POST"]),
        Route(base, index, methods=["GET", "DELETE"]),
        Route(f"{base}/sync", sync, methods=["POST"]),
        Route(f"{base}/upsert-data", upsert, methods=["POST"]),
        Route(f"{base}/delete-data", delete_data, methods=["DELETE", "POST"]),
        Route(f"{base}/query", query, methods=["POST"]),
        Route(f"{base}/query-next-page", next_page, methods=["POST"]),
        Route(f"{base}/scan", scan, methods=["POST"]),
    ]
