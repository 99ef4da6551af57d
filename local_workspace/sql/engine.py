"""Run one Databricks SQL statement on the local workspace: dispatch, DuckDB, results.

Statements DuckDB lacks go to :class:`Commands`; the rest are translated by sqlglot and run
in DuckDB on a cursor of the Catalog's shared instance, then DDL is reported to the Catalog
(``note_created``/``note_dropped``) so Unity Catalog follows.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import duckdb
from sqlglot import exp

from local_workspace.lineage import Entity, LineageStore
from local_workspace.sql import (
    constraints,
    copy_into,
    errors,
    file_reads,
    governance,
    info_schema,
    merge_star,
    sandbox,
    table_log,
    uc_meta,
)
from local_workspace.sql.commands import IGNORED, Commands, Output
from local_workspace.sql.lineage import Flow, flow_of
from local_workspace.sql.sharing import SharingSql
from local_workspace.sql.translate import Param, Scope, Translated, parse, translate, value_sql
from local_workspace.sql.types import column_info, format_value
from local_workspace.sql.volumes import VolumeStatements

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

log = logging.getLogger("local_workspace.sql")

# Databricks caps INLINE results at 25 MiB.
INLINE_MAX_BYTES = 25 * 1024 * 1024
FETCH_BATCH = 10_000
# DuckDB's default names for common aggregates -> the names Databricks gives them.
COLUMN_NAMES = {"count_star()": "count(1)"}
DML_COLUMNS = {
    exp.Insert: ("num_affected_rows", "num_inserted_rows"),
    exp.Update: ("num_affected_rows",),
    exp.Delete: ("num_affected_rows",),
    exp.Merge: ("num_affected_rows",),
}


@dataclass
class Request:
    """What the Statement Execution API hands the engine."""

    statement: str
    scope: Scope = field(default_factory=Scope)
    params: list[Param] = field(default_factory=list)
    row_limit: int | None = None
    byte_limit: int | None = None
    # Who runs it, for lineage: a QUERY by default, a JOB for job tasks (a label only).
    entity: Entity | None = None


@dataclass
class ResultSet:
    """A finished statement's result: ColumnInfo dicts and rows of strings."""

    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    truncated: bool = False


def prepare_cursor(cursor: duckdb.DuckDBPyConnection, time_zone: str = "UTC") -> None:
    """The session time zone of a cursor (the one setting the locked engine lets change;
    ANSI division is set for every cursor by ``catalog.engine.open_sandboxed``)."""
    cursor.execute(f"SET TimeZone = {value_sql(time_zone)}")


class Engine:
    """Executes statements against the Catalog's DuckDB instance."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.commands = Commands(catalog)
        self.volumes = VolumeStatements(catalog)
        self.lineage: LineageStore | None = None  # set by the SQL API; None: not recorded
        self.sharing: SharingSql | None = None  # set by the SQL API: shares, recipients...

    def execute(self, request: Request, cursor: duckdb.DuckDBPyConnection) -> ResultSet:
        """Run ``request`` on ``cursor`` (interruptible by ``cursor.interrupt()``).

        Every statement passes the sandbox first: DuckDB-only statements and functions never
        reach the engine."""
        if (listed := copy_into.list_command(request.statement, self.catalog)) is not None:
            return self._small(listed, request)
        shared = self.sharing.answer(request.statement, request.scope) if self.sharing else None
        if shared is not None:
            return self._small(shared, request)
        sandbox.check_text(request.statement)
        if (described := self.volumes.describe(request.statement, request.scope)) is not None:
            return self._small(described, request)  # DESCRIBE VOLUME: sqlglot cannot parse it
        run = lambda sql: self.execute(replace(request, statement=sql, row_limit=0), cursor)  # noqa: E731
        if (
            meta := uc_meta.answer(request.statement, request.scope, self.catalog, run)
        ) is not None:
            return self._small(meta, request)
        statement, policies = governance.before_parse(request.statement)
        statement, evolve = merge_star.take_evolution(statement)
        try:
            tree = parse(statement)
        except errors.SqlError as exc:
            raise sandbox.with_hint(exc, request.statement) from exc
        sandbox.check(tree, request.scope.catalog, request.scope.schema)
        prepare_cursor(cursor, request.scope.time_zone)
        output = self._native(tree, request, cursor)
        if output is not None:
            return self._small(output, request)
        merge_star.expand(tree, run, evolve)  # `*` of MERGE by name, before lineage reads it
        file_reads.rewrite(tree, self.catalog, cursor, request.params)  # volume files only
        flow = self._flow(tree, request)  # before translation rewrites the names
        _fix_merge(tree)
        # PRIMARY/FOREIGN KEY go to Unity Catalog: informational, never enforced by DuckDB.
        declared = constraints.take(tree, request.scope, self.catalog)
        write = table_log.before(tree, request.scope, self.catalog)
        info_schema.rewrite(tree, request.scope, self.catalog)
        governance.rewrite(tree, request.scope, self.catalog, cursor)
        translated = translate(tree, request.scope, self.catalog.engine, request.params)
        before = self._existing(translated)
        self._run(cursor, translated, request)
        self._follow_ddl(translated, before)
        governance.after(tree, policies, request.scope, self.catalog)
        if declared is not None:
            declared.store()
        if flow is not None and self.lineage is not None:
            self.lineage.record(flow.sources, flow.targets, request.entity, flow.columns)
        result = self._collect(cursor, translated, request)
        table_log.after(write, self.catalog, result.rows)
        return result

    def _flow(self, tree: exp.Expression, request: Request) -> Flow | None:
        """The statement's lineage; never fails the statement (lineage is a side channel)."""
        if self.lineage is None:
            return None
        try:
            return flow_of(tree, request.scope, self._columns_of)
        except Exception:  # boundary: a lineage bug must not fail the user's statement
            log.exception("could not read lineage of %.200s", request.statement)
            return None

    def _columns_of(self, full_name: str) -> list[str] | None:
        """Column names of a table (to expand ``*``), None when it does not exist."""
        parts = full_name.split(".")
        if len(parts) != 3:
            return None
        catalog, schema, table = parts
        if not self.catalog.tables.has(catalog, schema, table):
            return None
        info = self.catalog.tables.get(full_name)
        return [str(c["name"]).lower() for c in info.get("columns") or []]

    # -- statements answered by the workspace -------------------------------------------

    def _native(
        self, tree: exp.Expression, request: Request, cursor: duckdb.DuckDBPyConnection
    ) -> Output | None:
        scope = request.scope
        found = governance.native(tree, request.statement, scope, self.catalog, cursor)
        if found is not None:
            return found
        if (keys := constraints.alter(tree, scope, self.catalog)) is not None:
            return keys
        if (volume := self.volumes.answer(tree, scope)) is not None:
            return volume
        if (loaded := copy_into.answer(tree, scope, self.catalog, cursor)) is not None:
            return loaded  # COPY INTO, and the column-less tables it fills
        if isinstance(tree, exp.Command):
            word = str(tree.this).upper()
            rest = tree.expression
            text = str(rest.this if isinstance(rest, exp.Literal) else rest or "").strip()
            if word == "SHOW":
                return self.commands.show(text, scope)
            if word in IGNORED:
                return Output()
            if word == "CREATE" and text.upper().startswith("CATALOG"):
                return self.commands.create_catalog(f"CREATE {text}")
            if word == "DROP" and text.upper().startswith("CATALOG"):
                return self.commands.drop_catalog(f"DROP {text}")
            if word in ("GRANT", "REVOKE"):
                return self.commands.grant(f"{word} {text}", scope)
            if word == "EXPLAIN":
                return None  # handled in _run via the inner statement
            if word == "SET":  # SET TIME ZONE ... / SET key (shows nothing locally)
                zone = sandbox.time_zone_of(tree)
                if zone is not None:
                    _set_time_zone(cursor, scope, zone)
                return Output()
            if word in ("DESCRIBE", "DESC"):
                raise errors.unsupported(f"DESCRIBE {text.split()[0] if text else ''}".strip())
            return None
        if isinstance(tree, exp.Grant | exp.Revoke):
            return self.commands.grant(request.statement, scope)
        if isinstance(tree, exp.Describe):
            kind = str(tree.args.get("kind") or "TABLE").upper()
            if kind not in ("TABLE", "VIEW"):
                raise errors.unsupported(f"DESCRIBE {kind}")
            style = str(tree.args.get("style") or "").upper()
            name = tree.this.sql(dialect="databricks")
            return self.commands.describe(name, style in ("EXTENDED", "FORMATTED"), scope)
        if isinstance(tree, exp.Use):
            kind = str(tree.args.get("kind") or "").upper()
            target = tree.this
            parts = (
                [p for p in (target.catalog, target.db, target.name) if p]
                if isinstance(target, exp.Table)
                else [target.name]
            )
            return self.commands.use(kind, parts, scope)
        if isinstance(tree, exp.Comment):
            return self._comment(tree, request)
        if isinstance(tree, sandbox.MAINTENANCE):
            return Output()  # ANALYZE/REFRESH/CACHE: nothing to do on DuckDB
        if isinstance(tree, exp.Set) or sandbox.reset_of(tree) is not None:
            # Databricks parameters and Spark confs: only the time zone changes anything here.
            for setting in sandbox.settings(tree):
                if setting.key in sandbox.TIME_ZONE_KEYS or not setting.key:
                    _set_time_zone(cursor, scope, setting.value or "UTC")
            return Output()
        return None

    def _comment(self, tree: exp.Comment, request: Request) -> Output | None:
        kind = str(tree.args.get("kind") or "").upper()
        comment = tree.expression.name if tree.expression is not None else None
        name = tree.this.sql(dialect="databricks")
        if kind == "CATALOG":
            catalog = name.strip("`").lower()
            self.commands.require_catalog(catalog)
            self.catalog.catalogs.update(catalog, comment=comment)
            return Output()
        if kind in ("SCHEMA", "DATABASE"):
            catalog, schema = self.commands.schema_of(name, request.scope)
            self.catalog.ddl.created("schema", f"{catalog}.{schema}", comment)
            return Output()
        return None  # TABLE/VIEW/COLUMN comments: DuckDB stores them

    # -- DuckDB statements ---------------------------------------------------------------

    def _run(self, cursor: duckdb.DuckDBPyConnection, tr: Translated, request: Request) -> None:
        tree, sql = tr.tree, tr.sql
        if isinstance(tree, exp.Command) and str(tree.this).upper() == "EXPLAIN":
            scope = request.scope
            explained = sandbox.explained(tree, scope.catalog, scope.schema)
            file_reads.rewrite(explained, self.catalog, cursor, request.params)
            governance.rewrite(explained, scope, self.catalog, cursor)
            inner = translate(
                explained,
                scope,
                self.catalog.engine,
                request.params,
            )
            tr.tables.extend(inner.tables)
            sql, tr.params = f"EXPLAIN {inner.sql}", inner.params
        try:
            if len(duckdb.extract_statements(sql)) != 1:  # a last wall: one statement, always
                raise errors.parse_error(";", "Send one statement per request.")
            cursor.execute(sql, tr.params or None)
        except duckdb.InterruptException:
            raise
        except duckdb.Error as exc:
            raise errors.from_duckdb(
                exc,
                lambda name: self._resolve(name, tr),
                self.catalog.engine.public_text,
                (request.scope.catalog, request.scope.schema),
            ) from exc

    def _resolve(self, name: str, tr: Translated) -> tuple[str, ...]:
        """A name from a DuckDB message -> the public name the statement used."""
        parts = [p.strip('"') for p in name.split(".")]
        if len(parts) >= 3 or parts[0].startswith("uc_"):
            parts[0] = self.catalog.engine.to_public(parts[0])
            return tuple(parts)
        for ref in tr.tables:
            ref_parts = [p for p in ref if p]
            if [p.lower() for p in ref_parts[-len(parts) :]] == [p.lower() for p in parts]:
                return tuple(ref_parts)
        return tuple(parts)

    def _existing(self, tr: Translated) -> bool:
        """Whether a DROP's target exists before the statement (so the Catalog hears of it)."""
        tree = tr.tree
        if not isinstance(tree, exp.Drop) or not tr.tables:
            return False
        catalog, schema, table = tr.tables[0]
        if not self.catalog.catalogs.has(catalog):
            return False
        if table:
            return self.catalog.tables.has(catalog, schema, table)
        return self.catalog.schemas.has(catalog, schema)

    def _follow_ddl(self, tr: Translated, existed: bool) -> None:
        tree = tr.tree
        if not isinstance(tree, exp.Create | exp.Drop) or not tr.tables:
            return
        kind = str(tree.args.get("kind") or "").lower()
        kind = "schema" if kind == "database" else kind
        if kind not in ("schema", "table", "view"):
            return
        full_name = ".".join(p for p in tr.tables[0] if p)
        if isinstance(tree, exp.Drop):
            if existed:
                self.catalog.ddl.dropped(kind, full_name)
            return
        comment = None
        props = tree.args.get("properties")
        if props is not None:
            for prop in props.expressions:
                if isinstance(prop, exp.SchemaCommentProperty):
                    comment = prop.this.name
        self.catalog.ddl.created(kind, full_name, comment)

    def _collect(
        self, cursor: duckdb.DuckDBPyConnection, tr: Translated, request: Request
    ) -> ResultSet:
        description = cursor.description
        tree = tr.tree
        if description is None:
            return ResultSet()
        is_ctas = (
            isinstance(tree, exp.Create)
            and tree.expression is not None
            and str(tree.args.get("kind") or "").upper() == "TABLE"
        )
        dml = next((cols for kind, cols in DML_COLUMNS.items() if isinstance(tree, kind)), None)
        if isinstance(tree, exp.Create | exp.Drop | exp.Alter | exp.Comment) and not is_ctas:
            return ResultSet()
        if is_ctas:
            dml = ("num_affected_rows", "num_inserted_rows")
        if dml is not None:
            count = cursor.fetchone()
            value = str(count[0]) if count else "0"
            return ResultSet(
                columns=[column_info(name, "BIGINT", i) for i, name in enumerate(dml)],
                rows=[[value] * len(dml)],
            )
        if isinstance(tree, exp.Command):  # EXPLAIN: one `plan` column, as Databricks
            plan = self.catalog.engine.public_text(
                "\n".join(str(row[-1]) for row in cursor.fetchall())
            )
            return ResultSet(columns=[column_info("plan", "VARCHAR", 0)], rows=[[plan]])
        names = [
            COLUMN_NAMES.get(str(d[0]), self.catalog.engine.public_text(str(d[0])))
            for d in description
        ]
        pairs = zip(names, description, strict=True)
        columns = [column_info(n, d[1], i) for i, (n, d) in enumerate(pairs)]
        rows, truncated = _fetch(cursor, request.row_limit, request.byte_limit)
        return ResultSet(columns=columns, rows=rows, truncated=truncated)

    def _small(self, output: Output, request: Request) -> ResultSet:
        rows = output.rows
        truncated = False
        if request.row_limit is not None and len(rows) > request.row_limit:
            rows, truncated = rows[: request.row_limit], True
        return ResultSet(
            columns=[column_info(n, t, i) for i, (n, t) in enumerate(output.columns)],
            rows=rows,
            truncated=truncated,
        )


def _set_time_zone(cursor: duckdb.DuckDBPyConnection, scope: Scope, zone: str) -> None:
    """The session's time zone, checked by the engine itself (ICU knows which zones exist)."""
    try:
        prepare_cursor(cursor, zone)
    except duckdb.Error as exc:
        raise errors.invalid_time_zone(zone) from exc
    scope.time_zone = zone


def _fetch(
    cursor: duckdb.DuckDBPyConnection, row_limit: int | None, byte_limit: int | None
) -> tuple[list[list[str | None]], bool]:
    """Rows as strings, stopping at row_limit/byte_limit (then ``truncated``)."""
    max_bytes = min(byte_limit or INLINE_MAX_BYTES, INLINE_MAX_BYTES)
    rows: list[list[str | None]] = []
    size = 0
    while True:
        batch = cursor.fetchmany(FETCH_BATCH)
        if not batch:
            return rows, False
        for raw in batch:
            if row_limit is not None and len(rows) >= row_limit:
                return rows, True
            row = [format_value(v) for v in raw]
            size += len(json.dumps(row, separators=(",", ":"))) + 1
            if size > max_bytes:
                return rows, True
            rows.append(row)


def _fix_merge(tree: exp.Expression) -> None:
    """DuckDB refuses ``UPDATE SET tgt.col = ...`` in MERGE: drop the target qualifier."""
    if not isinstance(tree, exp.Merge):
        return
    for when in tree.find_all(exp.When):
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            for eq in then.expressions:
                if isinstance(eq, exp.EQ) and isinstance(eq.this, exp.Column):
                    eq.this.set("table", None)
