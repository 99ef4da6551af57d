"""Run documents: states, the run_if rules, the overall result, and the API views.

A run document is plain JSON (see ``store.py``); this module changes its states the way
Databricks reports them and renders it with the SDK's dataclasses (``Run``, ``RunTask``,
``RunState``, ``RunStatus``), filling both the legacy ``state`` and the newer ``status``.
"""

from __future__ import annotations

from typing import Any

from databricks.sdk.service.jobs import BaseJob, Job, Run, RunTask

from local_workspace.jobs.store import JobRecord, now_ms

ACTIVE_LIFE = frozenset(
    {"QUEUED", "PENDING", "RUNNING", "TERMINATING", "WAITING_FOR_RETRY", "BLOCKED"}
)
SUCCESSES = frozenset({"SUCCESS", "SUCCESS_WITH_FAILURES"})
FAILURES = frozenset({"FAILED", "TIMEDOUT", "UPSTREAM_FAILED", "MAXIMUM_CONCURRENT_RUNS_REACHED"})
CANCELS = frozenset({"CANCELED", "UPSTREAM_CANCELED"})
# RunLifeCycleState -> RunLifecycleStateV2State (``status.state``).
STATUS_OF_LIFE = {
    "QUEUED": "QUEUED",
    "PENDING": "PENDING",
    "BLOCKED": "BLOCKED",
    "RUNNING": "RUNNING",
    "WAITING_FOR_RETRY": "WAITING",
    "TERMINATING": "TERMINATING",
}
# result_state -> (termination code, termination type) of ``status.termination_details``.
TERMINATION = {
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "SUCCESS_WITH_FAILURES": ("SUCCESS_WITH_FAILURES", "SUCCESS"),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "CANCELED": ("USER_CANCELED", "SUCCESS"),
    "UPSTREAM_FAILED": ("SKIPPED", "SUCCESS"),
    "UPSTREAM_CANCELED": ("SKIPPED", "SUCCESS"),
    "EXCLUDED": ("SKIPPED", "SUCCESS"),
    "MAXIMUM_CONCURRENT_RUNS_REACHED": ("MAX_CONCURRENT_RUNS_EXCEEDED", "CLIENT_ERROR"),
}


def set_state(
    obj: dict[str, Any],
    life: str,
    result: str | None = None,
    message: str = "",
    *,
    code: str | None = None,
    user_cancelled: bool = False,
) -> None:
    """Set the legacy state of a run or task (``code`` overrides the termination code)."""
    state: dict[str, Any] = {
        "life_cycle_state": life,
        "state_message": message,
        "user_cancelled_or_timedout": user_cancelled,
    }
    if result is not None:
        state["result_state"] = result
    if code is not None:
        state["code"] = code
    obj["state"] = state


def life(obj: dict[str, Any]) -> str:
    """The life cycle state of a run or task."""
    return str(obj["state"]["life_cycle_state"])


def result(obj: dict[str, Any]) -> str | None:
    """The result state of a run or task, once it has one."""
    value = obj["state"].get("result_state")
    return str(value) if value else None


def is_active(obj: dict[str, Any]) -> bool:
    """Whether a run or task has not finished."""
    return life(obj) in ACTIVE_LIFE


def run_if_decision(run_if: str, dep_results: list[str | None]) -> str | None:
    """None when a task whose dependencies ended with ``dep_results`` must run; otherwise the
    result state it is skipped with (UPSTREAM_FAILED, UPSTREAM_CANCELED or EXCLUDED)."""
    if not dep_results:
        return None
    ok = [r in SUCCESSES for r in dep_results]
    failed = [r in FAILURES for r in dep_results]
    canceled = [r in CANCELS for r in dep_results]
    if run_if == "ALL_DONE":
        return None
    if run_if == "ALL_SUCCESS":
        if all(ok):
            return None
        if any(canceled):
            return "UPSTREAM_CANCELED"
        return "UPSTREAM_FAILED" if any(failed) else "EXCLUDED"
    if run_if == "AT_LEAST_ONE_SUCCESS":
        if any(ok):
            return None
        return "UPSTREAM_CANCELED" if any(canceled) else "UPSTREAM_FAILED"
    if run_if == "NONE_FAILED":
        if any(canceled):
            return "UPSTREAM_CANCELED"
        return "UPSTREAM_FAILED" if any(failed) else None
    if run_if == "AT_LEAST_ONE_FAILED":
        return None if any(failed) else "EXCLUDED"
    if run_if == "ALL_FAILED":
        return None if all(failed) else "EXCLUDED"
    return "EXCLUDED"


def overall_result(tasks: list[dict[str, Any]]) -> str:
    """The run's result from its tasks', as Databricks decides it: the leaf tasks count.

    SUCCESS when no task failed; SUCCESS_WITH_FAILURES when some task failed but every leaf
    task (no other task depends on it) succeeded or was excluded; FAILED otherwise.
    """
    results = {t["task_key"]: result(t) for t in tasks}
    bad = [k for k, r in results.items() if r not in SUCCESSES and r != "EXCLUDED"]
    if not bad:
        return "SUCCESS"
    if all(results[k] in CANCELS for k in bad):
        return "CANCELED"
    needed = {d["task_key"] for t in tasks for d in t["spec"].get("depends_on") or []}
    leaves = [k for k in results if k not in needed]
    leaf_ok = all(results[k] in SUCCESSES or results[k] == "EXCLUDED" for k in leaves)
    if leaf_ok and any(results[k] in SUCCESSES for k in leaves):
        return "SUCCESS_WITH_FAILURES"
    return "FAILED"


# -- views ------------------------------------------------------------------------------


def state_views(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(``state``, ``status``) wire dicts of a run or task."""
    legacy = {k: v for k, v in obj["state"].items() if k != "code"}
    lifecycle = legacy["life_cycle_state"]
    status: dict[str, Any] = {"state": STATUS_OF_LIFE.get(lifecycle, "TERMINATED")}
    if lifecycle == "QUEUED":
        status["queue_details"] = {
            "code": "ACTIVE_RUNS_LIMIT_REACHED",
            "message": legacy.get("state_message", ""),
        }
    elif status["state"] == "TERMINATED":
        res = legacy.get("result_state")
        if lifecycle == "INTERNAL_ERROR":
            code, kind = "INTERNAL_ERROR", "INTERNAL_ERROR"
        elif lifecycle == "SKIPPED" and res is None:
            code, kind = "MAX_CONCURRENT_RUNS_EXCEEDED", "CLIENT_ERROR"
        else:
            code, kind = TERMINATION.get(str(res), ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"))
        code = obj["state"].get("code") or code
        status["termination_details"] = {
            "code": code,
            "type": kind,
            "message": legacy.get("state_message", ""),
        }
    return legacy, status


def page_url(doc: dict[str, Any], run_id: int) -> str:
    """The run page URL: ``<workspace url>/#job/<job_id>/run/<run_id>``."""
    base = str(doc.get("workspace_url") or "").rstrip("/")
    job = doc.get("job_id")
    return f"{base}/#job/{job}/run/{run_id}" if job else f"{base}/#run/{run_id}"


def _times(obj: dict[str, Any]) -> dict[str, Any]:
    start = obj.get("start_time") or 0
    end = obj.get("end_time") or 0
    out: dict[str, Any] = {"start_time": start, "end_time": end}
    if start and end:
        out.update(
            setup_duration=0,
            execution_duration=end - start,
            cleanup_duration=0,
            run_duration=end - start,
        )
    return out


def task_view(doc: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    """The RunTask wire dict of a task's current attempt."""
    legacy, status = state_views(task)
    body: dict[str, Any] = {
        **task["spec"],
        **_times(task),
        "run_id": task["run_id"],
        "attempt_number": task["attempt_number"],
        "state": legacy,
        "status": status,
        "run_page_url": page_url(doc, task["run_id"]),
    }
    if task.get("condition_outcome") is not None and "condition_task" in body:
        body["condition_task"] = {**body["condition_task"], "outcome": task["condition_outcome"]}
    return RunTask.from_dict(body).as_dict()


def run_view(
    doc: dict[str, Any], *, include_tasks: bool = True, include_history: bool = False
) -> dict[str, Any]:
    """The Run wire dict of a run document."""
    legacy, status = state_views(doc)
    body: dict[str, Any] = {
        "job_id": doc.get("job_id"),
        "run_id": doc["run_id"],
        "original_attempt_run_id": doc["run_id"],
        "number_in_job": doc.get("number_in_job") or doc["run_id"],
        "attempt_number": 0,
        "creator_user_name": doc.get("creator"),
        "run_name": doc.get("run_name"),
        "run_type": doc["run_type"],
        "trigger": "ONE_TIME",
        "state": legacy,
        "status": status,
        "run_page_url": page_url(doc, doc["run_id"]),
        **_times(doc),
    }
    # Multi-task runs report their durations per task; only run_duration at the run level.
    for name in ("setup_duration", "execution_duration", "cleanup_duration"):
        body.pop(name, None)
    params = doc.get("job_parameters_spec") or []
    if params:
        values = doc.get("job_parameters") or {}
        body["job_parameters"] = [
            {"name": p["name"], "default": p.get("default"), "value": values.get(p["name"])}
            for p in params
        ]
    if doc.get("overriding"):
        body["overriding_parameters"] = doc["overriding"]
    if include_tasks:
        body["tasks"] = [task_view(doc, t) for t in doc["tasks"]]
    if include_history:
        body["repair_history"] = [_history_view(item) for item in doc.get("repair_history", [])]
    return Run.from_dict(body).as_dict()


def _history_view(item: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in item.items() if k not in ("state",)}
    if "state" in item:
        legacy, status = state_views(item)
        view["state"], view["status"] = legacy, status
    return view


def task_run_view(doc: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    """The Run wire dict of one task run (what runs/get answers for a task run id)."""
    legacy, status = state_views(task)
    body = {
        "job_id": doc.get("job_id"),
        "job_run_id": doc["run_id"],
        "run_id": task["run_id"],
        "original_attempt_run_id": task.get("original_run_id", task["run_id"]),
        "attempt_number": task["attempt_number"],
        "creator_user_name": doc.get("creator"),
        "run_name": task["task_key"],
        "run_type": "JOB_RUN" if doc.get("job_id") else "SUBMIT_RUN",
        "trigger": "ONE_TIME",
        "state": legacy,
        "status": status,
        "run_page_url": page_url(doc, task["run_id"]),
        "tasks": [task_view(doc, task)],
        **_times(task),
    }
    return Run.from_dict(body).as_dict()


def job_view(record: JobRecord, *, full: bool) -> dict[str, Any]:
    """The Job (``full``) or BaseJob wire dict of a stored job."""
    settings = dict(record.settings)
    if not full:
        for name in ("tasks", "job_clusters", "parameters", "environments"):
            settings.pop(name, None)
    body = {
        "job_id": record.job_id,
        "creator_user_name": record.creator,
        "run_as_user_name": record.creator,
        "created_time": record.created_time,
        "settings": settings,
    }
    return (Job if full else BaseJob).from_dict(body).as_dict()


def new_task(spec: dict[str, Any], run_id: int) -> dict[str, Any]:
    """The document of a task that has not started."""
    task: dict[str, Any] = {
        "task_key": spec["task_key"],
        "spec": spec,
        "run_id": run_id,
        "original_run_id": run_id,
        "attempt_number": 0,
        "history": [],
    }
    set_state(task, "PENDING", message="Waiting for upstream tasks")
    return task


def finish(obj: dict[str, Any], life_state: str, res: str | None, message: str, **kw: Any) -> None:
    """End a run or task now."""
    set_state(obj, life_state, res, message, **kw)
    obj["end_time"] = now_ms()
    if not obj.get("start_time"):
        obj["start_time"] = obj["end_time"]
