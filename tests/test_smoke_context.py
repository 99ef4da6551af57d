"""workspace_context through the MCP server: the agent learns where it is."""

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
    assert result.structured_content is not None
    assert result.structured_content["backend"] == "local"
