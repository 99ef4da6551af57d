"""Checks of a job spec's notifications before it is sent.

``email_notifications`` lists email addresses per event; ``webhook_notifications`` lists
notification destinations (``{"id": ...}``) per event, at most
:data:`MAX_DESTINATIONS_PER_EVENT` each (Databricks' limit, in the Jobs API reference).
Both exist at the job level and on each task. :func:`notification_problems` checks the shape
offline; :func:`check_destinations` asks the workspace that every destination id exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from tools_core.errors import ToolsCoreError

if TYPE_CHECKING:
    from tools_core.backend import Backend

MAX_DESTINATIONS_PER_EVENT = 3
EVENTS = (
    "on_start",
    "on_success",
    "on_failure",
    "on_duration_warning_threshold_exceeded",
    "on_streaming_backlog_exceeded",
)
# Destination ids checked against the workspace in one call at most.
MAX_CHECKED_IDS = 20
_EMAIL = re.compile(r"^[^@\s,;<>()\"]+@[^@\s,;<>()\".]+(\.[^@\s,;<>()\".]+)+$")


def _blocks(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, settings) of the job and of each of its tasks."""
    yield "spec", spec
    tasks = spec.get("tasks")
    for index, task in enumerate(tasks if isinstance(tasks, list) else []):
        if isinstance(task, Mapping):
            key = task.get("task_key")
            yield (
                (f"task {key!r}" if isinstance(key, str) and key else f"spec.tasks[{index}]"),
                task,
            )


def notification_problems(spec: Mapping[str, Any]) -> list[str]:
    """Malformed email addresses and too many destinations per event (job and tasks)."""
    problems: list[str] = []
    for where, block in _blocks(spec):
        emails = block.get("email_notifications")
        for event in EVENTS:
            addresses = emails.get(event) if isinstance(emails, Mapping) else None
            for address in addresses if isinstance(addresses, list) else []:
                if not isinstance(address, str) or not _EMAIL.match(address):
                    problems.append(
                        f"{where}: email_notifications.{event}: {str(address)[:80]!r} is not "
                        "an email address."
                    )
        hooks = block.get("webhook_notifications")
        for event in EVENTS:
            targets = hooks.get(event) if isinstance(hooks, Mapping) else None
            if isinstance(targets, list) and len(targets) > MAX_DESTINATIONS_PER_EVENT:
                problems.append(
                    f"{where}: webhook_notifications.{event} lists {len(targets)} destinations; "
                    f"at most {MAX_DESTINATIONS_PER_EVENT} per event."
                )
    return problems


def destination_ids(spec: Mapping[str, Any]) -> dict[str, str]:
    """{destination id: where it is named first} of the spec's webhook notifications."""
    found: dict[str, str] = {}
    for where, block in _blocks(spec):
        hooks = block.get("webhook_notifications")
        for event in EVENTS:
            targets = hooks.get(event) if isinstance(hooks, Mapping) else None
            for target in targets if isinstance(targets, list) else []:
                ident = target.get("id") if isinstance(target, Mapping) else None
                if isinstance(ident, str) and ident:
                    found.setdefault(ident, f"{where}: webhook_notifications.{event}")
    return found


def check_destinations(backend: Backend, spec: Mapping[str, Any]) -> None:
    """RESOURCE_DOES_NOT_EXIST naming every webhook destination id the workspace lacks.

    Reading destinations may need workspace-admin rights on Databricks: when the workspace
    refuses the read, the job API's own check decides."""
    from databricks.sdk.errors import NotFound, PermissionDenied

    missing = []
    for ident, where in list(destination_ids(spec).items())[:MAX_CHECKED_IDS]:
        try:
            backend.client.notification_destinations.get(ident)
        except NotFound:
            missing.append(f"{where}: {ident}")
        except PermissionDenied:
            return
    if missing:
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            "these notification destinations do not exist: " + "; ".join(missing) + ".",
            "Create the destination first (Notification Destinations API, "
            "w.notification_destinations.create) and use its id; nothing was changed.",
        )
