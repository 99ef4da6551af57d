"""Workspace-level REST APIs through the real SDK: Secrets, SCIM, DBFS."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from databricks.sdk.errors import (
    BadRequest,
    NotFound,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceConflict,
    ResourceDoesNotExist,
)
from databricks.sdk.service import iam
from databricks.sdk.service.workspace import AclPermission

from local_workspace.identity import user_group_names
from local_workspace.runner import LocalWorkspace


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- secrets ----------------------------------------------------------------------------------
def test_secret_round_trip_returns_base64_values_and_lists_only_keys(ws: Any) -> None:
    scope = _name("scope")
    ws.secrets.create_scope(scope)
    assert scope in [s.name for s in ws.secrets.list_scopes()]
    ws.secrets.put_secret(scope, "password", string_value="s3cr3t-välue")
    ws.secrets.put_secret(scope, "blob", bytes_value=base64.b64encode(b"\x00\xff").decode())
    listed = list(ws.secrets.list_secrets(scope))
    assert [s.key for s in listed] == ["blob", "password"]
    assert all(s.last_updated_timestamp for s in listed)
    assert "s3cr3t" not in repr(listed)
    got = ws.secrets.get_secret(scope, "password")
    assert base64.b64decode(got.value).decode() == "s3cr3t-välue"
    assert base64.b64decode(ws.secrets.get_secret(scope, "blob").value) == b"\x00\xff"
    ws.secrets.put_secret(scope, "password", string_value="rotated")
    assert base64.b64decode(ws.secrets.get_secret(scope, "password").value) == b"rotated"
    ws.secrets.delete_secret(scope, "blob")
    with pytest.raises(ResourceDoesNotExist):
        ws.secrets.get_secret(scope, "blob")
    ws.secrets.delete_scope(scope)
    assert scope not in [s.name for s in ws.secrets.list_scopes()]


def test_secret_errors_use_databricks_codes(ws: Any) -> None:
    scope = _name("scope")
    ws.secrets.create_scope(scope)
    with pytest.raises(ResourceAlreadyExists, match=f"Scope {scope} already exists!"):
        ws.secrets.create_scope(scope)
    with pytest.raises(ResourceDoesNotExist, match="Scope nope-404 does not exist!"):
        list(ws.secrets.list_secrets("nope-404"))
    with pytest.raises(ResourceDoesNotExist):
        ws.secrets.put_secret("nope-404", "k", string_value="v")
    with pytest.raises(ResourceDoesNotExist):
        ws.secrets.delete_secret(scope, "never-put")
    with pytest.raises(BadRequest):
        ws.secrets.put_secret(scope, "both", string_value="a", bytes_value="YQ==")
    with pytest.raises(BadRequest):
        ws.secrets.create_scope("bad name!")
    ws.secrets.delete_scope(scope)
    with pytest.raises(ResourceDoesNotExist):
        ws.secrets.delete_scope(scope)


def test_secret_acls_put_get_list_delete(ws: Any) -> None:
    scope = _name("scope")
    ws.secrets.create_scope(scope)
    user = ws.current_user.me().user_name
    assert [(a.principal, a.permission) for a in ws.secrets.list_acls(scope)] == [
        (user, AclPermission.MANAGE)
    ]
    ws.secrets.put_acl(scope, "data-scientists", AclPermission.READ)
    assert ws.secrets.get_acl(scope, "data-scientists").permission == AclPermission.READ
    ws.secrets.put_acl(scope, "data-scientists", AclPermission.WRITE)
    assert {a.principal: a.permission for a in ws.secrets.list_acls(scope)} == {
        user: AclPermission.MANAGE,
        "data-scientists": AclPermission.WRITE,
    }
    ws.secrets.delete_acl(scope, "data-scientists")
    with pytest.raises(ResourceDoesNotExist):
        ws.secrets.get_acl(scope, "data-scientists")
    ws.secrets.delete_scope(scope)


def test_scope_names_may_hold_an_at_sign_and_are_case_insensitive(ws: Any) -> None:
    scope = _name("Team@Example.com")
    ws.secrets.create_scope(scope)
    with pytest.raises(ResourceAlreadyExists):
        ws.secrets.create_scope(scope.lower())
    ws.secrets.put_secret(scope.upper(), "k", string_value="v")
    assert [s.key for s in ws.secrets.list_secrets(scope.lower())] == ["k"]
    assert scope in [s.name for s in ws.secrets.list_scopes()]  # listed as created
    ws.secrets.delete_scope(scope.lower())
    assert scope not in [s.name for s in ws.secrets.list_scopes()]


def test_secret_values_stay_out_of_the_workspace_log(ws: Any, local_ws: LocalWorkspace) -> None:
    scope = _name("scope")
    ws.secrets.create_scope(scope)
    ws.secrets.put_secret(scope, "token", string_value="never-logged-4f1c9a")
    ws.secrets.get_secret(scope, "token")
    assert "never-logged-4f1c9a" not in local_ws.log_path.read_text(errors="replace")
    ws.secrets.delete_scope(scope)


# -- SCIM -------------------------------------------------------------------------------------
def test_local_user_is_an_admin_listed_by_users_and_me(ws: Any, local_ws: LocalWorkspace) -> None:
    me = ws.current_user.me()
    assert {g.display for g in me.groups or []} == {"admins", "users"}
    found = list(ws.users.list(filter=f'userName eq "{me.user_name}"'))
    assert [u.id for u in found] == [me.id]
    assert ws.users.get(me.id).user_name == me.user_name
    admins = list(ws.groups.list(filter='displayName eq "admins"'))
    assert len(admins) == 1
    assert me.id in [m.value for m in admins[0].members or []]
    assert user_group_names(local_ws.config.data_dir, me.user_name) == ["admins", "users"]


def test_users_create_filter_page_patch_delete(ws: Any) -> None:
    names = [f"{_name('peer')}@example.com" for _ in range(3)]
    created = [ws.users.create(user_name=name, display_name=name.split("@")[0]) for name in names]
    assert all(u.id and u.active for u in created)
    with pytest.raises(ResourceConflict):
        ws.users.create(user_name=names[0])
    # Pages of one: the SDK walks startIndex until a page comes back empty.
    everyone = list(ws.users.list(count=1))
    assert {u.user_name for u in everyone} >= set(names)
    assert len({u.id for u in everyone}) == len(everyone)
    only = list(ws.users.list(filter=f'userName eq "{names[1]}"', attributes="userName"))
    assert [(u.id, u.user_name, u.display_name) for u in only] == [(created[1].id, names[1], None)]
    assert list(ws.users.list(filter='userName sw "peer-" and active eq false')) == []
    ws.users.patch(
        created[0].id,
        operations=[iam.Patch(op=iam.PatchOp.REPLACE, path="displayName", value="Renamed")],
        schemas=[iam.PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP],
    )
    assert ws.users.get(created[0].id).display_name == "Renamed"
    for user in created:
        ws.users.delete(user.id)
    with pytest.raises(NotFound):
        ws.users.get(created[0].id)


def test_groups_members_added_and_removed_with_patch_ops(ws: Any, local_ws: LocalWorkspace) -> None:
    user = ws.users.create(user_name=f"{_name('member')}@example.com")
    group = ws.groups.create(display_name=_name("data-eng"))
    with pytest.raises(ResourceConflict):
        ws.groups.create(display_name=group.display_name)
    schemas = [iam.PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP]
    ws.groups.patch(
        group.id,
        operations=[
            iam.Patch(op=iam.PatchOp.ADD, value={"members": [{"value": user.id}]}),
        ],
        schemas=schemas,
    )
    assert [m.value for m in ws.groups.get(group.id).members or []] == [user.id]
    assert group.display_name in {g.display for g in ws.users.get(user.id).groups or []}
    assert group.display_name in user_group_names(local_ws.config.data_dir, user.user_name)
    ws.groups.patch(
        group.id,
        operations=[iam.Patch(op=iam.PatchOp.REMOVE, path=f'members[value eq "{user.id}"]')],
        schemas=schemas,
    )
    assert not ws.groups.get(group.id).members
    ws.groups.delete(group.id)
    ws.users.delete(user.id)
    with pytest.raises(NotFound):
        ws.groups.get(group.id)


def test_service_principals_get_an_application_id(ws: Any) -> None:
    sp = ws.service_principals.create(display_name=_name("etl-bot"))
    assert sp.application_id and sp.active
    found = list(ws.service_principals.list(filter=f'applicationId eq "{sp.application_id}"'))
    assert [s.id for s in found] == [sp.id]
    ws.service_principals.delete(sp.id)
    assert list(ws.service_principals.list(filter=f'displayName eq "{sp.display_name}"')) == []


def test_system_groups_cannot_be_deleted(ws: Any) -> None:
    admins = next(iter(ws.groups.list(filter='displayName eq "admins"')))
    with pytest.raises(BadRequest):
        ws.groups.delete(admins.id)


# -- DBFS -------------------------------------------------------------------------------------
def test_dbfs_root_answers_as_a_workspace_with_it_disabled(ws: Any) -> None:
    with pytest.raises(PermissionDenied, match="Public DBFS root is disabled"):
        ws.dbfs.get_status("/tmp/x.csv")
    with pytest.raises(PermissionDenied, match="/FileStore/a"):
        ws.dbfs.mkdirs("dbfs:/FileStore/a")
    with pytest.raises(PermissionDenied):
        list(ws.dbfs.list("/"))


def test_dbfs_helpers_on_volume_paths_use_the_files_api(ws: Any) -> None:
    schema = _name("dbfsvol").replace("-", "_")
    ws.schemas.create(name=schema, catalog_name="main")
    ws.volumes.create(catalog_name="main", schema_name=schema, name="raw", volume_type=_managed())
    root = f"/Volumes/main/{schema}/raw"
    ws.dbfs.mkdirs(f"{root}/in")
    ws.dbfs.upload(f"{root}/in/a.txt", _bytes(b"hello dbfs"), overwrite=True)
    assert ws.dbfs.exists(f"dbfs:{root}/in/a.txt")
    # read(-1): the SDK's volume reader fails on a bare read() (its default is `...`).
    assert ws.dbfs.download(f"{root}/in/a.txt").read(-1) == b"hello dbfs"
    assert [f.path for f in ws.dbfs.list(f"{root}/in")] == [f"{root}/in/a.txt"]
    ws.dbfs.delete(f"{root}/in", recursive=True)
    assert not ws.dbfs.exists(f"{root}/in")


def _managed() -> Any:
    from databricks.sdk.service.catalog import VolumeType

    return VolumeType.MANAGED


def _bytes(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


# -- tokens and workspace-conf ---------------------------------------------------------------
def test_a_created_token_authenticates_until_revoked(ws: Any, local_ws: LocalWorkspace) -> None:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.core import Config
    from databricks.sdk.errors import Unauthenticated

    made = ws.tokens.create(comment="ci token", lifetime_seconds=3600)
    assert made.token_value and made.token_value.startswith("dapi")
    info = made.token_info
    assert info.comment == "ci token" and info.expiry_time > info.creation_time
    listed = {t.token_id: t for t in ws.tokens.list()}
    assert listed[info.token_id].comment == "ci token"
    config = Config(host=local_ws.url, token=made.token_value, retry_timeout_seconds=10)
    other = WorkspaceClient(config=config)
    assert other.current_user.me().user_name == ws.current_user.me().user_name
    ws.tokens.delete(info.token_id)
    assert info.token_id not in {t.token_id for t in ws.tokens.list()}
    with pytest.raises(Unauthenticated):
        other.current_user.me()
    with pytest.raises(ResourceDoesNotExist):
        ws.tokens.delete(info.token_id)


def test_workspace_conf_reads_and_sets_known_keys(ws: Any) -> None:
    keys = "enableTokensConfig,enableIpAccessLists"
    assert ws.workspace_conf.get_status(keys) == {
        "enableTokensConfig": "true",
        "enableIpAccessLists": "false",
    }
    ws.workspace_conf.set_status({"enableTokensConfig": "false"})
    try:
        assert ws.workspace_conf.get_status("enableTokensConfig") == {"enableTokensConfig": "false"}
        with pytest.raises(PermissionDenied):
            ws.tokens.create(comment="refused")
    finally:
        ws.workspace_conf.set_status({"enableTokensConfig": "true"})
    with pytest.raises(BadRequest, match="noSuchKey"):
        ws.workspace_conf.get_status("noSuchKey")
