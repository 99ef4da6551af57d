"""Files API 2.0 on Unity Catalog volumes, as the SDK's ``w.files`` calls it.

``PUT/GET/HEAD/DELETE /api/2.0/fs/files{path}`` and ``GET/PUT/HEAD/DELETE
/api/2.0/fs/directories{path}``. Bodies are streamed to and from disk, never held whole in
memory. Paths are checked by :mod:`local_workspace.catalog.volume_files`.

The SDK (0.162) first tries cloud-storage offload for downloads and large uploads
(``POST /api/2.0/fs/create-download-url``, ``POST /api/2.0/fs/files{path}?action=
initiate-upload``). Presigned cloud URLs mean nothing here: those calls answer 501
NOT_IMPLEMENTED, a non-retryable error on which the SDK moves to its next endpoint, the plain
Files API on the workspace host (a single PUT, a plain GET).
"""

from __future__ import annotations

import email.utils
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from local_workspace.api import mlflow_files, uc_models
from local_workspace.catalog import volume_files as vf
from local_workspace.errors import ApiError, invalid, not_available
from local_workspace.http import json_response, query_bool, query_int
from local_workspace.state import WorkspaceState

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

FILES = "/api/2.0/fs/files"
DIRECTORIES = "/api/2.0/fs/directories"
# Files up to this size are answered in one buffer (one write: no Nagle/delayed-ACK stall).
ONE_BUFFER_BYTES = 1024 * 1024
CHUNK_BYTES = 1024 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def _catalog(request: Request) -> Catalog:
    state: WorkspaceState = request.app.state.workspace
    return state.catalog


async def _resolve(request: Request) -> vf.VolumePath:
    path = request.path_params["path"]
    state: WorkspaceState = request.app.state.workspace
    if path.startswith(uc_models.FILES_PREFIX):
        # Model version files: MLflow's UC registry client uploads and downloads them here.
        return await run_in_threadpool(uc_models.resolve_files_path, state, path)
    if path.startswith(mlflow_files.FILES_PREFIX):
        # Run and logged-model artifacts of clients with tracking URI `databricks`.
        return await run_in_threadpool(mlflow_files.resolve_files_path, state, path)
    catalog = _catalog(request)
    return await run_in_threadpool(vf.resolve, catalog.volumes, path)


def _file_headers(info: os.stat_result, length: int) -> dict[str, str]:
    return {
        "content-length": str(length),
        "content-type": "application/octet-stream",
        "last-modified": email.utils.formatdate(info.st_mtime, usegmt=True),
        "accept-ranges": "bytes",
    }


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a ``Range: bytes=a-b`` header; None for the whole file.
    Unsatisfiable ranges raise 416."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None or not (match[1] or match[2]):
        return None  # not a single byte range: answered whole, as HTTP allows
    if not match[1]:
        start, end = max(size - int(match[2]), 0), size - 1
    else:
        start = int(match[1])
        end = min(int(match[2]), size - 1) if match[2] else size - 1
    if start >= size or start > end:
        raise ApiError(416, "INVALID_PARAMETER_VALUE", f"Range '{header}' is not satisfiable.")
    return start, end


def _unmodified_since(request: Request, info: os.stat_result) -> None:
    """412 when the file changed after ``If-Unmodified-Since`` (the SDK's ranged downloads
    send it so that parts of two versions are never stitched together)."""
    raw = request.headers.get("if-unmodified-since")
    if not raw:
        return
    try:
        since = email.utils.parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return
    if int(info.st_mtime) > since:
        raise ApiError(412, "FAILED_PRECONDITION", "The file was modified since it was read.")


def _read(path: str, start: int, length: int) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        handle.seek(start)
        left = length
        while left > 0:
            chunk = handle.read(min(CHUNK_BYTES, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def _read_all(path: str, start: int, length: int) -> bytes:
    return b"".join(_read(path, start, length))


async def files(request: Request) -> Response:
    """GET (download, ranges), HEAD (metadata), PUT (upload), DELETE one file."""
    if request.method == "POST":
        # initiate-upload / complete-upload / abort-upload of multipart uploads.
        raise not_available("Multipart uploads through presigned cloud storage URLs")
    if request.method == "PUT":
        return await _upload(request)
    vp = await _resolve(request)
    if request.method == "DELETE":
        await run_in_threadpool(vf.delete_file, vp)
        return Response(status_code=204)
    info = await run_in_threadpool(vf.file_info, vp)
    _unmodified_since(request, info)
    span = _byte_range(request.headers.get("range"), info.st_size)
    start, end = span if span is not None else (0, info.st_size - 1)
    length = max(end - start + 1, 0)
    headers = _file_headers(info, length)
    status = 200
    if span is not None:
        status = 206
        headers["content-range"] = f"bytes {start}-{end}/{info.st_size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    local = str(vp.local)
    if length <= ONE_BUFFER_BYTES:
        body = await run_in_threadpool(_read_all, local, start, length)
        return Response(body, status_code=status, headers=headers)
    return StreamingResponse(_read(local, start, length), status_code=status, headers=headers)


async def _upload(request: Request) -> Response:
    """Stream the body into a temporary file; it takes its name only once complete."""
    vp = await _resolve(request)
    catalog = _catalog(request)
    overwrite = query_bool(request, "overwrite", True)
    expected = request.headers.get("content-length")
    upload = await run_in_threadpool(vf.Upload, vp, catalog.data_dir / "uploads", overwrite)
    try:
        try:
            await run_in_threadpool(upload.check_target)
        except ApiError:
            async for _ in request.stream():
                pass  # read the body before refusing, so the client sees the answer
            raise
        async for chunk in request.stream():
            if chunk:
                await run_in_threadpool(upload.write, chunk)
        if expected is not None and expected.isdigit() and int(expected) != upload.size:
            raise invalid(f"Received {upload.size} bytes of the {expected} announced.")
        await run_in_threadpool(upload.commit)
    finally:
        await run_in_threadpool(upload.discard)
    return Response(status_code=204)


async def directories(request: Request) -> Response:
    """GET (list, paged), HEAD (exists), PUT (create with parents), DELETE (empty only)."""
    vp = await _resolve(request)
    if request.method == "PUT":
        await run_in_threadpool(vf.make_directory, vp)
        return Response(status_code=204)
    if request.method == "DELETE":
        await run_in_threadpool(vf.delete_directory, vp)
        return Response(status_code=204)
    if request.method == "HEAD":
        await run_in_threadpool(vf.directory_exists, vp)
        return Response(status_code=200)
    size = query_int(request, "page_size", 0) or 0
    if size < 0:
        raise invalid("page_size must be zero or positive.")
    token = request.query_params.get("page_token") or ""
    return json_response(await run_in_threadpool(vf.list_directory, vp, size, token))


async def presigned(request: Request) -> Response:
    """Presigned cloud storage URLs: no cloud storage here (the SDK then uses the Files API)."""
    raise not_available("Presigned cloud storage URLs")


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The Files API routes."""
    return [
        Route(f"{FILES}{{path:path}}", files, methods=["GET", "HEAD", "PUT", "DELETE", "POST"]),
        Route(f"{DIRECTORIES}{{path:path}}", directories, methods=["GET", "HEAD", "PUT", "DELETE"]),
        Route("/api/2.0/fs/create-download-url", presigned, methods=["POST"]),
        Route("/api/2.0/fs/create-upload-part-urls", presigned, methods=["POST"]),
        Route("/api/2.0/fs/create-upload-url", presigned, methods=["POST"]),
        Route("/api/2.0/fs/create-resumable-upload-url", presigned, methods=["POST"]),
        Route("/api/2.0/fs/create-abort-upload-url", presigned, methods=["POST"]),
    ]
