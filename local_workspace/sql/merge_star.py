"""``UPDATE SET *`` and ``INSERT *`` of a MERGE, paired BY NAME as Databricks does.

DuckDB pairs the columns of ``*`` by position, which silently writes a source column into
another target column when the two sides list them in different orders. Databricks (Delta)
resolves them by name: ``UPDATE SET *`` is ``SET t.c = s.c`` and ``INSERT *`` is
``INSERT (c, ...) VALUES (s.c, ...)`` for every column ``c`` of the target; extra source
columns are ignored, and a target column the source lacks fails the statement with
``DELTA_MERGE_UNRESOLVED_EXPRESSION``. So the stars are expanded here, before translation,
from the column names of the target and of the source (read by running
``SELECT * ... LIMIT 0`` through the engine, which resolves tables, views and subqueries).

``MERGE WITH SCHEMA EVOLUTION`` is accepted while it changes nothing (target columns the
source lacks are then left alone by ``UPDATE SET *`` and NULL for ``INSERT *``, as
Databricks does); adding the source's extra columns to the target is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from sqlglot import exp

from local_workspace.sql import errors
from local_workspace.sql.translate import READ

_EVOLUTION = re.compile(r"^(\s*MERGE)\s+WITH\s+SCHEMA\s+EVOLUTION\b", re.IGNORECASE)
# The name the source gets when a subquery has no alias (its columns need a qualifier).
_SOURCE_ALIAS = "__merge_source"


class _Columns(Protocol):
    columns: list[dict[str, object]]


def take_evolution(statement: str) -> tuple[str, bool]:
    """The statement without ``WITH SCHEMA EVOLUTION`` (sqlglot cannot parse it), and
    whether it was there."""
    match = _EVOLUTION.match(statement)
    if match is None:
        return statement, False
    return match.group(1) + statement[match.end() :], True


def expand(tree: exp.Expression, run: Callable[[str], _Columns], evolve: bool = False) -> None:
    """Replace the ``*`` of ``UPDATE SET *`` / ``INSERT *`` in a MERGE by name-paired
    columns; ``run`` executes a Databricks SQL query (for the column names of both sides)."""
    if not isinstance(tree, exp.Merge):
        return
    stars = [w for w in tree.find_all(exp.When) if _star_action(w) is not None]
    if not stars:
        return  # explicit assignments: DuckDB resolves them by name already
    target = tree.this
    using = tree.args.get("using")
    if not isinstance(target, exp.Table) or not isinstance(using, exp.Expression):
        return
    if not using.alias and isinstance(using, exp.Subquery):
        using.set("alias", exp.TableAlias(this=exp.to_identifier(_SOURCE_ALIAS)))
    qualifier = using.alias_or_name
    bare = target.copy()
    bare.set("alias", None)
    target_columns = _names(run, bare)
    source_columns = _names(run, using)
    by_name = {c.lower(): c for c in source_columns}
    extra = [c for c in source_columns if c.lower() not in {t.lower() for t in target_columns}]
    if evolve and extra:
        _refuse_evolution(f"new columns {', '.join(extra)}")
    for when in stars:
        action = _star_action(when)
        clause = "UPDATE" if isinstance(action, exp.Update) else "INSERT"
        pairs: list[tuple[str, str]] = []
        for column in target_columns:
            found = by_name.get(column.lower())
            if found is None:
                if evolve:
                    continue  # evolution: UPDATE leaves it, INSERT gives NULL
                raise _unresolved(column, clause, qualifier, source_columns)
            pairs.append((column, found))
        if isinstance(action, exp.Update):
            action.set(
                "expressions",
                [
                    exp.EQ(this=exp.column(t, quoted=True), expression=_source(s, qualifier))
                    for t, s in pairs
                ],
            )
        elif isinstance(action, exp.Insert):
            action.set(
                "this",
                exp.Tuple(expressions=[exp.column(t, quoted=True) for t, _ in pairs]),
            )
            action.set(
                "expression", exp.Tuple(expressions=[_source(s, qualifier) for _, s in pairs])
            )


def _star_action(when: exp.When) -> exp.Update | exp.Insert | None:
    """The ``UPDATE SET *`` / ``INSERT *`` of a WHEN [NOT] MATCHED clause, else None."""
    then = when.args.get("then")
    if when.args.get("source"):
        if isinstance(then, exp.Update) and any(isinstance(e, exp.Star) for e in then.expressions):
            # No source row to take `*` from: Databricks' grammar has no `*` there.
            raise errors.parse_error("*")
        return None
    if isinstance(then, exp.Update) and any(isinstance(e, exp.Star) for e in then.expressions):
        return then
    if isinstance(then, exp.Insert) and isinstance(then.this, exp.Star):
        return then
    return None


def _names(run: Callable[[str], _Columns], relation: exp.Expression) -> list[str]:
    """The column names of a table, view or aliased subquery, as the engine resolves them."""
    result = run(f"SELECT * FROM {relation.sql(dialect=READ)} LIMIT 0")
    return [str(c["name"]) for c in result.columns]


def _source(name: str, qualifier: str) -> exp.Column:
    return exp.column(name, table=qualifier, quoted=True)


def _unresolved(column: str, clause: str, qualifier: str, given: list[str]) -> errors.SqlError:
    """What Databricks answers when the source of ``*`` lacks a target column."""
    columns = ", ".join(f"{qualifier}.{c}" for c in given)
    return errors.SqlError(
        "DELTA_MERGE_UNRESOLVED_EXPRESSION",
        f"Cannot resolve {column} in {clause} clause given columns {columns}.",
        "42601",
    )


def _refuse_evolution(what: str) -> None:
    raise errors.unsupported(
        f"MERGE WITH SCHEMA EVOLUTION that changes the target's schema ({what})"
    )
