"""CDC flows (APPLY CHANGES INTO / AUTO CDC): parsing and SCD type 1/2 on plain DuckDB."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from local_workspace.pipelines.cdc import (
    ApplyChanges,
    CdcStats,
    apply_changes,
    parse_apply_changes,
)

# The change feed of Databricks' own CDC example: out of order, with a delete.
USERS_FEED = [
    (124, "Raul", "Oaxaca", "INSERT", 1),
    (123, "Isabel", "Monterrey", "INSERT", 1),
    (125, "Mercedes", "Tijuana", "INSERT", 2),
    (126, "Lily", "Cancun", "INSERT", 2),
    (123, None, None, "DELETE", 6),
    (125, "Mercedes", "Guadalajara", "UPDATE", 6),
    (125, "Mercedes", "Mexicali", "UPDATE", 5),
    (123, "Isabel", "Chihuahua", "UPDATE", 5),
]
USERS = "userId INT, name VARCHAR, city VARCHAR, operation VARCHAR, sequenceNum INT"


def users_flow(tail: str) -> ApplyChanges:
    spec = parse_apply_changes(
        "APPLY CHANGES INTO LIVE.users FROM STREAM(LIVE.users_cdc) KEYS (userId) "
        'APPLY AS DELETE WHEN operation = "DELETE" SEQUENCE BY sequenceNum '
        f"COLUMNS * EXCEPT (operation, sequenceNum) {tail}"
    )
    assert spec is not None
    return spec


@pytest.fixture
def db() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def feed(db: duckdb.DuckDBPyConnection, name: str, schema: str, rows: list[tuple[Any, ...]]) -> str:
    """A fresh change table holding ``rows``; returns its quoted name."""
    db.execute(f'CREATE OR REPLACE TABLE "{name}" ({schema})')
    marks = ", ".join("?" for _ in schema.split(","))
    db.executemany(f'INSERT INTO "{name}" VALUES ({marks})', [list(r) for r in rows])
    return f'"{name}"'


def apply(db: duckdb.DuckDBPyConnection, spec: ApplyChanges, source: str) -> CdcStats:
    """Apply one batch in a transaction, as the pipeline runner does."""
    db.execute("BEGIN")
    stats = apply_changes(db, spec, '"target"', source)
    db.execute("COMMIT")
    return stats


def rows(db: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return db.execute('SELECT * FROM "target" ORDER BY ALL').fetchall()


def columns(db: duckdb.DuckDBPyConnection) -> list[str]:
    return [str(d[0]) for d in db.execute('SELECT * FROM "target" LIMIT 0').description or []]


def test_scd_type_2_over_updates_and_deletes_produces_the_expected_history_rows(db):
    source = feed(db, "users_cdc", USERS, USERS_FEED)
    stats = apply(db, users_flow("STORED AS SCD TYPE 2"), source)
    assert columns(db) == ["userId", "name", "city", "__START_AT", "__END_AT"]
    assert rows(db) == [
        (123, "Isabel", "Chihuahua", 5, 6),
        (123, "Isabel", "Monterrey", 1, 5),
        (124, "Raul", "Oaxaca", 1, None),
        (125, "Mercedes", "Guadalajara", 6, None),
        (125, "Mercedes", "Mexicali", 5, 6),
        (125, "Mercedes", "Tijuana", 2, 5),
        (126, "Lily", "Cancun", 2, None),
    ]
    assert stats == CdcStats(upserted=7, deleted=1, output_rows=7)


def test_scd_type_1_keeps_the_latest_row_per_key_and_drops_deleted_keys(db):
    source = feed(db, "users_cdc", USERS, USERS_FEED)
    apply(db, users_flow(""), source)
    assert columns(db) == ["userId", "name", "city"]
    assert rows(db) == [
        (124, "Raul", "Oaxaca"),
        (125, "Mercedes", "Guadalajara"),
        (126, "Lily", "Cancun"),
    ]


def test_scd_type_1_orders_by_sequence_and_the_later_of_duplicate_sequences_wins(db):
    spec = parse_apply_changes("APPLY CHANGES INTO t FROM STREAM(s) KEYS (id) SEQUENCE BY seq")
    assert spec is not None
    source = feed(
        db,
        "s",
        "id INT, v VARCHAR, seq INT",
        [(1, "c", 3), (1, "a", 1), (1, "b", 2), (2, "x", 5), (2, "y", 5), (3, "z", 1)],
    )
    apply(db, spec, source)
    # The sequence column stays in the target: nothing excluded it.
    assert rows(db) == [(1, "c", 3), (2, "y", 5), (3, "z", 1)]


def test_scd_type_1_applies_a_second_batch_and_ignores_changes_older_than_the_target(db):
    spec = parse_apply_changes(
        "APPLY CHANGES INTO t FROM STREAM(s) KEYS (id) APPLY AS DELETE WHEN op = 'D' "
        "SEQUENCE BY seq COLUMNS * EXCEPT (op)"
    )
    assert spec is not None
    schema = "id INT, v VARCHAR, op VARCHAR, seq INT"
    apply(db, spec, feed(db, "s", schema, [(1, "a", "U", 10), (2, "b", "U", 10), (3, "c", "U", 1)]))
    second = feed(
        db,
        "s2",
        schema,
        [(1, "old", "U", 5), (2, "new", "U", 11), (3, None, "D", 2), (4, "d", "U", 1)],
    )
    stats = apply(db, spec, second)
    assert rows(db) == [(1, "a", 10), (2, "new", 11), (4, "d", 1)]
    assert stats == CdcStats(upserted=2, deleted=1, output_rows=3)


def test_a_column_list_keeps_only_the_listed_columns(db):
    spec = parse_apply_changes(
        "APPLY CHANGES INTO t FROM STREAM(s) KEYS (userId) APPLY AS DELETE WHEN "
        "operation = 'DELETE' SEQUENCE BY sequenceNum COLUMNS (userId, city)"
    )
    assert spec is not None
    apply(db, spec, feed(db, "s", USERS, USERS_FEED))
    assert columns(db) == ["userId", "city"]
    assert rows(db) == [(124, "Oaxaca"), (125, "Guadalajara"), (126, "Cancun")]


def test_track_history_on_a_subset_updates_untracked_changes_in_place(db):
    source = feed(db, "users_cdc", USERS, USERS_FEED)
    apply(db, users_flow("STORED AS SCD TYPE 2 TRACK HISTORY ON * EXCEPT (city)"), source)
    assert rows(db) == [
        (123, "Isabel", "Chihuahua", 1, 6),
        (124, "Raul", "Oaxaca", 1, None),
        (125, "Mercedes", "Guadalajara", 2, None),
        (126, "Lily", "Cancun", 2, None),
    ]


def test_track_history_on_a_column_list_versions_only_those_columns(db):
    schema = "id INT, tier VARCHAR, email VARCHAR, seq INT"
    spec = parse_apply_changes(
        "APPLY CHANGES INTO t FROM STREAM(s) KEYS (id) SEQUENCE BY seq COLUMNS * EXCEPT (seq) "
        "STORED AS SCD TYPE 2 TRACK HISTORY ON (tier)"
    )
    assert spec is not None
    changes = [(1, "gold", "a@x", 1), (1, "gold", "b@x", 2), (1, "silver", "b@x", 3)]
    apply(db, spec, feed(db, "s", schema, changes))
    assert rows(db) == [(1, "gold", "b@x", 1, 3), (1, "silver", "b@x", 3, None)]


def test_scd_type_2_batches_applied_one_after_the_other_extend_the_history(db):
    spec = parse_apply_changes(
        "CREATE FLOW accounts_flow AS AUTO CDC INTO accounts FROM stream(accounts_cdc) "
        "KEYS (id) APPLY AS DELETE WHEN op = 'DELETE' SEQUENCE BY ts "
        "COLUMNS * EXCEPT (op, ts) STORED AS SCD TYPE 2"
    )
    assert spec is not None
    schema = "id INT, balance INT, op VARCHAR, ts TIMESTAMP"
    day = "2024-01-0{}".format
    apply(db, spec, feed(db, "b1", schema, [(1, 10, "INSERT", day(1)), (2, 20, "INSERT", day(1))]))
    second = [
        (1, 15, "UPDATE", day(3)),
        (2, None, "DELETE", day(2)),
        (1, 99, "UPDATE", day(1)),  # not newer than the target's version: ignored
    ]
    stats = apply(db, spec, feed(db, "b2", schema, second))
    assert stats == CdcStats(upserted=1, deleted=1, output_rows=3)
    apply(db, spec, feed(db, "b3", schema, [(2, 25, "INSERT", day(4)), (1, 15, "UPDATE", day(5))]))
    got = db.execute(
        "SELECT id, balance, strftime(\"__START_AT\", '%d'), strftime(\"__END_AT\", '%d') "
        'FROM "target" ORDER BY ALL'
    ).fetchall()
    # An identical row re-sent with a newer sequence is no new version.
    assert got == [
        (1, 10, "01", "03"),
        (1, 15, "03", None),
        (2, 20, "01", "02"),
        (2, 25, "04", None),
    ]
    types = dict(db.execute('SELECT column_name, column_type FROM (DESCRIBE "target")').fetchall())
    assert types["__START_AT"] == types["__END_AT"] == "TIMESTAMP"


def test_ignore_null_updates_keeps_the_previous_values(db):
    spec = parse_apply_changes(
        "APPLY CHANGES INTO t FROM STREAM(s) KEYS (id) IGNORE NULL UPDATES SEQUENCE BY seq "
        "COLUMNS * EXCEPT (seq)"
    )
    assert spec is not None
    schema = "id INT, name VARCHAR, city VARCHAR, seq INT"
    apply(db, spec, feed(db, "s", schema, [(1, "Ann", "Oslo", 1)]))
    apply(db, spec, feed(db, "s2", schema, [(1, None, "Rome", 2), (2, "Bo", None, 1)]))
    assert rows(db) == [(1, "Ann", "Rome"), (2, "Bo", None)]


def test_apply_as_truncate_empties_the_target_before_later_changes(db):
    spec = parse_apply_changes(
        "APPLY CHANGES INTO t FROM STREAM(s) KEYS (id) APPLY AS TRUNCATE WHEN op = 'TRUNCATE' "
        "SEQUENCE BY seq COLUMNS * EXCEPT (op, seq)"
    )
    assert spec is not None
    schema = "id INT, v VARCHAR, op VARCHAR, seq INT"
    apply(db, spec, feed(db, "s", schema, [(1, "a", "U", 1), (2, "b", "U", 1)]))
    batch = [(3, "c", "U", 2), (None, None, "TRUNCATE", 3), (4, "d", "U", 4)]
    apply(db, spec, feed(db, "s2", schema, batch))
    assert rows(db) == [(4, "d")]


def test_a_parenthesised_select_of_new_rows_is_a_source(db):
    feed(db, "s", USERS, USERS_FEED)
    apply(db, users_flow(""), '(SELECT * FROM "s" WHERE sequenceNum <= 2)')
    assert [r[0] for r in rows(db)] == [123, 124, 125, 126]


def test_auto_cdc_with_a_flow_name_parses_every_clause():
    spec = parse_apply_changes(
        """CREATE FLOW orders_flow AS AUTO CDC INTO live.orders_scd2
        FROM stream(LIVE.orders_cdc)
        KEYS (order_id, `line no`)
        APPLY AS DELETE WHEN op = 'D' AND (note IN ('a) SEQUENCE BY', "KEYS") OR f(x) > 1)
        SEQUENCE BY struct(ts, seq)  -- ties broken by seq
        COLUMNS * EXCEPT (op, note)
        STORED AS SCD TYPE 2
        TRACK HISTORY ON * EXCEPT (updated_by);"""
    )
    assert spec == ApplyChanges(
        target="live.orders_scd2",
        source="orders_cdc",
        keys=["order_id", "line no"],
        sequence_by="struct(ts, seq)",
        apply_as_deletes="op = 'D' AND (note IN ('a) SEQUENCE BY', \"KEYS\") OR f(x) > 1)",
        except_column_list=["op", "note"],
        scd_type=2,
        track_history_except_column_list=["updated_by"],
        flow_name="orders_flow",
    )


def test_apply_changes_reads_a_column_list_and_a_plain_source():
    spec = parse_apply_changes(
        "apply changes into silver.customers from bronze.customers_cdc keys (id) "
        "sequence by ts columns id, name stored as scd type 1"
    )
    assert spec is not None
    assert (spec.source, spec.column_list, spec.scd_type) == (
        "bronze.customers_cdc",
        ["id", "name"],
        1,
    )


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE OR REFRESH STREAMING TABLE customers",
        "CREATE FLOW f AS INSERT INTO t BY NAME SELECT * FROM STREAM(s)",
        "SELECT 1",
        "CREATE OR REFRESH MATERIALIZED VIEW gold AS SELECT count(*) FROM silver",
    ],
)
def test_statements_that_are_not_cdc_flows_give_none(statement):
    assert parse_apply_changes(statement) is None


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("APPLY CHANGES INTO t FROM STREAM(s) SEQUENCE BY seq", "expected KEYS"),
        ("APPLY CHANGES INTO t FROM STREAM(s) KEYS (id)", "expected SEQUENCE BY"),
        ("APPLY CHANGES INTO t FROM STREAM(s) KEYS id SEQUENCE BY seq", "expected KEYS ("),
        ("APPLY CHANGES INTO t KEYS (id) SEQUENCE BY seq", "expected FROM"),
        ("APPLY CHANGES t FROM s KEYS (id) SEQUENCE BY seq", "expected INTO"),
        (
            "APPLY CHANGES INTO t FROM STREAM(s) KEYS (id) SEQUENCE BY seq STORED AS SCD TYPE 3",
            "expected STORED AS SCD TYPE 1 or 2",
        ),
        (
            "APPLY CHANGES INTO t FROM STREAM(s) KEYS (id) SEQUENCE BY seq ORDER BY x",
            "expected one SQL expression after SEQUENCE BY, then KEYS (...)",
        ),
        (
            "APPLY CHANGES INTO t FROM STREAM(s) KEYS (id) APPLY AS TRUNCATE WHEN op = 'T' "
            "SEQUENCE BY seq STORED AS SCD TYPE 2",
            "only supported with SCD TYPE 1",
        ),
        ("CREATE FLOW f AUTO CDC INTO t FROM s KEYS (id) SEQUENCE BY seq", "CREATE FLOW <name> AS"),
        ("AUTO CDC INTO t FROM s KEYS (id) SEQUENCE BY seq KEYS (x)", "appears twice"),
        ("APPLY CHANGES INTO t FROM STREAM(s) KEYS (id) SEQUENCE BY 'x", "tokenize"),
    ],
)
def test_malformed_cdc_statements_say_what_is_expected(statement, expected):
    with pytest.raises(ValueError, match=r"expected|twice|tokenize|supported") as info:
        parse_apply_changes(statement)
    assert expected in str(info.value)


def test_a_key_the_source_lacks_is_a_clear_error(db):
    spec = parse_apply_changes("APPLY CHANGES INTO t FROM STREAM(s) KEYS (nope) SEQUENCE BY seq")
    assert spec is not None
    with pytest.raises(ValueError, match="KEYS names nope, not a column of the source"):
        apply_changes(db, spec, '"target"', feed(db, "s", "id INT, seq INT", [(1, 1)]))


# -- end to end: a pipeline with CDC flows through the Pipelines API ----------------------

CDC_PIPELINE = """
CREATE OR REFRESH STREAMING TABLE users_history;

APPLY CHANGES INTO LIVE.users_history
FROM STREAM({feed})
KEYS (userId)
APPLY AS DELETE WHEN operation = "DELETE"
SEQUENCE BY sequenceNum
COLUMNS * EXCEPT (operation, sequenceNum)
STORED AS SCD TYPE 2;

CREATE OR REFRESH STREAMING TABLE users_current;

CREATE FLOW users_current_flow AS AUTO CDC INTO users_current
FROM stream({feed})
KEYS (userId)
APPLY AS DELETE WHEN operation = 'DELETE'
SEQUENCE BY sequenceNum
COLUMNS * EXCEPT (operation)
STORED AS SCD TYPE 1;
"""


def test_a_pipeline_applies_cdc_flows_incrementally_through_the_pipelines_api(ws):
    from tests.test_pipelines_local_api import finish, fresh_schema, make_pipeline, sql

    schema = fresh_schema(ws, "cdc")
    feed_table = f"main.{schema}.users_cdc"
    sql(ws, f"CREATE TABLE {feed_table} ({USERS.replace('VARCHAR', 'STRING')})")

    def insert(changes: list[tuple[Any, ...]]) -> None:
        values = ", ".join(
            "(" + ", ".join("NULL" if v is None else repr(v) for v in change) + ")"
            for change in changes
        )
        sql(ws, f"INSERT INTO {feed_table} VALUES {values}")

    insert(USERS_FEED)
    pipeline_id = make_pipeline(ws, schema, CDC_PIPELINE.format(feed=feed_table))
    first = ws.pipelines.start_update(pipeline_id).update_id
    assert finish(ws, pipeline_id, first).state.value == "COMPLETED"
    history = f"SELECT * FROM main.{schema}.users_history ORDER BY ALL"
    assert sql(ws, history) == [
        ["123", "Isabel", "Chihuahua", "5", "6"],
        ["123", "Isabel", "Monterrey", "1", "5"],
        ["124", "Raul", "Oaxaca", "1", None],
        ["125", "Mercedes", "Guadalajara", "6", None],
        ["125", "Mercedes", "Mexicali", "5", "6"],
        ["125", "Mercedes", "Tijuana", "2", "5"],
        ["126", "Lily", "Cancun", "2", None],
    ]

    # The next update sees only the new changes: Raul moves, Lily leaves, Isabel returns.
    insert(
        [
            (124, "Raul", "Puebla", "UPDATE", 7),
            (126, None, None, "DELETE", 8),
            (123, "Isabel", "Merida", "INSERT", 9),
        ]
    )
    second = ws.pipelines.start_update(pipeline_id).update_id
    assert finish(ws, pipeline_id, second).state.value == "COMPLETED"
    current = sql(
        ws, f"SELECT * FROM main.{schema}.users_history WHERE __END_AT IS NULL ORDER BY ALL"
    )
    assert current == [
        ["123", "Isabel", "Merida", "9", None],
        ["124", "Raul", "Puebla", "7", None],
        ["125", "Mercedes", "Guadalajara", "6", None],
    ]
    assert sql(ws, f"SELECT count(*) FROM main.{schema}.users_history") == [["9"]]
    assert sql(ws, f"SELECT * FROM main.{schema}.users_current ORDER BY ALL") == [
        ["123", "Isabel", "Merida", "9"],
        ["124", "Raul", "Puebla", "7"],
        ["125", "Mercedes", "Guadalajara", "6"],
    ]


def test_a_malformed_cdc_flow_fails_the_update_saying_what_is_expected(ws):
    from tests.test_pipelines_local_api import events, finish, fresh_schema, make_pipeline, sql

    schema = fresh_schema(ws, "cdcbad")
    sql(ws, f"CREATE TABLE main.{schema}.feed (id INT, seq INT)")
    source = (
        "CREATE OR REFRESH STREAMING TABLE t;\n"
        f"APPLY CHANGES INTO LIVE.t FROM STREAM(main.{schema}.feed) SEQUENCE BY seq;"
    )
    pipeline_id = make_pipeline(ws, schema, source)
    update_id = ws.pipelines.start_update(pipeline_id).update_id
    assert finish(ws, pipeline_id, update_id).state.value == "FAILED"
    messages = [e["message"] for e in events(ws, pipeline_id, update_id) if e["level"] == "ERROR"]
    assert any("expected KEYS (<column>, ...)" in m for m in messages), messages
