"""Vector Search indexes: list, describe, create (DELTA_SYNC or DIRECT_ACCESS), sync."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.retries import single_attempt
from tools_core.vector_search.errors import ENDPOINT_HINT, check_index_name, vs_errors
from tools_core.vector_search.models import Changed, IndexDetail, IndexList, IndexRow

if TYPE_CHECKING:
    from databricks.sdk.service.vectorsearch import VectorIndex

MAX_LIST = 200
# The API's request fields, as create_index's parameters (and vs_create_index's) name them.
_PARAMETER_OF = {
    "delta_sync_index_spec.source_table": "source_table",
    "direct_access_index_spec.schema_json": "schema",
    "schema_json": "schema",
    "embedding_vector_columns": "embedding_vector_column",
    "embedding_source_columns": "embedding_source_column",
    "embedding_model_endpoint_name": "embedding_model_endpoint",
}
_API_FIELD = re.compile(r"\b(" + "|".join(re.escape(f) for f in _PARAMETER_OF) + r")\b")
SCHEMA_TYPES = ("integer", "long", "float", "double", "boolean", "string", "date", "timestamp")


def list_indexes(backend: Backend, endpoint_name: str, limit: int = 50) -> IndexList:
    """Indexes served by ``endpoint_name`` (first ``limit``)."""
    limit = max(1, min(limit, MAX_LIST))
    with vs_errors(ENDPOINT_HINT):
        pages = backend.client.vector_search_indexes.list_indexes(endpoint_name)
        found = list(itertools.islice(pages, limit + 1))
    rows = [
        IndexRow(
            name=i.name or "",
            type=i.index_type.value if i.index_type else "",
            primary_key=i.primary_key or "",
        )
        for i in found[:limit]
    ]
    return IndexList(endpoint_name=endpoint_name, indexes=rows, truncated=len(found) > limit)


def describe(index: VectorIndex) -> IndexDetail:
    """The compact description of an SDK ``VectorIndex``."""
    status = index.status
    detail = IndexDetail(
        name=index.name or "",
        endpoint_name=index.endpoint_name or "",
        type=index.index_type.value if index.index_type else "",
        ready=status.ready if status else None,
        indexed_rows=status.indexed_row_count if status else None,
        status=(status.message or "") if status else "",
        primary_key=index.primary_key or "",
    )
    delta, direct = index.delta_sync_index_spec, index.direct_access_index_spec
    spec = delta or direct
    if delta is not None:
        detail.source_table = delta.source_table or ""
        detail.pipeline_type = delta.pipeline_type.value if delta.pipeline_type else ""
        detail.columns = list(delta.columns_to_sync or delta.columns_to_index or [])
    if direct is not None and direct.schema_json:
        detail.columns = list(json.loads(direct.schema_json))
    if spec is not None:
        if spec.embedding_source_columns:
            source = spec.embedding_source_columns[0]
            detail.embedding_source_column = source.name or ""
            detail.embedding_model_endpoint = source.embedding_model_endpoint_name or ""
        if spec.embedding_vector_columns:
            vector = spec.embedding_vector_columns[0]
            detail.embedding_vector_column = vector.name or ""
            detail.embedding_dimension = vector.embedding_dimension
    return detail


def get_vector_index(backend: Backend, index_name: str) -> VectorIndex:
    """The SDK's index, or the API's error with a way to find the right name."""
    in_url = check_index_name(index_name)
    with vs_errors():
        return backend.client.vector_search_indexes.get_index(in_url)


def get_index(backend: Backend, index_name: str) -> IndexDetail:
    """Status, indexed rows, kind, source, primary key and embedding config of an index."""
    return describe(get_vector_index(backend, index_name))


def create_index(
    backend: Backend,
    name: str,
    endpoint_name: str,
    primary_key: str,
    *,
    source_table: str = "",
    embedding_source_column: str = "",
    embedding_model_endpoint: str = "",
    embedding_vector_column: str = "",
    embedding_dimension: int = 0,
    schema: dict[str, str] | None = None,
    columns_to_sync: list[str] | None = None,
) -> IndexDetail:
    """A DELTA_SYNC index (``source_table`` given, TRIGGERED) or a DIRECT_ACCESS one
    (``schema`` given); embeddings computed from a text column or supplied as vectors."""
    from databricks.sdk.service import vectorsearch as vs

    check_index_name(name)
    if bool(source_table) == bool(schema):
        raise InvalidInput(
            "Give exactly one of source_table (DELTA_SYNC) or schema (DIRECT_ACCESS).",
            'Example: schema={"id": "long", "text": "string", "vec": "array<float>"}.',
        )
    text_source = bool(embedding_source_column or embedding_model_endpoint)
    vectors = bool(embedding_vector_column or embedding_dimension)
    if text_source == vectors:
        raise InvalidInput(
            "Give either embedding_source_column + embedding_model_endpoint, or "
            "embedding_vector_column + embedding_dimension.",
        )
    if text_source and not (embedding_source_column and embedding_model_endpoint):
        raise InvalidInput("embedding_source_column needs embedding_model_endpoint (and back).")
    if vectors and not (embedding_vector_column and embedding_dimension > 0):
        raise InvalidInput("embedding_vector_column needs embedding_dimension > 0 (and back).")
    sources = (
        [
            vs.EmbeddingSourceColumn(
                name=embedding_source_column, embedding_model_endpoint_name=embedding_model_endpoint
            )
        ]
        if text_source
        else None
    )
    vector_columns = (
        [
            vs.EmbeddingVectorColumn(
                name=embedding_vector_column, embedding_dimension=embedding_dimension
            )
        ]
        if vectors
        else None
    )
    api = backend.client.vector_search_indexes
    if source_table:
        spec = vs.DeltaSyncVectorIndexSpecRequest(
            source_table=source_table,
            pipeline_type=vs.PipelineType.TRIGGERED,
            embedding_source_columns=sources,
            embedding_vector_columns=vector_columns,
            columns_to_sync=columns_to_sync or None,
        )
        with _parameter_names(), vs_errors(ENDPOINT_HINT), _once(name):
            index = api.create_index(
                name,
                endpoint_name,
                primary_key,
                vs.VectorIndexType.DELTA_SYNC,
                delta_sync_index_spec=spec,
            )
        detail = describe(index)
        detail.note = "Next: vs_sync_index, then vs_query once ready (vs_get_index)."
        return detail
    assert schema is not None
    _check_schema(schema, primary_key)
    direct = vs.DirectAccessVectorIndexSpec(
        schema_json=json.dumps(schema),
        embedding_source_columns=sources,
        embedding_vector_columns=vector_columns,
    )
    with _parameter_names(), vs_errors(ENDPOINT_HINT), _once(name):
        index = api.create_index(
            name,
            endpoint_name,
            primary_key,
            vs.VectorIndexType.DIRECT_ACCESS,
            direct_access_index_spec=direct,
        )
    detail = describe(index)
    detail.note = "Next: vs_upsert rows, then vs_query."
    return detail


@contextmanager
def _parameter_names() -> Iterator[None]:
    """The API's errors name its request fields (``embedding_vector_columns``): say them as
    the parameters the caller has (``embedding_vector_column``)."""
    try:
        yield
    except ToolsCoreError as exc:
        exc.message = _API_FIELD.sub(lambda m: _PARAMETER_OF[m.group(1)], exc.message)
        exc.args = (exc.message,)
        raise


def _once(name: str) -> AbstractContextManager[None]:
    """One attempt at creating index ``name``: a repeat after a lost answer would be refused
    as "already exists", hiding that this call made it."""
    return single_attempt(f"Creating index {name!r}", f"vs_get_index index_name={name}")


def _check_schema(schema: dict[str, Any], primary_key: str) -> None:
    """A DIRECT_ACCESS schema: column -> supported type, the primary key among them."""
    if primary_key not in schema:
        raise InvalidInput(
            f"primary_key {primary_key!r} is not in schema (columns: {', '.join(schema)}).",
        )
    allowed = (*SCHEMA_TYPES, "array<float>", "array<double>")
    bad = {c: t for c, t in schema.items() if str(t).lower() not in allowed}
    if bad:
        raise InvalidInput(f"Unsupported schema types {bad}.", f"Use one of: {', '.join(allowed)}.")


def sync_index(backend: Backend, index_name: str) -> Changed:
    """Start a sync of a DELTA_SYNC index from its source table."""
    in_url = check_index_name(index_name)
    with vs_errors():
        backend.client.vector_search_indexes.sync_index(in_url)
    return Changed(
        index_name=index_name,
        action="sync",
        message=f"Sync started for {index_name}; vs_get_index shows indexed rows and readiness.",
    )
