"""Local files the tools write: one rule for every writer.

Two kinds of writes exist. Results (``save_to`` of the SQL tools) go into one results
folder handed over by the caller (tools_core never reads the environment): the agent names
a file inside it, never a path elsewhere. Projects (``project_init``) go where the caller
says, into a new or empty folder.

Either way:
- no link is followed out: every folder below the starting point is opened relative to its
  verified parent with ``O_NOFOLLOW``, so a link swapped in after a check fails too;
- nothing is overwritten: files are created with ``O_CREAT | O_EXCL | O_NOFOLLOW``;
- nothing is left half written: a result is written to a hidden temporary name in its folder
  and hard-linked to its final name only when complete (``link`` never replaces a name).

POSIX only (``dir_fd``), like the rest of the local tooling.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, TypeVar

from tools_core.errors import InvalidInput, ToolsCoreError

T = TypeVar("T")

# Room is left under NAME_MAX (255) for a "-NNN" suffix and the temporary name.
MAX_NAME_BYTES = 200
MAX_PATH_CHARS = 1000
MAX_SUFFIX = 999
ECHO_CHARS = 120

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class SavedFile:
    """A file written into the results folder."""

    path: str  # absolute, with every folder resolved; its name may differ from the one
    # asked for (a taken name gets -1, -2...)
    bytes: int


def _echo(value: str) -> str:
    text = value if len(value) <= ECHO_CHARS else value[:ECHO_CHARS] + "…"
    return repr(text)


def check_save_name(folder: Path, name: str, suffixes: Sequence[str] = ()) -> PurePosixPath:
    """The relative path inside ``folder`` that ``name`` stands for; refuse anything else.

    ``name`` is a file name or a relative path (``trips.csv``, ``q3/trips.parquet``), or an
    absolute path that already lies inside ``folder``. Refused: ``..``, absolute paths
    elsewhere, ``~``, NUL and control characters, over-long names, other suffixes.
    """

    def refuse(reason: str) -> InvalidInput:
        return InvalidInput(
            f"save_to must be a file name or a relative path inside the results folder "
            f"{folder} (e.g. trips.csv or q3/trips.parquet); got {_echo(name)}: {reason}.",
            "Pass a plain name; the tool answers with the absolute path it wrote.",
        )

    if not name:
        raise refuse("empty")
    if len(name) > MAX_PATH_CHARS:
        raise refuse(f"longer than {MAX_PATH_CHARS} characters")
    if any(ord(ch) < 32 or ch == "\x7f" for ch in name):
        raise refuse("NUL or control characters are not allowed")
    path = PurePosixPath(name)
    if ".." in path.parts:
        raise refuse("'..' is not allowed")
    if path.is_absolute():
        path = _inside(folder, path) or PurePosixPath()
        if not path.parts:
            raise refuse("absolute paths must lie inside the results folder")
    if not path.parts:
        raise refuse("not a file name")
    if path.parts[0].startswith("~"):
        raise refuse("'~' is not expanded; paths are relative to the results folder")
    for part in path.parts:
        if len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
            raise refuse(f"a name is longer than {MAX_NAME_BYTES} bytes")
    if suffixes and path.suffix.lower() not in suffixes:
        raise refuse(f"the name must end with {', '.join(suffixes)}")
    return path


def _inside(folder: Path, path: PurePosixPath) -> PurePosixPath | None:
    """``path`` relative to ``folder`` (as configured or resolved), if it lies inside."""
    for base in dict.fromkeys((folder.absolute(), folder.resolve())):
        with suppress(ValueError):
            relative = path.relative_to(PurePosixPath(base))
            return relative if relative.parts else None
    return None


def save_new(
    folder: Path,
    name: str,
    write: Callable[[BinaryIO], T],
    suffixes: Sequence[str] = (),
) -> tuple[SavedFile, T]:
    """Create a new file ``name`` inside ``folder`` and fill it with ``write(handle)``.

    ``folder`` (trusted configuration) is created if missing; the sub-folders of ``name``
    are created or opened without following links. If the name is taken, ``-1``, ``-2``...
    is added before the suffix. ``write`` fills a temporary file that gets its name only when
    ``write`` returned; on any failure nothing is left behind.
    """
    relative = check_save_name(folder, name, suffixes)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with ExitStack() as stack:
        fd = os.open(folder, _DIR)
        stack.callback(os.close, fd)
        real = Path(os.path.realpath(folder))
        for part in relative.parts[:-1]:
            fd, _ = open_subdir(fd, part, create=True, shown=real / part)
            stack.callback(os.close, fd)
            real = real / part
        temporary = f".dbx-devkit-{secrets.token_hex(8)}.part"
        handle = os.fdopen(os.open(temporary, _NEW_FILE, 0o644, dir_fd=fd), "wb")
        try:
            with handle:
                value = write(handle)
                handle.flush()
                os.fsync(handle.fileno())
                size = os.fstat(handle.fileno()).st_size
            final = _publish(fd, temporary, relative.name)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=fd)
        return SavedFile(str(real / final), size), value


def _candidates(name: str) -> list[str]:
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        stem, suffix = name, ""
    tail = f".{suffix}" if suffix else ""
    return [name] + [f"{stem}-{n}{tail}" for n in range(1, MAX_SUFFIX + 1)]


def _publish(dir_fd: int, temporary: str, name: str) -> str:
    """Give the complete temporary file the first free name of ``name``, ``name-1``..."""
    for candidate in _candidates(name):
        try:
            # link() never replaces an existing name (file, folder or link).
            os.link(temporary, candidate, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            # A file system without hard links: create the name exclusively, then copy.
            if _copy_exclusive(dir_fd, temporary, candidate):
                return candidate
    raise ToolsCoreError(
        "RESOURCE_ALREADY_EXISTS",
        f"{name} and {MAX_SUFFIX} numbered variants already exist in the results folder.",
        "Pick another file name.",
    )


def _copy_exclusive(dir_fd: int, source: str, target: str) -> bool:
    """Copy ``source`` to a new file ``target``; False if ``target`` exists."""
    try:
        out = os.open(target, _NEW_FILE, 0o644, dir_fd=dir_fd)
    except FileExistsError:
        return False
    try:
        with (
            os.fdopen(os.open(source, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd), "rb") as src,
            os.fdopen(out, "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(target, dir_fd=dir_fd)
        raise
    return True


def open_subdir(parent_fd: int, name: str, create: bool, shown: Path) -> tuple[int, bool]:
    """Open folder ``name`` under ``parent_fd`` without following a link (creating it when
    ``create`` and missing); returns the fd and whether it was created."""
    created = False
    if create:
        try:
            os.mkdir(name, dir_fd=parent_fd)
            created = True
        except FileExistsError:
            pass
    try:
        return os.open(name, _DIR | os.O_NOFOLLOW, dir_fd=parent_fd), created
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            raise
        raise _not_a_folder(parent_fd, name, shown) from exc


def _not_a_folder(parent_fd: int, name: str, shown: Path) -> InvalidInput:
    info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        target = os.readlink(name, dir_fd=parent_fd)
        return InvalidInput(
            f"{shown} is a symbolic link (to {target}); files are written only where the "
            "path says, never through a link.",
            "Use a path without links (the link's real target, if that is what you meant).",
        )
    return InvalidInput(f"{shown} exists and is not a folder.", "Pick another path.")


def create_file_at(dir_fd: int, name: str, mode: int = 0o666) -> BinaryIO:
    """A new file ``name`` under ``dir_fd``, opened for writing; never an existing name, never
    through a link (FileExistsError otherwise)."""
    return os.fdopen(os.open(name, _NEW_FILE, mode, dir_fd=dir_fd), "wb")


def open_target_folder(path: Path) -> tuple[int, Path, list[Path]]:
    """Open (creating what is missing) the folder ``path`` walking from ``/``.

    Links owned by root when we are not root (system layout, e.g. macOS ``/tmp ->
    /private/tmp``) are followed; any other link on the way is refused, since a link we could
    have made can send the files somewhere the path does not show. Returns the folder's fd,
    its real path and the folders created (outermost first) so a failed write can remove
    them again.
    """
    absolute = Path(os.path.abspath(path))
    system_links = os.geteuid() != 0  # as root, no link is known not to be ours
    created: list[Path] = []
    fd = os.open("/", _DIR)
    real = Path("/")
    try:
        for part in absolute.parts[1:]:
            try:
                info = os.stat(part, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                info = None
            if (
                system_links
                and info is not None
                and stat.S_ISLNK(info.st_mode)
                and info.st_uid == 0
            ):
                child = os.open(part, _DIR, dir_fd=fd)
                real = Path(os.path.realpath(real / part))
            else:
                child, made = open_subdir(fd, part, create=True, shown=real / part)
                real = real / part
                if made:
                    created.append(real)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        remove_folders(created)
        raise
    return fd, real, created


def remove_folders(folders: Sequence[Path]) -> None:
    """Remove folders this module created, innermost first, if still empty."""
    for folder in reversed(folders):
        with suppress(OSError):
            folder.rmdir()
