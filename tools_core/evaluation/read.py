"""Read an evaluation run back through the MLflow client: metrics and the worst rows.

GenAI evaluations keep one trace per row with its assessments (MLflow's feedback); classic
ones keep ``eval_results_table.json`` with a per-row score column.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools_core.evaluation.models import EvaluationResult, WorstRow
from tools_core.tracking.common import clip, num

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Trace

WORST = 5
MAX_METRICS = 40
MAX_TRACES = 1000
TRACE_PAGE = 100  # MLflow's server refuses larger pages of traces
CELL = 120
EVAL_TABLE = "eval_results_table.json"
FAILED = {"no", "false", "fail", "failed"}
# Per-row score columns our task adds (tools_core/evaluation/eval_task.py: row_metric).
ROW_SCORES = {"correct/score": False, "abs_error/score": True}  # name -> higher is worse


def read_evaluation(
    client: MlflowClient, run_id: str, family: str, label: str | None
) -> EvaluationResult:
    """The run's metrics and its worst rows."""
    run = client.get_run(run_id)
    metrics = {k: float(num(v)) for k, v in sorted(run.data.metrics.items()) if _finite(v)}
    result = EvaluationResult(
        run_id=run_id,
        experiment_id=str(run.info.experiment_id),
        state=str(run.info.status),
        metrics=dict(list(metrics.items())[:MAX_METRICS]),
        metrics_truncated=len(metrics) > MAX_METRICS,
    )
    if family == "genai":
        result.rows, result.worst = _genai_rows(client, str(run.info.experiment_id), run_id)
    else:
        result.rows, result.worst = _classic_rows(client, run_id, label)
    result.hint = (
        f"per-row results: the run's traces (mlflow_search_traces run_id={run_id})"
        if family == "genai"
        else f"per-row results: artifact {EVAL_TABLE} of run {run_id}"
    )
    return result


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _genai_rows(
    client: MlflowClient, experiment_id: str, run_id: str
) -> tuple[int, list[WorstRow]]:
    traces: list[Trace] = []
    token = None
    while len(traces) < MAX_TRACES:
        page = client.search_traces(
            locations=[experiment_id],
            run_id=run_id,
            include_spans=False,
            max_results=TRACE_PAGE,
            page_token=token,
        )
        traces.extend(page)
        token = page.token
        if not token:
            break
    graded = [(_failures(t), t) for t in traces]
    graded.sort(key=lambda pair: (-len(pair[0]), -(pair[1].info.execution_duration or 0)))
    worst = [
        WorstRow(
            row=t.info.trace_id,
            inputs=clip(t.info.request_preview, CELL),
            output=clip(t.info.response_preview, CELL),
            expected=clip(_expected(t), CELL),
            verdict="failed: " + ", ".join(failed),
        )
        for failed, t in graded[:WORST]
        if failed  # rows that passed every scorer are not "worst"
    ]
    return len(graded), worst


def _failures(trace: Trace) -> list[str]:
    """Names of the feedbacks that failed (False, "no", or an error) on a row."""
    failed = []
    for assessment in trace.info.assessments or []:
        feedback = getattr(assessment, "feedback", None)
        if feedback is None:
            continue
        value = feedback.value
        if feedback.error is not None:
            failed.append(f"{assessment.name} (error)")
        elif value is False or (isinstance(value, str) and value.lower() in FAILED):
            failed.append(assessment.name)
    return failed


def _expected(trace: Trace) -> str:
    for assessment in trace.info.assessments or []:
        expectation = getattr(assessment, "expectation", None)
        if expectation is not None:
            value = expectation.value
            return value if isinstance(value, str) else json.dumps(value, default=str)
    return ""


def _classic_rows(
    client: MlflowClient, run_id: str, label: str | None
) -> tuple[int, list[WorstRow]]:
    with tempfile.TemporaryDirectory(prefix="dbx-devkit-eval-") as folder:
        try:
            path = client.download_artifacts(run_id, EVAL_TABLE, folder)
        except OSError:
            return 0, []
        table = json.loads(Path(path).read_text(encoding="utf-8"))
    columns: list[str] = table.get("columns") or []
    data: list[list[Any]] = table.get("data") or []
    score = next((c for c in ROW_SCORES if c in columns), None)
    if score is None:
        return len(data), []
    at = columns.index(score)
    worse_high = ROW_SCORES[score]
    order = sorted(range(len(data)), key=lambda i: float(data[i][at] or 0), reverse=worse_high)
    hidden = {score, label or "", "outputs"}
    out = "outputs" if "outputs" in columns else ""
    worst = []
    if not worse_high:  # classifier: only the rows it got wrong
        order = [i for i in order if not data[i][at]]
    for index in order[:WORST]:
        row = dict(zip(columns, data[index], strict=False))
        inputs = {k: v for k, v in row.items() if k not in hidden}
        worst.append(
            WorstRow(
                row=str(index),
                inputs=clip(json.dumps(inputs, default=str), CELL),
                output=clip(str(row.get(out, "")), CELL) if out else "",
                expected=clip(str(row.get(label or "", "")), CELL),
                verdict=f"{score.split('/')[0]}={num(float(data[index][at] or 0))}",
            )
        )
    return len(data), worst
