"""MLflow traces: a compact search table and one trace's span tree, bounded.

Read-only, through the backend's ``MlflowClient`` (never MLflow's process-wide state). The
filter is MLflow's trace search syntax (``trace.status``, ``trace.timestamp_ms``,
``tag.<key>``), which Databricks and MLflow's own server both accept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.results import Result, markdown_table, more_hint
from tools_core.tracking.common import client_of, clip, mlflow_errors, resolve_experiment, when

if TYPE_CHECKING:
    from mlflow.entities import Span, Trace, TraceInfo

Status = Literal["OK", "ERROR", "IN_PROGRESS"]
PREVIEW_CHARS = 80
IO_CHARS = 300
MAX_SPANS = 50
TEXT_MAX_CHARS = 12_000
TRACE_HINT = "Find trace ids with mlflow_search_traces."
FILTER_HINT = "Check experiment, run_id and tags."


class TraceRow(Result):
    """One trace of a search."""

    trace_id: str
    status: str
    start: str | None = None
    duration_ms: int | None = None
    request: str = ""
    top_span: str = ""


class TraceTable(Result):
    """A bounded page of traces, newest first."""

    experiment_ids: list[str]
    traces: list[TraceRow]
    truncated: bool = False
    next_page_token: str | None = None

    def to_text(self) -> str:
        """A table of traces with the page hint and what to call next."""
        rows = [
            (t.trace_id, t.status, t.start, t.duration_ms, t.request, t.top_span)
            for t in self.traces
        ]
        headers = ["trace_id", "status", "start", "ms", "request", "top_span"]
        table = markdown_table(headers, rows)
        hint = "\nSpans of one: mlflow_get_trace." if self.traces else ""
        return table + more_hint(self.truncated, self.next_page_token, "traces") + hint


class SpanRow(Result):
    """One span: its place in the tree, latency, status, and capped inputs/outputs."""

    span_id: str
    parent_id: str | None = None
    depth: int = 0
    name: str
    type: str | None = None
    status: str
    duration_ms: float | None = None
    error: str | None = None
    inputs: str | None = None
    outputs: str | None = None


class TraceDetail(Result):
    """A trace: its info, its failing spans, then its span tree (bounded)."""

    trace_id: str
    status: str
    experiment_id: str | None = None
    run_id: str | None = None
    start: str | None = None
    duration_ms: int | None = None
    request: str | None = None
    response: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    errors: list[SpanRow] = Field(default_factory=list)
    spans: list[SpanRow] = Field(default_factory=list)
    total_spans: int = 0
    truncated: bool = False

    def to_text(self) -> str:
        """Header, errors first, then the indented span tree; capped in length."""
        head = f"trace {self.trace_id} [{self.status}] {self.duration_ms} ms"
        attrs = [
            f"{k}: {v}"
            for k, v in (
                ("exp", self.experiment_id),
                ("run", self.run_id),
                ("start", self.start),
            )
            if v
        ]
        lines = [head + (" " + "; ".join(attrs) if attrs else "")]
        if self.tags:
            lines.append("tags: " + ", ".join(f"{k}={v}" for k, v in self.tags.items()))
        lines += [f"request: {self.request}", f"response: {self.response}"]
        if self.errors:
            lines.append(f"errors ({len(self.errors)}):")
            lines += [f"- {s.name} ({s.span_id}): {s.error}" for s in self.errors]
        lines.append(f"spans ({self.total_spans}):")
        for span in self.spans:
            pad = "  " * span.depth
            kind = f" [{span.type}]" if span.type else ""
            lines.append(f"{pad}- {span.name}{kind} {span.status} {span.duration_ms} ms")
            for label, value in (("in", span.inputs), ("out", span.outputs)):
                if value is not None:
                    lines.append(f"{pad}    {label}: {value}")
        text = "\n".join(lines)
        if len(text) > TEXT_MAX_CHARS:
            text = text[:TEXT_MAX_CHARS] + "\n…(cut: the structured result has every span shown)"
        elif self.truncated:
            text += f"\n(first {len(self.spans)} of {self.total_spans} spans shown)"
        return text


def search_traces(
    backend: Backend,
    experiment: str = "",
    run_id: str = "",
    status: Status | None = None,
    last_hours: float = 0,
    tags: Mapping[str, str] | None = None,
    limit: int = 20,
    page_token: str | None = None,
) -> TraceTable:
    """Traces of an experiment (name or id) or of a run, newest first, filtered by status,
    age and tags: a compact table (spans are not fetched)."""
    if not experiment and not run_id:
        raise InvalidInput(
            "name an experiment or a run_id", "List experiments: mlflow_list_experiments."
        )
    client = client_of(backend)
    if experiment:
        experiment_id = str(resolve_experiment(client, experiment).experiment_id)
    else:
        experiment_id = str(client.get_run(run_id).info.experiment_id)
    clauses = []
    if status:
        clauses.append(f"trace.status = '{status}'")
    if last_hours > 0:
        since = int((time.time() - last_hours * 3600) * 1000)
        clauses.append(f"trace.timestamp_ms > {since}")
    for key, value in (tags or {}).items():
        clauses.append(f"tag.`{_quote(key, '`')}` = '{_quote(value, chr(39))}'")
    with mlflow_errors({"INVALID_PARAMETER_VALUE": FILTER_HINT}):
        page = client.search_traces(
            locations=[experiment_id],
            filter_string=" AND ".join(clauses) or None,
            max_results=limit,
            order_by=["timestamp_ms DESC"],
            page_token=page_token,
            run_id=run_id or None,
            include_spans=False,
        )
    return TraceTable(
        experiment_ids=[experiment_id],
        traces=[_row(trace.info) for trace in page],
        truncated=bool(page.token),
        next_page_token=page.token or None,
    )


def get_trace(backend: Backend, trace_id: str) -> TraceDetail:
    """One trace: info, failing spans first, then the span tree with latency per span and
    inputs/outputs cut to a few hundred characters; at most :data:`MAX_SPANS` spans."""
    trace_id = trace_id.strip()
    if not trace_id:
        raise InvalidInput("trace_id is empty", TRACE_HINT)
    client = client_of(backend)
    with mlflow_errors({"RESOURCE_DOES_NOT_EXIST": TRACE_HINT, "NOT_FOUND": TRACE_HINT}):
        trace = client.get_trace(trace_id, display=False)
    return _detail(trace)


def _quote(text: str, quote: str) -> str:
    return text.replace(quote, quote * 2) if quote == "`" else text.replace("'", "\\'")


def _state(info: TraceInfo) -> str:
    state = getattr(info, "state", None)
    return str(getattr(state, "value", state) or "")


def _row(info: TraceInfo) -> TraceRow:
    return TraceRow(
        trace_id=info.trace_id,
        status=_state(info),
        start=when(info.request_time),
        duration_ms=info.execution_duration,
        request=clip(info.request_preview, PREVIEW_CHARS),
        top_span=info.tags.get("mlflow.traceName", ""),
    )


def _detail(trace: Trace) -> TraceDetail:
    info = trace.info
    spans = list(trace.data.spans)
    children: dict[str | None, list[Span]] = {}
    ids = {span.span_id for span in spans}
    for span in sorted(spans, key=lambda s: s.start_time_ns or 0):
        parent = span.parent_id if span.parent_id in ids else None
        children.setdefault(parent, []).append(span)
    ordered: list[SpanRow] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in children.get(parent, []):
            ordered.append(_span_row(span, depth))
            walk(span.span_id, depth + 1)

    walk(None, 0)
    user_tags = {k: v for k, v in info.tags.items() if not k.startswith("mlflow.")}
    return TraceDetail(
        trace_id=info.trace_id,
        status=_state(info),
        experiment_id=getattr(info, "experiment_id", None),
        run_id=info.trace_metadata.get("mlflow.sourceRun") or None,
        start=when(info.request_time),
        duration_ms=info.execution_duration,
        request=clip(info.request_preview, IO_CHARS),
        response=clip(info.response_preview, IO_CHARS),
        tags=dict(list(user_tags.items())[:20]),
        errors=[row for row in ordered if row.error is not None][:10],
        spans=ordered[:MAX_SPANS],
        total_spans=len(ordered),
        truncated=len(ordered) > MAX_SPANS,
    )


def _span_row(span: Span, depth: int) -> SpanRow:
    status = span.status
    code = str(getattr(status.status_code, "value", status.status_code)) if status else "UNSET"
    error = None
    if code == "ERROR":
        messages = [
            str(e.attributes.get("exception.message") or e.attributes.get("exception.type"))
            for e in span.events
            if e.name == "exception"
        ]
        error = clip(
            "; ".join(messages) or (status.description if status else "") or "error", IO_CHARS
        )
    duration = None
    if span.start_time_ns and span.end_time_ns:
        duration = round((span.end_time_ns - span.start_time_ns) / 1e6, 2)
    return SpanRow(
        span_id=span.span_id,
        parent_id=span.parent_id,
        depth=depth,
        name=span.name,
        type=span.span_type if span.span_type not in (None, "", "UNKNOWN") else None,
        status=code,
        duration_ms=duration,
        error=error,
        inputs=_capped(span.inputs),
        outputs=_capped(span.outputs),
    )


def _capped(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(_without_nulls(value), default=str)
    return clip(text, IO_CHARS)


def _without_nulls(value: Any) -> Any:
    """Requests (e.g. ResponsesAgent's) carry dozens of null options: keep what was set."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
