"""Inference tables on the local workspace: an endpoint created with an AI Gateway
``inference_table_config`` or a legacy ``auto_capture_config`` logs each request and response,
failed ones included, to a Unity Catalog table that SQL reads as soon as the call answers."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from local_workspace.runner import LocalWorkspace
from tests.conftest import fails, mlflow_script, ok, text_of
from tests.test_lineage import WAREHOUSE, run_sql
from tests.test_serving import REGISTER_TWO_VERSIONS

GATEWAY_COLUMNS = [
    "databricks_request_id",
    "request_date",
    "client_request_id",
    "request_time",
    "status_code",
    "sampling_fraction",
    "execution_duration_ms",
    "request",
    "response",
    "logging_error_codes",
    "served_entity_id",
    "requester",
]
LEGACY_COLUMNS = [
    "databricks_request_id",
    "client_request_id",
    "date",
    "timestamp_ms",
    "status_code",
    "sampling_fraction",
    "execution_time_ms",
    "request",
    "response",
    "request_metadata",
]


@pytest.fixture(scope="module")
def model(local_ws: LocalWorkspace) -> dict[str, Any]:
    """A small registered scikit-learn model (two versions) and rows it scores."""
    name = f"main.t_inf.clf_{uuid.uuid4().hex[:6]}"
    return {"name": name, **mlflow_script(local_ws, REGISTER_TWO_VERSIONS, name)}


@pytest.fixture()
def schema(ws: Any) -> str:
    """A fresh schema of `main` for the test's inference tables."""
    name = f"t_inf_{uuid.uuid4().hex[:6]}"
    run_sql(ws, f"CREATE SCHEMA main.{name}")
    return f"main.{name}"


def sql(ws: Any, statement: str) -> tuple[list[str], list[list[Any]]]:
    from databricks.sdk.service.sql import StatementState

    result = ws.statement_execution.execute_statement(
        statement=statement, warehouse_id=WAREHOUSE, wait_timeout="30s"
    )
    assert result.status.state == StatementState.SUCCEEDED, result.status
    columns = [c.name for c in result.manifest.schema.columns]
    return columns, (result.result.data_array or [])


def _entity(model: dict[str, Any], version: str = "1") -> Any:
    from databricks.sdk.service.serving import ServedEntityInput

    return ServedEntityInput(
        entity_name=model["name"],
        entity_version=version,
        workload_size="Small",
        scale_to_zero_enabled=True,
    )


def test_an_ai_gateway_inference_table_logs_each_request_with_databricks_columns(
    ws: Any, model: dict[str, Any], schema: str
) -> None:
    from databricks.sdk.errors import BadRequest
    from databricks.sdk.service.serving import (
        AiGatewayConfig,
        AiGatewayInferenceTableConfig,
        EndpointCoreConfigInput,
    )

    catalog, schema_name = schema.split(".")
    endpoint = f"t_inf_gw_{uuid.uuid4().hex[:6]}"
    table = f"{schema}.{endpoint}_payload"  # the prefix defaults to the endpoint's name
    gateway = AiGatewayConfig(
        inference_table_config=AiGatewayInferenceTableConfig(
            catalog_name=catalog, schema_name=schema_name, enabled=True
        )
    )
    config = EndpointCoreConfigInput(name=endpoint, served_entities=[_entity(model)])
    created = ws.serving_endpoints.create_and_wait(name=endpoint, config=config, ai_gateway=gateway)
    assert created.state.ready.value == "READY"
    echoed = ws.serving_endpoints.get(endpoint).ai_gateway.inference_table_config
    assert (echoed.enabled, echoed.catalog_name, echoed.table_name_prefix) == (
        True,
        catalog,
        endpoint,
    )
    # The table exists at once, empty, owned by the endpoint's creator.
    assert ws.tables.get(table).owner == created.creator
    assert sql(ws, f"SELECT count(*) FROM {table}")[1] == [["0"]]

    answer = ws.serving_endpoints.query(
        endpoint, dataframe_records=model["records"], client_request_id="order-17"
    )
    assert answer.predictions == model["v1"]
    with pytest.raises(BadRequest):
        ws.serving_endpoints.query(endpoint, dataframe_records=[{"x": 1.0}])

    columns, rows = sql(ws, f"SELECT * FROM {table} ORDER BY request_time")
    assert columns == GATEWAY_COLUMNS
    good, bad = (dict(zip(columns, row, strict=True)) for row in rows)
    assert (good["status_code"], bad["status_code"]) == ("200", "400")
    assert good["client_request_id"] == "order-17" and bad["client_request_id"] is None
    assert '"predictions"' in good["response"] and "BAD_REQUEST" in bad["response"]
    assert '"x"' in bad["request"] and good["sampling_fraction"] == "1.0"
    assert good["served_entity_id"] == bad["served_entity_id"] != good["databricks_request_id"]
    assert good["requester"] == created.creator and good["logging_error_codes"] == "[]"
    assert good["request_date"] == good["request_time"][:10]
    described = sql(ws, f"DESCRIBE TABLE {table}")[1]
    types = {row[0]: row[1] for row in described}
    assert types["request_time"] == "timestamp" and types["execution_duration_ms"] == "bigint"
    assert types["logging_error_codes"] == "array<string>"

    # Disabled through PUT .../ai-gateway: requests are no longer logged, the table stays.
    off = ws.serving_endpoints.put_ai_gateway(
        endpoint, inference_table_config=AiGatewayInferenceTableConfig(enabled=False)
    )
    assert off.inference_table_config.enabled is False
    ws.serving_endpoints.query(endpoint, dataframe_records=model["records"])
    assert sql(ws, f"SELECT count(*) FROM {table}")[1] == [["2"]]
    ws.serving_endpoints.delete(endpoint)


def test_a_legacy_auto_capture_config_logs_to_its_payload_table(
    ws: Any, model: dict[str, Any], schema: str
) -> None:
    from databricks.sdk.errors import DatabricksError
    from databricks.sdk.service.serving import AutoCaptureConfigInput, EndpointCoreConfigInput

    catalog, schema_name = schema.split(".")
    endpoint = f"t_inf_legacy_{uuid.uuid4().hex[:6]}"
    capture = AutoCaptureConfigInput(
        catalog_name=catalog, schema_name=schema_name, table_name_prefix="scores"
    )
    missing = AutoCaptureConfigInput(catalog_name=catalog, schema_name="no_such_schema")
    with pytest.raises(DatabricksError, match="no_such_schema' does not exist"):
        ws.serving_endpoints.create(
            name=endpoint,
            config=EndpointCoreConfigInput(
                name=endpoint, served_entities=[_entity(model)], auto_capture_config=missing
            ),
        )
    config = EndpointCoreConfigInput(
        name=endpoint, served_entities=[_entity(model, "2")], auto_capture_config=capture
    )
    ws.serving_endpoints.create_and_wait(name=endpoint, config=config)
    state = ws.serving_endpoints.get(endpoint).config.auto_capture_config
    assert state.enabled and state.state.payload_table.name == "scores_payload"

    ws.serving_endpoints.query(endpoint, dataframe_records=model["records"][:2])
    columns, rows = sql(
        ws,
        f"SELECT *, request_metadata['model_version'] AS version FROM {schema}.scores_payload",
    )
    assert columns == [*LEGACY_COLUMNS, "version"]
    row = dict(zip(columns, rows[0], strict=True))
    assert row["status_code"] == "200" and row["version"] == "2"
    assert int(row["timestamp_ms"]) > 0 and int(row["execution_time_ms"]) >= 0

    # Disabled by a config update (the version keeps serving); re-enabling is not supported.
    off = AutoCaptureConfigInput(enabled=False)
    ws.serving_endpoints.update_config_and_wait(
        endpoint, served_entities=[_entity(model, "2")], auto_capture_config=off
    )
    assert ws.serving_endpoints.get(endpoint).config.auto_capture_config.enabled is False
    ws.serving_endpoints.query(endpoint, dataframe_records=model["records"][:2])
    assert sql(ws, f"SELECT count(*) FROM {schema}.scores_payload")[1] == [["1"]]
    with pytest.raises(DatabricksError, match="not supported"):
        ws.serving_endpoints.update_config(
            endpoint, served_entities=[_entity(model, "2")], auto_capture_config=capture
        )

    # Databricks creates the table itself: another endpoint cannot reuse an existing one.
    with pytest.raises(DatabricksError, match="already exists"):
        ws.serving_endpoints.create(
            name=f"{endpoint}_2",
            config=EndpointCoreConfigInput(
                name=endpoint, served_entities=[_entity(model)], auto_capture_config=capture
            ),
        )
    ws.serving_endpoints.delete(endpoint)


@pytest.mark.anyio
async def test_the_serving_tool_turns_inference_tables_on_and_project_check_sees_them(
    mcp: Client, ws: Any, model: dict[str, Any], schema: str, tmp_path: Path
) -> None:
    from databricks.sdk.service.serving import AiGatewayInferenceTableConfig

    project = f"tinf{uuid.uuid4().hex[:6]}"
    path = str(tmp_path / project)
    await ok(mcp, "project_init", path=path, name=project, template="ml")
    endpoint = f"{project}-serving"  # the bundle's endpoint

    def item(result: Any) -> dict[str, str]:
        items = result.structured_content["items"]
        return next(i for i in items if i["item"] == "inference_tables")

    before = await ok(mcp, "project_check", path=path, target="dev", run_tests=False)
    assert item(before)["status"] == "unknown", text_of(before)
    assert "not deployed" in item(before)["evidence"]

    bad = await fails(
        mcp,
        "serving_create_endpoint",
        name=endpoint,
        model=f"{model['name']}/1",
        inference_table="main",
    )
    assert "catalog.schema" in bad
    created = await ok(
        mcp,
        "serving_create_endpoint",
        name=endpoint,
        model=f"{model['name']}/1",
        inference_table=schema,
    )
    table = f"{schema}.{endpoint}_payload"
    assert created.structured_content["inference_table"] == table
    await ok(mcp, "serving_query", name=endpoint, records=model["records"][:1])
    rows = await ok(
        mcp, "sql_query", statement=f"SELECT status_code FROM {schema}.`{endpoint}_payload`"
    )
    assert "200" in text_of(rows)

    after = await ok(mcp, "project_check", path=path, target="dev", run_tests=False)
    assert item(after)["status"] == "passed", text_of(after)
    assert table in item(after)["evidence"]

    off = AiGatewayInferenceTableConfig(enabled=False)
    ws.serving_endpoints.put_ai_gateway(endpoint, inference_table_config=off)
    disabled = await ok(mcp, "project_check", path=path, target="dev", run_tests=False)
    assert item(disabled)["status"] == "failed", text_of(disabled)
    ws.serving_endpoints.delete(endpoint)
