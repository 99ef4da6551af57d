"""Feature engineering on Unity Catalog: feature tables and point-in-time lookups.

A feature table is a table with a primary key constraint; a ``TIMESERIES`` key column makes
it a time series feature table. :func:`preview_lookup` joins a labels table with feature
tables the way training sets must be built: for each label row, the latest feature row at
or before the label's timestamp (never a value from the future). The SQL is plain Databricks
SQL (no window functions, no engine-specific joins), returned so it can be reused.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from tools_core import ids
from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.results import Result, markdown_table
from tools_core.sql.models import SqlColumn

# noun_metric_window: lowercase snake_case, at least three parts, ending in a window such as
# 30d, 1h, 15m, 4w, 6mo, 1y (or lifetime). Only ever a warning: names are the team's call.
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_WINDOW = re.compile(r"^(?:\d+(?:s|m|h|d|w|mo|y)|lifetime)$")
NAMING_RULE = "noun_metric_window, e.g. customer_spend_30d"


def naming_warning(column: str) -> str | None:
    """Why a feature column does not follow ``noun_metric_window``, or None."""
    if not _SNAKE.match(column):
        return f"{column}: use lowercase snake_case ({NAMING_RULE})"
    parts = column.split("_")
    if not _WINDOW.match(parts[-1]):
        return f"{column}: no time window suffix like _30d ({NAMING_RULE})"
    if len(parts) < 3:
        return f"{column}: name the entity and the metric too ({NAMING_RULE})"
    return None


class FeatureTable(Result):
    """A table with a primary key: its lookup keys, timestamp key and feature columns."""

    name: str
    keys: list[str]
    timestamp_key: str | None = None
    features: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class FeatureTableList(Result):
    """Feature tables of a schema."""

    schema_name: str
    tables: list[FeatureTable]
    without_keys: list[str] = Field(default_factory=list)
    truncated: bool = False

    def to_text(self) -> str:
        rows = [
            [t.name.split(".")[-1], ", ".join(t.keys), t.timestamp_key, ", ".join(t.features)]
            for t in self.tables
        ]
        lines = [f"feature tables in {self.schema_name}:"]
        lines.append(markdown_table(["table", "keys", "timestamp key", "features"], rows))
        warnings = [w for t in self.tables for w in t.warnings]
        if warnings:
            lines.append("naming warnings: " + "; ".join(warnings))
        if self.without_keys:
            shown = ", ".join(self.without_keys[:20])
            lines.append(
                f"tables without a primary key (not feature tables): {shown}"
                + (" …" if len(self.without_keys) > 20 else "")
            )
        if self.truncated:
            lines.append("(more tables exist: raise limit)")
        if self.tables:
            lines.append("Next: features_preview_lookup with a labels table.")
        return "\n".join(lines)


class FeatureLookup(Result):
    """A preview of a point-in-time lookup and the SQL that computes it."""

    labels_table: str
    feature_tables: list[str]
    sql: str
    statement_id: str
    columns: list[SqlColumn] = Field(default_factory=list)
    rows: list[list[str | None]] = Field(default_factory=list)
    truncated: bool = False
    renamed: dict[str, str] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        headers = [f"{c.name} ({c.type})" for c in self.columns]
        lines = [
            f"point-in-time lookup of {self.labels_table}: {len(self.rows)} row(s)"
            + (" (preview, more exist)" if self.truncated else ""),
            markdown_table(headers, self.rows),
        ]
        if self.renamed:
            pairs = ", ".join(f"{new} <- {old}" for new, old in self.renamed.items())
            lines.append(f"renamed (name clash): {pairs}")
        if self.warnings:
            lines.append("naming warnings: " + "; ".join(self.warnings))
        lines.append(f"SQL (Databricks SQL; feature ts <= label ts):\n{self.sql}")
        return "\n".join(lines)


def _full_name(name: str, what: str) -> str:
    if name.count(".") != 2 or not all(name.split(".")):
        raise InvalidInput(
            f"{what} '{name}' is not a full table name.", "Use catalog.schema.table."
        )
    return name


def _primary_key(info: Any) -> Any:
    for constraint in info.table_constraints or []:
        if constraint.primary_key_constraint is not None:
            return constraint.primary_key_constraint
    return None


def _feature_table(info: Any) -> FeatureTable | None:
    pk = _primary_key(info)
    if pk is None:
        return None
    series = list(pk.timeseries_columns or [])
    keys = [c for c in pk.child_columns or [] if c not in series]
    key_set = {c.lower() for c in pk.child_columns or []}
    features = [c.name for c in info.columns or [] if c.name and c.name.lower() not in key_set]
    warnings = [w for w in map(naming_warning, features) if w]
    return FeatureTable(
        name=info.full_name or "",
        keys=keys,
        timestamp_key=series[0] if series else None,
        features=features,
        warnings=warnings,
    )


def list_tables(backend: Backend, catalog: str, schema: str, limit: int = 100) -> FeatureTableList:
    """Tables of a schema with a primary key: keys, timestamp key, features, naming warnings."""
    listed = backend.client.tables.list(catalog_name=catalog, schema_name=schema)
    items = list(itertools.islice(listed, limit + 1))
    tables, without = [], []
    for info in items[:limit]:
        found = _feature_table(info)
        if found is not None:
            tables.append(found)
        elif str(getattr(info.table_type, "value", "")) != "VIEW":
            without.append(info.name or "")
    return FeatureTableList(
        schema_name=f"{catalog}.{schema}",
        tables=tables,
        without_keys=without,
        truncated=len(items) > limit,
    )


def _q(name: str) -> str:
    """A Databricks quoted identifier."""
    return "`" + name.replace("`", "``") + "`"


def _table_sql(full_name: str) -> str:
    return ".".join(_q(p) for p in full_name.split("."))


def _key_map(lookup_keys: Sequence[str] | None) -> dict[str, str]:
    """``["label_col:feature_key", "same_name"]`` -> {feature_key: label_col}."""
    mapping: dict[str, str] = {}
    for item in lookup_keys or []:
        label, _, feature = item.partition(":")
        if not label.strip():
            raise InvalidInput(f"Bad lookup key {item!r}.", "Use 'label_col' or 'label_col:key'.")
        mapping[(feature or label).strip().lower()] = label.strip()
    return mapping


def _no_key_error(name: str, info: Any) -> InvalidInput:
    columns = [c.name for c in info.columns or [] if c.name]
    example = ", ".join(columns[:1]) or "<key columns>"
    return InvalidInput(
        f"{name} has no primary key, so it is not a feature table.",
        f"Add one: ALTER TABLE {name} ADD CONSTRAINT {name.split('.')[-1]}_pk PRIMARY KEY "
        f"({example}[, <ts> TIMESERIES]) (key columns NOT NULL), then retry.",
    )


def lookup_sql(
    labels: str,
    label_columns: Sequence[str],
    tables: Sequence[FeatureTable],
    lookup_keys: Sequence[str] | None = None,
    timestamp_column: str | None = None,
) -> tuple[str, dict[str, str]]:
    """The point-in-time join and the output columns renamed to avoid clashes.

    Per time series table, a CTE finds for each distinct (keys, label ts) the latest feature
    ts at or before the label ts; the feature row is then joined on its full primary key.
    Label rows are kept as they are (LEFT JOINs, duplicates stay duplicates).
    """
    by_lower = {c.lower(): c for c in label_columns}
    mapping = _key_map(lookup_keys)
    counts: dict[str, int] = {}
    for name in [*label_columns, *(f for t in tables for f in t.features)]:
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    ctes, selects, joins = [], ["l.*"], []
    renamed: dict[str, str] = {}
    for i, table in enumerate(tables, start=1):
        pairs = []
        for key in table.keys:
            label_col = mapping.get(key.lower()) or by_lower.get(key.lower())
            if label_col is None or label_col.lower() not in by_lower:
                raise InvalidInput(
                    f"The labels table {labels} has no column for key {key} of {table.name}.",
                    f"Pass lookup_keys=['<label column>:{key}'].",
                )
            pairs.append((by_lower[label_col.lower()], key))
        alias = f"f{i}"
        if table.timestamp_key:
            ts = timestamp_column or by_lower.get(table.timestamp_key.lower())
            if not ts or ts.lower() not in by_lower:
                raise InvalidInput(
                    f"Which labels column holds the label time? {table.name} is a time series "
                    f"table (timestamp key {table.timestamp_key}).",
                    "Pass timestamp_column=<labels timestamp column>.",
                )
            ts = by_lower[ts.lower()]
            label_cols = [lc for lc, _ in pairs] + [ts]
            distinct = ", ".join(_q(c) for c in label_cols)
            on = " AND ".join(f"f.{_q(k)} = l.{_q(lc)}" for lc, k in pairs)
            on = f"{on} AND " if on else ""
            ctes.append(
                f"asof{i} AS (\n  SELECT {', '.join(f'l.{_q(c)}' for c in label_cols)}, "
                f"MAX(f.{_q(table.timestamp_key)}) AS `_feature_ts`\n"
                f"  FROM (SELECT DISTINCT {distinct} FROM {_table_sql(labels)}) AS l\n"
                f"  JOIN {_table_sql(table.name)} AS f\n"
                f"    ON {on}f.{_q(table.timestamp_key)} <= l.{_q(ts)}\n"
                f"  GROUP BY {', '.join(f'l.{_q(c)}' for c in label_cols)}\n)"
            )
            a_on = " AND ".join(f"a{i}.{_q(c)} = l.{_q(c)}" for c in label_cols)
            f_on = " AND ".join(f"{alias}.{_q(k)} = a{i}.{_q(lc)}" for lc, k in pairs)
            f_on = f"{f_on} AND " if f_on else ""
            joins.append(f"LEFT JOIN asof{i} AS a{i} ON {a_on}")
            joins.append(
                f"LEFT JOIN {_table_sql(table.name)} AS {alias}\n"
                f"  ON {f_on}{alias}.{_q(table.timestamp_key)} = a{i}.`_feature_ts`"
            )
        else:
            on = " AND ".join(f"{alias}.{_q(k)} = l.{_q(lc)}" for lc, k in pairs)
            joins.append(f"LEFT JOIN {_table_sql(table.name)} AS {alias} ON {on or 'TRUE'}")
        for feature in table.features:
            out = feature
            if counts[feature.lower()] > 1:
                out = f"{table.name.split('.')[-1]}_{feature}"
                renamed[out] = f"{table.name}.{feature}"
            selects.append(f"{alias}.{_q(feature)}" + (f" AS {_q(out)}" if out != feature else ""))
    head = ("WITH " + ",\n".join(ctes) + "\n") if ctes else ""
    body = f"SELECT {', '.join(selects)}\nFROM {_table_sql(labels)} AS l\n" + "\n".join(joins)
    return head + body, renamed


def preview_lookup(
    backend: Backend,
    labels_table: str,
    feature_tables: Sequence[str],
    lookup_keys: Sequence[str] | None = None,
    timestamp_column: str | None = None,
    limit: int = 20,
    warehouse_id: str | None = None,
) -> FeatureLookup:
    """Run a capped point-in-time lookup on the warehouse; rows plus the reusable SQL."""
    from tools_core import sql

    labels = _full_name(labels_table, "labels_table")
    if not feature_tables:
        raise InvalidInput("Name at least one feature table.", "See features_list_tables.")
    if not 1 <= limit <= 1000:
        raise InvalidInput(f"limit must be between 1 and 1000, got {limit}.")
    label_info = backend.client.tables.get(ids.full_name(labels, "labels_table"))
    label_columns = [c.name for c in label_info.columns or [] if c.name]
    tables = []
    for name in feature_tables:
        in_url = ids.full_name(_full_name(name, "feature table"), "feature table")
        info = backend.client.tables.get(in_url)
        found = _feature_table(info)
        if found is None:
            raise _no_key_error(info.full_name or name, info)
        tables.append(found)
    statement, renamed = lookup_sql(labels, label_columns, tables, lookup_keys, timestamp_column)
    result = sql.query(
        backend, f"{statement}\nLIMIT {limit + 1}", warehouse_id=warehouse_id, limit=limit
    )
    return FeatureLookup(
        labels_table=labels,
        feature_tables=[t.name for t in tables],
        sql=statement,
        statement_id=result.statement_id,
        columns=result.columns,
        rows=result.rows[:limit],
        truncated=len(result.rows) > limit or result.truncated,
        renamed=renamed,
        warnings=[w for t in tables for w in t.warnings],
    )
