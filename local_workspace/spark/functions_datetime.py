"""Date and time functions of ``pyspark.sql.functions`` as Databricks SQL."""

from __future__ import annotations

from typing import Any

from local_workspace.spark.column import Column, column_of, lit_column


def _call(sql_name: str, *args: Column) -> Column:
    return Column(
        f"{sql_name}({', '.join(a._sql for a in args)})",
        f"{sql_name}({', '.join(a._name for a in args)})",
    )


def _lit(value: Any) -> Column:
    return lit_column(value)


def _date_arg(value: Any) -> Column:
    return value if isinstance(value, Column) else _lit(value)


def to_date(col: Any, format: str | None = None) -> Column:
    """``to_date(x[, fmt])``."""
    return _call("to_date", column_of(col), *([_lit(format)] if format else []))


def to_timestamp(col: Any, format: str | None = None) -> Column:
    """``to_timestamp(x[, fmt])``."""
    return _call("to_timestamp", column_of(col), *([_lit(format)] if format else []))


def date_format(date: Any, format: str) -> Column:
    """``date_format(x, fmt)``."""
    return _call("date_format", column_of(date), _lit(format))


def date_add(start: Any, days: Any) -> Column:
    """``date_add(x, days)``."""
    return _call("date_add", column_of(start), _date_arg(days))


def date_sub(start: Any, days: Any) -> Column:
    """``date_sub(x, days)``."""
    return _call("date_sub", column_of(start), _date_arg(days))


def add_months(start: Any, months: Any) -> Column:
    """``add_months(x, n)``."""
    return _call("add_months", column_of(start), _date_arg(months))


def datediff(end: Any, start: Any) -> Column:
    """``datediff(end, start)`` in days."""
    return _call("datediff", column_of(end), column_of(start))


def months_between(date1: Any, date2: Any, roundOff: bool = True) -> Column:
    """``months_between(a, b)``."""
    return _call("months_between", column_of(date1), column_of(date2))


def date_trunc(format: str, timestamp: Any) -> Column:
    """``date_trunc(unit, x)``."""
    return _call("date_trunc", _lit(format), column_of(timestamp))


def trunc(date: Any, format: str) -> Column:
    """``trunc(x, unit)``."""
    return _call("trunc", column_of(date), _lit(format))


def from_unixtime(timestamp: Any, format: str = "yyyy-MM-dd HH:mm:ss") -> Column:
    """``from_unixtime(seconds, fmt)``."""
    return _call("from_unixtime", column_of(timestamp), _lit(format))


def unix_timestamp(timestamp: Any = None, format: str = "yyyy-MM-dd HH:mm:ss") -> Column:
    """``unix_timestamp([x, fmt])``."""
    if timestamp is None:
        return Column("unix_timestamp()", "unix_timestamp()")
    return _call("unix_timestamp", column_of(timestamp), _lit(format))


def current_date() -> Column:
    """``current_date()``."""
    return Column("current_date()", "current_date()")


def current_timestamp() -> Column:
    """``current_timestamp()``."""
    return Column("current_timestamp()", "current_timestamp()")


def to_utc_timestamp(timestamp: Any, tz: Any) -> Column:
    """``to_utc_timestamp(x, tz)``."""
    return _call("to_utc_timestamp", column_of(timestamp), _date_arg(tz))


def from_utc_timestamp(timestamp: Any, tz: Any) -> Column:
    """``from_utc_timestamp(x, tz)``."""
    return _call("from_utc_timestamp", column_of(timestamp), _date_arg(tz))


def make_date(year: Any, month: Any, day: Any) -> Column:
    """``make_date(y, m, d)``."""
    return _call("make_date", column_of(year), column_of(month), column_of(day))


__all__ = [
    "add_months",
    "current_date",
    "current_timestamp",
    "date_add",
    "date_format",
    "date_sub",
    "date_trunc",
    "datediff",
    "from_unixtime",
    "from_utc_timestamp",
    "make_date",
    "months_between",
    "to_date",
    "to_timestamp",
    "to_utc_timestamp",
    "trunc",
    "unix_timestamp",
]
