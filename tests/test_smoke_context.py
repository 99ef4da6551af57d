"""workspace_context through the MCP server, and what a result carries by default."""

from __future__ import annotations

import pytest

from tests.conftest import mcp_session, ok, text_of
from tools_core.backend import Backend

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


async def test_two_servers_in_one_process_each_see_their_own_runtime(backend) -> None:
    """Each server hands its own runtime to its tools (MCP lifespan context): building a
    second server must not redirect the first one's tools to the second's backend."""
    other = Backend(
        backend.client, "local", "http://second.invalid", backend.warehouse_id, backend.mlflow
    )
    async with (
        mcp_session(backend) as first,
        mcp_session(other, read_only=True, toolsets=("sql", "workspace")) as second,
    ):
        for _ in range(2):  # interleaved: the second server was built after the first
            mine = text_of(await ok(first, "workspace_context"))
            theirs = text_of(await ok(second, "workspace_context"))
            assert f"host: {backend.host}\n" in mine
            assert "mode: read-write" in mine
            assert "toolsets: bundles, compute," in mine
            assert "host: http://second.invalid\n" in theirs
            assert "mode: read-only" in theirs
            assert "toolsets: sql, workspace" in theirs
