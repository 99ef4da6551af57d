"""workspace_context: where the agent is and what it may do."""

from __future__ import annotations

from mcp.server.mcpserver import Context

from server.registry import reader
from server.runtime import runtime_of
from tools_core.context import WorkspaceContext, describe_context


@reader("workspace", title="Workspace context")
def workspace_context(ctx: Context) -> WorkspaceContext:
    """Host, user, backend (local/remote), default warehouse, read-only, toolsets. Call first."""
    runtime = runtime_of(ctx)
    return describe_context(
        runtime.backend(), read_only=runtime.settings.read_only, toolsets=runtime.toolsets
    )
