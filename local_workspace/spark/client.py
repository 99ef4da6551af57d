"""Statements on the SQL warehouse through the Statement Execution API (urllib, not the SDK:
importing the SDK costs ~3 s in a task process).

One request per statement (``POST /api/2.0/sql/statements``), polled while it runs, its
result read chunk by chunk (``JSON_ARRAY``, ``INLINE``). The ``USE`` of a session travels in
the request's ``catalog``/``schema`` fields; a job task's statements carry the query tag
``dbx_devkit.task_run_id`` (lineage attributes them to the task).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from local_workspace.spark.errors import AnalysisException, statement_error

DEFAULT_WAREHOUSE_ID = "dbxlocal00000001"
_WAIT = "30s"
_TIMEOUT_S = 600


@dataclass
class Result:
    """A finished statement: column names and type names, and its rows (chunk by chunk)."""

    client: StatementClient
    statement_id: str
    names: list[str]
    types: list[str]  # lower-case Spark type names, e.g. "bigint", "array<int>"
    first: dict[str, Any] = field(default_factory=dict)
    row_count: int | None = None

    def chunks(self) -> Iterator[list[list[Any]]]:
        """The rows, one chunk (a list of rows of JSON strings) at a time."""
        data = self.first
        while True:
            rows = data.get("data_array")
            if rows:
                yield rows
            index = data.get("next_chunk_index")
            if index is None:
                return
            data = self.client.request(
                "GET", f"/api/2.0/sql/statements/{self.statement_id}/result/chunks/{index}"
            )

    def rows(self) -> list[list[Any]]:
        """Every row (JSON strings)."""
        out: list[list[Any]] = []
        for chunk in self.chunks():
            out.extend(chunk)
        return out


class StatementClient:
    """The HTTP side of a session: host, token, warehouse."""

    def __init__(self, host: str | None, token: str | None, warehouse_id: str | None) -> None:
        host = (host or os.environ.get("DATABRICKS_HOST") or "").rstrip("/")
        if host and "://" not in host:
            host = f"https://{host}"
        self.host = host
        self.token = token if token is not None else os.environ.get("DATABRICKS_TOKEN", "")
        self.warehouse_id = (
            warehouse_id or os.environ.get("DBX_DEVKIT_WAREHOUSE_ID") or DEFAULT_WAREHOUSE_ID
        )

    def execute(
        self,
        statement: str,
        parameters: dict[str, Any] | None = None,
        catalog: str | None = None,
        schema: str | None = None,
    ) -> Result:
        """Run one statement to its end; its result, or AnalysisException."""
        body: dict[str, Any] = {
            "statement": statement,
            "warehouse_id": self.warehouse_id,
            "wait_timeout": _WAIT,
            "disposition": "INLINE",
            "format": "JSON_ARRAY",
        }
        if parameters:
            body["parameters"] = [_parameter(k, v) for k, v in parameters.items()]
        task_run_id = os.environ.get("DBX_DEVKIT_TASK_RUN_ID")
        if task_run_id:  # lineage attributes the statement to this job task (a label only)
            body["query_tags"] = [{"key": "dbx_devkit.task_run_id", "value": task_run_id}]
        if catalog:
            body["catalog"] = catalog
        if schema:
            body["schema"] = schema
        response = self.request("POST", "/api/2.0/sql/statements", body)
        statement_id = str(response.get("statement_id"))
        deadline = time.monotonic() + _TIMEOUT_S
        pause = 0.02
        while (response.get("status") or {}).get("state") in ("PENDING", "RUNNING"):
            if time.monotonic() > deadline:
                self.request("POST", f"/api/2.0/sql/statements/{statement_id}/cancel", {})
                raise AnalysisException(
                    f"[STATEMENT_TIMEOUT] statement {statement_id} ran over {_TIMEOUT_S} s."
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
            response = self.request("GET", f"/api/2.0/sql/statements/{statement_id}")
        status = response.get("status") or {}
        if status.get("state") != "SUCCEEDED":
            error = status.get("error") or {}
            message = error.get("message") or f"statement {status.get('state')}"
            raise statement_error(error.get("error_code"), message)
        manifest = response.get("manifest") or {}
        columns = (manifest.get("schema") or {}).get("columns") or []
        return Result(
            client=self,
            statement_id=statement_id,
            names=[str(c.get("name")) for c in columns],
            types=[
                str(c.get("type_text") or c.get("type_name") or "string").lower() for c in columns
            ],
            first=response.get("result") or {},
            row_count=manifest.get("total_row_count"),
        )

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One JSON request to the workspace; HTTP errors raise AnalysisException."""
        if not self.host:
            raise AnalysisException(
                "[NO_WORKSPACE] spark needs the workspace: DATABRICKS_HOST is not set (the "
                "local workspace sets it for job tasks; pass SparkSession(host=..., token=...))."
            )
        request = urllib.request.Request(
            self.host + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
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
            raise statement_error(code, error.get("message") or str(exc.reason)) from None


def _parameter(name: str, value: Any) -> dict[str, Any]:
    """A named parameter of the Statement Execution API, typed from the Python value."""
    import datetime
    import decimal

    if value is None:
        return {"name": name, "value": None, "type": "STRING"}
    if isinstance(value, bool):
        return {"name": name, "value": str(value).lower(), "type": "BOOLEAN"}
    if isinstance(value, int):
        return {"name": name, "value": str(value), "type": "BIGINT"}
    if isinstance(value, float):
        return {"name": name, "value": repr(value), "type": "DOUBLE"}
    if isinstance(value, decimal.Decimal):
        return {"name": name, "value": str(value), "type": "DECIMAL"}
    if isinstance(value, datetime.datetime):
        return {"name": name, "value": value.isoformat(sep=" "), "type": "TIMESTAMP"}
    if isinstance(value, datetime.date):
        return {"name": name, "value": value.isoformat(), "type": "DATE"}
    return {"name": name, "value": str(value), "type": "STRING"}
