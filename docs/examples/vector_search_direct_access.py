"""A Direct Access vector index with self-managed embeddings: create, upsert, query, filter.

Direct Access indexes hold vectors you compute and write yourself (no source table to sync).
The 4-dimensional vectors here stand in for a real embedding model's output so the example
stays small; use the endpoint's model dimension (e.g. 1024 for databricks-gte-large-en).
Uses only the databricks-sdk; runs unchanged against Databricks and the local workspace
(`dbx-devkit local`).
Rerunnable: the index is dropped and recreated.
"""

from __future__ import annotations

import contextlib
import json
import time

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceConflict
from databricks.sdk.service.vectorsearch import (
    DirectAccessVectorIndexSpec,
    EmbeddingVectorColumn,
    EndpointType,
    VectorIndexType,
)

ENDPOINT = "docs-vector-search"
INDEX = "main.docs_vector_search.support_articles_index"  # catalog.schema.name

ARTICLES = [
    {
        "article_id": 1,
        "title": "Reset your password",
        "topic": "account",
        "vec": [0.9, 0.1, 0.0, 0.0],
    },
    {
        "article_id": 2,
        "title": "Change your email",
        "topic": "account",
        "vec": [0.7, 0.3, 0.1, 0.0],
    },
    {"article_id": 3, "title": "Refund a payment", "topic": "billing", "vec": [0.0, 0.1, 0.9, 0.2]},
    {
        "article_id": 4,
        "title": "Update a credit card",
        "topic": "billing",
        "vec": [0.2, 0.0, 0.7, 0.5],
    },
]


def ensure_schema(w: WorkspaceClient) -> None:
    """The index lives in a Unity Catalog schema, like a table."""
    catalog, schema, _ = INDEX.split(".")
    with contextlib.suppress(ResourceConflict):  # it exists already
        w.schemas.create(name=schema, catalog_name=catalog)


def ensure_endpoint(w: WorkspaceClient) -> None:
    """Create the endpoint once and wait until it is online (creation takes minutes remotely)."""
    try:
        w.vector_search_endpoints.get_endpoint(ENDPOINT)
    except NotFound:
        w.vector_search_endpoints.create_endpoint_and_wait(ENDPOINT, EndpointType.STANDARD)


def recreate_index(w: WorkspaceClient) -> None:
    """Drop the index if it exists, create it, and wait until it is ready."""
    with contextlib.suppress(NotFound):
        w.vector_search_indexes.delete_index(INDEX)
    schema = {"article_id": "long", "title": "string", "topic": "string", "vec": "array<float>"}
    w.vector_search_indexes.create_index(
        name=INDEX,
        endpoint_name=ENDPOINT,
        primary_key="article_id",
        index_type=VectorIndexType.DIRECT_ACCESS,
        direct_access_index_spec=DirectAccessVectorIndexSpec(
            embedding_vector_columns=[EmbeddingVectorColumn(name="vec", embedding_dimension=4)],
            schema_json=json.dumps(schema),
        ),
    )
    deadline = time.monotonic() + 600
    while not (status := w.vector_search_indexes.get_index(INDEX).status) or not status.ready:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{INDEX} is not ready: {status}")
        time.sleep(2)


def main() -> None:
    """Upsert four articles, then ask for the nearest ones with and without a filter."""
    w = WorkspaceClient()
    ensure_schema(w)
    ensure_endpoint(w)
    recreate_index(w)

    upserted = w.vector_search_indexes.upsert_data_vector_index(
        index_name=INDEX, inputs_json=json.dumps(ARTICLES)
    )
    print(f"upserted: {upserted.status.value if upserted.status else '?'}")

    query_vector = [0.8, 0.2, 0.05, 0.0]  # "I forgot my login", embedded
    for filters in (None, {"topic": "billing"}):
        response = w.vector_search_indexes.query_index(
            index_name=INDEX,
            columns=["article_id", "title"],
            query_vector=query_vector,
            filters_json=json.dumps(filters) if filters else None,
            num_results=2,
        )
        rows = response.result.data_array if response.result else []
        # Each row is the requested columns followed by the similarity score.
        titles = [row[1] for row in rows or []]
        print(f"filter {filters}: {titles}")


if __name__ == "__main__":
    main()
