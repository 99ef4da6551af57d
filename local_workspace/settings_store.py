"""Personal access tokens made through the Token API and the workspace configuration
(``workspace-conf``), kept in ``<data_dir>/settings/settings.db``.

Only a token's SHA-256 is stored (its ``token_id``): its value is shown once, by the create
call, as on Databricks. Tokens made here authenticate like the workspace's own token until
they expire or are revoked.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from local_workspace.errors import invalid, not_found
from local_workspace.sqlite_store import SqliteStore

# Without a lifetime, a token is valid for two years (as the Token API documents).
DEFAULT_LIFETIME_S = 2 * 365 * 24 * 3600
# The known workspace-conf keys and a new workspace's values (all strings, as the API sends).
CONF_DEFAULTS: dict[str, str | None] = {
    "enableTokensConfig": "true",
    "maxTokenLifetimeDays": None,
    "enableIpAccessLists": "false",
    "enableProjectTypeInWorkspace": "true",
    "enableWorkspaceFilesystem": "true",
    "enableResultsDownloading": "true",
    "enableNotebookTableClipboard": "true",
    "enableExportNotebook": "true",
    "enableUploadDataUis": "true",
    "enableWebTerminal": "true",
    "enableDbfsFileBrowser": "false",
    "enableVerboseAuditLogs": "false",
    "enforceUserIsolation": "false",
    "enableDeprecatedGlobalInitScripts": "false",
    "storeInteractiveNotebookResultsInCustomerAccount": "false",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token_id      TEXT PRIMARY KEY,
    comment       TEXT,
    creation_time INTEGER NOT NULL,
    expiry_time   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS conf (
    key   TEXT PRIMARY KEY,
    value TEXT
);
"""


def token_id_of(token: str) -> str:
    """A token's id: the SHA-256 of its value (the value itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """A token's public fields."""

    token_id: str
    comment: str | None
    creation_time: int
    expiry_time: int

    def as_dict(self) -> dict[str, object]:
        """The token as ``PublicTokenInfo``."""
        body: dict[str, object] = {
            "token_id": self.token_id,
            "creation_time": self.creation_time,
            "expiry_time": self.expiry_time,
        }
        if self.comment:
            body["comment"] = self.comment
        return body


class SettingsStore(SqliteStore):
    """Tokens and workspace configuration (thread-safe)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root / "settings.db", _SCHEMA)

    # -- tokens ----------------------------------------------------------------------------
    def create_token(self, comment: str | None, lifetime_s: int | None) -> tuple[str, TokenInfo]:
        """A new token's value (shown once) and its info."""
        if lifetime_s is not None and lifetime_s <= 0:
            lifetime_s = None
        max_days = self.conf(["maxTokenLifetimeDays"])["maxTokenLifetimeDays"]
        if max_days and max_days.isdigit() and int(max_days) > 0:
            limit = int(max_days) * 24 * 3600
            if lifetime_s is None or lifetime_s > limit:
                raise invalid(
                    f"Token lifetime exceeds the maximum of {max_days} days set for this"
                    " workspace (maxTokenLifetimeDays)."
                )
        value = "dapi" + secrets.token_hex(16)
        now = int(time.time() * 1000)
        info = TokenInfo(
            token_id_of(value), comment, now, now + 1000 * (lifetime_s or DEFAULT_LIFETIME_S)
        )
        with self.transaction() as db:
            db.execute(
                "INSERT INTO tokens VALUES (?, ?, ?, ?)",
                (info.token_id, comment, info.creation_time, info.expiry_time),
            )
        return value, info

    def tokens(self) -> list[TokenInfo]:
        """Tokens that have not expired, oldest first."""
        rows = self.query(
            "SELECT token_id, comment, creation_time, expiry_time FROM tokens"
            " WHERE expiry_time > ? ORDER BY creation_time",
            (int(time.time() * 1000),),
        )
        return [TokenInfo(*row) for row in rows]

    def revoke(self, token_id: str) -> None:
        """Revoke a token by id."""
        with self.transaction() as db:
            gone = db.execute("DELETE FROM tokens WHERE token_id = ?", (token_id,))
        if gone.rowcount == 0:
            raise not_found(f"Token with id {token_id} does not exist.")

    def valid(self, token: str) -> bool:
        """Whether ``token`` was made here and is still valid."""
        row = self.query_one(
            "SELECT 1 FROM tokens WHERE token_id = ? AND expiry_time > ?",
            (token_id_of(token), int(time.time() * 1000)),
        )
        return row is not None

    # -- workspace-conf --------------------------------------------------------------------
    def conf(self, keys: list[str]) -> dict[str, str | None]:
        """The values of known keys; unknown keys are a 400 naming them."""
        unknown = [key for key in keys if key not in CONF_DEFAULTS]
        if unknown:
            raise invalid(f"Invalid keys: {unknown}")
        stored = dict(self.query("SELECT key, value FROM conf"))
        return {key: stored.get(key, CONF_DEFAULTS[key]) for key in keys}

    def set_conf(self, values: dict[str, object]) -> None:
        """Set known keys (values as strings), all at once."""
        self.conf(list(values))  # validates the keys
        with self.transaction() as db:
            for key, value in values.items():
                text = (
                    None
                    if value is None
                    else str(value).lower()
                    if isinstance(value, bool)
                    else str(value)
                )
                db.execute(
                    "INSERT INTO conf VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                    " SET value = excluded.value",
                    (key, text),
                )


def settings_store(data_dir: Path) -> SettingsStore:
    """The settings store of the workspace whose data lives in ``data_dir``."""
    return SettingsStore(data_dir / "settings")
