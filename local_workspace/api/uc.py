"""Placeholder: filled by the uc API work."""

from __future__ import annotations

from starlette.routing import BaseRoute

from local_workspace.state import WorkspaceState


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """No routes yet."""
    return []
