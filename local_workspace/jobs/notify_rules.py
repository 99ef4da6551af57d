"""The rules of job and task notifications, checked when a job is created, reset or updated
and when a run is submitted (Databricks refuses a bad one then, storing nothing).

``email_notifications`` lists email addresses per event; ``webhook_notifications`` lists
notification destinations (``{"id": ...}``) per event, at most
:data:`MAX_DESTINATIONS_PER_EVENT` each (Databricks' limit, in the Jobs API reference), and
every id must name an existing destination (``/api/2.0/notification-destinations``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from local_workspace.errors import invalid
from local_workspace.notification_destinations import email_problem

MAX_DESTINATIONS_PER_EVENT = 3
# More addresses than this on one event is a mistake, not a mailing list (bounds the outbox).
MAX_EMAILS_PER_EVENT = 100
EVENT_KEYS = (
    "on_start",
    "on_success",
    "on_failure",
    "on_duration_warning_threshold_exceeded",
    "on_streaming_backlog_exceeded",
    "on_maintenance_start",
    "on_maintenance_complete",
)


def check_notifications(settings: dict[str, Any], exists: Callable[[str], bool]) -> None:
    """INVALID_PARAMETER_VALUE for the first bad notification of the job or of a task."""
    _check_block(settings, "", exists)
    for task in settings.get("tasks") or []:
        if isinstance(task, dict):
            _check_block(task, f"Task {task.get('task_key')}: ", exists)


def _event_lists(
    block: dict[str, Any], key: str, where: str, items: str
) -> Iterator[tuple[str, list[Any]]]:
    """(event, list) of each event ``block[key]`` names, checked to be lists."""
    value = block.get(key)
    if value is None:
        return
    if not isinstance(value, dict):
        raise invalid(f"{where}{key} must be an object.")
    for event in EVENT_KEYS:
        listed = value.get(event)
        if listed is None:
            continue
        if not isinstance(listed, list):
            raise invalid(f"{where}{key}.{event} must be a list of {items}.")
        yield event, listed


def _check_block(block: dict[str, Any], where: str, exists: Callable[[str], bool]) -> None:
    for event, addresses in _event_lists(block, "email_notifications", where, "addresses"):
        if len(addresses) > MAX_EMAILS_PER_EVENT:
            raise invalid(
                f"{where}email_notifications.{event} lists {len(addresses)} addresses; "
                f"at most {MAX_EMAILS_PER_EVENT} are accepted."
            )
        for address in addresses:
            problem = email_problem(address)
            if problem:
                raise invalid(f"{where}email_notifications.{event}: {problem}")
    for event, targets in _event_lists(block, "webhook_notifications", where, "{id}"):
        if len(targets) > MAX_DESTINATIONS_PER_EVENT:
            raise invalid(
                f"{where}webhook_notifications.{event} lists {len(targets)} destinations: "
                f"a maximum of {MAX_DESTINATIONS_PER_EVENT} destinations can be specified "
                f"for the {event} property."
            )
        for target in targets:
            ident = target.get("id") if isinstance(target, dict) else None
            if not isinstance(ident, str) or not ident:
                raise invalid(
                    f"{where}webhook_notifications.{event}: each entry needs the id of a "
                    "notification destination: {id: <destination id>}."
                )
            if not exists(ident):
                raise invalid(
                    f"{where}webhook_notifications.{event}: Notification destination "
                    f"{ident} does not exist."
                )
