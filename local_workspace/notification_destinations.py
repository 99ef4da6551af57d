"""Notification destinations (``/api/2.0/notification-destinations``), kept in
``<data_dir>/settings/notification_destinations.db``.

A destination wraps exactly one config (email, generic_webhook, slack, microsoft_teams,
pagerduty). As on Databricks, the config's secret-bearing fields (URLs, passwords, keys:
the SDK marks them ``[Input-Only]`` and pairs each with an ``<field>_set`` flag) are never
answered back: a read says only whether each is set. Job notifications
(``webhook_notifications``) name destinations by id; the job runner reads the stored config
(:meth:`DestinationsStore.config_of`) to deliver.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from local_workspace.errors import ApiError, invalid, not_found
from local_workspace.sqlite_store import SqliteStore

if TYPE_CHECKING:
    from local_workspace.state import WorkspaceState

# Config key -> DestinationType, as the SDK names them.
TYPES = {
    "email": "EMAIL",
    "generic_webhook": "WEBHOOK",
    "slack": "SLACK",
    "microsoft_teams": "MICROSOFT_TEAMS",
    "pagerduty": "PAGERDUTY",
    "databricks_app_slack": "DATABRICKS_APP_SLACK",
    "databricks_app_teams": "DATABRICKS_APP_TEAMS",
}
CLASSES = {
    "email": "EmailConfig",
    "generic_webhook": "GenericWebhookConfig",
    "slack": "SlackConfig",
    "microsoft_teams": "MicrosoftTeamsConfig",
    "pagerduty": "PagerdutyConfig",
    "databricks_app_slack": "DatabricksAppSlackConfig",
    "databricks_app_teams": "DatabricksAppTeamsConfig",
}
# These reach Slack/Teams through the Databricks app installed in them: nothing to reach here.
APP_TYPES = ("databricks_app_slack", "databricks_app_teams")
URL_FIELDS = ("url", "channel_url")
MAX_DISPLAY_NAME = 256
MAX_ADDRESSES = 100
PAGE_DEFAULT, PAGE_MAX = 20, 100
_EMAIL = re.compile(r"^[^@\s,;<>()\"]+@[^@\s,;<>()\".]+(\.[^@\s,;<>()\".]+)+$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS destinations (
    id           TEXT PRIMARY KEY,
    display_name TEXT,
    kind         TEXT NOT NULL,
    config       TEXT NOT NULL,
    created      INTEGER NOT NULL
);
"""


def email_problem(address: Any) -> str | None:
    """Why ``address`` is not an email address, or None."""
    if not isinstance(address, str) or not _EMAIL.match(address) or len(address) > 254:
        shown = address if isinstance(address, str) else type(address).__name__
        return f"Invalid email address: {str(shown)[:80]!r}."
    return None


def url_problem(url: Any, field: str = "url") -> str | None:
    """Why ``url`` is not an http(s) URL with a host, or None."""
    if not isinstance(url, str) or not url:
        return f"{field} must be a non-empty string."
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"Invalid {field}: only http:// and https:// URLs with a host are supported."
    return None


def _config_class(key: str) -> Any:
    from databricks.sdk.service import settings

    return getattr(settings, CLASSES[key])


def _input_fields(key: str) -> tuple[set[str], set[str]]:
    """(input fields, input-only fields: those with an ``<name>_set`` flag) of a config."""
    names = {f.name for f in dataclasses.fields(_config_class(key))}
    inputs = {n for n in names if not n.endswith("_set")}
    return inputs, {n for n in inputs if f"{n}_set" in names}


def _one_config(config: Any) -> tuple[str, dict[str, Any]]:
    """(key, nested config) of a request's ``config``: exactly one known config."""
    if not isinstance(config, dict):
        raise invalid("config must be an object wrapping exactly one destination config.")
    keys = [k for k, v in config.items() if v is not None]
    unknown = [k for k in keys if k not in TYPES]
    if unknown:
        raise invalid(f"Unknown destination config {unknown[0]!r}; use one of {', '.join(TYPES)}.")
    if len(keys) != 1:
        raise invalid("config must wrap exactly one of: " + ", ".join(TYPES) + ".")
    key = keys[0]
    nested = config[key]
    if not isinstance(nested, dict):
        raise invalid(f"config.{key} must be an object.")
    if key in APP_TYPES:
        raise ApiError(
            400,
            "FEATURE_DISABLED",
            f"{TYPES[key]} destinations are not enabled in this workspace: the Databricks app "
            "is not installed in any Slack or Teams workspace.",
        )
    inputs, _ = _input_fields(key)
    extra = sorted(set(nested) - inputs - {f"{n}_set" for n in inputs})
    if extra:
        raise invalid(f"Unknown field {extra[0]!r} in config.{key}.")
    return key, {k: v for k, v in nested.items() if k in inputs and v is not None}


def _check(key: str, fields: dict[str, Any]) -> None:
    """The rules of a complete config of kind ``key``."""
    for name, value in fields.items():
        if name != "addresses" and not isinstance(value, str):
            raise invalid(f"config.{key}.{name} must be a string.")
    if key == "email":
        addresses = fields.get("addresses")
        if not isinstance(addresses, list) or not addresses:
            raise invalid("config.email.addresses must list at least one email address.")
        if len(addresses) > MAX_ADDRESSES:
            raise invalid(f"config.email.addresses lists more than {MAX_ADDRESSES} addresses.")
        for address in addresses:
            problem = email_problem(address)
            if problem:
                raise invalid(problem)
    if key == "generic_webhook" and "url" not in fields:
        raise invalid("config.generic_webhook.url is required.")
    if key == "microsoft_teams" and "url" not in fields and "channel_url" not in fields:
        raise invalid("config.microsoft_teams needs a url (or a channel_url).")
    if key == "slack" and "url" not in fields and "oauth_token" not in fields:
        raise invalid("config.slack needs a url (or an oauth_token and a channel_id).")
    if key == "pagerduty" and not fields.get("integration_key"):
        raise invalid("config.pagerduty.integration_key is required.")
    for name in URL_FIELDS:
        if name in fields:
            problem = url_problem(fields[name], f"config.{key}.{name}")
            if problem:
                raise invalid(problem)


def _display_name(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise invalid("display_name must be a non-empty string.")
    if len(value) > MAX_DISPLAY_NAME:
        raise invalid(f"display_name must be at most {MAX_DISPLAY_NAME} characters.")
    return value


def missing(destination_id: str) -> ApiError:
    """What a read of an unknown destination answers."""
    return not_found(f"Notification destination {destination_id} does not exist.")


class DestinationsStore:
    """Destinations of one workspace (thread-safe)."""

    def __init__(self, data_dir: Path) -> None:
        self._db = SqliteStore(data_dir / "settings" / "notification_destinations.db", _SCHEMA)

    def create(self, display_name: Any, config: Any) -> dict[str, Any]:
        """A new destination; its public view."""
        name = _display_name(display_name)
        key, fields = _one_config(config)
        _check(key, fields)
        new_id = str(uuid.uuid4())
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO destinations VALUES (?, ?, ?, ?, ?)",
                (new_id, name, key, json.dumps(fields), int(time.time() * 1000)),
            )
        return self.get(new_id)

    def update(self, destination_id: str, display_name: Any, config: Any) -> dict[str, Any]:
        """Change the name and/or config (same kind; input fields not given are kept)."""
        if display_name is None and config is None:
            raise invalid("Give display_name and/or config to update.")
        with self._db.transaction() as db:
            row = db.execute(
                "SELECT display_name, kind, config FROM destinations WHERE id = ?",
                (destination_id,),
            ).fetchone()
            if row is None:
                raise missing(destination_id)
            name, kind, stored = row
            fields = json.loads(stored)
            if display_name is not None:
                name = _display_name(display_name)
            if config is not None:
                key, given = _one_config(config)
                if key != kind:
                    raise invalid(
                        f"The type of a notification destination cannot be changed "
                        f"(it is {TYPES[kind]}, got {TYPES[key]})."
                    )
                fields = {**fields, **given}
                _check(kind, fields)
            db.execute(
                "UPDATE destinations SET display_name = ?, config = ? WHERE id = ?",
                (name, json.dumps(fields), destination_id),
            )
        return self.get(destination_id)

    def delete(self, destination_id: str) -> None:
        """Remove a destination (jobs naming it then record it as missing at delivery)."""
        with self._db.transaction() as db:
            gone = db.execute("DELETE FROM destinations WHERE id = ?", (destination_id,))
            if gone.rowcount == 0:
                raise missing(destination_id)

    def get(self, destination_id: str) -> dict[str, Any]:
        """The NotificationDestination wire dict (secrets masked)."""
        row = self._db.query_one(
            "SELECT id, display_name, kind, config FROM destinations WHERE id = ?",
            (destination_id,),
        )
        if row is None:
            raise missing(destination_id)
        return _view(*row)

    def exists(self, destination_id: str) -> bool:
        """Whether a destination with this id exists."""
        found = self._db.query_one("SELECT 1 FROM destinations WHERE id = ?", (destination_id,))
        return found is not None

    def config_of(self, destination_id: str) -> tuple[str, str | None, dict[str, Any]] | None:
        """(config key, display name, stored config with secrets) for delivery, or None."""
        row = self._db.query_one(
            "SELECT kind, display_name, config FROM destinations WHERE id = ?", (destination_id,)
        )
        return None if row is None else (row[0], row[1], json.loads(row[2]))

    def page(self, offset: int, size: int) -> tuple[list[dict[str, Any]], bool]:
        """A page of ListNotificationDestinationsResult dicts, and whether more follow."""
        rows = self._db.query(
            "SELECT id, display_name, kind FROM destinations ORDER BY created, id LIMIT ? OFFSET ?",
            (size + 1, offset),
        )
        items = [
            {
                k: v
                for k, v in (("id", i), ("display_name", n), ("destination_type", TYPES[kind]))
                if v is not None
            }
            for i, n, kind in rows[:size]
        ]
        return items, len(rows) > size

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _view(destination_id: str, name: str | None, kind: str, stored: str) -> dict[str, Any]:
    fields = json.loads(stored)
    _, secret = _input_fields(kind)
    shown = {k: v for k, v in fields.items() if k not in secret}
    shown.update({f"{k}_set": k in fields for k in secret})
    body: dict[str, Any] = {
        "id": destination_id,
        "destination_type": TYPES[kind],
        "config": {kind: shown},
    }
    if name is not None:
        body["display_name"] = name
    return body


def destinations_of(state: WorkspaceState) -> DestinationsStore:
    """The workspace's destinations store, opened on first use."""
    return state.service(
        "notification_destinations", lambda: DestinationsStore(state.config.data_dir)
    )
