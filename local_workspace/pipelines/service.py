"""The pipelines service: specs, updates in background threads, the event log.

One update at a time per pipeline (as on Databricks). Updates active when the workspace
stopped are marked FAILED at start-up, with an ERROR event saying why.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from local_workspace.errors import ApiError, invalid, not_found
from local_workspace.pipelines import runner
from local_workspace.pipelines.flows import attach_progress
from local_workspace.pipelines.store import PipelineRecord, PipelinesStore, now_ms
from local_workspace.sql.statements import interrupt_until_done

if TYPE_CHECKING:
    from local_workspace.state import WorkspaceState

ACTIVE = ("QUEUED", "CREATED", "INITIALIZING", "SETTING_UP_TABLES", "RUNNING", "STOPPING")
SUPPORTED_LIBRARIES = ("notebook", "file", "glob")
RESTART_MESSAGE = "The local workspace restarted while this update was running."
# How long a stop keeps interrupting an update (and closing waits for updates to end).
STOP_PERSIST_S = 30.0

log = logging.getLogger("local_workspace.pipelines")


def _timestamp() -> str:
    now = dt.datetime.now(dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def conflict(message: str) -> ApiError:
    """409 RESOURCE_CONFLICT."""
    return ApiError(409, "RESOURCE_CONFLICT", message)


class PipelinesService:
    """Pipelines of one local workspace."""

    def __init__(self, state: WorkspaceState) -> None:
        self.state = state
        root = state.config.data_dir / "pipelines"
        self.store = PipelinesStore(root)
        self._lock = threading.Lock()
        self._running: dict[str, runner.UpdateContext] = {}  # pipeline_id -> active update
        attach_progress(state.catalog, str(root / "progress.duckdb"))
        for doc in self.store.active_updates():
            self._event(
                doc["pipeline_id"],
                "update_progress",
                "ERROR",
                f"Update {doc['update_id'][:6]} is FAILED: {RESTART_MESSAGE}",
                {"update_progress": {"state": "FAILED"}},
                update_id=doc["update_id"],
                error={"exceptions": [{"message": RESTART_MESSAGE}], "fatal": True},
            )
            doc["state"] = "FAILED"
            self.store.save_update(doc, active=False)

    # -- specs ---------------------------------------------------------------------------

    def _checked_spec(self, body: dict[str, Any]) -> dict[str, Any]:
        from databricks.sdk.service.pipelines import PipelineSpec

        if body.get("continuous"):
            raise invalid(
                "Continuous pipelines are not supported by the local workspace: set "
                "continuous=false and start triggered updates."
            )
        spec = PipelineSpec.from_dict(body).as_dict()
        spec.pop("id", None)
        if not spec.get("catalog"):
            raise invalid(
                "Give 'catalog' (Unity Catalog): the local workspace publishes datasets to "
                "catalog.schema; Hive metastore pipelines are not supported."
            )
        if not (spec.get("schema") or spec.get("target")):
            raise invalid("Give 'schema' (or 'target'): where the pipeline's datasets are written.")
        for library in spec.get("libraries") or []:
            kind = next(iter(library), "?")
            if kind not in SUPPORTED_LIBRARIES:
                raise invalid(
                    f"'{kind}' libraries are not supported locally: use notebook, file or glob "
                    "libraries (SQL or Python sources)."
                )
        spec["continuous"] = False
        spec.setdefault("name", "Untitled pipeline")
        return spec

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create a pipeline (or validate only, with dry_run); the CreatePipelineResponse."""
        spec = self._checked_spec(body)
        if not body.get("allow_duplicate_names") and self.store.by_name(spec["name"]):
            raise conflict(
                f"A pipeline named '{spec['name']}' already exists: choose another name or "
                "set allow_duplicate_names."
            )
        pipeline_id = str(uuid.uuid4())
        spec["id"] = pipeline_id
        if body.get("dry_run"):
            return {"effective_settings": spec}
        self.store.insert(pipeline_id, spec, self.state.user)
        self._event(pipeline_id, "user_action", "INFO", f"User {self.state.user} created pipeline.")
        return {"pipeline_id": pipeline_id, "effective_settings": spec}

    def require(self, pipeline_id: str) -> PipelineRecord:
        """A pipeline, or 404 RESOURCE_DOES_NOT_EXIST."""
        record = self.store.get(pipeline_id)
        if record is None:
            raise not_found(f"Pipeline '{pipeline_id}' does not exist.")
        return record

    def edit(self, pipeline_id: str, body: dict[str, Any]) -> None:
        """Replace a pipeline's settings (PUT /pipelines/{id})."""
        record = self.require(pipeline_id)
        expected = body.get("expected_last_modified")
        if expected and int(expected) != record.last_modified:
            raise conflict("The pipeline changed since expected_last_modified: get it again.")
        spec = self._checked_spec(body)
        other = self.store.by_name(spec["name"])
        if other and other.pipeline_id != pipeline_id and not body.get("allow_duplicate_names"):
            raise conflict(f"A pipeline named '{spec['name']}' already exists.")
        spec["id"] = pipeline_id
        self.store.save(pipeline_id, spec)
        self._event(pipeline_id, "user_action", "INFO", f"User {self.state.user} edited pipeline.")

    def delete(self, pipeline_id: str) -> None:
        """Stop, then delete a pipeline and the tables it manages (as on Databricks)."""
        self.require(pipeline_id)
        self.stop(pipeline_id, wait_s=30)
        for full_name in self.store.datasets(pipeline_id):
            catalog, schema, table = full_name.split(".")
            if self.state.catalog.tables.has(catalog, schema, table):
                self.state.catalog.tables.delete(full_name)
        self.store.forget_datasets(pipeline_id)
        self.store.delete(pipeline_id)

    # -- views -----------------------------------------------------------------------------

    def _latest(self, pipeline_id: str, count: int = 5) -> list[dict[str, Any]]:
        docs, _ = self.store.updates(pipeline_id, 0, count)
        return [
            {
                "update_id": d["update_id"],
                "state": d["state"],
                "creation_time": dt.datetime.fromtimestamp(
                    d["creation_time"] / 1000, dt.timezone.utc
                )
                .isoformat()
                .replace("+00:00", "Z"),
            }
            for d in docs
        ]

    def _status(self, record: PipelineRecord) -> dict[str, Any]:
        latest = self._latest(record.pipeline_id)
        running = record.pipeline_id in self._running
        healthy = not latest or latest[0]["state"] != "FAILED"
        return {
            "pipeline_id": record.pipeline_id,
            "name": record.name,
            "state": "RUNNING" if running else "IDLE",
            "creator_user_name": record.creator,
            "run_as_user_name": record.creator,
            "health": "HEALTHY" if healthy else "UNHEALTHY",
            "latest_updates": latest,
        }

    def view(self, pipeline_id: str) -> dict[str, Any]:
        """GetPipelineResponse."""
        record = self.require(pipeline_id)
        return {
            **self._status(record),
            "spec": record.spec,
            "last_modified": record.last_modified,
        }

    def list_pipelines(
        self, filter_: str | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """PipelineStateInfo dicts matching ``name LIKE '...'`` or ``notebook='...'``."""
        records = self.store.all()
        if filter_:
            records = [r for r in records if _matches(filter_, r)]
        page = records[offset : offset + limit]
        return [self._status(r) for r in page], len(records) > offset + limit

    # -- updates ---------------------------------------------------------------------------

    def start_update(self, pipeline_id: str, body: dict[str, Any], base_url: str = "") -> str:
        """Start an update in the background; its id.

        ``base_url`` is this workspace's address as the caller reached it: a Python source's
        planning process reaches the SQL warehouse there.
        """
        record = self.require(pipeline_id)
        if body.get("full_refresh") and (
            body.get("refresh_selection") or body.get("full_refresh_selection")
        ):
            raise invalid("full_refresh cannot be combined with a refresh selection.")
        for key in ("refresh_selection_by_path", "full_refresh_selection_by_path"):
            if body.get(key):
                raise invalid(f"{key} is not supported locally: select datasets by name.")
        update_id = str(uuid.uuid4())
        doc: dict[str, Any] = {
            "update_id": update_id,
            "pipeline_id": pipeline_id,
            "state": "QUEUED",
            "creation_time": now_ms(),
            "cause": str(body.get("cause") or "API_CALL"),
            "config": record.spec,
            "full_refresh": bool(body.get("full_refresh")),
            "validate_only": bool(body.get("validate_only")),
        }
        for key in ("refresh_selection", "full_refresh_selection"):
            if body.get(key):
                doc[key] = list(body[key])
        lock = threading.Lock()

        def set_state(state: str) -> None:
            with lock:
                doc["state"] = state
                self.store.save_update(doc, active=state in ACTIVE)

        def emit(
            event_type: str,
            level: str,
            message: str,
            details: dict[str, Any] | None = None,
            dataset: str | None = None,
            error: dict[str, Any] | None = None,
        ) -> None:
            self._event(
                pipeline_id,
                event_type,
                level,
                message,
                details,
                update_id=update_id,
                dataset=dataset,
                error=error,
            )

        ctx = runner.UpdateContext(
            pipeline_id=pipeline_id,
            pipeline_name=record.name,
            update_id=update_id,
            spec=record.spec,
            options=doc,
            catalog=self.state.catalog,
            workspace=self.state.services["workspace"],
            emit=emit,
            set_state=set_state,
            record_lineage=lambda s, t: self._lineage(record, update_id, s, t),
            owns=self.store.owner_of,
            claim=lambda name, kind: self.store.claim(name, pipeline_id, kind),
            child_env=self._child_env(base_url),
            plan_dir=self.state.config.data_dir / "pipelines" / "plans" / update_id,
        )
        with self._lock:
            if pipeline_id in self._running:
                active = self._running[pipeline_id].update_id
                raise conflict(
                    f"Pipeline '{pipeline_id}' already has an active update ({active}): wait "
                    "for it or stop it."
                )
            self._running[pipeline_id] = ctx
        set_state("QUEUED")
        emit(
            "create_update",
            "INFO",
            f"Update {update_id[:6]} started by {doc['cause']}.",
            {"create_update": {"cause": doc["cause"], "full_refresh": doc["full_refresh"]}},
        )
        thread = threading.Thread(
            target=self._run, args=(ctx,), name=f"pipeline-{update_id[:8]}", daemon=True
        )
        thread.start()
        return update_id

    def _child_env(self, base_url: str) -> dict[str, str]:
        """What a Python planning process gets: how to reach this workspace, nothing else."""
        from local_workspace.sql.warehouses import DEFAULT_WAREHOUSE_ID

        if not base_url:
            return {}
        return {
            "DATABRICKS_HOST": base_url.rstrip("/"),
            "DATABRICKS_TOKEN": self.state.token,
            "DBX_DEVKIT_WAREHOUSE_ID": DEFAULT_WAREHOUSE_ID,
        }

    def _run(self, ctx: runner.UpdateContext) -> None:
        try:
            runner.run_update(ctx)
        finally:
            with self._lock:
                self._running.pop(ctx.pipeline_id, None)
            ctx.finished.set()

    def stop(self, pipeline_id: str, wait_s: float = 0.0) -> None:
        """Cancel the active update (if any): the update ends CANCELED, the pipeline IDLE.

        Returns at once (as Databricks' stop does) unless ``wait_s`` is given.
        """
        self.require(pipeline_id)
        with self._lock:
            ctx = self._running.get(pipeline_id)
        if ctx is not None:
            self._cancel(ctx)
            ctx.finished.wait(wait_s)

    def _cancel(self, ctx: runner.UpdateContext) -> None:
        """Flag the update and interrupt its DuckDB cursor until its thread ends."""
        with self._lock:
            if ctx.cancel.is_set():
                return  # a stop is already interrupting it
            ctx.cancel.set()
        threading.Thread(
            target=self._interrupt,
            args=(ctx,),
            name=f"pipeline-stop-{ctx.update_id[:8]}",
            daemon=True,
        ).start()

    @staticmethod
    def _interrupt(ctx: runner.UpdateContext) -> None:
        if not interrupt_until_done(ctx.interrupt, ctx.finished.wait, STOP_PERSIST_S):
            log.warning("pipeline update %s did not stop in %.0f s", ctx.update_id, STOP_PERSIST_S)

    def close(self) -> None:
        """Stop every active update (bounded wait), then close the pipelines' databases."""
        with self._lock:
            active = list(self._running.values())
        for ctx in active:
            self._cancel(ctx)
        deadline = time.monotonic() + STOP_PERSIST_S
        for ctx in active:
            ctx.finished.wait(max(0.0, deadline - time.monotonic()))
        self.store.close()

    def update(self, pipeline_id: str, update_id: str) -> dict[str, Any]:
        """UpdateInfo dict; 404 for an unknown update."""
        self.require(pipeline_id)
        doc = self.store.get_update(update_id)
        if doc is None or doc["pipeline_id"] != pipeline_id:
            raise not_found(f"Update '{update_id}' of pipeline '{pipeline_id}' does not exist.")
        return doc

    # -- lineage, events -------------------------------------------------------------------

    def _lineage(
        self, record: PipelineRecord, update_id: str, sources: list[str], targets: list[str]
    ) -> None:
        from local_workspace.lineage import Entity, lineage_store

        entity = Entity("PIPELINE", record.pipeline_id, record.name, {"update_id": update_id})
        lineage_store(self.state).record(sources, targets, entity)

    def _event(
        self,
        pipeline_id: str,
        event_type: str,
        level: str,
        message: str,
        details: dict[str, Any] | None = None,
        update_id: str | None = None,
        dataset: str | None = None,
        error: dict[str, Any] | None = None,
    ) -> None:
        record = self.store.get(pipeline_id)
        origin: dict[str, Any] = {
            "pipeline_id": pipeline_id,
            "pipeline_name": record.name if record else None,
            "cloud": "local",
        }
        if update_id:
            origin["update_id"] = update_id
        if dataset:
            origin["dataset_name"] = dataset
            origin["flow_name"] = dataset
        doc: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "event_type": event_type,
            "level": level,
            "maturity_level": "STABLE",
            "message": message,
            "origin": origin,
            "timestamp": _timestamp(),
            "details": details or {},
        }
        if error:
            doc["error"] = error
        self.store.add_event(pipeline_id, doc)


def _matches(filter_: str, record: PipelineRecord) -> bool:
    import re

    like = re.match(r"^\s*name\s+LIKE\s+'(.*)'\s*$", filter_, re.I)
    if like:
        pattern = "^" + re.escape(like.group(1)).replace("%", ".*").replace("_", ".") + "$"
        return re.match(pattern, record.name, re.I) is not None
    notebook = re.match(r"^\s*notebook\s*=\s*'(.*)'\s*$", filter_, re.I)
    if notebook:
        paths = {
            str((lib.get("notebook") or lib.get("file") or {}).get("path"))
            for lib in record.spec.get("libraries") or []
        }
        return notebook.group(1) in paths
    raise invalid(f"Unsupported filter {filter_!r}: use name LIKE '%x%' or notebook='<path>'.")
