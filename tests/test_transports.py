"""The real transports: streamable HTTP behind uvicorn, and stdio as a real subprocess."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from server.runtime import Runtime
from server.settings import Settings
from server.transports import http_app
from tests.conftest import ok, subprocess_env, text_of
from tools_core.backend import Backend

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parent.parent
# At least 16 characters: `serve --transport http` refuses shorter tokens.
TOKEN = "test-http-token-0123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def http_url(backend: Backend) -> Iterator[str]:
    """dbx-devkit over streamable HTTP, served by uvicorn in a thread on a free port."""
    settings = Settings(http_port=free_port(), http_token=TOKEN)
    app = http_app(settings, Runtime(settings, backend), TOKEN)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.http_port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{settings.http_port}/mcp"
    server.should_exit = True
    thread.join(timeout=10)


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def test_http_client_with_the_token_lists_the_tools(http_url: str) -> None:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"})
    async with http, Client(streamable_http_client(http_url, http_client=http)) as client:
        tools = await client.list_tools()
    assert "workspace_context" in {tool.name for tool in tools.tools}


async def test_http_tool_call_reaches_the_runtime_the_app_was_built_with(
    http_url: str, backend: Backend
) -> None:
    """Over HTTP the session manager enters the server's lifespan once for every session:
    tools still find the runtime through it."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"})
    async with http, Client(streamable_http_client(http_url, http_client=http)) as client:
        result = await ok(client, "workspace_context")
    assert f"host: {backend.host}\n" in text_of(result)


def test_http_request_without_the_token_is_refused_with_401(http_url: str) -> None:
    answer = httpx.post(http_url, json=INITIALIZE, headers=MCP_HEADERS, timeout=10)
    assert answer.status_code == 401
    wrong = httpx.post(
        http_url,
        json=INITIALIZE,
        headers={**MCP_HEADERS, "Authorization": "Bearer wrong"},
        timeout=10,
    )
    assert wrong.status_code == 401


def test_the_bearer_scheme_is_accepted_in_any_case(http_url: str) -> None:
    """RFC 7235: the auth scheme is case-insensitive; the token is not."""
    for scheme in ("bearer", "BEARER", "bEaReR"):
        headers = {**MCP_HEADERS, "Authorization": f"{scheme} {TOKEN}"}
        answer = httpx.post(http_url, json=INITIALIZE, headers=headers, timeout=10)
        assert answer.status_code == 200, scheme
    for wrong in (f"Bearer {TOKEN.upper()}", f"Basic {TOKEN}", f"Bearer{TOKEN}", TOKEN):
        headers = {**MCP_HEADERS, "Authorization": wrong}
        answer = httpx.post(http_url, json=INITIALIZE, headers=headers, timeout=10)
        assert answer.status_code == 401, wrong


def test_a_short_http_token_is_refused_at_start(tmp_path: Path) -> None:
    env = {**subprocess_env(tmp_path), "DBX_DEVKIT_HTTP_TOKEN": "0123456789"}
    command = [*serve_command(tmp_path), "--transport", "http", "--port", str(free_port())]
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "DBX_DEVKIT_HTTP_TOKEN has 10 characters" in done.stderr
    assert "at least 16" in done.stderr
    assert "0123456789" not in done.stderr  # the token itself is never echoed
    assert "MCP over HTTP" not in done.stderr  # it never started serving


def test_http_request_from_a_foreign_origin_is_refused(http_url: str) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}", "Origin": "https://evil.test"}
    answer = httpx.post(http_url, json=INITIALIZE, headers=headers, timeout=10)
    assert answer.status_code in (400, 403)
    # The same request from our own origin is served.
    port = http_url.split(":")[2].split("/")[0]
    headers["Origin"] = f"http://127.0.0.1:{port}"
    assert httpx.post(http_url, json=INITIALIZE, headers=headers, timeout=10).status_code == 200


def test_http_request_with_a_foreign_host_header_is_refused(http_url: str) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}", "Host": "evil.test"}
    answer = httpx.post(http_url, json=INITIALIZE, headers=headers, timeout=10)
    assert answer.status_code in (400, 403, 421)


def serve_command(tmp_path: Path) -> list[str]:
    return [sys.executable, "-m", "server.cli", "serve", "--data-dir", str(tmp_path / "data")]


async def test_stdio_server_lists_tools_and_answers_workspace_context(tmp_path: Path) -> None:
    command = serve_command(tmp_path)
    params = StdioServerParameters(
        command=command[0], args=command[1:], env=subprocess_env(tmp_path), cwd=str(REPO)
    )
    async with Client(params) as client:
        tools = await client.list_tools()
        assert "workspace_context" in {tool.name for tool in tools.tools}
        result = await ok(client, "workspace_context")
    assert "backend: local" in text_of(result)


def test_stdio_server_writes_only_json_rpc_to_stdout(tmp_path: Path) -> None:
    """Raw stdout of a real `dbx-devkit serve`, including a tool call that starts the
    local workspace: every line must be a JSON-RPC message."""
    messages: list[dict[str, Any]] = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "workspace_context", "arguments": {}},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "no_such_tool", "arguments": {}},
        },
    ]
    lines, stderr = exchange_over_stdio(tmp_path, messages, subprocess_env(tmp_path))
    answered = {_json_rpc_id(line) for line in lines}
    for line in lines:
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"stdout line is not JSON-RPC: {line!r}\nstderr: {stderr}")
        assert message.get("jsonrpc") == "2.0", line
    assert {1, 2, 3, 4} <= answered, f"missing answers; stderr: {stderr}"
    # The banner saying the local workspace is used goes to stderr, never stdout.
    assert "LOCAL workspace" in stderr
    # A client's pipe gets no "waiting for a client" line: that is for a terminal.
    assert "waiting for an MCP client" not in stderr


def exchange_over_stdio(
    tmp_path: Path, messages: list[dict[str, Any]], env: dict[str, str]
) -> tuple[list[str], str]:
    """Send ``messages`` to a real `dbx-devkit serve` over stdio; (stdout lines, stderr)
    once every request is answered and the server has exited on EOF."""
    expected = {m["id"] for m in messages if "id" in m}
    process = subprocess.Popen(
        serve_command(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert process.stdin is not None and process.stdout is not None
    watchdog = threading.Timer(120, process.kill)  # a hung server fails the test, not CI
    watchdog.start()
    try:
        process.stdin.write("".join(json.dumps(m) + "\n" for m in messages))
        process.stdin.flush()
        lines: list[str] = []
        answered: set[Any] = set()
        # Close stdin only once every request is answered: EOF ends the session.
        while not expected <= answered:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            answered.add(_json_rpc_id(line))
        process.stdin.close()
        lines.extend(process.stdout.readlines())
        stderr = process.stderr.read() if process.stderr else ""
        process.wait(timeout=30)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
    return lines, stderr


def test_unknown_prompt_resource_and_tool_are_invalid_params_with_nothing_on_stderr(
    tmp_path: Path,
) -> None:
    """JSON-RPC -32602 for names the server does not have (MCP spec), with a short message
    and no traceback. A remote configuration keeps the warm-up from starting the local
    workspace (whose banner would go to stderr); none of these requests uses it."""
    messages: list[dict[str, Any]] = [
        INITIALIZE,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "prompts/get", "params": {"name": "no-such"}},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "resources/read",
            "params": {"uri": "skill://no-such/SKILL.md"},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "no_such_tool", "arguments": {}},
        },
    ]
    env = {
        **subprocess_env(tmp_path),
        "DATABRICKS_HOST": "http://127.0.0.1:9",
        "DATABRICKS_TOKEN": "dapi-never-used",
    }
    lines, stderr = exchange_over_stdio(tmp_path, messages, env)
    answers = {message.get("id"): message for message in map(json.loads, lines)}
    for request_id in (2, 3, 4):
        error = answers[request_id].get("error")
        assert error is not None, answers[request_id]
        assert error["code"] == -32602, error
        assert "no-such" in error["message"] or "no_such" in error["message"], error
        assert len(error["message"]) < 300, error
    assert stderr == ""


def _json_rpc_id(line: str) -> Any:
    try:
        return json.loads(line).get("id")
    except (json.JSONDecodeError, AttributeError):
        return None


async def test_stdio_server_warms_up_the_local_workspace_without_a_tool_call(
    tmp_path: Path,
) -> None:
    """The local workspace process starts with the server (in parallel: tools/list does not
    wait for it, see bench/cold_start.py), so the first call is fast."""
    command = serve_command(tmp_path)
    params = StdioServerParameters(
        command=command[0], args=command[1:], env=subprocess_env(tmp_path), cwd=str(REPO)
    )
    server_file = tmp_path / "data" / "server.json"
    async with Client(params) as client:
        await client.list_tools()
        deadline = time.monotonic() + 30
        while not server_file.exists():
            assert time.monotonic() < deadline, "the local workspace was not warmed up"
            await anyio.sleep(0.1)
        await ok(client, "uc_list_catalogs")


async def test_the_serve_http_command_answers_with_the_token_only(tmp_path: Path) -> None:
    """`dbx-devkit serve --transport http` as a real process: the README's shared set-up."""
    port = free_port()
    env = {**subprocess_env(tmp_path), "DBX_DEVKIT_HTTP_TOKEN": TOKEN}
    command = [*serve_command(tmp_path), "--transport", "http", "--port", str(port)]
    process = subprocess.Popen(
        command, env=env, cwd=str(REPO), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "dbx-devkit serve --transport http exited"
            assert time.monotonic() < deadline, "the HTTP server did not come up"
            try:
                refused = httpx.post(url, json=INITIALIZE, headers=MCP_HEADERS, timeout=2)
                break
            except httpx.TransportError:
                await anyio.sleep(0.1)
        assert refused.status_code == 401
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"})
        async with http, Client(streamable_http_client(url, http_client=http)) as client:
            tools = await client.list_tools()
        assert "sql_query" in {tool.name for tool in tools.tools}
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_started_at_a_terminal_says_it_waits_for_an_mcp_client(tmp_path: Path) -> None:
    """Run by hand, `dbx-devkit serve` says on stderr why it prints nothing else."""
    import os
    import pty

    env = {
        **subprocess_env(tmp_path),
        "DATABRICKS_HOST": "http://127.0.0.1:9",
        "DATABRICKS_TOKEN": "dapi-never-used",
    }
    terminal, tty = pty.openpty()  # stdin is a terminal, as in a shell
    process = subprocess.Popen(
        serve_command(tmp_path),
        stdin=tty,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    os.close(tty)
    watchdog = threading.Timer(120, process.kill)  # a hung server fails the test, not CI
    watchdog.start()
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
    finally:
        watchdog.cancel()
        process.kill()
        process.wait(timeout=30)
        os.close(terminal)
    assert "waiting for an MCP client's messages on stdin (Ctrl-C to stop)" in line
