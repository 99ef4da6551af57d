"""The ``spark`` of a Python pipeline source: the local SparkSession, plus Auto Loader.

In a pipeline, ``spark.readStream.format("cloudFiles")`` (and ``readStream.format("csv")``...)
reads files of a volume incrementally: it becomes ``STREAM(read_files('/Volumes/...', ...))``,
which the runner reads as a streaming file source (file_sources.py). Outside pipelines the
local session refuses streaming file sources; only planning gives them a meaning.
"""

from __future__ import annotations

from typing import Any

from local_workspace.spark import DataFrame, SparkSession
from local_workspace.spark.errors import AnalysisException
from local_workspace.spark.readwriter import DataFrameReader

_AUTO_LOADER = "cloudfiles"
_PREFIX = "cloudfiles."
# Auto Loader options about the stream itself (how files are discovered, where it keeps its
# state): no meaning for a read of the whole volume folder each update.
_STREAM_ONLY = frozenset(
    {
        "schemalocation",
        "maxfilespertrigger",
        "maxbytespertrigger",
        "usenotifications",
        "usemanagedfileevents",
        "validateoptions",
        "backfillinterval",
        "allowoverwrites",
        "cleansource",
        "cleansource.retentionduration",
        "cleansource.movedestination",
        "uselazylisting",
        "useincrementallisting",
        "fetchparallelism",
        "region",
        "queuename",
        "resourcetag",
        "connectionstring",
    }
)
_READER = " FROM read_files("


class _StreamReader(DataFrameReader):
    """``spark.readStream`` in a pipeline: tables, and files of a volume."""

    def load(
        self, path: str | None = None, format: str | None = None, schema: Any = None, **options: Any
    ) -> DataFrame:
        """Files on a volume as a stream (Auto Loader or a file format)."""
        kind = (format or self._format or "").lower()
        given = {**self._options, **options}
        auto_loader = kind == _AUTO_LOADER
        if auto_loader:
            kind = str(
                next((v for k, v in given.items() if k.lower() == _PREFIX + "format"), "")
            ).lower()
            if not kind:
                raise AnalysisException(
                    "[CF_FORMAT_NOT_SPECIFIED] Auto Loader needs the file format: "
                    'option("cloudFiles.format", "csv" | "json" | "parquet" | ...).'
                )
        kept: dict[str, Any] = {}
        for key, value in given.items():
            bare = key[len(_PREFIX) :] if key.lower().startswith(_PREFIX) else key
            if bare.lower() not in _STREAM_ONLY and bare.lower() != "format":
                kept[bare] = value
        batch = DataFrameReader(self._session, streaming=False)
        batch.format(kind or "parquet").options(**kept)
        if self._schema is not None:
            batch.schema(self._schema)
        sql = batch.load(path, schema=schema).sql_text
        at = sql.find(_READER)
        if at < 0 or not sql.endswith(")"):
            raise AnalysisException(
                f"[UNSUPPORTED_FEATURE] spark.readStream.format({kind!r}).load({path!r}) is not "
                "a file read of a volume: a pipeline streams tables and /Volumes/... files."
            )
        head = sql[:at]
        if auto_loader:  # Auto Loader keeps what does not fit the schema in _rescued_data
            head = "SELECT *"
        return DataFrame.from_sql(
            self._session,
            sql=f"{head} FROM STREAM({sql[at + len(' FROM ') :]})",
            schema_sql=f"{head}{sql[at:]}",
            streaming=True,
        )


class PipelineSession(SparkSession):
    """The session pipeline code runs with (the active one: builder.getOrCreate gives it)."""

    @property
    def readStream(self) -> Any:
        """The streaming reader: tables, and volume files (Auto Loader)."""
        return _StreamReader(self, streaming=True)
