"""``df.na``: ``fill``, ``drop``, ``replace`` with Spark's rules (a fill value applies only to
columns of its type: numbers to numeric columns, strings to string columns, booleans to
boolean columns)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_workspace.spark.column import Column
from local_workspace.spark.convert import quote_ident, sql_literal
from local_workspace.spark.errors import PySparkTypeError

if TYPE_CHECKING:
    from local_workspace.spark.dataframe import DataFrame

_NUMERIC = ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal")


def _fits(value: Any, kind: str) -> bool:
    if isinstance(value, bool):
        return kind == "boolean"
    if isinstance(value, int | float):
        return kind.startswith(_NUMERIC)
    if isinstance(value, str):
        return kind == "string"
    return False


class NaFunctions:
    """Missing-value functions of one DataFrame."""

    def __init__(self, frame: DataFrame) -> None:
        self._frame = frame

    def fill(self, value: Any, subset: Any = None) -> DataFrame:
        """Nulls replaced by ``value`` (or a dict {column: value})."""
        frame = self._frame
        if isinstance(subset, str):
            subset = [subset]
        if not isinstance(value, dict | bool | int | float | str):
            raise PySparkTypeError(
                f"value should be a float, int, string, bool or dict, got {type(value).__name__}",
                errorClass="NOT_BOOL_OR_DICT_OR_FLOAT_OR_INT_OR_STR",
            )
        columns = []
        for name, kind in frame.dtypes:
            ref = quote_ident(name)
            if isinstance(value, dict):
                match = next((v for k, v in value.items() if k.lower() == name.lower()), None)
                fill = match
            elif subset is None or name in subset:
                fill = value if _fits(value, kind) else None
            else:
                fill = None
            if fill is None:
                columns.append(Column(ref, name, aliased=True))
                continue
            literal = sql_literal(fill)
            if kind.startswith(("tinyint", "smallint", "int", "bigint")) and isinstance(
                fill, float
            ):
                literal = f"CAST({literal} AS {kind})"  # Spark casts the value to the column's type
            columns.append(Column(f"coalesce({ref}, {literal})", name, aliased=True))
        return frame.select(*columns)

    def drop(self, how: str = "any", thresh: int | None = None, subset: Any = None) -> DataFrame:
        """Without rows that have nulls (``any``), only nulls (``all``) or fewer than
        ``thresh`` non-nulls."""
        frame = self._frame
        names = [subset] if isinstance(subset, str) else list(subset or frame.columns)
        refs = [quote_ident(n) for n in names]
        if thresh is not None:
            count = " + ".join(f"CASE WHEN {r} IS NOT NULL THEN 1 ELSE 0 END" for r in refs)
            condition = f"({count}) >= {int(thresh)}"
        elif how == "all":
            condition = " OR ".join(f"{r} IS NOT NULL" for r in refs)
        else:
            condition = " AND ".join(f"{r} IS NOT NULL" for r in refs)
        return frame.filter(condition or "TRUE")

    def replace(self, to_replace: Any, value: Any = None, subset: Any = None) -> DataFrame:
        """Values replaced (a value, a list with a list/one value, or a dict)."""
        frame = self._frame
        if isinstance(to_replace, dict):
            mapping = dict(to_replace)
        elif isinstance(to_replace, list | tuple):
            values = value if isinstance(value, list | tuple) else [value] * len(to_replace)
            mapping = dict(zip(to_replace, values, strict=True))
        else:
            mapping = {to_replace: value}
        if isinstance(subset, str):
            subset = [subset]
        columns = []
        for name, kind in frame.dtypes:
            ref = quote_ident(name)
            pairs = [(k, v) for k, v in mapping.items() if _fits(k, kind)]
            if not pairs or (subset is not None and name not in subset):
                columns.append(Column(ref, name, aliased=True))
                continue
            cases = " ".join(
                f"WHEN {ref} = {sql_literal(k)} THEN {sql_literal(v)}" for k, v in pairs
            )
            columns.append(Column(f"CASE {cases} ELSE {ref} END", name, aliased=True))
        return frame.select(*columns)
