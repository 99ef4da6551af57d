"""First tool call after start-up: at once, and after the background warm-up.

The server answers tools/list without importing databricks-sdk or starting the local
workspace; a warm-up thread does both shortly after. This prints how long the first
``workspace_context`` call takes when it comes at once (pays the start) and when it comes
after a pause (the warm-up has paid it), in the same run.

    python bench/first_call.py [--pause 8]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


async def first_call_s(pause_s: float) -> float:
    """Seconds of the first workspace_context call, ``pause_s`` after tools/list."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABRICKS_", "MLFLOW_", "DBX_DEVKIT_"))
        }
        env["HOME"] = tmp
        env["DBX_DEVKIT_DATA_DIR"] = str(Path(tmp) / "data")
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "server.cli", "serve"], env=env
        )
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            await session.list_tools()
            await anyio.sleep(pause_s)
            start = time.monotonic()
            result = await session.call_tool("workspace_context", {})
            elapsed = time.monotonic() - start
            if result.is_error:
                raise SystemExit(f"workspace_context failed: {result.content}")
            return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pause", type=float, default=8.0, help="seconds before the call")
    args = parser.parse_args()
    cold = anyio.run(first_call_s, 0.0)
    warm = anyio.run(first_call_s, args.pause)
    print(f"first_call.immediate_s {cold:.3f}")
    print(f"first_call.after_{args.pause:g}s_pause_s {warm:.3f}")
    print(f"first_call.ratio {cold / warm:.0f}x faster after the warm-up")


if __name__ == "__main__":
    main()
