"""Call the server's tools in memory (for ``dbx-devkit call`` and scripts)."""

from __future__ import annotations

from typing import Any

from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent

from server.app import build_server
from server.runtime import Runtime
from server.settings import Settings


async def call_tool(settings: Settings, name: str, arguments: dict[str, Any]) -> CallToolResult:
    """Build the server, call one tool through an in-memory MCP client, and clean up."""
    runtime = Runtime(settings)
    try:
        async with Client(build_server(settings, runtime)) as client:
            try:
                result = await client.call_tool(name, arguments)
            except MCPError as exc:  # a protocol error: the server has no such tool
                text = f"RESOURCE_DOES_NOT_EXIST: {exc.error.message}"
                return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
            assert isinstance(result, CallToolResult)
            return result
    finally:
        runtime.close()
