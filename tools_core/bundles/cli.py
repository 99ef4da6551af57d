"""bundle_deploy and bundle_run: the official databricks CLI, run in the bundle's directory.

The CLI (a Go binary, not on PyPI) does the deploying: its own auth (DATABRICKS_HOST/TOKEN,
a profile, or the target's workspace.host) picks the workspace. We validate offline first
and refuse a bundle with errors, run the CLI with a bounded timeout and no input, and
return its exit code with the tail of its output.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tools_core.bundles.config import default_target, load, locate
from tools_core.bundles.findings import Findings
from tools_core.bundles.validate import validate
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.results import Result

OUTPUT_TAIL_CHARS = 3000
DEFAULT_TIMEOUT_S = 600
INSTALL_HINT = (
    "Install the databricks CLI (v0.218+): `curl -fsSL "
    "https://raw.githubusercontent.com/databricks/setup-cli/main/install.sh | sh` or "
    "`brew install databricks/tap/databricks`; see "
    "https://docs.databricks.com/dev-tools/cli/install.html. Then `databricks auth login`."
)
LOCAL_NOTE = (
    "dbx-devkit is on the LOCAL workspace; the databricks CLI deploys to the workspace of "
    "its own auth (DATABRICKS_HOST/profile or the target's workspace.host), not the local one."
)
_RUN_URL = re.compile(r"https?://\S+/(?:#job/\d+/run/|jobs/\d+/runs/)(\d+)\S*")


class BundleCommandResult(Result):
    """What a databricks CLI bundle command did."""

    command: str
    exit_code: int
    target: str
    workspace: str
    run_id: int | None = None
    run_url: str | None = None
    state: str | None = None
    output: str = ""
    note: str = ""

    def to_text(self) -> str:
        head = f"`{self.command}` exit {self.exit_code} (target {self.target}, {self.workspace})"
        lines = [head]
        if self.run_id is not None:
            lines.append(f"run_id {self.run_id}" + (f" state {self.state}" if self.state else ""))
        if self.run_url:
            lines.append(self.run_url)
        if self.note:
            lines.append(self.note)
        if self.output:
            lines.append(self.output)
        return "\n".join(lines)


def deploy(
    path: str,
    target: str = "",
    confirm: bool = False,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    local: bool = False,
) -> BundleCommandResult:
    """``databricks bundle deploy -t target`` after an offline validation.

    Without ``confirm`` the CLI refuses changes that delete or recreate resources (it asks
    for --auto-approve, which ``confirm=True`` passes). ``local``: the caller's backend is the
    local workspace (the result then says the CLI deploys elsewhere).
    """
    root, target = _prepare(path, target)
    args = ["bundle", "deploy", *(["-t", target] if target else [])]
    if confirm:
        args.append("--auto-approve")
    return _run_cli(root, args, target, timeout_s, "deploy", local)


def run(
    path: str,
    resource_key: str,
    target: str = "",
    params: dict[str, str] | None = None,
    wait: bool = False,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    local: bool = False,
) -> BundleCommandResult:
    """``databricks bundle run -t target resource_key``: starts a job or pipeline of the
    deployed bundle; with ``wait`` it waits (bounded by ``timeout_s``) for the result."""
    if not resource_key or resource_key.startswith("-"):
        raise InvalidInput("resource_key must be a job or pipeline key of the bundle.")
    root, target = _prepare(path, target)
    args = ["bundle", "run", *(["-t", target] if target else []), "--output", "json"]
    if not wait:
        args.append("--no-wait")
    if params:
        args.extend(["--params", ",".join(f"{k}={v}" for k, v in params.items())])
    args.append(resource_key)
    return _run_cli(root, args, target, timeout_s, "run", local)


def _prepare(path: str, target: str) -> tuple[Path, str]:
    """The bundle root after validating offline; the target to use."""
    root, root_file = locate(path)
    if not target:
        # Without -t the CLI deploys the default target: validate that one, not all.
        bundle = load(root, root_file, Findings())
        target = (default_target(bundle) if bundle is not None else None) or ""
    report = validate(root, target or None)
    if not report.ok:
        raise InvalidInput(
            f"The bundle has {report.errors} errors; nothing was deployed or run.\n"
            + report.to_text(),
            "Fix the errors (bundle_validate) and call again.",
        )
    return root, target


def _run_cli(
    root: Path, args: list[str], target: str, timeout_s: int, verb: str, local: bool
) -> BundleCommandResult:
    exe = shutil.which("databricks")
    if exe is None:
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST", "The databricks CLI is not on PATH.", INSTALL_HINT
        )
    command = "databricks " + " ".join(args)
    try:
        done = subprocess.run(
            [exe, *args],
            cwd=root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolsCoreError(
            "DEADLINE_EXCEEDED",
            f"`{command}` did not finish within {timeout_s} s; it was stopped.\n"
            + _tail(_text(exc.stdout) + _text(exc.stderr)),
            "The deployment or run may have gone on: check it in the workspace.",
        ) from None
    if "unknown command" in done.stderr.lower() or "no such command" in done.stderr.lower():
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            "The databricks on PATH has no `bundle` command (it is the legacy Python CLI).",
            INSTALL_HINT,
        )
    # stderr last: the CLI writes its errors there, and the tail is what we keep.
    output = _tail((done.stdout.strip() + "\n" + done.stderr.strip()).strip())
    if done.returncode != 0:
        raise ToolsCoreError(
            f"BUNDLE_{verb.upper()}_FAILED",
            f"`{command}` exited {done.returncode}:\n{output}",
            "Fix what the CLI says and call again.",
        )
    result = BundleCommandResult(
        command=command,
        exit_code=done.returncode,
        target=target or "(default)",
        workspace=_workspace_of(root, target),
        output=output,
        note=LOCAL_NOTE if local else "",
    )
    if verb == "run":
        _read_run(done.stdout + "\n" + done.stderr, result)
    return result


def _workspace_of(root: Path, target: str) -> str:
    """Which workspace the CLI used, as far as the bundle says."""
    bundle = load(root, locate(root)[1], Findings())
    host = None
    if bundle is not None:
        targets = bundle.targets
        node = targets.get(target) if (targets is not None and target) else None
        for source in (node, bundle.config):
            workspace = source.get("workspace") if source is not None else None
            host = workspace.get("host") if workspace is not None else None
            if host is not None:
                break
    if host is not None and host.value:
        return f"workspace {host.value}"
    return "workspace of the CLI's auth (DATABRICKS_HOST / profile)"


def _read_run(text: str, result: BundleCommandResult) -> None:
    """run_id, URL and state from the CLI's JSON output or its "Run URL:" line."""
    data = _first_json(text)
    if isinstance(data, dict):
        run_id = data.get("run_id") or data.get("id")
        if isinstance(run_id, int):
            result.run_id = run_id
        url = data.get("run_page_url")
        if isinstance(url, str):
            result.run_url = url
        state = data.get("state")
        if isinstance(state, dict):
            value = state.get("result_state") or state.get("life_cycle_state")
            result.state = str(value) if value else None
        elif isinstance(state, str):
            result.state = state
    match = _RUN_URL.search(text)
    if match:
        result.run_url = result.run_url or match.group(0)
        result.run_id = result.run_id or int(match.group(1))


def _first_json(text: str) -> Any:
    start = text.find("{")
    if start < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError:
        return None
    return value


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _tail(text: str) -> str:
    """The last OUTPUT_TAIL_CHARS of ``text`` (errors come last), saying what was cut."""
    if len(text) <= OUTPUT_TAIL_CHARS:
        return text
    cut = len(text) - OUTPUT_TAIL_CHARS
    return f"…({cut} earlier chars cut)\n" + text[cut:]
