"""Lakeflow Declarative Pipelines: manage pipelines, run updates, read events and expectations.

The SDK is imported inside functions only (it takes seconds to load).
"""

from __future__ import annotations

from tools_core.pipelines.models import (
    EventList,
    PipelineDetail,
    PipelineList,
    PipelineWritten,
    UpdateStarted,
    UpdateSummary,
)
from tools_core.pipelines.ops import (
    create_pipeline,
    delete_pipeline,
    get_pipeline,
    get_update,
    list_events,
    list_pipelines,
    start_update,
    stop_pipeline,
    update_pipeline,
    wait_update,
)

__all__ = [
    "EventList",
    "PipelineDetail",
    "PipelineList",
    "PipelineWritten",
    "UpdateStarted",
    "UpdateSummary",
    "create_pipeline",
    "delete_pipeline",
    "get_pipeline",
    "get_update",
    "list_events",
    "list_pipelines",
    "start_update",
    "stop_pipeline",
    "update_pipeline",
    "wait_update",
]
