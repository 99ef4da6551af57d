"""Vector Search errors: the API's code, one line, and the next step for that code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from tools_core import ids
from tools_core.errors import InvalidInput, ToolsCoreError, one_line

INDEX_HINT = "List indexes with vs_list_indexes(endpoint_name=...)."
ENDPOINT_HINT = "List endpoints with vs_list_endpoints."
MISSING_CODES = ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND")
# Three-level Unity Catalog name: catalog.schema.index.
_THREE_LEVEL = re.compile(r"^[^.\s]+\.[^.\s]+\.[^.\s]+$")


def check_index_name(name: str) -> str:
    """An index name must be catalog.schema.index (Unity Catalog): the name escaped for the
    URL paths that carry it (``/api/2.0/vector-search/indexes/{name}``)."""
    if not _THREE_LEVEL.match(name):
        raise InvalidInput(
            f"Index name {ids.shown(name)} must have three parts: catalog.schema.index.",
            "Example: main.default.docs_index.",
        )
    return ids.full_name(name, "index name", "catalog.schema.index")


@contextmanager
def vs_errors(missing_hint: str = INDEX_HINT, hint: str = "") -> Iterator[None]:
    """SDK errors raised inside become ToolsCoreError with the API's code and a next step
    that fits Vector Search (a missing index points at vs_list_indexes, not a parent path)."""
    from databricks.sdk.errors import DatabricksError

    try:
        yield
    except DatabricksError as exc:
        code = exc.error_code or type(exc).__name__.upper()
        message = one_line(str(exc).split(" Config: ")[0], code)
        if code in MISSING_CODES:
            next_step = missing_hint
        elif code == "INVALID_PARAMETER_VALUE" or code == "BAD_REQUEST":
            next_step = (
                hint or "Fix the argument as the message says; vs_get_index shows the index."
            )
        else:
            next_step = hint
        raise ToolsCoreError(code, message, next_step) from exc
