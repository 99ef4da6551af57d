"""N concurrent MCP tool calls against injected latency, beside the same calls one by one.

A local workspace (no samples) on 127.0.0.1 adds ``--latency`` seconds to every Unity Catalog
request (fault injection, local_workspace/faults.py); an in-memory ``mcp.Client`` calls
``uc_list_catalogs`` N times one after another, then N times at once, in the same run. The
server runs sync tools in worker threads, so the concurrent calls should overlap their waits.

    python bench/concurrency.py [-n 16] [--latency 0.1]

Prints one line per figure; the last is the speedup (sequential over concurrent). Report
only: no target, it never fails on a figure.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from local_workspace.config import LocalConfig
from local_workspace.faults import FaultConfig
from local_workspace.runner import LocalWorkspace
from server.app import build_server
from server.runtime import Runtime
from server.settings import Settings
from tools_core.backend import local_backend

TOOL = "uc_list_catalogs"
UC = "/api/2.1/unity-catalog"


async def call(client: Client) -> None:
    """One tool call that must succeed."""
    result = await client.call_tool(TOOL, {})
    if result.is_error:
        raise SystemExit(f"{TOOL} failed: {result.content}")


async def measure(workspace: LocalWorkspace, n: int) -> tuple[float, float]:
    """(sequential seconds, concurrent seconds) of ``n`` calls each."""
    overrides: dict[str, Any] = {}  # the defaults, as `dbx-devkit serve` with no flags
    settings = Settings(**overrides)
    backend = local_backend(workspace.url, workspace.token)
    async with Client(build_server(settings, Runtime(settings, backend))) as client:
        await call(client)  # warm-up: builds the tool, opens the SDK's connection pool
        start = time.perf_counter()
        for _ in range(n):
            await call(client)
        sequential = time.perf_counter() - start
        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(n):
                group.start_soon(call, client)
        concurrent = time.perf_counter() - start
    return sequential, concurrent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=16, help="calls each way (default 16)")
    parser.add_argument("--latency", type=float, default=0.1, help="injected seconds per request")
    args = parser.parse_args()
    faults = FaultConfig(latency_s=args.latency, paths=(UC,))
    with tempfile.TemporaryDirectory() as tmp:
        config = LocalConfig(
            data_dir=Path(tmp) / "ws", seed=False, faults=faults, warm_mlflow=False
        )
        with LocalWorkspace(config) as workspace:
            sequential, concurrent = anyio.run(measure, workspace, args.n)
    print(f"concurrency.calls {args.n} x {TOOL}, {args.latency * 1000:.0f} ms injected latency")
    print(f"concurrency.sequential_s {sequential:.3f}")
    print(f"concurrency.concurrent_s {concurrent:.3f}")
    print(f"concurrency.speedup {sequential / concurrent:.1f}x (sequential over concurrent)")


if __name__ == "__main__":
    main()
