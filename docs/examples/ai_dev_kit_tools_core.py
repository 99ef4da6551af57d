"""Use dbx-devkit's tools_core from a script: the same operations the MCP tools run.

tools_core takes a Backend (a databricks-sdk WorkspaceClient plus what is known about it)
and returns typed results with a compact `to_text()`. `connect()` builds it from the SDK's
unified auth (DATABRICKS_HOST/DATABRICKS_TOKEN, a profile, OAuth...) and recognises the
local workspace (`dbx-devkit local` prints its exports), so this runs unchanged against
Databricks and the local workspace, MLflow registry included.
"""

from __future__ import annotations

from tools_core import registry, sql, uc
from tools_core.backend import connect
from tools_core.errors import ToolsCoreError


def main() -> None:
    """List a schema's tables, run a bounded query, list models, show a refused write."""
    backend = connect()  # environment or ~/.databrickscfg, like the Databricks CLI
    print(f"connected to the {backend.kind} workspace at {backend.host}")

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

    models = registry.list_models(backend, "main.%", limit=5)  # the MLflow model registry
    print(f"model registry: {len(models.models)} model(s) in main (5 at most)")

    try:  # query() accepts read statements only; execute() is the writer
        sql.query(backend, "DROP TABLE samples.nyctaxi.trips")
    except ToolsCoreError as error:
        print(f"refused: {error}")


if __name__ == "__main__":
    main()
