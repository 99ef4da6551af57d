"""The core of a DataFrame: its SQL text, its FROM clause when used as a source, its schema.

A DataFrame is a query. A transformation wraps its parent as a subquery under the parent's
alias; a join keeps its FROM clause open (``(a) AS t1 JOIN (b) AS t2 ON ...``) so that the
next step can still name either side (``a.x``, ``b["y"]``) as PySpark allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local_workspace.spark.column import Column, column_of, render
from local_workspace.spark.convert import quote_ident
from local_workspace.spark.types import StructField, StructType, parse_type

if TYPE_CHECKING:
    from local_workspace.spark.session import SparkSession


@dataclass(frozen=True)
class Source:
    """A DataFrame as the FROM clause of the next query."""

    from_clause: str
    qualifiers: dict[int, str]  # DataFrame id -> "`alias`." for columns bound to it
    star: str  # what "*" selects: the DataFrame's own columns


class FrameBase:
    """SQL text, FROM clause and cached schema of a DataFrame."""

    def __init__(
        self,
        session: SparkSession,
        sql: str,
        *,
        schema_sql: str | None = None,
        streaming: bool = False,
        alias: str | None = None,
        join: Source | None = None,
        names: list[str] | None = None,
    ) -> None:
        self.sparkSession = session
        self._sql = sql
        self._schema_sql = schema_sql
        self.isStreaming = streaming
        self._id = session._next_id()
        # An alias given by alias() stays on what derives from it, as Spark keeps qualifiers.
        self._user_alias = alias is not None
        self._alias = alias or f"t{self._id}"
        self._join = join
        self._names = names
        self._types: list[tuple[str, str]] | None = None

    @property
    def sql_text(self) -> str:
        """The Databricks SQL query of this DataFrame."""
        return self._sql

    def _source(self) -> Source:
        if self._join is not None:
            qualifiers = dict(self._join.qualifiers)
            qualifiers.setdefault(self._id, "")
            return Source(self._join.from_clause, qualifiers, self._join.star)
        alias = quote_ident(self._alias)
        return Source(f"({self._sql}) AS {alias}", {self._id: f"{alias}."}, "*")

    def _new(self, sql: str, names: list[str] | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("streaming", self.isStreaming)
        if self._user_alias and "join" not in kwargs:
            kwargs.setdefault("alias", self._alias)
        return type(self)(self.sparkSession, sql, names=names, **kwargs)

    def _render(self, column: Column, source: Source) -> str:
        return render(column._sql, source.qualifiers)

    def _item(self, column: Column, source: Source) -> str:
        """A select-list item: the expression named as Spark names it."""
        if column._sql == "*":
            return source.star
        sql = self._render(column, source)
        if getattr(column, "_raw", False) and not column._aliased:
            return sql
        if column._simple and not column._aliased:
            return sql
        return f"{sql} AS {quote_ident(column._name)}"

    def _select_sql(self, columns: list[Column], tail: str = "") -> tuple[str, list[str] | None]:
        source = self._source()
        items = ", ".join(self._item(c, source) for c in columns)
        names: list[str] | None = []
        for c in columns:
            if c._sql == "*" or (getattr(c, "_raw", False) and not c._aliased):
                names = None
                break
            assert names is not None
            names.append(c._name)
        return f"SELECT {items} FROM {source.from_clause}{tail}", names

    # schema
    def _describe(self) -> list[tuple[str, str]]:
        if self._types is None:
            result = self.sparkSession._run(f"DESCRIBE QUERY {self._schema_sql or self._sql}")
            self._types = [(str(r[0]), str(r[1])) for r in result.rows() if r and r[0]]
            self._names = [n for n, _ in self._types]
        return self._types

    @property
    def columns(self) -> list[str]:
        """The column names."""
        if self._names is None:
            self._describe()
        assert self._names is not None
        return list(self._names)

    @property
    def dtypes(self) -> list[tuple[str, str]]:
        """(name, type) of each column, types as Spark's simple strings."""
        return [(n, _simple(t)) for n, t in self._describe()]

    @property
    def schema(self) -> StructType:
        """The schema as a StructType."""
        fields = []
        for name, kind in self._describe():
            try:
                data_type = parse_type(kind)
            except ValueError:
                data_type = parse_type("string")
            fields.append(StructField(name, data_type, True))
        return StructType(fields)

    def printSchema(self, level: int | None = None) -> None:
        """Print the schema as a tree."""
        print(self.schema.treeString(), end="")

    def _names_or_describe(self) -> list[str]:
        return self.columns

    def _col(self, name: str) -> Column:
        from local_workspace.spark.column import bound_ref

        column = Column(bound_ref(self._id, name), name.split(".")[-1])
        column._simple = True
        return column

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, str):
            return self._col(item)
        if isinstance(item, Column):
            return self.filter(item)  # type: ignore[attr-defined]
        if isinstance(item, list | tuple):
            return self.select(*item)  # type: ignore[attr-defined]
        if isinstance(item, int):
            return self._col(self.columns[item])
        raise TypeError(f"unexpected item type: {type(item).__name__}")

    def __repr__(self) -> str:
        try:
            return "DataFrame[" + ", ".join(f"{n}: {t}" for n, t in self.dtypes) + "]"
        except Exception:  # noqa: BLE001 - repr must not raise
            return "DataFrame[...]"


def _simple(kind: str) -> str:
    try:
        return parse_type(kind).simpleString()
    except ValueError:
        return kind


def ensure_columns(values: Any) -> list[Column]:
    """Columns from names/Columns (or one list of them)."""
    items = list(values)
    if len(items) == 1 and isinstance(items[0], list | tuple):
        items = list(items[0])
    return [column_of(v) for v in items]
