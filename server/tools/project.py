"""project tools: write the guide's project structure; run its deployment checklist."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from server.launch import devkit_source, serve_command
from server.registry import reader, writer
from server.runtime import runtime_of
from tools_core import project as core

Root = Annotated[str, Field(description="Project root dir")]


@writer("project", destructive=False, idempotent=False)
def project_init(
    path: Root,
    name: Annotated[str, Field(description="Project name, e.g. fraud-model")] = "",
    template: Annotated[Literal["ml", "minimal"], Field(description="Project template")] = "ml",
) -> core.InitResult:
    """Write bundle, pyproject, src/tests/docs, CLAUDE.md, .mcp.json into a new/empty dir."""
    return core.init_project(path, name, template, serve_command(), devkit_source())


@reader("project")
def project_check(
    ctx: Context,
    path: Root,
    target: Annotated[str, Field(description="Bundle target")] = "",
    run_tests: Annotated[bool, Field(description="Run pytest")] = True,
) -> core.CheckResult:
    """Deployment checklist: pass/fail/unknown per item with evidence and next step."""
    # Running the tests executes project code: a read-only server never does.
    runtime = runtime_of(ctx)
    skip = "read-only server: tests execute project code" if runtime.settings.read_only else ""
    return core.check_project(
        runtime.backend(), path, target, run_tests, tests_skipped_because=skip
    )
