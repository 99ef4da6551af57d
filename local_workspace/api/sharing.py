"""Delta Sharing REST API as the SDK's ``w.shares``, ``w.recipients``, ``w.providers`` and
``w.recipient_activation`` call it (``/api/2.1/unity-catalog/{shares,recipients,providers}``).

Shares, recipients and providers are metadata (local_workspace/catalog/sharing.py). What
needs a Delta Sharing server (a recipient downloading its credential, a provider's remote
shares) answers as a workspace without one: an empty list, or FEATURE_DISABLED.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.api.refusals import feature_disabled, run, sharing_store
from local_workspace.api.uc import PREFIX, catalog_of, page
from local_workspace.catalog.sharing import SharingStore
from local_workspace.errors import invalid, not_found
from local_workspace.http import json_body, json_response, query_bool, query_int, require
from local_workspace.state import WorkspaceState


@cache
def _sdk() -> Any:
    """The SDK's sharing dataclasses, imported on first use."""
    from databricks.sdk.service import sharing

    return sharing


def _store(request: Request) -> SharingStore:
    return sharing_store(request.app.state.workspace)


def _host(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# -- shares ----------------------------------------------------------------------------


async def shares(request: Request) -> Response:
    """GET: list shares (paged); POST: create one."""
    sharing = _store(request)
    if request.method == "POST":
        body = await json_body(request)
        info = await run(
            sharing.create_share,
            str(require(body, "name")),
            body.get("comment"),
            body.get("storage_root"),
        )
        return json_response(_sdk().ShareInfo.from_dict(info).as_dict())
    items = await run(sharing.list_shares)
    return json_response(page(request, items, "shares", _sdk().ShareInfo.from_dict))


async def share(request: Request) -> Response:
    """GET (objects with include_shared_data=true), PATCH or DELETE one share."""
    sharing = _store(request)
    name = request.path_params["name"]
    if request.method == "DELETE":
        await run(sharing.delete_share, name)
        return json_response({})
    if request.method == "PATCH":
        body = await json_body(request)
        info = await run(sharing.update_share, name, body)
    else:
        info = await run(sharing.get_share, name, query_bool(request, "include_shared_data"))
    return json_response(_sdk().ShareInfo.from_dict(info).as_dict())


async def share_permissions(request: Request) -> Response:
    """GET: which recipients may read the share; PATCH: grant or revoke SELECT."""
    sharing = _store(request)
    name = request.path_params["name"]
    if request.method == "PATCH":
        body = await json_body(request)
        changes = body.get("changes") or []
        if not isinstance(changes, list):
            raise invalid("changes must be a list.")
        assignments = await run(sharing.update_share_permissions, name, changes)
        if body.get("omit_permissions_list"):
            return json_response({})
        return json_response({"privilege_assignments": assignments})
    assignments = await run(sharing.share_permissions, name)
    return json_response(
        _sdk()
        .GetSharePermissionsResponse.from_dict({"privilege_assignments": assignments})
        .as_dict()
    )


# -- recipients ------------------------------------------------------------------------


async def recipients(request: Request) -> Response:
    """GET: list recipients (paged); POST: create one."""
    sharing = _store(request)
    if request.method == "POST":
        body = await json_body(request)
        require(body, "name")
        require(body, "authentication_type")
        metastore_id = catalog_of(request).metastore_id
        info = await run(sharing.create_recipient, body, metastore_id, _host(request))
        return json_response(_sdk().RecipientInfo.from_dict(info).as_dict())
    items = await run(sharing.list_recipients)
    return json_response(page(request, items, "recipients", _sdk().RecipientInfo.from_dict))


def _one(kind: str, info_type: str) -> Callable[[Request], Awaitable[Response]]:
    """The GET/PATCH/DELETE handler of one ``kind`` (recipient, provider) by name: the
    store's ``get_<kind>``, ``update_<kind>`` and ``delete_<kind>``, answered as the SDK's
    ``info_type``."""

    async def handle(request: Request) -> Response:
        sharing = _store(request)
        name = request.path_params["name"]
        if request.method == "DELETE":
            await run(getattr(sharing, f"delete_{kind}"), name)
            return json_response({})
        if request.method == "PATCH":
            body = await json_body(request)
            info = await run(getattr(sharing, f"update_{kind}"), name, body)
        else:
            info = await run(getattr(sharing, f"get_{kind}"), name)
        return json_response(getattr(_sdk(), info_type).from_dict(info).as_dict())

    handle.__doc__ = f"GET, PATCH or DELETE one {kind}."
    return handle


recipient = _one("recipient", "RecipientInfo")


async def rotate_token(request: Request) -> Response:
    """A new activation link for a TOKEN recipient."""
    body = await json_body(request)
    seconds = query_int(request, "existing_token_expire_in_seconds")
    raw = body.get("existing_token_expire_in_seconds", seconds)
    if raw is None:
        raise invalid("Missing required field: existing_token_expire_in_seconds")
    info = await run(
        _store(request).rotate_token, request.path_params["name"], int(raw), _host(request)
    )
    return json_response(_sdk().RecipientInfo.from_dict(info).as_dict())


async def recipient_share_permissions(request: Request) -> Response:
    """The shares a recipient may read."""
    found = await run(_store(request).recipient_share_permissions, request.path_params["name"])
    return json_response(
        _sdk().GetRecipientSharePermissionsResponse.from_dict({"permissions_out": found}).as_dict()
    )


async def activation_info(request: Request) -> Response:
    """The public activation page's info: nothing to retrieve without a sharing server."""
    return json_response({})


async def retrieve_token(request: Request) -> Response:
    """Downloading a recipient's credential needs a Delta Sharing server to read from."""
    raise feature_disabled(
        "Open Delta Sharing (downloading a recipient credential)",
        "the local workspace runs no Delta Sharing server; share with a real workspace",
    )


# -- providers -------------------------------------------------------------------------


async def providers(request: Request) -> Response:
    """GET: list providers (paged); POST: create one."""
    sharing = _store(request)
    if request.method == "POST":
        body = await json_body(request)
        require(body, "name")
        require(body, "authentication_type")
        info = await run(sharing.create_provider, body)
        return json_response(_sdk().ProviderInfo.from_dict(info).as_dict())
    items = await run(sharing.list_providers)
    return json_response(page(request, items, "providers", _sdk().ProviderInfo.from_dict))


provider = _one("provider", "ProviderInfo")


async def provider_shares(request: Request) -> Response:
    """The shares a provider offers: none reachable, the local workspace is offline."""
    await run(_store(request).get_provider, request.path_params["name"])
    return json_response({})


async def provider_share_assets(request: Request) -> Response:
    """Assets of a provider's share: the share lives on a server the workspace cannot reach."""
    await run(_store(request).get_provider, request.path_params["provider_name"])
    share_name = request.path_params["share_name"]
    raise not_found(f"Share '{share_name}' does not exist.", "SHARE_DOES_NOT_EXIST")


async def federation_policies(request: Request) -> Response:
    """GET: a recipient's OIDC federation policies (none); POST: needs an identity provider."""
    await run(_store(request).get_recipient, request.path_params["recipient_name"])
    if request.method == "POST":
        raise feature_disabled(
            "OIDC federation for Delta Sharing", "the local workspace trusts no identity provider"
        )
    return json_response({})


async def federation_policy(request: Request) -> Response:
    """One federation policy of a recipient: there are none."""
    await run(_store(request).get_recipient, request.path_params["recipient_name"])
    raise not_found(f"Federation policy '{request.path_params['name']}' does not exist.")


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The Delta Sharing routes."""
    both = ["GET", "POST"]
    one = ["GET", "PATCH", "DELETE"]
    return [
        Route(f"{PREFIX}/shares", shares, methods=both),
        Route(f"{PREFIX}/shares/{{name}}", share, methods=one),
        Route(f"{PREFIX}/shares/{{name}}/permissions", share_permissions, methods=["GET", "PATCH"]),
        Route(f"{PREFIX}/recipients", recipients, methods=both),
        Route(f"{PREFIX}/recipients/{{name}}", recipient, methods=one),
        Route(f"{PREFIX}/recipients/{{name}}/rotate-token", rotate_token, methods=["POST"]),
        Route(
            f"{PREFIX}/recipients/{{name}}/share-permissions",
            recipient_share_permissions,
            methods=["GET"],
        ),
        Route(
            f"{PREFIX}/public/data_sharing_activation_info/{{url:path}}",
            activation_info,
            methods=["GET"],
        ),
        Route(
            f"{PREFIX}/public/data_sharing_activation/{{url:path}}",
            retrieve_token,
            methods=["GET"],
        ),
        Route(
            "/api/2.0/data-sharing/recipients/{recipient_name}/federation-policies",
            federation_policies,
            methods=both,
        ),
        Route(
            "/api/2.0/data-sharing/recipients/{recipient_name}/federation-policies/{name}",
            federation_policy,
            methods=["GET", "DELETE"],
        ),
        Route(f"{PREFIX}/providers", providers, methods=both),
        Route(f"{PREFIX}/providers/{{name}}", provider, methods=one),
        Route(f"{PREFIX}/providers/{{name}}/shares", provider_shares, methods=["GET"]),
        Route(
            "/api/2.1/data-sharing/providers/{provider_name}/shares/{share_name}",
            provider_share_assets,
            methods=["GET"],
        ),
    ]
