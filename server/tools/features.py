"""features tools: feature tables (tables with primary keys) and point-in-time lookups."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from server.registry import reader
from server.runtime import backend_of
from tools_core import features as core


@reader("features")
def features_list_tables(
    ctx: Context,
    catalog: Annotated[str, Field(description="Catalog")],
    schema: Annotated[str, Field(description="Schema")],
    limit: Annotated[int, Field(ge=1, le=500, description="Max tables scanned")] = 100,
) -> core.FeatureTableList:
    """Tables with a primary key: keys, timestamp key, features, naming warnings."""
    return core.list_tables(backend_of(ctx), catalog, schema, limit)


@reader("features")
def features_preview_lookup(
    ctx: Context,
    labels_table: Annotated[str, Field(description="Labels catalog.schema.table")],
    feature_tables: Annotated[list[str], Field(description="Feature tables")],
    lookup_keys: Annotated[list[str], Field(description="label_col[:feature_key]")] = [],  # noqa: B006
    timestamp_column: Annotated[str, Field(description="Labels time column")] = "",
    limit: Annotated[int, Field(ge=1, le=1000, description="Max rows")] = 20,
) -> core.FeatureLookup:
    """Point-in-time join (feature ts <= label ts): rows + reusable SQL."""
    return core.preview_lookup(
        backend_of(ctx), labels_table, feature_tables, lookup_keys, timestamp_column or None, limit
    )
