"""pipelines_* tools through the MCP server: a medallion SQL pipeline end to end, and errors."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import call, fails, ok, text_of
from tests.test_pipelines_local_api import MEDALLION, sql, upload

pytestmark = pytest.mark.anyio


async def finished(mcp: Any, pipeline_id: str, update_id: str) -> dict[str, Any]:
    """The structured pipelines_get_update result once the update is over."""
    result = await ok(
        mcp, "pipelines_get_update", pipeline_id=pipeline_id, update_id=update_id, timeout_s=60
    )
    content = result.structured_content
    assert content is not None and content["done"], text_of(result)
    return content


async def start(mcp: Any, pipeline_id: str, **options: Any) -> dict[str, Any]:
    result = await ok(mcp, "pipelines_start_update", pipeline_id=pipeline_id, **options)
    assert result.structured_content is not None
    return await finished(mcp, pipeline_id, result.structured_content["update_id"])


def setup(ws: Any, tag: str, source: str, name: str) -> tuple[str, str]:
    """(schema, library path) with the raw table and the source uploaded."""
    schema = f"t_pipe_{tag}_{uuid.uuid4().hex[:6]}"
    sql(ws, f"CREATE SCHEMA main.{schema}")
    folder = f"/Users/{ws.current_user.me().user_name}/pipelines_tools/{schema}"
    upload(ws, f"{folder}/{name}", source)
    return schema, f"{folder}/{name}"


async def test_a_medallion_pipeline_through_the_tools(mcp: Any, ws: Any) -> None:
    schema, _ = setup(ws, "tools", "", "placeholder.sql")
    raw = f"main.{schema}.raw_orders"
    sql(ws, f"CREATE TABLE {raw} (id INT, customer STRING, amount DOUBLE)")
    sql(ws, f"INSERT INTO {raw} VALUES (1,'a',10),(2,'a',-1),(3,'b',5),(4,'b',2)")
    folder = f"/Users/{ws.current_user.me().user_name}/pipelines_tools/{schema}"
    upload(ws, f"{folder}/medallion.sql", MEDALLION.format(raw=raw))
    created = await ok(
        mcp,
        "pipelines_create",
        name=f"medallion-{schema}",
        catalog="main",
        schema=schema,
        # The /Workspace form the DLT skill recommends: the same file, at create and update.
        libraries=[f"/Workspace{folder}/medallion.sql"],
    )
    pipeline_id = created.structured_content["pipeline_id"]
    listed = await ok(mcp, "pipelines_list", name=schema)
    assert pipeline_id in text_of(listed)

    first = await start(mcp, pipeline_id)
    assert first["state"] == "COMPLETED"
    flows = {f["dataset"]: f for f in first["flows"]}
    assert flows["silver"]["rows_written"] == 3 and flows["silver"]["dropped"] == 1

    events = await ok(mcp, "pipelines_list_events", pipeline_id=pipeline_id)
    text = text_of(events)
    assert text.startswith("expectations:")
    checks = {e["name"]: e for e in events.structured_content["expectations"]}
    assert checks["positive_amount"]["passed"] == 3
    assert checks["positive_amount"]["failed"] == 1
    assert events.structured_content["dropped"]["silver"] == 1
    # The warn-only expectation's row does not carry silver's dropped rows.
    assert "| silver | known_customer | 4 | 0 |" in text
    assert "rows dropped per dataset: silver=1" in text

    gold = await ok(
        mcp, "sql_query", statement=f"SELECT customer, total FROM main.{schema}.gold ORDER BY 1"
    )
    assert gold.structured_content["rows"] == [["a", "10.0"], ["b", "7.0"]]

    sql(ws, f"INSERT INTO {raw} VALUES (5,'c',4)")
    second = await start(mcp, pipeline_id)
    flows = {f["dataset"]: f for f in second["flows"]}
    assert flows["bronze"]["rows_written"] == 1
    count = await ok(mcp, "sql_query", statement=f"SELECT count(*) AS n FROM main.{schema}.bronze")
    assert count.structured_content["rows"] == [["5"]]

    got = await ok(mcp, "pipelines_get", pipeline_id=pipeline_id)
    assert "IDLE" in text_of(got)

    # Lineage: gold's upstream is silver, then bronze, produced by this pipeline; a CTAS from
    # gold then shows downstream.
    lineage = await ok(mcp, "uc_get_lineage", table=f"main.{schema}.gold", direction="up")
    upstream = text_of(lineage)
    for table in ("silver", "bronze"):
        assert f"main.{schema}.{table}" in upstream
    assert f"medallion-{schema}" in upstream
    await ok(
        mcp,
        "sql_execute",
        statement=f"CREATE TABLE main.{schema}.gold_copy AS SELECT * FROM main.{schema}.gold",
    )
    lineage = await ok(mcp, "uc_get_lineage", table=f"main.{schema}.gold", direction="down")
    assert f"main.{schema}.gold_copy" in text_of(lineage)
    preview = await ok(mcp, "pipelines_delete", pipeline_id=pipeline_id)
    assert "nothing changed" in text_of(preview)
    await ok(mcp, "pipelines_delete", pipeline_id=pipeline_id, confirm=True)
    assert pipeline_id not in text_of(await ok(mcp, "pipelines_list", name=schema))


async def test_a_fail_update_expectation_keeps_the_target_as_it_was(mcp: Any, ws: Any) -> None:
    schema, _ = setup(ws, "tfail", "", "placeholder.sql")
    raw = f"main.{schema}.raw"
    sql(ws, f"CREATE TABLE {raw} (id INT, amount DOUBLE)")
    sql(ws, f"INSERT INTO {raw} VALUES (1, 10)")
    source = (
        "CREATE OR REFRESH MATERIALIZED VIEW checked (\n"
        "  CONSTRAINT positive EXPECT (amount > 0) ON VIOLATION FAIL UPDATE\n"
        f") AS SELECT * FROM {raw};\n"
    )
    folder = f"/Users/{ws.current_user.me().user_name}/pipelines_tools/{schema}"
    upload(ws, f"{folder}/checked.sql", source)
    created = await ok(
        mcp,
        "pipelines_create",
        name=f"fail-{schema}",
        catalog="main",
        schema=schema,
        libraries=[f"{folder}/checked.sql"],
    )
    pipeline_id = created.structured_content["pipeline_id"]
    assert (await start(mcp, pipeline_id))["state"] == "COMPLETED"
    sql(ws, f"INSERT INTO {raw} VALUES (2, -1)")
    failed = await start(mcp, pipeline_id)
    assert failed["state"] == "FAILED"
    assert any("positive" in e for e in failed["errors"])
    rows = await ok(mcp, "sql_query", statement=f"SELECT id FROM main.{schema}.checked")
    assert rows.structured_content["rows"] == [["1"]]
    events = await ok(mcp, "pipelines_list_events", pipeline_id=pipeline_id, level="ERROR")
    assert "errors:" in text_of(events)


@pytest.mark.parametrize(
    ("name", "source", "needle"),
    [
        ("job.py", "import dlt\n\n@dlt.table\ndef t():\n    return 1\n", "not a DataFrame"),
        ("bad.sql", "CREATE OR REFRESH MATERIALIZED VIEW x AS\nSELECT FROM WHERE (;", "line"),
    ],
    ids=["python", "parse"],
)
async def test_an_update_that_cannot_run_fails_with_a_clear_error(
    mcp: Any, ws: Any, name: str, source: str, needle: str
) -> None:
    schema, path = setup(ws, "tbad", source, name)
    created = await ok(
        mcp,
        "pipelines_create",
        name=f"bad-{schema}",
        catalog="main",
        schema=schema,
        libraries=[path],
    )
    update = await start(mcp, created.structured_content["pipeline_id"])
    assert update["state"] == "FAILED"
    assert any(needle in e for e in update["errors"]), update["errors"]
    assert name in " ".join(update["errors"])


async def test_unknown_pipelines_and_missing_paths_are_tool_errors_with_a_next_step(
    mcp: Any,
) -> None:
    text = await fails(mcp, "pipelines_get", pipeline_id="00000000-0000-0000-0000-000000000000")
    assert text.startswith("RESOURCE_DOES_NOT_EXIST")
    assert "pipelines_list" in text
    text = await fails(
        mcp, "pipelines_start_update", pipeline_id="00000000-0000-0000-0000-000000000000"
    )
    assert "RESOURCE_DOES_NOT_EXIST" in text
    text = await fails(
        mcp,
        "pipelines_create",
        name="nope",
        catalog="main",
        schema="default",
        libraries=["/Users/nobody/missing.sql"],
    )
    assert text.startswith("INVALID_PARAMETER_VALUE") and "workspace_write" in text
    result = await call(mcp, "pipelines_stop", pipeline_id="not-a-pipeline")
    assert result.is_error and "RESOURCE_DOES_NOT_EXIST" in text_of(result)
