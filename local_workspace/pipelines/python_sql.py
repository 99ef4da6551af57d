"""Pipeline SQL for what a Python source defines (child side of python_plan.py).

A dataset becomes ``CREATE OR REFRESH MATERIALIZED VIEW | STREAMING TABLE name
(CONSTRAINT ... EXPECT (...) [ON VIOLATION ...]) [PARTITIONED BY] [CLUSTER BY] [COMMENT]
[TBLPROPERTIES] AS <the DataFrame's SQL>`` (``CREATE TEMPORARY VIEW`` for views), and a CDC
flow ``APPLY CHANGES INTO ... FROM STREAM(source) KEYS (...) SEQUENCE BY ...``: the statements
a SQL source would hold, read by the same parser (sqlfile.py, cdc_parse.py) and run by the same
runner, so expectations, events and lineage are those of SQL pipelines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlglot import exp

DATASET_OPTIONS = frozenset(
    {
        "name",
        "comment",
        "spark_conf",
        "table_properties",
        "path",
        "partition_cols",
        "cluster_by",
        "cluster_by_auto",
        "schema",
        "temporary",
        "private",
        "row_filter",
        "format",
    }
)
STREAMING_TABLE_OPTIONS = (DATASET_OPTIONS - {"name", "temporary", "private"}) | {
    "expect_all",
    "expect_all_or_drop",
    "expect_all_or_fail",
}
CDC_OPTIONS = frozenset(
    {
        "ignore_null_updates",
        "apply_as_deletes",
        "apply_as_truncates",
        "column_list",
        "except_column_list",
        "stored_as_scd_type",
        "track_history_column_list",
        "track_history_except_column_list",
        "name",
        "flow_name",
        "once",
        "spark_conf",
    }
)
_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class PythonPlanError(Exception):
    """A Python pipeline source that cannot be planned; the message says where and why."""


class QueryUnreadable(PythonPlanError):
    """A query sqlglot cannot read (so its dataset reads cannot be replaced)."""


@dataclass
class CdcFlow:
    """``create_auto_cdc_flow`` / ``apply_changes`` arguments, as SQL fragments."""

    target: str
    source: str
    keys: list[str]
    sequence_by: str
    path: str
    line: int
    scd_type: int = 1
    ignore_null_updates: bool = False
    apply_as_deletes: str | None = None
    apply_as_truncates: str | None = None
    column_list: list[str] | None = None
    except_column_list: list[str] | None = None
    track_history_column_list: list[str] | None = None
    track_history_except_column_list: list[str] | None = None
    name: str | None = None


@dataclass
class PyDataset:
    """One dataset a Python source defines."""

    name: str
    kind: str  # table | materialized_view | view | streaming_table
    func: Any
    path: str
    line: int
    comment: str | None = None
    table_properties: dict[str, str] = field(default_factory=dict)
    partition_cols: list[str] = field(default_factory=list)
    cluster_by: list[str] = field(default_factory=list)
    schema: str | None = None
    private: bool = False
    expectations: list[tuple[str, str, str]] = field(default_factory=list)  # name, cond, action
    cdc: CdcFlow | None = None
    appended: list[Any] = field(default_factory=list)  # append flow functions


@dataclass
class Evaluated:
    """What a dataset's function(s) returned: the DataFrame's SQL and whether it streams."""

    sql: str
    streaming: bool


class Graph(Protocol):
    """What :func:`standalone` needs from the graph."""

    def key(self, name: str) -> str | None: ...

    def schema_sql(self, key: str) -> str: ...


def ident(name: str) -> str:
    """A SQL identifier (backticked unless plain)."""
    return name if _SIMPLE.match(name) else "`" + name.replace("`", "``") + "`"


def _literal(value: Any) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def column_sql(value: Any, what: str) -> str:
    """A column name or expression given as a string or a Column, as SQL text."""
    if isinstance(value, str):
        return value
    from local_workspace.spark import Column
    from local_workspace.spark.column import render

    if isinstance(value, Column):
        return render(value._sql, {})  # a Column of no DataFrame: no qualifier to put
    raise TypeError(f"{what}: expected a column name or a Column, got {type(value).__name__}")


def optional_sql(value: Any) -> str | None:
    """A condition given as a SQL string or a Column (``expr("op = 'DELETE'")``), or None."""
    return None if value is None else column_sql(value, "condition")


def _names(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise PythonPlanError(f"{what} must be a list of column names (strings).")
    return list(value)


def dataset_of(
    name: Any, kind: str, func: Any, path: str, line: int, options: dict[str, Any]
) -> PyDataset:
    """A dataset from decorator (or create_streaming_table) arguments, checked as PySpark does."""
    if not isinstance(name, str) or not name:
        raise PythonPlanError(f"{path}, line {line}: name must be a non-empty string.")
    where = f"{path}, line {line}"
    if options.get("row_filter"):
        raise PythonPlanError(
            f"{where}: row_filter is not supported by the local pipeline runner; run the "
            "pipeline on Databricks, or filter rows in the dataset's query."
        )
    properties = options.get("table_properties") or {}
    if not isinstance(properties, dict):
        raise PythonPlanError(f"{where}: table_properties must be a dict.")
    schema = options.get("schema")
    if schema is not None and not isinstance(schema, str):
        fields = getattr(schema, "fields", None)
        if fields is None:
            raise PythonPlanError(f"{where}: schema must be a DDL string or a StructType.")
        schema = ", ".join(
            f"{ident(f.name)} {f.dataType.simpleString().upper()}"
            + ("" if getattr(f, "nullable", True) else " NOT NULL")
            for f in fields
        )
    return PyDataset(
        name=name,
        kind=kind,
        func=func,
        path=path,
        line=line,
        comment=None if options.get("comment") is None else str(options["comment"]),
        table_properties={str(k): str(v) for k, v in properties.items()},
        partition_cols=_names(options.get("partition_cols"), "partition_cols"),
        cluster_by=_names(options.get("cluster_by"), "cluster_by"),
        schema=schema,
        private=bool(options.get("temporary") or options.get("private")),
    )


def combine(dataset: PyDataset, queries: list[Evaluated]) -> Evaluated:
    """One query for a dataset (its own, then its append flows' rows, UNION ALL)."""
    if len(queries) == 1:
        return queries[0]
    if not queries:
        raise PythonPlanError(
            f"{dataset.path}, line {dataset.line}: streaming table '{dataset.name}' has no "
            "query and no flow writes it."
        )
    sql = " UNION ALL ".join(f"SELECT * FROM ({q.sql})" for q in queries)
    return Evaluated(sql, any(q.streaming for q in queries))


def _kind_sql(dataset: PyDataset, streaming: bool) -> str:
    where = f"{dataset.path}, line {dataset.line}"
    if dataset.kind == "view":
        return "TEMPORARY VIEW"
    if dataset.kind == "materialized_view" and streaming:
        raise PythonPlanError(
            f"{where}: [INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED_VIEW] "
            f"materialized view '{dataset.name}' reads a streaming relation: use "
            "spark.read / dlt.read, or define a streaming table (@dp.table)."
        )
    stream = streaming or dataset.kind == "streaming_table"
    if dataset.private:
        if stream:
            raise PythonPlanError(
                f"{where}: private (temporary) streaming tables are not supported by the local "
                f"pipeline runner: drop temporary/private on '{dataset.name}'."
            )
        # Not published, recomputed each update: the runner's update-local view.
        return "TEMPORARY VIEW"
    return "STREAMING TABLE" if stream else "MATERIALIZED VIEW"


def create_sql(dataset: PyDataset, query: str | None, streaming: bool) -> str:
    """The ``CREATE ...`` statement of a dataset (no AS for a CDC target)."""
    kind = _kind_sql(dataset, streaming)
    head = "CREATE" if kind == "TEMPORARY VIEW" else "CREATE OR REFRESH"
    parts = [f"{head} {kind} {ident(dataset.name)}"]
    block = [dataset.schema] if dataset.schema and kind != "TEMPORARY VIEW" else []
    for name, condition, action in dataset.expectations:
        violation = {"DROP": " ON VIOLATION DROP ROW", "FAIL": " ON VIOLATION FAIL UPDATE"}
        block.append(f"CONSTRAINT {ident(name)} EXPECT ({condition}){violation.get(action, '')}")
    if block:
        parts.append("(" + ",\n  ".join(block) + ")")
    if kind != "TEMPORARY VIEW":
        if dataset.partition_cols:
            parts.append(f"PARTITIONED BY ({', '.join(map(ident, dataset.partition_cols))})")
        if dataset.cluster_by:
            parts.append(f"CLUSTER BY ({', '.join(map(ident, dataset.cluster_by))})")
    if dataset.comment is not None:
        parts.append("COMMENT '" + dataset.comment.replace("'", "''") + "'")
    if dataset.table_properties and kind != "TEMPORARY VIEW":
        props = ", ".join(
            f"{_literal(k)} = {_literal(v)}" for k, v in dataset.table_properties.items()
        )
        parts.append(f"TBLPROPERTIES ({props})")
    if query is not None:
        parts.append(f"AS {query}")
    return "\n".join(parts)


def cdc_sql(flow: CdcFlow) -> str:
    """``APPLY CHANGES INTO`` (or ``CREATE FLOW name AS AUTO CDC INTO``) of a CDC flow."""
    head = f"CREATE FLOW {ident(flow.name)} AS AUTO CDC INTO" if flow.name else "APPLY CHANGES INTO"
    parts = [f"{head} {flow.target}", f"FROM STREAM({flow.source})"]
    parts.append(f"KEYS ({', '.join(flow.keys)})")
    if flow.ignore_null_updates:
        parts.append("IGNORE NULL UPDATES")
    if flow.apply_as_deletes:
        parts.append(f"APPLY AS DELETE WHEN {flow.apply_as_deletes}")
    if flow.apply_as_truncates:
        parts.append(f"APPLY AS TRUNCATE WHEN {flow.apply_as_truncates}")
    parts.append(f"SEQUENCE BY {flow.sequence_by}")
    if flow.column_list and flow.except_column_list:
        raise PythonPlanError(
            f"{flow.path}, line {flow.line}: give column_list or except_column_list, not both."
        )
    if flow.column_list:
        parts.append(f"COLUMNS ({', '.join(flow.column_list)})")
    elif flow.except_column_list:
        parts.append(f"COLUMNS * EXCEPT ({', '.join(flow.except_column_list)})")
    parts.append(f"STORED AS SCD TYPE {flow.scd_type}")
    if flow.track_history_column_list:
        parts.append(f"TRACK HISTORY ON ({', '.join(flow.track_history_column_list)})")
    elif flow.track_history_except_column_list:
        listed = ", ".join(flow.track_history_except_column_list)
        parts.append(f"TRACK HISTORY ON * EXCEPT ({listed})")
    return "\n".join(parts)


def cdc_from_spec(spec: dict[str, Any]) -> CdcFlow:
    """A SQL source's CDC target, as the runner describes it to the child."""
    cdc = spec["cdc"]
    return CdcFlow(
        target=str(cdc.get("target") or ""),
        source=str(cdc["source"]),
        keys=list(cdc.get("keys") or []),
        sequence_by=str(cdc["sequence_by"]),
        path="",
        line=0,
        scd_type=int(cdc.get("scd_type") or 1),
        column_list=cdc.get("column_list"),
        except_column_list=cdc.get("except_column_list"),
    )


def cdc_columns_sql(flow: CdcFlow, source_sql: str) -> str:
    """A query with a CDC target's columns: the source's (COLUMNS applied), SCD 2's two more."""
    if flow.column_list:
        columns = ", ".join(flow.column_list)
    elif flow.except_column_list:
        columns = f"* EXCEPT ({', '.join(flow.except_column_list)})"
    else:
        columns = "*"
    if flow.scd_type == 2:
        seq = flow.sequence_by
        columns += f", {seq} AS __START_AT, {seq} AS __END_AT"
    return f"SELECT {columns} FROM ({source_sql}) AS __cdc_source"


def standalone(sql: str, graph: Graph) -> str:
    """``sql`` with pipeline datasets replaced by their definitions, ``STREAM(x)`` by ``x``.

    The warehouse can DESCRIBE the result before any dataset exists (schema lookups of
    DataFrames that read pipeline datasets).
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        tree = sqlglot.parse_one(sql, read="databricks")
    except (ParseError, TokenError) as exc:
        raise QueryUnreadable(f"A dataset query does not parse: {exc}") from exc
    for stream in list(tree.find_all(exp.Stream)):
        inner = stream.this  # STREAM(x) AS a parses as Stream(Subquery(Table x, alias a))
        table = inner if isinstance(inner, exp.Table) else inner.find(exp.Table)
        if table is None:
            raise PythonPlanError(f"STREAM(...) needs a table name: {sql[:200]}")
        alias = inner.args.get("alias") if isinstance(inner, exp.Subquery) else None
        if alias is not None:
            table.set("alias", alias)
        stream.replace(table)
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue
        if not table.db and table.name.lower() in ctes:
            continue
        key = graph.key(_dotted(table))
        if key is None:
            continue
        inner = sqlglot.parse_one(graph.schema_sql(key), read="databricks")
        alias = table.alias or table.name
        table.replace(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    return tree.sql(dialect="databricks")


def _dotted(table: exp.Table) -> str:
    return ".".join(p for p in (table.catalog, table.db, table.name) if p)
