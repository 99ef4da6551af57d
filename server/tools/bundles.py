"""bundles tools: validate a bundle offline; deploy and run it with the databricks CLI."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from server.registry import reader, writer
from server.runtime import runtime_of
from tools_core import bundles as core

Root = Annotated[str, Field(description="Bundle root dir")]
Target = Annotated[str, Field(description="Bundle target")]
Params = Annotated[dict[str, str], Field(description="Job parameters")]


@reader("bundles")
def bundle_validate(path: Root, target: Target = "") -> core.BundleValidation:
    """Check databricks.yml offline: file:line findings. Then bundle_deploy."""
    return core.validate(path, target or None)


@writer("bundles", destructive=True, idempotent=True)
def bundle_deploy(
    ctx: Context,
    path: Root,
    target: Target = "",
    confirm: Annotated[bool, Field(description="Allow deletes/recreates")] = False,
) -> core.BundleCommandResult:
    """Validate, then `databricks bundle deploy` (the CLI's own auth)."""
    return core.deploy(path, target, confirm, local=runtime_of(ctx).backend_kind == "local")


@writer("bundles", destructive=False, idempotent=False)
def bundle_run(
    ctx: Context,
    path: Root,
    resource_key: Annotated[str, Field(description="Job or pipeline key")],
    target: Target = "",
    params: Params = None,  # type: ignore[assignment]
    wait: Annotated[bool, Field(description="Wait for the run")] = False,
) -> core.BundleCommandResult:
    """Run a deployed bundle job/pipeline (CLI); gives run_id."""
    return core.run(
        path, resource_key, target, params, wait, local=runtime_of(ctx).backend_kind == "local"
    )
