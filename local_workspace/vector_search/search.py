"""Writes to DIRECT_ACCESS indexes, and queries (ANN, HYBRID, keyword) of any index.

The query answer has the SDK's shape: ``manifest.columns`` are the requested columns plus
``score`` (last, as Databricks does), ``result.data_array`` one row per hit. When the text of
an index is scored by keywords only (no embedding model installed), the answer carries
``scoring: {"method": "keyword", "note": ...}`` and the index status says so too: a keyword
score is never presented as a semantic one.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from local_workspace.embeddings import KEYWORD_NOTE, stand_in_note
from local_workspace.errors import invalid
from local_workspace.vector_search.filters import mask, parse_filters
from local_workspace.vector_search.index import IndexData, fuse, ranks, top_k
from local_workspace.vector_search.service import VectorSearchService, _vectors

HYBRID_DEPTH = 100


def upsert(service: VectorSearchService, name: str, inputs_json: str) -> dict[str, Any]:
    """Upsert rows into a DIRECT_ACCESS index; UpsertDataVectorIndexResponse dict."""
    data = _direct(service, name)
    try:
        rows = json.loads(inputs_json or "[]")
    except json.JSONDecodeError as exc:
        raise invalid(f"inputs_json is not valid JSON: {exc.msg}") from exc
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise invalid("inputs_json must be a JSON array of row objects.")
    meta, columns = data.meta, data.meta["columns"]
    key_column = meta["primary_key"]
    for row in rows:
        unknown = [c for c in row if c not in columns]
        if unknown:
            raise invalid(
                f"Unknown column(s) {', '.join(unknown)}. Valid columns: {', '.join(columns)}."
            )
        if row.get(key_column) is None:
            raise invalid(f"Every row needs its primary key '{key_column}'.")
    keys = [str(r[key_column]) for r in rows]
    vectors: np.ndarray | None = None
    clean = [dict(r) for r in rows]
    if meta["vector_column"] is not None:
        vectors = _vectors([r.get(meta["vector_column"]) for r in clean], data.dimension)
        for row in clean:
            row.pop(meta["vector_column"], None)
    else:
        model = service.embedder_of(data)
        if model is not None:
            vectors = model.embed([str(r.get(meta["text_column"]) or "") for r in clean])
    with data.lock:
        data.upsert(keys, clean, vectors)
        data.save()
    return {"status": "SUCCESS", "result": {"success_row_count": len(keys)}}


def delete_rows(service: VectorSearchService, name: str, keys: list[str]) -> dict[str, Any]:
    """Delete rows of a DIRECT_ACCESS index by primary key."""
    data = _direct(service, name)
    with data.lock:
        data.delete([str(k) for k in keys])
        data.save()
    return {"status": "SUCCESS", "result": {"success_row_count": len(keys)}}


def _direct(service: VectorSearchService, name: str) -> IndexData:
    data = service.get(name)
    if data.meta["index_type"] != "DIRECT_ACCESS":
        raise invalid(
            f"Index '{name}' is a DELTA_SYNC index: change its source table and sync instead."
        )
    return data


def _text_columns(data: IndexData, wanted: list[str] | None) -> list[str]:
    """Columns keyword scoring reads: the query's, else the embedded text, else all text."""
    if wanted:
        return wanted
    if data.meta["text_column"]:
        return [data.meta["text_column"]]
    columns = data.meta["columns"]
    sample = data.rows[:50]
    return [
        c
        for c in columns
        if c != data.meta["vector_column"] and any(isinstance(r.get(c), str) for r in sample)
    ]


def query(service: VectorSearchService, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Run one query; QueryVectorIndexResponse dict."""
    data = service.get(name)
    meta, columns = data.meta, data.meta["columns"]
    wanted = list(body.get("columns") or [])
    if not wanted:
        raise invalid(f"Missing required field: columns (valid columns: {', '.join(columns)}).")
    unknown = [c for c in wanted if c not in columns]
    if unknown:
        raise invalid(
            f"Unknown column(s) {', '.join(unknown)}. Valid columns: {', '.join(columns)}."
        )
    query_type = str(body.get("query_type") or "ANN").upper()
    if query_type not in ("ANN", "HYBRID", "FULL_TEXT"):
        raise invalid(f"query_type must be ANN, HYBRID or FULL_TEXT, got {query_type!r}.")
    k = int(body.get("num_results") or 10)
    if k < 1:
        raise invalid("num_results must be >= 1.")
    text, vector = body.get("query_text"), body.get("query_vector")
    with data.lock:
        allowed = mask(data.rows, parse_filters(body.get("filters_json"), columns))
        method, hits = _search(service, data, query_type, text, vector, allowed, k, body)
        threshold = body.get("score_threshold")
        if threshold is not None and method != "hybrid":
            hits = [(p, s) for p, s in hits if s >= float(threshold)]
        data_array = [[*(data.rows[p].get(c) for c in wanted), float(s)] for p, s in hits]
    answer: dict[str, Any] = {
        "manifest": {
            "column_count": len(wanted) + 1,
            "columns": [{"name": c} for c in wanted] + [{"name": "score"}],
        },
        "result": {"row_count": len(data_array), "data_array": data_array},
        "scoring": {"method": method},
    }
    model = meta.get("embedding_model")
    if model is not None:
        installed = service.embedder_of(data) is not None
        notes = [stand_in_note(model, installed), KEYWORD_NOTE if method == "keyword" else ""]
        if any(notes):
            answer["scoring"]["note"] = "; ".join(n for n in notes if n)
    return answer


def _search(
    service: VectorSearchService,
    data: IndexData,
    query_type: str,
    text: Any,
    vector: Any,
    allowed: np.ndarray | None,
    k: int,
    body: dict[str, Any],
) -> tuple[str, list[tuple[int, float]]]:
    """(method, [(position, score)]) of the best k rows."""
    if not data.keys:
        return ("keyword" if service.keyword_only(data) else "ann"), []
    query_vector = _query_vector(service, data, text, vector, query_type)
    text_columns = _text_columns(data, body.get("query_columns"))
    if query_type == "FULL_TEXT" or query_vector is None:
        if not text:
            raise invalid("query_text is required for keyword scoring.")
        scores = data.keyword_scores(str(text), text_columns)
        matched = scores > 0 if allowed is None else allowed & (scores > 0)
        return "keyword", [(int(p), float(scores[p])) for p in top_k(scores, matched, k)]
    scores = data.vector_scores(query_vector)
    if query_type == "ANN":
        return "ann", [(int(p), float(scores[p])) for p in top_k(scores, allowed, k)]
    if not text:
        raise invalid("HYBRID queries need query_text (and query_vector for self-managed vectors).")
    keyword = data.keyword_scores(str(text), text_columns)
    matched = keyword > 0 if allowed is None else allowed & (keyword > 0)
    fused = fuse(
        ranks(scores, allowed, max(HYBRID_DEPTH, k)),
        ranks(keyword, matched, max(HYBRID_DEPTH, k)),
        k,
    )
    return "hybrid", fused


def _query_vector(
    service: VectorSearchService, data: IndexData, text: Any, vector: Any, query_type: str
) -> np.ndarray | None:
    """The query as a vector (given, or the text embedded); None for keyword-only scoring."""
    if vector is not None:
        if data.vectors is None:
            raise invalid(
                f"Index '{data.meta['name']}' has no vectors ({KEYWORD_NOTE}); "
                "query it with query_text."
            )
        if len(vector) != data.dimension:
            raise invalid(f"query_vector has dimension {len(vector)}, expected {data.dimension}.")
        return np.asarray(vector, dtype=np.float32)
    if query_type == "FULL_TEXT":
        return None
    model = service.embedder_of(data)
    if model is not None and text:
        return model.embed([str(text)])[0]
    if data.meta["vector_column"] is not None:
        raise invalid(
            "This index has self-managed vectors: give query_vector "
            "(with query_text too for HYBRID)."
        )
    if not text:
        raise invalid("Give query_text or query_vector.")
    return None


def scan(service: VectorSearchService, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Rows in primary-key order after ``last_primary_key``; ScanVectorIndexResponse dict."""
    data = service.get(name)
    n = int(body.get("num_results") or 10)
    after = body.get("last_primary_key")
    with data.lock:
        keys = sorted(data.keys)
        if after is not None:
            keys = [k for k in keys if k > str(after)]
        page = keys[:n]
        positions = {k: i for i, k in enumerate(data.keys)}
        structs = [_struct(data.rows[positions[k]]) for k in page]
    answer: dict[str, Any] = {"data": structs}
    if page:
        answer["last_primary_key"] = page[-1]
    return answer


def _struct(row: dict[str, Any]) -> dict[str, Any]:
    return {"fields": [{"key": c, "value": _value(v)} for c, v in row.items()]}


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, (int, float)):
        return {"number_value": value}
    if isinstance(value, list):
        return {"list_value": {"values": [_value(v) for v in value]}}
    if value is None:
        return {}
    return {"string_value": str(value)}
