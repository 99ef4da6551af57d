"""Where an agent is: host, user, backend kind, default warehouse, mode."""

from __future__ import annotations

from tools_core.backend import Backend
from tools_core.results import Result


class WorkspaceContext(Result):
    """The answer of workspace_context."""

    host: str
    user: str
    backend: str
    default_warehouse_id: str | None = None
    read_only: bool
    toolsets: list[str]
    note: str = ""

    def to_text(self) -> str:
        lines = [
            f"backend: {self.backend}" + (f" ({self.note})" if self.note else ""),
            f"host: {self.host}",
            f"user: {self.user}",
            f"default warehouse: {self.default_warehouse_id or 'none found'}",
            f"mode: {'read-only' if self.read_only else 'read-write'}",
            f"toolsets: {', '.join(self.toolsets)}",
        ]
        return "\n".join(lines)


def describe_context(backend: Backend, read_only: bool, toolsets: list[str]) -> WorkspaceContext:
    """The context of ``backend`` for an agent."""
    from tools_core.sql import default_warehouse_id

    note = (
        "embedded offline emulation of Databricks; safe to rehearse"
        if backend.kind == "local"
        else "a real Databricks workspace"
    )
    return WorkspaceContext(
        host=backend.host,
        user=backend.user,
        backend=backend.kind,
        default_warehouse_id=default_warehouse_id(backend),
        read_only=read_only,
        toolsets=toolsets,
        note=note,
    )
