"""Search runs: filter, order, a bounded page, and a compact table of the chosen columns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.tracking.common import (
    FILTER_HINT,
    client_of,
    mlflow_errors,
    resolve_experiment,
    when,
)
from tools_core.tracking.models import RunRow, RunTable, Value, as_value

if TYPE_CHECKING:
    from mlflow.entities import Run

MAX_COLUMNS = 6
DEFAULT_METRICS = 4
DEFAULT_PARAMS = 2


def search_runs(
    backend: Backend,
    experiments: Sequence[str],
    filter_string: str = "",
    order_by: Sequence[str] = (),
    max_results: int = 20,
    page_token: str | None = None,
    columns: Sequence[str] = (),
) -> RunTable:
    """A page of runs of the experiments (names or ids), filtered and ordered by MLflow.

    ``columns`` names metrics/params (``metrics.f1``, ``params.model`` or a bare key);
    without it, the metrics most runs share (the ``order_by`` metric first) and the params
    that vary, at most six columns.
    """
    if not experiments:
        raise InvalidInput("name at least one experiment", "List them: mlflow_list_experiments.")
    client = client_of(backend)
    from mlflow.entities import ViewType

    experiment_ids = [str(resolve_experiment(client, ref).experiment_id) for ref in experiments]
    with mlflow_errors({"INVALID_PARAMETER_VALUE": FILTER_HINT, "BAD_REQUEST": FILTER_HINT}):
        page = client.search_runs(
            experiment_ids,
            filter_string=filter_string,
            run_view_type=ViewType.ACTIVE_ONLY,
            max_results=max_results,
            order_by=list(order_by) or None,
            page_token=page_token,
        )
    runs = list(page)
    chosen = _columns(runs, columns, order_by)
    return RunTable(
        experiment_ids=experiment_ids,
        columns=chosen,
        runs=[_row(run, chosen) for run in runs],
        order_by=list(order_by),
        truncated=bool(page.token),
        next_page_token=page.token or None,
    )


def _row(run: Run, columns: Sequence[str]) -> RunRow:
    return RunRow(
        run_id=run.info.run_id,
        name=run.info.run_name,
        status=run.info.status,
        start=when(run.info.start_time),
        values={column: _lookup(run, column) for column in columns},
    )


def _lookup(run: Run, column: str) -> Value:
    kind, _, key = column.partition(".")
    source: dict[str, Mapping[str, Any]] = {
        "metrics": run.data.metrics,
        "params": run.data.params,
        "tags": run.data.tags,
    }
    return as_value(source.get(kind, {}).get(key))


def _columns(runs: list[Run], asked: Sequence[str], order_by: Sequence[str]) -> list[str]:
    """The columns to show: the ones asked for (qualified), or a small default set."""
    if asked:
        return [_qualify(runs, name) for name in asked][: MAX_COLUMNS * 2]
    metric_counts = Counter(k for run in runs for k in run.data.metrics)
    param_values: dict[str, set[str]] = {}
    param_counts = Counter(k for run in runs for k in run.data.params)
    for run in runs:
        for key, value in run.data.params.items():
            param_values.setdefault(key, set()).add(value)
    half = max(len(runs) // 2, 1)
    ordered = [
        key.split(".", 1)[1].split()[0].strip("`")
        for key in order_by
        if key.strip().startswith("metrics.")
    ]
    metrics = [k for k in ordered if k in metric_counts]
    metrics += sorted(
        (k for k, n in metric_counts.items() if n >= half and k not in metrics),
        key=lambda k: (-metric_counts[k], k),
    )
    # Params that are the same in every run say nothing in a table: prefer those that vary.
    params = sorted(
        (k for k, n in param_counts.items() if n >= half),
        key=lambda k: (len(param_values[k]) < 2, -param_counts[k], k),
    )
    chosen = [f"metrics.{k}" for k in metrics[:DEFAULT_METRICS]]
    chosen += [f"params.{k}" for k in params[:DEFAULT_PARAMS]]
    if len(chosen) < MAX_COLUMNS:
        extra = [f"metrics.{k}" for k in metrics[DEFAULT_METRICS:]]
        chosen += extra[: MAX_COLUMNS - len(chosen)]
    return chosen


def _qualify(runs: list[Run], name: str) -> str:
    """``metrics.x``/``params.x``/``tags.x`` as given; a bare key where the runs have it."""
    name = name.strip()
    if name.split(".", 1)[0] in ("metrics", "params", "tags") and "." in name:
        return name
    if any(name in run.data.metrics for run in runs):
        return f"metrics.{name}"
    if any(name in run.data.params for run in runs):
        return f"params.{name}"
    return f"metrics.{name}"
