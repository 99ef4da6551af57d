"""project_check's ``tests_passing``: the project's pytest in the project's own environment.

The tests import the project's dependencies (and dbx-devkit's pytest plugin for ``spark``),
so they run with the project's interpreter: its ``.venv`` when there is one, else ``uv run``
(which builds that ``.venv`` from the project's ``uv.lock``, offline, never rewriting the
lock), never the server's own Python.
Against a local workspace the run gets its URL and token, so the ``spark`` fixture attaches to
the workspace the checklist looks at instead of starting another.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools_core.project.results import CheckItem, short

TEST_TIMEOUT_S = 300
ITEM = "tests_passing"
# Settings of the caller's own environment that must not steer the project's.
_CALLER_ENV = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONHOME", "CONDA_PREFIX")


@dataclass(frozen=True)
class Runner:
    """How the project's Python starts (``command`` + arguments) and what to call it."""

    command: list[str]
    shown: str


def project_python(root: Path) -> Runner | str:
    """The project's interpreter: its ``.venv``, else ``uv run`` of its ``uv.lock``; else
    what is missing."""
    for candidate in (root / ".venv" / "bin" / "python", root / ".venv" / "Scripts" / "python.exe"):
        if candidate.is_file():
            return Runner([str(candidate)], str(candidate.relative_to(root)))
    uv = shutil.which("uv")
    if not uv:
        return "the project has no environment (.venv) and uv is not installed"
    if not (root / "uv.lock").is_file():
        return "the project has no environment (.venv) and no uv.lock"
    # The lock as it is (--frozen: a check never rewrites it) and offline (never waits on the
    # network): uv builds .venv from its cache, or says which package it lacks.
    return Runner([uv, "run", "--frozen", "--offline", "--project", str(root), "python"], "uv run")


def run_env(workspace: tuple[str, str] | None) -> dict[str, str]:
    """The environment of the project's tests: ours without pytest's, the caller's virtualenv
    or, when the checklist's workspace is a local one (``workspace`` = (url, token)), any
    Databricks setting other than that workspace's."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k not in _CALLER_ENV
    }
    if workspace is not None:
        env = {k: v for k, v in env.items() if not k.startswith("DATABRICKS_")}
        env["DATABRICKS_HOST"], env["DATABRICKS_TOKEN"] = workspace
    return env


def tests_passing(
    root: Path,
    has_tests: bool,
    skip: str = "",
    timeout_s: int = TEST_TIMEOUT_S,
    workspace: tuple[str, str] | None = None,
) -> CheckItem:
    """``pytest -q -x`` in the project with its own environment, bounded by ``timeout_s``;
    not run when ``skip`` says why."""
    if skip:
        return CheckItem(item=ITEM, status="unknown", evidence=f"not run ({skip})")
    if not has_tests:
        return CheckItem(
            item=ITEM, status="unknown", evidence="no test files to run", next_step="Add tests."
        )
    runner = project_python(root)
    if isinstance(runner, str):
        return CheckItem(
            item=ITEM,
            status="unknown",
            evidence=f"not run: {runner}",
            next_step=(
                "Create it in the project: `uv sync` (installs uv's lock, pytest and "
                "dbx-devkit's spark fixture), then check again."
            ),
        )
    # No cache folder in the project; no inherited pytest options from a calling pytest.
    command = [*runner.command, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
    try:
        done = subprocess.run(
            command,
            cwd=root,
            env=run_env(workspace),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CheckItem(
            item=ITEM,
            status="failed",
            evidence=f"pytest ({runner.shown}) did not finish in {timeout_s} s",
            next_step="Keep unit tests fast; move slow ones to tests/integration.",
        )
    return _outcome(done.returncode, (done.stdout + done.stderr).strip(), runner)


def _outcome(code: int, output: str, runner: Runner) -> CheckItem:
    """The item from pytest's exit code and output (its summary line, its first failure)."""
    missing = _missing_piece(output, runner)
    if missing:
        return missing
    lines = output.splitlines()
    tail = lines[-1] if lines else f"exit {code}"
    first = next((ln for ln in lines if ln.startswith(("FAILED", "ERROR"))), "")
    if code == 0:
        return CheckItem(item=ITEM, status="passed", evidence=short(f"{tail} ({runner.shown})"))
    return CheckItem(
        item=ITEM,
        status="failed",
        evidence=short(f"pytest exit {code} ({runner.shown}): {first} {tail}"),
        next_step="Run `uv run pytest -x` in the project and fix the first failure.",
    )


def _missing_piece(output: str, runner: Runner) -> CheckItem | None:
    """An environment that cannot run the tests at all, said as what to install."""
    if "No module named pytest" in output:
        evidence = f"pytest is not installed in the project's environment ({runner.shown})"
        step = "Add pytest to the project's dev dependencies and `uv sync`, then check again."
    elif "fixture 'spark' not found" in output or "fixture 'dbutils' not found" in output:
        evidence = (
            f"the tests use the spark/dbutils fixtures but dbx-devkit (their pytest plugin) is "
            f"not installed in the project's environment ({runner.shown})"
        )
        step = "`uv add --dev dbx-devkit` in the project (or `uv sync`), then check again."
    elif runner.shown == "uv run" and (uv_error := _uv_error(output)):
        evidence = f"uv could not build the project's environment offline: {uv_error}"
        step = "Run `uv sync` in the project (it downloads what is missing), then check again."
    else:
        return None
    return CheckItem(item=ITEM, status="unknown", evidence=short(evidence), next_step=step)


def _uv_error(output: str) -> str:
    """uv's own error (its lines start with ``error:``; pytest's never do), with its cause."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("error:"):
            cause = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return f"{line} {cause}".strip()
    return ""
