"""Checklist items that need the workspace: model registered, champion alias, inference tables.

Names come from the bundle as resolved for the target. A workspace that cannot be reached, or
refuses us, makes these items unknown with the reason: a checklist never crashes on it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from tools_core import ids
from tools_core.backend import Backend
from tools_core.errors import ToolsCoreError
from tools_core.project.results import CheckItem, short
from tools_core.registry.names import MISSING_CODES

CHAMPION = "champion"
PROBE_TIMEOUT_S = 5


def reachable(backend: Backend | None) -> str:
    """Empty when the workspace answers HTTP at all; else why not. A quick probe first: the
    SDK and MLflow clients retry an unreachable host for minutes."""
    if backend is None:
        return "no workspace configured"
    if not backend.host:
        return "the workspace has no host"
    try:
        with urllib.request.urlopen(backend.host, timeout=PROBE_TIMEOUT_S):
            return ""
    except urllib.error.HTTPError:
        return ""  # any HTTP answer (401, 404...) means the workspace is there
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return short(f"workspace {backend.host} unreachable: {reason}", 160)


def _failures() -> tuple[type[BaseException], ...]:
    """Errors that make a workspace item unknown (imported late: heavy modules)."""
    from databricks.sdk.errors import DatabricksError
    from mlflow.exceptions import MlflowException

    return (ToolsCoreError, DatabricksError, MlflowException, OSError)


def model_names(config: dict[str, Any] | None) -> list[str]:
    """Three-level model names the bundle registers or serves."""
    resources = (config or {}).get("resources") or {}
    names: list[str] = []
    for model in (resources.get("registered_models") or {}).values():
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            continue
        parts = [model.get("catalog_name"), model.get("schema_name"), model["name"]]
        full = ".".join(str(p) for p in parts) if all(parts) else model["name"]
        names.append(full)
    for endpoint in _endpoints(config).values():
        for entity in ((endpoint.get("config") or {}).get("served_entities")) or []:
            name = entity.get("entity_name") if isinstance(entity, dict) else None
            if isinstance(name, str) and name.count(".") == 2 and entity.get("entity_version"):
                names.append(name)
    return list(dict.fromkeys(names))


def _endpoints(config: dict[str, Any] | None) -> dict[str, Any]:
    resources = (config or {}).get("resources") or {}
    group = resources.get("model_serving_endpoints") or {}
    return {k: v for k, v in group.items() if isinstance(v, dict)}


def model_items(
    backend: Backend | None, config: dict[str, Any] | None, why: str
) -> list[CheckItem]:
    """model_registered and champion_alias for every model the bundle names."""
    names = model_names(config)
    if config is None or not names:
        evidence = "bundle not readable" if config is None else "the bundle names no model"
        return [
            CheckItem(item=item, status="unknown", evidence=evidence)
            for item in ("model_registered", "champion_alias")
        ]
    unresolved = [n for n in names if "${" in n]
    if unresolved:
        evidence = short(f"model name resolves only on deploy: {unresolved[0]}")
        return [
            CheckItem(item=item, status="unknown", evidence=evidence)
            for item in ("model_registered", "champion_alias")
        ]
    if why:
        return [
            CheckItem(item=item, status="unknown", evidence=why, next_step="Run dbx-devkit doctor.")
            for item in ("model_registered", "champion_alias")
        ]
    from tools_core import registry

    registered: list[str] = []
    missing: list[str] = []
    champions: list[str] = []
    without: list[str] = []
    errors: list[str] = []
    for name in names:
        try:
            model = registry.get_model(backend, name)  # type: ignore[arg-type]
        except _failures() as exc:
            code = getattr(exc, "error_code", "")
            if code in MISSING_CODES:
                missing.append(name)
            else:
                errors.append(short(f"{name}: {exc}", 160))
            continue
        newest = f"v{model.versions[0].version}" if model.versions else "no versions"
        if model.versions:
            registered.append(f"{name} (newest {newest})")
        else:
            missing.append(name)  # a model without versions has nothing to serve
        if CHAMPION in model.aliases:
            champions.append(f"{name}@{CHAMPION} -> v{model.aliases[CHAMPION]}")
        else:
            listed = ", ".join(f"{a}->v{v}" for a, v in model.aliases.items()) or "none"
            without.append(f"{name} (aliases: {listed})")
    if errors:
        reason = "; ".join(errors)
        return [
            CheckItem(item=item, status="unknown", evidence=short(reason))
            for item in ("model_registered", "champion_alias")
        ]
    if missing:
        first = CheckItem(
            item="model_registered",
            status="failed",
            evidence=short(f"no registered version of: {', '.join(missing)}"),
            next_step="Train and register (src/models/train.py, or registry_register_version).",
        )
    else:
        first = CheckItem(
            item="model_registered", status="passed", evidence=short(", ".join(registered))
        )
    if without or missing:
        lacking = without + [f"{n} (not registered)" for n in missing]
        second = CheckItem(
            item="champion_alias",
            status="failed",
            evidence=short(f"no {CHAMPION} alias: {', '.join(lacking)}"),
            next_step="Promote with registry_promote (or registry_set_alias alias=champion).",
        )
    else:
        second = CheckItem(item="champion_alias", status="passed", evidence=", ".join(champions))
    return [first, second]


def _declares_capture(endpoint: dict[str, Any]) -> str:
    """Which inference-table setting an endpoint resource turns on ('' for none)."""
    gateway = (endpoint.get("ai_gateway") or {}).get("inference_table_config") or {}
    if gateway and gateway.get("enabled") is not False:
        return "ai_gateway.inference_table_config"
    capture = (endpoint.get("config") or {}).get("auto_capture_config") or {}
    if capture and capture.get("enabled") is not False:
        return "config.auto_capture_config"
    return ""


def inference_tables(backend: Backend | None, config: dict[str, Any] | None, why: str) -> CheckItem:
    """The bundle's serving endpoints declare inference tables, and the deployed endpoint
    (the one serving the champion) logs to one: passed only then, with the table's name."""
    from tools_core.serving.endpoints import inference_table

    name = "inference_tables"
    endpoints = _endpoints(config)
    if config is None:
        return CheckItem(item=name, status="unknown", evidence="bundle not readable")
    if not endpoints:
        return CheckItem(
            item=name, status="unknown", evidence="the bundle declares no serving endpoint"
        )
    bare = [key for key, spec in endpoints.items() if not _declares_capture(spec)]
    if bare:
        return CheckItem(
            item=name,
            status="failed",
            evidence=short(f"no inference tables on endpoint(s): {', '.join(sorted(bare))}"),
            next_step="Add ai_gateway.inference_table_config (enabled: true) to each endpoint.",
        )
    declared = ", ".join(f"{k} ({_declares_capture(v)})" for k, v in endpoints.items())
    if why:
        return CheckItem(
            item=name, status="unknown", evidence=short(f"bundle: {declared}; workspace: {why}")
        )
    from databricks.sdk.errors import NotFound

    notes: list[str] = []
    tables: list[str] = []
    for spec in endpoints.values():
        endpoint_name = spec.get("name")
        if not isinstance(endpoint_name, str) or "${" in endpoint_name:
            continue
        try:
            in_url = ids.name(endpoint_name, "endpoint name")
            deployed = backend.client.serving_endpoints.get(in_url)  # type: ignore[union-attr]
        except NotFound:
            # Development mode deploys under a prefixed name: not found is not a failure.
            notes.append(f"{endpoint_name} not deployed")
            continue
        except _failures() as exc:
            notes.append(short(f"{endpoint_name}: {exc}", 120))
            continue
        table = inference_table(deployed)
        if not table:
            return CheckItem(
                item=name,
                status="failed",
                evidence=f"deployed endpoint {endpoint_name} logs no inference table",
                next_step="Deploy the bundle again (bundle_deploy) so the endpoint gets it.",
            )
        tables.append(f"{endpoint_name} logs to {table}")
    if not tables:
        return CheckItem(
            item=name,
            status="unknown",
            evidence=short(f"bundle: {declared}; {'; '.join(notes) or 'no endpoint name'}"),
            next_step="Deploy the endpoint (bundle_deploy), then check again.",
        )
    return CheckItem(item=name, status="passed", evidence=short("; ".join(tables + notes)))


def feature_naming(backend: Backend | None, config: dict[str, Any] | None, why: str) -> CheckItem:
    """Feature columns of the feature tables in the project's schemas follow
    ``noun_metric_window`` (e.g. ``customer_spend_30d``)."""
    from tools_core.features import list_tables

    name = "feature_naming"
    schemas = sorted({model.rsplit(".", 1)[0] for model in model_names(config)})
    if why or backend is None:
        return CheckItem(item=name, status="unknown", evidence=why or "no workspace")
    if not schemas:
        return CheckItem(item=name, status="unknown", evidence="no catalog.schema in the bundle")
    warnings: list[str] = []
    tables = 0
    try:
        for schema in schemas:
            catalog, schema_name = schema.split(".")
            found = list_tables(backend, catalog, schema_name)
            tables += len(found.tables)
            warnings += [f"{t.name}.{w}" for t in found.tables for w in t.warnings]
    except _failures() as exc:
        return CheckItem(item=name, status="unknown", evidence=short(f"{schema}: {exc}", 160))
    if not tables:
        return CheckItem(
            item=name, status="unknown", evidence=f"no feature tables in {', '.join(schemas)}"
        )
    if not warnings:
        return CheckItem(
            item=name, status="passed", evidence=f"{tables} feature table(s), noun_metric_window"
        )
    return CheckItem(
        item=name,
        status="failed",
        evidence=short(f"{len(warnings)} feature name(s) off convention; first: {warnings[0]}"),
        next_step="Rename features as noun_metric_window, e.g. customer_spend_30d.",
    )
