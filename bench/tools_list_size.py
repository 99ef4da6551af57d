"""tools/list size in compact JSON characters, with and without output schemas.

    python bench/tools_list_size.py

Prints one line per figure: the whole list both ways (budget: 8,000 characters without
output schemas, the default), then the five biggest tools.
"""

from __future__ import annotations

import json
import sys

import anyio
from mcp import Client
from mcp.types import Tool

from server.app import build_server
from server.runtime import Runtime
from server.settings import Settings

BUDGET = 8_000


def compact(tools: list[Tool]) -> str:
    """The tools as compact JSON, the way they cost context on every turn."""
    dumped = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    return json.dumps(dumped, separators=(",", ":"))


async def tools_list(output_schemas: bool) -> list[Tool]:
    """tools/list of the full server (every toolset, read-write)."""
    settings = Settings(output_schemas=output_schemas, local=True)
    async with Client(build_server(settings, Runtime(settings))) as client:
        return list((await client.list_tools()).tools)


async def main() -> int:
    without = await tools_list(output_schemas=False)
    with_schemas = await tools_list(output_schemas=True)
    size = len(compact(without))
    verdict = "ok" if size <= BUDGET else "OVER BUDGET"
    print(f"tools_list.tools {len(without)}")
    print(f"tools_list.chars_without_output_schemas {size} (budget {BUDGET}: {verdict})")
    print(f"tools_list.chars_with_output_schemas {len(compact(with_schemas))}")
    for tool in sorted(without, key=lambda t: -len(compact([t])))[:5]:
        print(f"tools_list.top.{tool.name} {len(compact([tool]))}")
    return 0 if size <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
