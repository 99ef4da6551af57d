"""Dataset queries of a pipeline: name resolution, incremental sources, expectations, writes.

Names in a dataset query resolve as on Databricks: ``LIVE.x``, a bare ``x`` or the full name
of a dataset of the pipeline -> that dataset (published as ``catalog.schema.x``); anything
else is a table resolved in the pipeline's catalog and schema. ``STREAM(x)`` marks an
incremental source.

Streaming tables read only source rows they have not seen. Row identity is a 64-bit hash of
the whole row plus its occurrence number among identical rows (``row_number() OVER
(PARTITION BY hash)``), so duplicates count as distinct rows and no column of the source is
needed as a key. The consumed identities are kept per (pipeline, flow, source) in a DuckDB
file of their own (``<data_dir>/pipelines/progress.duckdb``, attached as ``__dlt_progress``),
written right after the target commits: DuckDB lets one transaction write only one attached
database. A full refresh recomputes from all source rows and replaces the flow's identities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from local_workspace.catalog.names import quote
from local_workspace.pipelines import file_sources
from local_workspace.pipelines.sqlfile import VIEW, Dataset, PipelineSqlError
from local_workspace.sql import sandbox
from local_workspace.sql.errors import SqlError

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

PROGRESS_DB = "__dlt_progress"
# Table functions that read cloud storage or message buses: refused (no cloud locally).
CLOUD_READERS = frozenset(
    {"read_files", "cloud_files", "read_kafka", "read_kinesis", "read_pubsub", "read_pulsar"}
)
_PROGRESS_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {PROGRESS_DB}.main.seen ("
    "pipeline_id VARCHAR, flow VARCHAR, source VARCHAR, h UBIGINT, n BIGINT)"
)


class FlowFailed(Exception):
    """A flow that failed for a reason the user can fix (message says which and why)."""

    def __init__(self, message: str, class_name: str = "PipelineFlowError") -> None:
        super().__init__(message)
        self.class_name = class_name


@dataclass
class Resolved:
    """A dataset query parsed and bound to internal names."""

    tree: exp.Expression
    datasets: list[str] = field(default_factory=list)  # dataset names it reads
    tables: list[str] = field(default_factory=list)  # external public names it reads
    streamed: list[tuple[exp.Table, str]] = field(default_factory=list)  # (node, public name)
    bound: list[tuple[exp.Table, str]] = field(default_factory=list)  # every table read
    files: list[tuple[exp.Table, bool]] = field(default_factory=list)  # (volume read, streamed)


@dataclass
class FlowResult:
    """What one flow did."""

    output_rows: int = 0
    dropped: int = 0
    expectations: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)  # public names read (datasets, tables)


def attach_progress(catalog: Catalog, path: str) -> None:
    """Attach the progress database to the shared DuckDB instance (once)."""
    cursor = catalog.engine.cursor()
    try:
        found = cursor.execute(
            "SELECT 1 FROM duckdb_databases() WHERE database_name = ?", [PROGRESS_DB]
        ).fetchone()
        if found is None:
            literal = path.replace("'", "''")
            cursor.execute(f"ATTACH '{literal}' AS {PROGRESS_DB}")
        cursor.execute(_PROGRESS_SCHEMA)
    finally:
        cursor.close()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class Flows:
    """Runs the flows of one update on one cursor (temp tables live for the update)."""

    def __init__(
        self,
        catalog: Catalog,
        cursor: duckdb.DuckDBPyConnection,
        pipeline_id: str,
        target_catalog: str,
        target_schema: str,
        datasets: dict[str, Dataset],
    ) -> None:
        self.catalog = catalog
        self.cursor = cursor
        self.pipeline_id = pipeline_id
        self.target_catalog = target_catalog.lower()
        self.target_schema = target_schema.lower()
        self.datasets = datasets  # lower-cased name -> dataset
        self._temp = 0

    # -- names ---------------------------------------------------------------------------

    def public_name(self, dataset: str) -> str:
        """``catalog.schema.name`` of a dataset."""
        return f"{self.target_catalog}.{self.target_schema}.{dataset.lower()}"

    def internal_name(self, dataset: Dataset) -> str:
        """The DuckDB name a dataset is written to (views: an update-local temp table)."""
        if dataset.kind == VIEW:
            return f"temp.main.{quote('__dlt_view_' + dataset.name.lower())}"
        return (
            f"{quote(self.catalog.engine.to_internal(self.target_catalog))}."
            f"{quote(self.target_schema)}.{quote(dataset.name.lower())}"
        )

    def _dataset_of(self, table: exp.Table) -> str | None:
        name = table.name.lower()
        if name not in self.datasets:
            return None
        db, catalog = table.db.lower(), table.catalog.lower()
        if not catalog and db in ("", "live"):
            return name
        if (catalog or self.target_catalog) == self.target_catalog and db == self.target_schema:
            return name
        return None

    def resolve(self, dataset: Dataset) -> Resolved:
        """Parse a dataset's query and bind every table reference (in place)."""
        assert dataset.query is not None
        tree = parse_query(dataset)
        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        streamed_nodes: set[int] = set()
        for stream in list(tree.find_all(exp.Stream)):
            inner = stream.this
            alias = inner.args.get("alias") if isinstance(inner, exp.Subquery) else None
            table = inner if isinstance(inner, exp.Table) else inner.find(exp.Table)
            if table is None:
                raise FlowFailed(f"{dataset.statement.where}: STREAM(...) needs a table name.")
            if alias is not None:
                table.set("alias", alias)
            stream.replace(table)
            streamed_nodes.add(id(table))
        out = Resolved(tree=tree)
        for table in list(tree.find_all(exp.Table)):
            if file_sources.is_volume_read(table):
                out.files.append((table, id(table) in streamed_nodes))
                continue
            if not isinstance(table.this, exp.Identifier):
                name = table.this.sql(dialect="databricks").split("(")[0].strip().lower()
                if name in CLOUD_READERS:
                    raise FlowFailed(
                        f"{dataset.statement.where}: {name}(...) reads cloud storage, which the "
                        "local workspace does not have: put the files in a volume and read "
                        "them with read_files('/Volumes/...'), or load the rows into a table.",
                        "UnsupportedSourceError",
                    )
                continue
            if not table.db and not table.catalog and table.name.lower() in ctes:
                continue
            public = self._bind(table, out)
            if id(table) in streamed_nodes:
                out.streamed.append((table, public))
        _sandboxed(tree, dataset)
        return out

    def _bind(self, table: exp.Table, out: Resolved) -> str:
        if table.args.get("alias") is None:
            # Column qualifiers like ``bronze.id`` keep working once the name is rewritten.
            table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
        name = self._dataset_of(table)
        if name is not None:
            if name not in out.datasets:
                out.datasets.append(name)
            if self.datasets[name].kind == VIEW:
                parts = ("temp", "main", "__dlt_view_" + name)
            else:
                internal = self.catalog.engine.to_internal(self.target_catalog)
                parts = (internal, self.target_schema, name)
            for key, part in zip(("catalog", "db", "this"), parts, strict=True):
                table.set(key, exp.to_identifier(part, quoted=True))
            public = self.public_name(name)
            out.bound.append((table, public))
            return public
        catalog = (table.catalog or self.target_catalog).lower()
        schema = (table.db or self.target_schema).lower()
        public = f"{catalog}.{schema}.{table.name.lower()}"
        if not self.catalog.tables.has(catalog, schema, table.name):
            raise FlowFailed(
                f"Table or view '{public}' does not exist: it is neither a dataset of this "
                "pipeline nor a table in Unity Catalog. Create it first or fix the name.",
                "TableNotFoundError",
            )
        table.set(
            "catalog", exp.to_identifier(self.catalog.engine.to_internal(catalog), quoted=True)
        )
        table.set("db", exp.to_identifier(schema, quoted=True))
        if public not in out.tables:
            out.tables.append(public)
        out.bound.append((table, public))
        return public

    # -- incremental sources ---------------------------------------------------------------

    def _temp_name(self, prefix: str) -> str:
        self._temp += 1
        return f"__dlt_{prefix}_{self._temp}"

    def new_rows(
        self, flow: str, source_sql: str, source: str, full_refresh: bool
    ) -> tuple[str, str]:
        """(temp table of unseen rows, temp table of their identities) of one source."""
        all_rows = self._temp_name("all")
        new = self._temp_name("new")
        self.cursor.execute(
            f"CREATE TEMP TABLE {all_rows} AS SELECT __dlt_r.*, hash(__dlt_r) AS __dlt_h, "
            "row_number() OVER (PARTITION BY hash(__dlt_r)) AS __dlt_n "
            f"FROM {source_sql} AS __dlt_r"
        )
        if not full_refresh:
            self.cursor.execute(
                f"DELETE FROM {all_rows} WHERE (__dlt_h, __dlt_n) IN (SELECT (h, n) FROM "
                f"{PROGRESS_DB}.main.seen WHERE pipeline_id = {_literal(self.pipeline_id)} "
                f"AND flow = {_literal(flow)} AND source = {_literal(source)})"
            )
        self.cursor.execute(
            f"CREATE TEMP TABLE {new} AS SELECT * EXCLUDE (__dlt_h, __dlt_n) FROM {all_rows}"
        )
        return new, all_rows

    def remember(self, flow: str, consumed: list[tuple[str, str]], full_refresh: bool) -> None:
        """Record the identities a committed flow consumed: (source, identities table)."""
        where = f"pipeline_id = {_literal(self.pipeline_id)} AND flow = {_literal(flow)}"
        self.cursor.execute("BEGIN")
        try:
            if full_refresh:
                self.cursor.execute(f"DELETE FROM {PROGRESS_DB}.main.seen WHERE {where}")
            for source, table in consumed:
                self.cursor.execute(
                    f"INSERT INTO {PROGRESS_DB}.main.seen SELECT {_literal(self.pipeline_id)}, "
                    f"{_literal(flow)}, {_literal(source)}, __dlt_h, __dlt_n FROM {table}"
                )
            self.cursor.execute("COMMIT")
        except duckdb.Error:
            self.cursor.execute("ROLLBACK")
            raise

    def forget(self, flow: str | None = None) -> None:
        """Drop the recorded progress of one flow (or of the whole pipeline)."""
        where = f"pipeline_id = {_literal(self.pipeline_id)}"
        if flow is not None:
            where += f" AND flow = {_literal(flow)}"
        self.cursor.execute(f"DELETE FROM {PROGRESS_DB}.main.seen WHERE {where}")

    # -- one dataset ---------------------------------------------------------------------

    def run_query_flow(self, dataset: Dataset, streaming: bool, full_refresh: bool) -> FlowResult:
        """Compute a dataset, check expectations, write it; a FAIL expectation writes nothing."""
        resolved = self.resolve(dataset)
        flow = dataset.name.lower()
        consumed: list[tuple[str, str]] = []
        # No STREAM(...) at all: every source of a streaming table is read incrementally.
        marked = bool(resolved.streamed) or any(s for _, s in resolved.files)
        if streaming:
            for table, public in resolved.streamed if marked else resolved.bound:
                source_sql = _table_sql(table)
                new, identities = self.new_rows(flow, source_sql, public, full_refresh)
                consumed.append((public, identities))
                table.set("this", exp.to_identifier(new))
                table.set("db", exp.to_identifier("main"))
                table.set("catalog", exp.to_identifier("temp"))
        try:
            for node, streamed in resolved.files if streaming else []:
                if streamed or not marked:
                    consumed.append(
                        file_sources.stream_rows(
                            node,
                            self.catalog,
                            self.cursor,
                            lambda sql, source: self.new_rows(flow, sql, source, full_refresh),
                        )
                    )
            file_sources.rewrite(resolved.tree, self.catalog, self.cursor)  # batch file reads
        except file_sources.FileReadFailed as exc:
            raise FlowFailed(f"{dataset.statement.where}: {exc}", "FileReadError") from exc
        query = resolved.tree.sql(dialect="duckdb")
        result = self._checked(dataset, query)
        result.sources = [self.public_name(d) for d in resolved.datasets] + resolved.tables
        keep = _keep_sql(dataset, "temp.main.__dlt_q")
        target = self.internal_name(dataset)
        if dataset.kind == VIEW:
            self.cursor.execute(f"CREATE OR REPLACE TEMP TABLE {_last(target)} AS {keep}")
            return result
        exists = self.catalog.tables.has(self.target_catalog, self.target_schema, dataset.name)
        self.cursor.execute("BEGIN")
        try:
            if streaming and exists and not full_refresh:
                self.cursor.execute(f"INSERT INTO {target} BY NAME {keep}")
            else:
                self.cursor.execute(f"CREATE OR REPLACE TABLE {target} AS {keep}")
            self.cursor.execute("COMMIT")
        except duckdb.Error as exc:
            self.cursor.execute("ROLLBACK")
            raise FlowFailed(self.catalog.engine.public_text(str(exc)), type(exc).__name__) from exc
        if streaming:
            self.remember(flow, consumed, full_refresh)
        return result

    def _checked(self, dataset: Dataset, query: str) -> FlowResult:
        """Materialise the query in ``temp.__dlt_q`` and count its expectations."""
        try:
            self.cursor.execute(f"CREATE OR REPLACE TEMP TABLE __dlt_q AS {query}")
        except duckdb.InterruptException:
            raise
        except duckdb.Error as exc:
            raise FlowFailed(
                f"{dataset.statement.where}: {self.catalog.engine.public_text(str(exc))}",
                type(exc).__name__,
            ) from exc
        conditions = [_condition(dataset, e.condition) for e in dataset.expectations]
        counts = ", ".join(f"count(*) FILTER (WHERE coalesce(({c}), false))" for c in conditions)
        row = self.cursor.execute(
            f"SELECT count(*){', ' + counts if counts else ''} FROM temp.main.__dlt_q"
        ).fetchone()
        assert row is not None
        total = int(row[0])
        result = FlowResult()
        failing: list[str] = []
        for expectation, passed in zip(dataset.expectations, row[1:], strict=True):
            failed = total - int(passed)
            result.expectations.append(
                {
                    "name": expectation.name,
                    "dataset": dataset.name,
                    "passed_records": int(passed),
                    "failed_records": failed,
                }
            )
            if expectation.action == "FAIL" and failed:
                failing.append(expectation.name)
        if failing:
            raise FlowFailed(
                f"[EXPECTATION_VIOLATION] Flow '{dataset.name}' failed to meet the expectation"
                f"{'s' if len(failing) > 1 else ''} {', '.join(repr(n) for n in failing)} "
                f"(ON VIOLATION FAIL UPDATE). The target was left unchanged; fix the input "
                "rows or the condition, then start a new update.",
                "EXPECTATION_VIOLATION",
            )
        drops = [
            c for c, e in zip(conditions, dataset.expectations, strict=True) if e.action == "DROP"
        ]
        if drops:
            where = " AND ".join(f"coalesce(({c}), false)" for c in drops)
            kept = self.cursor.execute(
                f"SELECT count(*) FROM temp.main.__dlt_q WHERE {where}"
            ).fetchone()
            result.dropped = total - int(kept[0] if kept else 0)
        result.output_rows = total - result.dropped
        return result


def parse_query(dataset: Dataset) -> exp.Expression:
    """A dataset's query as a sqlglot tree; a parse error names the file and line."""
    assert dataset.query is not None
    try:
        trees = [t for t in sqlglot.parse(dataset.query, read="databricks") if t is not None]
    except (ParseError, TokenError) as exc:
        line = dataset.statement.line + dataset.statement.text.count(
            "\n", 0, max(0, dataset.statement.text.find(dataset.query))
        )
        errors = getattr(exc, "errors", None) or [{}]
        line += max(0, int(errors[0].get("line") or 1) - 1)
        detail = str(errors[0].get("description") or exc).split("\n")[0]
        raise PipelineSqlError(
            f"{dataset.statement.path}, line {line}: the query of '{dataset.name}' does not "
            f"parse: {detail}."
        ) from exc
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        raise PipelineSqlError(
            f"{dataset.statement.where}: the query of '{dataset.name}' must be one SELECT."
        )
    return cast(exp.Expression, trees[0])


def _sandboxed(tree: exp.Expr, dataset: Dataset) -> None:
    """The SQL warehouse's sandbox rules (local_workspace/sql/sandbox.py) for pipeline SQL."""
    try:
        sandbox.check_query(tree)
    except SqlError as exc:
        raise FlowFailed(
            f"{dataset.statement.where}: {exc.full_message()}", exc.error_class
        ) from exc


def _condition(dataset: Dataset, condition: str) -> str:
    try:
        tree = sqlglot.parse_one(condition, read="databricks")
    except (ParseError, TokenError) as exc:
        raise PipelineSqlError(
            f"{dataset.statement.where}: the expectation condition {condition!r} does not parse."
        ) from exc
    _sandboxed(tree, dataset)
    return tree.sql(dialect="duckdb")


def _keep_sql(dataset: Dataset, source: str) -> str:
    drops = [e for e in dataset.expectations if e.action == "DROP"]
    if not drops:
        return f"SELECT * FROM {source}"
    where = " AND ".join(f"coalesce(({_condition(dataset, e.condition)}), false)" for e in drops)
    return f"SELECT * FROM {source} WHERE {where}"


def _table_sql(table: exp.Table) -> str:
    bare = table.copy()
    bare.set("alias", None)
    return bare.sql(dialect="duckdb")


def _last(name: str) -> str:
    """The table part of ``temp.main."x"`` (CREATE TEMP TABLE takes a bare name)."""
    return name.rsplit(".", 1)[-1]
