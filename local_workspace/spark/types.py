"""``pyspark.sql.types``: data types, ``StructType``/``StructField``, and the parsing of the
type names the warehouse answers (``DESCRIBE QUERY``: ``bigint``, ``array<int>``,
``struct<a:int,b:string>``, ``decimal(10,2)``...) and of DDL schema strings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from local_workspace.spark.row import Row


class DataType:
    """Base of the data types."""

    _simple = ""

    def simpleString(self) -> str:
        """The SQL name, e.g. ``bigint`` or ``array<int>``."""
        return self._simple

    def typeName(self) -> str:
        """The JSON name, e.g. ``long``."""
        return type(self).__name__[:-4].lower()

    def jsonValue(self) -> Any:
        """The JSON form (a name, or an object for complex types)."""
        return self.typeName()

    def json(self) -> str:
        """The JSON form as text."""
        return json.dumps(self.jsonValue(), separators=(",", ":"), sort_keys=True)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, type(self)) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(self.simpleString())

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _atomic(name: str, simple: str, json_name: str) -> type[DataType]:
    def type_name(self: DataType) -> str:
        return json_name

    return type(name, (DataType,), {"_simple": simple, "typeName": type_name})


NullType = _atomic("NullType", "void", "void")
StringType = _atomic("StringType", "string", "string")
BinaryType = _atomic("BinaryType", "binary", "binary")
BooleanType = _atomic("BooleanType", "boolean", "boolean")
DateType = _atomic("DateType", "date", "date")
TimestampType = _atomic("TimestampType", "timestamp", "timestamp")
TimestampNTZType = _atomic("TimestampNTZType", "timestamp_ntz", "timestamp_ntz")
DoubleType = _atomic("DoubleType", "double", "double")
FloatType = _atomic("FloatType", "float", "float")
ByteType = _atomic("ByteType", "tinyint", "byte")
ShortType = _atomic("ShortType", "smallint", "short")
IntegerType = _atomic("IntegerType", "int", "integer")
LongType = _atomic("LongType", "bigint", "long")
VariantType = _atomic("VariantType", "variant", "variant")
NumericType = DataType  # isinstance checks in user code rarely need more


class DecimalType(DataType):
    """``decimal(precision, scale)``."""

    def __init__(self, precision: int = 10, scale: int = 0) -> None:
        self.precision = precision
        self.scale = scale

    def simpleString(self) -> str:
        return f"decimal({self.precision},{self.scale})"

    def jsonValue(self) -> Any:
        return self.simpleString()

    def typeName(self) -> str:
        return "decimal"

    def __repr__(self) -> str:
        return f"DecimalType({self.precision}, {self.scale})"


class ArrayType(DataType):
    """``array<element>``."""

    def __init__(self, elementType: DataType, containsNull: bool = True) -> None:
        self.elementType = elementType
        self.containsNull = containsNull

    def simpleString(self) -> str:
        return f"array<{self.elementType.simpleString()}>"

    def typeName(self) -> str:
        return "array"

    def jsonValue(self) -> Any:
        return {
            "type": "array",
            "elementType": self.elementType.jsonValue(),
            "containsNull": self.containsNull,
        }

    def __repr__(self) -> str:
        return f"ArrayType({self.elementType!r}, {self.containsNull})"


class MapType(DataType):
    """``map<key,value>``."""

    def __init__(
        self,
        keyType: DataType,
        valueType: DataType,
        valueContainsNull: bool = True,
    ) -> None:
        self.keyType = keyType
        self.valueType = valueType
        self.valueContainsNull = valueContainsNull

    def simpleString(self) -> str:
        return f"map<{self.keyType.simpleString()},{self.valueType.simpleString()}>"

    def typeName(self) -> str:
        return "map"

    def jsonValue(self) -> Any:
        return {
            "type": "map",
            "keyType": self.keyType.jsonValue(),
            "valueType": self.valueType.jsonValue(),
            "valueContainsNull": self.valueContainsNull,
        }

    def __repr__(self) -> str:
        return f"MapType({self.keyType!r}, {self.valueType!r}, {self.valueContainsNull})"


class StructField(DataType):
    """A named field of a struct."""

    def __init__(
        self,
        name: str,
        dataType: DataType,
        nullable: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.dataType = dataType
        self.nullable = nullable
        self.metadata = metadata or {}

    def simpleString(self) -> str:
        return f"{self.name}:{self.dataType.simpleString()}"

    def jsonValue(self) -> Any:
        return {
            "name": self.name,
            "type": self.dataType.jsonValue(),
            "nullable": self.nullable,
            "metadata": self.metadata,
        }

    def __repr__(self) -> str:
        return f"StructField('{self.name}', {self.dataType!r}, {self.nullable})"


class StructType(DataType):
    """``struct<...>``: the schema of a DataFrame."""

    def __init__(self, fields: list[StructField] | None = None) -> None:
        self.fields = list(fields or [])

    @property
    def names(self) -> list[str]:
        """The field names."""
        return [f.name for f in self.fields]

    def fieldNames(self) -> list[str]:
        """The field names."""
        return self.names

    def add(
        self,
        field: str | StructField,
        data_type: str | DataType | None = None,
        nullable: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> StructType:
        """Append a field (a StructField, or name + type); returns self."""
        if isinstance(field, StructField):
            self.fields.append(field)
        else:
            kind = parse_type(data_type) if isinstance(data_type, str) else data_type
            self.fields.append(StructField(field, kind or StringType(), nullable, metadata))
        return self

    def simpleString(self) -> str:
        return "struct<" + ",".join(f.simpleString() for f in self.fields) + ">"

    def typeName(self) -> str:
        return "struct"

    def jsonValue(self) -> Any:
        return {"type": "struct", "fields": [f.jsonValue() for f in self.fields]}

    def treeString(self) -> str:
        """The ``printSchema`` text."""
        lines = ["root"]
        for field in self.fields:
            _tree(lines, field.name, field.dataType, field.nullable, 1)
        return "\n".join(lines) + "\n"

    def __iter__(self) -> Iterator[StructField]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            for field in self.fields:
                if field.name == key:
                    return field
            raise KeyError(f"No StructField named {key}")
        if isinstance(key, slice):
            return StructType(self.fields[key])
        return self.fields[key]

    def __repr__(self) -> str:
        return "StructType([" + ", ".join(repr(f) for f in self.fields) + "])"


def _tree(lines: list[str], name: str, kind: DataType, nullable: bool, depth: int) -> None:
    prefix = " |   " * (depth - 1) + " |-- "
    lines.append(f"{prefix}{name}: {kind.typeName()} (nullable = {str(nullable).lower()})")
    if isinstance(kind, StructType):
        for field in kind.fields:
            _tree(lines, field.name, field.dataType, field.nullable, depth + 1)
    elif isinstance(kind, ArrayType):
        _tree(lines, "element", kind.elementType, kind.containsNull, depth + 1)
    elif isinstance(kind, MapType):
        _tree(lines, "key", kind.keyType, False, depth + 1)
        _tree(lines, "value", kind.valueType, kind.valueContainsNull, depth + 1)


_ATOMIC: dict[str, type[DataType]] = {
    "string": StringType,
    "varchar": StringType,
    "char": StringType,
    "binary": BinaryType,
    "boolean": BooleanType,
    "bool": BooleanType,
    "date": DateType,
    "timestamp": TimestampType,
    "timestamp_ltz": TimestampType,
    "timestamp_ntz": TimestampNTZType,
    "double": DoubleType,
    "float": FloatType,
    "real": FloatType,
    "tinyint": ByteType,
    "byte": ByteType,
    "smallint": ShortType,
    "short": ShortType,
    "int": IntegerType,
    "integer": IntegerType,
    "bigint": LongType,
    "long": LongType,
    "void": NullType,
    "null": NullType,
    "variant": VariantType,
    "interval": StringType,
}
_TOKEN = re.compile(r"\s*(`(?:[^`]|``)*`|[A-Za-z_][\w]*|\d+|[<>(),:]|\S)")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = [t for t in _TOKEN.findall(text) if t.strip()]
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if expected is not None and token.lower() != expected:
            raise ValueError(f"expected {expected!r} at {token!r}")
        self.at += 1
        return token

    def data_type(self) -> DataType:
        name = self.take().lower()
        if name == "array":
            self.take("<")
            element = self.data_type()
            self.take(">")
            return ArrayType(element)
        if name == "map":
            self.take("<")
            key = self.data_type()
            self.take(",")
            value = self.data_type()
            self.take(">")
            return MapType(key, value)
        if name == "struct":
            self.take("<")
            fields = []
            while self.peek() != ">":
                field_name = _unquote(self.take())
                if self.peek() == ":":
                    self.take()
                fields.append(StructField(field_name, self.data_type()))
                self._skip_field_options()
                if self.peek() == ",":
                    self.take()
            self.take(">")
            return StructType(fields)
        if name in ("decimal", "dec", "numeric"):
            if self.peek() == "(":
                self.take()
                precision = int(self.take())
                scale = 0
                if self.peek() == ",":
                    self.take()
                    scale = int(self.take())
                self.take(")")
                return DecimalType(precision, scale)
            return DecimalType(10, 0)
        if name in ("varchar", "char") and self.peek() == "(":
            while self.take() != ")":
                pass
        if name == "interval":  # interval day to second etc.: shown as text locally
            while self.peek().lower() in ("year", "month", "day", "hour", "minute", "second", "to"):
                self.take()
        if name not in _ATOMIC:
            raise ValueError(f"unknown data type {name!r}")
        return _ATOMIC[name]()

    def _skip_field_options(self) -> None:
        # NOT NULL / COMMENT '...' inside a DDL field: not part of the type.
        while self.peek().lower() in ("not", "null", "comment") or self.peek().startswith("'"):
            self.take()


def _unquote(name: str) -> str:
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


def parse_type(text: str) -> DataType:
    """A data type from its SQL name (``bigint``, ``array<struct<a:int>>``, ``decimal(5,2)``)."""
    parser = _Parser(text)
    kind = parser.data_type()
    if parser.peek():
        raise ValueError(f"unexpected {parser.peek()!r} in data type {text!r}")
    return kind


def parse_schema(text: str) -> StructType:
    """A schema from DDL (``a INT, b STRING`` or ``a: int, b: string``) or a struct type."""
    stripped = text.strip()
    if stripped.lower().startswith("struct<"):
        kind = parse_type(stripped)
        assert isinstance(kind, StructType)
        return kind
    try:
        return StructType([StructField(n, parse_type(t)) for n, t in _ddl_fields(stripped)])
    except ValueError:
        # A single type (createDataFrame([1, 2], "int")): one column named "value".
        return StructType([StructField("value", parse_type(stripped))])


def _ddl_fields(text: str) -> list[tuple[str, str]]:
    fields = []
    depth = 0
    current = ""
    for char in text + ",":
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char == "," and depth == 0:
            match = re.match(r"\s*(`(?:[^`]|``)+`|[\w]+)\s*:?\s+(.+?)\s*$", current, re.S)
            if not match:
                raise ValueError(f"cannot parse field {current!r}")
            kind = re.sub(r"\s+(NOT\s+NULL|COMMENT\s+'.*')\s*$", "", match.group(2), flags=re.I)
            fields.append((_unquote(match.group(1)), kind))
            current = ""
        else:
            current += char
    return fields


def _parse_datatype_string(text: str) -> DataType:
    """PySpark's private helper, used by some user code: a type or a DDL schema."""
    try:
        return parse_type(text)
    except ValueError:
        return parse_schema(text)


__all__ = [
    "ArrayType",
    "BinaryType",
    "BooleanType",
    "ByteType",
    "DataType",
    "DateType",
    "DecimalType",
    "DoubleType",
    "FloatType",
    "IntegerType",
    "LongType",
    "MapType",
    "NullType",
    "Row",
    "ShortType",
    "StringType",
    "StructField",
    "StructType",
    "TimestampNTZType",
    "TimestampType",
    "VariantType",
]
