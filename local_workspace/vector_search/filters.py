"""Databricks Vector Search filters (``filters_json``) evaluated over an index's rows.

Syntax (the standard endpoint's): ``{"col": v}`` equality, ``{"col": [a, b]}`` any of,
``{"col >": 3}`` / ``<`` / ``>=`` / ``<=`` comparisons, ``{"col NOT": v}`` (or a list: none
of), ``{"col LIKE": "abc"}`` (token match, as Databricks does: the value's words appear in the
column), ``{"col1 OR col2": [v1, v2]}``. Keys are ANDed. Unknown columns answer 400 naming the
valid ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from local_workspace.errors import invalid

Predicate = Callable[[dict[str, Any]], bool]
OPERATORS = ("NOT", "LIKE", ">=", "<=", ">", "<", "OR")


def parse_filters(filters_json: str | None, columns: Sequence[str]) -> list[Predicate]:
    """The predicates of a ``filters_json`` string (all must hold); 400 on bad input."""
    if not filters_json:
        return []
    try:
        spec = json.loads(filters_json)
    except json.JSONDecodeError as exc:
        raise invalid(f"filters_json is not valid JSON: {exc.msg}") from exc
    if not isinstance(spec, dict):
        raise invalid('filters_json must be a JSON object, e.g. {"category": "books"}.')
    return [_predicate(key, value, columns) for key, value in spec.items()]


def _check_column(name: str, columns: Sequence[str]) -> str:
    if name not in columns:
        raise invalid(f"Filter on unknown column '{name}'. Valid columns: {', '.join(columns)}.")
    return name


def _predicate(key: str, value: Any, columns: Sequence[str]) -> Predicate:
    parts = key.strip().split()
    if len(parts) >= 3 and parts[1].upper() == "OR":
        names = [_check_column(p, columns) for p in parts[::2]]
        values = value if isinstance(value, list) else [value] * len(names)
        if len(values) != len(names):
            raise invalid(f"Filter '{key}' needs one value per column ({len(names)}).")
        tests = [_equals(n, v) for n, v in zip(names, values, strict=True)]
        return lambda row: any(test(row) for test in tests)
    if len(parts) == 1:
        return _equals(_check_column(parts[0], columns), value)
    if len(parts) != 2 or parts[1].upper() not in OPERATORS:
        raise invalid(
            f"Unsupported filter key '{key}': use 'col', 'col NOT', 'col LIKE', "
            "'col >', 'col <', 'col >=', 'col <=' or 'col1 OR col2'."
        )
    name, op = _check_column(parts[0], columns), parts[1].upper()
    if op == "NOT":
        test = _equals(name, value)
        return lambda row: row.get(name) is not None and not test(row)
    if op == "LIKE":
        return _like(name, value)
    return _compare(name, op, value)


def _equals(name: str, value: Any) -> Predicate:
    wanted = value if isinstance(value, list) else [value]
    return lambda row: any(_same(row.get(name), w) for w in wanted)


def _same(actual: Any, wanted: Any) -> bool:
    if actual is None:
        return wanted is None
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return bool(actual) == bool(wanted) and type(actual) is type(wanted)
    if isinstance(actual, (int, float)) and isinstance(wanted, (int, float)):
        return float(actual) == float(wanted)
    return str(actual) == str(wanted)


def _like(name: str, value: Any) -> Predicate:
    if not isinstance(value, str):
        raise invalid(f"Filter '{name} LIKE' needs a string value.")
    words = re.findall(r"\w+", value.lower())

    def test(row: dict[str, Any]) -> bool:
        cell = row.get(name)
        if cell is None:
            return False
        text = str(cell).lower()
        tokens = set(re.findall(r"\w+", text))
        return all(word in tokens for word in words) or value.lower() in text

    return test


def _compare(name: str, op: str, value: Any) -> Predicate:
    if not isinstance(value, (int, float, str)) or isinstance(value, bool):
        raise invalid(f"Filter '{name} {op}' needs a number or string value.")

    def test(row: dict[str, Any]) -> bool:
        cell = row.get(name)
        if cell is None:
            return False
        try:
            left, right = (
                (float(cell), float(value))
                if isinstance(value, (int, float))
                else (
                    str(cell),
                    value,
                )
            )
        except (TypeError, ValueError):
            return False
        if op == ">":
            return left > right  # type: ignore[operator]
        if op == "<":
            return left < right  # type: ignore[operator]
        if op == ">=":
            return left >= right  # type: ignore[operator]
        return left <= right  # type: ignore[operator]

    return test


def mask(rows: Sequence[dict[str, Any]], predicates: Sequence[Predicate]) -> np.ndarray | None:
    """A boolean mask of the rows every predicate accepts (None: no filter)."""
    if not predicates:
        return None
    return np.fromiter(
        (all(p(row) for p in predicates) for row in rows), dtype=bool, count=len(rows)
    )
