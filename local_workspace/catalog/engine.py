"""The DuckDB engine of the catalog: one sandboxed in-memory instance, one attached DuckDB file
per Unity Catalog catalog, and the mapping between public catalog names and DuckDB aliases.

Cursors of the shared instance see every catalog; :meth:`DuckEngine.close` interrupts the
work still running on them before it detaches the catalogs.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import duckdb

from local_workspace.catalog.names import quote

# DuckDB reserves `main`, `system`, `temp`... as database names, so every catalog gets a
# uniform internal alias; clients never see it.
INTERNAL_PREFIX = "uc_"
# close(): how long work still running on cursors may delay it, and the interrupt cadence.
CLOSE_WAIT_S = 10.0
_INTERRUPT_EVERY_S = 0.02

# DuckDB databases other services attach to the shared instance (relative to the data
# directory), with the files DuckDB keeps beside them: the only single files SQL may reach.
ENGINE_DATABASES = ("pipelines/progress.duckdb",)
_DATABASE_SIDE_FILES = ("", ".wal", ".wal.checkpoint")
# Session settings our own code changes per cursor after the lock (SET TIME ZONE).
_SESSION_SETTINGS = ["TimeZone"]

log = logging.getLogger("local_workspace.catalog")


class DuckEngine:
    """The shared DuckDB instance and its attached catalog files (thread-safe)."""

    def __init__(self, data_dir: Path, catalog_dir: Path, directories: list[Path]) -> None:
        self.catalog_dir = catalog_dir
        # Held by whoever attaches, detaches or closes, and by multi-step catalog changes.
        self.lock = threading.RLock()
        self._db = open_sandboxed(data_dir, directories)
        self._attached: set[str] = set()
        # Host folders clients know by another name (the volume folder is /Volumes).
        self.path_aliases: dict[str, str] = {}
        # Cursors handed out, so close() can interrupt work still running on them.
        self._cursors: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor of the shared instance (every catalog attached); one per statement."""
        cursor = self._db.cursor()
        self._cursors.add(cursor)
        return cursor

    def execute(self, *statements: str) -> None:
        """Run ``statements`` one after the other on a fresh cursor."""
        cursor = self.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.close()

    # -- names ---------------------------------------------------------------------------

    def to_internal(self, catalog: str) -> str:
        """UC catalog name -> DuckDB alias."""
        return INTERNAL_PREFIX + catalog.lower()

    def to_public(self, internal: str) -> str:
        """DuckDB alias -> UC catalog name (identity for names that are not ours)."""
        if internal.lower().startswith(INTERNAL_PREFIX):
            return internal[len(INTERNAL_PREFIX) :]
        return internal

    def public_text(self, text: str) -> str:
        """``text`` with internal catalog aliases replaced by their public names, and host
        folders by the paths clients use."""
        for folder, public in self.path_aliases.items():
            text = text.replace(folder, public)
        names = sorted(self._attached, key=len, reverse=True)
        if not names:
            return text
        pattern = re.compile(
            r"\b" + INTERNAL_PREFIX + "(" + "|".join(re.escape(n) for n in names) + r")\b"
        )
        return pattern.sub(lambda m: m.group(1), text)

    # -- catalog files -------------------------------------------------------------------

    def is_attached(self, name: str) -> bool:
        """Whether the UC catalog ``name`` is attached (that is: exists)."""
        return name.lower() in self._attached

    def attach(self, name: str) -> None:
        """Attach (creating if need be) the DuckDB file of catalog ``name``."""
        literal = str(self._file(name)).replace("'", "''")
        with self.lock:
            self._db.execute(f"ATTACH '{literal}' AS {quote(self.to_internal(name))}")
            self._attached.add(name)

    def detach(self, name: str) -> None:
        """Detach catalog ``name`` (its file stays)."""
        with self.lock:
            self._db.execute(f"DETACH {quote(self.to_internal(name))}")
            self._attached.discard(name)

    def remove_file(self, name: str) -> None:
        """Delete the DuckDB file (and its WAL) of a detached catalog."""
        path = self._file(name)
        for candidate in (path, path.with_name(path.name + ".wal")):
            candidate.unlink(missing_ok=True)

    def _file(self, name: str) -> Path:
        return self.catalog_dir / f"{name}.duckdb"

    def close(self, wait_s: float = CLOSE_WAIT_S) -> bool:
        """Detach every catalog (flushing it to disk) and close DuckDB; whether it closed.

        DuckDB refuses to close while a cursor executes ("connection is busy"): the owners
        of that work (statements, pipeline updates, job tasks) stop it first; whatever still
        runs is interrupted here, repeatedly, for at most ``wait_s`` seconds. Past that the
        instance is left open (released when the process exits) rather than raising.
        """
        deadline = time.monotonic() + wait_s
        with self.lock:
            while True:
                # Nothing should run any more; what still does must not see its catalog go.
                for cursor in _snapshot(self._cursors):
                    with contextlib.suppress(duckdb.Error):  # closed meanwhile
                        cursor.interrupt()
                try:
                    for name in sorted(self._attached):
                        self._db.execute(f"DETACH {quote(self.to_internal(name))}")
                        self._attached.discard(name)
                    self._db.close()
                    return True
                except duckdb.Error as exc:
                    if time.monotonic() >= deadline:
                        log.warning("the catalog did not close: %s", exc)
                        return False
                time.sleep(_INTERRUPT_EVERY_S)


def _snapshot(cursors: weakref.WeakSet[duckdb.DuckDBPyConnection]) -> list[Any]:
    """The live cursors (another thread may add one while the set is read: read again)."""
    while True:
        try:
            return list(cursors)
        except RuntimeError:
            continue


def open_sandboxed(data_dir: Path, directories: list[Path]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB instance that reaches no host path but ``directories``.

    External access is off (no file outside the allowed directories and engine databases,
    no INSTALL/LOAD of extensions, no HTTP, no persistent secrets), the spill directory is
    private to the data directory, and the configuration is locked so no statement can undo
    any of it. Settings every cursor shares (ANSI division, UTC) are set globally before the
    lock; only the session time zone stays changeable. The SQL parser refuses DuckDB-only
    statements too (local_workspace/sql/sandbox.py): COPY TO inside an allowed directory
    would still work, so no state file (uc.sqlite, token, ...) lives in one.
    """
    db = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "allow_unsigned_extensions": False,
        },
    )
    files = [
        str(data_dir / name) + suffix
        for name in ENGINE_DATABASES
        for suffix in _DATABASE_SIDE_FILES
    ]
    # Order matters: allowed paths cannot change once external access is off, and nothing
    # can change once the configuration is locked.
    settings: list[tuple[str, object]] = [
        ("temp_directory", str(data_dir / "engine_tmp")),
        ("allowed_directories", [str(d) + "/" for d in directories]),
        ("allowed_paths", files),
        ("allow_persistent_secrets", False),
        ("python_enable_replacements", False),
        ("enable_progress_bar", False),
        ("allowed_configs", _SESSION_SETTINGS),
        ("enable_external_access", False),
    ]
    for name, value in settings:
        db.execute(f"SET {name} = $1", [value])
    # What Databricks SQL does by default: ANSI division (errors, not inf), UTC sessions.
    db.execute("SET GLOBAL TimeZone = 'UTC'")
    db.execute("SET GLOBAL ieee_floating_point_ops = false")
    db.execute("SET lock_configuration = true")
    return db
