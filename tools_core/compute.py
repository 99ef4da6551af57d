"""Clusters: what exists, its size and state (read-only; SQL runs on warehouses)."""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import Field

from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.results import Result, markdown_table


class Cluster(Result):
    """A cluster's state and size."""

    cluster_id: str
    name: str
    state: str
    node_type: str | None = None
    workers: str = ""
    spark_version: str | None = None
    autotermination_minutes: int | None = None
    creator: str | None = None
    source: str | None = None
    state_message: str | None = None
    access_mode: str | None = None


class ClusterList(Result):
    """Clusters of the workspace."""

    clusters: list[Cluster] = Field(default_factory=list)
    truncated: bool = False

    def to_text(self) -> str:
        if not self.clusters:
            return "No clusters. SQL runs on SQL warehouses: sql_list_warehouses."
        rows = [
            [
                c.cluster_id,
                c.name,
                c.state,
                c.node_type,
                c.workers,
                c.spark_version,
                c.autotermination_minutes,
                c.creator,
            ]
            for c in self.clusters
        ]
        headers = ["id", "name", "state", "node", "workers", "runtime", "auto-stop min", "creator"]
        text = markdown_table(headers, rows)
        if self.truncated:
            text += "\n(more clusters exist: raise limit)"
        return text + "\nDetails: compute_get_cluster."


def _value(enum: Any) -> str | None:
    return getattr(enum, "value", None) if enum is not None else None


def _cluster(details: Any) -> Cluster:
    scale = details.autoscale
    if scale is not None:
        workers = f"{scale.min_workers}-{scale.max_workers} (autoscale)"
    elif details.is_single_node or details.num_workers == 0:
        workers = "0 (single node)"
    else:
        workers = str(details.num_workers) if details.num_workers is not None else ""
    return Cluster(
        cluster_id=details.cluster_id or "",
        name=details.cluster_name or "",
        state=_value(details.state) or "UNKNOWN",
        node_type=details.node_type_id,
        workers=workers,
        spark_version=details.spark_version,
        autotermination_minutes=details.autotermination_minutes,
        creator=details.creator_user_name,
        source=_value(details.cluster_source),
        state_message=details.state_message or None,
        access_mode=_value(details.data_security_mode),
    )


def list_clusters(backend: Backend, limit: int = 50) -> ClusterList:
    """Clusters with state, node type, workers, runtime, auto-termination and creator."""
    if not 1 <= limit <= 500:
        raise InvalidInput(f"limit must be between 1 and 500, got {limit}.")
    items = list(itertools.islice(backend.client.clusters.list(), limit + 1))
    return ClusterList(clusters=[_cluster(c) for c in items[:limit]], truncated=len(items) > limit)


def get_cluster(backend: Backend, cluster_id: str) -> Cluster:
    """One cluster's details, including its state message."""
    if not cluster_id:
        raise InvalidInput("cluster_id is required.", "List clusters with compute_list_clusters.")
    return _cluster(backend.client.clusters.get(cluster_id))
