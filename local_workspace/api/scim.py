"""SCIM 2.0 of the workspace (``/api/2.0/preview/scim/v2/...``): ``Me``, ``Users``,
``Groups`` and ``ServicePrincipals`` as the SDK's ``w.current_user``, ``w.users``,
``w.groups`` and ``w.service_principals`` call them.

Lists page like Databricks (``startIndex`` from 1, ``count``; the SDK reads pages until one
comes back empty), filter (``userName eq "..."``), select attributes and sort. PATCH applies
SCIM PatchOp operations (``add``/``remove``/``replace``; ``members[value eq "id"]``).
Errors have SCIM's shape (``detail``, ``status``), which the SDK turns into its typed errors.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import ApiError
from local_workspace.http import json_body, json_response
from local_workspace.identity import (
    GROUP,
    SERVICE_PRINCIPAL,
    SYSTEM_GROUPS,
    USER,
    IdentityStore,
    Principal,
    identity_store,
    new_application_id,
)
from local_workspace.scim_filter import FilterError, lookup, parse_filter, select
from local_workspace.state import WorkspaceState

PREFIX = "/api/2.0/preview/scim/v2"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SCHEMAS = {
    USER: [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:workspace:2.0:User",
    ],
    GROUP: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    SERVICE_PRINCIPAL: ["urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal"],
}
# The attribute that names each kind uniquely, and the path segment of its resources.
UNIQUE = {USER: "userName", GROUP: "displayName", SERVICE_PRINCIPAL: "applicationId"}
RESOURCE = {USER: "Users", GROUP: "Groups", SERVICE_PRINCIPAL: "ServicePrincipals"}
LABEL = {USER: "User", GROUP: "Group", SERVICE_PRINCIPAL: "ServicePrincipal"}
# Fields computed from memberships, never stored with the principal.
_DERIVED = {"id", "schemas", "groups", "members", "meta"}
_MEMBER_FILTER = re.compile(r'^(members|groups)\[\s*value\s+eq\s+"([^"]*)"\s*\]$', re.I)
_VALUE_FILTER = re.compile(r'^(\w+)\[\s*value\s+eq\s+"([^"]*)"\s*\]$', re.I)
DEFAULT_COUNT = 10000


class ScimError(ApiError):
    """An error in SCIM's shape (``detail``/``status``), as Databricks' SCIM answers."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(status, f"SCIM_{status}", detail)
        self.scim_type = scim_type

    def body(self) -> dict[str, object]:
        """The SCIM error body."""
        body: dict[str, object] = {
            "schemas": [ERROR_SCHEMA],
            "detail": self.message,
            "status": str(self.status),
        }
        if self.scim_type:
            body["scimType"] = self.scim_type
        return body


def store_of(state: WorkspaceState) -> IdentityStore:
    """The workspace's identity store, opened (and seeded) on first use."""
    return state.service("identity", lambda: identity_store(state.config.data_dir, state.user))


def _ref(principal: Principal) -> dict[str, Any]:
    name = principal.data.get("displayName") or principal.name
    return {
        "display": name,
        "value": principal.id,
        "$ref": f"{RESOURCE[principal.kind]}/{principal.id}",
    }


def render(store: IdentityStore, principal: Principal) -> dict[str, Any]:
    """A principal as Databricks' SCIM answers it."""
    body: dict[str, Any] = {"id": principal.id, UNIQUE[principal.kind]: principal.name}
    body.update(principal.data)
    if principal.kind == GROUP:
        body["members"] = [_ref(member) for member in store.members(principal.id)]
        body["meta"] = {"resourceType": "WorkspaceGroup"}
    body["groups"] = [{**_ref(group), "type": "direct"} for group in store.groups_of(principal.id)]
    body["schemas"] = SCHEMAS[principal.kind]
    return {k: v for k, v in body.items() if v != [] or k in ("schemas",)}


def _missing(kind: str, principal_id: str) -> ScimError:
    return ScimError(404, f"{LABEL[kind]} with id {principal_id} not found.")


def _exists(kind: str, name: str) -> ScimError:
    what = {USER: "username", GROUP: "name", SERVICE_PRINCIPAL: "application id"}[kind]
    return ScimError(409, f"{LABEL[kind]} with {what} {name} already exists.")


def _member_ids(values: Any) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list):
        values = [values]
    ids = [str(item.get("value")) for item in values if isinstance(item, dict)]
    if len(ids) != len(values) or "None" in ids:
        raise ScimError(400, "Each member must be an object with a 'value' (a principal id).")
    return ids


def _fields(kind: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(unique name, stored fields) of a create/replace request body."""
    unique = UNIQUE[kind]
    name = body.get(unique)
    if kind == SERVICE_PRINCIPAL and not name:
        name = new_application_id()
    if not isinstance(name, str) or not name.strip():
        raise ScimError(400, f"Request is missing required attribute '{unique}'.", "invalidValue")
    data = {k: v for k, v in body.items() if k not in _DERIVED and k != unique}
    if kind != GROUP:
        data.setdefault("active", True)
    if kind == USER:
        data.setdefault("displayName", name.split("@")[0])
        data.setdefault("emails", [{"value": name, "type": "work", "primary": True}])
    if kind == SERVICE_PRINCIPAL:
        data.setdefault("displayName", name)
    return name.strip(), data


def _memberships(body: dict[str, Any], kind: str) -> list[str]:
    """Member ids of a group body, or group ids of a user/service principal body."""
    return _member_ids(body.get("members" if kind == GROUP else "groups"))


class _Patch:
    """The changes of one PATCH, applied to a copy of the principal, saved at once."""

    def __init__(self, store: IdentityStore, principal: Principal) -> None:
        self.store = store
        self.principal = principal
        self.add: list[str] = []
        self.remove: list[str] = []
        self.add_to: list[str] = []  # groups a user/service principal joins
        self.leave: list[str] = []
        self.replace: list[str] | None = None

    def apply(self, op: str, path: str | None, value: Any) -> None:
        if not path:
            if not isinstance(value, dict):
                raise ScimError(400, "A patch operation without a path needs an object value.")
            for key, child in value.items():
                self.apply(op, key, child)
            return
        member = _MEMBER_FILTER.match(path)
        if member and op == "remove":
            self._membership(member.group(1).lower(), "remove", [member.group(2)])
            return
        if path.lower() in ("members", "groups"):
            ids = _member_ids(value)
            if op == "replace" and path.lower() == "members":
                self._membership("members", "add", [])  # checks the kind
                self.replace = ids
                return
            self._membership(path.lower(), op, ids)
            return
        self._attribute(op, path, value)

    def _membership(self, path: str, op: str, ids: list[str]) -> None:
        if path == "members" and self.principal.kind != GROUP:
            raise ScimError(400, f"Invalid path 'members' for a {LABEL[self.principal.kind]}.")
        if op not in ("add", "remove"):
            raise ScimError(400, f"Unsupported operation '{op}' on {path}.", "invalidSyntax")
        if path == "members":
            (self.add if op == "add" else self.remove).extend(ids)
        else:
            (self.add_to if op == "add" else self.leave).extend(ids)

    def _attribute(self, op: str, path: str, value: Any) -> None:
        data = self.principal.data
        unique = UNIQUE[self.principal.kind]
        if path in _DERIVED or path.split(".")[0] in _DERIVED:
            raise ScimError(400, f"Attribute '{path}' cannot be changed.", "mutability")
        selected = _VALUE_FILTER.match(path)
        if selected and op == "remove":
            attr, wanted = selected.group(1), selected.group(2)
            data[attr] = [i for i in data.get(attr, []) if i.get("value") != wanted]
            return
        if path == unique:
            if op == "remove" or not isinstance(value, str) or not value:
                raise ScimError(400, f"Attribute '{unique}' is required.", "mutability")
            self.principal.name = value
            return
        head, _, tail = path.partition(".")
        if op == "remove":
            if tail and isinstance(data.get(head), dict):
                data[head].pop(tail, None)
            elif isinstance(data.get(head), list) and value:
                drop = {str(v.get("value")) for v in value if isinstance(v, dict)}
                data[head] = [i for i in data[head] if str(i.get("value")) not in drop]
            else:
                data.pop(head, None)
            return
        if tail:
            data.setdefault(head, {})[tail] = value
        elif op == "add" and isinstance(data.get(head), list) and isinstance(value, list):
            known = {str(item.get("value")) for item in data[head] if isinstance(item, dict)}
            data[head] += [v for v in value if str(v.get("value")) not in known]
        else:
            data[head] = value

    def save(self) -> None:
        try:
            # Every group is checked before the first write: a bad id changes nothing.
            joined = [self.store.get(GROUP, group_id) for group_id in self.add_to]
            for group_id, group in zip(self.add_to, joined, strict=True):
                if group is None:
                    raise KeyError(group_id)
            self.store.update(self.principal, self.add, self.remove, self.replace)
            for group in joined:
                assert group is not None
                self.store.update(group, [self.principal.id])
            for group_id in self.leave:
                group = self.store.get(GROUP, group_id)
                if group is not None:
                    self.store.update(group, remove_members=[self.principal.id])
        except KeyError as exc:
            raise ScimError(404, f"Principal with id {exc.args[0]} not found.") from exc


def _list(request: Request, store: IdentityStore, kind: str) -> dict[str, Any]:
    params = request.query_params
    resources = [render(store, p) for p in store.all(kind)]
    text = params.get("filter")
    if text:
        try:
            predicate = parse_filter(text)
        except FilterError as exc:
            raise ScimError(400, f"Invalid filter '{text}': {exc}", "invalidFilter") from exc
        resources = [r for r in resources if predicate(r)]
    sort_by = params.get("sortBy")
    if sort_by:
        resources.sort(
            key=lambda r: str((lookup(r, sort_by) or [""])[0]).lower(),
            reverse=(params.get("sortOrder") or "").lower() == "descending",
        )
    try:
        start = max(int(params.get("startIndex") or 1), 1)
        count = int(params.get("count") or DEFAULT_COUNT)
    except ValueError as exc:
        raise ScimError(400, "startIndex and count must be integers.", "invalidValue") from exc
    page = resources[start - 1 : start - 1 + max(count, 0)]
    body: dict[str, Any] = {
        "totalResults": len(resources),
        "itemsPerPage": len(page),
        "startIndex": start,
        "schemas": [LIST_SCHEMA],
    }
    if page:
        attributes, excluded = params.get("attributes"), params.get("excludedAttributes")
        body["Resources"] = [select(r, attributes, excluded) for r in page]
    return body


def _routes_for(state: WorkspaceState, kind: str) -> list[BaseRoute]:
    base = f"{PREFIX}/{RESOURCE[kind]}"

    def load(principal_id: str) -> Principal:
        principal = store_of(state).get(kind, principal_id)
        if principal is None:
            raise _missing(kind, principal_id)
        return principal

    async def collection(request: Request) -> Response:
        store = store_of(state)
        if request.method == "GET":
            return json_response(await run_in_threadpool(_list, request, store, kind))
        body = await json_body(request)
        name, data = _fields(kind, body)
        members = _memberships(body, kind)

        def create() -> dict[str, Any]:
            try:
                created = store.create(kind, name, data, members if kind == GROUP else None)
                if created is None:
                    raise _exists(kind, name)
                if kind != GROUP and members:
                    patch = _Patch(store, created)
                    patch.add_to = members
                    patch.save()
            except KeyError as exc:
                raise ScimError(404, f"Principal with id {exc.args[0]} not found.") from exc
            return render(store, created)

        return json_response(await run_in_threadpool(create), 201)

    async def item(request: Request) -> Response:
        store = store_of(state)
        principal_id = request.path_params["id"]
        if request.method == "GET":

            def get() -> dict[str, Any]:
                found = render(store, load(principal_id))
                params = request.query_params
                return select(found, params.get("attributes"), params.get("excludedAttributes"))

            return json_response(await run_in_threadpool(get))
        if request.method == "DELETE":
            await run_in_threadpool(_delete, store, load(principal_id), state.user)
            return Response(status_code=204)
        body = await json_body(request)
        if request.method == "PATCH":
            await run_in_threadpool(_patch, store, load(principal_id), body)
            return Response(status_code=204)
        await run_in_threadpool(_replace, store, load(principal_id), body)
        return json_response(await run_in_threadpool(render, store, load(principal_id)))

    return [
        Route(base, collection, methods=["GET", "POST"]),
        Route(f"{base}/{{id}}", item, methods=["GET", "PATCH", "PUT", "DELETE"]),
    ]


def _delete(store: IdentityStore, principal: Principal, local_user: str) -> None:
    if principal.kind == GROUP and principal.name in SYSTEM_GROUPS:
        raise ScimError(400, f"Cannot delete the system group '{principal.name}'.")
    if principal.kind == USER and principal.name.lower() == local_user.lower():
        # Every token of this workspace belongs to that user: deleting it would lock out
        # the caller.
        raise ScimError(400, "Cannot delete the user that owns this workspace's token.")
    store.delete(principal.id)


def _patch(store: IdentityStore, principal: Principal, body: dict[str, Any]) -> None:
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise ScimError(400, "PATCH needs a non-empty 'Operations' list.", "invalidSyntax")
    patch = _Patch(store, principal)
    for operation in operations:
        if not isinstance(operation, dict):
            raise ScimError(400, "Each operation must be an object.", "invalidSyntax")
        op = str(operation.get("op") or "").lower()
        if op not in ("add", "remove", "replace"):
            raise ScimError(400, f"Unsupported operation '{operation.get('op')}'.", "invalidSyntax")
        patch.apply(op, operation.get("path"), operation.get("value"))
    _check_unique(store, principal)
    patch.save()


def _check_unique(store: IdentityStore, principal: Principal) -> None:
    other = store.by_name(principal.kind, principal.name)
    if other is not None and other.id != principal.id:
        raise _exists(principal.kind, principal.name)


def _replace(store: IdentityStore, principal: Principal, body: dict[str, Any]) -> None:
    name, data = _fields(principal.kind, {UNIQUE[principal.kind]: principal.name, **body})
    principal.name, principal.data = name, data
    _check_unique(store, principal)
    try:
        if principal.kind == GROUP:
            store.update(principal, replace_members=_member_ids(body.get("members")))
        else:
            store.update(principal)
    except KeyError as exc:
        raise ScimError(404, f"Principal with id {exc.args[0]} not found.") from exc


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """``Me`` and the Users, Groups and ServicePrincipals collections."""

    async def me(request: Request) -> Response:
        def current() -> dict[str, Any]:
            store = store_of(state)
            found = store.by_name(USER, state.user)
            if found is None:  # seeded at open; only a hand-edited store lacks it
                raise ScimError(404, f"User {state.user} not found.")
            return render(store, found)

        return json_response(await run_in_threadpool(current))

    found: list[BaseRoute] = [Route(f"{PREFIX}/Me", me, methods=["GET"])]
    for kind in (USER, GROUP, SERVICE_PRINCIPAL):
        found.extend(_routes_for(state, kind))
    return found
