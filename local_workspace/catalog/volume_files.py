"""Files of Unity Catalog volumes: the one door from a ``/Volumes/...`` path to the disk.

A path names ``/Volumes/<catalog>/<schema>/<volume>/<rest>`` of an existing volume. Refused:
any other path, ``.``/``..`` parts, NUL, and any path that goes through a symbolic link or
whose resolved location is not inside the volume's folder (a link planted in the folder by
hand never leads out). Writes land in a temporary file outside the volume first and get
their name only once complete, so a reader never sees a half-written file.
"""

from __future__ import annotations

import base64
import os
import shutil
import stat
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from local_workspace.errors import ApiError, already_exists, invalid, not_found

if TYPE_CHECKING:
    from local_workspace.catalog.volumes import Volumes

PREFIX = "/Volumes/"
# Databricks' messages for a missing file or directory (as the SDK and CLI tests quote them).
FILE_NOT_FOUND = "The file being accessed is not found."
DIR_NOT_FOUND = "The directory being accessed is not found."
FILE_EXISTS = "The file being created already exists."
# Files API list pages: at most 1000 entries (larger page_size values are coerced).
MAX_PAGE = 1000


@dataclass(frozen=True)
class VolumePath:
    """A checked ``/Volumes/...`` path: the volume's folder and the location inside it."""

    public: str  # as the client should see it: /Volumes/c/s/v/rest
    volume: str  # full name c.s.v
    root: Path  # the volume's folder
    relative: PurePosixPath  # inside the volume ("." for the volume itself)
    prefix: str = PREFIX  # /Volumes/, or /Models/ for model version files

    @property
    def local(self) -> Path:
        """Where the path lives on disk."""
        return self.root.joinpath(*self.relative.parts)

    @property
    def is_root(self) -> bool:
        """Whether the path is the volume itself."""
        return not self.relative.parts


def _outside(path: str, why: str) -> ApiError:
    return invalid(
        f"Invalid path '{path}': {why}. The Files API reaches files of Unity Catalog volumes "
        "only: /Volumes/<catalog>/<schema>/<volume>/<path>."
    )


def path_parts(path: str, prefix: str, refuse: Callable[[str, str], ApiError]) -> list[str]:
    """The components of ``path`` after ``prefix``; NUL, '.' and '..' are refused (with
    ``refuse(path, why)``) before any lookup, whichever area of the Files API it names."""
    if "\x00" in path:
        raise refuse(path, "NUL characters are not allowed")
    parts = [p for p in path[len(prefix) :].split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise refuse(path, "'.' and '..' are not allowed")
    return parts


def resolve(volumes: Volumes, path: str) -> VolumePath:
    """Check ``path`` and find its volume (404 when the volume does not exist)."""
    if not path.startswith(PREFIX) and path != PREFIX.rstrip("/"):
        raise _outside(path, "not a volume path")
    parts = path_parts(path, PREFIX, _outside)
    if len(parts) < 3:
        raise _outside(path, "it names no volume")
    catalog, schema, name = (p.lower() for p in parts[:3])
    full_name = f"{catalog}.{schema}.{name}"
    try:
        info = volumes.get(full_name)
    except ApiError as exc:
        if exc.status == 404:
            raise not_found(f"Volume '{full_name}' does not exist.", "NOT_FOUND") from exc
        raise
    root = volumes.path(info["catalog_name"], info["schema_name"], info["name"])
    relative = PurePosixPath(*parts[3:]) if parts[3:] else PurePosixPath()
    public = PREFIX + "/".join([catalog, schema, name, *parts[3:]])
    found = VolumePath(public, full_name, root, relative)
    _no_links(found)
    return found


def escape_of(root: Path, parts: tuple[str, ...]) -> str | None:
    """How ``root/parts`` leaves ``root``: "link" when the root or an existing component on
    the way is a symbolic link, "outside" when it resolves elsewhere, None when it stays.
    The one check behind every file door of the volumes (Files API and SQL)."""
    current = root
    if stat.S_ISLNK(os.lstat(root).st_mode):
        return "link"
    for part in parts:
        current = current / part
        info = _lstat(current)
        if info is None:
            break  # what does not exist yet cannot be a link
        if stat.S_ISLNK(info.st_mode):
            return "link"
    real_root = os.path.realpath(root)
    real = os.path.realpath(root.joinpath(*parts))
    if real != real_root and not real.startswith(real_root + os.sep):
        return "outside"
    return None


def check_links(vp: VolumePath) -> None:
    """Refuse a path through a symbolic link, or one resolving outside its root folder."""
    _no_links(vp)


def _no_links(vp: VolumePath) -> None:
    """Refuse a path through a symbolic link, or one resolving outside the volume folder."""
    if _lstat(vp.root) is None:
        vp.root.mkdir(parents=True, exist_ok=True)  # a managed volume always has its folder
    escape = escape_of(vp.root, vp.relative.parts)
    if escape == "link":
        raise invalid(
            f"Invalid path '{vp.public}': it goes through a symbolic link in the volume's "
            "storage; the Files API reaches only the volume's own files and folders."
        )
    if escape == "outside":
        raise invalid(f"Invalid path '{vp.public}': it resolves outside its volume.")


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def file_info(vp: VolumePath) -> os.stat_result:
    """The stat of a regular file; 404 NOT_FOUND for a missing path or a directory."""
    info = _lstat(vp.local)
    if info is None or not stat.S_ISREG(info.st_mode):
        raise not_found(FILE_NOT_FOUND, "NOT_FOUND")
    return info


def directory_exists(vp: VolumePath) -> None:
    """404 NOT_FOUND unless the path is a directory."""
    info = _lstat(vp.local)
    if info is None or not stat.S_ISDIR(info.st_mode):
        raise ApiError(404, "NOT_FOUND", DIR_NOT_FOUND, "FILES_API_DIRECTORY_IS_NOT_FOUND")


def make_directory(vp: VolumePath) -> None:
    """``mkdir -p`` inside the volume; idempotent; 409 when a file is in the way."""
    current, shown = vp.root, vp.prefix + vp.volume.replace(".", "/")
    for part in vp.relative.parts:
        current, shown = current / part, f"{shown}/{part}"
        info = _lstat(current)
        if info is None:
            with suppress(FileExistsError):  # made meanwhile by another request
                current.mkdir()
            info = _lstat(current)
        if info is None or not stat.S_ISDIR(info.st_mode):
            raise already_exists(
                f"A file already exists at '{shown}': a directory cannot be created there.",
                "ALREADY_EXISTS",
            )


def delete_directory(vp: VolumePath) -> None:
    """Delete an empty directory (400 FILES_API_DIRECTORY_IS_NOT_EMPTY otherwise)."""
    directory_exists(vp)
    if vp.is_root:
        raise invalid(
            f"Cannot delete '{vp.public}': it is the root directory of volume {vp.volume}. "
            "Drop the volume to remove it."
        )
    try:
        vp.local.rmdir()
    except OSError as exc:
        if any(vp.local.iterdir()):
            raise ApiError(
                400,
                "INVALID_PARAMETER_VALUE",
                f"The directory '{vp.public}' is not empty; delete its contents first.",
                "FILES_API_DIRECTORY_IS_NOT_EMPTY",
            ) from exc
        raise


def delete_file(vp: VolumePath) -> None:
    """Delete a file; 404 NOT_FOUND for a missing path or a directory."""
    file_info(vp)
    try:
        vp.local.unlink()
    except FileNotFoundError as exc:
        raise not_found(FILE_NOT_FOUND, "NOT_FOUND") from exc


def list_directory(vp: VolumePath, page_size: int, page_token: str) -> dict[str, Any]:
    """One page of a directory's entries, sorted by name (``contents``/``next_page_token``,
    as DirectoryEntry dicts)."""
    directory_exists(vp)
    size = MAX_PAGE if page_size <= 0 else min(page_size, MAX_PAGE)
    after = ""
    if page_token:
        try:
            after = base64.urlsafe_b64decode(page_token.encode()).decode()
        except ValueError as exc:
            raise invalid(f"Invalid page_token '{page_token}'.") from exc
    names = sorted(n for n in os.listdir(vp.local) if n > after)
    contents: list[dict[str, Any]] = []
    for name in names[:size]:
        info = _lstat(vp.local / name)
        if info is None or stat.S_ISLNK(info.st_mode):
            continue  # gone meanwhile, or a link planted by hand: never listed
        path = f"{vp.public.rstrip('/')}/{name}"
        if stat.S_ISDIR(info.st_mode):
            contents.append({"path": path + "/", "is_directory": True, "name": name})
        else:
            contents.append(
                {
                    "path": path,
                    "is_directory": False,
                    "file_size": info.st_size,
                    "last_modified": int(info.st_mtime * 1000),
                    "name": name,
                }
            )
    body: dict[str, Any] = {"contents": contents}
    if len(names) > size:
        body["next_page_token"] = base64.urlsafe_b64encode(names[size - 1].encode()).decode()
    return body


class Upload:
    """A file being written: bytes go to a temporary file outside every volume, which takes
    its name only in :meth:`commit` (nothing half written is ever visible)."""

    def __init__(self, vp: VolumePath, staging: Path, overwrite: bool) -> None:
        self.vp = vp
        self.overwrite = overwrite
        staging.mkdir(parents=True, exist_ok=True)
        self.temporary = staging / f"upload-{uuid.uuid4().hex}.part"
        self._handle = self.temporary.open("xb")
        self.size = 0

    def check_target(self) -> None:
        """Refuse up front what commit would refuse (no need to receive the body first)."""
        info = _lstat(self.vp.local)
        if info is None:
            return
        if stat.S_ISDIR(info.st_mode):
            raise already_exists(
                f"A directory already exists at '{self.vp.public}'.", "ALREADY_EXISTS"
            )
        if not self.overwrite:
            raise already_exists(FILE_EXISTS, "ALREADY_EXISTS")

    def write(self, chunk: bytes) -> None:
        """Append a chunk of the body."""
        self._handle.write(chunk)
        self.size += len(chunk)

    def commit(self) -> None:
        """Give the complete file its name (creating the parent directories)."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        if self.vp.is_root:
            raise already_exists(f"'{self.vp.public}' is a volume, not a file.", "ALREADY_EXISTS")
        parent = VolumePath(
            self.vp.public.rsplit("/", 1)[0],
            self.vp.volume,
            self.vp.root,
            self.vp.relative.parent,
            self.vp.prefix,
        )
        make_directory(parent)
        _no_links(self.vp)  # the folders may have changed while the body arrived
        self.check_target()
        if self.overwrite:
            os.replace(self.temporary, self.vp.local)
            return
        try:
            # link() never replaces a name: two racing uploads without overwrite, one wins.
            os.link(self.temporary, self.vp.local)
        except FileExistsError as exc:
            raise already_exists(FILE_EXISTS, "ALREADY_EXISTS") from exc
        except OSError:
            with open(self.vp.local, "xb") as out, self.temporary.open("rb") as src:
                shutil.copyfileobj(src, out)
        self.temporary.unlink(missing_ok=True)

    def discard(self) -> None:
        """Drop the temporary file (a failed or refused upload leaves nothing)."""
        if not self._handle.closed:
            self._handle.close()
        self.temporary.unlink(missing_ok=True)
