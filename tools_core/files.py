"""Files in Unity Catalog volumes (``/Volumes/<catalog>/<schema>/<volume>/...``): upload,
download, list, read, delete, through the SDK's Files API client (``client.files``).

Downloads land in the results folder only (the rule of ``save_to``: see
:mod:`tools_core.localfiles`). The SDK is imported inside functions only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from contextlib import suppress
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.localfiles import save_new
from tools_core.results import Result, markdown_table

Progress = Callable[[float, float, str], None]
Check = Callable[[], None]

DEFAULT_LIMIT = 200
DEFAULT_MAX_CHARS = 20_000
MAX_CHARS = 200_000
# A folder upload or a recursive delete walks at most this many files.
MAX_FILES = 1_000
COPY_CHUNK = 1024 * 1024


def _volume_path(path: str) -> str:
    clean = "/" + path.strip().strip("/")
    if not clean.startswith("/Volumes/") or len(clean.split("/")) < 5:
        raise InvalidInput(
            f"{path!r} is not a volume path.",
            "Use /Volumes/<catalog>/<schema>/<volume>/<path> (uc_list_volumes lists volumes).",
        )
    return clean


class FileEntry(Result):
    """One file or directory of a volume."""

    path: str
    is_directory: bool
    size: int | None = None
    modified_at: int | None = None


class FileListing(Result):
    """The answer of files_list."""

    path: str
    entries: list[FileEntry]
    truncated: bool = False

    def to_text(self) -> str:
        rows = [
            [e.path + ("/" if e.is_directory else ""), "" if e.size is None else e.size]
            for e in self.entries
        ]
        more = "\n(truncated: raise limit or list a sub-directory)" if self.truncated else ""
        return markdown_table(["path", "bytes"], rows) + more


def list_files(backend: Backend, path: str, limit: int = DEFAULT_LIMIT) -> FileListing:
    """Direct children of a volume directory, at most ``limit``."""
    path = _volume_path(path)
    found = list(islice(backend.client.files.list_directory_contents(path), limit + 1))
    entries = [
        FileEntry(
            path=(e.path or "").rstrip("/"),
            is_directory=bool(e.is_directory),
            size=e.file_size,
            modified_at=e.last_modified,
        )
        for e in found[:limit]
    ]
    return FileListing(path=path, entries=entries, truncated=len(found) > limit)


class FileText(Result):
    """The head of a text file."""

    path: str
    text: str
    size: int | None = None
    truncated: bool = False

    def to_text(self) -> str:
        more = (
            f"\n[… first {len(self.text)} chars of {self.size} bytes; raise max_chars or "
            "files_download it]"
            if self.truncated
            else ""
        )
        return self.text + more


def read_file(backend: Backend, path: str, max_chars: int = DEFAULT_MAX_CHARS) -> FileText:
    """The first ``max_chars`` characters of a file (UTF-8; bad bytes replaced)."""
    path = _volume_path(path)
    max_chars = max(1, min(max_chars, MAX_CHARS))
    response = backend.client.files.download(path)
    contents = response.contents
    try:
        # 4 bytes a character at most; one more byte tells whether there is more.
        head = contents.read(max_chars * 4 + 1) if contents is not None else b""
    finally:
        if contents is not None:
            contents.close()
    text = head.decode("utf-8", errors="replace")
    size = response.content_length
    truncated = len(text) > max_chars or (size is not None and len(head) < size)
    return FileText(path=path, text=text[:max_chars], size=size, truncated=truncated)


class Transfer(Result):
    """Files written by files_upload or files_download."""

    files: list[str]
    bytes: int
    local_path: str | None = None

    def to_text(self) -> str:
        where = f" to {self.local_path}" if self.local_path else ""
        shown = "\n".join(self.files[:20]) + ("\n…" if len(self.files) > 20 else "")
        return f"Wrote {len(self.files)} file(s), {self.bytes} bytes{where}:\n{shown}"


def _local_files(root: Path) -> list[tuple[Path, str]]:
    """(file, relative posix path) of a local folder, links skipped, at most MAX_FILES."""
    found: list[tuple[Path, str]] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(folder, d)))
        for name in sorted(names):
            file = Path(folder) / name
            if not stat.S_ISREG(os.lstat(file).st_mode):
                continue
            found.append((file, file.relative_to(root).as_posix()))
            if len(found) > MAX_FILES:
                raise InvalidInput(
                    f"{root} holds more than {MAX_FILES} files.",
                    "Upload a smaller folder, or several sub-folders one by one.",
                )
    return found


def upload(
    backend: Backend,
    local_path: str,
    path: str,
    overwrite: bool = False,
    progress: Progress | None = None,
    check: Check | None = None,
) -> Transfer:
    """Upload a local file to ``path``, or a local folder's files below ``path``."""
    path = _volume_path(path)
    source = Path(local_path).expanduser()
    if source.is_dir():
        pairs = [(f, f"{path}/{rel}") for f, rel in _local_files(source)]
    elif source.is_file():
        pairs = [(source, path)]
    else:
        raise InvalidInput(f"{local_path!r} is not a local file or folder.", "Check the path.")
    total = sum(f.stat().st_size for f, _ in pairs) or 1
    done = 0
    written: list[str] = []
    for file, target in pairs:
        if check is not None:
            check()
        size = file.stat().st_size
        if progress is not None:
            progress(done, total, f"uploading {target} ({size} bytes)")
        _put(backend, file, target, overwrite)
        done += size
        written.append(target)
    if progress is not None:
        progress(total, total, f"uploaded {len(written)} file(s)")
    return Transfer(files=written, bytes=done)


def _put(backend: Backend, file: Path, target: str, overwrite: bool) -> None:
    """One file up. Without ``overwrite`` a PUT is not idempotent: when the SDK retries one
    that was applied but answered with an error, the repeat finds the file there. A file
    already there with exactly these bytes is this upload's (or an identical one's) and
    counts as done; different bytes are the conflict the caller asked to be told about."""
    from databricks.sdk.errors import AlreadyExists, ResourceAlreadyExists

    try:
        backend.client.files.upload_from(target, str(file), overwrite=overwrite)
    except (AlreadyExists, ResourceAlreadyExists):
        if not _same_bytes(backend, file, target):
            raise


def _same_bytes(backend: Backend, file: Path, target: str) -> bool:
    """Whether the volume file ``target`` holds exactly the bytes of the local ``file``."""
    contents = backend.client.files.download(target).contents
    if contents is None:
        return file.stat().st_size == 0
    try:
        with file.open("rb") as local:
            while chunk := contents.read(COPY_CHUNK):
                if local.read(len(chunk)) != chunk:
                    return False
            return local.read(1) == b""
    finally:
        contents.close()


def download(backend: Backend, path: str, local_path: str, results_dir: Path) -> Transfer:
    """Download a volume file into the results folder (``local_path`` names a file there)."""
    path = _volume_path(path)

    def write(handle: BinaryIO) -> int:
        contents = backend.client.files.download(path).contents
        if contents is None:
            return 0
        copied = 0
        try:
            while chunk := contents.read(COPY_CHUNK):
                handle.write(chunk)
                copied += len(chunk)
        finally:
            contents.close()
        return copied

    saved, _ = save_new(results_dir, local_path, write)
    return Transfer(files=[path], bytes=saved.bytes, local_path=saved.path)


class FileDelete(Result):
    """The answer of files_delete (a preview unless ``deleted``)."""

    path: str
    is_directory: bool
    deleted: bool
    files_below: int = 0
    count_capped: bool = False
    needs_recursive: bool = False

    def to_text(self) -> str:
        what = "directory" if self.is_directory else "file"
        below = ""
        if self.is_directory:
            below = f" and {self.files_below}{'+' if self.count_capped else ''} entries below it"
        if self.deleted:
            return f"Deleted {what} {self.path}{below}."
        text = f"Would delete {what} {self.path}{below}. Nothing changed."
        if self.needs_recursive:
            return text + " It is not empty: call again with recursive=true and confirm=true."
        return text + " Call again with confirm=true to delete."


def _walk(backend: Backend, path: str) -> tuple[list[str], list[str], bool]:
    """Files and directories below ``path`` (directories deepest first), capped."""
    files: list[str] = []
    dirs: list[str] = []
    queue = [path]
    while queue and len(files) + len(dirs) <= MAX_FILES:
        current = queue.pop()
        for entry in backend.client.files.list_directory_contents(current):
            target = (entry.path or "").rstrip("/")
            if entry.is_directory:
                dirs.append(target)
                queue.append(target)
            else:
                files.append(target)
    capped = bool(queue) or len(files) + len(dirs) > MAX_FILES
    dirs.sort(key=lambda d: d.count("/"), reverse=True)
    return files, dirs, capped


def delete(
    backend: Backend, path: str, recursive: bool = False, confirm: bool = False
) -> FileDelete:
    """Delete a file, or a directory (its contents too with ``recursive``); without
    ``confirm`` only say what would be deleted."""
    from databricks.sdk.errors import NotFound

    path = _volume_path(path)
    is_directory = False
    try:
        backend.client.files.get_metadata(path)
    except NotFound:
        backend.client.files.get_directory_metadata(path)  # NotFound: neither exists
        is_directory = True
    files: list[str] = []
    dirs: list[str] = []
    capped = False
    if is_directory:
        files, dirs, capped = _walk(backend, path)
    below = len(files) + len(dirs)
    result: dict[str, Any] = {
        "path": path,
        "is_directory": is_directory,
        "files_below": below,
        "count_capped": capped,
    }
    if not confirm or (below and not recursive):
        return FileDelete(deleted=False, needs_recursive=below > 0 and not recursive, **result)
    if capped:
        raise InvalidInput(
            f"{path} holds more than {MAX_FILES} entries.", "Delete its sub-directories first."
        )
    # Gone meanwhile means deleted, as asked (a retried delete that was applied).
    for file in files:
        with suppress(NotFound):
            backend.client.files.delete(file)
    # A volume's root directory stays: only dropping the volume removes it.
    root = len(path.split("/")) == 5
    for directory in [*dirs, *([] if root else [path])] if is_directory else []:
        with suppress(NotFound):
            backend.client.files.delete_directory(directory)
    if not is_directory:
        with suppress(NotFound):
            backend.client.files.delete(path)
    return FileDelete(deleted=True, **result)
