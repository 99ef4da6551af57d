"""The local workspace's catalog engine: Unity Catalog objects over DuckDB + SQLite metadata."""

from local_workspace.catalog.catalog import Catalog

__all__ = ["Catalog"]
