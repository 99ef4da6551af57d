"""Vector Search endpoints: list, create (idempotent)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from tools_core.backend import Backend
from tools_core.errors import ToolsCoreError
from tools_core.vector_search.errors import ENDPOINT_HINT, vs_errors
from tools_core.vector_search.models import EndpointCreated, EndpointList, EndpointRow

if TYPE_CHECKING:
    from databricks.sdk.service.vectorsearch import EndpointInfo

MAX_LIST = 100


def _row(info: EndpointInfo) -> EndpointRow:
    status = info.endpoint_status
    return EndpointRow(
        name=info.name or "",
        state=status.state.value if status and status.state else "",
        type=info.endpoint_type.value if info.endpoint_type else "",
        indexes=info.num_indexes,
    )


def list_endpoints(backend: Backend, limit: int = 50) -> EndpointList:
    """Endpoints with state, type and index count (first ``limit``)."""
    limit = max(1, min(limit, MAX_LIST))
    with vs_errors(ENDPOINT_HINT):
        found = list(
            itertools.islice(backend.client.vector_search_endpoints.list_endpoints(), limit + 1)
        )
    return EndpointList(endpoints=[_row(e) for e in found[:limit]], truncated=len(found) > limit)


def create_endpoint(backend: Backend, name: str) -> EndpointCreated:
    """Create a STANDARD endpoint; an existing one is reported, not an error."""
    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.vectorsearch import EndpointType

    api = backend.client.vector_search_endpoints
    try:
        existing = api.get_endpoint(name)
    except NotFound:
        existing = None
    if existing is not None:
        return EndpointCreated(name=name, state=_row(existing).state, created=False)
    try:
        with vs_errors(ENDPOINT_HINT):
            # Not waiting for ONLINE: on Databricks that takes minutes; vs_list_endpoints
            # shows it.
            info = api.create_endpoint(name, EndpointType.STANDARD).response
    except ToolsCoreError as exc:
        # Absent a moment ago, there now: made by a retry of this very request (the first
        # answer was lost) or by someone meanwhile. Either way it exists, as asked.
        if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
        with vs_errors(ENDPOINT_HINT):
            info = api.get_endpoint(name)
    return EndpointCreated(name=name, state=_row(info).state if info else "", created=True)
