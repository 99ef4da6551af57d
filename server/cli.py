"""The ``dbx-devkit`` command line.

Kept import-light: ``serve`` must answer tools/list fast, so the SDK, DuckDB and the local
workspace are imported only by the commands (or the first tool call) that need them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from server.cli_settings import settings_from_args
from server.settings import TOOLSETS

# `dbx-devkit local`'s port unless --port says otherwise.
LOCAL_PORT = 8080

if TYPE_CHECKING:
    from server.registry import ToolSpec


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--read-only", action="store_true", help="register no writer tools")
    parser.add_argument(
        "--toolsets", help=f"comma-separated toolsets to enable (of: {','.join(TOOLSETS)})"
    )
    parser.add_argument("--profile", help="~/.databrickscfg profile to use")
    parser.add_argument(
        "--local", action="store_true", help="use the embedded local workspace even if configured"
    )
    parser.add_argument("--data-dir", type=Path, help="local workspace data directory")
    parser.add_argument("--warehouse-id", help="default SQL warehouse id")
    parser.add_argument(
        "--output-schemas", action="store_true", help="advertise tool output schemas"
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the MCP server (stdio by default)."""
    settings = settings_from_args(args)
    if args.transport == "http":
        from server.transports import serve_http

        overrides = {"http_host": args.host, "http_port": args.port}
        settings = settings.model_copy(update={k: v for k, v in overrides.items() if v})
        return serve_http(settings)
    from server.runtime import Runtime

    runtime = Runtime(settings)
    # The local workspace's process starts now, on another core, while this process loads
    # the MCP server: its readiness is the longest part of the first tool call.
    runtime.start_local_workspace()
    from server.transports import serve_stdio

    return serve_stdio(settings, runtime)


def cmd_local(args: argparse.Namespace) -> int:
    """Run the local workspace alone and print how to point an SDK or CLI at it."""
    from local_workspace.config import LocalConfig, default_data_dir
    from local_workspace.discovery import find_running
    from local_workspace.faults import parse_faults
    from local_workspace.serve import serve

    spec = args.faults or os.environ.get("DBX_DEVKIT_LOCAL_FAULTS")
    try:
        faults = parse_faults(spec) if spec else None
    except ValueError as exc:
        print(f"dbx-devkit local: --faults: {exc}", file=sys.stderr)
        return 2
    config = LocalConfig(
        data_dir=args.data_dir or default_data_dir(),
        port=LOCAL_PORT if args.port is None else args.port,
        faults=faults,
    )
    running = find_running(config.data_dir)
    if running:
        # Two workspaces must not open the same DuckDB files: point at the running one.
        _print_exports(running, config.resolved_token())
        print(f"# already running on {config.data_dir}; not starting another", file=sys.stderr)
        return 0
    if config.port and not _port_free(config.host, config.port):
        if args.port is not None:
            print(
                f"dbx-devkit local: port {config.port} on {config.host} is in use; choose "
                "another with --port N, or --port 0 for any free port.",
                file=sys.stderr,
            )
            return 2
        print(
            f"# port {config.port} is in use; using a free port instead (--port N to choose)",
            file=sys.stderr,
            flush=True,
        )
        config.port = 0

    def announce(url: str, token: str) -> None:
        _print_exports(url, token)
        print(f"# data: {config.data_dir}  (Ctrl-C to stop)", file=sys.stderr, flush=True)

    serve(config, announce)
    return 0


def _port_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be listened on now (so a busy port is said plainly, never
    as a bare errno from the server)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _print_exports(url: str, token: str) -> None:
    """The exports for the SDK/CLI and for MLflow (the guide's snippets work unchanged), and
    on stderr the MLflow UI's login address (a browser cannot send the token header)."""
    print(f"export DATABRICKS_HOST={url}", flush=True)
    print(f"export DATABRICKS_TOKEN={token}", flush=True)
    print(f"export MLFLOW_TRACKING_URI={url}", flush=True)
    print(f"export MLFLOW_TRACKING_TOKEN={token}", flush=True)
    print(f"# MLflow UI: {url}/mlflow/login?token={token}", file=sys.stderr, flush=True)


def _hints(spec: ToolSpec) -> str:
    """The tool's MCP annotations, short: ``read-only`` or ``write[,destructive][,idempotent]``."""
    if spec.read_only:
        return "read-only"
    hints = ["write"]
    if spec.destructive:
        hints.append("destructive")
    if spec.idempotent:
        hints.append("idempotent")
    return ",".join(hints)


def cmd_tools(args: argparse.Namespace) -> int:
    """Print the tools with toolset and annotations."""
    from server.app import selected_specs

    specs = sorted(selected_specs(settings_from_args(args)), key=lambda s: (s.toolset, s.name))
    if args.json:
        rows = [
            {
                "name": s.name,
                "toolset": s.toolset,
                "read_only": s.read_only,
                "destructive": s.destructive,
                "idempotent": s.idempotent,
                "description": _summary(s),
            }
            for s in specs
        ]
        print(json.dumps(rows, indent=1))
        return 0
    if args.markdown:
        print(tools_markdown(specs))
        return 0
    if args.reference:
        from server.reference import tools_reference

        print(tools_reference(), end="")
        return 0
    width = max((len(s.name) for s in specs), default=4)
    print(f"{'TOOLSET':<13} {'TOOL':<{width}} {'ANNOTATIONS':<28} DESCRIPTION")
    for s in specs:
        print(f"{s.toolset:<13} {s.name:<{width}} {_hints(s):<28} {_summary(s)}")
    print(f"({len(specs)} tools)", file=sys.stderr)
    return 0


def tools_markdown(specs: list[ToolSpec]) -> str:
    """The tools as a markdown table grouped by toolset (the README's table)."""
    lines = ["| Toolset | Tool | Kind | What it does |", "|---|---|---|---|"]
    for s in sorted(specs, key=lambda s: (s.toolset, s.name)):
        summary = _summary(s).replace("|", "\\|")
        lines.append(f"| {s.toolset} | `{s.name}` | {_hints(s)} | {summary} |")
    return "\n".join(lines)


def _summary(spec: ToolSpec) -> str:
    """The tool's docstring on one line."""
    return " ".join((spec.fn.__doc__ or "").split())


def cmd_call(args: argparse.Namespace) -> int:
    """Run one tool through the MCP server in memory and print its result."""
    import anyio

    from server.client import call_tool

    try:
        arguments = json.loads(args.json) if args.json else {}
    except json.JSONDecodeError as exc:
        print(f"INVALID_PARAMETER_VALUE: --json is not valid JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(arguments, dict):
        print("INVALID_PARAMETER_VALUE: --json must be a JSON object.", file=sys.stderr)
        return 2
    result = anyio.run(call_tool, settings_from_args(args), args.tool, arguments)
    text = "\n".join(getattr(c, "text", "") for c in result.content)
    if result.is_error:
        # Errors go to stderr so that scripts can keep stdout for results only.
        print(text, file=sys.stderr)
        return 1
    if args.structured and result.structured_content is not None:
        text = json.dumps(result.structured_content, indent=1)
    print(text)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check configuration, auth and connectivity, and say what to fix."""
    from server.doctor import run_doctor

    return run_doctor(settings_from_args(args), retry_timeout_s=args.timeout)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``dbx-devkit``."""
    parser = argparse.ArgumentParser(
        prog="dbx-devkit", description="Databricks tools for coding agents."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the MCP server")
    _add_common(serve)
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", help="HTTP bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP port (default 8765)")
    serve.set_defaults(func=cmd_serve)

    local = sub.add_parser("local", help="run the local workspace alone")
    local.add_argument("--data-dir", type=Path, help="data directory")
    local.add_argument(
        "--port", type=int, help=f"port (default {LOCAL_PORT}, a free one if busy; 0 = any)"
    )
    local.add_argument(
        "--faults",
        help="inject faults for tests, e.g. latency=0.2,status=503:3,drop=1,paths=/api/2.1 "
        "(or DBX_DEVKIT_LOCAL_FAULTS)",
    )
    local.set_defaults(func=cmd_local)

    tools = sub.add_parser("tools", help="list the tools")
    _add_common(tools)
    tools.add_argument("--json", action="store_true", help="print JSON")
    tools.add_argument("--markdown", action="store_true", help="print a markdown table")
    tools.add_argument(
        "--reference", action="store_true", help="print the full reference (docs/tools.md)"
    )
    tools.set_defaults(func=cmd_tools)

    call = sub.add_parser("call", help="run one tool and print its result")
    _add_common(call)
    call.add_argument("tool", help="tool name")
    call.add_argument("--json", help="arguments as a JSON object")
    call.add_argument("--structured", action="store_true", help="print structured content")
    call.set_defaults(func=cmd_call)

    doctor = sub.add_parser("doctor", help="check configuration, auth and connectivity")
    _add_common(doctor)
    doctor.add_argument(
        "--timeout", type=int, default=15, help="seconds to keep retrying the workspace (15)"
    )
    doctor.set_defaults(func=cmd_doctor)

    from server.skills_cli import add_skills_parser

    add_skills_parser(sub)

    from server.project_cli import add_project_parsers

    add_project_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dbx-devkit`` command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except ValueError as exc:  # bad settings (pydantic ValidationError is a ValueError)
        print(f"dbx-devkit: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
