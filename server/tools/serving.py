"""serving tools: model serving endpoints from registered versions, and queries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from server.registry import reader, writer
from server.runtime import backend_of
from tools_core import serving as core

Endpoint = Annotated[str, Field(description="Endpoint name")]
Model = Annotated[str, Field(description="catalog.schema.model@alias or /version")]
Size = Annotated[Literal["Small", "Medium", "Large"], Field(description="Workload size")]
Wait = Annotated[int, Field(ge=0, le=600, description="Max seconds to wait")]


@reader("serving")
def serving_list_endpoints(
    ctx: Context,
    limit: Annotated[int, Field(ge=1, le=200, description="Max rows")] = 50,
) -> core.EndpointList:
    """Endpoints: state, served model versions."""
    return core.list_endpoints(backend_of(ctx), limit)


@reader("serving")
def serving_get_endpoint(ctx: Context, name: Endpoint) -> core.EndpointDetail:
    """An endpoint's state, served versions, errors."""
    return core.get_endpoint(backend_of(ctx), name)


@writer("serving", destructive=False, idempotent=False)
def serving_create_endpoint(
    ctx: Context,
    name: Endpoint,
    model: Model,
    workload_size: Size = "Small",
    timeout_s: Wait = 60,
    inference_table: Annotated[
        str | None, Field(description="catalog.schema to log requests to")
    ] = None,
) -> core.EndpointDetail:
    """Serve a registered model version (alias resolved). Then serving_query."""
    return core.create_endpoint(
        backend_of(ctx), name, model, workload_size, timeout_s, inference_table
    )


@writer("serving", destructive=True, idempotent=True)
def serving_update_endpoint(
    ctx: Context,
    name: Endpoint,
    model: Model,
    workload_size: Size = "Small",
    timeout_s: Wait = 60,
    confirm: Annotated[bool, Field(description="Apply the change")] = False,
) -> core.EndpointDetail:
    """Replace the served version (alias resolved now); preview unless confirm."""
    return core.update_endpoint(backend_of(ctx), name, model, workload_size, timeout_s, confirm)


@reader("serving")
def serving_query(
    ctx: Context,
    name: Endpoint,
    records: Annotated[list[dict[str, Any]] | None, Field(description="Rows as objects")] = None,
    inputs: Annotated[Any, Field(description="Raw model inputs")] = None,
    messages: Annotated[
        list[dict[str, str]] | None, Field(description="Chat [{role, content}]")
    ] = None,
    max_tokens: Annotated[int | None, Field(ge=1, description="Chat reply cap")] = None,
) -> core.QueryResult:
    """Score records/inputs or chat; capped JSON output."""
    return core.query(backend_of(ctx), name, records, inputs, messages, max_tokens)
