"""Planning Python pipeline sources into pipeline SQL, in-process (no update, no child).

The graph runs dataset functions with the local SparkSession; nothing here needs the SQL
warehouse (no schema lookups), so the session points nowhere.
"""

from __future__ import annotations

from typing import Any

import pytest

from local_workspace.pipelines.plan import build_plan, check_plan
from local_workspace.pipelines.python_api import PipelineGraph
from local_workspace.pipelines.python_child import dlt_module
from local_workspace.pipelines.python_sql import PythonPlanError
from local_workspace.pipelines.sqlfile import Statement


@pytest.fixture(autouse=True)
def _own_modules(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Planning installs the local pyspark/dlt modules in this process: they leave with the
    test, so later tests in the worker (MLflow probes for pyspark) see the process as it was."""
    import sys

    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.partition(".")[0] in ("pyspark", "delta", "dlt"):
            del sys.modules[name]


def planned(source: str, sql_datasets: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The statements a Python source plans into (path ``/p.py``)."""
    from local_workspace.spark import SparkSession, install_modules

    session = SparkSession(host="http://127.0.0.1:9", token="unused")
    graph = PipelineGraph(session, "main", "sales", dict(sql_datasets or {}))
    dlt = dlt_module(graph, "dlt")
    install_modules(extra={"dlt": dlt, "pyspark.pipelines": dlt_module(graph, "pyspark.pipelines")})
    graph.attach()
    exec(compile(source, "/p.py", "exec"), {"dlt": dlt, "spark": session})
    return graph.evaluate_all()


def test_decorator_options_and_expectations_become_the_pipeline_sql_the_runner_reads() -> None:
    statements = planned(
        "@dlt.table(comment=\"it's silver\", table_properties={'quality': 'silver'},\n"
        "           partition_cols=['region'])\n"
        "@dlt.expect_or_drop('positive', 'amount > 0')\n"
        "@dlt.expect_all_or_fail({'has id': 'id IS NOT NULL'})\n"
        "def silver():\n"
        "    return dlt.read_stream('bronze')\n\n"
        "@dlt.table(name='bronze')\n"
        "def raw_orders():\n"
        "    return spark.readStream.table('main.raw.orders')\n\n"
        "@dlt.view\n"
        "def recent():\n"
        "    return spark.read.table('LIVE.silver')\n"
    )
    assert [(s["path"], s["line"]) for s in statements] == [
        ("/p.py", 1),
        ("/p.py", 8),
        ("/p.py", 12),
    ]
    plan = build_plan([Statement(s["sql"], s["path"], s["line"]) for s in statements])
    check_plan(plan)
    silver, bronze, recent = (
        plan.datasets["silver"],
        plan.datasets["bronze"],
        plan.datasets["recent"],
    )
    assert (silver.kind, bronze.kind, recent.kind) == ("STREAMING_TABLE", "STREAMING_TABLE", "VIEW")
    assert silver.comment == "it's silver"
    assert {(e.name, e.condition, e.action) for e in silver.expectations} == {
        ("positive", "amount > 0", "DROP"),
        ("has id", "id IS NOT NULL", "FAIL"),
    }
    assert "STREAM(bronze)" in (silver.query or "").replace(" ", "")
    assert "STREAM(main.raw.orders)" in (bronze.query or "").replace(" ", "")
    assert "PARTITIONED BY (region)" in statements[0]["sql"]


def test_cdc_flows_and_append_flows_plan_into_apply_changes_and_a_union() -> None:
    statements = planned(
        "dlt.create_streaming_table('customers')\n"
        "dlt.apply_changes(target='customers', source='feed', keys=['id'], sequence_by='seq',\n"
        "    stored_as_scd_type='2', apply_as_deletes=\"op = 'D'\", except_column_list=['op'])\n"
        "dlt.create_streaming_table('events')\n"
        "@dlt.append_flow(target='events')\n"
        "def web():\n"
        "    return spark.readStream.table('web_events')\n"
        "@dlt.append_flow(target='events')\n"
        "def app():\n"
        "    return spark.readStream.table('app_events')\n"
    )
    plan = build_plan([Statement(s["sql"], s["path"], s["line"]) for s in statements])
    check_plan(plan)
    spec, _ = plan.cdc["customers"]
    assert (spec.source, spec.keys, spec.sequence_by, spec.scd_type) == ("feed", ["id"], "seq", 2)
    assert spec.apply_as_deletes == "op = 'D'" and spec.except_column_list == ["op"]
    events = plan.datasets["events"].query or ""
    assert "UNION ALL" in events and "STREAM(web_events)" in events.replace(" ", "")


def test_a_cdc_flow_in_python_may_write_a_streaming_table_declared_in_sql() -> None:
    declared = {"orders": {"kind": "STREAMING_TABLE"}}
    statements = planned(
        "dlt.apply_changes(target='orders', source='main.raw.feed', keys=['id'],\n"
        "    sequence_by='seq')\n",
        declared,
    )
    assert [s["sql"].split("\n")[:2] for s in statements] == [
        ["APPLY CHANGES INTO orders", "FROM STREAM(main.raw.feed)"]
    ]


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        (
            "@dlt.table\ndef a():\n    return dlt.read('b')\n"
            "@dlt.table\ndef b():\n    return dlt.read('a')\n",
            "cycle: a -> b -> a",
        ),
        ("@dlt.table\ndef a():\n    return dlt.read('nowhere')\n", "Dataset is not defined"),
        ("@dlt.table\ndef a():\n    return [1, 2]\n", "returned list, not a DataFrame"),
        (
            "@dlt.materialized_view\ndef a():\n    return spark.readStream.table('t')\n",
            "STREAMING_RELATION_FOR_MATERIALIZED_VIEW",
        ),
        (
            "dlt.apply_changes(target='t', source='s', keys=['id'], sequence_by='seq')\n",
            "dlt.create_streaming_table('t')",
        ),
        ("@dlt.table\ndef a():\n    return spark.read.table('x')\n" * 2, "defined twice"),
        ("dlt.create_sink('s', 'kafka', {})\n", "create_sink is not supported"),
    ],
    ids=["cycle", "unknown", "not_a_dataframe", "streaming_mv", "undeclared_cdc", "twice", "sink"],
)
def test_python_sources_that_cannot_be_planned_say_why(source: str, needle: str) -> None:
    with pytest.raises(PythonPlanError) as raised:
        planned(source)
    assert needle in str(raised.value)


def test_a_python_dataset_reading_a_sql_dataset_describes_it_by_its_definition() -> None:
    from local_workspace.spark import SparkSession

    session = SparkSession(host="http://127.0.0.1:9", token="unused")
    graph = PipelineGraph(
        session,
        "main",
        "sales",
        {"orders": {"kind": "STREAMING_TABLE", "query": "SELECT * FROM STREAM(raw.orders)"}},
    )
    # Nothing exists yet: a schema lookup reads through the definitions down to real tables.
    assert graph.schema_sql("orders") == "SELECT * FROM raw.orders"
    assert graph.key("main.sales.ORDERS") == graph.key("live.orders") == "orders"
    assert graph.key("other.orders") is None


def test_auto_loader_in_a_pipeline_streams_the_files_of_a_volume() -> None:
    from local_workspace.pipelines.python_session import PipelineSession
    from local_workspace.spark import AnalysisException

    spark = PipelineSession(host="http://127.0.0.1:9", token="unused")
    frame = (
        spark.readStream.format("cloudFiles")
        .option("cloudFiles.format", "csv")
        .option("cloudFiles.schemaLocation", "/Volumes/main/raw/state")
        .option("cloudFiles.inferColumnTypes", "true")
        .option("header", True)
        .load("/Volumes/main/raw/landing/orders")
    )
    assert frame.isStreaming
    text = frame.sql_text
    assert text.startswith("SELECT * FROM STREAM(read_files('/Volumes/main/raw/landing/orders'")
    assert "format => 'csv'" in text and "inferColumnTypes" in text
    assert "schemaLocation" not in text  # where Auto Loader keeps its state: no meaning here
    with pytest.raises(AnalysisException, match="CF_FORMAT_NOT_SPECIFIED"):
        spark.readStream.format("cloudFiles").load("/Volumes/main/raw/landing/orders")
