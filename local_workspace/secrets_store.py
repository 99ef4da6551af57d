"""Secret scopes, secrets and their ACLs (Secrets API 2.0), kept in
``<data_dir>/secrets/secrets.db``.

Values are stored as bytes and leave this module only through :meth:`SecretsStore.value`
(the ``secrets/get`` call and ``dbutils.secrets``): lists carry keys and timestamps only,
and nothing here logs a value. The store raises :class:`ApiError` with the Secrets API's
codes and messages.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from local_workspace.errors import ApiError, invalid, not_found
from local_workspace.sqlite_store import SqliteStore

# Key names: alphanumerics, dashes, underscores and periods, at most 128 characters; scope
# names may also hold "@" (e.g. a user name) and are case-insensitive (Databricks' rules).
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.@\-]{1,128}$")
MAX_VALUE_BYTES = 128 * 1024
MAX_SECRETS_PER_SCOPE = 1000
MAX_SCOPES = 1000
PERMISSIONS = ("READ", "WRITE", "MANAGE")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scopes (
    name         TEXT PRIMARY KEY,
    backend_type TEXT NOT NULL,
    created_ms   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS secrets (
    scope      TEXT NOT NULL REFERENCES scopes(name) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      BLOB NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS acls (
    scope      TEXT NOT NULL REFERENCES scopes(name) ON DELETE CASCADE,
    principal  TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (scope, principal)
);
"""


def _scope_missing(scope: str) -> ApiError:
    return not_found(f"Scope {scope} does not exist!")


@dataclass(frozen=True)
class SecretMeta:
    """A secret's key and when it was last written (never its value)."""

    key: str
    updated_ms: int


class SecretsStore(SqliteStore):
    """Scopes, secrets and ACLs of one workspace (thread-safe)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root / "secrets.db", _SCHEMA)

    # -- scopes ----------------------------------------------------------------------------
    def create_scope(self, scope: str, owner: str, initial_manage_principal: str | None) -> None:
        """A new Databricks-backed scope; its creator (or ``users``) gets MANAGE."""
        if not isinstance(scope, str) or not _SCOPE_NAME.match(scope):
            raise invalid(
                f"Scope name '{scope}' is invalid: it must consist of alphanumeric characters,"
                " dashes, underscores, @, and periods, and may not exceed 128 characters."
            )
        if initial_manage_principal not in (None, "", "users"):
            raise invalid(
                "The only supported initial_manage_principal is the group 'users',"
                f" not '{initial_manage_principal}'."
            )
        with self.transaction() as db:
            if db.execute(
                "SELECT 1 FROM scopes WHERE name = ? COLLATE NOCASE", (scope,)
            ).fetchone():
                raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Scope {scope} already exists!")
            (count,) = db.execute("SELECT COUNT(*) FROM scopes").fetchone()
            if count >= MAX_SCOPES:
                raise ApiError(
                    400, "RESOURCE_LIMIT_EXCEEDED", f"Maximum number of scopes ({MAX_SCOPES})."
                )
            db.execute(
                "INSERT INTO scopes VALUES (?, 'DATABRICKS', ?)", (scope, int(time.time() * 1000))
            )
            db.execute(
                "INSERT INTO acls VALUES (?, ?, 'MANAGE')",
                (scope, initial_manage_principal or owner),
            )

    def scopes(self) -> list[tuple[str, str]]:
        """(name, backend_type) of every scope, by name."""
        return [
            tuple(row) for row in self.query("SELECT name, backend_type FROM scopes ORDER BY name")
        ]

    def delete_scope(self, scope: str) -> None:
        """Drop a scope with its secrets and ACLs."""
        with self.transaction() as db:
            scope = self._require_scope(db, scope)
            db.execute("DELETE FROM secrets WHERE scope = ?", (scope,))
            db.execute("DELETE FROM acls WHERE scope = ?", (scope,))
            db.execute("DELETE FROM scopes WHERE name = ?", (scope,))

    @staticmethod
    def _require_scope(db: sqlite3.Connection, scope: str) -> str:
        """The scope's name as created (names are case-insensitive); 404 when missing."""
        row = db.execute(
            "SELECT name FROM scopes WHERE name = ? COLLATE NOCASE", (scope,)
        ).fetchone()
        if row is None:
            raise _scope_missing(scope)
        return str(row[0])

    # -- secrets ---------------------------------------------------------------------------
    def put(self, scope: str, key: str, value: bytes) -> None:
        """Create or overwrite one secret."""
        if not isinstance(key, str) or not _NAME.match(key):
            raise invalid(
                f"Invalid secret key: '{key}'. Secret keys must consist of alphanumeric"
                " characters, dashes, underscores, and periods, and may not exceed 128 characters."
            )
        if len(value) > MAX_VALUE_BYTES:
            raise invalid(
                f"Size of the secret value ({len(value)} bytes) exceeds the limit of"
                f" {MAX_VALUE_BYTES} bytes."
            )
        with self.transaction() as db:
            scope = self._require_scope(db, scope)
            exists = db.execute(
                "SELECT 1 FROM secrets WHERE scope = ? AND key = ?", (scope, key)
            ).fetchone()
            if not exists:
                (count,) = db.execute(
                    "SELECT COUNT(*) FROM secrets WHERE scope = ?", (scope,)
                ).fetchone()
                if count >= MAX_SECRETS_PER_SCOPE:
                    raise ApiError(
                        400,
                        "RESOURCE_LIMIT_EXCEEDED",
                        f"Maximum number of secrets ({MAX_SECRETS_PER_SCOPE}) in scope {scope}.",
                    )
            db.execute(
                "INSERT INTO secrets VALUES (?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE"
                " SET value = excluded.value, updated_ms = excluded.updated_ms",
                (scope, key, value, int(time.time() * 1000)),
            )

    def secrets(self, scope: str) -> list[SecretMeta]:
        """Keys and update times of a scope's secrets (values stay here)."""
        with self.reading() as db:
            scope = self._require_scope(db, scope)
            rows = db.execute(
                "SELECT key, updated_ms FROM secrets WHERE scope = ? ORDER BY key", (scope,)
            ).fetchall()
        return [SecretMeta(key, updated) for key, updated in rows]

    def value(self, scope: str, key: str) -> bytes:
        """One secret's bytes (for ``secrets/get`` and ``dbutils.secrets`` only)."""
        with self.reading() as db:
            scope = self._require_scope(db, scope)
            row = db.execute(
                "SELECT value FROM secrets WHERE scope = ? AND key = ?", (scope, key)
            ).fetchone()
        if row is None:
            raise not_found(f"Secret does not exist with scope: {scope} and key: {key}")
        return bytes(row[0])

    def delete(self, scope: str, key: str) -> None:
        """Delete one secret."""
        with self.transaction() as db:
            scope = self._require_scope(db, scope)
            gone = db.execute("DELETE FROM secrets WHERE scope = ? AND key = ?", (scope, key))
            if gone.rowcount == 0:
                raise not_found(f"Secret does not exist with scope: {scope} and key: {key}")

    def values(self) -> list[bytes]:
        """Every stored value: what task output must never show (redaction)."""
        return [bytes(row[0]) for row in self.query("SELECT value FROM secrets")]

    # -- ACLs ------------------------------------------------------------------------------
    def put_acl(self, scope: str, principal: str, permission: str) -> None:
        """Create or overwrite a principal's permission on a scope."""
        if permission not in PERMISSIONS:
            raise invalid(
                f"Invalid permission '{permission}': expected one of {', '.join(PERMISSIONS)}."
            )
        if not principal:
            raise invalid("Missing required field: principal")
        with self.transaction() as db:
            scope = self._require_scope(db, scope)
            db.execute(
                "INSERT INTO acls VALUES (?, ?, ?) ON CONFLICT (scope, principal) DO UPDATE"
                " SET permission = excluded.permission",
                (scope, principal, permission),
            )

    def acls(self, scope: str) -> list[tuple[str, str]]:
        """(principal, permission) on a scope."""
        with self.reading() as db:
            scope = self._require_scope(db, scope)
            rows = db.execute(
                "SELECT principal, permission FROM acls WHERE scope = ? ORDER BY principal",
                (scope,),
            ).fetchall()
        return [(principal, permission) for principal, permission in rows]

    def acl(self, scope: str, principal: str) -> str:
        """A principal's permission on a scope."""
        for found, permission in self.acls(scope):
            if found == principal:
                return permission
        raise not_found(f"Failed to get secret ACL for principal {principal} for scope {scope}.")

    def delete_acl(self, scope: str, principal: str) -> None:
        """Remove a principal's permission on a scope."""
        with self.transaction() as db:
            scope = self._require_scope(db, scope)
            gone = db.execute(
                "DELETE FROM acls WHERE scope = ? AND principal = ?", (scope, principal)
            )
            if gone.rowcount == 0:
                raise not_found(f"No ACL for principal {principal} in scope {scope}.")


def secrets_store(data_dir: Path) -> SecretsStore:
    """The secrets store of the workspace whose data lives in ``data_dir``."""
    return SecretsStore(data_dir / "secrets")
