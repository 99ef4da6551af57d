"""The base of the local workspace's SQLite stores: one file, one connection, one lock.

Each store (catalog metadata, jobs, pipelines, the workspace tree, lineage) subclasses
:class:`SqliteStore` and keeps only its own schema and queries. The connection is shared by
the server's threads, so every use holds the store's lock; writes go through
:meth:`SqliteStore.transaction` (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any
error), reads through :meth:`SqliteStore.query` or :meth:`SqliteStore.reading`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class SqliteStore:
    """A SQLite file shared by the threads of one process (thread-safe)."""

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Reentrant: a store's method may call another one while it holds the lock.
        self._lock = threading.RLock()
        # Autocommit mode: transactions are the explicit ones of transaction(), never the
        # implicit ones the sqlite3 module would open before a write.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        with self._lock:
            # WAL: readers never wait for the writer, and a crash mid-write loses nothing.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(schema)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work under the lock: committed on success, rolled back on any
        exception (which propagates)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection under the lock, for reads that must see one state together."""
        with self._lock:
            yield self._db

    def query(self, sql: str, params: Any = ()) -> list[Any]:
        """Every row of one read (tuples, or what the store's row factory makes)."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Any = ()) -> Any | None:
        """The first row of one read, or None."""
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()
