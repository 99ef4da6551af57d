"""``install_modules``: our API as ``pyspark``, ``pyspark.sql``..., ``delta.tables`` in
``sys.modules`` (shadowing a real pyspark), so task code and tests import it by its names."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any

# MLlib and the other pyspark packages need a JVM: importing them says so (an ImportError,
# so libraries that probe for them, as MLflow does, carry on without them).
_MLLIB_HINT = (
    "Train with scikit-learn, XGBoost or LightGBM on toPandas() data locally, or run MLlib "
    "on Databricks."
)


class BuiltModuleLoader(importlib.abc.Loader):
    """The loader of a module that is already built: our modules get a spec, which
    ``importlib.util.find_spec("pyspark")`` (how libraries probe for Spark) needs."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return self._module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the module is complete."""


class _Finder(importlib.abc.MetaPathFinder):
    """Imports of pyspark/delta modules beyond ours: the MLlib stand-ins libraries probe
    (``pyspark.ml``, ``.linalg``, ``.param``), built at their first import so that
    ``"pyspark.ml" in sys.modules`` stays false until something asks; any other fails with
    the refusal's words (an ImportError, so probing libraries carry on without it)."""

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in ("pyspark", "delta") or fullname in sys.modules:
            return None
        local = sys.modules.get("pyspark")
        if local is None or not getattr(local, "__dbx_devkit_local__", False):
            return None  # our modules are not installed: a real pyspark answers
        stub = _mllib_stub(fullname)
        if stub is not None:
            return stub.__spec__
        hint = _MLLIB_HINT if fullname.startswith("pyspark.ml") else "Run it on Databricks."
        raise ModuleNotFoundError(
            f"No module named {fullname!r}: [NOT_SUPPORTED_IN_LOCAL_WORKSPACE] it needs a "
            f"Databricks cluster; the local workspace's pyspark is the DataFrame API on its "
            f"SQL warehouse. {hint}",
            name=fullname,
        )


def _module(name: str, attributes: dict[str, Any]) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attributes)
    module.__dict__["__dbx_devkit_local__"] = True  # how a repeat install recognizes ours
    module.__spec__ = importlib.machinery.ModuleSpec(
        name, BuiltModuleLoader(module), is_package=True
    )
    module.__path__ = []  # a package: submodule imports reach sys.modules and _Finder
    return module


def _mllib_stub(name: str) -> types.ModuleType | None:
    """A stand-in MLlib module whose classes no local value is an instance of (libraries
    check ``isinstance(v, pyspark.ml.linalg.Vector)`` wherever pyspark is imported); other
    names in it are refused."""
    from local_workspace.spark.errors import refuse

    classes = {"pyspark.ml": (), "pyspark.ml.linalg": ("Vector",), "pyspark.ml.param": ("Param",)}
    if name not in classes:
        return None

    def refused(attribute: str) -> Any:
        # An AttributeError (hasattr and library probes keep working) in the refusal's words.
        raise AttributeError(
            f"module {name!r} has no attribute {attribute!r}: "
            f"[NOT_SUPPORTED_IN_LOCAL_WORKSPACE] MLlib needs a Databricks cluster. {_MLLIB_HINT}",
            name=attribute,
        )

    def stand_in(*args: Any, **kwargs: Any) -> None:
        refuse(f"{name} (MLlib)", _MLLIB_HINT)

    built = {c: type(c, (), {"__init__": stand_in, "__module__": name}) for c in classes[name]}
    return _module(name, {**built, "__getattr__": refused})


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
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())
    if extra:
        sys.modules.update(extra)
        for name, module in extra.items():
            parent, _, child = name.rpartition(".")
            if parent in sys.modules:
                setattr(sys.modules[parent], child, module)
