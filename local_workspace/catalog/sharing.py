"""Delta Sharing as metadata: shares (with the tables, schemas and volumes they hold),
recipients, providers, and which recipient may read which share (``sharing.sqlite``).

Nothing is served to a recipient: the local workspace has no Delta Sharing server, so a
share is what a provider sees of it in Unity Catalog (objects, grants), never data leaving
the workspace. Objects added to a share must exist in the catalog, as on Databricks.
"""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_workspace.catalog.meta import now_ms
from local_workspace.catalog.names import check_name
from local_workspace.errors import already_exists, invalid, not_found
from local_workspace.sqlite_store import SqliteStore

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

_SCHEMA = """
CREATE TABLE IF NOT EXISTS shares (
    name TEXT PRIMARY KEY, comment TEXT, owner TEXT NOT NULL, storage_root TEXT,
    created_at INTEGER NOT NULL, created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS share_objects (
    share TEXT NOT NULL, name TEXT NOT NULL, position INTEGER NOT NULL, info TEXT NOT NULL,
    PRIMARY KEY (share, name)
);
CREATE TABLE IF NOT EXISTS share_grants (
    share TEXT NOT NULL, principal TEXT NOT NULL, privilege TEXT NOT NULL,
    PRIMARY KEY (share, principal, privilege)
);
CREATE TABLE IF NOT EXISTS recipients (name TEXT PRIMARY KEY, info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS providers (name TEXT PRIMARY KEY, info TEXT NOT NULL);
"""

# Object types whose name is a table's full name (Databricks shares views and materialized
# views as table-like objects).
TABLE_LIKE = frozenset({"TABLE", "VIEW", "MATERIALIZED_VIEW", "STREAMING_TABLE"})
# The only privilege a recipient holds on a share.
SHARE_PRIVILEGES = frozenset({"SELECT"})
AUTH_TYPES = frozenset({"TOKEN", "DATABRICKS", "OIDC_FEDERATION"})


class SharingStore(SqliteStore):
    """Shares, recipients and providers of one local workspace (thread-safe)."""

    def __init__(self, path: Path, catalog: Catalog, user: str) -> None:
        super().__init__(path, _SCHEMA)
        self.catalog = catalog
        self.user = user

    # -- shares ------------------------------------------------------------------------

    def _share_row(self, name: str) -> tuple[Any, ...]:
        row = self.query_one("SELECT * FROM shares WHERE name = ?", (name.lower(),))
        if row is None:
            raise not_found(f"Share '{name}' does not exist.", "SHARE_DOES_NOT_EXIST")
        return tuple(row)

    def _share_info(self, row: tuple[Any, ...], with_objects: bool) -> dict[str, Any]:
        name, comment, owner, storage_root, created_at, created_by, updated_at, updated_by = row
        info: dict[str, Any] = {
            "name": name,
            "owner": owner,
            "created_at": created_at,
            "created_by": created_by,
            "updated_at": updated_at,
            "updated_by": updated_by,
        }
        if comment:
            info["comment"] = comment
        if storage_root:
            info["storage_root"] = storage_root
        if with_objects:
            info["objects"] = self._objects(name)
        return info

    def _objects(self, share: str) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT info FROM share_objects WHERE share = ? ORDER BY position", (share,)
        )
        return [json.loads(r[0]) for r in rows]

    def list_shares(self) -> list[dict[str, Any]]:
        """ShareInfo dicts (without objects), sorted by name."""
        return [
            self._share_info(tuple(r), False)
            for r in self.query("SELECT * FROM shares ORDER BY name")
        ]

    def get_share(self, name: str, include_shared_data: bool) -> dict[str, Any]:
        """One ShareInfo dict; objects only when asked for, as Databricks answers."""
        return self._share_info(self._share_row(name), include_shared_data)

    def create_share(self, name: str, comment: str | None, storage_root: str | None) -> dict:
        """A new, empty share; 409 SHARE_ALREADY_EXISTS when the name is taken."""
        name = check_name(name, "share")
        if storage_root:
            raise invalid(
                "storage_root must be a cloud storage path; the local workspace has none "
                "(omit it to use the metastore's storage)."
            )
        now = now_ms()
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM shares WHERE name = ?", (name,)).fetchone():
                raise already_exists(f"Share '{name}' already exists.", "SHARE_ALREADY_EXISTS")
            db.execute(
                "INSERT INTO shares VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, comment, self.user, None, now, self.user, now, self.user),
            )
        return self.get_share(name, True)

    def update_share(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Apply comment/owner/new_name and object ADD/REMOVE/UPDATE changes, all or none."""
        current = self._share_row(name)[0]
        updates = body.get("updates") or []
        if not isinstance(updates, list):
            raise invalid("updates must be a list.")
        # Resolve every object before writing anything: a bad one changes nothing.
        planned = [self._planned_update(current, u) for u in updates]
        new_name = body.get("new_name")
        target = check_name(new_name, "share") if new_name else current
        now = now_ms()
        with self.transaction() as db:
            if target != current:
                if db.execute("SELECT 1 FROM shares WHERE name = ?", (target,)).fetchone():
                    raise already_exists(
                        f"Share '{target}' already exists.", "SHARE_ALREADY_EXISTS"
                    )
                db.execute("UPDATE shares SET name = ? WHERE name = ?", (target, current))
                for table in ("share_objects", "share_grants"):
                    db.execute(f"UPDATE {table} SET share = ? WHERE share = ?", (target, current))
            for field in ("comment", "owner"):
                if body.get(field) is not None:
                    db.execute(
                        f"UPDATE shares SET {field} = ? WHERE name = ?", (body[field], target)
                    )
            for action, key, info in planned:
                self._apply(db, target, action, key, info, now)
            db.execute(
                "UPDATE shares SET updated_at = ?, updated_by = ? WHERE name = ?",
                (now, self.user, target),
            )
        return self.get_share(target, True)

    def _planned_update(self, share: str, update: Any) -> tuple[str, str, dict[str, Any]]:
        if not isinstance(update, dict) or not isinstance(update.get("data_object"), dict):
            raise invalid("Each update needs an action and a data_object.")
        action = str(update.get("action") or "").upper()
        if action not in ("ADD", "REMOVE", "UPDATE"):
            raise invalid(f"Invalid action '{update.get('action')}': use ADD, REMOVE or UPDATE.")
        obj = dict(update["data_object"])
        kind = str(obj.get("data_object_type") or "TABLE").upper()
        name = str(obj.get("name") or "")
        if not name:
            raise invalid("Missing required field: data_object.name")
        full_name = self._resolve(kind, name) if action != "REMOVE" else name.lower()
        exists = self.query_one(
            "SELECT 1 FROM share_objects WHERE share = ? AND name = ?", (share, full_name)
        )
        if action == "ADD" and exists:
            raise already_exists(
                f"{kind.title()} '{full_name}' is already in share '{share}'.",
                "RESOURCE_ALREADY_EXISTS",
            )
        if action != "ADD" and not exists:
            raise not_found(f"Data object '{full_name}' is not in share '{share}'.")
        obj["name"] = full_name
        obj["data_object_type"] = kind
        if kind in TABLE_LIKE:
            obj.setdefault("shared_as", full_name.split(".", 1)[1])
            obj.setdefault("history_data_sharing_status", "DISABLED")
            obj.setdefault("cdf_enabled", False)
        obj["status"] = "ACTIVE"
        return action, full_name, obj

    def _resolve(self, kind: str, name: str) -> str:
        """The object's canonical full name; 404 when it does not exist."""
        if kind in TABLE_LIKE:
            return str(self.catalog.tables.get(name)["full_name"])
        if kind == "SCHEMA":
            return str(self.catalog.schemas.get(name)["full_name"])
        if kind == "VOLUME":
            return str(self.catalog.volumes.get(name)["full_name"])
        raise invalid(
            f"data_object_type {kind} cannot be shared from the local workspace: "
            "share a TABLE, VIEW, SCHEMA or VOLUME."
        )

    def _apply(
        self, db: Any, share: str, action: str, key: str, info: dict[str, Any], now: int
    ) -> None:
        if action == "REMOVE":
            db.execute("DELETE FROM share_objects WHERE share = ? AND name = ?", (share, key))
            return
        if action == "UPDATE":
            old = json.loads(
                db.execute(
                    "SELECT info FROM share_objects WHERE share = ? AND name = ?", (share, key)
                ).fetchone()[0]
            )
            old.update(info)
            db.execute(
                "UPDATE share_objects SET info = ? WHERE share = ? AND name = ?",
                (json.dumps(old), share, key),
            )
            return
        info["added_at"] = now
        info["added_by"] = self.user
        position = db.execute(
            "SELECT COALESCE(MAX(position), 0) + 1 FROM share_objects WHERE share = ?", (share,)
        ).fetchone()[0]
        db.execute(
            "INSERT INTO share_objects VALUES (?, ?, ?, ?)",
            (share, key, position, json.dumps(info)),
        )

    def delete_share(self, name: str) -> None:
        """Drop a share, its objects and its grants."""
        share = self._share_row(name)[0]
        with self.transaction() as db:
            for table, column in (("shares", "name"), ("share_objects", "share")):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (share,))
            db.execute("DELETE FROM share_grants WHERE share = ?", (share,))

    # -- share permissions ---------------------------------------------------------------

    def share_permissions(self, name: str) -> list[dict[str, Any]]:
        """PrivilegeAssignment dicts: which recipient may SELECT the share."""
        share = self._share_row(name)[0]
        rows = self.query(
            "SELECT principal, privilege FROM share_grants WHERE share = ? "
            "ORDER BY principal, privilege",
            (share,),
        )
        by_principal: dict[str, list[str]] = {}
        for principal, privilege in rows:
            by_principal.setdefault(principal, []).append(privilege)
        return [{"principal": p, "privileges": v} for p, v in by_principal.items()]

    def update_share_permissions(self, name: str, changes: list[Any]) -> list[dict[str, Any]]:
        """Grant or revoke SELECT on a share to recipients, all changes or none."""
        share = self._share_row(name)[0]
        planned: list[tuple[str, list[str], list[str]]] = []
        for change in changes:
            if not isinstance(change, dict) or not change.get("principal"):
                raise invalid("Each change needs a principal.")
            principal = str(change["principal"])
            add = [str(p).upper() for p in change.get("add") or []]
            remove = [str(p).upper() for p in change.get("remove") or []]
            bad = sorted(set(add + remove) - SHARE_PRIVILEGES)
            if bad:
                raise invalid(f"Privilege {bad[0]} is not applicable to a share: use SELECT.")
            self._recipient(principal)
            planned.append((principal.lower(), add, remove))
        with self.transaction() as db:
            for principal, add, remove in planned:
                for privilege in add:
                    db.execute(
                        "INSERT OR IGNORE INTO share_grants VALUES (?, ?, ?)",
                        (share, principal, privilege),
                    )
                for privilege in remove:
                    db.execute(
                        "DELETE FROM share_grants WHERE share = ? AND principal = ? "
                        "AND privilege = ?",
                        (share, principal, privilege),
                    )
        return self.share_permissions(share)

    # -- recipients ----------------------------------------------------------------------

    def _recipient(self, name: str) -> dict[str, Any]:
        row = self.query_one("SELECT info FROM recipients WHERE name = ?", (name.lower(),))
        if row is None:
            raise not_found(f"Recipient '{name}' does not exist.", "RECIPIENT_DOES_NOT_EXIST")
        info: dict[str, Any] = json.loads(row[0])
        return info

    def list_recipients(self) -> list[dict[str, Any]]:
        """RecipientInfo dicts sorted by name."""
        return [json.loads(r[0]) for r in self.query("SELECT info FROM recipients ORDER BY name")]

    def get_recipient(self, name: str) -> dict[str, Any]:
        """One RecipientInfo dict; 404 RECIPIENT_DOES_NOT_EXIST."""
        return self._recipient(name)

    def create_recipient(self, body: dict[str, Any], metastore_id: str, host: str) -> dict:
        """A recipient; a TOKEN one gets an activation link (shaped like Databricks')."""
        name = check_name(str(body.get("name") or ""), "recipient")
        auth = str(body.get("authentication_type") or "").upper()
        if auth not in AUTH_TYPES:
            raise invalid(
                f"Invalid authentication_type '{body.get('authentication_type')}': "
                "use TOKEN, DATABRICKS or OIDC_FEDERATION."
            )
        if auth == "DATABRICKS" and not body.get("data_recipient_global_metastore_id"):
            raise invalid(
                "data_recipient_global_metastore_id is required for a DATABRICKS recipient."
            )
        now = now_ms()
        info: dict[str, Any] = {
            "name": name,
            "authentication_type": auth,
            "owner": body.get("owner") or self.user,
            "created_at": now,
            "created_by": self.user,
            "updated_at": now,
            "updated_by": self.user,
            "metastore_id": metastore_id,
            "id": str(uuid.uuid4()),
            "cloud": "local",
            "region": "local",
        }
        for field in (
            "comment",
            "data_recipient_global_metastore_id",
            "expiration_time",
            "ip_access_list",
            "properties_kvpairs",
            "sharing_code",
        ):
            if body.get(field) is not None:
                info[field] = body[field]
        if auth == "TOKEN":
            info["activation_url"] = self._activation_url(host)
            info["tokens"] = [self._token(info["activation_url"], now, body.get("expiration_time"))]
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM recipients WHERE name = ?", (name,)).fetchone():
                raise already_exists(
                    f"Recipient '{name}' already exists.", "RECIPIENT_ALREADY_EXISTS"
                )
            db.execute("INSERT INTO recipients VALUES (?, ?)", (name, json.dumps(info)))
        return info

    def _activation_url(self, host: str) -> str:
        # The shape of Databricks' link; opening it here answers that activation needs a
        # Delta Sharing server (see api/sharing.py).
        code = secrets.token_urlsafe(24)
        return f"{host}/delta_sharing/retrieve_config.html?{code}"

    def _token(self, activation_url: str, now: int, expiration: Any) -> dict[str, Any]:
        token: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "activation_url": activation_url,
            "created_at": now,
            "created_by": self.user,
            "updated_at": now,
            "updated_by": self.user,
        }
        if expiration:
            token["expiration_time"] = expiration
        return token

    def update_recipient(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change comment, owner, properties, IP list, expiration or name."""
        info = self._recipient(name)
        old = info["name"]
        for field in ("comment", "owner", "ip_access_list", "properties_kvpairs"):
            if body.get(field) is not None:
                info[field] = body[field]
        if body.get("expiration_time") is not None:
            info["expiration_time"] = body["expiration_time"]
        if body.get("new_name"):
            info["name"] = check_name(str(body["new_name"]), "recipient")
        info["updated_at"] = now_ms()
        info["updated_by"] = self.user
        with self.transaction() as db:
            if info["name"] != old:
                if db.execute(
                    "SELECT 1 FROM recipients WHERE name = ?", (info["name"],)
                ).fetchone():
                    raise already_exists(
                        f"Recipient '{info['name']}' already exists.", "RECIPIENT_ALREADY_EXISTS"
                    )
                db.execute("DELETE FROM recipients WHERE name = ?", (old,))
                db.execute(
                    "UPDATE share_grants SET principal = ? WHERE principal = ?", (info["name"], old)
                )
            db.execute(
                "INSERT OR REPLACE INTO recipients VALUES (?, ?)", (info["name"], json.dumps(info))
            )
        return info

    def rotate_token(self, name: str, existing_expire_in_s: int, host: str) -> dict[str, Any]:
        """A new token for a TOKEN recipient; the old one expires in the given seconds."""
        info = self._recipient(name)
        if info.get("authentication_type") != "TOKEN":
            raise invalid(f"Recipient '{info['name']}' does not use TOKEN authentication.")
        now = now_ms()
        tokens = [dict(t) for t in info.get("tokens") or []]
        live = [t for t in tokens if not t.get("expiration_time") or t["expiration_time"] > now]
        if len(live) >= 2:
            raise invalid(
                f"Recipient '{info['name']}' already has two active tokens: wait for one to "
                "expire before rotating again."
            )
        for token in live:
            token["expiration_time"] = now + max(0, existing_expire_in_s) * 1000
            token["updated_at"] = now
        info["activation_url"] = self._activation_url(host)
        info["tokens"] = [*tokens, self._token(info["activation_url"], now, None)]
        info["updated_at"] = now
        with self.transaction() as db:
            db.execute(
                "UPDATE recipients SET info = ? WHERE name = ?", (json.dumps(info), info["name"])
            )
        return info

    def delete_recipient(self, name: str) -> None:
        """Drop a recipient and its share grants."""
        info = self._recipient(name)
        with self.transaction() as db:
            db.execute("DELETE FROM recipients WHERE name = ?", (info["name"],))
            db.execute("DELETE FROM share_grants WHERE principal = ?", (info["name"],))

    def recipient_share_permissions(self, name: str) -> list[dict[str, Any]]:
        """ShareToPrivilegeAssignment dicts: the shares a recipient may read."""
        recipient = self._recipient(name)["name"]
        rows = self.query(
            "SELECT share, privilege FROM share_grants WHERE principal = ? ORDER BY share",
            (recipient,),
        )
        by_share: dict[str, list[str]] = {}
        for share, privilege in rows:
            by_share.setdefault(share, []).append(privilege)
        return [
            {
                "share_name": share,
                "privilege_assignments": [{"principal": recipient, "privileges": privileges}],
            }
            for share, privileges in by_share.items()
        ]

    # -- providers -----------------------------------------------------------------------

    def _provider(self, name: str) -> dict[str, Any]:
        row = self.query_one("SELECT info FROM providers WHERE name = ?", (name.lower(),))
        if row is None:
            raise not_found(f"Provider '{name}' does not exist.", "PROVIDER_DOES_NOT_EXIST")
        info: dict[str, Any] = json.loads(row[0])
        return info

    def list_providers(self) -> list[dict[str, Any]]:
        """ProviderInfo dicts sorted by name."""
        return [json.loads(r[0]) for r in self.query("SELECT info FROM providers ORDER BY name")]

    def get_provider(self, name: str) -> dict[str, Any]:
        """One ProviderInfo dict; 404 PROVIDER_DOES_NOT_EXIST."""
        return self._provider(name)

    def create_provider(self, body: dict[str, Any]) -> dict[str, Any]:
        """A provider from a recipient profile (the credential file a provider sends)."""
        name = check_name(str(body.get("name") or ""), "provider")
        auth = str(body.get("authentication_type") or "").upper()
        if auth not in AUTH_TYPES:
            raise invalid(
                f"Invalid authentication_type '{body.get('authentication_type')}': "
                "use TOKEN, DATABRICKS or OIDC_FEDERATION."
            )
        now = now_ms()
        info: dict[str, Any] = {
            "name": name,
            "authentication_type": auth,
            "owner": self.user,
            "created_at": now,
            "created_by": self.user,
            "updated_at": now,
            "updated_by": self.user,
            "cloud": "local",
            "region": "local",
        }
        if body.get("comment") is not None:
            info["comment"] = body["comment"]
        if auth == "TOKEN":
            info["recipient_profile"] = _profile(body.get("recipient_profile_str"))
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM providers WHERE name = ?", (name,)).fetchone():
                raise already_exists(
                    f"Provider '{name}' already exists.", "PROVIDER_ALREADY_EXISTS"
                )
            db.execute("INSERT INTO providers VALUES (?, ?)", (name, json.dumps(info)))
        return info

    def update_provider(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change comment, owner, name or recipient profile."""
        info = self._provider(name)
        old = info["name"]
        for field in ("comment", "owner"):
            if body.get(field) is not None:
                info[field] = body[field]
        if body.get("recipient_profile_str"):
            info["recipient_profile"] = _profile(body["recipient_profile_str"])
        if body.get("new_name"):
            info["name"] = check_name(str(body["new_name"]), "provider")
        info["updated_at"] = now_ms()
        info["updated_by"] = self.user
        with self.transaction() as db:
            if info["name"] != old:
                if db.execute("SELECT 1 FROM providers WHERE name = ?", (info["name"],)).fetchone():
                    raise already_exists(
                        f"Provider '{info['name']}' already exists.", "PROVIDER_ALREADY_EXISTS"
                    )
                db.execute("DELETE FROM providers WHERE name = ?", (old,))
            db.execute(
                "INSERT OR REPLACE INTO providers VALUES (?, ?)", (info["name"], json.dumps(info))
            )
        return info

    def delete_provider(self, name: str) -> None:
        """Drop a provider."""
        info = self._provider(name)
        with self.transaction() as db:
            db.execute("DELETE FROM providers WHERE name = ?", (info["name"],))


def _profile(raw: Any) -> dict[str, Any]:
    """The public part of a Delta Sharing profile file (the bearer token is never kept)."""
    if not raw:
        raise invalid("recipient_profile_str is required for a TOKEN provider.")
    try:
        profile = json.loads(str(raw))
    except json.JSONDecodeError as exc:
        raise invalid(f"recipient_profile_str is not valid JSON: {exc.msg}") from exc
    if not isinstance(profile, dict) or not profile.get("endpoint"):
        raise invalid("recipient_profile_str must be a Delta Sharing profile with an endpoint.")
    return {
        "endpoint": str(profile["endpoint"]),
        "share_credentials_version": int(profile.get("shareCredentialsVersion") or 1),
    }
