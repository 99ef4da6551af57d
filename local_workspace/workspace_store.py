"""The workspace tree of the local workspace: notebooks, files and directories.

Metadata lives in SQLite (``<data_dir>/workspace/objects.db``); each notebook's or file's
content is a file named after its object id (``<data_dir>/workspace/blobs/<id>``), written
atomically. Paths are normalised by the caller (absolute, no trailing slash). The store
raises :class:`local_workspace.errors.ApiError` with Databricks' codes and messages.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from local_workspace.errors import ApiError, not_found
from local_workspace.sqlite_store import SqliteStore

DIRECTORY = "DIRECTORY"
NOTEBOOK = "NOTEBOOK"
FILE = "FILE"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    object_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    path        TEXT NOT NULL UNIQUE,
    parent      TEXT,
    object_type TEXT NOT NULL,
    language    TEXT,
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    size        INTEGER
);
CREATE INDEX IF NOT EXISTS objects_parent ON objects(parent);
"""

_COLUMNS = "object_id, path, object_type, language, created_at, modified_at, size"


@dataclass(frozen=True)
class WorkspaceObject:
    """One row of the tree."""

    object_id: int
    path: str
    object_type: str
    language: str | None
    created_at: int
    modified_at: int
    size: int | None

    @property
    def name(self) -> str:
        """The last path segment."""
        return self.path.rsplit("/", 1)[-1]


def canonical(path: str) -> str:
    """``path`` without Databricks' ``/Workspace`` alias prefix (``/Workspace/Users/x`` is
    ``/Users/x``): the one rule for every API, job and pipeline that takes a workspace path."""
    if path == "/Workspace" or path.startswith("/Workspace/"):
        return path[len("/Workspace") :] or "/"
    return path


def parent_of(path: str) -> str | None:
    """The parent directory of ``path`` (None for the root)."""
    if path == "/":
        return None
    head = path.rsplit("/", 1)[0]
    return head or "/"


def _now_ms() -> int:
    return int(time.time() * 1000)


class WorkspaceStore(SqliteStore):
    """The tree, safe to use from several threads."""

    def __init__(self, root: Path, user: str) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        super().__init__(root / "objects.db", _SCHEMA)
        # The folders every Databricks workspace has, and the user's home.
        self.protected = frozenset({"/", "/Users", "/Shared", f"/Users/{user}"})
        with self.transaction() as db:
            now = _now_ms()
            for path in ("/", "/Users", "/Shared", f"/Users/{user}"):
                db.execute(
                    "INSERT OR IGNORE INTO objects (path, parent, object_type, created_at, "
                    "modified_at) VALUES (?, ?, ?, ?, ?)",
                    (path, parent_of(path), DIRECTORY, now, now),
                )

    # -- reads -----------------------------------------------------------------------------

    def get(self, path: str) -> WorkspaceObject | None:
        """The object at ``path``, or None."""
        with self.reading() as db:
            return _get(db, path)

    def require(self, path: str) -> WorkspaceObject:
        """The object at ``path``, or RESOURCE_DOES_NOT_EXIST."""
        obj = self.get(path)
        if obj is None:
            raise not_found(f"Path ({path}) doesn't exist.")
        return obj

    def children(self, path: str) -> list[WorkspaceObject]:
        """The direct children of the directory ``path``, sorted by path."""
        rows = self.query(f"SELECT {_COLUMNS} FROM objects WHERE parent = ? ORDER BY path", (path,))
        return [WorkspaceObject(*row) for row in rows]

    def descendants(self, path: str) -> list[WorkspaceObject]:
        """Everything below ``path`` (not ``path`` itself), sorted by path."""
        with self.reading() as db:
            return _descendants(db, path)

    def read(self, obj: WorkspaceObject) -> bytes:
        """The content of a notebook or file."""
        try:
            return self._blob(obj.object_id).read_bytes()
        except FileNotFoundError:
            return b""

    # -- writes ----------------------------------------------------------------------------

    def mkdirs(self, path: str) -> None:
        """Create ``path`` and its missing parents; an existing directory is fine."""
        with self.transaction() as db:
            missing: list[str] = []
            current: str | None = path
            while current is not None:
                obj = _get(db, current)
                if obj is not None:
                    if obj.object_type != DIRECTORY:
                        raise ApiError(
                            400,
                            "RESOURCE_ALREADY_EXISTS",
                            f"{current} already exists and it is not a folder",
                        )
                    break
                missing.append(current)
                current = parent_of(current)
            now = _now_ms()
            for item in reversed(missing):
                db.execute(
                    "INSERT INTO objects (path, parent, object_type, created_at, modified_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (item, parent_of(item), DIRECTORY, now, now),
                )

    def put(
        self, path: str, object_type: str, language: str | None, data: bytes, overwrite: bool
    ) -> WorkspaceObject:
        """Create or (with ``overwrite``) replace the notebook or file at ``path``."""
        with self.transaction() as db:
            parent = parent_of(path)
            parent_obj = _get(db, parent) if parent else None
            if parent_obj is None or parent_obj.object_type != DIRECTORY:
                raise not_found(f"The parent folder ({parent}) does not exist.")
            existing = _get(db, path)
            if existing is not None and (existing.object_type == DIRECTORY or not overwrite):
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")
            now = _now_ms()
            if existing is None:
                cursor = db.execute(
                    "INSERT INTO objects (path, parent, object_type, language, created_at, "
                    "modified_at, size) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (path, parent, object_type, language, now, now, len(data)),
                )
                object_id = int(cursor.lastrowid or 0)
            else:
                object_id = existing.object_id
                db.execute(
                    "UPDATE objects SET object_type = ?, language = ?, modified_at = ?, "
                    "size = ? WHERE object_id = ?",
                    (object_type, language, now, len(data), object_id),
                )
            # Content first, then the commit: a crash leaves at worst an orphan blob.
            self._write_blob(object_id, data)
            obj = _get(db, path)
        assert obj is not None
        return obj

    def delete(self, path: str, recursive: bool) -> int:
        """Delete ``path`` (and, with ``recursive``, all below it); the number of objects."""
        with self.transaction() as db:
            obj = _get(db, path)
            if obj is None:
                raise not_found(f"Path ({path}) doesn't exist.")
            if path in self.protected:
                raise ApiError(
                    403, "PERMISSION_DENIED", f"Cannot delete the system folder ({path})."
                )
            below = _descendants(db, path) if obj.object_type == DIRECTORY else []
            if below and not recursive:
                raise ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty.")
            doomed = [obj, *below]
            db.executemany(
                "DELETE FROM objects WHERE object_id = ?", [(o.object_id,) for o in doomed]
            )
        for item in doomed:
            with contextlib.suppress(FileNotFoundError):
                self._blob(item.object_id).unlink()
        return len(doomed)

    # -- blobs ---------------------------------------------------------------------------

    def _blob(self, object_id: int) -> Path:
        return self.blobs / str(object_id)

    def _write_blob(self, object_id: int, data: bytes) -> None:
        target = self._blob(object_id)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)


# -- queries (the caller holds the store's connection) -------------------------------------


def _get(db: sqlite3.Connection, path: str | None) -> WorkspaceObject | None:
    if path is None:
        return None
    row = db.execute(f"SELECT {_COLUMNS} FROM objects WHERE path = ?", (path,)).fetchone()
    return WorkspaceObject(*row) if row else None


def _descendants(db: sqlite3.Connection, path: str) -> list[WorkspaceObject]:
    prefix = "/" if path == "/" else path + "/"
    # substr instead of LIKE: paths may hold % and _.
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM objects WHERE substr(path, 1, ?) = ? AND path != ? ORDER BY path",
        (len(prefix), prefix, path),
    ).fetchall()
    return [WorkspaceObject(*row) for row in rows]
