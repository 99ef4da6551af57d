"""The local workspace's SQL APIs through the real databricks-sdk, as against Databricks."""

from __future__ import annotations

import time
from typing import Any

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.sql import (
    ColumnInfoTypeName,
    ExecuteStatementRequestOnWaitTimeout,
    Format,
    State,
    StatementParameterListItem,
    StatementResponse,
    StatementState,
)

SLOW_SQL = "SELECT count(*) FROM range(1000000000) a, range(1000000) b"


def warehouse(ws: Any) -> str:
    return next(iter(ws.warehouses.list())).id


def run(ws: Any, statement: str, **kwargs: Any) -> StatementResponse:
    kwargs.setdefault("wait_timeout", "30s")
    return ws.statement_execution.execute_statement(
        statement=statement, warehouse_id=warehouse(ws), **kwargs
    )


def succeeded(ws: Any, statement: str, **kwargs: Any) -> StatementResponse:
    response = run(ws, statement, **kwargs)
    assert response.status.state == StatementState.SUCCEEDED, response.status
    return response


def error_of(ws: Any, statement: str, **kwargs: Any) -> str:
    response = run(ws, statement, **kwargs)
    assert response.status.state == StatementState.FAILED
    assert response.status.error.error_code is not None
    return response.status.error.message


def poll_until_done(ws: Any, statement_id: str, timeout_s: float = 30) -> StatementResponse:
    deadline = time.monotonic() + timeout_s
    response = ws.statement_execution.get_statement(statement_id)
    while response.status.state in (StatementState.PENDING, StatementState.RUNNING):
        assert time.monotonic() < deadline, "statement did not finish in time"
        time.sleep(0.05)
        response = ws.statement_execution.get_statement(statement_id)
    return response


def test_count_of_the_sample_trips_comes_back_inline_as_json_array(ws) -> None:
    response = succeeded(ws, "SELECT count(*) FROM samples.nyctaxi.trips", format=Format.JSON_ARRAY)
    manifest = response.manifest
    assert manifest.format == Format.JSON_ARRAY
    assert manifest.schema.column_count == 1
    column = manifest.schema.columns[0]
    assert (column.name, column.type_name, column.type_text, column.position) == (
        "count(1)",
        ColumnInfoTypeName.LONG,
        "BIGINT",
        0,
    )
    assert manifest.total_row_count == 1 and manifest.total_chunk_count == 1
    assert manifest.truncated is False
    [[count]] = response.result.data_array
    assert isinstance(count, str) and int(count) > 0


def test_values_are_strings_or_null_with_databricks_formats(ws) -> None:
    response = succeeded(
        ws,
        "SELECT CAST(1.5 AS DECIMAL(10,2)) d, TIMESTAMP'2024-01-01 10:00:00' ts, "
        "DATE'2024-01-02' dt, true b, NULL n, array(1, 2) a, 'x' s",
    )
    columns = {c.name: c for c in response.manifest.schema.columns}
    assert columns["d"].type_name == ColumnInfoTypeName.DECIMAL
    assert (columns["d"].type_precision, columns["d"].type_scale) == (10, 2)
    assert columns["ts"].type_name == ColumnInfoTypeName.TIMESTAMP
    assert response.result.data_array == [
        ["1.50", "2024-01-01T10:00:00.000Z", "2024-01-02", "true", None, "[1,2]", "x"]
    ]


def test_a_table_created_by_sql_shows_up_with_its_columns_in_unity_catalog(ws) -> None:
    succeeded(ws, "CREATE SCHEMA IF NOT EXISTS main.t_sql_api COMMENT 'sql api tests'")
    succeeded(
        ws,
        "CREATE OR REPLACE TABLE main.t_sql_api.orders (id BIGINT, amount DECIMAL(10,2), "
        "note STRING) USING DELTA TBLPROPERTIES ('delta.appendOnly' = 'false')",
    )
    inserted = succeeded(ws, "INSERT INTO main.t_sql_api.orders VALUES (1, 9.99, 'a'), (2, 5, 'b')")
    assert inserted.result.data_array == [["2", "2"]]
    tables = {t.name: t for t in ws.tables.list("main", "t_sql_api")}
    assert [c.name for c in tables["orders"].columns] == ["id", "amount", "note"]
    assert "t_sql_api" in [s.name for s in ws.schemas.list("main")]


def test_views_comments_and_drops_by_sql_follow_in_unity_catalog(ws) -> None:
    succeeded(ws, "CREATE SCHEMA IF NOT EXISTS main.t_sql_ddl")
    succeeded(ws, "CREATE OR REPLACE TABLE main.t_sql_ddl.base AS SELECT 1 AS x")
    succeeded(ws, "CREATE OR REPLACE VIEW main.t_sql_ddl.v AS SELECT x FROM main.t_sql_ddl.base")
    succeeded(ws, "COMMENT ON TABLE main.t_sql_ddl.base IS 'the base'")
    succeeded(ws, "COMMENT ON SCHEMA main.t_sql_ddl IS 'ddl tests'")
    tables = {t.name: t for t in ws.tables.list("main", "t_sql_ddl")}
    assert tables["v"].table_type.value == "VIEW"
    assert tables["base"].comment == "the base"
    assert ws.schemas.get("main.t_sql_ddl").comment == "ddl tests"
    succeeded(ws, "DROP VIEW main.t_sql_ddl.v")
    succeeded(ws, "DROP TABLE main.t_sql_ddl.base")
    assert list(ws.tables.list("main", "t_sql_ddl")) == []
    assert error_of(ws, "DROP TABLE main.t_sql_ddl.base").startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    succeeded(ws, "DROP TABLE IF EXISTS main.t_sql_ddl.base")
    succeeded(ws, "DROP SCHEMA main.t_sql_ddl")
    assert "t_sql_ddl" not in [s.name for s in ws.schemas.list("main")]
    assert error_of(ws, "CREATE SCHEMA no_such_catalog.x").startswith("[NO_SUCH_CATALOG_EXCEPTION]")


def test_current_catalog_and_schema_follow_the_request(ws) -> None:
    response = succeeded(
        ws, "SELECT current_catalog(), current_schema()", catalog="samples", schema="nyctaxi"
    )
    assert response.result.data_array == [["samples", "nyctaxi"]]


def test_named_parameters_are_bound_with_their_types(ws) -> None:
    succeeded(ws, "CREATE SCHEMA IF NOT EXISTS main.t_sql_api")
    succeeded(ws, "CREATE OR REPLACE TABLE main.t_sql_api.params AS SELECT * FROM range(10) r(id)")
    response = succeeded(
        ws,
        "SELECT count(*) AS n, :label AS label FROM params WHERE id >= :low",
        catalog="main",
        schema="t_sql_api",
        parameters=[
            StatementParameterListItem(name="low", value="7", type="INT"),
            StatementParameterListItem(name="label", value="x'; DROP"),
        ],
    )
    # The value is bound, never spliced into the SQL: quotes come back verbatim.
    assert response.result.data_array == [["3", "x'; DROP"]]
    message = error_of(ws, "SELECT :missing")
    assert message.startswith("[UNBOUND_SQL_PARAMETER]")


def test_row_limit_truncates_and_says_so(ws) -> None:
    response = succeeded(ws, "SELECT * FROM range(100)", row_limit=10)
    assert response.manifest.truncated is True
    assert response.manifest.total_row_count == 10
    assert len(response.result.data_array) == 10


def test_byte_limit_truncates_and_says_so(ws) -> None:
    response = succeeded(ws, "SELECT repeat('x', 100) AS padded FROM range(1000)", byte_limit=5000)
    assert response.manifest.truncated is True
    rows = response.result.data_array
    assert 0 < len(rows) < 1000
    assert sum(len(row[0]) for row in rows) <= 5000


def test_large_results_come_in_chunks_the_sdk_can_fetch(ws) -> None:
    response = succeeded(ws, "SELECT * FROM range(25000) r(id)")
    manifest = response.manifest
    assert manifest.total_row_count == 25000
    assert manifest.total_chunk_count > 1
    rows = list(response.result.data_array)
    next_index = response.result.next_chunk_index
    assert response.result.next_chunk_internal_link
    while next_index is not None:
        chunk = ws.statement_execution.get_statement_result_chunk_n(
            response.statement_id, next_index
        )
        rows.extend(chunk.data_array)
        next_index = chunk.next_chunk_index
    assert len(rows) == 25000
    assert rows[-1] == ["24999"]


def test_wait_timeout_zero_returns_at_once_and_the_client_polls(ws) -> None:
    response = run(ws, "SELECT 42 AS answer", wait_timeout="0s")
    assert response.status.state in (
        StatementState.PENDING,
        StatementState.RUNNING,
        StatementState.SUCCEEDED,
    )
    done = poll_until_done(ws, response.statement_id)
    assert done.status.state == StatementState.SUCCEEDED
    assert done.result.data_array == [["42"]]


def test_a_slow_statement_is_canceled_on_wait_timeout_with_cancel(ws) -> None:
    started = time.monotonic()
    response = run(
        ws,
        SLOW_SQL,
        wait_timeout="5s",
        on_wait_timeout=ExecuteStatementRequestOnWaitTimeout.CANCEL,
    )
    assert response.status.state == StatementState.CANCELED
    assert time.monotonic() - started < 15


def test_a_running_statement_can_be_canceled(ws) -> None:
    response = run(ws, SLOW_SQL, wait_timeout="0s")
    ws.statement_execution.cancel_execution(response.statement_id)
    assert poll_until_done(ws, response.statement_id).status.state == StatementState.CANCELED


def test_unknown_table_fails_with_table_or_view_not_found(ws) -> None:
    message = error_of(ws, "SELECT * FROM main.default.no_such_table")
    assert message.startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    assert "`main`.`default`.`no_such_table`" in message
    response = run(ws, "SELECT * FROM no_such_table")
    assert response.status.sql_state == "42P01"


def test_malformed_sql_fails_with_parse_syntax_error(ws) -> None:
    message = error_of(ws, "SELEC 1")
    assert message.startswith("[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'")


def test_other_errors_map_to_databricks_error_classes(ws) -> None:
    assert error_of(ws, "SELECT nope FROM samples.nyctaxi.trips").startswith("[UNRESOLVED_COLUMN")
    assert error_of(ws, "SELECT 1/0").startswith("[DIVIDE_BY_ZERO]")
    assert error_of(ws, "SELECT * FROM main.no_schema.t").startswith("[TABLE_OR_VIEW_NOT_FOUND]")
    succeeded(ws, "CREATE SCHEMA IF NOT EXISTS main.t_sql_api")
    succeeded(ws, "CREATE TABLE IF NOT EXISTS main.t_sql_api.twice (a INT)")
    assert error_of(ws, "CREATE TABLE main.t_sql_api.twice (a INT)").startswith(
        "[TABLE_OR_VIEW_ALREADY_EXISTS]"
    )


def test_show_and_describe_are_answered_like_databricks(ws) -> None:
    catalogs = succeeded(ws, "SHOW CATALOGS").result.data_array
    assert ["main"] in catalogs and ["samples"] in catalogs
    schemas = succeeded(ws, "SHOW SCHEMAS IN samples").result.data_array
    assert ["nyctaxi"] in schemas
    tables = succeeded(ws, "SHOW TABLES IN samples.nyctaxi LIKE 'tri*'")
    assert [c.name for c in tables.manifest.schema.columns] == [
        "database",
        "tableName",
        "isTemporary",
    ]
    assert tables.result.data_array == [["nyctaxi", "trips", "false"]]
    described = succeeded(ws, "DESCRIBE TABLE samples.nyctaxi.trips").result.data_array
    assert described[2][:2] == ["trip_distance", "double"]
    extended = succeeded(ws, "DESCRIBE TABLE EXTENDED samples.nyctaxi.trips").result.data_array
    keys = [row[0] for row in extended]
    assert "# Detailed Table Information" in keys and "Catalog" in keys


def test_grant_and_show_grants_go_through_unity_catalog(ws) -> None:
    succeeded(ws, "CREATE SCHEMA IF NOT EXISTS main.t_sql_api")
    succeeded(ws, "CREATE TABLE IF NOT EXISTS main.t_sql_api.granted (a INT)")
    succeeded(ws, "GRANT SELECT, MODIFY ON TABLE main.t_sql_api.granted TO `analyst@example.com`")
    succeeded(ws, "REVOKE MODIFY ON TABLE main.t_sql_api.granted FROM `analyst@example.com`")
    rows = succeeded(ws, "SHOW GRANTS ON TABLE main.t_sql_api.granted").result.data_array
    assert rows == [["analyst@example.com", "SELECT", "TABLE", "main.t_sql_api.granted"]]
    grants = ws.grants.get("table", "main.t_sql_api.granted")
    assert [a.principal for a in grants.privilege_assignments] == ["analyst@example.com"]


def test_use_checks_its_target_and_catalog_schema_fields_set_the_scope(ws) -> None:
    succeeded(ws, "USE CATALOG samples")
    succeeded(ws, "USE SCHEMA samples.nyctaxi")
    assert error_of(ws, "USE CATALOG no_such_catalog").startswith("[NO_SUCH_CATALOG_EXCEPTION]")
    response = succeeded(ws, "SELECT count(*) FROM trips", catalog="samples", schema="nyctaxi")
    assert int(response.result.data_array[0][0]) > 0


def test_internal_catalog_names_never_leak(ws) -> None:
    succeeded(ws, "CREATE SCHEMA IF NOT EXISTS main.t_sql_api")
    succeeded(ws, "CREATE TABLE IF NOT EXISTS main.t_sql_api.leak (a INT)")
    texts = [
        str(succeeded(ws, "EXPLAIN SELECT * FROM main.t_sql_api.leak").as_dict()),
        str(run(ws, "SELECT * FROM main.default.missing_table").as_dict()),
        str(run(ws, "SELECT nope FROM main.t_sql_api.leak").as_dict()),
        str(run(ws, "CREATE TABLE main.t_sql_api.leak (a INT)").as_dict()),
        str(run(ws, "SELECT * FROM main.t_sql_api.leak JOIN nowhere.x.y ON true").as_dict()),
        str(succeeded(ws, "SELECT * FROM samples.nyctaxi.trips LIMIT 1").as_dict()),
    ]
    for text in texts:
        assert "uc_main" not in text and "uc_samples" not in text


def test_create_and_drop_catalog_by_sql(ws) -> None:
    succeeded(ws, "CREATE CATALOG IF NOT EXISTS t_sql_cat COMMENT 'by sql'")
    assert "t_sql_cat" in [c.name for c in ws.catalogs.list()]
    succeeded(ws, "CREATE TABLE t_sql_cat.default.t AS SELECT 1 AS a")
    assert succeeded(ws, "SELECT a FROM t_sql_cat.default.t").result.data_array == [["1"]]
    succeeded(ws, "DROP CATALOG t_sql_cat CASCADE")
    assert "t_sql_cat" not in [c.name for c in ws.catalogs.list()]


def test_merge_into_updates_and_inserts(ws) -> None:
    succeeded(ws, "CREATE SCHEMA IF NOT EXISTS main.t_sql_api")
    succeeded(ws, "CREATE OR REPLACE TABLE main.t_sql_api.target (id INT, v STRING)")
    succeeded(ws, "INSERT INTO main.t_sql_api.target VALUES (1, 'old')")
    succeeded(
        ws,
        "MERGE INTO main.t_sql_api.target t USING (SELECT * FROM VALUES (1, 'new'), (2, 'add') "
        "AS s(id, v)) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.v = s.v "
        "WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)",
    )
    rows = succeeded(ws, "SELECT id, v FROM main.t_sql_api.target ORDER BY id").result.data_array
    assert rows == [["1", "new"], ["2", "add"]]


def test_warehouses_list_get_start_and_stop(ws) -> None:
    warehouses = list(ws.warehouses.list())
    assert warehouses and warehouses[0].state == State.RUNNING
    warehouse_id = warehouses[0].id
    assert ws.warehouses.get(warehouse_id).name == warehouses[0].name
    created = ws.warehouses.create(name="t-sql-extra").result()
    try:
        ws.warehouses.stop(created.id).result()
        assert ws.warehouses.get(created.id).state == State.STOPPED
        # A statement auto-starts a stopped warehouse, as Databricks serverless does.
        response = ws.statement_execution.execute_statement(
            statement="SELECT 1", warehouse_id=created.id, wait_timeout="10s"
        )
        assert response.status.state == StatementState.SUCCEEDED
        assert ws.warehouses.get(created.id).state == State.RUNNING
        ws.warehouses.stop(created.id).result()
        ws.warehouses.start(created.id).result()
        assert ws.warehouses.get(created.id).state == State.RUNNING
    finally:
        ws.warehouses.delete(created.id)
    with pytest.raises(NotFound):
        ws.warehouses.get(created.id)


def test_a_missing_warehouse_is_refused(ws) -> None:
    with pytest.raises(NotFound):
        ws.statement_execution.execute_statement(
            statement="SELECT 1", warehouse_id="no-such-warehouse", wait_timeout="5s"
        )


def test_external_links_and_arrow_are_refused_clearly(ws) -> None:
    from databricks.sdk.errors import DatabricksError
    from databricks.sdk.service.sql import Disposition

    with pytest.raises(DatabricksError, match="not available in the local workspace"):
        run(ws, "SELECT 1", disposition=Disposition.EXTERNAL_LINKS)
    with pytest.raises(DatabricksError, match="JSON_ARRAY"):
        run(ws, "SELECT 1", format=Format.ARROW_STREAM)
