"""Lineage tracking API 2.0 of the local workspace (table and column lineage, one level).

``GET /api/2.0/lineage-tracking/table-lineage`` answers ``{"upstreams": [...], "downstreams":
[...]}``: one item per neighbouring table with its ``tableInfo`` and, when
``include_entity_lineage`` is true, the notebooks, jobs, pipelines and queries that read it to
write the other. ``GET /api/2.0/lineage-tracking/column-lineage`` answers ``{"upstream_cols",
"downstream_cols"}``. Parameters come as query parameters or as a JSON body (both are seen in
the wild). A table the catalog does not know and lineage never saw is TABLE_DOES_NOT_EXIST.
"""

from __future__ import annotations

import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import invalid, not_found
from local_workspace.http import json_body, json_response
from local_workspace.lineage import Edge, Entity, LineageStore, lineage_store
from local_workspace.state import WorkspaceState

# Entities listed per neighbouring table (newest first): a busy table's queries stay bounded.
MAX_ENTITIES = 20


def _timestamp(ms: int) -> str:
    """Databricks' lineage timestamp text: ``2024-05-01 12:30:00.0`` (UTC)."""
    moment = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + str(moment.microsecond // 100_000)


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method in ("GET", "POST"):
        body = await json_body(request)
        params.update({k: v for k, v in body.items() if k not in params})
    return params


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")


class Answers:
    """Builds the lineage responses from the store and the catalog."""

    def __init__(self, state: WorkspaceState, store: LineageStore) -> None:
        self.state = state
        self.store = store

    def table_name(self, params: dict[str, Any]) -> str:
        """The asked table's three-level name; 404 when nothing is known about it."""
        raw = str(params.get("table_name") or "").strip().replace("`", "")
        parts = raw.split(".")
        if len(parts) != 3 or not all(parts):
            raise invalid(
                f"table_name must be a three-level name catalog.schema.table, got {raw!r}."
            )
        name = raw.lower()
        if not self.state.catalog.tables.has(*parts) and not self.store.known(name):
            raise not_found(f"Table '{name}' does not exist.", "TABLE_DOES_NOT_EXIST")
        return name

    def table_type(self, name: str) -> str:
        catalog = self.state.catalog
        if not catalog.tables.has(*name.split(".")):
            return "TABLE"  # dropped since: lineage outlives the table, as on Databricks
        kind = str(catalog.tables.get(name).get("table_type") or "MANAGED")
        return "VIEW" if kind in ("VIEW", "MATERIALIZED_VIEW") else "TABLE"

    def table_info(self, name: str, ts: int) -> dict[str, Any]:
        catalog, schema, table = name.split(".")
        return {
            "name": table,
            "catalog_name": catalog,
            "schema_name": schema,
            "table_type": self.table_type(name),
            "lineage_timestamp": _timestamp(ts),
        }

    def items(self, edges: list[Edge], entities: bool) -> list[dict[str, Any]]:
        """One item per neighbouring table (edges come newest first)."""
        by_table: dict[str, list[Edge]] = {}
        for edge in edges:
            by_table.setdefault(edge.other, []).append(edge)
        items = []
        for other, group in sorted(by_table.items()):
            item: dict[str, Any] = {"tableInfo": self.table_info(other, group[0].timestamp_ms)}
            if entities:
                for key, infos in self.entity_infos(group).items():
                    if infos:
                        item[key] = infos
            items.append(item)
        return items

    def entity_infos(self, group: list[Edge]) -> dict[str, list[dict[str, Any]]]:
        infos: dict[str, list[dict[str, Any]]] = {
            "notebookInfos": [],
            "jobInfos": [],
            "pipelineInfos": [],
            "queryInfos": [],
        }
        for edge in group:
            if edge.entity is not None:
                self.add_entity(infos, edge.entity, edge.timestamp_ms)
        return {k: v[:MAX_ENTITIES] for k, v in infos.items()}

    def add_entity(self, infos: dict[str, list[dict[str, Any]]], e: Entity, ts: int) -> None:
        base = {"workspace_id": int(self.state.workspace_id), "lineage_timestamp": _timestamp(ts)}
        extra = e.extra or {}
        if e.kind == "JOB" and e.id:
            job: dict[str, Any] = {**base, "job_id": int(e.id)}
            if extra.get("job_run_id") is not None:
                job["job_run_id"] = int(extra["job_run_id"])
            if extra.get("task_key"):
                job["task_key"] = extra["task_key"]
            if e.name:
                job["job_name"] = e.name
            infos["jobInfos"].append(job)
        notebook = extra.get("notebook_path") or (e.id if e.kind == "NOTEBOOK" else None)
        if notebook:
            found = self.state.services.get("workspace")
            obj = found.get(str(notebook)) if found is not None else None
            info = {**base, "notebook_path": notebook}
            if obj is not None:
                info["notebook_id"] = obj.object_id
            infos["notebookInfos"].append(info)
        if e.kind == "PIPELINE":
            pipeline = {**base, "pipeline_id": e.id}
            if extra.get("update_id"):
                pipeline["pipeline_update_id"] = extra["update_id"]
            if e.name:
                pipeline["pipeline_name"] = e.name
            infos["pipelineInfos"].append(pipeline)
        if e.kind == "QUERY":
            infos["queryInfos"].append({**base, "query_id": e.id})

    def column(self, table: str, column: str, upstream: bool) -> list[dict[str, Any]]:
        found = (
            self.store.column_upstream(table, column)
            if upstream
            else self.store.column_downstream(table, column)
        )
        cols = []
        for edge in found:
            catalog, schema, name = edge.table.split(".")
            cols.append(
                {
                    "name": edge.column,
                    "catalog_name": catalog,
                    "schema_name": schema,
                    "table_name": name,
                    "table_type": self.table_type(edge.table),
                    "lineage_timestamp": _timestamp(edge.timestamp_ms),
                }
            )
        return cols


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """Table lineage and column lineage."""
    answers = Answers(state, lineage_store(state))

    async def table_lineage(request: Request) -> Response:
        params = await _params(request)
        name = answers.table_name(params)
        entities = _flag(params.get("include_entity_lineage"))
        store = answers.store
        return json_response(
            {
                "upstreams": answers.items(store.upstream(name), entities),
                "downstreams": answers.items(store.downstream(name), entities),
            }
        )

    async def column_lineage(request: Request) -> Response:
        params = await _params(request)
        name = answers.table_name(params)
        column = str(params.get("column_name") or "").strip().strip("`").lower()
        if not column:
            raise invalid("Missing required field: column_name")
        return json_response(
            {
                "upstream_cols": answers.column(name, column, True),
                "downstream_cols": answers.column(name, column, False),
            }
        )

    base = "/api/2.0/lineage-tracking"
    return [
        Route(f"{base}/table-lineage", table_lineage, methods=["GET", "POST"]),
        Route(f"{base}/column-lineage", column_lineage, methods=["GET", "POST"]),
    ]
