"""Vector Search data: upsert and delete rows (DIRECT_ACCESS), query (ANN or HYBRID)."""

from __future__ import annotations

import json
import re
from typing import Any

from tools_core import ids
from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.vector_search.errors import check_index_name, vs_errors
from tools_core.vector_search.indexes import describe, get_vector_index
from tools_core.vector_search.models import Changed, IndexDetail, QueryResult

MAX_ROWS = 1000
MAX_RESULTS = 50
# Structured cells are capped too: a chunk of a long document is enough to judge a hit.
VALUE_MAX_CHARS = 500
DEFAULT_COLUMNS_CAP = 6
# Keys of a query response the SDK knows; any other string field is a note for the agent.
KNOWN_KEYS = {"manifest", "result", "next_page_token", "facet_result"}
_FILTER_OPS = re.compile(r"\s+(NOT|<=|>=|<|>|!=|LIKE)\s*$", re.IGNORECASE)


def upsert(backend: Backend, index_name: str, rows: list[dict[str, Any]]) -> Changed:
    """Insert or replace rows (by primary key) of a DIRECT_ACCESS index."""
    in_url = check_index_name(index_name)
    if not rows:
        raise InvalidInput("rows is empty.", "Pass a list of {column: value} objects.")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"{len(rows)} rows: at most {MAX_ROWS} per call.", "Split into batches.")
    with vs_errors():
        response = backend.client.vector_search_indexes.upsert_data_vector_index(
            in_url, json.dumps(rows, default=str)
        )
    result = response.result
    count = result.success_row_count if result else None
    failed = list(result.failed_primary_keys or []) if result else []
    status = response.status.value if response.status else ""
    return Changed(
        index_name=index_name,
        action="upsert",
        rows=count,
        failed_keys=failed,
        message=f"Upserted {count if count is not None else '?'} rows into {index_name}"
        f" ({status}).",
    )


def delete_rows(
    backend: Backend, index_name: str, primary_keys: list[str], confirm: bool = False
) -> Changed:
    """Delete rows by primary key from a DIRECT_ACCESS index; without ``confirm`` a preview."""
    in_url = check_index_name(index_name)
    if not primary_keys:
        raise InvalidInput("primary_keys is empty.")
    if len(primary_keys) > MAX_ROWS:
        raise InvalidInput(f"At most {MAX_ROWS} keys per call.", "Split into batches.")
    keys = [str(k) for k in primary_keys]
    shown = ", ".join(keys[:10]) + (", ..." if len(keys) > 10 else "")
    if not confirm:
        # Check the index exists so the preview is not a promise that will fail.
        get_vector_index(backend, index_name)
        return Changed(
            index_name=index_name,
            action="delete",
            done=False,
            rows=len(keys),
            message=f"Would delete {len(keys)} rows from {index_name} (keys: {shown}). "
            "Nothing changed: call again with confirm=true.",
        )
    with vs_errors():
        response = backend.client.vector_search_indexes.delete_data_vector_index(in_url, keys)
    result = response.result
    count = result.success_row_count if result else None
    failed = list(result.failed_primary_keys or []) if result else []
    return Changed(
        index_name=index_name,
        action="delete",
        rows=count,
        failed_keys=failed,
        message=f"Deleted {count if count is not None else '?'} rows from {index_name}.",
    )


def _known_columns(backend: Backend, detail: IndexDetail) -> list[str]:
    """The columns an index holds, when they can be read (schema, columns_to_sync, or the
    source table); empty when unknown."""
    if detail.columns:
        names = list(detail.columns)
    elif detail.source_table:
        from databricks.sdk.errors import DatabricksError

        try:
            table = backend.client.tables.get(ids.full_name(detail.source_table, "source table"))
        except (DatabricksError, InvalidInput):
            return []  # the source table is not readable here: let the API judge the columns
        names = [c.name for c in table.columns or [] if c.name]
    else:
        return []
    for must in (
        detail.primary_key,
        detail.embedding_source_column,
        detail.embedding_vector_column,
    ):
        if must and must not in names:
            names.append(must)
    return names


def _filter_columns(filters: dict[str, Any]) -> list[str]:
    """Column names used by a Databricks filter dict ({"price <": 10, "a OR b": ...})."""
    names = []
    for key in filters:
        for part in str(key).split(" OR "):
            names.append(_FILTER_OPS.sub("", part.strip()).strip())
    return names


def query(
    backend: Backend,
    index_name: str,
    *,
    query_text: str = "",
    query_vector: list[float] | None = None,
    columns: list[str] | None = None,
    filters: dict[str, Any] | None = None,
    num_results: int = 10,
    query_type: str = "ANN",
) -> QueryResult:
    """Nearest rows to a text or a vector (HYBRID adds keyword matching), best first,
    with their score; ``columns`` default to the primary key and the text column."""
    if not query_text and not query_vector:
        raise InvalidInput("Give query_text or query_vector.")
    if not 1 <= num_results <= MAX_RESULTS:
        raise InvalidInput(f"num_results must be 1..{MAX_RESULTS}.")
    detail = describe(get_vector_index(backend, index_name))
    dimension = detail.embedding_dimension
    if query_vector and dimension and len(query_vector) != dimension:
        raise InvalidInput(
            f"query_vector has {len(query_vector)} dimensions; {index_name} expects {dimension}.",
            "Embed the query with the index's model, or pass query_text.",
        )
    known = _known_columns(backend, detail) if (filters or not columns) else []
    if filters and known:
        unknown = [c for c in _filter_columns(filters) if c not in known]
        if unknown:
            raise InvalidInput(
                f"Filter on unknown column(s) {', '.join(unknown)} of {index_name}.",
                f"Valid columns: {', '.join(known)}.",
            )
    if not columns:
        columns = [c for c in (detail.primary_key, detail.embedding_source_column) if c]
        if len(columns) < 2:
            vector = detail.embedding_vector_column
            extra = [c for c in known if c not in columns and c != vector]
            columns += extra[: DEFAULT_COLUMNS_CAP - len(columns)]
    body: dict[str, Any] = {
        "columns": columns,
        "num_results": num_results,
        "query_type": query_type,
    }
    if query_text:
        body["query_text"] = query_text
    if query_vector:
        body["query_vector"] = list(query_vector)
    if filters:
        body["filters_json"] = json.dumps(filters)
    with vs_errors():
        # The raw call keeps fields the SDK's dataclass drops (e.g. a scoring note).
        raw = backend.client.api_client.do(
            "POST",
            f"/api/2.0/vector-search/indexes/{check_index_name(index_name)}/query",
            body=body,
        )
    return _result(index_name, raw if isinstance(raw, dict) else {})


def _result(index_name: str, raw: dict[str, Any]) -> QueryResult:
    from databricks.sdk.service.vectorsearch import QueryVectorIndexResponse

    response = QueryVectorIndexResponse.from_dict(raw)
    names = [c.name or "" for c in (response.manifest.columns or [])] if response.manifest else []
    rows = [
        [
            v[: VALUE_MAX_CHARS - 1] + "…" if isinstance(v, str) and len(v) > VALUE_MAX_CHARS else v
            for v in row
        ]
        for row in (response.result.data_array or [] if response.result else [])
    ]
    notes = []
    for key, value in raw.items():
        if key in KNOWN_KEYS:
            continue
        # A note may come alone or inside an object (the local workspace's {"scoring": ...}).
        note = value.get("note") if isinstance(value, dict) else value
        if isinstance(note, str) and note:
            notes.append(note)
    return QueryResult(index_name=index_name, columns=names, rows=rows, note=" ".join(notes))
