"""DuckDB result types -> Databricks column types, and values -> Databricks JSON_ARRAY strings.

Statement results describe each column with ``type_name`` (the SDK's ``ColumnInfoTypeName``:
LONG, STRING, DECIMAL...) and ``type_text`` (the SQL type as Databricks prints it in results,
upper case: BIGINT, DECIMAL(10,2), ARRAY<INT>). Every value is a string or null.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import re
from collections.abc import Callable
from typing import Any

import duckdb

from local_workspace.types import databricks_type, decimal_parts

# DuckDB widens sum()/count-like aggregates to HUGEINT where Databricks gives BIGINT.
_RESULT_OVERRIDES = {"hugeint": ("bigint", "LONG")}
_TYPE_WORD = re.compile(r"\b([a-z_]+)\b(?!:)")


def column_type(duck_type: Any) -> tuple[str, str, int | None, int | None]:
    """(type_name, type_text, precision, scale) of a DuckDB type (object or string).

    The mapping is the catalog's (``local_workspace.types``), so result manifests and table
    columns agree; result type_text is upper case as Databricks prints it (``DECIMAL(10,2)``).
    """
    t = duckdb.sqltype(duck_type) if isinstance(duck_type, str) else duck_type
    text, name = _RESULT_OVERRIDES.get(t.id) or databricks_type(t)
    parts = decimal_parts(t)
    precision, scale = parts if parts else (None, None)
    return name, _TYPE_WORD.sub(lambda m: m.group(1).upper(), text), precision, scale


def column_info(name: str, duck_type: Any, position: int) -> dict[str, Any]:
    """One ``ColumnInfo`` of a statement's result schema (SDK JSON shape)."""
    type_name, type_text, precision, scale = column_type(duck_type)
    info: dict[str, Any] = {
        "name": name,
        "position": position,
        "type_name": type_name,
        "type_text": type_text,
    }
    if precision is not None:
        info["type_precision"] = precision
        info["type_scale"] = scale
    return info


def _timestamp(value: dt.datetime) -> str:
    # Databricks prints timestamps in UTC, ISO 8601 with milliseconds and a Z.
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _float(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _json_ready(value: Any) -> Any:
    """A nested value as JSON Databricks would print inside ARRAY/STRUCT/MAP text."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def format_value(value: Any) -> str | None:
    """A Python value from DuckDB as a Databricks JSON_ARRAY cell."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict | list | tuple):
        return json.dumps(_json_ready(value), separators=(",", ":"))
    return str(value)


Formatter = Callable[[Any], "str | None"]
