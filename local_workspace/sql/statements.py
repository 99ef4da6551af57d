"""Statement Execution API bookkeeping: run statements in worker threads, wait, cancel, chunk.

Each statement runs on its own DuckDB cursor in a daemon thread; ``cursor.interrupt()``
cancels it. Finished statements are kept in memory (the last ``MAX_KEPT``); they do not
survive a restart, as Databricks drops them after hours anyway. Results are cut into chunks
so that clients page with ``next_chunk_index`` exactly as against Databricks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from local_workspace.errors import invalid, not_found
from local_workspace.lineage import Entity
from local_workspace.sql.engine import Engine, Request, ResultSet, prepare_cursor
from local_workspace.sql.errors import SqlError

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

log = logging.getLogger("local_workspace.sql")

MAX_KEPT = 200
CHUNK_ROWS = 10_000
CHUNK_BYTES = 4 * 1024 * 1024
CANCEL_PERSIST_S = 30.0
# Seconds between two interrupts of a cursor being cancelled.
INTERRUPT_EVERY_S = 0.02
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "CLOSED"})


@dataclass
class Chunk:
    """Where one chunk of a result lies."""

    index: int
    row_offset: int
    row_count: int


@dataclass
class Statement:
    """One submitted statement and, once finished, its outcome."""

    statement_id: str
    request: Request
    state: str = "PENDING"
    result: ResultSet | None = None
    error: SqlError | None = None
    chunks: list[Chunk] = field(default_factory=list)
    cancel_requested: bool = False
    cursor: duckdb.DuckDBPyConnection | None = None
    done: concurrent.futures.Future[None] = field(default_factory=concurrent.futures.Future)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def finished(self) -> bool:
        """Whether the statement reached a terminal state."""
        return self.state in TERMINAL


def split_chunks(rows: list[list[str | None]]) -> list[Chunk]:
    """Chunks of at most CHUNK_ROWS rows and about CHUNK_BYTES bytes."""
    chunks: list[Chunk] = []
    start, size = 0, 0
    for i, row in enumerate(rows):
        size += len(json.dumps(row, separators=(",", ":"))) + 1
        if i - start + 1 >= CHUNK_ROWS or size >= CHUNK_BYTES:
            chunks.append(Chunk(len(chunks), start, i - start + 1))
            start, size = i + 1, 0
    if start < len(rows):
        chunks.append(Chunk(len(chunks), start, len(rows) - start))
    return chunks


def interrupt_until_done(
    interrupt: Callable[[], None],
    wait_done: Callable[[float], bool],
    persist_s: float = CANCEL_PERSIST_S,
) -> bool:
    """Call ``interrupt()`` until ``wait_done(seconds)`` says the work ended; False at the end
    of ``persist_s``.

    One ``cursor.interrupt()`` is not enough: an interrupt that lands while the cursor is
    between two queries (or before DuckDB starts executing) is lost, and the work goes on.
    ``interrupt`` must be safe to call on a cursor that is closing (hold the owner's lock);
    DuckDB errors it raises (a closed cursor) are ignored.
    """
    deadline = time.monotonic() + persist_s
    while True:
        with contextlib.suppress(duckdb.Error):
            interrupt()
        remaining = deadline - time.monotonic()
        if wait_done(max(0.0, min(INTERRUPT_EVERY_S, remaining))):
            return True
        if remaining <= 0:
            return False


class Statements:
    """Submitted statements of the workspace, by id."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.engine = Engine(catalog)
        self._items: OrderedDict[str, Statement] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, request: Request) -> Statement:
        """Start ``request`` in a worker thread and return its handle at once."""
        statement = Statement(statement_id=str(uuid.uuid4()), request=request)
        if request.entity is None:
            request.entity = Entity("QUERY", statement.statement_id)
        with self._lock:
            self._items[statement.statement_id] = statement
            self._evict()
        thread = threading.Thread(
            target=self._run, args=(statement,), name="sql-statement", daemon=True
        )
        thread.start()
        return statement

    def _evict(self) -> None:
        while len(self._items) > MAX_KEPT:
            oldest = next((s for s in self._items.values() if s.finished), None)
            if oldest is None:
                return
            del self._items[oldest.statement_id]

    def _run(self, statement: Statement) -> None:
        started = time.monotonic()
        try:
            with statement.lock:
                if statement.cancel_requested:
                    statement.state = "CANCELED"
                    return
                statement.state = "RUNNING"
                statement.cursor = self.catalog.engine.cursor()
            prepare_cursor(statement.cursor)
            result = self.engine.execute(statement.request, statement.cursor)
            with statement.lock:
                statement.result = result
                statement.chunks = split_chunks(result.rows)
                statement.state = "CANCELED" if statement.cancel_requested else "SUCCEEDED"
        except duckdb.InterruptException:
            statement.state = "CANCELED"
        except SqlError as exc:
            statement.error = exc
            statement.state = "CANCELED" if statement.cancel_requested else "FAILED"
        except Exception as exc:  # thread boundary: the client must see FAILED
            log.exception("statement %s failed unexpectedly", statement.statement_id)
            statement.error = SqlError(
                "INTERNAL_ERROR",
                self.catalog.engine.public_text(f"{type(exc).__name__}: {exc}"),
                "XX000",
                "INTERNAL_ERROR",
            )
            statement.state = "FAILED"
        finally:
            with statement.lock:
                if statement.cursor is not None:
                    statement.cursor.close()
                    statement.cursor = None
            log.debug(
                "statement %s %s in %.3fs",
                statement.statement_id,
                statement.state,
                time.monotonic() - started,
            )
            statement.done.set_result(None)

    async def wait(self, statement: Statement, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the statement to finish (without blocking the loop)."""
        if timeout_s <= 0 or statement.finished:
            return
        # asyncio.wait (unlike wait_for) leaves the future alone when the time is up.
        await asyncio.wait({asyncio.wrap_future(statement.done)}, timeout=timeout_s)

    def get(self, statement_id: str) -> Statement:
        """A statement by id; 404 if unknown (or forgotten)."""
        with self._lock:
            statement = self._items.get(statement_id)
        if statement is None:
            raise not_found(
                f"Statement {statement_id} does not exist or its result was removed.",
                "NOT_FOUND",
            )
        return statement

    def cancel(self, statement: Statement) -> None:
        """Ask a running statement to stop (no-op once finished)."""
        with statement.lock:
            if statement.finished:
                return
            statement.cancel_requested = True
        # An interrupt that lands before DuckDB starts executing is lost, so keep
        # interrupting until the worker ends.
        threading.Thread(
            target=self._interrupt_until_done, args=(statement,), name="sql-cancel", daemon=True
        ).start()

    @staticmethod
    def _interrupt_until_done(statement: Statement) -> None:
        def interrupt() -> None:
            with statement.lock:  # the worker closes the cursor under this lock
                if statement.cursor is not None:
                    statement.cursor.interrupt()

        def wait_done(seconds: float) -> bool:
            return not concurrent.futures.wait([statement.done], seconds).not_done

        if not interrupt_until_done(interrupt, wait_done):
            log.warning("statement %s did not stop after cancel", statement.statement_id)

    def close(self) -> None:
        """Cancel running statements so the catalog can close its DuckDB instance."""
        with self._lock:
            running = [s for s in self._items.values() if not s.finished]
        for statement in running:
            self.cancel(statement)
        # One deadline for all of them: closing must not take CANCEL_PERSIST_S per statement.
        _, stuck = concurrent.futures.wait([s.done for s in running], timeout=CANCEL_PERSIST_S)
        if stuck:
            log.warning("%d statement(s) did not stop before the workspace closed", len(stuck))

    # -- responses ----------------------------------------------------------------------

    def response(self, statement: Statement) -> dict[str, Any]:
        """The StatementResponse JSON: status, and manifest + first chunk once SUCCEEDED."""
        status: dict[str, Any] = {"state": statement.state}
        body: dict[str, Any] = {"statement_id": statement.statement_id, "status": status}
        if statement.state == "FAILED" and statement.error is not None:
            status["error"] = statement.error.status_error()
            status["sql_state"] = statement.error.sql_state
        if statement.state == "SUCCEEDED" and statement.result is not None:
            body["manifest"] = self.manifest(statement)
            if statement.chunks:
                body["result"] = self.chunk(statement, 0)
        return body

    def manifest(self, statement: Statement) -> dict[str, Any]:
        """ResultManifest JSON."""
        result = statement.result or ResultSet()
        manifest: dict[str, Any] = {
            "format": "JSON_ARRAY",
            "schema": {"column_count": len(result.columns)},
            "total_chunk_count": len(statement.chunks),
            "total_row_count": len(result.rows),
            "truncated": result.truncated,
        }
        if result.columns:
            manifest["schema"]["columns"] = result.columns
        if statement.chunks:
            manifest["chunks"] = [
                {"chunk_index": c.index, "row_offset": c.row_offset, "row_count": c.row_count}
                for c in statement.chunks
            ]
        return manifest

    def chunk(self, statement: Statement, index: int) -> dict[str, Any]:
        """ResultData JSON of chunk ``index``, with the link to the next one."""
        if statement.state != "SUCCEEDED" or statement.result is None:
            raise invalid(
                f"Statement {statement.statement_id} is {statement.state}; results are "
                "available once it SUCCEEDED.",
                "BAD_REQUEST",
            )
        if not 0 <= index < len(statement.chunks):
            raise invalid(
                f"Chunk index {index} is out of range: the result has "
                f"{len(statement.chunks)} chunk(s)."
            )
        chunk = statement.chunks[index]
        rows = statement.result.rows[chunk.row_offset : chunk.row_offset + chunk.row_count]
        data: dict[str, Any] = {
            "chunk_index": chunk.index,
            "row_offset": chunk.row_offset,
            "row_count": chunk.row_count,
            "data_array": rows,
        }
        if index + 1 < len(statement.chunks):
            following = statement.chunks[index + 1]
            data["next_chunk_index"] = following.index
            data["next_chunk_internal_link"] = (
                f"/api/2.0/sql/statements/{statement.statement_id}/result/chunks/"
                f"{following.index}?row_offset={following.row_offset}"
            )
        return data
