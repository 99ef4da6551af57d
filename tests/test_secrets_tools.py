"""secrets_* tools through the in-memory MCP client: values go in and never come out."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from databricks.sdk.errors import NotFound

from tests.conftest import fails, ok, text_of

pytestmark = pytest.mark.anyio

VALUE = "pa55-w0rd-never-shown"


def scope_name() -> str:
    return f"t-secrets-{uuid.uuid4().hex[:8]}"


def shown(result: Any) -> str:
    """Everything an agent sees of a result: its text and its structured content."""
    return text_of(result) + json.dumps(result.structured_content or {})


async def test_put_list_and_delete_a_secret_never_show_its_value(mcp: Any, ws: Any) -> None:
    scope = scope_name()
    missing = await fails(mcp, "secrets_put", scope=scope, key="api", value=VALUE)
    assert missing.startswith("RESOURCE_DOES_NOT_EXIST: Scope ") and "create_scope=true" in missing
    assert VALUE not in missing

    put = await ok(mcp, "secrets_put", scope=scope, key="api", value=VALUE, create_scope=True)
    assert put.structured_content == {
        "scope": scope, "key": "api", "bytes": len(VALUE), "replaced": False,
        "created_scope": True,
    }  # fmt: skip
    assert f'dbutils.secrets.get("{scope}", "api")' in text_of(put)
    assert base64.b64decode(ws.secrets.get_secret(scope, "api").value).decode() == VALUE

    scopes = await ok(mcp, "secrets_list_scopes")
    assert {"name": scope, "backend_type": "DATABRICKS"} in scopes.structured_content["scopes"]
    listed = await ok(mcp, "secrets_list", scope=scope)
    [entry] = listed.structured_content["secrets"]
    assert entry["key"] == "api" and entry["updated_at"] > 0
    assert "| api |" in text_of(listed)

    again = await fails(mcp, "secrets_put", scope=scope, key="api", value="other-value-123")
    assert again.startswith("RESOURCE_ALREADY_EXISTS: ") and "overwrite=true" in again
    replaced = await ok(
        mcp, "secrets_put", scope=scope, key="api", value="rotated-value-456", overwrite=True
    )
    assert replaced.structured_content["replaced"] is True
    assert text_of(replaced).startswith(f"Replaced secret {scope}/api")
    for result in (put, scopes, listed, replaced):
        assert VALUE not in shown(result) and "rotated-value-456" not in shown(result)

    preview = await ok(mcp, "secrets_delete", scope=scope, key="api")
    assert text_of(preview) == (
        f"Would delete secret {scope}/api. Nothing changed. Call again with confirm=true to delete."
    )
    assert [s.key for s in ws.secrets.list_secrets(scope)] == ["api"]
    done = await ok(mcp, "secrets_delete", scope=scope, key="api", confirm=True)
    assert done.structured_content["deleted"] is True
    assert list(ws.secrets.list_secrets(scope)) == []
    gone = await fails(mcp, "secrets_delete", scope=scope, key="api", confirm=True)
    assert gone.startswith(f"RESOURCE_DOES_NOT_EXIST: Secret {scope}/api does not exist.")


async def test_deleting_a_scope_says_how_many_secrets_go_with_it(mcp: Any, ws: Any) -> None:
    scope = scope_name()
    ws.secrets.create_scope(scope)
    for key in ("a", "b"):
        ws.secrets.put_secret(scope, key, string_value=f"value-{key}")
    preview = await ok(mcp, "secrets_delete", scope=scope)
    assert text_of(preview).startswith(f"Would delete scope {scope} and its 2 secret(s).")
    assert scope in [s.name for s in ws.secrets.list_scopes()]
    await ok(mcp, "secrets_delete", scope=scope, confirm=True)
    assert scope not in [s.name for s in ws.secrets.list_scopes()]
    with pytest.raises(NotFound):
        list(ws.secrets.list_secrets(scope))
    missing = await fails(mcp, "secrets_list", scope=scope)
    assert missing.startswith("RESOURCE_DOES_NOT_EXIST: Scope ")


async def test_a_refused_value_is_not_echoed_in_the_error(mcp: Any, ws: Any) -> None:
    scope = scope_name()
    ws.secrets.create_scope(scope)
    big = "s3cr3t" * 30_000  # over the service's 128 KiB limit
    error = await fails(mcp, "secrets_put", scope=scope, key="big", value=big)
    assert error.startswith("INVALID_PARAMETER_VALUE: ") and "s3cr3ts3cr3t" not in error
    bad_key = await fails(mcp, "secrets_put", scope=scope, key="bad key!", value=VALUE)
    assert "Invalid secret key" in bad_key and VALUE not in bad_key
    ws.secrets.delete_scope(scope)
