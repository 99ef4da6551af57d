"""Clusters API 2.1 of the local workspace: honestly, there are no clusters.

SQL runs on the local SQL warehouse and jobs run tasks locally; nothing here pretends to
be a Spark cluster. ``list`` answers an empty list, ``get`` a 404 that says where SQL runs.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import not_found
from local_workspace.http import json_response
from local_workspace.state import WorkspaceState

NO_CLUSTERS = "the local workspace has no clusters; SQL runs on the local warehouse"


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """clusters/list and clusters/get (API 2.0 and 2.1 paths)."""

    async def list_clusters(request: Request) -> Response:
        return json_response({"clusters": []})

    async def get_cluster(request: Request) -> Response:
        cluster_id = request.query_params.get("cluster_id") or ""
        raise not_found(f"Cluster {cluster_id} does not exist: {NO_CLUSTERS}.")

    found: list[BaseRoute] = []
    for version in ("2.0", "2.1"):
        found.append(Route(f"/api/{version}/clusters/list", list_clusters, methods=["GET"]))
        found.append(Route(f"/api/{version}/clusters/get", get_cluster, methods=["GET"]))
    return found
