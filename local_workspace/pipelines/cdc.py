"""CDC flows of SQL pipelines: ``APPLY CHANGES INTO`` / ``AUTO CDC INTO`` parsed and applied.

The change rows of one update are applied to the target in DuckDB SQL, inside the caller's
transaction: every change is ordered by SEQUENCE BY, the key's current target row joins the
changes as the first event, and the result is written back by delete + insert of the keys the
batch touches. SCD type 1 keeps the latest row per key; SCD type 2 keeps history in
``__START_AT``/``__END_AT`` (the sequence's type; the current row has ``__END_AT`` NULL).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from local_workspace.pipelines.cdc_parse import ApplyChanges, parse_apply_changes
from local_workspace.sql import sandbox
from local_workspace.sql.errors import SqlError

__all__ = ["END_AT", "START_AT", "ApplyChanges", "CdcStats", "apply_changes", "parse_apply_changes"]

START_AT = "__START_AT"
END_AT = "__END_AT"


@dataclass
class CdcStats:
    """What one batch did: upsert changes applied, rows deleted (SCD1) or closed (SCD2)."""

    upserted: int
    deleted: int
    output_rows: int


# -- applying ----------------------------------------------------------------------------

# Events carry their order: the target's current row first ('C'), then by sequence, then by
# position in the source (the later of two changes with the same sequence wins).
_ORDER = "(__cdc_kind <> 'C'), __cdc_seq, __cdc_ord"
_ORDER_DESC = "(__cdc_kind <> 'C') DESC, __cdc_seq DESC, __cdc_ord DESC"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Plan:
    """Resolved names and translated expressions of one apply."""

    target: str
    source: str
    keys: list[str]
    values: list[str]  # output columns, keys included, source order
    sequence: str  # DuckDB SQL
    sequence_column: str | None  # the target column holding the sequence (SCD1 ordering)
    tracked: list[str]
    events: str  # temp table of this batch's changes

    def match(self, left: str, right: str) -> str:
        return " AND ".join(
            f"{left}.{_q(k)} IS NOT DISTINCT FROM {right}.{_q(k)}" for k in self.keys
        )

    def partition(self) -> str:
        return ", ".join(_q(k) for k in self.keys)

    def others(self) -> list[str]:
        keys = {k.lower() for k in self.keys}
        return [c for c in self.values if c.lower() not in keys]


def apply_changes(
    cursor: duckdb.DuckDBPyConnection, spec: ApplyChanges, target_table: str, source_relation: str
) -> CdcStats:
    """Apply the change rows of ``source_relation`` to ``target_table`` (created when missing).

    ``source_relation`` is a DuckDB relation (a quoted table name or a parenthesised SELECT
    of only the new rows); ``target_table`` a quoted DuckDB name. Runs in the caller's
    transaction; a spec that does not fit the source raises ValueError.
    """
    if spec.scd_type not in (1, 2):
        raise ValueError(f"expected SCD TYPE 1 or 2, got {spec.scd_type}")
    if spec.scd_type == 2 and spec.apply_as_truncates:
        raise ValueError("APPLY AS TRUNCATE WHEN is only supported with SCD TYPE 1")
    plan = _plan(cursor, spec, target_table, source_relation)
    # No try/finally: after a failure the caller rolls back, which drops the temp tables too.
    if spec.apply_as_truncates:
        _truncate(cursor, plan)
    _drop_late(cursor, plan, spec.scd_type)
    if spec.scd_type == 2:
        upserted, deleted = _scd2(cursor, plan, spec.ignore_null_updates)
    else:
        upserted, deleted = _scd1(cursor, plan, spec.ignore_null_updates)
    total = _one(cursor, f"SELECT count(*) FROM {plan.target}")
    cursor.execute(f"DROP TABLE {plan.events}")
    return CdcStats(upserted=upserted, deleted=deleted, output_rows=int(total))


def _one(cursor: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = cursor.execute(sql).fetchone()
    return row[0] if row else None


def _columns_of(cursor: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    cursor.execute(f"SELECT * FROM {relation} AS __cdc_rel LIMIT 0")
    return [str(d[0]) for d in cursor.description or []]


def _resolve(names: list[str], available: list[str], what: str) -> list[str]:
    """Names as the source spells them (Databricks columns are case-insensitive)."""
    by_lower = {c.lower(): c for c in available}
    missing = [n for n in names if n.lower() not in by_lower]
    if missing:
        raise ValueError(
            f"{what} names {', '.join(missing)}, not a column of the source "
            f"({', '.join(available)})"
        )
    return [by_lower[n.lower()] for n in names]


def _duckdb_sql(text: str, what: str) -> str:
    try:
        tree = sqlglot.parse_one(text, read="databricks")
    except (ParseError, TokenError, IndexError) as exc:
        raise ValueError(f"expected a SQL expression after {what}, found {text!r}") from exc
    try:
        sandbox.check_query(tree)  # the SQL warehouse's sandbox rules
    except SqlError as exc:
        raise ValueError(f"{what}: {exc.full_message()}") from exc
    return tree.sql(dialect="duckdb")


def _plan(cursor: duckdb.DuckDBPyConnection, spec: ApplyChanges, target: str, source: str) -> _Plan:
    source_columns = _columns_of(cursor, source)
    keys = _resolve(spec.keys, source_columns, "KEYS")
    if spec.column_list is not None:
        values = _resolve(spec.column_list, source_columns, "COLUMNS")
    else:
        gone = {
            c.lower() for c in _resolve(spec.except_column_list or [], source_columns, "EXCEPT")
        }
        values = [c for c in source_columns if c.lower() not in gone]
    values = [c for c in values if c.upper() not in (START_AT, END_AT)]
    dropped = [k for k in keys if k.lower() not in {v.lower() for v in values}]
    if dropped:
        raise ValueError(f"COLUMNS must keep the KEYS columns ({', '.join(dropped)})")
    sequence = _duckdb_sql(spec.sequence_by, "SEQUENCE BY")
    delete = (
        _duckdb_sql(spec.apply_as_deletes, "APPLY AS DELETE WHEN")
        if spec.apply_as_deletes
        else "FALSE"
    )
    truncate = (
        _duckdb_sql(spec.apply_as_truncates, "APPLY AS TRUNCATE WHEN")
        if spec.apply_as_truncates
        else "FALSE"
    )
    history = (
        f", ({sequence}) AS {_q(START_AT)}, ({sequence}) AS {_q(END_AT)}"
        if spec.scd_type == 2
        else ""
    )
    select = ", ".join(_q(c) for c in values)
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {target} AS "
        f"SELECT {select}{history} FROM {source} AS __cdc_src WHERE false"
    )
    in_target = {c.lower() for c in _columns_of(cursor, target)}
    if spec.scd_type == 2 and not {START_AT.lower(), END_AT.lower()} <= in_target:
        raise ValueError(f"an SCD TYPE 2 target needs the columns {START_AT} and {END_AT}")
    missing = [k for k in keys if k.lower() not in in_target]
    if missing:
        raise ValueError(f"the target table has no KEYS column {', '.join(missing)}")
    values = [c for c in values if c.lower() in in_target]
    sequence_column = _sequence_column(spec.sequence_by, values)
    tracked = _tracked(spec, values, keys, sequence_column)
    events = _q(f"__cdc_events_{uuid.uuid4().hex}")
    cursor.execute(
        f"CREATE TEMP TABLE {events} AS SELECT {select}, ({sequence}) AS __cdc_seq, "
        f"coalesce(({delete}), false) AS __cdc_del, coalesce(({truncate}), false) AS __cdc_trunc, "
        f"row_number() OVER () AS __cdc_ord FROM {source} AS __cdc_src "
        f"WHERE ({sequence}) IS NOT NULL"
    )
    return _Plan(target, source, keys, values, sequence, sequence_column, tracked, events)


def _sequence_column(sequence_by: str, values: list[str]) -> str | None:
    try:
        tree = sqlglot.parse_one(sequence_by, read="databricks")
    except (ParseError, TokenError):
        return None
    if not isinstance(tree, exp.Column):
        return None
    return next((v for v in values if v.lower() == tree.name.lower()), None)


def _tracked(
    spec: ApplyChanges, values: list[str], keys: list[str], sequence_column: str | None
) -> list[str]:
    """Columns whose change adds an SCD2 version (never keys nor the sequence column)."""
    if spec.track_history_column_list is not None:
        tracked = _resolve(spec.track_history_column_list, values, "TRACK HISTORY ON")
    else:
        gone = _resolve(spec.track_history_except_column_list or [], values, "TRACK HISTORY EXCEPT")
        tracked = [v for v in values if v not in gone]
    skip = {k.lower() for k in keys} | {(sequence_column or "").lower()}
    return [t for t in tracked if t.lower() not in skip]


def _truncate(cursor: duckdb.DuckDBPyConnection, plan: _Plan) -> None:
    """The latest truncate empties the target; changes up to it no longer matter."""
    last = _one(cursor, f"SELECT max(__cdc_seq) FROM {plan.events} WHERE __cdc_trunc")
    if last is None:
        cursor.execute(f"DELETE FROM {plan.events} WHERE __cdc_trunc")
        return
    cursor.execute(f"DELETE FROM {plan.target}")
    cursor.execute(f"DELETE FROM {plan.events} WHERE __cdc_trunc OR __cdc_seq <= ?", [last])


def _drop_late(cursor: duckdb.DuckDBPyConnection, plan: _Plan, scd_type: int) -> None:
    """Changes not newer than what the target already holds for their key are ignored."""
    if scd_type == 2:
        held = f"greatest(t.{_q(START_AT)}, coalesce(t.{_q(END_AT)}, t.{_q(START_AT)}))"
    elif plan.sequence_column is not None:
        held = f"t.{_q(plan.sequence_column)}"
    else:
        return  # the target keeps no sequence: every change of the batch is newer
    cursor.execute(
        f"DELETE FROM {plan.events} AS e WHERE EXISTS (SELECT 1 FROM {plan.target} AS t "
        f"WHERE {plan.match('t', 'e')} AND {held} >= e.__cdc_seq)"
    )


def _events_sql(plan: _Plan, current_seq: str, open_only: bool, ignore_nulls: bool) -> str:
    """The batch's changes plus each touched key's current target row, as one relation."""
    cols = ", ".join(_q(c) for c in plan.values)
    t_cols = ", ".join(f"t.{_q(c)}" for c in plan.values)
    still_open = f"t.{_q(END_AT)} IS NULL AND " if open_only else ""
    events = (
        f"SELECT {cols}, __cdc_seq, CASE WHEN __cdc_del THEN 'D' ELSE 'U' END AS __cdc_kind, "
        f"__cdc_ord FROM {plan.events} UNION ALL "
        f"SELECT {t_cols}, {current_seq} AS __cdc_seq, 'C' AS __cdc_kind, 0 AS __cdc_ord "
        f"FROM {plan.target} AS t WHERE {still_open}"
        f"EXISTS (SELECT 1 FROM {plan.events} AS e WHERE {plan.match('t', 'e')})"
    )
    if not ignore_nulls:
        return events
    # IGNORE NULL UPDATES: a NULL keeps the key's previous value, never across a delete.
    by_key = f"PARTITION BY {plan.partition()}"
    filled = ", ".join(
        f"last_value(CASE WHEN __cdc_kind <> 'D' THEN {_q(c)} END IGNORE NULLS) OVER "
        f"({by_key}, __cdc_seg ORDER BY {_ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND "
        f"CURRENT ROW) AS {_q(c)}"
        for c in plan.others()
    )
    keys = ", ".join(_q(k) for k in plan.keys)
    return (
        f"SELECT {keys}, {filled}, __cdc_seq, __cdc_kind, __cdc_ord FROM (SELECT *, "
        f"sum(CASE WHEN __cdc_kind = 'D' THEN 1 ELSE 0 END) OVER ({by_key} ORDER BY {_ORDER} "
        f"ROWS UNBOUNDED PRECEDING) AS __cdc_seg FROM ({events}))"
    )


def _scd1(cursor: duckdb.DuckDBPyConnection, plan: _Plan, ignore_nulls: bool) -> tuple[int, int]:
    current = f"t.{_q(plan.sequence_column)}" if plan.sequence_column else "NULL"
    latest = _q(f"__cdc_latest_{uuid.uuid4().hex}")
    cursor.execute(
        f"CREATE TEMP TABLE {latest} AS SELECT * FROM "
        f"({_events_sql(plan, current, False, ignore_nulls)}) "
        f"QUALIFY row_number() OVER (PARTITION BY {plan.partition()} ORDER BY {_ORDER_DESC}) = 1"
    )
    deleted = _one(
        cursor,
        f"SELECT count(*) FROM {latest} AS l WHERE __cdc_kind = 'D' AND EXISTS "
        f"(SELECT 1 FROM {plan.target} AS t WHERE {plan.match('t', 'l')})",
    )
    upserted = _one(cursor, f"SELECT count(*) FROM {latest} WHERE __cdc_kind = 'U'")
    cursor.execute(
        f"DELETE FROM {plan.target} AS t WHERE EXISTS "
        f"(SELECT 1 FROM {latest} AS l WHERE {plan.match('t', 'l')})"
    )
    cols = ", ".join(_q(c) for c in plan.values)
    cursor.execute(
        f"INSERT INTO {plan.target} BY NAME SELECT {cols} FROM {latest} WHERE __cdc_kind <> 'D'"
    )
    cursor.execute(f"DROP TABLE {latest}")
    return int(upserted), int(deleted)


def _scd2(cursor: duckdb.DuckDBPyConnection, plan: _Plan, ignore_nulls: bool) -> tuple[int, int]:
    window = f"(PARTITION BY {plan.partition()} ORDER BY {_ORDER})"
    lags = "".join(
        f", lag({_q(c)}) OVER {window} AS __cdc_p{i}" for i, c in enumerate(plan.tracked)
    )
    changed = " OR ".join(
        f"{_q(c)} IS DISTINCT FROM __cdc_p{i}" for i, c in enumerate(plan.tracked)
    )
    # A new version starts at the current row, after a delete, or when a tracked column
    # changes; an upsert changing only untracked columns updates its version in place.
    starts = f"__cdc_kind <> 'U' OR __cdc_pk IS NULL OR __cdc_pk = 'D' OR ({changed or 'false'})"
    steps = _q(f"__cdc_steps_{uuid.uuid4().hex}")
    cursor.execute(
        f"CREATE TEMP TABLE {steps} AS SELECT *, sum(CASE WHEN {starts} THEN 1 ELSE 0 END) "
        f"OVER (PARTITION BY {plan.partition()} ORDER BY __cdc_rk ROWS UNBOUNDED PRECEDING) "
        f"AS __cdc_grp FROM (SELECT *, lag(__cdc_kind) OVER {window} AS __cdc_pk{lags}, "
        f"row_number() OVER {window} AS __cdc_rk "
        f"FROM ({_events_sql(plan, f't.{_q(START_AT)}', True, ignore_nulls)}))"
    )
    keys = ", ".join(_q(k) for k in plan.keys)
    latest = "".join(f", arg_max_null({_q(c)}, __cdc_rk) AS {_q(c)}" for c in plan.others())
    versions = (
        f"SELECT {keys}, __cdc_grp, arg_min(__cdc_seq, __cdc_rk) AS __cdc_start, "
        f"bool_or(__cdc_kind = 'D') AS __cdc_isdel{latest} FROM {steps} GROUP BY {keys}, __cdc_grp"
    )
    cols = ", ".join(_q(c) for c in plan.values)
    result = _q(f"__cdc_result_{uuid.uuid4().hex}")
    cursor.execute(
        f"CREATE TEMP TABLE {result} AS SELECT {cols}, __cdc_start AS {_q(START_AT)}, "
        f"lead(__cdc_start) OVER (PARTITION BY {plan.partition()} ORDER BY __cdc_grp) "
        f"AS {_q(END_AT)}, __cdc_isdel FROM ({versions})"
    )
    upserted = _one(cursor, f"SELECT count(*) FROM {plan.events} WHERE NOT __cdc_del")
    deleted = _one(
        cursor, f"SELECT count(*) FROM {steps} WHERE __cdc_kind = 'D' AND __cdc_pk IN ('U', 'C')"
    )
    cursor.execute(
        f"DELETE FROM {plan.target} AS t WHERE t.{_q(END_AT)} IS NULL AND EXISTS "
        f"(SELECT 1 FROM {plan.events} AS e WHERE {plan.match('t', 'e')})"
    )
    cursor.execute(
        f"INSERT INTO {plan.target} BY NAME SELECT {cols}, {_q(START_AT)}, {_q(END_AT)} "
        f"FROM {result} WHERE NOT __cdc_isdel"
    )
    cursor.execute(f"DROP TABLE {steps}")
    cursor.execute(f"DROP TABLE {result}")
    return int(upserted), int(deleted)
