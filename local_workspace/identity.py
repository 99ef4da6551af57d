"""Users, groups and service principals of the local workspace (SCIM 2.0), kept in
``<data_dir>/identity/identity.db``.

The workspace's own user always exists, is a member of ``admins`` and of ``users`` (which
holds every user and service principal, as on Databricks). :func:`user_group_names` is the
one place the rest of the workspace (SQL's ``is_member()``, ``is_account_group_member()``)
asks which groups a user belongs to.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_workspace.sqlite_store import SqliteStore

USER, GROUP, SERVICE_PRINCIPAL = "user", "group", "service_principal"
ADMINS, USERS = "admins", "users"
# Groups every workspace has; they cannot be deleted.
SYSTEM_GROUPS = (ADMINS, USERS)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS principals (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL COLLATE NOCASE,
    data       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (kind, name)
);
CREATE TABLE IF NOT EXISTS members (
    group_id  TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    member_id TEXT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, member_id)
);
"""


def _new_id() -> str:
    # Databricks' SCIM ids are large decimal numbers sent as strings.
    return str(10**15 + secrets.randbelow(9 * 10**15))


@dataclass
class Principal:
    """One user, group or service principal: its unique name and its other SCIM fields."""

    id: str
    kind: str
    name: str
    data: dict[str, Any] = field(default_factory=dict)


class IdentityStore(SqliteStore):
    """Principals and group memberships (thread-safe)."""

    def __init__(self, root: Path, local_user: str, seed: bool = True) -> None:
        super().__init__(root / "identity.db", _SCHEMA)
        self.local_user = local_user
        if seed:
            self._seed()

    def _seed(self) -> None:
        with self.transaction() as db:
            user = self._find(db, USER, self.local_user)
            if user is None:
                user = self._insert(
                    db,
                    USER,
                    self.local_user,
                    {
                        "displayName": self.local_user.split("@")[0],
                        "active": True,
                        "emails": [{"value": self.local_user, "type": "work", "primary": True}],
                    },
                )
            for name in SYSTEM_GROUPS:
                group = self._find(db, GROUP, name) or self._insert(db, GROUP, name, {})
                db.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", (group.id, user.id))

    # -- rows ------------------------------------------------------------------------------
    @staticmethod
    def _row(row: tuple[str, str, str, str]) -> Principal:
        return Principal(row[0], row[1], row[2], json.loads(row[3]))

    def _find(self, db: sqlite3.Connection, kind: str, name: str) -> Principal | None:
        row = db.execute(
            "SELECT id, kind, name, data FROM principals WHERE kind = ? AND name = ?", (kind, name)
        ).fetchone()
        return self._row(row) if row else None

    def _insert(
        self, db: sqlite3.Connection, kind: str, name: str, data: dict[str, Any]
    ) -> Principal:
        principal = Principal(_new_id(), kind, name, data)
        db.execute(
            "INSERT INTO principals VALUES (?, ?, ?, ?, ?)",
            (principal.id, kind, name, json.dumps(data), int(time.time() * 1000)),
        )
        return principal

    # -- reads -----------------------------------------------------------------------------
    def all(self, kind: str) -> list[Principal]:
        """Every principal of a kind, oldest first."""
        rows = self.query(
            "SELECT id, kind, name, data FROM principals WHERE kind = ? ORDER BY created_ms, rowid",
            (kind,),
        )
        return [self._row(row) for row in rows]

    def get(self, kind: str, principal_id: str) -> Principal | None:
        """One principal by id (None when missing or of another kind)."""
        row = self.query_one(
            "SELECT id, kind, name, data FROM principals WHERE kind = ? AND id = ?",
            (kind, principal_id),
        )
        return self._row(row) if row else None

    def by_name(self, kind: str, name: str) -> Principal | None:
        """One principal by its unique name (case-insensitive, as SCIM compares userName)."""
        with self.reading() as db:
            return self._find(db, kind, name)

    def members(self, group_id: str) -> list[Principal]:
        """The direct members of a group."""
        rows = self.query(
            "SELECT p.id, p.kind, p.name, p.data FROM members m JOIN principals p"
            " ON p.id = m.member_id WHERE m.group_id = ? ORDER BY p.kind DESC, p.name",
            (group_id,),
        )
        return [self._row(row) for row in rows]

    def groups_of(self, member_id: str) -> list[Principal]:
        """The groups a principal is a direct member of."""
        rows = self.query(
            "SELECT p.id, p.kind, p.name, p.data FROM members m JOIN principals p"
            " ON p.id = m.group_id WHERE m.member_id = ? ORDER BY p.name",
            (member_id,),
        )
        return [self._row(row) for row in rows]

    def group_names_of(self, member_id: str) -> list[str]:
        """Names of every group a principal belongs to, directly or through nested groups."""
        seen: dict[str, str] = {}
        todo = [member_id]
        while todo:
            for group in self.groups_of(todo.pop()):
                if group.id not in seen:
                    seen[group.id] = group.name
                    todo.append(group.id)
        return sorted(seen.values())

    # -- writes ----------------------------------------------------------------------------
    def create(
        self, kind: str, name: str, data: dict[str, Any], member_ids: list[str] | None = None
    ) -> Principal | None:
        """A new principal; None when its unique name is taken. Users and service principals
        join ``users``; a group gets ``member_ids`` (unknown ids raise KeyError)."""
        with self.transaction() as db:
            if self._find(db, kind, name) is not None:
                return None
            principal = self._insert(db, kind, name, data)
            if kind != GROUP:
                users = self._find(db, GROUP, USERS)
                assert users is not None  # seeded at start
                db.execute("INSERT INTO members VALUES (?, ?)", (users.id, principal.id))
            for member in member_ids or []:
                self._add_member(db, principal.id, member)
            return principal

    def _add_member(self, db: sqlite3.Connection, group_id: str, member_id: str) -> None:
        if not db.execute("SELECT 1 FROM principals WHERE id = ?", (member_id,)).fetchone():
            raise KeyError(member_id)
        db.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", (group_id, member_id))

    def update(
        self,
        principal: Principal,
        add_members: list[str] = (),  # type: ignore[assignment]
        remove_members: list[str] = (),  # type: ignore[assignment]
        replace_members: list[str] | None = None,
    ) -> None:
        """Save a principal's fields and change a group's members, all at once."""
        with self.transaction() as db:
            db.execute(
                "UPDATE principals SET name = ?, data = ? WHERE id = ?",
                (principal.name, json.dumps(principal.data), principal.id),
            )
            if replace_members is not None:
                db.execute("DELETE FROM members WHERE group_id = ?", (principal.id,))
                add_members = [*replace_members, *add_members]
            for member in add_members:
                self._add_member(db, principal.id, member)
            for member in remove_members:
                db.execute(
                    "DELETE FROM members WHERE group_id = ? AND member_id = ?",
                    (principal.id, member),
                )

    def delete(self, principal_id: str) -> None:
        """Remove a principal and its memberships."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM members WHERE group_id = ? OR member_id = ?",
                (principal_id, principal_id),
            )
            db.execute("DELETE FROM principals WHERE id = ?", (principal_id,))


def identity_store(data_dir: Path, local_user: str) -> IdentityStore:
    """The identity store of the workspace whose data lives in ``data_dir``."""
    return IdentityStore(data_dir / "identity", local_user)


def user_group_names(data_dir: Path, user: str) -> list[str]:
    """The names of the groups ``user`` belongs to (nested groups included), read from the
    workspace's identity store: what ``is_member()``/``is_account_group_member()`` answer
    from. Before the store is first opened, the answer is the seed's: its own user is in
    ``admins`` and ``users`` (the SQL engine only ever asks about that user)."""
    path = data_dir / "identity" / "identity.db"
    if not path.exists():
        return sorted(SYSTEM_GROUPS)
    store = IdentityStore(data_dir / "identity", user, seed=False)
    try:
        found = store.by_name(USER, user)
        return store.group_names_of(found.id) if found else []
    finally:
        store.close()


def new_application_id() -> str:
    """A service principal's application id (a UUID, as on Databricks)."""
    return str(uuid.uuid4())
