"""DuckDB types as Databricks names them: ``type_text``, ``type_name`` and Spark ``type_json``.

Used by the Unity Catalog API (table columns) and the SQL statement API (result manifests),
so both describe a column the same way Databricks does.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

# DuckDB type id -> (Databricks type_text, type_name, Spark JSON type name).
_SIMPLE: dict[str, tuple[str, str, str]] = {
    "boolean": ("boolean", "BOOLEAN", "boolean"),
    "tinyint": ("tinyint", "BYTE", "byte"),
    "smallint": ("smallint", "SHORT", "short"),
    "integer": ("int", "INT", "integer"),
    "bigint": ("bigint", "LONG", "long"),
    # Unsigned types widen to the next signed Databricks type that holds every value.
    "utinyint": ("smallint", "SHORT", "short"),
    "usmallint": ("int", "INT", "integer"),
    "uinteger": ("bigint", "LONG", "long"),
    "ubigint": ("decimal(20,0)", "DECIMAL", "decimal(20,0)"),
    "hugeint": ("decimal(38,0)", "DECIMAL", "decimal(38,0)"),
    "uhugeint": ("decimal(38,0)", "DECIMAL", "decimal(38,0)"),
    "float": ("float", "FLOAT", "float"),
    "double": ("double", "DOUBLE", "double"),
    "varchar": ("string", "STRING", "string"),
    "uuid": ("string", "STRING", "string"),
    "json": ("string", "STRING", "string"),
    "enum": ("string", "STRING", "string"),
    "time": ("string", "STRING", "string"),
    "time with time zone": ("string", "STRING", "string"),
    "bit": ("string", "STRING", "string"),
    "blob": ("binary", "BINARY", "binary"),
    "date": ("date", "DATE", "date"),
    # Databricks TIMESTAMP is an instant shown in the session time zone; DuckDB's plain
    # TIMESTAMP is what the SQL dialect translation produces for it, so both map here.
    "timestamp": ("timestamp", "TIMESTAMP", "timestamp"),
    "timestamp with time zone": ("timestamp", "TIMESTAMP", "timestamp"),
    "timestamp_s": ("timestamp", "TIMESTAMP", "timestamp"),
    "timestamp_ms": ("timestamp", "TIMESTAMP", "timestamp"),
    "timestamp_ns": ("timestamp", "TIMESTAMP", "timestamp"),
    "interval": ("interval", "INTERVAL", "string"),
    "null": ("void", "NULL", "void"),
    '"null"': ("void", "NULL", "void"),
}


def _as_type(duckdb_type: Any) -> Any:
    """A DuckDBPyType from a type string or a type object (cursor.description gives objects)."""
    if isinstance(duckdb_type, str):
        return duckdb.sqltype(duckdb_type)
    return duckdb_type


def _children(t: Any) -> list[tuple[str, Any]]:
    return list(t.children)


def databricks_type(duckdb_type: Any) -> tuple[str, str]:
    """``(type_text, type_name)`` of a DuckDB type, e.g. ``BIGINT`` -> ``("bigint", "LONG")``."""
    t = _as_type(duckdb_type)
    kind = t.id
    if kind in ("list", "array"):
        return f"array<{databricks_type(_children(t)[0][1])[0]}>", "ARRAY"
    if kind == "struct":
        fields = ",".join(f"{name}:{databricks_type(child)[0]}" for name, child in _children(t))
        return f"struct<{fields}>", "STRUCT"
    if kind == "map":
        key, value = (child for _, child in _children(t))
        return f"map<{databricks_type(key)[0]},{databricks_type(value)[0]}>", "MAP"
    if kind == "decimal":
        precision, scale = (value for _, value in _children(t))
        return f"decimal({precision},{scale})", "DECIMAL"
    if kind == "union":
        return "string", "STRING"
    text, name, _ = _SIMPLE.get(kind, ("string", "STRING", "string"))
    return text, name


def spark_type(duckdb_type: Any) -> Any:
    """The Spark JSON ``dataType`` of a DuckDB type (a string or a nested object)."""
    t = _as_type(duckdb_type)
    kind = t.id
    if kind in ("list", "array"):
        return {
            "type": "array",
            "elementType": spark_type(_children(t)[0][1]),
            "containsNull": True,
        }
    if kind == "struct":
        return {
            "type": "struct",
            "fields": [spark_field(name, child) for name, child in _children(t)],
        }
    if kind == "map":
        key, value = (child for _, child in _children(t))
        return {
            "type": "map",
            "keyType": spark_type(key),
            "valueType": spark_type(value),
            "valueContainsNull": True,
        }
    if kind == "decimal":
        precision, scale = (value for _, value in _children(t))
        return f"decimal({precision},{scale})"
    return _SIMPLE.get(kind, ("string", "STRING", "string"))[2]


def spark_field(
    name: str, duckdb_type: Any, nullable: bool = True, comment: str | None = None
) -> dict[str, Any]:
    """A Spark StructField as JSON, the way Databricks fills a column's ``type_json``."""
    metadata: dict[str, Any] = {"comment": comment} if comment else {}
    return {
        "name": name,
        "type": spark_type(duckdb_type),
        "nullable": nullable,
        "metadata": metadata,
    }


def type_json(
    name: str, duckdb_type: Any, nullable: bool = True, comment: str | None = None
) -> str:
    """A column's ``type_json`` string."""
    return json.dumps(spark_field(name, duckdb_type, nullable, comment), separators=(",", ":"))


def decimal_parts(duckdb_type: Any) -> tuple[int, int] | None:
    """``(precision, scale)`` of a DECIMAL type, else None."""
    t = _as_type(duckdb_type)
    if t.id != "decimal":
        return None
    precision, scale = (value for _, value in _children(t))
    return int(precision), int(scale)


# Databricks type_name -> DuckDB type, for columns given without a usable type_text.
_FROM_TYPE_NAME: dict[str, str] = {
    "BOOLEAN": "BOOLEAN",
    "BYTE": "TINYINT",
    "SHORT": "SMALLINT",
    "INT": "INTEGER",
    "LONG": "BIGINT",
    "FLOAT": "FLOAT",
    "DOUBLE": "DOUBLE",
    "STRING": "VARCHAR",
    "CHAR": "VARCHAR",
    "BINARY": "BLOB",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "TIMESTAMP_NTZ": "TIMESTAMP",
    "INTERVAL": "INTERVAL",
    "VARIANT": "JSON",
}


def duckdb_type_of(
    type_text: str | None,
    type_name: str | None = None,
    precision: int | None = None,
    scale: int | None = None,
) -> str:
    """The DuckDB type of a Databricks column type (``array<int>`` -> ``INTEGER[]``)."""
    if type_text:
        import sqlglot

        return sqlglot.exp.DataType.build(type_text, dialect="databricks").sql("duckdb")
    name = (type_name or "").upper()
    if name == "DECIMAL":
        return f"DECIMAL({precision or 10},{scale or 0})"
    if name in _FROM_TYPE_NAME:
        return _FROM_TYPE_NAME[name]
    raise ValueError(f"unsupported column type: type_text={type_text!r} type_name={type_name!r}")
