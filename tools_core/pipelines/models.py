"""Result models of the pipelines operations and their compact text."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from tools_core.results import Result, markdown_table

EVENT_MESSAGE_CHARS = 300


class PipelineRow(Result):
    """One pipeline in a list."""

    pipeline_id: str
    name: str | None = None
    state: str | None = None
    last_update: str | None = None


class PipelineList(Result):
    """Pipelines, capped."""

    pipelines: list[PipelineRow] = Field(default_factory=list)
    truncated: bool = False

    def to_text(self) -> str:
        rows = [(p.pipeline_id, p.name, p.state, p.last_update or "-") for p in self.pipelines]
        text = markdown_table(["pipeline_id", "name", "state", "last update"], rows)
        if self.truncated:
            text += "\n(more pipelines: raise limit or filter by name)"
        return text


class PipelineDetail(Result):
    """A pipeline's settings and recent updates."""

    pipeline_id: str
    name: str | None = None
    state: str | None = None
    health: str | None = None
    catalog: str | None = None
    target_schema: str | None = None
    libraries: list[str] = Field(default_factory=list)
    development: bool | None = None
    configuration: dict[str, str] = Field(default_factory=dict)
    updates: list[dict[str, Any]] = Field(default_factory=list)

    def to_text(self) -> str:
        lines = [
            f"pipeline {self.pipeline_id}: {self.name} ({self.state}, {self.health})",
            f"target: {self.catalog}.{self.target_schema}"
            + (" (development)" if self.development else ""),
            "libraries: " + (", ".join(self.libraries) or "none"),
        ]
        if self.configuration:
            lines.append(
                "configuration: " + ", ".join(f"{k}={v}" for k, v in self.configuration.items())
            )
        if self.updates:
            rows = [
                (u.get("update_id"), u.get("state"), u.get("creation_time")) for u in self.updates
            ]
            lines.append(markdown_table(["update_id", "state", "created"], rows))
        lines.append("next: pipelines_start_update, pipelines_get_update")
        return "\n".join(lines)


class PipelineWritten(Result):
    """What a create, edit, delete or stop did (or would do)."""

    pipeline_id: str
    action: str
    name: str | None = None
    done: bool = True
    detail: str = ""

    def to_text(self) -> str:
        head = f"pipeline {self.pipeline_id} ({self.name}): {self.action}"
        if not self.done:
            head = f"would {self.action} pipeline {self.pipeline_id} ({self.name}); nothing changed"
            return f"{head}\n{self.detail}\nCall again with confirm=true to do it."
        return f"{head}\n{self.detail}".rstrip()


class UpdateStarted(Result):
    """An update that was started."""

    pipeline_id: str
    update_id: str

    def to_text(self) -> str:
        return (
            f"update_id: {self.update_id}\n"
            f"next: pipelines_get_update pipeline_id={self.pipeline_id} update_id={self.update_id}"
        )


class FlowRow(Result):
    """What one dataset's flow did in an update."""

    dataset: str
    status: str
    rows_written: int | None = None
    dropped: int | None = None


class Expectation(Result):
    """Passed/failed records of one expectation on one dataset."""

    dataset: str
    name: str
    passed: int
    failed: int


class UpdateSummary(Result):
    """An update's state, per-dataset results, expectations and errors."""

    pipeline_id: str
    update_id: str
    state: str
    done: bool
    full_refresh: bool = False
    flows: list[FlowRow] = Field(default_factory=list)
    expectations: list[Expectation] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    hint: str = ""

    def to_text(self) -> str:
        lines = [
            f"update {self.update_id}: {self.state}"
            + (" (full refresh)" if self.full_refresh else "")
        ]
        if self.flows:
            rows = [(f.dataset, f.status, f.rows_written, f.dropped) for f in self.flows]
            lines.append(markdown_table(["dataset", "status", "rows written", "dropped"], rows))
        if self.expectations:
            lines.append("expectations:")
            rows = [(e.dataset, e.name, e.passed, e.failed) for e in self.expectations]
            lines.append(markdown_table(["dataset", "expectation", "passed", "failed"], rows))
        lines.extend(f"ERROR: {e}" for e in self.errors)
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


class EventRow(Result):
    """One event, compact."""

    timestamp: str | None = None
    level: str | None = None
    event_type: str | None = None
    message: str = ""


class EventList(Result):
    """Events: expectations summary first, then errors, then the rest (capped)."""

    pipeline_id: str
    expectations: list[Expectation] = Field(default_factory=list)
    dropped: dict[str, int] = Field(default_factory=dict)
    errors: list[EventRow] = Field(default_factory=list)
    events: list[EventRow] = Field(default_factory=list)
    truncated: bool = False

    def to_text(self) -> str:
        parts: list[str] = []
        if self.expectations:
            rows = [(e.dataset, e.name, e.passed, e.failed) for e in self.expectations]
            parts.append("expectations:")
            parts.append(markdown_table(["dataset", "expectation", "passed", "failed"], rows))
            # Rows dropped are counted per dataset (ON VIOLATION DROP ROW), not per
            # expectation: a column beside each expectation would pin them on warn-only ones.
            dropped = ", ".join(f"{d}={n}" for d, n in sorted(self.dropped.items()))
            parts.append(f"rows dropped per dataset: {dropped or 'none'}")
        if self.errors:
            parts.append("errors:")
            parts.extend(f"- {e.timestamp} {e.message}" for e in self.errors)
        rows_ = [(e.timestamp, e.level, e.event_type, e.message) for e in self.events]
        parts.append("events (newest first):")
        parts.append(markdown_table(["timestamp", "level", "type", "message"], rows_))
        if self.truncated:
            parts.append("(more events: raise limit or give update_id / level)")
        return "\n".join(parts)
