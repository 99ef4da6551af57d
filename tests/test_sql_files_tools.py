"""The data-loading path an agent takes, through the in-memory MCP client: files_upload of a
local CSV into a volume, read_files of it, CTAS from read_files, COPY INTO run twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk.service.catalog import VolumeType

from tests.conftest import ok

pytestmark = pytest.mark.anyio

CSV = "trip_id,city,fare\n1,Paris,12.5\n2,Lyon,8.0\n3,Nice,20.25\n"


@pytest.fixture
def schema(ws: Any) -> Iterator[str]:
    name = f"t_files_sql_{uuid.uuid4().hex[:8]}"
    ws.schemas.create(name, "main")
    ws.volumes.create("main", name, "landing", VolumeType.MANAGED)
    yield name
    ws.schemas.delete(f"main.{name}", force=True)


async def test_upload_then_read_files_ctas_and_copy_into_through_mcp(
    mcp: Any, schema: str, tmp_path: Path
) -> None:
    local = tmp_path / "trips.csv"
    local.write_text(CSV)
    folder = f"/Volumes/main/{schema}/landing/trips"
    await ok(mcp, "files_upload", local_path=str(local), path=f"{folder}/trips.csv")

    read = f"SELECT * FROM read_files('{folder}/trips.csv', format => 'csv', header => true)"
    result = (await ok(mcp, "sql_query", statement=read)).structured_content
    assert [(c["name"], c["type"]) for c in result["columns"]] == [
        ("trip_id", "int"),
        ("city", "string"),
        ("fare", "double"),
        ("_rescued_data", "string"),
    ]
    assert result["rows"][0] == ["1", "Paris", "12.5", None]

    ctas = (
        f"CREATE TABLE main.{schema}.trips_bronze AS "
        f"SELECT * FROM read_files('{folder}', format => 'csv', header => true)"
    )
    await ok(mcp, "sql_execute", statement=ctas)
    counted = await ok(
        mcp, "sql_query", statement=f"SELECT count(*) FROM main.{schema}.trips_bronze"
    )
    assert counted.structured_content["rows"] == [["3"]]

    await ok(
        mcp,
        "sql_execute",
        statement=f"CREATE TABLE main.{schema}.trips (trip_id INT, city STRING, fare DOUBLE)",
    )
    copy = (
        f"COPY INTO main.{schema}.trips FROM '{folder}' FILEFORMAT = CSV "
        "FORMAT_OPTIONS ('header' = 'true', 'inferSchema' = 'true')"
    )
    first = (await ok(mcp, "sql_execute", statement=copy)).structured_content
    assert first["rows"] == [["3", "3", "0"]]
    second = (await ok(mcp, "sql_execute", statement=copy)).structured_content
    assert second["rows"] == [["0", "0", "0"]]
    listed = await ok(mcp, "sql_query", statement=f"LIST '{folder}'")
    assert [row[1] for row in listed.structured_content["rows"]] == ["trips.csv"]
