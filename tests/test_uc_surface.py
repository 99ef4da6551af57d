"""The rest of the Unity Catalog surface through the real databricks-sdk: what cannot exist
locally answers as a workspace without the feature, Delta Sharing is metadata, and quality
monitors compute real profile metrics into tables."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk.errors import BadRequest, NotFound, ResourceConflict
from databricks.sdk.service.catalog import (
    AwsIamRoleRequest,
    ConnectionType,
    MonitorRefreshInfoState,
    MonitorSnapshot,
    MonitorTimeSeries,
    PermissionsChange,
    Privilege,
)
from databricks.sdk.service.sharing import (
    AuthenticationType,
    SharedDataObject,
    SharedDataObjectDataObjectType,
    SharedDataObjectUpdate,
    SharedDataObjectUpdateAction,
)

from tests.test_pipelines_local_api import sql

FINAL_REFRESH = {"SUCCESS", "FAILED", "CANCELED"}
# SDK services whose endpoints other parts of the project answer (functions and tags:
# Unity Catalog SQL; models: the registry; volumes: the Files API work; lineage; access
# requests), left out of the "every documented endpoint answers" sweep below.
ELSEWHERE = {
    "FunctionsAPI",
    "RegisteredModelsAPI",
    "ModelVersionsAPI",
    "EntityTagAssignmentsAPI",
    "ExternalLineageAPI",
    "ExternalMetadataAPI",
    "RfaAPI",
    "VolumesAPI",
}


def raw(ws: Any, method: str, path: str) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of a raw request (to see exactly what a client receives)."""
    import requests

    response = requests.request(
        method,
        ws.config.host + path,
        headers={"Authorization": f"Bearer {ws.config.token}"},
        timeout=10,
    )
    return response.status_code, response.json()


def test_cloud_only_families_list_empty_get_not_found_and_refuse_creates(ws: Any) -> None:
    assert list(ws.storage_credentials.list()) == []
    assert list(ws.external_locations.list()) == []
    assert list(ws.connections.list()) == []
    assert list(ws.credentials.list_credentials()) == []
    with pytest.raises(NotFound, match="Storage Credential 'cred' does not exist") as missing:
        ws.storage_credentials.get("cred")
    assert missing.value.error_code == "STORAGE_CREDENTIAL_DOES_NOT_EXIST"
    with pytest.raises(NotFound) as missing:
        ws.external_locations.get("landing")
    assert missing.value.error_code == "EXTERNAL_LOCATION_DOES_NOT_EXIST"
    with pytest.raises(NotFound, match="Connection 'pg' does not exist"):
        ws.connections.get("pg")
    with pytest.raises(BadRequest) as refused:
        ws.storage_credentials.create(
            "cred", aws_iam_role=AwsIamRoleRequest(role_arn="arn:aws:iam::1:role/x")
        )
    assert refused.value.error_code == "FEATURE_DISABLED"
    with pytest.raises(BadRequest) as refused:
        ws.external_locations.create("landing", "s3://bucket/landing", "cred")
    assert refused.value.error_code == "FEATURE_DISABLED"
    with pytest.raises(BadRequest) as refused:
        ws.connections.create("pg", ConnectionType.POSTGRESQL, {"host": "db"})
    assert refused.value.error_code == "FEATURE_DISABLED"


def test_the_metastore_answers_its_summary_assignment_and_system_schemas(ws: Any) -> None:
    summary = ws.metastores.summary()
    current = ws.metastores.current()
    assert current.metastore_id == summary.metastore_id
    assert current.workspace_id == int(ws.get_workspace_id())
    assert [m.metastore_id for m in ws.metastores.list()] == [summary.metastore_id]
    schemas = {s.schema: s.state for s in ws.system_schemas.list(summary.metastore_id)}
    assert schemas["billing"] == "UNAVAILABLE"
    with pytest.raises(NotFound) as missing:
        ws.metastores.get("no-such-metastore")
    assert missing.value.error_code == "METASTORE_DOES_NOT_EXIST"


def test_catalog_bindings_and_artifact_allowlists_are_read_back(ws: Any) -> None:
    from databricks.sdk.service.catalog import ArtifactMatcher, ArtifactType, MatchType

    assert ws.workspace_bindings.get("main").workspaces is None
    bound = ws.workspace_bindings.update("main", assign_workspaces=[int(ws.get_workspace_id())])
    assert bound.workspaces == [int(ws.get_workspace_id())]
    ws.workspace_bindings.update("main", unassign_workspaces=[int(ws.get_workspace_id())])
    with pytest.raises(NotFound):
        ws.workspace_bindings.get("no_such_catalog")
    matcher = ArtifactMatcher(
        artifact="/Volumes/main/default/jars", match_type=MatchType.PREFIX_MATCH
    )
    ws.artifact_allowlists.update(ArtifactType.LIBRARY_JAR, [matcher])
    got = ws.artifact_allowlists.get(ArtifactType.LIBRARY_JAR)
    assert got.artifact_matchers == [matcher]


def test_a_share_holds_an_existing_table_and_grants_it_to_a_recipient(ws: Any) -> None:
    ws.schemas.create(name="t_share", catalog_name="main")
    sql(ws, "CREATE TABLE main.t_share.orders AS SELECT 1 AS id")
    share = ws.shares.create("t_sales_share", comment="for partners")
    assert share.name == "t_sales_share" and share.owner
    add = SharedDataObjectUpdate(
        action=SharedDataObjectUpdateAction.ADD,
        data_object=SharedDataObject(
            name="main.t_share.orders", data_object_type=SharedDataObjectDataObjectType.TABLE
        ),
    )
    updated = ws.shares.update("t_sales_share", updates=[add])
    assert [(o.name, o.shared_as, o.status.value) for o in updated.objects] == [
        ("main.t_share.orders", "t_share.orders", "ACTIVE")
    ]
    with pytest.raises(ResourceConflict):
        ws.shares.update("t_sales_share", updates=[add])
    assert "t_sales_share" in [s.name for s in ws.shares.list_shares()]
    got = ws.shares.get("t_sales_share", include_shared_data=True)
    assert [o.name for o in got.objects] == ["main.t_share.orders"]
    missing_table = SharedDataObjectUpdate(
        action=SharedDataObjectUpdateAction.ADD,
        data_object=SharedDataObject(
            name="main.t_share.nope", data_object_type=SharedDataObjectDataObjectType.TABLE
        ),
    )
    with pytest.raises(NotFound):
        ws.shares.update("t_sales_share", updates=[missing_table])

    recipient = ws.recipients.create("t_partner", AuthenticationType.TOKEN)
    assert recipient.tokens and recipient.tokens[0].activation_url
    with pytest.raises(NotFound) as unknown:
        ws.shares.update_permissions(
            "t_sales_share", changes=[PermissionsChange(principal="nobody", add=[Privilege.SELECT])]
        )
    assert unknown.value.error_code == "RECIPIENT_DOES_NOT_EXIST"
    ws.shares.update_permissions(
        "t_sales_share", changes=[PermissionsChange(principal="t_partner", add=[Privilege.SELECT])]
    )
    grants = ws.shares.share_permissions("t_sales_share").privilege_assignments
    assert [(g.principal, [p.value for p in g.privileges]) for g in grants] == [
        ("t_partner", ["SELECT"])
    ]
    shared = ws.recipients.share_permissions("t_partner").permissions_out
    assert [p.share_name for p in shared] == ["t_sales_share"]

    ws.recipients.delete("t_partner")
    ws.shares.delete("t_sales_share")
    with pytest.raises(NotFound) as gone:
        ws.shares.get("t_sales_share")
    assert gone.value.error_code == "SHARE_DOES_NOT_EXIST"


def test_providers_are_metadata_and_recipients_missing_are_not_found(ws: Any) -> None:
    profile = (
        '{"shareCredentialsVersion": 1, "endpoint": "https://x/delta-sharing/", "bearerToken": "t"}'
    )
    created = ws.providers.create(
        "t_vendor", AuthenticationType.TOKEN, recipient_profile_str=profile
    )
    assert created.recipient_profile.endpoint == "https://x/delta-sharing/"
    assert "t_vendor" in [p.name for p in ws.providers.list()]
    assert list(ws.providers.list_shares("t_vendor")) == []
    ws.providers.delete("t_vendor")
    with pytest.raises(NotFound) as missing:
        ws.providers.get("t_vendor")
    assert missing.value.error_code == "PROVIDER_DOES_NOT_EXIST"
    with pytest.raises(NotFound) as missing:
        ws.recipients.get("t_nobody")
    assert missing.value.error_code == "RECIPIENT_DOES_NOT_EXIST"


def _finished(ws: Any, table: str, refresh_id: int, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        refresh = ws.quality_monitors.get_refresh(table, refresh_id)
        if refresh.state.value in FINAL_REFRESH or time.monotonic() > deadline:
            return refresh
        time.sleep(0.1)


def test_a_monitor_profiles_its_table_into_a_queryable_metrics_table(ws: Any) -> None:
    ws.schemas.create(name="t_monitored", catalog_name="main")
    sql(
        ws,
        "CREATE TABLE main.t_monitored.trips AS SELECT id, "
        "CASE WHEN id % 10 = 0 THEN NULL ELSE id * 1.5 END AS fare, "
        "CASE WHEN id % 2 = 0 THEN 'card' ELSE 'cash' END AS payment "
        "FROM range(100) AS t(id)",
    )
    table = "main.t_monitored.trips"
    info = ws.quality_monitors.create(
        table_name=table,
        output_schema_name="main.t_monitored",
        assets_dir="/Workspace/Users/me/monitoring",
        snapshot=MonitorSnapshot(),
    )
    assert info.status.value == "MONITOR_STATUS_ACTIVE"
    assert info.profile_metrics_table_name == "main.t_monitored.trips_profile_metrics"
    assert info.drift_metrics_table_name == "main.t_monitored.trips_drift_metrics"
    first = ws.quality_monitors.list_refreshes(table).refreshes[0]
    assert _finished(ws, table, first.refresh_id).state == MonitorRefreshInfoState.SUCCESS

    refresh = ws.quality_monitors.run_refresh(table)
    assert refresh.state.value in ("PENDING", "RUNNING", "SUCCESS")
    assert _finished(ws, table, refresh.refresh_id).state == MonitorRefreshInfoState.SUCCESS
    ids = [r.refresh_id for r in ws.quality_monitors.list_refreshes(table).refreshes]
    assert ids == [refresh.refresh_id, first.refresh_id]

    metrics = info.profile_metrics_table_name
    rows = sql(
        ws,
        f"SELECT column_name, count, num_nulls, min, max, round(avg, 4) FROM {metrics} "
        f"WHERE window.start = (SELECT max(window.start) FROM {metrics}) "
        "AND slice_key IS NULL ORDER BY column_name",
    )
    by_column = {r[0]: r[1:] for r in rows}
    assert by_column[":table"][0] == "100"  # the table's real row count
    assert by_column["fare"][:4] == ["90", "10", "1.5", "148.5"]
    assert by_column["id"][2:4] == ["0.0", "99.0"]
    drift = sql(
        ws,
        f"SELECT drift_type, count_delta FROM {info.drift_metrics_table_name} "
        "WHERE column_name = ':table'",
    )
    assert drift[-1] == ["CONSECUTIVE", "0.0"]
    assert ws.tables.get(metrics).columns[0].name == "window"

    sql(
        ws,
        "CREATE TABLE main.t_monitored.trips_baseline AS "
        "SELECT * FROM main.t_monitored.trips ORDER BY id LIMIT 40",
    )
    updated = ws.quality_monitors.update(
        table_name=table,
        output_schema_name="main.t_monitored",
        slicing_exprs=["payment"],
        baseline_table_name="main.t_monitored.trips_baseline",
    )
    assert updated.monitor_version == info.monitor_version + 1 and updated.snapshot is not None
    third = ws.quality_monitors.run_refresh(table)
    assert _finished(ws, table, third.refresh_id).state == MonitorRefreshInfoState.SUCCESS
    baseline = sql(
        ws,
        f"SELECT slice_value, count FROM {metrics} WHERE log_type = 'BASELINE' "
        "AND column_name = ':table' ORDER BY slice_value NULLS FIRST",
    )
    assert baseline == [[None, "40"], ["card", "20"], ["cash", "20"]]
    versus_baseline = sql(
        ws,
        f"SELECT count_delta FROM {info.drift_metrics_table_name} "
        "WHERE drift_type = 'BASELINE' AND column_name = ':table' AND slice_key IS NULL",
    )
    assert versus_baseline == [["60.0"]]
    ws.quality_monitors.delete(table)
    with pytest.raises(NotFound):
        ws.quality_monitors.get(table)
    assert ws.tables.exists(metrics).table_exists  # Databricks keeps the metric tables


def test_a_time_series_monitor_writes_one_window_per_day(ws: Any) -> None:
    ws.schemas.create(name="t_series", catalog_name="main")
    sql(
        ws,
        "CREATE TABLE main.t_series.events AS SELECT id, "
        "CAST(date_add(DATE '2024-01-01', CAST(id % 3 AS INT)) AS TIMESTAMP) AS ts "
        "FROM range(30) AS t(id)",
    )
    table = "main.t_series.events"
    ws.quality_monitors.create(
        table_name=table,
        output_schema_name="main.t_series",
        assets_dir="/Workspace/Users/me/monitoring",
        time_series=MonitorTimeSeries(timestamp_col="ts", granularities=["1 day"]),
    )
    first = ws.quality_monitors.list_refreshes(table).refreshes[0]
    assert _finished(ws, table, first.refresh_id).state == MonitorRefreshInfoState.SUCCESS
    rows = sql(
        ws,
        "SELECT CAST(window.start AS DATE), granularity, count FROM "
        "main.t_series.events_profile_metrics WHERE column_name = ':table' ORDER BY 1",
    )
    assert rows == [
        ["2024-01-01", "1 day", "10"],
        ["2024-01-02", "1 day", "10"],
        ["2024-01-03", "1 day", "10"],
    ]
    with pytest.raises(ResourceConflict):
        ws.quality_monitors.create(
            table_name=table,
            output_schema_name="main.t_series",
            assets_dir="/x",
            snapshot=MonitorSnapshot(),
        )


def _sdk_calls() -> list[tuple[str, str, str]]:
    """(service class, method, path with dummy ids) of every workspace-level call the SDK's
    catalog, sharing and data quality services make, read from the SDK's own source."""
    import ast
    import importlib.util

    calls = set()
    for module in ("catalog", "sharing", "dataquality", "qualitymonitorv2"):
        spec = importlib.util.find_spec(f"databricks.sdk.service.{module}")
        assert spec is not None and spec.origin is not None
        tree = ast.parse(Path(spec.origin).read_text())
        for cls in tree.body:
            if not isinstance(cls, ast.ClassDef) or not cls.name.endswith("API"):
                continue
            if cls.name.startswith("Account") or cls.name in ELSEWHERE:
                continue
            for node in ast.walk(cls):
                is_do = isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "do"
                if not is_do or len(node.args) < 2:
                    continue
                method, path = ast.literal_eval(node.args[0]), node.args[1]
                if isinstance(path, ast.JoinedStr):
                    # AI gateway resource names carry their collection ("mcp-services/c.s.x").
                    dummy = "mcp-services/zz.zz.zz" if cls.name == "AiGatewayAPI" else "zz_probe"
                    text = "".join(
                        str(v.value) if isinstance(v, ast.Constant) else dummy for v in path.values
                    )
                else:
                    text = str(ast.literal_eval(path))
                calls.add((cls.name, method, text))
    return sorted(calls)


def test_every_documented_endpoint_answers_as_databricks_not_no_api(ws: Any) -> None:
    import requests

    calls = _sdk_calls()
    assert len(calls) > 100
    unanswered = []
    for service, method, path in calls:
        response = requests.request(
            method,
            ws.config.host + path,
            headers={"Authorization": f"Bearer {ws.config.token}"},
            json={} if method in ("POST", "PATCH", "PUT") else None,
            timeout=10,
        )
        body = response.json()
        if body.get("error_code") == "ENDPOINT_NOT_FOUND" or response.status_code >= 500:
            unanswered.append(f"{service} {method} {path}: {response.status_code} {body}")
    assert unanswered == []


def test_unknown_paths_and_methods_answer_endpoint_not_found(ws: Any) -> None:
    status, body = raw(ws, "GET", "/api/2.1/unity-catalog/no-such-thing")
    assert (status, body) == (
        404,
        {
            "error_code": "ENDPOINT_NOT_FOUND",
            "message": "No API found for 'GET /unity-catalog/no-such-thing'",
        },
    )
    status, body = raw(ws, "PUT", "/api/2.1/unity-catalog/shares")
    assert (status, body["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    with pytest.raises(NotFound):
        ws.api_client.do("GET", "/api/2.0/no/such/api")


def test_the_data_quality_api_sees_and_refreshes_the_same_monitors(ws: Any) -> None:
    from databricks.sdk.service import dataquality as dq

    ws.schemas.create(name="t_dq", catalog_name="main")
    sql(ws, "CREATE TABLE main.t_dq.readings AS SELECT id, id % 7 AS v FROM range(50) AS t(id)")
    table_id = ws.tables.get("main.t_dq.readings").table_id
    schema_id = ws.schemas.get("main.t_dq").schema_id
    created = ws.data_quality.create_monitor(
        dq.Monitor(
            object_type="table",
            object_id=table_id,
            data_profiling_config=dq.DataProfilingConfig(
                output_schema_id=schema_id,
                assets_dir="/Workspace/Users/me/dq",
                snapshot=dq.SnapshotConfig(),
            ),
        )
    )
    config = created.data_profiling_config
    assert config.profile_metrics_table_name == "main.t_dq.readings_profile_metrics"
    assert config.status == dq.DataProfilingStatus.DATA_PROFILING_STATUS_ACTIVE
    assert ws.quality_monitors.get("main.t_dq.readings").monitor_version == 1
    refresh = ws.data_quality.create_refresh("table", table_id, dq.Refresh("table", table_id))
    deadline = time.monotonic() + 60
    while refresh.state.value.endswith(("PENDING", "RUNNING")) and time.monotonic() < deadline:
        time.sleep(0.1)
        refresh = ws.data_quality.get_refresh("table", table_id, refresh.refresh_id)
    assert refresh.state == dq.RefreshState.MONITOR_REFRESH_STATE_SUCCESS
    assert table_id in [m.object_id for m in ws.data_quality.list_monitor()]
    with pytest.raises(BadRequest) as refused:
        ws.data_quality.create_monitor(
            dq.Monitor(
                object_type="schema",
                object_id=schema_id,
                anomaly_detection_config=dq.AnomalyDetectionConfig(),
            )
        )
    assert refused.value.error_code == "FEATURE_DISABLED"
    ws.data_quality.delete_monitor("table", table_id)
    with pytest.raises(NotFound):
        ws.data_quality.get_monitor("table", table_id)


def test_a_share_made_in_sql_is_the_one_the_sdk_lists(ws: Any) -> None:
    ws.schemas.create(name="t_sql_share", catalog_name="main")
    sql(ws, "CREATE TABLE main.t_sql_share.items AS SELECT 1 AS id")
    sql(ws, "CREATE SHARE t_sql_made COMMENT 'from SQL'")
    sql(ws, "ALTER SHARE t_sql_made ADD TABLE main.t_sql_share.items")
    share = ws.shares.get("t_sql_made", include_shared_data=True)
    assert (share.comment, [o.name for o in share.objects]) == (
        "from SQL",
        ["main.t_sql_share.items"],
    )
    rows = sql(ws, "SHOW ALL IN SHARE t_sql_made")
    assert [r[:3] for r in rows] == [["t_sql_share.items", "TABLE", "main.t_sql_share.items"]]
    ws.shares.delete("t_sql_made")
    assert sql(ws, "SHOW SHARES LIKE 't_sql_made'") == []


def test_a_catalog_from_a_connection_or_a_share_fails_as_databricks_would_here(ws: Any) -> None:
    with pytest.raises(NotFound, match="Connection 'pg' does not exist"):
        ws.catalogs.create("t_foreign", connection_name="pg")
    with pytest.raises(NotFound) as missing:
        ws.catalogs.create("t_shared", provider_name="nobody", share_name="s")
    assert missing.value.error_code == "PROVIDER_DOES_NOT_EXIST"
    assert "t_foreign" not in [c.name for c in ws.catalogs.list()]
