"""``delta.tables.DeltaTable`` on Unity Catalog tables: merge, update, delete, history... as
the SQL statements Databricks runs for them (``MERGE INTO``, ``UPDATE``, ``DESCRIBE HISTORY``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_workspace.spark.column import Column, render
from local_workspace.spark.convert import quote_ident, quote_string
from local_workspace.spark.errors import AnalysisException
from local_workspace.spark.readwriter import table_sql

if TYPE_CHECKING:
    from local_workspace.spark.dataframe import DataFrame
    from local_workspace.spark.session import SparkSession


def _expr(value: Any, qualifiers: dict[int, str] | None = None) -> str:
    if isinstance(value, Column):
        return render(value._sql, qualifiers or {})
    return str(value)


class DeltaTable:
    """A Delta table of Unity Catalog, by name."""

    def __init__(self, session: SparkSession, name: str, alias: str | None = None) -> None:
        self._session = session
        self._name = name
        self._alias = alias

    @classmethod
    def forName(cls, sparkSession: SparkSession, tableOrViewName: str) -> DeltaTable:
        """The table ``tableOrViewName`` (error if it is not a table)."""
        if not sparkSession.catalog.tableExists(tableOrViewName):
            raise AnalysisException(
                f"[DELTA_MISSING_DELTA_TABLE] `{tableOrViewName}` is not a Delta table."
            )
        return cls(sparkSession, tableOrViewName)

    @classmethod
    def forPath(cls, sparkSession: SparkSession, path: str, hadoopConf: Any = None) -> DeltaTable:
        """Refused: Unity Catalog tables are named, not addressed by path, locally."""
        raise AnalysisException(
            f"[DELTA_MISSING_DELTA_TABLE] `{path}` is not a Delta table the local workspace can "
            "address by path: its Unity Catalog tables have no storage paths. Use "
            "DeltaTable.forName(spark, 'catalog.schema.table')."
        )

    @classmethod
    def isDeltaTable(cls, sparkSession: SparkSession, identifier: str) -> bool:
        """Whether ``identifier`` names a table (a path is never one locally)."""
        if identifier.startswith("/"):
            return False
        return bool(sparkSession.catalog.tableExists(identifier))

    def toDF(self) -> DataFrame:
        """The table's rows."""
        frame = self._session.table(self._name)
        return frame.alias(self._alias) if self._alias else frame

    def alias(self, aliasName: str) -> DeltaTable:
        """The table under an alias (for merge conditions)."""
        return DeltaTable(self._session, self._name, aliasName)

    def _target(self) -> str:
        target = table_sql(self._name)
        return f"{target} AS {quote_ident(self._alias)}" if self._alias else target

    def merge(self, source: DataFrame, condition: Any) -> DeltaMergeBuilder:
        """A ``MERGE INTO`` of ``source`` on ``condition``."""
        return DeltaMergeBuilder(self, source, condition, [])

    def update(self, condition: Any = None, set: dict[str, Any] | None = None) -> None:
        """``UPDATE ... SET ... [WHERE condition]``."""
        if set is None and isinstance(condition, dict):
            condition, set = None, condition
        if not set:
            raise AnalysisException("[DELTA_UPDATE_NO_SET] update needs set={column: value}.")
        assignments = ", ".join(f"{quote_ident(k)} = {_expr(v)}" for k, v in set.items())
        where = f" WHERE {_expr(condition)}" if condition is not None else ""
        self._session._run(f"UPDATE {self._target()} SET {assignments}{where}")

    def updateExpr(self, condition: Any = None, set: dict[str, str] | None = None) -> None:
        """``update`` with SQL expressions."""
        self.update(condition, set)

    def delete(self, condition: Any = None) -> None:
        """``DELETE FROM ... [WHERE condition]``."""
        where = f" WHERE {_expr(condition)}" if condition is not None else ""
        self._session._run(f"DELETE FROM {self._target()}{where}")

    def history(self, limit: int | None = None) -> DataFrame:
        """``DESCRIBE HISTORY`` (newest first)."""
        statement = f"DESCRIBE HISTORY {table_sql(self._name)}"
        if limit:
            statement += f" LIMIT {int(limit)}"
        return self._session._materialized(statement, {})

    def detail(self) -> DataFrame:
        """The table's format, name, and times (what Unity Catalog knows locally)."""
        from local_workspace.spark.column import split_name

        parts = split_name(self._name)
        names = {"catalog": None, "schema": None, "name": parts[-1]}
        if len(parts) >= 2:
            names["schema"] = parts[-2]
        if len(parts) == 3:
            names["catalog"] = parts[0]
        catalog = names["catalog"] or self._session.catalog.currentCatalog()
        schema = names["schema"] or self._session.catalog.currentDatabase()
        sql = (
            "SELECT lower(data_source_format) AS format, "
            "concat_ws('.', table_catalog, table_schema, table_name) AS name, "
            "comment AS description, storage_path AS location, created AS createdAt, "
            "last_altered AS lastModified "
            f"FROM {quote_ident(catalog)}.information_schema.tables WHERE "
            f"table_schema = {quote_string(schema)} AND "
            f"table_name = {quote_string(names['name'] or '')}"
        )
        return self._session._frame(sql)

    def optimize(self) -> DeltaOptimizeBuilder:
        """``OPTIMIZE``: ``.executeCompaction()`` or ``.executeZOrderBy(...)``."""
        return DeltaOptimizeBuilder(self)

    def vacuum(self, retentionHours: float | None = None) -> DataFrame:
        """``VACUUM [RETAIN n HOURS]``."""
        statement = f"VACUUM {table_sql(self._name)}"
        if retentionHours is not None:
            statement += f" RETAIN {retentionHours} HOURS"
        return self._session._materialized(statement, {})

    def restoreToVersion(self, version: int) -> DataFrame:
        """``RESTORE TABLE ... TO VERSION AS OF``."""
        return self._session._materialized(
            f"RESTORE TABLE {table_sql(self._name)} TO VERSION AS OF {int(version)}", {}
        )

    def restoreToTimestamp(self, timestamp: str) -> DataFrame:
        """``RESTORE TABLE ... TO TIMESTAMP AS OF``."""
        return self._session._materialized(
            f"RESTORE TABLE {table_sql(self._name)} TO TIMESTAMP AS OF {quote_string(timestamp)}",
            {},
        )


class DeltaOptimizeBuilder:
    """``OPTIMIZE`` of a table."""

    def __init__(self, table: DeltaTable) -> None:
        self._table = table
        self._where = ""

    def where(self, partitionFilter: str) -> DeltaOptimizeBuilder:
        """Only the partitions matching the filter."""
        self._where = f" WHERE {partitionFilter}"
        return self

    def executeCompaction(self) -> DataFrame:
        """``OPTIMIZE``."""
        return self._table._session._materialized(
            f"OPTIMIZE {table_sql(self._table._name)}{self._where}", {}
        )

    def executeZOrderBy(self, *cols: str) -> DataFrame:
        """``OPTIMIZE ... ZORDER BY``."""
        names = list(cols[0]) if len(cols) == 1 and isinstance(cols[0], list) else list(cols)
        order = ", ".join(quote_ident(c) for c in names)
        return self._table._session._materialized(
            f"OPTIMIZE {table_sql(self._table._name)}{self._where} ZORDER BY ({order})", {}
        )


_AUTO_MERGE = "spark.databricks.delta.schema.autoMerge.enabled"


class DeltaMergeBuilder:
    """The clauses of a ``MERGE INTO``; ``execute()`` runs it."""

    def __init__(
        self,
        table: DeltaTable,
        source: DataFrame,
        condition: Any,
        clauses: list[str],
        evolve: bool = False,
    ) -> None:
        self._table = table
        self._source = source
        self._condition = condition
        self._clauses = clauses
        self._evolve = evolve

    def _with(self, clause: str) -> DeltaMergeBuilder:
        return DeltaMergeBuilder(
            self._table, self._source, self._condition, [*self._clauses, clause], self._evolve
        )

    def _q(self) -> dict[int, str]:
        return {self._source._id: f"{quote_ident(self._source._alias)}."}

    def _when(self, head: str, condition: Any) -> str:
        return head + (f" AND {_expr(condition, self._q())}" if condition is not None else "")

    def _set(self, values: dict[str, Any]) -> str:
        return ", ".join(f"{_column(k)} = {_expr(v, self._q())}" for k, v in values.items())

    def whenMatchedUpdate(
        self, condition: Any = None, set: dict[str, Any] | None = None
    ) -> DeltaMergeBuilder:
        """``WHEN MATCHED [AND cond] THEN UPDATE SET ...``."""
        return self._with(
            f"{self._when('WHEN MATCHED', condition)} THEN UPDATE SET {self._set(set or {})}"
        )

    def whenMatchedUpdateAll(self, condition: Any = None) -> DeltaMergeBuilder:
        """``WHEN MATCHED [AND cond] THEN UPDATE SET *``."""
        return self._with(f"{self._when('WHEN MATCHED', condition)} THEN UPDATE SET *")

    def whenMatchedDelete(self, condition: Any = None) -> DeltaMergeBuilder:
        """``WHEN MATCHED [AND cond] THEN DELETE``."""
        return self._with(f"{self._when('WHEN MATCHED', condition)} THEN DELETE")

    def whenNotMatchedInsert(
        self, condition: Any = None, values: dict[str, Any] | None = None
    ) -> DeltaMergeBuilder:
        """``WHEN NOT MATCHED [AND cond] THEN INSERT (...) VALUES (...)``."""
        values = values or {}
        names = ", ".join(_column(k) for k in values)
        exprs = ", ".join(_expr(v, self._q()) for v in values.values())
        head = self._when("WHEN NOT MATCHED", condition)
        return self._with(f"{head} THEN INSERT ({names}) VALUES ({exprs})")

    def whenNotMatchedInsertAll(self, condition: Any = None) -> DeltaMergeBuilder:
        """``WHEN NOT MATCHED [AND cond] THEN INSERT *``."""
        return self._with(f"{self._when('WHEN NOT MATCHED', condition)} THEN INSERT *")

    def whenNotMatchedBySourceUpdate(
        self, condition: Any = None, set: dict[str, Any] | None = None
    ) -> DeltaMergeBuilder:
        """``WHEN NOT MATCHED BY SOURCE [AND cond] THEN UPDATE SET ...``."""
        head = self._when("WHEN NOT MATCHED BY SOURCE", condition)
        return self._with(f"{head} THEN UPDATE SET {self._set(set or {})}")

    def whenNotMatchedBySourceDelete(self, condition: Any = None) -> DeltaMergeBuilder:
        """``WHEN NOT MATCHED BY SOURCE [AND cond] THEN DELETE``."""
        return self._with(f"{self._when('WHEN NOT MATCHED BY SOURCE', condition)} THEN DELETE")

    whenMatchedUpdateExpr = whenMatchedUpdate
    whenNotMatchedInsertExpr = whenNotMatchedInsert

    def withSchemaEvolution(self) -> DeltaMergeBuilder:
        """``MERGE WITH SCHEMA EVOLUTION``: the warehouse runs it while it adds no column
        to the target and refuses it plainly when it would."""
        return DeltaMergeBuilder(
            self._table, self._source, self._condition, self._clauses, evolve=True
        )

    def execute(self) -> DataFrame:
        """Run the ``MERGE INTO``; its metrics as a DataFrame."""
        if not self._clauses:
            raise AnalysisException(
                "[DELTA_MERGE_MISSING_WHEN] There must be at least one WHEN clause in a MERGE "
                "statement."
            )
        source = self._source
        condition = _expr(self._condition, self._q())
        # The session-wide switch Delta honours as withSchemaEvolution() for every MERGE.
        auto = str(self._table._session.conf.get(_AUTO_MERGE, "false")).lower() == "true"
        statement = (
            f"MERGE {'WITH SCHEMA EVOLUTION ' if self._evolve or auto else ''}INTO "
            f"{self._table._target()} USING ({source._sql}) AS "
            f"{quote_ident(source._alias)} ON {condition} " + " ".join(self._clauses)
        )
        return self._table._session._materialized(statement, {})


def _column(name: str) -> str:
    # Keys of set/values name target columns, maybe qualified ("t.x"): keep the last part.
    from local_workspace.spark.column import quote_name, split_name

    parts = split_name(name)
    return quote_name(parts[-1]) if len(parts) > 1 else quote_ident(name)
