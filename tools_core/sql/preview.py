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
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from tools_core.backend import Backend
from tools_core.errors import ToolsCoreError
from tools_core.sql.destructive import Destruction, classify
from tools_core.sql.models import SqlLoss, SqlResult
from tools_core.sql.run import TERMINAL, ParamValue, iter_rows, raise_if_failed, submit

if TYPE_CHECKING:
    from sqlglot import exp

T = TypeVar("T")

MAX_PROBES = 20
MAX_LISTED = 50  # schemas, and tables per schema, listed by a DROP SCHEMA/CATALOG preview
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


def _read_volume(session: _Session, full: tuple[str, ...]) -> None:
    with _not_found_as_error():
        session.backend.client.volumes.read(".".join(full))


@contextmanager
def _not_found_as_error() -> Iterator[None]:
    """The SDK's NotFound as the NOT_FOUND the preview reports as "does not exist"."""
    from databricks.sdk.errors import NotFound

    try:
        yield
    except NotFound as exc:
        raise ToolsCoreError("NOT_FOUND", str(exc)) from exc


def _listed(items: Iterable[T]) -> list[T]:
    listed = list(islice(items, MAX_LISTED + 1))
    if len(listed) > MAX_LISTED:
        raise _Unknown(f"not listed (more than {MAX_LISTED} objects)")
    return listed


def _contents(
    session: _Session, destruction: Destruction, full: tuple[str, ...], loss: SqlLoss
) -> list[SqlLoss]:
    """A schema or catalog and the tables in it (Unity Catalog listing), each table with its
    row count; views are listed but not counted (they store no rows)."""
    client = session.backend.client
    with _not_found_as_error():
        schemas: list[tuple[str, ...]] = [full]
        if destruction.securable == "CATALOG":
            client.catalogs.get(full[0])
            listed = _listed(client.schemas.list(catalog_name=full[0]))
            schemas = [(full[0], s.name or "") for s in listed if s.name != "information_schema"]
        else:
            client.schemas.get(".".join(full))
        loss.exists = True
        infos = [
            info
            for schema in schemas
            for info in _listed(
                client.tables.list(
                    catalog_name=schema[0],
                    schema_name=schema[-1],
                    omit_columns=True,
                    omit_properties=True,
                )
            )
        ]
    items = [_table_loss(session, info) for info in infos[:MAX_PROBES]]
    tables = [i for i in items if i.note != VIEW_NOTE]
    if all(t.rows is not None for t in tables) and len(infos) <= MAX_PROBES:
        loss.rows = sum(t.rows or 0 for t in tables)
    what = _plural(len(tables), "table") + ", " + _plural(len(items) - len(tables), "view")
    if destruction.securable == "CATALOG":
        what = _plural(len(schemas), "schema") + ", " + what
    if len(infos) > len(items):
        what += f" (+{len(infos) - len(items)} more not listed)"
    if infos and not destruction.cascade:
        what += "; not empty: without CASCADE Databricks refuses to drop it"
    loss.note = _join(what, loss.note)
    return [loss, *items]


VIEW_NOTE = "a view: stores no rows"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _table_loss(session: _Session, info: Any) -> SqlLoss:
    """One table of a dropped schema or catalog, with its row count."""
    kind = str(getattr(info.table_type, "value", "") or "TABLE")
    item = SqlLoss(action="dropped with it", object=info.full_name or "")
    if kind == "VIEW":
        item.note = VIEW_NOTE
        return item
    try:
        name = (info.catalog_name or "", info.schema_name or "", info.name or "")
        item.rows = _count(session, name, None)
    except ToolsCoreError as exc:
        item.note = f"not counted: {exc.error_code}"
    except _Unknown as exc:
        item.note = str(exc)
    return item
