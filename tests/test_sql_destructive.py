"""sql_execute runs a destructive statement only with confirm=true; without it nothing is
sent and the answer says what would be lost (object, row count) — on the real local
workspace, through the MCP server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from mcp import Client

from tests.conftest import fails, ok, text_of
from tools_core.sql.destructive import classify

pytestmark = pytest.mark.anyio


async def make_schema(mcp: Client, tables: dict[str, int]) -> str:
    """A fresh schema in ``main`` with tables ``{name: rows}`` (columns id, kind)."""
    schema = f"main.t_destr_{uuid.uuid4().hex[:8]}"
    await ok(mcp, "sql_execute", statement=f"CREATE SCHEMA {schema}")
    for name, rows in tables.items():
        await ok(
            mcp, "sql_execute", statement=f"CREATE TABLE {schema}.{name} (id INT, kind STRING)"
        )
        if rows:
            values = ", ".join(f"({i}, 'k{i % 3}')" for i in range(rows))
            await ok(mcp, "sql_execute", statement=f"INSERT INTO {schema}.{name} VALUES {values}")
    return schema


async def count(mcp: Client, table: str) -> int:
    result = await ok(mcp, "sql_query", statement=f"SELECT count(*) FROM {table}")
    return int(result.structured_content["rows"][0][0])


async def preview(mcp: Client, statement: str) -> tuple[list[dict[str, Any]], str]:
    """sql_execute without confirm: a successful PREVIEW result; its losses and text."""
    result = await ok(mcp, "sql_execute", statement=statement)
    data = result.structured_content
    assert data["state"] == "PREVIEW", text_of(result)
    assert "confirm=true" in text_of(result)
    return data["would_lose"], text_of(result)


async def test_drop_without_confirm_keeps_the_table_and_reports_its_row_count(mcp) -> None:
    schema = await make_schema(mcp, {"events": 7})
    losses, text = await preview(mcp, f"DROP TABLE {schema}.events")
    assert losses == [
        {
            "action": "DROP TABLE",
            "object": f"{schema}.events",
            "exists": True,
            "rows": 7,
            "note": "",
        }
    ]
    assert f"{schema}.events (DROP TABLE): 7 rows" in text
    assert await count(mcp, f"{schema}.events") == 7

    await ok(mcp, "sql_execute", statement=f"DROP TABLE {schema}.events", confirm=True)
    gone = await fails(mcp, "sql_query", statement=f"SELECT * FROM {schema}.events")
    assert gone.startswith("TABLE_OR_VIEW_NOT_FOUND")


async def test_truncate_needs_confirm(mcp) -> None:
    schema = await make_schema(mcp, {"t": 5})
    losses, _ = await preview(mcp, f"TRUNCATE TABLE {schema}.t")
    assert losses[0]["rows"] == 5 and losses[0]["action"] == "TRUNCATE TABLE"
    assert await count(mcp, f"{schema}.t") == 5
    await ok(mcp, "sql_execute", statement=f"TRUNCATE TABLE {schema}.t", confirm=True)
    assert await count(mcp, f"{schema}.t") == 0


async def test_delete_without_where_needs_confirm_and_with_where_runs_at_once(mcp) -> None:
    schema = await make_schema(mcp, {"t": 6})
    losses, text = await preview(mcp, f"DELETE FROM {schema}.t")
    assert losses[0]["rows"] == 6 and "no WHERE" in text
    losses, _ = await preview(mcp, f"DELETE FROM {schema}.t WHERE 1 = 1")
    assert losses[0]["rows"] == 6
    # A condition on parameters only: counted with the same bound values.
    result = await ok(
        mcp, "sql_execute", statement=f"DELETE FROM {schema}.t WHERE :flag = 1", params={"flag": 0}
    )
    assert result.structured_content["would_lose"][0]["rows"] == 0
    assert await count(mcp, f"{schema}.t") == 6

    done = await ok(mcp, "sql_execute", statement=f"DELETE FROM {schema}.t WHERE id < 2")
    assert done.structured_content["state"] == "SUCCEEDED"
    assert await count(mcp, f"{schema}.t") == 4
    bound = f"DELETE FROM {schema}.t WHERE id = :id"
    await ok(mcp, "sql_execute", statement=bound, params={"id": 5})
    assert await count(mcp, f"{schema}.t") == 3


async def test_update_without_where_needs_confirm(mcp) -> None:
    schema = await make_schema(mcp, {"t": 4})
    losses, _ = await preview(mcp, f"UPDATE {schema}.t SET kind = 'x'")
    assert losses[0]["action"] == "UPDATE all rows" and losses[0]["rows"] == 4
    kinds = await ok(mcp, "sql_query", statement=f"SELECT DISTINCT kind FROM {schema}.t")
    assert ["x"] not in kinds.structured_content["rows"]
    await ok(mcp, "sql_execute", statement=f"UPDATE {schema}.t SET kind = 'y' WHERE id = 0")
    await ok(mcp, "sql_execute", statement=f"UPDATE {schema}.t SET kind = 'x'", confirm=True)
    kinds = await ok(mcp, "sql_query", statement=f"SELECT DISTINCT kind FROM {schema}.t")
    assert kinds.structured_content["rows"] == [["x"]]


async def test_create_or_replace_over_an_existing_table_needs_confirm_but_a_new_name_runs(
    mcp,
) -> None:
    schema = await make_schema(mcp, {"t": 3})
    replace = f"CREATE OR REPLACE TABLE {schema}.t (id INT)"
    losses, _ = await preview(mcp, replace)
    assert losses[0]["action"] == "CREATE OR REPLACE TABLE" and losses[0]["rows"] == 3
    assert await count(mcp, f"{schema}.t") == 3

    fresh = await ok(mcp, "sql_execute", statement=f"CREATE OR REPLACE TABLE {schema}.new (id INT)")
    assert fresh.structured_content["state"] == "SUCCEEDED"
    assert await count(mcp, f"{schema}.new") == 0
    await ok(mcp, "sql_execute", statement=replace, confirm=True)
    assert await count(mcp, f"{schema}.t") == 0


async def test_alter_table_drop_column_needs_confirm(mcp) -> None:
    schema = await make_schema(mcp, {"t": 2})
    losses, _ = await preview(mcp, f"ALTER TABLE {schema}.t DROP COLUMN kind")
    assert losses[0]["action"] == "ALTER TABLE DROP COLUMN kind" and losses[0]["rows"] == 2
    described = await ok(mcp, "sql_query", statement=f"DESCRIBE TABLE {schema}.t")
    assert ["kind", "string", None] in described.structured_content["rows"]
    await ok(mcp, "sql_execute", statement=f"ALTER TABLE {schema}.t DROP COLUMN kind", confirm=True)
    described = await ok(mcp, "sql_query", statement=f"DESCRIBE TABLE {schema}.t")
    assert [row[0] for row in described.structured_content["rows"]] == ["id"]


async def test_revoke_needs_confirm_and_keeps_the_privilege_until_then(mcp) -> None:
    schema = await make_schema(mcp, {"t": 1})
    who = "`analyst@example.com`"
    await ok(mcp, "sql_execute", statement=f"GRANT SELECT ON TABLE {schema}.t TO {who}")
    losses, text = await preview(mcp, f"REVOKE SELECT ON TABLE {schema}.t FROM {who}")
    assert losses[0]["object"] == f"{schema}.t"
    assert f"REVOKE SELECT FROM {who} ON TABLE" in text
    grants = f"SHOW GRANTS {who} ON TABLE {schema}.t"
    assert "SELECT" in text_of(await ok(mcp, "sql_query", statement=grants))
    revoke = f"REVOKE SELECT ON TABLE {schema}.t FROM {who}"
    await ok(mcp, "sql_execute", statement=revoke, confirm=True)
    assert "SELECT" not in text_of(await ok(mcp, "sql_query", statement=grants))


async def test_drop_schema_cascade_lists_its_tables_with_their_row_counts(mcp) -> None:
    schema = await make_schema(mcp, {"a": 3, "b": 4})
    losses, text = await preview(mcp, f"DROP SCHEMA {schema} CASCADE")
    assert losses[0]["object"] == schema and losses[0]["rows"] == 7
    assert "2 tables" in losses[0]["note"]
    assert {(item["object"], item["rows"]) for item in losses[1:]} == {
        (f"{schema}.a", 3),
        (f"{schema}.b", 4),
    }
    assert f"{schema}.b (dropped with it): 4 rows" in text
    assert await count(mcp, f"{schema}.a") == 3
    await ok(mcp, "sql_execute", statement=f"DROP SCHEMA {schema} CASCADE", confirm=True)
    assert (await fails(mcp, "sql_query", statement=f"SHOW TABLES IN {schema}")).startswith(
        "SCHEMA_NOT_FOUND"
    )


async def test_drop_catalog_is_read_from_tokens_and_counts_every_schema(mcp) -> None:
    catalog = f"t_destr_cat_{uuid.uuid4().hex[:8]}"
    await ok(mcp, "sql_execute", statement=f"CREATE CATALOG {catalog}")
    await ok(mcp, "sql_execute", statement=f"CREATE SCHEMA {catalog}.s")
    await ok(mcp, "sql_execute", statement=f"CREATE TABLE {catalog}.s.t AS SELECT 1 AS a")
    losses, _ = await preview(mcp, f"DROP CATALOG {catalog} CASCADE")
    assert losses[0]["action"] == "DROP CATALOG CASCADE" and losses[0]["rows"] == 1
    assert f"{catalog}.s.t" in [item["object"] for item in losses]
    assert await count(mcp, f"{catalog}.s.t") == 1
    await ok(mcp, "sql_execute", statement=f"DROP CATALOG {catalog} CASCADE", confirm=True)
    catalogs = text_of(await ok(mcp, "sql_query", statement="SHOW CATALOGS"))
    assert catalog not in catalogs


async def test_insert_overwrite_and_drop_view_are_previewed_too(mcp) -> None:
    schema = await make_schema(mcp, {"t": 3})
    await ok(mcp, "sql_execute", statement=f"CREATE VIEW {schema}.v AS SELECT * FROM {schema}.t")
    losses, _ = await preview(mcp, f"INSERT OVERWRITE {schema}.t SELECT 1, 'a'")
    assert losses[0]["action"] == "INSERT OVERWRITE" and losses[0]["rows"] == 3
    losses, text = await preview(mcp, f"DROP VIEW {schema}.v")
    assert losses[0]["exists"] is True and "a view stores no rows" in text
    assert await count(mcp, f"{schema}.v") == 3


async def test_an_unqualified_name_is_reported_with_its_full_name(mcp) -> None:
    name = f"t_destr_{uuid.uuid4().hex[:8]}"
    await ok(mcp, "sql_execute", statement=f"CREATE TABLE {name} AS SELECT 1 AS a")
    losses, _ = await preview(mcp, f"DROP TABLE {name}")
    assert losses[0]["object"] == f"main.default.{name}" and losses[0]["rows"] == 1
    await ok(mcp, "sql_execute", statement=f"DROP TABLE {name}", confirm=True)


async def test_a_missing_object_is_reported_as_nothing_to_lose(mcp) -> None:
    losses, text = await preview(mcp, "DROP TABLE IF EXISTS main.default.t_destr_never_made")
    assert losses[0]["exists"] is False
    assert "does not exist" in text and "Nothing would be lost" in text


async def test_non_destructive_statements_run_without_confirm(mcp) -> None:
    schema = await make_schema(mcp, {"t": 1})
    for statement in (
        f"INSERT INTO {schema}.t VALUES (9, 'z')",
        f"ALTER TABLE {schema}.t ADD COLUMN extra INT",
        f"CREATE TABLE IF NOT EXISTS {schema}.t2 (a INT)",
        f"UPDATE {schema}.t SET kind = 'w' WHERE id = 9",
        f"GRANT SELECT ON TABLE {schema}.t TO `analyst@example.com`",
    ):
        result = await ok(mcp, "sql_execute", statement=statement)
        assert result.structured_content["state"] == "SUCCEEDED", statement
    assert await count(mcp, f"{schema}.t") == 2


# What sqlglot parses into a tree, and what it keeps as a generic Command (read from tokens).
DESTRUCTIVE = [
    ("DROP TABLE a.b.t", "DROP TABLE", ("a", "b", "t")),
    ("DROP VIEW IF EXISTS a.b.v", "DROP VIEW", ("a", "b", "v")),
    ("DROP MATERIALIZED VIEW a.b.mv", "DROP MATERIALIZED VIEW", ("a", "b", "mv")),
    ("DROP SCHEMA a.b CASCADE", "DROP SCHEMA CASCADE", ("a", "b")),
    ("DROP DATABASE b", "DROP DATABASE", ("b",)),
    ("DROP FUNCTION a.b.f", "DROP FUNCTION", ("a", "b", "f")),
    ("DROP CATALOG `my cat` CASCADE", "DROP CATALOG CASCADE", ("my cat",)),
    ("DROP CATALOG IF EXISTS c", "DROP CATALOG", ("c",)),
    ("DROP VOLUME a.b.vol", "DROP VOLUME", ("a", "b", "vol")),
    ("DROP EXTERNAL LOCATION loc", "DROP EXTERNAL LOCATION", ("loc",)),
    ("TRUNCATE TABLE a.b.t", "TRUNCATE TABLE", ("a", "b", "t")),
    ("DELETE FROM a.b.t", "DELETE all rows", ("a", "b", "t")),
    ("WITH x AS (SELECT 1) DELETE FROM t", "DELETE all rows", ("t",)),
    ("DELETE FROM t WHERE TRUE", "DELETE all rows", ("t",)),
    ("UPDATE a.b.t SET x = 1", "UPDATE all rows", ("a", "b", "t")),
    ("CREATE OR REPLACE TABLE a.b.t AS SELECT 1", "CREATE OR REPLACE TABLE", ("a", "b", "t")),
    ("CREATE OR REPLACE VIEW a.b.v AS SELECT 1", "CREATE OR REPLACE VIEW", ("a", "b", "v")),
    ("INSERT OVERWRITE a.b.t SELECT 1", "INSERT OVERWRITE", ("a", "b", "t")),
    ("INSERT INTO a.b.t REPLACE WHERE d = 1 SELECT 1", "INSERT ... REPLACE WHERE", ("a", "b", "t")),
    ("ALTER TABLE a.b.t DROP COLUMN x", "ALTER TABLE DROP COLUMN x", ("a", "b", "t")),
    ("ALTER TABLE t DROP COLUMNS (x, y)", "ALTER TABLE DROP COLUMNS (x, y)", ("t",)),
    ("ALTER TABLE t DROP PARTITION (p = 1)", "ALTER TABLE DROP PARTITION(p = 1)", ("t",)),
    ("ALTER TABLE t DROP CONSTRAINT pk", "ALTER TABLE DROP CONSTRAINT pk", ("t",)),
    ("ALTER TABLE t DROP PRIMARY KEY", "ALTER TABLE DROP PRIMARY KEY", ("t",)),
    ("ALTER TABLE t ALTER COLUMN x DROP NOT NULL", "ALTER TABLE ALTER COLUMN x DROP ...", ("t",)),
    ("ALTER TABLE t REPLACE COLUMNS (x INT)", "ALTER TABLE REPLACE COLUMNS", ("t",)),
    ("ALTER SCHEMA a.b DROP TAG x", "ALTER SCHEMA DROP TAG x", ("a", "b")),
    ("ALTER CATALOG c DROP TAG x", "ALTER CATALOG DROP TAG x", ("c",)),
    ("REVOKE SELECT ON TABLE a.b.t FROM `u`", "REVOKE SELECT FROM `u` ON TABLE", ("a", "b", "t")),
    ("REVOKE USE CATALOG ON CATALOG c FROM `u`", "REVOKE USE CATALOG FROM `u` ON CATALOG", ("c",)),
    (
        "REVOKE READ VOLUME ON VOLUME a.b.v FROM g",
        "REVOKE READ VOLUME FROM g ON VOLUME",
        ("a", "b", "v"),
    ),
    ("REPLACE TABLE a.b.t AS SELECT 1", "REPLACE TABLE", ("a", "b", "t")),
    ("SELECT 1; DROP TABLE t", "DROP TABLE", ("t",)),
]


@pytest.mark.parametrize(("statement", "action", "parts"), DESTRUCTIVE)
def test_destructive_statements_are_classified_from_the_parse(
    statement: str, action: str, parts: tuple[str, ...]
) -> None:
    found = classify(statement)
    assert len(found) == 1
    assert found[0].action.startswith(action) and found[0].parts == parts


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT 1",
        "DELETE FROM t WHERE id = 1",
        "DELETE FROM t WHERE id = :id",
        "UPDATE t SET x = 1 WHERE y = 2",
        "INSERT INTO t SELECT 1",
        "CREATE TABLE t (a INT)",
        "CREATE OR REPLACE TEMPORARY VIEW v AS SELECT 1",
        "CREATE OR REPLACE FUNCTION a.b.f() RETURNS INT RETURN 1",
        "DROP TEMPORARY FUNCTION f",
        "ALTER TABLE t ADD COLUMN z INT",
        "ALTER TABLE t RENAME TO u",
        "GRANT SELECT ON TABLE t TO `u`",
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET *",
        "OPTIMIZE t",
        "SELECT 'DROP TABLE t' AS text",
        "-- DROP TABLE t\nSELECT 1",
    ],
)
def test_other_statements_are_not_destructive(statement: str) -> None:
    assert classify(statement) == []
