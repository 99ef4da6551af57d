"""pipelines tools: SQL/Python pipelines (list, get, create, update, delete), updates, events."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from server.progress import wait_with_progress
from server.registry import reader, writer
from server.runtime import backend_of
from tools_core import pipelines as core

# Terse on purpose: tools/list is context every agent pays on every turn.
PipelineId = Annotated[str, Field(description="Pipeline id")]
Paths = Annotated[list[str], Field(description="Workspace SQL/Python files/notebooks/dirs")]
Config = Annotated[dict[str, str], Field(description="Configuration key/values")]
Selection = Annotated[list[str], Field(description="Only these datasets")]


@reader("pipelines")
def pipelines_list(
    ctx: Context,
    name: Annotated[str, Field(description="Name substring")] = "",
    limit: Annotated[int, Field(ge=1, le=500, description="Max pipelines")] = 50,
) -> core.PipelineList:
    """Pipelines with state and last update. Details: pipelines_get."""
    return core.list_pipelines(backend_of(ctx), name, limit)


@reader("pipelines")
def pipelines_get(ctx: Context, pipeline_id: PipelineId) -> core.PipelineDetail:
    """A pipeline's target, libraries, state, recent updates."""
    return core.get_pipeline(backend_of(ctx), pipeline_id)


@writer("pipelines", destructive=False, idempotent=False)
def pipelines_create(
    ctx: Context,
    name: Annotated[str, Field(description="Pipeline name")],
    catalog: Annotated[str, Field(description="Target catalog")],
    schema: Annotated[str, Field(description="Target schema")],
    libraries: Paths,
    configuration: Config = None,  # type: ignore[assignment]
    development: Annotated[bool, Field(description="Development mode")] = True,
) -> core.PipelineWritten:
    """Create a triggered pipeline; paths checked first. Then pipelines_start_update."""
    return core.create_pipeline(
        backend_of(ctx), name, catalog, schema, libraries, configuration, development
    )


@writer("pipelines", destructive=True, idempotent=True)
def pipelines_update(
    ctx: Context,
    pipeline_id: PipelineId,
    name: Annotated[str, Field(description="New name")] = "",
    catalog: Annotated[str, Field(description="New catalog")] = "",
    schema: Annotated[str, Field(description="New schema")] = "",
    libraries: Paths = None,  # type: ignore[assignment]
    configuration: Config = None,  # type: ignore[assignment]
    development: Annotated[bool | None, Field(description="Development mode")] = None,
) -> core.PipelineWritten:
    """Edit settings; given fields replace, others kept."""
    return core.update_pipeline(
        backend_of(ctx),
        pipeline_id,
        name,
        catalog,
        schema,
        libraries or (),
        configuration,
        development,
    )


@writer("pipelines", destructive=True, idempotent=True)
def pipelines_delete(
    ctx: Context,
    pipeline_id: PipelineId,
    confirm: Annotated[bool, Field(description="Really delete")] = False,
) -> core.PipelineWritten:
    """Delete a pipeline and its tables. Without confirm=true: preview only."""
    return core.delete_pipeline(backend_of(ctx), pipeline_id, confirm)


@writer("pipelines", destructive=False, idempotent=False)
def pipelines_start_update(
    ctx: Context,
    pipeline_id: PipelineId,
    full_refresh: Annotated[bool, Field(description="Recompute all from scratch")] = False,
    refresh_selection: Selection = None,  # type: ignore[assignment]
    validate_only: Annotated[bool, Field(description="Check only, write nothing")] = False,
) -> core.UpdateStarted:
    """Start an update; returns update_id at once. Then pipelines_get_update."""
    return core.start_update(
        backend_of(ctx), pipeline_id, full_refresh, refresh_selection or (), validate_only
    )


@reader("pipelines")
async def pipelines_get_update(
    pipeline_id: PipelineId,
    ctx: Context,
    update_id: Annotated[str, Field(description="Update id; default latest")] = "",
    timeout_s: Annotated[int, Field(ge=0, le=600, description="Wait up to s for the end")] = 0,
) -> core.UpdateSummary:
    """Update state, rows written per dataset, expectations, errors."""
    return await wait_with_progress(
        ctx,
        lambda progress, check: core.wait_update(
            backend_of(ctx), pipeline_id, update_id, timeout_s, progress, check
        ),
    )


@reader("pipelines")
def pipelines_list_events(
    ctx: Context,
    pipeline_id: PipelineId,
    update_id: Annotated[str, Field(description="Only this update")] = "",
    level: Annotated[
        Literal["", "INFO", "WARN", "ERROR", "METRICS"], Field(description="Only this level")
    ] = "",
    limit: Annotated[int, Field(ge=1, le=500, description="Max events")] = 30,
) -> core.EventList:
    """Expectations (passed/failed/dropped) first, then errors, then events."""
    return core.list_events(backend_of(ctx), pipeline_id, update_id, level, limit)


@writer("pipelines", destructive=True, idempotent=True)
def pipelines_stop(ctx: Context, pipeline_id: PipelineId) -> core.PipelineWritten:
    """Cancel the pipeline's active update."""
    return core.stop_pipeline(backend_of(ctx), pipeline_id)
