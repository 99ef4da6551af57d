"""``dbutils.fs`` of a local task: files of Unity Catalog volumes through the Files API.

Paths are ``/Volumes/<catalog>/<schema>/<volume>/...`` (``dbfs:``/``file:`` too); every
call goes to the workspace's Files API (``/api/2.0/fs/files``, ``/api/2.0/fs/directories``)
with the task's ``DATABRICKS_HOST``/``DATABRICKS_TOKEN``, over urllib (importing the SDK
costs seconds of task start-up). The DBFS root, mounts, cloud storage URIs and the driver's
local disk do not exist here: such paths fail with one message saying to use a volume.

Failures read as Databricks' do: its dbutils surfaces the Java exception of the file
system (``java.io.FileNotFoundException: ...``), which notebooks often test for by text.
"""

from __future__ import annotations

import builtins
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections import namedtuple
from collections.abc import Iterator
from typing import Any, NoReturn

VOLUMES = "/Volumes/"
FILES = "/api/2.0/fs/files"
DIRECTORIES = "/api/2.0/fs/directories"
DEFAULT_HEAD_BYTES = 65536
COPY_CHUNK = 1024 * 1024
_TIMEOUT_S = 60
_NOT_LOCAL = (
    "{what} is not available in the local workspace: the DBFS root, mounts and cloud storage"
    " do not exist there; use a Unity Catalog volume path"
    " (/Volumes/<catalog>/<schema>/<volume>/...)."
)


class FileInfo(namedtuple("FileInfo", ["path", "name", "size", "modificationTime"])):
    """One entry of ``dbutils.fs.ls``: ``path`` is ``dbfs:/Volumes/...``, a directory's
    path and name end with ``/`` and its size is 0; ``modificationTime`` is epoch ms."""

    def isDir(self) -> bool:
        """Whether the entry is a directory."""
        return bool(self.name.endswith("/"))

    def isFile(self) -> bool:
        """Whether the entry is a file."""
        return not self.isDir()


NOT_FOUND = "java.io.FileNotFoundException"
ALREADY_EXISTS = "java.nio.file.FileAlreadyExistsException"
IO_ERROR = "java.io.IOException"
ILLEGAL_ARGUMENT = "java.lang.IllegalArgumentException"


class ExecutionError(Exception):
    """What a failing ``dbutils.fs`` call raises on Databricks; the message starts with the
    Java exception (``java.io.FileNotFoundException: ...``) as Databricks' does."""

    def __init__(self, java_class: str, message: str) -> None:
        super().__init__(f"{java_class}: {message}")
        self.java_class = java_class


def _not_found(path: str) -> ExecutionError:
    return ExecutionError(NOT_FOUND, f"{path} does not exist.")


class _Response:
    """An answer of the workspace: status, headers and the open body."""

    def __init__(self, status: int, headers: Any, body: Any) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def workspace_request(
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    data: Any = None,
) -> _Response:
    """One request to the task's workspace; HTTP errors raise ``urllib.error.HTTPError``."""
    host = (os.environ.get("DATABRICKS_HOST") or "").rstrip("/")
    if not host:
        raise NotImplementedError(
            "dbutils is not available: DATABRICKS_HOST is not set for this task."
        )
    url = f"{host}{urllib.parse.quote(path)}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {os.environ.get('DATABRICKS_TOKEN', '')}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    answer = urllib.request.urlopen(request, timeout=_TIMEOUT_S)
    return _Response(answer.status, answer.headers, answer)


def service_message(exc: urllib.error.HTTPError) -> tuple[str, str]:
    """(error_code, message) of a workspace error answer."""
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return str(body.get("error_code") or exc.code), str(body.get("message") or exc.reason)


class Fs:
    """``dbutils.fs`` on Unity Catalog volumes: ls, head, put, mkdirs, cp, mv, rm."""

    # -- paths ------------------------------------------------------------------------------
    @staticmethod
    def _volume(path: str, what: str, above: bool = False) -> str:
        """The ``/Volumes/...`` path of ``path``; anything else is refused. ``above`` lets
        ``/Volumes``, a catalog's and a schema's folder through (``ls`` lists them)."""
        if not isinstance(path, str):
            raise TypeError(f"dbutils.fs.{what}: the path must be a string, not {type(path)}.")
        clean = path.strip()
        # dbfs:/Volumes/... and, as the driver's mount of volumes, file:/Volumes/... too.
        for scheme in ("dbfs:", "file:"):
            if clean.startswith(scheme + VOLUMES.rstrip("/")):
                clean = clean[len(scheme) :]
        if clean.rstrip("/") == VOLUMES.rstrip("/") or clean.startswith(VOLUMES):
            parts = [p for p in clean.split("/") if p]
            if len(parts) < 4 and not above:
                raise ExecutionError(
                    ILLEGAL_ARGUMENT,
                    f"{path} names no volume: use /Volumes/<catalog>/<schema>/<volume>/...",
                )
            return "/" + "/".join(parts)
        raise NotImplementedError(_NOT_LOCAL.format(what=f"dbutils.fs.{what}({path!r})"))

    @staticmethod
    def _shown(path: str, directory: bool = False) -> str:
        return "dbfs:" + path + ("/" if directory else "")

    # -- requests ---------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        api: str,
        path: str,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
    ) -> _Response:
        try:
            return workspace_request(method, api + path, query, headers, data)
        except urllib.error.HTTPError as exc:
            code, message = service_message(exc)
            if exc.code == 404:
                raise _not_found(path) from None
            if exc.code == 409:
                raise ExecutionError(ALREADY_EXISTS, f"{path}: {message}") from None
            raise ExecutionError(IO_ERROR, f"{code}: {message}") from None
        except urllib.error.URLError as exc:
            raise ExecutionError(IO_ERROR, f"the workspace did not answer: {exc.reason}") from None

    def _kind(self, path: str) -> str | None:
        """The kind of ``path``: "file", "dir", or None when nothing is there."""
        for kind, api in (("file", FILES), ("dir", DIRECTORIES)):
            try:
                self._call("HEAD", api, path).body.close()
                return kind
            except ExecutionError as exc:
                if exc.java_class != NOT_FOUND:
                    raise
        return None

    def _entries(self, path: str) -> Iterator[dict[str, Any]]:
        """Every entry of a directory, page after page."""
        token = ""
        while True:
            query = {"page_token": token} if token else None
            with self._call("GET", DIRECTORIES, path, query).body as body:
                page = json.loads(body.read() or b"{}")
            yield from page.get("contents") or []
            token = page.get("next_page_token") or ""
            if not token:
                return

    def _walk(self, path: str) -> tuple[builtins.list[str], builtins.list[str]]:
        """(files, directories) below ``path``; directories parents first."""
        files: builtins.list[str] = []
        dirs: builtins.list[str] = []
        queue = [path]
        while queue:
            current = queue.pop(0)
            for entry in self._entries(current):
                target = str(entry["path"]).rstrip("/")
                if entry.get("is_directory"):
                    dirs.append(target)
                    queue.append(target)
                else:
                    files.append(target)
        return files, dirs

    # -- dbutils.fs -------------------------------------------------------------------------
    def ls(self, dir: str) -> builtins.list[FileInfo]:
        """The entries of a directory (a file lists itself), sorted by name."""
        path = self._volume(dir, "ls", above=True)
        parts = path.split("/")[2:]
        if len(parts) < 3:
            return self._securables(parts)
        if self._kind(path) == "file":
            return [self._file_info(path)]
        found = []
        for entry in self._entries(path):
            target = str(entry["path"]).rstrip("/")
            name = target.rsplit("/", 1)[1]
            if entry.get("is_directory"):
                found.append(FileInfo(self._shown(target, True), name + "/", 0, 0))
            else:
                found.append(
                    FileInfo(
                        self._shown(target),
                        name,
                        int(entry.get("file_size") or 0),
                        int(entry.get("last_modified") or 0),
                    )
                )
        return found

    def _securables(self, parts: builtins.list[str]) -> builtins.list[FileInfo]:
        """``/Volumes`` lists catalogs, ``/Volumes/c`` its schemas, ``/Volumes/c/s`` its
        volumes (Unity Catalog API), as folders."""
        kind = ("catalogs", "schemas", "volumes")[len(parts)]
        query = dict(zip(("catalog_name", "schema_name"), parts, strict=False))
        names: builtins.list[str] = []
        while True:
            try:
                answer = workspace_request("GET", f"/api/2.1/unity-catalog/{kind}", query)
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    raise _not_found("/".join(["/Volumes", *parts])) from None
                raise ExecutionError(IO_ERROR, "{}: {}".format(*service_message(exc))) from None
            with answer.body as body:
                page = json.loads(body.read() or b"{}")
            names += [str(item["name"]) for item in page.get(kind) or []]
            if not page.get("next_page_token"):
                break
            query["page_token"] = page["next_page_token"]
        prefix = "/".join(["dbfs:/Volumes", *parts])
        return [FileInfo(f"{prefix}/{name}/", f"{name}/", 0, 0) for name in sorted(names)]

    def _file_info(self, path: str) -> FileInfo:
        answer = self._call("HEAD", FILES, path)
        answer.body.close()
        size = int(answer.headers.get("content-length") or 0)
        modified = answer.headers.get("last-modified")
        millis = 0
        if modified:
            import email.utils

            millis = int(email.utils.parsedate_to_datetime(modified).timestamp() * 1000)
        return FileInfo(self._shown(path), path.rsplit("/", 1)[1], size, millis)

    def head(self, file: str, maxBytes: int = DEFAULT_HEAD_BYTES) -> str:
        """The first ``maxBytes`` bytes of a file, decoded as UTF-8."""
        path = self._volume(file, "head")
        if self._kind(path) == "dir":
            raise ExecutionError(ILLEGAL_ARGUMENT, f"{path} is a directory.")
        want = max(int(maxBytes), 0)
        if want == 0:
            return ""
        answer = self._call("GET", FILES, path, headers={"Range": f"bytes=0-{want - 1}"})
        with answer.body as body:
            data = body.read(want)
        total = answer.headers.get("content-range", "").rpartition("/")[2]
        if total.isdigit() and int(total) > want:
            print(f"[Truncated to first {want} bytes]")
        return data.decode("utf-8", errors="replace")

    def put(self, file: str, contents: str, overwrite: bool = False) -> bool:
        """Write ``contents`` (UTF-8) to a file; an existing file only with overwrite."""
        path = self._volume(file, "put")
        data = str(contents).encode("utf-8")
        if self._kind(path) == "dir":
            raise ExecutionError(IO_ERROR, f"{path} is a directory.")
        self._upload(path, data, len(data), overwrite)
        print(f"Wrote {len(data)} bytes.")
        return True

    def _upload(self, path: str, data: Any, size: int, overwrite: bool) -> None:
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        query = {"overwrite": "true" if overwrite else "false"}
        try:
            self._call("PUT", FILES, path, query, headers, data).body.close()
        except ExecutionError as exc:
            if exc.java_class == ALREADY_EXISTS:
                raise ExecutionError(
                    ALREADY_EXISTS, f"{path} already exists; pass overwrite=True to replace it."
                ) from None
            raise

    def mkdirs(self, dir: str) -> bool:
        """Create a directory and its parents (nothing to do when it exists)."""
        path = self._volume(dir, "mkdirs")
        self._call("PUT", DIRECTORIES, path).body.close()
        return True

    def cp(self, from_: str, to: str, recurse: bool = False) -> bool:
        """Copy a file, or a directory with ``recurse=True``; existing files are replaced.
        A file copied onto an existing directory lands inside it."""
        source, target = self._volume(from_, "cp"), self._volume(to, "cp")
        self._copy(source, target, recurse, "cp")
        return True

    def _copy(self, source: str, target: str, recurse: bool, verb: str) -> str:
        kind = self._kind(source)
        if kind is None:
            raise _not_found(source)
        if kind == "file":
            if self._kind(target) == "dir":
                target = f"{target}/{source.rsplit('/', 1)[1]}"
            self._copy_file(source, target)
            return kind
        if not recurse:
            raise ExecutionError(
                IO_ERROR, f"{source} is a directory: dbutils.fs.{verb} it with recurse=True."
            )
        if target == source or target.startswith(source + "/"):
            raise ExecutionError(IO_ERROR, f"cannot {verb} {source} into itself.")
        files, dirs = self._walk(source)
        self._call("PUT", DIRECTORIES, target).body.close()
        for directory in dirs:
            self._call("PUT", DIRECTORIES, target + directory[len(source) :]).body.close()
        for file in files:
            self._copy_file(file, target + file[len(source) :])
        return kind

    def _copy_file(self, source: str, target: str) -> None:
        answer = self._call("GET", FILES, source)
        with answer.body as body:
            size = int(answer.headers.get("content-length") or 0)
            # The download streams straight into the upload: no whole file in memory.
            self._upload(target, body, size, overwrite=True)

    def mv(self, from_: str, to: str, recurse: bool = False) -> bool:
        """Move a file or directory (a directory with its contents)."""
        source, target = self._volume(from_, "mv"), self._volume(to, "mv")
        if source == target:
            return True
        kind = self._copy(source, target, True, "mv")
        if kind == "file":
            self._call("DELETE", FILES, source).body.close()
        else:
            self._remove_tree(source)
        return True

    def rm(self, dir: str, recurse: bool = False) -> bool:
        """Delete a file, or a directory (a non-empty one with ``recurse=True``); False when
        nothing is there."""
        path = self._volume(dir, "rm")
        kind = self._kind(path)
        if kind is None:
            return False
        if kind == "file":
            self._call("DELETE", FILES, path).body.close()
            return True
        if len([p for p in path.split("/") if p]) == 4:
            raise ExecutionError(
                IO_ERROR,
                f"{path} is the root of a volume: it cannot be deleted"
                " (drop the volume, or remove what is inside it).",
            )
        if not recurse and next(iter(self._entries(path)), None) is not None:
            raise ExecutionError(IO_ERROR, f"{path} is a non-empty directory: pass recurse=True.")
        self._remove_tree(path)
        return True

    def _remove_tree(self, path: str) -> None:
        files, dirs = self._walk(path)
        for file in files:
            self._call("DELETE", FILES, file).body.close()
        for directory in [*reversed(dirs), path]:
            self._call("DELETE", DIRECTORIES, directory).body.close()

    # -- the rest -----------------------------------------------------------------------------
    def _mounts(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(_NOT_LOCAL.format(what="dbutils.fs mounts"))

    mount = unmount = updateMount = mounts = refreshMounts = _mounts

    def help(self, method: str = "") -> None:
        """What ``dbutils.fs`` offers here."""
        print(
            "dbutils.fs (local workspace, Unity Catalog volumes /Volumes/<c>/<s>/<v>/...):\n"
            "  ls(dir) -> [FileInfo(path, name, size, modificationTime)]"
            " (/Volumes, /Volumes/<c>, /Volumes/<c>/<s> list catalogs, schemas, volumes)\n"
            "  head(file, maxBytes=65536) -> str\n"
            "  put(file, contents, overwrite=False) -> bool\n"
            "  mkdirs(dir) -> bool\n"
            "  cp(from_, to, recurse=False) -> bool\n"
            "  mv(from_, to, recurse=False) -> bool\n"
            "  rm(dir, recurse=False) -> bool\n"
            "The DBFS root, mounts and cloud storage URIs are not available locally."
        )
