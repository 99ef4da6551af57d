"""A metric's history: summary numbers, a few sampled points and, when asked, a PNG plot."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tools_core.backend import Backend
from tools_core.errors import ToolsCoreError
from tools_core.tracking.common import RUN_HINT, client_of, mlflow_errors, num
from tools_core.tracking.models import HistoryPoint, MetricHistory
from tools_core.tracking.runs import NOT_FOUND, fetch_run

if TYPE_CHECKING:
    from mlflow.entities import Metric

SAMPLES = 10
# 640x360 at 100 dpi: readable, and a few tens of kilobytes.
PLOT_SIZE_IN = (6.4, 3.6)
PLOT_DPI = 100


def get_metric_history(
    backend: Backend, run_id: str, key: str, plot: bool = False
) -> MetricHistory:
    """The history of metric ``key`` of a run: count, first/last, min/max with their steps,
    the trend and ~10 sampled points; with ``plot``, a PNG line chart beside the text."""
    client = client_of(backend)
    run = fetch_run(client, run_id)
    if key not in run.data.metrics:
        known = ", ".join(sorted(run.data.metrics)[:30]) or "none"
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            f"run {run.info.run_id} has no metric {key!r} (metrics: {known})",
            "Pick one of the run's metrics.",
        )
    with mlflow_errors({**NOT_FOUND, "INVALID_PARAMETER_VALUE": RUN_HINT}):
        history = sorted(
            client.get_metric_history(run.info.run_id, key), key=lambda m: (m.step, m.timestamp)
        )
    result = summarize(run.info.run_id, key, history)
    if plot and history:
        png = plot_png(key, [m.step for m in history], [m.value for m in history])
        result._png = png
        result.plot_bytes = len(png)
    return result


def summarize(run_id: str, key: str, history: Sequence[Metric]) -> MetricHistory:
    """Summary numbers of a history sorted by step."""
    if not history:
        return MetricHistory(run_id=run_id, key=key, count=0)
    low = min(history, key=lambda m: m.value)
    high = max(history, key=lambda m: m.value)
    every = max(len(history) // SAMPLES, 1)
    sampled = list(history[::every][:SAMPLES])
    if sampled[-1] is not history[-1]:
        sampled.append(history[-1])
    return MetricHistory(
        run_id=run_id,
        key=key,
        count=len(history),
        first=num(history[0].value),
        last=num(history[-1].value),
        min=num(low.value),
        min_step=low.step,
        max=num(high.value),
        max_step=high.step,
        trend=trend([m.value for m in history]),
        points=[HistoryPoint(step=m.step, value=num(m.value)) for m in sampled],
    )


def trend(values: Sequence[float]) -> str:
    """``rising``, ``falling``, ``flat`` (last vs first within 5% of the range) or ``single``."""
    if len(values) < 2:
        return "single"
    spread = max(values) - min(values)
    change = values[-1] - values[0]
    if spread == 0 or abs(change) < 0.05 * spread:
        return "flat"
    return "rising" if change > 0 else "falling"


def plot_png(key: str, steps: Sequence[int], values: Sequence[float]) -> bytes:
    """A small PNG line chart of a metric over steps (matplotlib's Agg canvas, no pyplot)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ToolsCoreError(
            "FEATURE_DISABLED",
            "plotting needs matplotlib, which is not installed",
            "pip install matplotlib, or call again with plot=false for the numbers.",
        ) from exc
    # Figure + Agg canvas directly: no global pyplot state, no GUI backend selection.
    figure = Figure(figsize=PLOT_SIZE_IN, dpi=PLOT_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(steps, values, marker="." if len(values) <= 50 else None, linewidth=1.2)
    axes.set_xlabel("step")
    axes.set_ylabel(key)
    axes.set_title(key)
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PLOT_DPI)
    return buffer.getvalue()
