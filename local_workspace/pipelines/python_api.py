"""The ``dlt`` / ``pyspark.pipelines`` module a Python pipeline source imports (child side).

Decorators register datasets; nothing runs at registration. Once every source file ran,
:meth:`PipelineGraph.evaluate_all` calls each dataset's function in dependency order found by
the reads themselves: a read of another dataset (``dlt.read``, ``spark.read.table``,
``spark.readStream.table`` through ``session.table_resolver``) evaluates that dataset first
(memoised; a cycle is an error), so file order does not matter. A read returns a DataFrame
over ``SELECT * FROM name`` (``STREAM(name)`` when streaming) whose schema lookups use the
dataset's definition (python_sql.standalone), since the table does not exist yet.

The graph lives in one object per planning run, bound into a fresh module object: no module
state. What the functions return becomes pipeline SQL (python_sql.py) the runner plans with
the SQL sources.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_workspace.pipelines import python_sql
from local_workspace.pipelines.python_sql import CdcFlow, Evaluated, PyDataset, PythonPlanError

_OWN_DIR = str(Path(__file__).resolve().parent)
_DESCRIBE = "DESCRIBE QUERY "

__all__ = ["PipelineGraph", "PythonPlanError"]


def _caller() -> tuple[str, int]:
    """(file, line) of the user code calling into this module."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_OWN_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "<pipeline>", 0
    return frame.f_code.co_filename, frame.f_lineno


def _str_list(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    try:
        return [python_sql.column_sql(v, what) for v in value]
    except TypeError as exc:
        raise PythonPlanError(f"{what} must be a list of column names: {exc}") from exc


@dataclass
class PipelineGraph:
    """The datasets and flows of one pipeline, as its Python sources define them."""

    session: Any
    catalog: str
    schema: str
    # SQL datasets of the pipeline: lower name -> {"kind", "query"} or a CDC target's spec.
    sql_datasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasets: dict[str, PyDataset] = field(default_factory=dict)
    _done: dict[str, Evaluated] = field(default_factory=dict)
    _schemas: dict[str, str] = field(default_factory=dict)
    _active: list[str] = field(default_factory=list)
    _flow_targets: list[tuple[str, Any, str, int]] = field(default_factory=list)
    _cdc_flows: list[CdcFlow] = field(default_factory=list)

    # -- names -------------------------------------------------------------------------------

    def key(self, name: str) -> str | None:
        """The dataset a table name means (``x``, ``LIVE.x``, ``catalog.schema.x``), or None."""
        parts = [p.strip().strip("`").lower() for p in str(name).split(".")]
        if len(parts) == 1:
            found = parts[0]
        elif len(parts) == 2 and parts[0] in ("live", self.schema):
            found = parts[1]
        elif len(parts) == 3 and parts[0] == self.catalog and parts[1] == self.schema:
            found = parts[2]
        else:
            return None
        return found if found in self.datasets or found in self.sql_datasets else None

    def _add(self, dataset: PyDataset) -> None:
        key = dataset.name.lower()
        other = self.datasets.get(key)
        if other is not None or key in self.sql_datasets:
            where = f"{other.path}, line {other.line}" if other else "a SQL source"
            raise PythonPlanError(
                f"{dataset.path}, line {dataset.line}: dataset '{dataset.name}' is defined "
                f"twice (first in {where})."
            )
        self.datasets[key] = dataset

    # -- decorators --------------------------------------------------------------------------

    def dataset_decorator(self, kind: str, api: str) -> Callable[..., Any]:
        """``@dlt.table`` and its siblings: usable bare or with keyword arguments."""

        def decorator(query_function: Any = None, **options: Any) -> Any:
            unknown = set(options) - python_sql.DATASET_OPTIONS
            if unknown:
                raise TypeError(f"{api}() got unexpected keyword argument(s) {sorted(unknown)}")

            def register(func: Any) -> Any:
                if not callable(func):
                    raise TypeError(
                        f"[DECORATOR_ARGUMENT_NOT_CALLABLE] The function passed to {api} must be "
                        f"callable: use @{api} or @{api}(name='{api}_a')."
                    )
                code = getattr(func, "__code__", None)
                path = code.co_filename if code else _caller()[0]
                line = code.co_firstlineno if code else _caller()[1]
                name = options.get("name") or getattr(func, "__name__", "dataset")
                dataset = python_sql.dataset_of(name, kind, func, path, line, options)
                dataset.expectations.extend(getattr(func, "__dlt_expectations__", []))
                self._add(dataset)
                func.__dlt_dataset__ = dataset  # expectations stacked above the decorator
                return func

            if query_function is not None:
                return register(query_function)
            return register

        return decorator

    def expectation(self, action: str, many: bool) -> Callable[..., Any]:
        """``@dlt.expect(name, condition)`` / ``@dlt.expect_all({name: condition})``."""

        def decorator(*args: Any) -> Callable[[Any], Any]:
            if many:
                if len(args) != 1 or not isinstance(args[0], dict):
                    raise TypeError("expect_all* takes one dict of {name: SQL condition}.")
                pairs = [(str(k), str(v)) for k, v in args[0].items()]
            else:
                if len(args) != 2:
                    raise TypeError("expect* takes a name and a SQL condition.")
                pairs = [(str(args[0]), str(args[1]))]

            def attach(func: Any) -> Any:
                found = getattr(func, "__dlt_dataset__", None)
                if found is not None:
                    found.expectations.extend((n, c, action) for n, c in pairs)
                else:
                    listed = list(getattr(func, "__dlt_expectations__", []))
                    listed.extend((n, c, action) for n, c in pairs)
                    func.__dlt_expectations__ = listed
                return func

            return attach

        return decorator

    def create_streaming_table(self, name: str, **options: Any) -> None:
        """``dlt.create_streaming_table(name, ...)``: a target for CDC or append flows."""
        path, line = _caller()
        unknown = set(options) - python_sql.STREAMING_TABLE_OPTIONS
        if unknown:
            raise TypeError(
                f"create_streaming_table() got unexpected keyword argument(s) {sorted(unknown)}"
            )
        dataset = python_sql.dataset_of(name, "streaming_table", None, path, line, options)
        for action, rules in (
            ("WARN", options.get("expect_all")),
            ("DROP", options.get("expect_all_or_drop")),
            ("FAIL", options.get("expect_all_or_fail")),
        ):
            dataset.expectations.extend((str(k), str(v), action) for k, v in (rules or {}).items())
        self._add(dataset)

    def apply_changes(
        self, target: str, source: str, keys: Any, sequence_by: Any, **rest: Any
    ) -> None:
        """``dlt.apply_changes`` / ``dp.create_auto_cdc_flow``: an AUTO CDC flow."""
        path, line = _caller()
        unsupported = sorted(k for k in rest if k not in python_sql.CDC_OPTIONS)
        if unsupported:
            raise TypeError(
                f"create_auto_cdc_flow() got unexpected keyword argument(s) {unsupported}"
            )
        if rest.get("once"):
            raise PythonPlanError(
                f"{path}, line {line}: once=True AUTO CDC flows are not supported by the local "
                "pipeline runner; run the pipeline on Databricks or drop once=True."
            )
        scd = str(rest.get("stored_as_scd_type") or 1).strip()
        if scd not in ("1", "2"):
            raise PythonPlanError(f"{path}, line {line}: stored_as_scd_type must be 1 or 2.")
        flow = CdcFlow(
            target=str(target),
            source=str(source),
            keys=_str_list(keys, "keys") or [],
            sequence_by=python_sql.column_sql(sequence_by, "sequence_by"),
            path=path,
            line=line,
            scd_type=int(scd),
            ignore_null_updates=bool(rest.get("ignore_null_updates")),
            apply_as_deletes=python_sql.optional_sql(rest.get("apply_as_deletes")),
            apply_as_truncates=python_sql.optional_sql(rest.get("apply_as_truncates")),
            column_list=_str_list(rest.get("column_list"), "column_list"),
            except_column_list=_str_list(rest.get("except_column_list"), "except_column_list"),
            track_history_column_list=_str_list(
                rest.get("track_history_column_list"), "track_history_column_list"
            ),
            track_history_except_column_list=_str_list(
                rest.get("track_history_except_column_list"), "track_history_except_column_list"
            ),
            name=rest.get("name") or rest.get("flow_name"),
        )
        self._cdc_flows.append(flow)  # its target may be declared later, or in SQL

    def append_flow(self, target: str, name: str | None = None, **rest: Any) -> Callable[..., Any]:
        """``@dlt.append_flow(target=...)``: its query's rows are appended to the target."""
        if rest.get("once"):
            raise PythonPlanError("once=True append flows are not supported by the local runner.")

        def register(func: Any) -> Any:
            code = getattr(func, "__code__", None)
            line = code.co_firstlineno if code else 0
            self._flow_targets.append((str(target), func, code.co_filename if code else "", line))
            return func

        return register

    # -- reads -------------------------------------------------------------------------------

    def attach(self) -> None:
        """Make the session read pipeline datasets through this graph.

        Table reads consult :meth:`resolve`; every schema lookup (``DESCRIBE QUERY``, of any
        DataFrame derived from a dataset read) reads datasets through their definitions,
        since none of them exists before the update runs.
        """
        session = self.session
        run = session._run

        def describe_through_definitions(statement: str, args: Any = None) -> Any:
            if statement.startswith(_DESCRIBE) and self._mentions(statement):
                query = statement[len(_DESCRIBE) :]
                # What sqlglot cannot read goes as is: the warehouse answers for it.
                with contextlib.suppress(python_sql.QueryUnreadable):
                    statement = _DESCRIBE + python_sql.standalone(query, self)
            return run(statement, args)

        session._run = describe_through_definitions
        session.table_resolver = self.resolve

    def read(self, name: str, streaming: bool) -> Any:
        """``dlt.read`` / ``dlt.read_stream``: only datasets of the pipeline."""
        found = self.resolve(name, streaming)
        if found is None or self.key(name) is None:
            raise PythonPlanError(
                f"Failed to read dataset '{name}'. Dataset is not defined in the pipeline."
            )
        return found

    def resolve(self, name: str, streaming: bool) -> Any:
        """``session.table_resolver``: a pipeline dataset's DataFrame, None for other tables."""
        from local_workspace.spark import DataFrame

        key = self.key(name)
        if key is None:
            if not streaming:
                return None
            # A streaming read of a table: STREAM() marks it incremental for the runner.
            return DataFrame.from_sql(
                self.session,
                sql=f"SELECT * FROM STREAM({name})",
                schema_sql=f"SELECT * FROM {name}",
                streaming=True,
            )
        schema_sql = self.schema_sql(key)
        source = f"STREAM({key})" if streaming else key
        return DataFrame.from_sql(
            self.session, sql=f"SELECT * FROM {source}", schema_sql=schema_sql, streaming=streaming
        )

    def _mentions(self, sql: str) -> bool:
        """Whether ``sql`` may read a pipeline dataset (or a stream): worth rewriting."""
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql.lower()))
        return "stream" in words or not words.isdisjoint(self.datasets.keys() | self.sql_datasets)

    # -- evaluation --------------------------------------------------------------------------

    def evaluate(self, key: str) -> Evaluated:
        """Run a dataset's function once (its reads first); its SQL and streaming-ness."""
        if key in self._done:
            return self._done[key]
        dataset = self.datasets[key]
        if key in self._active:
            cycle = " -> ".join([*self._active[self._active.index(key) :], key])
            raise PythonPlanError(
                f"The datasets form a cycle: {cycle}. A dataset cannot read itself through others."
            )
        self._active.append(key)
        try:
            queries = [self._call(dataset, dataset.func)] if dataset.func else []
            for func in dataset.appended:
                queries.append(self._call(dataset, func))
        finally:
            self._active.pop()
        done = python_sql.combine(dataset, queries)
        self._done[key] = done
        return done

    def _call(self, dataset: PyDataset, func: Any) -> Evaluated:
        from local_workspace.spark import DataFrame

        result = func()
        if not isinstance(result, DataFrame):
            fname = getattr(func, "__name__", "?")
            raise PythonPlanError(
                f"{dataset.path}, line {dataset.line}: the query function '{fname}' of dataset "
                f"'{dataset.name}' returned {type(result).__name__}, not a DataFrame. A dataset's "
                "function must return a Spark DataFrame (spark.read..., spark.readStream..., "
                "dlt.read...) and no action (collect, count, toPandas, saveAsTable)."
            )
        return Evaluated(str(result.sql_text), bool(result.isStreaming))

    def cdc_schema_sql(self, flow: CdcFlow) -> str:
        """A query with the columns of a CDC target (source columns, SCD 2 columns)."""
        return python_sql.cdc_columns_sql(
            flow, python_sql.standalone(f"SELECT * FROM {flow.source}", self)
        )

    def schema_sql(self, key: str) -> str:
        """A query the warehouse can DESCRIBE for a dataset that may not exist yet."""
        if key in self._schemas:
            return self._schemas[key]
        if key in self.datasets:
            dataset = self.datasets[key]
            if dataset.cdc is not None and dataset.func is None:
                sql = self.cdc_schema_sql(dataset.cdc)
            else:
                sql = python_sql.standalone(self.evaluate(key).sql, self)
        else:
            spec = self.sql_datasets[key]
            if key in self._active:
                raise PythonPlanError(
                    f"The datasets form a cycle: {' -> '.join([*self._active, key])}."
                )
            self._active.append(key)
            try:
                if spec.get("query"):
                    sql = python_sql.standalone(str(spec["query"]), self)
                else:
                    sql = self.cdc_schema_sql(python_sql.cdc_from_spec(spec))
            finally:
                self._active.pop()
        self._schemas[key] = sql
        return sql

    def _cdc_target(self, flow: CdcFlow) -> list[dict[str, Any]]:
        """Attach a CDC flow to its target: [] (a Python one), or the flow's own statement."""
        key = self.key(flow.target)
        where = f"{flow.path}, line {flow.line}"
        target = self.datasets.get(key or "")
        if target is not None and target.kind == "streaming_table" and target.func is None:
            if target.cdc is not None or target.appended:
                raise PythonPlanError(f"{where}: a second flow into '{flow.target}'.")
            target.cdc = flow
            return []
        spec = self.sql_datasets.get(key or "") or {}
        if spec.get("kind") == "STREAMING_TABLE" and not spec.get("query") and not spec.get("cdc"):
            return [{"path": flow.path, "line": flow.line, "sql": python_sql.cdc_sql(flow)}]
        raise PythonPlanError(
            f"{where}: the target '{flow.target}' of the AUTO CDC flow must be declared with "
            f"dlt.create_streaming_table('{flow.target}') (or CREATE OR REFRESH STREAMING TABLE "
            f"{flow.target}; in SQL)."
        )

    def evaluate_all(self) -> list[dict[str, Any]]:
        """Every dataset and flow as pipeline SQL: [{path, line, sql}] in definition order."""
        for target, func, path, line in self._flow_targets:
            key = self.key(target)
            dataset = self.datasets.get(key or "")
            if dataset is None or dataset.kind not in ("streaming_table", "table"):
                raise PythonPlanError(
                    f"{path}, line {line}: the target '{target}' of the append flow must be a "
                    "streaming table of this pipeline's Python sources "
                    "(dlt.create_streaming_table or @dlt.table)."
                )
            dataset.appended.append(func)
        out: list[dict[str, Any]] = []
        for flow in self._cdc_flows:
            out.extend(self._cdc_target(flow))
        for key, dataset in self.datasets.items():
            if dataset.func is not None or dataset.appended:
                done = self.evaluate(key)
                sql = python_sql.create_sql(dataset, done.sql, done.streaming)
            else:
                sql = python_sql.create_sql(dataset, None, True)
            out.append({"path": dataset.path, "line": dataset.line, "sql": sql})
            if dataset.cdc is not None:
                flow = dataset.cdc
                out.append({"path": flow.path, "line": flow.line, "sql": python_sql.cdc_sql(flow)})
        return out
