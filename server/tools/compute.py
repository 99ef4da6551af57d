"""compute tools: clusters (read-only)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from server.registry import reader
from server.runtime import backend_of
from tools_core import compute as core


@reader("compute")
def compute_list_clusters(
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=500, description="Max clusters")] = 50,
) -> core.ClusterList:
    """Clusters: state, node type, workers, runtime, auto-stop, creator."""
    return core.list_clusters(backend_of(ctx), limit)


@reader("compute")
def compute_get_cluster(
    ctx: Context,
    cluster_id: Annotated[str, Field(description="Cluster id")],
) -> core.Cluster:
    """One cluster's details and state message."""
    return core.get_cluster(backend_of(ctx), cluster_id)
