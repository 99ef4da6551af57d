"""``SparkSession``: the entry point, over the workspace's SQL warehouse.

Statements go through the Statement Execution API (see ``client``); the session's
``USE CATALOG/SCHEMA`` travels with each statement, and its temporary views are inlined into
the statements that name them (the API keeps no session state between statements).
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from local_workspace.spark.client import Result, StatementClient
from local_workspace.spark.column import table_name
from local_workspace.spark.convert import quote_ident
from local_workspace.spark.dataframe import DataFrame
from local_workspace.spark.errors import AnalysisException, PySparkAttributeError, refuse
from local_workspace.spark.views import TempViews, bind_parameters

_USE = re.compile(
    r"^\s*USE\s+(?P<kind>CATALOG\s+|SCHEMA\s+|DATABASE\s+)?(?P<name>[`\w.\-]+)\s*;?\s*$", re.I
)
_QUERY = re.compile(
    r"^\s*(\(\s*)*(SELECT|WITH|VALUES|FROM|TABLE|SHOW|DESC|DESCRIBE|EXPLAIN|LIST)\b", re.I
)
_LEADING_COMMENTS = re.compile(r"^(\s*(--[^\n]*(\n|$)|/\*.*?\*/))*\s*", re.S)
_SPARK_CONTEXT_HINT = "Use the DataFrame API or spark.sql, or run this code on Databricks."


class RuntimeConfig:
    """``spark.conf``: a key/value store (settings tune nothing locally)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, else ``default``."""
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        """Set ``key``."""
        self._values[key] = str(value).lower() if isinstance(value, bool) else str(value)

    def unset(self, key: str) -> None:
        """Remove ``key``."""
        self._values.pop(key, None)

    def getAll(self) -> dict[str, str]:
        """Every setting."""
        return dict(self._values)

    def isModifiable(self, key: str) -> bool:
        """Every key is."""
        return True


class _Builder:
    """``SparkSession.builder``: ``getOrCreate()`` gives the active session."""

    def __init__(self) -> None:
        self._options: dict[str, Any] = {}

    def appName(self, name: str) -> _Builder:
        """Ignored locally."""
        return self

    def master(self, master: str) -> _Builder:
        """Ignored locally."""
        return self

    def remote(self, url: str) -> _Builder:
        """Ignored locally."""
        return self

    def config(
        self, key: Any = None, value: Any = None, conf: Any = None, **kwargs: Any
    ) -> _Builder:
        """Settings put in ``spark.conf`` of the session made by ``getOrCreate``."""
        if isinstance(key, str):
            self._options[key] = value
        elif isinstance(key, dict):
            self._options.update(key)
        return self

    def enableHiveSupport(self) -> _Builder:
        """Ignored locally."""
        return self

    def getOrCreate(self) -> SparkSession:
        """The active session, or a new one from the environment."""
        session = SparkSession.getActiveSession() or SparkSession()
        for key, value in self._options.items():
            session.conf.set(key, value)
        return session

    create = getOrCreate


class _BuilderDescriptor:
    def __get__(self, instance: Any, owner: Any) -> _Builder:
        return _Builder()


class SparkSession:
    """A session on the workspace's SQL warehouse."""

    builder: ClassVar[Any] = _BuilderDescriptor()
    _active: ClassVar[list[SparkSession]] = []  # the active session, as PySpark keeps one
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self, host: str | None = None, token: str | None = None, warehouse_id: str | None = None
    ) -> None:
        self._client = StatementClient(host, token, warehouse_id)
        self._ids = itertools.count(1)
        self._catalog_name: str | None = None
        self._schema_name: str | None = None
        self._views = TempViews()
        self.conf = RuntimeConfig()
        self.table_resolver: Callable[[str, bool], DataFrame | None] | None = None
        with SparkSession._lock:
            SparkSession._active[:] = [self]

    @classmethod
    def getActiveSession(cls) -> SparkSession | None:
        """The session made last (None before any)."""
        return cls._active[0] if cls._active else None

    active = getActiveSession

    def newSession(self) -> SparkSession:
        """A new session on the same warehouse (own views and USE)."""
        return SparkSession(self._client.host, self._client.token, self._client.warehouse_id)

    def stop(self) -> None:
        """Nothing to stop: statements are independent requests."""

    close = stop

    def __enter__(self) -> SparkSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def version(self) -> str:
        """The Spark version this API follows."""
        return "3.5.0"

    def _next_id(self) -> int:
        return next(self._ids)

    def _frame(self, sql: str, **kwargs: Any) -> DataFrame:
        """A DataFrame of this session over ``sql`` (how other modules make one)."""
        return DataFrame(self, sql, **kwargs)

    # statements
    def _run(self, statement: str, args: dict[str, Any] | None = None) -> Result:
        text = self._views.inline(statement)
        return self._client.execute(text, args, self._catalog_name, self._schema_name)

    def sql(self, sqlQuery: str, args: dict[str, Any] | None = None, **kwargs: Any) -> DataFrame:
        """A query as a DataFrame; a command (DDL, DML, USE) runs now, as Spark runs it."""
        if args is not None and not isinstance(args, dict):
            raise AnalysisException(
                "[UNSUPPORTED_FEATURE] spark.sql with positional args is not supported locally:"
                " use named args (a dict) and :name markers."
            )
        named = {**(args or {}), **kwargs}
        use = _USE.match(sqlQuery)
        if use:
            self._use(use.group("kind"), use.group("name"))
            return self._empty()
        text = sqlQuery.strip().rstrip(";").strip()
        query = _QUERY.match(_LEADING_COMMENTS.sub("", text))
        if query and query.group(2).upper() in ("SELECT", "WITH", "VALUES", "FROM", "TABLE"):
            # A query stays lazy: bound values become literals of its text.
            return DataFrame(self, bind_parameters(text, named) if named else text)
        return self._materialized(text, named)

    def _materialized(self, text: str, args: dict[str, Any]) -> DataFrame:
        """A statement run now; its rows kept as a VALUES query (commands, bound args)."""
        from local_workspace.spark.create import frame_of_result

        return frame_of_result(self, self._run(text, args))

    def _empty(self) -> DataFrame:
        return DataFrame(self, "SELECT * FROM (SELECT 1) AS `t` WHERE FALSE", names=[])

    def _use(self, kind: str | None, name: str) -> None:
        parts = [p.strip("`") for p in name.split(".")]
        word = (kind or "").strip().upper()
        if word == "CATALOG":
            self._check(f"SHOW SCHEMAS IN {quote_ident(parts[0])}")
            self._catalog_name, self._schema_name = parts[0], "default"
        elif len(parts) == 2:
            self._check(f"DESCRIBE SCHEMA {quote_ident(parts[0])}.{quote_ident(parts[1])}")
            self._catalog_name, self._schema_name = parts
        else:
            catalog = self._catalog_name or self.catalog.currentCatalog()
            self._check(f"DESCRIBE SCHEMA {quote_ident(catalog)}.{quote_ident(parts[0])}")
            self._catalog_name, self._schema_name = catalog, parts[0]

    def _check(self, statement: str) -> None:
        self._client.execute(statement, None, self._catalog_name, self._schema_name)

    def table(self, tableName: str) -> DataFrame:
        """A table, view or temporary view by name."""
        return self._table(tableName, streaming=False)

    def _table(self, name: str, streaming: bool) -> DataFrame:
        if self.table_resolver is not None:
            resolved = self.table_resolver(name, streaming)
            if resolved is not None:
                return resolved
        view = self._views.get(name)
        if view is not None:
            return DataFrame(self, view._sql, schema_sql=view._schema_sql, streaming=streaming)
        return DataFrame(self, f"SELECT * FROM {table_name(name)}", streaming=streaming)

    def range(
        self,
        start: int,
        end: int | None = None,
        step: int = 1,
        numPartitions: int | None = None,
    ) -> DataFrame:
        """Column ``id`` from ``start`` to ``end`` (exclusive) by ``step``."""
        if end is None:
            start, end = 0, start
        return DataFrame(
            self, f"SELECT id FROM range({int(start)}, {int(end)}, {int(step)})", names=["id"]
        )

    def createDataFrame(
        self, data: Any, schema: Any = None, samplingRatio: Any = None, verifySchema: Any = True
    ) -> DataFrame:
        """A DataFrame of local rows (tuples, dicts, Rows, values, pandas) as inline VALUES."""
        from local_workspace.spark.create import create_dataframe

        return create_dataframe(self, data, schema)

    @property
    def read(self) -> Any:
        """The batch reader."""
        from local_workspace.spark.readwriter import DataFrameReader

        return DataFrameReader(self, streaming=False)

    @property
    def readStream(self) -> Any:
        """The streaming reader (tables only)."""
        from local_workspace.spark.readwriter import DataFrameReader

        return DataFrameReader(self, streaming=True)

    @property
    def catalog(self) -> Any:
        """``spark.catalog``."""
        from local_workspace.spark.catalog import Catalog

        return Catalog(self)

    @property
    def udf(self) -> Any:
        """Refused: Python UDFs need a cluster."""
        from local_workspace.spark.functions import _UDF_HINT

        refuse("Python UDFs (F.udf / pandas_udf / spark.udf.register)", _UDF_HINT)

    udtf = udf

    @property
    def sparkContext(self) -> Any:
        """Refused: the SparkContext and RDDs need a cluster."""
        refuse("spark.sparkContext and RDDs", _SPARK_CONTEXT_HINT)

    def __getattr__(self, name: str) -> Any:
        # An AttributeError (hasattr/getattr with a default keep working), saying where we are.
        raise PySparkAttributeError(
            f"'SparkSession' object has no attribute '{name}' (the local workspace's "
            "SparkSession runs the DataFrame API and SQL on the SQL warehouse)",
            errorClass="ATTRIBUTE_NOT_SUPPORTED",
            messageParameters={"attr_name": name},
        )
