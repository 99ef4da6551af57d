"""Model Serving operations: endpoints that serve registered model versions, and queries."""

from tools_core.serving.endpoints import (
    EndpointDetail,
    EndpointList,
    create_endpoint,
    get_endpoint,
    list_endpoints,
    update_endpoint,
)
from tools_core.serving.query import QueryResult, query

__all__ = [
    "EndpointDetail",
    "EndpointList",
    "QueryResult",
    "create_endpoint",
    "get_endpoint",
    "list_endpoints",
    "query",
    "update_endpoint",
]
