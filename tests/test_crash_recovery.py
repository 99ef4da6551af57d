"""kill -9 of the local workspace: its task processes die with it, and the next start ends
what was left (orphans, the job run, the MLflow run) honestly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from databricks.sdk.service import jobs

from local_workspace.mlflow_server import END_REASON_TAG
from tests.conftest import alive, subprocess_env, wait_for
from tests.test_cli import REPO, cli_command
from tests.test_jobs_local_api import put_file
from tools_core.backend import workspace_client

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

# Starts an MLflow run, two sleepers (one in the task's process group, one that left it with
# its own session) and reports their pids in ready.json (in its working folder, the attempt's).
TASK = """
import json, os, subprocess, sys, time
import mlflow
sleep = [sys.executable, "-c", "import time; time.sleep(600)"]
in_group = subprocess.Popen(sleep)
escaped = subprocess.Popen(sleep, start_new_session=True)
with mlflow.start_run() as run:
    mlflow.log_param("stage", "training")
    with open("ready.tmp", "w") as out:
        json.dump({"task": os.getpid(), "in_group": in_group.pid, "escaped": escaped.pid,
                   "mlflow_run": run.info.run_id}, out)
    os.replace("ready.tmp", "ready.json")
    time.sleep(600)
"""


class Workspace:
    """A `dbx-devkit local` subprocess and the exports it printed."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        self.log: IO[str] = (tmp_path / f"{name}.stderr").open("w")
        self.process = subprocess.Popen(
            cli_command("local", "--port", "0", "--data-dir", str(tmp_path / "data")),
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=subprocess_env(tmp_path),
            cwd=REPO,
        )
        watchdog = threading.Timer(120, self.process.kill)  # a hung start fails the test
        watchdog.start()
        try:
            assert self.process.stdout is not None
            lines = [self.process.stdout.readline() for _ in range(4)]
        finally:
            watchdog.cancel()
        self.exports = dict(
            line.removeprefix("export ").strip().split("=", 1) for line in lines if "=" in line
        )
        assert "DATABRICKS_HOST" in self.exports, lines
        self.url = self.exports["DATABRICKS_HOST"]
        self.token = self.exports["DATABRICKS_TOKEN"]
        self.client: Any = workspace_client(
            host=self.url, token=self.token, retry_timeout_seconds=15
        )

    def mlflow(self) -> Any:
        """A real MlflowClient on this workspace, with its own token."""
        from tools_core import mlflow_rest

        return mlflow_rest.client(self.url, self.url, self.token)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[int]]:
    """Pids this test started (or its task did): every one still alive is killed at the end."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_kill_9_leaves_no_orphan_and_the_restart_ends_the_job_run_and_mlflow_run(
    tmp_path: Path, started: list[int]
) -> None:
    first = Workspace(tmp_path, "first")
    started.append(first.process.pid)
    try:
        first.client.workspace.mkdirs("/Shared/crash")
        path = put_file(first.client, "/Shared/crash/train.py", TASK)
        task = jobs.SubmitTask(
            task_key="train", spark_python_task=jobs.SparkPythonTask(python_file=path)
        )
        run_id = first.client.jobs.submit(run_name="crash", tasks=[task]).run_id
        ready_file = tmp_path / "data" / "runs" / str(run_id) / "train" / "attempt-0" / "ready.json"
        # Readiness: the task process runs, and so does its MLflow run.
        ready = wait_for(lambda: ready_file.exists() and json.loads(ready_file.read_text()), 120)
        started.extend([ready["task"], ready["in_group"], ready["escaped"]])
        mlflow_run = ready["mlflow_run"]
        assert first.mlflow().get_run(mlflow_run).info.status == "RUNNING"
        assert all(alive(ready[k]) for k in ("task", "in_group", "escaped"))
        decoy = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        started.append(decoy.pid)

        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=30)
    finally:
        first.end()

    # The task noticed its parent died and ended its process group at once.
    wait_for(lambda: not alive(ready["task"]) and not alive(ready["in_group"]), 15)
    assert alive(ready["escaped"])  # it left the group: only the restart can end it

    second = Workspace(tmp_path, "second")
    started.append(second.process.pid)
    try:
        assert not alive(ready["escaped"])  # ended before the workspace answered
        assert alive(decoy.pid)  # not ours: never signalled
        run = second.client.jobs.get_run(run_id)
        assert run.state.life_cycle_state == jobs.RunLifeCycleState.INTERNAL_ERROR
        assert run.state.result_state == jobs.RunResultState.FAILED
        assert "stopped while this run was active" in run.state.state_message
        message = (run.tasks or [])[0].state.state_message
        assert f"pid {ready['escaped']}" in message, message
        found = second.mlflow().get_run(mlflow_run)
        assert found.info.status == "KILLED"
        assert "stopped" in found.data.tags[END_REASON_TAG]
        assert found.data.params == {"stage": "training"}
    finally:
        second.end()
        decoy.kill()
        decoy.wait()
