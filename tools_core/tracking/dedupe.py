"""Create MLflow runs and model versions once, although MLflow may send the request twice.

MLflow's REST client retries POSTs (urllib3 with ``allowed_methods=None`` for http URIs; the
databricks-sdk's retry loop for ``databricks`` URIs) and has no per-call switch to stop it:
a create answered 503 after it was applied is sent again and makes a second run. So each
create carries a client-made key as a tag, and afterwards the entities with that key are
looked up: extras made by retries are deleted (keeping the one MLflow answered with), and a
create whose answer was lost is adopted instead of being made again. When the look-up itself
fails after a lost answer, the outcome is honestly unknown (:class:`OutcomeUnknown`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from tools_core.errors import OutcomeUnknown, ToolsCoreError
from tools_core.mlflow_client import TRANSIENT_CODES
from tools_core.retries import describe_failure

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run
    from mlflow.entities.model_registry import ModelVersion

T = TypeVar("T")
KEY_TAG = "dbx_devkit.request_id"
# Versions scanned for a key; a create's own versions are the newest, and few.
VERSION_SCAN = 200
# How far back (ms) a version counts as made by this create: clocks of client and server differ.
CLOCK_SLACK_MS = 300_000


def may_have_been_applied(exc: BaseException) -> bool:
    """Whether a failed MLflow create may have been applied: a transient code or a 500."""
    return str(getattr(exc, "error_code", "")) in TRANSIENT_CODES | {"INTERNAL_ERROR"}


def run_key_filter(key: str) -> str:
    """The search filter of the runs carrying ``key``."""
    return f"tags.`{KEY_TAG}` = '{key}'"


def create_run_once(
    client: MlflowClient, experiment_id: str, run_name: str | None
) -> tuple[Run, list[str]]:
    """A new run of the experiment, made once: (the run, warnings)."""
    from mlflow.exceptions import MlflowException

    key = uuid.uuid4().hex
    try:
        run = client.create_run(experiment_id, run_name=run_name, tags={KEY_TAG: key})
    except (MlflowException, ToolsCoreError) as exc:
        if not may_have_been_applied(exc):
            raise
        check = (
            f'mlflow_search_runs experiments=["{experiment_id}"] '
            f'filter_string="{run_key_filter(key)}"'
        )
        found = _or_unknown(
            f"Creating a run in experiment {experiment_id}",
            lambda: _runs_with_key(client, experiment_id, key),
            exc,
            check,
        )
        if not found:
            raise  # looked up: the create was not applied, so "retry later" is the truth
        run = found[0]
        _delete_runs(client, found[1:])
        return run, []
    try:
        found = _runs_with_key(client, experiment_id, key)
    except (MlflowException, ToolsCoreError):
        return run, [f"could not check for a duplicate run of a retried request ({key})"]
    _delete_runs(client, [r for r in found if r.info.run_id != run.info.run_id])
    return run, []


def _runs_with_key(client: MlflowClient, experiment_id: str, key: str) -> list[Run]:
    from mlflow.entities import ViewType

    runs = client.search_runs(
        [experiment_id],
        filter_string=run_key_filter(key),
        run_view_type=ViewType.ACTIVE_ONLY,
        max_results=10,
        order_by=["attributes.start_time ASC"],
    )
    return list(runs)


def _delete_runs(client: MlflowClient, runs: list[Run]) -> None:
    for extra in runs:
        client.delete_run(extra.info.run_id)


def create_version_once(
    client: MlflowClient,
    name: str,
    source: str,
    run_id: str | None,
    description: str | None,
    model_id: str | None,
) -> ModelVersion:
    """A new version of registered model ``name`` from ``source``, made once."""
    from mlflow.exceptions import MlflowException

    key = uuid.uuid4().hex
    since = int(time.time() * 1000) - CLOCK_SLACK_MS
    try:
        made = client.create_model_version(
            name,
            source,
            run_id=run_id,
            tags={KEY_TAG: key},
            description=description,
            model_id=model_id,
        )
    except (MlflowException, ToolsCoreError) as exc:
        if not may_have_been_applied(exc):
            raise
        check = f"registry_list_versions name={name} (tag {KEY_TAG}={key})"
        found = _or_unknown(
            f"Registering a version of {name}",
            lambda: _versions_with_key(client, name, source, run_id, key, since),
            exc,
            check,
        )
        if not found:
            raise
        _delete_versions(client, name, found[1:])
        return found[0]
    try:
        found = _versions_with_key(client, name, source, run_id, key, since)
    except (MlflowException, ToolsCoreError):
        return made
    _delete_versions(client, name, [v for v in found if str(v.version) != str(made.version)])
    return made


def _versions_with_key(
    client: MlflowClient, name: str, source: str, run_id: str | None, key: str, since: int
) -> list[ModelVersion]:
    """Versions of ``name`` carrying ``key``, oldest first. Search results may come without
    tags (Unity Catalog): then the few candidates (same source, made since) are read one by one."""
    page = client.search_model_versions(f"name = '{name}'", max_results=VERSION_SCAN)
    candidates = [
        v
        for v in page
        if v.source == source
        and (v.run_id or None) == run_id
        and (v.creation_timestamp or since) >= since
    ]
    found = []
    for version in candidates:
        tags = version.tags or client.get_model_version(name, str(version.version)).tags
        if (tags or {}).get(KEY_TAG) == key:
            found.append(version)
    return sorted(found, key=lambda v: int(v.version))


def _delete_versions(client: MlflowClient, name: str, versions: list[ModelVersion]) -> None:
    for extra in versions:
        client.delete_model_version(name, str(extra.version))


def _or_unknown(what: str, look_up: Callable[[], T], failure: BaseException, check: str) -> T:
    """``look_up()``, or OutcomeUnknown when it fails too: whether ``what`` happened is then
    unknown."""
    from mlflow.exceptions import MlflowException

    try:
        return look_up()
    except (MlflowException, ToolsCoreError) as exc:
        cause = f"{describe_failure(failure)}; the look-up failed too"
        raise OutcomeUnknown(what, cause, check) from exc
