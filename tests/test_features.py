"""Feature tables: table constraints in the local workspace, features_list_tables and the
point-in-time features_preview_lookup through the MCP server."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import fails, ok, text_of
from tools_core import sql

pytestmark = pytest.mark.anyio

SCHEMA = "main.t_feat_pit"


def run(backend: Any, statement: str) -> None:
    """Run one statement on the local warehouse (destructive ones too: confirmed)."""
    sql.execute(backend, statement, confirm=True)


@pytest.fixture(scope="module")
def feature_schema(backend: Any) -> str:
    """Labels and two feature tables with known answers (module-wide, created once)."""
    run(backend, f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    run(
        backend,
        f"CREATE OR REPLACE TABLE {SCHEMA}.customer_features (customer_id BIGINT NOT NULL, "
        "ts TIMESTAMP NOT NULL, customer_spend_30d DOUBLE, visits DOUBLE, "
        "CONSTRAINT customer_features_pk PRIMARY KEY (customer_id, ts TIMESERIES))",
    )
    run(
        backend,
        f"INSERT INTO {SCHEMA}.customer_features VALUES "
        "(1, TIMESTAMP'2024-01-01', 10.0, 1), (1, TIMESTAMP'2024-01-10', 20.0, 2), "
        # Changed AFTER the label at 2024-01-15: must never leak into that label's row.
        "(1, TIMESTAMP'2024-01-20', 999.0, 3), "
        "(2, TIMESTAMP'2024-01-05', 50.0, 5)",
    )
    run(
        backend,
        f"CREATE OR REPLACE TABLE {SCHEMA}.customer_profile (customer_id BIGINT NOT NULL "
        "PRIMARY KEY, customer_age_years_1y INT, visits DOUBLE)",
    )
    run(backend, f"INSERT INTO {SCHEMA}.customer_profile VALUES (1, 40, 7), (2, 30, 8)")
    run(
        backend,
        f"CREATE OR REPLACE TABLE {SCHEMA}.labels (customer_id BIGINT, ts TIMESTAMP, "
        "churned BOOLEAN)",
    )
    run(
        backend,
        f"INSERT INTO {SCHEMA}.labels VALUES (1, TIMESTAMP'2024-01-15', true), "
        "(1, TIMESTAMP'2023-12-31', false), (2, TIMESTAMP'2024-01-06', false), "
        "(3, TIMESTAMP'2024-01-06', true)",
    )
    run(backend, f"CREATE OR REPLACE TABLE {SCHEMA}.no_keys (customer_id BIGINT, x DOUBLE)")
    return SCHEMA


def test_a_primary_key_declared_in_sql_is_reported_by_the_tables_api(
    feature_schema: str, ws: Any
) -> None:
    info = ws.tables.get(f"{feature_schema}.customer_features")
    (constraint,) = info.table_constraints
    pk = constraint.primary_key_constraint
    assert pk.name == "customer_features_pk"
    assert pk.child_columns == ["customer_id", "ts"]
    assert pk.timeseries_columns == ["ts"]


def test_primary_keys_are_informational_duplicates_are_not_refused(
    feature_schema: str, backend: Any
) -> None:
    name = f"{feature_schema}.dupes"
    run(backend, f"CREATE OR REPLACE TABLE {name} (id BIGINT NOT NULL PRIMARY KEY, x INT)")
    run(backend, f"INSERT INTO {name} VALUES (1, 1), (1, 2)")
    result = sql.query(backend, f"SELECT count(*) FROM {name}")
    assert result.rows == [["2"]]


def test_a_primary_key_on_a_nullable_column_is_refused_as_on_databricks(
    feature_schema: str, backend: Any, ws: Any
) -> None:
    from tools_core.errors import ToolsCoreError

    with pytest.raises(ToolsCoreError, match="nullable"):
        run(
            backend,
            f"CREATE TABLE {feature_schema}.bad_pk (id BIGINT, CONSTRAINT bad_pk PRIMARY KEY (id))",
        )
    assert not ws.tables.exists(f"{feature_schema}.bad_pk").table_exists


def test_constraints_are_added_and_dropped_with_alter_table(
    feature_schema: str, backend: Any, ws: Any
) -> None:
    name = f"{feature_schema}.altered"
    run(backend, f"CREATE OR REPLACE TABLE {name} (id BIGINT NOT NULL, ts DATE NOT NULL, x INT)")
    run(backend, f"ALTER TABLE {name} ADD CONSTRAINT altered_pk PRIMARY KEY (id, ts TIMESERIES)")
    pk = ws.tables.get(name).table_constraints[0].primary_key_constraint
    assert (pk.child_columns, pk.timeseries_columns) == (["id", "ts"], ["ts"])
    run(backend, f"ALTER TABLE {name} DROP PRIMARY KEY")
    assert not ws.tables.get(name).table_constraints
    run(backend, f"ALTER TABLE {name} ADD CONSTRAINT altered_pk PRIMARY KEY (id)")
    run(backend, f"ALTER TABLE {name} DROP CONSTRAINT altered_pk")
    run(backend, f"ALTER TABLE {name} DROP CONSTRAINT IF EXISTS altered_pk")
    assert not ws.tables.get(name).table_constraints


def test_table_constraints_api_creates_and_deletes_keys(
    feature_schema: str, backend: Any, ws: Any
) -> None:
    from databricks.sdk.errors import BadRequest
    from databricks.sdk.service.catalog import (
        ForeignKeyConstraint,
        PrimaryKeyConstraint,
        TableConstraint,
    )

    parent, child = f"{feature_schema}.api_parent", f"{feature_schema}.api_child"
    run(backend, f"CREATE OR REPLACE TABLE {parent} (id BIGINT NOT NULL, name STRING)")
    run(backend, f"CREATE OR REPLACE TABLE {child} (id BIGINT NOT NULL, parent_id BIGINT)")
    created = ws.table_constraints.create(
        parent,
        TableConstraint(
            primary_key_constraint=PrimaryKeyConstraint(name="api_parent_pk", child_columns=["id"])
        ),
    )
    assert created.primary_key_constraint.child_columns == ["id"]
    ws.table_constraints.create(
        child,
        TableConstraint(
            foreign_key_constraint=ForeignKeyConstraint(
                name="api_child_fk",
                child_columns=["parent_id"],
                parent_table=parent,
                parent_columns=["id"],
            )
        ),
    )
    fk = ws.tables.get(child).table_constraints[0].foreign_key_constraint
    assert (fk.parent_table, fk.parent_columns) == (parent, ["id"])
    with pytest.raises(BadRequest, match="nullable"):
        ws.table_constraints.create(
            child,
            TableConstraint(
                primary_key_constraint=PrimaryKeyConstraint(
                    name="api_child_pk", child_columns=["parent_id"]
                )
            ),
        )
    with pytest.raises(BadRequest, match="api_child_fk"):
        ws.table_constraints.delete(parent, "api_parent_pk", cascade=False)
    ws.table_constraints.delete(parent, "api_parent_pk", cascade=True)
    assert not ws.tables.get(parent).table_constraints
    assert not ws.tables.get(child).table_constraints


def test_dropping_a_table_drops_its_constraints(feature_schema: str, backend: Any, ws: Any) -> None:
    name = f"{feature_schema}.dropped"
    run(backend, f"CREATE OR REPLACE TABLE {name} (id BIGINT NOT NULL PRIMARY KEY)")
    run(backend, f"DROP TABLE {name}")
    run(backend, f"CREATE TABLE {name} (id BIGINT NOT NULL)")
    assert not ws.tables.get(name).table_constraints


async def test_features_list_tables_shows_keys_features_and_naming_warnings(
    feature_schema: str, mcp: Any
) -> None:
    result = await ok(mcp, "features_list_tables", catalog="main", schema="t_feat_pit")
    tables = {t["name"]: t for t in result.structured_content["tables"]}
    cf = tables[f"{feature_schema}.customer_features"]
    assert (cf["keys"], cf["timestamp_key"]) == (["customer_id"], "ts")
    assert cf["features"] == ["customer_spend_30d", "visits"]
    assert len(cf["warnings"]) == 1 and cf["warnings"][0].startswith("visits:")
    assert tables[f"{feature_schema}.customer_profile"]["timestamp_key"] is None
    text = text_of(result)
    assert "naming warnings" in text and "no_keys" in text


def _rows(result: Any) -> dict[tuple[str, str], dict[str, Any]]:
    content = result.structured_content
    names = [c["name"] for c in content["columns"]]
    rows = [dict(zip(names, row, strict=True)) for row in content["rows"]]
    return {(r["customer_id"], r["ts"][:10]): r for r in rows}


async def test_preview_lookup_is_point_in_time_correct_and_never_leaks_future_values(
    feature_schema: str, mcp: Any
) -> None:
    result = await ok(
        mcp,
        "features_preview_lookup",
        labels_table=f"{feature_schema}.labels",
        feature_tables=[f"{feature_schema}.customer_features"],
        timestamp_column="ts",
    )
    rows = _rows(result)
    assert len(rows) == 4
    # Label at 01-15: the value of 01-10 (20.0), not the later 999.0.
    assert rows[("1", "2024-01-15")]["customer_spend_30d"] == "20.0"
    # Label before any feature row: nothing known yet.
    assert rows[("1", "2023-12-31")]["customer_spend_30d"] is None
    assert rows[("2", "2024-01-06")]["customer_spend_30d"] == "50.0"
    assert rows[("3", "2024-01-06")]["customer_spend_30d"] is None
    assert "999" not in text_of(result)
    assert "<=" in result.structured_content["sql"]


async def test_preview_lookup_joins_several_feature_tables_and_renames_clashes(
    feature_schema: str, mcp: Any
) -> None:
    result = await ok(
        mcp,
        "features_preview_lookup",
        labels_table=f"{feature_schema}.labels",
        feature_tables=[
            f"{feature_schema}.customer_features",
            f"{feature_schema}.customer_profile",
        ],
        timestamp_column="ts",
    )
    rows = _rows(result)
    first = rows[("1", "2024-01-15")]
    assert first["customer_features_visits"] == "2.0"
    assert first["customer_profile_visits"] == "7.0"
    assert first["customer_age_years_1y"] == "40"
    assert rows[("3", "2024-01-06")]["customer_age_years_1y"] is None
    assert "renamed" in text_of(result)
    # `visits` has no window: the guide's noun_metric_window naming is a warning, not a failure.
    assert [w.split(":")[0] for w in result.structured_content["warnings"]] == ["visits", "visits"]
    assert "naming warnings: visits" in text_of(result)


async def test_the_lookup_sql_runs_again_as_returned(
    feature_schema: str, mcp: Any, backend: Any
) -> None:
    result = await ok(
        mcp,
        "features_preview_lookup",
        labels_table=f"{feature_schema}.labels",
        feature_tables=[f"{feature_schema}.customer_features"],
        timestamp_column="ts",
        limit=2,
    )
    assert result.structured_content["truncated"] is True
    assert len(result.structured_content["rows"]) == 2
    again = sql.query(backend, result.structured_content["sql"])
    assert len(again.rows) == 4


async def test_a_lookup_on_a_table_without_keys_says_the_code_and_how_to_add_one(
    feature_schema: str, mcp: Any
) -> None:
    text = await fails(
        mcp,
        "features_preview_lookup",
        labels_table=f"{feature_schema}.labels",
        feature_tables=[f"{feature_schema}.no_keys"],
    )
    assert "INVALID_PARAMETER_VALUE" in text
    assert "has no primary key" in text
    assert "ADD CONSTRAINT" in text
