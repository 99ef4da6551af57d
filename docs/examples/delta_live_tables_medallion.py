"""A medallion SQL pipeline (bronze -> silver with an expectation -> gold), created and run.

Uploads the pipeline's SQL file, creates the pipeline (or updates the one of the same name),
runs a full refresh, prints the expectation's passed and dropped counts from the event log,
and queries the gold materialized view. Uses only the databricks-sdk; runs unchanged against
Databricks (serverless pipelines) and the local workspace (`dbx-devkit local`).
Rerunnable: the raw table is replaced and every update is a full refresh.
"""

from __future__ import annotations

import os
import time
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.pipelines import FileLibrary, PipelineLibrary, UpdateInfoState
from databricks.sdk.service.sql import StatementState
from databricks.sdk.service.workspace import ImportFormat

CATALOG = "main"
SCHEMA = "docs_delta_live_tables"
PIPELINE_NAME = "docs-orders-hourly"  # domain-action-frequency
SOURCE_PATH = "/Shared/docs_delta_live_tables/orders_pipeline.sql"

PIPELINE_SQL = f"""\
CREATE OR REFRESH STREAMING TABLE orders_bronze
COMMENT 'Raw orders as delivered'
AS SELECT * FROM STREAM({CATALOG}.{SCHEMA}.raw_orders);

CREATE OR REFRESH STREAMING TABLE orders_silver (
    CONSTRAINT positive_amount EXPECT (amount > 0) ON VIOLATION DROP ROW
)
AS SELECT order_id, customer_id, amount FROM STREAM(orders_bronze);

CREATE OR REFRESH MATERIALIZED VIEW customer_spend_gold
AS WITH per_customer AS (
    SELECT customer_id, COUNT(*) AS order_count, SUM(amount) AS customer_spend_total
    FROM orders_silver
    GROUP BY customer_id
)
SELECT customer_id, order_count, customer_spend_total FROM per_customer;
"""


def run_sql(w: WorkspaceClient, warehouse_id: str, statement: str) -> list[list[str]]:
    """Run one statement on the warehouse, wait for it, and return its rows."""
    response = w.statement_execution.execute_statement(
        statement=statement, warehouse_id=warehouse_id, wait_timeout="30s"
    )
    status = response.status
    if status is None or status.state != StatementState.SUCCEEDED:
        error = status.error.message if status and status.error else status
        raise RuntimeError(f"statement failed: {error}")
    return response.result.data_array or [] if response.result else []


def deploy_pipeline(w: WorkspaceClient) -> str:
    """Create the pipeline, or point the existing one of this name at the same source."""
    settings: dict[str, Any] = {
        "name": PIPELINE_NAME,
        "catalog": CATALOG,
        "schema": SCHEMA,
        "libraries": [PipelineLibrary(file=FileLibrary(path=SOURCE_PATH))],
        "serverless": True,
        "development": True,
    }
    for pipeline in w.pipelines.list_pipelines(filter=f"name LIKE '{PIPELINE_NAME}'"):
        if pipeline.pipeline_id and pipeline.name == PIPELINE_NAME:
            w.pipelines.update(pipeline_id=pipeline.pipeline_id, **settings)
            return pipeline.pipeline_id
    created = w.pipelines.create(**settings)
    if created.pipeline_id is None:
        raise RuntimeError("pipelines/create returned no pipeline_id")
    return created.pipeline_id


def wait_for_update(w: WorkspaceClient, pipeline_id: str, update_id: str) -> UpdateInfoState:
    """Poll the update until it completes, fails or is canceled."""
    final = {UpdateInfoState.COMPLETED, UpdateInfoState.FAILED, UpdateInfoState.CANCELED}
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        update = w.pipelines.get_update(pipeline_id=pipeline_id, update_id=update_id).update
        if update and update.state in final:
            return update.state
        time.sleep(1)
    raise TimeoutError(f"update {update_id} did not finish")


def expectation_counts(w: WorkspaceClient, pipeline_id: str, update_id: str) -> list[str]:
    """Passed/failed records per expectation, from the update's flow_progress events."""
    # The raw REST answer: the SDK's PipelineEvent does not carry the event `details`.
    body = w.api_client.do(
        "GET", f"/api/2.0/pipelines/{pipeline_id}/events", query={"max_results": 250}
    )
    lines = []
    for event in body.get("events", []) if isinstance(body, dict) else []:
        if event.get("origin", {}).get("update_id") != update_id:
            continue
        progress = event.get("details", {}).get("flow_progress", {})
        for check in progress.get("data_quality", {}).get("expectations", []):
            lines.append(
                f"{check['dataset']}.{check['name']}: "
                f"passed {check['passed_records']}, failed {check['failed_records']}"
            )
    return lines


def main() -> None:
    """Raw rows, pipeline source, pipeline, one full refresh, then the results."""
    w = WorkspaceClient()
    warehouse_id = os.environ.get("DATABRICKS_WAREHOUSE_ID") or next(
        wh.id for wh in w.warehouses.list() if wh.id
    )
    run_sql(w, warehouse_id, f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{SCHEMA}")
    run_sql(
        w,
        warehouse_id,
        f"""CREATE OR REPLACE TABLE {CATALOG}.{SCHEMA}.raw_orders AS
        SELECT * FROM VALUES
            (1, 10, 25.0), (2, 10, 40.5), (3, 11, 12.0), (4, 11, -3.0), (5, 12, 0.0)
        AS t(order_id, customer_id, amount)""",
    )

    w.workspace.mkdirs(SOURCE_PATH.rsplit("/", 1)[0])
    w.workspace.upload(SOURCE_PATH, PIPELINE_SQL.encode(), format=ImportFormat.AUTO, overwrite=True)
    pipeline_id = deploy_pipeline(w)
    update_id = w.pipelines.start_update(pipeline_id=pipeline_id, full_refresh=True).update_id
    if update_id is None:
        raise RuntimeError("pipelines/start_update returned no update_id")
    state = wait_for_update(w, pipeline_id, update_id)
    print(f"pipeline {PIPELINE_NAME}: update {state.value}")

    for line in expectation_counts(w, pipeline_id, update_id):
        print(line)
    rows = run_sql(
        w,
        warehouse_id,
        f"""SELECT customer_id, order_count, customer_spend_total
        FROM {CATALOG}.{SCHEMA}.customer_spend_gold ORDER BY customer_id""",
    )
    for customer_id, order_count, total in rows:
        print(f"customer {customer_id}: {order_count} orders, {float(total):.2f} total")


if __name__ == "__main__":
    main()
