"""One pipeline update, run in a background thread: read sources, order datasets, run flows.

Events are written as the update goes (``create_update``, ``update_progress``,
``flow_definition``, ``flow_progress`` with ``metrics`` and ``data_quality``), as Databricks
writes them. Python sources are first planned into the same SQL statements in a child process
(python_plan.py), then everything runs as one pipeline.
"""

from __future__ import annotations

import graphlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from local_workspace.pipelines import cdc, python_plan
from local_workspace.pipelines.flows import FlowFailed, FlowResult, Flows
from local_workspace.pipelines.plan import Plan, build_plan, check_plan
from local_workspace.pipelines.sources import UpdateFailed, library_sources
from local_workspace.pipelines.sqlfile import (
    STREAMING_TABLE,
    VIEW,
    Dataset,
    PipelineSqlError,
    split_statements,
)

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog
    from local_workspace.workspace_store import WorkspaceStore

log = logging.getLogger("local_workspace.pipelines")


@dataclass
class UpdateContext:
    """What one update needs from the service."""

    pipeline_id: str
    pipeline_name: str
    update_id: str
    spec: dict[str, Any]
    options: dict[str, Any]
    catalog: Catalog
    workspace: WorkspaceStore
    emit: Callable[..., None]
    set_state: Callable[[str], None]
    record_lineage: Callable[[list[str], list[str]], None]
    owns: Callable[[str], str | None]  # full table name -> owning pipeline id or None
    claim: Callable[[str, str], None]  # (full table name, kind)
    cancel: threading.Event = field(default_factory=threading.Event)
    cursor: duckdb.DuckDBPyConnection | None = None
    # Set once run_update returned (its cursor closed): what a stop waits for.
    finished: threading.Event = field(default_factory=threading.Event)
    # Guards ``cursor`` between the update's thread (open, close) and a stop (interrupt).
    cursor_lock: threading.Lock = field(default_factory=threading.Lock)
    # How a Python planning process reaches this workspace (host, token, warehouse) and
    # where it works; an update without them cannot plan Python sources.
    child_env: dict[str, str] = field(default_factory=dict)
    plan_dir: Path | None = None

    def open_cursor(self) -> duckdb.DuckDBPyConnection:
        """The update's own cursor of the shared DuckDB instance (closed by run_update)."""
        cursor = self.catalog.engine.cursor()
        with self.cursor_lock:
            self.cursor = cursor
        return cursor

    def interrupt(self) -> None:
        """Interrupt what the update's cursor is executing (nothing when none is open)."""
        with self.cursor_lock:
            if self.cursor is not None:
                self.cursor.interrupt()


def plan_sources(ctx: UpdateContext) -> Plan:
    """The plan of every library: SQL sources parsed, Python sources planned in a child."""
    sources = library_sources(ctx.spec, ctx.workspace)
    plan = build_plan(
        [st for s in sources if s.language == "SQL" for st in split_statements(s.text, s.path)]
    )
    python = [s for s in sources if s.language == "PYTHON"]
    if python:
        if ctx.plan_dir is None or not ctx.child_env:
            raise UpdateFailed(
                "Python sources are planned by a process that reaches this workspace over "
                "HTTP: start the update through the Pipelines API (pipelines_start_update)."
            )
        settings = python_plan.ChildSettings(ctx.child_env, ctx.plan_dir, ctx.cancel)
        statements = python_plan.plan_python(
            python, ctx.spec, python_plan.sql_datasets(plan), settings, ctx.workspace
        )
        build_plan(statements, plan)
    check_plan(plan)
    return plan


def dependencies(plan: Plan, flows: Flows) -> dict[str, list[str]]:
    """Dataset -> the datasets it reads (missing tables and cycles fail the update)."""
    graph: dict[str, list[str]] = {}
    for key, dataset in plan.datasets.items():
        if dataset.query is not None:
            graph[key] = flows.resolve(dataset).datasets
        else:
            spec, _ = plan.cdc[key]
            source = str(spec.source).replace("`", "").lower()
            name = source.split(".")[-1]
            graph[key] = [name] if name in plan.datasets and source.count(".") < 2 else []
    return graph


def ordered(graph: dict[str, list[str]]) -> list[str]:
    """Datasets in dependency order (bronze -> silver -> gold)."""
    sorter = graphlib.TopologicalSorter(graph)
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1]) if len(exc.args) > 1 else "?"
        raise UpdateFailed(
            f"The datasets form a cycle: {cycle}. A dataset cannot read itself through others.",
            "CycleError",
        ) from exc


# -- the update ------------------------------------------------------------------------------


def run_update(ctx: UpdateContext) -> str:
    """Run one update to its end; the final state (COMPLETED, FAILED, CANCELED)."""
    try:
        _run(ctx)
    except duckdb.InterruptException:
        return _finish(ctx, "CANCELED")
    except (UpdateFailed, FlowFailed) as exc:
        return _fail(ctx, str(exc), exc.class_name)
    except PipelineSqlError as exc:
        return _fail(ctx, str(exc), "ParseException")
    except Exception as exc:  # thread boundary: the update must end FAILED, never hang
        log.exception("pipeline update %s failed unexpectedly", ctx.update_id)
        return _fail(ctx, f"{type(exc).__name__}: {exc}", type(exc).__name__)
    finally:
        with ctx.cursor_lock:
            if ctx.cursor is not None:
                ctx.cursor.close()
                ctx.cursor = None
    if ctx.cancel.is_set():
        return _finish(ctx, "CANCELED")
    return _finish(ctx, "COMPLETED")


def _fail(ctx: UpdateContext, message: str, class_name: str) -> str:
    if ctx.cancel.is_set():
        return _finish(ctx, "CANCELED")
    message = ctx.catalog.engine.public_text(message)
    ctx.emit(
        "update_progress",
        "ERROR",
        f"Update {ctx.update_id[:6]} is FAILED: {message}",
        {"update_progress": {"state": "FAILED"}},
        error=_error(message, class_name),
    )
    ctx.set_state("FAILED")
    return "FAILED"


def _finish(ctx: UpdateContext, state: str) -> str:
    ctx.emit(
        "update_progress",
        "INFO",
        f"Update {ctx.update_id[:6]} is {state}.",
        {"update_progress": {"state": state}},
    )
    ctx.set_state(state)
    return state


def _error(message: str, class_name: str) -> dict[str, Any]:
    return {"exceptions": [{"class_name": class_name, "message": message}], "fatal": True}


def _state(ctx: UpdateContext, state: str) -> None:
    ctx.set_state(state)
    ctx.emit(
        "update_progress",
        "INFO",
        f"Update {ctx.update_id[:6]} is {state}.",
        {"update_progress": {"state": state}},
    )


def _run(ctx: UpdateContext) -> None:
    _state(ctx, "INITIALIZING")
    plan = plan_sources(ctx)
    catalog_name = str(ctx.spec.get("catalog") or "")
    schema_name = str(ctx.spec.get("schema") or ctx.spec.get("target") or "")
    cursor = ctx.open_cursor()
    cursor.execute("SET TimeZone='UTC'")
    flows = Flows(ctx.catalog, cursor, ctx.pipeline_id, catalog_name, schema_name, plan.datasets)
    if not ctx.catalog.catalogs.has(catalog_name):
        raise UpdateFailed(f"Catalog '{catalog_name}' does not exist: create it or fix the spec.")
    order = ordered(dependencies(plan, flows))
    for key in order:
        dataset = plan.datasets[key]
        if dataset.kind == VIEW:
            continue
        full = flows.public_name(key)
        owner = ctx.owns(full)
        if owner not in (None, ctx.pipeline_id) or (
            owner is None and ctx.catalog.tables.has(catalog_name, schema_name, key)
        ):
            raise UpdateFailed(
                f"Table '{full}' already exists and is not managed by this pipeline: rename "
                "the dataset or drop the table.",
                "TableAlreadyExists",
            )
    selected = _selection(ctx, plan, order)
    for key in order:
        dataset = plan.datasets[key]
        ctx.emit(
            "flow_definition",
            "INFO",
            f"Flow '{flows.public_name(key)}' is defined as "
            f"{'CHANGE' if key in plan.cdc else _flow_type(dataset)}.",
            {"flow_definition": {"output_dataset": flows.public_name(key)}},
            dataset=key,
        )
    if ctx.options.get("validate_only"):
        return
    _state(ctx, "SETTING_UP_TABLES")
    if not ctx.catalog.schemas.has(catalog_name, schema_name):
        ctx.catalog.schemas.create(catalog_name, schema_name)
    _state(ctx, "RUNNING")
    full_all = bool(ctx.options.get("full_refresh"))
    full_some = {s.lower() for s in ctx.options.get("full_refresh_selection") or []}
    if full_all and not ctx.options.get("refresh_selection"):
        flows.forget()
    view_sources: dict[str, list[str]] = {}
    for key in order:
        if ctx.cancel.is_set():
            return
        dataset = plan.datasets[key]
        # Views are recomputed whenever something selected may read them.
        if key not in selected and dataset.kind != VIEW:
            continue
        _flow(ctx, plan, flows, dataset, full_all or key in full_some, view_sources)


def _selection(ctx: UpdateContext, plan: Plan, order: list[str]) -> set[str]:
    chosen = [
        s.lower()
        for s in (ctx.options.get("refresh_selection") or [])
        + (ctx.options.get("full_refresh_selection") or [])
    ]
    for name in chosen:
        if name.split(".")[-1] not in plan.datasets:
            raise UpdateFailed(
                f"The selection names '{name}', which is not a dataset of this pipeline "
                f"(datasets: {', '.join(order)})."
            )
    return {n.split(".")[-1] for n in chosen} if chosen else set(order)


def _flow_type(dataset: Dataset) -> str:
    return "APPEND" if dataset.kind == STREAMING_TABLE else "COMPLETE"


def _flow(
    ctx: UpdateContext,
    plan: Plan,
    flows: Flows,
    dataset: Dataset,
    full_refresh: bool,
    view_sources: dict[str, list[str]],
) -> None:
    full = flows.public_name(dataset.name)
    kind = "view" if dataset.kind == VIEW else "table"

    def progress(status: str, level: str = "INFO", **extra: Any) -> None:
        details = {"flow_progress": {"status": status, **extra}}
        ctx.emit(
            "flow_progress",
            level,
            f"Flow '{full}' is {status}.",
            details,
            dataset=dataset.name.lower(),
        )

    progress("STARTING")
    progress("RUNNING")
    try:
        if dataset.query is not None:
            streaming = dataset.kind == STREAMING_TABLE
            result = flows.run_query_flow(dataset, streaming, full_refresh)
        else:
            result = _run_cdc(ctx, plan, flows, dataset, full_refresh)
    except (FlowFailed, PipelineSqlError) as exc:
        message = ctx.catalog.engine.public_text(str(exc))
        name = exc.class_name if isinstance(exc, FlowFailed) else "ParseException"
        details = {"flow_progress": {"status": "FAILED"}}
        ctx.emit(
            "flow_progress",
            "ERROR",
            f"Flow '{full}' has FAILED: {message}",
            details,
            dataset=dataset.name.lower(),
            error=_error(message, name),
        )
        raise UpdateFailed(f"Flow '{full}' failed: {message}", name) from exc
    if dataset.kind == VIEW:
        view_sources[full] = _expand(result.sources, view_sources)
    else:
        table_type = "STREAMING_TABLE" if dataset.kind == STREAMING_TABLE else "MATERIALIZED_VIEW"
        ctx.claim(full, table_type)
        ctx.catalog.ddl.created(kind, full, dataset.comment, table_type)
        ctx.record_lineage(_expand(result.sources, view_sources), [full])
    metrics = {"num_output_rows": result.output_rows, **result.metrics}
    quality: dict[str, Any] = {"dropped_records": result.dropped}
    if result.expectations:
        quality["expectations"] = result.expectations
    progress("COMPLETED", metrics=metrics, data_quality=quality)


def _expand(sources: list[str], views: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    for source in sources:
        for name in views.get(source, [source]):
            if name not in out:
                out.append(name)
    return out


def _run_cdc(
    ctx: UpdateContext, plan: Plan, flows: Flows, dataset: Dataset, full_refresh: bool
) -> FlowResult:
    # ---- CDC HOOK (run): only the unseen change rows of the source go to apply_changes, in
    # one transaction with the target write; the consumed identities are recorded after.
    spec, statement = plan.cdc[dataset.name.lower()]
    source_name = str(spec.source).replace("`", "")
    probe = Dataset(
        name=dataset.name,
        kind=STREAMING_TABLE,
        query=f"SELECT * FROM {source_name}",
        statement=statement,
    )
    resolved = flows.resolve(probe)
    table, public = resolved.bound[0]
    flow = str(spec.flow_name or dataset.name).lower()
    source_sql = table.copy()
    source_sql.set("alias", None)
    new, identities = flows.new_rows(flow, source_sql.sql(dialect="duckdb"), public, full_refresh)
    target = flows.internal_name(dataset)
    cursor = flows.cursor
    cursor.execute("BEGIN")
    try:
        if full_refresh:
            cursor.execute(f"DROP TABLE IF EXISTS {target}")
        stats = cdc.apply_changes(cursor, spec, target, f"temp.main.{new}")
        cursor.execute("COMMIT")
    except duckdb.InterruptException:
        cursor.execute("ROLLBACK")
        raise
    except (duckdb.Error, ValueError) as exc:
        cursor.execute("ROLLBACK")
        raise FlowFailed(ctx.catalog.engine.public_text(str(exc)), type(exc).__name__) from exc
    flows.remember(flow, [(public, identities)], full_refresh)
    return FlowResult(
        output_rows=int(stats.output_rows),
        metrics={"num_upserted_rows": int(stats.upserted), "num_deleted_rows": int(stats.deleted)},
        sources=[public],
    )
