"""vs_* tools through the MCP server: a RAG pipeline end to end, HYBRID against ANN, errors
that name the code and the next step, and deletes that need confirm."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest

from tests.conftest import fails, ok, text_of

pytestmark = pytest.mark.anyio

SCHEMA = "main.t_vs_tools"
ENDPOINT = "t-vs-tools"
RELEVANT_ID = 137
QUESTION = "How often should I descale my espresso machine?"
PRODUCTS = [
    ("wireless headphones", "long flights and noisy trains"),
    ("trail running shoes", "muddy mountain paths"),
    ("cast iron skillet", "searing steaks at home"),
    ("ergonomic office chair", "long days at a desk"),
    ("camping tent", "two people in windy weather"),
    ("electric toothbrush", "gentle daily cleaning"),
    ("mechanical keyboard", "fast typing and gaming"),
    ("yoga mat", "non slip stretching sessions"),
]
COLOURS = ["red", "blue", "green", "black", "white"]


def documents() -> list[tuple[int, str, str]]:
    """200 short product descriptions with codes; one answers QUESTION."""
    docs = []
    for i in range(200):
        product, use = PRODUCTS[i % len(PRODUCTS)]
        colour = COLOURS[i % len(COLOURS)]
        text = f"A {colour} {product} made for {use}. Product code SKU-{10000 + i * 7}."
        docs.append((i, text, product.split()[-1]))
    docs[RELEVANT_ID] = (
        RELEVANT_ID,
        "Espresso machine care: descale the espresso machine every month with citric acid "
        "so the boiler stays clean. Product code SKU-48213.",
        "coffee",
    )
    return docs


def values(rows: list[tuple[int, str, str]]) -> str:
    return ", ".join(f"({i}, '{text}', '{category}')" for i, text, category in rows)


async def ready_index(mcp: Any, name: str, rows: int) -> dict[str, Any]:
    """Poll vs_get_index until the index is ready with ``rows`` rows (deadline 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        detail = (await ok(mcp, "vs_get_index", index_name=name)).structured_content
        if detail.get("ready") and detail.get("indexed_rows") == rows:
            return detail
        assert time.monotonic() < deadline, f"index not ready: {detail}"
        await anyio.sleep(0.2)


async def make_docs_index(mcp: Any, table: str, index: str) -> None:
    await ok(mcp, "sql_execute", statement=f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    await ok(
        mcp,
        "sql_execute",
        statement=f"CREATE OR REPLACE TABLE {table} (id BIGINT, text STRING, category STRING)",
    )
    docs = documents()
    for start in range(0, len(docs), 50):
        statement = f"INSERT INTO {table} VALUES {values(docs[start : start + 50])}"
        await ok(mcp, "sql_execute", statement=statement)
    await ok(mcp, "vs_create_endpoint", name=ENDPOINT)
    created = await ok(
        mcp,
        "vs_create_index",
        name=index,
        endpoint_name=ENDPOINT,
        primary_key="id",
        source_table=table,
        embedding_source_column="text",
        embedding_model_endpoint="local-minilm-l6-v2",
    )
    assert "vs_sync_index" in text_of(created)
    await ok(mcp, "vs_sync_index", index_name=index)
    await ready_index(mcp, index, 200)


async def test_a_rag_pipeline_finds_the_relevant_document_first(mcp) -> None:
    table, index = f"{SCHEMA}.rag_docs", f"{SCHEMA}.rag_docs_index"
    await make_docs_index(mcp, table, index)
    listed = await ok(mcp, "vs_list_indexes", endpoint_name=ENDPOINT)
    assert index in text_of(listed)
    detail = text_of(await ok(mcp, "vs_get_index", index_name=index))
    assert "DELTA_SYNC" in detail and "local-minilm-l6-v2" in detail and table in detail

    result = await ok(mcp, "vs_query", index_name=index, query_text=QUESTION, num_results=5)
    data = result.structured_content
    # Columns default to the primary key and the text column, then the score.
    assert data["columns"][:2] == ["id", "text"] and data["columns"][-1] == "score"
    assert str(data["rows"][0][0]) in (str(RELEVANT_ID), f"{RELEVANT_ID}.0")
    assert 1 <= len(data["rows"]) <= 5
    text = text_of(result)
    assert text.splitlines()[0].endswith("| score |")
    assert "descale" in text.splitlines()[2]
    # Without an embedding model the local workspace scores keywords, and the agent is told.
    if "keyword scoring" in detail:
        assert "note: keyword scoring" in text


async def test_a_filter_narrows_the_hits_and_an_unknown_column_names_the_valid_ones(mcp) -> None:
    table, index = f"{SCHEMA}.filter_docs", f"{SCHEMA}.filter_docs_index"
    await make_docs_index(mcp, table, index)
    result = await ok(
        mcp,
        "vs_query",
        index_name=index,
        query_text="shoes for mountain paths",
        columns=["id", "category"],
        filters={"category": "shoes"},
        num_results=10,
    )
    rows = result.structured_content["rows"]
    assert rows and all(row[1] == "shoes" for row in rows)
    text = await fails(
        mcp, "vs_query", index_name=index, query_text="shoes", filters={"colour": "red"}
    )
    assert text.startswith("INVALID_PARAMETER_VALUE")
    assert "colour" in text and "category" in text and "text" in text


async def make_direct_index(mcp: Any, index: str) -> None:
    await ok(mcp, "vs_create_endpoint", name=ENDPOINT)
    await ok(
        mcp,
        "vs_create_index",
        name=index,
        endpoint_name=ENDPOINT,
        primary_key="id",
        schema={"id": "long", "text": "string", "vec": "array<float>"},
        embedding_vector_column="vec",
        embedding_dimension=4,
    )
    # Nineteen rows near the query vector (nearer as the id falls), the product code far away.
    rows: list[dict[str, Any]] = [
        {"id": i, "text": f"Accessory number {i} for the kitchen", "vec": [1.0, 0.05 * i, 0, 0]}
        for i in range(1, 20)
    ]
    rows.append({"id": 99, "text": "Replacement filter SKU-48213", "vec": [-1.0, 0, 0.2, 0]})
    upserted = await ok(mcp, "vs_upsert", index_name=index, rows=rows)
    assert upserted.structured_content["rows"] == 20


async def test_hybrid_finds_an_exact_product_code_that_ann_ranks_lower(mcp) -> None:
    index = f"{SCHEMA}.direct_codes"
    await make_direct_index(mcp, index)
    query = [1.0, 0.0, 0.0, 0.0]
    ann = await ok(mcp, "vs_query", index_name=index, query_vector=query, num_results=20)
    ann_ids = [str(row[0]) for row in ann.structured_content["rows"]]
    assert ann_ids[0] != "99" and "99" in ann_ids and ann_ids.index("99") > 5
    hybrid = await ok(
        mcp,
        "vs_query",
        index_name=index,
        query_vector=query,
        query_text="SKU-48213",
        query_type="HYBRID",
        num_results=5,
    )
    rows = hybrid.structured_content["rows"]
    assert str(rows[0][0]) == "99"
    assert "SKU-48213" in text_of(hybrid).splitlines()[2]


async def test_delete_rows_without_confirm_changes_nothing(mcp) -> None:
    index = f"{SCHEMA}.direct_delete"
    await make_direct_index(mcp, index)
    preview = await ok(mcp, "vs_delete_rows", index_name=index, primary_keys=["99", "1"])
    assert "Would delete 2" in text_of(preview) and "confirm=true" in text_of(preview)
    assert (await ok(mcp, "vs_get_index", index_name=index)).structured_content[
        "indexed_rows"
    ] == 20
    await ok(mcp, "vs_delete_rows", index_name=index, primary_keys=["99", "1"], confirm=True)
    assert (await ok(mcp, "vs_get_index", index_name=index)).structured_content[
        "indexed_rows"
    ] == 18


async def test_creating_an_existing_endpoint_reports_it(mcp) -> None:
    await ok(mcp, "vs_create_endpoint", name=ENDPOINT)
    again = await ok(mcp, "vs_create_endpoint", name=ENDPOINT)
    assert again.structured_content["created"] is False
    assert "Already exists" in text_of(again)
    assert ENDPOINT in text_of(await ok(mcp, "vs_list_endpoints"))


async def test_an_unknown_index_fails_with_the_code_and_where_to_look(mcp) -> None:
    for tool, extra in (("vs_get_index", {}), ("vs_query", {"query_text": "x"})):
        text = await fails(mcp, tool, index_name=f"{SCHEMA}.no_such_index", **extra)
        assert text.startswith(("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND")), text
        assert "vs_list_indexes" in text


async def test_a_vector_of_the_wrong_dimension_fails_with_the_expected_one(mcp) -> None:
    index = f"{SCHEMA}.direct_dims"
    await make_direct_index(mcp, index)
    text = await fails(mcp, "vs_query", index_name=index, query_vector=[1.0, 0.0, 0.0])
    assert text.startswith("INVALID_PARAMETER_VALUE") and "expects 4" in text


async def test_an_index_name_needs_three_levels(mcp) -> None:
    text = await fails(
        mcp,
        "vs_create_index",
        name="docs_index",
        endpoint_name=ENDPOINT,
        primary_key="id",
        source_table=f"{SCHEMA}.rag_docs",
        embedding_source_column="text",
        embedding_model_endpoint="local-minilm-l6-v2",
    )
    assert text.startswith("INVALID_PARAMETER_VALUE") and "main.default.docs_index" in text
