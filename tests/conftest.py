"""Shared fixtures: one local workspace per test session, real clients against it."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult

from local_workspace.config import LocalConfig
from local_workspace.runner import LocalWorkspace
from server.app import build_server
from server.runtime import Runtime
from server.settings import Settings
from tools_core.backend import Backend, local_backend, workspace_client


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's Databricks/MLflow configuration or home directory."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "MLFLOW_", "DBX_DEVKIT_")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing test that used the session workspace shows that workspace's threads and the
    end of its log: a workspace that stopped answering is diagnosed from the CI output."""
    report = yield
    workspace = getattr(item, "funcargs", {}).get("local_ws")
    if report.failed and isinstance(workspace, LocalWorkspace) and workspace.pid:
        with contextlib.suppress(OSError):
            os.kill(workspace.pid, signal.SIGUSR1)  # faulthandler: stacks to the log
            time.sleep(0.5)  # the dump is written by the workspace's own signal handler
        with contextlib.suppress(OSError):
            tail = workspace.log_path.read_bytes()[-6000:].decode(errors="replace")
            report.sections.append(("local workspace log (end)", tail))
    return report


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def local_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorkspace]:
    """A local workspace on a free port, seeded, shared by the whole test session."""
    data_dir = tmp_path_factory.mktemp("local-workspace")
    with LocalWorkspace(LocalConfig(data_dir=data_dir)) as workspace:
        yield workspace


@pytest.fixture(scope="session")
def backend(local_ws: LocalWorkspace) -> Backend:
    """A tools_core backend: the real WorkspaceClient pointed at the local workspace."""
    backend = local_backend(local_ws.url, local_ws.token)
    backend.client = workspace_client(
        host=local_ws.url, token=local_ws.token, retry_timeout_seconds=15
    )
    return backend


@pytest.fixture(scope="session")
def ws(backend: Backend) -> Any:
    """The real databricks-sdk WorkspaceClient of the local workspace."""
    return backend.client


def mlflow_client_of(workspace: LocalWorkspace) -> Any:
    """A real MlflowClient on ``workspace`` whose token is its own: the test process's
    MLflow settings and environment stay untouched (see tools_core.mlflow_rest)."""
    from tools_core import mlflow_rest

    return mlflow_rest.client(workspace.url, workspace.url, workspace.token)


def mlflow_script(
    workspace: LocalWorkspace,
    source: str,
    *args: str,
    timeout: float = 240,
    databricks_auth: bool = False,
) -> Any:
    """Run ``source`` as a user's MLflow script would run against ``workspace``: its own
    process, with ``MLFLOW_TRACKING_URI``/``TOKEN`` in *its* environment only, in a fresh
    folder. With ``databricks_auth``, ``DATABRICKS_HOST``/``TOKEN`` too (what registry URI
    ``databricks-uc`` authenticates with). The JSON it prints on its last line is returned."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        env = subprocess_env(Path(folder))
        env |= {"MLFLOW_TRACKING_URI": workspace.url, "MLFLOW_TRACKING_TOKEN": workspace.token}
        if databricks_auth:
            env |= {"DATABRICKS_HOST": workspace.url, "DATABRICKS_TOKEN": workspace.token}
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
        done = subprocess.run(
            [sys.executable, "-c", source, *args],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@asynccontextmanager
async def mcp_session(backend: Backend, **settings: Any) -> AsyncIterator[Client]:
    """An in-memory MCP client of a server built with ``settings`` over ``backend``."""
    config = Settings(**settings)
    async with Client(build_server(config, Runtime(config, backend))) as client:
        yield client


@pytest.fixture(scope="module")
async def mcp(backend: Backend) -> AsyncIterator[Client]:
    """An in-memory MCP client of the full read-write server, with output schemas on: every
    structured result is then also validated against its advertised schema. One per test
    module: building a server and its schemas costs ~0.6 s of CPU, and tools keep no state
    of their own between calls (tests that need a fresh server build one)."""
    async with mcp_session(backend, output_schemas=True) as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> CallToolResult:
    """Call a tool and return its result (error or not)."""
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    return result


def text_of(result: CallToolResult) -> str:
    """The text content of a tool result."""
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def ok(client: Client, tool: str, **arguments: Any) -> CallToolResult:
    """Call a tool that must succeed; fail the test with its error text otherwise."""
    result = await call(client, tool, **arguments)
    assert not result.is_error, text_of(result)
    return result


async def fails(client: Client, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail and return its error text."""
    result = await call(client, tool, **arguments)
    assert result.is_error, f"{tool} should have failed but returned: {text_of(result)}"
    return text_of(result)


def wait_for(predicate: Callable[[], Any], timeout: float) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned), or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
    return value


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie awaiting its reaper counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def subprocess_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment for a real subprocess: no Databricks/MLflow/dbx-devkit
    configuration, HOME and the data directory in ``tmp_path``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABRICKS_", "MLFLOW_", "DBX_DEVKIT_"))
    }
    env["HOME"] = str(tmp_path / "home")
    env["DBX_DEVKIT_DATA_DIR"] = str(tmp_path / "data")
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    return env


@contextmanager
def workspace_process(
    data_dir: Path, env: dict[str, str], code: str | None = None, timeout: float = 120
) -> Iterator[tuple[str, str]]:
    """A local workspace process started by hand, not by LocalWorkspace: ``env`` is its whole
    environment (LocalWorkspace would filter it), and ``code`` (``python -c``, which must call
    ``local_workspace.__main__.main``) replaces ``python -m local_workspace``. Unseeded.

    Yields (url, token) once it wrote its ready line; ends it by its pid (SIGTERM, then kill).
    """
    log_path = data_dir / "logs" / "local-workspace.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = env | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    start = ["-c", code] if code is not None else ["-m", "local_workspace"]
    read_fd, write_fd = os.pipe()
    args = ["--data-dir", str(data_dir), "--no-seed", "--ready-fd", str(write_fd)]
    try:
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, *start, *args],
                pass_fds=(write_fd,),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                cwd=data_dir.parent,
            )
    finally:
        os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as ready:
            line = _ready_line(ready, process, timeout)
        assert line, f"the workspace did not start: {log_path.read_text()[-3000:]}"
        url = str(json.loads(line)["url"])
        yield url, (data_dir / "token").read_text().strip()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _ready_line(ready: Any, process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """The workspace process's ready line, or b"" once it exits or the deadline passes."""
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n") and process.poll() is None:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if select.select([ready], [], [], min(left, 1.0))[0]:
            chunk = os.read(ready.fileno(), 4096)
            if not chunk:
                break
            line += chunk
    return line if line.endswith(b"\n") else b""


def import_notebook(ws: Any, path: str, source: str) -> None:
    """Put ``source`` at ``path`` as a Python notebook (parent folders made, overwriting)."""
    import base64

    from databricks.sdk.service.workspace import ImportFormat, Language

    ws.workspace.mkdirs(path.rsplit("/", 1)[0])
    ws.workspace.import_(
        path,
        content=base64.b64encode(source.encode()).decode(),
        format=ImportFormat.SOURCE,
        language=Language.PYTHON,
        overwrite=True,
    )


def run_notebook_job(ws: Any, path: str, parameters: dict[str, str], timeout_s: float = 180) -> Any:
    """Submit ``path`` as a one-task notebook job run, poll it (0.2 s: the SDK's waiter
    sleeps up to 10 s) until it ends, assert it succeeded; the finished run."""
    from databricks.sdk.service import jobs

    task = jobs.SubmitTask(
        task_key="notebook",
        notebook_task=jobs.NotebookTask(notebook_path=path, base_parameters=parameters),
    )
    run_id = ws.jobs.submit(run_name="notebook", tasks=[task]).run_id
    deadline = time.monotonic() + timeout_s
    while (run := ws.jobs.get_run(run_id)).state.life_cycle_state not in (
        jobs.RunLifeCycleState.TERMINATED,
        jobs.RunLifeCycleState.INTERNAL_ERROR,
    ):
        assert time.monotonic() < deadline, f"job run still {run.state}"
        time.sleep(0.2)
    output = ws.jobs.get_run_output(run.tasks[0].run_id)
    assert run.state.result_state == jobs.RunResultState.SUCCESS, (output.error, output.logs)
    return run
