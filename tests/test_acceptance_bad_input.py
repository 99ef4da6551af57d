"""Bad input through the MCP server: every error starts with a Databricks error code, says
what to do next, leaves nothing half written, and the server keeps answering."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from server.errors import describe_error
from tests.conftest import fails, mcp_session, ok, text_of
from tools_core.backend import Backend, workspace_client

pytestmark = pytest.mark.anyio

ERROR_CODE = re.compile(r"^[A-Z][A-Z_]+: ")


def assert_actionable(message: str, code: str) -> None:
    assert ERROR_CODE.match(message), message
    assert message.startswith(f"{code}: "), message
    # A hint follows the description: more than one sentence.
    assert message.count(". ") >= 1 or message.count(": ") >= 2, message


async def test_each_kind_of_bad_input_gets_an_actionable_error(mcp) -> None:
    cases = [
        ("workspace_read", {"path": "/Users/nobody/missing"}, "RESOURCE_DOES_NOT_EXIST"),
        ("uc_get_table", {"full_name": "main.default.no_such_table"}, "TABLE_DOES_NOT_EXIST"),
        (
            "sql_query",
            {"statement": "SELECT * FROM main.default.no_such_table"},
            "TABLE_OR_VIEW_NOT_FOUND",
        ),
        ("sql_query", {"statement": "SELEC 1 FROM"}, "PARSE_SYNTAX_ERROR"),
        ("sql_query", {"statement": "SELECT 1", "warehouse_id": "nope"}, "RESOURCE_DOES_NOT_EXIST"),
        ("workspace_read", {}, "INVALID_PARAMETER_VALUE"),
    ]
    for tool, arguments, code in cases:
        message = await fails(mcp, tool, **arguments)
        assert_actionable(message, code)
    # The server is still up and answering.
    await ok(mcp, "sql_query", statement="SELECT 1 AS alive")


async def test_a_failed_create_table_as_select_leaves_no_table(mcp) -> None:
    await ok(mcp, "sql_execute", statement="CREATE SCHEMA IF NOT EXISTS main.t_bad_input")
    message = await fails(
        mcp,
        "sql_execute",
        statement="CREATE TABLE main.t_bad_input.half AS SELECT * FROM main.t_bad_input.missing",
    )
    assert_actionable(message, "TABLE_OR_VIEW_NOT_FOUND")
    tables = text_of(await ok(mcp, "uc_list_tables", catalog="main", schema="t_bad_input"))
    assert "half" not in tables


async def test_a_refused_overwrite_keeps_the_old_content(mcp) -> None:
    path = "/Users/dev@dbx-devkit.local/t_bad_input/kept.py"
    await ok(mcp, "workspace_write", path=path, content="print('v1')\n", kind="file")
    message = await fails(mcp, "workspace_write", path=path, content="print('v2')\n", kind="file")
    assert_actionable(message, "RESOURCE_ALREADY_EXISTS")
    assert "v1" in text_of(await ok(mcp, "workspace_read", path=path))


async def test_a_bad_token_says_to_run_doctor(local_ws) -> None:
    client = workspace_client(host=local_ws.url, token="dapi-wrong", retry_timeout_seconds=5)
    async with mcp_session(Backend(client, "local", local_ws.url)) as session:
        message = await fails(session, "uc_list_catalogs")
    assert_actionable(message, "UNAUTHENTICATED")
    assert "dbx-devkit doctor" in message
    assert "dapi-wrong" not in message


async def test_a_stopped_warehouse_is_refused_with_how_to_start_it(mcp, ws) -> None:
    created = ws.warehouses.create(name="t_bad_input_stopped", cluster_size="2X-Small").result()
    warehouse_id = created.id
    ws.warehouses.stop(warehouse_id).result()
    try:
        message = await fails(mcp, "sql_query", statement="SELECT 1", warehouse_id=warehouse_id)
        assert_actionable(message, "INVALID_STATE")
        assert "STOPPED" in message and "sql_list_warehouses" in message
    finally:
        ws.warehouses.delete(warehouse_id)


async def test_an_unknown_argument_is_refused_with_the_closest_name(mcp) -> None:
    """A misnamed argument must not be ignored: the call would silently do something else."""
    message = await fails(mcp, "uc_list_tables", catalog="samples", schema="tpch", filter="n*")
    assert_actionable(message, "INVALID_PARAMETER_VALUE")
    assert "'filter'" in message and "name_filter" in message


# -- bounded errors, local errors, ids and path segments (issue 11, item 9) -------------

MB = 1_000_000
ERROR_MAX_CHARS = 2000


async def test_a_one_megabyte_argument_gets_an_error_of_at_most_2000_chars(mcp) -> None:
    huge = "x" * MB
    cases: list[tuple[str, dict[str, Any]]] = [
        ("uc_get_table", {"full_name": huge}),
        ("uc_list_tables", {"catalog": huge, "schema": "tpch"}),
        ("workspace_read", {"path": "/" + huge}),
        ("sql_query", {"statement": "SELECT * FROM " + huge}),
        ("sql_get_result", {"statement_id": huge}),
        ("jobs_get", {"job_id": huge}),
        ("uc_list_schemas", {"catalog": "samples", huge: 1}),
        ("vs_query", {"index_name": "a.b.c", "query_vector": ["a"] * 10_000}),
    ]
    for tool, arguments in cases:
        message = await fails(mcp, tool, **arguments)
        assert ERROR_CODE.match(message), message[:200]
        assert len(message) <= ERROR_MAX_CHARS, (tool, len(message))
        # An echo of the input is cut, and says by how much.
        longest_echo = max((len(run) for run in re.findall("x+", message)), default=0)
        assert longest_echo <= 200, (tool, message[:300])
        assert longest_echo < 5 or "chars cut" in message, (tool, message[:300])


async def test_a_one_megabyte_value_in_a_sql_result_is_cut_in_the_page(mcp) -> None:
    result = await ok(mcp, "sql_query", statement="SELECT repeat('x', 1000000) AS big")
    assert len(text_of(result)) < 5_000
    assert "save_to" in text_of(result)


def test_a_file_name_too_long_is_a_local_error_not_an_unreachable_workspace(
    tmp_path: Path,
) -> None:
    with pytest.raises(OSError) as raised:
        (tmp_path / ("a" * 300 + ".csv")).write_text("x")
    message = describe_error(raised.value)
    assert message.startswith("INVALID_PARAMETER_VALUE: File name too long"), message
    assert "reach" not in message and len(message) < 600
    with pytest.raises(OSError) as denied:
        (tmp_path / "missing" / "x.csv").read_text()
    assert describe_error(denied.value).startswith("LOCAL_ERROR: "), describe_error(denied.value)
    # A connection that is really refused is still named as the workspace being unreachable.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(f"http://127.0.0.1:{port}/", timeout=5)
    assert describe_error(refused.value).startswith("TEMPORARILY_UNAVAILABLE: Cannot reach")


async def test_save_to_with_a_file_name_too_long_is_not_temporarily_unavailable(mcp) -> None:
    message = await fails(mcp, "sql_query", statement="SELECT 1", save_to="a" * 300 + ".csv")
    assert ERROR_CODE.match(message), message
    assert not message.startswith("TEMPORARILY_UNAVAILABLE"), message
    assert "Cannot reach the workspace" not in message


def test_an_id_beyond_int64_is_a_400_invalid_parameter_value_in_json(ws, local_ws) -> None:
    from databricks.sdk.errors import DatabricksError

    too_big = 2**63
    for call in (
        lambda: ws.jobs.get(too_big),
        lambda: ws.jobs.get_run(too_big),
        lambda: ws.jobs.get_run_output(too_big),
        lambda: list(ws.jobs.list_runs(job_id=too_big)),
        lambda: ws.jobs.cancel_run(too_big),
    ):
        with pytest.raises(DatabricksError) as raised:
            call()
        assert raised.value.error_code == "INVALID_PARAMETER_VALUE", raised.value
        assert "64-bit" in str(raised.value)
    headers = {"Authorization": f"Bearer {local_ws.token}"}
    for path in (
        f"/api/2.2/jobs/get?job_id={too_big}",
        f"/api/2.2/jobs/runs/get?run_id={-too_big - 1}",
        f"/api/2.0/mlflow/experiments/get?experiment_id={too_big}",
    ):
        answer = httpx.get(local_ws.url + path, headers=headers, timeout=30)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"


async def test_an_id_beyond_int64_through_a_tool_says_what_is_wrong(mcp) -> None:
    message = await fails(mcp, "jobs_get", job_id=2**63)
    assert message.startswith("INVALID_PARAMETER_VALUE: "), message
    assert "64-bit" in message


def test_an_unexpected_failure_of_the_workspace_answers_json_not_a_traceback(
    tmp_path: Path,
) -> None:
    from starlette.testclient import TestClient

    from local_workspace.app import create_app
    from local_workspace.config import LocalConfig

    app = create_app(LocalConfig(data_dir=tmp_path / "ws", seed=False, warm_mlflow=False))

    async def boom(request: Any) -> Any:
        raise RuntimeError("secret internals /etc/shadow")

    app.add_route("/api/2.0/boom", boom)
    token = app.state.workspace.token
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/2.0/boom", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error_code"] == "INTERNAL_ERROR"
    assert "secret" not in answer.text and "Traceback" not in answer.text


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1 that records the raw path of every request and
    answers each with a Databricks 404: what would reach a workspace."""
    paths: list[str] = []

    class Record(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            paths.append(self.path)
            if self.path.startswith("/.well-known/"):
                body, status = b'{"workspace_id":"1"}', 200
            else:
                body = b'{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"recorded."}'
                status = 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths
    finally:
        server.shutdown()
        server.server_close()


async def test_ids_and_names_that_would_change_the_route_are_refused_before_any_request(
    recorder: tuple[str, list[str]],
) -> None:
    url, paths = recorder
    client = workspace_client(host=url, token="dapi-recorder", retry_timeout_seconds=5)
    refused: list[tuple[str, dict[str, Any]]] = [
        ("sql_get_result", {"statement_id": "../../x"}),
        ("sql_get_result", {"statement_id": "%2e%2e%2fx"}),
        ("sql_get_result", {"statement_id": "a?b=1"}),
        ("sql_get_result", {"statement_id": "a#b"}),
        ("sql_get_result", {"statement_id": "a\x00b"}),
        ("sql_start_warehouse", {"warehouse_id": "../../../api/2.0/x"}),
        ("uc_get_table", {"full_name": "samples.tpch.../../x"}),
        ("uc_get_table", {"full_name": "samples/../x.tpch.orders"}),
        ("uc_get_grants", {"securable_type": "schema", "full_name": "main.../../x"}),
        ("uc_get_grants", {"securable_type": "catalog", "full_name": "a\nb"}),
        ("pipelines_get", {"pipeline_id": "../../x"}),
        ("pipelines_get_update", {"pipeline_id": "p", "update_id": "../u"}),
        ("serving_get_endpoint", {"name": ".."}),
        ("serving_get_endpoint", {"name": "a/../b"}),
        ("serving_query", {"name": "../x", "inputs": [1]}),
        ("vs_get_index", {"index_name": "a.b.c/../../d"}),
    ]
    async with mcp_session(Backend(client, "remote", url)) as session:
        before = list(paths)
        for tool, arguments in refused:
            message = await fails(session, tool, **arguments)
            assert message.startswith("INVALID_PARAMETER_VALUE: "), (tool, message)
        assert paths == before, paths[len(before) :]
        # Characters Unity Catalog allows in a name travel escaped, inside one segment.
        await fails(session, "uc_get_table", full_name="samples.tpch.a?b#c%2e%2e")
    assert paths[-1] == "/api/2.1/unity-catalog/tables/samples.tpch.a%3Fb%23c%252e%252e"
