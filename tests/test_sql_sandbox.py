"""The local SQL warehouse is a sandbox: an escape corpus through every door, host canaries.

Each statement of the corpus is sent through ``sql_execute`` and ``sql_query`` (the full
server), ``sql_query`` of a ``--read-only`` server, and the SDK's Statement Execution API.
Every one must be refused with a Databricks error class, the canary file's content must never
come back, and no host file may be written (the canary folder, the data directory's state).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs
from databricks.sdk.service.sql import StatementState
from mcp import Client
from mcp.types import CallToolResult

from local_workspace.discovery import mlflow_state
from local_workspace.runner import LocalWorkspace
from tests.conftest import call, mcp_session, ok, text_of, wait_for
from tests.test_jobs_local_api import WAREHOUSE, folder, put_file, wait_run
from tools_core.backend import Backend
from tools_core.errors import ToolsCoreError
from tools_core.sql.readonly import check_read_only

pytestmark = pytest.mark.anyio

ROUTINE = "UNRESOLVED_ROUTINE"
SYNTAX = "PARSE_SYNTAX_ERROR"
CONFIG = "CONFIG_NOT_AVAILABLE"
NOT_LOCAL = "UNSUPPORTED_FEATURE"
NO_FILE = "INSUFFICIENT_PERMISSIONS"
MISSING = "TABLE_OR_VIEW_NOT_FOUND"
NO_CATALOG = "NO_SUCH_CATALOG_EXCEPTION"

# (category, statement, error class). {canary}: a host file whose content must never come
# back; {dir}: its folder (nothing may appear there); {data}: the workspace's data directory.
CORPUS: list[tuple[str, str, str]] = [
    # reads of host files
    ("reads", "SELECT * FROM read_text('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM read_text('/proc/self/environ')", ROUTINE),
    ("reads", "SELECT * FROM read_text('{data}/token')", ROUTINE),
    ("reads", "SELECT content FROM read_blob('{data}/uc.sqlite')", ROUTINE),
    ("reads", "SELECT * FROM read_blob('{data}/catalogs/main.duckdb')", ROUTINE),
    ("reads", "SELECT * FROM read_csv('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM read_csv_auto('{canary}', header = false)", ROUTINE),
    ("reads", "SELECT * FROM read_json('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM read_json_auto('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM read_json_objects('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM read_ndjson('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM read_ndjson_auto('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM read_parquet('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM parquet_scan('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM parquet_metadata('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM parquet_schema('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM sniff_csv('{canary}')", ROUTINE),
    ("reads", "SELECT * FROM sqlite_scan('{data}/uc.sqlite', 'catalogs')", ROUTINE),
    ("reads", "SELECT * FROM read_duckdb('{data}/catalogs/main.duckdb')", ROUTINE),
    ("reads", "SELECT * FROM query('SELECT * FROM read_text(''{canary}'')')", ROUTINE),
    ("reads", "SELECT * FROM query_table('uc_samples.tpch.orders')", ROUTINE),
    ("reads", "SELECT * FROM '{canary}'", SYNTAX),
    ("reads", "SELECT * FROM `{canary}`", SYNTAX),
    ("reads", "SELECT * FROM csv.`{canary}`", NO_FILE),
    ("reads", "SELECT * FROM text.`{canary}`", NO_FILE),
    ("reads", "FROM '{canary}'", SYNTAX),
    ("reads", "SELECT * FROM range(1), 'canary.csv'", SYNTAX),
    ("reads", "SELECT * FROM TABLE(read_text('{canary}'))", ROUTINE),
    ("reads", "SELECT * FROM read_files('{canary}')", NO_FILE),
    ("reads", "SELECT * FROM read_files('file:{canary}', format => 'text')", NO_FILE),
    ("reads", "SELECT * FROM read_files('/Volumes/main/default/v/../../../..{canary}')", NO_FILE),
    ("reads", "SELECT * FROM read_files('{data}/volumes/main/default/v/x.csv')", NO_FILE),
    ("reads", "SELECT * FROM json.`/Volumes/../{canary}`", NO_FILE),
    ("reads", "COPY INTO main.default.sandbox_t FROM '{canary}' FILEFORMAT = CSV", NO_FILE),
    (
        "reads",
        "COPY INTO main.default.sandbox_t FROM (SELECT * FROM '{canary}') FILEFORMAT = CSV",
        NO_FILE,
    ),
    ("reads", "LIST '{dir}'", NO_FILE),
    ("reads", "LIST '/Volumes/main/default/v/../../..{dir}'", NO_FILE),
    # writes to host paths
    ("writes", "COPY (SELECT 1 AS a) TO '{dir}/out.csv'", SYNTAX),
    ("writes", "COPY (SELECT 1 AS a) TO '{data}/uc.sqlite'", SYNTAX),
    ("writes", "COPY (SELECT 1 AS a) TO '{data}/token' (FORMAT csv)", SYNTAX),
    ("writes", "COPY (SELECT 1 AS a) TO '{data}/catalogs/out.csv'", SYNTAX),
    ("writes", "COPY (SELECT 1 AS a) TO '{data}/volumes/out.parquet' (FORMAT parquet)", SYNTAX),
    ("writes", "COPY samples.tpch.orders TO '{dir}/orders.csv'", SYNTAX),
    ("writes", "EXPORT DATABASE '{dir}/export'", SYNTAX),
    ("writes", "EXPORT DATABASE '{data}/volumes/export'", SYNTAX),
    ("writes", "IMPORT DATABASE '{dir}'", SYNTAX),
    ("writes", "INSERT OVERWRITE DIRECTORY '{dir}/dir' SELECT 1", SYNTAX),
    ("writes", "SELECT * INTO sandbox_into FROM samples.tpch.orders", SYNTAX),
    # extensions and secrets
    ("extensions", "INSTALL httpfs", SYNTAX),
    ("extensions", "FORCE INSTALL httpfs", SYNTAX),
    ("extensions", "INSTALL sqlite FROM community", SYNTAX),
    ("extensions", "LOAD httpfs", SYNTAX),
    ("extensions", "LOAD json", SYNTAX),
    ("extensions", "LOAD '{dir}/evil.duckdb_extension'", SYNTAX),
    ("extensions", "UPDATE EXTENSIONS", SYNTAX),
    ("extensions", "SELECT * FROM duckdb_extensions()", ROUTINE),
    ("extensions", "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')", SYNTAX),
    ("extensions", "CREATE PERSISTENT SECRET s (TYPE http)", SYNTAX),
    ("extensions", "SELECT * FROM which_secret('s3://b/x', 's3')", ROUTINE),
    # attach / detach
    ("attach", "ATTACH '{dir}/x.duckdb' AS x", SYNTAX),
    ("attach", "ATTACH DATABASE '{data}/catalogs/evil.duckdb' AS evil", SYNTAX),
    ("attach", "ATTACH '{data}/uc.sqlite' AS meta (TYPE sqlite)", SYNTAX),
    ("attach", "ATTACH ':memory:' AS m", SYNTAX),
    ("attach", "DETACH uc_samples", SYNTAX),
    ("attach", "DETACH DATABASE samples", SYNTAX),
    ("attach", "USE uc_samples.tpch", NO_CATALOG),
    ("attach", "USE CATALOG uc_samples", NO_CATALOG),
    ("attach", "SELECT * FROM uc_samples.tpch.orders", MISSING),
    ("attach", "SELECT * FROM __dlt_progress.main.seen", MISSING),
    ("attach", "SELECT uc_samples.main.abs(-1)", ROUTINE),
    # engine settings
    ("settings", "SET enable_external_access = true", CONFIG),
    ("settings", "SET lock_configuration = false", CONFIG),
    ("settings", "SET allowed_directories = ['/']", CONFIG),
    ("settings", "SET memory_limit = '1GB'", CONFIG),
    ("settings", "SET threads = 1", CONFIG),
    ("settings", "SET threads TO 1", CONFIG),
    ("settings", "SET temp_directory = '{dir}'", CONFIG),
    ("settings", "SET profiling_output = '{dir}/profile.json'", CONFIG),
    ("settings", "SET GLOBAL threads = 1", SYNTAX),
    ("settings", "SET SESSION TimeZone = 'UTC'", SYNTAX),
    ("settings", "SET threads", CONFIG),
    ("settings", "RESET threads", CONFIG),
    ("settings", "PRAGMA threads = 1", SYNTAX),
    ("settings", "PRAGMA enable_profiling", SYNTAX),
    ("settings", "CALL pragma_version()", SYNTAX),
    ("settings", "CHECKPOINT", SYNTAX),
    ("settings", "SET TIME ZONE 'Mars/Olympus_Mons'", "INVALID_CONF_VALUE"),
    # metadata that leaks host paths or internal names
    ("metadata", "SELECT * FROM duckdb_databases()", ROUTINE),
    ("metadata", "SELECT * FROM duckdb_settings()", ROUTINE),
    ("metadata", "SELECT * FROM DuckDB_Tables()", ROUTINE),
    ("metadata", "SELECT * FROM pragma_database_list()", ROUTINE),
    ("metadata", "SELECT * FROM pragma_database_list", MISSING),
    ("metadata", "PRAGMA database_list", SYNTAX),
    ("metadata", "SELECT current_setting('temp_directory')", ROUTINE),
    ("metadata", "SELECT getenv('HOME')", ROUTINE),
    ("metadata", "SELECT current_query()", ROUTINE),
    ("metadata", "SELECT json_serialize_plan('SELECT * FROM read_text(''{canary}'')')", ROUTINE),
    ("metadata", "SELECT * FROM pg_catalog.pg_settings", MISSING),
    ("metadata", "SELECT * FROM information_schema.character_sets", MISSING),
    ("metadata", "SELECT * FROM glob('{dir}/*')", SYNTAX),
    # URLs
    ("urls", "SELECT * FROM read_csv('https://example.com/data.csv')", ROUTINE),
    ("urls", "SELECT * FROM read_parquet('s3://bucket/data.parquet')", ROUTINE),
    ("urls", "SELECT * FROM read_json('http://127.0.0.1:9/x.json')", ROUTINE),
    ("urls", "SELECT * FROM 'https://example.com/data.csv'", SYNTAX),
    ("urls", "SELECT * FROM 's3://bucket/data.parquet'", SYNTAX),
    ("urls", "SELECT * FROM 'hf://datasets/x/y.parquet'", SYNTAX),
    # nesting: the same readers hidden anywhere in the tree
    ("nesting", "WITH t AS (SELECT * FROM read_text('{canary}')) SELECT * FROM t", ROUTINE),
    ("nesting", "SELECT * FROM (SELECT * FROM (SELECT * FROM read_text('{canary}')))", ROUTINE),
    ("nesting", "SELECT (SELECT content FROM read_text('{canary}')) AS c", ROUTINE),
    (
        "nesting",
        "SELECT 1 WHERE EXISTS (SELECT 1 FROM read_text('{canary}') WHERE content LIKE 'C%')",
        ROUTINE,
    ),
    ("nesting", "SELECT 1 UNION ALL SELECT size FROM read_blob('{canary}')", ROUTINE),
    ("nesting", "SELECT * FROM range(1), LATERAL read_text('{canary}')", ROUTINE),
    ("nesting", "SELECT * FROM range(1) r JOIN read_text('{canary}') t ON true", ROUTINE),
    (
        "nesting",
        "CREATE VIEW main.default.sandbox_v AS SELECT * FROM read_text('{canary}')",
        ROUTINE,
    ),
    (
        "nesting",
        "CREATE TABLE main.default.sandbox_ctas AS SELECT * FROM read_csv_auto('{canary}')",
        ROUTINE,
    ),
    ("nesting", "INSERT INTO main.default.sandbox_t SELECT * FROM read_text('{canary}')", ROUTINE),
    (
        "nesting",
        "MERGE INTO main.default.sandbox_t t USING (SELECT * FROM read_text('{canary}')) s "
        "ON t.filename = s.filename WHEN NOT MATCHED THEN INSERT *",
        ROUTINE,
    ),
    ("nesting", "EXPLAIN SELECT * FROM read_text('{canary}')", ROUTINE),
    ("nesting", "EXPLAIN EXTENDED SELECT * FROM read_text('{canary}')", ROUTINE),
    ("nesting", "EXPLAIN COPY (SELECT 1) TO '{dir}/explained.csv'", SYNTAX),
    ("nesting", "SELECT * FROM ReAd_TeXt('{canary}')", ROUTINE),
    ("nesting", "SELECT * FROM `read_text`('{canary}')", ROUTINE),
    ("nesting", "SELECT * FROM main.read_text('{canary}')", ROUTINE),
    ("nesting", "SELECT * FROM system.main.read_blob('{canary}')", ROUTINE),
    (
        "nesting",
        "CREATE FUNCTION main.default.sandbox_f() RETURNS STRING "
        "RETURN (SELECT content FROM read_text('{canary}'))",
        ROUTINE,
    ),
    ("nesting", "CREATE MACRO sandbox_m() AS TABLE SELECT * FROM read_text('{canary}')", SYNTAX),
    ("nesting", "CREATE SEQUENCE main.default.sandbox_seq", SYNTAX),
]


@dataclass
class Host:
    """The host files the corpus aims at."""

    canary: Path
    secret: str
    data_dir: Path
    internal: re.Pattern[str]  # the DuckDB aliases of the catalogs (uc_main, uc_samples...)

    def fill(self, statement: str) -> str:
        """The statement with its placeholders filled in."""
        return statement.format(canary=self.canary, dir=self.canary.parent, data=self.data_dir)

    def snapshot(self) -> dict[str, object]:
        """What must not change: state files' content and times, the folders' listings."""
        state = {
            name: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
            for name in ("uc.sqlite", "token")
            if (path := self.data_dir / name).exists()
        }
        listings = {
            str(folder): sorted(p.name for p in folder.iterdir())
            for folder in (
                self.canary.parent,
                self.data_dir,
                self.data_dir / "catalogs",
                self.data_dir / "volumes",
            )
        }
        return {"state": state, "listings": listings, "canary": self.canary.read_text()}


@dataclass
class Doors:
    """MCP clients of the full server (as the ``mcp`` fixture builds it) and of a read-only
    one, built once for the module: building a server costs seconds, a call ~0.1 s."""

    full: Client
    read_only: Client


@pytest.fixture(scope="module")
async def doors(backend: Backend) -> AsyncIterator[Doors]:
    async with (
        mcp_session(backend, output_schemas=True) as full,
        mcp_session(backend, read_only=True) as read_only,
    ):
        yield Doors(full, read_only)


@pytest.fixture(scope="module")
def host(
    tmp_path_factory: pytest.TempPathFactory, local_ws: LocalWorkspace, ws: WorkspaceClient
) -> Iterator[Host]:
    secret = f"CANARY-{uuid.uuid4().hex}"
    canary = tmp_path_factory.mktemp("host") / "canary.csv"
    canary.write_text(f"secret\n{secret}\n")
    names = sorted(str(c.name) for c in ws.catalogs.list())
    internal = re.compile(r"\buc_(?:" + "|".join(map(re.escape, names)) + r")\b", re.I)
    # The workspace warms MLflow a few seconds after it starts (creating mlflow/ in its data
    # dir): let that be done, so the listings compare what the statements alone change.
    wait_for(lambda: mlflow_state(local_ws.url) in ("ready", "unavailable"), timeout=120)
    yield Host(canary, secret, Path(local_ws.config.data_dir), internal)


def _expected_for_sql_query(statement: str, error_class: str) -> str:
    """What sql_query answers: its read-only guard's refusal, or the warehouse's error."""
    try:
        check_read_only(statement)
    except ToolsCoreError as exc:
        return exc.error_code
    return error_class


@pytest.mark.parametrize(
    ("category", "statement", "error_class"),
    CORPUS,
    ids=[f"{category}-{i}" for i, (category, _, _) in enumerate(CORPUS)],
)
async def test_an_escape_attempt_is_refused_through_every_door(
    doors: Doors,
    ws: WorkspaceClient,
    host: Host,
    category: str,
    statement: str,
    error_class: str,
) -> None:
    sql = host.fill(statement)
    before = host.snapshot()
    answers: list[tuple[str, str]] = []

    # confirm=true: an attacker confirms, so the statement reaches the warehouse itself.
    text = text_of(await _refused(doors.full, "sql_execute", sql, confirm=True))
    assert text.startswith(error_class), f"sql_execute: {text}"
    answers.append(("sql_execute", text))
    guard = _expected_for_sql_query(sql, error_class)
    text = text_of(await _refused(doors.full, "sql_query", sql))
    assert text.startswith(guard), f"sql_query: {text}"
    answers.append(("sql_query", text))
    text = text_of(await _refused(doors.read_only, "sql_query", sql))
    assert text.startswith(guard), f"read-only sql_query: {text}"
    answers.append(("read-only sql_query", text))

    response = ws.statement_execution.execute_statement(
        statement=sql, warehouse_id=WAREHOUSE, wait_timeout="30s"
    )
    assert response.status and response.status.state == StatementState.FAILED, response
    error = response.status.error
    assert error is not None and error.message is not None
    assert error.message.startswith(f"[{error_class}"), error.message
    assert f"SQLSTATE: {response.status.sql_state}" in error.message
    answers.append(("sdk", error.message))

    for door, answer in answers:
        assert host.secret not in answer, f"{door} leaked the canary: {answer}"
        if not host.internal.search(sql):
            assert not host.internal.search(answer), f"{door} named an internal alias: {answer}"
    assert host.snapshot() == before, "a host file changed"


async def _refused(client: Client, tool: str, statement: str, **arguments: bool) -> CallToolResult:
    result = await call(client, tool, statement=statement, **arguments)
    assert result.is_error, f"{tool} ran {statement!r}: {text_of(result)}"
    return result


# -- what keeps working --------------------------------------------------------------------


def _run(ws: WorkspaceClient, statement: str, **kwargs: str) -> list[list[str | None]]:
    response = ws.statement_execution.execute_statement(
        statement=statement, warehouse_id=WAREHOUSE, wait_timeout="30s", **kwargs
    )
    assert response.status and response.status.state == StatementState.SUCCEEDED, response
    return response.result.data_array if response.result and response.result.data_array else []


def test_catalogs_tables_and_samples_work_under_the_lock_down(ws: WorkspaceClient) -> None:
    name = f"sandbox_{uuid.uuid4().hex[:6]}"
    _run(ws, f"CREATE CATALOG {name}")
    try:
        _run(ws, f"CREATE TABLE {name}.default.t AS SELECT * FROM range(3) r(id)")
        _run(ws, f"INSERT INTO {name}.default.t VALUES (10)")
        assert _run(ws, f"SELECT count(*), max(id) FROM {name}.default.t") == [["4", "10"]]
        assert _run(ws, "SELECT count(*) FROM t", catalog=name, schema="default") == [["4"]]
    finally:
        _run(ws, f"DROP CATALOG {name} CASCADE")
    assert _run(ws, "SELECT count(*) FROM samples.tpch.orders") == [["3000"]]
    assert _run(ws, "SELECT pos, col FROM posexplode(array('a', 'b'))") == [["0", "a"], ["1", "b"]]


@pytest.mark.parametrize(
    "statement",
    [
        "USE CATALOG samples",
        "USE samples.tpch",
        "SET TIME ZONE 'America/Los_Angeles'",
        "SET TIME ZONE '+05:30'",
        "SET TIME ZONE LOCAL",
        "SET TIMEZONE = 'Europe/Paris'",
        "SET ansi_mode = true",
        "SET spark.sql.shuffle.partitions = 8",
        "SET VAR x = 1",
        "RESET",
        "RESET ansi_mode",
    ],
)
async def test_databricks_session_statements_still_run(doors: Doors, statement: str) -> None:
    result = await ok(doors.full, "sql_execute", statement=statement)
    assert "Not run" not in text_of(result)


def test_set_time_zone_lasts_for_its_own_request_only(ws: WorkspaceClient) -> None:
    instant = "SELECT CAST(TIMESTAMP'2024-01-01 00:00:00+00:00' AS STRING)"
    _run(ws, "SET TIME ZONE 'America/Los_Angeles'")
    # The Statement Execution API runs every request in a session of its own (UTC).
    shown = _run(ws, instant)[0][0]
    assert shown and shown.startswith("2024-01-01 00:00:00"), shown


def test_a_sql_file_task_is_one_session_and_cannot_escape(ws: WorkspaceClient, host: Host) -> None:
    base = folder(ws)
    schema = f"main.t_sandbox_{uuid.uuid4().hex[:6]}"
    session = put_file(
        ws,
        f"{base}/session.sql",
        f"CREATE SCHEMA {schema};\n"
        "SET TIME ZONE 'America/Los_Angeles';\n"
        f"USE {schema};\n"
        "CREATE TABLE shown AS SELECT CAST(TIMESTAMP'2024-01-01 00:00:00+00:00' AS STRING) AS s;\n"
        "SET TIME ZONE '+05:30';\n"
        "INSERT INTO shown SELECT CAST(TIMESTAMP'2024-01-01 00:00:00+00:00' AS STRING);\n",
    )
    escape = put_file(
        ws,
        f"{base}/escape.sql",
        f"COPY (SELECT 1 AS a) TO '{host.canary.parent}/task.csv';\n",
    )
    before = host.snapshot()
    run_id = ws.jobs.submit(
        run_name="t_sandbox_sql",
        tasks=[
            jobs.SubmitTask(
                task_key=key,
                sql_task=jobs.SqlTask(
                    warehouse_id=WAREHOUSE,
                    file=jobs.SqlTaskFile(path=path, source=jobs.Source.WORKSPACE),
                ),
            )
            for key, path in (("session", session), ("escape", escape))
        ],
    ).run_id
    run = wait_run(ws, run_id)
    tasks = {t.task_key: t for t in run.tasks or []}
    assert tasks["session"].state and tasks["session"].state.result_state == (
        jobs.RunResultState.SUCCESS
    ), tasks["session"].state
    shown = [row[0] or "" for row in _run(ws, f"SELECT s FROM {schema}.shown ORDER BY s")]
    assert shown[0].startswith("2023-12-31 16:00:00"), shown  # America/Los_Angeles
    assert shown[1].startswith("2024-01-01 05:30:00"), shown  # +05:30
    escaped = tasks["escape"].state
    assert escaped and escaped.result_state == jobs.RunResultState.FAILED
    output = ws.jobs.get_run_output(tasks["escape"].run_id)  # type: ignore[arg-type]
    assert "PARSE_SYNTAX_ERROR" in (output.error or ""), output.error
    assert host.snapshot() == before
