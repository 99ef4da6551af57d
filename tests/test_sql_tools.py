"""sql_* tools through the MCP server: read-only guard, capped typed results, paging, errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import call, fails, ok, text_of

pytestmark = pytest.mark.anyio

REFUSED = [
    "DROP TABLE main.default.anything",
    "INSERT INTO main.default.t VALUES (1)",
    "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
    "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
    "SELECT 1; SELECT 2",
    "UPDATE t SET a = 1",
    "CREATE TABLE t (a INT)",
    "GRANT SELECT ON TABLE t TO `someone`",
]


@pytest.mark.parametrize("statement", REFUSED)
async def test_sql_query_refuses_anything_but_one_read(mcp, statement: str) -> None:
    text = await fails(mcp, "sql_query", statement=statement)
    assert text.startswith("INVALID_PARAMETER_VALUE")
    if ";" not in statement:
        assert "sql_execute" in text


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT 1 AS one",
        "WITH x AS (SELECT 2 AS two) SELECT * FROM x",
        "SHOW TABLES IN samples.nyctaxi",
        "DESCRIBE TABLE samples.nyctaxi.trips",
        "EXPLAIN SELECT * FROM samples.nyctaxi.trips",
    ],
)
async def test_sql_query_runs_reads(mcp, statement: str) -> None:
    await ok(mcp, "sql_query", statement=statement)


async def test_sql_query_shows_column_types_in_the_header(mcp) -> None:
    result = await ok(
        mcp, "sql_query", statement="SELECT trip_distance FROM samples.nyctaxi.trips LIMIT 3"
    )
    text = text_of(result)
    assert "| trip_distance (double) |" in text
    assert result.structured_content["state"] == "SUCCEEDED"
    assert len(result.structured_content["rows"]) == 3


async def test_a_result_over_the_row_cap_is_truncated_with_total_and_a_way_on(mcp) -> None:
    result = await ok(mcp, "sql_query", statement="SELECT * FROM range(120) r(id)", limit=50)
    data = result.structured_content
    assert data["truncated"] is True
    assert data["total_row_count"] == 120
    assert len(data["rows"]) == 50
    text = text_of(result)
    assert "of 120" in text and "offset=50" in text and "save_to" in text
    statement_id = data["statement_id"]
    following = await ok(mcp, "sql_get_result", statement_id=statement_id, offset=50, limit=100)
    rows = following.structured_content["rows"]
    assert rows[0] == ["50"] and rows[-1] == ["119"] and len(rows) == 70


async def test_save_to_writes_the_full_result_to_csv(mcp) -> None:
    result = await ok(
        mcp,
        "sql_query",
        statement="SELECT * FROM range(25000) r(id)",
        save_to="out/trips.csv",
    )
    assert result.structured_content["saved_rows"] == 25000
    # The default results folder: <data dir>/results (HOME is a temporary folder here).
    target = Path.home() / ".dbx-devkit" / "local-workspace" / "results" / "out" / "trips.csv"
    assert result.structured_content["saved_to"] == str(target.resolve())
    assert str(target.resolve()) in text_of(result)
    with target.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id"] and len(rows) == 25001 and rows[-1] == ["24999"]


async def test_save_to_json_and_parquet(mcp) -> None:
    statement = "SELECT id, id * 1.5 AS half FROM range(5) r(id)"
    saved = await ok(mcp, "sql_query", statement=statement, save_to="r.json")
    json_path = Path(saved.structured_content["saved_to"])
    assert json.loads(json_path.read_text())[1] == {"id": "1", "half": "1.5"}
    saved = await ok(mcp, "sql_query", statement=statement, save_to="r.parquet")
    import pyarrow.parquet as pq

    table = pq.read_table(saved.structured_content["saved_to"])
    assert table.num_rows == 5 and str(table.schema.field("id").type) == "int64"


async def test_params_are_bound_as_named_markers(mcp) -> None:
    result = await ok(
        mcp,
        "sql_query",
        statement="SELECT count(*) AS n FROM range(10) r(id) WHERE id >= :low AND :tag = 'a'",
        params={"low": 4, "tag": "a"},
    )
    assert result.structured_content["rows"] == [["6"]]


async def test_an_unknown_table_error_starts_with_the_databricks_code(mcp) -> None:
    text = await fails(mcp, "sql_query", statement="SELECT * FROM main.default.no_such_t")
    assert text.startswith("TABLE_OR_VIEW_NOT_FOUND:")
    assert "`main`.`default`.`no_such_t`" in text
    assert "SHOW TABLES" in text


async def test_malformed_sql_error_says_to_fix_the_syntax(mcp) -> None:
    text = await fails(mcp, "sql_query", statement="SELECT FROM WHERE")
    assert text.startswith("PARSE_SYNTAX_ERROR:")
    assert "Fix the SQL syntax" in text
    text = await fails(mcp, "sql_execute", statement="SELEC 1")
    assert text.startswith("PARSE_SYNTAX_ERROR:")


async def test_a_missing_warehouse_says_which_to_use(mcp) -> None:
    text = await fails(mcp, "sql_query", statement="SELECT 1", warehouse_id="no-such-wh")
    assert text.startswith("RESOURCE_DOES_NOT_EXIST:")
    assert "sql_list_warehouses" in text


async def test_sql_execute_creates_a_table_that_sql_query_reads(mcp) -> None:
    await ok(mcp, "sql_execute", statement="CREATE SCHEMA IF NOT EXISTS main.t_sql_tools")
    await ok(
        mcp,
        "sql_execute",
        statement="CREATE OR REPLACE TABLE main.t_sql_tools.events (id INT, kind STRING)",
    )
    inserted = await ok(
        mcp,
        "sql_execute",
        statement="INSERT INTO main.t_sql_tools.events VALUES (1, 'click'), (2, 'view')",
    )
    assert "num_inserted_rows" in text_of(inserted)
    result = await ok(
        mcp, "sql_query", statement="SELECT kind FROM main.t_sql_tools.events ORDER BY id"
    )
    assert result.structured_content["rows"] == [["click"], ["view"]]


async def test_a_statement_past_the_deadline_returns_its_id_to_poll(mcp, backend) -> None:
    slow = "SELECT count(*) FROM range(1000000000) a, range(1000000) b"
    result = await ok(mcp, "sql_query", statement=slow, timeout_s=1)
    data = result.structured_content
    assert data["state"] in ("PENDING", "RUNNING")
    assert "still running; poll with sql_get_result" in text_of(result)
    # Stop it so the shared workspace does not keep burning CPU.
    backend.client.statement_execution.cancel_execution(data["statement_id"])
    polled = await call(mcp, "sql_get_result", statement_id=data["statement_id"], timeout_s=10)
    assert polled.is_error and text_of(polled).startswith("CANCELED")


async def test_sql_list_warehouses_marks_the_default(mcp) -> None:
    result = await ok(mcp, "sql_list_warehouses")
    assert "(default)" in text_of(result)
    assert result.structured_content["warehouses"][0]["state"] == "RUNNING"


async def test_the_server_stays_up_after_errors(mcp) -> None:
    await fails(mcp, "sql_query", statement="SELECT * FROM nowhere.at.all")
    await fails(mcp, "sql_query", statement="DROP TABLE x")
    await fails(mcp, "sql_get_result", statement_id="no-such-statement")
    result = await ok(mcp, "sql_query", statement="SELECT 'still here' AS s")
    assert result.structured_content["rows"] == [["still here"]]
