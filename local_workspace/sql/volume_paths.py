"""The one door from SQL to files: paths inside Unity Catalog volumes.

``read_files``, ``csv.`path```, ``COPY INTO`` and ``LIST`` name files as
``/Volumes/<catalog>/<schema>/<volume>/...`` (or ``dbfs:/Volumes/...``). Each path is resolved
here, before any reader runs: it must name an existing volume, hold no ``..``/``.`` component,
and no component below the volume folder may be a symbolic link. Globs are expanded here too,
so DuckDB only ever receives an explicit list of real files that passed these checks.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from local_workspace.catalog.volume_files import escape_of
from local_workspace.errors import ApiError
from local_workspace.sql.errors import SqlError, quoted

if TYPE_CHECKING:
    from local_workspace.catalog.volumes import Volumes

PREFIX = "/Volumes/"
_GLOB = re.compile(r"[*?\[\]{}]")
# Databricks' file listing skips names starting with these (Spark's hidden-file rule).
_HIDDEN = ("_", ".")
VOLUMES_HINT = (
    "In the local workspace SQL reads files only inside Unity Catalog volumes: "
    "/Volumes/<catalog>/<schema>/<volume>/..."
)


def no_file_access(action: str = "SELECT") -> SqlError:
    """What a Unity Catalog workspace answers for a path no volume governs."""
    return SqlError(
        "INSUFFICIENT_PERMISSIONS",
        f"Insufficient privileges: User does not have permission {action} on any file. "
        + VOLUMES_HINT,
        "42501",
        "PERMISSION_DENIED",
    )


def volume_not_found(catalog: str, schema: str, volume: str) -> SqlError:
    """UC_VOLUME_NOT_FOUND, as Databricks words it."""
    return SqlError(
        "UC_VOLUME_NOT_FOUND",
        f"Volume {quoted(catalog, schema, volume)} does not exist. Please use 'SHOW VOLUMES' "
        "to list available volumes.",
        "42704",
        "NOT_FOUND",
    )


def path_not_found(path: str) -> SqlError:
    """PATH_NOT_FOUND for a volume path that names nothing."""
    return SqlError("PATH_NOT_FOUND", f"Path does not exist: {path}.", "42K03", "NOT_FOUND")


@dataclass
class FileEntry:
    """One file or folder found in a volume."""

    real: Path  # on the host (never shown to clients)
    public: str  # /Volumes/c/s/v/...
    size: int
    mtime_ms: int
    is_dir: bool = False

    @property
    def name(self) -> str:
        """The last component of the path."""
        return self.public.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class VolumePath:
    """A checked path: its volume folder and the components below it."""

    public: str  # normalised: /Volumes/c/s/v[/rest]
    root: Path  # the volume folder
    rest: list[str]
    base: str  # the volume's own path: /Volumes/c/s/v

    @property
    def is_pattern(self) -> bool:
        """Whether the part below the volume holds glob characters."""
        return any(_GLOB.search(part) for part in self.rest)

    def child(self, relative: str) -> str:
        """The public path of ``relative`` below this path (FILES / PATTERN of COPY INTO)."""
        return self.public.rstrip("/") + "/" + relative.lstrip("/")


def resolve(text: str, volumes: Volumes, action: str = "SELECT") -> VolumePath:
    """``text`` as a path inside an existing volume, or the Databricks error for it."""
    path = text.strip()
    if path.lower().startswith("dbfs:/"):
        path = path[len("dbfs:") :]
    if not path.startswith(PREFIX) or "\\" in path or "\x00" in path:
        raise no_file_access(action)
    parts = [p for p in path[len(PREFIX) :].split("/")]
    trailing = parts[-1] == "" if parts else False
    parts = [p for p in parts if p != ""]
    if any(p in ("..", ".") for p in parts) or len(parts) < 3:
        raise no_file_access(action)
    catalog, schema, volume = parts[0], parts[1], parts[2]
    if any(_GLOB.search(p) for p in parts[:3]):
        raise no_file_access(action)
    try:
        info = volumes.get(f"{catalog}.{schema}.{volume}")
    except ApiError as exc:
        raise volume_not_found(catalog, schema, volume) from exc
    root = volumes.path(info["catalog_name"], info["schema_name"], info["name"])
    public = PREFIX + "/".join(parts) + ("/" if trailing and len(parts) > 3 else "")
    return VolumePath(public, root, parts[3:], PREFIX + "/".join(parts[:3]))


def _check_real(root: Path, real: Path, action: str) -> os.stat_result:
    """lstat of ``real``; refused when it (or a folder on the way) is a link or leaves root."""
    if escape_of(root, real.relative_to(root).parts) is not None:
        raise no_file_access(action)
    return real.lstat()


def _entry(root: Path, real: Path, public: str, action: str) -> FileEntry:
    info = _check_real(root, real, action)
    is_dir = stat.S_ISDIR(info.st_mode)
    return FileEntry(real, public, 0 if is_dir else info.st_size, info.st_mtime_ns // 10**6, is_dir)


def _walk(root: Path, folder: Path, public: str, action: str) -> list[FileEntry]:
    """Every regular file below ``folder`` (recursively, hidden names skipped), sorted."""
    found: list[FileEntry] = []
    for child in sorted(folder.iterdir(), key=lambda p: p.name):
        if child.name.startswith(_HIDDEN):
            continue
        entry = _entry(root, child, f"{public.rstrip('/')}/{child.name}", action)
        if entry.is_dir:
            found.extend(_walk(root, child, entry.public, action))
        elif stat.S_ISREG(child.lstat().st_mode):
            found.append(entry)
    return found


def expand_braces(pattern: str) -> list[str]:
    """``a{b,c}d`` -> [abd, acd] (nested braces too), as Databricks' globber reads them."""
    depth, start = 0, -1
    for i, char in enumerate(pattern):
        if char == "{":
            if depth == 0:
                start = i
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                options, level, last = [], 0, start + 1
                for j in range(start + 1, i):
                    if pattern[j] in "{":
                        level += 1
                    elif pattern[j] == "}":
                        level -= 1
                    elif pattern[j] == "," and level == 0:
                        options.append(pattern[last:j])
                        last = j + 1
                options.append(pattern[last:i])
                head, tail = pattern[:start], pattern[i + 1 :]
                return [x for o in options for x in expand_braces(head + o + tail)]
    return [pattern]


def _match(name: str, pattern: str) -> bool:
    # Hadoop globs write negated classes [^a]; fnmatch writes them [!a].
    return fnmatch.fnmatchcase(name, pattern.replace("[^", "[!"))


def _glob(vp: VolumePath, action: str) -> list[FileEntry]:
    matched: dict[str, FileEntry] = {}
    for alternative in expand_braces("/".join(vp.rest)):
        level: list[tuple[Path, str]] = [(vp.root, vp.base)]
        for part in [p for p in alternative.split("/") if p]:
            following: list[tuple[Path, str]] = []
            for real, public in level:
                if not real.is_dir() or real.is_symlink():
                    continue
                if _GLOB.search(part):
                    names = sorted(c.name for c in real.iterdir() if _match(c.name, part))
                    if not part.startswith(_HIDDEN):
                        names = [n for n in names if not n.startswith(_HIDDEN)]
                else:
                    names = [part] if (real / part).exists() or (real / part).is_symlink() else []
                following.extend((real / n, f"{public}/{n}") for n in names)
            level = following
        for real, public in level:
            entry = _entry(vp.root, real, public, action)
            items = _walk(vp.root, real, public, action) if entry.is_dir else [entry]
            matched.update((item.public, item) for item in items)
    return [matched[k] for k in sorted(matched)]


def files(vp: VolumePath, action: str = "SELECT") -> list[FileEntry]:
    """The regular files a path names: itself, every file below a folder, or a glob's
    matches (folders matched by a glob contribute the files below them). A missing path
    is PATH_NOT_FOUND; an empty result is returned as is."""
    if vp.is_pattern:
        return _glob(vp, action)
    real = vp.root.joinpath(*vp.rest)
    if not real.exists() and not real.is_symlink():
        raise path_not_found(vp.public)
    entry = _entry(vp.root, real, vp.public, action)
    if entry.is_dir:
        return _walk(vp.root, real, vp.public, action)
    return [entry]


def children(vp: VolumePath, action: str = "SELECT") -> list[FileEntry]:
    """What ``LIST`` shows: the entries directly in a folder (or the file itself)."""
    real = vp.root.joinpath(*vp.rest)
    if vp.is_pattern or (not real.exists() and not real.is_symlink()):
        raise path_not_found(vp.public)
    entry = _entry(vp.root, real, vp.public, action)
    if not entry.is_dir:
        return [entry]
    out = []
    for child in sorted(real.iterdir(), key=lambda p: p.name):
        if child.is_symlink():
            continue  # never readable here, so never listed
        out.append(_entry(vp.root, child, f"{vp.public.rstrip('/')}/{child.name}", action))
    return out
