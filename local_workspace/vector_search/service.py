"""Vector Search endpoints and indexes of the local workspace (``services["vector_search"]``).

Endpoints are ONLINE at once (there is nothing to provision). Indexes are DELTA_SYNC (rows
read from a table of the local catalog on each triggered sync) or DIRECT_ACCESS (rows upserted
and deleted through the API). Everything lives under ``<data_dir>/vector_search/`` and
survives a restart.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np

from local_workspace.catalog.names import quote, split_name
from local_workspace.embeddings import (
    FOUNDATION_EMBEDDING_ENDPOINTS,
    KEYWORD_NOTE,
    LOCAL_MODEL_NAME,
    Embedder,
    embedders,
    local_model_name,
    stand_in_note,
)
from local_workspace.errors import already_exists, invalid, not_found
from local_workspace.vector_search.index import IndexData

if TYPE_CHECKING:
    from local_workspace.state import WorkspaceState

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _dir_name(index_name: str) -> str:
    return hashlib.sha1(index_name.encode()).hexdigest()[:16]


class VectorSearchService:
    """Endpoints and indexes, their storage and the triggered sync of DELTA_SYNC indexes."""

    def __init__(self, state: WorkspaceState) -> None:
        self.state = state
        self.root = state.config.data_dir / "vector_search"
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        endpoints = self.root / "endpoints.json"
        self.endpoints: dict[str, dict[str, Any]] = (
            json.loads(endpoints.read_text()) if endpoints.exists() else {}
        )
        self.indexes: dict[str, IndexData] = {}
        for directory in sorted((self.root / "indexes").glob("*")):
            if (directory / "meta.json").exists():
                data = IndexData.load(directory)
                self.indexes[data.meta["name"]] = data

    # -- endpoints -----------------------------------------------------------------------

    def _save_endpoints(self) -> None:
        path = self.root / "endpoints.json"
        path.write_text(json.dumps(self.endpoints))

    def endpoint_info(self, name: str) -> dict[str, Any]:
        """EndpointInfo dict of an endpoint; 404 when absent."""
        found = self.endpoints.get(name)
        if found is None:
            raise not_found(f"Vector search endpoint '{name}' does not exist.")
        count = sum(1 for i in self.indexes.values() if i.meta["endpoint_name"] == name)
        return {**found, "num_indexes": count}

    def create_endpoint(self, name: str, endpoint_type: str) -> dict[str, Any]:
        """Create an endpoint, ONLINE at once."""
        if not _NAME.match(name):
            raise invalid(
                f"Invalid endpoint name '{name}': use letters, digits, '-' and '_' (max 63)."
            )
        if endpoint_type not in ("STANDARD", "STORAGE_OPTIMIZED"):
            raise invalid(
                f"endpoint_type must be STANDARD or STORAGE_OPTIMIZED, got {endpoint_type!r}."
            )
        with self._lock:
            if name in self.endpoints:
                raise already_exists(f"Vector search endpoint '{name}' already exists.")
            now = _now_ms()
            self.endpoints[name] = {
                "name": name,
                "id": str(uuid.uuid4()),
                "endpoint_type": endpoint_type,
                "endpoint_status": {"state": "ONLINE", "message": "Endpoint is online (local)."},
                "creator": self.state.user,
                "creation_timestamp": now,
                "last_updated_timestamp": now,
                "last_updated_user": self.state.user,
            }
            self._save_endpoints()
        return self.endpoint_info(name)

    def delete_endpoint(self, name: str) -> None:
        """Delete an endpoint that serves no index (delete its indexes first)."""
        with self._lock:
            info = self.endpoint_info(name)
            if info["num_indexes"]:
                raise invalid(
                    f"Endpoint '{name}' still serves {info['num_indexes']} index(es): "
                    "delete them first.",
                    "INVALID_STATE",
                )
            del self.endpoints[name]
            self._save_endpoints()

    # -- indexes -------------------------------------------------------------------------

    def get(self, name: str) -> IndexData:
        """An index by full name; 404 when absent."""
        found = self.indexes.get(name)
        if found is None:
            raise not_found(f"Vector index '{name}' does not exist.")
        return found

    def embedder_of(self, data: IndexData) -> Embedder | None:
        """The model that embeds this index's text (None: self-managed vectors or keyword)."""
        model = data.meta.get("embedding_model")
        if model is None:
            return None
        return embedders(self.state.services).get(local_model_name(model))

    def scoring_note(self, data: IndexData) -> str:
        """What scores this index's text when that is not what its spec names ('' if it is):
        a Databricks-hosted model's stand-in, and/or keywords."""
        model = data.meta.get("embedding_model")
        if model is None:
            return ""
        keyword = self.embedder_of(data) is None
        notes = [stand_in_note(model, installed=not keyword), KEYWORD_NOTE if keyword else ""]
        return "; ".join(n for n in notes if n)

    def keyword_only(self, data: IndexData) -> bool:
        """Whether this index's text is scored by keywords only (no model installed)."""
        return data.meta.get("embedding_model") is not None and self.embedder_of(data) is None

    def index_info(self, data: IndexData) -> dict[str, Any]:
        """VectorIndex dict (with status) of an index."""
        meta = data.meta
        keyword = self.keyword_only(data)
        delta = meta["index_type"] == "DELTA_SYNC"
        note = self.scoring_note(data)
        message = "Index is online (local exact search)" + (f"; {note}." if note else ".")
        info: dict[str, Any] = {
            key: meta[key]
            for key in ("name", "endpoint_name", "primary_key", "index_type", "creator")
            if key in meta
        }
        info["endpoint_id"] = self.endpoints.get(meta["endpoint_name"], {}).get("id")
        spec_key = "delta_sync_index_spec" if delta else "direct_access_index_spec"
        info[spec_key] = meta["spec"]
        info["status"] = {
            "ready": True,
            "indexed_row_count": len(data.keys),
            "message": message,
            "detailed_state": "ONLINE_NO_PENDING_UPDATE" if delta else "ONLINE",
            "index_url": f"local/vector-search/indexes/{meta['name']}",
        }
        if keyword:
            info["status"]["scoring"] = "keyword"
        return info

    def _embedding_model(self, source_columns: list[dict[str, Any]]) -> str | None:
        if not source_columns:
            return None
        if len(source_columns) != 1:
            raise invalid("Exactly one embedding_source_columns entry is supported.")
        model = source_columns[0].get("embedding_model_endpoint_name")
        known = embedders(self.state.services)
        # Databricks' own embedding endpoints are accepted: the local model stands in.
        if local_model_name(str(model)) != LOCAL_MODEL_NAME and model not in known:
            hosted = ", ".join(sorted(FOUNDATION_EMBEDDING_ENDPOINTS))
            raise invalid(
                f"Embedding model endpoint '{model}' is not available in the local workspace; "
                f"use {LOCAL_MODEL_NAME} (or {hosted}, which it stands in for) or a "
                "self-managed embedding column (embedding_vector_columns)."
            )
        return str(model)

    def create_index(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create an index (DELTA_SYNC indexes sync once at creation, as on Databricks)."""
        name, endpoint = str(body.get("name") or ""), str(body.get("endpoint_name") or "")
        split_name(name, 3, "index")
        self.endpoint_info(endpoint)
        index_type = body.get("index_type")
        primary_key = body.get("primary_key")
        if not primary_key:
            raise invalid("Missing required field: primary_key")
        if index_type == "DELTA_SYNC":
            spec = dict(body.get("delta_sync_index_spec") or {})
            spec.setdefault("pipeline_type", "TRIGGERED")
            spec["pipeline_id"] = str(uuid.uuid4())
        elif index_type == "DIRECT_ACCESS":
            spec = dict(body.get("direct_access_index_spec") or {})
        else:
            raise invalid(f"index_type must be DELTA_SYNC or DIRECT_ACCESS, got {index_type!r}.")
        sources = list(spec.get("embedding_source_columns") or [])
        vectors = list(spec.get("embedding_vector_columns") or [])
        if bool(sources) == bool(vectors):
            raise invalid(
                "Give exactly one of embedding_source_columns (text embedded by a model) "
                "or embedding_vector_columns (self-managed vectors)."
            )
        model = self._embedding_model(sources)
        dimension: int | None = None
        if vectors:
            dimension = int(vectors[0].get("embedding_dimension") or 0)
            if dimension <= 0:
                raise invalid("embedding_vector_columns needs a positive embedding_dimension.")
        elif model is not None:
            found = embedders(self.state.services).get(local_model_name(model))
            dimension = found.dimension if found is not None else None
        meta: dict[str, Any] = {
            "name": name,
            "endpoint_name": endpoint,
            "primary_key": primary_key,
            "index_type": index_type,
            "creator": self.state.user,
            "spec": spec,
            "embedding_model": model,
            "text_column": sources[0]["name"] if sources else None,
            "vector_column": vectors[0]["name"] if vectors else None,
            "columns": self._columns(index_type, spec, primary_key),
        }
        with self._lock:
            if name in self.indexes:
                raise already_exists(f"Vector index '{name}' already exists.")
            data = IndexData(self.root / "indexes" / _dir_name(name), meta, dimension)
            if index_type == "DELTA_SYNC":
                self._sync(data)
            data.save()
            self.indexes[name] = data
        return self.index_info(data)

    def _columns(self, index_type: str, spec: dict[str, Any], primary_key: str) -> list[str]:
        """The columns a query may return or filter on."""
        if index_type == "DIRECT_ACCESS":
            raw = spec.get("schema_json")
            if not raw:
                raise invalid("direct_access_index_spec.schema_json is required.")
            try:
                schema = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise invalid(f"schema_json is not valid JSON: {exc.msg}") from exc
            if not isinstance(schema, dict) or primary_key not in schema:
                raise invalid(
                    f"schema_json must be an object of column -> type including the primary "
                    f"key '{primary_key}'."
                )
            return list(schema)
        table = spec.get("source_table")
        if not table:
            raise invalid("delta_sync_index_spec.source_table is required.")
        info = self.state.catalog.tables.get(str(table))
        columns = [c["name"] for c in info.get("columns", [])]
        wanted = [primary_key]
        for entry in (spec.get("embedding_source_columns") or []) + (
            spec.get("embedding_vector_columns") or []
        ):
            wanted.append(entry["name"])
        missing = [c for c in wanted if c not in columns]
        if missing:
            raise invalid(
                f"Column(s) {', '.join(missing)} not in table {table}. "
                f"Its columns: {', '.join(columns)}."
            )
        to_sync = spec.get("columns_to_sync")
        if to_sync:
            return [c for c in columns if c in set(to_sync) | set(wanted)]
        return columns

    def delete_index(self, name: str) -> None:
        """Delete an index and its files."""
        with self._lock:
            data = self.get(name)
            del self.indexes[name]
            shutil.rmtree(data.directory, ignore_errors=True)

    # -- DELTA_SYNC ----------------------------------------------------------------------

    def sync(self, name: str) -> None:
        """Triggered sync: re-read the source table, embed what changed, drop deleted keys."""
        data = self.get(name)
        if data.meta["index_type"] != "DELTA_SYNC":
            raise invalid(f"Index '{name}' is a DIRECT_ACCESS index: only DELTA_SYNC syncs.")
        with data.lock:
            self._sync(data)
            data.save()

    def _sync(self, data: IndexData) -> None:
        meta = data.meta
        catalog_name, schema, table = split_name(meta["spec"]["source_table"], 3, "table")
        catalog = self.state.catalog
        catalog.tables.get(meta["spec"]["source_table"])
        columns = meta["columns"]
        sql = "SELECT {} FROM {}.{}.{}".format(
            ", ".join(quote(c) for c in columns),
            quote(catalog.engine.to_internal(catalog_name)),
            quote(schema),
            quote(table),
        )
        cursor = catalog.engine.cursor()
        try:
            fetched = cursor.execute(sql).fetchall()
        finally:
            cursor.close()
        key_column, text_column = meta["primary_key"], meta["text_column"]
        vector_column = meta["vector_column"]
        changed_keys, changed_rows, changed_hashes, seen = [], [], [], set()
        for values in fetched:
            row = {c: _plain(v) for c, v in zip(columns, values, strict=True)}
            key = str(row[key_column])
            seen.add(key)
            digest = hashlib.sha256(json.dumps(row, default=str).encode()).hexdigest()
            if data.hash_of(key) != digest:
                changed_keys.append(key)
                changed_rows.append(row)
                changed_hashes.append(digest)
        data.delete([k for k in data.keys if k not in seen])
        if not changed_keys:
            return
        vectors: np.ndarray | None = None
        if vector_column is not None:
            vectors = _vectors([r.get(vector_column) for r in changed_rows], data.dimension)
            for row in changed_rows:
                row.pop(vector_column, None)
        else:
            model = self.embedder_of(data)
            if model is not None:
                vectors = model.embed([str(r.get(text_column) or "") for r in changed_rows])
        data.upsert(changed_keys, changed_rows, vectors, changed_hashes)


def _plain(value: Any) -> Any:
    """A JSON-friendly cell value (dates and decimals as text, numbers as numbers)."""
    if value is None or isinstance(value, (bool, int, float, str, list)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def _vectors(values: list[Any], dimension: int | None) -> np.ndarray:
    """The rows' vectors as a float32 matrix; 400 naming expected and got on a bad one."""
    for value in values:
        got = len(value) if isinstance(value, (list, tuple)) else None
        if got != dimension:
            raise invalid(
                f"Embedding vector has dimension {got}, expected {dimension} "
                "(embedding_dimension of the index).",
            )
    return np.asarray(values, dtype=np.float32).reshape(len(values), dimension or 0)
