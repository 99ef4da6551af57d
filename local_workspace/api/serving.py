"""Model Serving API of the local workspace, at the paths the SDK calls.

Endpoints: create, list, get, update config (``PUT .../config``), delete, and
``POST /serving-endpoints/{name}/invocations``. Served entities are registered model versions
of the workspace's MLflow registry. Foundation-model endpoints (``databricks-*``) and external
models answer 501: they need Databricks. The local embedding model, when installed, is a
built-in READY endpoint answering ``{"input": [...]}`` with OpenAI-style embeddings.
"""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import invalid
from local_workspace.http import json_body, json_response
from local_workspace.serving import ServingService
from local_workspace.state import WorkspaceState

EMBEDDING_ENDPOINT = "local-minilm-l6-v2"


def service(state: WorkspaceState) -> ServingService:
    """The serving service (created on first use)."""
    mlflow = state.services["mlflow"]
    return state.service(
        "serving", lambda: ServingService(state.config.data_dir, state.user, mlflow.wait_ready)
    )


def _embedder(state: WorkspaceState) -> Any:
    """The local embedding model when installed (``state.services["embedders"]``), else None."""
    from local_workspace.embeddings import embedders

    return embedders(state.services).get(EMBEDDING_ENDPOINT)


def _embedding_endpoint() -> dict[str, Any]:
    return {
        "name": EMBEDDING_ENDPOINT,
        "id": EMBEDDING_ENDPOINT,
        "creator": "system",
        "task": "llm/v1/embeddings",
        "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
        "config": {
            "served_entities": [
                {
                    "name": EMBEDDING_ENDPOINT,
                    "entity_name": "sentence-transformers/all-MiniLM-L6-v2",
                }
            ]
        },
    }


def _embed(embedder: Any, body: dict[str, Any]) -> dict[str, Any]:
    texts = body.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise invalid("Embeddings take 'input': a string or a list of strings.", "BAD_REQUEST")
    vectors = embedder.embed(texts)
    data = [
        {"object": "embedding", "index": i, "embedding": [float(x) for x in vector]}
        for i, vector in enumerate(vectors)
    ]
    return {"object": "list", "model": EMBEDDING_ENDPOINT, "data": data}


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The serving-endpoints routes."""
    serving = service(state)

    async def create(request: Request) -> Response:
        body = await json_body(request)
        return json_response(await anyio.to_thread.run_sync(serving.create, body))

    async def list_endpoints(request: Request) -> Response:
        endpoints = [serving.get(name) for name in serving.names()]  # short locks only
        if _embedder(state) is not None:
            endpoints.insert(0, _embedding_endpoint())
        return json_response({"endpoints": endpoints})

    async def get(request: Request) -> Response:
        name = request.path_params["name"]
        if name == EMBEDDING_ENDPOINT and _embedder(state) is not None:
            return json_response(_embedding_endpoint())
        return json_response(serving.get(name))  # short locks only

    async def delete(request: Request) -> Response:
        await anyio.to_thread.run_sync(serving.delete, request.path_params["name"])
        return json_response({})

    async def update_config(request: Request) -> Response:
        body = await json_body(request)
        name = request.path_params["name"]
        return json_response(await anyio.to_thread.run_sync(serving.update_config, name, body))

    async def invocations(request: Request) -> Response:
        name = request.path_params["name"]
        raw = await request.body()
        embedder = _embedder(state) if name == EMBEDDING_ENDPOINT else None
        if embedder is not None:
            body = json.loads(raw or b"{}")
            result = await anyio.to_thread.run_sync(_embed, embedder, body)
        else:
            result = await anyio.to_thread.run_sync(serving.invoke, name, raw)
        return json_response(result)

    base = "/api/2.0/serving-endpoints"
    return [
        Route(base, create, methods=["POST"]),
        Route(base, list_endpoints, methods=["GET"]),
        Route(base + "/{name}", get, methods=["GET"]),
        Route(base + "/{name}", delete, methods=["DELETE"]),
        Route(base + "/{name}/config", update_config, methods=["PUT"]),
        Route("/serving-endpoints/{name}/invocations", invocations, methods=["POST"]),
    ]
