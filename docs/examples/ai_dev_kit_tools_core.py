"""Use dbx-devkit's tools_core from a script: the same operations the MCP tools run.

tools_core takes a Backend (a databricks-sdk WorkspaceClient plus what is known about it)
and returns typed results with a compact `to_text()`. The client comes from the SDK's
unified auth (DATABRICKS_HOST/DATABRICKS_TOKEN, a profile, OAuth...), so this runs unchanged
against Databricks and the local workspace (`dbx-devkit local`).
"""

from __future__ import annotations

from tools_core import sql, uc
from tools_core.backend import Backend, workspace_client
from tools_core.errors import ToolsCoreError


def main() -> None:
    """List a schema's tables, run a bounded query, and show a refused write."""
    client = workspace_client()  # environment or ~/.databrickscfg, like the Databricks CLI
    backend = Backend(client, "remote", client.config.host or "")

    tables = uc.list_tables(backend, "samples", "nyctaxi")
    print(tables.to_text())

    result = sql.query(
        backend,
        """WITH by_zip AS (
            SELECT pickup_zip, COUNT(*) AS trip_count
            FROM samples.nyctaxi.trips
            GROUP BY pickup_zip
        )
        SELECT pickup_zip, trip_count FROM by_zip ORDER BY trip_count DESC, pickup_zip""",
        limit=3,
    )
    print(result.to_text())
    print(f"columns: {[c.name for c in result.columns]}, truncated: {result.truncated}")

    try:  # query() accepts read statements only; execute() is the writer
        sql.query(backend, "DROP TABLE samples.nyctaxi.trips")
    except ToolsCoreError as error:
        print(f"refused: {error}")


if __name__ == "__main__":
    main()
