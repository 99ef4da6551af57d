"""Interactive timeouts: a tool call against a workspace that is down answers within the call
limit (15 s by default, DBX_DEVKIT_CALL_TIMEOUT_S), whether the host refuses connections,
accepts none at all (SYN dropped) or answers only errors; long waits poll with short calls."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from local_workspace.runner import LocalWorkspace
from server.app import build_server
from server.runtime import Runtime
from server.settings import Settings
from tests.conftest import fails, mcp_session, subprocess_env
from tests.fault_proxy import FaultPlan, fault_proxy
from tools_core.backend import local_backend, workspace_client
from tools_core.retries import Timeouts, bounded_call, each_poll
from tools_core.sql import list_warehouses

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parent.parent
LIMIT_S = 15.0
TOKEN = "dapi-0123456789abcdef"
UNREACHABLE = "TEMPORARILY_UNAVAILABLE: Cannot reach the workspace"


def closed_port() -> str:
    """A URL on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def silent_host() -> Iterator[str]:
    """A URL whose host accepts no connection: its one-slot accept queue is full and never
    drained, so the kernel drops every new SYN, as a firewall or a dead host does."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.create_connection(server.getsockname(), timeout=5)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        filler.close()
        server.close()


async def timed(client: Client, tool: str, **arguments: Any) -> tuple[float, str]:
    """(seconds, error text) of a call that must fail."""
    start = time.monotonic()
    text = await fails(client, tool, **arguments)
    return time.monotonic() - start, text


async def test_dbx_devkit_serve_against_a_dead_host_answers_sdk_and_mlflow_tools_in_15_s(
    tmp_path: Path,
) -> None:
    env = subprocess_env(tmp_path) | {"DATABRICKS_HOST": closed_port(), "DATABRICKS_TOKEN": TOKEN}
    command = ["-m", "server.cli", "serve"]
    params = StdioServerParameters(command=sys.executable, args=command, env=env, cwd=str(REPO))
    async with Client(params) as client:
        await client.list_tools()
        sdk_s, sdk = await timed(client, "uc_list_catalogs")
        mlflow_s, mlflow = await timed(client, "mlflow_list_experiments")
    print(f"\n== serve, dead DATABRICKS_HOST: SDK tool {sdk_s:.1f} s, MLflow tool {mlflow_s:.1f} s")
    assert sdk.startswith(UNREACHABLE) and mlflow.startswith(UNREACHABLE)
    assert sdk.endswith("retry later.")
    assert sdk_s <= LIMIT_S and mlflow_s <= LIMIT_S


async def test_a_host_that_accepts_no_connection_answers_within_the_configured_limit(
    silent_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DBX_DEVKIT_CALL_TIMEOUT_S=8: the same bound as 15 s, reached sooner. The backend (and
    # the SDK's host-metadata probe) is built by the call, as in the server.
    import databricks.sdk  # noqa: F401  (imported ahead, as the server's warm-up does)

    monkeypatch.setenv("DATABRICKS_HOST", silent_host)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    settings = Settings(call_timeout_s=8)
    async with Client(build_server(settings, Runtime(settings))) as client:
        seconds, text = await timed(client, "uc_list_catalogs")
    print(f"\n== host accepting no connection: {seconds:.1f} s (limit 8 s)")
    assert text.startswith(UNREACHABLE) and "ConnectTimeout" in text
    assert seconds <= 8


async def test_a_workspace_answering_only_errors_answers_within_the_limit_after_retrying(
    local_ws: LocalWorkspace,
) -> None:
    plan = FaultPlan(rates={"error_before": 1.0}, statuses=(503,), max_seconds=60)
    with fault_proxy(local_ws.url, plan) as proxy:
        backend = local_backend(proxy.url, local_ws.token, timeouts=Timeouts(5))
        async with mcp_session(backend, call_timeout_s=5) as client:
            seconds, text = await timed(client, "sql_list_warehouses")
    assert text.startswith("TEMPORARILY_UNAVAILABLE: ") and text.endswith("retry later.")
    assert "gave up after" in text
    assert seconds <= 5
    assert proxy.counts["error_before"] >= 3  # it did retry, within the limit


def test_each_poll_of_a_long_wait_is_a_short_call_with_its_own_limit(
    local_ws: LocalWorkspace,
) -> None:
    # One request of each phase is answered 503, the next ones pass.
    plan = FaultPlan(rates={"error_before": 1.0}, statuses=(503,))
    with fault_proxy(local_ws.url, plan) as proxy:
        proxy.allow(1)
        backend = local_backend(proxy.url, local_ws.token, timeouts=Timeouts(3))
        with bounded_call(2.5):
            time.sleep(2.5)  # a wait (jobs_wait_run, sql_execute...) outlasted the limit
            with pytest.raises(TimeoutError, match="gave up"):
                list_warehouses(backend)  # past the limit: no retry
            proxy.allow(1)
            with each_poll():
                assert list_warehouses(backend).warehouses  # its own limit: retried
    assert proxy.counts["error_before"] == 2


def test_the_sdk_client_takes_the_limit_and_a_dead_host_costs_the_probe_little() -> None:
    start = time.monotonic()
    client = workspace_client(host=closed_port(), token=TOKEN, timeouts=Timeouts(LIMIT_S))
    probe_s = time.monotonic() - start
    assert client.config.retry_timeout_seconds == 15
    assert client.config.http_timeout_seconds == Timeouts().http_s == 10
    assert probe_s < 5  # the host-metadata probe: one short attempt, not 300 s of retries
