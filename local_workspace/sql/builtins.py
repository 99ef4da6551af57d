"""Databricks built-in functions that DuckDB lacks, names differently or answers differently.

sqlglot transpiles most of Databricks' functions to DuckDB; this rewrites (in place, on the
parsed tree) the ones whose result would differ from Databricks': types (``date_add`` is a
DATE, ``unix_timestamp`` a BIGINT, ``uuid()`` a STRING), conventions (``dayofweek`` counts
from Sunday = 1, ``percentile`` interpolates, ``approx_percentile`` returns input values) and
names DuckDB does not have (``bround``, ``format_number``, ``from_json`` with a DDL schema,
``range`` with its ``id`` column, ``inline``, ``histogram_numeric``).
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.errors import ParseError

# trunc(date, fmt): the formats Databricks takes, as DuckDB date_trunc parts.
TRUNC_UNITS = {
    "year": "year",
    "yyyy": "year",
    "yy": "year",
    "quarter": "quarter",
    "month": "month",
    "mm": "month",
    "mon": "month",
    "week": "week",
}
# typeof(): DuckDB type names -> Databricks' (scalars and arrays of them).
TYPE_NAMES = (
    (r"TIMESTAMP WITH TIME ZONE", "timestamp"),
    (r"\bTIMESTAMP\b", "timestamp_ntz"),
    (r"\bINTEGER\b", "int"),
    (r"\bVARCHAR\b", "string"),
    (r"\bBIGINT\b", "bigint"),
    (r"\bSMALLINT\b", "smallint"),
    (r"\bTINYINT\b", "tinyint"),
    (r"\bDOUBLE\b", "double"),
    (r"\bFLOAT\b", "float"),
    (r"\bBOOLEAN\b", "boolean"),
    (r"\bBLOB\b", "binary"),
    (r"\bDATE\b", "date"),
    (r"\bDECIMAL\b", "decimal"),
    (r"\bINTERVAL\b", "interval"),
    (r'"NULL"|\bNULL\b', "void"),
    (r"([a-z_]+(?:\([0-9,]+\))?)\[\]", "array<\\1>"),
    (r"([a-z_]+(?:<[^<>]*>)?)\[\]", "array<\\1>"),
)
# A DuckDB lambda fold of Spark's streaming histogram (NumericHistogram): each value becomes a
# bin (or counts in an equal one); past `n` bins the two closest adjacent bins merge.
_HISTOGRAM = (
    "list_reduce(list_prepend([]::STRUCT(x DOUBLE, y DOUBLE)[], "
    "list_transform(list({v}::DOUBLE) FILTER (WHERE {v} IS NOT NULL), "
    "v -> [{{'x': v, 'y': 1.0}}])), "
    "(acc, v) -> (WITH_BINS))"
)


def _call(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _cast(node: exp.Expression, to: str) -> exp.Cast:
    return exp.Cast(this=node, to=exp.DataType.build(to))


def rewrite(tree: exp.Expression) -> None:
    """Make the Databricks built-ins of ``tree`` answer as Databricks does (in place)."""
    for node in list(tree.find_all(exp.Func)):
        replacement = _replacement(node)
        if replacement is not None:
            node.replace(replacement)
    for table in list(tree.find_all(exp.Table)):
        fn = table.this
        if isinstance(fn, exp.Anonymous) and str(fn.name).lower() == "range" and not table.db:
            table.replace(_range(table, fn))
        elif isinstance(fn, exp.Inline):
            alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier("inline"))
            inner = exp.select(_unnest_structs(fn.this))
            table.replace(exp.Subquery(this=inner, alias=alias.copy()))


def _replacement(node: exp.Func) -> exp.Expression | None:
    if isinstance(node, exp.TsOrDsAdd) and str(node.args.get("unit") or "DAY").upper() == "DAY":
        return _cast(node.copy(), "DATE")  # date_add/date_sub(date, n) is a DATE
    if isinstance(node, exp.StrToUnix):
        if node.args.get("format") is None or node.args["format"].name == "%Y-%m-%d %H:%M:%S":
            # The default format: strings and timestamps alike, in the session time zone.
            seconds = _call("epoch", _cast(node.this, "TIMESTAMPTZ"))
            return _cast(seconds, "BIGINT")
        return _cast(node.copy(), "BIGINT")
    if isinstance(node, exp.SafeAdd | exp.SafeSubtract | exp.SafeMultiply):
        op = {exp.SafeAdd: exp.Add, exp.SafeSubtract: exp.Sub, exp.SafeMultiply: exp.Mul}
        arithmetic = op[type(node)](this=node.this, expression=node.expression)
        return _call("try", exp.Paren(this=arithmetic))  # overflow: NULL, as try_* answer
    if isinstance(node, exp.ArrayDistinct):
        return _distinct(node.this)
    if isinstance(node, exp.Nanvl):
        return exp.If(this=_call("isnan", node.this), true=node.expression, false=node.this)
    if isinstance(node, exp.CurrentTimezone):
        return _call("current_setting", exp.Literal.string("TimeZone"))
    if isinstance(node, exp.DayOfWeek):
        return exp.Add(this=node.copy(), expression=exp.Literal.number(1))  # Sunday = 1
    if isinstance(node, exp.Uuid):
        return _cast(node.copy(), "VARCHAR")
    if isinstance(node, exp.ApproxQuantile):  # a value of the input, as Spark's sketch gives
        return _call("quantile_disc", node.this, node.args["quantile"])
    if isinstance(node, exp.Quantile):  # percentile: exact, interpolated
        return _call("quantile_cont", node.this, node.args["quantile"])
    if isinstance(node, exp.Inline) and not isinstance(node.parent, exp.Table):
        return _unnest_structs(node.this)
    if isinstance(node, exp.DateTrunc) and isinstance(node.args.get("unit"), exp.Literal):
        unit = TRUNC_UNITS.get(node.args["unit"].name.lower())
        if unit is None:
            return exp.Null()  # trunc() answers NULL for a format it does not know
        return _cast(_call("date_trunc", exp.Literal.string(unit), node.this), "DATE")
    if isinstance(node, exp.Format):  # format_string/printf: C-style, not fmt-style
        return _call("printf", node.this, *node.expressions)
    if isinstance(node, exp.FromJson):
        return _from_json(node)
    if isinstance(node, exp.Typeof):
        name: exp.Expression = _call("typeof", node.this)
        for pattern, replacement in TYPE_NAMES:
            name = _call(
                "regexp_replace",
                name,
                exp.Literal.string(pattern),
                exp.Literal.string(replacement),
                exp.Literal.string("g"),
            )
        return name
    if (
        isinstance(node, exp.First | exp.Last)
        and isinstance(node.parent, exp.IgnoreNulls)
        and not isinstance(node.parent.parent, exp.Window)
    ):
        # first/last(x, true) as aggregates: DuckDB has no IGNORE NULLS outside windows.
        keep = exp.Where(this=exp.Not(this=exp.Is(this=node.this.copy(), expression=exp.Null())))
        node.parent.replace(exp.Filter(this=node.copy(), expression=keep))
        return None
    if isinstance(node, exp.Anonymous):
        return _anonymous(node)
    return None


def _anonymous(node: exp.Anonymous) -> exp.Expression | None:
    name = str(node.name).lower()
    args = node.expressions
    if name == "bround" and 1 <= len(args) <= 2:
        return _call("round_even", args[0], args[1] if len(args) == 2 else exp.Literal.number(0))
    if name == "format_number" and len(args) == 2:
        digits = args[1]
        if isinstance(digits, exp.Literal) and not digits.is_string:
            spec = exp.Literal.string("{:,." + str(int(digits.name)) + "f}")
            return _call("format", spec, _cast(args[0], "DOUBLE"))
    if name == "pmod" and len(args) == 2:
        a, b = args
        inner = exp.Mod(
            this=exp.Paren(this=exp.Add(this=exp.Mod(this=a, expression=b), expression=b.copy())),
            expression=b.copy(),
        )
        return inner
    if name == "array_union" and len(args) == 2:
        return _distinct(_call("list_concat", *args))
    if name in ("format_string", "printf") and args:
        return _call("printf", *args)
    if name == "histogram_numeric" and len(args) == 2:
        return _histogram(args[0], args[1])
    return None


def _distinct(array: exp.Expression) -> exp.Expression:
    """array_distinct: first occurrences in order (one NULL kept), as Spark keeps them."""
    a = array.sql(dialect="duckdb")
    sql = f"list_filter({a}, lambda x, i: list_position({a}, x) = i)"
    return exp.maybe_parse(sql, dialect="duckdb")


def _unnest_structs(value: exp.Expression) -> exp.Expression:
    """inline(array of structs): one row per element, one column per field."""
    sql = f"unnest({value.sql(dialect='duckdb')}, recursive := true)"
    return exp.maybe_parse(sql, dialect="duckdb")


def _from_json(node: exp.FromJson) -> exp.Expression | None:
    schema = node.expression
    if not isinstance(schema, exp.Literal) or not schema.is_string:
        return None
    text = schema.name.strip()
    # A DDL field list (`a INT, b STRING`) is a struct's fields; else a type (array<int>...).
    if not re.match(r"^(array|map|struct)\s*<", text, re.I):
        text = f"STRUCT<{text}>"
    try:
        to = exp.DataType.build(text, dialect="databricks")
    except (ParseError, ValueError):  # an invalid schema: let the engine word the error
        return None
    return exp.Cast(this=_cast(node.this, "JSON"), to=to)


def _range(table: exp.Table, fn: exp.Anonymous) -> exp.Subquery:
    """``range(...)`` as Databricks' table: one BIGINT column ``id``."""
    args = fn.expressions[:3]
    if len(args) == 1:
        args = [exp.Literal.number(0), args[0]]
    inner = exp.select(exp.alias_(exp.column("range"), "id")).from_(
        exp.Table(this=_call("range", *args))
    )
    alias = table.args.get("alias") or exp.TableAlias(this=exp.to_identifier("range"))
    return exp.Subquery(this=inner, alias=alias.copy())


def _histogram(value: exp.Expression, bins: exp.Expression) -> exp.Expression:
    """histogram_numeric(v, n): array<struct<x: double, y: double>> of at most n bins."""
    v = value.sql(dialect="duckdb")
    n = bins.sql(dialect="duckdb")
    # acc: bins sorted by x. Add v (merging an equal bin), then merge the closest pair if
    # there are more than n bins.
    added = (
        "(CASE WHEN list_contains(list_transform(acc, b -> b.x), v[1].x) "
        "THEN list_transform(acc, b -> CASE WHEN b.x = v[1].x THEN {'x': b.x, 'y': b.y + 1.0} "
        "ELSE b END) ELSE list_sort(list_concat(acc, v)) END)"
    )
    gaps = f"list_transform(range(1, len({added})), k -> {added}[k + 1].x - {added}[k].x)"
    i = f"list_position({gaps}, list_min({gaps}))"
    a = added
    merged = (
        f"CASE WHEN len({a}) <= {n} THEN {a} ELSE list_concat({a}[1:{i} - 1], "
        f"[{{'x': ({a}[{i}].x * {a}[{i}].y + {a}[{i} + 1].x * {a}[{i} + 1].y) / "
        f"({a}[{i}].y + {a}[{i} + 1].y), 'y': {a}[{i}].y + {a}[{i} + 1].y}}], "
        f"{a}[{i} + 2:]) END"
    )
    sql = _HISTOGRAM.format(v=v).replace("WITH_BINS", merged)
    return exp.maybe_parse(sql, dialect="duckdb")
