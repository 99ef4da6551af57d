"""Lineage: the local workspace records what SQL reads and writes; uc_get_lineage walks it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs
from databricks.sdk.service.sql import StatementState
from databricks.sdk.service.workspace import ImportFormat

from tests.conftest import fails, ok, text_of
from tests.test_jobs_local_api import put_notebook

WAREHOUSE = "dbxlocal00000001"


def run_sql(ws: WorkspaceClient, *statements: str) -> None:
    for statement in statements:
        result = ws.statement_execution.execute_statement(
            statement=statement, warehouse_id=WAREHOUSE, wait_timeout="30s"
        )
        assert result.status and result.status.state == StatementState.SUCCEEDED, result.status


def table_lineage(ws: WorkspaceClient, table: str) -> dict[str, Any]:
    answer = ws.api_client.do(
        "GET",
        "/api/2.0/lineage-tracking/table-lineage",
        query={"table_name": table, "include_entity_lineage": "true"},
    )
    assert isinstance(answer, dict)
    return answer


def names(items: list[dict[str, Any]]) -> set[str]:
    infos = [i["tableInfo"] for i in items]
    return {f"{t['catalog_name']}.{t['schema_name']}.{t['name']}" for t in infos}


@pytest.fixture
def schema(ws: WorkspaceClient) -> str:
    name = f"main.t_lin_{uuid.uuid4().hex[:8]}"
    run_sql(
        ws,
        f"CREATE SCHEMA {name}",
        f"CREATE TABLE {name}.raw (id INT, a INT, b INT, c INT)",
        f"INSERT INTO {name}.raw VALUES (1, 1, 2, 3), (2, 4, 5, 6)",
    )
    return name


def test_ctas_insert_select_merge_and_views_record_table_edges(
    ws: WorkspaceClient, schema: str
) -> None:
    run_sql(
        ws,
        f"CREATE TABLE {schema}.x AS SELECT id, a, b + c AS d FROM {schema}.raw",
        f"CREATE TABLE {schema}.y (id INT, a INT)",
        f"WITH src AS (SELECT id, a FROM {schema}.x) INSERT INTO {schema}.y SELECT * FROM src",
        f"CREATE TABLE {schema}.z (id INT, a INT)",
        f"MERGE INTO {schema}.z t USING {schema}.raw s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET t.a = s.a "
        "WHEN NOT MATCHED THEN INSERT (id, a) VALUES (s.id, s.a)",
        f"CREATE VIEW {schema}.v AS SELECT id FROM {schema}.y JOIN {schema}.z USING (id)",
    )
    raw = table_lineage(ws, f"{schema}.raw")
    assert names(raw["downstreams"]) == {f"{schema}.x", f"{schema}.z"}
    assert raw["upstreams"] == []
    assert names(table_lineage(ws, f"{schema}.y")["upstreams"]) == {f"{schema}.x"}
    view = table_lineage(ws, f"{schema}.v")["upstreams"]
    assert names(view) == {f"{schema}.y", f"{schema}.z"}
    assert {i["tableInfo"]["table_type"] for i in view} == {"TABLE"}
    assert table_lineage(ws, f"{schema}.y")["downstreams"][0]["tableInfo"]["table_type"] == "VIEW"
    item = table_lineage(ws, f"{schema}.x")["upstreams"][0]
    assert item["queryInfos"] and item["queryInfos"][0]["workspace_id"]
    assert "lineage_timestamp" in item["tableInfo"]


def test_column_lineage_of_a_simple_projection(ws: WorkspaceClient, schema: str) -> None:
    run_sql(ws, f"CREATE TABLE {schema}.proj AS SELECT a, b + c AS d FROM {schema}.raw")

    def cols(table: str, column: str, key: str) -> set[str]:
        answer = ws.api_client.do(
            "GET",
            "/api/2.0/lineage-tracking/column-lineage",
            query={"table_name": table, "column_name": column},
        )
        assert isinstance(answer, dict)
        return {f"{c['table_name']}.{c['name']}" for c in answer[key]}

    assert cols(f"{schema}.proj", "d", "upstream_cols") == {"raw.b", "raw.c"}
    assert cols(f"{schema}.proj", "a", "upstream_cols") == {"raw.a"}
    assert cols(f"{schema}.raw", "c", "downstream_cols") == {"proj.d"}


def test_a_statement_that_fails_records_nothing(ws: WorkspaceClient, schema: str) -> None:
    result = ws.statement_execution.execute_statement(
        statement=f"CREATE TABLE {schema}.bad AS SELECT nope FROM {schema}.raw",
        warehouse_id=WAREHOUSE,
    )
    assert result.status and result.status.state == StatementState.FAILED
    assert table_lineage(ws, f"{schema}.raw")["downstreams"] == []


def test_a_job_sql_task_and_a_notebook_spark_sql_are_attributed_to_the_job(
    ws: WorkspaceClient, schema: str
) -> None:
    base = f"/Shared/t_lin/{uuid.uuid4().hex[:8]}"
    ws.workspace.mkdirs(base)
    script = f"{base}/load.sql"
    ws.workspace.upload(
        script,
        f"CREATE TABLE {schema}.from_sql AS SELECT id FROM {schema}.raw;".encode(),
        format=ImportFormat.RAW,
    )
    notebook = put_notebook(
        ws,
        f"{base}/nb",
        f'spark.sql("CREATE TABLE {schema}.from_nb AS SELECT a FROM {schema}.raw")',
    )
    job_id = ws.jobs.create(
        name="t_lin_job",
        tasks=[
            jobs.Task(
                task_key="sql",
                sql_task=jobs.SqlTask(
                    warehouse_id=WAREHOUSE,
                    file=jobs.SqlTaskFile(path=script, source=jobs.Source.WORKSPACE),
                ),
            ),
            jobs.Task(task_key="nb", notebook_task=jobs.NotebookTask(notebook_path=notebook)),
        ],
    ).job_id
    assert job_id is not None
    run = ws.jobs.run_now(job_id).result(timeout=timedelta(seconds=60))
    assert run.state and run.state.result_state == jobs.RunResultState.SUCCESS, run.state

    downstream = {
        i["tableInfo"]["name"]: i for i in table_lineage(ws, f"{schema}.raw")["downstreams"]
    }
    sql_job = downstream["from_sql"]["jobInfos"][0]
    assert (sql_job["job_id"], sql_job["job_run_id"]) == (job_id, run.run_id)
    assert sql_job["task_key"] == "sql" and "queryInfos" not in downstream["from_sql"]
    nb_item = downstream["from_nb"]
    assert nb_item["jobInfos"][0]["job_id"] == job_id
    assert nb_item["jobInfos"][0]["task_key"] == "nb"
    assert nb_item["notebookInfos"][0]["notebook_path"] == notebook
    assert nb_item["notebookInfos"][0]["notebook_id"]


def test_a_query_tag_naming_no_running_task_stays_a_plain_query(
    ws: WorkspaceClient, schema: str
) -> None:
    ws.api_client.do(
        "POST",
        "/api/2.0/sql/statements",
        body={
            "statement": f"CREATE TABLE {schema}.spoof AS SELECT id FROM {schema}.raw",
            "warehouse_id": WAREHOUSE,
            "wait_timeout": "30s",
            "query_tags": [{"key": "dbx_devkit.task_run_id", "value": "1000001"}],
        },
    )
    item = table_lineage(ws, f"{schema}.spoof")["upstreams"][0]
    assert "jobInfos" not in item and item["queryInfos"]


@pytest.mark.anyio
async def test_uc_get_lineage_walks_upstream_and_shows_a_new_ctas_downstream(
    mcp: Any, ws: WorkspaceClient, schema: str
) -> None:
    await ok(
        mcp, "sql_execute", statement=f"CREATE TABLE {schema}.silver AS SELECT * FROM {schema}.raw"
    )
    await ok(
        mcp,
        "sql_execute",
        statement=f"CREATE TABLE {schema}.gold AS "
        f"SELECT id, sum(a) AS total FROM {schema}.silver GROUP BY id",
    )
    text = text_of(await ok(mcp, "uc_get_lineage", table=f"{schema}.gold"))
    assert f"| 1 | {schema}.silver | {schema}.gold |" in text
    assert f"| 2 | {schema}.raw | {schema}.silver |" in text
    assert "Downstream: none recorded" in text

    await ok(
        mcp, "sql_execute", statement=f"CREATE TABLE {schema}.report AS SELECT * FROM {schema}.gold"
    )
    result = await ok(
        mcp, "uc_get_lineage", table=f"{schema}.gold", direction="down", depth=1, column="total"
    )
    text = text_of(result)
    assert f"| 1 | {schema}.report | {schema}.gold | 1 SQL query |" in text
    assert "Upstream" not in text
    assert f"Column total: from {schema}.silver.a; to {schema}.report.total" in text


@pytest.mark.anyio
async def test_uc_get_lineage_on_an_unknown_table_says_how_to_find_it(mcp: Any) -> None:
    text = await fails(mcp, "uc_get_lineage", table="main.t_lin_nowhere.nothing")
    assert text.startswith("TABLE_DOES_NOT_EXIST") and "uc_list_tables" in text
