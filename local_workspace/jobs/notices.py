"""Which job and task notifications a run event sends, and what they say.

Databricks' rules (Jobs API reference and "Add notifications on a job"):
- ``on_start`` when a run (or a task run) starts; ``on_success`` when it ends SUCCESS or
  SUCCESS_WITH_FAILURES; ``on_failure`` when it ends FAILED, TIMEDOUT or INTERNAL_ERROR,
  and also when it is cancelled or skipped unless ``notification_settings`` has
  ``no_alert_for_canceled_runs`` / ``no_alert_for_skipped_runs``;
  ``on_duration_warning_threshold_exceeded`` once a run outlasts its ``health`` rule on
  ``RUN_DURATION_SECONDS``.
- Job-level notifications are sent once per run, never for a task attempt that is retried;
  task-level ones for every attempt, unless the task's ``notification_settings`` has
  ``alert_on_last_attempt`` (then not on_start of retries, and on_failure only once no retry
  follows).
- A webhook notification POSTs ``{"event_type": "jobs.on_failure", "workspace_id": ...,
  "run": {"run_id": ...}, "job": {"job_id": ..., "name": ...}}``; a task's adds
  ``"task": {"task_key": ...}`` and ``run.parent_run_id`` (values as strings, as in
  Databricks' examples).

Notices are built under the jobs lock from a snapshot of the run document: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from local_workspace.jobs import runs

EVENTS = ("on_start", "on_success", "on_failure", "on_duration_warning_threshold_exceeded")
# The job settings a run keeps to notify (runs/submit takes the same fields).
JOB_FIELDS = ("email_notifications", "webhook_notifications", "notification_settings", "health")
# Words of the subject line, per event and reason.
WORDS = {
    "on_start": "started",
    "on_success": "succeeded",
    "on_failure": "failed",
    "on_duration_warning_threshold_exceeded": "is taking longer than expected",
}


@dataclass(frozen=True)
class Notice:
    """One notification to send: what happened to which run, and to whom."""

    event: str
    job_id: int | None
    job_name: str
    run_id: int
    parent_run_id: int | None
    task_key: str | None
    life_cycle_state: str
    result_state: str | None
    message: str
    run_page_url: str
    start_time: int | None
    end_time: int | None
    emails: tuple[str, ...]
    destinations: tuple[str, ...]

    @property
    def event_type(self) -> str:
        """The webhook event type (``jobs.on_failure``)."""
        return f"jobs.{self.event}"

    def subject(self) -> str:
        """The email subject: job (and task), run id, what happened."""
        word = WORDS[self.event]
        if self.event == "on_failure" and self.result_state in ("CANCELED", "UPSTREAM_CANCELED"):
            word = "was canceled"
        elif self.event == "on_failure" and self.life_cycle_state == "SKIPPED":
            word = "was skipped"
        elif self.event == "on_failure" and self.result_state == "TIMEDOUT":
            word = "timed out"
        what = f"task {self.task_key} of {self.job_name}" if self.task_key else self.job_name
        return f"Run {self.run_id} of {what} {word}"

    def body(self) -> str:
        """The email body: the facts a Databricks job email gives, and the run page link."""
        job = f"{self.job_name} (job {self.job_id})" if self.job_id else self.job_name
        lines = [self.subject() + ".", "", f"Job: {job}"]
        if self.task_key:
            lines.append(f"Task: {self.task_key} (run {self.run_id} of run {self.parent_run_id})")
        else:
            lines.append(f"Run: {self.run_id}")
        state = self.result_state or self.life_cycle_state
        lines.append(f"State: {state}")
        if self.message:
            lines.append(f"Message: {self.message[:2000]}")
        for label, value in (("Started", self.start_time), ("Ended", self.end_time)):
            if value:
                lines.append(f"{label}: {_when(value)}")
        if self.start_time and self.end_time:
            lines.append(f"Duration: {max(0, self.end_time - self.start_time) / 1000:.1f} s")
        lines += [
            f"Run page: {self.run_page_url}",
            "",
            "Written by the dbx-devkit local workspace to its outbox; no mail was sent.",
        ]
        return "\n".join(lines) + "\n"

    def payload(self, workspace_id: str) -> dict[str, Any]:
        """The JSON body POSTed to a generic webhook destination."""
        body: dict[str, Any] = {"event_type": self.event_type, "workspace_id": workspace_id}
        run: dict[str, str] = {"run_id": str(self.run_id)}
        if self.task_key:
            body["task"] = {"task_key": self.task_key}
            run["parent_run_id"] = str(self.parent_run_id)
        body["run"] = run
        job: dict[str, str] = {"name": self.job_name}
        if self.job_id is not None:
            job = {"job_id": str(self.job_id), **job}
        body["job"] = job
        return body


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def job_fields(settings: dict[str, Any]) -> dict[str, Any]:
    """The notification settings a run document keeps of its job (or submit request)."""
    return {k: settings[k] for k in JOB_FIELDS if settings.get(k)}


def ending(obj: dict[str, Any]) -> tuple[str, str] | None:
    """(event, reason) a run or task that has ended notifies: reason is "skipped",
    "canceled" or ""; None when it notifies nothing (a branch not taken: EXCLUDED)."""
    result = runs.result(obj)
    life = runs.life(obj)
    if result in runs.SUCCESSES:
        return "on_success", ""
    if result == "EXCLUDED":
        return None
    if result in runs.CANCELS:
        return "on_failure", "canceled"
    if life == "SKIPPED" or result == "UPSTREAM_FAILED":
        return "on_failure", "skipped"
    return "on_failure", ""


def recipients(block: dict[str, Any], event: str, reason: str) -> tuple[tuple[str, ...], ...]:
    """(email addresses, destination ids) of ``event`` in a job's or task's settings."""
    emails = block.get("email_notifications") or {}
    hooks = block.get("webhook_notifications") or {}
    settings = block.get("notification_settings") or {}
    muted = (reason == "skipped" and bool(settings.get("no_alert_for_skipped_runs"))) or (
        reason == "canceled" and bool(settings.get("no_alert_for_canceled_runs"))
    )
    if muted:
        return (), ()
    # The deprecated email-only switch still mutes email for skipped runs.
    email_muted = reason == "skipped" and bool(emails.get("no_alert_for_skipped_runs"))
    addresses = () if email_muted else tuple(str(a) for a in emails.get(event) or [])
    ids = tuple(str(h.get("id")) for h in hooks.get(event) or [] if isinstance(h, dict))
    return addresses, ids


def duration_limit(block: dict[str, Any]) -> float | None:
    """Seconds after which a run of a job (or task) with a RUN_DURATION_SECONDS health rule
    sends its duration warning, or None."""
    for rule in (block.get("health") or {}).get("rules") or []:
        if (
            isinstance(rule, dict)
            and rule.get("metric") == "RUN_DURATION_SECONDS"
            and rule.get("op") == "GREATER_THAN"
            and isinstance(rule.get("value"), int | float)
        ):
            return float(rule["value"])
    return None


def for_run(doc: dict[str, Any], event: str, reason: str = "") -> Notice | None:
    """The job-level notice of ``event`` for a run, or None when nobody is to be told."""
    emails, ids = recipients(doc.get("notifications") or {}, event, reason)
    if not emails and not ids:
        return None
    return _notice(doc, doc, event, emails, ids, task_key=None)


def for_task(
    doc: dict[str, Any], task: dict[str, Any], event: str, reason: str = ""
) -> Notice | None:
    """The task-level notice of ``event`` for a task attempt, or None."""
    emails, ids = recipients(task.get("spec") or {}, event, reason)
    if not emails and not ids:
        return None
    return _notice(doc, task, event, emails, ids, task_key=str(task["task_key"]))


def _notice(
    doc: dict[str, Any],
    obj: dict[str, Any],
    event: str,
    emails: tuple[str, ...],
    ids: tuple[str, ...],
    task_key: str | None,
) -> Notice:
    state = obj.get("state") or {}
    job_id = doc.get("job_id")
    return Notice(
        event=event,
        job_id=int(job_id) if job_id is not None else None,
        job_name=str(doc.get("run_name") or "Untitled"),
        run_id=int(obj["run_id"]),
        parent_run_id=int(doc["run_id"]) if task_key else None,
        task_key=task_key,
        life_cycle_state=str(state.get("life_cycle_state") or ""),
        result_state=state.get("result_state"),
        message=str(state.get("state_message") or ""),
        run_page_url=runs.page_url(doc, int(obj["run_id"])),
        start_time=obj.get("start_time"),
        end_time=obj.get("end_time") if event in ("on_success", "on_failure") else None,
        emails=emails,
        destinations=ids,
    )
