"""A small ``spark`` for local tasks: ``spark.sql`` on the workspace's SQL warehouse.

Statements go to the Statement Execution REST API of ``DATABRICKS_HOST`` (the local
workspace) with ``DATABRICKS_TOKEN``, on ``DBX_DEVKIT_WAREHOUSE_ID``. Results come back as a
small read-only DataFrame. Everything else in the Spark API needs a Databricks cluster and
raises NotImplementedError saying so. (urllib, not the SDK: importing the SDK takes ~3 s.)
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

DEFAULT_WAREHOUSE_ID = "dbxlocal00000001"
_CLUSTER = "needs a Databricks cluster; the local workspace runs SQL through spark.sql only"
_USE = re.compile(r"^\s*USE\s+(CATALOG\s+|SCHEMA\s+|DATABASE\s+)?([`\w.]+)\s*;?\s*$", re.I)
_INTEGER_TYPES = {"BYTE", "SHORT", "INT", "LONG", "TINYINT", "SMALLINT", "BIGINT", "INTEGER"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE"}


class AnalysisException(Exception):
    """A statement the warehouse rejected (the name PySpark gives SQL errors)."""


def _cluster_only(what: str) -> NoReturn:
    raise NotImplementedError(f"{what} {_CLUSTER}.")


class Row(tuple[Any, ...]):
    """A result row: a tuple with attribute and key access, like ``pyspark.sql.Row``."""

    __fields__: tuple[str, ...]

    def __new__(cls, fields: tuple[str, ...], values: list[Any]) -> Row:
        row = super().__new__(cls, values)
        row.__fields__ = fields
        return row

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[self.__fields__.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return super().__getitem__(self.__fields__.index(key))
            except ValueError:
                raise KeyError(key) from None
        return super().__getitem__(key)

    def asDict(self) -> dict[str, Any]:
        """The row as {column: value}."""
        return dict(zip(self.__fields__, self, strict=False))

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in zip(self.__fields__, self, strict=False))
        return f"Row({values})"


class DataFrame:
    """The read-only result of ``spark.sql``: collect/first/count/show/toPandas."""

    def __init__(self, columns: list[str], types: list[str], rows: list[Row]) -> None:
        self.columns = columns
        self.dtypes = [(name, kind.lower()) for name, kind in zip(columns, types, strict=False)]
        self._rows = rows

    def collect(self) -> list[Row]:
        """Every row."""
        return list(self._rows)

    def first(self) -> Row | None:
        """The first row, or None."""
        return self._rows[0] if self._rows else None

    def head(self, n: int | None = None) -> Row | list[Row] | None:
        """The first row (no n) or the first n rows."""
        return self.first() if n is None else self._rows[:n]

    def take(self, n: int) -> list[Row]:
        """The first n rows."""
        return self._rows[:n]

    def limit(self, n: int) -> DataFrame:
        """The first n rows as a DataFrame."""
        return DataFrame(self.columns, [t for _, t in self.dtypes], self._rows[:n])

    def count(self) -> int:
        """The number of rows."""
        return len(self._rows)

    def isEmpty(self) -> bool:
        """Whether there are no rows."""
        return not self._rows

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)

    def show(self, n: int = 20, truncate: bool | int = True, vertical: bool = False) -> None:
        """Print the first n rows as a table."""
        print(self._table(n, 20 if truncate is True else int(truncate or 0)))

    def toPandas(self) -> Any:
        """A pandas DataFrame (needs pandas in the project environment)."""
        try:
            import pandas
        except ImportError:
            raise NotImplementedError(
                "toPandas needs pandas, which is not installed in the project environment."
            ) from None
        return pandas.DataFrame([list(row) for row in self._rows], columns=self.columns)

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("__"):
            raise AttributeError(name)
        _cluster_only(f"DataFrame.{name}")

    def __repr__(self) -> str:
        return "DataFrame[" + ", ".join(f"{c}: {t}" for c, t in self.dtypes) + "]"

    def _table(self, n: int, width: int) -> str:
        def cell(value: Any) -> str:
            text = "null" if value is None else str(value)
            return text[: width - 3] + "..." if width and len(text) > width else text

        shown = [[cell(v) for v in row] for row in self._rows[:n]]
        widths = [max([len(c), *(len(r[i]) for r in shown)]) for i, c in enumerate(self.columns)]
        rule = "+" + "+".join("-" * w for w in widths) + "+"
        lines = [
            rule,
            "|" + "|".join(c.rjust(w) for c, w in zip(self.columns, widths, strict=True)) + "|",
        ]
        lines.append(rule)
        lines += [
            "|" + "|".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) + "|" for r in shown
        ]
        lines.append(rule)
        if len(self._rows) > n:
            lines.append(f"only showing top {n} rows")
        return "\n".join(lines)


class _Conf:
    """``spark.conf``: a plain key/value store (it tunes nothing locally)."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}

    def get(self, key: str, default: str | None = None) -> str | None:
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._values[key] = str(value)

    def unset(self, key: str) -> None:
        self._values.pop(key, None)


class SparkShim:
    """``spark`` of a local task: ``sql`` and ``table`` run on the SQL warehouse."""

    def __init__(self) -> None:
        self.conf = _Conf()
        self._catalog: str | None = None
        self._schema: str | None = None

    def sql(self, sqlQuery: str, args: dict[str, Any] | None = None, **kwargs: Any) -> DataFrame:
        """Run one SQL statement; its result as a DataFrame (empty for DDL/DML)."""
        if args is not None and not isinstance(args, dict):
            raise NotImplementedError(
                "spark.sql with positional args is not supported locally: use named args "
                "(a dict) and :name markers."
            )
        named = {**(args or {}), **kwargs}
        use = _USE.match(sqlQuery)
        if use:
            return self._use(use.group(1), use.group(2))
        return self._execute(sqlQuery, named)

    def table(self, tableName: str) -> DataFrame:
        """Every row of a table."""
        return self.sql(f"SELECT * FROM {tableName}")

    def __getattr__(self, name: str) -> NoReturn:
        if name.startswith("__"):
            raise AttributeError(name)
        _cluster_only(f"spark.{name}")

    def _use(self, kind: str | None, name: str) -> DataFrame:
        parts = [p.strip("`") for p in name.split(".")]
        word = (kind or "").strip().upper()
        if word == "CATALOG":
            self._catalog, self._schema = parts[0], None
        elif len(parts) == 2:
            self._catalog, self._schema = parts
        else:
            self._schema = parts[0]
        return DataFrame([], [], [])

    def _execute(self, statement: str, args: dict[str, Any]) -> DataFrame:
        body: dict[str, Any] = {
            "statement": statement,
            "warehouse_id": os.environ.get("DBX_DEVKIT_WAREHOUSE_ID") or DEFAULT_WAREHOUSE_ID,
            "wait_timeout": "30s",
            "disposition": "INLINE",
            "format": "JSON_ARRAY",
            "parameters": [_parameter(k, v) for k, v in args.items()],
        }
        task_run_id = os.environ.get("DBX_DEVKIT_TASK_RUN_ID")
        if task_run_id:  # lineage attributes the statement to this job task (a label only)
            body["query_tags"] = [{"key": "dbx_devkit.task_run_id", "value": task_run_id}]
        if self._catalog:
            body["catalog"] = self._catalog
        if self._schema:
            body["schema"] = self._schema
        response = _request("POST", "/api/2.0/sql/statements", body)
        statement_id = response.get("statement_id")
        while response.get("status", {}).get("state") in ("PENDING", "RUNNING"):
            time.sleep(0.2)
            response = _request("GET", f"/api/2.0/sql/statements/{statement_id}")
        status = response.get("status") or {}
        if status.get("state") != "SUCCEEDED":
            error = status.get("error") or {}
            message = error.get("message") or f"statement {status.get('state')}"
            raise AnalysisException(_with_code(error.get("error_code"), message))
        return _dataframe(response, statement_id)


def _dataframe(response: dict[str, Any], statement_id: Any) -> DataFrame:
    columns = ((response.get("manifest") or {}).get("schema") or {}).get("columns") or []
    names = tuple(str(c.get("name")) for c in columns)
    types = [str(c.get("type_name") or "STRING") for c in columns]
    converters = [_converter(t) for t in types]
    rows: list[Row] = []
    data = response.get("result") or {}
    while True:
        for raw in data.get("data_array") or []:
            values = [None if v is None else f(v) for f, v in zip(converters, raw, strict=False)]
            rows.append(Row(names, values))
        next_index = data.get("next_chunk_index")
        if next_index is None:
            break
        data = _request("GET", f"/api/2.0/sql/statements/{statement_id}/result/chunks/{next_index}")
    return DataFrame(list(names), types, rows)


def _converter(type_name: str) -> Callable[[str], Any]:
    kind = type_name.upper()
    if kind in _INTEGER_TYPES:
        return int
    if kind in _FLOAT_TYPES:
        return float
    if kind == "DECIMAL":
        return decimal.Decimal
    if kind == "BOOLEAN":
        return lambda v: v.lower() == "true"
    if kind == "DATE":
        return datetime.date.fromisoformat
    return str


def _parameter(name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {"name": name, "value": None, "type": "STRING"}
    if isinstance(value, bool):
        return {"name": name, "value": str(value).lower(), "type": "BOOLEAN"}
    if isinstance(value, int):
        return {"name": name, "value": str(value), "type": "BIGINT"}
    if isinstance(value, float):
        return {"name": name, "value": repr(value), "type": "DOUBLE"}
    return {"name": name, "value": str(value), "type": "STRING"}


def _request(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    host = (os.environ.get("DATABRICKS_HOST") or "").rstrip("/")
    if not host:
        raise NotImplementedError(
            "spark.sql needs the workspace: DATABRICKS_HOST is not set for this task."
        )
    if "://" not in host:
        host = f"https://{host}"
    request = urllib.request.Request(
        host + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {os.environ.get('DATABRICKS_TOKEN', '')}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            result: dict[str, Any] = json.loads(answer.read())
            return result
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read())
        except ValueError:
            error = {}
        code = error.get("error_code") or f"HTTP {exc.code}"
        raise AnalysisException(_with_code(code, error.get("message") or exc.reason)) from None


def _with_code(code: Any, message: str) -> str:
    # Statement errors already start with their condition, e.g. "[TABLE_OR_VIEW_NOT_FOUND]".
    return message if message.startswith("[") else f"[{code or 'SQL_ERROR'}] {message}"


def display(value: Any = None, *args: Any, **kwargs: Any) -> None:
    """Print a compact view of ``value`` (a table for DataFrames, at most 100 rows)."""
    if value is None:
        return
    if isinstance(value, DataFrame):
        value.show(100, truncate=False)
        return
    to_string = getattr(value, "to_string", None)  # pandas
    if callable(to_string):
        print(to_string(max_rows=100))
        return
    print(repr(value))
