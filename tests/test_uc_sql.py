"""Unity Catalog metadata through SQL, the REST API and the MCP tools, as a user meets it:
tags, comments, information_schema, SHOW CREATE TABLE, DESCRIBE HISTORY / SCHEMA / CATALOG."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ok, text_of

WAREHOUSE = "dbxlocal00000001"


def sql(ws: Any, statement: str, catalog: str | None = None) -> list[list[str | None]]:
    """Rows of a statement that must succeed."""
    response = ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE, statement=statement, wait_timeout="30s", catalog=catalog
    )
    error = response.status.error.message if response.status.error else ""
    assert response.status.state.value == "SUCCEEDED", f"{statement[:80]}: {error}"
    return (response.result.data_array or []) if response.result else []


@pytest.fixture
def schema(ws: Any) -> Iterator[str]:
    """A schema of the test's own in ``main``, dropped at the end."""
    name = f"main.t_ucsql_{uuid.uuid4().hex[:8]}"
    sql(ws, f"CREATE SCHEMA {name}")
    yield name
    sql(ws, f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.mark.anyio
async def test_tags_set_by_sql_show_in_information_schema_the_api_and_uc_get_table(
    ws: Any, mcp: Any, schema: str
) -> None:
    table = f"{schema}.customers"
    sql(ws, f"CREATE TABLE {table} (id BIGINT, email STRING)")
    sql(ws, f"ALTER TABLE {table} SET TAGS ('domain' = 'sales', 'certified')")
    sql(ws, f"ALTER TABLE {table} ALTER COLUMN email SET TAGS ('pii' = 'email')")
    short = schema.split(".")[1]
    rows = sql(
        ws,
        "SELECT table_name, tag_name, tag_value FROM main.information_schema.table_tags "
        f"WHERE schema_name = '{short}' ORDER BY tag_name",
    )
    assert rows == [["customers", "certified", ""], ["customers", "domain", "sales"]]
    columns = sql(
        ws,
        "SELECT column_name, tag_name, tag_value FROM system.information_schema.column_tags "
        f"WHERE catalog_name = 'main' AND schema_name = '{short}'",
    )
    assert columns == [["email", "pii", "email"]]

    # The Entity Tag Assignments API reads and writes the same tags.
    assigned = {t.tag_key: t.tag_value for t in ws.entity_tag_assignments.list("tables", table)}
    assert assigned == {"certified": None, "domain": "sales"}
    pii = ws.entity_tag_assignments.get("columns", f"{table}.email", "pii")
    assert (pii.tag_value, pii.entity_type, pii.updated_by is not None) == (
        "email",
        "columns",
        True,
    )
    from databricks.sdk.service.catalog import EntityTagAssignment

    ws.entity_tag_assignments.create(
        EntityTagAssignment(
            entity_name=table, entity_type="tables", tag_key="owner_team", tag_value="crm"
        )
    )
    ws.entity_tag_assignments.delete("tables", table, "certified")
    rows = sql(
        ws,
        "SELECT tag_name, tag_value FROM main.information_schema.table_tags "
        f"WHERE schema_name = '{short}' ORDER BY tag_name",
    )
    assert rows == [["domain", "sales"], ["owner_team", "crm"]]

    result = await ok(mcp, "uc_get_table", full_name=table)
    text = text_of(result)
    assert "tags: domain=sales, owner_team=crm" in text
    assert "| email | string |  | pii=email |" in text
    assert result.structured_content is not None
    assert result.structured_content["tags"] == {"domain": "sales", "owner_team": "crm"}


def test_tags_of_a_dropped_table_go_with_it(ws: Any, schema: str) -> None:
    table = f"{schema}.events"
    sql(ws, f"CREATE TABLE {table} (id INT)")
    sql(ws, f"SET TAG ON TABLE {table} stage = raw")
    sql(ws, f"DROP TABLE {table}")
    sql(ws, f"CREATE TABLE {table} (id INT)")
    assert list(ws.entity_tag_assignments.list("tables", table)) == []
    history = sql(ws, f"DESCRIBE HISTORY {table}")
    assert [(r[0], r[4]) for r in history] == [("0", "CREATE TABLE")]


def test_show_create_table_recreates_the_table_in_another_schema(ws: Any, schema: str) -> None:
    source = f"{schema}.orders"
    sql(
        ws,
        f"CREATE TABLE {source} (id BIGINT NOT NULL COMMENT 'order id', "
        "amount DECIMAL(12,2) COMMENT 'in \\'EUR\\'', placed TIMESTAMP, "
        "items ARRAY<STRING>, ship STRUCT<city: STRING, zip: INT>, region STRING) "
        "USING DELTA PARTITIONED BY (region) COMMENT 'all orders' "
        "TBLPROPERTIES ('quality' = 'gold')",
    )
    [[statement]] = sql(ws, f"SHOW CREATE TABLE {source}")
    assert statement.startswith(f"CREATE TABLE {source} (")
    assert "PARTITIONED BY (region)" in statement and "'quality' = 'gold'" in statement

    other = f"main.t_ucsql_copy_{uuid.uuid4().hex[:8]}"
    sql(ws, f"CREATE SCHEMA {other}")
    try:
        copy = f"{other}.orders"
        sql(ws, statement.replace(source, copy, 1))
        assert sql(ws, f"DESCRIBE TABLE {copy}") == sql(ws, f"DESCRIBE TABLE {source}")
        [[again]] = sql(ws, f"SHOW CREATE TABLE {copy}")
        assert again == statement.replace(source, copy, 1)
        original, copied = ws.tables.get(source), ws.tables.get(copy)
        shape = [(c.name, c.type_text, c.nullable, c.comment) for c in original.columns]
        assert shape == [(c.name, c.type_text, c.nullable, c.comment) for c in copied.columns]
        assert (copied.comment, copied.properties) == ("all orders", {"quality": "gold"})
    finally:
        sql(ws, f"DROP SCHEMA {other} CASCADE")


def test_describe_history_lists_the_writes_made(ws: Any, schema: str) -> None:
    table = f"{schema}.ledger"
    sql(ws, f"CREATE TABLE {table} (id INT, amount INT)")
    sql(ws, f"INSERT INTO {table} VALUES (1, 10), (2, 20), (3, 30)")
    sql(ws, f"UPDATE {table} SET amount = 11 WHERE id = 1")
    sql(ws, f"DELETE FROM {table} WHERE id = 3")
    sql(
        ws,
        f"MERGE INTO {table} t USING (SELECT 2 AS id, 99 AS amount) s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET amount = s.amount "
        "WHEN NOT MATCHED THEN INSERT (id, amount) VALUES (s.id, s.amount)",
    )
    response = ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE, statement=f"DESCRIBE HISTORY {table}", wait_timeout="30s"
    )
    names = [c.name for c in response.manifest.schema.columns]
    assert names[:6] == [
        "version",
        "timestamp",
        "userId",
        "userName",
        "operation",
        "operationParameters",
    ]
    assert "operationMetrics" in names and "isBlindAppend" in names
    rows = [dict(zip(names, row, strict=True)) for row in response.result.data_array]
    assert [(r["version"], r["operation"]) for r in rows] == [
        ("4", "MERGE"),
        ("3", "DELETE"),
        ("2", "UPDATE"),
        ("1", "WRITE"),
        ("0", "CREATE TABLE"),
    ]
    write = rows[3]
    assert json.loads(write["operationParameters"])["mode"] == "Append"
    assert json.loads(write["operationMetrics"]) == {"numOutputRows": "3"}
    assert json.loads(rows[2]["operationMetrics"]) == {"numUpdatedRows": "1"}
    assert json.loads(rows[1]["operationParameters"]) == {"predicate": '["(id = 3)"]'}
    assert [r["readVersion"] for r in rows] == ["3", "2", "1", "0", None]
    assert sql(ws, f"DESCRIBE HISTORY {table} LIMIT 1")[0][4] == "MERGE"


def test_information_schema_agrees_with_the_tables_api(ws: Any) -> None:
    tables = {t.name: t for t in ws.tables.list(catalog_name="samples", schema_name="tpch")}
    rows = sql(
        ws,
        "SELECT table_name, table_type, data_source_format FROM samples.information_schema.tables "
        "WHERE table_schema = 'tpch' ORDER BY table_name",
    )
    assert rows == [
        [name, t.table_type.value, t.data_source_format.value] for name, t in sorted(tables.items())
    ]
    columns = sql(
        ws,
        "SELECT table_name, column_name, ordinal_position, full_data_type, data_type, is_nullable "
        "FROM samples.information_schema.columns WHERE table_schema = 'tpch' "
        "ORDER BY table_name, ordinal_position",
    )
    expected = [
        [
            name,
            c.name,
            str(c.position + 1),
            c.type_text,
            c.type_name.value,
            "YES" if c.nullable else "NO",
        ]
        for name, t in sorted(tables.items())
        for c in sorted(t.columns, key=lambda c: c.position)
    ]
    assert columns == expected
    schemata = sql(ws, "SELECT schema_name FROM samples.information_schema.schemata ORDER BY 1")
    assert schemata == [[s.name] for s in sorted(ws.schemas.list("samples"), key=lambda s: s.name)]


def test_information_schema_follows_the_current_catalog(ws: Any) -> None:
    here = sql(ws, "SELECT DISTINCT table_catalog FROM information_schema.tables", "samples")
    assert here == [["samples"]]
    everywhere = sql(
        ws, "SELECT DISTINCT table_catalog FROM system.information_schema.tables ORDER BY 1"
    )
    assert ["samples"] in everywhere and len(everywhere) >= 1
    catalogs = sql(ws, "SELECT catalog_name FROM system.information_schema.catalogs")
    assert sorted(r[0] for r in catalogs) == sorted(c.name for c in ws.catalogs.list())


def test_describe_schema_and_catalog_answer_info_rows(ws: Any, schema: str) -> None:
    sql(ws, f"COMMENT ON SCHEMA {schema} IS 'scratch'")
    rows = dict(sql(ws, f"DESCRIBE SCHEMA {schema}"))  # type: ignore[arg-type]
    short = schema.split(".")[1]
    assert rows["Catalog Name"] == "main" and rows["Namespace Name"] == short
    assert rows["Comment"] == "scratch" and rows["Owner"] == ws.schemas.get(schema).owner
    extended = dict(sql(ws, "DESCRIBE CATALOG EXTENDED samples"))  # type: ignore[arg-type]
    assert extended["Catalog Name"] == "samples" and "Created At" in extended


def test_volume_tags_are_stored_like_the_others(ws: Any, schema: str) -> None:
    from databricks.sdk.service.catalog import VolumeType

    catalog_name, schema_name = schema.split(".")
    ws.volumes.create(catalog_name, schema_name, "landing", VolumeType.MANAGED)
    sql(ws, f"ALTER VOLUME {schema}.landing SET TAGS ('zone' = 'raw')")
    assigned = ws.entity_tag_assignments.list("volumes", f"{schema}.landing")
    assert [(t.tag_key, t.tag_value) for t in assigned] == [("zone", "raw")]
    rows = sql(
        ws,
        "SELECT volume_name, tag_name, tag_value FROM main.information_schema.volume_tags "
        f"WHERE schema_name = '{schema_name}'",
    )
    assert rows == [["landing", "zone", "raw"]]
    volumes = sql(
        ws,
        "SELECT volume_name, volume_type FROM main.information_schema.volumes "
        f"WHERE volume_schema = '{schema_name}'",
    )
    assert volumes == [["landing", "MANAGED"]]
    response = ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE,
        statement=f"ALTER VOLUME {schema}.missing SET TAGS ('zone' = 'raw')",
        wait_timeout="30s",
    )
    assert response.status.error.message.startswith("[UC_VOLUME_NOT_FOUND]")


def test_volume_tags_follow_a_rename_and_go_with_a_drop(ws: Any, schema: str) -> None:
    from databricks.sdk.service.catalog import VolumeType

    catalog_name, schema_name = schema.split(".")
    ws.volumes.create(catalog_name, schema_name, "inbox", VolumeType.MANAGED)
    sql(ws, f"ALTER VOLUME {schema}.inbox SET TAGS ('zone' = 'raw')")
    ws.volumes.update(f"{schema}.inbox", new_name="landing_zone")
    moved = ws.entity_tag_assignments.list("volumes", f"{schema}.landing_zone")
    assert [t.tag_key for t in moved] == ["zone"]
    ws.volumes.delete(f"{schema}.landing_zone")
    ws.volumes.create(catalog_name, schema_name, "landing_zone", VolumeType.MANAGED)
    assert list(ws.entity_tag_assignments.list("volumes", f"{schema}.landing_zone")) == []
