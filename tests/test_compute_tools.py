"""compute tools answer honestly on the local workspace; sql_start/stop_warehouse through MCP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import fails, ok, text_of

pytestmark = pytest.mark.anyio


async def test_the_local_workspace_has_no_clusters_and_says_where_sql_runs(mcp: Any) -> None:
    listed = await ok(mcp, "compute_list_clusters")
    assert listed.structured_content["clusters"] == []
    assert "sql_list_warehouses" in text_of(listed)
    text = await fails(mcp, "compute_get_cluster", cluster_id="0101-000000-abcdefgh")
    assert "RESOURCE_DOES_NOT_EXIST" in text
    assert "has no clusters" in text and "local warehouse" in text


async def test_stopping_a_warehouse_previews_then_stops_and_start_brings_it_back(
    mcp: Any, ws: Any
) -> None:
    warehouse_id = ws.warehouses.create(name="t_compute_stop_start").result().id
    try:
        preview = await ok(mcp, "sql_stop_warehouse", warehouse_id=warehouse_id)
        assert preview.structured_content["done"] is False
        assert "confirm=true" in text_of(preview)
        assert ws.warehouses.get(warehouse_id).state.value == "RUNNING"

        stopped = await ok(
            mcp, "sql_stop_warehouse", warehouse_id=warehouse_id, confirm=True, timeout_s=30
        )
        assert stopped.structured_content["state"] == "STOPPED"
        again = await ok(mcp, "sql_stop_warehouse", warehouse_id=warehouse_id, confirm=True)
        assert "already stopped" in text_of(again)

        refused = await fails(mcp, "sql_query", statement="SELECT 1", warehouse_id=warehouse_id)
        assert "INVALID_STATE" in refused

        started = await ok(mcp, "sql_start_warehouse", warehouse_id=warehouse_id, timeout_s=30)
        assert started.structured_content["state"] == "RUNNING"
        rerun = await ok(mcp, "sql_start_warehouse", warehouse_id=warehouse_id)
        assert "already running" in text_of(rerun)
        answered = await ok(mcp, "sql_query", statement="SELECT 1 AS x", warehouse_id=warehouse_id)
        assert answered.structured_content["rows"] == [["1"]]
    finally:
        ws.warehouses.delete(warehouse_id)
