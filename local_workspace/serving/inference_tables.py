"""Inference tables: serving endpoints log each request and response to a Unity Catalog table.

Two configurations, as on Databricks, each with its own table layout:

- ``ai_gateway.inference_table_config`` (create, or ``PUT .../ai-gateway``): the AI Gateway
  table, ``request_date``, ``request_time``, ``execution_duration_ms``, ``served_entity_id``,
  ``requester``...
- ``config.auto_capture_config`` (legacy): the payload table, ``date``, ``timestamp_ms``,
  ``execution_time_ms``, ``request_metadata``...

The table is ``<catalog>.<schema>.<table_name_prefix>_payload`` (the prefix defaults to the
endpoint name), created when the configuration is enabled and owned by the endpoint's creator.
Databricks writes rows within minutes; here each row is written before the invocation answers,
so SQL sees it at once. The catalog is this process's own (DuckDB, SQLite): no HTTP round trip,
so writing never waits on the serving locks nor on a request to this workspace.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb

from local_workspace.catalog.names import quote, split_name
from local_workspace.errors import ApiError, invalid

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

log = logging.getLogger("local_workspace")

GATEWAY = "ai_gateway"
LEGACY = "auto_capture"

# Databricks' columns, in its order (AI Gateway: SHOW CREATE TABLE of a real table; legacy:
# the payload table schema of the inference tables docs).
GATEWAY_COLUMNS = (
    ("databricks_request_id", "VARCHAR"),
    ("request_date", "DATE"),
    ("client_request_id", "VARCHAR"),
    ("request_time", "TIMESTAMP"),
    ("status_code", "INTEGER"),
    ("sampling_fraction", "DOUBLE"),
    ("execution_duration_ms", "BIGINT"),
    ("request", "VARCHAR"),
    ("response", "VARCHAR"),
    ("logging_error_codes", "VARCHAR[]"),
    ("served_entity_id", "VARCHAR"),
    ("requester", "VARCHAR"),
)
LEGACY_COLUMNS = (
    ("databricks_request_id", "VARCHAR"),
    ("client_request_id", "VARCHAR"),
    ("date", "DATE"),
    ("timestamp_ms", "BIGINT"),
    ("status_code", "INTEGER"),
    ("sampling_fraction", "DOUBLE"),
    ("execution_time_ms", "BIGINT"),
    ("request", "VARCHAR"),
    ("response", "VARCHAR"),
    ("request_metadata", "MAP(VARCHAR, VARCHAR)"),
)
# Payloads past these sizes are logged as NULL (with MAX_*_SIZE_EXCEEDED in the AI Gateway
# table), as Databricks does.
MAX_PAYLOAD = {GATEWAY: 10 * 1024 * 1024, LEGACY: 1024 * 1024}
COMMENT = "Inference table of serving endpoint '{endpoint}': one row per request."


@dataclass(frozen=True)
class Capture:
    """An endpoint's enabled inference table."""

    kind: str  # GATEWAY or LEGACY
    table: str  # catalog.schema.<prefix>_payload, lowercased


@dataclass
class Invocation:
    """One request as the inference table records it."""

    endpoint: str
    entity_name: str
    entity_version: str
    served_entity_id: str
    requester: str
    client_request_id: str | None
    request: bytes
    status_code: int
    response: dict[str, Any]
    started: dt.datetime
    duration_ms: int


def client_request_id(body: bytes) -> tuple[str | None, bytes]:
    """The request's ``client_request_id`` and the body the model gets (without it)."""
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return None, body  # the model's own parsing says what is wrong
    if not isinstance(parsed, dict) or "client_request_id" not in parsed:
        return None, body
    value = parsed.pop("client_request_id")
    if value is not None and not isinstance(value, str):
        raise invalid("client_request_id must be a string.", "BAD_REQUEST")
    return value, json.dumps(parsed).encode()


def resolve(
    kind: str, raw: dict[str, Any], endpoint: str, previous: dict[str, Any] | None
) -> dict[str, Any]:
    """The stored configuration for ``raw`` (the SDK's fields), checked against the previous
    one: an enabled table's location cannot change without disabling it first."""
    enabled = raw.get("enabled")
    if enabled is None:
        enabled = kind == LEGACY  # the legacy API defaults to enabled; AI Gateway does not
    if not enabled:
        kept = dict(previous or {})
        return {**kept, "enabled": False} if kept else {"enabled": False}
    config = {
        "catalog_name": raw.get("catalog_name"),
        "schema_name": raw.get("schema_name"),
        "table_name_prefix": raw.get("table_name_prefix") or endpoint,
        "enabled": True,
    }
    for key in ("catalog_name", "schema_name"):
        if not isinstance(config[key], str) or not config[key]:
            raise invalid(f"{key} is required when enabling inference tables.")
    if previous and previous.get("enabled"):
        for key in ("catalog_name", "schema_name", "table_name_prefix"):
            if str(previous.get(key)).lower() != str(config[key]).lower():
                raise invalid(
                    f"Cannot change {key} of an enabled inference table: disable the "
                    "inference table first."
                )
    return config


def table_of(config: dict[str, Any]) -> str:
    """``catalog.schema.<prefix>_payload`` of an enabled configuration, lowercased."""
    return (
        f"{config['catalog_name']}.{config['schema_name']}.{config['table_name_prefix']}_payload"
    ).lower()


class InferenceTables:
    """Creates inference tables and appends their rows (thread-safe: one cursor per call)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def _internal(self, table: str) -> str:
        catalog, schema, name = split_name(table, 3, "table")
        return ".".join(
            [quote(self.catalog.engine.to_internal(catalog)), quote(schema), quote(name)]
        )

    def check(self, capture: Capture, reuse: bool) -> None:
        """400 unless the table can be created: its schema exists, and the table does not
        (Databricks creates the table itself and never writes to an existing one), unless
        ``reuse`` says this endpoint created it before."""
        catalog, schema, name = split_name(capture.table, 3, "table")
        try:
            self.catalog.schemas.require(f"{catalog}.{schema}")
        except ApiError as exc:
            raise invalid(exc.message) from exc
        if not reuse and self.catalog.tables.has(catalog, schema, name):
            raise invalid(
                f"Table '{capture.table}' already exists. Inference tables are created by the "
                "endpoint: choose another table_name_prefix."
            )

    def create(self, capture: Capture, endpoint: str, reuse: bool) -> None:
        """Create the table (owned by the workspace user, who creates endpoints here)."""
        self.check(capture, reuse)
        catalog, schema, name = split_name(capture.table, 3, "table")
        if self.catalog.tables.has(catalog, schema, name):
            return
        columns = GATEWAY_COLUMNS if capture.kind == GATEWAY else LEGACY_COLUMNS
        defs = ", ".join(f"{quote(c)} {t}" for c, t in columns)
        self.catalog.engine.execute(f"CREATE TABLE {self._internal(capture.table)} ({defs})")
        self.catalog.ddl.created("table", capture.table, COMMENT.format(endpoint=endpoint))

    def append(self, capture: Capture, call: Invocation) -> None:
        """Append one row; a failure is logged, never the request's failure (as on
        Databricks, where logging is best effort)."""
        row = _gateway_row(call) if capture.kind == GATEWAY else _legacy_row(call)
        columns = GATEWAY_COLUMNS if capture.kind == GATEWAY else LEGACY_COLUMNS
        names = ", ".join(quote(c) for c, _ in columns)
        marks = ", ".join(
            "MAP(?::VARCHAR[], ?::VARCHAR[])" if c == "request_metadata" else "?"
            for c, _ in columns
        )
        cursor = self.catalog.engine.cursor()
        try:
            cursor.execute(
                f"INSERT INTO {self._internal(capture.table)} ({names}) VALUES ({marks})", row
            )
        except duckdb.Error as exc:
            log.warning("inference table %s: the row was not written: %s", capture.table, exc)
        finally:
            cursor.close()


def _payloads(call: Invocation, kind: str) -> tuple[str | None, str | None, list[str]]:
    request: str | None = call.request.decode("utf-8", "replace")
    response: str | None = json.dumps(call.response)
    errors = []
    if len(call.request) > MAX_PAYLOAD[kind]:
        request = None
        errors.append("MAX_REQUEST_SIZE_EXCEEDED")
    if response is not None and len(response.encode()) > MAX_PAYLOAD[kind]:
        response = None
        errors.append("MAX_RESPONSE_SIZE_EXCEEDED")
    return request, response, errors


def _gateway_row(call: Invocation) -> list[Any]:
    request, response, errors = _payloads(call, GATEWAY)
    return [
        str(uuid.uuid4()),
        call.started.date(),
        call.client_request_id,
        call.started.replace(tzinfo=None),
        call.status_code,
        1.0,
        call.duration_ms,
        request,
        response,
        errors,
        call.served_entity_id,
        call.requester,
    ]


def _legacy_row(call: Invocation) -> list[Any]:
    request, response, _ = _payloads(call, LEGACY)
    metadata = {
        "endpoint_name": call.endpoint,
        "model_name": call.entity_name,
        "model_version": call.entity_version,
    }
    return [
        str(uuid.uuid4()),
        call.client_request_id,
        call.started.date(),
        int(call.started.timestamp() * 1000),
        call.status_code,
        1.0,
        call.duration_ms,
        request,
        response,
        list(metadata),
        list(metadata.values()),
    ]
