"""The parts of a DataFrame that do not build queries: no-ops of a single warehouse,
temporary views, writers, and the refusals of what needs a cluster."""

from __future__ import annotations

from typing import Any

from local_workspace.spark.errors import AnalysisException, PySparkValueError, refuse

_RDD_HINT = (
    "Use DataFrame operations (select, withColumn, groupBy, F.expr) or run this code on Databricks."
)


class Extras:
    """No-ops, views, writers and refusals (mixed into DataFrame)."""

    sparkSession: Any
    isStreaming: bool

    # no-ops of a single-engine warehouse
    def cache(self) -> Any:
        """The warehouse has its own caching: this DataFrame."""
        return self

    def persist(self, storageLevel: Any = None) -> Any:
        """This DataFrame (no cache locally)."""
        return self

    def unpersist(self, blocking: bool = False) -> Any:
        """This DataFrame."""
        return self

    def checkpoint(self, eager: bool = True) -> Any:
        """This DataFrame."""
        return self

    localCheckpoint = checkpoint

    def repartition(self, *args: Any, **kwargs: Any) -> Any:
        """This DataFrame (the warehouse partitions itself)."""
        return self

    def coalesce(self, numPartitions: int) -> Any:
        """This DataFrame."""
        return self

    repartitionByRange = repartition

    def hint(self, name: str, *parameters: Any) -> Any:
        """This DataFrame (the warehouse plans joins itself)."""
        return self

    def withWatermark(self, eventTime: str, delayThreshold: str) -> Any:
        """This DataFrame (a watermark matters to streaming state only)."""
        return self

    def transform(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """``func(self, *args, **kwargs)``."""
        result = func(self, *args, **kwargs)
        if not isinstance(result, type(self)):
            raise PySparkValueError("transform's function must return a DataFrame")
        return result

    # views
    def createOrReplaceTempView(self, name: str) -> None:
        """A temporary view of this session (inlined into the queries that name it)."""
        self.sparkSession._views.put(name, self, replace=True)

    def createTempView(self, name: str) -> None:
        """A temporary view; error if it exists."""
        self.sparkSession._views.put(name, self, replace=False)

    def createOrReplaceGlobalTempView(self, name: str) -> None:
        """A global temporary view (``global_temp.name``) of this session."""
        self.sparkSession._views.put(f"global_temp.{name}", self, replace=True)

    def createGlobalTempView(self, name: str) -> None:
        """A global temporary view; error if it exists."""
        self.sparkSession._views.put(f"global_temp.{name}", self, replace=False)

    registerTempTable = createOrReplaceTempView

    # writers
    @property
    def write(self) -> Any:
        """The batch writer."""
        from local_workspace.spark.readwriter import DataFrameWriter

        if self.isStreaming:
            raise AnalysisException("'write' can not be called on streaming Dataset/DataFrame.")

        return DataFrameWriter(self)  # type: ignore[arg-type]  # a DataFrame (mixin)

    @property
    def writeStream(self) -> Any:
        """Refused outside a pipeline: streaming needs a cluster."""
        refuse(
            "DataFrame.writeStream (Structured Streaming)",
            "Define a streaming table in a pipeline (@dlt.table over spark.readStream.table), "
            "write in batch with df.write.saveAsTable, or run on Databricks.",
        )

    def writeTo(self, table: str) -> Any:
        """The v2 writer of ``table``."""
        from local_workspace.spark.readwriter import DataFrameWriterV2

        return DataFrameWriterV2(self, table)  # type: ignore[arg-type]  # a DataFrame

    # refused: what needs a cluster
    @property
    def rdd(self) -> Any:
        """Refused: RDDs need a cluster."""
        refuse("RDDs (df.rdd, spark.sparkContext)", _RDD_HINT)

    def _refused_python(self, *args: Any, **kwargs: Any) -> Any:
        refuse(
            "Python functions run on rows (mapInPandas, mapInArrow, foreach, foreachPartition)",
            "Use DataFrame operations or SQL, or collect()/toPandas() the rows you need, or "
            "run on Databricks.",
        )

    mapInPandas = mapInArrow = foreach = foreachPartition = _refused_python

    def toJSON(self, use_unicode: bool = True) -> Any:
        """Refused: it returns an RDD."""
        refuse(
            "DataFrame.toJSON (an RDD of JSON strings)",
            "Use F.to_json(F.struct(...)) in a select, or " + _RDD_HINT,
        )
