"""``GroupedData``: ``groupBy(...).agg/count/sum/avg/min/max/pivot``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_workspace.spark import functions as F
from local_workspace.spark.column import Column, column_of
from local_workspace.spark.convert import sql_literal
from local_workspace.spark.errors import refuse

if TYPE_CHECKING:
    from local_workspace.spark.dataframe import DataFrame

_DICT_FUNCTIONS = {"mean": "avg", "std": "stddev"}


class GroupedData:
    """Rows grouped by key columns."""

    def __init__(
        self,
        frame: DataFrame,
        keys: list[Column],
        kind: str,
        pivot: tuple[Column, list[Any]] | None = None,
    ) -> None:
        self._frame = frame
        self._keys = keys
        self._kind = kind
        self._pivot = pivot

    def agg(self, *exprs: Any) -> DataFrame:
        """Aggregates: Columns (``F.sum("x")``) or a dict {column: function}."""
        if len(exprs) == 1 and isinstance(exprs[0], dict):
            columns = [
                getattr(F, _DICT_FUNCTIONS.get(f) or f)(c)
                if c != "*" or f != "count"
                else F.count("*")
                for c, f in exprs[0].items()
            ]
        else:
            columns = [column_of(e) for e in exprs]
        if self._pivot is not None:
            columns = self._pivoted(columns)
        frame = self._frame
        source = frame._source()
        group = ", ".join(frame._render(k, source) for k in self._keys)
        tail = ""
        if self._keys:
            tail = (
                f" GROUP BY {group}"
                if self._kind == "GROUP BY"
                else (f" GROUP BY {self._kind}({group})")
            )
        sql, names = frame._select_sql([*self._keys, *columns], tail)
        return frame._new(sql, names)

    def _pivoted(self, columns: list[Column]) -> list[Column]:
        assert self._pivot is not None
        pivot, values = self._pivot
        out = []
        for value in values:
            condition = f"{pivot._sql} <=> {sql_literal(value)}"
            for column in columns:
                name = str(value) if len(columns) == 1 else f"{value}_{column._name}"
                out.append(Column(f"{column._sql} FILTER (WHERE {condition})", name, aliased=True))
        return out

    def count(self) -> DataFrame:
        """Rows per group, in column ``count``."""
        return self.agg(F.count("*").alias("count"))

    def _each(self, function: str, cols: tuple[str, ...]) -> DataFrame:
        names = list(cols)
        if not names:
            numeric = ("int", "bigint", "smallint", "tinyint", "double", "float", "decimal")
            keys = {k._name for k in self._keys}
            names = [n for n, t in self._frame.dtypes if t.startswith(numeric) and n not in keys]
        return self.agg(*[getattr(F, function)(n) for n in names])

    def sum(self, *cols: str) -> DataFrame:
        """``sum`` of each (numeric) column."""
        return self._each("sum", cols)

    def avg(self, *cols: str) -> DataFrame:
        """``avg`` of each (numeric) column."""
        return self._each("avg", cols)

    mean = avg

    def min(self, *cols: str) -> DataFrame:
        """``min`` of each (numeric) column."""
        return self._each("min", cols)

    def max(self, *cols: str) -> DataFrame:
        """``max`` of each (numeric) column."""
        return self._each("max", cols)

    def pivot(self, pivot_col: str, values: list[Any] | None = None) -> GroupedData:
        """One column per value of ``pivot_col`` (the distinct values, sorted, when none)."""
        column = column_of(pivot_col)
        if values is None:
            distinct = self._frame.select(column.alias("v")).distinct().orderBy("v")
            values = [row[0] for row in distinct.collect()]
        return GroupedData(self._frame, self._keys, self._kind, (column, list(values)))

    def _refused(self, *args: Any, **kwargs: Any) -> Any:
        refuse(
            "Python functions on groups (applyInPandas, apply, cogroup)",
            "Use agg with SQL aggregate functions, or run on Databricks.",
        )

    applyInPandas = apply = cogroup = applyInArrow = _refused
