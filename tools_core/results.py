"""Result models: small pydantic models that render as compact text for agents.

Every tool result is a :class:`Result`: its fields are the structured content, and
:meth:`Result.to_text` is the compact text (markdown tables for rows) an agent reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

CELL_MAX_CHARS = 200


class Result(BaseModel):
    """Base of every operation's result."""

    model_config = ConfigDict(extra="forbid")

    def to_text(self) -> str:
        """Compact text for an agent; defaults to compact JSON without empty fields."""
        return json.dumps(
            self.model_dump(mode="json", exclude_none=True, exclude_defaults=True),
            separators=(",", ":"),
        )


def cell(value: Any) -> str:
    """A value as a markdown table cell: one line, pipes escaped, long text cut."""
    if value is None:
        return "NULL"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n")
    if len(text) > CELL_MAX_CHARS:
        text = text[: CELL_MAX_CHARS - 1] + "…"
    return text


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A markdown table; an empty table says so."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    count = 0
    for row in rows:
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
        count += 1
    if count == 0:
        return "(no rows)"
    return "\n".join(lines)


def more_hint(truncated: bool, next_page_token: str | None = None, what: str = "items") -> str:
    """The line that tells an agent a list was cut and how to get the rest."""
    if not truncated:
        return ""
    if next_page_token:
        return f"\n(more {what}: call again with page_token={next_page_token!r})"
    return f"\n(more {what} exist: raise limit or narrow the filter)"
