"""YAML loaded as a tree of nodes that remember their file and line.

Bundle findings must say where a problem is, so values are never plain dicts: each value is a
:class:`Node` holding its file and 1-based line (and, for a mapping entry, the line of its
key). PyYAML's composer gives the marks; its SafeLoader gives scalar values their YAML types.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools_core.bundles.findings import Findings

if TYPE_CHECKING:
    import yaml


@dataclass
class Node:
    """A YAML value: a scalar, a ``dict[str, Node]`` or a ``list[Node]``, with its place."""

    value: Any
    file: str
    line: int
    key_line: int = 0  # the line of the mapping key that holds this value, if any

    @property
    def where(self) -> int:
        """The line to report for this value (its key's line when it has one)."""
        return self.key_line or self.line

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    def get(self, key: str) -> Node | None:
        """The entry ``key`` of a mapping node (None for other nodes or a missing key)."""
        return self.value.get(key) if isinstance(self.value, dict) else None

    def scalar(self, key: str) -> Any:
        """The value of the entry ``key`` of a mapping node, or None."""
        child = self.get(key)
        return child.value if child is not None else None

    def plain(self) -> Any:
        """The value without places (plain dicts, lists and scalars)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value

    def clone(self) -> Node:
        """A deep copy (merging and substitution never change the loaded files)."""
        return copy.deepcopy(self)


def load_file(path: Path, shown: str, found: Findings) -> Node | None:
    """The file ``path`` as nodes, reported as ``shown``; None (and an error) if it is bad YAML."""
    import yaml  # lazily: not needed at start-up

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        found.error(shown, 1, "", f"cannot read the file: {exc}")
        return None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return Node({}, shown, 1)
        return _convert(loader, root, shown, found, "")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = ": ".join(p for p in (exc.context, exc.problem) if p)
        found.error(shown, line, "", f"invalid YAML: {problem or exc}")
        return None
    except yaml.YAMLError as exc:
        found.error(shown, 1, "", f"invalid YAML: {exc}")
        return None
    finally:
        loader.dispose()


def _convert(
    loader: yaml.SafeLoader, node: yaml.Node, shown: str, found: Findings, path: str
) -> Node:
    import yaml

    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<: *anchor)
        entries: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_text = str(key)
            key_line = key_node.start_mark.line + 1
            child_path = f"{path}.{key_text}" if path else key_text
            if key_text in entries:
                found.error(shown, key_line, child_path, f"duplicate key '{key_text}'")
            child = _convert(loader, value_node, shown, found, child_path)
            entries[key_text] = replace(child, key_line=key_line)
        return Node(entries, shown, line)
    if isinstance(node, yaml.SequenceNode):
        items = [
            _convert(loader, item, shown, found, f"{path}[{i}]")
            for i, item in enumerate(node.value)
        ]
        return Node(items, shown, line)
    return Node(loader.construct_object(node, deep=True), shown, line)


def merge(base: Node, over: Node) -> Node:
    """``over`` merged onto ``base`` like the databricks CLI: mappings merge key by key,
    sequences are concatenated, anything else is replaced by ``over``."""
    if base.is_map and over.is_map:
        entries = dict(base.value)
        for key, value in over.value.items():
            entries[key] = merge(entries[key], value) if key in entries else value
        return Node(entries, base.file, base.line, base.key_line)
    if base.is_list and over.is_list:
        return Node([*base.value, *over.value], base.file, base.line, base.key_line)
    return over
