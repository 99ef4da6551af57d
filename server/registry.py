"""Tool specs: every tool declares its toolset and whether it reads or writes.

Tool modules (``server/tools/*.py``) decorate plain functions with :func:`reader` or
:func:`writer`; :mod:`server.app` registers the specs that pass the toolset and read-only
filters. A tool is a reader or a writer, never both (permission rules are per tool).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


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


SPECS: dict[str, ToolSpec] = {}


def _register(spec: ToolSpec) -> None:
    if spec.name in SPECS:
        raise ValueError(f"duplicate tool name {spec.name}")
    SPECS[spec.name] = spec


def reader(toolset: str, title: str | None = None) -> Callable[[F], F]:
    """Declare a read-only tool."""

    def decorate(fn: F) -> F:
        _register(ToolSpec(fn, toolset, read_only=True, title=title))
        return fn

    return decorate


def writer(
    toolset: str, *, destructive: bool, idempotent: bool, title: str | None = None
) -> Callable[[F], F]:
    """Declare a writing tool; destructive and idempotent are chosen on purpose, per tool."""

    def decorate(fn: F) -> F:
        _register(
            ToolSpec(
                fn,
                toolset,
                read_only=False,
                destructive=destructive,
                idempotent=idempotent,
                title=title,
            )
        )
        return fn

    return decorate


def all_specs() -> dict[str, ToolSpec]:
    """Every tool spec, after importing every tool module."""
    from server import tools  # noqa: F401  (importing registers the tools)

    return SPECS
