"""The tools reference (docs/tools.md), generated from the tool registry so it cannot rot."""

from __future__ import annotations

import json
from typing import Any

from server.registry import ToolSpec
from server.settings import TOOLSETS
from server.specs import all_specs

HEADER = """# Tools reference

Generated from the tool registry by `dbx-devkit tools --reference`; do not edit by hand
(a test fails when this file is out of date; regenerate with
`DBX_DEVKIT_UPDATE_SNAPSHOT=1 pytest tests/test_structure.py tests/test_skills.py`).

Annotations: `read-only` tools never change anything (they stay in `--read-only` mode);
`write` tools change the workspace, `destructive` ones delete or overwrite and change
nothing unless called with `confirm=true`, `idempotent` ones can be repeated safely.
"""


def tools_reference() -> str:
    """docs/tools.md: every tool by toolset with annotations, description and parameters."""
    import anyio

    specs = all_specs()
    schemas = anyio.run(_input_schemas)
    by_toolset: dict[str, list[ToolSpec]] = {}
    for spec in specs.values():
        by_toolset.setdefault(spec.toolset, []).append(spec)
    order = [t for t in TOOLSETS if t in by_toolset] + sorted(set(by_toolset) - set(TOOLSETS))
    lines = [HEADER, "## Toolsets", ""]
    for toolset in order:
        names = ", ".join(f"`{s.name}`" for s in sorted(by_toolset[toolset], key=_key))
        lines.append(f"- **{toolset}** ({len(by_toolset[toolset])}): {names}")
    for toolset in order:
        lines += ["", f"## {toolset}"]
        for spec in sorted(by_toolset[toolset], key=_key):
            lines += ["", *_tool_section(spec, schemas.get(spec.name, {}))]
    return "\n".join(lines).rstrip() + "\n"


async def _input_schemas() -> dict[str, dict[str, Any]]:
    """Every tool's input schema exactly as tools/list advertises it (all tools enabled)."""
    from mcp import Client

    from server.app import build_server
    from server.runtime import Runtime
    from server.settings import Settings

    overrides: dict[str, Any] = {"read_only": False, "toolsets": None, "output_schemas": False}
    settings = Settings(**overrides)
    async with Client(build_server(settings, Runtime(settings))) as client:
        tools = (await client.list_tools()).tools
    return {tool.name: tool.input_schema for tool in tools}


def _key(spec: ToolSpec) -> str:
    return spec.name


def _annotations(spec: ToolSpec) -> str:
    if spec.read_only:
        return "read-only"
    hints = ["write", "destructive" if spec.destructive else "non-destructive"]
    hints.append("idempotent" if spec.idempotent else "not idempotent")
    return ", ".join(hints)


def _tool_section(spec: ToolSpec, schema: dict[str, Any]) -> list[str]:
    description = " ".join((spec.fn.__doc__ or "").split())
    lines = [f"### `{spec.name}`", "", f"*{_annotations(spec)}*. {description}"]
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        return [*lines, "", "No parameters."]
    required = set(schema.get("required", []))
    lines += ["", "| Parameter | Type | Description | Default |", "|---|---|---|---|"]
    for name, prop in properties.items():
        default = "required" if name in required else _literal(prop.get("default"))
        text = str(prop.get("description", "")).replace("|", "\\|")
        kind = _type_of(prop, schema.get("$defs", {})).replace("|", "\\|")
        lines.append(f"| `{name}` | {kind} | {text} | {default} |")
    return lines


def _literal(value: Any) -> str:
    return f"`{json.dumps(value)}`"


def _type_of(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short type: ``string``, ``integer 1..1000``, ``"a" | "b"``, ``array of string``."""
    if "$ref" in prop:
        target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        return _type_of(target, defs)
    if "enum" in prop:
        return " | ".join(json.dumps(v) for v in prop["enum"])
    if "const" in prop:
        return json.dumps(prop["const"])
    for key in ("anyOf", "oneOf"):
        if key in prop:
            kinds = [_type_of(option, defs) for option in prop[key]]
            return " or ".join(dict.fromkeys(kinds))
    kind = str(prop.get("type", "any"))
    if kind == "array":
        return f"array of {_type_of(prop.get('items', {}), defs)}"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"object of {_type_of(prop['additionalProperties'], defs)}"
    bounds = [prop.get(k) for k in ("minimum", "maximum")]
    if any(b is not None for b in bounds):
        low, high = (str(b) if b is not None else "" for b in bounds)
        return f"{kind} {low}..{high}"
    return kind
