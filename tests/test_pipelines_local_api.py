"""The local workspace's Pipelines API through the real databricks-sdk: a SQL pipeline runs."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from local_workspace.config import LocalConfig
from local_workspace.pipelines.store import PipelinesStore
from local_workspace.runner import LocalWorkspace
from tests.conftest import wait_for

WAREHOUSE = "dbxlocal00000001"
FINAL = ("COMPLETED", "FAILED", "CANCELED")

MEDALLION = """
-- bronze: every raw row, incrementally
CREATE OR REFRESH STREAMING TABLE bronze
COMMENT 'raw orders'
AS SELECT * FROM STREAM({raw});

CREATE OR REFRESH STREAMING TABLE silver (
  CONSTRAINT positive_amount EXPECT (amount > 0) ON VIOLATION DROP ROW,
  CONSTRAINT known_customer EXPECT (customer IS NOT NULL)
) AS SELECT id, customer, amount FROM STREAM(LIVE.bronze);

CREATE OR REFRESH MATERIALIZED VIEW gold AS
SELECT customer, count(*) AS orders, sum(amount) AS total FROM silver GROUP BY customer;
"""


def sql(ws: Any, statement: str) -> list[list[Any]]:
    """Rows of one statement on the local warehouse (fails the test on a SQL error)."""
    response = ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE, statement=statement, wait_timeout="30s"
    )
    assert response.status.state.value == "SUCCEEDED", response.status
    return (response.result.data_array or []) if response.result else []


def upload(ws: Any, path: str, text: str) -> None:
    from databricks.sdk.service.workspace import ImportFormat

    ws.workspace.mkdirs(path.rsplit("/", 1)[0])
    ws.workspace.upload(path, text.encode(), format=ImportFormat.AUTO, overwrite=True)


def file_pipeline(ws: Any, name: str, schema: str, path: str) -> tuple[str, str]:
    """(pipeline_id, update_id): a pipeline of one workspace file, its first update started."""
    from databricks.sdk.service.pipelines import FileLibrary, PipelineLibrary

    pipeline_id = ws.pipelines.create(
        name=f"{name}-{schema}",
        catalog="main",
        schema=schema,
        libraries=[PipelineLibrary(file=FileLibrary(path=path))],
    ).pipeline_id
    return pipeline_id, ws.pipelines.start_update(pipeline_id).update_id


def finish(ws: Any, pipeline_id: str, update_id: str, timeout: float = 60.0) -> Any:
    """The update once it reached a final state."""
    deadline = time.monotonic() + timeout
    while True:
        update = ws.pipelines.get_update(pipeline_id, update_id).update
        if update.state.value in FINAL:
            return update
        assert time.monotonic() < deadline, f"update still {update.state}"
        time.sleep(0.05)


def events(ws: Any, pipeline_id: str, update_id: str) -> list[dict[str, Any]]:
    """Raw event dicts of one update, oldest first (the SDK's PipelineEvent drops details)."""
    body = ws.api_client.do(
        "GET",
        f"/api/2.0/pipelines/{pipeline_id}/events",
        query={"max_results": 1000, "order_by": ["timestamp asc"]},
    )
    return [e for e in body["events"] if e["origin"].get("update_id") == update_id]


def expectations(found: list[dict[str, Any]], dataset: str) -> tuple[list[dict[str, Any]], int]:
    for event in found:
        progress = event["details"].get("flow_progress") or {}
        if event["origin"].get("dataset_name") == dataset and progress.get("status") == "COMPLETED":
            quality = progress["data_quality"]
            return quality.get("expectations", []), quality["dropped_records"]
    raise AssertionError(f"no completed flow for {dataset}")


def make_pipeline(ws: Any, schema: str, source: str, name: str = "") -> str:
    folder = f"/Users/{ws.current_user.me().user_name}/pipelines/{schema}"
    upload(ws, f"{folder}/main.sql", source)
    from databricks.sdk.service.pipelines import FileLibrary, PipelineLibrary

    created = ws.pipelines.create(
        name=name or f"p-{schema}",
        catalog="main",
        schema=schema,
        libraries=[PipelineLibrary(file=FileLibrary(path=f"{folder}/main.sql"))],
        development=True,
    )
    return str(created.pipeline_id)


def fresh_schema(ws: Any, tag: str) -> str:
    schema = f"t_pipe_{tag}_{uuid.uuid4().hex[:6]}"
    sql(ws, f"CREATE SCHEMA main.{schema}")
    return schema


def test_a_medallion_pipeline_reports_expectations_and_appends_only_new_rows(ws: Any) -> None:
    schema = fresh_schema(ws, "med")
    raw = f"main.{schema}.raw_orders"
    sql(ws, f"CREATE TABLE {raw} (id INT, customer STRING, amount DOUBLE)")
    sql(ws, f"INSERT INTO {raw} VALUES (1,'a',10),(2,'a',-1),(3,'b',5),(4,NULL,7),(4,NULL,7)")
    pipeline_id = make_pipeline(ws, schema, MEDALLION.format(raw=raw))

    first = ws.pipelines.start_update(pipeline_id).update_id
    assert finish(ws, pipeline_id, first).state.value == "COMPLETED"
    found = events(ws, pipeline_id, first)
    checks, dropped = expectations(found, "silver")
    by_name = {c["name"]: c for c in checks}
    assert by_name["positive_amount"]["passed_records"] == 4
    assert by_name["positive_amount"]["failed_records"] == 1
    assert by_name["known_customer"]["failed_records"] == 2
    assert dropped == 1
    assert sql(ws, f"SELECT count(*) FROM main.{schema}.silver") == [["4"]]
    gold = sql(ws, f"SELECT customer, orders, total FROM main.{schema}.gold ORDER BY customer")
    assert gold == [[None, "2", "14.0"], ["a", "1", "10.0"], ["b", "1", "5.0"]]

    sql(ws, f"INSERT INTO {raw} VALUES (5,'b',1),(6,'c',-3),(4,NULL,7)")
    second = ws.pipelines.start_update(pipeline_id).update_id
    assert finish(ws, pipeline_id, second).state.value == "COMPLETED"
    flows = {
        e["origin"]["dataset_name"]: e["details"]["flow_progress"]
        for e in events(ws, pipeline_id, second)
        if e["details"].get("flow_progress", {}).get("status") == "COMPLETED"
    }
    assert flows["bronze"]["metrics"]["num_output_rows"] == 3
    assert flows["silver"]["metrics"]["num_output_rows"] == 2
    assert flows["silver"]["data_quality"]["dropped_records"] == 1
    assert sql(ws, f"SELECT count(*) FROM main.{schema}.bronze") == [["8"]]
    assert sql(ws, f"SELECT count(*) FROM main.{schema}.silver") == [["6"]]

    # A full refresh rebuilds from every source row (no duplicates).
    third = ws.pipelines.start_update(pipeline_id, full_refresh=True).update_id
    assert finish(ws, pipeline_id, third).state.value == "COMPLETED"
    assert sql(ws, f"SELECT count(*) FROM main.{schema}.bronze") == [["8"]]
    # Unity Catalog shows what the pipeline made of each dataset.
    kinds = {t.name: t.table_type.value for t in ws.tables.list("main", schema)}
    assert kinds == {
        "raw_orders": "MANAGED",
        "bronze": "STREAMING_TABLE",
        "silver": "STREAMING_TABLE",
        "gold": "MATERIALIZED_VIEW",
    }
    got = ws.pipelines.get(pipeline_id)
    assert got.state.value == "IDLE"
    assert got.latest_updates[0].update_id == third
    assert [u.update_id for u in ws.pipelines.list_updates(pipeline_id).updates][:3] == [
        third,
        second,
        first,
    ]


def test_a_violated_fail_update_expectation_fails_and_leaves_the_target_unchanged(
    ws: Any,
) -> None:
    schema = fresh_schema(ws, "fail")
    raw = f"main.{schema}.raw"
    sql(ws, f"CREATE TABLE {raw} (id INT, amount DOUBLE)")
    sql(ws, f"INSERT INTO {raw} VALUES (1, 10), (2, 20)")
    source = f"""
    CREATE OR REFRESH MATERIALIZED VIEW checked (
      CONSTRAINT positive EXPECT (amount > 0) ON VIOLATION FAIL UPDATE
    ) AS SELECT * FROM {raw};
    """
    pipeline_id = make_pipeline(ws, schema, source)
    first = ws.pipelines.start_update(pipeline_id).update_id
    assert finish(ws, pipeline_id, first).state.value == "COMPLETED"
    sql(ws, f"INSERT INTO {raw} VALUES (3, -5)")
    second = ws.pipelines.start_update(pipeline_id).update_id
    assert finish(ws, pipeline_id, second).state.value == "FAILED"
    errors = [e for e in events(ws, pipeline_id, second) if e["level"] == "ERROR"]
    assert any("positive" in e["message"] and "EXPECTATION" in e["message"] for e in errors)
    assert sql(ws, f"SELECT id FROM main.{schema}.checked ORDER BY id") == [["1"], ["2"]]
    only_errors = list(ws.pipelines.list_pipeline_events(pipeline_id, filter="level='ERROR'"))
    assert only_errors and all(e.level.value == "ERROR" for e in only_errors)


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("CREATE OR REFRESH MATERIALIZED VIEW a AS SELECT 1 AS x;\n\nSELEC oops FROM", "line 3"),
        (
            "CREATE OR REFRESH MATERIALIZED VIEW a AS SELECT * FROM b;\n"
            "CREATE OR REFRESH MATERIALIZED VIEW b AS SELECT * FROM a;",
            "cycle",
        ),
        ("CREATE OR REFRESH MATERIALIZED VIEW a AS SELECT * FROM nowhere_table;", "nowhere"),
        (
            "CREATE OR REFRESH MATERIALIZED VIEW a AS SELECT * FROM\n"
            "  read_files('s3://bucket/x', format => 'json');",
            "cloud storage",
        ),
    ],
    ids=["parse", "cycle", "missing", "read_files"],
)
def test_a_pipeline_that_cannot_run_fails_its_update_with_a_clear_error(
    ws: Any, source: str, needle: str
) -> None:
    schema = fresh_schema(ws, "bad")
    folder = f"/Users/{ws.current_user.me().user_name}/pipelines/{schema}"
    path = f"{folder}/{'main.py' if 'import dlt' in source else 'main.sql'}"
    upload(ws, path, source)
    pipeline_id, update_id = file_pipeline(ws, "p", schema, path)
    assert finish(ws, pipeline_id, update_id).state.value == "FAILED"
    errors = [e for e in events(ws, pipeline_id, update_id) if e["level"] == "ERROR"]
    assert any(needle.lower() in e["message"].lower() for e in errors), errors


def test_unknown_pipelines_and_continuous_mode_are_refused(ws: Any) -> None:
    from databricks.sdk.errors import InvalidParameterValue, ResourceDoesNotExist

    with pytest.raises(ResourceDoesNotExist):
        ws.pipelines.get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvalidParameterValue, match=r"[Cc]ontinuous"):
        ws.pipelines.create(name="cont", catalog="main", schema="default", continuous=True)


def test_pipelines_are_listed_edited_and_deleted_with_their_tables(ws: Any) -> None:
    schema = fresh_schema(ws, "crud")
    source = "CREATE OR REFRESH MATERIALIZED VIEW one AS SELECT 1 AS x;"
    pipeline_id = make_pipeline(ws, schema, source, name=f"crud-{schema}")
    found = list(ws.pipelines.list_pipelines(filter=f"name LIKE '%{schema}%'"))
    assert [p.pipeline_id for p in found] == [pipeline_id]
    spec = ws.pipelines.get(pipeline_id).spec
    ws.pipelines.update(
        pipeline_id,
        name=f"renamed-{schema}",
        catalog=spec.catalog,
        schema=spec.schema,
        libraries=spec.libraries,
    )
    assert ws.pipelines.get(pipeline_id).name == f"renamed-{schema}"
    checked = ws.pipelines.start_update(pipeline_id, validate_only=True).update_id
    assert finish(ws, pipeline_id, checked).state.value == "COMPLETED"
    assert "one" not in [t.name for t in ws.tables.list("main", schema)]
    update_id = ws.pipelines.start_update(pipeline_id, refresh_selection=["one"]).update_id
    assert finish(ws, pipeline_id, update_id).state.value == "COMPLETED"
    assert sql(ws, f"SELECT x FROM main.{schema}.one") == [["1"]]
    wrong = ws.pipelines.start_update(pipeline_id, refresh_selection=["nope"]).update_id
    assert finish(ws, pipeline_id, wrong).state.value == "FAILED"
    assert any("'nope'" in e["message"] for e in events(ws, pipeline_id, wrong))
    ws.pipelines.delete(pipeline_id)
    names = [t.name for t in ws.tables.list("main", schema)]
    assert "one" not in names


def test_pipelines_updates_events_and_streaming_progress_survive_a_restart(
    tmp_path: Path,
) -> None:
    from databricks.sdk import WorkspaceClient

    source = "CREATE OR REFRESH STREAMING TABLE copy AS SELECT * FROM STREAM(main.default.feed);"
    with LocalWorkspace(LocalConfig(data_dir=tmp_path, seed=False, warm_mlflow=False)) as first:
        ws: Any = WorkspaceClient(host=first.url, token=first.token)
        sql(ws, "CREATE CATALOG main")
        sql(ws, "CREATE TABLE main.default.feed (id INT)")
        sql(ws, "INSERT INTO main.default.feed VALUES (1), (2)")
        pipeline_id = make_pipeline(ws, "default", source, name="restart")
        update_id = ws.pipelines.start_update(pipeline_id).update_id
        assert finish(ws, pipeline_id, update_id).state.value == "COMPLETED"
    with LocalWorkspace(LocalConfig(data_dir=tmp_path, seed=False, warm_mlflow=False)) as second:
        ws = WorkspaceClient(host=second.url, token=second.token)
        assert ws.pipelines.get(pipeline_id).latest_updates[0].update_id == update_id
        assert events(ws, pipeline_id, update_id)
        sql(ws, "INSERT INTO main.default.feed VALUES (3)")
        again = ws.pipelines.start_update(pipeline_id).update_id
        assert finish(ws, pipeline_id, again).state.value == "COMPLETED"
        assert sql(ws, "SELECT id FROM main.default.copy ORDER BY id") == [["1"], ["2"], ["3"]]


def test_an_update_left_running_by_a_dead_workspace_ends_failed(tmp_path: Path) -> None:
    from databricks.sdk import WorkspaceClient

    store = PipelinesStore(tmp_path / "pipelines")
    store.insert("p1", {"name": "dead", "catalog": "main", "schema": "default"}, "me")
    doc = {"update_id": "u1", "pipeline_id": "p1", "state": "RUNNING", "creation_time": 1}
    store.save_update(doc, active=True)
    store.close()
    with LocalWorkspace(LocalConfig(data_dir=tmp_path, seed=False, warm_mlflow=False)) as restarted:
        ws: Any = WorkspaceClient(host=restarted.url, token=restarted.token)
        update = ws.pipelines.get_update("p1", "u1").update
        assert update.state.value == "FAILED"
        errors = list(ws.pipelines.list_pipeline_events("p1", filter="level='ERROR'"))
        assert "restarted" in (errors[0].message or "")


# ~10^12 rows: hours of work, so only an interrupt of the engine can end it.
SLOW_VIEW = (
    "CREATE OR REFRESH MATERIALIZED VIEW slow AS\n"
    "SELECT sum(a.range * b.range) AS s FROM range(1000000) a, range(1000000) b;"
)


def start_slow_update(ws: Any, schema: str) -> tuple[str, str]:
    """(pipeline id, update id) of an update whose flow has started its endless query."""
    pipeline_id = make_pipeline(ws, schema, SLOW_VIEW)
    update_id = ws.pipelines.start_update(pipeline_id).update_id

    def flow_running() -> bool:
        found = events(ws, pipeline_id, update_id)
        assert not any(e["level"] == "ERROR" for e in found), found
        return any(
            (e["details"].get("flow_progress") or {}).get("status") == "RUNNING" for e in found
        )

    # Readiness: the flow of `slow` started, so its query runs (or is about to) in DuckDB.
    # Either way the stop keeps interrupting until the update has ended.
    wait_for(flow_running, timeout=60)
    return pipeline_id, update_id


def test_stop_cancels_a_running_update_and_the_pipeline_goes_idle(ws: Any) -> None:
    from datetime import timedelta

    pipeline_id, update_id = start_slow_update(ws, fresh_schema(ws, "stop"))
    started = time.monotonic()
    stopped = ws.pipelines.stop_and_wait(pipeline_id, timeout=timedelta(seconds=60))
    assert stopped.state.value == "IDLE"
    assert finish(ws, pipeline_id, update_id).state.value == "CANCELED"
    assert time.monotonic() - started < 60
    # The engine is free again: a statement runs at once on the same DuckDB instance.
    assert sql(ws, "SELECT 42") == [["42"]]


def test_stopping_the_workspace_interrupts_running_sql_and_updates(tmp_path: Path) -> None:
    from databricks.sdk import WorkspaceClient

    config = LocalConfig(data_dir=tmp_path, seed=False, warm_mlflow=False)
    workspace = LocalWorkspace(config).start()
    try:
        ws: Any = WorkspaceClient(host=workspace.url, token=workspace.token)
        sql(ws, "CREATE CATALOG main")
        statement = ws.statement_execution.execute_statement(
            warehouse_id=WAREHOUSE,
            statement="SELECT count(*) FROM range(1000000000) a, range(1000000) b",
            wait_timeout="0s",
        )
        assert statement.status.state.value in ("PENDING", "RUNNING")
        pipeline_id, update_id = start_slow_update(ws, "default")
    finally:
        started = time.monotonic()
        workspace.stop()  # raised "connection is busy" when DuckDB was still executing
    assert time.monotonic() - started < 30
    with LocalWorkspace(config) as again:
        ws = WorkspaceClient(host=again.url, token=again.token)
        assert ws.pipelines.get_update(pipeline_id, update_id).update.state.value == "CANCELED"
        assert sql(ws, "SELECT 1") == [["1"]]


def test_sql_notebooks_run_cell_by_cell(ws: Any) -> None:
    from databricks.sdk.service.pipelines import NotebookLibrary, PipelineLibrary

    schema = fresh_schema(ws, "nb")
    folder = f"/Users/{ws.current_user.me().user_name}/pipelines/{schema}"
    upload(
        ws,
        f"{folder}/sql_nb.sql",
        "-- Databricks notebook source\nCREATE OR REFRESH MATERIALIZED VIEW a AS SELECT 1 AS x\n"
        "\n-- COMMAND ----------\n\n"
        "CREATE OR REFRESH MATERIALIZED VIEW b AS SELECT x + 1 AS y FROM a",
    )
    pipeline_id = ws.pipelines.create(
        name=f"sql_nb-{schema}",
        catalog="main",
        schema=schema,
        libraries=[PipelineLibrary(notebook=NotebookLibrary(path=f"{folder}/sql_nb"))],
    ).pipeline_id
    update_id = ws.pipelines.start_update(pipeline_id).update_id
    assert finish(ws, pipeline_id, update_id).state.value == "COMPLETED"
    assert sql(ws, f"SELECT y FROM main.{schema}.b") == [["2"]]
