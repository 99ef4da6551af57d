"""The backend an operation runs against: a WorkspaceClient plus what we know about it.

tools_core never reads the environment: the caller (the server's settings, a script or a
test) builds the client and hands it over.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

BackendKind = Literal["local", "remote"]


@dataclass
class Backend:
    """A workspace client and the facts tools report about it."""

    client: WorkspaceClient
    kind: BackendKind
    host: str
    warehouse_id: str | None = None
    _user: str | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def user(self) -> str:
        """The current user's name, fetched once."""
        with self._lock:
            if self._user is None:
                self._user = self.client.current_user.me().user_name or ""
            return self._user


def workspace_client(
    host: str | None = None,
    token: str | None = None,
    profile: str | None = None,
    retry_timeout_seconds: int | None = None,
) -> WorkspaceClient:
    """A WorkspaceClient through the SDK's unified auth (PAT, OAuth, profiles, Azure...).

    With no arguments the SDK resolves its own configuration (environment, ~/.databrickscfg).
    The SDK is imported here, not at module import, because it takes seconds to load.
    """
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config

    kwargs: dict[str, object] = {"product": "dbx-devkit", "product_version": _version()}
    if host:
        kwargs["host"] = host
    if token:
        kwargs["token"] = token
        kwargs["auth_type"] = "pat"
    if profile:
        kwargs["profile"] = profile
    if retry_timeout_seconds is not None:
        kwargs["retry_timeout_seconds"] = retry_timeout_seconds
    return WorkspaceClient(config=Config(**kwargs))  # type: ignore[arg-type]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dbx-devkit")
    except PackageNotFoundError:
        return "0.0.0"
