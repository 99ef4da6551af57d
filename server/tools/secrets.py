"""secrets tools: secret scopes and keys. Values go in, never come out."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from server.registry import reader, writer
from server.runtime import backend_of
from tools_core import secrets as core

Scope = Annotated[str, Field(description="Secret scope")]
Key = Annotated[str, Field(description="Secret key")]
Limit = Annotated[int, Field(ge=1, le=1000, description="Max rows")]


@reader("secrets")
def secrets_list_scopes(ctx: Context, limit: Limit = 200) -> core.SecretScopes:
    """Secret scopes of the workspace."""
    return core.list_scopes(backend_of(ctx), limit)


@reader("secrets")
def secrets_list(ctx: Context, scope: Scope, limit: Limit = 200) -> core.SecretKeys:
    """Keys in a scope with last-update time; never values."""
    return core.list_secrets(backend_of(ctx), scope, limit)


@writer("secrets", destructive=True, idempotent=True)
def secrets_put(
    ctx: Context,
    scope: Scope,
    key: Key,
    value: Annotated[str, Field(description="Secret value (never echoed)")],
    overwrite: Annotated[bool, Field(description="Replace existing value")] = False,
    create_scope: Annotated[bool, Field(description="Create scope if missing")] = False,
) -> core.SecretPut:
    """Store a secret; replaces one only with overwrite=true. Jobs: dbutils.secrets.get."""
    return core.put_secret(backend_of(ctx), scope, key, value, overwrite, create_scope)


@writer("secrets", destructive=True, idempotent=True)
def secrets_delete(
    ctx: Context,
    scope: Scope,
    key: Annotated[str | None, Field(description="Secret key; omit to delete the scope")] = None,
    confirm: Annotated[bool, Field(description="Really delete")] = False,
) -> core.SecretDelete:
    """Delete a secret or a whole scope. Without confirm=true: preview only."""
    return core.delete(backend_of(ctx), scope, key, confirm)
