"""A bundle's configuration: databricks.yml, its includes, targets and variables.

Loading follows the databricks CLI: included files merge into the root configuration; a
target's settings override the top-level ones (mappings merge, job tasks merge by task_key);
``${var.x}`` takes the target's value, else the variable's default; lookups resolve only on
deploy. Every step reports findings with the file and line they come from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools_core.bundles.findings import Findings
from tools_core.bundles.nodes import Node, load_file, merge
from tools_core.bundles.schema import suggest
from tools_core.errors import ToolsCoreError

ROOT_FILES = ("databricks.yml", "databricks.yaml", "bundle.yml", "bundle.yaml")
TOP_KEYS = (
    "bundle", "include", "variables", "workspace", "artifacts", "resources", "targets",
    "environments", "sync", "permissions", "run_as", "experimental", "presets", "python",
    "scripts", "git",
)  # fmt: skip
TARGET_KEYS = (
    "default", "mode", "bundle", "workspace", "artifacts", "resources", "variables", "git",
    "run_as", "sync", "permissions", "presets", "cluster_id", "compute_id",
)  # fmt: skip
VARIABLE_KEYS = ("default", "description", "type", "lookup")
LOOKUPS = (
    "alert", "cluster", "cluster_policy", "dashboard", "instance_pool", "job", "metastore",
    "notification_destination", "pipeline", "query", "service_principal", "warehouse",
)  # fmt: skip
# Sequences in a job or pipeline that a target merges entry by entry, by this key.
KEYED_SEQUENCES = {
    ("jobs", "tasks"): "task_key",
    ("jobs", "job_clusters"): "job_cluster_key",
    ("jobs", "environments"): "environment_key",
    ("pipelines", "clusters"): "label",
}
BUNDLE_FIELDS = (
    "name", "target", "environment", "git", "uuid", "cluster_id", "compute_id",
    "databricks_cli_version", "deployment",
)  # fmt: skip
WORKSPACE_FIELDS = (
    "current_user", "host", "profile", "root_path", "file_path", "artifact_path", "state_path",
    "resource_path",
)  # fmt: skip
REFERENCE = re.compile(r"\$\{([^}]*)\}")


@dataclass
class Bundle:
    """A loaded bundle: its merged configuration (targets still inside) and its files."""

    root: Path
    config: Node
    files: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        bundle = self.config.get("bundle")
        name = bundle.get("name") if bundle else None
        return str(name.value) if name is not None and name.value is not None else ""

    @property
    def targets(self) -> Node | None:
        return self.config.get("targets") or self.config.get("environments")


def locate(path: str | Path) -> tuple[Path, Path]:
    """(bundle root directory, root file) for a directory or a databricks.yml path."""
    given = Path(path).expanduser()
    if given.is_file():
        return given.parent.resolve(), given.resolve()
    if given.is_dir():
        for name in ROOT_FILES:
            if (given / name).is_file():
                return given.resolve(), (given / name).resolve()
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            f"No databricks.yml in {given}.",
            "Pass the bundle's root directory (the one holding databricks.yml), or create "
            "one with `databricks bundle init`.",
        )
    raise ToolsCoreError(
        "RESOURCE_DOES_NOT_EXIST",
        f"{given} does not exist.",
        "Pass the bundle's root directory or its databricks.yml.",
    )


def load(root: Path, root_file: Path, found: Findings) -> Bundle | None:
    """The root file and its includes merged into one configuration; None if unreadable."""
    config = load_file(root_file, root_file.name, found)
    if config is None:
        return None
    if not config.is_map:
        found.error(config.file, config.line, "", "databricks.yml must be a mapping")
        return None
    _check_keys(config, TOP_KEYS, "", "top-level key", found)
    bundle = Bundle(root, config, [root_file.name])
    name = config.get("bundle")
    if name is None or not name.is_map or name.get("name") is None:
        found.error(config.file, name.where if name else 1, "bundle", "bundle.name is required")
    for included in _includes(root, config, found):
        shown = included.relative_to(root).as_posix()
        if shown in bundle.files:
            continue
        node = load_file(included, shown, found)
        bundle.files.append(shown)
        if node is None or node.value is None:
            continue
        if not node.is_map:
            found.error(shown, node.line, "", "an included file must be a mapping")
            continue
        _check_keys(node, TOP_KEYS, "", "top-level key", found)
        _duplicate_resources(bundle.config, node, found)
        bundle.config = merge(bundle.config, node)
    return bundle


def _includes(root: Path, config: Node, found: Findings) -> list[Path]:
    include = config.get("include")
    if include is None or include.value is None:
        return []
    if not include.is_list:
        found.error(include.file, include.where, "include", "include must be a list of globs")
        return []
    paths: list[Path] = []
    for i, item in enumerate(include.value):
        pattern = str(item.value)
        where = f"include[{i}]"
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            found.error(item.file, item.line, where, f"include '{pattern}' leaves the bundle root")
            continue
        matches = sorted(p for p in root.glob(pattern) if p.is_file())
        if not matches:
            is_glob = any(ch in pattern for ch in "*?[")
            message = f"include '{pattern}' matches no file"
            if is_glob:
                found.warning(item.file, item.line, where, message)
            else:
                found.error(item.file, item.line, where, message)
        paths.extend(m for m in matches if m.suffix in (".yml", ".yaml"))
    return paths


def _duplicate_resources(config: Node, added: Node, found: Findings) -> None:
    resources, more = config.get("resources"), added.get("resources")
    if resources is None or more is None or not resources.is_map or not more.is_map:
        return
    for rtype, entries in more.value.items():
        known = resources.get(rtype)
        if known is None or not known.is_map or not entries.is_map:
            continue
        for key, node in entries.value.items():
            if key in known.value:
                first = known.value[key]
                found.error(
                    node.file,
                    node.where,
                    f"resources.{rtype}.{key}",
                    f"resource {rtype}.{key} is already defined at {first.file}:{first.where}",
                )


def _check_keys(
    node: Node, allowed: tuple[str, ...], path: str, what: str, found: Findings
) -> None:
    for key, child in node.value.items():
        if key not in allowed:
            found.error(
                child.file,
                child.where,
                f"{path}.{key}" if path else key,
                f"unknown {what} '{key}'" + suggest(key, allowed),
            )


# --- targets ------------------------------------------------------------------------------


def check_targets(bundle: Bundle, found: Findings) -> list[str]:
    """Target-level checks (keys, mode, one default); the names of the targets."""
    targets = bundle.targets
    if targets is None or targets.value is None:
        return []
    if not targets.is_map:
        found.error(targets.file, targets.where, "targets", "targets must be a mapping")
        return []
    defaults: list[str] = []
    for name, target in targets.value.items():
        path = f"targets.{name}"
        if target.value is None:
            continue
        if not target.is_map:
            found.error(target.file, target.where, path, f"target {name} must be a mapping")
            continue
        _check_keys(target, TARGET_KEYS, path, "target key", found)
        mode = target.get("mode")
        if mode is not None and mode.value not in ("development", "production"):
            found.error(
                mode.file,
                mode.where,
                f"{path}.mode",
                f"mode must be development or production, not {mode.value!r}",
            )
        default = target.get("default")
        if default is not None and default.value is True:
            defaults.append(name)
            if len(defaults) > 1:
                found.error(
                    default.file,
                    default.where,
                    f"{path}.default",
                    f"more than one default target ({', '.join(defaults)}): keep one",
                )
    return [str(name) for name in targets.value]


def for_target(bundle: Bundle, target: str | None) -> Node:
    """The configuration a target deploys: top level with the target's overrides merged."""
    base = {
        k: v.clone()
        for k, v in bundle.config.value.items()
        if k not in ("targets", "environments", "include")
    }
    config = Node(base, bundle.config.file, bundle.config.line)
    targets = bundle.targets
    node = targets.get(target) if (targets is not None and target) else None
    if node is None or not node.is_map:
        return config
    for key, value in node.value.items():
        if key in ("default", "mode", "variables"):
            continue
        value = value.clone()
        current = config.value.get(key)
        if key == "resources" and current is not None:
            config.value[key] = _merge_resources(current, value)
        else:
            config.value[key] = merge(current, value) if current is not None else value
    return config


def _merge_resources(base: Node, over: Node) -> Node:
    if not base.is_map or not over.is_map:
        return merge(base, over)
    merged = dict(base.value)
    for rtype, entries in over.value.items():
        known = merged.get(rtype)
        if known is None or not known.is_map or not entries.is_map:
            merged[rtype] = merge(known, entries) if known is not None else entries
            continue
        group = dict(known.value)
        for key, resource in entries.value.items():
            group[key] = _merge_keyed(rtype, group[key], resource) if key in group else resource
        merged[rtype] = Node(group, known.file, known.line, known.key_line)
    return Node(merged, base.file, base.line, base.key_line)


def _merge_keyed(rtype: str, base: Node, over: Node) -> Node:
    """Merge one resource; sequences such as job tasks merge entry by entry, by their key."""
    result = merge(base, over)
    if not (result.is_map and base.is_map and over.is_map):
        return result
    for (kind, name), key in KEYED_SEQUENCES.items():
        if kind != rtype or name not in over.value:
            continue
        first, second = base.get(name), over.get(name)
        if first is None or second is None or not first.is_list or not second.is_list:
            continue
        items = list(first.value)
        for entry in second.value:
            index = next(
                (
                    i
                    for i, old in enumerate(items)
                    if old.is_map
                    and entry.is_map
                    and old.scalar(key) is not None
                    and old.scalar(key) == entry.scalar(key)
                ),
                None,
            )
            if index is None:
                items.append(entry)
            else:
                items[index] = merge(items[index], entry)
        result.value[name] = Node(items, first.file, first.line, first.key_line)
    return result


def default_target(bundle: Bundle) -> str | None:
    """The target the CLI uses without -t: the one with ``default: true``, or the only one."""
    targets = bundle.targets
    if targets is None or not targets.is_map:
        return None
    marked = [str(k) for k, v in targets.value.items() if v.is_map and v.scalar("default") is True]
    if marked:
        return marked[0]
    return str(next(iter(targets.value))) if len(targets.value) == 1 else None


def target_mode(bundle: Bundle, target: str | None) -> Node | None:
    """The target's ``mode`` node, if it sets one."""
    targets = bundle.targets
    node = targets.get(target) if (targets is not None and target) else None
    return node.get("mode") if node is not None else None


# --- variables and references -------------------------------------------------------------


@dataclass
class Scope:
    """What references resolve to in one target: known values, and which names exist."""

    target: str | None
    values: dict[str, Node | None] = field(default_factory=dict)  # var name -> value (None: lookup)
    known: dict[str, Any] = field(default_factory=dict)  # "bundle.name" -> value


def variables(bundle: Bundle, config: Node, target: str | None, found: Findings) -> Scope:
    """The variables' values in ``target``, with findings on their declarations."""
    scope = Scope(target)
    scope.known["bundle.name"] = bundle.name
    if target:
        scope.known["bundle.target"] = target
        scope.known["bundle.environment"] = target
    decls = config.get("variables")
    if decls is not None and decls.value is not None and not decls.is_map:
        found.error(decls.file, decls.where, "variables", "variables must be a mapping")
        decls = None
    declared: dict[str, Node] = dict(decls.value) if decls is not None and decls.is_map else {}
    overrides = _target_variables(bundle, target, found)
    for name, decl in declared.items():
        path = f"variables.{name}"
        value: Node | None = None
        lookup: Node | None = None
        if decl.is_map:
            _check_keys(decl, VARIABLE_KEYS, path, "variable key", found)
            value, lookup = decl.get("default"), decl.get("lookup")
            kind = decl.get("type")
            if kind is not None and kind.value != "complex":
                found.error(
                    kind.file, kind.where, f"{path}.type", "the only variable type is 'complex'"
                )
        elif decl.value is not None:
            value = decl  # shorthand: `name: value`
        override = overrides.get(name)
        if override is not None:
            if override.is_map and ("default" in override.value or "lookup" in override.value):
                value, lookup = override.get("default"), override.get("lookup")
            else:
                value, lookup = override, None
        if lookup is not None:
            _check_lookup(lookup, f"{path}.lookup", found)
            found.info(
                lookup.file, lookup.where, path, f"variable {name} is a lookup: resolved on deploy"
            )
            scope.values[name] = None
        elif value is None:
            where = target or "the bundle"
            found.error(
                decl.file,
                decl.where,
                path,
                f"variable {name} has no value in {where}: give it a default, set it in "
                f"targets.<target>.variables, or pass --var {name}=... (BUNDLE_VAR_{name})",
            )
            scope.values[name] = None
        else:
            scope.values[name] = value
    for name, override in overrides.items():
        if name not in declared:
            found.error(
                override.file,
                override.where,
                f"targets.{target}.variables.{name}",
                f"variable {name} is set here but not declared under top-level variables"
                + suggest(name, declared),
            )
    return scope


def _target_variables(bundle: Bundle, target: str | None, found: Findings) -> dict[str, Node]:
    targets = bundle.targets
    node = targets.get(target) if (targets is not None and target) else None
    values = node.get("variables") if node is not None else None
    if values is None or values.value is None:
        return {}
    if not values.is_map:
        found.error(values.file, values.where, f"targets.{target}.variables", "must be a mapping")
        return {}
    return dict(values.value)


def _check_lookup(lookup: Node, path: str, found: Findings) -> None:
    if not lookup.is_map or len(lookup.value) != 1:
        found.error(
            lookup.file, lookup.where, path, "lookup takes exactly one of " + ", ".join(LOOKUPS)
        )
        return
    (kind,) = lookup.value
    if kind not in LOOKUPS:
        found.error(
            lookup.file, lookup.where, path, f"unknown lookup '{kind}'" + suggest(kind, LOOKUPS)
        )


def substitute(config: Node, scope: Scope, found: Findings) -> Node:
    """``config`` with references resolved where the value is known offline; unknown
    references become findings. Resource references must name a defined resource."""
    resources = config.get("resources")

    def ref_value(ref: str, node: Node, path: str, depth: int) -> tuple[bool, Any]:
        """(known, value) of one reference; reports references to nothing."""
        parts = ref.split(".")
        head = parts[0]
        if head in ("var", "variables"):
            name = re.split(r"[.\[]", ref.split(".", 1)[1] if "." in ref else "", maxsplit=1)[0]
            if name not in scope.values:
                found.error(
                    node.file,
                    node.where,
                    path,
                    f"unknown variable ${{{ref}}}" + suggest(name, scope.values),
                )
                return False, None
            value = scope.values[name]
            if value is None or ref.count(".") > (1 if head == "var" else 2) or "[" in ref:
                return False, None
            if depth > 10:
                found.error(node.file, node.where, path, f"variable {name} references itself")
                return False, None
            return True, walk(value.clone(), path, depth + 1)
        if ref in scope.known:
            return True, scope.known[ref]
        if head in ("bundle", "workspace"):
            fields = BUNDLE_FIELDS if head == "bundle" else WORKSPACE_FIELDS
            field_name = parts[1] if len(parts) > 1 else ""
            if field_name not in fields:
                found.error(
                    node.file,
                    node.where,
                    path,
                    f"unknown reference ${{{ref}}}" + suggest(field_name, fields),
                )
            return False, None
        if head == "resources":
            _check_resource_ref(ref, parts, node, path)
            return False, None
        if head in ("artifacts", "sync", "presets", "experimental"):
            return False, None
        found.error(node.file, node.where, path, f"unknown reference ${{{ref}}}")
        return False, None

    def _check_resource_ref(ref: str, parts: list[str], node: Node, path: str) -> None:
        if len(parts) < 4:
            found.error(
                node.file, node.where, path, f"${{{ref}}}: expected resources.<type>.<key>.<field>"
            )
            return
        group = resources.get(parts[1]) if resources is not None else None
        if group is None or not group.is_map:
            found.error(node.file, node.where, path, f"${{{ref}}}: no {parts[1]} in this bundle")
        elif parts[2] not in group.value:
            found.error(
                node.file,
                node.where,
                path,
                f"${{{ref}}}: no {parts[1]} resource '{parts[2]}'" + suggest(parts[2], group.value),
            )

    def walk(node: Node, path: str, depth: int = 0) -> Node:
        if node.is_map:
            for key, child in list(node.value.items()):
                if path == "" and key == "variables":
                    continue  # declarations are resolved through their uses
                node.value[key] = walk(child, f"{path}.{key}" if path else key, depth)
            return node
        if node.is_list:
            node.value = [walk(c, f"{path}[{i}]", depth) for i, c in enumerate(node.value)]
            return node
        if not isinstance(node.value, str) or "${" not in node.value:
            return node
        text: str = node.value
        refs = REFERENCE.findall(text)
        if len(refs) == 1 and text == f"${{{refs[0]}}}":
            known, value = ref_value(refs[0], node, path, depth)
            if not known:
                return node
            if isinstance(value, Node):
                if value.is_map or value.is_list:
                    return Node(value.value, node.file, node.line, node.key_line)
                value = value.value
            return Node(value, node.file, node.line, node.key_line)
        resolved = text
        for ref in refs:
            known, value = ref_value(ref, node, path, depth)
            if isinstance(value, Node):
                value = value.value if not (value.is_map or value.is_list) else None
            if known and value is not None:
                resolved = resolved.replace(f"${{{ref}}}", str(value))
        return Node(resolved, node.file, node.line, node.key_line)

    return walk(config, "")
