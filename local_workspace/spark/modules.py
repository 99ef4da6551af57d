"""``install_modules``: our API as ``pyspark``, ``pyspark.sql``..., ``delta.tables`` in
``sys.modules`` (shadowing a real pyspark), so task code and tests import it by its names."""

from __future__ import annotations

import sys
import types
from typing import Any


def _module(name: str, attributes: dict[str, Any]) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    module.__dict__["__dbx_devkit_local__"] = True  # how a repeat install recognizes ours
    return module


def build_modules() -> dict[str, types.ModuleType]:
    """The module objects, by the names user code imports."""
    from local_workspace.spark import compat, delta, errors, functions
    from local_workspace.spark import types as spark_types
    from local_workspace.spark.column import Column
    from local_workspace.spark.dataframe import DataFrame
    from local_workspace.spark.grouped import GroupedData
    from local_workspace.spark.readwriter import DataFrameReader, DataFrameWriter
    from local_workspace.spark.row import Row
    from local_workspace.spark.session import SparkSession
    from local_workspace.spark.window import Window, WindowSpec

    error_names = {
        name: getattr(errors, name)
        for name in dir(errors)
        if isinstance(getattr(errors, name), type) and issubclass(getattr(errors, name), Exception)
    }
    window = _module("pyspark.sql.window", {"Window": Window, "WindowSpec": WindowSpec})
    sql = _module(
        "pyspark.sql",
        {
            "SparkSession": SparkSession,
            "DataFrame": DataFrame,
            "Column": Column,
            "Row": Row,
            "GroupedData": GroupedData,
            "DataFrameReader": DataFrameReader,
            "DataFrameWriter": DataFrameWriter,
            "Window": Window,
            "WindowSpec": WindowSpec,
            "functions": functions,
            "types": spark_types,
            "window": window,
        },
    )
    utils = _module("pyspark.sql.utils", error_names)
    pyspark_errors = _module("pyspark.errors", error_names)
    sql.__dict__["utils"] = utils
    testing = _module(
        "pyspark.testing",
        {
            "assertDataFrameEqual": compat.assertDataFrameEqual,
            "assertSchemaEqual": compat.assertSchemaEqual,
        },
    )
    root = _module(
        "pyspark",
        {
            "sql": sql,
            "errors": pyspark_errors,
            "testing": testing,
            "__version__": "3.5.0",
            "Row": Row,
            "StorageLevel": compat.StorageLevel,
            "SparkConf": compat.SparkConf,
            "SparkContext": compat.SparkContext,
        },
    )
    delta_tables = _module(
        "delta.tables",
        {"DeltaTable": delta.DeltaTable, "DeltaMergeBuilder": delta.DeltaMergeBuilder},
    )
    delta_root = _module("delta", {"tables": delta_tables, "DeltaTable": delta.DeltaTable})
    return {
        "pyspark": root,
        "pyspark.sql": sql,
        "pyspark.sql.functions": functions,
        "pyspark.sql.types": spark_types,
        "pyspark.sql.window": window,
        "pyspark.sql.utils": utils,
        "pyspark.errors": pyspark_errors,
        "pyspark.testing": testing,
        "pyspark.testing.utils": testing,
        "pyspark.sql.column": _module("pyspark.sql.column", {"Column": Column}),
        "pyspark.sql.dataframe": _module("pyspark.sql.dataframe", {"DataFrame": DataFrame}),
        "pyspark.sql.session": _module("pyspark.sql.session", {"SparkSession": SparkSession}),
        "delta": delta_root,
        "delta.tables": delta_tables,
    }


def install_modules(extra: dict[str, types.ModuleType] | None = None) -> None:
    """Put our modules into ``sys.modules`` under PySpark's and Delta's names (plus
    ``extra``, e.g. ``{"dlt": ...}``), shadowing a real pyspark; idempotent."""
    current = sys.modules.get("pyspark.sql")
    if current is None or not getattr(current, "__dbx_devkit_local__", False):
        for name in [n for n in sys.modules if n == "pyspark" or n.startswith("pyspark.")]:
            del sys.modules[name]  # a real pyspark imported earlier must not answer
        for name in [n for n in sys.modules if n == "delta" or n.startswith("delta.")]:
            del sys.modules[name]
        sys.modules.update(build_modules())
    if extra:
        sys.modules.update(extra)
        for name, module in extra.items():
            parent, _, child = name.rpartition(".")
            if parent in sys.modules:
                setattr(sys.modules[parent], child, module)
