"""workspace tools: notebooks, files and directories in the workspace tree."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import BeforeValidator, Field

from server.registry import reader, writer
from server.runtime import backend_of
from tools_core import workspace as core

Path = Annotated[str, Field(description="Absolute workspace path")]


@reader("workspace")
def workspace_list(
    ctx: Context,
    path: Path,
    depth: Annotated[int, Field(ge=1, le=5, description="Levels; 1 = children")] = 1,
    limit: Annotated[int, Field(ge=1, le=1000, description="Max objects")] = 200,
) -> core.WorkspaceListing:
    """Notebooks, files, dirs under path. Read one with workspace_read."""
    return core.list_objects(backend_of(ctx), path, depth=depth, limit=limit)


@reader("workspace")
def workspace_read(
    ctx: Context,
    path: Path,
    offset: Annotated[int, Field(ge=0, description="Start char")] = 0,
    max_chars: Annotated[int, Field(ge=100, le=100_000, description="Max chars")] = 20_000,
) -> core.WorkspaceContent:
    """Source of a notebook or file; follow the next-offset hint for more."""
    return core.read_object(backend_of(ctx), path, offset=offset, max_chars=max_chars)


def _lower(value: object) -> object:
    """Either case is accepted (the API spells kinds upper case, the tool lower case)."""
    return value.lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    """Either case is accepted (``sql`` is ``SQL``)."""
    return value.upper() if isinstance(value, str) else value


@writer("workspace", destructive=True, idempotent=True)
def workspace_write(
    ctx: Context,
    path: Path,
    content: Annotated[str, Field(description="Source text")],
    kind: Annotated[
        Literal["notebook", "file"], BeforeValidator(_lower), Field(description="Object kind")
    ] = "notebook",
    language: Annotated[
        Literal["PYTHON", "SQL", "SCALA", "R"] | None,
        BeforeValidator(_upper),
        Field(description="Notebook language"),
    ] = None,
    overwrite: Annotated[bool, Field(description="Replace existing")] = False,
) -> core.WriteResult:
    """Create a notebook/file (parent dirs too). Replaces only with overwrite=true."""
    return core.write_object(
        backend_of(ctx), path, content, kind=kind, language=language, overwrite=overwrite
    )


@writer("workspace", destructive=False, idempotent=True)
def workspace_mkdirs(ctx: Context, path: Path) -> core.MkdirsResult:
    """Create a directory and its parents."""
    return core.make_dirs(backend_of(ctx), path)


@writer("workspace", destructive=True, idempotent=True)
def workspace_delete(
    ctx: Context,
    path: Path,
    recursive: Annotated[bool, Field(description="Include dir contents")] = False,
    confirm: Annotated[bool, Field(description="Really delete")] = False,
) -> core.DeleteResult:
    """Delete a notebook/file/dir. Without confirm=true: preview only."""
    return core.delete_object(backend_of(ctx), path, recursive=recursive, confirm=confirm)
