"""Python pipeline sources (``import dlt``, ``from pyspark import pipelines as dp``) run on the
local pipeline runner as SQL sources do: expectations, events, lineage, CDC, mixed sources.

Each update with a Python source starts one planning process: the tests keep to a few.
"""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

import pytest

from tests.conftest import ok, text_of, wait_for
from tests.test_pipelines_local_api import events, file_pipeline, finish, sql, upload
from tests.test_pipelines_tools import start

# Definition order reversed on purpose: gold first, bronze last. Reads decide the order.
MEDALLION_PY = """\
import dlt
from pyspark.sql import functions as F


@dlt.table(comment="revenue per customer")
def gold():
    return (
        dlt.read("silver")
        .groupBy("customer")
        .agg(F.count("*").alias("orders"), F.sum("amount").alias("total"))
    )


@dlt.table(table_properties={"quality": "silver"})
@dlt.expect_or_drop("positive_amount", "amount > 0")
@dlt.expect("known_customer", "customer IS NOT NULL")
def silver():
    return dlt.read_stream("bronze").select("id", "customer", "amount")


@dlt.table(name="bronze", comment="raw orders", partition_cols=["customer"])
def bronze_orders():
    return spark.readStream.table(spark.conf.get("orders.source"))
"""


def completed(ws: Any, pipeline_id: str) -> dict[str, int]:
    """Run one update of the pipeline; it must complete (its errors shown if not). The rows
    each flow wrote."""
    update_id = ws.pipelines.start_update(pipeline_id).update_id
    update = finish(ws, pipeline_id, update_id)
    errors = [e["message"] for e in events(ws, pipeline_id, update_id) if e["level"] == "ERROR"]
    assert update.state.value == "COMPLETED", errors
    written: dict[str, int] = {}
    for event in events(ws, pipeline_id, update_id):
        progress = event["details"].get("flow_progress") or {}
        if progress.get("status") == "COMPLETED":
            written[event["origin"]["dataset_name"]] = progress["metrics"]["num_output_rows"]
    return written


def fresh(ws: Any, tag: str) -> tuple[str, str]:
    """(schema, workspace folder) of a new test schema."""
    schema = f"t_pypipe_{tag}_{uuid.uuid4().hex[:6]}"
    sql(ws, f"CREATE SCHEMA main.{schema}")
    return schema, f"/Users/{ws.current_user.me().user_name}/pipelines_py/{schema}"


@pytest.mark.anyio
async def test_a_python_medallion_pipeline_runs_in_dependency_order_with_its_expectations(
    mcp: Any, ws: Any
) -> None:
    schema, folder = fresh(ws, "med")
    raw = f"main.{schema}.raw_orders"
    sql(ws, f"CREATE TABLE {raw} (id INT, customer STRING, amount DOUBLE)")
    sql(ws, f"INSERT INTO {raw} VALUES (1,'a',10),(2,'a',-1),(3,'b',5),(4,'b',2)")
    upload(ws, f"{folder}/medallion.py", MEDALLION_PY)
    created = await ok(
        mcp,
        "pipelines_create",
        name=f"py-medallion-{schema}",
        catalog="main",
        schema=schema,
        libraries=[f"/Workspace{folder}/medallion.py"],
        configuration={"orders.source": raw},  # spark.conf.get in the source reads it
    )
    pipeline_id = created.structured_content["pipeline_id"]

    update = await start(mcp, pipeline_id)
    assert update["state"] == "COMPLETED", update
    flows = {f["dataset"]: f for f in update["flows"]}
    assert flows["silver"]["rows_written"] == 3 and flows["silver"]["dropped"] == 1

    found = await ok(mcp, "pipelines_list_events", pipeline_id=pipeline_id)
    text = text_of(found)
    checks = {e["name"]: e for e in found.structured_content["expectations"]}
    assert checks["positive_amount"]["passed"] == 3 and checks["positive_amount"]["failed"] == 1
    assert found.structured_content["dropped"]["silver"] == 1
    assert "| silver | known_customer | 4 | 0 |" in text

    gold = await ok(
        mcp,
        "sql_query",
        statement=f"SELECT customer, orders, total FROM main.{schema}.gold ORDER BY 1",
    )
    assert gold.structured_content["rows"] == [["a", "1", "10.0"], ["b", "2", "7.0"]]
    table = await ok(mcp, "uc_get_table", full_name=f"main.{schema}.bronze")
    assert "raw orders" in text_of(table) and "STREAMING_TABLE" in text_of(table)

    lineage = await ok(mcp, "uc_get_lineage", table=f"main.{schema}.gold", direction="up")
    upstream = text_of(lineage)
    for name in ("silver", "bronze"):
        assert f"main.{schema}.{name}" in upstream
    await ok(mcp, "pipelines_delete", pipeline_id=pipeline_id, confirm=True)


def test_sql_and_python_notebook_sources_mix_in_one_pipeline_with_auto_loader_and_auto_cdc(
    ws: Any,
) -> None:
    from databricks.sdk.service.catalog import VolumeType
    from databricks.sdk.service.pipelines import FileLibrary, NotebookLibrary, PipelineLibrary

    schema, folder = fresh(ws, "mix")
    ws.volumes.create("main", schema, "landing", VolumeType.MANAGED)
    clicks = f"/Volumes/main/{schema}/landing/clicks"
    ws.files.upload(f"{clicks}/1.csv", io.BytesIO(b"user,page\nann,home\nbob,cart\n"))
    raw, feed = f"main.{schema}.raw_orders", f"main.{schema}.customers_feed"
    sql(ws, f"CREATE TABLE {raw} (id INT, customer STRING, amount DOUBLE, note STRING)")
    sql(ws, f"INSERT INTO {raw} VALUES (1,'a',10,'x'),(2,'a',-1,'y'),(3,'b',5,'z')")
    sql(ws, f"CREATE TABLE {feed} (id INT, name STRING, op STRING, seq INT)")
    sql(
        ws,
        f"INSERT INTO {feed} VALUES (1,'Ann','UPSERT',1),(1,'Anne','UPSERT',2),"
        "(2,'Bob','UPSERT',1),(2,NULL,'DELETE',3),(3,'Cy','UPSERT',1)",
    )
    # SQL reads a Python dataset (customer_totals) and Python reads a SQL one (orders_bronze).
    upload(
        ws,
        f"{folder}/ingest.sql",
        f"CREATE OR REFRESH STREAMING TABLE orders_bronze AS SELECT * FROM STREAM({raw});\n"
        "CREATE OR REFRESH MATERIALIZED VIEW report AS\n"
        "SELECT customer, total FROM customer_totals WHERE total > 5;\n"
        # Auto Loader in SQL with the hidden _metadata column, which `*` does not list.
        "CREATE OR REFRESH STREAMING TABLE clicks_files AS\n"
        "SELECT *, _metadata.file_name AS source_file\n"
        f"FROM STREAM read_files('{clicks}', format => 'csv', header => true);\n",
    )
    upload(
        ws,
        f"{folder}/transform.py",
        "# Databricks notebook source\n"
        "from pyspark import pipelines as dp\n"
        "from pyspark.sql import functions as F\n\n"
        "# COMMAND ----------\n\n"
        "@dp.materialized_view\n"
        "def customer_totals():\n"
        '    orders = spark.read.table("orders_bronze")\n'
        "    # The columns come from the SQL definition: the table does not exist yet.\n"
        '    kept = [c for c in orders.columns if c != "note"]\n'
        '    return orders.select(*kept).groupBy("customer").agg(F.sum("amount").alias("total"))'
        "\n\n# COMMAND ----------\n\n"
        "@dp.temporary_view\n"
        "def changes():\n"
        f'    return spark.readStream.table("{feed}")\n\n'
        'dp.create_streaming_table("customers_history")\n'
        "dp.create_auto_cdc_flow(\n"
        '    target="customers_history", source="changes", keys=["id"], sequence_by="seq",\n'
        "    stored_as_scd_type=2, apply_as_deletes=\"op = 'DELETE'\", except_column_list=['op'],\n"
        ")\n\n"
        "# COMMAND ----------\n\n"
        "@dp.table\n"
        "def clicks_bronze():\n"
        '    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "csv")\n'
        '            .option("cloudFiles.schemaLocation", "/tmp/x").option("header", "true")\n'
        f'            .load("{clicks}"))\n',
    )
    pipeline_id = ws.pipelines.create(
        name=f"py-mix-{schema}",
        catalog="main",
        schema=schema,
        libraries=[
            PipelineLibrary(file=FileLibrary(path=f"{folder}/ingest.sql")),
            PipelineLibrary(notebook=NotebookLibrary(path=f"{folder}/transform")),
        ],
    ).pipeline_id
    completed(ws, pipeline_id)
    assert sql(ws, f"SELECT customer, total FROM main.{schema}.customer_totals ORDER BY 1") == [
        ["a", "9.0"],
        ["b", "5.0"],
    ]
    assert sql(ws, f"SELECT customer FROM main.{schema}.report") == [["a"]]
    history = sql(
        ws,
        f"SELECT id, name, __START_AT, __END_AT FROM main.{schema}.customers_history "
        "ORDER BY id, __START_AT",
    )
    assert history == [
        ["1", "Ann", "1", "2"],
        ["1", "Anne", "2", None],
        ["2", "Bob", "1", "3"],
        ["3", "Cy", "1", None],
    ]
    assert sql(ws, f"SELECT user FROM main.{schema}.clicks_bronze ORDER BY 1") == [["ann"], ["bob"]]

    # A second update reads only what arrived since: a new file, a new change.
    ws.files.upload(f"{clicks}/2.csv", io.BytesIO(b"user,page\ncy,home\n"))
    sql(ws, f"INSERT INTO {feed} VALUES (3,'Cyd','UPSERT',2)")
    written = completed(ws, pipeline_id)
    assert written["clicks_bronze"] == 1  # a streaming table: only the new file's row
    users = sql(ws, f"SELECT user FROM main.{schema}.clicks_bronze ORDER BY 1")
    assert users == [["ann"], ["bob"], ["cy"]]
    assert written["clicks_files"] == 1
    files = sql(ws, f"SELECT * FROM main.{schema}.clicks_files ORDER BY 1")
    assert [row[:2] + row[-1:] for row in files] == [
        ["ann", "home", "1.csv"],
        ["bob", "cart", "1.csv"],
        ["cy", "home", "2.csv"],
    ]
    columns = sql(
        ws,
        f"SELECT column_name FROM main.information_schema.columns "
        f"WHERE table_schema = '{schema}' AND table_name = 'clicks_files'",
    )
    assert ["_metadata"] not in columns
    assert sql(
        ws,
        f"SELECT name, __END_AT FROM main.{schema}.customers_history WHERE id = 3 "
        "ORDER BY __START_AT",
    ) == [["Cy", "2"], ["Cyd", None]]


def test_an_error_in_python_pipeline_code_fails_the_update_with_its_traceback(ws: Any) -> None:

    schema, folder = fresh(ws, "err")
    # A workspace module next to the source is importable, as on Databricks.
    upload(ws, f"{folder}/helpers.py", "def ratio(x):\n    return x / 0\n")
    upload(
        ws,
        f"{folder}/broken.py",
        "import dlt\nfrom helpers import ratio\n\n\n"
        "@dlt.table\ndef broken():\n    ratio(1)\n    return spark.range(3)\n",
    )
    pipeline_id, update_id = file_pipeline(ws, "py-err", schema, f"{folder}/broken.py")
    assert finish(ws, pipeline_id, update_id).state.value == "FAILED"
    errors = [e for e in events(ws, pipeline_id, update_id) if e["level"] == "ERROR"]
    message = errors[-1]["message"]
    assert "ZeroDivisionError: division by zero" in message
    assert f"({folder}/helpers.py, line 2, in ratio)" in message.splitlines()[0]
    assert f'File "{folder}/broken.py", line 7, in broken' in message
    assert errors[-1]["error"]["exceptions"][0]["class_name"] == "ZeroDivisionError"
    assert sql(ws, f"SHOW TABLES IN main.{schema}") == []


def test_stopping_an_update_ends_the_python_planning_process(ws: Any) -> None:

    schema, folder = fresh(ws, "stop")
    upload(
        ws,
        f"{folder}/slow.py",
        "import time\nimport dlt\n\n"
        "time.sleep(120)  # module-level code that does not end\n\n"
        "@dlt.table\ndef never():\n    return spark.range(1)\n",
    )
    pipeline_id, update_id = file_pipeline(ws, "py-stop", schema, f"{folder}/slow.py")
    wait_for(
        lambda: (
            ws.pipelines.get_update(pipeline_id, update_id).update.state.value == "INITIALIZING"
        ),
        30,
    )
    started = time.monotonic()
    ws.pipelines.stop(pipeline_id)
    assert finish(ws, pipeline_id, update_id, timeout=30).state.value == "CANCELED"
    assert time.monotonic() - started < 15
