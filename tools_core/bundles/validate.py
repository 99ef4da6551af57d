"""bundle_validate: a bundle's configuration checked offline, every finding with file:line."""

from __future__ import annotations

from pathlib import Path

from tools_core.bundles import checks, config, schema
from tools_core.bundles.findings import BundleValidation, Findings
from tools_core.bundles.nodes import Node
from tools_core.errors import InvalidInput


def validate(path: str | Path, target: str | None = None) -> BundleValidation:
    """Validate the bundle at ``path`` (its root directory or databricks.yml).

    With ``target``, only that target; otherwise every target (a problem seen in several
    targets is reported once), or the top level when the bundle has no targets.
    """
    root, root_file = config.locate(path)
    found = Findings()
    bundle = config.load(root, root_file, found)
    if bundle is None:
        return BundleValidation.build("", str(root), [], 1, found)
    names = config.check_targets(bundle, found)
    if target and target not in names:
        raise InvalidInput(
            f"Target {target!r} is not defined in {root_file.name}"
            + (f" (targets: {', '.join(names)})." if names else " (it has no targets)."),
            "Pass one of the bundle's targets, or omit target to validate them all.",
        )
    chosen: list[str | None] = [target] if target else [*names] or [None]
    for name in chosen:
        _validate_target(bundle, name, found)
    return BundleValidation.build(bundle.name, str(root), names, len(bundle.files), found)


def _validate_target(bundle: config.Bundle, target: str | None, found: Findings) -> None:
    merged = config.for_target(bundle, target)
    scope = config.variables(bundle, merged, target, found)
    resolved = config.substitute(merged, scope, found)
    _check_resource_types(resolved, found)
    checks.check_resources(resolved, bundle.root, found)
    if target:
        checks.check_mode(resolved, config.target_mode(bundle, target), target, found)


def _check_resource_types(resolved: Node, found: Findings) -> None:
    resources = resolved.get("resources")
    if resources is None or resources.value is None:
        return
    if not resources.is_map:
        found.error(resources.file, resources.where, "resources", "resources must be a mapping")
        return
    for rtype, group in resources.value.items():
        cls = schema.resource_class(rtype)
        if cls is None:
            found.error(
                group.file,
                group.where,
                f"resources.{rtype}",
                f"unknown resource type '{rtype}'" + schema.suggest(rtype, schema.RESOURCE_TYPES),
            )
            continue
        if group.value is None:
            continue
        if not group.is_map:
            found.error(group.file, group.where, f"resources.{rtype}", f"{rtype} must be a mapping")
            continue
        for key, resource in group.value.items():
            schema.check(resource, cls, f"resources.{rtype}.{key}", found)
