"""Every tool spec, built from the one list of tools (:data:`server.tools.TOOLS`).

Apart from :mod:`server.registry` so that the tool modules, which import the registry's
markers, and the list, which imports the tool modules, form no import cycle.
"""

from __future__ import annotations

from server.registry import ToolSpec, specs_of


def all_specs() -> dict[str, ToolSpec]:
    """Every tool spec, in the order of :data:`server.tools.TOOLS` (tools/list's order).

    Imports the tool modules: call it only when tools are built, never to answer tools/list
    from the cached catalog.
    """
    from server.tools import TOOLS

    return specs_of(TOOLS)
