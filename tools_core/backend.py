"""The backend an operation runs against: a WorkspaceClient plus what we know about it.

tools_core never reads the environment: the caller (the server's settings, a script or a
test) builds the client and hands it over.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from tools_core.retries import PROBE_RETRY_S, Timeouts, sdk_clock

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

BackendKind = Literal["local", "remote"]
# What the local workspace's /health says it is.
LOCAL_WORKSPACE_PRODUCT = "dbx-devkit-local-workspace"


@dataclass(frozen=True)
class MlflowTarget:
    """Where the MLflow client goes: one code path, two sets of URIs.

    Against Databricks: tracking URI ``databricks`` and registry URI ``databricks-uc``
    (``databricks://<profile>`` with a profile; MLflow authenticates through databricks-sdk).
    Against the local workspace: its own URL for tracking (it mounts the MLflow server) and
    the Unity Catalog registry it answers too, with its token, which this target's clients send
    themselves (:mod:`tools_core.mlflow_rest`, :mod:`tools_core.mlflow_uc`).
    """

    tracking_uri: str = "databricks"
    registry_uri: str = "databricks-uc"
    token: str | None = field(default=None, repr=False)

    @classmethod
    def databricks(cls, profile: str | None = None) -> MlflowTarget:
        """The Databricks URIs, for a profile or the default configuration."""
        if profile:
            return cls(f"databricks://{profile}", f"databricks-uc://{profile}")
        return cls()

    @classmethod
    def local(cls, url: str, token: str) -> MlflowTarget:
        """The local workspace's MLflow server, authenticated with its token."""
        return cls(url, "databricks-uc", token)


@dataclass
class Backend:
    """A workspace client and the facts tools report about it."""

    client: WorkspaceClient
    kind: BackendKind
    host: str
    warehouse_id: str | None = None
    mlflow: MlflowTarget = field(default_factory=MlflowTarget)
    # The limits the client was built with (see tools_core.retries); MLflow gets the same.
    timeouts: Timeouts = field(default_factory=Timeouts)
    _user: str | None = field(default=None, repr=False)
    _mlflow_client: Any = field(default=None, repr=False)  # see tools_core.mlflow_client
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def user(self) -> str:
        """The current user's name, fetched once."""
        with self._lock:
            if self._user is None:
                self._user = self.client.current_user.me().user_name or ""
            return self._user


def local_backend(
    url: str, token: str, warehouse_id: str | None = None, timeouts: Timeouts | None = None
) -> Backend:
    """A backend on a local workspace at ``url`` (SDK and MLflow client both pointed there)."""
    timeouts = timeouts or Timeouts()
    client = workspace_client(host=url, token=token, timeouts=timeouts)
    return Backend(client, "local", url, warehouse_id, MlflowTarget.local(url, token), timeouts)


def connect(
    profile: str | None = None, warehouse_id: str | None = None, timeouts: Timeouts | None = None
) -> Backend:
    """A backend from the SDK's unified auth (environment, ``~/.databrickscfg``, ``profile``),
    whether it names a Databricks workspace or a dbx-devkit local workspace.

    The local workspace (``dbx-devkit local`` prints its ``DATABRICKS_HOST``/``TOKEN``) serves
    plain HTTP, which no Databricks workspace does: only such a host is asked whether it is
    one, and its MLflow is then reached with the workspace's own URL and token.
    """
    timeouts = timeouts or Timeouts()
    client = workspace_client(profile=profile, timeouts=timeouts)
    host = (client.config.host or "").rstrip("/")
    if host.startswith("http://") and _is_local_workspace(client):
        token = client.config.token or ""
        return Backend(
            client, "local", host, warehouse_id, MlflowTarget.local(host, token), timeouts
        )
    mlflow = MlflowTarget.databricks(profile)
    return Backend(client, "remote", host, warehouse_id, mlflow, timeouts)


def _is_local_workspace(client: WorkspaceClient) -> bool:
    """Whether the host answers the local workspace's health check (the SDK has no method
    for a path outside the REST API: hence ``api_client.do``)."""
    from databricks.sdk.errors import DatabricksError

    try:
        answer = client.api_client.do("GET", "/health")
    except (DatabricksError, OSError, ValueError):
        return False
    return isinstance(answer, dict) and answer.get("product") == LOCAL_WORKSPACE_PRODUCT


def workspace_client(
    host: str | None = None,
    token: str | None = None,
    profile: str | None = None,
    retry_timeout_seconds: int | None = None,
    timeouts: Timeouts | None = None,
) -> WorkspaceClient:
    """A WorkspaceClient through the SDK's unified auth (PAT, OAuth, profiles, Azure...).

    With no arguments the SDK resolves its own configuration (environment, ~/.databrickscfg).
    ``timeouts`` bound each request and its retries (see :mod:`tools_core.retries`, whose
    clock the client gets); ``retry_timeout_seconds`` overrides the SDK's retry timeout alone.
    The SDK is imported here, not at module import, because it takes seconds to load.
    """
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.config import Config

    timeouts = timeouts or Timeouts()
    kwargs: dict[str, object] = {
        "product": "dbx-devkit",
        "product_version": _version(),
        "clock": sdk_clock(timeouts.http_s),
        # Building a Config probes the host's /.well-known/databricks-config with the
        # Config's own retry and HTTP timeouts (and no clock): short ones keep a dead host
        # from eating the first call's budget there. The real ones are set just after.
        "retry_timeout_seconds": PROBE_RETRY_S,
        "http_timeout_seconds": timeouts.probe_http_s,
    }
    if host:
        kwargs["host"] = host
    if token:
        kwargs["token"] = token
        kwargs["auth_type"] = "pat"
    if profile:
        kwargs["profile"] = profile
    config = Config(**kwargs)  # type: ignore[arg-type]
    config.retry_timeout_seconds = retry_timeout_seconds or timeouts.sdk_retry_s
    config.http_timeout_seconds = timeouts.http_s
    return WorkspaceClient(config=config)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dbx-devkit")
    except PackageNotFoundError:
        return "0.0.0"
