"""files tools: files in Unity Catalog volumes (/Volumes/<catalog>/<schema>/<volume>/...)."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from server.progress import wait_with_progress
from server.registry import reader, writer
from server.runtime import backend_of, runtime_of
from tools_core import files as core

VolumePath = Annotated[str, Field(description="/Volumes/catalog/schema/volume/path")]


@writer("files", destructive=False, idempotent=True)
async def files_upload(
    ctx: Context,
    local_path: Annotated[str, Field(description="Local file or folder")],
    path: VolumePath,
    overwrite: Annotated[bool, Field(description="Replace existing")] = False,
) -> core.Transfer:
    """Upload a local file or folder to a volume, with progress."""
    backend = backend_of(ctx)
    return await wait_with_progress(
        ctx,
        lambda progress, check: core.upload(backend, local_path, path, overwrite, progress, check),
    )


@writer("files", destructive=False, idempotent=False)
def files_download(
    ctx: Context,
    path: VolumePath,
    local_path: Annotated[str, Field(description="File name in the results folder")],
) -> core.Transfer:
    """Download a volume file into the results folder."""
    return core.download(backend_of(ctx), path, local_path, runtime_of(ctx).results_dir)


@reader("files")
def files_list(
    ctx: Context,
    path: VolumePath,
    limit: Annotated[int, Field(ge=1, le=1000, description="Max entries")] = 200,
) -> core.FileListing:
    """Files and directories in a volume directory."""
    return core.list_files(backend_of(ctx), path, limit)


@reader("files")
def files_read(
    ctx: Context,
    path: VolumePath,
    max_chars: Annotated[int, Field(ge=1, le=200_000, description="Max chars")] = 20_000,
) -> core.FileText:
    """Head of a text file in a volume."""
    return core.read_file(backend_of(ctx), path, max_chars)


@writer("files", destructive=True, idempotent=True)
def files_delete(
    ctx: Context,
    path: VolumePath,
    recursive: Annotated[bool, Field(description="Include dir contents")] = False,
    confirm: Annotated[bool, Field(description="Really delete")] = False,
) -> core.FileDelete:
    """Delete a volume file/dir. Without confirm=true: preview only."""
    return core.delete(backend_of(ctx), path, recursive, confirm)
