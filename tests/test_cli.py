"""The `dbx-devkit` command line: tools, call, local, and what a bad token looks like."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from local_workspace.runner import LocalWorkspace
from server.cli import main
from server.specs import all_specs
from tests.conftest import fails, mcp_session, subprocess_env
from tools_core.backend import Backend, workspace_client

REPO = Path(__file__).resolve().parent.parent


def cli_command(*args: str) -> list[str]:
    """The installed `dbx-devkit` script of this environment (or the module)."""
    script = Path(sys.executable).parent / "dbx-devkit"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "server.cli"]
    return [*base, *args]


def test_tools_lists_every_tool_with_toolset_and_annotations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tools"]) == 0
    out = capsys.readouterr().out
    for name, spec in all_specs().items():
        line = next((ln for ln in out.splitlines() if f" {name} " in ln), "")
        assert line.startswith(spec.toolset), f"{name} missing or without toolset:\n{out}"
        assert ("read-only" in line) == spec.read_only, line
        if spec.destructive:
            assert "destructive" in line, line


def test_tools_json_gives_the_annotations_per_tool(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["name"] for row in rows} == set(all_specs())
    assert all({"toolset", "read_only", "destructive", "idempotent"} <= row.keys() for row in rows)


def test_tools_read_only_lists_no_writer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools", "--read-only", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(row["read_only"] for row in rows)
    assert {row["name"] for row in rows} == {n for n, s in all_specs().items() if s.read_only}


def test_call_workspace_context_prints_the_context_and_exits_0(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # No configuration: `call` starts a local workspace on the data dir and stops it after.
    assert main(["call", "workspace_context", "--json", "{}", "--data-dir", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "backend: local" in captured.out
    assert "dev@dbx-devkit.local" in captured.out
    assert "LOCAL workspace" in captured.err  # said loudly, on stderr


def test_call_structured_prints_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["call", "workspace_context", "--structured", "--data-dir", str(tmp_path)]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "local"


def test_call_with_an_unknown_tool_fails_with_the_error_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["call", "no_such_tool", "--data-dir", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert err.startswith("RESOURCE_DOES_NOT_EXIST"), err


def test_call_with_bad_json_arguments_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", "workspace_context", "--json", "{oops"]) != 0
    assert capsys.readouterr().err.startswith("INVALID_PARAMETER_VALUE")


def test_local_prints_host_and_token_that_the_sdk_can_use(tmp_path: Path) -> None:
    process = subprocess.Popen(
        cli_command("local", "--port", "0", "--data-dir", str(tmp_path / "data")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(tmp_path),
        cwd=REPO,
    )
    watchdog = threading.Timer(120, process.kill)  # a hung start fails the test instead
    watchdog.start()
    try:
        assert process.stdout is not None
        exports = dict(
            process.stdout.readline().removeprefix("export ").strip().split("=", 1)
            for _ in range(2)
        )
        assert exports.keys() == {"DATABRICKS_HOST", "DATABRICKS_TOKEN"}, exports
        client = workspace_client(
            host=exports["DATABRICKS_HOST"],
            token=exports["DATABRICKS_TOKEN"],
            retry_timeout_seconds=10,
        )
        assert client.current_user.me().user_name == "dev@dbx-devkit.local"
    finally:
        watchdog.cancel()
        process.terminate()
        process.wait(timeout=30)


def test_call_with_a_bad_token_says_unauthenticated_and_to_run_doctor(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    local_ws: LocalWorkspace,
) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", local_ws.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-wrong-token")
    assert main(["call", "workspace_context"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("UNAUTHENTICATED"), err
    assert "dbx-devkit doctor" in err
    assert "dapi-wrong-token" not in err


@pytest.mark.anyio
async def test_a_bad_token_is_a_tool_error_and_the_server_stays_up(
    local_ws: LocalWorkspace,
) -> None:
    client = workspace_client(host=local_ws.url, token="wrong", retry_timeout_seconds=5)
    bad = Backend(client, "remote", local_ws.url)
    async with mcp_session(bad) as session:
        message = await fails(session, "workspace_context")
        assert message.startswith("UNAUTHENTICATED"), message
        assert "dbx-devkit doctor" in message
        # The same session still answers.
        assert (await session.list_tools()).tools
        assert (await fails(session, "workspace_context")).startswith("UNAUTHENTICATED")


def test_environment_variables_select_toolsets_and_read_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBX_DEVKIT_TOOLSETS", "sql,workspace")
    monkeypatch.setenv("DBX_DEVKIT_READ_ONLY", "true")
    assert main(["tools", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    expected = {
        n for n, s in all_specs().items() if s.read_only and s.toolset in ("sql", "workspace")
    }
    assert {row["name"] for row in rows} == expected


def test_an_unknown_toolset_is_refused_with_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tools", "--toolsets", "sql,bogus"]) == 2
    err = capsys.readouterr().err
    assert "bogus" in err and "workspace" in err


def test_local_on_a_busy_port_says_how_to_choose_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["local", "--port", str(port), "--data-dir", str(tmp_path / "data")])
    assert code == 2
    err = capsys.readouterr().err
    assert f"port {port}" in err and "--port 0" in err
    assert "Errno" not in err
