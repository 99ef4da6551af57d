"""Result models of the vector_search operations, each with compact text."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tools_core.results import Result, markdown_table, more_hint


class EndpointRow(Result):
    """One Vector Search endpoint."""

    name: str
    state: str = ""
    type: str = ""
    indexes: int | None = None


class EndpointList(Result):
    """Endpoints, bounded."""

    endpoints: list[EndpointRow]
    truncated: bool = False

    def to_text(self) -> str:
        rows = [(e.name, e.state, e.type, e.indexes) for e in self.endpoints]
        table = markdown_table(["name", "state", "type", "indexes"], rows)
        return table + more_hint(self.truncated, what="endpoints")


class EndpointCreated(Result):
    """A created (or already existing) endpoint."""

    name: str
    state: str = ""
    created: bool

    def to_text(self) -> str:
        verb = "Created" if self.created else "Already exists:"
        return f"{verb} endpoint {self.name} ({self.state or 'unknown state'})."


class IndexRow(Result):
    """One index in a list."""

    name: str
    type: str = ""
    primary_key: str = ""


class IndexList(Result):
    """Indexes of an endpoint, bounded."""

    endpoint_name: str
    indexes: list[IndexRow]
    truncated: bool = False

    def to_text(self) -> str:
        rows = [(i.name, i.type, i.primary_key) for i in self.indexes]
        table = markdown_table(["name", "type", "primary_key"], rows)
        return table + more_hint(self.truncated, what="indexes")


class IndexDetail(Result):
    """An index: status, kind, source, key and embedding configuration."""

    name: str
    endpoint_name: str = ""
    type: str = ""
    ready: bool | None = None
    indexed_rows: int | None = None
    status: str = ""
    primary_key: str = ""
    source_table: str = ""
    pipeline_type: str = ""
    embedding_source_column: str = ""
    embedding_model_endpoint: str = ""
    embedding_vector_column: str = ""
    embedding_dimension: int | None = None
    columns: list[str] = Field(default_factory=list)
    note: str = ""

    def to_text(self) -> str:
        state = "ready" if self.ready else "not ready"
        lines = [f"{self.name} [{self.type}] on {self.endpoint_name}: {state}"]
        if self.indexed_rows is not None:
            lines[0] += f", {self.indexed_rows} rows indexed"
        if self.status:
            lines.append(f"status: {self.status}")
        pairs = [
            ("primary_key", self.primary_key),
            ("source_table", self.source_table),
            ("pipeline", self.pipeline_type),
            ("text column", self.embedding_source_column),
            ("embedding endpoint", self.embedding_model_endpoint),
            ("vector column", self.embedding_vector_column),
            ("dimension", self.embedding_dimension),
            ("columns", ", ".join(self.columns)),
        ]
        lines += [f"{k}: {v}" for k, v in pairs if v not in ("", None)]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


class Changed(Result):
    """The outcome of sync, upsert or delete."""

    index_name: str
    action: str
    done: bool = True
    rows: int | None = None
    failed_keys: list[str] = Field(default_factory=list)
    message: str = ""

    def to_text(self) -> str:
        text = self.message or f"{self.action} {self.index_name}"
        if self.failed_keys:
            text += f"\nfailed keys: {', '.join(self.failed_keys[:20])}"
        return text


class QueryResult(Result):
    """Query hits, best first, with the score column last."""

    index_name: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""

    def to_text(self) -> str:
        text = markdown_table(self.columns, self.rows)
        return f"{text}\nnote: {self.note}" if self.note else text
