"""Local Vector Search latency: 100,000 x 384 random normalised vectors, exact search.

Prints one line per figure: median and p95 latency of the exact numpy search (direct call)
and of ``query_index`` through the real SDK over HTTP (top 10, with the JSON round trip), then
the embedding throughput when the ``embeddings`` extra is installed.

The vectors are loaded through the Vector Search API (upsert-data, ``UPSERT_BATCH`` rows a
request) before anything is timed: loading is not what this measures. The workspace runs in
its own process, so there is no back door into its index.

    python bench/vector_search.py [--rows 100000] [--dim 384] [--queries 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.vectorsearch import (
    DirectAccessVectorIndexSpec,
    EmbeddingVectorColumn,
    EndpointType,
    VectorIndexType,
)

from local_workspace.config import LocalConfig
from local_workspace.embeddings import available_embedder, normalise
from local_workspace.runner import LocalWorkspace
from local_workspace.vector_search.index import top_k
from tools_core.backend import workspace_client
from tools_core.retries import Timeouts

# Rows per upsert request: each request is tens of MB of JSON, and each saves the index.
UPSERT_BATCH = 10_000


def _figures(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{name}: median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms"


def load(ws: WorkspaceClient, name: str, vectors: np.ndarray) -> None:
    """Upsert ``vectors`` (ids 0..n-1) into the index through the API, a batch at a time."""
    for start in range(0, len(vectors), UPSERT_BATCH):
        batch = vectors[start : start + UPSERT_BATCH].tolist()
        rows = [{"id": start + i, "vec": vector} for i, vector in enumerate(batch)]
        answer = ws.vector_search_indexes.upsert_data_vector_index(name, json.dumps(rows))
        if answer.result is None or answer.result.success_row_count != len(rows):
            raise SystemExit(f"upsert of rows {start}.. failed: {answer}")


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    vectors = normalise(rng.standard_normal((args.rows, args.dim), dtype=np.float32))
    queries = normalise(rng.standard_normal((args.queries, args.dim), dtype=np.float32))

    direct = []
    for q in queries:
        start = time.perf_counter()
        top_k(vectors @ q, None, 10)
        direct.append((time.perf_counter() - start) * 1000)
    print(_figures(f"numpy exact search {args.rows}x{args.dim}", direct))

    with tempfile.TemporaryDirectory() as tmp:
        config = LocalConfig(data_dir=Path(tmp) / "ws", seed=False)
        with LocalWorkspace(config) as local:
            # Patient: one upsert request carries tens of MB of JSON.
            ws = workspace_client(host=local.url, token=local.token, timeouts=Timeouts(call_s=300))
            ws.vector_search_endpoints.create_endpoint_and_wait(
                name="bench", endpoint_type=EndpointType.STANDARD
            )
            name = "main.bench.vectors"
            ws.vector_search_indexes.create_index(
                name=name,
                endpoint_name="bench",
                primary_key="id",
                index_type=VectorIndexType.DIRECT_ACCESS,
                direct_access_index_spec=DirectAccessVectorIndexSpec(
                    embedding_vector_columns=[
                        EmbeddingVectorColumn(name="vec", embedding_dimension=args.dim)
                    ],
                    schema_json=json.dumps({"id": "int", "vec": "array<float>"}),
                ),
            )
            load(ws, name, vectors)
            over_http = []
            for q in queries:
                vector = q.tolist()
                start = time.perf_counter()
                ws.vector_search_indexes.query_index(
                    name, columns=["id"], query_vector=vector, num_results=10
                )
                over_http.append((time.perf_counter() - start) * 1000)
            print(_figures(f"SDK query_index over HTTP {args.rows}x{args.dim}", over_http))

    model = available_embedder()
    if model is None:
        print("embeddings: not installed")
        return
    texts = [f"sentence number {i} about search and embeddings" for i in range(512)]
    model.embed(texts[:8])  # load the model first
    start = time.perf_counter()
    model.embed(texts)
    print(f"embeddings ({model.name}): {len(texts) / (time.perf_counter() - start):.0f} texts/s")


if __name__ == "__main__":
    main()
