"""Create a schema and a table in Unity Catalog, list the tables, and grant read access.

Uses only the databricks-sdk and its unified auth (DATABRICKS_HOST/DATABRICKS_TOKEN or a
profile). Runs unchanged against Databricks and the local workspace (`dbx-devkit local`).
Rerunnable: every statement is idempotent.
"""

from __future__ import annotations

import os

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.catalog import PermissionsChange, Privilege
from databricks.sdk.service.sql import StatementState

CATALOG = "main"
SCHEMA = "docs_unity_catalog"
TABLE = f"{CATALOG}.{SCHEMA}.customer_orders"  # catalog.schema.noun_noun


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
    """Schema, table, rows, listing and a grant: the Unity Catalog basics."""
    w = WorkspaceClient()
    warehouse_id = os.environ.get("DATABRICKS_WAREHOUSE_ID") or next(
        wh.id for wh in w.warehouses.list() if wh.id
    )

    run_sql(w, warehouse_id, f"CREATE SCHEMA IF NOT EXISTS {CATALOG}.{SCHEMA}")
    run_sql(
        w,
        warehouse_id,
        f"""CREATE OR REPLACE TABLE {TABLE} (
            order_id BIGINT,
            customer_id BIGINT,
            amount DECIMAL(10, 2),
            ordered_at TIMESTAMP
        ) COMMENT 'One row per customer order'""",
    )
    run_sql(
        w,
        warehouse_id,
        f"""INSERT INTO {TABLE} VALUES
            (1, 10, 25.00, TIMESTAMP '2026-01-05 10:00:00'),
            (2, 10, 40.50, TIMESTAMP '2026-01-09 16:30:00'),
            (3, 11, 12.99, TIMESTAMP '2026-01-10 08:15:00')""",
    )

    rows = run_sql(
        w,
        warehouse_id,
        f"""WITH per_customer AS (
            SELECT customer_id, COUNT(*) AS order_count, SUM(amount) AS total_amount
            FROM {TABLE}
            GROUP BY customer_id
        )
        SELECT customer_id, order_count, total_amount FROM per_customer ORDER BY customer_id""",
    )
    for customer_id, order_count, total_amount in rows:
        print(f"customer {customer_id}: {order_count} orders, {total_amount} total")

    for table in w.tables.list(catalog_name=CATALOG, schema_name=SCHEMA):
        print(f"table {table.full_name} ({table.table_type.value if table.table_type else '?'})")

    # Read access for a group: SELECT on the table, USE SCHEMA on its schema (and USE CATALOG
    # on the catalog, usually granted once by the catalog's owner).
    w.grants.update(
        securable_type="schema",
        full_name=f"{CATALOG}.{SCHEMA}",
        changes=[PermissionsChange(principal="data-analysts", add=[Privilege.USE_SCHEMA])],
    )
    w.grants.update(
        securable_type="table",
        full_name=TABLE,
        changes=[PermissionsChange(principal="data-analysts", add=[Privilege.SELECT])],
    )
    for assignment in (
        w.grants.get(securable_type="table", full_name=TABLE).privilege_assignments or []
    ):
        privileges = sorted(p.value for p in assignment.privileges or [])
        print(f"grant {assignment.principal}: {', '.join(privileges)}")


if __name__ == "__main__":
    main()
