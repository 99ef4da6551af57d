"""How long one call may take, and which requests may be sent twice.

databricks-sdk retries every request the same way: any connection error (even a reset after
the request was sent), any timeout, every 429/503, for every HTTP method, sleeping
``min(10, attempt) + random()`` between attempts without regard to a deadline. It has no
switch to send one request only once, and no deadline for a whole operation. Its one public
hook into that loop is the ``Clock`` of its ``Config``: ``retried()`` calls ``clock.sleep``
between two attempts, from inside the ``except`` block of the failure it is about to retry.
:class:`RetryClock` is installed there (by :func:`tools_core.backend.workspace_client`) and
decides, per call, whether that retry happens:

- inside :func:`bounded_call` (the server wraps every tool call in one), a retry happens only
  if it can still finish within the call's limit: its sleep plus one whole HTTP timeout after
  a timeout, plus a second after a quick failure (reset, 429/5xx). A host where nothing
  listens (connection refused, unknown name) is retried during the first third of the call
  only: the answer then comes in seconds;
- inside :func:`single_attempt` (non-idempotent writes), a failure that may have reached the
  workspace is not retried: it becomes :class:`~tools_core.errors.OutcomeUnknown`. Only a
  failure certain to have happened before sending (refused connection, DNS, connect timeout)
  is retried.

Outside both, the SDK behaves as it always does. Everything here is per call (context
variables), so concurrent tool calls never see each other's limits.
"""

from __future__ import annotations

import contextvars
import math
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from tools_core.errors import OutcomeUnknown, one_line

DEFAULT_CALL_TIMEOUT_S = 15.0
# The host-metadata probe the SDK makes while building its Config (retry timeout and HTTP
# timeout of that probe): short, so a dead host costs seconds there, not the call budget.
PROBE_RETRY_S = 1
PROBE_HTTP_S = 2.0
# The most the probe takes: one attempt, then the SDK's first backoff (1 s + up to 1 s);
# plus half a second for the rest of the call.
PROBE_COST_S = PROBE_HTTP_S + 2.5
# What an attempt is expected to take after a quick failure (see RetryClock.sleep).
QUICK_ATTEMPT_S = 1.0


@dataclass(frozen=True)
class Timeouts:
    """The time limits of one interactive call, and what they mean for each client.

    ``call_s`` is what an agent waits at most for a call against a workspace that is down or
    failing. One HTTP attempt may take ``http_s`` (connect and read: the SDK has one value for
    both). The worst first call, against a host that drops connections: the Config probe
    (``PROBE_HTTP_S`` plus a backoff of up to 2 s) and one attempt of ``http_s``: 14 s of 15.
    """

    call_s: float = DEFAULT_CALL_TIMEOUT_S

    @property
    def http_s(self) -> float:
        """One request's connect and read timeout: two thirds of the call, and short enough
        that the Config probe and one attempt fit in the call (at least 2 s)."""
        return max(2.0, round(min(self.call_s * 2 / 3, self.call_s - PROBE_COST_S), 1))

    @property
    def probe_http_s(self) -> float:
        """The HTTP timeout of the SDK's host-metadata probe (see workspace_client)."""
        return min(PROBE_HTTP_S, self.http_s)

    @property
    def sdk_retry_s(self) -> int:
        """The SDK's own retry timeout (its ``retry_timeout_seconds``; 0 would mean 300)."""
        return max(1, math.ceil(self.call_s))

    @property
    def sql_wait_s(self) -> int:
        """The longest server-side wait of a statement submit that fits in one HTTP timeout.

        Databricks accepts 0 (return at once) or 5-50 s."""
        wait = int(self.http_s - 3)
        return min(wait, 50) if wait >= 5 else 0

    def mlflow_env(self) -> dict[str, str]:
        """MLflow's HTTP settings for this limit (MLflow reads them from the environment only).

        MLflow's REST client retries with urllib3: two more attempts, sleeping 0, then 2 s
        (backoff factor 1; Retry-After is not waited out: a rate limit answers now). A refused
        connection or an error answer thus ends in ~3 s. Each attempt may take the HTTP
        timeout: MLflow has no overall deadline, so a host that drops connections or never
        answers costs up to three of them (docs/configuration.md, "Timeouts"). With the
        ``databricks`` URI MLflow goes through its own SDK client, bounded by its retry
        timeout below (its HTTP timeout is fixed at 60 s: MLflow passes none).
        """
        attempt_s = max(1, int(self.http_s))
        return {
            "MLFLOW_HTTP_REQUEST_TIMEOUT": str(attempt_s),
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
            "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
            "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER": "false",
            "MLFLOW_DATABRICKS_ENDPOINT_HTTP_RETRY_TIMEOUT": str(max(1, int(self.call_s / 3))),
        }


@dataclass(frozen=True)
class _Call:
    deadline: float | None = None  # time.monotonic() by which the call must answer
    budget_s: float | None = None
    single: bool = False


_CALL: contextvars.ContextVar[_Call | None] = contextvars.ContextVar(
    "dbx_devkit_call", default=None
)


@contextmanager
def bounded_call(seconds: float) -> Iterator[None]:
    """Run one call that must answer within ``seconds``: retries stop when they cannot."""
    token = _CALL.set(_Call(time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _CALL.reset(token)


@contextmanager
def each_poll() -> Iterator[None]:
    """One poll of a long, explicitly bounded wait: a fresh call limit for its requests.

    Waits (``timeout_s`` of jobs_wait_run, sql_execute...) outlast the call limit; each of
    their polls is a short call of its own. Without a call limit around, nothing changes.
    """
    current = _CALL.get()
    if current is None or current.budget_s is None:
        yield
        return
    token = _CALL.set(replace(current, deadline=time.monotonic() + current.budget_s))
    try:
        yield
    finally:
        _CALL.reset(token)


def seconds_left() -> float | None:
    """Seconds left in the current bounded call (None outside one)."""
    call = _CALL.get()
    if call is None or call.deadline is None:
        return None
    return call.deadline - time.monotonic()


class _NotRetried(Exception):
    """Raised by the clock instead of a retry in a single attempt; ``__cause__`` is the failure."""


@contextmanager
def single_attempt(what: str, check: str) -> Iterator[None]:
    """Send the requests inside at most once: an ambiguous failure (the request may have been
    applied) becomes :class:`OutcomeUnknown` naming ``what`` and the tool ``check`` that shows
    whether it was applied. Failures certain to be before sending may still be retried."""
    from databricks.sdk.errors import DatabricksError
    from requests import RequestException

    current = _CALL.get() or _Call()
    token = _CALL.set(replace(current, single=True))
    try:
        yield
    except _NotRetried as stop:
        failure = stop.__cause__ or stop
        raise OutcomeUnknown(what, describe_failure(failure), check) from failure
    except (DatabricksError, RequestException) as exc:
        if not may_have_been_applied(exc):
            raise
        raise OutcomeUnknown(what, describe_failure(exc), check) from exc
    finally:
        _CALL.reset(token)


def never_sent(failure: BaseException | None) -> bool:
    """Whether ``failure`` certainly happened before the request left: no connection was made
    (refused, DNS, connect timeout). Such a request may be sent again, even a write."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError  # NewConnectionError, DNS: subclasses

    if isinstance(failure, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(failure, requests.exceptions.ConnectionError) and failure.args:
        return isinstance(getattr(failure.args[0], "reason", None), ConnectTimeoutError)
    return False


def may_have_been_applied(exc: BaseException) -> bool:
    """Whether a failed write may still have been applied by the workspace: a 429 or 5xx
    answer (a gateway may answer so after forwarding), or a connection lost or timed out once
    the request was sent. A 4xx answer or a connection never made means it was not."""
    import requests
    from databricks.sdk.errors import (
        DatabricksError,
        DeadlineExceeded,
        InternalError,
        TemporarilyUnavailable,
        TooManyRequests,
    )

    if isinstance(exc, requests.RequestException):
        return not never_sent(exc)
    ambiguous = (InternalError, TemporarilyUnavailable, DeadlineExceeded, TooManyRequests)
    # A bare DatabricksError is a status the SDK does not map (e.g. a gateway's 502).
    return isinstance(exc, ambiguous) or type(exc) is DatabricksError


def describe_failure(exc: BaseException) -> str:
    """A failure in a few words, for the parenthesis of an OUTCOME_UNKNOWN message."""
    code = getattr(exc, "error_code", None)
    text = one_line(str(exc).split(" Config: ")[0], code or "").rstrip(".")
    head = code if isinstance(code, str) and code else type(exc).__name__
    return f"{head}: {text}"[:200] if text else head


def _timed_out(failure: BaseException) -> bool:
    import requests

    return isinstance(failure, requests.exceptions.Timeout)


def _give_up(seconds: float, call: _Call) -> bool:
    return call.deadline is not None and time.monotonic() + seconds > call.deadline


def _past(window_s: float | None, seconds: float, call: _Call) -> bool:
    """Whether a retry after ``seconds`` would start later than ``window_s`` into the call."""
    if window_s is None or call.deadline is None or call.budget_s is None:
        return False
    started = call.deadline - call.budget_s
    return time.monotonic() + seconds > started + window_s


class RetryClock:
    """The SDK ``Clock`` of our clients: it decides whether a retry happens (see the module
    docstring). ``http_s`` is the client's HTTP timeout: what one more attempt may take."""

    def __init__(self, http_s: float) -> None:
        self.http_s = http_s

    def time(self) -> float:
        """Wall-clock seconds, as the SDK's RealClock."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Sleep before a retry, unless this call must not retry the failure in flight."""
        failure = sys.exc_info()[1]
        call = _CALL.get()
        if failure is not None and call is not None:
            if call.single and not never_sent(failure):
                raise _NotRetried() from failure
            # What the next attempt may take: a whole HTTP timeout after a timeout (a host
            # that drops connections or does not answer), a moment after a quick failure (a
            # refused connection, a 5xx): those fail as quickly again.
            next_attempt_s = self.http_s if _timed_out(failure) else QUICK_ATTEMPT_S
            # Nothing listens (refused, unknown host): a short while may be a restart or a
            # network glitch; beyond a third of the call, waiting only delays the answer.
            window = call.budget_s / 3 if never_sent(failure) and call.budget_s else None
            if _give_up(seconds + next_attempt_s, call) or _past(window, seconds, call):
                elapsed = time.monotonic() - (call.deadline or 0) + (call.budget_s or 0)
                raise TimeoutError(
                    f"gave up after {elapsed:.0f} s of the {call.budget_s:g} s call limit"
                ) from failure
        time.sleep(seconds)


def sdk_clock(http_s: float) -> Any:
    """A :class:`RetryClock` registered as a databricks-sdk ``Clock`` (imported lazily)."""
    from databricks.sdk.clock import Clock

    Clock.register(RetryClock)
    return RetryClock(http_s)
