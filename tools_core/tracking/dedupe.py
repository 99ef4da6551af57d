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
from tools_core.mlflow_client import TRANSIENT_CODES, is_transient
from tools_core.retries import describe_failure, seconds_left

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
# The look-up after a create is a read: safe to repeat. Tries, and pauses between them.
LOOK_UP_TRIES = 5
LOOK_UP_PAUSE_S = 0.25


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
    check = (
        f'mlflow_search_runs experiments=["{experiment_id}"] filter_string="{run_key_filter(key)}"'
    )
    try:
        run = client.create_run(experiment_id, run_name=run_name, tags={KEY_TAG: key})
    except (MlflowException, ToolsCoreError) as exc:
        if not may_have_been_applied(exc):
            raise
        found = _or_unknown(
            f"Creating a run in experiment {experiment_id}",
            lambda: _runs_with_key(client, experiment_id, key),
            exc,
            check,
        )
        if not found:
            raise  # looked up: the create was not applied, so "retry later" is the truth
        run = found[0]
    else:
        found = _checked(
            f"Created run {run.info.run_id} in experiment {experiment_id}",
            lambda: _runs_with_key(client, experiment_id, key),
            check,
        )
    extras = [r for r in found if r.info.run_id != run.info.run_id]
    _checked(
        f"Created run {run.info.run_id} in experiment {experiment_id}",
        lambda: _delete_runs(client, extras),
        check,
    )
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
    check = f"registry_list_versions name={name} (tag {KEY_TAG}={key})"

    def look_up() -> list[ModelVersion]:
        return _versions_with_key(client, name, source, run_id, model_id, key, since)

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
        found = _or_unknown(f"Registering a version of {name}", look_up, exc, check)
        if not found:
            raise
        made = found[0]
    else:
        found = _checked(f"Registered {name} version {made.version}", look_up, check)
    extras = [v for v in found if str(v.version) != str(made.version)]
    _checked(
        f"Registered {name} version {made.version}",
        lambda: _delete_versions(client, name, extras),
        check,
    )
    return made


def same_source(found: str, source: str, model_id: str | None) -> bool:
    """Whether a version's recorded source is ``source``: the registry records a logged
    model's (``models:/<id>``) artifact location instead, which names the id."""
    return found == source or bool(model_id and f"/models/{model_id}/" in f"{found}/")


def _versions_with_key(
    client: MlflowClient,
    name: str,
    source: str,
    run_id: str | None,
    model_id: str | None,
    key: str,
    since: int,
) -> list[ModelVersion]:
    """Versions of ``name`` carrying ``key``, oldest first. Search results come without tags
    in Unity Catalog (their ``tags`` is a method that raises): then the few candidates (same
    source, made since) are read one by one."""
    page = client.search_model_versions(f"name = '{name}'", max_results=VERSION_SCAN)
    candidates = [
        v
        for v in page
        if same_source(v.source or "", source, model_id)
        and (v.run_id or None) == run_id
        and (v.creation_timestamp or since) >= since
    ]
    found = []
    for version in candidates:
        tags = version.tags if isinstance(version.tags, dict) else None
        tags = tags or client.get_model_version(name, str(version.version)).tags
        if (tags or {}).get(KEY_TAG) == key:
            found.append(version)
    return sorted(found, key=lambda v: int(v.version))


def _delete_versions(client: MlflowClient, name: str, versions: list[ModelVersion]) -> None:
    from mlflow.exceptions import MlflowException

    for extra in versions:
        try:
            client.delete_model_version(name, str(extra.version))
        except MlflowException as exc:
            # Repeated after a lost answer: the first attempt already deleted it.
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise


class _StillFailing(Exception):
    """A read or delete that kept failing for now; ``__cause__`` is its last failure."""


def _repeat(action: Callable[[], T]) -> T:
    """``action()`` (a look-up or a delete: safe to repeat), repeated while it fails for now,
    within the call's time limit."""
    from mlflow.exceptions import MlflowException

    for attempt in range(LOOK_UP_TRIES):
        try:
            return action()
        except (MlflowException, ToolsCoreError) as exc:
            if not (may_have_been_applied(exc) or is_transient(exc)):
                raise
            failure = exc
        pause = LOOK_UP_PAUSE_S * 2**attempt
        left = seconds_left()
        if attempt + 1 == LOOK_UP_TRIES or (left is not None and left < pause + 1.0):
            raise _StillFailing() from failure
        time.sleep(pause)
    raise AssertionError("unreachable")


def _checked(made: str, action: Callable[[], T], check: str) -> T:
    """What follows a successful create (the look-up for extras, their deletion), repeated.

    MLflow may have sent the create twice (its client retries POSTs): only the look-up finds
    the extra. If it cannot run, a plain success would hide a possible duplicate, so the
    outcome is reported as unknown instead, with how to check."""
    try:
        return _repeat(action)
    except _StillFailing as stop:
        failure = stop.__cause__ or stop
        cause = f"the check for it failed: {describe_failure(failure)}"
        raise OutcomeUnknown.maybe_twice(made, cause, check) from failure


def _or_unknown(what: str, look_up: Callable[[], T], failure: BaseException, check: str) -> T:
    """``look_up()`` (repeated while it fails for now), or OutcomeUnknown when it cannot run:
    whether ``what`` happened is then unknown."""
    try:
        return _repeat(look_up)
    except _StillFailing as stop:
        cause = f"{describe_failure(failure)}; the look-up failed too"
        raise OutcomeUnknown(what, cause, check) from stop.__cause__ or stop
