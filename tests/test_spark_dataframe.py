"""The local PySpark DataFrame API (local_workspace.spark) against the session workspace: a
corpus of operations with the results Spark gives, writes and Delta merges, and the refusals
of what needs a cluster. In-process and cheap: one schema, a few small tables made once."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

import pytest

from local_workspace.runner import LocalWorkspace
from local_workspace.spark import (
    AnalysisException,
    DataFrame,
    NotSupportedInLocalWorkspace,
    SparkSession,
    install_modules,
)
from local_workspace.spark import functions as F
from local_workspace.spark.row import Row
from local_workspace.spark.types import (
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)
from local_workspace.spark.window import Window

SCHEMA = "main.t_spark_df"
SETUP = [
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE OR REPLACE TABLE {SCHEMA}.people AS SELECT * FROM VALUES
        (1L, 'Ada', 36, 'eng', 120.0D, DATE'2020-01-15'),
        (2L, 'Bob', 25, 'eng', 90.0D, DATE'2021-06-01'),
        (3L, 'Cy', NULL, 'ops', 70.0D, DATE'2019-11-30'),
        (4L, 'Dee', 41, 'ops', NULL, DATE'2022-02-28'),
        (5L, 'Eve', 30, NULL, 100.0D, DATE'2023-07-04')
        AS t(id, name, age, dept, salary, hired)""",
    f"""CREATE OR REPLACE TABLE {SCHEMA}.depts AS SELECT * FROM VALUES
        ('eng', 3), ('ops', 1), ('hr', 2) AS t(dept, floor)""",
    f"""CREATE OR REPLACE TABLE {SCHEMA}.orders AS SELECT * FROM VALUES
        (10L, 1L, 5.5D, array('a', 'b')), (11L, 1L, 4.5D, array('c')),
        (12L, 2L, 20.0D, array()), (13L, 9L, 1.0D, NULL)
        AS t(oid, pid, amount, tags)""",
]


@pytest.fixture(scope="module")
def spark(local_ws: LocalWorkspace) -> SparkSession:
    """A session on the session workspace, with the corpus tables made once."""
    session = SparkSession(host=local_ws.url, token=local_ws.token)
    for statement in SETUP:
        session.sql(statement)
    return session


def rows(df: DataFrame) -> list[tuple[Any, ...]]:
    """The rows as plain tuples."""
    return [tuple(r) for r in df.collect()]


People = Callable[[SparkSession], DataFrame]


def people(s: SparkSession) -> DataFrame:
    return s.table(f"{SCHEMA}.people")


def depts(s: SparkSession) -> DataFrame:
    return s.read.table(f"{SCHEMA}.depts")


def orders(s: SparkSession) -> DataFrame:
    return s.table(f"{SCHEMA}.orders")


W_DEPT = Window.partitionBy("dept").orderBy(F.col("salary").desc())

# (what it shows, the DataFrame built from a session, the rows Spark gives)
CASES: list[tuple[str, Callable[[SparkSession], Any], Any]] = [
    ("table reads every row", lambda s: people(s).count(), 5),
    ("read.table reads a table", lambda s: depts(s).orderBy("dept").collect()[0].dept, "eng"),
    (
        "select keeps named columns",
        lambda s: rows(people(s).select("id", "name").limit(1)),
        [(1, "Ada")],
    ),
    (
        "select with an alias names the column",
        lambda s: people(s).select((F.col("age") + 1).alias("next")).columns,
        ["next"],
    ),
    (
        "an unaliased expression is named as Spark names it",
        lambda s: (
            people(s)
            .select(F.col("age") + 1, F.upper("name"), F.sum("age").over(Window.partitionBy()))
            .columns[:2]
        ),
        ["(age + 1)", "upper(name)"],
    ),
    (
        "selectExpr takes SQL expressions",
        lambda s: rows(people(s).filter("id = 2").selectExpr("id * 10 AS x", "lower(name) AS n")),
        [(20, "bob")],
    ),
    (
        "filter with a Column",
        lambda s: rows(people(s).filter(F.col("age") > 35).select("name").orderBy("name")),
        [("Ada",), ("Dee",)],
    ),
    ("filter with a SQL string", lambda s: people(s).filter("salary >= 100").count(), 2),
    (
        "where combines conditions with & and |",
        lambda s: rows(
            people(s)
            .where((F.col("dept") == "eng") & (F.col("age") < 30) | (F.col("id") == 5))
            .select("id")
            .orderBy("id")
        ),
        [(2,), (5,)],
    ),
    ("isin", lambda s: people(s).filter(F.col("name").isin("Ada", "Cy")).count(), 2),
    ("isin of nothing is false", lambda s: people(s).filter(F.col("id").isin([])).count(), 0),
    (
        "randomSplit gives disjoint parts covering every row",
        lambda s: (lambda a, b: (a.count() + b.count(), a.intersect(b).count()))(
            *people(s).randomSplit([0.5, 0.5], seed=7)
        ),
        (5, 0),
    ),
    ("isin of a list", lambda s: people(s).filter(F.col("id").isin([1, 2, 3])).count(), 3),
    ("between is inclusive", lambda s: people(s).filter(F.col("age").between(30, 36)).count(), 2),
    ("like", lambda s: rows(people(s).filter(F.col("name").like("D%")).select("name")), [("Dee",)]),
    ("rlike", lambda s: people(s).filter(F.col("name").rlike("^[AB]")).count(), 2),
    ("isNull", lambda s: rows(people(s).filter(F.col("age").isNull()).select("name")), [("Cy",)]),
    ("isNotNull", lambda s: people(s).filter(F.col("dept").isNotNull()).count(), 4),
    (
        "startswith, endswith and contains",
        lambda s: rows(
            people(s)
            .filter("id = 5")
            .select(
                F.col("name").startswith("A"),
                F.col("name").endswith("e"),
                F.col("name").contains("v"),
            )
        ),
        [(False, True, True)],
    ),
    (
        "withColumn adds a column at the end",
        lambda s: people(s).withColumn("x", F.lit(1)).columns[-1],
        "x",
    ),
    (
        "withColumn replaces a column in place",
        lambda s: (lambda d: (d.columns, d.filter("id = 1").first().age))(
            people(s).withColumn("age", F.col("age") * 2)
        ),
        (["id", "name", "age", "dept", "salary", "hired"], 72),
    ),
    (
        "withColumns adds several",
        lambda s: rows(
            people(s)
            .withColumns({"a": F.lit(1), "b": F.col("id") + 1})
            .filter("id = 3")
            .select("a", "b")
        ),
        [(1, 4)],
    ),
    ("withColumnRenamed", lambda s: people(s).withColumnRenamed("name", "who").columns[1], "who"),
    (
        "withColumnRenamed of a missing column changes nothing",
        lambda s: people(s).withColumnRenamed("nope", "x").columns,
        ["id", "name", "age", "dept", "salary", "hired"],
    ),
    ("drop", lambda s: people(s).drop("age", "hired").columns, ["id", "name", "dept", "salary"]),
    ("drop of a missing column is ignored", lambda s: len(people(s).drop("nope").columns), 6),
    ("distinct", lambda s: people(s).select("dept").distinct().count(), 3),
    (
        "dropDuplicates on a subset keeps one row per key",
        lambda s: people(s).dropDuplicates(["dept"]).count(),
        3,
    ),
    (
        "orderBy desc",
        lambda s: [r.id for r in people(s).orderBy(F.col("salary").desc()).collect()],
        [1, 5, 2, 3, 4],
    ),
    ("orderBy ascending=False", lambda s: people(s).orderBy("id", ascending=False).first().id, 5),
    ("ascending order puts nulls first", lambda s: people(s).orderBy("age").first().name, "Cy"),
    (
        "desc puts nulls last",
        lambda s: [r.name for r in people(s).orderBy(F.desc("age")).collect()][-1],
        "Cy",
    ),
    (
        "desc_nulls_first",
        lambda s: people(s).orderBy(F.col("age").desc_nulls_first()).first().name,
        "Cy",
    ),
    ("limit", lambda s: people(s).limit(2).count(), 2),
    (
        "alias lets columns be qualified",
        lambda s: rows(people(s).alias("p").filter("id = 4").select(F.col("p.name"))),
        [("Dee",)],
    ),
    ("toDF renames every column", lambda s: depts(s).toDF("d", "f").columns, ["d", "f"]),
    (
        "cast changes the type",
        lambda s: (
            people(s)
            .select(
                F.col("id").cast("string").alias("s"),
                F.col("salary").cast(IntegerType()).alias("i"),
            )
            .dtypes
        ),
        [("s", "string"), ("i", "int")],
    ),
    (
        "a cast column keeps its name, a cast expression is named CAST",
        lambda s: people(s).select(F.col("id").cast("string"), F.lit(1).cast("bigint")).columns,
        ["id", "CAST(1 AS BIGINT)"],
    ),
    (
        "when/otherwise",
        lambda s: [
            r.band
            for r in people(s)
            .orderBy("id")
            .select(
                F.when(F.col("age") >= 35, "senior")
                .when(F.col("age") >= 28, "mid")
                .otherwise("junior")
                .alias("band")
            )
            .collect()
        ],
        ["senior", "junior", "junior", "senior", "mid"],
    ),
    (
        "when without otherwise gives null",
        lambda s: (
            people(s).select(F.when(F.col("id") == 1, 1).alias("x")).filter("x IS NULL").count()
        ),
        4,
    ),
    (
        "coalesce",
        lambda s: rows(people(s).filter("id = 3").select(F.coalesce("age", F.lit(0)).alias("a"))),
        [(0,)],
    ),
    (
        "arithmetic",
        lambda s: rows(
            people(s)
            .filter("id = 3")
            .select((F.col("id") + 1) * 2 - 1, F.col("id") / 2, F.col("id") % 2)
        ),
        [(7, 1.5, 1)],
    ),
    (
        "concat and concat_ws",
        lambda s: rows(
            people(s)
            .filter("id = 1")
            .select(F.concat("name", F.lit("!")), F.concat_ws("-", "name", "dept"))
        ),
        [("Ada!", "Ada-eng")],
    ),
    (
        "upper, lower, trim, length",
        lambda s: rows(
            people(s)
            .filter("id = 2")
            .select(F.upper("name"), F.lower("name"), F.trim(F.lit("  x ")), F.length("name"))
        ),
        [("BOB", "bob", "x", 3)],
    ),
    (
        "substring is 1-based",
        lambda s: people(s).filter("id = 4").select(F.substring("name", 2, 2).alias("s")).first().s,
        "ee",
    ),
    (
        "Column.substr",
        lambda s: (
            people(s).filter("id = 5").select(F.col("name").substr(1, 1).alias("s")).first().s
        ),
        "E",
    ),
    (
        "regexp_replace and regexp_extract",
        lambda s: rows(
            people(s)
            .filter("id = 1")
            .select(
                F.regexp_replace("name", "[aeiou]", "_"), F.regexp_extract("name", "([A-Z])(.)", 2)
            )
        ),
        [("Ad_", "d")],
    ),
    (
        "split and getItem",
        lambda s: people(s).select(F.split(F.lit("a,b,c"), ",").getItem(1).alias("x")).first().x,
        "b",
    ),
    (
        "year, month, dayofmonth",
        lambda s: rows(
            people(s)
            .filter("id = 1")
            .select(F.year("hired"), F.month("hired"), F.dayofmonth("hired"))
        ),
        [(2020, 1, 15)],
    ),
    (
        "date_add, date_sub, datediff",
        lambda s: rows(
            people(s)
            .filter("id = 1")
            .select(
                F.date_add("hired", 20),
                F.date_sub("hired", 15),
                F.datediff(F.lit("2020-02-15"), "hired"),
            )
        ),
        [(dt.date(2020, 2, 4), dt.date(2019, 12, 31), 31)],
    ),
    (
        "date_format",
        lambda s: (
            people(s)
            .filter("id = 2")
            .select(F.date_format("hired", "yyyy/MM").alias("d"))
            .first()
            .d
        ),
        "2021/06",
    ),
    (
        "to_date parses a string",
        lambda s: people(s).select(F.to_date(F.lit("2024-03-05")).alias("d")).first().d,
        dt.date(2024, 3, 5),
    ),
    (
        "to_timestamp and hour",
        lambda s: rows(
            people(s)
            .select(F.to_timestamp(F.lit("2024-03-05 07:08:09")).alias("t"))
            .select("t", F.hour("t"))
            .limit(1)
        ),
        [(dt.datetime(2024, 3, 5, 7, 8, 9), 7)],
    ),
    (
        "date_trunc",
        lambda s: (
            people(s)
            .select(F.date_trunc("month", F.to_timestamp(F.lit("2024-03-05 07:08:09"))).alias("t"))
            .first()
            .t
        ),
        dt.datetime(2024, 3, 1),
    ),
    (
        "round, floor, ceil, abs, sqrt, pow",
        lambda s: rows(
            people(s)
            .select(
                F.round(F.lit(2.567), 2),
                F.floor(F.lit(2.5)),
                F.ceil(F.lit(2.1)),
                F.abs(F.lit(-3)),
                F.sqrt(F.lit(16.0)),
                F.pow(F.lit(2), 3),
            )
            .limit(1)
        ),
        [(2.57, 2, 3, 3, 4.0, 8.0)],
    ),
    (
        "groupBy().agg with sum, avg and count",
        lambda s: rows(
            people(s)
            .groupBy("dept")
            .agg(F.sum("salary").alias("s"), F.avg("age").alias("a"), F.count("*").alias("n"))
            .orderBy("dept")
        ),
        [(None, 100.0, 30.0, 1), ("eng", 210.0, 30.5, 2), ("ops", 70.0, 41.0, 2)],
    ),
    (
        "groupBy().count() names the column count",
        lambda s: rows(people(s).groupBy("dept").count().filter("dept = 'ops'")),
        [("ops", 2)],
    ),
    (
        "agg of a dict names columns as Spark does",
        lambda s: people(s).groupBy("dept").agg({"salary": "max", "age": "mean"}).columns,
        ["dept", "max(salary)", "avg(age)"],
    ),
    (
        "groupBy().sum() of named columns",
        lambda s: people(s).groupBy("dept").sum("salary").columns,
        ["dept", "sum(salary)"],
    ),
    (
        "agg without groups: min and max",
        lambda s: rows(people(s).agg(F.min("age"), F.max("age"))),
        [(25, 41)],
    ),
    ("countDistinct", lambda s: people(s).agg(F.countDistinct("dept").alias("n")).first().n, 2),
    ("count of a column skips nulls", lambda s: people(s).agg(F.count("age")).first()[0], 4),
    (
        "collect_set",
        lambda s: sorted(people(s).agg(F.collect_set("dept").alias("d")).first().d),
        ["eng", "ops"],
    ),
    (
        "collect_list",
        lambda s: sorted(people(s).filter("dept = 'eng'").agg(F.collect_list("name")).first()[0]),
        ["Ada", "Bob"],
    ),
    (
        "stddev",
        lambda s: round(people(s).filter("dept = 'eng'").agg(F.stddev("salary")).first()[0], 4),
        21.2132,
    ),
    (
        "approx_count_distinct",
        lambda s: people(s).agg(F.approx_count_distinct("dept")).first()[0],
        2,
    ),
    ("percentile_approx", lambda s: people(s).agg(F.percentile_approx("age", 0.5)).first()[0], 30),
    (
        "pivot with values",
        lambda s: rows(
            people(s)
            .groupBy("dept")
            .pivot("name", ["Ada", "Bob"])
            .sum("salary")
            .filter("dept = 'eng'")
        ),
        [("eng", 120.0, 90.0)],
    ),
    (
        "pivot discovers the values, sorted",
        lambda s: depts(s).groupBy().pivot("dept").agg(F.first("floor")).columns,
        ["eng", "hr", "ops"],
    ),
    (
        "row_number over a window",
        lambda s: rows(
            people(s)
            .filter("dept IS NOT NULL")
            .withColumn("rn", F.row_number().over(W_DEPT))
            .select("name", "rn")
            .orderBy("name")
        ),
        [("Ada", 1), ("Bob", 2), ("Cy", 1), ("Dee", 2)],
    ),
    (
        "rank and dense_rank",
        lambda s: rows(
            s.createDataFrame([(1,), (1,), (2,)], ["v"])
            .select(
                "v", F.rank().over(Window.orderBy("v")), F.dense_rank().over(Window.orderBy("v"))
            )
            .orderBy("v")
        ),
        [(1, 1, 1), (1, 1, 1), (2, 3, 2)],
    ),
    (
        "lag and lead",
        lambda s: rows(
            people(s)
            .select(
                "id",
                F.lag("id").over(Window.orderBy("id")),
                F.lead("id", 1, 0).over(Window.orderBy("id")),
            )
            .filter("id IN (1, 5)")
            .orderBy("id")
        ),
        [(1, None, 2), (5, 4, 0)],
    ),
    (
        "a running sum with rowsBetween",
        lambda s: [
            r.total
            for r in people(s)
            .select(
                F.sum("id")
                .over(
                    Window.orderBy("id").rowsBetween(Window.unboundedPreceding, Window.currentRow)
                )
                .alias("total")
            )
            .orderBy("total")
            .collect()
        ],
        [1, 3, 6, 10, 15],
    ),
    (
        "ntile",
        lambda s: sorted(
            r[0] for r in people(s).select(F.ntile(2).over(Window.orderBy("id"))).collect()
        ),
        [1, 1, 1, 2, 2],
    ),
    (
        "join on a column name (inner)",
        lambda s: rows(people(s).join(depts(s), "dept").select("name", "floor").orderBy("name")),
        [("Ada", 3), ("Bob", 3), ("Cy", 1), ("Dee", 1)],
    ),
    (
        "a join on a name puts the key first",
        lambda s: people(s).join(depts(s), "dept").columns[:3],
        ["dept", "id", "name"],
    ),
    (
        "left join",
        lambda s: people(s).join(depts(s), "dept", "left").filter(F.col("floor").isNull()).count(),
        1,
    ),
    (
        "right join",
        lambda s: rows(
            people(s).join(depts(s), "dept", "right").filter(F.col("id").isNull()).select("dept")
        ),
        [("hr",)],
    ),
    ("full outer join", lambda s: people(s).join(depts(s), "dept", "outer").count(), 6),
    (
        "left_semi join",
        lambda s: people(s).join(depts(s), "dept", "left_semi").columns,
        ["id", "name", "age", "dept", "salary", "hired"],
    ),
    (
        "left_anti join",
        lambda s: rows(people(s).join(depts(s), "dept", "left_anti").select("name")),
        [("Eve",)],
    ),
    ("crossJoin", lambda s: people(s).crossJoin(depts(s)).count(), 15),
    (
        "join on a Column condition, selecting each side",
        lambda s: (
            lambda p, o: rows(p.join(o, p.id == o.pid).select(p.name, o.amount).orderBy(o.amount))
        )(people(s), orders(s)),
        [("Ada", 4.5), ("Ada", 5.5), ("Bob", 20.0)],
    ),
    (
        "join then groupBy on a side's column",
        lambda s: (
            lambda p, o: rows(
                p.join(o, p["id"] == o["pid"], "left")
                .groupBy(p.name)
                .agg(F.sum(o.amount).alias("t"))
                .orderBy("name")
                .limit(2)
            )
        )(people(s), orders(s)),
        [("Ada", 10.0), ("Bob", 20.0)],
    ),
    (
        "chained joins keep every side nameable",
        lambda s: (
            lambda p, o, d: rows(
                p.join(o, p.id == o.pid)
                .join(d, p.dept == d.dept)
                .select(o.oid, d.floor)
                .orderBy("oid")
            )
        )(people(s), orders(s), depts(s)),
        [(10, 3), (11, 3), (12, 3)],
    ),
    (
        "joins on names chain, and a side's column stays nameable",
        lambda s: (
            lambda p, o: rows(
                o.join(p.withColumnRenamed("id", "pid"), "pid")
                .join(depts(s), "dept")
                .select(o.oid, "floor", p.name)
                .orderBy("oid")
            )
        )(people(s), orders(s)),
        [(10, 3, "Ada"), (11, 3, "Ada"), (12, 3, "Bob")],
    ),
    (
        "join on a list of names",
        lambda s: people(s).join(people(s).select("id", "name"), ["id", "name"]).count(),
        5,
    ),
    (
        "withColumn after a join on a name names the key once",
        lambda s: rows(
            people(s)
            .join(depts(s), "dept")
            .withColumn("up", F.upper("dept"))
            .orderBy("name")
            .select("dept", "up", "floor")
            .limit(1)
        ),
        [("eng", "ENG", 3)],
    ),
    (
        "fillna after a left join on a name",
        lambda s: rows(
            people(s)
            .join(depts(s), "dept", "left")
            .fillna(0)
            .select("name", "floor")
            .orderBy("name")
        )[-1],
        ("Eve", 0),
    ),
    (
        "filter and select star after a join on a list of names",
        lambda s: rows(
            people(s)
            .join(people(s).select("id", "name", F.lit(1).alias("one")), ["id", "name"])
            .filter(F.col("id") == 2)
            .select("*")
            .select("id", "name", "one")
        ),
        [(2, "Bob", 1)],
    ),
    (
        "groupBy the key of a join on a name",
        lambda s: rows(
            people(s).join(depts(s), "dept").groupBy("dept").agg(F.max("floor")).orderBy("dept")
        ),
        [("eng", 3), ("ops", 1)],
    ),
    (
        "a full outer join on a name coalesces the key of both sides",
        lambda s: rows(
            people(s)
            .join(depts(s), "dept", "full")
            .withColumn("n", F.lit(1))
            .select("dept", "name", "floor")
            .orderBy("dept", "name")
        ),
        [
            (None, "Eve", None),
            ("eng", "Ada", 3),
            ("eng", "Bob", 3),
            ("hr", None, 2),
            ("ops", "Cy", 1),
            ("ops", "Dee", 1),
        ],
    ),
    (
        "a right join on a name keeps the right side's key",
        lambda s: rows(
            people(s).join(depts(s), "dept", "right").groupBy("dept").count().orderBy("dept")
        ),
        [("eng", 2), ("hr", 1), ("ops", 2)],
    ),
    (
        "left_semi and left_anti joins on a name transform further",
        lambda s: (
            people(s).join(depts(s), "dept", "left_semi").withColumn("x", F.lit(1)).count(),
            rows(people(s).join(depts(s), ["dept"], "anti").fillna("none").select("dept")),
        ),
        (4, [("none",)]),
    ),
    ("union keeps duplicates", lambda s: depts(s).union(depts(s)).count(), 6),
    (
        "unionByName matches by name",
        lambda s: rows(
            depts(s)
            .filter("dept = 'hr'")
            .unionByName(depts(s).select("floor", "dept").filter("dept = 'ops'"))
            .orderBy("dept")
        ),
        [("hr", 2), ("ops", 1)],
    ),
    (
        "unionByName with allowMissingColumns fills nulls",
        lambda s: rows(
            depts(s)
            .filter("dept = 'hr'")
            .unionByName(s.createDataFrame([("x",)], ["dept"]), allowMissingColumns=True)
            .orderBy("dept")
        ),
        [("hr", 2), ("x", None)],
    ),
    (
        "intersect",
        lambda s: rows(depts(s).select("dept").intersect(people(s).select("dept")).orderBy("dept")),
        [("eng",), ("ops",)],
    ),
    (
        "subtract",
        lambda s: rows(depts(s).select("dept").subtract(people(s).select("dept"))),
        [("hr",)],
    ),
    (
        "exceptAll keeps duplicates",
        lambda s: people(s).select("dept").exceptAll(depts(s).select("dept")).count(),
        3,
    ),
    (
        "explode gives one row per element",
        lambda s: rows(
            orders(s).select("oid", F.explode("tags").alias("tag")).orderBy("oid", "tag")
        ),
        [(10, "a"), (10, "b"), (11, "c")],
    ),
    (
        "explode_outer keeps empty and null arrays",
        lambda s: orders(s).select("oid", F.explode_outer("tags")).count(),
        5,
    ),
    (
        "posexplode names pos and col",
        lambda s: orders(s).filter("oid = 10").select(F.posexplode("tags")).columns,
        ["pos", "col"],
    ),
    (
        "size, array_contains, element_at",
        lambda s: rows(
            orders(s)
            .filter("oid = 10")
            .select(F.size("tags"), F.array_contains("tags", "b"), F.element_at("tags", 1))
        ),
        [(2, True, "a")],
    ),
    (
        "struct and getField",
        lambda s: (
            people(s)
            .select(F.struct("id", "name").alias("s"))
            .select(F.col("s").getField("name").alias("n"))
            .filter("n = 'Cy'")
            .count()
        ),
        1,
    ),
    (
        "a struct collects as a Row",
        lambda s: people(s).select(F.struct("id", "name").alias("s")).orderBy("s").first().s,
        Row(id=1, name="Ada"),
    ),
    (
        "create_map and getItem",
        lambda s: (
            people(s)
            .select(F.create_map(F.lit("k"), F.col("name")).getItem("k").alias("v"))
            .orderBy("v")
            .first()
            .v
        ),
        "Ada",
    ),
    (
        "an array collects as a list",
        lambda s: orders(s).filter("oid = 10").first().tags,
        ["a", "b"],
    ),
    (
        "fillna of a number fills numeric columns only",
        lambda s: rows(
            people(s).fillna(0).filter("id IN (3, 5)").orderBy("id").select("age", "dept")
        ),
        [(0, "ops"), (30, None)],
    ),
    (
        "fillna of a string fills string columns only",
        lambda s: rows(
            people(s).na.fill("none").filter("id IN (3, 5)").orderBy("id").select("age", "dept")
        ),
        [(None, "ops"), (30, "none")],
    ),
    (
        "fillna of a dict",
        lambda s: rows(
            people(s)
            .fillna({"age": -1, "salary": 0.0})
            .filter("id IN (3, 4)")
            .orderBy("id")
            .select("age", "salary")
        ),
        [(-1, 70.0), (41, 0.0)],
    ),
    (
        "fillna with subset",
        lambda s: people(s).fillna(0, subset=["salary"]).filter(F.col("age").isNull()).count(),
        1,
    ),
    ("dropna any", lambda s: people(s).dropna().count(), 2),
    (
        "dropna all on a subset",
        lambda s: people(s).na.drop(how="all", subset=["age", "salary"]).count(),
        5,
    ),
    ("dropna thresh", lambda s: people(s).dropna(thresh=6).count(), 2),
    (
        "replace",
        lambda s: rows(
            people(s)
            .replace("eng", "dev", subset=["dept"])
            .select("dept")
            .distinct()
            .filter("dept = 'dev'")
        ),
        [("dev",)],
    ),
    (
        "first and head",
        lambda s: (people(s).orderBy("id").first().name, people(s).orderBy("id").head(2)[1].name),
        ("Ada", "Bob"),
    ),
    ("take", lambda s: len(people(s).take(3)), 3),
    (
        "isEmpty",
        lambda s: (people(s).filter("id > 99").isEmpty(), people(s).isEmpty()),
        (True, False),
    ),
    (
        "dtypes follow Spark's simple strings",
        lambda s: people(s).dtypes,
        [
            ("id", "bigint"),
            ("name", "string"),
            ("age", "int"),
            ("dept", "string"),
            ("salary", "double"),
            ("hired", "date"),
        ],
    ),
    (
        "schema is a StructType",
        lambda s: depts(s).schema.simpleString(),
        "struct<dept:string,floor:int>",
    ),
    (
        "a Row has attribute and key access",
        lambda s: (lambda r: (r.name, r["age"], r.asDict()["id"]))(people(s).orderBy("id").first()),
        ("Ada", 36, 1),
    ),
    (
        "createDataFrame of tuples and names",
        lambda s: rows(s.createDataFrame([(1, "a")], ["n", "s"])),
        [(1, "a")],
    ),
    (
        "createDataFrame of Rows",
        lambda s: s.createDataFrame([Row(a=1, b="x")]).dtypes,
        [("a", "bigint"), ("b", "string")],
    ),
    ("createDataFrame of dicts", lambda s: rows(s.createDataFrame([{"b": 2, "a": 1}])), [(1, 2)]),
    (
        "createDataFrame with a DDL schema",
        lambda s: s.createDataFrame([(1, "x")], "a INT, b STRING").dtypes,
        [("a", "int"), ("b", "string")],
    ),
    (
        "createDataFrame with a StructType",
        lambda s: s.createDataFrame(
            [(1, None)], StructType([StructField("a", LongType()), StructField("b", StringType())])
        ).collect(),
        [Row(a=1, b=None)],
    ),
    (
        "createDataFrame of a pandas DataFrame",
        lambda s: rows(
            s.createDataFrame(__import__("pandas").DataFrame({"a": [1, 2], "b": ["x", None]}))
        ),
        [(1, "x"), (2, None)],
    ),
    (
        "a pandas NaN becomes null, as the Arrow conversion on Databricks gives",
        lambda s: (
            s.createDataFrame(__import__("pandas").DataFrame({"x": [float("nan"), 1.5]}))
            .filter(F.col("x").isNull())
            .count()
        ),
        1,
    ),
    (
        "a query after a comment stays lazy",
        lambda s: s.sql("-- the people\nSELECT 1 AS one").sql_text.endswith("SELECT 1 AS one"),
        True,
    ),
    ("range gives column id", lambda s: rows(s.range(1, 7, 2)), [(1,), (3,), (5,)]),
    (
        "spark.sql with named args",
        lambda s: (
            s.sql(f"SELECT name FROM {SCHEMA}.people WHERE id = :id", args={"id": 4}).first().name
        ),
        "Dee",
    ),
    (
        "describe counts",
        lambda s: rows(
            depts(s).describe("floor").filter("summary IN ('count', 'max')").orderBy("summary")
        ),
        [("count", "3"), ("max", "3")],
    ),
    (
        "sha2 and md5",
        lambda s: rows(s.range(1).select(F.md5(F.lit("a")), F.sha2(F.lit("a"), 256).substr(1, 8))),
        [("0cc175b9c0f1b6a831c399e269772661", "ca978112")],
    ),
    (
        "monotonically_increasing_id is unique",
        lambda s: people(s).select(F.monotonically_increasing_id().alias("m")).distinct().count(),
        5,
    ),
    (
        "transform applies a function",
        lambda s: people(s).transform(lambda d: d.filter("id < 3")).count(),
        2,
    ),
    (
        "broadcast is a hint only",
        lambda s: people(s).join(F.broadcast(depts(s)), "dept").count(),
        4,
    ),
    (
        "cache and repartition return the DataFrame",
        lambda s: people(s).cache().repartition(4).coalesce(1).count(),
        5,
    ),
    (
        "df[name] and df.name are columns",
        lambda s: (lambda p: rows(p.filter(p.id == 2).select(p["name"], p.age)))(people(s)),
        [("Bob", 25)],
    ),
]


@pytest.mark.parametrize(("what", "build", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_dataframe_operation_gives_spark_s_result(
    spark: SparkSession, what: str, build: Callable[[SparkSession], Any], expected: Any
) -> None:
    assert build(spark) == expected


def test_show_prints_spark_s_table(spark: SparkSession, capsys: pytest.CaptureFixture[str]) -> None:
    people(spark).select("id", "name", "age").orderBy("id").show(3)
    assert capsys.readouterr().out == (
        "+---+----+----+\n"
        "| id|name| age|\n"
        "+---+----+----+\n"
        "|  1| Ada|  36|\n"
        "|  2| Bob|  25|\n"
        "|  3|  Cy|NULL|\n"
        "+---+----+----+\n"
        "only showing top 3 rows\n\n"  # PySpark prints showString, which ends with a newline
    )
    spark.createDataFrame([("a" * 25,)], ["long"]).show(truncate=False)
    assert "|" + "a" * 25 + "|" in capsys.readouterr().out


def test_print_schema_prints_the_tree(
    spark: SparkSession, capsys: pytest.CaptureFixture[str]
) -> None:
    orders(spark).select("oid", "tags").printSchema()
    assert capsys.readouterr().out == (
        "root\n"
        " |-- oid: long (nullable = true)\n"
        " |-- tags: array (nullable = true)\n"
        " |    |-- element: string (nullable = true)\n"
    )


def test_to_pandas_builds_typed_columns(spark: SparkSession) -> None:
    frame = (
        people(spark)
        .withColumn("at", F.to_timestamp(F.lit("2024-01-02 03:04:05")))
        .orderBy("id")
        .toPandas()
    )
    assert list(frame.columns) == ["id", "name", "age", "dept", "salary", "hired", "at"]
    assert str(frame["id"].dtype) == "int64"
    assert str(frame["age"].dtype) == "float64"  # an int column with nulls, as PySpark gives it
    assert str(frame["salary"].dtype) == "float64" and frame["salary"].isna().sum() == 1
    assert frame["name"].tolist() == ["Ada", "Bob", "Cy", "Dee", "Eve"]
    assert frame["hired"][0] == dt.date(2020, 1, 15)
    assert str(frame["at"].dtype) == "datetime64[ns]"
    assert frame["at"][0].to_pydatetime() == dt.datetime(2024, 1, 2, 3, 4, 5)


def test_a_temporary_view_is_inlined_into_the_sql_that_names_it(spark: SparkSession) -> None:
    people(spark).filter("dept = 'eng'").createOrReplaceTempView("eng_people")
    joined = spark.sql(
        f"SELECT p.name, d.floor FROM eng_people AS p JOIN {SCHEMA}.depts d ON p.dept = d.dept "
        "ORDER BY p.name"
    )
    assert rows(joined) == [("Ada", 3), ("Bob", 3)]
    assert rows(spark.table("eng_people").select("name").orderBy("name")) == [("Ada",), ("Bob",)]
    depts(spark).createOrReplaceGlobalTempView("all_depts")
    assert spark.sql("SELECT count(*) AS n FROM global_temp.all_depts").first().n == 3
    with pytest.raises(AnalysisException, match="TEMP_TABLE_OR_VIEW_ALREADY_EXISTS"):
        depts(spark).createTempView("eng_people")
    assert spark.catalog.dropTempView("eng_people")
    with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_NOT_FOUND"):
        spark.sql("SELECT * FROM eng_people").collect()


def test_use_catalog_and_schema_apply_to_later_statements(spark: SparkSession) -> None:
    session = spark.newSession()
    session.sql("USE CATALOG main")
    session.sql(f"USE SCHEMA {SCHEMA.split('.')[1]}")
    assert session.table("people").count() == 5
    assert (session.catalog.currentCatalog(), session.catalog.currentDatabase()) == (
        "main",
        "t_spark_df",
    )
    assert session.catalog.tableExists("depts") and not session.catalog.tableExists("nope")
    assert {"people", "depts", "orders"} <= {t.name for t in session.catalog.listTables()}
    with pytest.raises(AnalysisException, match=r"SCHEMA_NOT_FOUND|NOT_FOUND"):
        session.sql("USE SCHEMA no_such_schema")


def test_sql_commands_run_at_once_and_queries_stay_lazy(spark: SparkSession) -> None:
    spark.sql(f"CREATE OR REPLACE TABLE {SCHEMA}.eager (n INT)")
    inserted = spark.sql(f"INSERT INTO {SCHEMA}.eager VALUES (1), (2)")
    assert inserted.first().num_affected_rows == 2
    lazy = spark.sql(f"SELECT n FROM {SCHEMA}.eager")
    spark.sql(f"INSERT INTO {SCHEMA}.eager VALUES (3)")
    assert lazy.count() == 3
    assert lazy.sql_text == f"SELECT n FROM {SCHEMA}.eager"


def test_save_as_table_honours_each_save_mode(spark: SparkSession) -> None:
    name = f"{SCHEMA}.saved"
    depts(spark).write.mode("overwrite").saveAsTable(name)
    assert spark.table(name).count() == 3
    # append matches columns by name, whatever their order
    spark.createDataFrame([(9, "it")], ["floor", "dept"]).write.mode("append").saveAsTable(name)
    assert rows(spark.table(name).filter("dept = 'it'")) == [("it", 9)]
    depts(spark).write.mode("ignore").saveAsTable(name)
    assert spark.table(name).count() == 4
    with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_ALREADY_EXISTS"):
        depts(spark).write.saveAsTable(name)
    depts(spark).filter("floor > 1").write.insertInto(name, overwrite=True)
    assert spark.table(name).count() == 2
    depts(spark).write.format("delta").mode("overwrite").partitionBy("dept").saveAsTable(name)
    assert spark.table(name).count() == 3


def test_delta_table_merges_updates_deletes_and_keeps_history(spark: SparkSession) -> None:
    from local_workspace.spark.delta import DeltaTable

    name = f"{SCHEMA}.accounts"
    spark.createDataFrame(
        [(1, "a", 10), (2, "b", 20), (3, "c", 30)], "id INT, owner STRING, balance INT"
    ).write.mode("overwrite").saveAsTable(name)
    target = DeltaTable.forName(spark, name)
    changes = spark.createDataFrame(
        [(1, "a", 15), (4, "d", 40), (2, "b", -1)], "id INT, owner STRING, balance INT"
    )
    (
        target.alias("t")
        .merge(changes.alias("s"), "t.id = s.id")
        .whenMatchedDelete(condition="s.balance < 0")
        .whenMatchedUpdate(set={"balance": F.col("s.balance") + 1})
        .whenNotMatchedInsert(
            values={"id": "s.id", "owner": "upper(s.owner)", "balance": "s.balance"}
        )
        .whenNotMatchedBySourceUpdate(set={"balance": "0"})
        .execute()
    )
    assert rows(target.toDF().orderBy("id")) == [(1, "a", 16), (3, "c", 0), (4, "D", 40)]
    target.update(condition=F.col("id") == 3, set={"owner": F.lit("z")})
    target.delete("balance > 30")
    assert rows(target.toDF().orderBy("id")) == [(1, "a", 16), (3, "z", 0)]
    # UPDATE SET * / INSERT * pair by name: the source's other order and extra column are fine.
    again = spark.createDataFrame(
        [(1, 1, "a", "x"), (5, 5, "e", "y")], "balance INT, id INT, owner STRING, note STRING"
    )
    target.alias("t").merge(
        again.alias("s"), "t.id = s.id"
    ).whenMatchedUpdateAll().whenNotMatchedInsertAll().whenNotMatchedBySourceDelete().execute()
    assert rows(target.toDF().orderBy("id")) == [(1, "a", 1), (5, "e", 5)]
    operations = [r.operation for r in target.history().collect()]
    assert operations[:4] == ["MERGE", "DELETE", "UPDATE", "MERGE"]
    assert target.history(1).count() == 1
    evolving = target.alias("t").merge(again.alias("s"), "t.id = s.id").withSchemaEvolution()
    with pytest.raises(AnalysisException, match="UNSUPPORTED_FEATURE"):
        evolving.whenMatchedUpdateAll().execute()  # it would add the column `note`
    spark.conf.set("spark.databricks.delta.schema.autoMerge.enabled", "true")
    try:
        with pytest.raises(AnalysisException, match="UNSUPPORTED_FEATURE"):
            target.alias("t").merge(
                again.alias("s"), "t.id = s.id"
            ).whenMatchedUpdateAll().execute()
    finally:
        spark.conf.unset("spark.databricks.delta.schema.autoMerge.enabled")
    assert DeltaTable.isDeltaTable(spark, name) and not DeltaTable.isDeltaTable(spark, "/Volumes/x")
    with pytest.raises(AnalysisException, match="DELTA_MISSING_DELTA_TABLE"):
        DeltaTable.forPath(spark, "/Volumes/main/t_spark_df/raw/accounts")
    with pytest.raises(AnalysisException, match="DELTA_MISSING_DELTA_TABLE"):
        DeltaTable.forName(spark, f"{SCHEMA}.no_such_table")


def test_a_join_on_a_name_is_a_merge_source(spark: SparkSession) -> None:
    from local_workspace.spark.delta import DeltaTable

    name = f"{SCHEMA}.dept_floors"
    spark.createDataFrame([("eng", 0)], "dept STRING, floor INT").write.mode(
        "overwrite"
    ).saveAsTable(name)
    source = people(spark).join(depts(spark), "dept").select("dept", "floor").distinct()
    (
        DeltaTable.forName(spark, name)
        .alias("t")
        .merge(source.alias("s"), "t.dept = s.dept")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )
    assert rows(spark.table(name).orderBy("dept")) == [("eng", 3), ("ops", 1)]


def test_the_reader_reads_files_of_a_volume_through_read_files(
    spark: SparkSession, ws: Any
) -> None:
    import io

    spark.sql(f"CREATE VOLUME IF NOT EXISTS {SCHEMA}.raw")
    path = "/Volumes/main/t_spark_df/raw/cities.csv"
    ws.files.upload(path, io.BytesIO(b"city,pop\nLyon,500\nNice,340\n"), overwrite=True)
    frame = spark.read.option("header", True).csv(path)  # Spark infers no types by default
    assert rows(frame.orderBy("city")) == [("Lyon", "500"), ("Nice", "340")]
    assert spark.read.csv(path).columns == ["_c0", "_c1"]
    # DataFrameReader adds no _rescued_data (only Auto Loader and read_files SQL do)
    assert spark.read.format("csv").load(path).columns == spark.read.csv(path).columns
    assert (
        spark.read.format("csv").option("header", True).load(path).columns
        == spark.read.csv(path, header=True).columns
        == ["city", "pop"]
    )
    assert spark.read.csv(path, header=True, inferSchema=True).dtypes[1] == ("pop", "int")
    loaded = (
        spark.read.format("csv").options(header="true").schema("city STRING, pop INT").load(path)
    )
    assert loaded.dtypes == [("city", "string"), ("pop", "int")]
    with pytest.raises(AnalysisException, match="DELTA_PATH_NOT_SUPPORTED"):
        spark.read.format("delta").load("/Volumes/main/t_spark_df/raw/table")


def test_a_name_on_both_sides_of_a_join_is_collected_and_an_ambiguous_reference(
    spark: SparkSession,
) -> None:
    p, d = people(spark), depts(spark)
    using = p.join(p.select("id", (F.col("age") + 1).alias("age")), "id")
    assert using.columns == ["id", "name", "age", "dept", "salary", "hired", "age"]
    assert rows(using.filter(F.col("id") == 1).select(p.age, p.name)) == [(36, "Ada")]
    assert tuple(using.orderBy("id").collect()[0])[-1] == 37
    with pytest.raises(AnalysisException, match=r"^\[AMBIGUOUS_REFERENCE\] Reference `age`"):
        using.select("age").collect()
    on_condition = p.join(d, p.dept == d.dept)
    assert on_condition.count() == 4
    with pytest.raises(AnalysisException, match="AMBIGUOUS_REFERENCE") as caught:
        on_condition.select("dept").collect()
    assert caught.value.getErrorClass() == "AMBIGUOUS_REFERENCE"


def test_warehouse_errors_raise_analysis_exception_with_their_error_class(
    spark: SparkSession,
) -> None:
    from local_workspace.spark.errors import ParseException

    with pytest.raises(AnalysisException) as missing:
        spark.table("main.t_spark_df.no_such_table").collect()
    assert missing.value.getErrorClass() == "TABLE_OR_VIEW_NOT_FOUND"
    with pytest.raises(ParseException) as syntax:
        spark.sql("SELEC 1")
    assert syntax.value.getSqlState() == "42601"


REFUSED: list[tuple[str, Callable[[SparkSession], Any], str]] = [
    ("F.udf", lambda s: F.udf(lambda x: x), "Python UDFs"),
    ("F.pandas_udf", lambda s: F.pandas_udf(lambda x: x, "int"), "Python UDFs"),
    ("spark.udf.register", lambda s: s.udf.register("f", lambda x: x), "Python UDFs"),
    ("df.rdd", lambda s: depts(s).rdd.map(lambda r: r), "RDDs"),
    ("spark.sparkContext", lambda s: s.sparkContext.parallelize([1]), "RDDs"),
    ("mapInPandas", lambda s: depts(s).mapInPandas(lambda it: it, "dept string"), "mapInPandas"),
    ("foreach", lambda s: depts(s).foreach(print), "foreach"),
    (
        "applyInPandas",
        lambda s: depts(s).groupBy("dept").applyInPandas(lambda p: p, "x int"),
        "applyInPandas",
    ),
    ("writeStream", lambda s: depts(s).writeStream, "writeStream"),
    (
        "a streaming file source",
        lambda s: s.readStream.format("json").load("/Volumes/x"),
        "streaming sources",
    ),
    ("write.save to a path", lambda s: depts(s).write.save("/Volumes/main/x/y/z"), "saveAsTable"),
    ("toJSON", lambda s: depts(s).toJSON(), "to_json"),
    (
        "saveAsTable at a path",
        lambda s: depts(s).write.option("path", "/Volumes/a/b/c").saveAsTable("main.x.y"),
        "external tables",
    ),
]


@pytest.mark.parametrize(("what", "use", "named"), REFUSED, ids=[r[0] for r in REFUSED])
def test_what_needs_a_cluster_raises_the_one_clear_refusal(
    spark: SparkSession, what: str, use: Callable[[SparkSession], Any], named: str
) -> None:
    with pytest.raises(NotSupportedInLocalWorkspace) as refused:
        use(spark)
    message = str(refused.value)
    assert message.startswith("[NOT_SUPPORTED_IN_LOCAL_WORKSPACE]") and named in message
    assert "Databricks" in message
    assert isinstance(refused.value, NotImplementedError)


def test_unknown_names_raise_attribute_error_as_pyspark_does(spark: SparkSession) -> None:
    with pytest.raises(AttributeError):
        F.not_a_spark_function  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        depts(spark).nope  # noqa: B018
    assert not hasattr(spark, "nope")


def test_create_dataframe_refuses_local_data_over_its_bound(spark: SparkSession) -> None:
    from local_workspace.spark.create import MAX_ROWS

    with pytest.raises(ValueError, match=r"LOCAL_DATA_TOO_LARGE.*volume.*spark\.read"):
        spark.createDataFrame([(i,) for i in range(MAX_ROWS + 1)], ["n"])


def test_install_modules_gives_our_api_under_pyspark_s_names(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))  # the refusing finder goes too
    for name in [n for n in sys.modules if n.split(".")[0] in ("pyspark", "delta", "dlt")]:
        monkeypatch.delitem(sys.modules, name)
    real = types.ModuleType("pyspark")  # a real pyspark imported before must not answer
    monkeypatch.setitem(sys.modules, "pyspark", real)
    monkeypatch.setitem(sys.modules, "pyspark.sql", types.ModuleType("pyspark.sql"))
    dlt = types.ModuleType("dlt")
    install_modules({"dlt": dlt})
    install_modules()  # idempotent
    import dlt as imported_dlt  # type: ignore[import-not-found]
    from delta.tables import DeltaTable
    from pyspark.sql import SparkSession as Session
    from pyspark.sql import Window as W
    from pyspark.sql import functions as F2
    from pyspark.sql.functions import col
    from pyspark.sql.types import StructType as ST
    from pyspark.sql.utils import AnalysisException as AE

    assert Session is SparkSession and F2 is F and W is Window and ST is StructType
    assert AE is AnalysisException and imported_dlt is dlt
    from pyspark import StorageLevel
    from pyspark.testing import assertDataFrameEqual

    assert depts(spark).persist(StorageLevel.MEMORY_AND_DISK).count() == 3
    expected = spark.createDataFrame([("ops", 1), ("eng", 3), ("hr", 2)], "dept STRING, floor INT")
    assertDataFrameEqual(depts(spark), expected)
    with pytest.raises(AssertionError, match="DIFFERENT_ROWS"):
        assertDataFrameEqual(depts(spark).limit(2), expected)
    assert (
        col("a")._sql == "`a`" and DeltaTable.forName(spark, f"{SCHEMA}.depts").toDF().count() == 3
    )
    # Libraries probe for Spark (find_spec) and MLlib; MLflow's evaluation does both.
    import importlib.util

    from mlflow.data.evaluation_dataset import EvaluationDataset

    assert importlib.util.find_spec("pyspark.sql") is not None
    with pytest.raises(ModuleNotFoundError, match=r"pyspark.ml.feature'.*NOT_SUPPORTED_IN_LOCAL"):
        import pyspark.ml.feature  # noqa: F401
    frame = depts(spark).toPandas()
    assert len(EvaluationDataset(frame, targets="floor").hash) == 32
    for name in [n for n in sys.modules if n.split(".")[0] in ("pyspark", "delta", "dlt")]:
        del sys.modules[name]  # the test's own modules go (monkeypatch restores the rest)


def test_the_builder_gives_the_active_session(
    local_ws: LocalWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", local_ws.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", local_ws.token)
    made = SparkSession.builder.appName("x").getOrCreate()
    assert SparkSession.builder.getOrCreate() is made is SparkSession.getActiveSession()
    assert made.range(3).count() == 3
    made.stop()


def test_a_table_resolver_answers_first_and_from_sql_carries_a_schema_query(
    spark: SparkSession,
) -> None:
    session = spark.newSession()
    pending = DataFrame.from_sql(
        session,
        "SELECT * FROM main.t_spark_df.not_made_yet",
        schema_sql="SELECT 1 AS a, 'x' AS b",
        streaming=True,
    )
    session.table_resolver = lambda name, streaming: pending if name == "pending" else None
    assert session.readStream.table("pending") is pending and pending.isStreaming
    assert pending.columns == ["a", "b"] and pending.sql_text.endswith("not_made_yet")
    assert session.read.table(f"{SCHEMA}.depts").count() == 3
    stream = session.readStream.table(f"{SCHEMA}.depts")
    assert stream.isStreaming and stream.filter("floor > 1").isStreaming
    with pytest.raises(AnalysisException, match=r"must be executed with writeStream\.start"):
        stream.count()
    with pytest.raises(AnalysisException, match="'write' can not be called on streaming"):
        stream.write.saveAsTable(f"{SCHEMA}.never")


def test_display_shows_a_dataframe(spark: SparkSession, capsys: pytest.CaptureFixture[str]) -> None:
    from local_workspace.spark import display

    display(depts(spark).orderBy("dept").limit(1))
    assert (
        capsys.readouterr().out
        == "+----+-----+\n|dept|floor|\n+----+-----+\n|eng |3    |\n+----+-----+\n"
    )
