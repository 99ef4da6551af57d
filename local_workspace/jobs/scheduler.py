"""The Jobs service of the local workspace: jobs, runs, cancel, repair, outputs.

``state.services["jobs"]``. Each active run is a :class:`RunExecutor` thread; all run
documents change under one re-entrant lock and are saved on every change, so ``runs/get``
always reads a consistent state. ``close()`` cancels what runs; a run still active when the
process died is ended as INTERNAL_ERROR at the next start, never reported as a success, and
task processes of it that still run are killed (``orphans``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_workspace.errors import ApiError, invalid
from local_workspace.jobs import notices, orphans, runs, validate
from local_workspace.jobs.executor import RunExecutor
from local_workspace.jobs.notifier import Notifier
from local_workspace.jobs.notify_rules import check_notifications
from local_workspace.jobs.redact import redact
from local_workspace.jobs.store import RESTART_MESSAGE, JobRecord, JobsStore, now_ms
from local_workspace.notification_destinations import destinations_of

if TYPE_CHECKING:
    from local_workspace.state import WorkspaceState

log = logging.getLogger("local_workspace.jobs")

DEFAULT_WAREHOUSE_ID = "dbxlocal00000001"
LEGACY_PARAMS = (
    "notebook_params",
    "python_params",
    "python_named_params",
    "jar_params",
    "sql_params",
    "spark_submit_params",
    "dbt_commands",
    "pipeline_params",
)
MAX_NOTEBOOK_OUTPUT = 5 * 1024 * 1024
# The tasks' private HOME, under the data directory.
TASK_HOME = "task-home"
CLOSE_WAIT_S = 10.0
# How long a stopping workspace still delivers queued notifications.
NOTIFY_CLOSE_S = 3.0
MULTI_TASK_OUTPUT = (
    "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the "
    "output of each individual task run instead."
)


def job_missing(job_id: Any) -> ApiError:
    """What Databricks answers for an unknown job (the SDK raises ResourceDoesNotExist)."""
    return invalid(f"Job {job_id} does not exist.")


def run_missing(run_id: Any) -> ApiError:
    """What Databricks answers for an unknown run."""
    return invalid(f"Run {run_id} does not exist.")


class JobsService:
    """Jobs and runs of one local workspace."""

    def __init__(self, state: WorkspaceState) -> None:
        self.state = state
        self.store = JobsStore(state.config.data_dir)
        self.lock = threading.RLock()
        self.executors: dict[int, RunExecutor] = {}
        self._closed = False
        self.destinations = destinations_of(state)
        self.notifier = Notifier(
            state.config.data_dir, state.workspace_id, self.destinations.config_of
        )
        self._recover()

    # -- plumbing used by the executors ------------------------------------------------

    def workspace(self) -> Any:
        """The workspace tree (``state.services["workspace"]``)."""
        return self.state.services["workspace"]

    def save(self, doc: dict[str, Any]) -> None:
        """Persist a run document (callers hold the lock)."""
        self.store.save_run(doc)

    def finished(self, executor: RunExecutor) -> None:
        """An executor ended: free its slot."""
        with self.lock:
            if self.executors.get(executor.run_id) is executor:
                del self.executors[executor.run_id]

    def may_start(self, doc: dict[str, Any]) -> bool:
        """Whether a queued run fits under its job's max_concurrent_runs now."""
        limit = int(doc.get("max_concurrent_runs") or 1)
        return self._running_of(doc.get("job_id"), exclude=doc["run_id"]) < limit

    def _running_of(self, job_id: Any, exclude: int | None = None) -> int:
        return sum(
            1
            for ex in self.executors.values()
            if ex.doc.get("job_id") == job_id
            and ex.run_id != exclude
            and runs.life(ex.doc) != "QUEUED"
        )

    def next_attempt(self, doc: dict[str, Any], task: dict[str, Any], message: str) -> None:
        """Give a task a new attempt (new task run id), keeping the old one in its history."""
        keep = ("run_id", "attempt_number", "state", "start_time", "end_time", "dir")
        task["history"].append({k: task[k] for k in keep if k in task})
        for name in ("start_time", "end_time", "dir", "condition_outcome"):
            task.pop(name, None)
        task["run_id"] = self.store.new_id()
        task["attempt_number"] += 1
        runs.set_state(task, "PENDING", message=message)
        self.save(doc)

    def task_env(self, doc: dict[str, Any], task: dict[str, Any]) -> dict[str, str]:
        """Environment of a task process: how its code reaches this workspace."""
        warehouse = (task["spec"].get("notebook_task") or {}).get("warehouse_id")
        host = str(doc.get("workspace_url") or "").rstrip("/")
        return {
            "DBX_DEVKIT_TASK_VALUES": json.dumps(task_values(doc)),
            "DATABRICKS_HOST": host,
            "DATABRICKS_TOKEN": self.state.token,
            # A training notebook run as a job logs to this workspace's MLflow.
            "MLFLOW_TRACKING_URI": host,
            # The Unity Catalog registry, as on Databricks runtimes with Unity Catalog: its
            # rules apply (three-level names, signatures) and it authenticates with
            # DATABRICKS_HOST/TOKEN (local_workspace/api/uc_models.py answers it).
            "MLFLOW_REGISTRY_URI": "databricks-uc",
            "MLFLOW_TRACKING_TOKEN": self.state.token,
            "DBX_DEVKIT_WAREHOUSE_ID": str(warehouse or DEFAULT_WAREHOUSE_ID),
            "DBX_DEVKIT_RUN_ID": str(doc["run_id"]),
            "DBX_DEVKIT_JOB_ID": str(doc.get("job_id") or ""),
            "DBX_DEVKIT_TASK_KEY": task["task_key"],
            "DBX_DEVKIT_TASK_RUN_ID": str(task["run_id"]),
            "MLFLOW_RUN_CONTEXT": json.dumps(self.run_context(doc, task)),
            # A private home shared by the workspace's tasks (never the host's, which holds
            # ~/.databrickscfg and cloud credentials): caches survive runs, as on a driver.
            "HOME": str(self.state.config.data_dir / TASK_HOME),
        }

    def run_context(self, doc: dict[str, Any], task: dict[str, Any]) -> dict[str, str]:
        """The tags a Databricks runtime puts on the MLflow runs a job starts (its job run
        context), given through MLflow's ``MLFLOW_RUN_CONTEXT``: the registry records a model
        version's lineage (job, notebook) from them."""
        job_id, run_id = str(doc.get("job_id") or ""), str(doc["run_id"])
        tags = {
            "mlflow.source.type": "JOB",
            "mlflow.source.name": f"jobs/{job_id}/run/{run_id}",
            "mlflow.databricks.jobRunID": run_id,
            "mlflow.databricks.jobType": "SUBMIT_RUN" if not job_id else "NORMAL",
            "mlflow.databricks.workspaceURL": str(doc.get("workspace_url") or ""),
            "mlflow.databricks.workspaceID": str(self.state.workspace_id),
        }
        if job_id:
            tags["mlflow.databricks.jobID"] = job_id
        notebook = (task["spec"].get("notebook_task") or {}).get("notebook_path")
        if notebook:
            tags["mlflow.databricks.notebookPath"] = str(notebook)
        return tags

    def redact(self, text: str) -> str:
        """``text`` as a run may return it: the workspace token and token look-alikes masked."""
        return redact(text, [self.state.token])

    def _recover(self) -> None:
        """Runs left active by a previous process end as INTERNAL_ERROR (honest, not SUCCESS);
        task processes of theirs that still run are killed first."""
        docs = self.store.active_runs()
        live = [t for doc in docs for t in doc["tasks"] if runs.is_active(t) and t.get("dir")]
        killed = orphans.end_orphans(Path(t["dir"]) for t in live)
        for doc in docs:
            for task in doc["tasks"]:
                if runs.is_active(task):
                    message = RESTART_MESSAGE
                    pids = killed.get(Path(task["dir"])) if task.get("dir") else None
                    if pids:
                        listed = ", ".join(map(str, sorted(pids)))
                        message += f" Its process(es) still running (pid {listed}) were killed."
                        log.warning(
                            "killed orphaned task process(es) %s of run %s", listed, doc["run_id"]
                        )
                    runs.finish(task, "INTERNAL_ERROR", "FAILED", message, code="INTERNAL_ERROR")
            runs.finish(doc, "INTERNAL_ERROR", "FAILED", RESTART_MESSAGE, code="INTERNAL_ERROR")
            doc["active"] = False
            self.save(doc)
            self.notifier.run_ended(doc)

    def close(self) -> None:
        """Cancel running tasks, wait for the runs to end, close the database."""
        with self.lock:
            self._closed = True
            executors = list(self.executors.values())
        for executor in executors:
            executor.cancel("The local workspace stopped.")
        deadline = time.monotonic() + CLOSE_WAIT_S
        for executor in executors:
            executor.thread.join(max(0.0, deadline - time.monotonic()))
        self.notifier.close(NOTIFY_CLOSE_S)
        self.store.close()

    # -- jobs --------------------------------------------------------------------------

    def create_job(self, raw: dict[str, Any]) -> int:
        """A new job from (validated) settings."""
        settings = self._checked(raw)
        return self.store.create_job(settings, self.state.user)

    def _checked(self, raw: Any) -> dict[str, Any]:
        """Settings that pass the job rules and the notification rules."""
        # First: a malformed notification block must not reach the SDK's from_dict.
        if isinstance(raw, dict):
            check_notifications(raw, self.destinations.exists)
        return validate.check_settings(raw)

    def job(self, job_id: Any) -> JobRecord:
        """A job, or Databricks' "does not exist" error."""
        record = self.store.get_job(_int_id(job_id, "job_id"))
        if record is None:
            raise job_missing(job_id)
        return record

    def reset_job(self, job_id: Any, new_settings: Any) -> None:
        """Replace all settings."""
        record = self.job(job_id)
        self.store.save_job_settings(record.job_id, self._checked(new_settings))

    def update_job(self, job_id: Any, new_settings: Any, remove: Any) -> None:
        """Merge settings (arrays by key) and remove fields."""
        record = self.job(job_id)
        if new_settings is not None and not isinstance(new_settings, dict):
            raise invalid("new_settings must be an object.")
        if remove is not None and not isinstance(remove, list):
            raise invalid("fields_to_remove must be a list of strings.")
        merged = validate.merge_update(record.settings, new_settings or {}, remove or [])
        self.store.save_job_settings(record.job_id, self._checked(merged))

    def delete_job(self, job_id: Any) -> None:
        """Delete a job; its active runs are cancelled."""
        record = self.job(job_id)
        with self.lock:
            active = [ex for ex in self.executors.values() if ex.doc.get("job_id") == record.job_id]
        for executor in active:
            executor.cancel("The job was deleted.")
        self.store.delete_job(record.job_id)

    # -- starting runs -----------------------------------------------------------------

    def run_now(self, job_id: Any, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        """Trigger a run of a job (or return the run of an idempotency token already used)."""
        record = self.job(job_id)
        params = body.get("job_parameters")
        if params is not None and not isinstance(params, dict):
            raise invalid("job_parameters must be an object of name -> value.")
        legacy = {k: body[k] for k in LEGACY_PARAMS if body.get(k) is not None}
        if params and legacy:
            raise invalid(
                "job_parameters cannot be used together with task-level parameters "
                f"({', '.join(sorted(legacy))})."
            )
        settings = record.settings
        only = body.get("only")
        if only is not None:
            keys = {t["task_key"] for t in settings.get("tasks") or []}
            if not isinstance(only, list) or not set(only) <= keys:
                raise invalid(f"only must list task keys of job {record.job_id}.")
        values = {p["name"]: str(p.get("default", "")) for p in settings.get("parameters") or []}
        values.update({str(k): str(v) for k, v in (params or {}).items()})
        queue = body.get("queue") or settings.get("queue") or {}
        return self._start(
            job_id=record.job_id,
            settings=settings,
            run_name=str(settings.get("name") or "Untitled"),
            job_parameters=values,
            overriding=legacy,
            token=body.get("idempotency_token"),
            queue=bool(queue.get("enabled")),
            only=only,
            base_url=base_url,
        )

    def submit(self, body: dict[str, Any], base_url: str) -> dict[str, Any]:
        """A one-time run of the given tasks (runs/submit)."""
        tasks = body.get("tasks")
        if tasks is None or tasks == []:
            raise invalid("A run needs at least one task.")
        alerts = notices.job_fields(body)
        checked = {"tasks": tasks, "timeout_seconds": body.get("timeout_seconds"), **alerts}
        self._checked(checked)
        settings = {
            "tasks": tasks,
            "timeout_seconds": body.get("timeout_seconds"),
            "environments": body.get("environments"),
            "max_concurrent_runs": 1000,
            **alerts,
        }
        queue = body.get("queue") or {}
        return self._start(
            job_id=None,
            settings=settings,
            run_name=str(body.get("run_name") or "Untitled"),
            job_parameters={},
            overriding={},
            token=body.get("idempotency_token"),
            queue=bool(queue.get("enabled")),
            only=None,
            base_url=base_url,
        )

    def _start(
        self,
        *,
        job_id: int | None,
        settings: dict[str, Any],
        run_name: str,
        job_parameters: dict[str, str],
        overriding: dict[str, Any],
        token: Any,
        queue: bool,
        only: list[str] | None,
        base_url: str,
    ) -> dict[str, Any]:
        scope = f"job:{job_id}" if job_id is not None else "submit"
        with self.lock:
            if self._closed:
                raise ApiError(503, "TEMPORARILY_UNAVAILABLE", "The local workspace is stopping.")
            if token:
                hit = self.store.token_run(scope, str(token))
                if hit is not None:
                    run_id, deleted = hit
                    if deleted:
                        raise invalid(
                            f"The run with idempotency token {token} (run {run_id}) was deleted."
                        )
                    earlier = self.store.get_run(run_id) or {}
                    return {"run_id": run_id, "number_in_job": earlier.get("number_in_job")}
            run_id = self.store.new_id()
            now = now_ms()
            doc: dict[str, Any] = {
                "run_id": run_id,
                "job_id": job_id,
                "run_name": run_name,
                "run_type": "JOB_RUN" if job_id is not None else "SUBMIT_RUN",
                "number_in_job": self.store.next_number_in_job(job_id) if job_id else run_id,
                "creator": self.state.user,
                "idempotency_token": str(token) if token else None,
                "workspace_url": base_url,
                "timeout_seconds": settings.get("timeout_seconds"),
                "max_concurrent_runs": settings.get("max_concurrent_runs", 1),
                "environments": settings.get("environments"),
                "job_parameters_spec": settings.get("parameters") or [],
                "job_parameters": job_parameters,
                "overriding": overriding,
                "start_time": now,
                "active": True,
                "tasks": [
                    runs.new_task(spec, self.store.new_id()) for spec in settings.get("tasks") or []
                ],
                "repair_history": [{"type": "ORIGINAL", "start_time": now}],
                "notifications": notices.job_fields(settings),
            }
            runs.set_state(doc, "PENDING", message="Waiting for cluster")
            limit = int(doc["max_concurrent_runs"] if doc["max_concurrent_runs"] is not None else 1)
            if self._running_of(job_id) >= limit:
                message = (
                    f"Queued: the limit of {limit} concurrent run(s) of this job is reached."
                    if queue
                    else f"Skipping this run because the limit of {limit} maximum concurrent "
                    "runs has been reached."
                )
                if queue:
                    runs.set_state(doc, "QUEUED", message=message)
                else:
                    runs.finish(doc, "SKIPPED", None, message)
                    doc["active"] = False
                    for task in doc["tasks"]:
                        runs.set_state(task, "SKIPPED", message=message)
            rerun = [t["task_key"] for t in doc["tasks"]]
            if only is not None:
                for task in doc["tasks"]:
                    if task["task_key"] not in only:
                        runs.finish(task, "SKIPPED", "EXCLUDED", "Not selected in this run.")
                        task["not_selected"] = True
                rerun = [k for k in rerun if k in only]
            self.store.insert_run(doc, scope)
            if doc["active"]:
                executor = RunExecutor(self, doc, rerun)
                self.executors[run_id] = executor
                executor.start()
            else:
                self.notifier.run_ended(doc)
            return {"run_id": run_id, "number_in_job": doc["number_in_job"]}

    # -- reading runs ------------------------------------------------------------------

    def find(self, run_id: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(run document, task attempt or None) of a run id or a task run id."""
        rid = _int_id(run_id, "run_id")
        doc = self.store.get_run(rid)
        if doc is not None:
            return doc, None
        parent = self.store.parent_of_task_run(rid)
        doc = self.store.get_run(parent[0]) if parent else None
        if doc is None or parent is None:
            raise run_missing(run_id)
        task = next(t for t in doc["tasks"] if t["task_key"] == parent[1])
        if task["run_id"] == rid:
            return doc, task
        attempt = next(a for a in task["history"] if a["run_id"] == rid)
        return doc, {**task, **attempt, "condition_outcome": None}

    def output(self, run_id: Any) -> dict[str, Any]:
        """RunOutput wire dict of a task run."""
        doc, task = self.find(run_id)
        if task is None:
            if len(doc["tasks"]) != 1:
                raise invalid(MULTI_TASK_OUTPUT)
            task = doc["tasks"][0]
        out: dict[str, Any] = {"metadata": runs.task_run_view(doc, task)}
        path = Path(task["dir"]) / "result.json" if task.get("dir") else None
        if path is not None and path.exists():
            data = json.loads(path.read_text())
            # Stored redacted already; masked again in case the file predates redaction.
            out["logs"] = self.redact(data.get("logs") or "")
            out["logs_truncated"] = bool(data.get("logs_truncated"))
            if data.get("error"):
                out["error"] = self.redact(data["error"])
            if data.get("error_trace"):
                out["error_trace"] = self.redact(data["error_trace"])
            result = data.get("notebook_output")
            if result is not None or task["spec"].get("notebook_task") is not None:
                text = self.redact(str(result or ""))
                out["notebook_output"] = {
                    "result": text[:MAX_NOTEBOOK_OUTPUT],
                    "truncated": len(text) > MAX_NOTEBOOK_OUTPUT,
                }
        elif runs.result(task) and task["state"].get("state_message"):
            out["error"] = self.redact(task["state"]["state_message"])
        return out

    # -- changing runs -----------------------------------------------------------------

    def cancel(self, run_id: Any) -> None:
        """Cancel a run (or one task run); a finished run is left alone."""
        doc, task = self.find(run_id)
        with self.lock:
            executor = self.executors.get(doc["run_id"])
        if executor is None:
            return
        if task is None:
            executor.cancel()
        else:
            executor.cancel_task(task["task_key"])

    def cancel_all(self, job_id: Any, all_queued: bool) -> None:
        """Cancel the active runs of a job (or every queued run)."""
        wanted = self.job(job_id).job_id if job_id is not None else None
        with self.lock:
            targets = [
                ex
                for ex in self.executors.values()
                if (wanted is not None and ex.doc.get("job_id") == wanted)
                or (all_queued and runs.life(ex.doc) == "QUEUED")
            ]
        for executor in targets:
            executor.cancel()

    def delete_run(self, run_id: Any) -> None:
        """Delete a finished run."""
        doc, task = self.find(run_id)
        if task is not None:
            raise invalid(f"Run {run_id} is a task run; delete its job run {doc['run_id']}.")
        with self.lock:
            if doc["active"]:
                raise invalid(
                    f"Run {run_id} is active; cancel it before deleting it.", "INVALID_STATE"
                )
            self.store.delete_run(doc["run_id"])

    def repair(self, run_id: Any, body: dict[str, Any]) -> int:
        """Rerun tasks of a finished run in the same run; the repair id."""
        with self.lock:
            doc, task = self.find(run_id)
            if task is not None:
                raise invalid(f"Run {run_id} is a task run; repair its job run {doc['run_id']}.")
            # The saved document says when a run is over (its thread may still be exiting).
            if doc["active"]:
                raise invalid(
                    f"Run {run_id} is still active; repair it once it has finished.",
                    "INVALID_STATE",
                )
            repairs = [h for h in doc.get("repair_history", []) if h.get("type") == "REPAIR"]
            latest = body.get("latest_repair_id")
            if repairs and (latest is None or int(latest) != repairs[-1]["id"]):
                raise invalid(
                    f"latest_repair_id must be the id of the latest repair of run {run_id} "
                    f"({repairs[-1]['id']}), got {latest}."
                )
            rerun = self._rerun_keys(doc, body)
            self._refresh_specs(doc)
            if body.get("job_parameters") is not None:
                doc["job_parameters"] = {
                    **doc.get("job_parameters", {}),
                    **{str(k): str(v) for k, v in body["job_parameters"].items()},
                }
            for name in LEGACY_PARAMS:
                if body.get(name) is not None:
                    doc.setdefault("overriding", {})[name] = body[name]
            repair_id = self.store.new_id()
            tasks = {t["task_key"]: t for t in doc["tasks"]}
            for key in rerun:
                self.next_attempt(doc, tasks[key], "Waiting for upstream tasks")
                tasks[key]["first_attempt"] = tasks[key]["attempt_number"]
                tasks[key].pop("not_selected", None)
            now = now_ms()
            doc["repair_history"].append(
                {
                    "type": "REPAIR",
                    "id": repair_id,
                    "start_time": now,
                    "task_run_ids": [tasks[k]["run_id"] for k in rerun],
                }
            )
            doc["active"] = True
            doc.pop("end_time", None)
            runs.set_state(doc, "PENDING", message="Repairing")
            self.save(doc)
            executor = RunExecutor(self, doc, rerun)
            self.executors[doc["run_id"]] = executor
            executor.start()
            return repair_id

    def _rerun_keys(self, doc: dict[str, Any], body: dict[str, Any]) -> list[str]:
        tasks = {t["task_key"]: t for t in doc["tasks"]}
        named = body.get("rerun_tasks")
        all_failed = bool(body.get("rerun_all_failed_tasks"))
        if named and all_failed:
            raise invalid("Only one of rerun_tasks or rerun_all_failed_tasks can be used.")
        if named:
            if not isinstance(named, list):
                raise invalid("rerun_tasks must be a list of task keys.")
            unknown = [k for k in named if k not in tasks]
            if unknown:
                raise invalid(
                    f"Task(s) {', '.join(map(str, unknown))} are not in run {doc['run_id']}."
                )
            keys = set(named)
        elif all_failed:
            keys = {
                k
                for k, t in tasks.items()
                if runs.result(t) not in runs.SUCCESSES and runs.result(t) != "EXCLUDED"
            }
            if not keys:
                raise invalid(f"Run {doc['run_id']} has no failed tasks to repair.")
        else:
            raise invalid("Give rerun_tasks or rerun_all_failed_tasks to repair a run.")
        if body.get("rerun_dependent_tasks"):
            changed = True
            while changed:
                changed = False
                for key, task in tasks.items():
                    deps = {d["task_key"] for d in task["spec"].get("depends_on") or []}
                    if key not in keys and deps & keys:
                        keys.add(key)
                        changed = True
        return [k for k in tasks if k in keys]

    def _refresh_specs(self, doc: dict[str, Any]) -> None:
        """Repairs use the job's current task settings, as on Databricks."""
        if doc.get("job_id") is None:
            return
        record = self.store.get_job(int(doc["job_id"]))
        if record is None:
            return
        current = {t["task_key"]: t for t in record.settings.get("tasks") or []}
        for task in doc["tasks"]:
            if task["task_key"] in current:
                task["spec"] = current[task["task_key"]]


def task_values(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``dbutils.jobs.taskValues`` set by the run's tasks so far: {task_key: {key: value}}."""
    values: dict[str, dict[str, Any]] = {}
    for task in doc["tasks"]:
        path = Path(task["dir"]) / "task_values.json" if task.get("dir") else None
        if path is not None and path.exists():
            try:
                values[task["task_key"]] = json.loads(path.read_text())
            except ValueError:
                continue
    return values


def _int_id(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise invalid(f"{name} must be an integer, got {value!r}.") from exc
