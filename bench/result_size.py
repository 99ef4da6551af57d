"""Result sizes: what a tool result costs in context, beside the uncapped API answer.

A seeded local workspace on 127.0.0.1; each case calls one tool through an in-memory
``mcp.Client`` (the default server: compact text, no structured content) and fetches the same
data uncapped with the SDK, as a server that returns raw API JSON would. Sizes are characters.

    python bench/result_size.py

Prints one line per figure: per case the tool's characters, the raw JSON characters, and
their ratio. Report only: no target, it never fails on a figure.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from local_workspace.config import LocalConfig
from local_workspace.runner import LocalWorkspace
from server.app import build_server
from server.runtime import Runtime
from server.settings import Settings
from tools_core.backend import Backend, local_backend

WAREHOUSE = "dbxlocal00000001"
TRIPS = "SELECT * FROM samples.nyctaxi.trips"


def raw_trips(backend: Backend) -> Any:
    """Every row of the trips table, as the Statement Execution API returns it."""
    response = backend.client.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE, statement=TRIPS, wait_timeout="50s"
    )
    return response.as_dict()


def raw_tables(backend: Backend) -> Any:
    """Every table of samples.tpch, as the Unity Catalog API returns them."""
    return [t.as_dict() for t in backend.client.tables.list("samples", "tpch")]


def raw_catalogs(backend: Backend) -> Any:
    return [c.as_dict() for c in backend.client.catalogs.list()]


CASES: list[tuple[str, str, dict[str, Any], Any]] = [
    ("sql_query_5000_rows", "sql_query", {"statement": TRIPS}, raw_trips),
    ("uc_list_tables_tpch", "uc_list_tables", {"catalog": "samples", "schema": "tpch"}, raw_tables),
    ("uc_list_catalogs", "uc_list_catalogs", {}, raw_catalogs),
]


async def measure(backend: Backend) -> None:
    settings = Settings()
    async with Client(build_server(settings, Runtime(settings, backend))) as client:
        for label, tool, arguments, raw in CASES:
            result = await client.call_tool(tool, arguments)
            if result.is_error:
                raise SystemExit(f"{tool} failed: {result.content}")
            text = "".join(getattr(block, "text", "") for block in result.content)
            uncapped = len(json.dumps(raw(backend), separators=(",", ":")))
            print(f"result_size.{label}.tool_chars {len(text)}")
            print(f"result_size.{label}.raw_json_chars {uncapped}")
            print(f"result_size.{label}.ratio {uncapped / len(text):.1f}x smaller than raw")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="dbx-devkit-bench-") as tmp:
        config = LocalConfig(data_dir=Path(tmp) / "ws", warm_mlflow=False)
        with LocalWorkspace(config) as workspace:
            anyio.run(measure, local_backend(workspace.url, workspace.token))


if __name__ == "__main__":
    main()
