"""Serving endpoints: list, get, create and update from ``catalog.schema.model@alias``."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tools_core import ids
from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.polling import poll_until_done
from tools_core.results import Result, markdown_table, more_hint
from tools_core.retries import describe_failure, single_attempt

if TYPE_CHECKING:
    from databricks.sdk.service.serving import ServingEndpointDetailed

MODEL_HINT = "Pass catalog.schema.model@alias or catalog.schema.model/3."
LIST_HINT = "List endpoints with serving_list_endpoints."


@contextmanager
def endpoint_errors(name: str) -> Iterator[None]:
    """A missing endpoint's error says how to find the right one."""
    from databricks.sdk.errors import NotFound

    try:
        yield
    except NotFound as exc:
        raise ToolsCoreError("RESOURCE_DOES_NOT_EXIST", str(exc), LIST_HINT) from exc


class EndpointSummary(Result):
    """One endpoint in a list."""

    name: str
    state: str
    served: str


class EndpointList(Result):
    """Serving endpoints."""

    endpoints: list[EndpointSummary]
    truncated: bool = False

    def to_text(self) -> str:
        rows = [(e.name, e.state, e.served) for e in self.endpoints]
        return markdown_table(["name", "state", "served"], rows) + more_hint(
            self.truncated, what="endpoints"
        )


class EndpointDetail(Result):
    """An endpoint's state and what it serves."""

    name: str
    ready: str
    config_update: str
    served: list[str]
    inference_table: str = ""
    message: str = ""
    next_step: str = ""


def _served(entities: list[Any] | None) -> list[str]:
    out = []
    for e in entities or []:
        version = f"/{e.entity_version}" if e.entity_version else ""
        out.append(f"{e.entity_name or e.name}{version}")
    return out


def _state(endpoint: Any) -> tuple[str, str]:
    state = endpoint.state
    ready = state.ready.value if state and state.ready else "UNKNOWN"
    update = state.config_update.value if state and state.config_update else "UNKNOWN"
    return ready, update


def inference_table(endpoint: Any) -> str:
    """The full name of the inference table an endpoint logs to ('' for none): AI Gateway's
    ``inference_table_config`` or the legacy ``auto_capture_config``, both
    ``<catalog>.<schema>.<table_name_prefix>_payload`` (the prefix defaults to the name)."""
    gateway = getattr(getattr(endpoint, "ai_gateway", None), "inference_table_config", None)
    legacy = getattr(getattr(endpoint, "config", None), "auto_capture_config", None)
    for config in (gateway, legacy):
        if config is not None and config.enabled and config.catalog_name and config.schema_name:
            prefix = config.table_name_prefix or endpoint.name
            return f"{config.catalog_name}.{config.schema_name}.{prefix}_payload"
    return ""


def _detail(endpoint: ServingEndpointDetailed) -> EndpointDetail:
    ready, update = _state(endpoint)
    entities = endpoint.config.served_entities if endpoint.config else None
    messages = [
        e.state.deployment_state_message
        for e in entities or []
        if e.state and e.state.deployment_state_message
    ]
    if update == "IN_PROGRESS":
        step = "Poll serving_get_endpoint until NOT_UPDATING."
    elif update == "UPDATE_FAILED":
        step = "Fix the model, then serving_update_endpoint."
    else:
        step = "Query with serving_query."
    return EndpointDetail(
        name=endpoint.name or "",
        ready=ready,
        config_update=update,
        served=_served(entities),
        inference_table=inference_table(endpoint),
        message="; ".join(messages)[:500],
        next_step=step,
    )


def list_endpoints(backend: Backend, limit: int = 50) -> EndpointList:
    """Serving endpoints with their state and served entities."""
    items = list(itertools.islice(backend.client.serving_endpoints.list(), limit + 1))
    rows = []
    for e in items[:limit]:
        ready, update = _state(e)
        entities = e.config.served_entities if e.config else None
        rows.append(
            EndpointSummary(
                name=e.name or "", state=f"{ready}/{update}", served=", ".join(_served(entities))
            )
        )
    return EndpointList(endpoints=rows, truncated=len(items) > limit)


def get_endpoint(backend: Backend, name: str) -> EndpointDetail:
    """One endpoint's state and what it serves."""
    in_url = ids.name(name, "endpoint name")
    with endpoint_errors(name):
        return _detail(backend.client.serving_endpoints.get(in_url))


def resolve_model(backend: Backend, model: str) -> tuple[str, str]:
    """``catalog.schema.model@alias`` or ``.../version`` -> (name, version)."""
    from tools_core.mlflow_client import mlflow_client

    if "@" in model:
        name, alias = model.rsplit("@", 1)
        if not name or not alias:
            raise InvalidInput(f"cannot read model {model!r}.", MODEL_HINT)
        version = mlflow_client(backend).get_model_version_by_alias(name, alias).version
        return name, str(version)
    name, sep, version = model.rpartition("/")
    if not sep or not version.isdigit() or not name:
        raise InvalidInput(f"cannot read model {model!r}.", MODEL_HINT)
    return name, version


def _entity(backend: Backend, model: str, workload_size: str) -> Any:
    from databricks.sdk.service.serving import ServedEntityInput

    name, version = resolve_model(backend, model)
    return ServedEntityInput(
        entity_name=name,
        entity_version=version,
        workload_size=workload_size,
        scale_to_zero_enabled=True,
    )


def _wait(backend: Backend, name: str, timeout_s: int) -> EndpointDetail:
    """Poll until the config update ends or ``timeout_s`` passes. The change was accepted
    already: when its state cannot be read now, say so instead of failing the call (a failed
    create invites a second one)."""
    from databricks.sdk.errors import DatabricksError
    from requests import RequestException

    try:
        return _poll(backend, name, timeout_s)
    except (DatabricksError, RequestException, TimeoutError) as exc:
        return EndpointDetail(
            name=name,
            ready="UNKNOWN",
            config_update="UNKNOWN",
            served=[],
            next_step=f"Accepted; its state could not be read ({describe_failure(exc)}): "
            f"see serving_get_endpoint name={name}.",
        )


def _poll(backend: Backend, name: str, timeout_s: int) -> EndpointDetail:
    in_url = ids.name(name, "endpoint name")
    detail, _ = poll_until_done(
        lambda: _detail(backend.client.serving_endpoints.get(in_url)),
        lambda found: found.config_update != "IN_PROGRESS",
        lambda found: (0.0, 1.0, found.config_update or ""),
        timeout_s,
    )
    return detail


def _gateway(inference_table: str | None) -> Any:
    """AI Gateway logging requests to ``catalog.schema`` (table ``<endpoint>_payload``)."""
    from databricks.sdk.service.serving import AiGatewayConfig, AiGatewayInferenceTableConfig

    if not inference_table:
        return None
    parts = inference_table.split(".")
    if len(parts) != 2 or not all(parts):
        raise InvalidInput(
            f"inference_table {inference_table!r} is not catalog.schema.",
            "Pass the schema the table goes to, e.g. main.monitoring.",
        )
    config = AiGatewayInferenceTableConfig(
        catalog_name=parts[0], schema_name=parts[1], enabled=True
    )
    return AiGatewayConfig(inference_table_config=config)


def create_endpoint(
    backend: Backend,
    name: str,
    model: str,
    workload_size: str = "Small",
    timeout_s: int = 60,
    inference_table: str | None = None,
) -> EndpointDetail:
    """Create an endpoint serving ``model`` (alias resolved to its version); wait bounded.

    ``inference_table`` (``catalog.schema``) logs every request and response to
    ``catalog.schema.<name>_payload`` through AI Gateway inference tables."""
    from databricks.sdk.errors import ResourceAlreadyExists
    from databricks.sdk.service.serving import EndpointCoreConfigInput

    ids.name(name, "endpoint name")  # checked before anything is created: _wait reads it
    gateway = _gateway(inference_table)
    entity = _entity(backend, model, workload_size)
    config = EndpointCoreConfigInput(name=name, served_entities=[entity])
    try:
        # A repeat after a lost answer would be refused as "already exists", hiding that
        # this call made it: one attempt, and an honest "unknown".
        with single_attempt(f"Creating endpoint {name!r}", f"serving_get_endpoint name={name}"):
            backend.client.serving_endpoints.create(name=name, config=config, ai_gateway=gateway)
    except ResourceAlreadyExists as exc:
        raise ToolsCoreError(
            "RESOURCE_ALREADY_EXISTS", str(exc), "Use serving_update_endpoint to change it."
        ) from exc
    return _wait(backend, name, timeout_s)


def update_endpoint(
    backend: Backend,
    name: str,
    model: str,
    workload_size: str = "Small",
    timeout_s: int = 60,
    confirm: bool = False,
) -> EndpointDetail:
    """Serve ``model`` (alias resolved now) on an existing endpoint; wait bounded.

    Without ``confirm`` nothing changes: the result says what would be replaced."""
    entity = _entity(backend, model, workload_size)
    if not confirm:
        current = get_endpoint(backend, name)
        wanted = f"{entity.entity_name}/{entity.entity_version}"
        return current.model_copy(
            update={
                "next_step": f"Would serve {wanted} instead of {', '.join(current.served)}; "
                "call again with confirm=true."
            }
        )
    # A repeat while the first update is in progress is refused as a conflict: one attempt.
    check = f"serving_get_endpoint name={name}"
    with endpoint_errors(name), single_attempt(f"Updating endpoint {name!r}", check):
        backend.client.serving_endpoints.update_config(
            name=ids.name(name, "endpoint name"), served_entities=[entity]
        )
    return _wait(backend, name, timeout_s)
