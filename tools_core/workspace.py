"""Workspace files and notebooks: list, read (export), write (import), mkdirs, delete.

Everything goes through the SDK's Workspace API (``client.workspace``); the SDK is imported
inside functions only, to keep importing this module cheap.
"""

from __future__ import annotations

import base64
import posixpath
from collections import deque
from contextlib import nullcontext, suppress
from typing import TYPE_CHECKING, Any, Literal

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.results import Result, markdown_table
from tools_core.retries import single_attempt

if TYPE_CHECKING:
    from databricks.sdk.service.workspace import ObjectInfo

Kind = Literal["notebook", "file"]
NotebookLanguage = Literal["PYTHON", "SQL", "SCALA", "R"]

MAX_DEPTH = 5
DEFAULT_LIMIT = 200
DEFAULT_MAX_CHARS = 20_000
# A delete preview walks the tree; past this many objects it says "at least".
COUNT_CAP = 1_000
_LANGUAGE_OF_EXTENSION: dict[str, NotebookLanguage] = {
    ".py": "PYTHON",
    ".sql": "SQL",
    ".scala": "SCALA",
    ".r": "R",
}


class WorkspaceEntry(Result):
    """One workspace object."""

    path: str
    object_type: str
    language: str | None = None
    size: int | None = None
    modified_at: int | None = None

    @classmethod
    def from_sdk(cls, info: ObjectInfo) -> WorkspaceEntry:
        """The useful fields of an SDK ObjectInfo."""
        return cls(
            path=info.path or "",
            object_type=_value(info.object_type) or "",
            language=_value(info.language),
            size=info.size,
            modified_at=info.modified_at,
        )


class WorkspaceListing(Result):
    """The answer of workspace_list."""

    path: str
    depth: int
    objects: list[WorkspaceEntry]
    truncated: bool = False
    deeper: bool = False  # directories at the depth cap were not expanded

    def to_text(self) -> str:
        rows = [
            (o.object_type, o.language or "", "" if o.size is None else o.size, o.path)
            for o in self.objects
        ]
        text = markdown_table(["type", "language", "size", "path"], rows)
        if self.truncated:
            text += "\n(more objects exist: raise limit or list a subdirectory)"
        if self.deeper:
            text += f"\n(subdirectories below depth {self.depth} not listed: raise depth)"
        return text


class WorkspaceContent(Result):
    """The answer of workspace_read: a slice of a notebook's or file's source."""

    path: str
    object_type: str
    language: str | None = None
    offset: int
    total_chars: int
    text: str
    next_offset: int | None = None
    binary: bool = False
    size_bytes: int

    def to_text(self) -> str:
        what = f"{self.object_type} {self.language or ''}".strip()
        if self.binary:
            return (
                f"{what} {self.path}: binary content ({self.size_bytes} bytes), not shown. "
                "Download it with the Databricks CLI or SDK."
            )
        end = self.offset + len(self.text)
        head = f"{what} {self.path} (chars {self.offset}-{end} of {self.total_chars})"
        tail = (
            f"\n(more: call workspace_read with offset={self.next_offset})"
            if self.next_offset is not None
            else ""
        )
        return f"{head}\n{self.text}{tail}"


class WriteResult(Result):
    """The answer of workspace_write."""

    path: str
    object_type: str
    language: str | None = None
    size_bytes: int
    overwritten: bool = False
    created_dirs: str | None = None

    def to_text(self) -> str:
        what = f"{self.object_type} {self.language or ''}".strip()
        verb = "Replaced" if self.overwritten else "Created"
        text = f"{verb} {what} {self.path} ({self.size_bytes} bytes)."
        if self.created_dirs:
            text += f" Created missing parent directory {self.created_dirs}."
        return text


class MkdirsResult(Result):
    """The answer of workspace_mkdirs."""

    path: str
    created: bool

    def to_text(self) -> str:
        return f"Created {self.path}." if self.created else f"{self.path} already existed."


class DeleteResult(Result):
    """The answer of workspace_delete (a preview unless ``deleted``)."""

    path: str
    object_type: str
    deleted: bool
    objects_below: int = 0
    count_capped: bool = False
    needs_recursive: bool = False

    def to_text(self) -> str:
        below = ""
        if self.object_type == "DIRECTORY":
            count = f"{self.objects_below}{'+' if self.count_capped else ''}"
            below = f" and {count} object(s) below it"
        if self.deleted:
            return f"Deleted {self.object_type} {self.path}{below}."
        text = f"Would delete {self.object_type} {self.path}{below}. Nothing changed."
        if self.needs_recursive:
            return text + " It is not empty: call again with recursive=true and confirm=true."
        return text + " Call again with confirm=true to delete."


def list_objects(
    backend: Backend, path: str, depth: int = 1, limit: int = DEFAULT_LIMIT
) -> WorkspaceListing:
    """Objects under ``path``, ``depth`` levels deep (1 = direct children), at most ``limit``."""
    path = _clean(path)
    depth = max(1, min(depth, MAX_DEPTH))
    found: list[WorkspaceEntry] = []
    deeper = False
    queue: deque[tuple[str, int]] = deque([(path, 1)])
    while queue and len(found) <= limit:
        directory, level = queue.popleft()
        for info in backend.client.workspace.list(directory):
            entry = WorkspaceEntry.from_sdk(info)
            found.append(entry)
            if entry.object_type == "DIRECTORY" and entry.path != directory:
                if level < depth:
                    queue.append((entry.path, level + 1))
                else:
                    deeper = True
            if len(found) > limit:
                break
    truncated = len(found) > limit
    return WorkspaceListing(
        path=path, depth=depth, objects=found[:limit], truncated=truncated, deeper=deeper
    )


def read_object(
    backend: Backend, path: str, offset: int = 0, max_chars: int = DEFAULT_MAX_CHARS
) -> WorkspaceContent:
    """The source of a notebook or file (SOURCE export), ``max_chars`` from ``offset``."""
    from databricks.sdk.service.workspace import ExportFormat

    path = _clean(path)
    info = WorkspaceEntry.from_sdk(backend.client.workspace.get_status(path))
    if info.object_type == "DIRECTORY":
        raise InvalidInput(f"{path} is a directory.", "List it with workspace_list.")
    exported = backend.client.workspace.export(path, format=ExportFormat.SOURCE)
    raw = base64.b64decode(exported.content or "")
    common: dict[str, Any] = {
        "path": path,
        "object_type": info.object_type,
        "language": info.language,
        "size_bytes": len(raw),
    }
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return WorkspaceContent(**common, offset=0, total_chars=0, text="", binary=True)
    if offset > len(text):
        raise InvalidInput(
            f"offset {offset} is past the end of {path} ({len(text)} chars).",
            "Call again with a smaller offset.",
        )
    end = offset + max_chars
    return WorkspaceContent(
        **common,
        offset=offset,
        total_chars=len(text),
        text=text[offset:end],
        next_offset=end if end < len(text) else None,
    )


def write_object(
    backend: Backend,
    path: str,
    content: str,
    kind: Kind = "notebook",
    language: NotebookLanguage | None = None,
    overwrite: bool = False,
) -> WriteResult:
    """Import ``content`` as a notebook (SOURCE) or file (RAW) at ``path``.

    Refuses to replace an existing object unless ``overwrite``; creates a missing parent
    directory first. A notebook's language defaults to the path's extension, else PYTHON.
    """
    from databricks.sdk.service.workspace import ImportFormat, Language

    path = _clean(path)
    if kind == "file" and language is not None:
        raise InvalidInput("language applies to notebooks only.", "Drop it, or use kind=notebook.")
    existing = _status(backend, path)
    if existing is not None:
        if existing.object_type == "DIRECTORY":
            raise ToolsCoreError(
                "RESOURCE_ALREADY_EXISTS", f"{path} is a directory.", "Pick another path."
            )
        if not overwrite:
            raise ToolsCoreError(
                "RESOURCE_ALREADY_EXISTS",
                f"{path} already exists ({existing.object_type}); nothing was changed.",
                "Pass overwrite=true to replace it, or pick another path.",
            )
    created_dirs = None
    parent = posixpath.dirname(path)
    if _status(backend, parent) is None:
        backend.client.workspace.mkdirs(parent)
        created_dirs = parent
    data = content.encode("utf-8")
    encoded = base64.b64encode(data).decode()
    # With overwrite the import is idempotent and keeps the SDK's retries. Without it, a
    # repeat after a lost answer is refused as "already exists", hiding that this call
    # wrote it: one attempt, and an honest "unknown".
    once = (
        nullcontext()
        if overwrite
        else single_attempt(f"Writing {path}", f"workspace_read path={path}")
    )
    with once:
        if kind == "notebook":
            extension = posixpath.splitext(path)[1].lower()
            language = language or _LANGUAGE_OF_EXTENSION.get(extension, "PYTHON")
            backend.client.workspace.import_(
                path,
                content=encoded,
                format=ImportFormat.SOURCE,
                language=Language(language),
                overwrite=overwrite,
            )
        else:
            backend.client.workspace.import_(
                path, content=encoded, format=ImportFormat.RAW, overwrite=overwrite
            )
    return WriteResult(
        path=path,
        object_type="NOTEBOOK" if kind == "notebook" else "FILE",
        language=language,
        size_bytes=len(data),
        overwritten=existing is not None,
        created_dirs=created_dirs,
    )


def make_dirs(backend: Backend, path: str) -> MkdirsResult:
    """Create directory ``path`` and its parents; an existing directory is fine."""
    path = _clean(path)
    existed = _status(backend, path) is not None
    backend.client.workspace.mkdirs(path)
    return MkdirsResult(path=path, created=not existed)


def delete_object(
    backend: Backend, path: str, recursive: bool = False, confirm: bool = False
) -> DeleteResult:
    """Delete ``path``; without ``confirm`` only say what would be deleted."""
    path = _clean(path)
    info = WorkspaceEntry.from_sdk(backend.client.workspace.get_status(path))
    below, capped = 0, False
    if info.object_type == "DIRECTORY":
        below, capped = _count_below(backend, path)
    if not confirm:
        return DeleteResult(
            path=path,
            object_type=info.object_type,
            deleted=False,
            objects_below=below,
            count_capped=capped,
            needs_recursive=below > 0 and not recursive,
        )
    from databricks.sdk.errors import NotFound

    # It existed a moment ago: "not found" now means it is gone, as asked (the SDK retried
    # a delete that was applied, or someone deleted it meanwhile).
    with suppress(NotFound):
        backend.client.workspace.delete(path, recursive=recursive)
    return DeleteResult(
        path=path,
        object_type=info.object_type,
        deleted=True,
        objects_below=below,
        count_capped=capped,
    )


def _count_below(backend: Backend, path: str) -> tuple[int, bool]:
    """How many objects are below directory ``path`` (capped at COUNT_CAP)."""
    count = 0
    queue = deque([path])
    while queue:
        for info in backend.client.workspace.list(queue.popleft()):
            count += 1
            if count >= COUNT_CAP:
                return count, True
            if _value(info.object_type) == "DIRECTORY" and info.path:
                queue.append(info.path)
    return count, False


def _status(backend: Backend, path: str) -> WorkspaceEntry | None:
    """The object at ``path``, or None when it does not exist."""
    from databricks.sdk.errors import NotFound

    try:
        return WorkspaceEntry.from_sdk(backend.client.workspace.get_status(path))
    except NotFound:
        return None


def _clean(path: str) -> str:
    """``path`` without trailing slashes; refuses relative paths before any call."""
    if not path.startswith("/"):
        raise InvalidInput(
            f"path must be absolute, got {path!r}.",
            "Start it with '/', e.g. /Users/<you>/project/notebook.",
        )
    return path.rstrip("/") or "/"


def _value(enum: Any) -> str | None:
    return getattr(enum, "value", None) or (enum if isinstance(enum, str) else None)
