"""Lakeflow Declarative Pipelines: list, get, create, edit, delete, start/stop updates, events.

The SDK's ``PipelineEvent`` has no ``details`` field, so events are read with the SDK's API
client (same path, same auth) to keep ``flow_progress`` metrics and data-quality counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from tools_core import ids
from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.pipelines.models import (
    EVENT_MESSAGE_CHARS,
    EventList,
    EventRow,
    Expectation,
    FlowRow,
    PipelineDetail,
    PipelineList,
    PipelineRow,
    PipelineWritten,
    UpdateStarted,
    UpdateSummary,
)
from tools_core.polling import poll_until_done
from tools_core.retries import single_attempt

PIPELINE_HINT = "List pipelines with pipelines_list to find the pipeline_id."
FINAL_STATES = ("COMPLETED", "FAILED", "CANCELED")
MAX_PIPELINES = 500
MAX_EVENTS = 500
MAX_WAIT_S = 600
EVENTS_FETCH = 1000


@contextmanager
def missing_pipeline() -> Iterator[None]:
    """An unknown pipeline or update id: the workspace's code plus where to find the id."""
    from databricks.sdk.errors import DatabricksError

    try:
        yield
    except DatabricksError as exc:
        message = str(exc).split(" Config: ")[0]
        if "does not exist" not in message and exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        code = exc.error_code or "RESOURCE_DOES_NOT_EXIST"
        raise ToolsCoreError(code, message, PIPELINE_HINT) from exc


def _value(enum_value: Any) -> str | None:
    return None if enum_value is None else str(getattr(enum_value, "value", enum_value))


def list_pipelines(backend: Backend, name: str = "", limit: int = 50) -> PipelineList:
    """Pipelines; ``name`` matches a substring of the name."""
    if not 1 <= limit <= MAX_PIPELINES:
        raise InvalidInput(f"limit must be between 1 and {MAX_PIPELINES}, got {limit}.")
    filter_ = f"name LIKE '%{name.replace(chr(39), '')}%'" if name else None
    found = list(
        itertools.islice(
            backend.client.pipelines.list_pipelines(filter=filter_, max_results=100), limit + 1
        )
    )
    rows = [
        PipelineRow(
            pipeline_id=p.pipeline_id or "",
            name=p.name,
            state=_value(p.state),
            last_update=_value(p.latest_updates[0].state) if p.latest_updates else None,
        )
        for p in found[:limit]
    ]
    return PipelineList(pipelines=rows, truncated=len(found) > limit)


def _library_text(library: Any) -> str:
    for kind in ("notebook", "file"):
        body = getattr(library, kind, None)
        if body is not None:
            return f"{kind}:{body.path}"
    if library.glob is not None:
        return f"glob:{library.glob.include}"
    return "other"


def get_pipeline(backend: Backend, pipeline_id: str) -> PipelineDetail:
    """A pipeline's settings, state and latest updates."""
    ids.opaque_id(pipeline_id, "pipeline_id")
    with missing_pipeline():
        got = backend.client.pipelines.get(pipeline_id)
    spec = got.spec
    return PipelineDetail(
        pipeline_id=got.pipeline_id or pipeline_id,
        name=got.name,
        state=_value(got.state),
        health=_value(got.health),
        catalog=spec.catalog if spec else None,
        target_schema=(spec.schema or spec.target) if spec else None,
        libraries=[_library_text(lib) for lib in (spec.libraries or [])] if spec else [],
        development=spec.development if spec else None,
        configuration=dict(spec.configuration or {}) if spec else {},
        updates=[
            {"update_id": u.update_id, "state": _value(u.state), "creation_time": u.creation_time}
            for u in (got.latest_updates or [])
        ],
    )


def libraries_of(backend: Backend, paths: Sequence[str]) -> list[Any]:
    """SDK PipelineLibrary objects for workspace paths (checked to exist); '*' = glob."""
    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.pipelines import (
        FileLibrary,
        NotebookLibrary,
        PathPattern,
        PipelineLibrary,
    )
    from databricks.sdk.service.workspace import ObjectType

    if not paths:
        raise InvalidInput("Give at least one library path (a SQL or Python file or notebook).")
    out = []
    for path in paths:
        if "*" in path:
            out.append(PipelineLibrary(glob=PathPattern(include=path)))
            continue
        try:
            status = backend.client.workspace.get_status(path)
        except NotFound as exc:
            raise InvalidInput(
                f"Library path {path} does not exist in the workspace.",
                "Upload it first (workspace_write) or check it with workspace_list.",
            ) from exc
        if status.object_type == ObjectType.NOTEBOOK:
            out.append(PipelineLibrary(notebook=NotebookLibrary(path=path)))
        elif status.object_type == ObjectType.DIRECTORY:
            out.append(PipelineLibrary(glob=PathPattern(include=path.rstrip("/") + "/**")))
        else:
            out.append(PipelineLibrary(file=FileLibrary(path=path)))
    return out


def create_pipeline(
    backend: Backend,
    name: str,
    catalog: str,
    schema: str,
    libraries: Sequence[str],
    configuration: dict[str, str] | None = None,
    development: bool = True,
) -> PipelineWritten:
    """Create a triggered pipeline publishing to ``catalog.schema``; paths checked first."""
    if not name.strip():
        raise InvalidInput("Give the pipeline a name.")
    libs = libraries_of(backend, libraries)
    # A repeat after a lost answer makes a second pipeline (or a name conflict hiding the
    # first): one attempt.
    with single_attempt(f"Creating pipeline {name!r}", f"pipelines_list name={name!r}"):
        created = backend.client.pipelines.create(
            name=name,
            catalog=catalog,
            schema=schema,
            libraries=libs,
            configuration=configuration or None,
            development=development,
            continuous=False,
        )
    pipeline_id = created.pipeline_id or ""
    return PipelineWritten(
        pipeline_id=pipeline_id,
        action="created",
        name=name,
        detail=f"publishes to {catalog}.{schema}; next: pipelines_start_update "
        f"pipeline_id={pipeline_id}",
    )


def update_pipeline(
    backend: Backend,
    pipeline_id: str,
    name: str = "",
    catalog: str = "",
    schema: str = "",
    libraries: Sequence[str] = (),
    configuration: dict[str, str] | None = None,
    development: bool | None = None,
) -> PipelineWritten:
    """Edit a pipeline: the given fields replace the current ones, the rest are kept."""
    ids.opaque_id(pipeline_id, "pipeline_id")
    with missing_pipeline():
        got = backend.client.pipelines.get(pipeline_id)
    spec = got.spec
    if spec is None:
        raise ToolsCoreError("INTERNAL_ERROR", f"Pipeline {pipeline_id} has no settings.")
    changed = [
        field
        for field, value in (
            ("name", name),
            ("catalog", catalog),
            ("schema", schema),
            ("libraries", libraries),
            ("configuration", configuration),
            ("development", development),
        )
        if value not in ("", (), None, [])
    ]
    if not changed:
        raise InvalidInput("Nothing to change: give name, catalog, schema, libraries, ...")
    backend.client.pipelines.update(
        pipeline_id,
        name=name or spec.name,
        catalog=catalog or spec.catalog,
        schema=schema or spec.schema,
        target=None if schema else spec.target,
        libraries=libraries_of(backend, libraries) if libraries else spec.libraries,
        configuration=configuration if configuration is not None else spec.configuration,
        development=development if development is not None else spec.development,
        continuous=False,
        allow_duplicate_names=True,
    )
    return PipelineWritten(
        pipeline_id=pipeline_id,
        action="updated",
        name=name or spec.name,
        detail="changed: " + ", ".join(changed),
    )


def delete_pipeline(backend: Backend, pipeline_id: str, confirm: bool = False) -> PipelineWritten:
    """Delete a pipeline and the tables it publishes; without confirm only say so."""
    detail = get_pipeline(backend, pipeline_id)
    what = (
        f"deletes the pipeline and the materialized views / streaming tables it publishes in "
        f"{detail.catalog}.{detail.target_schema}"
    )
    if not confirm:
        return PipelineWritten(
            pipeline_id=pipeline_id, action="delete", name=detail.name, done=False, detail=what
        )
    # It existed a moment ago: "not found" now (the only error missing_pipeline turns into a
    # ToolsCoreError) means it is gone, as asked: the SDK retried a delete that was applied,
    # or someone deleted it meanwhile.
    with suppress(ToolsCoreError), missing_pipeline():
        backend.client.pipelines.delete(pipeline_id)
    return PipelineWritten(pipeline_id=pipeline_id, action="deleted", name=detail.name, detail=what)


def start_update(
    backend: Backend,
    pipeline_id: str,
    full_refresh: bool = False,
    refresh_selection: Sequence[str] = (),
    validate_only: bool = False,
) -> UpdateStarted:
    """Start an update; returns its id at once."""
    ids.opaque_id(pipeline_id, "pipeline_id")
    # No idempotency token: a repeat after a lost answer starts a second update (or is
    # refused because the first one runs): one attempt.
    check = f"pipelines_get_update pipeline_id={pipeline_id}"
    with missing_pipeline(), single_attempt(f"Starting an update of {pipeline_id}", check):
        started = backend.client.pipelines.start_update(
            pipeline_id,
            full_refresh=full_refresh or None,
            refresh_selection=list(refresh_selection) or None,
            validate_only=validate_only or None,
        )
    return UpdateStarted(pipeline_id=pipeline_id, update_id=started.update_id or "")


def stop_pipeline(backend: Backend, pipeline_id: str) -> PipelineWritten:
    """Stop the active update (if any)."""
    ids.opaque_id(pipeline_id, "pipeline_id")
    with missing_pipeline():
        got = backend.client.pipelines.get(pipeline_id)
        backend.client.api_client.do("POST", f"/api/2.0/pipelines/{pipeline_id}/stop")
    return PipelineWritten(
        pipeline_id=pipeline_id,
        action="stopped",
        name=got.name,
        detail="the active update (if any) was canceled; see pipelines_get_update",
    )


def raw_events(
    backend: Backend, pipeline_id: str, filter_: str | None = None
) -> list[dict[str, Any]]:
    """Newest-first event dicts with ``details`` (up to EVENTS_FETCH)."""
    ids.opaque_id(pipeline_id, "pipeline_id")
    query: dict[str, Any] = {"max_results": EVENTS_FETCH}
    if filter_:
        query["filter"] = filter_
    with missing_pipeline():
        body = backend.client.api_client.do(
            "GET", f"/api/2.0/pipelines/{pipeline_id}/events", query=query
        )
    events = body.get("events", []) if isinstance(body, dict) else []
    return [e for e in events if isinstance(e, dict)]


def _quality(events: list[dict[str, Any]]) -> tuple[list[Expectation], dict[str, int]]:
    """Expectations and dropped records from completed flow_progress events (newest wins)."""
    expectations: dict[tuple[str, str], Expectation] = {}
    dropped: dict[str, int] = {}
    for event in events:
        progress = (event.get("details") or {}).get("flow_progress") or {}
        quality = progress.get("data_quality")
        if not quality:
            continue
        dataset = str((event.get("origin") or {}).get("dataset_name") or "")
        dropped.setdefault(dataset, int(quality.get("dropped_records") or 0))
        for item in quality.get("expectations") or []:
            key = (str(item.get("dataset") or dataset), str(item.get("name")))
            expectations.setdefault(
                key,
                Expectation(
                    dataset=key[0],
                    name=key[1],
                    passed=int(item.get("passed_records") or 0),
                    failed=int(item.get("failed_records") or 0),
                ),
            )
    return list(reversed(list(expectations.values()))), dropped


def _row(event: dict[str, Any]) -> EventRow:
    message = str(event.get("message") or "")
    if len(message) > EVENT_MESSAGE_CHARS:
        message = message[: EVENT_MESSAGE_CHARS - 1] + "…"
    return EventRow(
        timestamp=event.get("timestamp"),
        level=event.get("level"),
        event_type=event.get("event_type"),
        message=message,
    )


def get_update(backend: Backend, pipeline_id: str, update_id: str = "") -> UpdateSummary:
    """An update's state, rows written per dataset, expectations and errors (latest if no id)."""
    ids.opaque_id(pipeline_id, "pipeline_id")
    if update_id:
        ids.opaque_id(update_id, "update_id")
    with missing_pipeline():
        if not update_id:
            latest = backend.client.pipelines.get(pipeline_id).latest_updates or []
            if not latest:
                raise ToolsCoreError(
                    "RESOURCE_DOES_NOT_EXIST",
                    f"Pipeline {pipeline_id} has no update yet.",
                    "Start one with pipelines_start_update.",
                )
            update_id = latest[0].update_id or ""
        update = backend.client.pipelines.get_update(pipeline_id, update_id).update
    state = _value(update.state if update else None) or "UNKNOWN"
    events = [
        e
        for e in raw_events(backend, pipeline_id)
        if (e.get("origin") or {}).get("update_id") == update_id
    ]
    flows: dict[str, FlowRow] = {}
    for event in reversed(events):  # oldest first: the last status wins
        progress = (event.get("details") or {}).get("flow_progress")
        if not progress:
            continue
        dataset = str((event.get("origin") or {}).get("dataset_name") or "")
        metrics = progress.get("metrics") or {}
        quality = progress.get("data_quality") or {}
        flows[dataset] = FlowRow(
            dataset=dataset,
            status=str(progress.get("status")),
            rows_written=metrics.get("num_output_rows"),
            dropped=quality.get("dropped_records"),
        )
    expectations, _ = _quality(events)
    errors = [_row(e).message for e in events if e.get("level") == "ERROR"]
    done = state in FINAL_STATES
    hint = (
        ""
        if done
        else (f"still {state}: pipelines_get_update update_id={update_id} timeout_s=60 waits")
    )
    if state == "FAILED" and not hint:
        hint = "fix the source and start a new update (pipelines_start_update)"
    return UpdateSummary(
        pipeline_id=pipeline_id,
        update_id=update_id,
        state=state,
        done=done,
        full_refresh=bool(update.full_refresh) if update else False,
        flows=list(flows.values()),
        expectations=expectations,
        errors=errors[:5],
        hint=hint,
    )


def wait_update(
    backend: Backend,
    pipeline_id: str,
    update_id: str = "",
    timeout_s: float = 60,
    on_progress: Callable[[float, float, str], None] | None = None,
    check: Callable[[], None] | None = None,
) -> UpdateSummary:
    """Poll an update until it ends or ``timeout_s`` passes (then the result says so).

    ``on_progress(done_flows, known_flows, state)`` when the picture changes; ``check()``
    before every poll (it raises to stop waiting).
    """
    if not 0 <= timeout_s <= MAX_WAIT_S:
        raise InvalidInput(f"timeout_s must be between 0 and {MAX_WAIT_S}, got {timeout_s}.")

    def fetch() -> UpdateSummary:
        nonlocal update_id
        summary = get_update(backend, pipeline_id, update_id)
        update_id = summary.update_id  # the latest update, pinned at the first poll
        return summary

    def progress(summary: UpdateSummary) -> tuple[float, float, str]:
        done = sum(1 for f in summary.flows if f.status in ("COMPLETED", "FAILED"))
        return float(done), float(max(len(summary.flows), 1)), summary.state

    summary, _ = poll_until_done(fetch, lambda s: s.done, progress, timeout_s, on_progress, check)
    return summary


def list_events(
    backend: Backend,
    pipeline_id: str,
    update_id: str = "",
    level: str = "",
    limit: int = 30,
) -> EventList:
    """Expectations summary, then errors, then other events, newest first (capped)."""
    if not 1 <= limit <= MAX_EVENTS:
        raise InvalidInput(f"limit must be between 1 and {MAX_EVENTS}, got {limit}.")
    filter_ = f"level='{level}'" if level else None
    events = raw_events(backend, pipeline_id, filter_)
    if update_id:
        events = [e for e in events if (e.get("origin") or {}).get("update_id") == update_id]
    expectations, dropped = _quality(events)
    errors = [_row(e) for e in events if e.get("level") == "ERROR"][:10]
    others = [_row(e) for e in events if e.get("level") != "ERROR"]
    return EventList(
        pipeline_id=pipeline_id,
        expectations=expectations,
        dropped={k: v for k, v in dropped.items() if any(e.dataset == k for e in expectations)}
        or dropped,
        errors=errors,
        events=others[:limit],
        truncated=len(others) > limit,
    )
