"""Fault injection: the real SDK and the MCP server against a local workspace that answers
429/503 bursts, drops connections and adds latency (a workspace of its own, not the session's)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from local_workspace.config import LocalConfig
from local_workspace.faults import FAULTS_PATH, FaultConfig, FaultCounters, parse_faults
from local_workspace.runner import LocalWorkspace
from server.cli import build_parser, main
from server.errors import describe_error
from tests.conftest import fails, mcp_session, ok
from tools_core.backend import local_backend, workspace_client

pytestmark = pytest.mark.anyio

UC = "/api/2.1/unity-catalog"


@pytest.fixture(scope="module")
def faulty_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorkspace]:
    """A small local workspace (no samples) whose faults each test arms for itself."""
    config = LocalConfig(
        data_dir=tmp_path_factory.mktemp("faulty-workspace"),
        seed=False,
        faults=FaultConfig(),
        warm_mlflow=False,
    )
    with LocalWorkspace(config) as workspace:
        yield workspace


def faults_request(
    workspace: LocalWorkspace, method: str, body: dict[str, str] | None = None
) -> Any:
    """(status, JSON answer) of the workspace process's fault control endpoint."""
    request = urllib.request.Request(
        workspace.url + FAULTS_PATH,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {workspace.token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def arm(workspace: LocalWorkspace, spec: str) -> None:
    """Replace the running workspace's faults by ``spec``, with fresh counters (over HTTP:
    the faults live in the workspace's own process)."""
    status, answer = faults_request(workspace, "PUT", {"spec": spec})
    assert status == 200, answer
    assert FaultCounters(**answer) == FaultCounters()


def counters(workspace: LocalWorkspace) -> FaultCounters:
    """What the workspace's fault injector did since it was last armed."""
    status, answer = faults_request(workspace, "GET")
    assert status == 200, answer
    return FaultCounters(**answer)


@asynccontextmanager
async def session(workspace: LocalWorkspace, retry_timeout_s: int = 15) -> AsyncIterator[Client]:
    """An MCP client over a backend whose SDK gives up retrying after ``retry_timeout_s``."""
    backend = local_backend(workspace.url, workspace.token)
    backend.client = workspace_client(
        host=workspace.url, token=workspace.token, retry_timeout_seconds=retry_timeout_s
    )
    async with mcp_session(backend) as client:
        yield client


def test_faults_are_off_unless_configured(tmp_path: Path) -> None:
    assert LocalConfig(data_dir=tmp_path).faults is None
    assert build_parser().parse_args(["local"]).faults is None
    # A workspace started without faults has no fault control at all: nothing to arm.
    config = LocalConfig(data_dir=tmp_path, seed=False, warm_mlflow=False)
    with LocalWorkspace(config) as workspace:
        for method, body in (("GET", None), ("PUT", {"spec": "status=503"})):
            status, answer = faults_request(workspace, method, body)
            assert (status, answer["error_code"]) == (404, "ENDPOINT_NOT_FOUND"), answer


def test_a_fault_spec_reads_as_counts_and_names_what_it_does_not_know() -> None:
    faults = parse_faults(f"latency=0.2,status=503:3,drop=1,retry_after=0,paths={UC}|/api/2.0/sql")
    assert (faults.latency_s, faults.status, faults.status_count, faults.drop) == (0.2, 503, 3, 1)
    assert faults.retry_after_s == 0
    assert faults.paths == (UC, "/api/2.0/sql")
    with pytest.raises(ValueError, match="Unknown fault 'jitter'"):
        parse_faults("jitter=1")
    with pytest.raises(ValueError, match="429 or 503"):
        parse_faults("status=500:1")


def test_dbx_devkit_local_refuses_a_fault_spec_it_cannot_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["local", "--data-dir", str(tmp_path), "--faults", "status=500:1"]) == 2
    assert "--faults: Fault status must be 429 or 503" in capsys.readouterr().err
    monkeypatch.setenv("DBX_DEVKIT_LOCAL_FAULTS", "jitter=1")
    assert main(["local", "--data-dir", str(tmp_path)]) == 2
    assert "Unknown fault 'jitter'" in capsys.readouterr().err


async def test_a_burst_of_503s_is_retried_by_the_sdk_and_the_call_succeeds(
    faulty_ws: LocalWorkspace,
) -> None:
    async with session(faulty_ws) as client:
        arm(faulty_ws, f"status=503:2,retry_after=0,paths={UC}")
        await ok(client, "uc_list_catalogs")
    # Three attempts: two answered 503, the third reached the workspace.
    done = counters(faulty_ws)
    assert (done.matched, done.status, done.passed) == (3, 2, 1)


async def test_a_429_with_retry_after_is_waited_out_and_the_call_succeeds(
    faulty_ws: LocalWorkspace,
) -> None:
    async with session(faulty_ws) as client:
        arm(faulty_ws, f"status=429:1,paths={UC}")
        start = time.monotonic()
        await ok(client, "uc_list_catalogs")
    done = counters(faulty_ws)
    assert (done.status, done.passed) == (1, 1)
    assert time.monotonic() - start >= 1.0  # the SDK honoured Retry-After: 1


async def test_a_persistent_503_ends_in_an_error_that_says_to_retry_later(
    faulty_ws: LocalWorkspace,
) -> None:
    async with session(faulty_ws, retry_timeout_s=1) as client:
        arm(faulty_ws, f"status=503,retry_after=0,paths={UC}")
        error = await fails(client, "uc_list_catalogs")
    done = counters(faulty_ws)
    assert error.startswith("TEMPORARILY_UNAVAILABLE: ")
    assert "still failing after retries" in error
    assert error.endswith("temporarily unavailable: retry later.")
    assert done.status >= 2 and done.passed == 0


async def test_persistent_429s_end_in_a_rate_limit_error(faulty_ws: LocalWorkspace) -> None:
    async with session(faulty_ws, retry_timeout_s=1) as client:
        arm(faulty_ws, f"status=429,retry_after=0,paths={UC}")
        error = await fails(client, "uc_list_catalogs")
    assert error.startswith("TOO_MANY_REQUESTS: ")
    assert "retry later" in error


async def test_a_dropped_connection_is_retried_by_the_sdk(faulty_ws: LocalWorkspace) -> None:
    async with session(faulty_ws) as client:
        arm(faulty_ws, f"drop=1,paths={UC}")
        await ok(client, "uc_list_catalogs")
    done = counters(faulty_ws)
    assert (done.dropped, done.passed) == (1, 1)


async def test_connections_dropped_until_the_retry_timeout_say_the_workspace_is_unreachable(
    faulty_ws: LocalWorkspace,
) -> None:
    async with session(faulty_ws, retry_timeout_s=1) as client:
        arm(faulty_ws, f"drop=1000,paths={UC}")
        error = await fails(client, "uc_list_catalogs")
    assert error.startswith("TEMPORARILY_UNAVAILABLE: Cannot reach the workspace (ConnectionError")
    assert error.endswith("retry later.")


async def test_latency_slows_matching_calls_only(faulty_ws: LocalWorkspace) -> None:
    async with session(faulty_ws) as client:
        arm(faulty_ws, f"latency=0.3,paths={UC}")
        start = time.monotonic()
        await ok(client, "uc_list_catalogs")
        assert time.monotonic() - start >= 0.3
        await ok(client, "workspace_list", path="/")
    done = counters(faulty_ws)
    assert (done.matched, done.delayed, done.passed) == (1, 1, 1)


def test_every_kth_request_fails_and_health_is_never_faulted(faulty_ws: LocalWorkspace) -> None:
    client = workspace_client(host=faulty_ws.url, token=faulty_ws.token, retry_timeout_seconds=15)
    arm(faulty_ws, "status=503,every=2,retry_after=0")
    for _ in range(3):
        list(client.catalogs.list())
    # Three lists: requests 2 and 4 answer 503 and are retried (3 and 5); 1, 3 and 5 pass.
    done = counters(faulty_ws)
    assert done.status == 2 and done.passed == 3
    with urllib.request.urlopen(f"{faulty_ws.url}/health", timeout=5) as response:
        assert response.status == 200
    assert counters(faulty_ws).matched == 5


def test_a_persistent_503_without_retries_is_described_as_temporary() -> None:
    from databricks.sdk.errors import TemporarilyUnavailable

    message = describe_error(
        TemporarilyUnavailable("Workspace is busy.", error_code="TEMPORARILY_UNAVAILABLE")
    )
    assert message == (
        "TEMPORARILY_UNAVAILABLE: Workspace is busy. "
        "The service is temporarily unavailable: retry later."
    )
