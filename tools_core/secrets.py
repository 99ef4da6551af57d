"""Secret scopes and secrets (Secrets API 2.0), through the SDK's ``client.secrets``.

Values go in (``put_secret``) and never come out: lists carry keys and update times only,
and no result or error built here contains a value. Jobs read values with
``dbutils.secrets.get``, which masks them in task output. The SDK is imported inside
functions only.
"""

from __future__ import annotations

from contextlib import suppress
from itertools import islice

from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.results import Result, markdown_table

DEFAULT_LIMIT = 200


class SecretScopeEntry(Result):
    """One secret scope."""

    name: str
    backend_type: str | None = None


class SecretScopes(Result):
    """The answer of secrets_list_scopes."""

    scopes: list[SecretScopeEntry]
    truncated: bool = False

    def to_text(self) -> str:
        rows = [[s.name, s.backend_type or ""] for s in self.scopes]
        more = "\n(truncated: raise limit)" if self.truncated else ""
        return markdown_table(["scope", "backend"], rows) + more


def list_scopes(backend: Backend, limit: int = DEFAULT_LIMIT) -> SecretScopes:
    """The workspace's secret scopes, at most ``limit``."""
    found = list(islice(backend.client.secrets.list_scopes(), limit + 1))
    scopes = [
        SecretScopeEntry(
            name=s.name or "", backend_type=s.backend_type.value if s.backend_type else None
        )
        for s in found[:limit]
    ]
    return SecretScopes(scopes=scopes, truncated=len(found) > limit)


class SecretKey(Result):
    """One secret's key and when it was last written (never its value)."""

    key: str
    updated_at: int | None = None


class SecretKeys(Result):
    """The answer of secrets_list."""

    scope: str
    secrets: list[SecretKey]
    truncated: bool = False

    def to_text(self) -> str:
        rows = [[s.key, s.updated_at] for s in self.secrets]
        more = "\n(truncated: raise limit)" if self.truncated else ""
        return f"scope {self.scope}\n" + markdown_table(["key", "updated_ms"], rows) + more


def list_secrets(backend: Backend, scope: str, limit: int = DEFAULT_LIMIT) -> SecretKeys:
    """Keys of a scope's secrets with their last update (epoch ms), at most ``limit``."""
    found = list(islice(backend.client.secrets.list_secrets(scope), limit + 1))
    secrets = [
        SecretKey(key=s.key or "", updated_at=s.last_updated_timestamp) for s in found[:limit]
    ]
    return SecretKeys(scope=scope, secrets=secrets, truncated=len(found) > limit)


def _keys(backend: Backend, scope: str) -> set[str] | None:
    """The keys of ``scope``, or None when the scope does not exist."""
    from databricks.sdk.errors import NotFound

    try:
        return {s.key or "" for s in backend.client.secrets.list_secrets(scope)}
    except NotFound:
        return None


class SecretPut(Result):
    """The answer of secrets_put (the value is never part of it)."""

    scope: str
    key: str
    bytes: int
    replaced: bool = False
    created_scope: bool = False

    def to_text(self) -> str:
        made = f"Created scope {self.scope}. " if self.created_scope else ""
        verb = "Replaced" if self.replaced else "Stored"
        return (
            f"{made}{verb} secret {self.scope}/{self.key} ({self.bytes} bytes). Jobs read it "
            f'with dbutils.secrets.get("{self.scope}", "{self.key}").'
        )


def put_secret(
    backend: Backend,
    scope: str,
    key: str,
    value: str,
    overwrite: bool = False,
    create_scope: bool = False,
) -> SecretPut:
    """Store ``value`` under ``scope``/``key``. An existing key is replaced only with
    ``overwrite``; a missing scope is created only with ``create_scope``."""
    from databricks.sdk.errors import ResourceAlreadyExists

    keys = _keys(backend, scope)
    created = False
    if keys is None:
        if not create_scope:
            raise ToolsCoreError(
                "RESOURCE_DOES_NOT_EXIST",
                f"Scope {scope} does not exist.",
                "Pass create_scope=true to create it, or see secrets_list_scopes.",
            )
        # A repeat of a create that was applied answers "already exists": it is there.
        with suppress(ResourceAlreadyExists):
            backend.client.secrets.create_scope(scope)
        created, keys = True, set()
    replaced = key in keys
    if replaced and not overwrite:
        raise ToolsCoreError(
            "RESOURCE_ALREADY_EXISTS",
            f"Secret {scope}/{key} exists; nothing changed.",
            "Pass overwrite=true to replace its value.",
        )
    # A put stores the same value again when repeated: the SDK's retries are safe.
    backend.client.secrets.put_secret(scope, key, string_value=value)
    return SecretPut(
        scope=scope,
        key=key,
        bytes=len(value.encode("utf-8")),
        replaced=replaced,
        created_scope=created,
    )


class SecretDelete(Result):
    """The answer of secrets_delete (a preview unless ``deleted``)."""

    scope: str
    key: str | None = None
    deleted: bool
    secrets_in_scope: int = 0

    def to_text(self) -> str:
        if self.key is not None:
            what = f"secret {self.scope}/{self.key}"
        else:
            what = f"scope {self.scope} and its {self.secrets_in_scope} secret(s)"
        if self.deleted:
            return f"Deleted {what}."
        return f"Would delete {what}. Nothing changed. Call again with confirm=true to delete."


def delete(
    backend: Backend, scope: str, key: str | None = None, confirm: bool = False
) -> SecretDelete:
    """Delete one secret, or (without ``key``) a whole scope with its secrets; without
    ``confirm`` only say what would be deleted."""
    from databricks.sdk.errors import NotFound

    if key is not None and not key.strip():
        raise InvalidInput("key is empty.", "Omit key to delete the whole scope.")
    keys = _keys(backend, scope)
    if keys is None:
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            f"Scope {scope} does not exist.",
            "See secrets_list_scopes.",
        )
    if key is not None and key not in keys:
        raise ToolsCoreError(
            "RESOURCE_DOES_NOT_EXIST",
            f"Secret {scope}/{key} does not exist.",
            f"See secrets_list scope={scope!r}.",
        )
    result = SecretDelete(scope=scope, key=key, deleted=False, secrets_in_scope=len(keys))
    if not confirm:
        return result
    # It existed a moment ago: "not found" now means it is gone, as asked (a retried delete
    # that was applied, or someone deleted it meanwhile).
    with suppress(NotFound):
        if key is None:
            backend.client.secrets.delete_scope(scope)
        else:
            backend.client.secrets.delete_secret(scope, key)
    return result.model_copy(update={"deleted": True})
