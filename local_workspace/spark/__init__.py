"""A PySpark-compatible DataFrame API on the workspace's SQL warehouse.

DataFrames are Databricks SQL queries; they run on the SQL warehouse through the Statement
Execution API, so Unity Catalog (grants, masks, lineage) and the errors are the workspace's.
Only the standard library is imported here (pandas/sqlglot load lazily where used).

    from local_workspace.spark import SparkSession, install_modules
    spark = SparkSession(host=..., token=...)
    install_modules()  # `import pyspark.sql` / `from delta.tables import DeltaTable` now give these
"""

from __future__ import annotations

from local_workspace.spark.column import Column
from local_workspace.spark.dataframe import DataFrame
from local_workspace.spark.display import display
from local_workspace.spark.errors import AnalysisException, NotSupportedInLocalWorkspace
from local_workspace.spark.modules import install_modules
from local_workspace.spark.row import Row
from local_workspace.spark.session import SparkSession
from local_workspace.spark.window import Window

__all__ = [
    "AnalysisException",
    "Column",
    "DataFrame",
    "NotSupportedInLocalWorkspace",
    "Row",
    "SparkSession",
    "Window",
    "display",
    "install_modules",
]
