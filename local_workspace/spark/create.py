"""``createDataFrame``: local rows as an inline ``VALUES`` query (bounded: big data belongs in
a volume file read with ``spark.read``), and the result of a command kept as rows."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import TYPE_CHECKING, Any

from local_workspace.spark.convert import quote_ident, quote_string, sql_literal
from local_workspace.spark.errors import PySparkTypeError, PySparkValueError
from local_workspace.spark.row import Row
from local_workspace.spark.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    LongType,
    MapType,
    NullType,
    StringType,
    StructField,
    StructType,
    TimestampType,
    parse_schema,
)

if TYPE_CHECKING:
    from local_workspace.spark.client import Result
    from local_workspace.spark.dataframe import DataFrame
    from local_workspace.spark.session import SparkSession

MAX_ROWS = 20_000
MAX_SQL_BYTES = 4 * 1024 * 1024
_TOO_BIG = (
    "[LOCAL_DATA_TOO_LARGE] createDataFrame sends local rows as SQL text; {what} is over the "
    "local limit ({limit}). Upload the data to a volume (files_upload or dbutils.fs.put, e.g. "
    "/Volumes/main/default/raw/data.parquet) and read it with spark.read.parquet(path) or "
    "spark.read.format('csv').load(path)."
)


def create_dataframe(session: SparkSession, data: Any, schema: Any) -> DataFrame:
    """A DataFrame of ``data`` (tuples, dicts, Rows, scalars, a pandas DataFrame)."""
    names, rows = _rows_of(data, schema)
    struct = _schema(schema, names, rows)
    if len(rows) > MAX_ROWS:
        raise PySparkValueError(_TOO_BIG.format(what=f"{len(rows)} rows", limit=f"{MAX_ROWS} rows"))
    columns = [f"col{i + 1}" for i in range(len(struct.fields))]
    items = ", ".join(
        f"CAST({c} AS {f.dataType.simpleString()}) AS {quote_ident(f.name)}"
        for c, f in zip(columns, struct.fields, strict=True)
    )
    if not rows:
        empty = ", ".join(
            f"CAST(NULL AS {f.dataType.simpleString()}) AS {quote_ident(f.name)}"
            for f in struct.fields
        )
        return session._frame(f"SELECT {empty} WHERE FALSE", names=struct.names)
    values = ", ".join(
        "("
        + ", ".join(_literal(v, f.dataType) for v, f in zip(row, struct.fields, strict=True))
        + ")"
        for row in rows
    )
    sql = f"SELECT {items} FROM VALUES {values} AS t({', '.join(columns)})"
    if len(sql) > MAX_SQL_BYTES:
        raise PySparkValueError(
            _TOO_BIG.format(what=f"{len(sql)} bytes of SQL", limit=f"{MAX_SQL_BYTES} bytes")
        )
    return session._frame(sql, names=struct.names)


def _rows_of(data: Any, schema: Any) -> tuple[list[str] | None, list[tuple[Any, ...]]]:
    if hasattr(data, "itertuples") and hasattr(data, "columns"):  # pandas
        names = [str(c) for c in data.columns]
        rows = [tuple(_from_pandas(v) for v in row) for row in data.itertuples(index=False)]
        return names, rows
    if hasattr(data, "sql_text"):
        raise PySparkTypeError("createDataFrame takes local data, not a DataFrame")
    items = list(data)
    if not items:
        return None, []
    first = items[0]
    if isinstance(first, Row) and first.__fields__:
        return list(first.__fields__), [tuple(r) for r in items]
    if isinstance(first, dict):
        keys = list(first) if schema is not None else sorted(first)
        if isinstance(schema, StructType):
            keys = schema.names
        return keys, [tuple(r.get(k) for k in keys) for r in items]
    if isinstance(first, tuple | list):
        return None, [tuple(r) for r in items]
    return ["value"], [(v,) for v in items]


def _from_pandas(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN is missing, as Arrow converts it
        return None
    kind = type(value).__module__
    if kind.startswith("numpy"):
        return value.item()
    if kind.startswith("pandas"):
        if str(value) in ("NaT", "<NA>"):
            return None
        to_pydatetime = getattr(value, "to_pydatetime", None)
        return to_pydatetime() if to_pydatetime else value
    return value


def _schema(schema: Any, names: list[str] | None, rows: list[tuple[Any, ...]]) -> StructType:
    if isinstance(schema, StructType):
        return schema
    if isinstance(schema, DataType):
        return StructType([StructField("value", schema)])
    if isinstance(schema, str):
        return parse_schema(schema)
    if isinstance(schema, list | tuple):
        names = [str(n) for n in schema]
    width = len(rows[0]) if rows else len(names or [])
    names = names or [f"_{i + 1}" for i in range(width)]
    fields = []
    for index, name in enumerate(names):
        kind: DataType = NullType()
        for row in rows:
            if index < len(row) and row[index] is not None:
                kind = infer_type(row[index])
                break
        fields.append(StructField(name, StringType() if isinstance(kind, NullType) else kind))
    return StructType(fields)


def infer_type(value: Any) -> DataType:
    """The Spark type PySpark infers for a Python value."""
    if isinstance(value, bool):
        return BooleanType()
    if isinstance(value, int):
        return LongType()
    if isinstance(value, float):
        return DoubleType()
    if isinstance(value, decimal.Decimal):
        return DecimalType(38, 18)
    if isinstance(value, dt.datetime):
        return TimestampType()
    if isinstance(value, dt.date):
        return DateType()
    if isinstance(value, Row) and value.__fields__:
        return StructType([StructField(k, infer_type(v)) for k, v in value.asDict().items()])
    if isinstance(value, list | tuple):
        inner = next((infer_type(v) for v in value if v is not None), StringType())
        return ArrayType(inner)
    if isinstance(value, dict):
        key = next((infer_type(k) for k in value), StringType())
        item = next((infer_type(v) for v in value.values() if v is not None), StringType())
        return MapType(key, item)
    return StringType()


def _literal(value: Any, kind: DataType) -> str:
    if (
        isinstance(kind, StructType)
        and isinstance(value, tuple | list | dict)
        and value is not None
    ):
        values = value.values() if isinstance(value, dict) else value
        pairs = ", ".join(
            f"{quote_string(f.name)}, {_literal(v, f.dataType)}"
            for f, v in zip(kind.fields, values, strict=False)
        )
        return f"named_struct({pairs})"
    if isinstance(kind, DecimalType) and isinstance(value, float):
        return str(decimal.Decimal(repr(value)))
    return sql_literal(value)


def frame_of_result(session: SparkSession, result: Result) -> DataFrame:
    """A finished statement's rows (a command's answer) as a DataFrame of VALUES."""
    if not result.names:
        return session._empty()
    names = [quote_ident(n) for n in result.names]
    rows = result.rows()
    if not rows:
        items = ", ".join(
            f"CAST(NULL AS {t}) AS {n}" for n, t in zip(names, result.types, strict=True)
        )
        return session._frame(f"SELECT {items} WHERE FALSE", names=result.names)
    columns = [f"col{i + 1}" for i in range(len(names))]
    items = ", ".join(
        f"{_cast_wire(c, t)} AS {n}" for c, t, n in zip(columns, result.types, names, strict=True)
    )
    values = ", ".join(
        "(" + ", ".join("NULL" if v is None else quote_string(str(v)) for v in row) + ")"
        for row in rows
    )
    sql = f"SELECT {items} FROM VALUES {values} AS t({', '.join(columns)})"
    return session._frame(sql, names=list(result.names))


def _cast_wire(column: str, kind: str) -> str:
    if kind.startswith(("array", "map", "struct")):
        return f"from_json({column}, {quote_string(kind)})"
    return f"CAST({column} AS {kind})"
