"""The Unity Catalog API of the local workspace, through the real databricks-sdk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from databricks.sdk.errors import BadRequest, NotFound, ResourceConflict
from databricks.sdk.service.catalog import (
    ColumnInfo,
    ColumnTypeName,
    DataSourceFormat,
    PermissionsChange,
    Privilege,
    TableType,
    VolumeType,
)

from local_workspace.config import LocalConfig
from local_workspace.runner import LocalWorkspace
from tools_core.backend import workspace_client


def test_samples_lists_its_schemas_and_tables(ws: Any) -> None:
    catalogs = {c.name for c in ws.catalogs.list()}
    assert {"main", "samples"} <= catalogs
    schemas = {s.name for s in ws.schemas.list(catalog_name="samples")}
    assert {"nyctaxi", "tpch"} <= schemas
    tpch = {t.name for t in ws.tables.list(catalog_name="samples", schema_name="tpch")}
    assert {"region", "nation", "customer", "orders", "lineitem", "part", "supplier"} <= tpch
    assert "default" in {s.name for s in ws.schemas.list(catalog_name="main")}


def test_get_table_shows_columns_with_databricks_types(ws: Any) -> None:
    trips = ws.tables.get("samples.nyctaxi.trips")
    assert trips.table_type == TableType.MANAGED
    assert trips.data_source_format == DataSourceFormat.DELTA
    assert trips.owner and trips.created_at and trips.comment
    columns = {c.name: c for c in trips.columns}
    assert list(columns) == [
        "tpep_pickup_datetime",
        "tpep_dropoff_datetime",
        "trip_distance",
        "fare_amount",
        "pickup_zip",
        "dropoff_zip",
    ]
    assert columns["tpep_pickup_datetime"].type_text == "timestamp"
    assert columns["tpep_pickup_datetime"].type_name == ColumnTypeName.TIMESTAMP
    assert columns["trip_distance"].type_name == ColumnTypeName.DOUBLE
    assert columns["pickup_zip"].type_text == "int"
    assert columns["fare_amount"].comment
    assert [c.position for c in trips.columns] == list(range(6))
    orders = {c.name: c for c in ws.tables.get("samples.tpch.orders").columns}
    assert orders["o_orderkey"].type_text == "bigint"
    assert orders["o_orderkey"].type_name == ColumnTypeName.LONG
    assert orders["o_totalprice"].type_text == "decimal(18,2)"
    assert orders["o_totalprice"].type_name == ColumnTypeName.DECIMAL
    assert (orders["o_totalprice"].type_precision, orders["o_totalprice"].type_scale) == (18, 2)
    assert orders["o_orderdate"].type_name == ColumnTypeName.DATE
    assert '"type":"decimal(18,2)"' in (orders["o_totalprice"].type_json or "")


def test_pagination_walks_every_catalog_one_per_page(ws: Any) -> None:
    ws.catalogs.create(name="t_uc_page_a")
    ws.catalogs.create(name="t_uc_page_b")
    everything = [c.name for c in ws.catalogs.list(max_results=0)]
    one_by_one = [c.name for c in ws.catalogs.list(max_results=1)]
    assert one_by_one == everything
    assert {"t_uc_page_a", "t_uc_page_b", "main", "samples"} <= set(everything)
    first = ws.api_client.do("GET", "/api/2.1/unity-catalog/catalogs", query={"max_results": 1})
    assert len(first["catalogs"]) == 1 and first["next_page_token"]
    whole = ws.api_client.do("GET", "/api/2.1/unity-catalog/catalogs", query={"max_results": 0})
    assert "next_page_token" not in whole
    tables = [t.name for t in ws.tables.list("samples", "tpch", max_results=3)]
    assert len(tables) == len(set(tables)) >= 7


def test_catalog_schema_and_volume_create_and_delete(ws: Any) -> None:
    created = ws.catalogs.create(name="t_uc_crud", comment="for a test")
    assert created.full_name == "t_uc_crud" and created.comment == "for a test"
    assert ws.catalogs.update("t_uc_crud", comment="changed").comment == "changed"
    with pytest.raises(ResourceConflict):
        ws.catalogs.create(name="t_uc_crud")
    schema = ws.schemas.create(name="raw_data", catalog_name="t_uc_crud", comment="raw")
    assert schema.full_name == "t_uc_crud.raw_data"
    volume = ws.volumes.create("t_uc_crud", "raw_data", "landing_files", VolumeType.MANAGED)
    assert volume.full_name == "t_uc_crud.raw_data.landing_files"
    assert volume.storage_location and Path(volume.storage_location).is_dir()
    assert [v.name for v in ws.volumes.list("t_uc_crud", "raw_data")] == ["landing_files"]
    assert ws.volumes.read("t_uc_crud.raw_data.landing_files").volume_type == VolumeType.MANAGED
    with pytest.raises(BadRequest):
        ws.schemas.delete("t_uc_crud.raw_data")  # not empty
    ws.volumes.delete("t_uc_crud.raw_data.landing_files")
    assert not Path(volume.storage_location).exists()
    ws.schemas.delete("t_uc_crud.raw_data")
    with pytest.raises(NotFound):
        ws.schemas.get("t_uc_crud.raw_data")
    ws.catalogs.delete("t_uc_crud")
    assert "t_uc_crud" not in {c.name for c in ws.catalogs.list()}


def test_a_non_empty_catalog_is_deleted_only_with_force(ws: Any) -> None:
    ws.catalogs.create(name="t_uc_force")
    ws.schemas.create(name="things", catalog_name="t_uc_force")
    with pytest.raises(BadRequest):
        ws.catalogs.delete("t_uc_force")
    ws.catalogs.delete("t_uc_force", force=True)
    with pytest.raises(NotFound):
        ws.catalogs.get("t_uc_force")


def test_missing_objects_raise_not_found_with_databricks_codes(ws: Any) -> None:
    cases = [
        (lambda: ws.catalogs.get("t_uc_nope"), "CATALOG_DOES_NOT_EXIST"),
        (lambda: ws.schemas.get("main.t_uc_nope"), "SCHEMA_DOES_NOT_EXIST"),
        (lambda: ws.tables.get("main.default.t_uc_nope"), "TABLE_DOES_NOT_EXIST"),
        (lambda: ws.tables.get("main.t_uc_nope.x"), "TABLE_DOES_NOT_EXIST"),
        (lambda: ws.volumes.read("main.default.t_uc_nope"), "RESOURCE_DOES_NOT_EXIST"),
        (lambda: ws.grants.get("table", "main.default.t_uc_nope"), "TABLE_DOES_NOT_EXIST"),
    ]
    for call, code in cases:
        with pytest.raises(NotFound) as caught:
            call()
        assert caught.value.error_code == code
    assert ws.tables.exists("main.default.t_uc_nope").table_exists is False


def test_a_table_created_through_the_api_is_queryable(ws: Any) -> None:
    from tests.test_pipelines_local_api import sql

    ws.schemas.create(name="t_uc_created", catalog_name="main")
    columns = [
        ColumnInfo(name="id", type_text="bigint", type_name=ColumnTypeName.LONG, position=0),
        ColumnInfo(
            name="amount",
            type_text="decimal(10,2)",
            type_name=ColumnTypeName.DECIMAL,
            position=1,
            comment="in EUR",
        ),
        ColumnInfo(
            name="tags", type_text="array<string>", type_name=ColumnTypeName.ARRAY, position=2
        ),
    ]
    table = ws.tables.create(
        name="sales_orders",
        catalog_name="main",
        schema_name="t_uc_created",
        table_type=TableType.MANAGED,
        data_source_format=DataSourceFormat.DELTA,
        storage_location="",
        columns=columns,
    )
    assert [(c.name, c.type_text) for c in table.columns] == [
        ("id", "bigint"),
        ("amount", "decimal(10,2)"),
        ("tags", "array<string>"),
    ]
    assert table.columns[1].comment == "in EUR"
    assert ws.tables.exists("main.t_uc_created.sales_orders").table_exists
    sql(ws, "INSERT INTO main.t_uc_created.sales_orders VALUES (1, 9.5, array('a'))")
    total = sql(ws, "SELECT sum(amount) FROM main.t_uc_created.sales_orders")
    assert float(total[0][0]) == pytest.approx(9.5)
    ws.tables.delete("main.t_uc_created.sales_orders")
    assert not ws.tables.exists("main.t_uc_created.sales_orders").table_exists


def test_grants_inherit_from_catalog_to_schema_to_table(ws: Any) -> None:
    from tests.test_pipelines_local_api import sql

    ws.catalogs.create(name="t_uc_grants")
    ws.schemas.create(name="sales", catalog_name="t_uc_grants")
    sql(ws, "CREATE TABLE t_uc_grants.sales.orders (id BIGINT)")
    ws.grants.update(
        "catalog",
        "t_uc_grants",
        changes=[PermissionsChange(principal="analysts", add=[Privilege.USE_CATALOG])],
    )
    ws.grants.update(
        "schema",
        "t_uc_grants.sales",
        changes=[PermissionsChange(principal="analysts", add=[Privilege.USE_SCHEMA])],
    )
    again = ws.grants.update(
        "table",
        "t_uc_grants.sales.orders",
        changes=[
            PermissionsChange(principal="analysts", add=[Privilege.SELECT, Privilege.MODIFY]),
            PermissionsChange(principal="analysts", add=[Privilege.SELECT]),  # idempotent
        ],
    )
    assert [(a.principal, a.privileges) for a in again.privilege_assignments] == [
        ("analysts", [Privilege.MODIFY, Privilege.SELECT])
    ]
    direct = ws.grants.get("table", "t_uc_grants.sales.orders", principal="analysts")
    assert direct.privilege_assignments[0].privileges == [Privilege.MODIFY, Privilege.SELECT]
    effective = ws.grants.get_effective("table", "t_uc_grants.sales.orders")
    got = {
        (p.privilege.value, p.inherited_from_type.value if p.inherited_from_type else None)
        for a in effective.privilege_assignments
        for p in a.privileges
    }
    assert got == {
        ("SELECT", None),
        ("MODIFY", None),
        ("USE_SCHEMA", "SCHEMA"),
        ("USE_CATALOG", "CATALOG"),
    }
    ws.grants.update(
        "table",
        "t_uc_grants.sales.orders",
        changes=[PermissionsChange(principal="analysts", remove=[Privilege.MODIFY])],
    )
    after = ws.grants.get("table", "t_uc_grants.sales.orders")
    assert after.privilege_assignments[0].privileges == [Privilege.SELECT]
    with pytest.raises(BadRequest):  # USE_CATALOG does not apply to a table
        ws.grants.update(
            "table",
            "t_uc_grants.sales.orders",
            changes=[PermissionsChange(principal="analysts", add=[Privilege.USE_CATALOG])],
        )
    ws.catalogs.delete("t_uc_grants", force=True)


def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    from tests.test_pipelines_local_api import sql

    config = LocalConfig(data_dir=tmp_path / "ws", warm_mlflow=False)
    with LocalWorkspace(config) as first:
        client = workspace_client(host=first.url, token=first.token, retry_timeout_seconds=5)
        client.schemas.create(name="kept_schema", catalog_name="main", comment="survives")
        client.catalogs.create(name="kept_catalog")
        sql(client, "CREATE TABLE main.kept_schema.kept_table (x INT)")
        sql(client, "INSERT INTO main.kept_schema.kept_table VALUES (42)")
    with LocalWorkspace(config) as second:
        client = workspace_client(host=second.url, token=second.token, retry_timeout_seconds=5)
        assert client.schemas.get("main.kept_schema").comment == "survives"
        assert client.catalogs.get("kept_catalog").name == "kept_catalog"
        table = client.tables.get("main.kept_schema.kept_table")
        assert [c.type_text for c in table.columns or []] == ["int"]
        assert sql(client, "SELECT x FROM main.kept_schema.kept_table") == [["42"]]
        assert "trips" in {t.name for t in client.tables.list("samples", "nyctaxi")}
