"""One run (or one repair of a run) walking its task DAG in a thread.

Tasks whose dependencies have finished and whose ``run_if`` holds start (at most
``MAX_PARALLEL`` at once), each in a worker thread that makes attempts (``max_retries``,
``min_retry_interval_millis``, ``retry_on_timeout``); the others end skipped with the
result state Databricks gives them. Cancel and the job ``timeout_seconds`` end every
running task (the task runtime kills the process group).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_workspace.jobs import launch, notices, runs
from local_workspace.jobs.launch import Context, LaunchError
from local_workspace.jobs.store import now_ms
from local_workspace.jobs.tasks import TaskOutcome, TaskProcess

if TYPE_CHECKING:
    from local_workspace.jobs.scheduler import JobsService

log = logging.getLogger("local_workspace.jobs")

MAX_PARALLEL = 4
POLL_S = 0.2


class RunExecutor:
    """Drives one run document to a terminal state."""

    def __init__(self, service: JobsService, doc: dict[str, Any], rerun: list[str]) -> None:
        self.service = service
        self.doc = doc
        self.rerun = rerun
        self.run_id = int(doc["run_id"])
        self.cond = threading.Condition(service.lock)
        self.cancel_event = threading.Event()
        self.cancel_message = "Run was cancelled."
        self.timed_out = False
        self.processes: dict[str, TaskProcess] = {}
        self.cancelled_tasks: set[str] = set()
        # The run ("run") and task run ids whose duration warning was sent.
        self.warned: set[Any] = set()
        self.thread = threading.Thread(
            target=self._main, name=f"job-run-{self.run_id}", daemon=True
        )

    # -- control (callers may hold service.lock) --------------------------------------

    def start(self) -> None:
        """Start walking the DAG."""
        self.thread.start()

    def cancel(self, message: str = "Run was cancelled.", timed_out: bool = False) -> None:
        """End the run: running tasks are killed, tasks not started are skipped."""
        with self.cond:
            if not self.cancel_event.is_set():
                self.cancel_message = message
                self.timed_out = timed_out
            self.cancel_event.set()
            procs = list(self.processes.values())
            self.cond.notify_all()
        for proc in procs:
            proc.cancel()

    def cancel_task(self, task_key: str) -> None:
        """End one task of the run (its dependants then follow their run_if)."""
        with self.cond:
            self.cancelled_tasks.add(task_key)
            proc = self.processes.get(task_key)
            self.cond.notify_all()
        if proc is not None:
            proc.cancel()

    # -- the walk ---------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._wait_in_queue()
            self._walk()
        except _Done:
            pass
        except Exception as exc:  # thread boundary: the run must end, visibly
            log.exception("run %s failed inside the scheduler", self.run_id)
            with self.cond:
                runs.finish(
                    self.doc,
                    "INTERNAL_ERROR",
                    "FAILED",
                    f"Internal error of the local workspace scheduler: {type(exc).__name__}: {exc}",
                    code="INTERNAL_ERROR",
                )
                self._close_doc()
        finally:
            self.service.finished(self)

    def _wait_in_queue(self) -> None:
        with self.cond:
            while runs.life(self.doc) == "QUEUED":
                if self.cancel_event.is_set():
                    runs.finish(
                        self.doc, "TERMINATED", "CANCELED", self.cancel_message, user_cancelled=True
                    )
                    self._close_doc()
                    raise _Done
                if self.service.may_start(self.doc):
                    runs.set_state(self.doc, "PENDING", message="Starting")
                    self.service.save(self.doc)
                    return
                self.cond.wait(POLL_S)

    def _walk(self) -> None:
        tasks = {t["task_key"]: t for t in self.doc["tasks"]}
        pending = [k for k in tasks if k in set(self.rerun)]
        workers: dict[str, threading.Thread] = {}
        timeout = float(self.doc.get("timeout_seconds") or 0)
        with self.cond:
            self.doc["start_time"] = self.doc.get("start_time") or now_ms()
            runs.set_state(self.doc, "RUNNING", message="In run")
            self.service.save(self.doc)
            self.service.notifier.run_started(self.doc)
            began = time.monotonic()
            while True:
                self._duration_warnings(tasks, began)
                if (
                    timeout
                    and not self.cancel_event.is_set()
                    and time.monotonic() - began > timeout
                ):
                    # The lock is re-entrant; TaskProcess.cancel returns at once.
                    self.cancel(f"Run timed out after {timeout:g} s.", timed_out=True)
                for key in list(pending):
                    decision = self._decide(tasks, key, set(pending))
                    if decision == "wait":
                        continue
                    if decision == "run":
                        if len(workers) >= MAX_PARALLEL:
                            continue
                        pending.remove(key)
                        worker = threading.Thread(
                            target=self._task_worker,
                            args=(tasks[key], workers),
                            name=f"job-task-{key}",
                            daemon=True,
                        )
                        workers[key] = worker
                        worker.start()
                        continue
                    pending.remove(key)
                    skipped = decision
                    message = {
                        "UPSTREAM_FAILED": "Upstream task(s) failed.",
                        "UPSTREAM_CANCELED": "Upstream task(s) were cancelled.",
                        "EXCLUDED": "The task's run_if condition was not met.",
                        "CANCELED": self.cancel_message,
                    }[skipped]
                    life = "TERMINATED" if skipped == "CANCELED" else "SKIPPED"
                    runs.finish(tasks[key], life, skipped, message)
                    self.service.save(self.doc)
                    self.service.notifier.task_ended(self.doc, tasks[key], retrying=False)
                if not pending and not workers:
                    break
                self.cond.wait(POLL_S)
            self._conclude()

    def _duration_warnings(self, tasks: dict[str, dict[str, Any]], began: float) -> None:
        """Warn once per run and per task attempt that outlasts its RUN_DURATION_SECONDS
        health rule (caller holds the lock; the walk wakes every POLL_S)."""
        limit = notices.duration_limit(self.doc.get("notifications") or {})
        if limit is not None and "run" not in self.warned and time.monotonic() - began > limit:
            self.warned.add("run")
            self.service.notifier.duration_exceeded(self.doc)
        for task in tasks.values():
            limit = notices.duration_limit(task["spec"])
            if limit is None or runs.life(task) != "RUNNING" or not task.get("start_time"):
                continue
            if task["run_id"] not in self.warned and now_ms() - task["start_time"] > limit * 1000:
                self.warned.add(task["run_id"])
                self.service.notifier.duration_exceeded(self.doc, task)

    def _decide(self, tasks: dict[str, dict[str, Any]], key: str, pending: set[str]) -> str:
        """ "wait", "run", or the result state the task is skipped with."""
        spec = tasks[key]["spec"]
        # Tasks left out by run-now ``only`` do not hold their dependants back.
        deps = [
            d for d in spec.get("depends_on") or [] if not tasks[d["task_key"]].get("not_selected")
        ]
        if any(runs.is_active(tasks[d["task_key"]]) for d in deps):
            return "wait"
        if self.cancel_event.is_set():
            return "CANCELED"
        results: list[str | None] = []
        for dep in deps:
            dep_task = tasks[dep["task_key"]]
            res = runs.result(dep_task)
            wanted = dep.get("outcome")
            # A condition's branch not taken is excluded, as on Databricks.
            taken = dep_task.get("condition_outcome") == wanted
            if wanted is not None and res in runs.SUCCESSES and not taken:
                res = "EXCLUDED"
            results.append(res)
        if results and all(r == "EXCLUDED" for r in results):
            return "EXCLUDED"
        decision = runs.run_if_decision(spec.get("run_if") or "ALL_SUCCESS", results)
        return "run" if decision is None else decision

    def _conclude(self) -> None:
        """Set the run's final state (caller holds the lock)."""
        if self.timed_out:
            res, message = "TIMEDOUT", self.cancel_message
        elif self.cancel_event.is_set():
            res, message = "CANCELED", self.cancel_message
        else:
            res = runs.overall_result(self.doc["tasks"])
            message = {
                "SUCCESS": "",
                "SUCCESS_WITH_FAILURES": "Some tasks failed; the leaf tasks succeeded.",
                "CANCELED": "A task was cancelled.",
            }.get(res, self._first_error())
        runs.finish(
            self.doc,
            "TERMINATED",
            res,
            message,
            user_cancelled=res in ("CANCELED", "TIMEDOUT"),
        )
        self._close_doc()

    def _first_error(self) -> str:
        for task in self.doc["tasks"]:
            if runs.result(task) in ("FAILED", "TIMEDOUT"):
                return (
                    f"Task {task['task_key']} failed with message: {task['state']['state_message']}"
                )
        return "Some tasks failed."

    def _close_doc(self) -> None:
        self.doc["active"] = False
        history = self.doc.get("repair_history") or []
        if history:
            item = history[-1]
            item["end_time"] = self.doc["end_time"]
            item["state"] = dict(self.doc["state"])
            item["task_run_ids"] = [t["run_id"] for t in self.doc["tasks"]]
        self.service.save(self.doc)
        self.service.notifier.run_ended(self.doc)

    # -- one task, all its attempts (worker thread) ------------------------------------

    def _task_worker(self, task: dict[str, Any], workers: dict[str, threading.Thread]) -> None:
        key = task["task_key"]
        try:
            while True:
                outcome, condition = self._attempt(task)
                with self.cond:
                    self._record(task, outcome, condition)
                    # The attempt as it ended: a retry gives the task a new run id and state.
                    ended = dict(task)
                    retrying = self._retry(task, outcome)
                    self.service.notifier.task_ended(self.doc, ended, retrying)
                    if not retrying:
                        return
                    wait_s = float(task["spec"].get("min_retry_interval_millis") or 0) / 1000
                if self.cancel_event.wait(wait_s):
                    with self.cond:
                        runs.finish(task, "TERMINATED", "CANCELED", self.cancel_message)
                        self.service.save(self.doc)
                        self.service.notifier.task_ended(self.doc, task, retrying=False)
                    return
        except Exception as exc:  # thread boundary: the task must end, visibly
            log.exception("task %s of run %s failed inside the scheduler", key, self.run_id)
            with self.cond:
                runs.finish(
                    task,
                    "INTERNAL_ERROR",
                    "FAILED",
                    f"{type(exc).__name__}: {exc}",
                    code="INTERNAL_ERROR",
                )
                self.service.save(self.doc)
                self.service.notifier.task_ended(self.doc, task, retrying=False)
        finally:
            with self.cond:
                workers.pop(key, None)
                self.processes.pop(key, None)
                self.cond.notify_all()

    def _retry(self, task: dict[str, Any], outcome: TaskOutcome) -> bool:
        """Whether to make another attempt; if so the task gets its next attempt (locked)."""
        spec = task["spec"]
        if self.cancel_event.is_set() or task["task_key"] in self.cancelled_tasks:
            return False
        retryable = outcome.result_state == "FAILED" or (
            outcome.result_state == "TIMEDOUT" and spec.get("retry_on_timeout")
        )
        max_retries = int(spec.get("max_retries") or 0)
        done = task["attempt_number"] - task.get("first_attempt", 0)
        if not retryable or (max_retries != -1 and done >= max_retries):
            return False
        self.service.next_attempt(self.doc, task, "Waiting for retry")
        return True

    def _attempt(self, task: dict[str, Any]) -> tuple[TaskOutcome, str | None]:
        spec = task["spec"]
        key = task["task_key"]
        with self.cond:
            task["start_time"] = now_ms()
            runs.set_state(task, "RUNNING", message="In run")
            workdir = self.service.store.attempt_dir(self.run_id, key, task["attempt_number"])
            task["dir"] = str(workdir)
            self.service.save(self.doc)
            self.service.notifier.task_started(self.doc, task)
            ctx = self._context(task)
        kind = next((k for k in launch.UNSUPPORTED if spec.get(k) is not None), None)
        try:
            if kind is not None:
                raise LaunchError(
                    f"{launch.UNSUPPORTED[kind]} is not available in the local workspace; "
                    "run this job on a Databricks workspace.",
                    "INVALID_RUN_CONFIGURATION",
                )
            if spec.get("condition_task") is not None:
                return launch.run_condition(spec, ctx)
            if spec.get("sql_task") is not None:
                return launch.run_sql(
                    self.service.state.services,
                    spec,
                    ctx,
                    self.service.workspace(),
                    self.cancel_event,
                ), None
            return self._run_process(task, ctx, workdir), None
        except LaunchError as exc:
            task["failure_code"] = exc.code
            return launch.failed_outcome(exc.message, task["start_time"]), None

    def _run_process(self, task: dict[str, Any], ctx: Context, workdir: Any) -> TaskOutcome:
        spec = task["spec"]
        env = self.service.task_env(self.doc, task)
        environment = None
        env_key = spec.get("environment_key")
        if env_key:
            for item in self.doc.get("environments") or []:
                if item.get("environment_key") == env_key:
                    environment = item.get("spec") or {}
        launched = launch.build_launch(
            spec, ctx, self.service.workspace(), workdir, env, environment
        )
        process = TaskProcess(launched)
        with self.cond:
            if self.cancel_event.is_set() or task["task_key"] in self.cancelled_tasks:
                return TaskOutcome(
                    "CANCELED",
                    None,
                    "",
                    False,
                    self.cancel_message,
                    None,
                    None,
                    task["start_time"],
                    now_ms(),
                )
            self.processes[task["task_key"]] = process
        try:
            process.start()
        except NotImplementedError:
            return launch.failed_outcome(
                "The task runtime of the local workspace is not available yet.",
                task["start_time"],
            )
        return process.wait()

    def _context(self, task: dict[str, Any]) -> Context:
        return Context(
            job_id=self.doc.get("job_id"),
            job_name=str(self.doc.get("run_name") or ""),
            run_id=self.run_id,
            task_key=task["task_key"],
            task_run_id=task["run_id"],
            attempt=task["attempt_number"],
            job_parameters=dict(self.doc.get("job_parameters") or {}),
            overriding=dict(self.doc.get("overriding") or {}),
        )

    def _record(self, task: dict[str, Any], outcome: TaskOutcome, condition: str | None) -> None:
        """Store an attempt's outcome: its files and its state (caller holds the lock)."""
        # Every kind of task (process, SQL, condition) passes here: mask before storing.
        clean = self.service.redact
        outcome = replace(
            outcome,
            logs=clean(outcome.logs),
            error=clean(outcome.error) if outcome.error else outcome.error,
            error_trace=clean(outcome.error_trace) if outcome.error_trace else None,
            notebook_output=(
                clean(outcome.notebook_output) if outcome.notebook_output is not None else None
            ),
        )
        res = outcome.result_state
        if self.timed_out and res == "CANCELED":
            res = "TIMEDOUT"
        message = outcome.error or ""
        if res == "CANCELED" and not message:
            message = self.cancel_message
        if task.get("dir"):
            data = asdict(outcome)
            data["result_state"] = res
            (Path(task["dir"]) / "result.json").write_text(json.dumps(data))
        if condition is not None:
            task["condition_outcome"] = condition
        task["start_time"] = min(task["start_time"], outcome.start_time_ms) or task["start_time"]
        code = task.pop("failure_code", None)
        runs.finish(
            task,
            "TERMINATED",
            res,
            message,
            code=code,
            user_cancelled=res in ("CANCELED",) or (res == "TIMEDOUT" and self.timed_out),
        )
        task["end_time"] = max(outcome.end_time_ms, task["start_time"])
        self.service.save(self.doc)


class _Done(Exception):
    """The run ended before walking (cancelled in the queue)."""
