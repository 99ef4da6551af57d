"""The MLflow client of a backend: one code path for Databricks and the local workspace."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, cast

from tools_core.backend import Backend
from tools_core.errors import ToolsCoreError, one_line

if TYPE_CHECKING:
    from mlflow import MlflowClient

# Codes of MLflow errors that say the service failed for now, not that the request was wrong.
TRANSIENT_CODES = {
    "TEMPORARILY_UNAVAILABLE",
    "TOO_MANY_REQUESTS",
    "REQUEST_LIMIT_EXCEEDED",
    "DEADLINE_EXCEEDED",
}
UNAVAILABLE_HINT = "MLflow did not answer in time or is failing: retry later."


def mlflow_client(backend: Backend) -> MlflowClient:
    """An ``MlflowClient`` on the backend's tracking and registry URIs (made once per backend).

    Its URIs and token are its own (:mod:`tools_core.mlflow_rest`): nothing is read from or
    written to the process's MLflow settings, so two backends in one process never mix.
    MLflow is imported here, not at module import: it takes seconds to load.

    The client answers a request that failed for transport reasons (MLflow wraps them in a
    generic INTERNAL_ERROR) with ``TEMPORARILY_UNAVAILABLE`` instead.
    """
    target = backend.mlflow
    if target.tracking_uri.startswith("databricks") or target.registry_uri.startswith("databricks"):
        _check_reachable(backend)  # cheap: one local request when the host is local
    with backend._lock:
        if backend._mlflow_client is None:
            from tools_core import mlflow_rest

            mlflow_rest.apply_http_limits(backend.timeouts.mlflow_env())
            backend._mlflow_client = _Transient(
                mlflow_rest.client(
                    target.tracking_uri, target.registry_uri, target.token, backend.client
                )
            )
        return cast("MlflowClient", backend._mlflow_client)


def _check_reachable(backend: Backend) -> None:
    """Fail fast, within the call's limit, when the workspace does not answer.

    With a ``databricks`` URI, MLflow builds a new databricks-sdk client for every request
    (``get_databricks_host_creds``), with the SDK's default 300 s retry timeout for the
    host-metadata probe, and no setting to shorten it: against a dead host each MLflow call
    would block five minutes. The same probe through our bounded client answers first. The
    SDK has no method for this unauthenticated discovery document: hence ``api_client.do``.
    """
    backend.client.api_client.do("GET", "/.well-known/databricks-config")


def is_transient(exc: BaseException) -> bool:
    """Whether an MLflow (or translated) error says the service is failing for now."""
    return str(getattr(exc, "error_code", "")) in TRANSIENT_CODES


def _transport_failure(exc: BaseException) -> BaseException | None:
    """The requests/urllib3 failure behind a generic MLflow error, if that is what it is.

    MLflow raises ``MlflowException("API request to ... failed with exception ...")``
    (INTERNAL_ERROR) from inside the handler of the connection error, timeout or exhausted
    retries, so the transport error is its context."""
    import requests

    if getattr(exc, "error_code", None) != "INTERNAL_ERROR":
        return None
    seen: BaseException | None = exc.__cause__ or exc.__context__
    while seen is not None:
        if isinstance(seen, requests.RequestException):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class _Transient:
    """An MlflowClient whose transport failures say TEMPORARILY_UNAVAILABLE (see above)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            from mlflow.exceptions import MlflowException

            try:
                return attr(*args, **kwargs)
            except MlflowException as exc:
                cause = _transport_failure(exc)
                if cause is None:
                    raise
                detail = one_line(f"{type(cause).__name__}: {cause}").rstrip(".")
                raise ToolsCoreError(
                    "TEMPORARILY_UNAVAILABLE",
                    f"MLflow request failed ({detail}).",
                    UNAVAILABLE_HINT,
                ) from exc

        return call
