"""Delivery of job notifications: emails into the outbox, webhooks POSTed to destinations.

The local workspace sends no mail: each email notification is an RFC 5322 message written to
``<data_dir>/outbox/`` (one ``.eml`` file per recipient, written whole then renamed into
place). Webhook notifications go to the notification destinations the job names by id: a
generic webhook gets Databricks' JSON payload (basic auth when the destination has a
username/password), Slack and Teams webhook URLs get a ``{"text": ...}`` message, an email
destination gets ``.eml`` files; PagerDuty is not reachable from here and is recorded as not
delivered.

Delivery never holds up a run: run events are queued (bounded) and one worker thread
delivers them in order, one POST attempt each with a :data:`TIMEOUT_S` timeout, no retries
and no redirects. Every webhook outcome is one JSON line in ``outbox/webhooks.jsonl``
(never the URL: it is a secret of the destination) and failures are logged too.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import json
import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local_workspace.jobs import notices
from local_workspace.jobs.notices import Notice

log = logging.getLogger("local_workspace.jobs.notify")

OUTBOX = "outbox"
JOURNAL = "webhooks.jsonl"
TIMEOUT_S = 5.0
MAX_QUEUED = 1000
# The outbox keeps the newest emails; the journal rolls over to webhooks.jsonl.1.
MAX_EMAILS = 1000
MAX_JOURNAL_BYTES = 1024 * 1024
SENDER = "dbx-devkit local workspace <no-reply@dbx-devkit.local>"
USER_AGENT = "dbx-devkit-local-workspace"

# (config key, display name, stored config) of a destination id, or None.
DestinationLookup = Callable[[str], tuple[str, str | None, dict[str, Any]] | None]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered as it is (an error), never followed elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Notifier:
    """Queues run events of one workspace and delivers their notifications."""

    def __init__(self, data_dir: Path, workspace_id: str, destination: DestinationLookup) -> None:
        self.outbox = data_dir / OUTBOX
        self.workspace_id = workspace_id
        self._destination = destination
        self._queue: queue.Queue[Notice | None] = queue.Queue(MAX_QUEUED)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- events (callers may hold the jobs lock: nothing here blocks) -------------------

    def run_started(self, doc: dict[str, Any]) -> None:
        """A run started."""
        self._send(notices.for_run(doc, "on_start"))

    def run_ended(self, doc: dict[str, Any]) -> None:
        """A run reached its final state."""
        found = notices.ending(doc)
        if found is not None:
            self._send(notices.for_run(doc, *found))

    def task_started(self, doc: dict[str, Any], task: dict[str, Any]) -> None:
        """A task attempt started (retries are quiet under alert_on_last_attempt)."""
        retry = task["attempt_number"] > task.get("first_attempt", 0)
        if retry and _last_attempt_only(task):
            return
        self._send(notices.for_task(doc, task, "on_start"))

    def task_ended(self, doc: dict[str, Any], task: dict[str, Any], retrying: bool) -> None:
        """A task attempt ended (``retrying``: another attempt follows)."""
        found = notices.ending(task)
        if found is None or (retrying and _last_attempt_only(task)):
            return
        self._send(notices.for_task(doc, task, *found))

    def duration_exceeded(self, doc: dict[str, Any], task: dict[str, Any] | None = None) -> None:
        """A run (or task) outlasted its RUN_DURATION_SECONDS health rule."""
        event = "on_duration_warning_threshold_exceeded"
        self._send(
            notices.for_run(doc, event) if task is None else notices.for_task(doc, task, event)
        )

    def _send(self, notice: Notice | None) -> None:
        if notice is None:
            return
        with self._lock:
            if self._closed:
                log.warning("not sent (the workspace is stopping): %s", notice.subject())
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="job-notifications", daemon=True
                )
                self._thread.start()
        try:
            self._queue.put_nowait(notice)
        except queue.Full:
            log.warning("notification queue full (%d): dropped %s", MAX_QUEUED, notice.subject())

    def close(self, wait_s: float) -> None:
        """Deliver what is queued for at most ``wait_s`` seconds, then stop."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is None:
            return
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=wait_s)
        thread.join(wait_s)

    # -- delivery (the worker thread) ----------------------------------------------------

    def _work(self) -> None:
        while True:
            notice = self._queue.get()
            if notice is None:
                return
            try:
                self.deliver(notice)
            except Exception:  # thread boundary: one bad notice must not stop the others
                log.exception("delivering %s failed", notice.event_type)

    def deliver(self, notice: Notice) -> None:
        """Write the notice's emails and call its destinations (blocking)."""
        if notice.emails:
            self._write_emails(notice, notice.emails)
        for ident in notice.destinations:
            self._call(notice, ident)

    def _write_emails(self, notice: Notice, addresses: tuple[str, ...]) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        for address in addresses:
            message = EmailMessage()
            message["From"] = SENDER
            message["To"] = address
            message["Subject"] = notice.subject()
            message["Date"] = formatdate(localtime=True)
            message["Message-ID"] = make_msgid(domain="dbx-devkit.local")
            message["X-Databricks-Event-Type"] = notice.event_type
            message.set_content(notice.body())
            name = f"{stamp}-run{notice.run_id}-{notice.event}-{uuid.uuid4().hex[:8]}.eml"
            partial = self.outbox / (name + ".part")
            partial.write_bytes(bytes(message))
            os.replace(partial, self.outbox / name)
        self._prune()

    def _prune(self) -> None:
        """Keep the newest :data:`MAX_EMAILS` emails (names start with their time)."""
        emails = sorted(self.outbox.glob("*.eml"))
        for old in emails[: max(0, len(emails) - MAX_EMAILS)]:
            old.unlink(missing_ok=True)

    def _call(self, notice: Notice, ident: str) -> None:
        found = self._destination(ident)
        if found is None:
            self._record(notice, ident, None, "not_delivered", error="destination does not exist")
            return
        kind, _, config = found
        if kind == "email":
            self._write_emails(notice, tuple(config.get("addresses") or ()))
            self._record(notice, ident, kind, "delivered", detail="written to the outbox")
            return
        url = config.get("url")
        if kind not in ("generic_webhook", "slack", "microsoft_teams") or not url:
            self._record(
                notice,
                ident,
                kind,
                "not_delivered",
                error=f"{kind} destinations are not reachable from the local workspace",
            )
            return
        if kind == "generic_webhook":
            body: dict[str, Any] = notice.payload(self.workspace_id)
        else:
            body = {"text": f"{notice.subject()}: {notice.run_page_url}"}
        status, error = post_json(url, body, config.get("username"), config.get("password"))
        outcome = "delivered" if error is None else "failed"
        self._record(notice, ident, kind, outcome, http_status=status, error=error)

    def _record(
        self,
        notice: Notice,
        ident: str,
        kind: str | None,
        outcome: str,
        *,
        http_status: int | None = None,
        error: str | None = None,
        detail: str | None = None,
    ) -> None:
        entry = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "event_type": notice.event_type,
            "job_id": notice.job_id,
            "run_id": notice.run_id,
            "task_key": notice.task_key,
            "destination_id": ident,
            "destination_type": kind,
            "outcome": outcome,
            "http_status": http_status,
            "error": error,
            "detail": detail,
        }
        line = json.dumps({k: v for k, v in entry.items() if v is not None}) + "\n"
        self.outbox.mkdir(parents=True, exist_ok=True)
        journal = self.outbox / JOURNAL
        with contextlib.suppress(FileNotFoundError):
            if journal.stat().st_size > MAX_JOURNAL_BYTES:
                os.replace(journal, journal.with_name(JOURNAL + ".1"))
        with journal.open("a", encoding="utf-8") as out:
            out.write(line)
        if outcome != "delivered":
            log.warning(
                "%s of run %s to destination %s %s: %s",
                notice.event_type,
                notice.run_id,
                ident,
                outcome.replace("_", " "),
                error,
            )


def post_json(
    url: str, body: dict[str, Any], username: str | None = None, password: str | None = None
) -> tuple[int | None, str | None]:
    """POST ``body`` once: (HTTP status, None) on a 2xx answer, else (status or None, why)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, "only http(s) URLs are called"
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if _loopback(parts.hostname):
        handlers.append(urllib.request.ProxyHandler({}))  # never via a proxy to this machine
    opener = urllib.request.build_opener(*handlers)
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    if username or password:
        token = base64.b64encode(f"{username or ''}:{password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    began = time.monotonic()
    try:
        with opener.open(request, timeout=TIMEOUT_S) as answer:
            answer.read(1024)
            return int(answer.status), None
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        spent = time.monotonic() - began
        return None, f"{type(reason).__name__}: {reason} (after {spent:.1f} s)"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _last_attempt_only(task: dict[str, Any]) -> bool:
    settings = (task.get("spec") or {}).get("notification_settings") or {}
    return bool(settings.get("alert_on_last_attempt"))
