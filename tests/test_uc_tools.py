"""The uc_* tools through the MCP server, as an agent uses them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import fails, ok, text_of

pytestmark = pytest.mark.anyio


async def test_catalogs_and_tables_list_as_tables(mcp: Any) -> None:
    catalogs = text_of(await ok(mcp, "uc_list_catalogs"))
    assert "| catalog | owner | comment |" in catalogs
    assert "| samples |" in catalogs and "| main |" in catalogs
    schemas = text_of(await ok(mcp, "uc_list_schemas", catalog="samples"))
    assert "samples.tpch" in schemas and "samples.nyctaxi" in schemas
    tables = text_of(await ok(mcp, "uc_list_tables", catalog="samples", schema="tpch"))
    assert "| samples.tpch.lineitem | MANAGED |" in tables
    assert "uc_get_table" in tables


async def test_table_list_is_bounded_and_filtered(mcp: Any) -> None:
    few = await ok(mcp, "uc_list_tables", catalog="samples", schema="tpch", limit=2)
    assert few.structured_content is not None
    assert len(few.structured_content["tables"]) == 2
    assert few.structured_content["truncated"] is True
    assert "raise limit" in text_of(few)
    filtered = text_of(
        await ok(mcp, "uc_list_tables", catalog="samples", schema="tpch", name_filter="ORDER")
    )
    assert "samples.tpch.orders" in filtered and "lineitem" not in filtered
    globbed = text_of(
        await ok(mcp, "uc_list_tables", catalog="samples", schema="tpch", name_filter="*part*")
    )
    assert "samples.tpch.part " in globbed and "samples.tpch.partsupp" in globbed


async def test_get_table_shows_columns_types_and_comments(mcp: Any) -> None:
    text = text_of(await ok(mcp, "uc_get_table", full_name="samples.nyctaxi.trips"))
    assert text.startswith("samples.nyctaxi.trips (MANAGED DELTA), owner ")
    assert "| tpep_pickup_datetime | timestamp |" in text
    assert "| fare_amount | double | Time-and-distance fare" in text
    orders = text_of(await ok(mcp, "uc_get_table", full_name="samples.tpch.orders"))
    assert "| o_totalprice | decimal(18,2) |" in orders


async def test_an_unknown_table_fails_with_the_code_and_a_hint(mcp: Any) -> None:
    error = await fails(mcp, "uc_get_table", full_name="samples.tpch.nope")
    assert error.startswith("TABLE_DOES_NOT_EXIST")
    assert "uc_list_tables" in error
    shape = await fails(mcp, "uc_get_table", full_name="nope")
    assert shape.startswith("INVALID_PARAMETER_VALUE") and "catalog.schema.table" in shape


async def test_grants_round_trip_and_revoke_needs_confirm(mcp: Any, ws: Any) -> None:
    ws.schemas.create(name="t_uc_tool_grants", catalog_name="main")
    target = {"securable_type": "schema", "full_name": "main.t_uc_tool_grants"}
    granted = await ok(
        mcp, "uc_update_grants", **target, principal="data-eng", add=["use schema", "SELECT"]
    )
    assert "data-eng on schema main.t_uc_tool_grants now has: SELECT, USE_SCHEMA." in text_of(
        granted
    )
    again = await ok(mcp, "uc_update_grants", **target, principal="data-eng", add=["SELECT"])
    assert "SELECT, USE_SCHEMA" in text_of(again)
    shown = text_of(await ok(mcp, "uc_get_grants", **target))
    assert "| data-eng | SELECT, USE_SCHEMA |" in shown

    preview = text_of(
        await ok(mcp, "uc_update_grants", **target, principal="data-eng", remove=["SELECT"])
    )
    assert preview.startswith("Nothing changed. Would revoke SELECT from data-eng")
    assert "confirm=true" in preview
    assert "| data-eng | SELECT, USE_SCHEMA |" in text_of(await ok(mcp, "uc_get_grants", **target))

    await ok(
        mcp, "uc_update_grants", **target, principal="data-eng", remove=["SELECT"], confirm=True
    )
    assert "| data-eng | USE_SCHEMA |" in text_of(await ok(mcp, "uc_get_grants", **target))


async def test_effective_grants_name_where_privileges_come_from(mcp: Any, ws: Any) -> None:
    ws.catalogs.create(name="t_uc_tool_eff")
    await ok(
        mcp,
        "uc_update_grants",
        securable_type="catalog",
        full_name="t_uc_tool_eff",
        principal="readers",
        add=["USE_CATALOG", "SELECT"],
    )
    text = text_of(
        await ok(
            mcp,
            "uc_get_grants",
            securable_type="schema",
            full_name="t_uc_tool_eff.default",
            effective=True,
        )
    )
    assert text.startswith("effective privileges on schema t_uc_tool_eff.default:")
    assert "SELECT (from catalog t_uc_tool_eff)" in text
    direct = text_of(
        await ok(mcp, "uc_get_grants", securable_type="schema", full_name="t_uc_tool_eff.default")
    )
    assert "none" in direct and "effective=true" in direct


async def test_an_unknown_privilege_is_refused_before_anything_changes(mcp: Any) -> None:
    error = await fails(
        mcp,
        "uc_update_grants",
        securable_type="catalog",
        full_name="main",
        principal="x",
        add=["READ_EVERYTHING"],
    )
    assert error.startswith("INVALID_PARAMETER_VALUE") and "USE_CATALOG" in error


async def test_volumes_list_with_their_paths(mcp: Any, ws: Any) -> None:
    from databricks.sdk.service.catalog import VolumeType

    ws.schemas.create(name="t_uc_tool_vol", catalog_name="main")
    ws.volumes.create("main", "t_uc_tool_vol", "raw_files", VolumeType.MANAGED)
    text = text_of(await ok(mcp, "uc_list_volumes", catalog="main", schema="t_uc_tool_vol"))
    assert "| /Volumes/main/t_uc_tool_vol/raw_files | MANAGED |" in text
