"""Vector Search of the local workspace: endpoints, DELTA_SYNC and DIRECT_ACCESS indexes."""

from local_workspace.vector_search.service import VectorSearchService

__all__ = ["VectorSearchService"]
