"""The runnable examples in docs/ work unchanged against the local workspace."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import Privilege

from local_workspace.runner import LocalWorkspace
from tests.conftest import mlflow_client_of, subprocess_env

REPO = Path(__file__).resolve().parents[1]
WAREHOUSE = "dbxlocal00000001"


def test_the_mlflow_tracking_example_logs_a_run_and_registers_a_three_level_model(
    local_ws: LocalWorkspace, tmp_path: Path
) -> None:
    # What `dbx-devkit local` tells the user to export, and nothing else.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DATABRICKS_"))}
    env |= {"MLFLOW_TRACKING_URI": local_ws.url, "MLFLOW_TRACKING_TOKEN": local_ws.token}
    result = subprocess.run(
        [sys.executable, str(REPO / "docs" / "examples" / "mlflow_tracking.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = re.search(
        r"run (\w+): registered main\.models\.fraud_detector version (\d+)", result.stdout
    )
    assert found, result.stdout

    client = mlflow_client_of(local_ws)
    run_id, version = found.groups()
    model_version = client.get_model_version("main.models.fraud_detector", version)
    assert model_version.run_id == run_id
    run = client.get_run(run_id)
    assert run.data.params == {"model": "logistic_regression", "C": "0.5", "max_iter": "200"}
    assert {"accuracy", "f1"} <= run.data.metrics.keys()
    assert client.get_experiment(run.info.experiment_id).name == "/Shared/fraud-detection"


# --- docs/databricks: every marked example is its file, and every example runs -------------

DOCS = REPO / "docs"
EXAMPLES = DOCS / "examples"
GUIDES = DOCS / "databricks"
MARKED = re.compile(
    r"<!-- example: (?P<path>examples/[\w./-]+) -->\n"
    r"```python\n(?P<code>.*?)```\n<!-- /example -->",
    re.DOTALL,
)
GUIDE_NAMES = [
    "mlflow",
    "unity-catalog",
    "feature-engineering",
    "delta-live-tables",
    "jobs",
    "mosaic-agents",
    "vector-search",
    "dspy",
    "apx-apps",
    "ai-dev-kit",
    "mcp-server",
]


def marked_examples() -> list[tuple[Path, str, str]]:
    """(guide, example path relative to docs/, embedded code) for every marked block."""
    return [
        (guide, found["path"], found["code"])
        for guide in sorted(GUIDES.glob("*.md"))
        for found in MARKED.finditer(guide.read_text())
    ]


def test_every_guide_exists_and_the_index_links_each_one() -> None:
    index = (GUIDES / "README.md").read_text()
    for name in GUIDE_NAMES:
        assert (GUIDES / f"{name}.md").is_file(), name
        assert f"({name}.md)" in index, name


def test_every_marked_example_in_the_guides_is_exactly_its_file() -> None:
    blocks = marked_examples()
    assert blocks, "no marked examples found"
    for guide, path, code in blocks:
        assert (DOCS / path).is_file(), f"{guide.name} embeds missing {path}"
        assert code == (DOCS / path).read_text(), f"{guide.name}: block differs from {path}"
    # Every example file is shown in some guide (no orphan, no example that never runs in docs).
    assert {path for _, path, _ in blocks} == {f"examples/{p.name}" for p in EXAMPLES.glob("*.py")}


def test_no_guide_leaves_a_half_marked_example() -> None:
    for guide in GUIDES.glob("*.md"):
        text = guide.read_text()
        assert text.count("<!-- example:") == text.count("<!-- /example -->"), guide.name
        assert text.count("<!-- example:") == len(MARKED.findall(text)), guide.name


def run_example(
    name: str, local_ws: LocalWorkspace, tmp_path: Path, *, sdk: bool = True, mlflow: bool = False
) -> str:
    """Run docs/examples/<name> as a user would (only the exported variables), return stdout."""
    env = subprocess_env(tmp_path)
    if sdk:
        env |= {"DATABRICKS_HOST": local_ws.url, "DATABRICKS_TOKEN": local_ws.token}
    if mlflow:
        env |= {"MLFLOW_TRACKING_URI": local_ws.url, "MLFLOW_TRACKING_TOKEN": local_ws.token}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def scalar(ws: WorkspaceClient, sql: str) -> str:
    """The first value of a one-row query on the default warehouse."""
    response = ws.statement_execution.execute_statement(
        statement=sql, warehouse_id=WAREHOUSE, wait_timeout="30s"
    )
    assert response.result and response.result.data_array, response.status
    return response.result.data_array[0][0]


def test_the_unity_catalog_example_creates_a_table_lists_it_grants_select_and_reruns(
    local_ws: LocalWorkspace, ws: WorkspaceClient, tmp_path: Path
) -> None:
    for _ in range(2):  # rerunnable: the second run replaces what the first made
        out = run_example("unity_catalog_tables.py", local_ws, tmp_path)
        assert "customer 10: 2 orders, 65.50 total" in out
        assert "customer 11: 1 orders, 12.99 total" in out
        assert "table main.docs_unity_catalog.customer_orders (MANAGED)" in out
        assert "grant data-analysts: SELECT" in out

    table = ws.tables.get("main.docs_unity_catalog.customer_orders")
    assert [c.name for c in table.columns or []] == [
        "order_id",
        "customer_id",
        "amount",
        "ordered_at",
    ]
    assert scalar(ws, "SELECT COUNT(*) FROM main.docs_unity_catalog.customer_orders") == "3"
    schema_grants = ws.grants.get(securable_type="schema", full_name="main.docs_unity_catalog")
    assert any(
        a.principal == "data-analysts" and Privilege.USE_SCHEMA in (a.privileges or [])
        for a in schema_grants.privilege_assignments or []
    )
    grants = ws.grants.get(
        securable_type="table", full_name="main.docs_unity_catalog.customer_orders"
    )
    assert any(
        a.principal == "data-analysts" and Privilege.SELECT in (a.privileges or [])
        for a in grants.privilege_assignments or []
    )


def test_the_jobs_example_runs_load_then_report_and_prints_the_report(
    local_ws: LocalWorkspace, ws: WorkspaceClient, tmp_path: Path
) -> None:
    out = run_example("jobs_two_tasks.py", local_ws, tmp_path)
    trips = scalar(ws, "SELECT COUNT(*) FROM samples.nyctaxi.trips")
    assert re.search(r"job \d+ run \d+: SUCCESS", out), out
    assert f"task load: loaded {trips} trips" in out
    assert f"task report: report for 2026-01-31: {trips} trips" in out

    run_example("jobs_two_tasks.py", local_ws, tmp_path)  # a rerun resets, never duplicates
    (job,) = list(ws.jobs.list(name="docs-report-daily", expand_tasks=True))
    tasks = {t.task_key: t for t in (job.settings.tasks if job.settings else None) or []}
    assert [d.task_key for d in tasks["report"].depends_on or []] == ["load"]


def test_the_mlflow_alias_example_promotes_the_better_challenger_to_champion(
    local_ws: LocalWorkspace, tmp_path: Path
) -> None:
    out = run_example("mlflow_aliases.py", local_ws, tmp_path, sdk=False, mlflow=True)
    found = re.search(r"promoted version (\d+) to champion", out)
    assert found, out
    assert re.search(r"champion predicts \[[01, ]+\]", out), out

    client = mlflow_client_of(local_ws)
    model = client.get_registered_model("main.docs_mlflow.churn_classifier")
    assert model.aliases == {"champion": found[1]}  # the challenger alias is gone
    champion = client.get_model_version_by_alias(model.name, "champion")
    assert champion.tags.get("validation_status") == "approved"


def test_the_agent_answers_in_process_with_its_tool(
    local_ws: LocalWorkspace, tmp_path: Path
) -> None:
    out = run_example("mosaic_agents_agent.py", local_ws, tmp_path, sdk=False, mlflow=True)
    assert out.strip() == "Your order is shipped on 2026-01-30."


def test_the_agent_logged_from_code_is_registered_reloaded_and_calls_its_tool(
    local_ws: LocalWorkspace, tmp_path: Path
) -> None:
    out = run_example("mosaic_agents_log_and_query.py", local_ws, tmp_path, sdk=False, mlflow=True)
    found = re.search(r"registered main\.docs_mosaic_agents\.order_status_agent version (\d+)", out)
    assert found, out
    assert (
        "Where is order 1001? -> Your order is shipped on 2026-01-30. (tools: get_order_status)"
        in out
    )
    assert (
        "And my other order? -> Please give me your four-digit order number. (tools: none)" in out
    )

    client = mlflow_client_of(local_ws)
    version = client.get_model_version("main.docs_mosaic_agents.order_status_agent", found[1])
    run = client.get_run(str(version.run_id))
    assert client.get_experiment(run.info.experiment_id).name == "/Shared/docs-order-status-agent"


def test_the_vector_search_example_upserts_and_finds_the_nearest_articles(
    local_ws: LocalWorkspace, ws: WorkspaceClient, tmp_path: Path
) -> None:
    for _ in range(2):  # rerunnable: the index is dropped and recreated
        out = run_example("vector_search_direct_access.py", local_ws, tmp_path)
        assert "upserted: SUCCESS" in out
        assert "filter None: ['Reset your password', 'Change your email']" in out
        assert "filter {'topic': 'billing'}: ['Update a credit card', 'Refund a payment']" in out

    index = ws.vector_search_indexes.get_index("main.docs_vector_search.support_articles_index")
    assert index.endpoint_name == "docs-vector-search"
    assert index.status and index.status.indexed_row_count == 4


def test_the_point_in_time_example_never_takes_a_feature_value_from_the_future(
    local_ws: LocalWorkspace, tmp_path: Path
) -> None:
    out = run_example("feature_engineering_point_in_time.py", local_ws, tmp_path)
    assert out.splitlines() == [
        # 2026-01-20 sees the 01-15 row, not the later 02-01 one.
        "1 2026-01-20T00:00:00.000Z: spend_30d=80.0 orders_7d=1 churned=false",
        "1 2026-02-05T00:00:00.000Z: spend_30d=15.0 orders_7d=0 churned=true",
        # Customer 2's only feature row is after its label: no value leaks back.
        "2 2026-01-05T00:00:00.000Z: spend_30d=None orders_7d=None churned=false",
    ]


def test_the_tools_core_example_lists_tables_caps_a_query_and_refuses_a_drop(
    local_ws: LocalWorkspace, tmp_path: Path
) -> None:
    out = run_example("ai_dev_kit_tools_core.py", local_ws, tmp_path)
    assert f"connected to the local workspace at {local_ws.url}" in out
    assert re.search(r"model registry: \d+ model\(s\) in main", out), out
    assert "| samples.nyctaxi.trips | MANAGED |" in out
    assert "columns: ['pickup_zip', 'trip_count'], truncated: True" in out
    assert "refused: INVALID_PARAMETER_VALUE: sql_query is read-only" in out


def test_the_pipeline_example_drops_the_bad_rows_and_reports_them_in_the_event_log(
    local_ws: LocalWorkspace, ws: WorkspaceClient, tmp_path: Path
) -> None:
    for _ in range(2):  # rerunnable: the pipeline is updated, never duplicated
        out = run_example("delta_live_tables_medallion.py", local_ws, tmp_path)
        assert out.splitlines() == [
            "pipeline docs-orders-hourly: update COMPLETED",
            "orders_silver.positive_amount: passed 3, failed 2",
            "customer 10: 2 orders, 65.50 total",
            "customer 11: 1 orders, 12.00 total",
        ]
    found = [p for p in ws.pipelines.list_pipelines() if p.name == "docs-orders-hourly"]
    assert len(found) == 1
    assert scalar(ws, "SELECT COUNT(*) FROM main.docs_delta_live_tables.orders_silver") == "3"
