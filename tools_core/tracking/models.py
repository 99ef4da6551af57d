"""Result models of the MLflow tracking operations and their compact text."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr

from tools_core.results import Result, markdown_table, more_hint

Value = float | int | str | None


def _warnings(warnings: list[str]) -> str:
    return "".join(f"\nwarning: {w}" for w in warnings)


class ExperimentRow(Result):
    """One experiment."""

    experiment_id: str
    name: str
    lifecycle_stage: str = "active"
    last_update: str | None = None


class ExperimentList(Result):
    """A bounded page of experiments."""

    experiments: list[ExperimentRow]
    truncated: bool = False
    next_page_token: str | None = None

    def to_text(self) -> str:
        """A table of experiments, with the page hint."""
        rows = [(e.experiment_id, e.name, e.last_update) for e in self.experiments]
        table = markdown_table(["experiment_id", "name", "last_update"], rows)
        return table + more_hint(self.truncated, self.next_page_token, "experiments")


class ExperimentCreated(Result):
    """The experiment asked for: created now, or the one that already had that name."""

    experiment_id: str
    name: str
    created: bool
    warnings: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        """One line: id, name, created or existing, then warnings."""
        verb = "created" if self.created else "exists (reused)"
        line = f"experiment {self.experiment_id} {self.name!r} {verb}. Log runs: mlflow_log_run."
        return line + _warnings(self.warnings)


class RunRow(Result):
    """One run of a search: its attributes and the chosen columns."""

    run_id: str
    name: str | None = None
    status: str | None = None
    start: str | None = None
    values: dict[str, Value] = Field(default_factory=dict)


class RunTable(Result):
    """A bounded, sorted page of runs with chosen metric and param columns."""

    experiment_ids: list[str]
    columns: list[str]
    runs: list[RunRow]
    order_by: list[str] = Field(default_factory=list)
    truncated: bool = False
    next_page_token: str | None = None
    warnings: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        """A compact markdown table of the runs, then the page hint."""
        from tools_core.tracking.common import clip

        headers = ["run_id", "name", "status", "start", *self.columns]
        rows: list[list[Value]] = [
            [
                r.run_id,
                clip(r.name, 24),
                r.status,
                r.start,
                *(_short(r.values.get(c)) for c in self.columns),
            ]
            for r in self.runs
        ]
        head = f"{len(self.runs)} runs"
        if self.order_by:
            head += f" by {', '.join(self.order_by)}"
        text = head + "\n" + markdown_table(headers, rows)
        text += more_hint(self.truncated, self.next_page_token, "runs")
        return text + _warnings(self.warnings)


def _short(value: Value) -> Value:
    from tools_core.tracking.common import clip

    if value is None:
        return ""
    return clip(value, 20) if isinstance(value, str) else value


class ArtifactRow(Result):
    """One artifact (a file or a directory) of a run."""

    path: str
    is_dir: bool = False
    size: int | None = None


class RunDetail(Result):
    """A run: attributes, params, latest metrics, user tags, artifacts, models."""

    run_id: str
    name: str | None = None
    experiment_id: str
    status: str | None = None
    start: str | None = None
    end: str | None = None
    user: str | None = None
    source: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, Value] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    artifacts: list[ArtifactRow] = Field(default_factory=list)
    artifacts_truncated: bool = False
    models: list[str] = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list)
    omitted: list[str] = Field(default_factory=list)
    url: str | None = None

    def to_text(self) -> str:
        """Attributes on one line, then params/metrics/tags/artifacts sections."""
        head = f"run {self.run_id} {self.name or ''!r} [{self.status}] exp {self.experiment_id}"
        attrs = [
            f"{k}: {v}"
            for k, v in (
                ("start", self.start),
                ("end", self.end),
                ("user", self.user),
                ("source", self.source),
                ("url", self.url),
            )
            if v
        ]
        parts = [head, "; ".join(attrs)]
        for title, mapping in (("params", self.params), ("metrics", self.metrics)):
            if mapping:
                parts.append(f"{title}:\n" + markdown_table(["key", "value"], mapping.items()))
        if self.tags:
            parts.append("tags: " + ", ".join(f"{k}={v}" for k, v in self.tags.items()))
        if self.models:
            parts.append("models: " + ", ".join(self.models))
        if self.datasets:
            parts.append("datasets: " + ", ".join(self.datasets))
        if self.artifacts:
            rows = [(a.path + ("/" if a.is_dir else ""), a.size) for a in self.artifacts]
            parts.append("artifacts:\n" + markdown_table(["path", "bytes"], rows))
            if self.artifacts_truncated:
                parts.append("(more artifacts exist: list them with the MLflow client)")
        else:
            parts.append("artifacts: none")
        parts.extend(f"({note})" for note in self.omitted)
        parts.append("History of a metric: mlflow_get_metric_history.")
        return "\n".join(p for p in parts if p)


class CompareRow(Result):
    """One param or metric across the compared runs (None where a run lacks it)."""

    key: str
    values: list[Value]


class RunComparison(Result):
    """Runs side by side: rows that differ first; identical rows counted (or listed)."""

    run_ids: list[str]
    names: list[str | None]
    differ: list[CompareRow]
    same: list[CompareRow] = Field(default_factory=list)
    same_count: int = 0

    def to_text(self) -> str:
        """A table with one column per run: differing rows, then identical ones."""
        from tools_core.tracking.common import clip

        headers = ["key", *(f"{clip(n, 16) or '-'} ({r[:8]})" for n, r in self.run_ids_named())]
        rows = [[row.key, *(_short(v) for v in row.values)] for row in self.differ]
        text = f"{len(self.differ)} differing rows\n" + markdown_table(headers, rows)
        if self.same:
            same = [[row.key, *(_short(v) for v in row.values)] for row in self.same]
            text += f"\n{len(self.same)} identical rows\n" + markdown_table(headers, same)
        elif self.same_count:
            text += f"\n({self.same_count} identical rows hidden: show_same=true lists them)"
        return text

    def run_ids_named(self) -> list[tuple[str | None, str]]:
        """(name, run_id) per compared run."""
        return list(zip(self.names, self.run_ids, strict=True))


class HistoryPoint(Result):
    """One (step, value) of a metric."""

    step: int
    value: Value


class MetricHistory(Result):
    """Summary numbers of a metric's history; the PNG plot, when asked, rides beside the text."""

    run_id: str
    key: str
    count: int
    first: Value = None
    last: Value = None
    min: Value = None
    min_step: int | None = None
    max: Value = None
    max_step: int | None = None
    trend: str | None = None
    points: list[HistoryPoint] = Field(default_factory=list)
    plot_bytes: int | None = None
    _png: bytes | None = PrivateAttr(default=None)

    def to_text(self) -> str:
        """One summary line, then a few sampled points."""
        text = (
            f"{self.key} of run {self.run_id}: {self.count} points, first {self.first}, "
            f"last {self.last}, min {self.min} (step {self.min_step}), "
            f"max {self.max} (step {self.max_step}), trend {self.trend}"
        )
        if self.points:
            text += "\nsampled: " + ", ".join(f"{p.step}:{p.value}" for p in self.points)
        if self.plot_bytes:
            text += f"\nplot: PNG image attached ({self.plot_bytes} bytes)"
        return text

    def images(self) -> list[tuple[str, bytes]]:
        """(MIME type, bytes) of the images that go with the text: the plot, if drawn."""
        return [("image/png", self._png)] if self._png else []


class RunLogged(Result):
    """Where an evaluation was recorded."""

    run_id: str
    experiment_id: str
    created: bool
    params: int = 0
    metrics: int = 0
    tags: int = 0
    url: str | None = None
    warnings: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        """One line: run id, experiment, what was logged, the URL; then warnings."""
        verb = "created" if self.created else "updated"
        text = (
            f"run {self.run_id} {verb} in experiment {self.experiment_id}: "
            f"{self.params} params, {self.metrics} metrics, {self.tags} tags logged."
        )
        if self.url:
            text += f" {self.url}"
        return text + _warnings(self.warnings)


def as_value(value: Any) -> Value:
    """A param/metric value for results: numbers rounded, the rest as text."""
    from tools_core.tracking.common import num

    if value is None or isinstance(value, int | float | str):
        return num(value) if isinstance(value, float) else value
    return str(value)
