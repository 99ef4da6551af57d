"""Fault injection for tests: latency, 429/503 bursts and dropped connections (pure ASGI).

Installed only when configured (``LocalConfig.faults``, ``dbx-devkit local --faults SPEC`` or
``DBX_DEVKIT_LOCAL_FAULTS``); never by default. Deterministic: faults are counted, not drawn.
Only API paths are faulted (``/api/`` unless ``paths`` narrows it), never discovery or health,
so clients still start and ``find_running`` still sees the workspace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

# Databricks' error code for each status we inject.
ERROR_CODES = {429: "TOO_MANY_REQUESTS", 503: "TEMPORARILY_UNAVAILABLE"}
ALWAYS = -1
# Where a workspace started with faults is re-armed (PUT {"spec": ...}) and its counters read.
FAULTS_PATH = "/dbx-devkit/faults"


@dataclass
class FaultCounters:
    """What the injector did, readable by tests while the workspace runs."""

    matched: int = 0  # requests the path filter selected
    delayed: int = 0
    status: int = 0  # answered with the injected 429/503
    dropped: int = 0  # connection closed without a response
    passed: int = 0  # forwarded to the workspace


@dataclass
class FaultConfig:
    """Which faults to inject, in order: drop the first ``drop`` matching requests, then
    answer ``status`` to the next ``status_count`` (``ALWAYS``: every one), or to every
    ``every``-th; every matching request first waits ``latency_s``."""

    latency_s: float = 0.0
    status: int | None = None
    status_count: int = 0
    every: int = 0
    drop: int = 0
    retry_after_s: int = 1
    paths: tuple[str, ...] = ("/api/",)
    counters: FaultCounters = field(default_factory=FaultCounters, compare=False)

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in ERROR_CODES:
            raise ValueError(f"Fault status must be 429 or 503, got {self.status}.")

    def to_spec(self) -> str:
        """The spec :func:`parse_faults` reads back into this configuration."""
        parts = [f"latency={self.latency_s}", f"every={self.every}", f"drop={self.drop}"]
        if self.status is not None:
            count = "*" if self.status_count == ALWAYS else str(self.status_count)
            parts.append(f"status={self.status}:{count}")
        parts += [f"retry_after={self.retry_after_s}", "paths=" + "|".join(self.paths)]
        return ",".join(parts)

    def arm(self, spec: str) -> None:
        """Replace the faults by ``spec`` (see :func:`parse_faults`) with fresh counters."""
        armed = parse_faults(spec)
        for name in ("latency_s", "status", "status_count", "every", "drop", "retry_after_s"):
            setattr(self, name, getattr(armed, name))
        self.paths = armed.paths
        self.counters = FaultCounters()


def parse_faults(spec: str) -> FaultConfig:
    """A FaultConfig from ``latency=0.2,status=503:3,drop=1,every=4,retry_after=0,paths=/a|/b``.

    ``status=503`` alone (or ``503:*``) answers every matching request with 503.
    """
    config = FaultConfig()
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"Fault spec item {item!r} is not key=value.")
        if key == "latency":
            config.latency_s = float(value)
        elif key == "status":
            code, _, count = value.partition(":")
            config.status = int(code)
            config.status_count = ALWAYS if count in ("", "*") else int(count)
        elif key == "every":
            config.every = int(value)
        elif key == "drop":
            config.drop = int(value)
        elif key == "retry_after":
            config.retry_after_s = int(value)
        elif key == "paths":
            config.paths = tuple(p for p in value.split("|") if p)
        else:
            raise ValueError(
                f"Unknown fault {key!r}: use latency, status, every, drop, retry_after, paths."
            )
    config.__post_init__()
    return config


class FaultInjector:
    """The middleware. Install it outermost (the app uvicorn serves): dropping a connection
    needs uvicorn's own ``send``, whose cycle holds the transport."""

    def __init__(self, app: ASGIApp, config: FaultConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        config, counters = self.config, self.config.counters
        if scope["type"] != "http" or not scope["path"].startswith(config.paths):
            await self.app(scope, receive, send)
            return
        counters.matched += 1
        if config.latency_s > 0:
            counters.delayed += 1
            await anyio.sleep(config.latency_s)
        if counters.dropped < config.drop and _close_connection(send):
            counters.dropped += 1
            return
        if config.status is not None and self._status_due(counters.matched - counters.dropped):
            counters.status += 1
            await self._answer_status(config.status, send)
            return
        counters.passed += 1
        await self.app(scope, receive, send)

    def _status_due(self, nth: int) -> bool:
        """Whether the ``nth`` request not dropped gets the injected status."""
        config = self.config
        if config.every > 0:
            return nth % config.every == 0
        return config.status_count == ALWAYS or nth <= config.status_count

    async def _answer_status(self, status: int, send: Send) -> None:
        code = ERROR_CODES[status]
        body = json.dumps(
            {"error_code": code, "message": f"Injected fault: {code} (local workspace faults)."}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        headers.append((b"retry-after", str(self.config.retry_after_s).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _close_connection(send: Send) -> bool:
    """Close the client's connection without a response. ASGI has no message for that;
    uvicorn's ``send`` is a method of its request cycle, which holds the transport."""
    cycle = getattr(send, "__self__", None)
    close = getattr(getattr(cycle, "transport", None), "close", None)
    if not callable(close):
        return False
    close()
    # As uvicorn marks a client that went away: no "returned without a response" error log.
    cycle.disconnected = True  # type: ignore[union-attr]
    return True


def with_faults(app: ASGIApp, config: FaultConfig | None) -> ASGIApp:
    """``app`` wrapped in a FaultInjector when faults are configured, else ``app`` itself."""
    return FaultInjector(app, config) if config is not None else app
