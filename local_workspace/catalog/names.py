"""Names of Unity Catalog objects: checking, splitting, and quoting them for DuckDB."""

from __future__ import annotations

import re

from local_workspace.errors import invalid

_NAME = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,254}$")


def quote(identifier: str) -> str:
    """A DuckDB quoted identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A DuckDB string literal."""
    return "'" + value.replace("'", "''") + "'"


def split_name(full_name: str, parts: int, what: str) -> tuple[str, ...]:
    """Split ``a.b[.c]`` into lowercased parts; 400 when the shape is wrong."""
    pieces = [p.strip("`").lower() for p in (full_name or "").split(".")]
    if len(pieces) != parts or not all(pieces):
        shape = "catalog.schema.name" if parts == 3 else "catalog.schema"
        raise invalid(f"Invalid {what} name '{full_name}': expected {shape}.")
    return tuple(pieces)


def check_name(name: str, what: str) -> str:
    """A valid, lowercased object name (Unity Catalog names are case-insensitive)."""
    lowered = (name or "").lower()
    if not _NAME.match(lowered):
        raise invalid(
            f"Invalid {what} name '{name}': use letters, digits, '_' or '-' (snake_case advised).",
            "INVALID_PARAMETER_VALUE",
        )
    return lowered


def lowered(full_name: str) -> str:
    """A dotted name with every part lowercased (as the metadata keys it)."""
    return ".".join(p.lower() for p in full_name.split("."))
