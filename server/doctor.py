"""``dbx-devkit doctor``: configuration, auth and connectivity, each problem with what to fix.

Prints a short checklist on stdout and returns 0 when everything works, 1 otherwise. It
builds the backend the way the server does (same settings, same SDK unified auth), but with
a short retry timeout so that an unreachable host fails in seconds, not minutes.
"""

from __future__ import annotations

import configparser
import os
import platform
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from server.errors import describe_error
from server.settings import Settings, config_file_path

if TYPE_CHECKING:
    from tools_core.backend import Backend

DEFAULT_RETRY_TIMEOUT_S = 15

# Packages worth reporting; the first group must be installed.
REQUIRED_PACKAGES = ("mcp", "databricks-sdk", "pydantic", "pydantic-settings", "uvicorn")
OPTIONAL_PACKAGES = ("duckdb", "sqlglot", "pyarrow")

FIX_HOST = (
    "check the host (DATABRICKS_HOST or the profile's host), your network or VPN; "
    "or run with --local to use the embedded local workspace."
)
FIX_TOKEN = (
    "the credentials were refused: create a new personal access token (Settings > Developer "
    "> Access tokens) and set DATABRICKS_TOKEN, or run `databricks auth login --host <url>`."
)
FIX_CONFIG = (
    "fix the configuration the message names (environment DATABRICKS_*, --profile, "
    "~/.databrickscfg); `databricks auth profiles` lists the profiles that work."
)
FIX_WAREHOUSE = (
    "set DATABRICKS_WAREHOUSE_ID (or --warehouse-id) to a warehouse you can use; "
    "SQL tools also accept a warehouse_id argument."
)


@dataclass
class Checklist:
    """Checks printed as they complete; ``failures`` counts the ones to fix."""

    failures: int = 0
    lines: list[str] = field(default_factory=list)

    def _print(self, mark: str, name: str, detail: str) -> None:
        line = f"[{mark}] {name}: {detail}"
        self.lines.append(line)
        print(line, flush=True)

    def ok(self, name: str, detail: str) -> None:
        """A check that passed."""
        self._print("ok", name, detail)

    def info(self, name: str, detail: str) -> None:
        """A fact worth knowing, neither good nor bad."""
        self._print("--", name, detail)

    def warn(self, name: str, detail: str, fix: str) -> None:
        """Something that limits some tools but does not stop the server."""
        self._print("!!", name, f"{detail}\n     fix: {fix}")

    def fail(self, name: str, detail: str, fix: str) -> None:
        """A check that failed, with what to do about it."""
        self.failures += 1
        self._print("FAIL", name, f"{detail}\n     fix: {fix}")


def run_doctor(settings: Settings, retry_timeout_s: int = DEFAULT_RETRY_TIMEOUT_S) -> int:
    """Check versions, configuration, backend, auth and warehouse; 0 when all is well."""
    checks = Checklist()
    print("dbx-devkit doctor", flush=True)
    _check_versions(checks)
    remote = _check_configuration(checks, settings)
    if remote:
        _check_remote(checks, settings, retry_timeout_s)
    else:
        _check_local(checks, settings, retry_timeout_s)
    if checks.failures:
        print(f"{checks.failures} problem(s) to fix (see 'fix:' above).", flush=True)
        return 1
    print("All good: `dbx-devkit serve` is ready.", flush=True)
    return 0


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _check_versions(checks: Checklist) -> None:
    found = [f"python {platform.python_version()}", f"dbx-devkit {_package_version('dbx-devkit')}"]
    missing = []
    for name in REQUIRED_PACKAGES:
        installed = _package_version(name)
        if installed is None:
            missing.append(name)
        else:
            found.append(f"{name} {installed}")
    mlflow = _package_version("mlflow")
    skinny = _package_version("mlflow-skinny")
    if mlflow:
        found.append(f"mlflow {mlflow}")
    elif skinny:
        found.append(f"mlflow-skinny {skinny}")
    else:
        missing.append("mlflow-skinny")
    found.extend(f"{n} {v}" for n in OPTIONAL_PACKAGES if (v := _package_version(n)))
    if missing:
        checks.fail(
            "packages",
            f"missing {', '.join(missing)}",
            "reinstall the environment: `uv sync` (or `pip install -e .`).",
        )
    checks.ok("versions", ", ".join(found))


def _check_configuration(checks: Checklist, settings: Settings) -> bool:
    """Say which configuration was found; True when the remote backend will be used."""
    found = []
    for name in ("DATABRICKS_HOST", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE"):
        if os.environ.get(name):
            # Never print a token; the host and profile name are not secrets.
            shown = "set" if name == "DATABRICKS_TOKEN" else os.environ[name]
            found.append(f"{name}={shown}")
    if settings.profile and settings.profile != os.environ.get("DATABRICKS_CONFIG_PROFILE"):
        found.append(f"profile {settings.profile}")
    path = config_file_path()
    found.append(f"{_home_relative(path)} {_profiles(path)}")
    if settings.warehouse_id:
        found.append(f"warehouse {settings.warehouse_id}")
    checks.info("configuration", "; ".join(found))
    if settings.local:
        checks.ok("backend", "local (--local / DBX_DEVKIT_LOCAL forces the embedded workspace)")
        return False
    if settings.remote_configured():
        checks.ok("backend", "remote (a Databricks configuration was found)")
        return True
    checks.ok(
        "backend",
        "local: no Databricks configuration, the embedded local workspace will be used "
        "(set DATABRICKS_HOST/DATABRICKS_TOKEN or a profile for a real workspace)",
    )
    return False


def _profiles(path: Path) -> str:
    """``absent`` or the profile names in a Databricks configuration file."""
    if not path.is_file():
        return "absent"
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error as exc:
        return f"unreadable ({type(exc).__name__})"
    names = (["DEFAULT"] if parser.defaults() else []) + parser.sections()
    return f"found (profiles: {', '.join(names) or 'none'})"


def _home_relative(path: Path) -> str:
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def _check_remote(checks: Checklist, settings: Settings, retry_timeout_s: int) -> None:
    from tools_core.backend import Backend, workspace_client

    try:
        client = workspace_client(profile=settings.profile, retry_timeout_seconds=retry_timeout_s)
    except ValueError as exc:  # the SDK's configuration errors
        checks.fail("configuration", _first_line(str(exc)), FIX_CONFIG)
        return
    host = client.config.host or ""
    checks.info("host", f"{host} (auth: {client.config.auth_type or 'unknown'})")
    backend = Backend(client, "remote", host, settings.warehouse_id)
    if _check_auth(checks, backend):
        _check_warehouse(checks, backend, settings)


def _check_local(checks: Checklist, settings: Settings, retry_timeout_s: int) -> None:
    from local_workspace.config import LocalConfig, default_data_dir
    from local_workspace.runner import LocalWorkspace, find_running

    config = LocalConfig(data_dir=settings.data_dir or default_data_dir())
    data_dir = config.data_dir
    if not _writable(data_dir):
        checks.fail(
            "data dir",
            f"{data_dir} is not writable",
            "set DBX_DEVKIT_DATA_DIR (or --data-dir) to a directory you can write.",
        )
        return
    checks.ok("data dir", str(data_dir))
    started: LocalWorkspace | None = None
    running = find_running(data_dir)
    if running:
        url, token = running, config.resolved_token()
        checks.ok("local workspace", f"already running at {url} (the server will attach to it)")
    else:
        try:
            started = LocalWorkspace(config).start()
        except (RuntimeError, OSError, ValueError) as exc:
            checks.fail(
                "local workspace",
                f"failed to start: {_first_line(str(exc))}",
                "run `dbx-devkit -v local` to see the full error, or try a fresh --data-dir.",
            )
            return
        url, token = started.url, started.token
        checks.ok("local workspace", f"not running; started one at {url} for this check")
    try:
        from tools_core.backend import Backend, workspace_client

        client = workspace_client(host=url, token=token, retry_timeout_seconds=retry_timeout_s)
        backend = Backend(client, "local", url, settings.warehouse_id)
        if _check_auth(checks, backend):
            _check_warehouse(checks, backend, settings)
    finally:
        if started is not None:
            started.stop()


def _writable(path: Path) -> bool:
    """Whether ``path`` exists as a writable directory or can be created."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK)


def _check_auth(checks: Checklist, backend: Backend) -> bool:
    """SCIM Me through the SDK: proves connectivity and credentials at once."""
    try:
        user = backend.user
    except Exception as exc:  # noqa: BLE001  (doctor reports any failure, it never raises)
        message = describe_error(exc)
        code = message.split(":", 1)[0]
        if code in ("UNAUTHENTICATED", "PERMISSION_DENIED", "INVALID_TOKEN"):
            fix = FIX_TOKEN
        elif isinstance(exc, ValueError):
            fix = FIX_CONFIG
        else:
            fix = FIX_HOST
        checks.fail("auth", f"cannot sign in to {backend.host}: {_first_line(message)}", fix)
        return False
    checks.ok("auth", f"signed in as {user}")
    return True


def _check_warehouse(checks: Checklist, backend: Backend, settings: Settings) -> None:
    from tools_core.sql import default_warehouse_id

    try:
        if settings.warehouse_id:
            backend.client.warehouses.get(settings.warehouse_id)
            checks.ok("warehouse", f"{settings.warehouse_id} (configured)")
            return
        found = default_warehouse_id(backend)
    except Exception as exc:  # noqa: BLE001  (doctor reports any failure, it never raises)
        checks.fail("warehouse", _first_line(describe_error(exc)), FIX_WAREHOUSE)
        return
    if found:
        checks.ok("warehouse", f"{found} (default: the first running warehouse)")
    else:
        checks.warn("warehouse", "no SQL warehouse found: SQL tools will need one", FIX_WAREHOUSE)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
