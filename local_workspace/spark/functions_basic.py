"""Spark functions that are the SQL function of the same name over their column arguments
(``upper("name")`` is ``upper(`name`)``, named ``upper(name)`` as Spark names it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local_workspace.spark.column import Column, column_of


def _function(sql_name: str) -> Callable[..., Column]:
    def function(*cols: Any) -> Column:
        items = [column_of(c) for c in cols]
        return Column(
            f"{sql_name}({', '.join(i._sql for i in items)})",
            f"{sql_name}({', '.join(i._name for i in items)})",
        )

    function.__name__ = sql_name
    function.__doc__ = f"``{sql_name}(...)``."
    return function


upper = _function("upper")
lower = _function("lower")
trim = _function("trim")
ltrim = _function("ltrim")
rtrim = _function("rtrim")
length = _function("length")
initcap = _function("initcap")
reverse = _function("reverse")
ascii = _function("ascii")
base64 = _function("base64")
unbase64 = _function("unbase64")
soundex = _function("soundex")
year = _function("year")
month = _function("month")
dayofmonth = _function("dayofmonth")
dayofweek = _function("dayofweek")
dayofyear = _function("dayofyear")
hour = _function("hour")
minute = _function("minute")
second = _function("second")
weekofyear = _function("weekofyear")
quarter = _function("quarter")
last_day = _function("last_day")
abs = _function("abs")
floor = _function("floor")
ceil = _function("ceil")
sqrt = _function("sqrt")
exp = _function("exp")
log10 = _function("log10")
log2 = _function("log2")
log1p = _function("log1p")
sin = _function("sin")
cos = _function("cos")
tan = _function("tan")
asin = _function("asin")
acos = _function("acos")
atan = _function("atan")
signum = _function("signum")
cbrt = _function("cbrt")
degrees = _function("degrees")
radians = _function("radians")
isnan = _function("isnan")
isnull = _function("isnull")
sum = _function("sum")
min = _function("min")
max = _function("max")
stddev = _function("stddev")
stddev_samp = _function("stddev_samp")
stddev_pop = _function("stddev_pop")
variance = _function("variance")
var_samp = _function("var_samp")
var_pop = _function("var_pop")
collect_list = _function("collect_list")
collect_set = _function("collect_set")
skewness = _function("skewness")
kurtosis = _function("kurtosis")
any_value = _function("any_value")
bool_and = _function("bool_and")
bool_or = _function("bool_or")
every = _function("every")
count_if = _function("count_if")
product = _function("product")
size = _function("size")
sort_array = _function("sort_array")
array_distinct = _function("array_distinct")
array_max = _function("array_max")
array_min = _function("array_min")
flatten = _function("flatten")
map_keys = _function("map_keys")
map_values = _function("map_values")
map_entries = _function("map_entries")
md5 = _function("md5")
sha1 = _function("sha1")
crc32 = _function("crc32")
hash = _function("hash")
xxhash64 = _function("xxhash64")
to_json = _function("to_json")
hex = _function("hex")
unhex = _function("unhex")
bin = _function("bin")
negative = _function("negative")
positive = _function("positive")
bit_count = _function("bit_count")
row_number = _function("row_number")
rank = _function("rank")
dense_rank = _function("dense_rank")
percent_rank = _function("percent_rank")
cume_dist = _function("cume_dist")
input_file_name = _function("input_file_name")
ceiling = ceil
day = dayofmonth
std = stddev


def asc(col: Any) -> Column:
    """Ascending order of a column."""
    return column_of(col).asc()


def desc(col: Any) -> Column:
    """Descending order of a column."""
    return column_of(col).desc()


__all__ = [
    "abs",
    "acos",
    "any_value",
    "array_distinct",
    "array_max",
    "array_min",
    "asc",
    "ascii",
    "asin",
    "atan",
    "base64",
    "bin",
    "bit_count",
    "bool_and",
    "bool_or",
    "cbrt",
    "ceil",
    "ceiling",
    "collect_list",
    "collect_set",
    "cos",
    "count_if",
    "crc32",
    "cume_dist",
    "day",
    "dayofmonth",
    "dayofweek",
    "dayofyear",
    "degrees",
    "dense_rank",
    "desc",
    "every",
    "exp",
    "flatten",
    "floor",
    "hash",
    "hex",
    "hour",
    "initcap",
    "input_file_name",
    "isnan",
    "isnull",
    "kurtosis",
    "last_day",
    "length",
    "log1p",
    "log2",
    "log10",
    "lower",
    "ltrim",
    "map_entries",
    "map_keys",
    "map_values",
    "max",
    "md5",
    "min",
    "minute",
    "month",
    "negative",
    "percent_rank",
    "positive",
    "product",
    "quarter",
    "radians",
    "rank",
    "reverse",
    "row_number",
    "rtrim",
    "second",
    "sha1",
    "signum",
    "sin",
    "size",
    "skewness",
    "sort_array",
    "soundex",
    "sqrt",
    "std",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "sum",
    "tan",
    "to_json",
    "trim",
    "unbase64",
    "unhex",
    "upper",
    "var_pop",
    "var_samp",
    "variance",
    "weekofyear",
    "xxhash64",
    "year",
]
