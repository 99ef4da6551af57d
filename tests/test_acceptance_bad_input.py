"""Bad input through the MCP server: every error starts with a Databricks error code, says
what to do next, leaves nothing half written, and the server keeps answering."""

from __future__ import annotations

import re

import pytest

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
