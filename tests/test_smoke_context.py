"""workspace_context through the MCP server, and what a result carries by default."""

from __future__ import annotations

import pytest

from tests.conftest import mcp_session, ok, text_of

pytestmark = pytest.mark.anyio


async def test_workspace_context_says_the_backend_is_local(backend) -> None:
    async with mcp_session(backend) as client:
        result = await ok(client, "workspace_context")
    text = text_of(result)
    assert "backend: local" in text
    assert "dev@dbx-devkit.local" in text


async def test_results_are_compact_text_only_by_default(backend) -> None:
    """Claude Code shows the model only structuredContent when present: keep it off."""
    async with mcp_session(backend) as client:
        result = await ok(client, "uc_list_catalogs")
    assert result.structured_content is None
    assert text_of(result).startswith("| catalog |")
    assert "| samples |" in text_of(result)


async def test_output_schemas_mode_returns_structured_content(backend) -> None:
    async with mcp_session(backend, output_schemas=True) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await ok(client, "workspace_context")
    assert tools["workspace_context"].output_schema is not None
    assert result.structured_content is not None
    assert result.structured_content["backend"] == "local"
