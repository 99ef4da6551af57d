"""Fixes found using the product as a user would (issue 14): MLflow's "View run" links in job
logs open the run in the local UI; vs_create_index errors name its own parameters; the
embedding endpoints Databricks hosts (``databricks-gte-large-en``...) work locally, saying what
stands in for them."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from databricks.sdk.errors import NotImplemented as NotImplementedError_

from local_workspace.embeddings import model_installed
from local_workspace.runner import LocalWorkspace
from tests.conftest import fails, import_notebook, ok, run_notebook_job, text_of

pytestmark = pytest.mark.anyio

SCHEMA = "main.t_fixes14"
ENDPOINT = "t-fixes14"
GTE = "databricks-gte-large-en"

# A training notebook as users write it: one run with the task's tracking URI (the workspace
# URL), one with tracking URI `databricks` (what Databricks runtimes use). MLflow prints a
# "View run ... at: <url>" line for each.
TRACKING_NOTEBOOK = """# Databricks notebook source
import mlflow

mlflow.set_experiment("/Shared/t_fixes14_links")
with mlflow.start_run(run_name="with-workspace-url"):
    mlflow.log_metric("rmse", 0.5)

# COMMAND ----------

mlflow.set_tracking_uri("databricks")
with mlflow.start_run(run_name="with-databricks-uri"):
    mlflow.log_metric("rmse", 0.4)
"""


def test_view_run_links_a_job_prints_open_the_run_in_the_local_ui(
    ws: Any, local_ws: LocalWorkspace
) -> None:
    path = "/Shared/t_fixes14_links/train"
    import_notebook(ws, path, TRACKING_NOTEBOOK)
    run = run_notebook_job(ws, path, {}, timeout_s=240)  # polls: the SDK's waiter sleeps 10 s
    assert run.tasks is not None
    logs = ws.jobs.get_run_output(run.tasks[0].run_id).logs or ""
    links = dict(re.findall(r"View run (\S+) at: (\S+)", logs))
    assert set(links) == {"with-workspace-url", "with-databricks-uri"}, logs
    # MLflow's two link shapes: <host>/#/experiments/... and Databricks' <host>/ml/experiments/...
    assert "/#/experiments/" in links["with-workspace-url"]
    assert "/ml/experiments/" in links["with-databricks-uri"]

    token = {"Authorization": f"Bearer {local_ws.token}"}
    with httpx.Client(timeout=60) as http:
        for name, link in links.items():
            run_id = link.rsplit("/", 1)[1]
            # A browser has no token yet: the link only redirects, to the run's page of the UI
            # (browsers keep the '#...' of the link across a redirect).
            first = http.get(link)
            assert first.status_code == 307, (name, first.text)
            page = http.get(link, headers=token, follow_redirects=True)
            assert page.status_code == 200, (name, page.text[:300])
            assert b"<title>MLflow</title>" in page.content
            assert page.url.path == "/mlflow/"
            assert page.url.fragment.endswith(f"/runs/{run_id}")
            assert page.url.fragment.startswith("/experiments/")
        # Before the UI's login, the page says how to log in instead of a bare 401.
        refused = http.get(f"{local_ws.url}/mlflow/", follow_redirects=True)
        assert refused.status_code == 401
        assert "/mlflow/login?token=" in refused.json()["message"]


def test_a_databricks_ui_link_with_a_query_keeps_it_in_the_ui_address(
    local_ws: LocalWorkspace,
) -> None:
    # mlflow.genai.evaluate prints <host>/ml/experiments/<id>/evaluation-runs?selectedRunUuid=...
    link = f"{local_ws.url}/ml/experiments/7/evaluation-runs?selectedRunUuid=abc"
    answer = httpx.get(link, timeout=30)
    assert answer.status_code == 307
    assert answer.headers["location"] == (
        "/mlflow/#/experiments/7/evaluation-runs?selectedRunUuid=abc"
    )


@pytest.fixture(scope="module")
def docs_table(ws: Any) -> str:
    """A small table of documents for text-embedding indexes."""
    table = f"{SCHEMA}.docs"
    warehouse = next(iter(ws.warehouses.list())).id
    for statement in (
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
        f"CREATE OR REPLACE TABLE {table} (id BIGINT, text STRING)",
        f"INSERT INTO {table} VALUES (1, 'descale the espresso machine monthly'), "
        "(2, 'trail running shoes for muddy paths'), (3, 'a cast iron skillet for steaks')",
    ):
        ws.statement_execution.execute_statement(statement, warehouse, wait_timeout="30s")
    return table


async def test_vs_create_index_errors_name_the_tools_own_parameters(
    mcp: Any, docs_table: str
) -> None:
    await ok(mcp, "vs_create_endpoint", name=ENDPOINT)
    text = await fails(
        mcp,
        "vs_create_index",
        name=f"{SCHEMA}.unknown_model_index",
        endpoint_name=ENDPOINT,
        primary_key="id",
        source_table=docs_table,
        embedding_source_column="text",
        embedding_model_endpoint="my-embedder",
    )
    assert "INVALID_PARAMETER_VALUE" in text and "my-embedder" in text
    # The parameter the caller has, not the REST API's field name.
    assert "embedding_vector_column" in text
    assert "embedding_vector_columns" not in text
    assert GTE in text  # the Databricks-hosted names that work locally are named


async def test_a_databricks_hosted_embedding_endpoint_works_locally_and_says_what_stands_in(
    mcp: Any, docs_table: str
) -> None:
    await ok(mcp, "vs_create_endpoint", name=ENDPOINT)
    index = f"{SCHEMA}.gte_index"
    created = await ok(
        mcp,
        "vs_create_index",
        name=index,
        endpoint_name=ENDPOINT,
        primary_key="id",
        source_table=docs_table,
        embedding_source_column="text",
        embedding_model_endpoint=GTE,
    )
    detail = created.structured_content
    assert detail["embedding_model_endpoint"] == GTE  # kept as the caller wrote it
    stand_in = (
        "local-minilm-l6-v2 (384 dims) stands in" if model_installed() else "BM25 keywords stand in"
    )
    assert f"{GTE} is Databricks-hosted: {stand_in} for it locally" in detail["status"]
    assert len(detail["status"]) < 400

    await ok(mcp, "vs_sync_index", index_name=index)
    result = await ok(mcp, "vs_query", index_name=index, query_text="espresso descale")
    assert str(result.structured_content["rows"][0][0]) in ("1", "1.0")
    assert stand_in in result.structured_content["note"]
    assert f"note: {GTE} is Databricks-hosted" in text_of(result)


def test_a_databricks_hosted_embedding_endpoint_is_served_by_the_local_model(ws: Any) -> None:
    if not model_installed():
        # Nothing local can embed: refused as a feature this workspace lacks, saying the fix.
        with pytest.raises(NotImplementedError_, match="embeddings` extra"):
            ws.serving_endpoints.get(GTE)
        with pytest.raises(NotImplementedError_, match="embeddings` extra"):
            ws.serving_endpoints.query(GTE, input=["a cat"])
        return
    endpoint = ws.serving_endpoints.get(GTE)
    assert endpoint.state.ready.value == "READY"
    entity = endpoint.config.served_entities[0]
    assert "local-minilm-l6-v2" in entity.foundation_model.description
    answer = ws.serving_endpoints.query(GTE, input=["a cat", "a dog"])
    assert len(answer.data) == 2 and len(answer.data[0].embedding) == 384
