"""Vector Search: endpoints, indexes (DELTA_SYNC, DIRECT_ACCESS), rows and queries.

The SDK is imported inside functions only: importing this package stays cheap.
"""

from tools_core.vector_search.data import delete_rows, query, upsert
from tools_core.vector_search.endpoints import create_endpoint, list_endpoints
from tools_core.vector_search.indexes import create_index, get_index, list_indexes, sync_index
from tools_core.vector_search.models import (
    Changed,
    EndpointCreated,
    EndpointList,
    IndexDetail,
    IndexList,
    QueryResult,
)

__all__ = [
    "Changed",
    "EndpointCreated",
    "EndpointList",
    "IndexDetail",
    "IndexList",
    "QueryResult",
    "create_endpoint",
    "create_index",
    "delete_rows",
    "get_index",
    "list_endpoints",
    "list_indexes",
    "query",
    "sync_index",
    "upsert",
]
