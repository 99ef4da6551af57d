"""uc tools: Unity Catalog catalogs, schemas, tables, volumes and grants."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from server.registry import reader, writer
from server.runtime import backend_of
from tools_core import lineage
from tools_core import uc as core

Catalog = Annotated[str, Field(description="Catalog")]
Schema = Annotated[str, Field(description="Schema")]
Limit = Annotated[int, Field(ge=1, le=1000, description="Max items")]
Securable = Annotated[
    Literal["catalog", "schema", "table", "volume", "function"], Field(description="Securable type")
]
FullName = Annotated[str, Field(description="Dotted full name")]


@reader("uc")
def uc_list_catalogs(ctx: Context, limit: Limit = 100) -> core.CatalogList:
    """Catalogs. Next: uc_list_schemas."""
    return core.list_catalogs(backend_of(ctx), limit=limit)


@reader("uc")
def uc_list_schemas(ctx: Context, catalog: Catalog, limit: Limit = 100) -> core.SchemaList:
    """Schemas of a catalog. Next: uc_list_tables."""
    return core.list_schemas(backend_of(ctx), catalog, limit=limit)


@reader("uc")
def uc_list_tables(
    ctx: Context,
    catalog: Catalog,
    schema: Schema,
    name_filter: Annotated[str, Field(description="Substring or glob")] = "",
    limit: Limit = 100,
) -> core.TableList:
    """Tables/views of a schema. Next: uc_get_table."""
    return core.list_tables(backend_of(ctx), catalog, schema, name_filter=name_filter, limit=limit)


@reader("uc")
def uc_get_table(ctx: Context, full_name: FullName) -> core.TableDetail:
    """Columns, types, comments, tags, owner."""
    return core.get_table(backend_of(ctx), full_name)


@reader("uc")
def uc_list_volumes(
    ctx: Context, catalog: Catalog, schema: Schema, limit: Limit = 100
) -> core.VolumeList:
    """Volumes of a schema."""
    return core.list_volumes(backend_of(ctx), catalog, schema, limit=limit)


@reader("uc")
def uc_get_grants(
    ctx: Context,
    securable_type: Securable,
    full_name: FullName,
    principal: Annotated[str, Field(description="Only this principal")] = "",
    effective: Annotated[bool, Field(description="Add inherited")] = False,
) -> core.GrantList:
    """Privileges granted on a securable."""
    return core.get_grants(
        backend_of(ctx), securable_type, full_name, principal=principal or None, effective=effective
    )


@writer("uc", destructive=True, idempotent=True)
def uc_update_grants(
    ctx: Context,
    securable_type: Securable,
    full_name: FullName,
    principal: Annotated[str, Field(description="User or group")],
    add: Annotated[list[str], Field(description="e.g. SELECT")] = [],  # noqa: B006
    remove: Annotated[list[str], Field(description="To revoke")] = [],  # noqa: B006
    confirm: Annotated[bool, Field(description="Really revoke")] = False,
) -> core.GrantUpdate:
    """Grant/revoke privileges; revoke needs confirm."""
    return core.update_grants(
        backend_of(ctx),
        securable_type,
        full_name,
        principal,
        add=add,
        remove=remove,
        confirm=confirm,
    )


@reader("uc")
def uc_get_lineage(
    ctx: Context,
    table: Annotated[str, Field(description="catalog.schema.table")],
    direction: Annotated[Literal["up", "down", "both"], Field(description="Which way")] = "both",
    depth: Annotated[int, Field(ge=1, le=3, description="Levels to walk")] = 2,
    column: Annotated[str, Field(description="Also this column")] = "",
) -> lineage.TableLineage:
    """Upstream/downstream tables and the jobs/notebooks/pipelines writing them."""
    return lineage.get_lineage(backend_of(ctx), table, direction, depth, column or None)
