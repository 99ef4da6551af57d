"""Small parts of the ``pyspark`` package that user code imports beside the DataFrame API:
``StorageLevel``, ``SparkConf``, ``SparkContext`` (refused: it needs a cluster) and
``pyspark.testing``'s ``assertDataFrameEqual``/``assertSchemaEqual``."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from local_workspace.spark.errors import PySparkAssertionError, refuse
from local_workspace.spark.row import Row

_CONTEXT_HINT = "Use the SparkSession (spark) and its DataFrame API, or run on Databricks."


class StorageLevel:
    """Storage levels (``persist`` takes them; nothing is cached locally)."""

    def __init__(
        self,
        useDisk: bool,
        useMemory: bool,
        useOffHeap: bool,
        deserialized: bool,
        replication: int = 1,
    ) -> None:
        self.useDisk = useDisk
        self.useMemory = useMemory
        self.useOffHeap = useOffHeap
        self.deserialized = deserialized
        self.replication = replication


StorageLevel.DISK_ONLY = StorageLevel(True, False, False, False)  # type: ignore[attr-defined]
StorageLevel.MEMORY_ONLY = StorageLevel(False, True, False, False)  # type: ignore[attr-defined]
StorageLevel.MEMORY_AND_DISK = StorageLevel(True, True, False, False)  # type: ignore[attr-defined]
StorageLevel.MEMORY_AND_DISK_DESER = StorageLevel(True, True, False, True)  # type: ignore[attr-defined]
StorageLevel.OFF_HEAP = StorageLevel(True, True, True, False)  # type: ignore[attr-defined]


class SparkConf:
    """A key/value configuration (``SparkSession.builder.config(conf=...)``)."""

    def __init__(self, loadDefaults: bool = True) -> None:
        self._values: dict[str, str] = {}

    def set(self, key: str, value: Any) -> SparkConf:
        """Set a key."""
        self._values[key] = str(value)
        return self

    def setAppName(self, value: str) -> SparkConf:
        """``spark.app.name``."""
        return self.set("spark.app.name", value)

    def setMaster(self, value: str) -> SparkConf:
        """``spark.master``."""
        return self.set("spark.master", value)

    def get(self, key: str, defaultValue: str | None = None) -> str | None:
        """The value of a key."""
        return self._values.get(key, defaultValue)

    def getAll(self) -> list[tuple[str, str]]:
        """Every key and value."""
        return list(self._values.items())


class SparkContext:
    """Refused: the SparkContext (RDDs, accumulators, broadcasts) needs a cluster."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        refuse("SparkContext and RDDs", _CONTEXT_HINT)

    @classmethod
    def getOrCreate(cls, conf: Any = None) -> SparkContext:
        """Refused."""
        refuse("SparkContext and RDDs", _CONTEXT_HINT)


def assertSchemaEqual(actual: Any, expected: Any) -> None:
    """Raise PySparkAssertionError unless the two StructTypes match (names and types)."""
    left = [(f.name, f.dataType.simpleString()) for f in actual]
    right = [(f.name, f.dataType.simpleString()) for f in expected]
    if left != right:
        raise PySparkAssertionError(
            f"Schemas do not match:\n  actual:   {left}\n  expected: {right}",
            errorClass="DIFFERENT_SCHEMA",
        )


def assertDataFrameEqual(
    actual: Any,
    expected: Any,
    checkRowOrder: bool = False,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    **kwargs: Any,
) -> None:
    """Raise PySparkAssertionError unless the DataFrames (or lists of Rows) hold the same
    rows (in any order unless ``checkRowOrder``; floats compared with ``rtol``/``atol``)."""
    if hasattr(actual, "schema") and hasattr(expected, "schema"):
        assertSchemaEqual(actual.schema, expected.schema)
    left = _rows(actual)
    right = _rows(expected)
    if not checkRowOrder:
        left, right = sorted(left, key=repr), sorted(right, key=repr)
    same = len(left) == len(right) and all(
        _equal(a, b, rtol, atol) for a, b in zip(left, right, strict=False)
    )
    if not same:
        missing = Counter(map(repr, right)) - Counter(map(repr, left))
        extra = Counter(map(repr, left)) - Counter(map(repr, right))
        raise PySparkAssertionError(
            f"Results do not match: {len(left)} rows, expected {len(right)}.\n"
            f"  expected but missing: {list(missing.elements())[:10]}\n"
            f"  unexpected: {list(extra.elements())[:10]}",
            errorClass="DIFFERENT_ROWS",
        )


def _rows(value: Any) -> list[tuple[Any, ...]]:
    rows = value.collect() if hasattr(value, "collect") else list(value)
    return [tuple(r) if isinstance(r, Row | tuple) else (r,) for r in rows]


def _equal(left: Any, right: Any, rtol: float, atol: float) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=rtol, abs_tol=atol) or (
            math.isnan(left) and math.isnan(right)
        )
    if isinstance(left, tuple | list) and isinstance(right, tuple | list):
        return len(left) == len(right) and all(
            _equal(a, b, rtol, atol) for a, b in zip(left, right, strict=False)
        )
    return bool(left == right)
