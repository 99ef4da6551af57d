"""Unity Catalog lineage: upstream/downstream tables of a table, to a bounded depth.

The lineage REST API answers one level; this module walks it breadth-first up to ``depth``
levels and at most ``MAX_TABLES`` tables per direction, keeping for each edge who wrote it
(jobs, notebooks, pipelines, queries). A column's lineage is one level, as the API gives it.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Literal

from pydantic import Field

from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.results import Result, markdown_table

Direction = Literal["up", "down", "both"]

MAX_TABLES = 50
MAX_WRITERS = 3


class LineageEdge(Result):
    """One table reached from the asked table."""

    table: str
    depth: int
    via: str  # the table it connects to, one level closer to the asked table
    # Who read ``via``/``table`` to write the other: jobs, notebooks, pipelines, queries.
    by: list[str] = Field(default_factory=list)


class ColumnLineage(Result):
    """Source and target columns of one column (one level)."""

    column: str
    upstream: list[str] = Field(default_factory=list)
    downstream: list[str] = Field(default_factory=list)


class TableLineage(Result):
    """The answer of uc_get_lineage."""

    table: str
    depth: int
    direction: Direction = "both"
    upstream: list[LineageEdge] = Field(default_factory=list)
    downstream: list[LineageEdge] = Field(default_factory=list)
    truncated: bool = False
    column: ColumnLineage | None = None

    def to_text(self) -> str:
        parts = [f"Lineage of {self.table} (depth {self.depth})"]
        for title, edges, link, shown in (
            ("Upstream", self.upstream, "feeds", self.direction != "down"),
            ("Downstream", self.downstream, "fed by", self.direction != "up"),
        ):
            if edges:
                rows = [(e.depth, e.table, e.via, ", ".join(e.by) or "-") for e in edges]
                parts.append(f"{title}:\n" + markdown_table(["depth", "table", link, "by"], rows))
            elif shown:
                parts.append(f"{title}: none recorded")
        if self.column is not None:
            col = self.column
            parts.append(
                f"Column {col.column}: from {', '.join(col.upstream) or 'none'}; "
                f"to {', '.join(col.downstream) or 'none'}"
            )
        if self.truncated:
            parts.append(f"(stopped at {MAX_TABLES} tables: lower depth to narrow)")
        return "\n".join(parts)


def _get(backend: Backend, path: str, query: dict[str, Any]) -> dict[str, Any]:
    """GET a lineage-tracking endpoint.

    The SDK (0.162) has no lineage service (no ``w.lineage`` / table-lineage method), so this
    is the one raw call; errors still come back as the SDK's DatabricksError subclasses.
    """
    answer = backend.client.api_client.do("GET", f"/api/2.0/lineage-tracking/{path}", query=query)
    return answer if isinstance(answer, dict) else {}


def _full_name(info: dict[str, Any]) -> str:
    return ".".join(str(info.get(k) or "") for k in ("catalog_name", "schema_name", "name"))


def _writers(item: dict[str, Any]) -> list[str]:
    """Compact labels of who read/wrote along one edge (jobs, notebooks, pipelines, queries)."""
    labels: list[str] = []
    for job in item.get("jobInfos") or []:
        label = f"job {job.get('job_id')}"
        if job.get("job_run_id") is not None:
            label += f" run {job['job_run_id']}"
        if job.get("task_key"):
            label += f" task {job['task_key']}"
        labels.append(label)
    for nb in item.get("notebookInfos") or []:
        labels.append(f"notebook {nb.get('notebook_path') or nb.get('notebook_id')}")
    for pipe in item.get("pipelineInfos") or []:
        name = pipe.get("pipeline_name")
        labels.append(f"pipeline {pipe.get('pipeline_id')}" + (f" ({name})" if name else ""))
    queries = len(item.get("queryInfos") or [])
    if queries:
        labels.append(f"{queries} SQL quer{'y' if queries == 1 else 'ies'}")
    labels = list(dict.fromkeys(labels))
    if len(labels) > MAX_WRITERS:
        labels = [*labels[:MAX_WRITERS], f"+{len(labels) - MAX_WRITERS} more"]
    return labels


def _walk(backend: Backend, table: str, key: str, depth: int) -> tuple[list[LineageEdge], bool]:
    """Breadth-first over ``upstreams`` or ``downstreams``; each table once."""
    seen = {table}
    edges: list[LineageEdge] = []
    queue: deque[tuple[str, int]] = deque([(table, 0)])
    while queue:
        current, level = queue.popleft()
        if level >= depth:
            continue
        answer = _get(
            backend,
            "table-lineage",
            {"table_name": current, "include_entity_lineage": "true"},
        )
        for item in answer.get(key) or []:
            name = _full_name(item.get("tableInfo") or {})
            if name in seen:
                continue
            if len(edges) >= MAX_TABLES:
                return edges, True
            seen.add(name)
            edges.append(LineageEdge(table=name, depth=level + 1, via=current, by=_writers(item)))
            queue.append((name, level + 1))
    return edges, False


def get_lineage(
    backend: Backend,
    table: str,
    direction: Direction = "both",
    depth: int = 2,
    column: str | None = None,
) -> TableLineage:
    """Upstream/downstream tables of ``table`` to ``depth`` levels, with who wrote each edge."""
    name = table.strip().replace("`", "").lower()
    if name.count(".") != 2 or not all(name.split(".")):
        raise InvalidInput(f"'{table}' is not a full table name.", "Use catalog.schema.table.")
    if not 1 <= depth <= 3:
        raise InvalidInput(f"depth must be 1..3, got {depth}.", "Use depth 1, 2 or 3.")
    result = TableLineage(table=name, depth=depth, direction=direction)
    if direction in ("up", "both"):
        result.upstream, more = _walk(backend, name, "upstreams", depth)
        result.truncated |= more
    if direction in ("down", "both"):
        result.downstream, more = _walk(backend, name, "downstreams", depth)
        result.truncated |= more
    if column:
        cols = _get(backend, "column-lineage", {"table_name": name, "column_name": column})
        result.column = ColumnLineage(
            column=column,
            upstream=[_column_name(c) for c in cols.get("upstream_cols") or []],
            downstream=[_column_name(c) for c in cols.get("downstream_cols") or []],
        )
    return result


def _column_name(col: dict[str, Any]) -> str:
    return ".".join(
        str(col.get(k) or "") for k in ("catalog_name", "schema_name", "table_name", "name")
    )
