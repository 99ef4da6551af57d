"""Per-call overhead of an MCP tool call over the direct tools_core call it wraps.

The same operation both ways, interleaved, in the same run, against a local workspace (no
samples) on 127.0.0.1: ``tools_core.uc.list_catalogs(backend)`` called directly, and
``uc_list_catalogs`` through an in-memory ``mcp.Client`` (JSON-RPC, argument validation,
a worker thread, the error boundary, result rendering).

    python bench/call_overhead.py [-n 50]

Prints one line per figure (medians); the last two are the ratio and the absolute overhead.
Report only: no target, it never fails on a figure.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from local_workspace.config import LocalConfig
from local_workspace.runner import LocalWorkspace
from server.app import build_server
from server.runtime import Runtime
from server.settings import Settings
from tools_core import uc
from tools_core.backend import Backend, local_backend

TOOL = "uc_list_catalogs"


async def measure(backend: Backend, n: int) -> tuple[list[float], list[float]]:
    """Milliseconds of ``n`` direct calls and ``n`` MCP calls, interleaved."""
    overrides: dict[str, Any] = {}  # the defaults, as `dbx-devkit serve` with no flags
    settings = Settings(**overrides)
    direct: list[float] = []
    over_mcp: list[float] = []
    async with Client(build_server(settings, Runtime(settings, backend))) as client:
        uc.list_catalogs(backend)  # warm-up both paths: imports, tool build, connection pool
        await client.call_tool(TOOL, {})
        for _ in range(n):
            start = time.perf_counter()
            uc.list_catalogs(backend).to_text()
            direct.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            result = await client.call_tool(TOOL, {})
            over_mcp.append((time.perf_counter() - start) * 1000)
            if result.is_error:
                raise SystemExit(f"{TOOL} failed: {result.content}")
    return direct, over_mcp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50, help="calls each way (default 50)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalWorkspace(
            LocalConfig(data_dir=Path(tmp) / "ws", seed=False, warm_mlflow=False)
        ) as workspace,
    ):
        backend = local_backend(workspace.url, workspace.token)
        direct, over_mcp = anyio.run(measure, backend, args.n)
    direct_ms, mcp_ms = statistics.median(direct), statistics.median(over_mcp)
    print(
        f"call_overhead.direct_ms {direct_ms:.2f} (tools_core.uc.list_catalogs, median of {args.n})"
    )
    print(
        f"call_overhead.mcp_ms {mcp_ms:.2f} ({TOOL} via in-memory mcp.Client, median of {args.n})"
    )
    print(f"call_overhead.ratio {mcp_ms / direct_ms:.2f}x (MCP over direct)")
    print(f"call_overhead.overhead_ms {mcp_ms - direct_ms:.2f}")


if __name__ == "__main__":
    main()
