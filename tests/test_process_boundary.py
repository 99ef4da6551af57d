"""The local workspace is its own process, started and supervised by `dbx-devkit serve` as a
user starts it: an empty project folder, a fresh HOME, no Databricks or MLflow variables.

Nothing here configures MLflow in the test process: the job, the registry, the serving
endpoint and the prediction all go through the real server's tools.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from local_workspace.discovery import find_running
from local_workspace.owners import start_time
from tests.conftest import alive, ok, text_of, wait_for

pytestmark = pytest.mark.anyio

DBX_DEVKIT = str(Path(sys.executable).with_name("dbx-devkit"))
MODEL = "main.default.tiny"
# A task that trains and registers a model as the guide's training job does; MLflow finds
# the workspace through the environment Databricks (and the local workspace) give a task.
TRAIN = """
import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression

X = pd.DataFrame({"x": np.linspace(-3, 3, 40)})
y = (X["x"] > 0).astype(int)
model = LogisticRegression().fit(X, y)
mlflow.set_experiment("/Shared/tiny")
with mlflow.start_run():
    try:  # Unity Catalog refuses a model without a signature
        mlflow.sklearn.log_model(
            model, name="unsigned", registered_model_name="main.default.tiny",
            pip_requirements=["scikit-learn"],
        )
    except mlflow.exceptions.MlflowException as exc:
        print("refused:", exc.message)
    mlflow.sklearn.log_model(
        model,
        name="model",
        registered_model_name="main.default.tiny",
        signature=infer_signature(X, model.predict(X)),
        pip_requirements=["scikit-learn"],
    )
print("registered")
"""


def user_env(home: Path) -> dict[str, str]:
    """The environment of a new user: no Databricks, MLflow or dbx-devkit settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABRICKS_", "MLFLOW_", "DBX_DEVKIT_"))
    }
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    return env


@asynccontextmanager
async def serve(project: Path, home: Path) -> AsyncIterator[Client]:
    """`dbx-devkit serve` over stdio, started in ``project`` as Claude Code starts it."""
    project.mkdir(parents=True, exist_ok=True)
    params = StdioServerParameters(
        command=DBX_DEVKIT, args=["serve"], env=user_env(home), cwd=str(project)
    )
    async with Client(params) as client:
        yield client


def data_dir(home: Path) -> Path:
    return home / ".dbx-devkit" / "local-workspace"


def workspace_pid(home: Path) -> int | None:
    """The pid of the workspace process serving ``home``'s data directory, once it answers."""
    if find_running(data_dir(home)) is None:
        return None
    info: dict[str, Any] = json.loads((data_dir(home) / "server.json").read_text())
    return int(info["pid"])


def processes_using(folder: Path) -> list[int]:
    """Live processes whose command line or working folder is inside ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if (str(folder) in cmdline or cwd.startswith(str(folder))) and start_time(int(entry.name)):
            found.append(int(entry.name))
    return found


async def test_a_champion_trained_by_a_job_is_served_from_a_normal_start(tmp_path: Path) -> None:
    project, home = tmp_path / "project", tmp_path / "home"
    async with serve(project, home) as client:
        await ok(
            client, "workspace_write", path="/Shared/tiny/train.py", content=TRAIN, kind="file"
        )
        started = await ok(client, "jobs_submit", path="/Shared/tiny/train.py", run_name="train")
        run_id = int(text_of(started).split("run_id: ", 1)[1].split()[0])
        done = await ok(client, "jobs_wait_run", run_id=run_id, timeout_s=300)
        output = text_of(await ok(client, "jobs_get_run_output", run_id=run_id))
        assert "SUCCESS" in text_of(done) and "registered" in output, output
        # The job registered through Unity Catalog (the task's registry URI): its rule and
        # its lineage.
        assert "refused: Model passed for registration did not contain any signature" in output
        version = await ok(client, "registry_get_version", name=MODEL, version=1)
        assert f"job_run_id={run_id}" in text_of(version), text_of(version)
        await ok(client, "registry_set_alias", name=MODEL, alias="champion", version=1)

        created = await ok(
            client,
            "serving_create_endpoint",
            name="tiny",
            model=f"{MODEL}@champion",
            inference_table="main.default",
        )
        assert f"{MODEL}/1" in text_of(created) and "READY" in text_of(created), text_of(created)
        answer = await ok(client, "serving_query", name="tiny", records=[{"x": -2.5}, {"x": 2.5}])
        assert json.loads(text_of(answer)) == [0, 1], text_of(answer)
        logged = await ok(
            client,
            "sql_query",
            statement="SELECT status_code, request FROM main.default.`tiny_payload`",
        )
        assert "200" in text_of(logged) and "2.5" in text_of(logged), text_of(logged)
    assert list(project.iterdir()) == []  # nothing written where the server was started


async def test_a_killed_workspace_is_back_within_seconds_and_nothing_outlives_the_server(
    tmp_path: Path,
) -> None:
    project, home = tmp_path / "project", tmp_path / "home"
    async with serve(project, home) as client:
        await ok(client, "workspace_context")
        first = wait_for(lambda: workspace_pid(home), timeout=60)
        # Mid-session: the supervisor has prepared its spare (the log says when).
        log = data_dir(home) / "logs" / "local-workspace.log"
        wait_for(lambda: "spare workspace process" in log.read_text(), timeout=90)
        os.kill(first, signal.SIGKILL)
        killed = asked = time.monotonic()
        result = await client.call_tool("uc_list_catalogs", {})
        answered = time.monotonic() - asked
        assert answered < 15
        if result.is_error:  # while the workspace restarts: a clear error, never a hang
            assert "127.0.0.1" in text_of(result) or "UNAVAILABLE" in text_of(result)

        left = 10 - (time.monotonic() - killed)
        second = wait_for(lambda: (pid := workspace_pid(home)) != first and pid, timeout=left)
        await ok(client, "uc_list_catalogs")
    wait_for(lambda: not alive(second), timeout=15)
    assert processes_using(data_dir(home)) == []


def raw_server(project: Path, home: Path) -> subprocess.Popen[bytes]:
    """`dbx-devkit serve` spoken to over raw stdio: initialized, one tool call answered."""
    project.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [DBX_DEVKIT, "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=project,
        env=user_env(home),
    )
    assert process.stdin is not None and process.stdout is not None
    init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t"}}
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "workspace_context"},
        },
    ]
    for message in messages:
        process.stdin.write((json.dumps(message) + "\n").encode())
    process.stdin.flush()
    while True:
        line = process.stdout.readline()
        assert line, "the server exited"
        if json.loads(line).get("id") == 2:
            return process


async def test_a_second_server_attaches_and_the_workspace_ends_with_its_last_owner(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    first = raw_server(tmp_path / "one", home)
    try:
        pid = wait_for(lambda: workspace_pid(home), timeout=60)
        async with serve(tmp_path / "two", home) as second:
            await ok(second, "uc_list_catalogs")
            assert workspace_pid(home) == pid  # attached: one workspace per data directory
            assert first.stdin is not None
            first.stdin.close()  # the server that started the workspace leaves
            first.wait(timeout=30)
            assert alive(pid)  # ... and the workspace stays for the one still attached
            await ok(second, "uc_list_catalogs")
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    wait_for(lambda: not alive(pid), timeout=15)  # its last owner left: it ended


def test_a_killed_server_leaves_no_workspace_behind(tmp_path: Path) -> None:
    home = tmp_path / "home"
    server = raw_server(tmp_path / "project", home)
    try:
        pid = wait_for(lambda: workspace_pid(home), timeout=60)
        server.kill()  # no goodbye: the workspace notices its last owner is gone
        server.wait(timeout=30)
        wait_for(lambda: not alive(pid), timeout=15)
        wait_for(lambda: processes_using(data_dir(home)) == [], timeout=15)  # its spare too
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


ABANDON = """
import os, sys
from pathlib import Path
from local_workspace.config import LocalConfig
from local_workspace.runner import LocalWorkspace

workspace = LocalWorkspace(LocalConfig(data_dir=Path(sys.argv[1]), seed=False, warm_mlflow=False))
print(workspace.start().pid, flush=True)
os._exit(0)  # a script that dies without stopping what it started
"""


def test_a_workspace_whose_starter_dies_without_stopping_it_ends_by_itself(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ABANDON, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
        env=user_env(tmp_path / "home"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pid = int(done.stdout.split()[-1])
    wait_for(lambda: not alive(pid), timeout=15)
