"""Result models of the registry operations and their compact text."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pydantic import Field

from tools_core.results import Result, markdown_table, more_hint

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel


def iso(ms: int | None) -> str | None:
    """A millisecond epoch as compact UTC text, or None."""
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def alias_map(aliases: Any) -> dict[str, int]:
    """Aliases as {alias: version}, from a model's dict or a list of alias objects (none
    from a Unity Catalog search result, whose ``aliases`` is a method that raises)."""
    if callable(aliases):
        return {}
    if isinstance(aliases, dict):
        return {str(k): int(v) for k, v in aliases.items()}
    found: dict[str, int] = {}
    for item in aliases or []:
        alias = getattr(item, "alias", None)
        version = getattr(item, "version", None)
        if alias is not None and version is not None:
            found[str(alias)] = int(version)
    return found


def warning_lines(warnings: list[str]) -> str:
    """Warnings as trailing lines of a tool's text."""
    return "".join(f"\nWARNING: {w}" for w in warnings)


class VersionRow(Result):
    """One model version."""

    version: int
    status: str | None = None
    run_id: str | None = None
    aliases: list[str] = Field(default_factory=list)
    created: str | None = None
    source: str | None = None

    @classmethod
    def from_mlflow(cls, mv: ModelVersion) -> VersionRow:
        """The useful fields of an MLflow ModelVersion."""
        return cls(
            version=int(mv.version),
            status=str(mv.status) if mv.status else None,
            run_id=mv.run_id or None,
            # A searched Unity Catalog version has no aliases (its `aliases` is a method that
            # raises): callers take them from the model.
            aliases=[str(a) for a in mv.aliases or []] if isinstance(mv.aliases, list) else [],
            created=iso(mv.creation_timestamp),
            source=mv.source or None,
        )


def versions_table(versions: list[VersionRow]) -> str:
    """Versions as a markdown table."""
    return markdown_table(
        ["version", "status", "aliases", "run_id", "created", "source"],
        (
            [v.version, v.status, ",".join(v.aliases), v.run_id, v.created, v.source]
            for v in versions
        ),
    )


class ModelRow(Result):
    """One registered model in a list."""

    name: str
    aliases: dict[str, int] = Field(default_factory=dict)
    updated: str | None = None
    description: str | None = None

    @classmethod
    def from_mlflow(cls, rm: RegisteredModel) -> ModelRow:
        """The useful fields of an MLflow RegisteredModel."""
        return cls(
            name=rm.name,
            aliases=alias_map(rm.aliases),
            updated=iso(rm.last_updated_timestamp),
            description=rm.description or None,
        )


class ModelList(Result):
    """Registered models."""

    models: list[ModelRow]
    truncated: bool = False
    next_page_token: str | None = None
    note: str = ""

    def to_text(self) -> str:
        """A table of models, then how to get more."""
        table = markdown_table(
            ["name", "aliases", "updated", "description"],
            (
                [
                    m.name,
                    ", ".join(f"{a}→{v}" for a, v in m.aliases.items()),
                    m.updated,
                    m.description or "",
                ]
                for m in self.models
            ),
        )
        note = f"\n{self.note}" if self.note else ""
        return table + more_hint(self.truncated, self.next_page_token, "models") + note


class ModelDetail(Result):
    """A registered model with its aliases and newest versions."""

    name: str
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    aliases: dict[str, int] = Field(default_factory=dict)
    versions: list[VersionRow] = Field(default_factory=list)
    versions_truncated: bool = False
    warnings: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        """Header lines, then the newest versions as a table."""
        lines = [f"model {self.name}"]
        if self.description:
            lines.append(f"description: {self.description}")
        aliases = ", ".join(f"{a}→v{v}" for a, v in self.aliases.items()) or "(none)"
        lines.append(f"aliases: {aliases}")
        if self.tags:
            lines.append("tags: " + ", ".join(f"{k}={v}" for k, v in self.tags.items()))
        lines.append(versions_table(self.versions))
        if self.versions_truncated:
            lines.append("(newest versions only: registry_list_versions for all)")
        return "\n".join(lines) + warning_lines(self.warnings)


class VersionList(Result):
    """Versions of a registered model, newest first."""

    name: str
    versions: list[VersionRow]
    truncated: bool = False
    next_page_token: str | None = None

    def to_text(self) -> str:
        """The versions as a table, then how to get more."""
        return (
            f"versions of {self.name}\n"
            + versions_table(self.versions)
            + more_hint(self.truncated, self.next_page_token, "versions")
        )


# Tags a Databricks runtime puts on a run, naming what made it: the version's lineage.
LINEAGE_TAGS = {
    "mlflow.databricks.jobID": "job_id",
    "mlflow.databricks.jobRunID": "job_run_id",
    "mlflow.databricks.notebookPath": "notebook",
    "mlflow.source.name": "source",
}


def lineage_of(run_tags: dict[str, str]) -> dict[str, str]:
    """What made a run (job, job run, notebook, or the script), from its tags."""
    found = {short: run_tags[tag] for tag, short in LINEAGE_TAGS.items() if run_tags.get(tag)}
    if "job_id" in found or "notebook" in found:
        found.pop("source", None)  # jobs/<id>/run/<n> repeats them
    return found


class VersionDetail(Result):
    """One model version with its source run's metrics."""

    name: str
    version: int
    status: str | None = None
    aliases: list[str] = Field(default_factory=list)
    run_id: str | None = None
    source: str | None = None
    created: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    metrics_truncated: bool = False
    lineage: dict[str, str] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        """One line per field; metrics of the source run last."""
        lines = [
            f"{self.name} version {self.version} ({self.status or '?'})",
            f"aliases: {', '.join(self.aliases) or '(none)'}",
            f"run_id: {self.run_id or '(none)'}",
            f"source: {self.source}",
            f"created: {self.created}",
        ]
        if self.description:
            lines.append(f"description: {self.description}")
        if self.tags:
            lines.append("tags: " + ", ".join(f"{k}={v}" for k, v in self.tags.items()))
        if self.lineage:
            lines.append("made by: " + ", ".join(f"{k}={v}" for k, v in self.lineage.items()))
        if self.metrics:
            shown = ", ".join(f"{k}={v:g}" for k, v in self.metrics.items())
            more = " (more metrics on the run)" if self.metrics_truncated else ""
            lines.append(f"run metrics: {shown}{more}")
        loader = f"models:/{self.name}/{self.version}"
        lines.append(f"load: mlflow.pyfunc.load_model({loader!r})")
        return "\n".join(lines) + warning_lines(self.warnings)


class RegistryChange(Result):
    """What a registry write did (or, in a preview, would do)."""

    name: str
    action: str
    done: bool = True
    version: int | None = None
    alias: str | None = None
    key: str | None = None
    value: str | None = None
    previous: str | None = None
    message: str = ""
    warnings: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        """The message, then warnings."""
        return self.message + warning_lines(self.warnings)
