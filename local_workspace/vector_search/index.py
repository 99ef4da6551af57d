"""One vector index: rows, their vectors, exact search; stored under its own directory.

Storage: ``meta.json`` (the index's definition), ``rows.json`` (keys, rows, source hashes)
and ``vectors.npy`` (float32, L2-normalised, one row per key). Search is exact: a numpy
matmul of the normalised query against every vector, then ``argpartition`` for the top k.

Scores: ANN returns the cosine similarity of the normalised vectors. Keyword scoring is BM25.
HYBRID fuses the vector rank and the BM25 rank by reciprocal-rank fusion,
``1/(60 + rank_vector) + 1/(60 + rank_keyword)`` (ranks from 1; a row missing from a list
contributes nothing for it), so a row both searches like ranks first.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from local_workspace.embeddings import Bm25, normalise

RRF_K = 60


def _atomic_write(path: Path, write: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    write(tmp)
    os.replace(tmp, path)


class IndexData:
    """Keys, rows and vectors of one index, kept in memory and written through to disk."""

    def __init__(self, directory: Path, meta: dict[str, Any], dimension: int | None) -> None:
        self.directory = directory
        self.meta = meta
        self.dimension = dimension
        self.keys: list[str] = []
        self.rows: list[dict[str, Any]] = []
        self.hashes: list[str] = []
        self.vectors: np.ndarray | None = (
            np.zeros((0, dimension), dtype=np.float32) if dimension else None
        )
        self.lock = threading.RLock()
        self._positions: dict[str, int] = {}
        self._bm25: Bm25 | None = None
        self._bm25_columns: tuple[str, ...] = ()

    # -- persistence ---------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path) -> IndexData:
        """Reopen an index written by ``save``."""
        meta = json.loads((directory / "meta.json").read_text())
        data = cls(directory, meta, meta.get("_dimension"))
        stored = directory / "rows.json"
        if stored.exists():
            saved = json.loads(stored.read_text())
            data.keys, data.rows, data.hashes = saved["keys"], saved["rows"], saved["hashes"]
        vectors = directory / "vectors.npy"
        if data.dimension and vectors.exists():
            data.vectors = np.load(vectors)
        data._positions = {key: i for i, key in enumerate(data.keys)}
        return data

    def save(self) -> None:
        """Write meta, rows and vectors (each file atomically)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        meta = {**self.meta, "_dimension": self.dimension}
        _atomic_write(self.directory / "meta.json", lambda p: p.write_text(json.dumps(meta)))
        rows = {"keys": self.keys, "rows": self.rows, "hashes": self.hashes}
        _atomic_write(
            self.directory / "rows.json",
            lambda p: p.write_text(json.dumps(rows, separators=(",", ":"), default=str)),
        )
        if self.vectors is not None:
            vectors = self.vectors

            def write_npy(path: Path) -> None:
                with path.open("wb") as out:
                    np.save(out, vectors)

            _atomic_write(self.directory / "vectors.npy", write_npy)

    # -- writes --------------------------------------------------------------------------

    def upsert(
        self,
        keys: Sequence[str],
        rows: Sequence[dict[str, Any]],
        vectors: np.ndarray | None,
        hashes: Sequence[str] | None = None,
    ) -> None:
        """Insert or replace rows by key (vectors: one row per key, normalised here)."""
        with self.lock:
            new_vectors = normalise(vectors) if vectors is not None else None
            appended: list[int] = []
            for i, key in enumerate(keys):
                position = self._positions.get(key)
                row_hash = hashes[i] if hashes is not None else ""
                if position is None:
                    self._positions[key] = len(self.keys)
                    self.keys.append(key)
                    self.rows.append(dict(rows[i]))
                    self.hashes.append(row_hash)
                    appended.append(i)
                else:
                    self.rows[position] = dict(rows[i])
                    self.hashes[position] = row_hash
                    if new_vectors is not None and self.vectors is not None:
                        self.vectors[position] = new_vectors[i]
            if new_vectors is not None and self.vectors is not None and appended:
                self.vectors = np.concatenate([self.vectors, new_vectors[appended]])
            self._bm25 = None

    def delete(self, keys: Sequence[str]) -> int:
        """Remove rows by key; returns how many existed."""
        with self.lock:
            drop = sorted({self._positions[k] for k in keys if k in self._positions})
            if not drop:
                return 0
            dropped = set(drop)
            keep = [i for i in range(len(self.keys)) if i not in dropped]
            self.keys = [self.keys[i] for i in keep]
            self.rows = [self.rows[i] for i in keep]
            self.hashes = [self.hashes[i] for i in keep]
            if self.vectors is not None:
                self.vectors = np.delete(self.vectors, drop, axis=0)
            self._positions = {key: i for i, key in enumerate(self.keys)}
            self._bm25 = None
            return len(drop)

    def hash_of(self, key: str) -> str | None:
        """The stored source hash of a key (None when absent)."""
        position = self._positions.get(key)
        return None if position is None else self.hashes[position]

    # -- search --------------------------------------------------------------------------

    def vector_scores(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of the (normalised) query to every row."""
        assert self.vectors is not None
        return self.vectors @ normalise(query)[0]

    def keyword_scores(self, query: str, text_columns: Sequence[str]) -> np.ndarray:
        """BM25 score of every row's text columns (the model is built once per change)."""
        columns = tuple(text_columns)
        if self._bm25 is None or self._bm25_columns != columns:
            documents = [
                " ".join(str(row[c]) for c in columns if row.get(c) is not None)
                for row in self.rows
            ]
            self._bm25 = Bm25(documents)
            self._bm25_columns = columns
        return self._bm25.scores(query)


def top_k(scores: np.ndarray, allowed: np.ndarray | None, k: int) -> np.ndarray:
    """Positions of the k best scores (best first) among the allowed rows."""
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
        k = min(k, int(allowed.sum()))
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    candidates = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return candidates[np.argsort(-scores[candidates], kind="stable")]


def ranks(scores: np.ndarray, allowed: np.ndarray | None, depth: int) -> dict[int, int]:
    """Rank (from 1) of the best ``depth`` rows with a positive-or-any score."""
    return {int(p): r for r, p in enumerate(top_k(scores, allowed, depth), start=1)}


def fuse(vector: dict[int, int], keyword: dict[int, int], k: int) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion of two rankings: the k best (position, score) pairs."""
    fused: dict[int, float] = {}
    for ranking in (vector, keyword):
        for position, rank in ranking.items():
            fused[position] = fused.get(position, 0.0) + 1.0 / (RRF_K + rank)
    best = sorted(fused.items(), key=lambda item: -item[1])
    return best[:k]
