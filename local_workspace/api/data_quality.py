"""Data Quality Monitoring API v1 as the SDK's ``w.data_quality`` calls it
(``/api/data-quality/v1/monitors``), the successor of ``w.quality_monitors``.

Both APIs are views of the same monitors (local_workspace/monitors/): v1 names the table and
the output schema by id and spells granularities and states as enums, so this module only
translates. Anomaly detection (schema monitors) needs Databricks' models: FEATURE_DISABLED.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.api.monitors import service
from local_workspace.api.refusals import feature_disabled, run
from local_workspace.api.uc import catalog_of
from local_workspace.errors import ApiError, invalid, not_found
from local_workspace.http import int64, json_body, json_response
from local_workspace.state import WorkspaceState

PREFIX = "/api/data-quality/v1/monitors"
_GRANULARITY = "AGGREGATION_GRANULARITY_"
PROFILE_TYPES = ("snapshot", "time_series", "inference_log")
# v1 field -> quality monitor field, for fields that are the same thing by another name.
_RENAMED = {"notification_settings": "notifications"}
_COPIED = ("assets_dir", "baseline_table_name", "slicing_exprs", "schedule", "custom_metrics")


@cache
def _sdk() -> Any:
    """The SDK's data quality dataclasses, imported on first use."""
    from databricks.sdk.service import dataquality

    return dataquality


def _granularity_in(value: str) -> str:
    """AGGREGATION_GRANULARITY_30_MINUTES -> '30 minutes'."""
    amount, _, unit = value.removeprefix(_GRANULARITY).partition("_")
    return f"{amount} {unit.lower()}"


def _granularity_out(value: str) -> str:
    """'30 minutes' -> AGGREGATION_GRANULARITY_30_MINUTES ('1 day' -> ..._1_DAY)."""
    amount, unit = value.split()
    unit = unit.rstrip("s") if amount == "1" else unit.rstrip("s") + "s"
    return f"{_GRANULARITY}{amount}_{unit.upper()}"


def _series_in(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "timestamp_col": config.get("timestamp_column"),
        "granularities": [_granularity_in(g) for g in config.get("granularities") or []],
    }
    for v1, name in (
        ("prediction_column", "prediction_col"),
        ("model_id_column", "model_id_col"),
        ("label_column", "label_col"),
    ):
        if config.get(v1) is not None:
            out[name] = config[v1]
    if config.get("problem_type"):
        out["problem_type"] = str(config["problem_type"]).removeprefix("INFERENCE_")
    return out


def _series_out(config: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "timestamp_column": config.get("timestamp_col"),
        "granularities": [_granularity_out(g) for g in config.get("granularities") or []],
    }
    for name, v1 in (
        ("prediction_col", "prediction_column"),
        ("model_id_col", "model_id_column"),
        ("label_col", "label_column"),
    ):
        if config.get(name) is not None:
            out[v1] = config[name]
    if config.get("problem_type"):
        out["problem_type"] = "INFERENCE_" + str(config["problem_type"])
    return out


def _id_of(request: Request, kind: str, object_id: str) -> str:
    """The full name of the schema or table with this id; 404 when there is none."""
    cat = catalog_of(request)
    row = cat.meta.row("SELECT full_name FROM objects WHERE kind = ? AND id = ?", (kind, object_id))
    if row is None:
        code = "TABLE_DOES_NOT_EXIST" if kind == "table" else "SCHEMA_DOES_NOT_EXIST"
        raise not_found(f"{kind.title()} with id '{object_id}' does not exist.", code)
    return str(row["full_name"])


def _config_in(request: Request, config: dict[str, Any]) -> dict[str, Any]:
    """A v1 data_profiling_config as a quality monitor body."""
    body: dict[str, Any] = {k: config[k] for k in _COPIED if config.get(k) is not None}
    body.update({q: config[v] for v, q in _RENAMED.items() if config.get(v) is not None})
    if config.get("output_schema_id"):
        body["output_schema_name"] = _id_of(request, "schema", str(config["output_schema_id"]))
    if config.get("snapshot") is not None:
        body["snapshot"] = {}
    for kind in ("time_series", "inference_log"):
        if config.get(kind) is not None:
            body[kind] = _series_in(config[kind])
    return body


def _monitor_out(request: Request, info: dict[str, Any]) -> dict[str, Any]:
    """A stored monitor as a v1 Monitor dict."""
    cat = catalog_of(request)
    table = cat.tables.get(info["table_name"])
    schema = cat.schemas.get(info["output_schema_name"])
    config: dict[str, Any] = {k: info[k] for k in _COPIED if info.get(k) is not None}
    config.update({v: info[q] for v, q in _RENAMED.items() if info.get(q) is not None})
    config.update(
        output_schema_id=schema.get("schema_id"),
        monitored_table_name=info["table_name"],
        profile_metrics_table_name=info["profile_metrics_table_name"],
        drift_metrics_table_name=info["drift_metrics_table_name"],
        monitor_version=info["monitor_version"],
        status="DATA_PROFILING_STATUS_ACTIVE",
    )
    if info.get("snapshot") is not None:
        config["snapshot"] = {}
    for kind in ("time_series", "inference_log"):
        if info.get(kind) is not None:
            config[kind] = _series_out(info[kind])
    monitor: dict[str, Any] = {"object_type": "table", "object_id": table.get("table_id")}
    monitor["data_profiling_config"] = config
    shaped: dict[str, Any] = _sdk().Monitor.from_dict(monitor).as_dict()
    return shaped


def _refresh_out(object_type: str, object_id: str, info: dict[str, Any]) -> dict[str, Any]:
    out = {
        "object_type": object_type,
        "object_id": object_id,
        "refresh_id": info["refresh_id"],
        "state": "MONITOR_REFRESH_STATE_" + info["state"],
        "start_time_ms": info.get("start_time_ms"),
        "end_time_ms": info.get("end_time_ms"),
        "message": info.get("message"),
        "trigger": "MONITOR_REFRESH_TRIGGER_" + str(info.get("trigger") or "MANUAL"),
    }
    shaped: dict[str, Any] = _sdk().Refresh.from_dict(out).as_dict()
    return shaped


def _table_of(request: Request) -> str:
    kind = request.path_params["object_type"]
    if kind == "schema":
        raise feature_disabled(
            "Anomaly detection", "profile tables with data_profiling_config instead"
        )
    if kind != "table":
        raise invalid(f"Invalid object_type '{kind}': use table or schema.")
    return _id_of(request, "table", request.path_params["object_id"])


async def monitors(request: Request) -> Response:
    """POST: create a monitor; GET: every monitor."""
    monitors = service(request.app.state.workspace)
    if request.method == "GET":
        found = await run(monitors.all)
        items = [await run(_monitor_out, request, info) for info in found]
        return json_response({"monitors": items} if items else {})
    body = await json_body(request)
    kind, object_id = body.get("object_type"), body.get("object_id")
    if kind == "schema" or body.get("anomaly_detection_config") is not None:
        raise feature_disabled(
            "Anomaly detection", "profile tables with data_profiling_config instead"
        )
    if kind != "table" or not object_id:
        raise invalid("object_type 'table' and object_id (the table's id) are required.")
    config = body.get("data_profiling_config")
    if not isinstance(config, dict):
        raise invalid("Missing required field: data_profiling_config")
    table = _id_of(request, "table", str(object_id))
    info = await run(monitors.create, table, _config_in(request, config))
    return json_response(await run(_monitor_out, request, info))


async def monitor(request: Request) -> Response:
    """GET, PATCH (with update_mask) or DELETE the monitor of a table."""
    monitors = service(request.app.state.workspace)
    table = _table_of(request)
    if request.method == "DELETE":
        await run(monitors.delete, table)
        return json_response({})
    if request.method == "PATCH":
        body = await json_body(request)
        mask = request.query_params.get("update_mask") or ""
        fields = [f.strip().removeprefix("data_profiling_config.") for f in mask.split(",")]
        fields = [f for f in fields if f]
        if not fields:
            raise invalid("Missing required parameter: update_mask")
        current = await run(monitors.get, table)
        wanted = _config_in(request, (body.get("data_profiling_config") or {}))
        renamed = {"notification_settings": "notifications"}
        changes = {renamed.get(f, f): wanted.get(renamed.get(f, f)) for f in fields}
        if any(f in PROFILE_TYPES for f in changes):
            current = {k: v for k, v in current.items() if k not in PROFILE_TYPES}
        updated = {**current, **{k: v for k, v in changes.items() if v is not None}}
        info = await run(monitors.update, table, updated)
    else:
        info = await run(monitors.get, table)
    return json_response(await run(_monitor_out, request, info))


async def refreshes(request: Request) -> Response:
    """POST: start a refresh; GET: the refreshes, newest first."""
    monitors = service(request.app.state.workspace)
    table = _table_of(request)
    kind, object_id = request.path_params["object_type"], request.path_params["object_id"]
    if request.method == "POST":
        started = await run(monitors.run_refresh, table)
        return json_response(_refresh_out(kind, object_id, started))
    found = await run(monitors.list_refreshes, table)
    items = [_refresh_out(kind, object_id, r) for r in found]
    return json_response({"refreshes": items} if items else {})


async def refresh(request: Request) -> Response:
    """GET one refresh; PATCH and DELETE are unimplemented on Databricks too."""
    table = _table_of(request)
    refresh_id = int64(request.path_params["refresh_id"], "refresh_id")
    if request.method != "GET":
        raise ApiError(501, "NOT_IMPLEMENTED", "Changing or deleting a refresh is not implemented.")
    found = await run(service(request.app.state.workspace).get_refresh, table, refresh_id)
    kind, object_id = request.path_params["object_type"], request.path_params["object_id"]
    return json_response(_refresh_out(kind, object_id, found))


async def cancel(request: Request) -> Response:
    """Cancel a refresh still pending or running."""
    monitors = service(request.app.state.workspace)
    table = _table_of(request)
    refresh_id = int64(request.path_params["refresh_id"], "refresh_id")
    await run(monitors.cancel_refresh, table, refresh_id)
    found = await run(monitors.get_refresh, table, refresh_id)
    kind, object_id = request.path_params["object_type"], request.path_params["object_id"]
    return json_response({"refresh": _refresh_out(kind, object_id, found)})


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The data quality monitoring routes."""
    one = PREFIX + "/{object_type}/{object_id}"
    return [
        Route(PREFIX, monitors, methods=["GET", "POST"]),
        Route(one, monitor, methods=["GET", "PATCH", "DELETE"]),
        Route(one + "/refreshes", refreshes, methods=["GET", "POST"]),
        Route(one + "/refreshes/{refresh_id}", refresh, methods=["GET", "PATCH", "DELETE"]),
        Route(one + "/refreshes/{refresh_id}/cancel", cancel, methods=["POST"]),
    ]
