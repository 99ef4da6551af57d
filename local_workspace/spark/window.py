"""``pyspark.sql.Window``: window specifications rendered as ``OVER (...)`` clauses."""

from __future__ import annotations

from typing import Any

from local_workspace.spark.column import Column, column_of, columns_of

_UNBOUNDED = 1 << 62  # PySpark's sentinels are +-sys.maxsize; anything this large counts


def _bound(value: int, following: bool) -> str:
    if value <= -_UNBOUNDED or value >= _UNBOUNDED:
        return "UNBOUNDED FOLLOWING" if following else "UNBOUNDED PRECEDING"
    if value == 0:
        return "CURRENT ROW"
    return f"{abs(value)} {'FOLLOWING' if value > 0 else 'PRECEDING'}"


class WindowSpec:
    """Partitioning, ordering and frame of a window."""

    def __init__(
        self,
        partition: list[Column] | None = None,
        order: list[Column] | None = None,
        frame: str | None = None,
    ) -> None:
        self._partition = partition or []
        self._order = order or []
        self._frame = frame

    def partitionBy(self, *cols: Any) -> WindowSpec:
        """Partition by these columns."""
        return WindowSpec(columns_of(cols), self._order, self._frame)

    def orderBy(self, *cols: Any) -> WindowSpec:
        """Order by these columns (ascending unless ``.desc()``)."""
        return WindowSpec(self._partition, columns_of(cols), self._frame)

    def rowsBetween(self, start: int, end: int) -> WindowSpec:
        """A ``ROWS`` frame."""
        frame = f"ROWS BETWEEN {_bound(start, False)} AND {_bound(end, True)}"
        return WindowSpec(self._partition, self._order, frame)

    def rangeBetween(self, start: int, end: int) -> WindowSpec:
        """A ``RANGE`` frame."""
        frame = f"RANGE BETWEEN {_bound(start, False)} AND {_bound(end, True)}"
        return WindowSpec(self._partition, self._order, frame)

    def _spec(self) -> str:
        parts = []
        if self._partition:
            parts.append("PARTITION BY " + ", ".join(c._sql for c in self._partition))
        if self._order:
            parts.append("ORDER BY " + ", ".join(_ordered(c) for c in self._order))
        if self._frame:
            parts.append(self._frame)
        return " ".join(parts)


def _ordered(column: Column) -> str:
    # Spark's default order is ascending with nulls first.
    return column._sql if getattr(column, "_sorted", False) else f"{column._sql} ASC NULLS FIRST"


class Window:
    """Builders of window specifications: ``Window.partitionBy(...).orderBy(...)``."""

    unboundedPreceding: int = -(1 << 63)
    unboundedFollowing: int = (1 << 63) - 1
    currentRow: int = 0

    @staticmethod
    def partitionBy(*cols: Any) -> WindowSpec:
        """A window partitioned by these columns."""
        return WindowSpec().partitionBy(*cols)

    @staticmethod
    def orderBy(*cols: Any) -> WindowSpec:
        """A window ordered by these columns."""
        return WindowSpec().orderBy(*cols)

    @staticmethod
    def rowsBetween(start: int, end: int) -> WindowSpec:
        """A window with a ``ROWS`` frame."""
        return WindowSpec().rowsBetween(start, end)

    @staticmethod
    def rangeBetween(start: int, end: int) -> WindowSpec:
        """A window with a ``RANGE`` frame."""
        return WindowSpec().rangeBetween(start, end)


__all__ = ["Window", "WindowSpec", "column_of"]
