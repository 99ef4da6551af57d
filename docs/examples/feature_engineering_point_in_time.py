"""A point-in-time (AS OF) join of labels with a feature table, in plain SQL.

Each label row gets the latest feature values known at the label's timestamp, never values
from its future: that is what `FeatureLookup(timestamp_lookup_key=...)` does for a training
set. Runs on a SQL warehouse through the Statement Execution API (databricks-sdk only), so
it works unchanged on Databricks and the local workspace (`dbx-devkit local`).
Rerunnable: the tables are replaced.
"""

from __future__ import annotations

import os

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import StatementState

SCHEMA = "main.docs_feature_engineering"
FEATURES = f"{SCHEMA}.customer_features"  # keys: customer_id + feature_ts (time series)
LABELS = f"{SCHEMA}.customer_churn_labels"

SETUP = [
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE OR REPLACE TABLE {FEATURES} (
        customer_id BIGINT NOT NULL,
        feature_ts TIMESTAMP NOT NULL,
        customer_spend_30d DOUBLE,
        customer_orders_7d INT
    )""",
    f"""INSERT INTO {FEATURES} VALUES
        (1, TIMESTAMP '2026-01-01 00:00:00', 120.0, 2),
        (1, TIMESTAMP '2026-01-15 00:00:00', 80.0, 1),
        (1, TIMESTAMP '2026-02-01 00:00:00', 15.0, 0),
        (2, TIMESTAMP '2026-01-10 00:00:00', 300.0, 5)""",
    f"""CREATE OR REPLACE TABLE {LABELS} (
        customer_id BIGINT NOT NULL,
        label_ts TIMESTAMP NOT NULL,
        churned BOOLEAN
    )""",
    f"""INSERT INTO {LABELS} VALUES
        (1, TIMESTAMP '2026-01-20 00:00:00', FALSE),
        (1, TIMESTAMP '2026-02-05 00:00:00', TRUE),
        (2, TIMESTAMP '2026-01-05 00:00:00', FALSE)""",
]

# For every label, rank the feature rows of the same customer at or before the label time,
# newest first, and keep the first. A label with no earlier feature row keeps NULL features.
TRAINING_SET = f"""
WITH candidates AS (
    SELECT
        l.customer_id,
        l.label_ts,
        l.churned,
        f.customer_spend_30d,
        f.customer_orders_7d,
        ROW_NUMBER() OVER (
            PARTITION BY l.customer_id, l.label_ts
            ORDER BY f.feature_ts DESC
        ) AS recency_rank
    FROM {LABELS} AS l
    LEFT JOIN {FEATURES} AS f
        ON f.customer_id = l.customer_id
        AND f.feature_ts <= l.label_ts
)
SELECT customer_id, label_ts, customer_spend_30d, customer_orders_7d, churned
FROM candidates
WHERE recency_rank = 1
ORDER BY customer_id, label_ts
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


def main() -> None:
    """Build the two tables, then print the point-in-time training set."""
    w = WorkspaceClient()
    warehouse_id = os.environ.get("DATABRICKS_WAREHOUSE_ID") or next(
        wh.id for wh in w.warehouses.list() if wh.id
    )
    for statement in SETUP:
        run_sql(w, warehouse_id, statement)
    for customer_id, label_ts, spend, orders, churned in run_sql(w, warehouse_id, TRAINING_SET):
        print(f"{customer_id} {label_ts}: spend_30d={spend} orders_7d={orders} churned={churned}")


if __name__ == "__main__":
    main()
