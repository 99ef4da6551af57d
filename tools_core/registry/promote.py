"""Champion/challenger promotion: compare two aliased versions on a metric of their source
runs (or of their evaluation runs), move the champion alias only when the challenger wins,
record the decision as tags, and keep the replaced champion under ``previous_champion`` so a
rollback is one ``registry_set_alias``.

Choices: a challenger that does not win is a normal result (``promoted=false``, text starting
``NOT PROMOTED:``): it is a decision, not a failure. A missing alias, version, source run or
metric is bad input: an error naming what exists. The challenger alias is left in place (aliases
stay explicit); a second identical call finds challenger == champion and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.mlflow_client import mlflow_client
from tools_core.registry.models import alias_map, warning_lines
from tools_core.registry.names import check_model_name, mlflow_errors
from tools_core.registry.read import get_registered, get_version_or_fail
from tools_core.results import Result

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

# Tag keys on the promoted version: underscores only, as Unity Catalog refuses dots in keys.
TAG_PREFIX = "promotion_"
MAX_LISTED_METRICS = 30
# The alias the replaced champion keeps after a promotion (rollback: point champion there).
PREVIOUS_ALIAS = "previous_champion"
# The version tag naming the run that evaluated a version (mlflow_evaluate sets it).
EVALUATION_TAG = "evaluation_run_id"
MetricFrom = Literal["run", "evaluation"]


class Promotion(Result):
    """A promotion decision and whether it was carried out."""

    name: str
    metric: str
    higher_is_better: bool
    min_improvement: float
    metric_from: MetricFrom = "run"
    challenger_alias: str
    champion_alias: str
    challenger_version: int
    champion_version: int | None = None
    challenger_value: float | None = None
    champion_value: float | None = None
    improvement: float | None = None
    decision: Literal["promote", "keep", "noop"]
    promoted: bool = False
    reason: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    message: str
    warnings: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        """The decision first, then the details."""
        return self.message + warning_lines(self.warnings)


def promote(
    backend: Backend,
    name: str,
    metric: str,
    challenger_alias: str = "challenger",
    champion_alias: str = "champion",
    higher_is_better: bool = True,
    min_improvement: float = 0.0,
    confirm: bool = False,
    metric_from: MetricFrom = "run",
) -> Promotion:
    """Move ``champion_alias`` to the challenger's version if it beats the champion on
    ``metric`` by more than zero and at least ``min_improvement`` (absolute). The metric is
    read from each version's source run, or with ``metric_from="evaluation"`` from the run
    its ``evaluation_run_id`` tag names. The replaced champion keeps ``previous_champion``.
    Without ``confirm`` only report the decision."""
    warnings = check_model_name(name)
    if min_improvement < 0:
        raise InvalidInput(f"min_improvement must be >= 0, got {min_improvement}.")
    if challenger_alias == champion_alias:
        raise InvalidInput("challenger_alias and champion_alias must differ.")
    client = mlflow_client(backend)
    aliases = alias_map(get_registered(client, name).aliases)
    if challenger_alias not in aliases:
        listed = ", ".join(f"{a}→v{v}" for a, v in aliases.items()) or "none"
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            f"{name} has no alias {challenger_alias!r} (aliases: {listed}).",
            f"Set it first: registry_set_alias alias={challenger_alias} version=<N>.",
        )
    new = aliases[challenger_alias]
    old = aliases.get(champion_alias)
    decision = Promotion(
        name=name,
        metric=metric,
        higher_is_better=higher_is_better,
        min_improvement=min_improvement,
        metric_from=metric_from,
        challenger_alias=challenger_alias,
        champion_alias=champion_alias,
        challenger_version=new,
        champion_version=old,
        decision="noop",
        message="",
        warnings=warnings,
    )
    if old == new:
        decision.message = (
            f"NOT PROMOTED: {challenger_alias} and {champion_alias} both point at version "
            f"{new}: nothing to do."
        )
        return decision
    decision.challenger_value = _metric_of(client, name, new, metric, challenger_alias, metric_from)
    if old is not None:
        decision.champion_value = _metric_of(client, name, old, metric, champion_alias, metric_from)
    _decide(decision)
    if decision.decision == "promote" and confirm:
        _carry_out(backend, client, decision)
    return decision


def _run_of(mv: ModelVersion, name: str, role: str, metric_from: MetricFrom) -> str:
    """The run whose metrics judge a version: its source run, or its evaluation run."""
    if metric_from == "evaluation":
        run_id = (mv.tags or {}).get(EVALUATION_TAG)
        if not run_id:
            raise ToolsCoreError(
                "INVALID_PARAMETER_VALUE",
                f"{role} version {mv.version} of {name} has no {EVALUATION_TAG} tag: it was "
                "never evaluated.",
                f"Run mlflow_evaluate on models:/{name}/{mv.version} first, or pass "
                "metric_from=run.",
            )
        return str(run_id)
    if not mv.run_id:
        raise ToolsCoreError(
            "INVALID_PARAMETER_VALUE",
            f"{role} version {mv.version} of {name} has no source run: no metric to compare.",
            "Register versions from runs (registry_register_version runs:/<run_id>/model).",
        )
    return str(mv.run_id)


def _metric_of(
    client: MlflowClient,
    name: str,
    version: int,
    metric: str,
    role: str,
    metric_from: MetricFrom = "run",
) -> float:
    """The metric's latest value on the run judging a version; errors say what exists."""
    mv = get_version_or_fail(client, name, version)
    run_id = _run_of(mv, name, role, metric_from)
    with mlflow_errors("The run is gone: register (or evaluate) from an existing run."):
        metrics = client.get_run(run_id).data.metrics
    if metric not in metrics:
        names = sorted(metrics)
        listed = ", ".join(names[:MAX_LISTED_METRICS]) or "none"
        if len(names) > MAX_LISTED_METRICS:
            listed += ", ..."
        raise ToolsCoreError(
            "INVALID_PARAMETER_VALUE",
            f"metric {metric!r} is missing on run {run_id}, the {metric_from} run of {role} "
            f"version {version} of {name} (its metrics: {listed}).",
            "Pass one of those as metric, or log it on the run (mlflow.log_metric).",
        )
    return float(metrics[metric])


def _decide(d: Promotion) -> None:
    """Fill the decision and its message (nothing is changed here)."""
    new, old = d.challenger_version, d.champion_version
    value = d.challenger_value
    if old is None or d.champion_value is None:
        d.decision = "promote"
        why = (
            f"no {d.champion_alias!r} alias yet: {d.challenger_alias} version {new} "
            f"({d.metric}={value:g}) becomes the first {d.champion_alias}"
        )
    else:
        diff = (value or 0.0) - d.champion_value
        d.improvement = diff if d.higher_is_better else -diff
        better = "higher" if d.higher_is_better else "lower"
        needed = f">= {d.min_improvement:g}" if d.min_improvement else "> 0"
        why = (
            f"{d.challenger_alias} version {new} {d.metric}={value:g} vs {d.champion_alias} "
            f"version {old} {d.metric}={d.champion_value:g} ({better} is better; improvement "
            f"{d.improvement:+g}, needed {needed})"
        )
        wins = d.improvement > 0 and d.improvement >= d.min_improvement
        d.decision = "promote" if wins else "keep"
    d.reason = why
    if d.decision == "keep":
        d.message = f"NOT PROMOTED: {why}. {d.champion_alias} stays on version {old}."
    else:
        d.message = (
            f"WOULD PROMOTE (preview, nothing changed): {why}. Call again with confirm=true "
            f"to move {d.champion_alias} to version {new} and record the decision as "
            f"{TAG_PREFIX}* tags on it."
        )


def _carry_out(backend: Backend, client: MlflowClient, d: Promotion) -> None:
    """Move the champion alias, then record the decision as tags on the promoted version."""
    new = d.challenger_version
    with mlflow_errors():
        client.set_registered_model_alias(d.name, d.champion_alias, str(new))
    tags = {
        "metric": d.metric,
        "higher_is_better": str(d.higher_is_better).lower(),
        "challenger_value": repr(d.challenger_value),
        "champion_value": "none" if d.champion_value is None else repr(d.champion_value),
        "improvement": "none" if d.improvement is None else repr(d.improvement),
        "previous_champion_version": "none"
        if d.champion_version is None
        else str(d.champion_version),
        "decided_by": backend.user or "unknown",
        "decided_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    d.tags = {TAG_PREFIX + k: v for k, v in tags.items()}
    with mlflow_errors():
        for key, value in d.tags.items():
            client.set_model_version_tag(d.name, str(new), key, value)
    old = d.champion_version
    rollback = ""
    if old is not None:
        # After the tags: a promotion interrupted before this point left no second alias.
        with mlflow_errors():
            client.set_registered_model_alias(d.name, PREVIOUS_ALIAS, str(old))
        rollback = (
            f" Version {old} keeps the alias {PREVIOUS_ALIAS}; roll back with "
            f"registry_set_alias alias={d.champion_alias} version={old}."
        )
    d.promoted = True
    was = f"was version {old}" if old is not None else "first"
    d.message = (
        f"PROMOTED: {d.champion_alias} → {d.name} version {new} ({was}): {d.reason}. "
        f"Recorded {TAG_PREFIX}* tags on version {new}. The {d.challenger_alias} alias "
        f"still points at version {new} (registry_delete_alias to remove it).{rollback} "
        f"Load: models:/{d.name}@{d.champion_alias}"
    )
