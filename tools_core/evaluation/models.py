"""Result of mlflow_evaluate: the evaluation run, its summary metrics, a few worst rows."""

from __future__ import annotations

from pydantic import Field

from tools_core.results import Result, markdown_table


class WorstRow(Result):
    """One evaluated row that did badly: what went in, what came out, what it was judged."""

    row: str  # the trace id (genai) or the row's position in the table (classic)
    inputs: str
    output: str = ""
    expected: str = ""
    verdict: str = ""  # failed scorers (genai) or the row's score (classic)


class EvaluationResult(Result):
    """An evaluation run: where it is, its metrics, how many rows, the worst ones."""

    run_id: str
    experiment_id: str = ""
    job_run_id: int | None = None
    state: str = "FINISHED"
    url: str | None = None
    rows: int = 0
    metrics: dict[str, float] = Field(default_factory=dict)
    worst: list[WorstRow] = Field(default_factory=list)
    metrics_truncated: bool = False
    hint: str = ""

    def to_text(self) -> str:
        """Run line, metrics, worst rows table, next step."""
        head = (
            f"evaluation run {self.run_id} (experiment {self.experiment_id}, job run "
            f"{self.job_run_id}): {self.state}"
        )
        lines = [head + (f", {self.rows} rows" if self.rows else "")]
        if self.url:
            lines.append(self.url)
        if self.metrics:
            lines.append(markdown_table(["metric", "value"], sorted(self.metrics.items())))
            if self.metrics_truncated:
                lines.append("(more metrics: mlflow_get_run)")
        if self.worst:
            lines.append("worst rows:")
            lines.append(
                markdown_table(
                    ["row", "inputs", "output", "expected", "verdict"],
                    [(w.row, w.inputs, w.output, w.expected, w.verdict) for w in self.worst],
                )
            )
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)
