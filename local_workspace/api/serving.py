"""Model Serving API of the local workspace, at the paths the SDK calls.

Endpoints: create, list, get, update config (``PUT .../config``), AI Gateway (``PUT
.../ai-gateway``, inference tables only), delete, and
``POST /serving-endpoints/{name}/invocations`` (logged to the endpoint's inference table).
Served entities are registered model versions of the workspace's MLflow registry.
Foundation-model endpoints (``databricks-*``) and external models answer 501: they need
Databricks. The local embedding model, when installed, is a built-in READY endpoint
answering ``{"input": [...]}`` with OpenAI-style embeddings, also under Databricks'
pay-per-token embedding endpoint names (``databricks-gte-large-en``...), for which it
stands in (its answer names the model that answered).
"""

from __future__ import annotations

import json
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import ApiError, invalid
from local_workspace.http import json_body, json_response
from local_workspace.serving import ServingService
from local_workspace.serving.inference_tables import InferenceTables
from local_workspace.state import WorkspaceState

EMBEDDING_ENDPOINT = "local-minilm-l6-v2"


def service(state: WorkspaceState) -> ServingService:
    """The serving service (created on first use)."""
    mlflow = state.services["mlflow"]
    return state.service(
        "serving",
        lambda: ServingService(
            state.config.data_dir, state.user, mlflow.wait_ready, InferenceTables(state.catalog)
        ),
    )


def _embedder(state: WorkspaceState, name: str = EMBEDDING_ENDPOINT) -> Any:
    """The local embedding model when ``name`` is its endpoint (or one of Databricks' that it
    stands in for) and it is installed (``state.services["embedders"]``), else None."""
    from local_workspace.embeddings import embedders, local_model_name

    if local_model_name(name) != EMBEDDING_ENDPOINT:
        return None
    found = embedders(state.services).get(EMBEDDING_ENDPOINT)
    if found is None and name != EMBEDDING_ENDPOINT:
        raise ApiError(
            501,
            "NOT_IMPLEMENTED",
            f"Foundation model endpoint '{name}' is not available in the local workspace "
            f"without the `embeddings` extra (then {EMBEDDING_ENDPOINT} stands in for it); "
            "use a real Databricks workspace.",
        )
    return found


def _embedding_endpoint(name: str = EMBEDDING_ENDPOINT) -> dict[str, Any]:
    from local_workspace.embeddings import stand_in_note

    entity: dict[str, Any] = {
        "name": name,
        "entity_name": "sentence-transformers/all-MiniLM-L6-v2",
    }
    note = stand_in_note(name, installed=True)
    if note:
        entity["foundation_model"] = {"name": name, "display_name": name, "description": note}
    return {
        "name": name,
        "id": name,
        "creator": "system",
        "task": "llm/v1/embeddings",
        "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
        "config": {"served_entities": [entity]},
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
    # "model" names the model that answered, also when it stands in for a Databricks one.
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
        if _embedder(state, name) is not None:
            return json_response(_embedding_endpoint(name))
        return json_response(serving.get(name))  # short locks only

    async def delete(request: Request) -> Response:
        await anyio.to_thread.run_sync(serving.delete, request.path_params["name"])
        return json_response({})

    async def update_config(request: Request) -> Response:
        body = await json_body(request)
        name = request.path_params["name"]
        return json_response(await anyio.to_thread.run_sync(serving.update_config, name, body))

    async def put_ai_gateway(request: Request) -> Response:
        body = await json_body(request)
        name = request.path_params["name"]
        return json_response(await anyio.to_thread.run_sync(serving.put_ai_gateway, name, body))

    async def invocations(request: Request) -> Response:
        name = request.path_params["name"]
        raw = await request.body()
        embedder = _embedder(state, name)
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
        Route(base + "/{name}/ai-gateway", put_ai_gateway, methods=["PUT"]),
        Route("/serving-endpoints/{name}/invocations", invocations, methods=["POST"]),
    ]
