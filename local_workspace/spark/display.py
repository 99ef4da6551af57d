"""``display``: what a notebook shows for a value (a table for DataFrames)."""

from __future__ import annotations

from typing import Any


def display(value: Any = None, *args: Any, **kwargs: Any) -> None:
    """Print a compact view of ``value`` (a table for DataFrames, at most 100 rows)."""
    if value is None:
        return
    show = getattr(value, "_show_string", None)
    if callable(show):
        print(show(100, False, False), end="")
        return
    to_string = getattr(value, "to_string", None)  # pandas
    if callable(to_string):
        print(to_string(max_rows=100))
        return
    print(repr(value))
