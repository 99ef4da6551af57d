"""`dbx-devkit doctor`: a checklist that says what works and what to fix."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from local_workspace.runner import LocalWorkspace
from server.cli import main
from server.doctor import run_doctor
from server.settings import Settings


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_doctor_starts_the_local_workspace_and_finds_all_good(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run_doctor(Settings(data_dir=tmp_path / "data")) == 0
    out = capsys.readouterr().out
    assert "backend: local" in out
    assert "started one at http://127.0.0.1:" in out
    assert "signed in as dev@dbx-devkit.local" in out
    assert "All good" in out


def test_doctor_attaches_to_a_running_local_workspace(
    capsys: pytest.CaptureFixture[str], local_ws: LocalWorkspace
) -> None:
    assert run_doctor(Settings(data_dir=local_ws.config.data_dir)) == 0
    out = capsys.readouterr().out
    assert f"already running at {local_ws.url}" in out


def test_doctor_on_an_unreachable_host_says_what_to_fix(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-secret-value")
    assert run_doctor(Settings(), retry_timeout_s=2) == 1
    out = capsys.readouterr().out
    assert "backend: remote" in out
    assert "[FAIL] auth" in out
    assert "fix: check the host (DATABRICKS_HOST" in out
    assert "--local" in out
    assert "dapi-secret-value" not in out


def test_doctor_with_a_bad_token_says_to_get_a_new_one(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    local_ws: LocalWorkspace,
) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", local_ws.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-wrong")
    assert run_doctor(Settings(), retry_timeout_s=2) == 1
    out = capsys.readouterr().out
    assert "UNAUTHENTICATED" in out
    assert "personal access token" in out


def test_doctor_with_a_missing_profile_says_to_fix_the_configuration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["doctor", "--profile", "nope", "--timeout", "2"]) == 1
    out = capsys.readouterr().out
    assert "[FAIL] configuration" in out
    assert "databricks auth profiles" in out


def test_doctor_finds_the_default_profile_of_databrickscfg(
    capsys: pytest.CaptureFixture[str], local_ws: LocalWorkspace
) -> None:
    config = Path.home() / ".databrickscfg"
    config.write_text(f"[DEFAULT]\nhost = {local_ws.url}\ntoken = {local_ws.token}\n")
    assert run_doctor(Settings(), retry_timeout_s=5) == 0
    out = capsys.readouterr().out
    assert "~/.databrickscfg found (profiles: DEFAULT)" in out
    assert "backend: remote" in out
    assert "signed in as dev@dbx-devkit.local" in out
    assert local_ws.token not in out
