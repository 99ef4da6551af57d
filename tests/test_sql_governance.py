"""Unity Catalog SQL functions, identity functions, row filters and column masks.

Set-up runs through the SDK's Statement Execution API; what a user reads goes through the
`sql_query` MCP tool. The workspace's single user is in `admins` and `users`; SCIM groups
(`w.groups`) decide whether it is in `hr` too, so both sides of a mask are shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.iam import Patch, PatchOp, PatchSchema

from tests.conftest import ok

WAREHOUSE = "dbxlocal00000001"


def run(ws: Any, statement: str) -> list[list[str | None]]:
    response = ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE, statement=statement, wait_timeout="30s"
    )
    state = response.status.state.value
    error = response.status.error.message if response.status.error else ""
    assert state == "SUCCEEDED", f"{statement}: {error}"
    return (response.result.data_array or []) if response.result else []


def error_of(ws: Any, statement: str) -> str:
    response = ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE, statement=statement, wait_timeout="30s"
    )
    assert response.status.state.value == "FAILED", statement
    return str(response.status.error.message)


@pytest.fixture
def schema(ws: Any) -> Iterator[str]:
    name = f"main.gov_{uuid.uuid4().hex[:8]}"
    run(ws, f"CREATE SCHEMA {name}")
    yield name
    run(ws, f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture
def people(ws: Any, schema: str) -> str:
    """A table whose ssn is masked for non-members of `hr`, and whose rows outside `US` are
    only for `hr` members."""
    run(
        ws,
        f"CREATE FUNCTION {schema}.mask_ssn(ssn STRING) RETURNS STRING "
        "RETURN CASE WHEN is_account_group_member('hr') THEN ssn ELSE '***' END",
    )
    run(
        ws,
        f"CREATE FUNCTION {schema}.region_filter(region STRING) RETURNS BOOLEAN "
        "RETURN is_member('hr') OR region = 'US'",
    )
    run(ws, f"CREATE TABLE {schema}.people (id INT, name STRING, ssn STRING, region STRING)")
    run(
        ws,
        f"INSERT INTO {schema}.people VALUES (1, 'ann', '111-11', 'US'), "
        "(2, 'bob', '222-22', 'EU'), (3, 'cy', '333-33', 'US')",
    )
    run(ws, f"ALTER TABLE {schema}.people ALTER COLUMN ssn SET MASK {schema}.mask_ssn")
    run(ws, f"ALTER TABLE {schema}.people SET ROW FILTER {schema}.region_filter ON (region)")
    return f"{schema}.people"


@pytest.fixture
def hr_group(ws: Any) -> Iterator[Any]:
    """A SCIM group `hr` without the user (yet)."""
    existing = [g for g in ws.groups.list(filter='displayName eq "hr"')]
    for group in existing:
        ws.groups.delete(group.id)
    group = ws.groups.create(display_name="hr")
    yield group
    ws.groups.delete(group.id)


def join_hr(ws: Any, group: Any, member: bool) -> None:
    me = ws.current_user.me()
    ws.groups.patch(
        group.id,
        operations=[
            Patch(
                op=PatchOp.ADD if member else PatchOp.REMOVE,
                path="members",
                value=[{"value": me.id}],
            )
        ],
        schemas=[PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP],
    )


def test_identity_functions_answer_from_the_local_user_and_its_scim_groups(ws: Any) -> None:
    me = ws.current_user.me()
    assert {g.display for g in me.groups or []} >= {"admins", "users"}
    rows = run(
        ws,
        "SELECT current_user(), session_user(), is_account_group_member('admins'), "
        "is_member('users'), is_member('nobody'), current_catalog(), current_schema()",
    )
    assert rows == [[me.user_name, me.user_name, "true", "true", "false", "main", "default"]]


@pytest.mark.anyio
async def test_a_mask_and_a_row_filter_change_what_a_non_member_reads(
    ws: Any, mcp: Any, people: str, hr_group: Any
) -> None:
    query = f"SELECT id, name, ssn FROM {people} ORDER BY id"
    outsider = (await ok(mcp, "sql_query", statement=query)).structured_content["rows"]
    assert outsider == [["1", "ann", "***"], ["3", "cy", "***"]]

    join_hr(ws, hr_group, member=True)
    assert "hr" in {g.display for g in ws.current_user.me().groups or []}
    member = (await ok(mcp, "sql_query", statement=query)).structured_content["rows"]
    assert member == [["1", "ann", "111-11"], ["2", "bob", "222-22"], ["3", "cy", "333-33"]]

    join_hr(ws, hr_group, member=False)
    again = (await ok(mcp, "sql_query", statement=query)).structured_content["rows"]
    assert again == outsider


def test_every_read_of_a_protected_table_is_filtered_and_masked(
    ws: Any, schema: str, people: str
) -> None:
    assert run(ws, f"SELECT * FROM {people} ORDER BY id") == [
        ["1", "ann", "***", "US"],
        ["3", "cy", "***", "US"],
    ]
    assert run(
        ws,
        f"SELECT p.ssn, q.name FROM {people} p JOIN {people} AS q ON p.id = q.id ORDER BY q.name",
    ) == [["***", "ann"], ["***", "cy"]]
    assert run(ws, f"SELECT count(*) FROM (SELECT * FROM {people})") == [["2"]]
    assert run(ws, f"WITH c AS (SELECT ssn FROM {people}) SELECT DISTINCT ssn FROM c") == [["***"]]
    run(ws, f"CREATE VIEW {schema}.v AS SELECT id, ssn FROM {people}")
    assert run(ws, f"SELECT * FROM {schema}.v ORDER BY id") == [["1", "***"], ["3", "***"]]
    run(ws, f"CREATE TABLE {schema}.copy AS SELECT * FROM {people}")
    assert run(ws, f"SELECT id, ssn FROM {schema}.copy ORDER BY id") == [
        ["1", "***"],
        ["3", "***"],
    ]
    run(ws, f"CREATE TABLE {schema}.sink (id INT, ssn STRING)")
    run(ws, f"INSERT INTO {schema}.sink SELECT id, ssn FROM {people}")
    assert run(ws, f"SELECT count(*), max(ssn) FROM {schema}.sink") == [["2", "***"]]


def test_writes_change_only_the_rows_the_filter_shows(ws: Any, people: str) -> None:
    assert run(ws, f"UPDATE {people} SET name = upper(name)") == [["2"]]
    assert run(ws, f"DELETE FROM {people} WHERE id > 0") == [["2"]]
    run(ws, f"ALTER TABLE {people} DROP ROW FILTER")
    run(ws, f"ALTER TABLE {people} ALTER COLUMN ssn DROP MASK")
    assert run(ws, f"SELECT * FROM {people}") == [["2", "bob", "222-22", "EU"]]


def test_policies_show_in_the_table_info_and_go_when_dropped(ws: Any, people: str) -> None:
    info = ws.tables.get(people)
    assert info.row_filter.function_name.endswith(".region_filter")
    assert info.row_filter.input_column_names == ["region"]
    ssn = next(c for c in info.columns if c.name == "ssn")
    assert ssn.mask.function_name.endswith(".mask_ssn")
    assert next(c for c in info.columns if c.name == "id").mask is None
    run(ws, f"ALTER TABLE {people} DROP ROW FILTER")
    assert ws.tables.get(people).row_filter is None


def test_create_table_takes_mask_and_row_filter_clauses(ws: Any, schema: str) -> None:
    run(ws, f"CREATE FUNCTION {schema}.redact(s STRING) RETURNS STRING RETURN 'x'")
    run(ws, f"CREATE FUNCTION {schema}.positive(n INT) RETURNS BOOLEAN RETURN n > 0")
    run(
        ws,
        f"CREATE TABLE {schema}.t (n INT, secret STRING MASK {schema}.redact) "
        f"WITH ROW FILTER {schema}.positive ON (n)",
    )
    run(ws, f"INSERT INTO {schema}.t VALUES (-1, 'a'), (2, 'b')")
    assert run(ws, f"SELECT * FROM {schema}.t") == [["2", "x"]]


def test_policy_errors_are_databricks_errors(ws: Any, schema: str, people: str) -> None:
    assert "ROUTINE" in error_of(ws, f"ALTER TABLE {people} SET ROW FILTER {schema}.nope ON (id)")
    assert "UNRESOLVED_COLUMN" in error_of(
        ws, f"ALTER TABLE {people} SET ROW FILTER {schema}.region_filter ON (nope)"
    )
    assert "TABLE_OR_VIEW_NOT_FOUND" in error_of(
        ws, f"ALTER TABLE {schema}.missing ALTER COLUMN a SET MASK {schema}.mask_ssn"
    )


def test_sql_functions_run_with_three_level_names_and_describe_themselves(
    ws: Any, schema: str
) -> None:
    run(
        ws,
        f"CREATE FUNCTION {schema}.area(w DOUBLE, h DOUBLE DEFAULT 2) RETURNS DOUBLE "
        "COMMENT 'w times h' RETURN w * h",
    )
    short = schema.split(".")[1]
    assert run(ws, f"SELECT {schema}.area(3, 4), {short}.area(1.5)") == [["12.0", "3.0"]]
    assert "ROUTINE_ALREADY_EXISTS" in error_of(
        ws, f"CREATE FUNCTION {schema}.area(w DOUBLE) RETURNS DOUBLE RETURN w"
    )
    run(ws, f"CREATE OR REPLACE FUNCTION {schema}.area(w DOUBLE) RETURNS DOUBLE RETURN w * w")
    assert run(ws, f"SELECT {schema}.area(3)") == [["9.0"]]
    run(
        ws,
        f"CREATE FUNCTION {schema}.squares(n INT) RETURNS TABLE (id BIGINT, sq BIGINT) "
        "RETURN SELECT id, id * id FROM range(n)",
    )
    assert run(ws, f"SELECT * FROM {schema}.squares(3)") == [["0", "0"], ["1", "1"], ["2", "4"]]
    described = [r[0] for r in run(ws, f"DESCRIBE FUNCTION EXTENDED {schema}.area")]
    assert described[0] == f"Function: {schema}.area"
    assert "Returns:  DOUBLE" in described and "Body:          w * w" in described
    shown = run(ws, f"SHOW USER FUNCTIONS IN {schema}")
    assert shown == [[f"{schema}.area"], [f"{schema}.squares"]]
    run(ws, f"DROP FUNCTION {schema}.area")
    assert "ROUTINE_NOT_FOUND" in error_of(ws, f"DROP FUNCTION {schema}.area")
    run(ws, f"DROP FUNCTION IF EXISTS {schema}.area")
    assert "UNSUPPORTED_FEATURE" in error_of(
        ws,
        f"CREATE FUNCTION {schema}.py(x INT) RETURNS INT LANGUAGE PYTHON AS $$ return x $$",
    )


def test_the_functions_api_lists_gets_and_deletes_sql_functions(ws: Any, schema: str) -> None:
    catalog, name = schema.split(".")
    run(
        ws,
        f"CREATE FUNCTION {schema}.plus(a INT, b INT) RETURNS INT COMMENT 'adds' RETURN a + b",
    )
    listed = list(ws.functions.list(catalog_name=catalog, schema_name=name))
    assert [f.full_name for f in listed] == [f"{schema}.plus"]
    info = ws.functions.get(f"{schema}.plus")
    assert info.routine_body.value == "SQL"
    assert info.routine_definition == "a + b"
    assert info.data_type.value == "INT" and info.full_data_type == "INT"
    assert info.comment == "adds"
    params = info.input_params.parameters
    assert [(p.name, p.type_text, p.position) for p in params] == [("a", "int", 0), ("b", "int", 1)]
    ws.functions.delete(f"{schema}.plus")
    with pytest.raises(NotFound):
        ws.functions.get(f"{schema}.plus")
    assert list(ws.functions.list(catalog_name=catalog, schema_name=name)) == []
    assert "UNRESOLVED_ROUTINE" in error_of(ws, f"SELECT {schema}.plus(1, 2)")


def test_describe_extended_shows_the_row_filter_and_the_masks(ws: Any, people: str) -> None:
    rows = run(ws, f"DESCRIBE TABLE EXTENDED {people}")
    assert ["ssn", "string", None] in rows or ["ssn", "string", ""] in rows
    assert ["# Row Filter", "", ""] in rows
    schema = people.rsplit(".", 1)[0]
    assert ["Function", f"{schema}.region_filter", ""] in rows
    assert ["ssn", f"{schema}.mask_ssn", ""] in rows


def test_the_functions_api_creates_a_sql_function_sql_can_call(ws: Any, schema: str) -> None:
    from databricks.sdk.service.catalog import (
        ColumnTypeName,
        CreateFunction,
        CreateFunctionParameterStyle,
        CreateFunctionRoutineBody,
        CreateFunctionSecurityType,
        CreateFunctionSqlDataAccess,
        FunctionParameterInfo,
        FunctionParameterInfos,
    )

    catalog, name = schema.split(".")
    created = ws.functions.create(
        function_info=CreateFunction(
            name="cube",
            catalog_name=catalog,
            schema_name=name,
            input_params=FunctionParameterInfos(
                parameters=[
                    FunctionParameterInfo(
                        name="x", type_text="int", type_name=ColumnTypeName.INT, position=0
                    )
                ]
            ),
            data_type=ColumnTypeName.INT,
            full_data_type="INT",
            routine_body=CreateFunctionRoutineBody.SQL,
            routine_definition="x * x * x",
            parameter_style=CreateFunctionParameterStyle.S,
            is_deterministic=True,
            sql_data_access=CreateFunctionSqlDataAccess.CONTAINS_SQL,
            is_null_call=False,
            security_type=CreateFunctionSecurityType.DEFINER,
            specific_name="cube",
        )
    )
    assert created.full_name == f"{schema}.cube"
    assert run(ws, f"SELECT {schema}.cube(3)") == [["27"]]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM system.main.read_text('/etc/passwd')",
        "EXPLAIN SELECT * FROM main.main.read_text('/etc/passwd')",
        "EXPLAIN SELECT * FROM default.glob('/etc/*')",
        "SELECT * FROM main.default.read_csv('/etc/passwd')",
    ],
)
def test_a_qualified_table_function_is_a_uc_function_never_a_duckdb_reader(
    ws: Any, statement: str
) -> None:
    message = error_of(ws, statement)
    assert "UNRESOLVED_ROUTINE" in message or "PARSE_SYNTAX_ERROR" in message
    assert "root:" not in message
