"""Resource settings checked against the typed models of ``databricks-bundles``.

``databricks-bundles`` (Databricks' own Python support for bundles) models every bundle
resource as a dataclass generated from the CLI's schema: field names, nested types, enums,
required fields and ``${...}`` references (``Variable``). Its ``from_dict`` stops at the first
problem and says neither where nor which path, so we walk its type hints ourselves and
collect every finding with its file and line. pydantic's ``TypeAdapter`` would not serve: it
refuses these hints (``type[list[...]]``), and the CLI's own conversions (``"yes"`` is a
boolean, any scalar a string), ``${...}`` references and enum warnings are not its rules.
databricks-bundles is imported lazily: it is not needed at start-up.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import importlib
import types
import typing
from typing import Any

from tools_core.bundles.findings import Findings
from tools_core.bundles.nodes import Node

# Resource type in databricks.yml -> (module of databricks-bundles, class name): every module
# imported is listed here in full, never computed; imported on first use (not at start-up).
RESOURCE_TYPES: dict[str, tuple[str, str]] = {
    "jobs": ("databricks.bundles.jobs", "Job"),
    "pipelines": ("databricks.bundles.pipelines", "Pipeline"),
    "experiments": ("databricks.bundles.experiments", "MlflowExperiment"),
    "registered_models": ("databricks.bundles.registered_models", "RegisteredModel"),
    "model_serving_endpoints": (
        "databricks.bundles.model_serving_endpoints",
        "ModelServingEndpoint",
    ),
    "schemas": ("databricks.bundles.schemas", "Schema"),
    "volumes": ("databricks.bundles.volumes", "Volume"),
    "models": ("databricks.bundles.models", "MlflowModel"),
    "clusters": ("databricks.bundles.clusters", "Cluster"),
    "dashboards": ("databricks.bundles.dashboards", "Dashboard"),
    "apps": ("databricks.bundles.apps", "App"),
    "quality_monitors": ("databricks.bundles.quality_monitors", "QualityMonitor"),
    "secret_scopes": ("databricks.bundles.secret_scopes", "SecretScope"),
    "sql_warehouses": ("databricks.bundles.sql_warehouses", "SqlWarehouse"),
    "catalogs": ("databricks.bundles.catalogs", "Catalog"),
    "alerts": ("databricks.bundles.alerts", "Alert"),
    "database_instances": ("databricks.bundles.database_instances", "DatabaseInstance"),
    "database_catalogs": ("databricks.bundles.database_catalogs", "DatabaseCatalog"),
    "synced_database_tables": ("databricks.bundles.synced_database_tables", "SyncedDatabaseTable"),
    "external_locations": ("databricks.bundles.external_locations", "ExternalLocation"),
    "vector_search_endpoints": (
        "databricks.bundles.vector_search_endpoints",
        "VectorSearchEndpoint",
    ),
    "vector_search_indexes": ("databricks.bundles.vector_search_indexes", "VectorSearchIndex"),
    "cluster_policies": ("databricks.bundles.cluster_policies", "ClusterPolicy"),
    "instance_pools": ("databricks.bundles.instance_pools", "InstancePool"),
}

# Strings the CLI normalizes to booleans (libs/dyn/convert/normalize.go).
_BOOL_STRINGS = {"true", "false", "yes", "no", "on", "off", "y", "n"}


def resource_class(resource_type: str) -> type | None:
    """The databricks-bundles dataclass of a resource type, or None if it is unknown."""
    spec = RESOURCE_TYPES.get(resource_type)
    if spec is None:
        return None
    module = importlib.import_module(spec[0])
    cls: type = getattr(module, spec[1])
    return cls


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _required(cls: type) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def is_reference(value: Any) -> bool:
    """A string that is exactly one ``${...}`` reference (its type is known only at deploy)."""
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def suggest(word: str, options: typing.Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or nothing."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _concrete(tp: Any) -> list[Any]:
    """The accepted types of a hint, without Variable[...] and None."""
    from databricks.bundles.core import Variable

    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        out: list[Any] = []
        for arg in typing.get_args(tp):
            if arg is type(None) or typing.get_origin(arg) is Variable or arg is Variable:
                continue
            out.extend(_concrete(arg))
        return out
    return [tp]


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is list:
        return "a list"
    if origin is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in tp)
    return {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _describe(node: Node) -> str:
    if node.is_map:
        return "a mapping"
    if node.is_list:
        return "a list"
    return repr(node.value)


def check(node: Node, tp: Any, path: str, found: Findings) -> None:
    """Check ``node`` against the type hint ``tp``; findings go to ``found``."""
    if node.value is None or is_reference(node.value):
        return  # null means "not set"; a reference is typed at deploy time
    options = _concrete(tp)
    if not options or any(o is Any for o in options):
        return
    if len(options) > 1:
        # Rare unions: accept the node if any option fits, else report the first option.
        for option in options:
            trial = Findings()
            check(node, option, path, trial)
            if not trial.items:
                return
    _check_one(node, options[0], path, found)


def _check_one(node: Node, tp: Any, path: str, found: Findings) -> None:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        _check_dataclass(node, tp, path, found)
    elif origin is list:
        if not node.is_list:
            _wrong(node, "a list", path, found)
            return
        (item_type,) = typing.get_args(tp)
        for i, item in enumerate(node.value):
            check(item, item_type, f"{path}[{i}]", found)
    elif origin is dict:
        if not node.is_map:
            _wrong(node, "a mapping", path, found)
            return
        value_type = typing.get_args(tp)[1]
        for key, item in node.value.items():
            check(item, value_type, f"{path}.{key}", found)
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [str(m.value) for m in tp]
        if node.is_map or node.is_list:
            _wrong(node, _type_name(tp), path, found)
        elif str(node.value) not in allowed:
            # The CLI warns (it does not fail) on values outside an enum: new values appear
            # on the server before they reach the schema.
            found.warning(
                node.file,
                node.where,
                path,
                f"{path.rsplit('.', 1)[-1]}: {node.value!r} is not one of {', '.join(allowed)}"
                + suggest(str(node.value), allowed),
            )
    else:
        _check_scalar(node, tp, path, found)


def _check_scalar(node: Node, tp: Any, path: str, found: Findings) -> None:
    value = node.value
    if node.is_map or node.is_list:
        _wrong(node, _type_name(tp), path, found)
        return
    fits = True
    if tp is bool:
        fits = isinstance(value, bool) or (
            isinstance(value, str) and value.lower() in _BOOL_STRINGS
        )
    elif tp is int:
        fits = (isinstance(value, int) and not isinstance(value, bool)) or _parses(value, int)
    elif tp is float:
        fits = (isinstance(value, int | float) and not isinstance(value, bool)) or _parses(
            value, float
        )
    # Strings: the CLI turns any scalar into a string, so every scalar fits.
    if not fits:
        _wrong(node, _type_name(tp), path, found)


def _parses(value: Any, kind: type) -> bool:
    """A string the CLI would convert to ``kind`` (or one holding a reference)."""
    if not isinstance(value, str):
        return False
    if "${" in value:
        return True
    try:
        kind(value)
    except ValueError:
        return False
    return True


def _wrong(node: Node, expected: str, path: str, found: Findings) -> None:
    name = path.rsplit(".", 1)[-1]
    found.error(node.file, node.where, path, f"{name}: expected {expected}, got {_describe(node)}")


def _check_dataclass(node: Node, cls: type, path: str, found: Findings) -> None:
    if not node.is_map:
        _wrong(node, "a mapping", path, found)
        return
    hints = _hints(cls)
    for key, child in node.value.items():
        child_path = f"{path}.{key}"
        if key not in hints:
            found.error(
                child.file,
                child.where,
                child_path,
                f"unknown field '{key}' in {_kind(cls)}" + suggest(key, hints),
            )
            continue
        check(child, hints[key], child_path, found)
    for name in _required(cls):
        if node.value.get(name) is None:
            found.error(
                node.file, node.where, path, f"missing required field '{name}' in {_kind(cls)}"
            )


def _kind(cls: type) -> str:
    """A settings class as words: ``Task`` -> ``task``, ``JobCluster`` -> ``job cluster``."""
    name = cls.__name__
    words = [""]
    for ch in name:
        if ch.isupper() and words[-1]:
            words.append("")
        words[-1] += ch.lower()
    return " ".join(words)
