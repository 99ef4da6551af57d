"""tools/list size in compact JSON characters, with and without output schemas.

    python bench/tools_list_size.py

Prints one line per figure: the whole list both ways, each toolset, the walking skeleton's
17 tools (budget 8,100 characters without output schemas, the default),
the average per tool, then the five biggest tools.
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

# The walking skeleton's 17 tools (issue 2): later tools in the same toolsets count against
# the average budget instead.
SKELETON_TOOLS = frozenset(
    {
        "workspace_context",
        "workspace_list",
        "workspace_read",
        "workspace_write",
        "workspace_mkdirs",
        "workspace_delete",
        "uc_list_catalogs",
        "uc_list_schemas",
        "uc_list_tables",
        "uc_get_table",
        "uc_list_volumes",
        "uc_get_grants",
        "uc_update_grants",
        "sql_query",
        "sql_execute",
        "sql_get_result",
        "sql_list_warehouses",
    }
)
# 8,000 until issue 11 gave sql_execute its confirm parameter (~100 characters, after trimming).
BUDGET = 8_100
AVERAGE_BUDGET = 500


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
    toolsets: dict[str, int] = {}
    for tool in without:
        toolset = tool.name.split("_")[0]
        toolsets[toolset] = toolsets.get(toolset, 0) + len(compact([tool]))
    skeleton = len(compact([t for t in without if t.name in SKELETON_TOOLS]))
    average = len(compact(without)) / len(without)
    ok_skeleton = skeleton <= BUDGET
    ok_average = average <= AVERAGE_BUDGET
    print(f"tools_list.tools {len(without)}")
    print(f"tools_list.chars_without_output_schemas {len(compact(without))}")
    print(f"tools_list.chars_with_output_schemas {len(compact(with_schemas))}")
    for toolset, size in sorted(toolsets.items()):
        print(f"tools_list.toolset.{toolset} {size}")
    verdict = "ok" if ok_skeleton else "OVER BUDGET"
    print(f"tools_list.skeleton_chars {skeleton} (17 tools, budget {BUDGET}: {verdict})")
    verdict = "ok" if ok_average else "OVER BUDGET"
    print(f"tools_list.average_chars {average:.0f} (budget {AVERAGE_BUDGET}: {verdict})")
    for tool in sorted(without, key=lambda t: -len(compact([t])))[:5]:
        print(f"tools_list.top.{tool.name} {len(compact([tool]))}")
    return 0 if ok_skeleton and ok_average else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
