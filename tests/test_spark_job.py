"""A PySpark notebook runs as a job on the local workspace, through the MCP tools as an agent
drives it: DataFrame transformations, a window, a join, an aggregate, saveAsTable, a Delta
merge and toPandas end SUCCESS, and the tables hold the right rows (read with sql_query)."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.conftest import ok, text_of

pytestmark = pytest.mark.anyio

PATH = "/Users/dev@dbx-devkit.local/t_spark_job/etl"
NOTEBOOK = """# Databricks notebook source
from pyspark.sql import Window
from pyspark.sql import functions as F
from pyspark.sql.functions import col
from delta.tables import DeltaTable

spark.sql("CREATE SCHEMA IF NOT EXISTS main.t_spark_job")
orders = spark.createDataFrame(
    [(1, "ada", 30.0), (2, "bob", 12.5), (3, "ada", 7.5), (4, "cy", 50.0), (5, "bob", 2.0)],
    "order_id INT, customer STRING, amount DOUBLE",
)
customers = spark.createDataFrame(
    [("ada", "FR"), ("bob", "US"), ("cy", "FR")], ["customer", "country"]
)

# COMMAND ----------

sized = orders.filter(col("amount") > 5).withColumn(
    "size", F.when(col("amount") >= 30, "large").otherwise("small")
)
ranked = sized.withColumn(
    "rank", F.row_number().over(Window.partitionBy("customer").orderBy(col("amount").desc()))
)
joined = ranked.join(customers, "customer")
totals = joined.groupBy("country").agg(F.sum("amount").alias("total"), F.count("*").alias("orders"))
totals.write.mode("overwrite").saveAsTable("main.t_spark_job.totals")
top = joined.filter(col("rank") == 1).select("customer", "amount", "size")
top.write.mode("overwrite").saveAsTable("main.t_spark_job.top_orders")

# COMMAND ----------

updates = spark.createDataFrame(
    [("ada", 99.0, "large"), ("dee", 1.0, "small")], ["customer", "amount", "size"]
)
(
    DeltaTable.forName(spark, "main.t_spark_job.top_orders").alias("t")
    .merge(updates.alias("s"), "t.customer = s.customer")
    .whenMatchedUpdateAll()
    .whenNotMatchedInsertAll()
    .execute()
)
frame = spark.table("main.t_spark_job.top_orders").orderBy("customer").toPandas()
print(frame.to_string(index=False))
dbutils.notebook.exit(f"{len(frame)} rows, {frame['amount'].sum()}")
"""


async def test_a_pyspark_notebook_job_runs_and_writes_the_right_rows(mcp: Client) -> None:
    await ok(mcp, "workspace_write", path=PATH, content=NOTEBOOK, kind="notebook", overwrite=True)
    started = await ok(mcp, "jobs_submit", path=PATH, run_name="pyspark etl")
    run_id = started.structured_content["run_id"]
    waited = await ok(mcp, "jobs_wait_run", run_id=run_id, timeout_s=120)
    output = text_of(await ok(mcp, "jobs_get_run_output", run_id=run_id))
    assert waited.structured_content["result_state"] == "SUCCESS", output
    assert "4 rows, 162.5" in output

    totals = await ok(
        mcp, "sql_query", statement="SELECT * FROM main.t_spark_job.totals ORDER BY country"
    )
    assert totals.structured_content["rows"] == [["FR", "87.5", "3"], ["US", "12.5", "1"]]
    top = await ok(
        mcp, "sql_query", statement="SELECT * FROM main.t_spark_job.top_orders ORDER BY customer"
    )
    assert top.structured_content["rows"] == [
        ["ada", "99.0", "large"],
        ["bob", "12.5", "small"],
        ["cy", "50.0", "large"],
        ["dee", "1.0", "small"],
    ]
