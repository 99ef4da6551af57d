"""Workspace API 2.0: list, get-status, import (JSON or multipart), export, mkdirs, delete.

Semantics follow Databricks: the parent of an imported object must exist, ``mkdirs`` creates
parents and is idempotent, a SOURCE import with a language is a notebook at the given path,
AUTO strips the extension of what it recognises as a notebook, RAW imports a file as is.
"""

from __future__ import annotations

import base64
import binascii
import io
import zipfile
from typing import Any

from databricks.sdk.service.workspace import (
    ExportResponse,
    Language,
    ListResponse,
    ObjectInfo,
    ObjectType,
)
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace import notebook_format as nbf
from local_workspace.errors import ApiError, invalid, not_available
from local_workspace.http import json_body, json_response, query_bool, query_int
from local_workspace.state import WorkspaceState
from local_workspace.workspace_store import (
    DIRECTORY,
    FILE,
    NOTEBOOK,
    WorkspaceObject,
    WorkspaceStore,
    canonical,
)

MAX_IMPORT_BYTES = 10 * 1024 * 1024
# Base64 grows content by 4/3; refuse bigger bodies before reading them.
MAX_BODY_BYTES = MAX_IMPORT_BYTES * 4 // 3 + 64 * 1024
FORMATS = frozenset({"AUTO", "DBC", "HTML", "JUPYTER", "RAW", "R_MARKDOWN", "SOURCE"})
LANGUAGES = frozenset(lang.value for lang in Language)


def normalize(path: Any) -> str:
    """An absolute, canonical workspace path; ``/Workspace/...`` means the same as ``/...``."""
    if not isinstance(path, str) or not path:
        raise invalid("Missing required field: path")
    path = canonical(path)
    if not path.startswith("/"):
        raise invalid(f"Path ({path}) must be absolute: it must start with '/'.")
    if path != "/":
        path = path.rstrip("/")
    if any(part in ("", ".", "..") for part in path.split("/")[1:]) and path != "/":
        raise invalid(f"Path ({path}) is not a valid workspace path.")
    return path


def object_info(obj: WorkspaceObject) -> dict[str, Any]:
    """The ObjectInfo wire shape of ``obj`` (size and timestamps only for notebooks/files)."""
    info = ObjectInfo(
        path=obj.path,
        object_type=ObjectType(obj.object_type),
        object_id=obj.object_id,
        resource_id=str(obj.object_id),
        language=Language(obj.language) if obj.language else None,
    )
    if obj.object_type != DIRECTORY:
        info.created_at = obj.created_at
        info.modified_at = obj.modified_at
    if obj.object_type == FILE:
        info.size = obj.size
    return info.as_dict()


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The Workspace API routes, over a store in ``<data_dir>/workspace``."""
    store = WorkspaceStore(state.config.data_dir / "workspace", state.user)
    state.services["workspace"] = store

    async def list_(request: Request) -> Response:
        path = normalize(request.query_params.get("path"))
        obj = store.require(path)
        after = query_int(request, "notebooks_modified_after")
        objects = store.children(path) if obj.object_type == DIRECTORY else [obj]
        if after is not None:
            objects = [o for o in objects if o.object_type != NOTEBOOK or o.modified_at > after]
        body = ListResponse(objects=[ObjectInfo.from_dict(object_info(o)) for o in objects])
        return json_response(body.as_dict())

    async def get_status(request: Request) -> Response:
        return json_response(
            object_info(store.require(normalize(request.query_params.get("path"))))
        )

    async def mkdirs(request: Request) -> Response:
        store.mkdirs(normalize((await json_body(request)).get("path")))
        return json_response({})

    async def delete(request: Request) -> Response:
        body = await json_body(request)
        store.delete(normalize(body.get("path")), _truthy(body.get("recursive")))
        return json_response({})

    async def import_(request: Request) -> Response:
        length = int(request.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            raise _too_big(length)
        fields, data = await _import_request(request)
        path = normalize(fields.get("path"))
        if len(data) > MAX_IMPORT_BYTES:
            raise _too_big(len(data))
        fmt = str(fields.get("format") or "SOURCE")
        language = fields.get("language") or None
        if fmt not in FORMATS:
            raise invalid(f"Unknown import format '{fmt}'. Use one of {sorted(FORMATS)}.")
        if language is not None and language not in LANGUAGES:
            raise invalid(f"Unknown language '{language}'. Use one of {sorted(LANGUAGES)}.")
        target, object_type, language, content = _interpret(path, fmt, language, data)
        store.put(target, object_type, language, content, _truthy(fields.get("overwrite")))
        return json_response({})

    async def export(request: Request) -> Response:
        path = normalize(request.query_params.get("path"))
        fmt = request.query_params.get("format") or "SOURCE"
        if fmt not in FORMATS:
            raise invalid(f"Unknown export format '{fmt}'. Use one of {sorted(FORMATS)}.")
        obj = store.require(path)
        content, file_type = _export(store, obj, fmt)
        if len(content) > MAX_IMPORT_BYTES:
            raise ApiError(
                400,
                "MAX_NOTEBOOK_SIZE_EXCEEDED",
                f"The exported content ({len(content)} bytes) exceeds the limit "
                f"({MAX_IMPORT_BYTES} bytes).",
            )
        if query_bool(request, "direct_download"):
            filename = obj.name + (f".{file_type}" if file_type and obj.object_type != FILE else "")
            return Response(
                content,
                media_type="application/octet-stream",
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        encoded = base64.b64encode(content).decode()
        return json_response(ExportResponse(content=encoded, file_type=file_type).as_dict())

    prefix = "/api/2.0/workspace"
    return [
        Route(f"{prefix}/list", list_, methods=["GET"]),
        Route(f"{prefix}/get-status", get_status, methods=["GET"]),
        Route(f"{prefix}/mkdirs", mkdirs, methods=["POST"]),
        Route(f"{prefix}/delete", delete, methods=["POST"]),
        Route(f"{prefix}/import", import_, methods=["POST"]),
        Route(f"{prefix}/export", export, methods=["GET"]),
    ]


def _truthy(value: Any) -> bool:
    """JSON booleans, and the ``"true"`` strings of multipart forms."""
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


def _too_big(size: int) -> ApiError:
    return ApiError(
        400,
        "MAX_NOTEBOOK_SIZE_EXCEEDED",
        f"File size imported is ({size} bytes), exceeded max size ({MAX_IMPORT_BYTES} bytes).",
    )


async def _import_request(request: Request) -> tuple[dict[str, Any], bytes]:
    """(fields, content bytes) of a JSON import (base64 content) or a multipart upload."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        fields: dict[str, Any] = {}
        data = b""
        async with request.form(max_part_size=MAX_BODY_BYTES) as form:
            for key, value in form.multi_items():
                if key == "content":
                    data = await value.read() if isinstance(value, UploadFile) else value.encode()
                else:
                    fields[key] = value
        return fields, data
    body = await json_body(request)
    content = body.get("content") or ""
    if not isinstance(content, str):
        raise invalid("Field 'content' must be a base64-encoded string.")
    try:
        data = base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid(f"Field 'content' is not valid base64: {exc}") from exc
    return body, data


def _interpret(
    path: str, fmt: str, language: str | None, data: bytes
) -> tuple[str, str, str | None, bytes]:
    """(target path, object type, language, stored content) of an import."""
    if fmt in ("DBC", "HTML", "R_MARKDOWN"):
        raise not_available(f"Importing the {fmt} format")
    if fmt == "RAW":
        return path, FILE, None, data
    if fmt == "JUPYTER":
        return _jupyter(path, data, strip_extension=False)
    if fmt == "SOURCE":
        if language is None:
            raise invalid(
                "The language field must be set to import a single notebook in SOURCE format "
                "(or use format AUTO or RAW to import a file)."
            )
        return path, NOTEBOOK, language, _notebook_source(data, language)
    # AUTO: a known source extension with the notebook header, or .ipynb, is a notebook.
    stem, dot, ext = path.rpartition(".")
    ext = f".{ext}".lower() if dot and "/" not in ext else ""
    if ext == ".ipynb":
        return _jupyter(path, data, strip_extension=True)
    if ext == ".zip":
        raise not_available("Importing a .zip archive as a folder (format AUTO); RAW imports it")
    auto_language = nbf.LANGUAGE_OF_EXTENSION.get(ext)
    if auto_language and nbf.has_header(data[:200].decode("utf-8", "replace"), auto_language):
        return stem, NOTEBOOK, auto_language, _notebook_source(data, auto_language)
    return path, FILE, None, data


def _notebook_source(data: bytes, language: str) -> bytes:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid("Notebook source must be UTF-8 text.") from exc
    return nbf.to_source(text, language).encode()


def _jupyter(path: str, data: bytes, strip_extension: bool) -> tuple[str, str, str | None, bytes]:
    try:
        source, language = nbf.jupyter_to_source(data)
    except ValueError as exc:
        raise invalid(f"Cannot import {path} as a Jupyter notebook: {exc}") from exc
    target = path[: -len(".ipynb")] if strip_extension else path
    return target, NOTEBOOK, language, source.encode()


def _export(store: WorkspaceStore, obj: WorkspaceObject, fmt: str) -> tuple[bytes, str]:
    """(content, file_type) of an export."""
    if fmt in ("DBC", "HTML", "R_MARKDOWN"):
        raise not_available(f"Exporting the {fmt} format")
    if obj.object_type == DIRECTORY:
        if fmt not in ("SOURCE", "AUTO"):
            raise invalid(f"A directory cannot be exported as {fmt}; use SOURCE or AUTO.")
        return _zip(store, obj, include_files=fmt == "AUTO"), "zip"
    if obj.object_type == FILE:
        if fmt == "JUPYTER":
            raise invalid(f"{obj.path} is a file, not a notebook: export it as SOURCE or RAW.")
        ext = obj.name.rpartition(".")[2] if "." in obj.name else ""
        return store.read(obj), ext
    language = obj.language or "PYTHON"
    source = store.read(obj)
    if fmt == "JUPYTER":
        return nbf.source_to_jupyter(source.decode("utf-8"), language, obj.name), "ipynb"
    return source, nbf.EXTENSION[language]


def _zip(store: WorkspaceStore, directory: WorkspaceObject, include_files: bool) -> bytes:
    """A directory as a zip of notebook sources (and files, for AUTO)."""
    buffer = io.BytesIO()
    base = "" if directory.path == "/" else directory.path
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for obj in store.descendants(directory.path):
            relative = obj.path[len(base) + 1 :]
            if obj.object_type == NOTEBOOK:
                name = f"{relative}.{nbf.EXTENSION[obj.language or 'PYTHON']}"
                archive.writestr(name, store.read(obj))
            elif obj.object_type == FILE and include_files:
                archive.writestr(relative, store.read(obj))
    return buffer.getvalue()
