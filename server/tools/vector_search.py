"""vector_search tools: endpoints, indexes, rows, queries (names vs_*)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from server.registry import reader, writer
from server.runtime import backend_of
from tools_core import vector_search as core

# Terse on purpose: tools/list is context every agent pays on every turn.
Index = Annotated[str, Field(description="catalog.schema.index")]
Endpoint = Annotated[str, Field(description="Endpoint name")]
Limit = Annotated[int, Field(ge=1, le=200, description="Max items")]
Schema = Annotated[dict[str, str], Field(description="DIRECT_ACCESS column: type")]
Vector = Annotated[list[float], Field(description="Query embedding")]
Columns = Annotated[list[str], Field(description="Columns; default key+text")]
Filters = Annotated[dict[str, Any], Field(description='e.g. {"price <": 9}')]


@reader("vector_search")
def vs_list_endpoints(ctx: Context, limit: Limit = 50) -> core.EndpointList:
    """Vector Search endpoints with state and index count."""
    return core.list_endpoints(backend_of(ctx), limit)


@writer("vector_search", destructive=False, idempotent=True)
def vs_create_endpoint(ctx: Context, name: Endpoint) -> core.EndpointCreated:
    """Create a STANDARD endpoint; an existing one is reported."""
    return core.create_endpoint(backend_of(ctx), name)


@reader("vector_search")
def vs_list_indexes(ctx: Context, endpoint_name: Endpoint, limit: Limit = 50) -> core.IndexList:
    """Indexes on an endpoint; details with vs_get_index."""
    return core.list_indexes(backend_of(ctx), endpoint_name, limit)


@reader("vector_search")
def vs_get_index(ctx: Context, index_name: Index) -> core.IndexDetail:
    """Index status, rows, kind, source, key, embedding config."""
    return core.get_index(backend_of(ctx), index_name)


@writer("vector_search", destructive=False, idempotent=False)
def vs_create_index(
    ctx: Context,
    name: Index,
    endpoint_name: Endpoint,
    primary_key: Annotated[str, Field(description="Primary key column")],
    source_table: Annotated[str, Field(description="DELTA_SYNC source table")] = "",
    schema: Schema = None,  # type: ignore[assignment]
    embedding_source_column: Annotated[str, Field(description="Text column to embed")] = "",
    embedding_model_endpoint: Annotated[str, Field(description="Embedding endpoint")] = "",
    embedding_vector_column: Annotated[str, Field(description="Own vectors column")] = "",
    embedding_dimension: Annotated[int, Field(ge=0, description="Vector size")] = 0,
) -> core.IndexDetail:
    """DELTA_SYNC (source_table) or DIRECT_ACCESS (schema) index."""
    return core.create_index(
        backend_of(ctx),
        name,
        endpoint_name,
        primary_key,
        source_table=source_table,
        embedding_source_column=embedding_source_column,
        embedding_model_endpoint=embedding_model_endpoint,
        embedding_vector_column=embedding_vector_column,
        embedding_dimension=embedding_dimension,
        schema=schema or None,
    )


@writer("vector_search", destructive=False, idempotent=True)
def vs_sync_index(ctx: Context, index_name: Index) -> core.Changed:
    """Sync a DELTA_SYNC index from its table."""
    return core.sync_index(backend_of(ctx), index_name)


@writer("vector_search", destructive=False, idempotent=True)
def vs_upsert(
    ctx: Context,
    index_name: Index,
    rows: Annotated[list[dict[str, Any]], Field(max_length=1000, description="Row objects")],
) -> core.Changed:
    """Insert/replace rows of a DIRECT_ACCESS index by key."""
    return core.upsert(backend_of(ctx), index_name, rows)


@writer("vector_search", destructive=True, idempotent=True)
def vs_delete_rows(
    ctx: Context,
    index_name: Index,
    primary_keys: Annotated[list[str], Field(max_length=1000, description="Keys to delete")],
    confirm: Annotated[bool, Field(description="Really delete")] = False,
) -> core.Changed:
    """Delete rows by key; preview unless confirm."""
    return core.delete_rows(backend_of(ctx), index_name, primary_keys, confirm)


@reader("vector_search")
def vs_query(
    ctx: Context,
    index_name: Index,
    query_text: Annotated[str, Field(description="Question or keywords")] = "",
    query_vector: Vector = None,  # type: ignore[assignment]
    columns: Columns = None,  # type: ignore[assignment]
    filters: Filters = None,  # type: ignore[assignment]
    num_results: Annotated[int, Field(ge=1, le=50, description="Max hits")] = 10,
    query_type: Annotated[
        Literal["ANN", "HYBRID"], Field(description="HYBRID adds keywords")
    ] = "ANN",
) -> core.QueryResult:
    """Nearest rows, best first, with score."""
    return core.query(
        backend_of(ctx),
        index_name,
        query_text=query_text,
        query_vector=query_vector or None,
        columns=columns or None,
        filters=filters or None,
        num_results=num_results,
        query_type=query_type,
    )
