"""SQL over Unity Catalog volumes: read_files, csv.`path`, COPY INTO and LIST, through the real
SDK's Statement Execution API, and the sandbox around them (host paths, `..`, links)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from databricks.sdk.service.catalog import VolumeType
from databricks.sdk.service.sql import StatementResponse, StatementState

from local_workspace.runner import LocalWorkspace

WAREHOUSE = "dbxlocal00000001"
CATALOG, SCHEMA, VOLUME = "main", "t_sql_files", "landing"
BASE = f"/Volumes/{CATALOG}/{SCHEMA}/{VOLUME}"
CSV = "id,name,price,day\n1,apple,1.5,2024-01-02\n2,pear,2.25,2024-02-03\n3,fig,,2024-03-04\n"


def put(ws: Any, path: str, content: str | bytes) -> None:
    """Upload a file into the volume with the real SDK's Files API (folders come with it)."""
    data = content.encode() if isinstance(content, str) else content
    ws.files.upload(f"{BASE}/{path}", io.BytesIO(data), overwrite=True)


def run(ws: Any, statement: str) -> StatementResponse:
    return ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE, statement=statement, wait_timeout="30s"
    )


def rows(ws: Any, statement: str) -> list[list[str | None]]:
    response = run(ws, statement)
    assert response.status.state == StatementState.SUCCEEDED, response.status.error
    return (response.result.data_array or []) if response.result else []


def columns(ws: Any, statement: str) -> list[tuple[str, str]]:
    response = run(ws, statement)
    assert response.status.state == StatementState.SUCCEEDED, response.status.error
    return [(c.name, c.type_text) for c in response.manifest.schema.columns]


def error(ws: Any, statement: str) -> str:
    response = run(ws, statement)
    assert response.status.state == StatementState.FAILED, "the statement should have failed"
    return str(response.status.error.message)


@pytest.fixture(scope="module")
def volume(ws: Any, local_ws: LocalWorkspace) -> Iterator[Path]:
    """A managed volume with a few files uploaded through the Files API, and its folder on
    the host (only the link tests plant files there by hand)."""
    ws.schemas.create(SCHEMA, CATALOG)
    ws.volumes.create(CATALOG, SCHEMA, VOLUME, VolumeType.MANAGED)
    folder = Path(local_ws.config.data_dir) / "volumes" / CATALOG / SCHEMA / VOLUME
    assert folder.is_dir()
    put(ws, "fruit.csv", CSV)
    put(ws, "raw/a.csv", "id,name\n1,a\n2,b\n")
    put(ws, "raw/b.csv", "id,name\n3,c\n")
    put(ws, "raw/_hidden.csv", "id,name\n99,hidden\n")
    put(ws, "text/notes.txt", "first line\nsecond line\n")
    events = [
        {"user": "ann", "n": 3, "ts": "2024-01-01T10:00:00"},
        {"user": "bob", "n": 5, "tags": ["x", "y"]},
    ]
    put(ws, "events.json", "\n".join(json.dumps(e) for e in events) + "\n")
    buffer = io.BytesIO()
    pq.write_table(pa.table({"k": [1, 2], "v": ["one", "two"]}), buffer)
    put(ws, "data.parquet", buffer.getvalue())
    yield folder
    ws.schemas.delete(f"{CATALOG}.{SCHEMA}", force=True)


def test_read_files_reads_a_csv_with_header_into_typed_columns(ws: Any, volume: Path) -> None:
    statement = f"SELECT * FROM read_files('{BASE}/fruit.csv', format => 'csv', header => true)"
    assert columns(ws, statement) == [
        ("id", "INT"),
        ("name", "STRING"),
        ("price", "DOUBLE"),
        ("day", "DATE"),
        ("_rescued_data", "STRING"),
    ]
    assert rows(ws, statement + " ORDER BY id") == [
        ["1", "apple", "1.5", "2024-01-02", None],
        ["2", "pear", "2.25", "2024-02-03", None],
        ["3", "fig", None, "2024-03-04", None],
    ]


def test_read_files_csv_defaults_and_options(ws: Any, volume: Path) -> None:
    # No header: the header line is data, columns _c0.. (types inferred: all strings here).
    headerless = rows(ws, f"SELECT _c0, _c1 FROM read_files('{BASE}/fruit.csv') LIMIT 1")
    assert headerless == [["id", "name"]]
    hinted = (
        f"read_files('{BASE}/fruit.csv', header => true, schemaHints => 'id BIGINT, price STRING')"
    )
    assert columns(ws, f"SELECT id, price FROM {hinted}") == [("id", "BIGINT"), ("price", "STRING")]
    schema = "a STRING, b STRING, c STRING, d STRING"
    fixed = f"read_files('{BASE}/fruit.csv', header => true, schema => '{schema}')"
    assert [c for c, _ in columns(ws, f"SELECT * FROM {fixed}")] == ["a", "b", "c", "d"]
    assert "CF_UNKNOWN_OPTION_KEYS_ERROR" in error(
        ws, f"SELECT * FROM read_files('{BASE}/fruit.csv', bogus => 1)"
    )


def test_read_files_reads_json_and_parquet(ws: Any, volume: Path) -> None:
    statement = f"SELECT * FROM read_files('{BASE}/events.json', format => 'json')"
    # Fields sorted by name, strings stay strings, _rescued_data last.
    assert columns(ws, statement) == [
        ("n", "BIGINT"),
        ("tags", "ARRAY<STRING>"),
        ("ts", "STRING"),
        ("user", "STRING"),
        ("_rescued_data", "STRING"),
    ]
    assert rows(ws, f"SELECT user, n, ts FROM read_files('{BASE}/events.json') ORDER BY n") == [
        ["ann", "3", "2024-01-01T10:00:00"],
        ["bob", "5", None],
    ]
    assert rows(ws, f"SELECT k, v FROM read_files('{BASE}/data.parquet') ORDER BY k") == [
        ["1", "one"],
        ["2", "two"],
    ]
    assert rows(ws, f"SELECT v FROM parquet.`{BASE}/data.parquet` WHERE k = 2") == [["two"]]


def test_a_folder_and_a_glob_read_every_matching_file(ws: Any, volume: Path) -> None:
    folder = (
        f"SELECT id FROM read_files('{BASE}/raw/', format => 'csv', header => true) ORDER BY id"
    )
    assert rows(ws, folder) == [["1"], ["2"], ["3"]]  # _hidden.csv skipped
    glob = f"SELECT count(*) FROM read_files('{BASE}/raw/*.csv', header => true)"
    assert rows(ws, glob) == [["3"]]
    braces = f"SELECT name FROM read_files('{BASE}/raw/{{b,x}}.csv', header => true)"
    assert rows(ws, braces) == [["c"]]


def test_direct_file_queries_read_like_spark(ws: Any, volume: Path) -> None:
    assert rows(ws, f"SELECT * FROM csv.`{BASE}/raw/b.csv`") == [["id", "name"], ["3", "c"]]
    assert rows(ws, f"SELECT value FROM text.`{BASE}/text/notes.txt`") == [
        ["first line"],
        ["second line"],
    ]
    assert rows(ws, f"SELECT user FROM json.`{BASE}/events.json` ORDER BY user") == [
        ["ann"],
        ["bob"],
    ]
    binary = rows(
        ws, f"SELECT path, length FROM read_files('{BASE}/raw/b.csv', format => 'binaryFile')"
    )
    assert binary == [[f"dbfs:{BASE}/raw/b.csv", "12"]]


def test_ctas_from_read_files_creates_a_typed_table(ws: Any, volume: Path) -> None:
    name = f"{CATALOG}.{SCHEMA}.fruit"
    rows(ws, f"CREATE TABLE {name} AS SELECT * FROM read_files('{BASE}/fruit.csv', header => true)")
    table = ws.tables.get(name)
    assert [(c.name, c.type_text) for c in table.columns][:2] == [("id", "int"), ("name", "string")]
    assert rows(ws, f"SELECT sum(id) FROM {name}") == [["6"]]


def test_copy_into_loads_each_file_once(ws: Any, volume: Path) -> None:
    name = f"{CATALOG}.{SCHEMA}.bronze"
    rows(ws, f"CREATE TABLE {name} (id INT, name STRING)")
    put(ws, "in/one.csv", "id,name\n1,a\n2,b\n")
    copy = (
        f"COPY INTO {name} FROM '{BASE}/in' FILEFORMAT = CSV "
        "FORMAT_OPTIONS ('header' = 'true', 'inferSchema' = 'true')"
    )
    response = run(ws, copy)
    assert [c.name for c in response.manifest.schema.columns] == [
        "num_affected_rows",
        "num_inserted_rows",
        "num_skipped_corrupt_files",
    ]
    assert response.result.data_array == [["2", "2", "0"]]
    assert rows(ws, copy) == [["0", "0", "0"]]  # already loaded: skipped
    put(ws, "in/two.csv", "id,name\n3,c\n")
    assert rows(ws, copy) == [["1", "1", "0"]]  # only the new file
    assert rows(ws, f"SELECT count(*) FROM {name}") == [["3"]]
    forced = copy + " COPY_OPTIONS ('force' = 'true')"
    assert rows(ws, forced) == [["3", "3", "0"]]
    # Each load that wrote rows is a table version; a load that skipped everything is not.
    history = rows(ws, f"DESCRIBE HISTORY {name}")
    assert [h[4] for h in history] == ["COPY INTO", "COPY INTO", "COPY INTO", "CREATE TABLE"]


def test_copy_into_with_files_pattern_select_and_merge_schema(ws: Any, volume: Path) -> None:
    name = f"{CATALOG}.{SCHEMA}.events"
    rows(ws, f"CREATE TABLE {name} (user STRING)")
    plain = f"COPY INTO {name} FROM '{BASE}' FILEFORMAT = JSON FILES = ('events.json')"
    assert "DELTA_METADATA_MISMATCH" in error(ws, plain)
    assert rows(ws, f"SELECT count(*) FROM {name}") == [["0"]]  # nothing half done
    merged = plain + " COPY_OPTIONS ('mergeSchema' = 'true')"
    assert rows(ws, merged) == [["2", "2", "0"]]
    assert "n" in [c.name for c in ws.tables.get(name).columns]
    target = f"{CATALOG}.{SCHEMA}.picked"
    rows(ws, f"CREATE TABLE {target} (id BIGINT, label STRING)")
    select = (
        f"COPY INTO {target} FROM (SELECT id::bigint AS id, upper(name) AS label "
        f"FROM '{BASE}/raw') FILEFORMAT = CSV PATTERN = '[ab].csv' "
        "FORMAT_OPTIONS ('header' = 'true')"
    )
    assert rows(ws, select) == [["3", "3", "0"]]
    assert rows(ws, f"SELECT label FROM {target} ORDER BY id") == [["A"], ["B"], ["C"]]


def test_list_shows_the_entries_of_a_volume_folder(ws: Any, volume: Path) -> None:
    response = run(ws, f"LIST '{BASE}/raw' LIMIT 10")
    assert [c.name for c in response.manifest.schema.columns] == [
        "path",
        "name",
        "size",
        "modification_time",
    ]
    listed = {r[1]: r for r in response.result.data_array}
    assert listed["a.csv"][0] == f"dbfs:{BASE}/raw/a.csv"
    assert listed["a.csv"][2] == str(len("id,name\n1,a\n2,b\n"))
    assert int(listed["a.csv"][3]) > 1_600_000_000_000
    assert len(rows(ws, f"LIST '{BASE}/raw' LIMIT 1")) == 1


def test_paths_outside_volumes_are_refused(ws: Any, volume: Path, tmp_path: Path) -> None:
    for path in (
        "/etc/passwd",
        "file:/etc/passwd",
        f"{BASE}/../../../../etc/passwd",
        f"{BASE}/raw/../fruit.csv",
    ):
        message = error(ws, f"SELECT * FROM read_files('{path}', format => 'text')")
        assert "INSUFFICIENT_PERMISSIONS" in message, message
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret\n")
    os.symlink(secret, volume / "link.txt")
    os.symlink(tmp_path, volume / "linkdir")
    try:
        for statement in (
            f"SELECT * FROM read_files('{BASE}/link.txt', format => 'text')",
            f"SELECT * FROM read_files('{BASE}/linkdir/secret.txt', format => 'text')",
            f"SELECT * FROM text.`{BASE}/link.txt`",
            f"SELECT * FROM read_files('{BASE}/', format => 'text')",
            f"SELECT * FROM read_files('{BASE}/link*', format => 'text')",
            f"COPY INTO {CATALOG}.{SCHEMA}.fruit FROM '{BASE}' FILEFORMAT = CSV "
            "FILES = ('link.txt')",
        ):
            message = error(ws, statement)
            assert "INSUFFICIENT_PERMISSIONS" in message, (statement, message)
            assert "host secret" not in message
    finally:
        (volume / "link.txt").unlink()
        (volume / "linkdir").unlink()
    assert "host secret" not in str(rows(ws, f"LIST '{BASE}'"))


def test_missing_volumes_and_files_fail_as_on_databricks(ws: Any, volume: Path) -> None:
    missing = error(ws, f"SELECT * FROM read_files('/Volumes/{CATALOG}/{SCHEMA}/nope/x.csv')")
    assert f"[UC_VOLUME_NOT_FOUND] Volume `{CATALOG}`.`{SCHEMA}`.`nope` does not exist" in missing
    assert "PATH_NOT_FOUND" in error(ws, f"SELECT * FROM read_files('{BASE}/none.csv')")
    assert "UC_VOLUME_NOT_FOUND" in error(ws, f"LIST '/Volumes/{CATALOG}/{SCHEMA}/nope'")


def test_engine_errors_never_show_host_paths(
    ws: Any, volume: Path, local_ws: LocalWorkspace
) -> None:
    put(ws, "bad.json", "{not json")
    message = error(ws, f"SELECT * FROM read_files('{BASE}/bad.json')")
    assert str(local_ws.config.data_dir) not in message
    ws.files.delete(f"{BASE}/bad.json")


def test_list_and_read_files_pass_the_read_only_guard_of_sql_query() -> None:
    from tools_core.errors import ToolsCoreError
    from tools_core.sql.readonly import check_read_only

    check_read_only(f"LIST '{BASE}/raw' LIMIT 5")
    check_read_only(f"SELECT * FROM read_files('{BASE}/fruit.csv', header => true)")
    with pytest.raises(ToolsCoreError):
        check_read_only(f"COPY INTO t FROM '{BASE}' FILEFORMAT = CSV")
    with pytest.raises(ToolsCoreError):
        check_read_only(f"LIST '{BASE}'; DROP TABLE t")


def test_copy_into_fills_an_empty_placeholder_table(ws: Any, volume: Path) -> None:
    name = f"{CATALOG}.{SCHEMA}.landing_auto"
    rows(ws, f"CREATE TABLE IF NOT EXISTS {name}")
    rows(ws, f"CREATE TABLE IF NOT EXISTS {name}")  # a no-op the second time
    assert "TABLE_OR_VIEW_ALREADY_EXISTS" in error(ws, f"CREATE TABLE {name}")
    copy = (
        f"COPY INTO {name} FROM '{BASE}/raw' FILEFORMAT = CSV PATTERN = '*.csv' "
        "FORMAT_OPTIONS ('header' = 'true', 'inferSchema' = 'true')"
    )
    assert "DELTA_METADATA_MISMATCH" in error(ws, copy)
    merged = copy + " COPY_OPTIONS ('mergeSchema' = 'true')"
    assert rows(ws, merged) == [["3", "3", "0"]]
    assert [(c.name, c.type_text) for c in ws.tables.get(name).columns] == [
        ("id", "int"),
        ("name", "string"),
    ]
    assert rows(ws, merged) == [["0", "0", "0"]]
    dropped = f"{CATALOG}.{SCHEMA}.never_loaded"
    rows(ws, f"CREATE TABLE {dropped}")
    rows(ws, f"DROP TABLE {dropped}")
    rows(ws, f"CREATE TABLE {dropped}")  # the name is free again


def test_read_files_options_partitions_and_sql_around_it(ws: Any, volume: Path) -> None:
    put(ws, "opts/semi.csv", "a;b\n1;x\n")
    put(ws, "opts/array.json", '[\n {"z": 1, "a": "q"},\n {"z": 2}\n]\n')
    for year in (2023, 2024):
        put(ws, f"opts/year={year}/part.csv", f"v\n{year % 100}\n")
    semi = f"read_files('{BASE}/opts/semi.csv', header => true, sep => ';')"
    assert rows(ws, f"SELECT a, b FROM {semi}") == [["1", "x"]]
    array = f"read_files('{BASE}/opts/array.json', multiLine => true)"
    assert rows(ws, f"SELECT a, z FROM {array} ORDER BY z") == [["q", "1"], [None, "2"]]
    parts = f"read_files('{BASE}/opts/year=*/', format => 'csv', header => true)"
    assert rows(ws, f"SELECT year, v FROM {parts} ORDER BY year") == [
        ["2023", "23"],
        ["2024", "24"],
    ]
    text = f"read_files('{BASE}/text/notes.txt')"  # the format from the extension
    assert rows(ws, f"SELECT count(*) FROM {text}") == [["2"]]
    joined = (
        f"SELECT f.name, e.user FROM read_files('{BASE}/raw/a.csv', header => true) AS f "
        f"JOIN json.`{BASE}/events.json` AS e ON f.id = 1 AND e.n = 3"
    )
    assert rows(ws, joined) == [["a", "ann"]]
    table = f"{CATALOG}.{SCHEMA}.appended"
    rows(ws, f"CREATE TABLE {table} (id INT, name STRING)")
    inserted = rows(
        ws, f"INSERT INTO {table} SELECT id, name FROM read_files('{BASE}/raw/', header => true)"
    )
    assert inserted == [["3", "3"]]
    view = f"CREATE VIEW {CATALOG}.{SCHEMA}.v AS SELECT * FROM read_files('{BASE}/raw/a.csv')"
    assert "UNSUPPORTED_FEATURE" in error(ws, view)


def test_read_files_takes_parameter_markers_and_explains(
    ws: Any, volume: Path, local_ws: LocalWorkspace
) -> None:
    from databricks.sdk.service.sql import StatementParameterListItem

    response = ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE,
        statement="SELECT count(*) FROM read_files(:path, format => :fmt, header => true)",
        parameters=[
            StatementParameterListItem(name="path", value=f"{BASE}/raw/"),
            StatementParameterListItem(name="fmt", value="csv"),
        ],
        wait_timeout="30s",
    )
    assert response.status.state == StatementState.SUCCEEDED, response.status.error
    assert response.result.data_array == [["3"]]
    plan = rows(ws, f"EXPLAIN SELECT * FROM read_files('{BASE}/raw/a.csv', header => true)")
    assert str(local_ws.config.data_dir) not in plan[0][0]


def test_copy_into_by_position_and_onto_listed_columns(ws: Any, volume: Path) -> None:
    put(ws, "headerless/p.csv", "7,seven\n8,eight\n")
    name = f"{CATALOG}.{SCHEMA}.positions"
    rows(ws, f"CREATE TABLE {name} (label STRING, id INT)")
    listed = f"COPY INTO {name} (id, label) FROM '{BASE}/headerless' FILEFORMAT = CSV"
    assert rows(ws, listed) == [["2", "2", "0"]]
    assert rows(ws, f"SELECT id, label FROM {name} ORDER BY id") == [["7", "seven"], ["8", "eight"]]
    other = f"{CATALOG}.{SCHEMA}.positions2"
    rows(ws, f"CREATE TABLE {other} (id INT, label STRING)")
    by_position = f"COPY INTO {other} BY POSITION FROM '{BASE}/headerless' FILEFORMAT = CSV"
    assert rows(ws, by_position) == [["2", "2", "0"]]
    assert rows(ws, f"SELECT sum(id) FROM {other}") == [["15"]]


def test_a_placeholder_goes_with_its_schema(ws: Any) -> None:
    schema = f"{CATALOG}.t_sql_files_gone"
    rows(ws, f"CREATE SCHEMA {schema}")
    rows(ws, f"CREATE TABLE {schema}.later")
    rows(ws, f"DROP SCHEMA {schema} CASCADE")
    rows(ws, f"CREATE SCHEMA {schema}")
    rows(ws, f"CREATE TABLE {schema}.later")  # not "already exists"
    rows(ws, f"DROP SCHEMA {schema} CASCADE")


def test_the_hidden_metadata_column_names_each_rows_file(ws: Any, volume: Path) -> None:
    read = f"read_files('{BASE}/raw/', format => 'csv', header => true)"
    named = rows(ws, f"SELECT id, _metadata.file_name, _metadata.file_path FROM {read} ORDER BY id")
    assert named == [
        ["1", "a.csv", f"dbfs:{BASE}/raw/a.csv"],
        ["2", "a.csv", f"dbfs:{BASE}/raw/a.csv"],
        ["3", "b.csv", f"dbfs:{BASE}/raw/b.csv"],
    ]
    # Hidden: * does not list it, even in a statement that reads it.
    star = f"SELECT *, _metadata.file_size AS size FROM {read} AS r ORDER BY id LIMIT 1"
    assert [c for c, _ in columns(ws, star)] == ["id", "name", "_rescued_data", "size"]
    name = f"{CATALOG}.{SCHEMA}.with_source"
    rows(ws, f"CREATE TABLE {name} (id BIGINT, source STRING)")
    copy = (
        f"COPY INTO {name} FROM (SELECT id::bigint AS id, _metadata.file_name AS source "
        f"FROM '{BASE}/raw') FILEFORMAT = CSV FORMAT_OPTIONS ('header' = 'true')"
    )
    assert rows(ws, copy) == [["3", "3", "0"]]
    assert rows(ws, f"SELECT source FROM {name} ORDER BY id") == [["a.csv"], ["a.csv"], ["b.csv"]]
