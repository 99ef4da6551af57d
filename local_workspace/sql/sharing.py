"""Delta Sharing SQL and the SHOW commands of the Unity Catalog objects the workspace keeps
outside DuckDB: shares, recipients, providers, and the (always empty) storage credentials,
external locations and connections.

Statements are matched on their text before parsing (sqlglot has no grammar for them) and
answered from the same store as the REST API (local_workspace/catalog/sharing.py), so
``CREATE SHARE`` in SQL shows up in ``w.shares.list_shares()`` and the other way round.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from local_workspace.sql import errors
from local_workspace.sql.commands import Output, catalog_errors, like, strings
from local_workspace.sql.translate import Scope

if TYPE_CHECKING:
    from local_workspace.catalog.sharing import SharingStore

_ID = r"(?:`[^`]+`|[\w\-]+)"
_NAME = rf"{_ID}(?:\.{_ID})*"
_COMMENT = r"(?:\s+COMMENT\s+'(?P<comment>(?:[^']|'')*)')?"
_LIKE = r"(?:\s+(?:LIKE\s+)?'(?P<like>[^']*)')?"
_KIND = r"(?:(?P<kind>TABLE|VIEW|MATERIALIZED\s+VIEW|STREAMING\s+TABLE|SCHEMA|VOLUME)\s+)?"
_STATEMENTS: list[tuple[str, re.Pattern[str]]] = [
    (
        "create_share",
        re.compile(rf"^CREATE\s+SHARE\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>{_ID}){_COMMENT}$"),
    ),
    (
        "add",
        re.compile(
            rf"^ALTER\s+SHARE\s+(?P<share>{_ID})\s+ADD\s+{_KIND}(?P<name>{_NAME})"
            rf"{_COMMENT}(?:\s+AS\s+(?P<alias>{_NAME}))?"
            r"(?:\s+WITH(?:OUT)?\s+HISTORY)?$"
        ),
    ),
    (
        "remove",
        re.compile(rf"^ALTER\s+SHARE\s+(?P<share>{_ID})\s+REMOVE\s+{_KIND}(?P<name>{_NAME})$"),
    ),
    (
        "rename_share",
        re.compile(rf"^ALTER\s+SHARE\s+(?P<name>{_ID})\s+RENAME\s+TO\s+(?P<to>{_ID})$"),
    ),
    (
        "owner_share",
        re.compile(rf"^ALTER\s+SHARE\s+(?P<name>{_ID})\s+(?:SET\s+)?OWNER\s+TO\s+(?P<to>\S+)$"),
    ),
    ("comment_share", re.compile(rf"^COMMENT\s+ON\s+SHARE\s+(?P<name>{_ID})\s+IS\s+(?P<text>.+)$")),
    ("drop_share", re.compile(rf"^DROP\s+SHARE\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_ID})$")),
    ("show_shares", re.compile(rf"^SHOW\s+SHARES(?!\s+IN\s){_LIKE}$")),
    ("describe_share", re.compile(rf"^DESC(?:RIBE)?\s+SHARE\s+(?P<name>{_ID})$")),
    ("show_all_in_share", re.compile(rf"^SHOW\s+ALL\s+IN\s+SHARE\s+(?P<name>{_ID})$")),
    (
        "create_recipient",
        re.compile(
            rf"^CREATE\s+RECIPIENT\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>{_ID})"
            rf"(?:\s+USING\s+ID\s+'(?P<id>[^']*)')?{_COMMENT}$"
        ),
    ),
    ("drop_recipient", re.compile(rf"^DROP\s+RECIPIENT\s+(?P<ie>IF\s+EXISTS\s+)?(?P<name>{_ID})$")),
    ("show_recipients", re.compile(rf"^SHOW\s+RECIPIENTS{_LIKE}$")),
    ("describe_recipient", re.compile(rf"^DESC(?:RIBE)?\s+RECIPIENT\s+(?P<name>{_ID})$")),
    (
        "grant",
        re.compile(
            rf"^(?P<verb>GRANT|REVOKE)\s+(?P<privs>[\w\s,]+?)\s+ON\s+SHARE\s+(?P<share>{_ID})\s+"
            rf"(?:TO|FROM)\s+RECIPIENT\s+(?P<recipient>{_ID})$"
        ),
    ),
    ("grants_on_share", re.compile(rf"^SHOW\s+GRANTS?\s+ON\s+SHARE\s+(?P<name>{_ID})$")),
    ("grants_to_recipient", re.compile(rf"^SHOW\s+GRANTS?\s+TO\s+RECIPIENT\s+(?P<name>{_ID})$")),
    ("show_providers", re.compile(rf"^SHOW\s+PROVIDERS{_LIKE}$")),
    ("describe_provider", re.compile(rf"^DESC(?:RIBE)?\s+PROVIDER\s+(?P<name>{_ID})$")),
    ("provider_shares", re.compile(rf"^SHOW\s+SHARES\s+IN\s+PROVIDER\s+(?P<name>{_ID})$")),
    ("show_credentials", re.compile(rf"^SHOW\s+STORAGE\s+CREDENTIALS{_LIKE}$")),
    ("show_locations", re.compile(rf"^SHOW\s+EXTERNAL\s+LOCATIONS{_LIKE}$")),
    ("show_connections", re.compile(rf"^SHOW\s+CONNECTIONS{_LIKE}$")),
    (
        "cloud_only",
        re.compile(
            r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?P<what>EXTERNAL\s+LOCATION|CONNECTION|"
            r"FOREIGN\s+CATALOG|STORAGE\s+CREDENTIAL)\b.*$",
            re.S,
        ),
    ),
]
_FLAGS = re.I | re.S


def _clean(statement: str) -> str:
    text = re.sub(r"--[^\n]*", "", statement).strip()
    return text.rstrip(";").strip()


def _ident(name: str) -> str:
    return ".".join(part.strip("`") for part in re.findall(_ID, name)).lower()


def _timestamp(ms: Any) -> str | None:
    if ms is None:
        return None
    moment = dt.datetime.fromtimestamp(int(ms) / 1000, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _text(raw: str | None) -> str | None:
    return None if raw is None else raw.replace("''", "'")


class SharingSql:
    """Answers the statements above from the sharing store; None for any other statement."""

    def __init__(self, store: Callable[[], SharingStore]) -> None:
        # A getter: the store opens lazily, on the first statement that needs it.
        self._store = store

    def answer(self, statement: str, scope: Scope) -> Output | None:
        """The result of ``statement`` when it is one of ours, else None."""
        text = _clean(statement)
        head = text[:40].upper()
        if not any(
            word in head
            for word in ("SHARE", "RECIPIENT", "PROVIDER", "CREDENTIAL", "LOCATION", "CONNECTION")
        ) and not head.startswith("CREATE"):
            return None
        for name, pattern in _STATEMENTS:
            match = re.match(pattern.pattern, text, _FLAGS)
            if match:
                with catalog_errors():
                    output: Output = getattr(self, "_" + name)(match)
                return output
        return None

    # -- shares --------------------------------------------------------------------------

    def _create_share(self, m: re.Match[str]) -> Output:
        store, name = self._store(), _ident(m["name"])
        if m["ine"] and any(s["name"] == name for s in store.list_shares()):
            return Output()
        store.create_share(name, _text(m["comment"]), None)
        return Output()

    def _add(self, m: re.Match[str]) -> Output:
        kind = re.sub(r"\s+", "_", (m["kind"] or "TABLE").upper())
        obj: dict[str, Any] = {"name": _ident(m["name"]), "data_object_type": kind}
        if m["comment"] is not None:
            obj["comment"] = _text(m["comment"])
        if m["alias"]:
            obj["shared_as"] = _ident(m["alias"])
        update = {"action": "ADD", "data_object": obj}
        self._store().update_share(_ident(m["share"]), {"updates": [update]})
        return Output()

    def _remove(self, m: re.Match[str]) -> Output:
        kind = re.sub(r"\s+", "_", (m["kind"] or "TABLE").upper())
        obj = {"name": _ident(m["name"]), "data_object_type": kind}
        update = {"action": "REMOVE", "data_object": obj}
        self._store().update_share(_ident(m["share"]), {"updates": [update]})
        return Output()

    def _rename_share(self, m: re.Match[str]) -> Output:
        self._store().update_share(_ident(m["name"]), {"new_name": _ident(m["to"])})
        return Output()

    def _owner_share(self, m: re.Match[str]) -> Output:
        self._store().update_share(_ident(m["name"]), {"owner": m["to"].strip("`")})
        return Output()

    def _comment_share(self, m: re.Match[str]) -> Output:
        raw = m["text"].strip()
        comment = "" if raw.upper() == "NULL" else _text(raw.strip("'"))
        self._store().update_share(_ident(m["name"]), {"comment": comment})
        return Output()

    def _drop_share(self, m: re.Match[str]) -> Output:
        store, name = self._store(), _ident(m["name"])
        if m["ie"] and not any(s["name"] == name for s in store.list_shares()):
            return Output()
        store.delete_share(name)
        return Output()

    def _share_rows(self, shares: list[dict[str, Any]]) -> Output:
        columns = [("name", "VARCHAR"), ("created_at", "TIMESTAMP")]
        columns += strings("created_by", "comment")
        rows = [
            [s["name"], _timestamp(s.get("created_at")), s.get("created_by"), s.get("comment")]
            for s in shares
        ]
        return Output(columns, rows)

    def _show_shares(self, m: re.Match[str]) -> Output:
        return self._share_rows(
            [s for s in self._store().list_shares() if like(m["like"], s["name"])]
        )

    def _describe_share(self, m: re.Match[str]) -> Output:
        return self._share_rows([self._store().get_share(_ident(m["name"]), False)])

    def _show_all_in_share(self, m: re.Match[str]) -> Output:
        share = self._store().get_share(_ident(m["name"]), True)
        columns = [*strings("name", "type", "shared_object"), ("added_at", "TIMESTAMP")]
        columns += strings("added_by", "comment", "partitions")
        rows = [
            [
                o.get("shared_as") or o.get("string_shared_as") or o["name"],
                o.get("data_object_type"),
                o["name"],
                _timestamp(o.get("added_at")),
                o.get("added_by"),
                o.get("comment"),
                None,
            ]
            for o in share.get("objects") or []
        ]
        return Output(columns, rows)

    # -- recipients ----------------------------------------------------------------------

    def _create_recipient(self, m: re.Match[str]) -> Output:
        store, name = self._store(), _ident(m["name"])
        if m["ine"] and any(r["name"] == name for r in store.list_recipients()):
            return Output()
        body: dict[str, Any] = {"name": name, "authentication_type": "TOKEN"}
        if m["id"]:
            body.update(
                authentication_type="DATABRICKS", data_recipient_global_metastore_id=m["id"]
            )
        if m["comment"] is not None:
            body["comment"] = _text(m["comment"])
        store.create_recipient(body, store.catalog.metastore_id, "")
        return Output()

    def _drop_recipient(self, m: re.Match[str]) -> Output:
        store, name = self._store(), _ident(m["name"])
        if m["ie"] and not any(r["name"] == name for r in store.list_recipients()):
            return Output()
        store.delete_recipient(name)
        return Output()

    def _recipient_rows(self, recipients: list[dict[str, Any]], full: bool) -> Output:
        columns = [("name", "VARCHAR"), ("created_at", "TIMESTAMP")]
        columns += strings("created_by", "comment")
        if full:
            columns += [*strings("activation_link", "active_token_id")]
            columns += [("active_token_expiration_time", "TIMESTAMP")]
        rows = []
        for r in recipients:
            row = [
                r["name"],
                _timestamp(r.get("created_at")),
                r.get("created_by"),
                r.get("comment"),
            ]
            if full:
                token = (r.get("tokens") or [{}])[-1]
                expires = _timestamp(token.get("expiration_time"))
                row += [r.get("activation_url"), token.get("id"), expires]
            rows.append(row)
        return Output(columns, rows)

    def _show_recipients(self, m: re.Match[str]) -> Output:
        found = [r for r in self._store().list_recipients() if like(m["like"], r["name"])]
        return self._recipient_rows(found, False)

    def _describe_recipient(self, m: re.Match[str]) -> Output:
        return self._recipient_rows([self._store().get_recipient(_ident(m["name"]))], True)

    def _grant(self, m: re.Match[str]) -> Output:
        privileges = [p.strip().upper() for p in m["privs"].split(",") if p.strip()]
        key = "add" if m["verb"].upper() == "GRANT" else "remove"
        change = {"principal": _ident(m["recipient"]), key: privileges}
        self._store().update_share_permissions(_ident(m["share"]), [change])
        return Output()

    def _grants_on_share(self, m: re.Match[str]) -> Output:
        assignments = self._store().share_permissions(_ident(m["name"]))
        rows = [[a["principal"], p] for a in assignments for p in a["privileges"]]
        return Output(strings("recipient", "privilege"), rows)

    def _grants_to_recipient(self, m: re.Match[str]) -> Output:
        found = self._store().recipient_share_permissions(_ident(m["name"]))
        rows = [
            [s["share_name"], p]
            for s in found
            for a in s["privilege_assignments"]
            for p in a["privileges"]
        ]
        return Output(strings("share_name", "privilege"), rows)

    # -- providers and cloud-only objects -------------------------------------------------

    def _show_providers(self, m: re.Match[str]) -> Output:
        found = [p for p in self._store().list_providers() if like(m["like"], p["name"])]
        columns = [("name", "VARCHAR"), ("created_at", "TIMESTAMP")]
        columns += strings("created_by", "comment")
        rows = [
            [p["name"], _timestamp(p.get("created_at")), p.get("created_by"), p.get("comment")]
            for p in found
        ]
        return Output(columns, rows)

    def _describe_provider(self, m: re.Match[str]) -> Output:
        p = self._store().get_provider(_ident(m["name"]))
        columns = [("name", "VARCHAR"), ("created_at", "TIMESTAMP")]
        columns += strings("created_by", "comment", "authentication_type")
        row = [p["name"], _timestamp(p.get("created_at")), p.get("created_by"), p.get("comment")]
        return Output(columns, [[*row, p.get("authentication_type")]])

    def _provider_shares(self, m: re.Match[str]) -> Output:
        self._store().get_provider(_ident(m["name"]))
        return Output(strings("name", "comment"), [])  # its server is out of reach

    def _show_credentials(self, m: re.Match[str]) -> Output:
        return Output(strings("name", "comment"), [])

    def _show_locations(self, m: re.Match[str]) -> Output:
        return Output(strings("name", "url", "comment"), [])

    def _show_connections(self, m: re.Match[str]) -> Output:
        return Output(strings("name", "connection_type", "comment"), [])

    def _cloud_only(self, m: re.Match[str]) -> Output:
        what = re.sub(r"\s+", " ", m["what"]).upper()
        raise errors.unsupported(f"CREATE {what} (it needs cloud storage or a remote database)")
