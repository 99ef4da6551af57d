"""``spark.catalog``: current catalog/schema, tables, temporary views."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local_workspace.spark.convert import quote_ident, quote_string
from local_workspace.spark.errors import AnalysisException

if TYPE_CHECKING:
    from local_workspace.spark.session import SparkSession


@dataclass
class Table:
    """A table as ``spark.catalog.listTables`` describes it."""

    name: str
    catalog: str | None
    namespace: list[str] | None
    description: str | None
    tableType: str
    isTemporary: bool

    @property
    def database(self) -> str | None:
        """The schema."""
        return self.namespace[0] if self.namespace else None


class Catalog:
    """The session's catalog functions."""

    def __init__(self, session: SparkSession) -> None:
        self._session = session

    def _one(self, sql: str) -> Any:
        return self._session._run(sql).rows()[0][0]

    def currentCatalog(self) -> str:
        """The current catalog."""
        return self._session._catalog_name or str(self._one("SELECT current_catalog()"))

    def currentDatabase(self) -> str:
        """The current schema."""
        return self._session._schema_name or str(self._one("SELECT current_schema()"))

    def setCurrentCatalog(self, catalogName: str) -> None:
        """``USE CATALOG``."""
        self._session.sql(f"USE CATALOG {quote_ident(catalogName)}")

    def setCurrentDatabase(self, dbName: str) -> None:
        """``USE SCHEMA``."""
        self._session.sql(f"USE SCHEMA {quote_ident(dbName)}")

    def listCatalogs(self) -> list[Any]:
        """The catalogs."""
        return [r[0] for r in self._session._run("SHOW CATALOGS").rows()]

    def listDatabases(self) -> list[Any]:
        """The schemas of the current catalog."""
        return [r[0] for r in self._session._run("SHOW SCHEMAS").rows()]

    def tableExists(self, tableName: str, dbName: str | None = None) -> bool:
        """Whether the table (or temporary view) exists."""
        name = f"{dbName}.{tableName}" if dbName else tableName
        if self._session._views.get(name) is not None:
            return True
        try:
            self._session._run(f"DESCRIBE TABLE {_name(name)}")
        except AnalysisException as exc:
            if "NOT_FOUND" in str(exc) or "does not exist" in str(exc).lower():
                return False
            raise
        return True

    def listTables(self, dbName: str | None = None, pattern: str | None = None) -> list[Table]:
        """The tables of a schema (the current one by default), temporary views too."""
        schema = dbName or self.currentDatabase()
        statement = f"SHOW TABLES IN {_name(schema)}"
        if pattern:
            statement += f" LIKE {quote_string(pattern)}"
        result = self._session._run(statement)
        index = {n: i for i, n in enumerate(result.names)}
        catalog = self.currentCatalog() if "." not in schema else schema.split(".")[0]
        tables = [
            Table(
                str(r[index.get("tableName", 1)]),
                catalog,
                [schema.split(".")[-1]],
                None,
                "MANAGED",
                False,
            )
            for r in result.rows()
        ]
        tables += [
            Table(n, None, [], None, "TEMPORARY", True)
            for n in self._session._views.names()
            if "." not in n
        ]
        return tables

    def dropTempView(self, viewName: str) -> bool:
        """Forget a temporary view."""
        return self._session._views.drop(viewName)

    def dropGlobalTempView(self, viewName: str) -> bool:
        """Forget a global temporary view."""
        return self._session._views.drop(f"global_temp.{viewName}")

    def isCached(self, tableName: str) -> bool:
        """Nothing is cached locally."""
        return False

    def cacheTable(self, tableName: str, storageLevel: Any = None) -> None:
        """No-op (the warehouse caches itself)."""

    def uncacheTable(self, tableName: str) -> None:
        """No-op."""

    def clearCache(self) -> None:
        """No-op."""

    def refreshTable(self, tableName: str) -> None:
        """No-op."""


def _name(name: str) -> str:
    from local_workspace.spark.column import split_name

    return ".".join(quote_ident(p) for p in split_name(name))
