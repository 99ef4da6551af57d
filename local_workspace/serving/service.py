"""Serving endpoints: their configuration (persisted) and their loaded models (in memory).

``<data_dir>/serving.json`` keeps each endpoint's configuration. A config's model loads in a
worker thread; until then the endpoint is NOT_READY (create) or keeps serving the previous
version (update, config_update IN_PROGRESS). After a restart models load again on first use.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_workspace.errors import ApiError, already_exists, invalid, not_found
from local_workspace.serving import inference_tables as itables
from local_workspace.serving import loaded

log = logging.getLogger("local_workspace")

LOAD_WAIT_S = 120.0
NOT_LOCAL = "{what} is not available in the local workspace; use a real Databricks workspace."


def not_local(what: str) -> ApiError:
    """501 for what only Databricks runs (foundation models, external models)."""
    return ApiError(501, "NOT_IMPLEMENTED", NOT_LOCAL.format(what=what))


@dataclass
class _Runtime:
    """What an endpoint holds in memory: the model it serves and the load in progress."""

    model: loaded.Served | None = None
    version: str | None = None  # the version `model` is
    loading: str | None = None  # the version being loaded
    error: str | None = None  # why the last load failed
    error_code: int = 400
    # Two locks: `lock` guards these fields and is only ever held for an instant; `load_lock`
    # is held for a whole load. A load fetches the model from this very workspace over HTTP,
    # so nothing that serves a request may wait on `load_lock`: a request waiting for it
    # would hold up the answer the load itself is waiting for.
    lock: threading.Lock = field(default_factory=threading.Lock)
    load_lock: threading.Lock = field(default_factory=threading.Lock)


def _entities(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The config's served entities (``served_models`` is the legacy spelling)."""
    if config.get("external_model") or any(
        e.get("external_model") for e in config.get("served_entities") or []
    ):
        raise not_local("External models")
    entities = []
    for raw in config.get("served_entities") or config.get("served_models") or []:
        name = raw.get("entity_name") or raw.get("model_name")
        version = raw.get("entity_version") or raw.get("model_version")
        if raw.get("external_model"):
            raise not_local("External models")
        if not name or not version:
            raise invalid("Each served entity needs entity_name and entity_version.")
        if str(name).startswith("system.ai."):
            raise not_local(f"Foundation model '{name}'")
        entities.append(
            {
                "name": raw.get("name") or f"{str(name).split('.')[-1]}-{version}",
                "entity_name": name,
                "entity_version": str(version),
                "workload_size": raw.get("workload_size", "Small"),
                "scale_to_zero_enabled": bool(raw.get("scale_to_zero_enabled", True)),
            }
        )
    if len(entities) != 1:
        raise invalid("The local workspace serves exactly one entity per endpoint.")
    return entities


class ServingService:
    """The serving endpoints of one local workspace."""

    def __init__(
        self,
        data_dir: Path,
        user: str,
        mlflow_ready: Callable[[], None],
        tables: itables.InferenceTables | None = None,
    ) -> None:
        self._path = data_dir / "serving.json"
        self._tables = tables
        self._scratch = data_dir / "serving"
        self._user = user
        self._mlflow_ready = mlflow_ready
        self._lock = threading.RLock()
        self._endpoints: dict[str, dict[str, Any]] = {}
        self._runtime: dict[str, _Runtime] = {}
        if self._path.exists():
            self._endpoints = json.loads(self._path.read_text())

    def _save(self) -> None:
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._endpoints, indent=1))
        tmp.replace(self._path)

    # -- configuration -----------------------------------------------------------------

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create an endpoint and start loading its model."""
        name = str(body.get("name") or "")
        if not name:
            raise invalid("Missing required field: name")
        if name.startswith("databricks-"):
            raise not_local(f"Foundation model endpoint '{name}'")
        config = body.get("config") or {}
        entities = _entities(config)
        now = int(time.time() * 1000)
        endpoint: dict[str, Any] = {
            "name": name,
            "id": uuid.uuid4().hex,
            "creator": self._user,
            "creation_timestamp": now,
            "last_updated_timestamp": now,
            "config": {"served_entities": entities, "config_version": 1},
            "tags": body.get("tags") or [],
        }
        gateway = _gateway_table_config(body.get("ai_gateway"))
        if gateway is not None:
            endpoint["ai_gateway"] = {
                "inference_table_config": itables.resolve(itables.GATEWAY, gateway, name, None)
            }
        if config.get("auto_capture_config") is not None:
            endpoint["config"]["auto_capture_config"] = itables.resolve(
                itables.LEGACY, config["auto_capture_config"], name, None
            )
        with self._lock:
            if name in self._endpoints:
                raise already_exists(f"Endpoint with name '{name}' already exists.")
        self._create_table(endpoint)  # DuckDB work: outside the lock `get` takes
        with self._lock:
            if name in self._endpoints:
                raise already_exists(f"Endpoint with name '{name}' already exists.")
            self._endpoints[name] = endpoint
            self._runtime[name] = _Runtime()
            self._save()
        self._start_load(name)
        return self.get(name)

    def update_config(self, name: str, config: dict[str, Any]) -> dict[str, Any]:
        """Replace what an endpoint serves; the old version answers until the new one loads."""
        entities = _entities(config)
        with self._lock:
            endpoint = json.loads(json.dumps(self._get_doc(name)))
        previous = endpoint["config"].get("auto_capture_config")
        capture = previous
        if config.get("auto_capture_config") is not None:
            wanted = config["auto_capture_config"]
            if previous and not previous.get("enabled") and wanted.get("enabled") is not False:
                # Databricks: re-enabling a disabled inference table is not supported.
                raise invalid(
                    "Re-enabling inference tables on an endpoint is not supported: create a "
                    "new endpoint to enable them."
                )
            capture = itables.resolve(itables.LEGACY, wanted, name, previous)
        endpoint["config"] = {
            "served_entities": entities,
            "config_version": int(endpoint["config"].get("config_version", 1)) + 1,
        }
        if capture is not None:
            endpoint["config"]["auto_capture_config"] = capture
        self._create_table(endpoint)
        with self._lock:
            current = self._get_doc(name)
            current["config"] = endpoint["config"]
            current["created_tables"] = endpoint.get("created_tables", [])
            current["last_updated_timestamp"] = int(time.time() * 1000)
            self._save()
        self._start_load(name)
        return self.get(name)

    def put_ai_gateway(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the endpoint's AI Gateway (inference tables only, locally): the
        ``PutAiGatewayResponse`` JSON."""
        raw = _gateway_table_config(body)
        with self._lock:
            endpoint = json.loads(json.dumps(self._get_doc(name)))
        previous = (endpoint.get("ai_gateway") or {}).get("inference_table_config")
        gateway: dict[str, Any] = {}
        if raw is not None:
            config = itables.resolve(itables.GATEWAY, raw, name, previous)
            gateway["inference_table_config"] = config
        endpoint["ai_gateway"] = gateway
        self._create_table(endpoint)
        with self._lock:
            current = self._get_doc(name)
            current["ai_gateway"] = gateway
            current["created_tables"] = endpoint.get("created_tables", [])
            current["last_updated_timestamp"] = int(time.time() * 1000)
            self._save()
        return dict(gateway)

    def _create_table(self, endpoint: dict[str, Any]) -> None:
        """Create the enabled inference table of ``endpoint`` (a copy, not yet stored) and
        note it in ``created_tables``: re-enabling the same table later reuses it."""
        gateway = (endpoint.get("ai_gateway") or {}).get("inference_table_config") or {}
        legacy = endpoint["config"].get("auto_capture_config") or {}
        if gateway.get("enabled") and legacy.get("enabled"):
            raise invalid(
                "An endpoint logs to one inference table: enable either "
                "ai_gateway.inference_table_config or config.auto_capture_config."
            )
        capture = _capture(endpoint)
        if capture is None:
            return
        if self._tables is None:
            raise not_local("Inference tables")
        created = endpoint.setdefault("created_tables", [])
        self._tables.create(capture, endpoint["name"], reuse=capture.table in created)
        if capture.table not in created:
            created.append(capture.table)

    def delete(self, name: str) -> None:
        """Delete an endpoint and drop its model."""
        with self._lock:
            self._get_doc(name)
            del self._endpoints[name]
            self._runtime.pop(name, None)
            self._save()

    def names(self) -> list[str]:
        """Endpoint names, sorted."""
        with self._lock:
            return sorted(self._endpoints)

    def _get_doc(self, name: str) -> dict[str, Any]:
        endpoint = self._endpoints.get(name)
        if endpoint is None:
            if name.startswith("databricks-"):
                raise not_local(f"Foundation model endpoint '{name}'")
            raise not_found(f"Endpoint '{name}' does not exist.")
        return endpoint

    def _rt(self, name: str) -> _Runtime:
        with self._lock:
            return self._runtime.setdefault(name, _Runtime())

    # -- state -------------------------------------------------------------------------

    def get(self, name: str) -> dict[str, Any]:
        """The endpoint as ``ServingEndpointDetailed`` JSON, with its live state."""
        with self._lock:
            endpoint = json.loads(json.dumps(self._get_doc(name)))
        endpoint.pop("created_tables", None)
        capture = endpoint["config"].get("auto_capture_config")
        if capture and capture.get("enabled"):
            table = itables.table_of(capture).rsplit(".", 1)[-1]
            capture["state"] = {"payload_table": {"name": table}}
        rt = self._rt(name)
        wanted = endpoint["config"]["served_entities"][0]["entity_version"]
        if rt.loading is not None:
            update, deployment = "IN_PROGRESS", "DEPLOYMENT_CREATING"
        elif rt.error is not None and rt.version != wanted:
            update, deployment = "UPDATE_FAILED", "DEPLOYMENT_FAILED"
        else:
            # Loaded, or not yet loaded since a restart (it loads on the first request).
            update, deployment = "NOT_UPDATING", "DEPLOYMENT_READY"
        serving = rt.model is not None or (rt.loading is None and rt.error is None)
        for entity in endpoint["config"]["served_entities"]:
            entity["state"] = {
                "deployment": deployment,
                "deployment_state_message": rt.error or "",
            }
        endpoint["state"] = {"ready": "READY" if serving else "NOT_READY", "config_update": update}
        if rt.version is not None and rt.version != wanted:
            endpoint["pending_config"] = {
                "served_entities": endpoint["config"]["served_entities"],
            }
        return endpoint

    # -- loading -----------------------------------------------------------------------

    def _start_load(self, name: str) -> None:
        rt = self._rt(name)
        with rt.lock:
            rt.loading = self._wanted(name)
            rt.error = None
        threading.Thread(
            target=self._load, args=(name,), name=f"serving-{name}", daemon=True
        ).start()

    def _wanted(self, name: str) -> str:
        with self._lock:
            entity = self._get_doc(name)["config"]["served_entities"][0]
        return f"{entity['entity_name']}/{entity['entity_version']}"

    def _load(self, name: str) -> None:
        rt = self._rt(name)
        with rt.load_lock:  # one load per endpoint at a time; a newer config loads after
            try:
                wanted = self._wanted(name)
            except ApiError:
                return  # deleted meanwhile
            model_name, version = wanted.rsplit("/", 1)
            model, error, code = None, None, 400
            try:
                self._mlflow_ready()
                model = loaded.load(model_name, version, self._scratch)
            except ApiError as exc:
                error, code = exc.message, exc.status
            except Exception as exc:  # a thread's top level: the endpoint's state reports it
                log.warning("serving endpoint %s failed to load %s", name, wanted, exc_info=True)
                error = f"Failed to load {wanted}: {exc}"
            with rt.lock:
                if error is None:
                    rt.model, rt.version, rt.error = model, version, None
                else:
                    rt.error, rt.error_code = error, code
                if rt.loading == wanted:
                    rt.loading = None

    def model_for(self, name: str) -> loaded.Served:
        """The model an endpoint serves now, loading it first after a restart (blocking)."""
        with self._lock:
            self._get_doc(name)
        rt = self._rt(name)
        if rt.model is not None:
            return rt.model
        if rt.loading is None and rt.error is None:
            self._start_load(name)
        deadline = time.monotonic() + LOAD_WAIT_S
        while rt.loading is not None and time.monotonic() < deadline:
            time.sleep(0.05)  # a worker thread, never the event loop
        if rt.model is None:
            if rt.error is not None:
                code = "NOT_IMPLEMENTED" if rt.error_code == 501 else "BAD_REQUEST"
                raise ApiError(
                    501 if rt.error_code == 501 else 400,
                    code,
                    f"Endpoint '{name}' failed to load its model: {rt.error}",
                )
            raise ApiError(503, "TEMPORARILY_UNAVAILABLE", f"Endpoint '{name}' is not ready yet.")
        return rt.model

    def invoke(self, name: str, body: bytes) -> dict[str, Any]:
        """Score a request on an endpoint (blocking: call from a worker thread). With an
        inference table, the request and its answer, failed or not, are appended to it
        before this returns; no serving lock is held meanwhile."""
        with self._lock:
            endpoint = json.loads(json.dumps(self._get_doc(name)))
        capture = _capture(endpoint)
        started = dt.datetime.now(dt.timezone.utc)
        clock: float | None = None
        client_id: str | None = None
        status, answer = 200, {}
        try:
            client_id, for_model = itables.client_request_id(body)
            model = self.model_for(name)
            clock = time.monotonic()
            answer = loaded.invoke(model, for_model)
            return answer
        except ApiError as exc:
            status, answer = exc.status, exc.body()
            raise
        finally:
            if capture is not None and self._tables is not None:
                entity = endpoint["config"]["served_entities"][0]
                call = itables.Invocation(
                    endpoint=name,
                    entity_name=entity["entity_name"],
                    entity_version=entity["entity_version"],
                    served_entity_id=_served_entity_id(endpoint["id"], entity["name"]),
                    requester=self._user,
                    client_request_id=client_id,
                    request=body,
                    status_code=status,
                    response=answer,
                    started=started,
                    duration_ms=0 if clock is None else int((time.monotonic() - clock) * 1000),
                )
                self._tables.append(capture, call)


def _gateway_table_config(gateway: dict[str, Any] | None) -> dict[str, Any] | None:
    """The inference table part of an ``ai_gateway`` body; the other gateway features
    (guardrails, rate limits, usage tracking, fallbacks) need Databricks."""
    if not gateway:
        return None
    usage = gateway.get("usage_tracking_config") or {}
    for key in ("guardrails", "rate_limits", "fallback_config"):
        if gateway.get(key):
            raise not_local(f"AI Gateway {key}")
    if usage.get("enabled"):
        raise not_local("AI Gateway usage_tracking_config")
    found = gateway.get("inference_table_config")
    return dict(found) if isinstance(found, dict) else None


def _capture(endpoint: dict[str, Any]) -> itables.Capture | None:
    """The endpoint's enabled inference table (AI Gateway first), or None."""
    gateway = (endpoint.get("ai_gateway") or {}).get("inference_table_config") or {}
    if gateway.get("enabled"):
        return itables.Capture(itables.GATEWAY, itables.table_of(gateway))
    legacy = endpoint["config"].get("auto_capture_config") or {}
    if legacy.get("enabled"):
        return itables.Capture(itables.LEGACY, itables.table_of(legacy))
    return None


def _served_entity_id(endpoint_id: str, entity: str) -> str:
    """A served entity's stable id (Databricks joins it to system.serving.served_entities)."""
    return uuid.uuid5(uuid.UUID(endpoint_id), entity).hex
