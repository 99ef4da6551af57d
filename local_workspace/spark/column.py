"""``pyspark.sql.Column``: a Databricks SQL expression and the name Spark gives its column.

A reference bound to a DataFrame (``df["a"]``, ``df.a``) carries a marker naming that
DataFrame; the DataFrame that renders the expression replaces it with the alias that
DataFrame has in its FROM clause (a join's sides), or with nothing (one source).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from local_workspace.spark.convert import quote_ident, sql_literal
from local_workspace.spark.errors import PySparkValueError
from local_workspace.spark.types import DataType, parse_type

_MARK = re.compile("\ue000(\\d+)\ue001")


def bound_ref(frame_id: int, name: str) -> str:
    """The SQL of column ``name`` of the DataFrame numbered ``frame_id`` (a marker)."""
    return f"\ue000{frame_id}\ue001{quote_name(name)}"


def render(text: str, qualifiers: dict[int, str]) -> str:
    """``text`` with each DataFrame marker replaced by its qualifier (``alias.``) or nothing."""
    if "\ue000" not in text:
        return text
    return _MARK.sub(lambda m: qualifiers.get(int(m.group(1)), ""), text)


def quote_name(name: str) -> str:
    """A column name as SQL: dotted parts quoted (``a.b`` -> `a`.`b`), ``*`` kept."""
    parts = split_name(name)
    return ".".join(p if p == "*" else quote_ident(p) for p in parts)


def split_name(name: str) -> list[str]:
    """The parts of a dotted name; backquoted parts may hold dots."""
    parts: list[str] = []
    current = ""
    quoted = False
    i = 0
    while i < len(name):
        char = name[i]
        if char == "`":
            if quoted and name[i + 1 : i + 2] == "`":
                current += "`"
                i += 2
                continue
            quoted = not quoted
        elif char == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
        i += 1
    parts.append(current)
    return parts


def _other(value: Any) -> Column:
    return value if isinstance(value, Column) else lit_column(value)


def lit_column(value: Any) -> Column:
    """A literal column; its name is the value as Spark prints it."""
    if isinstance(value, Column):
        return value
    if value is None:
        name = "NULL"
    elif isinstance(value, bool):
        name = str(value).lower()
    else:
        name = str(value)
    return Column(sql_literal(value), name)


def _binary(op: str, name_op: str | None = None) -> Callable[[Column, Any], Column]:
    def method(self: Column, other: Any) -> Column:
        right = _other(other)
        return Column(
            f"({self._sql} {op} {right._sql})", f"({self._name} {name_op or op} {right._name})"
        )

    return method


def _reflected(op: str) -> Callable[[Column, Any], Column]:
    def method(self: Column, other: Any) -> Column:
        left = _other(other)
        return Column(f"({left._sql} {op} {self._sql})", f"({left._name} {op} {self._name})")

    return method


class Column:
    """A column expression."""

    def __init__(self, sql: str, name: str | None = None, *, aliased: bool = False) -> None:
        self._sql = sql
        self._name = name if name is not None else sql
        self._aliased = aliased  # named by alias(): select renders "AS name"
        self._simple = False  # a plain column reference: its name is its last part

    # arithmetic and comparison
    __add__ = _binary("+")
    __sub__ = _binary("-")
    __mul__ = _binary("*")
    __truediv__ = _binary("/")
    __mod__ = _binary("%")
    __radd__ = _reflected("+")
    __rsub__ = _reflected("-")
    __rmul__ = _reflected("*")
    __rtruediv__ = _reflected("/")
    __rmod__ = _reflected("%")
    __eq__ = _binary("=")  # type: ignore[assignment]
    __ne__ = _binary("!=")  # type: ignore[assignment]
    __lt__ = _binary("<")
    __le__ = _binary("<=")
    __gt__ = _binary(">")
    __ge__ = _binary(">=")
    __and__ = _binary("AND")
    __or__ = _binary("OR")
    __rand__ = _reflected("AND")
    __ror__ = _reflected("OR")
    eqNullSafe = _binary("<=>")
    bitwiseAND = _binary("&")
    bitwiseOR = _binary("|")
    bitwiseXOR = _binary("^")
    __hash__ = None  # type: ignore[assignment]  # == builds an expression, as in PySpark

    def __pow__(self, other: Any) -> Column:
        right = _other(other)
        return Column(f"power({self._sql}, {right._sql})", f"POWER({self._name}, {right._name})")

    def __rpow__(self, other: Any) -> Column:
        return _other(other).__pow__(self)

    def __neg__(self) -> Column:
        return Column(f"(- {self._sql})", f"(- {self._name})")

    def __invert__(self) -> Column:
        return Column(f"(NOT {self._sql})", f"(NOT {self._name})")

    def __bool__(self) -> bool:
        raise PySparkValueError(
            "Cannot convert column into bool: please use '&' for 'and', '|' for 'or', '~' for "
            "'not' when building DataFrame boolean expressions.",
            errorClass="CANNOT_CONVERT_COLUMN_INTO_BOOL",
        )

    def __iter__(self) -> Any:
        raise TypeError("Column is not iterable")

    def __contains__(self, item: Any) -> bool:
        raise PySparkValueError(
            "Cannot apply 'in' operator against a column: please use 'contains' in a string "
            "column or 'array_contains' function for an array column.",
            errorClass="CANNOT_APPLY_IN_FOR_COLUMN",
        )

    # naming
    def alias(self, *alias: str, **kwargs: Any) -> Column:
        """The same expression named ``alias``."""
        if len(alias) != 1:
            raise PySparkValueError(
                "alias takes one name locally (multi-name aliases of "
                "generators: select them and rename)"
            )
        return Column(self._sql, alias[0], aliased=True)

    name = alias

    # predicates
    def isNull(self) -> Column:
        """``IS NULL``."""
        return Column(f"({self._sql} IS NULL)", f"({self._name} IS NULL)")

    def isNotNull(self) -> Column:
        """``IS NOT NULL``."""
        return Column(f"({self._sql} IS NOT NULL)", f"({self._name} IS NOT NULL)")

    def isNaN(self) -> Column:
        """``isnan``."""
        return Column(f"isnan({self._sql})", f"isnan({self._name})")

    def isin(self, *values: Any) -> Column:
        """``IN (...)``: values as arguments or one list."""
        if len(values) == 1 and isinstance(values[0], list | tuple | set):
            values = tuple(values[0])
        items = [_other(v) for v in values]
        if not items:  # Spark: IN of nothing is false
            return Column("FALSE", f"({self._name} IN ())")
        sql = ", ".join(i._sql for i in items)
        return Column(
            f"({self._sql} IN ({sql}))", f"({self._name} IN ({', '.join(i._name for i in items)}))"
        )

    def between(self, lowerBound: Any, upperBound: Any) -> Column:
        """``lower <= x AND x <= upper``."""
        return (self >= lowerBound) & (self <= upperBound)

    def like(self, other: str) -> Column:
        """SQL ``LIKE``."""
        return Column(f"({self._sql} LIKE {sql_literal(other)})", f"{self._name} LIKE {other}")

    def ilike(self, other: str) -> Column:
        """SQL ``ILIKE``."""
        return Column(f"({self._sql} ILIKE {sql_literal(other)})", f"{self._name} ILIKE {other}")

    def rlike(self, other: str) -> Column:
        """SQL ``RLIKE`` (a Java regular expression, found anywhere)."""
        return Column(f"({self._sql} RLIKE {sql_literal(other)})", f"{self._name} RLIKE {other}")

    def startswith(self, other: Any) -> Column:
        """``startswith(x, prefix)``."""
        right = _other(other)
        return Column(
            f"startswith({self._sql}, {right._sql})", f"startswith({self._name}, {right._name})"
        )

    def endswith(self, other: Any) -> Column:
        """``endswith(x, suffix)``."""
        right = _other(other)
        return Column(
            f"endswith({self._sql}, {right._sql})", f"endswith({self._name}, {right._name})"
        )

    def contains(self, other: Any) -> Column:
        """``contains(x, part)``."""
        right = _other(other)
        return Column(
            f"contains({self._sql}, {right._sql})", f"contains({self._name}, {right._name})"
        )

    def substr(self, startPos: Any, length: Any) -> Column:
        """``substring(x, pos, len)`` (1-based)."""
        start, count = _other(startPos), _other(length)
        return Column(
            f"substring({self._sql}, {start._sql}, {count._sql})",
            f"substr({self._name}, {start._name}, {count._name})",
        )

    # types and structure
    def cast(self, dataType: DataType | str) -> Column:
        """``CAST(x AS type)``."""
        kind = parse_type(dataType) if isinstance(dataType, str) else dataType
        text = kind.simpleString()
        sql = f"CAST({self._sql} AS {text})"
        if self._simple or self._aliased:  # Spark keeps the name of a cast column or alias
            return Column(sql, self._name, aliased=True)
        return Column(sql, f"CAST({self._name} AS {text.upper()})")

    astype = cast

    def getItem(self, key: Any) -> Column:
        """``x[key]``: an array element (0-based) or a map value."""
        index = _other(key)
        return Column(f"{self._sql}[{index._sql}]", f"{self._name}[{index._name}]")

    def getField(self, name: str) -> Column:
        """``x.name`` of a struct."""
        return Column(f"{self._sql}.{quote_ident(name)}", f"{self._name}.{name}")

    def __getitem__(self, key: Any) -> Column:
        if isinstance(key, slice):
            return self.substr(key.start, key.stop)
        return self.getItem(key)

    def __getattr__(self, name: str) -> Column:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.getField(name)

    def withField(self, fieldName: str, col: Column) -> Column:
        """The struct with one field set (Databricks' ``struct`` rebuilt is not known
        locally without its fields): refused with a hint."""
        raise PySparkValueError(
            "Column.withField is not available locally: build the struct with F.struct(...)."
        )

    # ordering
    def asc(self) -> Column:
        """Ascending, nulls first (Spark's default)."""
        return self._sort("ASC NULLS FIRST", "ASC NULLS FIRST")

    def asc_nulls_first(self) -> Column:
        """Ascending, nulls first."""
        return self._sort("ASC NULLS FIRST", "ASC NULLS FIRST")

    def asc_nulls_last(self) -> Column:
        """Ascending, nulls last."""
        return self._sort("ASC NULLS LAST", "ASC NULLS LAST")

    def desc(self) -> Column:
        """Descending, nulls last (Spark's default)."""
        return self._sort("DESC NULLS LAST", "DESC NULLS LAST")

    def desc_nulls_first(self) -> Column:
        """Descending, nulls first."""
        return self._sort("DESC NULLS FIRST", "DESC NULLS FIRST")

    def desc_nulls_last(self) -> Column:
        """Descending, nulls last."""
        return self._sort("DESC NULLS LAST", "DESC NULLS LAST")

    def _sort(self, order: str, name: str) -> Column:
        column = Column(f"{self._sql} {order}", f"{self._name} {name}")
        column._sorted = True  # type: ignore[attr-defined]
        return column

    # conditions (on a column built by functions.when)
    def when(self, condition: Column, value: Any) -> Column:
        """Another ``WHEN`` branch of a ``CASE`` built by ``functions.when``."""
        cases = getattr(self, "_cases", None)
        if cases is None or getattr(self, "_else", None) is not None:
            raise PySparkValueError(
                "when() can only be applied on a Column previously generated by when() function",
                errorClass="INVALID_WHEN_USAGE",
            )
        return case_column([*cases, (condition, _other(value))], None)

    def otherwise(self, value: Any) -> Column:
        """The ``ELSE`` of a ``CASE`` built by ``functions.when``."""
        cases = getattr(self, "_cases", None)
        if cases is None or getattr(self, "_else", None) is not None:
            raise PySparkValueError(
                "otherwise() can only be applied on a Column previously generated by when()",
                errorClass="INVALID_WHEN_USAGE",
            )
        return case_column(cases, _other(value))

    def over(self, window: Any) -> Column:
        """This aggregate or ranking function over a window (``Window.partitionBy...``)."""
        spec = window._spec()
        return Column(f"{self._sql} OVER ({spec})", f"{self._name} OVER ({spec})")

    def __repr__(self) -> str:
        return f"Column<'{self._name}'>"


def case_column(cases: list[tuple[Column, Column]], otherwise: Column | None) -> Column:
    """``CASE WHEN ... THEN ... [ELSE ...] END``."""
    sql = " ".join(f"WHEN {c._sql} THEN {v._sql}" for c, v in cases)
    name = " ".join(f"WHEN {c._name} THEN {v._name}" for c, v in cases)
    if otherwise is not None:
        sql += f" ELSE {otherwise._sql}"
        name += f" ELSE {otherwise._name}"
    column = Column(f"CASE {sql} END", f"CASE {name} END")
    column._cases = cases  # type: ignore[attr-defined]
    column._else = otherwise  # type: ignore[attr-defined]
    return column


def column_of(value: Any) -> Column:
    """A column from a Column or a column name."""
    if isinstance(value, Column):
        return value
    if isinstance(value, str):
        return named(value)
    raise TypeError(f"expected a Column or a column name, got {type(value).__name__}")


def named(name: str) -> Column:
    """``col(name)``: an unbound column reference."""
    if name == "*":
        return Column("*", "*")
    column = Column(quote_name(name), split_name(name)[-1])
    column._simple = True
    return column


def table_name(name: str) -> str:
    """A table name as SQL, each part quoted (``a.b.c`` -> `a`.`b`.`c`)."""
    return ".".join(quote_ident(p) for p in split_name(name))


def columns_of(values: Iterable[Any]) -> list[Column]:
    """Columns from arguments that may be names, Columns, or one list of them."""
    items = list(values)
    if len(items) == 1 and isinstance(items[0], list | tuple):
        items = list(items[0])
    return [column_of(v) for v in items]
