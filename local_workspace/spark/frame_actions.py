"""Actions of a DataFrame: collect, count, show, toPandas... (they run the query)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from local_workspace.spark.convert import pandas_column, quote_ident, row_converter
from local_workspace.spark.errors import AnalysisException
from local_workspace.spark.row import Row

if TYPE_CHECKING:
    from local_workspace.spark.client import Result
    from local_workspace.spark.dataframe import DataFrame


class Actions:
    """The methods that run a DataFrame's query."""

    def _result(self: Any, sql: str | None = None) -> Result:
        if self.isStreaming:  # as Spark: a stream runs only as a streaming query (a pipeline)
            raise AnalysisException(
                "Queries with streaming sources must be executed with writeStream.start(); "
                "locally a streaming read runs inside a pipeline (@dlt.table over "
                "spark.readStream.table); read the table with spark.read.table for a batch."
            )
        return self.sparkSession._run(sql or self._sql)

    def collect(self: Any) -> list[Row]:
        """Every row."""
        return _rows(self._result())

    def toLocalIterator(self: Any, prefetchPartitions: bool = False) -> Iterator[Row]:
        """The rows, one at a time."""
        return iter(self.collect())

    def count(self: Any) -> int:
        """The number of rows."""
        result = self._result(f"SELECT count(1) FROM ({self._sql}) AS {quote_ident(self._alias)}")
        return int(result.rows()[0][0])

    def take(self: Any, num: int) -> list[Row]:
        """The first ``num`` rows."""
        return self.limit(num).collect()

    def head(self: Any, n: int | None = None) -> Any:
        """The first row (or None) without ``n``; the first ``n`` rows with it."""
        if n is None:
            rows = self.take(1)
            return rows[0] if rows else None
        return self.take(n)

    def first(self: Any) -> Row | None:
        """The first row, or None."""
        return self.head()

    def tail(self: Any, num: int) -> list[Row]:
        """The last ``num`` rows."""
        return self.collect()[-num:] if num else []

    def isEmpty(self: Any) -> bool:
        """Whether there is no row."""
        return not self.take(1)

    def toPandas(self: Any) -> Any:
        """A pandas DataFrame (column by column from the JSON chunks, typed per column)."""
        import pandas as pd

        result = self._result()
        columns: list[list[Any]] = [[] for _ in result.names]
        for chunk in result.chunks():
            for target, values in zip(columns, zip(*chunk, strict=False), strict=False):
                target.extend(values)
        # Keyed by position (names may repeat, as after a join), named once built.
        series = {
            i: pandas_column(v, t)
            for i, (v, t) in enumerate(zip(columns, result.types, strict=True))
        }
        frame = pd.DataFrame(series) if series else pd.DataFrame()
        frame.columns = result.names
        return frame

    def show(self: Any, n: int = 20, truncate: bool | int = True, vertical: bool = False) -> None:
        """Print the first ``n`` rows as Spark does."""
        print(self._show_string(n, truncate, vertical))

    def _show_string(self: Any, n: int, truncate: bool | int, vertical: bool) -> str:
        result = self._result(
            f"SELECT * FROM ({self._sql}) AS {quote_ident(self._alias)} LIMIT {int(n) + 1}"
        )
        rows = _rows(result)
        names = result.names
        width = 20 if truncate is True else int(truncate or 0)

        def cell(value: Any) -> str:
            text = show_value(value)
            if width and len(text) > width:
                return text[: width - 3] + "..." if width > 3 else text[:width]
            return text

        shown = [[cell(v) for v in row] for row in rows[:n]]
        if vertical:
            return _vertical(names, shown, len(rows) > n, n)
        widths = [max([3, len(c), *(len(r[i]) for r in shown)]) for i, c in enumerate(names)]

        def line(values: list[str]) -> str:
            if width:
                return "|" + "|".join(v.rjust(w) for v, w in zip(values, widths, strict=True)) + "|"
            return "|" + "|".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + "|"

        rule = "+" + "+".join("-" * w for w in widths) + "+"
        out = [rule, line(list(names)), rule, *(line(r) for r in shown), rule]
        if len(rows) > n:
            out.append(f"only showing top {n} row{'s' if n != 1 else ''}")
        return "\n".join(out) + "\n"

    def describe(self: Any, *cols: Any) -> DataFrame:
        """count, mean, stddev, min, max of numeric and string columns."""
        return self.summary("count", "mean", "stddev", "min", "max", _cols=cols)

    def summary(self: Any, *statistics: str, _cols: Any = ()) -> DataFrame:
        """Statistics per column (count, mean, stddev, min, max; quartiles as 25%/50%/75%)."""
        stats = list(statistics) or ["count", "mean", "stddev", "min", "25%", "50%", "75%", "max"]
        wanted = list(_cols[0]) if len(_cols) == 1 and isinstance(_cols[0], list) else list(_cols)
        numeric = ("int", "bigint", "smallint", "tinyint", "double", "float", "decimal")
        columns = [
            (n, t)
            for n, t in self.dtypes
            if (not wanted or n in wanted) and (t.startswith(numeric) or t == "string")
        ]
        alias = quote_ident(self._alias)
        selects = []
        for stat in stats:
            items = [f"'{stat}' AS summary"]
            for name, kind in columns:
                ref = quote_ident(name)
                is_number = kind.startswith(numeric)
                expr = _stat(stat, ref, is_number)
                items.append(f"CAST({expr} AS STRING) AS {ref}")
            selects.append(f"SELECT {', '.join(items)} FROM ({self._sql}) AS {alias}")
        return self._new(" UNION ALL ".join(selects), ["summary", *[n for n, _ in columns]])

    def explain(self: Any, extended: Any = None, mode: str | None = None) -> None:
        """Print the query this DataFrame runs."""
        print(f"== SQL (local workspace) ==\n{self._sql}")


def _stat(stat: str, ref: str, is_number: bool) -> str:
    if stat == "count":
        return f"count({ref})"
    if stat in ("min", "max"):
        return f"{stat}({ref})"
    if not is_number:
        return "NULL"
    if stat == "mean":
        return f"avg({ref})"
    if stat == "stddev":
        return f"stddev({ref})"
    if stat.endswith("%"):
        return f"percentile_approx({ref}, {float(stat[:-1]) / 100})"
    return "NULL"


def _rows(result: Result) -> list[Row]:
    names = tuple(result.names)
    convert = row_converter(result.types)
    return [Row._make(names, convert(raw)) for chunk in result.chunks() for raw in chunk]


def show_value(value: Any) -> str:
    """A value as Spark's ``show`` prints it."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float | decimal.Decimal | dt.date):
        return str(value)
    if isinstance(value, Row):
        return "{" + ", ".join(show_value(v) for v in value) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{show_value(k)} -> {show_value(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, bytearray | bytes):
        return "[" + " ".join(f"{b:02X}" for b in value) + "]"
    return str(value)


def _vertical(names: list[str], rows: list[list[str]], more: bool, n: int) -> str:
    width = max([len(c) for c in names] or [0])
    out = []
    for index, row in enumerate(rows):
        out.append(f"-RECORD {index}" + "-" * 10)
        out += [f" {c.ljust(width)} | {v}" for c, v in zip(names, row, strict=True)]
    if not rows:
        out.append("(0 rows)")
    if more:
        out.append(f"only showing top {n} row{'s' if n != 1 else ''}")
    return "\n".join(out) + "\n"
