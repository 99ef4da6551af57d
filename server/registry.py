"""Tool specs: every tool declares its toolset and whether it reads or writes.

Tool modules (``server/tools/*.py``) mark plain functions with :func:`reader` or
:func:`writer`; the mark is metadata on the function and registers nothing. The one list of
tools is :data:`server.tools.TOOLS`; :func:`server.specs.all_specs` builds the specs from it and
:mod:`server.app` registers those that pass the toolset and read-only filters. A tool is a
reader or a writer, never both (permission rules are per tool).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

# The attribute a tool function carries its spec in.
SPEC_ATTRIBUTE = "__dbx_devkit_tool__"


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its function and the metadata that becomes MCP annotations."""

    fn: Callable[..., Any]
    toolset: str
    read_only: bool
    destructive: bool = False
    idempotent: bool = True
    title: str | None = None

    @property
    def name(self) -> str:
        """The tool's name (the function's name; names are API)."""
        return self.fn.__name__


def _mark(fn: F, spec: ToolSpec) -> F:
    setattr(fn, SPEC_ATTRIBUTE, spec)
    return fn


def reader(toolset: str, title: str | None = None) -> Callable[[F], F]:
    """Declare a read-only tool."""

    def decorate(fn: F) -> F:
        return _mark(fn, ToolSpec(fn, toolset, read_only=True, title=title))

    return decorate


def writer(
    toolset: str, *, destructive: bool, idempotent: bool, title: str | None = None
) -> Callable[[F], F]:
    """Declare a writing tool; destructive and idempotent are chosen on purpose, per tool."""

    def decorate(fn: F) -> F:
        spec = ToolSpec(
            fn,
            toolset,
            read_only=False,
            destructive=destructive,
            idempotent=idempotent,
            title=title,
        )
        return _mark(fn, spec)

    return decorate


def spec_of(fn: Callable[..., Any]) -> ToolSpec | None:
    """The spec ``fn`` was declared with (:func:`reader`/:func:`writer`), or None."""
    spec = getattr(fn, SPEC_ATTRIBUTE, None)
    return spec if isinstance(spec, ToolSpec) else None


def specs_of(tools: Iterable[Callable[..., Any]]) -> dict[str, ToolSpec]:
    """The specs of ``tools`` by name, in their order; refuses an undeclared function and
    two tools of one name (names are API: the second would silently shadow the first)."""
    specs: dict[str, ToolSpec] = {}
    for fn in tools:
        spec = spec_of(fn)
        if spec is None:
            raise ValueError(f"{fn.__qualname__} is not declared with @reader or @writer")
        if spec.name in specs:
            raise ValueError(f"duplicate tool name {spec.name}")
        specs[spec.name] = spec
    return specs
