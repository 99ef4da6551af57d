"""Values between the wire and Python: JSON_ARRAY strings to Python/pandas values (typed by
the column's Spark type), and Python values to SQL literals (``lit``, ``createDataFrame``)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import re
from collections.abc import Callable
from typing import Any

from local_workspace.spark.row import Row
from local_workspace.spark.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    ByteType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    ShortType,
    StructType,
    TimestampNTZType,
    TimestampType,
    parse_type,
)

Converter = Callable[[Any], Any]
_FRACTION = re.compile(r"\.(\d+)")
_INTEGERS = (ByteType, ShortType, IntegerType, LongType)


def converter(kind: DataType) -> Converter:
    """A function turning one wire value (a string, or JSON inside complex values) into the
    Python value PySpark's ``collect`` gives for ``kind``."""
    if isinstance(kind, _INTEGERS):
        return int
    if isinstance(kind, DoubleType | FloatType):
        return float
    if isinstance(kind, DecimalType):
        return lambda v: decimal.Decimal(str(v))
    if isinstance(kind, BooleanType):
        return lambda v: v if isinstance(v, bool) else str(v).lower() == "true"
    if isinstance(kind, DateType):
        return lambda v: dt.date.fromisoformat(str(v)[:10])
    if isinstance(kind, TimestampType | TimestampNTZType):
        return _timestamp
    if isinstance(kind, BinaryType):
        return lambda v: bytearray(base64.b64decode(v))
    if isinstance(kind, ArrayType):
        element = _nullable(converter(kind.elementType))
        return lambda v: [element(x) for x in _json(v)]
    if isinstance(kind, MapType):
        key, value = converter(kind.keyType), _nullable(converter(kind.valueType))
        return lambda v: {key(k): value(x) for k, x in _json(v).items()}
    if isinstance(kind, StructType):
        names = tuple(kind.names)
        fields = [_nullable(converter(f.dataType)) for f in kind.fields]

        def struct(v: Any) -> Row:
            data = _json(v)
            if isinstance(data, dict):
                values = [f(data.get(n)) for f, n in zip(fields, names, strict=True)]
            else:
                values = [f(x) for f, x in zip(fields, data, strict=False)]
            return Row._make(names, values)

        return struct
    return lambda v: v if isinstance(v, str) else json.dumps(v)


def _nullable(function: Converter) -> Converter:
    return lambda v: None if v is None else function(v)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _timestamp(value: Any) -> dt.datetime:
    text = str(value).replace("Z", "+00:00").replace(" ", "T", 1)
    # Python 3.10 reads 3 or 6 fraction digits only: pad or cut to microseconds.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text)
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is not None:  # the warehouse answers UTC; PySpark gives naive values
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment


def row_converter(types: list[str]) -> Callable[[list[Any]], list[Any]]:
    """A function converting one wire row into Python values."""
    functions = [_nullable(converter(_type(t))) for t in types]
    return lambda raw: [f(v) for f, v in zip(functions, raw, strict=False)]


def _type(name: str) -> DataType:
    try:
        return parse_type(name)
    except ValueError:
        return parse_type("string")


def pandas_column(values: list[Any], type_name: str) -> Any:
    """A pandas Series of one column's wire values, with the dtype PySpark's ``toPandas``
    gives (int64/int32... or float64 when nulls, float64, bool, datetime64, object)."""
    import pandas as pd

    kind = _type(type_name)
    has_null = any(v is None for v in values)
    if isinstance(kind, _INTEGERS):
        dtype = {ByteType: "int8", ShortType: "int16", IntegerType: "int32", LongType: "int64"}
        if has_null:  # PySpark gives float64 (NaN for null) for an int column with nulls
            return pd.Series([math.nan if v is None else float(v) for v in values], dtype="float64")
        return pd.Series([int(v) for v in values], dtype=dtype[type(kind)])
    if isinstance(kind, DoubleType | FloatType):
        series = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        return series.astype("float32" if isinstance(kind, FloatType) else "float64")
    if isinstance(kind, BooleanType) and not has_null:
        return pd.Series([v == "true" for v in values], dtype=bool)
    if isinstance(kind, TimestampType | TimestampNTZType):
        moments = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
        return moments.dt.tz_localize(None).astype("datetime64[ns]")
    if isinstance(kind, DateType) and not has_null:  # numpy parses ISO dates in C
        import numpy as np

        return pd.Series(np.array(values, dtype="datetime64[D]").astype(object), dtype=object)
    if isinstance(kind, StructType | ArrayType | MapType | DecimalType | DateType | BinaryType):
        function = _nullable(converter(kind))
        return pd.Series([function(v) for v in values], dtype=object)
    if isinstance(kind, BooleanType):
        return pd.Series([None if v is None else v == "true" for v in values], dtype=object)
    return pd.Series(values, dtype=object)


def sql_literal(value: Any) -> str:
    """The Databricks SQL literal of a Python value (strings escaped, typed where needed)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value) if -(2**31) <= value < 2**31 else f"{value}L"
    if isinstance(value, float):
        if math.isnan(value):
            return "double('NaN')"
        if math.isinf(value):
            return "double('Infinity')" if value > 0 else "double('-Infinity')"
        return f"{value!r}D"
    if isinstance(value, decimal.Decimal):
        return f"{value}BD"
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP'{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE'{value.isoformat()}'"
    if isinstance(value, bytes | bytearray):
        return f"X'{bytes(value).hex()}'"
    if isinstance(value, Row) and value.__fields__:
        pairs = ", ".join(f"{quote_string(k)}, {sql_literal(v)}" for k, v in value.asDict().items())
        return f"named_struct({pairs})"
    if isinstance(value, list | tuple):
        return "array(" + ", ".join(sql_literal(v) for v in value) + ")"
    if isinstance(value, dict):
        items = ", ".join(f"{sql_literal(k)}, {sql_literal(v)}" for k, v in value.items())
        return f"map({items})"
    return quote_string(str(value))


def quote_string(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_ident(name: str) -> str:
    """A backquoted identifier."""
    return "`" + name.replace("`", "``") + "`"
