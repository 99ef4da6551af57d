"""``pyspark.sql.functions``: Spark functions as Databricks SQL expressions.

Names Spark does not have raise AttributeError (a module's own behaviour); Python UDFs
(``udf``, ``pandas_udf``) raise the local workspace's refusal: they need a cluster.
"""

from __future__ import annotations

from typing import Any

from local_workspace.spark.column import Column, case_column, column_of, lit_column, named
from local_workspace.spark.convert import sql_literal
from local_workspace.spark.errors import refuse
from local_workspace.spark.functions_basic import *  # noqa: F403 - part of this module
from local_workspace.spark.functions_datetime import *  # noqa: F403 - part of this module

_UDF_HINT = (
    "Use a SQL expression (F.expr), a SQL UDF (spark.sql('CREATE FUNCTION ... RETURN ...')), "
    "or run this code on Databricks."
)


def _call(sql_name: str, *args: Column, name: str | None = None) -> Column:
    return Column(
        f"{sql_name}({', '.join(a._sql for a in args)})",
        f"{name or sql_name}({', '.join(a._name for a in args)})",
    )


def _lit(value: Any) -> Column:
    return lit_column(value)


def col(col: str) -> Column:
    """A column by name."""
    return named(col)


column = col


def lit(col: Any) -> Column:
    """A literal value."""
    return lit_column(col)


def expr(str: str) -> Column:
    """A SQL expression, as written."""
    return Column(f"({str})", str)


def when(condition: Column, value: Any) -> Column:
    """``CASE WHEN condition THEN value``; chain ``.when``/``.otherwise``."""
    return case_column([(condition, lit_column(value))], None)


def broadcast(df: Any) -> Any:
    """A join hint: the warehouse plans joins itself, so the DataFrame as it is."""
    return df


def udf(f: Any = None, returnType: Any = None, **kwargs: Any) -> Any:
    """Refused: Python UDFs need a cluster."""
    refuse("Python UDFs (F.udf / pandas_udf / spark.udf.register)", _UDF_HINT)


def pandas_udf(f: Any = None, returnType: Any = None, **kwargs: Any) -> Any:
    """Refused: pandas UDFs need a cluster."""
    refuse("Python UDFs (F.udf / pandas_udf / spark.udf.register)", _UDF_HINT)


def monotonically_increasing_id() -> Column:
    """Unique, increasing 64-bit ids (not consecutive, as on Spark): ``row_number() - 1`` over
    the result's order here, which keeps the documented guarantees."""
    return Column("(row_number() OVER (ORDER BY 1) - 1)", "monotonically_increasing_id()")


def count(col: Any) -> Column:
    """``count(x)``; ``count("*")`` counts rows (named ``count(1)`` as Spark does)."""
    if isinstance(col, str) and col == "*":
        return Column("count(1)", "count(1)")
    return _call("count", column_of(col))


def countDistinct(col: Any, *cols: Any) -> Column:
    """``count(DISTINCT ...)``."""
    items = [column_of(c) for c in (col, *cols)]
    return Column(
        f"count(DISTINCT {', '.join(i._sql for i in items)})",
        f"count(DISTINCT {', '.join(i._name for i in items)})",
    )


count_distinct = countDistinct


def sum_distinct(col: Any) -> Column:
    """``sum(DISTINCT x)``."""
    item = column_of(col)
    return Column(f"sum(DISTINCT {item._sql})", f"sum(DISTINCT {item._name})")


sumDistinct = sum_distinct


def approx_count_distinct(col: Any, rsd: float | None = None) -> Column:
    """``approx_count_distinct(x)``."""
    return _call("approx_count_distinct", column_of(col))


approxCountDistinct = approx_count_distinct


def percentile_approx(col: Any, percentage: Any, accuracy: int = 10000) -> Column:
    """``percentile_approx(x, p, accuracy)``."""
    return _call("percentile_approx", column_of(col), _lit(percentage), _lit(accuracy))


def first(col: Any, ignorenulls: bool = False) -> Column:
    """``first(x[, ignoreNulls])``."""
    item = column_of(col)
    if ignorenulls:
        return Column(f"first({item._sql}, TRUE)", f"first({item._name})")
    return _call("first", item)


def last(col: Any, ignorenulls: bool = False) -> Column:
    """``last(x[, ignoreNulls])``."""
    item = column_of(col)
    if ignorenulls:
        return Column(f"last({item._sql}, TRUE)", f"last({item._name})")
    return _call("last", item)


def mean(col: Any) -> Column:
    """``avg(x)``."""
    return _call("avg", column_of(col))


avg = mean


def lag(col: Any, offset: int = 1, default: Any = None) -> Column:
    """``lag(x, offset, default)`` (over a window)."""
    item = column_of(col)
    args = [item, _lit(offset)] + ([_lit(default)] if default is not None else [])
    return _call("lag", *args)


def lead(col: Any, offset: int = 1, default: Any = None) -> Column:
    """``lead(x, offset, default)`` (over a window)."""
    item = column_of(col)
    args = [item, _lit(offset)] + ([_lit(default)] if default is not None else [])
    return _call("lead", *args)


def ntile(n: int) -> Column:
    """``ntile(n)`` (over a window)."""
    return _call("ntile", _lit(n))


def nth_value(col: Any, offset: int, ignoreNulls: bool = False) -> Column:
    """``nth_value(x, offset)`` (over a window)."""
    return _call("nth_value", column_of(col), _lit(offset))


def concat_ws(sep: str, *cols: Any) -> Column:
    """``concat_ws(sep, ...)``."""
    return _call("concat_ws", _lit(sep), *[column_of(c) for c in cols])


def substring(str: Any, pos: int, len: int) -> Column:
    """``substring(x, pos, len)`` (1-based)."""
    return _call("substring", column_of(str), _lit(pos), _lit(len))


def regexp_replace(string: Any, pattern: Any, replacement: Any) -> Column:
    """``regexp_replace(x, pattern, replacement)``."""
    return _call("regexp_replace", column_of(string), _lit(pattern), _lit(replacement))


def regexp_extract(str: Any, pattern: str, idx: int) -> Column:
    """``regexp_extract(x, pattern, group)``."""
    return _call("regexp_extract", column_of(str), _lit(pattern), _lit(idx))


def split(str: Any, pattern: str, limit: int = -1) -> Column:
    """``split(x, pattern[, limit])``."""
    args = [column_of(str), _lit(pattern)] + ([_lit(limit)] if limit != -1 else [])
    return _call("split", *args)


def format_string(format: str, *cols: Any) -> Column:
    """``format_string(fmt, ...)``."""
    return _call("format_string", _lit(format), *[column_of(c) for c in cols])


def lpad(col: Any, len: int, pad: str) -> Column:
    """``lpad(x, len, pad)``."""
    return _call("lpad", column_of(col), _lit(len), _lit(pad))


def rpad(col: Any, len: int, pad: str) -> Column:
    """``rpad(x, len, pad)``."""
    return _call("rpad", column_of(col), _lit(len), _lit(pad))


def instr(str: Any, substr: str) -> Column:
    """``instr(x, part)``."""
    return _call("instr", column_of(str), _lit(substr))


def locate(substr: str, str: Any, pos: int = 1) -> Column:
    """``locate(part, x, pos)``."""
    return _call("locate", _lit(substr), column_of(str), _lit(pos))


def translate(srcCol: Any, matching: str, replace: str) -> Column:
    """``translate(x, from, to)``."""
    return _call("translate", column_of(srcCol), _lit(matching), _lit(replace))


def repeat(col: Any, n: int) -> Column:
    """``repeat(x, n)``."""
    return _call("repeat", column_of(col), _lit(n))


def round(col: Any, scale: int = 0) -> Column:
    """``round(x, scale)`` (half up)."""
    return _call("round", column_of(col), _lit(scale))


def bround(col: Any, scale: int = 0) -> Column:
    """``bround(x, scale)`` (half even)."""
    return _call("bround", column_of(col), _lit(scale))


def log(arg1: Any, arg2: Any = None) -> Column:
    """``ln(x)``, or ``log(base, x)`` with two arguments."""
    if arg2 is None:
        return _call("ln", column_of(arg1), name="ln")
    return _call("log", _lit(arg1), column_of(arg2))


def pow(col1: Any, col2: Any) -> Column:
    """``power(a, b)``."""
    left = (
        col1 if isinstance(col1, Column) else (named(col1) if isinstance(col1, str) else _lit(col1))
    )
    right = (
        col2 if isinstance(col2, Column) else (named(col2) if isinstance(col2, str) else _lit(col2))
    )
    return _call("power", left, right, name="POWER")


power = pow


def coalesce(*cols: Any) -> Column:
    """``coalesce(...)``."""
    return _call("coalesce", *[column_of(c) for c in cols])


def greatest(*cols: Any) -> Column:
    """``greatest(...)``."""
    return _call("greatest", *[column_of(c) for c in cols])


def least(*cols: Any) -> Column:
    """``least(...)``."""
    return _call("least", *[column_of(c) for c in cols])


def concat(*cols: Any) -> Column:
    """``concat(...)``."""
    return _call("concat", *[column_of(c) for c in cols])


def array(*cols: Any) -> Column:
    """``array(...)``."""
    items = list(cols[0]) if len(cols) == 1 and isinstance(cols[0], list | tuple) else cols
    return _call("array", *[column_of(c) for c in items])


def struct(*cols: Any) -> Column:
    """``struct(...)``: fields named after the columns."""
    items = list(cols[0]) if len(cols) == 1 and isinstance(cols[0], list | tuple) else cols
    columns = [column_of(c) for c in items]
    pairs = ", ".join(f"{sql_literal(c._name)}, {c._sql}" for c in columns)
    return Column(f"named_struct({pairs})", f"struct({', '.join(c._name for c in columns)})")


def create_map(*cols: Any) -> Column:
    """``map(k1, v1, ...)``."""
    items = list(cols[0]) if len(cols) == 1 and isinstance(cols[0], list | tuple) else cols
    return _call("map", *[column_of(c) for c in items])


def array_contains(col: Any, value: Any) -> Column:
    """``array_contains(arr, value)``."""
    return _call("array_contains", column_of(col), _lit(value))


def element_at(col: Any, extraction: Any) -> Column:
    """``element_at(arr, index)`` (1-based) or ``element_at(map, key)``."""
    return _call("element_at", column_of(col), _lit(extraction))


def sha2(col: Any, numBits: int) -> Column:
    """``sha2(x, bits)``."""
    return _call("sha2", column_of(col), _lit(numBits))


def array_join(col: Any, delimiter: str, null_replacement: str | None = None) -> Column:
    """``array_join(arr, sep[, null])``."""
    extra = [_lit(null_replacement)] if null_replacement is not None else []
    return _call("array_join", column_of(col), _lit(delimiter), *extra)


def rand(seed: int | None = None) -> Column:
    """``rand([seed])``."""
    return Column(f"rand({'' if seed is None else seed})", "rand()")


def explode(col: Any) -> Column:
    """One row per element of an array, in column ``col``."""
    item = column_of(col)
    return Column(f"explode({item._sql})", "col")


def explode_outer(col: Any) -> Column:
    """``explode``, keeping a row (with null) for a null or empty array."""
    item = column_of(col)
    sql = f"explode(IF({item._sql} IS NULL OR size({item._sql}) = 0, array(NULL), {item._sql}))"
    return Column(sql, "col")


def _generator(sql_name: str) -> Any:
    # Generators of several columns are named by the warehouse (pos, col; struct fields).
    def function(col: Any) -> Column:
        column = _call(sql_name, column_of(col))
        column._raw = True  # type: ignore[attr-defined]
        return column

    function.__name__ = sql_name
    function.__doc__ = f"``{sql_name}(x)``: rows from an array."
    return function


posexplode = _generator("posexplode")
posexplode_outer = _generator("posexplode_outer")
inline = _generator("inline")
inline_outer = _generator("inline_outer")


def call_function(funcName: str, *cols: Any) -> Column:
    """Any SQL function by name."""
    return _call(funcName, *[column_of(c) for c in cols])


def nanvl(col1: Any, col2: Any) -> Column:
    """``nanvl(a, b)``."""
    return _call("nanvl", column_of(col1), column_of(col2))


def ifnull(col1: Any, col2: Any) -> Column:
    """``ifnull(a, b)``."""
    return _call("ifnull", column_of(col1), column_of(col2))


nvl = ifnull


# `from pyspark.sql.functions import *` gives the functions, not this module's imports.
__all__ = sorted(
    name
    for name, value in dict(globals()).items()
    if not name.startswith("_")
    and callable(value)
    and getattr(value, "__module__", "").startswith("local_workspace.spark.functions")
)
