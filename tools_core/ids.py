"""Ids and names that travel in a request URL: checked, and escaped, in one place.

databricks-sdk puts path parameters into URLs as they are (``f"/api/2.0/sql/statements/
{statement_id}"``, ``.../tables/{full_name}``, ``/serving-endpoints/{name}``): an id such as
``../../x`` or ``a%2f..`` would reach another route, ``?`` or ``#`` would cut the path. So
every value the SDK interpolates goes through one of these functions first:

- :func:`opaque_id` for ids the API generates (statement, warehouse, pipeline, update ids):
  letters, digits, ``-`` and ``_`` only, refused otherwise (nothing to escape);
- :func:`full_name` for Unity Catalog names (``catalog.schema.object``), checked by Unity
  Catalog's naming rules and returned percent-escaped for the URL;
- :func:`name` for other names in a path (serving endpoints), checked and escaped.

A refusal is :class:`InvalidInput` (``INVALID_PARAMETER_VALUE``) saying what the value must
look like; nothing is sent.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from tools_core.errors import InvalidInput

# Unity Catalog's rules: at most 255 characters; no period, space, forward slash, ASCII
# control character (00-1F) or DELETE (7F). Periods separate the levels of a full name.
UC_NAME_MAX = 255
_UC_FORBIDDEN = re.compile(r"[\x00-\x20/\x7f]")
# Generated ids: UUIDs, hex warehouse ids, numbers as strings.
OPAQUE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
# Other names in a path: no separator, no control character, not a dot segment.
NAME_MAX = 255
_NAME_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f/\\]")
SHOWN_MAX = 60


def shown(value: str) -> str:
    """``value`` quoted for a message, cut to a few dozen characters."""
    if len(value) <= SHOWN_MAX:
        return repr(value)
    return repr(value[:SHOWN_MAX]) + f"…[{len(value) - SHOWN_MAX:,} chars cut]"


def opaque_id(value: str, what: str, example: str = "01ef2c4d-5a1b-1f2e-9c3d-0242ac120002") -> str:
    """``value`` if it looks like an id the API generated, else :class:`InvalidInput`."""
    if not OPAQUE_ID.match(value):
        raise InvalidInput(
            f"{what} {shown(value)} is not an id: ids are 1-128 letters, digits, '-' and '_' "
            f"(e.g. {example}).",
            f"Use the {what} a previous call returned.",
        )
    return value


def uc_name(value: str, what: str) -> str:
    """One Unity Catalog name (a catalog, a schema, a table's last part), checked by Unity
    Catalog's rules; returned as is (for query parameters and bodies)."""
    problem = _uc_problem(value)
    if problem:
        raise InvalidInput(
            f"{what} {shown(value)} is not a Unity Catalog name: {problem}.",
            "Names have 1-255 characters, without '.', spaces, '/' or control characters.",
        )
    return value


def full_name(value: str, what: str, shape: str = "catalog.schema.table") -> str:
    """A Unity Catalog full name with as many parts as ``shape``, checked, percent-escaped
    for a URL path segment (``samples.tpch.orders`` stays as it is)."""
    parts = value.split(".")
    levels = shape.count(".") + 1
    problems = [p for p in (_uc_problem(part) for part in parts) if p]
    if len(parts) != levels or problems:
        why = problems[0] if problems else f"it has {len(parts)} part(s), not {levels}"
        raise InvalidInput(
            f"{what} {shown(value)} is not a full name ({shape}): {why}.",
            f"Use {shape}: each part 1-255 characters, without spaces, '/' or control characters.",
        )
    return ".".join(quote(part, safe="") for part in parts)


def name(value: str, what: str) -> str:
    """A name that goes into one URL path segment (a serving endpoint), checked and
    percent-escaped."""
    if not value or len(value) > NAME_MAX or value in (".", "..") or _NAME_FORBIDDEN.search(value):
        raise InvalidInput(
            f"{what} {shown(value)} is not a valid name.",
            "Names have 1-255 characters, without '/', '\\' or control characters; list the "
            "existing ones to pick one.",
        )
    return quote(value, safe="")


def _uc_problem(part: str) -> str:
    """Why ``part`` breaks Unity Catalog's naming rules, or ``""``."""
    if not part:
        return "a part is empty"
    if len(part) > UC_NAME_MAX:
        return f"a part has {len(part):,} characters (at most {UC_NAME_MAX})"
    found = _UC_FORBIDDEN.search(part)
    if found:
        return f"it holds {found.group()!r}"
    return ""
