"""``spark.read``/``spark.readStream`` and ``df.write``/``df.writeTo``.

Reads of files on volumes go through ``read_files`` (the warehouse reads the volume itself);
writes create or insert into Unity Catalog tables with SQL. What needs cloud storage or a
streaming engine is refused with the Databricks way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_workspace.spark.column import table_name
from local_workspace.spark.convert import quote_ident, quote_string, sql_literal
from local_workspace.spark.errors import AnalysisException, ParseException, refuse
from local_workspace.spark.types import StructType

if TYPE_CHECKING:
    from local_workspace.spark.dataframe import DataFrame
    from local_workspace.spark.session import SparkSession

_FILE_FORMATS = ("csv", "json", "parquet", "text", "binaryfile", "avro", "orc", "xml")
_STREAM_HINT = (
    "Read a table as a stream (spark.readStream.table) inside a pipeline, use Auto Loader "
    "(cloudFiles) on Databricks, or read the files in batch with spark.read."
)


table_sql = table_name


class DataFrameReader:
    """``spark.read`` (and ``spark.readStream``, tables only)."""

    def __init__(self, session: SparkSession, streaming: bool) -> None:
        self._session = session
        self._streaming = streaming
        self._format: str | None = None
        self._options: dict[str, Any] = {}
        self._schema: str | None = None

    def format(self, source: str) -> DataFrameReader:
        """The source format: csv, json, parquet, text, delta..."""
        self._format = source.lower()
        return self

    def option(self, key: str, value: Any) -> DataFrameReader:
        """One reader option (passed to ``read_files``)."""
        self._options[key] = value
        return self

    def options(self, **options: Any) -> DataFrameReader:
        """Several reader options."""
        self._options.update(options)
        return self

    def schema(self, schema: StructType | str) -> DataFrameReader:
        """The schema of the files (a StructType or DDL)."""
        if isinstance(schema, StructType):
            schema = ", ".join(f"{quote_ident(f.name)} {f.dataType.simpleString()}" for f in schema)
        self._schema = schema
        return self

    def table(self, tableName: str) -> DataFrame:
        """A table (a stream of it from ``readStream``)."""
        return self._session._table(tableName, streaming=self._streaming)

    def load(
        self, path: str | None = None, format: str | None = None, schema: Any = None, **options: Any
    ) -> DataFrame:
        """Files on a volume (``/Volumes/...``) through ``read_files``."""
        if format:
            self.format(format)
        if schema is not None:
            self.schema(schema)
        self._options.update(options)
        kind = self._format or "parquet"
        if self._streaming:
            refuse(
                f"spark.readStream.format({kind!r}) (streaming sources other than tables)",
                _STREAM_HINT,
            )
        if kind == "delta":
            return self._delta_path(path)
        if kind == "cloudfiles":
            refuse("Auto Loader (cloudFiles)", _STREAM_HINT)
        if kind not in _FILE_FORMATS:
            raise AnalysisException(
                f"[DATA_SOURCE_NOT_FOUND] Failed to find the data source: {kind}. The local "
                f"workspace reads {', '.join(_FILE_FORMATS)} files and delta tables."
            )
        if not path:
            raise AnalysisException("[UNSUPPORTED_FEATURE] spark.read.load needs a path.")
        options = dict(self._options)
        given = {k.lower() for k in options}
        if kind == "csv":  # Spark's CSV defaults; read_files' own are header and inference on
            if "header" not in given:
                options["header"] = False
            if "inferschema" not in given and not self._schema:
                options["inferSchema"] = False
        arguments = [quote_string(path), f"format => {quote_string(kind)}"]
        arguments += [f"{key} => {_option(value)}" for key, value in options.items()]
        if self._schema:
            arguments.append(f"schema => {quote_string(self._schema)}")
        # read_files adds _rescued_data to inferred CSV/JSON; spark.read has no such column.
        rescued = kind in ("csv", "json", "xml") and not self._schema
        rescued = rescued and "rescueddatacolumn" not in given
        star = "* EXCEPT (`_rescued_data`)" if rescued else "*"
        return self._session._frame(f"SELECT {star} FROM read_files({', '.join(arguments)})")

    def _delta_path(self, path: str | None) -> DataFrame:
        raise AnalysisException(
            f"[DELTA_PATH_NOT_SUPPORTED] spark.read.format('delta').load({path!r}): Unity "
            "Catalog tables are read by name in the local workspace (spark.read.table("
            "'catalog.schema.table')); a path is not a table there."
        )

    def csv(self, path: str, schema: Any = None, **options: Any) -> DataFrame:
        """CSV files."""
        return self.load(path, "csv", schema, **{k: v for k, v in options.items() if v is not None})

    def json(self, path: str, schema: Any = None, **options: Any) -> DataFrame:
        """JSON files."""
        return self.load(
            path, "json", schema, **{k: v for k, v in options.items() if v is not None}
        )

    def parquet(self, *paths: str, **options: Any) -> DataFrame:
        """Parquet files."""
        return self.load(paths[0], "parquet", None, **options)

    def text(self, path: str, **options: Any) -> DataFrame:
        """Text files (one row per line, column ``value``)."""
        return self.load(path, "text", None, **options)

    def orc(self, path: str, **options: Any) -> DataFrame:
        """ORC files."""
        return self.load(path, "orc", None, **options)


def _option(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    return sql_literal(value) if not isinstance(value, str) else quote_string(value)


class DataFrameWriter:
    """``df.write``: tables of Unity Catalog."""

    def __init__(self, frame: DataFrame) -> None:
        self._frame = frame
        self._mode = "errorifexists"
        self._format: str | None = None
        self._options: dict[str, Any] = {}
        self._partitions: list[str] = []
        self._cluster: list[str] = []

    def mode(self, saveMode: str | None) -> DataFrameWriter:
        """overwrite, append, ignore, error/errorifexists."""
        mode = (saveMode or "errorifexists").lower()
        if mode == "error":
            mode = "errorifexists"
        if mode not in ("overwrite", "append", "ignore", "errorifexists"):
            raise AnalysisException(
                f'[INVALID_SAVE_MODE] The specified save mode "{saveMode}" is invalid. Valid '
                'save modes include "append", "overwrite", "ignore", "error", '
                '"errorifexists", and "default".'
            )
        self._mode = mode
        return self

    def format(self, source: str) -> DataFrameWriter:
        """The table format (delta)."""
        self._format = source.lower()
        return self

    def option(self, key: str, value: Any) -> DataFrameWriter:
        """A writer option (``overwriteSchema``/``mergeSchema`` are what CREATE OR REPLACE
        and INSERT by name do here)."""
        self._options[key] = value
        return self

    def options(self, **options: Any) -> DataFrameWriter:
        """Several writer options."""
        self._options.update(options)
        return self

    def partitionBy(self, *cols: str) -> DataFrameWriter:
        """Partition columns of the created table."""
        self._partitions = (
            list(cols[0]) if len(cols) == 1 and isinstance(cols[0], list) else list(cols)
        )
        return self

    def clusterBy(self, *cols: str) -> DataFrameWriter:
        """Liquid clustering columns of the created table."""
        self._cluster = (
            list(cols[0]) if len(cols) == 1 and isinstance(cols[0], list) else list(cols)
        )
        return self

    def bucketBy(self, *args: Any) -> DataFrameWriter:
        """Ignored: Delta tables have no buckets."""
        return self

    sortBy = bucketBy

    def saveAsTable(
        self,
        name: str,
        format: str | None = None,
        mode: str | None = None,
        partitionBy: Any = None,
        **options: Any,
    ) -> None:
        """Create, replace or append to the table ``name``."""
        if format:
            self.format(format)
        if mode:
            self.mode(mode)
        if partitionBy:
            self.partitionBy(*([partitionBy] if isinstance(partitionBy, str) else partitionBy))
        if any(k.lower() == "path" for k in self._options):
            refuse(
                "saveAsTable with a path option (external tables)",
                "Create a managed Unity Catalog table (drop the path option); external tables "
                "need an external location on Databricks.",
            )
        session = self._frame.sparkSession
        target = table_sql(name)
        if self._mode == "append" and session.catalog.tableExists(name):
            self._insert(target, overwrite=False, by_name=True)
            return
        verb = {
            "overwrite": "CREATE OR REPLACE TABLE",
            "ignore": "CREATE TABLE IF NOT EXISTS",
        }.get(self._mode, "CREATE TABLE")
        clauses = ""
        if self._format and self._format != "delta":
            clauses += f" USING {self._format}"
        if self._partitions:
            clauses += f" PARTITIONED BY ({', '.join(quote_ident(c) for c in self._partitions)})"
        if self._cluster:
            clauses += f" CLUSTER BY ({', '.join(quote_ident(c) for c in self._cluster)})"
        session._run(f"{verb} {target}{clauses} AS {self._frame._sql}")

    def insertInto(self, tableName: str, overwrite: bool | None = None) -> None:
        """Insert by position into an existing table (replacing its rows with ``overwrite``)."""
        self._insert(
            table_sql(tableName), bool(overwrite) or self._mode == "overwrite", by_name=False
        )

    def _insert(self, target: str, overwrite: bool, by_name: bool) -> None:
        frame = self._frame
        verb = "INSERT OVERWRITE" if overwrite else "INSERT INTO"
        if by_name:
            names = ", ".join(quote_ident(c) for c in frame.columns)
            statement = f"{verb} {target} ({names}) SELECT {names} FROM ({frame._sql}) AS `src`"
        else:
            statement = f"{verb} {target} SELECT * FROM ({frame._sql}) AS `src`"
        try:
            frame.sparkSession._run(statement)
        except ParseException:
            if not overwrite:
                raise
            # A warehouse without INSERT OVERWRITE: the same end state in two statements.
            frame.sparkSession._run(f"DELETE FROM {target}")
            frame.sparkSession._run(statement.replace("INSERT OVERWRITE", "INSERT INTO", 1))

    def save(
        self,
        path: str | None = None,
        format: str | None = None,
        mode: str | None = None,
        **options: Any,
    ) -> None:
        """Refused: files are written to volumes with the Files API, tables with saveAsTable."""
        refuse(
            "DataFrame.write.save(path) (writing files or path-based Delta tables)",
            "Write a Unity Catalog table with df.write.saveAsTable('catalog.schema.table'), or "
            "write a file with toPandas().to_parquet(...) and upload it to a volume "
            "(dbutils.fs.put / files_upload).",
        )

    parquet = csv = json = text = orc = save


class DataFrameWriterV2:
    """``df.writeTo(table)``: create, replace, append, overwrite."""

    def __init__(self, frame: DataFrame, table: str) -> None:
        self._frame = frame
        self._table = table
        self._partitions: list[str] = []

    def using(self, provider: str) -> DataFrameWriterV2:
        """The table format (delta)."""
        return self

    def option(self, key: str, value: Any) -> DataFrameWriterV2:
        """Ignored locally."""
        return self

    def tableProperty(self, key: str, value: str) -> DataFrameWriterV2:
        """Ignored locally."""
        return self

    def partitionedBy(self, *cols: Any) -> DataFrameWriterV2:
        """Partition columns."""
        self._partitions = [c if isinstance(c, str) else c._name for c in cols]
        return self

    def _writer(self, mode: str) -> DataFrameWriter:
        return self._frame.write.mode(mode).partitionBy(*self._partitions)

    def create(self) -> None:
        """Create the table (error if it exists)."""
        self._writer("errorifexists").saveAsTable(self._table)

    def createOrReplace(self) -> None:
        """Create or replace the table."""
        self._writer("overwrite").saveAsTable(self._table)

    replace = createOrReplace

    def append(self) -> None:
        """Append rows."""
        self._frame.write.insertInto(self._table)

    def overwrite(self, condition: Any = None) -> None:
        """Replace all rows."""
        self._frame.write.insertInto(self._table, overwrite=True)
