"""registry tools: registered models, versions, aliases, tags, champion/challenger promotion."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from server.registry import reader, writer
from server.runtime import backend_of
from tools_core import registry as core

# Terse on purpose: tools/list is context every agent pays on every turn.
Name = Annotated[str, Field(description="catalog.schema.model_name")]
Version = Annotated[int, Field(ge=1, description="Version number")]
Alias = Annotated[str, Field(description="Alias, e.g. champion")]
Limit = Annotated[int, Field(ge=1, le=200, description="Max rows")]
Page = Annotated[str, Field(description="next_page_token")]


@reader("registry")
def registry_list_models(
    ctx: Context,
    name_like: Annotated[str, Field(description="LIKE pattern, e.g. main.ml.%")] = "",
    limit: Limit = 50,
    page_token: Page = "",
) -> core.ModelList:
    """Registered models with aliases. Details: registry_get_model."""
    return core.list_models(backend_of(ctx), name_like, limit, page_token)


@reader("registry")
def registry_get_model(ctx: Context, name: Name) -> core.ModelDetail:
    """A model's description, tags, aliases, newest versions."""
    return core.get_model(backend_of(ctx), name)


@reader("registry")
def registry_list_versions(
    ctx: Context, name: Name, limit: Limit = 50, page_token: Page = ""
) -> core.VersionList:
    """Versions, newest first: status, aliases, run, source."""
    return core.list_versions(backend_of(ctx), name, limit, page_token)


@reader("registry")
def registry_get_version(
    ctx: Context,
    name: Name,
    version: Annotated[int | None, Field(ge=1, description="Version number")] = None,
    alias: Annotated[str, Field(description="Or an alias")] = "",
) -> core.VersionDetail:
    """One version (by number or alias), its tags and run metrics."""
    return core.get_version(backend_of(ctx), name, version, alias)


@writer("registry", destructive=False, idempotent=False)
def registry_register_version(
    ctx: Context,
    name: Name,
    model_uri: Annotated[str, Field(description="runs:/<run_id>/model or models:/m-...")],
    description: Annotated[str, Field(description="Version description")] = "",
) -> core.RegistryChange:
    """Register a logged model as a new version (model created if missing)."""
    return core.register_version(backend_of(ctx), name, model_uri, description)


@writer("registry", destructive=True, idempotent=True)
def registry_set_alias(
    ctx: Context, name: Name, alias: Alias, version: Version
) -> core.RegistryChange:
    """Point an alias at a version (moves it if set)."""
    return core.set_alias(backend_of(ctx), name, alias, version)


@writer("registry", destructive=True, idempotent=True)
def registry_delete_alias(
    ctx: Context,
    name: Name,
    alias: Alias,
    confirm: Annotated[bool, Field(description="Really delete")] = False,
) -> core.RegistryChange:
    """Delete an alias. Without confirm=true: preview only."""
    return core.delete_alias(backend_of(ctx), name, alias, confirm)


@writer("registry", destructive=True, idempotent=True)
def registry_set_tag(
    ctx: Context,
    name: Name,
    key: Annotated[str, Field(description="Tag key")],
    value: Annotated[str, Field(description="Tag value")],
    version: Annotated[int | None, Field(ge=1, description="Version; omit: model tag")] = None,
) -> core.RegistryChange:
    """Set (overwrite) a model or version tag."""
    return core.set_tag(backend_of(ctx), name, key, value, version)


@writer("registry", destructive=True, idempotent=True)
def registry_promote(
    ctx: Context,
    name: Name,
    metric: Annotated[str, Field(description="Metric name")],
    higher_is_better: Annotated[bool, Field(description="False for losses")] = True,
    min_improvement: Annotated[float, Field(ge=0, description="Absolute margin")] = 0.0,
    challenger_alias: Annotated[str, Field(description="Challenger alias")] = "challenger",
    champion_alias: Annotated[str, Field(description="Champion alias")] = "champion",
    confirm: Annotated[bool, Field(description="Really move the alias")] = False,
    metric_from: Annotated[
        core.MetricFrom, Field(description="run, or evaluation (mlflow_evaluate's run)")
    ] = "run",
) -> core.Promotion:
    """Champion → challenger's version if it wins on metric; old one keeps previous_champion.
    No confirm: report."""
    return core.promote(
        backend_of(ctx),
        name,
        metric,
        challenger_alias,
        champion_alias,
        higher_is_better,
        min_improvement,
        confirm,
        metric_from,
    )
