"""``dbx-devkit init`` and ``dbx-devkit check``: the project tools on the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from server.cli_settings import settings_from_args
from tools_core.errors import ToolsCoreError

if TYPE_CHECKING:
    from server.settings import Settings
    from tools_core.backend import Backend

TEMPLATES = ("ml", "minimal")  # tools_core.project.TEMPLATES, without importing it at start-up
CONNECT_TIMEOUT_S = 15


def cmd_init(args: argparse.Namespace) -> int:
    """Write a new project; exit 1 (nothing written) when a file would be overwritten."""
    from server.launch import devkit_source, serve_command
    from tools_core.project import init_project

    try:
        result = init_project(
            args.path, args.name or "", args.template, serve_command(), devkit_source()
        )
    except ToolsCoreError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(result.to_text())
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Run the deployment checklist; exit 0 when no item failed, 1 otherwise."""
    from server.runtime import Runtime
    from tools_core.project import check_project

    settings = settings_from_args(args)
    runtime = Runtime(settings)
    try:
        backend: Any = None
        problem = ""
        try:
            if settings.remote_configured():
                backend = _remote_backend(settings)
            else:
                backend = runtime.backend()
        except (ToolsCoreError, OSError, ValueError) as exc:
            problem = f"no workspace: {exc}"
        try:
            result = check_project(
                backend, args.path, args.target, not args.no_tests, unavailable=problem
            )
        except ToolsCoreError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print(result.to_text())
        return 0 if result.ok else 1
    finally:
        runtime.close()


def _remote_backend(settings: Settings) -> Backend:
    """The configured workspace, giving up on an unreachable one after seconds, not minutes
    (the SDK's default), since a checklist reports it as unknown anyway."""
    from tools_core.backend import Backend, MlflowTarget, workspace_client

    client = workspace_client(profile=settings.profile, retry_timeout_seconds=CONNECT_TIMEOUT_S)
    mlflow = MlflowTarget.databricks(settings.profile)
    return Backend(client, "remote", client.config.host or "", settings.warehouse_id, mlflow)


def add_project_parsers(sub: Any) -> None:
    """The ``init`` and ``check`` subcommands."""
    init = sub.add_parser("init", help="write a new Databricks project (never overwrites)")
    init.add_argument("path", type=Path, help="project directory (created if missing)")
    init.add_argument("--name", help="project name (default: the directory's name)")
    init.add_argument("--template", choices=TEMPLATES, default="ml", help="template (ml)")
    init.set_defaults(func=cmd_init)

    check = sub.add_parser("check", help="run the deployment checklist on a project")
    check.add_argument("path", nargs="?", default=".", type=Path, help="project dir (.)")
    check.add_argument("--target", default="", help="bundle target (default: the bundle's)")
    check.add_argument("--no-tests", action="store_true", help="do not run pytest")
    check.add_argument("--profile", help="~/.databrickscfg profile to use")
    check.add_argument("--local", action="store_true", help="use the embedded local workspace")
    check.add_argument("--data-dir", type=Path, help="local workspace data directory")
    check.set_defaults(func=cmd_check)
