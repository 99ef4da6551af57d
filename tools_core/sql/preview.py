"""What a destructive statement would lose, found out without running it.

``sql_execute`` answers with this preview instead of running a statement that
:func:`tools_core.sql.destructive.classify` flags, unless ``confirm=true``. The facts come
from the same warehouse and session (catalog/schema) the statement would run in, through
plain SQL (``SELECT count(*)``, ``SHOW SCHEMAS``/``SHOW TABLES``) and the Unity Catalog API,
so the preview works the same on Databricks and on the local workspace. It is bounded: at
most ``MAX_PROBES`` statements, within the caller's time budget.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from tools_core.backend import Backend
from tools_core.errors import ToolsCoreError
from tools_core.sql.destructive import Destruction, classify
from tools_core.sql.models import SqlLoss, SqlResult
from tools_core.sql.run import TERMINAL, ParamValue, iter_rows, raise_if_failed, submit

if TYPE_CHECKING:
    from sqlglot import exp

MAX_PROBES = 20
MIN_BUDGET_S = 10.0
MAX_ROWS_READ = 1000
# Error classes meaning "no such object": then nothing would be lost.
NOT_FOUND = {
    "TABLE_OR_VIEW_NOT_FOUND",
    "SCHEMA_NOT_FOUND",
    "NO_SUCH_CATALOG_EXCEPTION",
    "CATALOG_NOT_FOUND",
    "ROUTINE_NOT_FOUND",
    "NOT_FOUND",
    "RESOURCE_DOES_NOT_EXIST",
}
CONFIRM_HINT = "Run it: call sql_execute again with the same statement and confirm=true."


class _Unknown(Exception):
    """A fact the preview could not establish (out of probes or time); the reason is shown."""


@dataclass
class _Session:
    """The warehouse session the statement would run in, and the preview's budget."""

    backend: Backend
    warehouse: str
    params: Mapping[str, ParamValue]
    catalog: str | None
    schema: str | None
    deadline: float
    probes: int = 0
    current: tuple[str, str] | None = None

    def rows(self, query: exp.Expr | str) -> list[list[str | None]]:
        """Run one probe statement; its first rows."""
        from sqlglot import exp

        if self.probes >= MAX_PROBES:
            raise _Unknown(f"not checked (the preview runs at most {MAX_PROBES} checks)")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise _Unknown("not checked (out of time)")
        self.probes += 1
        if isinstance(query, exp.Expr):
            used = {p.name for p in query.find_all(exp.Placeholder)}
            params = {k: v for k, v in self.params.items() if k in used}
            query = query.sql(dialect="databricks")
        else:
            params = {}
        response = submit(
            self.backend, query, self.warehouse, params, self.catalog, self.schema, remaining
        )
        state = response.status.state.value if response.status and response.status.state else ""
        if state not in TERMINAL:
            with suppress(Exception):  # best effort: the preview answers either way
                self.backend.client.statement_execution.cancel_execution(
                    response.statement_id or ""
                )
            raise _Unknown("not counted (the count did not finish in time)")
        raise_if_failed(response)
        return list(islice(iter_rows(self.backend, response), MAX_ROWS_READ))

    def full_name(self, destruction: Destruction) -> tuple[str, ...]:
        """The name completed with the session's catalog and schema."""
        parts, depth = destruction.parts, destruction.depth
        if not parts or len(parts) >= depth:
            return parts
        if self.current is None:
            try:
                row = self.rows("SELECT current_catalog(), current_schema()")[0]
                self.current = (row[0] or "", row[1] or "")
            except (ToolsCoreError, _Unknown, IndexError):
                return parts
        base = self.current[: depth - 1]
        return base[: depth - len(parts)] + parts


def preview(
    backend: Backend,
    statement: str,
    warehouse: str,
    params: Mapping[str, ParamValue] | None,
    catalog: str | None,
    schema: str | None,
    timeout_s: float,
) -> SqlResult | None:
    """The PREVIEW answer for a destructive ``statement``; None when it may run at once (not
    destructive, or CREATE OR REPLACE of objects that do not exist yet)."""
    found = classify(statement)
    if not found:
        return None
    deadline = time.monotonic() + max(timeout_s, MIN_BUDGET_S)
    session = _Session(backend, warehouse, params or {}, catalog, schema, deadline)
    losses: list[SqlLoss] = []
    for destruction in found:
        assessed = _assess(session, destruction)
        if destruction.only_if_exists and assessed[0].exists is False:
            continue  # creating a new object destroys nothing
        losses += assessed
    if not losses:
        return None
    nothing = all(loss.exists is False for loss in losses)
    hint = (
        "Nothing would be lost. " + CONFIRM_HINT.replace("Run it", "To run it anyway")
        if nothing
        else CONFIRM_HINT
    )
    return SqlResult(statement_id="", state="PREVIEW", would_lose=losses, hint=hint)


def _table(parts: tuple[str, ...]) -> exp.Table:
    from sqlglot import exp

    names = [None] * (3 - len(parts)) + list(parts[-3:])
    return exp.table_(names[2] or "", names[1], names[0], quoted=True)


def _assess(session: _Session, destruction: Destruction) -> list[SqlLoss]:
    full = session.full_name(destruction)
    loss = SqlLoss(
        action=destruction.action,
        object=".".join(full) or "(name not known)",
        note=destruction.note,
    )
    try:
        if destruction.probe == "rows":
            loss.rows = _count(session, destruction.parts, destruction.where)
            loss.exists = True
        elif destruction.probe == "exists":
            session.rows(_select_none(destruction.parts))
            loss.exists = True
        elif destruction.probe == "contents":
            return _contents(session, destruction, full, loss)
        elif destruction.probe == "volume":
            _read_volume(session, full)
            loss.exists = True
    except ToolsCoreError as exc:
        if exc.error_code in NOT_FOUND:
            loss.exists = False
        else:
            loss.note = _join(loss.note, f"could not check: {exc.error_code}")
    except _Unknown as exc:
        loss.note = _join(loss.note, str(exc))
    return [loss]


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _count(session: _Session, parts: tuple[str, ...], where: exp.Expr | None) -> int:
    from sqlglot import exp

    query = exp.select(exp.func("count", exp.Star())).from_(_table(parts))
    if where is not None:
        query = query.where(where.copy())
    return int(session.rows(query)[0][0] or 0)


def _select_none(parts: tuple[str, ...]) -> exp.Expr:
    from sqlglot import exp

    return exp.select(exp.Star()).from_(_table(parts)).limit(0)


def _quoted(parts: tuple[str, ...]) -> str:
    from sqlglot import exp

    return ".".join(exp.to_identifier(p, quoted=True).sql(dialect="databricks") for p in parts)


def _read_volume(session: _Session, full: tuple[str, ...]) -> None:
    from databricks.sdk.errors import NotFound

    try:
        session.backend.client.volumes.read(".".join(full))
    except NotFound as exc:
        raise ToolsCoreError("NOT_FOUND", str(exc)) from exc


def _contents(
    session: _Session, destruction: Destruction, full: tuple[str, ...], loss: SqlLoss
) -> list[SqlLoss]:
    """A schema or catalog and the tables in it, each with its row count."""
    schemas: list[tuple[str, ...]] = [full]
    if destruction.securable == "CATALOG":
        rows = session.rows(f"SHOW SCHEMAS IN {_quoted(full)}")
        names = [r[0] for r in rows if r and r[0] and r[0] != "information_schema"]
        schemas = [(*full, name) for name in names]
    tables: list[SqlLoss] = []
    for schema in schemas:
        for row in session.rows(f"SHOW TABLES IN {_quoted(schema)}"):
            if len(row) > 2 and row[2] == "true":
                continue  # a temporary view of this session
            name = (*schema, row[1] or "")
            item = SqlLoss(action="dropped with it", object=".".join(name))
            try:
                item.rows = _count(session, name, None)
            except (ToolsCoreError, _Unknown) as exc:
                item.note = str(exc) if isinstance(exc, _Unknown) else "not counted"
            tables.append(item)
    loss.exists = True
    counted = [t.rows for t in tables]
    if counted and None not in counted:
        loss.rows = sum(r or 0 for r in counted)
    what = f"{len(tables)} table{'' if len(tables) == 1 else 's'}"
    if destruction.securable == "CATALOG":
        what = f"{len(schemas)} schema{'' if len(schemas) == 1 else 's'}, {what}"
    if tables and not destruction.cascade:
        what += "; not empty: without CASCADE Databricks refuses to drop it"
    loss.note = _join(loss.note, what)
    return [loss, *tables]
