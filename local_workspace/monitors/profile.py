"""Profile and drift metrics of a monitored table, computed with DuckDB into the two metric
tables Databricks data profiling writes: ``<table>_profile_metrics`` and
``<table>_drift_metrics`` in the monitor's output schema.

Column layout follows Databricks' "Monitor metric tables" page: one profile row per
(window, granularity, slice, column) with ``column_name = ':table'`` for the table itself;
drift rows compare a window with the previous one (``drift_type = 'CONSECUTIVE'``).
Snapshot profiles have one window per refresh; TimeSeries and InferenceLog profiles one
window per time bucket of ``timestamp_col`` and granularity.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlglot

from local_workspace.catalog.names import quote
from local_workspace.errors import invalid

if TYPE_CHECKING:
    import duckdb

    from local_workspace.catalog import Catalog

TABLE_COLUMN = ":table"
# Quantile points written to the `quantiles` column (every 5%).
QUANTILES = tuple(i / 20 for i in range(21))
# How many frequent items are kept per column.
FREQUENT_ITEMS = 10

PROFILE_COLUMNS = """
    "window" STRUCT("start" TIMESTAMP, "end" TIMESTAMP),
    granularity VARCHAR,
    model_id VARCHAR,
    monitor_version BIGINT,
    slice_key VARCHAR,
    slice_value VARCHAR,
    column_name VARCHAR,
    data_type VARCHAR,
    logging_table_commit_version BIGINT,
    log_type VARCHAR,
    count BIGINT,
    num_nulls BIGINT,
    avg DOUBLE,
    quantiles DOUBLE[],
    distinct_count BIGINT,
    min DOUBLE,
    max DOUBLE,
    stddev DOUBLE,
    num_zeros BIGINT,
    num_nan BIGINT,
    min_length DOUBLE,
    max_length DOUBLE,
    avg_length DOUBLE,
    non_null_columns VARCHAR[],
    frequent_items STRUCT(item VARCHAR, count BIGINT)[],
    median DOUBLE,
    percent_null DOUBLE,
    percent_zeros DOUBLE,
    percent_distinct DOUBLE,
    percent_nan DOUBLE
"""

DRIFT_COLUMNS = """
    "window" STRUCT("start" TIMESTAMP, "end" TIMESTAMP),
    granularity VARCHAR,
    model_id VARCHAR,
    monitor_version BIGINT,
    slice_key VARCHAR,
    slice_value VARCHAR,
    column_name VARCHAR,
    data_type VARCHAR,
    window_cmp STRUCT("start" TIMESTAMP, "end" TIMESTAMP),
    drift_type VARCHAR,
    count_delta DOUBLE,
    avg_delta DOUBLE,
    percent_null_delta DOUBLE,
    percent_zeros_delta DOUBLE,
    percent_distinct_delta DOUBLE,
    non_null_columns_delta STRUCT(added BIGINT, missing BIGINT),
    js_distance DOUBLE,
    ks_test STRUCT(statistic DOUBLE, pvalue DOUBLE),
    wasserstein_distance DOUBLE,
    population_stability_index DOUBLE,
    chi_squared_test STRUCT(statistic DOUBLE, pvalue DOUBLE),
    tv_distance DOUBLE,
    l_infinity_distance DOUBLE
"""

NUMERIC = frozenset({"BYTE", "SHORT", "INT", "LONG", "FLOAT", "DOUBLE", "DECIMAL"})
FLOATING = frozenset({"FLOAT", "DOUBLE"})
TEXT = frozenset({"STRING", "CHAR", "VARCHAR"})
DISCRETE = frozenset({"STRING", "CHAR", "VARCHAR", "BOOLEAN"})
COMPLEX = frozenset({"ARRAY", "MAP", "STRUCT", "BINARY", "VARIANT"})
_GRANULARITY = re.compile(
    r"^\s*(\d+)\s+(minute|minutes|hour|hours|day|days|week|weeks|month|months|year|years)\s*$",
    re.I,
)
# Deltas compared between consecutive windows (profile column -> drift column).
DELTAS = (
    ("count", "count_delta"),
    ("avg", "avg_delta"),
    ("percent_null", "percent_null_delta"),
    ("percent_zeros", "percent_zeros_delta"),
    ("percent_distinct", "percent_distinct_delta"),
)


@dataclass(frozen=True)
class Plan:
    """What one refresh computes: the source table, its windows and slices."""

    table: str  # full name, public
    profile_table: str
    drift_table: str
    monitor_version: int
    granularities: list[str]  # empty for Snapshot
    timestamp_col: str | None
    slicing_exprs: list[str]
    model_id_col: str | None
    baseline_table: str | None = None  # profiled whole (log_type BASELINE) for baseline drift


def check_granularity(granularity: str) -> str:
    """A granularity as DuckDB reads an interval ('1 day', '30 minutes'); 400 otherwise."""
    match = _GRANULARITY.match(granularity or "")
    if not match:
        raise invalid(
            f"Invalid granularity '{granularity}': use '<n> minutes|hours|days|weeks|months|years' "
            "(for example '1 day')."
        )
    return f"{match.group(1)} {match.group(2).lower()}"


def slice_sql(expression: str) -> str:
    """A slicing expression (Databricks SQL over the table's columns) as DuckDB SQL."""
    try:
        return sqlglot.transpile(expression, read="databricks", write="duckdb")[0]
    except sqlglot.errors.ParseError as exc:
        raise invalid(f"Invalid slicing expression '{expression}': {exc}") from exc


def create_tables(catalog: Catalog, plan: Plan) -> None:
    """Create the profile and drift metric tables if missing (recorded as UC tables)."""
    for name, columns in ((plan.profile_table, PROFILE_COLUMNS), (plan.drift_table, DRIFT_COLUMNS)):
        if _exists(catalog, name):
            continue
        catalog.engine.execute(f"CREATE TABLE IF NOT EXISTS {_internal(catalog, name)} ({columns})")
        catalog.ddl.created(
            "table", name, f"Data profiling metrics of {plan.table} (written by its monitor)."
        )


def _exists(catalog: Catalog, full_name: str) -> bool:
    catalog_name, schema, table = full_name.split(".")
    return catalog.tables.has(catalog_name, schema, table)


def _internal(catalog: Catalog, full_name: str) -> str:
    catalog_name, schema, table = full_name.split(".")
    return ".".join([quote(catalog.engine.to_internal(catalog_name)), quote(schema), quote(table)])


def refresh(catalog: Catalog, plan: Plan, now: dt.datetime) -> int:
    """Compute the metrics of ``plan.table`` now; append them; the profile rows written."""
    info = catalog.tables.get(plan.table)
    # (name, UC type name for the kind of metrics, Spark type text for `data_type`)
    columns = [
        (c["name"], str(c.get("type_name") or ""), str(c.get("type_text") or ""))
        for c in info.get("columns") or []
    ]
    if not columns:
        raise invalid(f"Table '{plan.table}' has no columns to profile.")
    create_tables(catalog, plan)
    source = _internal(catalog, info["full_name"])
    cursor = catalog.engine.cursor()
    try:
        rows = _profile_rows(cursor, source, columns, plan, now, "INPUT")
        previous = _previous_rows(cursor, _internal(catalog, plan.profile_table), plan)
        drift = _drift_rows(rows, previous, plan)
        if plan.baseline_table:
            baseline = _baseline_rows(catalog, cursor, plan, columns, now)
            drift += _baseline_drift(rows, baseline, plan)
            rows += baseline
        # Both tables or neither: a failed refresh leaves no half-written metrics.
        cursor.execute("BEGIN TRANSACTION")
        try:
            _insert(cursor, _internal(catalog, plan.profile_table), PROFILE_FIELDS, rows)
            _insert(cursor, _internal(catalog, plan.drift_table), DRIFT_FIELDS, drift)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")
    finally:
        cursor.close()
    return len(rows)


PROFILE_FIELDS = (
    "window",
    "granularity",
    "model_id",
    "monitor_version",
    "slice_key",
    "slice_value",
    "column_name",
    "data_type",
    "logging_table_commit_version",
    "log_type",
    "count",
    "num_nulls",
    "avg",
    "quantiles",
    "distinct_count",
    "min",
    "max",
    "stddev",
    "num_zeros",
    "num_nan",
    "min_length",
    "max_length",
    "avg_length",
    "non_null_columns",
    "frequent_items",
    "median",
    "percent_null",
    "percent_zeros",
    "percent_distinct",
    "percent_nan",
)
DRIFT_FIELDS = (
    "window",
    "granularity",
    "model_id",
    "monitor_version",
    "slice_key",
    "slice_value",
    "column_name",
    "data_type",
    "window_cmp",
    "drift_type",
    *(delta for _, delta in DELTAS),
)


def _insert(
    cursor: duckdb.DuckDBPyConnection,
    table: str,
    fields: tuple[str, ...],
    rows: list[dict[str, Any]],
) -> None:
    if not rows:
        return
    names = ", ".join(quote(f) for f in fields)
    marks = ", ".join("?" for _ in fields)
    cursor.executemany(
        f"INSERT INTO {table} ({names}) VALUES ({marks})",
        [[row.get(f) for f in fields] for row in rows],
    )


def _groups(plan: Plan) -> list[tuple[str | None, str, str | None, str]]:
    """(granularity, window start SQL, slice key, slice value SQL) of every grouping."""
    windows: list[tuple[str | None, str]] = [(None, "NULL::TIMESTAMP")]
    if plan.timestamp_col:
        ts = f"CAST({quote(plan.timestamp_col)} AS TIMESTAMP)"
        windows = [(g, f"time_bucket(INTERVAL '{g}', {ts})") for g in plan.granularities]
    slices: list[tuple[str | None, str]] = [(None, "NULL::VARCHAR")]
    slices += [(expr, f"CAST(({slice_sql(expr)}) AS VARCHAR)") for expr in plan.slicing_exprs]
    return [(g, w, key, s) for g, w in windows for key, s in slices]


def _aggregates(name: str, type_name: str) -> list[tuple[str, str]]:
    col = quote(name)
    aggs = [("count", f"count({col})"), ("num_nulls", f"count(*) - count({col})")]
    kind = type_name.upper()
    if kind not in COMPLEX:
        aggs.append(("distinct_count", f"count(DISTINCT {col})"))
    if kind in NUMERIC:
        num = f"CAST({col} AS DOUBLE)"
        finite = f"CASE WHEN isfinite({num}) THEN {num} END" if kind in FLOATING else num
        aggs += [
            ("avg", f"avg({finite})"),
            ("min", f"min({finite})"),
            ("max", f"max({finite})"),
            ("stddev", f"stddev_samp({finite})"),
            ("median", f"median({finite})"),
            ("quantiles", f"quantile_cont({finite}, {list(QUANTILES)})"),
            ("num_zeros", f"count_if({num} = 0)"),
        ]
        if kind in FLOATING:
            aggs.append(("num_nan", f"count_if(isnan({num}))"))
    if kind in TEXT:
        length = f"length({col})"
        aggs += [
            ("min_length", f"min({length})"),
            ("max_length", f"max({length})"),
            ("avg_length", f"avg({length})"),
        ]
    return aggs


def _baseline_rows(
    catalog: Catalog,
    cursor: duckdb.DuckDBPyConnection,
    plan: Plan,
    columns: list[tuple[str, str, str]],
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The baseline table profiled as one window (no time buckets), on the columns it shares
    with the monitored table."""
    assert plan.baseline_table is not None
    info = catalog.tables.get(plan.baseline_table)
    present = {str(c["name"]).lower() for c in info.get("columns") or []}
    shared = [c for c in columns if c[0].lower() in present]
    model = (
        plan.model_id_col if plan.model_id_col and plan.model_id_col.lower() in present else None
    )
    whole = dataclasses.replace(plan, granularities=[], timestamp_col=None, model_id_col=model)
    source = _internal(catalog, info["full_name"])
    return _profile_rows(cursor, source, shared, whole, now, "BASELINE")


def _profile_rows(
    cursor: duckdb.DuckDBPyConnection,
    source: str,
    columns: list[tuple[str, str, str]],
    plan: Plan,
    now: dt.datetime,
    log_type: str,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    where = f"WHERE {quote(plan.timestamp_col)} IS NOT NULL" if plan.timestamp_col else ""
    model = f"CAST({quote(plan.model_id_col)} AS VARCHAR)" if plan.model_id_col else "NULL"
    for granularity, window, slice_key, slice_value in _groups(plan):
        base = {
            "granularity": granularity,
            "monitor_version": plan.monitor_version,
            "slice_key": slice_key,
            "log_type": log_type,
        }
        keys = f"{window} AS w, {slice_value} AS s, {model} AS m"
        table_rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        for name, type_name, type_text in columns:
            aggs = _aggregates(name, type_name)
            select = ", ".join(f"{sql} AS {quote(alias)}" for alias, sql in aggs)
            found = cursor.execute(
                f"SELECT {keys}, count(*) AS n, {select} "
                f"FROM {source} {where} GROUP BY ALL ORDER BY 1, 2, 3"
            ).fetchall()
            frequent = (
                _frequent_items(cursor, source, where, keys, name)
                if type_name.upper() in DISCRETE
                else {}
            )
            for w, s, m, n, *values in found:
                metrics = dict(zip([a for a, _ in aggs], values, strict=True))
                row = {**base, "window": _window(w, granularity, now), "slice_value": s}
                row.update({"model_id": m, "column_name": name, "data_type": type_text})
                row.update(metrics)
                row.update(_percents(n, metrics))
                if type_name.upper() in DISCRETE:
                    row["frequent_items"] = frequent.get((w, s, m), [])
                rows.append(row)
                table = table_rows.setdefault(
                    (w, s, m),
                    {
                        **base,
                        "window": row["window"],
                        "slice_value": s,
                        "model_id": m,
                        "column_name": TABLE_COLUMN,
                        "count": n,
                        "num_nulls": 0,
                        "non_null_columns": [],
                    },
                )
                if metrics["count"]:
                    table["non_null_columns"].append(name)
        rows.extend(table_rows.values())
    return rows


def _frequent_items(
    cursor: duckdb.DuckDBPyConnection, source: str, where: str, keys: str, name: str
) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """The most frequent values of a column, with their counts, per (window, slice, model)."""
    col = quote(name)
    condition = f"{where} AND {col} IS NOT NULL" if where else f"WHERE {col} IS NOT NULL"
    found = cursor.execute(
        f"SELECT w, s, m, item, n FROM ("
        f"SELECT *, row_number() OVER (PARTITION BY w, s, m ORDER BY n DESC, item) AS r FROM ("
        f"SELECT {keys}, CAST({col} AS VARCHAR) AS item, count(*) AS n "
        f"FROM {source} {condition} GROUP BY ALL)) WHERE r <= {FREQUENT_ITEMS} "
        f"ORDER BY w, s, m, r"
    ).fetchall()
    by_group: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for w, s, m, item, n in found:
        by_group.setdefault((w, s, m), []).append({"item": item, "count": n})
    return by_group


def _percents(n: int, metrics: dict[str, Any]) -> dict[str, Any]:
    count = metrics.get("count") or 0
    out: dict[str, Any] = {"percent_null": 100.0 * metrics["num_nulls"] / n if n else None}
    if metrics.get("num_zeros") is not None:
        out["percent_zeros"] = 100.0 * metrics["num_zeros"] / count if count else None
    if metrics.get("num_nan") is not None:
        out["percent_nan"] = 100.0 * metrics["num_nan"] / count if count else None
    if metrics.get("distinct_count") is not None:
        out["percent_distinct"] = 100.0 * metrics["distinct_count"] / count if count else None
    return out


def _window(start: Any, granularity: str | None, now: dt.datetime) -> dict[str, Any]:
    if start is None or granularity is None:
        return {"start": now, "end": now}
    amount, unit = granularity.split()
    end = _add(start, int(amount), unit)
    return {"start": start, "end": end}


def _add(start: dt.datetime, amount: int, unit: str) -> dt.datetime:
    unit = unit.rstrip("s")
    if unit in ("month", "year"):
        months = amount * (12 if unit == "year" else 1)
        month = start.month - 1 + months
        return start.replace(year=start.year + month // 12, month=month % 12 + 1)
    return start + dt.timedelta(**{unit + "s": amount})


def _previous_rows(
    cursor: duckdb.DuckDBPyConnection, profile_table: str, plan: Plan
) -> list[dict[str, Any]]:
    """Snapshot profiles compare with the latest earlier refresh; time series with the
    previous window of the same refresh (so nothing is read back)."""
    if plan.timestamp_col:
        return []
    keys = ["window", *(m for m, _ in DELTAS), "granularity", "slice_key", "slice_value"]
    keys += ["column_name", "data_type", "model_id"]
    found = cursor.execute(
        f"SELECT {', '.join(quote(k) for k in keys)} FROM {profile_table} "
        "WHERE log_type = 'INPUT' AND \"window\".start = "
        f"(SELECT max(\"window\".start) FROM {profile_table} WHERE log_type = 'INPUT')"
    ).fetchall()
    return [dict(zip(keys, r, strict=True)) for r in found]


def _baseline_drift(
    rows: list[dict[str, Any]], baseline: list[dict[str, Any]], plan: Plan
) -> list[dict[str, Any]]:
    """Each input window compared with the baseline profile (``drift_type = 'BASELINE'``)."""
    by_key = {
        (b["slice_key"], b["slice_value"], b["model_id"], b["column_name"]): b for b in baseline
    }
    drift: list[dict[str, Any]] = []
    for row in rows:
        base = by_key.get(
            (row["slice_key"], row["slice_value"], row["model_id"], row["column_name"])
        )
        if base is not None:
            drift.append(_delta(base, row, "BASELINE", plan))
    return drift


def _delta(
    before: dict[str, Any], after: dict[str, Any], drift_type: str, plan: Plan
) -> dict[str, Any]:
    out = {
        "window": after["window"],
        "window_cmp": before["window"],
        "drift_type": drift_type,
        "monitor_version": plan.monitor_version,
        "data_type": after.get("data_type"),
    }
    for field in ("granularity", "slice_key", "slice_value", "model_id", "column_name"):
        out[field] = after[field]
    for metric, delta in DELTAS:
        a, b = after.get(metric), before.get(metric)
        out[delta] = None if a is None or b is None else float(a) - float(b)
    return out


def _drift_rows(
    rows: list[dict[str, Any]], previous: list[dict[str, Any]], plan: Plan
) -> list[dict[str, Any]]:
    def key(row: dict[str, Any]) -> tuple[Any, ...]:
        return (
            row["granularity"],
            row["slice_key"],
            row["slice_value"],
            row["model_id"],
            row["column_name"],
        )

    by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in [*previous, *rows]:
        by_key.setdefault(key(row), []).append(row)
    drift: list[dict[str, Any]] = []
    current = {id(r) for r in rows}
    for series in by_key.values():
        series.sort(key=lambda r: r["window"]["start"])
        for before, after in itertools.pairwise(series):
            if id(after) not in current:
                continue
            drift.append(_delta(before, after, "CONSECUTIVE", plan))
    return drift
