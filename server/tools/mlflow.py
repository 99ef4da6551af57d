"""mlflow tools: experiments, run search/detail/comparison, metric history (plot), logging,
traces."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from server.registry import reader, writer
from server.runtime import backend_of
from tools_core import tracking as core
from tools_core.tracking import traces

# Terse on purpose: tools/list is context every agent pays on every turn.
RunId = Annotated[str, Field(description="Run id")]
Experiment = Annotated[str, Field(description="Experiment name or id")]
PageToken = Annotated[str, Field(description="From the previous page")]
OrderBy = Annotated[list[str], Field(description="e.g. metrics.f1 DESC")]
Columns = Annotated[list[str], Field(description="metrics.x/params.y to show")]
Params = Annotated[dict[str, Any], Field(description="Params (as text)")]
Metrics = Annotated[dict[str, float], Field(description="Metrics")]
Tags = Annotated[dict[str, str], Field(description="Tags")]


@reader("mlflow")
def mlflow_list_experiments(
    ctx: Context,
    name_contains: Annotated[str, Field(description="Name substring")] = "",
    limit: Annotated[int, Field(ge=1, le=200, description="Max experiments")] = 50,
    page_token: PageToken = "",
) -> core.ExperimentList:
    """Experiments, recently updated first. Runs: mlflow_search_runs."""
    return core.list_experiments(backend_of(ctx), name_contains or None, limit, page_token or None)


@writer("mlflow", destructive=False, idempotent=True)
def mlflow_create_experiment(
    ctx: Context,
    name: Annotated[str, Field(description="/Users/<user>/<project>")],
) -> core.ExperimentCreated:
    """Create an experiment; an existing name returns it."""
    return core.create_experiment(backend_of(ctx), name)


@reader("mlflow")
def mlflow_search_runs(
    ctx: Context,
    experiments: Annotated[list[str], Field(min_length=1, description="Names or ids")],
    filter_string: Annotated[str, Field(description="e.g. metrics.f1 > 0.8")] = "",
    order_by: OrderBy = None,  # type: ignore[assignment]
    max_results: Annotated[int, Field(ge=1, le=200, description="Max runs")] = 20,
    page_token: PageToken = "",
    columns: Columns = None,  # type: ignore[assignment]
) -> core.RunTable:
    """Runs as a table of chosen metrics/params. Detail: mlflow_get_run."""
    return core.search_runs(
        backend_of(ctx),
        experiments,
        filter_string,
        order_by or (),
        max_results,
        page_token or None,
        columns or (),
    )


@reader("mlflow")
def mlflow_get_run(
    ctx: Context,
    run_id: RunId,
    all_tags: Annotated[bool, Field(description="Include mlflow.* tags")] = False,
) -> core.RunDetail:
    """A run's params, metrics, tags, artifacts, models."""
    return core.get_run(backend_of(ctx), run_id, all_tags)


@reader("mlflow")
def mlflow_compare_runs(
    ctx: Context,
    run_ids: Annotated[list[str], Field(min_length=2, max_length=10, description="2-10 run ids")],
    show_same: Annotated[bool, Field(description="List identical rows")] = False,
) -> core.RunComparison:
    """Runs side by side; differing params/metrics first."""
    return core.compare_runs(backend_of(ctx), run_ids, show_same)


@reader("mlflow")
def mlflow_get_metric_history(
    ctx: Context,
    run_id: RunId,
    key: Annotated[str, Field(description="Metric name")],
    plot: Annotated[bool, Field(description="Attach a PNG plot")] = False,
) -> core.MetricHistory:
    """A metric over steps: min/max/last, trend; optional plot."""
    return core.get_metric_history(backend_of(ctx), run_id, key, plot)


@writer("mlflow", destructive=False, idempotent=False)
def mlflow_log_run(
    ctx: Context,
    experiment: Experiment = "",
    run_name: Annotated[str, Field(description="New run's name")] = "",
    params: Params = None,  # type: ignore[assignment]
    metrics: Metrics = None,  # type: ignore[assignment]
    tags: Tags = None,  # type: ignore[assignment]
    run_id: Annotated[str, Field(description="Add to this run instead")] = "",
) -> core.RunLogged:
    """Record an evaluation as a new finished run (or add to run_id)."""
    return core.log_run(backend_of(ctx), experiment, run_name, params, metrics, tags, run_id)


@reader("mlflow")
def mlflow_search_traces(
    ctx: Context,
    experiment: Annotated[str, Field(description="Name or id (or give run_id)")] = "",
    run_id: Annotated[str, Field(description="Traces of this run")] = "",
    status: Annotated[
        Literal["OK", "ERROR", "IN_PROGRESS"] | None, Field(description="Trace status")
    ] = None,
    last_hours: Annotated[float, Field(ge=0, description="Only the last N hours")] = 0,
    tags: Tags = None,  # type: ignore[assignment]
    limit: Annotated[int, Field(ge=1, le=100, description="Max traces")] = 20,
    page_token: PageToken = "",
) -> traces.TraceTable:
    """Traces, newest first: id, status, latency, request, top span. Detail: mlflow_get_trace."""
    return traces.search_traces(
        backend_of(ctx), experiment, run_id, status, last_hours, tags, limit, page_token or None
    )


@reader("mlflow")
def mlflow_get_trace(
    ctx: Context,
    trace_id: Annotated[str, Field(description="tr-...")],
) -> traces.TraceDetail:
    """A trace's span tree: errors first, latency per span, inputs/outputs cut."""
    return traces.get_trace(backend_of(ctx), trace_id)
