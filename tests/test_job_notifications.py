"""Job notifications in the local workspace, through the real databricks-sdk: notification
destinations, webhooks POSTed to a listener on 127.0.0.1, emails written to the outbox as
``.eml`` files, notification_settings, and the rules checked on create/reset/submit."""

from __future__ import annotations

import email
import email.policy
import json
import queue
import socket
import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound
from databricks.sdk.service import jobs
from databricks.sdk.service.settings import Config, EmailConfig, GenericWebhookConfig

from local_workspace.runner import LocalWorkspace
from tests.conftest import wait_for
from tests.test_jobs_local_api import folder, put_file, wait_run
from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.jobs import create_job

WAIT_S = 30
GT = jobs.JobsHealthOperator.GREATER_THAN


class Listener:
    """An HTTP endpoint on 127.0.0.1 that records each POST (path, headers, JSON body)."""

    def __init__(self) -> None:
        self.posts: queue.Queue[tuple[str, dict[str, str], Any]] = queue.Queue()
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(size) or b"null")
                posts.put((self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def next_post(self, path: str) -> tuple[dict[str, str], Any]:
        """The next POST to ``path`` (others are kept out of the way), within WAIT_S."""
        while True:
            got, headers, body = self.posts.get(timeout=WAIT_S)
            if got == path:
                return headers, body

    def quiet(self, path: str) -> list[Any]:
        """Bodies POSTed to ``path`` so far (without waiting)."""
        found = []
        while not self.posts.empty():
            got, _, body = self.posts.get_nowait()
            if got == path:
                found.append(body)
        return found


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    hook = Listener()
    hook.thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def destination(ws: WorkspaceClient, url: str, **auth: str) -> str:
    made = ws.notification_destinations.create(
        display_name=f"t-hook-{uuid.uuid4().hex[:6]}",
        config=Config(generic_webhook=GenericWebhookConfig(url=url, **auth)),
    )
    assert made.id
    return made.id


def outbox_emails(local_ws: LocalWorkspace, run_id: int) -> list[EmailMessage]:
    folder_ = Path(local_ws.config.data_dir) / "outbox"
    found = []
    for path in sorted(folder_.glob(f"*-run{run_id}-*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def journal(local_ws: LocalWorkspace) -> list[dict[str, Any]]:
    path = Path(local_ws.config.data_dir) / "outbox" / "webhooks.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_destinations_are_created_read_listed_updated_and_deleted_with_secrets_masked(
    ws: WorkspaceClient,
) -> None:
    made = ws.notification_destinations.create(
        display_name="t-oncall",
        config=Config(
            generic_webhook=GenericWebhookConfig(
                url="https://hooks.example.com/x", username="u", password="s3cret"
            )
        ),
    )
    assert made.id and made.destination_type and made.destination_type.value == "WEBHOOK"
    hook = made.config and made.config.generic_webhook
    assert hook and hook.url is None and hook.password is None and hook.username is None
    assert hook.url_set and hook.password_set and hook.username_set

    got = ws.notification_destinations.get(made.id)
    assert got.display_name == "t-oncall" and "s3cret" not in json.dumps(got.as_dict())
    listed = {d.id: d for d in ws.notification_destinations.list(page_size=1)}
    assert listed[made.id].display_name == "t-oncall"

    renamed = ws.notification_destinations.update(made.id, display_name="t-oncall-2")
    assert renamed.display_name == "t-oncall-2"
    assert renamed.config and renamed.config.generic_webhook
    assert renamed.config.generic_webhook.password_set  # kept: not given again
    with pytest.raises(InvalidParameterValue, match="cannot be changed"):
        ws.notification_destinations.update(
            made.id, config=Config(email=EmailConfig(addresses=["a@example.com"]))
        )
    ws.notification_destinations.delete(made.id)
    with pytest.raises(NotFound, match="does not exist"):
        ws.notification_destinations.get(made.id)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (Config(generic_webhook=GenericWebhookConfig(url="file:///etc/passwd")), "http"),
        (Config(generic_webhook=GenericWebhookConfig(username="u")), "url is required"),
        (Config(email=EmailConfig(addresses=["not-an-address"])), "Invalid email"),
        (Config(), "exactly one"),
    ],
)
def test_bad_destinations_are_refused(ws: WorkspaceClient, config: Config, message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        ws.notification_destinations.create(display_name="t-bad", config=config)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_failing_job_posts_its_on_failure_webhook_and_writes_its_email(
    ws: WorkspaceClient, local_ws: LocalWorkspace, listener: Listener
) -> None:
    dead = destination(ws, f"http://127.0.0.1:{closed_port()}/gone")
    hook = destination(ws, listener.url + "/fail", username="bot", password="pw")
    script = put_file(ws, f"{folder(ws)}/boom.py", "raise ValueError('boom')\n")
    name = f"t-alerts-fail-{uuid.uuid4().hex[:6]}"
    job_id = ws.jobs.create(
        name=name,
        email_notifications=jobs.JobEmailNotifications(
            on_failure=["oncall@example.com"], on_success=["happy@example.com"]
        ),
        webhook_notifications=jobs.WebhookNotifications(
            on_failure=[jobs.Webhook(id=dead), jobs.Webhook(id=hook)]
        ),
        tasks=[jobs.Task(task_key="boom", spark_python_task=jobs.SparkPythonTask(script))],
    ).job_id
    assert job_id is not None
    run_id = ws.jobs.run_now(job_id).run_id
    run = wait_run(ws, run_id)
    assert run.state and run.state.result_state == jobs.RunResultState.FAILED

    headers, body = listener.next_post("/fail")
    assert body == {
        "event_type": "jobs.on_failure",
        "workspace_id": body["workspace_id"],
        "run": {"run_id": str(run_id)},
        "job": {"job_id": str(job_id), "name": name},
    }
    assert body["workspace_id"] and headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == "Basic Ym90OnB3"  # bot:pw

    (message,) = wait_for(lambda: outbox_emails(local_ws, run_id), WAIT_S)
    assert message["To"] == "oncall@example.com"
    assert message["Subject"] == f"Run {run_id} of {name} failed"
    text = message.get_content()
    assert "State: FAILED" in text and "ValueError: boom" in text
    assert f"#job/{job_id}/run/{run_id}" in text
    # An unreachable destination is recorded, and holds up neither the run nor the others.
    entries = wait_for(lambda: [e for e in journal(local_ws) if e["run_id"] == run_id], WAIT_S)
    outcomes = {e["destination_id"]: e for e in entries}
    assert outcomes[hook]["outcome"] == "delivered" and outcomes[hook]["http_status"] == 200
    assert outcomes[dead]["outcome"] == "failed" and "refused" in outcomes[dead]["error"]
    assert "127.0.0.1" not in json.dumps(entries)  # destination URLs are secrets


def test_a_successful_run_notifies_on_start_and_on_success_only_and_task_level_too(
    ws: WorkspaceClient, local_ws: LocalWorkspace, listener: Listener
) -> None:
    hook = destination(ws, listener.url + "/ok")
    always = [jobs.Webhook(id=hook)]
    submitted = ws.jobs.submit(
        run_name="t-alerts-ok",
        webhook_notifications=jobs.WebhookNotifications(
            on_start=always, on_success=always, on_failure=always
        ),
        tasks=[
            jobs.SubmitTask(
                task_key="check",
                condition_task=jobs.ConditionTask(
                    op=jobs.ConditionTaskOp.EQUAL_TO, left="1", right="1"
                ),
                webhook_notifications=jobs.WebhookNotifications(on_success=always),
            )
        ],
    )
    run = wait_run(ws, submitted.run_id)
    assert run.state and run.state.result_state == jobs.RunResultState.SUCCESS
    events = [listener.next_post("/ok")[1] for _ in range(3)]
    kinds = sorted(e["event_type"] + ("/task" if "task" in e else "") for e in events)
    assert kinds == ["jobs.on_start", "jobs.on_success", "jobs.on_success/task"]
    task_event = next(e for e in events if "task" in e)
    (task,) = run.tasks or []
    assert task_event["task"] == {"task_key": "check"}
    assert task_event["run"] == {"run_id": str(task.run_id), "parent_run_id": str(run.run_id)}
    # Delivery is in order: once a later run's start arrives, nothing else came for this one.
    again = ws.jobs.submit(
        run_name="t-alerts-marker",
        webhook_notifications=jobs.WebhookNotifications(on_start=always),
        tasks=[
            jobs.SubmitTask(
                task_key="c",
                condition_task=jobs.ConditionTask(
                    op=jobs.ConditionTaskOp.EQUAL_TO, left="1", right="1"
                ),
            )
        ],
    )
    _, marker = listener.next_post("/ok")
    assert marker["run"]["run_id"] == str(again.run_id) and not listener.quiet("/ok")


def test_notification_settings_mute_canceled_runs_and_slow_runs_warn(
    ws: WorkspaceClient, local_ws: LocalWorkspace, listener: Listener
) -> None:
    hook = [jobs.Webhook(id=destination(ws, listener.url + "/mute"))]
    sleeper = put_file(ws, f"{folder(ws)}/sleep.py", "import time\ntime.sleep(60)\n")
    runs_ = []
    for mute in (True, False):
        submitted = ws.jobs.submit(
            run_name=f"t-alerts-cancel-{mute}",
            notification_settings=jobs.JobNotificationSettings(no_alert_for_canceled_runs=mute),
            webhook_notifications=jobs.WebhookNotifications(
                on_start=hook, on_failure=hook, on_duration_warning_threshold_exceeded=hook
            ),
            health=jobs.JobsHealthRules(
                [jobs.JobsHealthRule(jobs.JobsHealthMetric.RUN_DURATION_SECONDS, GT, 1)]
            )
            if not mute
            else None,
            tasks=[jobs.SubmitTask(task_key="s", spark_python_task=jobs.SparkPythonTask(sleeper))],
        )
        started = listener.next_post("/mute")[1]
        assert started["event_type"] == "jobs.on_start"
        if not mute:
            slow = listener.next_post("/mute")[1]
            assert slow["event_type"] == "jobs.on_duration_warning_threshold_exceeded"
        ws.jobs.cancel_run(submitted.run_id)
        runs_.append(wait_run(ws, submitted.run_id))
    _, failed = listener.next_post("/mute")
    assert failed["event_type"] == "jobs.on_failure"
    assert failed["run"]["run_id"] == str(runs_[1].run_id)  # only the run not muted


def test_bad_notifications_are_refused_on_create_reset_and_submit(ws: WorkspaceClient) -> None:
    task = jobs.Task(
        task_key="c",
        condition_task=jobs.ConditionTask(op=jobs.ConditionTaskOp.EQUAL_TO, left="1", right="1"),
    )
    with pytest.raises(InvalidParameterValue, match="Notification destination nope does not exist"):
        ws.jobs.create(
            name="t-alerts-bad",
            tasks=[task],
            webhook_notifications=jobs.WebhookNotifications(on_failure=[jobs.Webhook(id="nope")]),
        )
    with pytest.raises(InvalidParameterValue, match="Invalid email address: 'oncall'"):
        ws.jobs.create(
            name="t-alerts-bad",
            tasks=[task],
            email_notifications=jobs.JobEmailNotifications(on_failure=["oncall"]),
        )
    hook = destination(ws, "https://hooks.example.com/y")
    four = [jobs.Webhook(id=hook)] * 4
    with pytest.raises(InvalidParameterValue, match="a maximum of 3 destinations"):
        ws.jobs.submit(
            run_name="t-alerts-bad",
            tasks=[jobs.SubmitTask(task_key="c", condition_task=task.condition_task)],
            webhook_notifications=jobs.WebhookNotifications(on_start=four),
        )
    job_id = ws.jobs.create(name="t-alerts-bad", tasks=[task]).job_id
    assert job_id is not None
    bad_task = jobs.Task(
        task_key="c",
        condition_task=task.condition_task,
        email_notifications=jobs.TaskEmailNotifications(on_failure=["a@b"]),
    )
    with pytest.raises(InvalidParameterValue, match=r"Task c: email_notifications\.on_failure"):
        ws.jobs.reset(job_id, jobs.JobSettings(name="t-alerts-bad", tasks=[bad_task]))
    ws.jobs.delete(job_id)


def test_jobs_create_checks_notifications_before_sending_anything(backend: Backend) -> None:
    condition = {"op": "EQUAL_TO", "left": "1", "right": "1"}
    hooks = [{"id": f"h{i}"} for i in range(4)]
    spec: dict[str, Any] = {
        "name": "alerts-check-daily",
        "email_notifications": {"on_failure": ["oncall@example.com", "oncall"]},
        "tasks": [
            {
                "task_key": "c",
                "condition_task": condition,
                "webhook_notifications": {"on_failure": hooks},
            }
        ],
    }
    with pytest.raises(InvalidInput) as bad:
        create_job(backend, spec)
    assert "spec: email_notifications.on_failure: 'oncall' is not an email address" in str(
        bad.value
    )
    assert "task 'c': webhook_notifications.on_failure lists 4 destinations" in str(bad.value)

    spec["email_notifications"] = {"on_failure": ["oncall@example.com"]}
    spec["tasks"][0]["webhook_notifications"] = {"on_failure": [{"id": "no-such-destination"}]}
    with pytest.raises(ToolsCoreError) as missing:
        create_job(backend, spec)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "task 'c': webhook_notifications.on_failure: no-such-destination" in str(missing.value)
    assert not list(backend.client.jobs.list(name="alerts-check-daily"))


def test_the_failure_alerts_item_names_each_job_and_what_alerts_it() -> None:
    from tools_core.project.local import failure_alerts

    jobs_ = {
        "etl": {"email_notifications": {"on_failure": ["oncall@example.com"]}},
        "train": {"webhook_notifications": {"on_failure": [{"id": "d1"}, {"id": "d2"}]}},
        "report": {
            "email_notifications": {"on_success": ["happy@example.com"], "on_failure": []},
            "tasks": [{"task_key": "a", "email_notifications": {"on_failure": ["x@example.com"]}}],
        },
    }
    item = failure_alerts({"resources": {"jobs": jobs_}})
    assert item.status == "failed" and item.next_step
    assert item.evidence == (
        "no job-level on_failure on report (etl: 1 email; report: task-level on 1 task(s); "
        "train: 2 webhooks)"
    )
    del jobs_["report"]
    item = failure_alerts({"resources": {"jobs": jobs_}})
    assert item.status == "passed"
    assert item.evidence == "on_failure on all 2 jobs: etl: 1 email; train: 2 webhooks"
