"""``pyspark.sql.DataFrame``: lazy transformations that build Databricks SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_workspace.spark.column import Column, column_of, lit_column, named
from local_workspace.spark.convert import quote_ident
from local_workspace.spark.errors import (
    AnalysisException,
    PySparkAttributeError,
    PySparkValueError,
)
from local_workspace.spark.frame_actions import Actions
from local_workspace.spark.frame_base import FrameBase, Source, ensure_columns
from local_workspace.spark.frame_extras import Extras
from local_workspace.spark.joins import join_frames

if TYPE_CHECKING:
    from local_workspace.spark.grouped import GroupedData
    from local_workspace.spark.session import SparkSession


class DataFrame(FrameBase, Actions, Extras):
    """A lazy query on the SQL warehouse with PySpark's DataFrame API."""

    @classmethod
    def from_sql(
        cls,
        session: SparkSession,
        sql: str,
        schema_sql: str | None = None,
        streaming: bool = False,
    ) -> DataFrame:
        """A DataFrame over a query; column lookups use ``schema_sql`` when given."""
        return cls(session, sql, schema_sql=schema_sql, streaming=streaming)

    # projection
    def select(self, *cols: Any) -> DataFrame:
        """The given columns (names, Columns, ``"*"``)."""
        columns = ensure_columns(cols)
        sql, names = self._select_sql(columns)
        return self._new(sql, names)

    def selectExpr(self, *expr: str) -> DataFrame:
        """Columns from SQL expressions."""
        items = list(expr[0]) if len(expr) == 1 and isinstance(expr[0], list) else list(expr)
        columns = []
        for text in items:
            column = Column(text, text)
            column._raw = True  # type: ignore[attr-defined]
            columns.append(column)
        return self.select(*columns)

    def withColumn(self, colName: str, col: Column) -> DataFrame:
        """Add a column, or replace one in place (keeping its position)."""
        return self.withColumns({colName: col})

    def withColumns(self, *colsMap: dict[str, Column]) -> DataFrame:
        """Add or replace several columns."""
        mapping = dict(colsMap[0]) if colsMap else {}
        for value in mapping.values():
            if not isinstance(value, Column):
                raise PySparkAttributeError(
                    "withColumn needs a Column: wrap values in F.lit(...)",
                    errorClass="NOT_COLUMN",
                )
        names = self.columns
        lowered = {n.lower(): n for n in names}
        columns: list[Column] = []
        for name in names:
            match = next((k for k in mapping if k.lower() == name.lower()), None)
            columns.append(mapping[match].alias(name) if match else self._col(name))
        for key, value in mapping.items():
            if key.lower() not in lowered:
                columns.append(value.alias(key))
        return self.select(*columns)

    def withColumnRenamed(self, existing: str, new: str) -> DataFrame:
        """Rename a column (no-op when it does not exist, as in Spark)."""
        return self.withColumnsRenamed({existing: new})

    def withColumnsRenamed(self, colsMap: dict[str, str]) -> DataFrame:
        """Rename several columns."""
        lowered = {k.lower(): v for k, v in colsMap.items()}
        columns = [
            self._col(n).alias(lowered[n.lower()]) if n.lower() in lowered else self._col(n)
            for n in self.columns
        ]
        return self.select(*columns)

    def toDF(self, *cols: str) -> DataFrame:
        """The same rows with new column names."""
        names = self.columns
        if len(cols) != len(names):
            raise PySparkValueError(
                f"toDF needs {len(names)} names, got {len(cols)}",
                errorClass="LENGTH_SHOULD_BE_THE_SAME",
            )
        return self.select(*[self._col(o).alias(n) for o, n in zip(names, cols, strict=True)])

    def drop(self, *cols: Any) -> DataFrame:
        """Without these columns (names that do not exist are ignored, as in Spark)."""
        drop_names = {c.lower() for c in cols if isinstance(c, str)}
        drop_names |= {c._name.lower() for c in cols if isinstance(c, Column)}
        keep = [n for n in self.columns if n.lower() not in drop_names]
        return self.select(*[self._col(n) for n in keep])

    def alias(self, alias: str) -> DataFrame:
        """The same rows under an alias (``F.col("alias.x")`` in joins)."""
        return self._new(self._sql, self._names, alias=alias, schema_sql=self._schema_sql)

    # rows
    def filter(self, condition: Column | str) -> DataFrame:
        """Rows where ``condition`` (a Column or a SQL expression) holds."""
        source = self._source()
        text = condition if isinstance(condition, str) else self._render(condition, source)
        sql = f"SELECT {source.star} FROM {source.from_clause} WHERE {text}"
        return self._new(sql, self._names if self._join is None else None)

    where = filter

    def distinct(self) -> DataFrame:
        """Distinct rows."""
        source = self._source()
        return self._new(f"SELECT DISTINCT {source.star} FROM {source.from_clause}", self._names)

    def dropDuplicates(self, subset: list[str] | None = None) -> DataFrame:
        """One row per distinct ``subset`` (all columns without it)."""
        if not subset:
            return self.distinct()
        keys = ", ".join(quote_ident(k) for k in subset)
        name = quote_ident(f"__dedup_{self._id}")
        inner = (
            f"SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY {keys}) AS {name} "
            f"FROM ({self._sql}) AS {quote_ident(self._alias)}"
        )
        columns = ", ".join(quote_ident(c) for c in self.columns)
        return self._new(
            f"SELECT {columns} FROM ({inner}) AS {quote_ident(self._alias + '_d')} "
            f"WHERE {name} = 1",
            self.columns,
        )

    drop_duplicates = dropDuplicates
    dropDuplicatesWithinWatermark = dropDuplicates

    def orderBy(self, *cols: Any, ascending: Any = None) -> DataFrame:
        """Rows sorted (ascending, nulls first by default)."""
        columns = ensure_columns(cols)
        if ascending is not None:
            flags = ascending if isinstance(ascending, list) else [ascending] * len(columns)
            columns = [c.asc() if f else c.desc() for c, f in zip(columns, flags, strict=False)]
        source = self._source()
        order = ", ".join(
            self._render(c, source)
            if getattr(c, "_sorted", False)
            else f"{self._render(c, source)} ASC NULLS FIRST"
            for c in columns
        )
        sql = f"SELECT {source.star} FROM {source.from_clause} ORDER BY {order}"
        return self._new(sql, self._names if self._join is None else None)

    sort = orderBy

    def sortWithinPartitions(self, *cols: Any, **kwargs: Any) -> DataFrame:
        """Sorted (one partition here)."""
        return self.orderBy(*cols, **kwargs)

    def limit(self, num: int) -> DataFrame:
        """The first ``num`` rows."""
        source = self._source()
        sql = f"SELECT {source.star} FROM {source.from_clause} LIMIT {int(num)}"
        return self._new(sql, self._names if self._join is None else None)

    def offset(self, num: int) -> DataFrame:
        """Without the first ``num`` rows."""
        source = self._source()
        sql = f"SELECT {source.star} FROM {source.from_clause} OFFSET {int(num)}"
        return self._new(sql, self._names if self._join is None else None)

    def sample(
        self,
        withReplacement: Any = None,
        fraction: Any = None,
        seed: Any = None,
    ) -> DataFrame:
        """A random sample (``TABLESAMPLE``): rows kept with probability ``fraction``."""
        if isinstance(withReplacement, float):
            withReplacement, fraction = None, withReplacement
        if withReplacement:
            raise PySparkValueError("sample with replacement is not available locally.")
        if fraction is None or not 0 <= float(fraction) <= 1:
            raise PySparkValueError("sample needs a fraction between 0 and 1.")
        source = self._source()
        condition = f"rand({'' if seed is None else int(seed)}) < {float(fraction)}"
        return self._new(
            f"SELECT {source.star} FROM {source.from_clause} WHERE {condition}", self._names
        )

    def randomSplit(self, weights: list[float], seed: int | None = None) -> list[DataFrame]:
        """Disjoint random parts in proportion to ``weights``: each row goes to one part, by
        a hash of its values and ``seed`` (the same rows on every evaluation)."""
        if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise PySparkValueError("weights must be non-negative with a positive sum")
        values = ", ".join(quote_ident(c) for c in self.columns)
        draw = f"(pmod(hash({values}, {int(seed or 0)}), 1000000) / 1000000.0)"
        total, low, parts = float(sum(weights)), 0.0, []
        for index, weight in enumerate(weights):
            condition = f"{draw} >= {low!r}"
            low += weight / total
            if index < len(weights) - 1:  # the last part takes the top of the range
                condition += f" AND {draw} < {low!r}"
            parts.append(self.filter(condition))
        return parts

    # combination
    def join(self, other: DataFrame, on: Any = None, how: str | None = None) -> DataFrame:
        """A join: ``on`` a column name, names, a Column condition or Columns."""
        return join_frames(self, other, on, how or "inner")

    def crossJoin(self, other: DataFrame) -> DataFrame:
        """Every pair of rows."""
        return join_frames(self, other, None, "cross")

    def _set(self, other: DataFrame, operator: str) -> DataFrame:
        sql = (
            f"SELECT * FROM ({self._sql}) AS {quote_ident(self._alias)} {operator} "
            f"SELECT * FROM ({other._sql}) AS {quote_ident(other._alias + '_r')}"
        )
        return self._new(sql, self._names)

    def union(self, other: DataFrame) -> DataFrame:
        """Rows of both, by position (duplicates kept)."""
        return self._set(other, "UNION ALL")

    unionAll = union

    def unionByName(self, other: DataFrame, allowMissingColumns: bool = False) -> DataFrame:
        """Rows of both, matching columns by name."""
        mine, theirs = self.columns, other.columns
        lower = {n.lower(): n for n in theirs}
        missing = [n for n in mine if n.lower() not in lower]
        extra = [n for n in theirs if n.lower() not in {m.lower() for m in mine}]
        if (missing or extra) and not allowMissingColumns:
            raise AnalysisException(
                f"[NUM_COLUMNS_MISMATCH] unionByName: column(s) {missing or extra} do not exist "
                "on both sides; pass allowMissingColumns=True."
            )
        left_items = [quote_ident(n) for n in mine] + [f"NULL AS {quote_ident(n)}" for n in extra]
        right_items = [
            quote_ident(lower[n.lower()]) if n.lower() in lower else f"NULL AS {quote_ident(n)}"
            for n in mine
        ] + [quote_ident(n) for n in extra]
        sql = (
            f"SELECT {', '.join(left_items)} FROM ({self._sql}) AS {quote_ident(self._alias)} "
            f"UNION ALL SELECT {', '.join(right_items)} FROM ({other._sql}) AS "
            f"{quote_ident(other._alias + '_r')}"
        )
        return self._new(sql, [*mine, *extra])

    def intersect(self, other: DataFrame) -> DataFrame:
        """Distinct rows in both."""
        return self._set(other, "INTERSECT")

    def intersectAll(self, other: DataFrame) -> DataFrame:
        """Rows in both, duplicates kept."""
        return self._set(other, "INTERSECT ALL")

    def subtract(self, other: DataFrame) -> DataFrame:
        """Distinct rows of this one not in ``other``."""
        return self._set(other, "EXCEPT")

    def exceptAll(self, other: DataFrame) -> DataFrame:
        """Rows of this one not in ``other``, duplicates kept."""
        return self._set(other, "EXCEPT ALL")

    # aggregation
    def groupBy(self, *cols: Any) -> GroupedData:
        """Group by these columns; aggregate with ``.agg``/``.count``/``.sum``..."""
        from local_workspace.spark.grouped import GroupedData

        return GroupedData(self, ensure_columns(cols), "GROUP BY")

    groupby = groupBy

    def rollup(self, *cols: Any) -> GroupedData:
        """``GROUP BY ROLLUP``."""
        from local_workspace.spark.grouped import GroupedData

        return GroupedData(self, ensure_columns(cols), "ROLLUP")

    def cube(self, *cols: Any) -> GroupedData:
        """``GROUP BY CUBE``."""
        from local_workspace.spark.grouped import GroupedData

        return GroupedData(self, ensure_columns(cols), "CUBE")

    def agg(self, *exprs: Any) -> DataFrame:
        """Aggregate the whole DataFrame."""
        return self.groupBy().agg(*exprs)

    # missing values
    @property
    def na(self) -> Any:
        """``fill``/``drop``/``replace`` of missing values."""
        from local_workspace.spark.na import NaFunctions

        return NaFunctions(self)

    def fillna(self, value: Any, subset: Any = None) -> DataFrame:
        """Fill nulls (only in columns of the value's type, as Spark does)."""
        return self.na.fill(value, subset)

    def dropna(self, how: str = "any", thresh: int | None = None, subset: Any = None) -> DataFrame:
        """Without rows that have nulls."""
        return self.na.drop(how, thresh, subset)

    def replace(self, to_replace: Any, value: Any = None, subset: Any = None) -> DataFrame:
        """Replace values."""
        return self.na.replace(to_replace, value, subset)

    def __getattr__(self, name: str) -> Column:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in {n for n in self.columns}:
            return self._col(name)
        raise PySparkAttributeError(
            f"'DataFrame' object has no attribute '{name}'",
            errorClass="ATTRIBUTE_NOT_SUPPORTED",
            messageParameters={"attr_name": name},
        )

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self.columns]


def lit_or_named(value: Any) -> Column:
    """A Column from a Column, else a literal (for ``fillna``/``replace`` values)."""
    return value if isinstance(value, Column) else lit_column(value)


__all__ = ["DataFrame", "Source", "column_of", "named"]
