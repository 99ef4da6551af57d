"""The local PySpark API (local_workspace.spark) beside plain SQL on the same warehouse.

A seeded local workspace on 127.0.0.1. Three figures, each with its baseline from the same
run (medians of N interleaved repeats):

- session start: a fresh process importing ``local_workspace.spark`` and collecting its first
  query, beside a fresh process sending the same statement with urllib;
- a 30-step DataFrame snippet (filter, withColumn/when, window, join, groupBy/agg, pivot,
  union, fillna, saveAsTable, DeltaTable merge, collect/count/toPandas...), beside the same
  results computed by hand-written SQL statements through the Statement Execution API;
- ``toPandas`` of 100k rows (4 columns), beside the same SELECT fetched chunk by chunk as
  plain JSON through the Statement Execution API (no conversion), and that fetch turned into
  a pandas frame row by row.

    python bench/spark_local.py [-n 3]

Prints one line per figure. Report only: no target, it never fails on a figure.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local_workspace.config import LocalConfig
from local_workspace.runner import LocalWorkspace
from local_workspace.spark import SparkSession
from local_workspace.spark import functions as F
from local_workspace.spark.client import StatementClient
from local_workspace.spark.delta import DeltaTable
from local_workspace.spark.window import Window

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "main.bench_spark"

START_SPARK = """
import sys, time
t = time.perf_counter()
from local_workspace.spark import SparkSession
SparkSession(host=sys.argv[1], token=sys.argv[2]).sql("SELECT 1 AS one").collect()
print(time.perf_counter() - t)
"""
START_PLAIN = """
import sys, time
t = time.perf_counter()
import json, urllib.request
body = {"statement": "SELECT 1 AS one", "warehouse_id": "dbxlocal00000001",
        "wait_timeout": "30s", "format": "JSON_ARRAY", "disposition": "INLINE"}
request = urllib.request.Request(sys.argv[1] + "/api/2.0/sql/statements", method="POST",
    data=json.dumps(body).encode(), headers={"Authorization": "Bearer " + sys.argv[2],
    "Content-Type": "application/json"})
json.loads(urllib.request.urlopen(request).read())
print(time.perf_counter() - t)
"""


def fresh_process(source: str, workspace: LocalWorkspace) -> float:
    """Seconds a new interpreter reports for ``source`` (interpreter start excluded)."""
    done = subprocess.run(
        [sys.executable, "-c", source, workspace.url, workspace.token],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def snippet(spark: SparkSession) -> Any:
    """A typical notebook's 30 DataFrame steps (11 of them actions)."""
    orders = spark.table(f"{SCHEMA}.orders")  # 1
    customers = spark.table(f"{SCHEMA}.customers")  # 2
    big = orders.filter(F.col("amount") > 10)  # 3
    sized = big.withColumn("size", F.when(F.col("amount") > 500, "L").otherwise("S"))  # 4
    window = Window.partitionBy("customer_id").orderBy(F.col("amount").desc())  # 5
    ranked = sized.withColumn("rank", F.row_number().over(window))  # 6
    joined = ranked.join(customers, "customer_id")  # 7
    per_country = joined.groupBy("country").agg(  # 8
        F.sum("amount").alias("total"), F.count("*").alias("n"), F.avg("amount").alias("mean")
    )
    top = per_country.orderBy(F.col("total").desc()).limit(3)  # 9
    result = [top.collect()]  # 10
    result.append(joined.filter(F.col("rank") == 1).count())  # 11
    pivoted = joined.groupBy("country").pivot("size", ["L", "S"]).agg(F.count("*"))  # 12
    result.append(pivoted.orderBy("country").collect())  # 13
    renamed = customers.withColumnRenamed("country", "land").drop("name")  # 14
    result.append(renamed.columns)  # 15
    unioned = customers.select("country").union(customers.select("country")).distinct()  # 16
    result.append(unioned.count())  # 17
    filled = orders.fillna(0).dropDuplicates(["customer_id"])  # 18
    result.append(filled.count())  # 19
    firsts = ranked.filter("rank = 1").select("customer_id", "amount", "size")  # 20
    firsts.write.mode("overwrite").saveAsTable(f"{SCHEMA}.firsts")  # 21
    updates = spark.createDataFrame(
        [(1, 999.0, "L"), (10_001, 1.0, "S")], ["customer_id", "amount", "size"]
    )  # 22
    merge = DeltaTable.forName(spark, f"{SCHEMA}.firsts").alias("t")  # 23
    merge.merge(
        updates.alias("s"), "t.customer_id = s.customer_id"
    ).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute()  # 24
    result.append(spark.table(f"{SCHEMA}.firsts").count())  # 25
    stats = joined.select(F.max("amount"), F.min("amount"))  # 26
    result.append(stats.first())  # 27
    frame = per_country.toPandas()  # 28
    result.append(len(frame))  # 29
    result.append(joined.select(F.upper("country").alias("c")).distinct().count())  # 30
    return result


def plain_sql(client: StatementClient) -> Any:
    """The same results by hand-written SQL statements (one per action of the snippet)."""
    run = client.execute
    base = f"""
        WITH sized AS (
          SELECT *, CASE WHEN amount > 500 THEN 'L' ELSE 'S' END AS size,
                 row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC) AS rank
          FROM {SCHEMA}.orders WHERE amount > 10)
        SELECT sized.*, c.name, c.country FROM sized JOIN {SCHEMA}.customers c USING (customer_id)
    """
    result = [
        run(
            f"SELECT country, sum(amount) total, count(*) n, avg(amount) mean FROM ({base}) "
            "GROUP BY country ORDER BY total DESC LIMIT 3"
        ).rows()
    ]
    result.append(run(f"SELECT count(*) FROM ({base}) WHERE rank = 1").rows())
    result.append(
        run(
            f"SELECT country, count(*) FILTER (WHERE size = 'L') L, count(*) FILTER (WHERE size = "
            f"'S') S FROM ({base}) GROUP BY country ORDER BY country"
        ).rows()
    )
    result.append(
        run(f"DESCRIBE QUERY SELECT customer_id, country AS land FROM {SCHEMA}.customers").rows()
    )
    result.append(run(f"SELECT count(DISTINCT country) FROM {SCHEMA}.customers").rows())
    result.append(run(f"SELECT count(DISTINCT customer_id) FROM {SCHEMA}.orders").rows())
    run(
        f"CREATE OR REPLACE TABLE {SCHEMA}.firsts_sql AS SELECT customer_id, amount, size FROM "
        f"({base}) WHERE rank = 1"
    )
    run(
        f"MERGE INTO {SCHEMA}.firsts_sql t USING (SELECT * FROM VALUES (1, 999.0D, 'L'), "
        "(10001, 1.0D, 'S') AS v(customer_id, amount, size)) s ON t.customer_id = s.customer_id "
        "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
    )
    result.append(run(f"SELECT count(*) FROM {SCHEMA}.firsts_sql").rows())
    result.append(run(f"SELECT max(amount), min(amount) FROM ({base})").rows())
    result.append(
        run(
            f"SELECT country, sum(amount), count(*), avg(amount) FROM ({base}) GROUP BY country"
        ).rows()
    )
    result.append(run(f"SELECT count(DISTINCT upper(country)) FROM ({base})").rows())
    return result


def fetch_plain(client: StatementClient, sql: str) -> list[list[Any]]:
    """Every row of ``sql`` as JSON strings, chunk by chunk."""
    return client.execute(sql).rows()


def median_of(n: int, function: Callable[[], Any]) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def seed(spark: SparkSession) -> None:
    """The benchmark's tables: 10k customers, 50k orders, a 100k-row table of 4 columns."""
    spark.sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    spark.sql(
        f"CREATE OR REPLACE TABLE {SCHEMA}.customers AS SELECT id AS customer_id, "
        "concat('c', id) AS name, element_at(array('FR', 'US', 'DE', 'JP'), "
        "CAST(id % 4 + 1 AS INT)) AS country FROM range(1, 10001)"
    )
    spark.sql(
        f"CREATE OR REPLACE TABLE {SCHEMA}.orders AS SELECT id AS order_id, "
        "id % 10000 + 1 AS customer_id, (id * 37 % 1000) + 0.5D AS amount FROM range(50000)"
    )
    spark.sql(
        f"CREATE OR REPLACE TABLE {SCHEMA}.wide AS SELECT id, id * 2.5D AS x, "
        "concat('name', id) AS s, date_add(DATE'2020-01-01', CAST(id % 1000 AS INT)) AS d "
        "FROM range(100000)"
    )


def measure(workspace: LocalWorkspace, repeats: int) -> None:
    """Print the figures."""
    spark = SparkSession(host=workspace.url, token=workspace.token)
    client = StatementClient(workspace.url, workspace.token, None)
    seed(spark)
    spark_start = statistics.median(fresh_process(START_SPARK, workspace) for _ in range(repeats))
    plain_start = statistics.median(fresh_process(START_PLAIN, workspace) for _ in range(repeats))
    print(f"session start (import + first query), local spark: {spark_start:.3f} s")
    print(f"session start, plain urllib statement (baseline): {plain_start:.3f} s")

    steps = median_of(repeats, lambda: snippet(spark))
    plain = median_of(repeats, lambda: plain_sql(client))
    print(f"30-step snippet, local spark: {steps:.3f} s")
    print(f"same results as 11 hand-written SQL statements (baseline): {plain:.3f} s")

    query = f"SELECT * FROM {SCHEMA}.wide"
    to_pandas = median_of(repeats, lambda: spark.sql(query).toPandas())
    fetched = median_of(repeats, lambda: fetch_plain(client, query))

    def naive() -> Any:
        import pandas as pd

        result = client.execute(query)
        return pd.DataFrame(result.rows(), columns=result.names)

    naive_frame = median_of(repeats, naive)
    print(f"toPandas 100k rows x 4 columns, local spark (typed): {to_pandas:.3f} s")
    print(f"same SELECT fetched as JSON chunks, no conversion (baseline): {fetched:.3f} s")
    print(f"same fetch made a pandas frame of strings row by row: {naive_frame:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", type=int, default=3, help="repeats of each figure (median)")
    repeats = parser.parse_args().n
    with (
        tempfile.TemporaryDirectory() as folder,
        LocalWorkspace(LocalConfig(data_dir=Path(folder))) as workspace,
    ):
        measure(workspace, repeats)


if __name__ == "__main__":
    main()
