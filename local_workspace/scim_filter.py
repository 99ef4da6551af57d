"""SCIM 2.0 list helpers: the ``filter`` expressions Databricks supports (``eq``, ``ne``,
``co``, ``sw``, ``ew``, ``pr``, ``gt``/``ge``/``lt``/``le`` joined by ``and``/``or``, with
parentheses), attribute selection and attribute lookup on rendered resources.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r'\s*(\(|\)|"(?:[^"\\]|\\.)*"|[^\s()]+)')
_OPS = {"eq", "ne", "co", "sw", "ew", "pr", "gt", "ge", "lt", "le"}


class FilterError(ValueError):
    """A filter the parser cannot read."""


def lookup(resource: dict[str, Any], path: str) -> list[Any]:
    """Every value at a dotted attribute path (case-insensitive; lists are walked)."""
    values: list[Any] = [resource]
    for part in path.split("."):
        found: list[Any] = []
        for value in values:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict):
                    for key, child in item.items():
                        if key.lower() == part.lower():
                            found.append(child)
        values = found
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def _literal(token: str) -> Any:
    if token.startswith('"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return float(token) if "." in token else int(token)
    except ValueError as exc:
        raise FilterError(f"Invalid value {token} in filter.") from exc


def _compare(op: str, actual: Any, expected: Any) -> bool:
    if isinstance(actual, str) and isinstance(expected, str):
        actual, expected = actual.lower(), expected.lower()
    if op == "eq":
        return bool(actual == expected)
    if op == "ne":
        return bool(actual != expected)
    if op in ("co", "sw", "ew"):
        if not isinstance(actual, str) or not isinstance(expected, str):
            return False
        return {"co": expected in actual, "sw": actual.startswith(expected)}.get(
            op, actual.endswith(expected)
        )
    try:
        return bool(
            {"gt": actual > expected, "ge": actual >= expected, "lt": actual < expected}.get(
                op, actual <= expected
            )
        )
    except TypeError:
        return False


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = [match.group(1) for match in _TOKEN.finditer(text)]
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise FilterError("The filter ends too early.")
        self.position += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while (self.peek() or "").lower() == "or":
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.term()
        while (self.peek() or "").lower() == "and":
            self.take()
            right = self.term()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def term(self) -> Predicate:
        token = self.take()
        if token == "(":
            inner = self.expression()
            if self.take() != ")":
                raise FilterError("Unbalanced parentheses in filter.")
            return inner
        if token.lower() == "not":
            inner = self.term()
            return lambda r: not inner(r)
        path, op = token, self.take().lower()
        if op not in _OPS:
            raise FilterError(f"Unsupported operator '{op}' in filter.")
        if op == "pr":
            return lambda r: any(v not in (None, "", []) for v in lookup(r, path))
        expected = _literal(self.take())
        if op == "ne":
            return lambda r: all(_compare("ne", v, expected) for v in lookup(r, path))
        return lambda r: any(_compare(op, v, expected) for v in lookup(r, path))


def parse_filter(text: str) -> Predicate:
    """A predicate over rendered SCIM resources; FilterError when the text is not a filter."""
    parser = _Parser(text)
    predicate = parser.expression()
    if parser.peek() is not None:
        raise FilterError(f"Unexpected '{parser.peek()}' in filter.")
    return predicate


def select(
    resource: dict[str, Any], attributes: str | None, excluded: str | None
) -> dict[str, Any]:
    """The resource with only ``attributes`` (``id`` always kept) and without ``excluded``."""
    if attributes:
        wanted = {name.strip().split(".")[0].lower() for name in attributes.split(",")}
        wanted.add("id")
        resource = {k: v for k, v in resource.items() if k.lower() in wanted}
    if excluded:
        dropped = {name.strip().split(".")[0].lower() for name in excluded.split(",")}
        dropped.discard("id")
        resource = {k: v for k, v in resource.items() if k.lower() not in dropped}
    return resource
