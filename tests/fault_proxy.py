"""A fault-injecting HTTP reverse proxy on 127.0.0.1, for tests: seeded, bounded, counted.

It stands in front of a real workspace (the session's local workspace) and, for each API
request, draws one fault from a random generator seeded by the plan's seed, the request
(method, path, body) and how many times that same request came before: the same requests get
the same faults whatever else runs meanwhile, and a retry may be faulted differently.

- ``error_before``: answer 429/503 with a Databricks JSON body; nothing is forwarded;
- ``error_after``: forward, discard the real answer, answer 429/503 (the write happened);
- ``drop_before``: close the connection without an answer; nothing is forwarded;
- ``drop_after``: forward, then close without an answer (the write happened);
- ``latency``: wait ``latency_s``, then forward.

Every decision is logged (method, path, fault, whether it was forwarded) and counted. The
proxy is bounded: after ``max_requests`` (or the faults :meth:`FaultProxy.allow` s) it injects
nothing more, and after ``max_seconds`` it stops serving. It ends when its ``with`` block does.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FAULTS = ("error_before", "error_after", "drop_before", "drop_after", "latency")
ERROR_CODES = {429: "TOO_MANY_REQUESTS", 503: "TEMPORARILY_UNAVAILABLE"}
# Hop-by-hop headers are the proxy's own business, never forwarded.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass(frozen=True)
class FaultPlan:
    """How often each fault happens (probabilities per request, summing to at most 1)."""

    seed: int = 11
    rates: dict[str, float] = field(default_factory=dict)
    statuses: tuple[int, ...] = (429, 503)
    retry_after_s: int = 0
    latency_s: float = 0.0
    paths: tuple[str, ...] = ("/api/",)  # only API calls: never discovery or health
    max_requests: int = 2_000
    max_seconds: float = 300.0

    def __post_init__(self) -> None:
        unknown = set(self.rates) - set(FAULTS)
        if unknown or sum(self.rates.values()) > 1:
            raise ValueError(f"bad fault rates {self.rates}")


@dataclass(frozen=True)
class Decision:
    """What the proxy did with one request."""

    method: str
    path: str
    fault: str  # one of FAULTS, or "pass"
    forwarded: bool
    status: int | None = None


class FaultProxy:
    """The proxy: ``url`` is what clients use instead of the workspace's URL."""

    def __init__(self, upstream: str, plan: FaultPlan) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.plan = plan
        self.log: list[Decision] = []
        self._seen: Counter[tuple[str, str, str]] = Counter()
        self._lock = threading.Lock()
        self._armed = True
        self._faults_left: int | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._stopper = threading.Timer(plan.max_seconds, self._server.shutdown)

    @property
    def counts(self) -> Counter[str]:
        """How many requests got each fault ("pass" for none)."""
        with self._lock:
            return Counter(d.fault for d in self.log)

    def arm(self, armed: bool) -> None:
        """Inject faults (True) or pass everything through (False)."""
        with self._lock:
            self._armed = armed

    def allow(self, faults: int | None) -> None:
        """Inject at most ``faults`` more faults (None: no such limit)."""
        with self._lock:
            self._faults_left = faults

    def since(self, mark: int) -> list[Decision]:
        """The decisions made after the first ``mark`` ones."""
        with self._lock:
            return self.log[mark:]

    def _decide(self, method: str, path: str, body: bytes) -> tuple[str, int]:
        plan = self.plan
        digest = hashlib.sha256(body).hexdigest()[:16]
        with self._lock:
            seen = self._seen[(method, path, digest)]
            self._seen[(method, path, digest)] += 1
            draws = random.Random(f"{plan.seed}|{method}|{path}|{digest}|{seen}")
            draw, status = draws.random(), draws.choice(plan.statuses)
            if not self._armed or not path.startswith(plan.paths):
                return "pass", status
            if len(self.log) >= plan.max_requests or self._faults_left == 0:
                return "pass", status
            threshold = 0.0
            for fault in FAULTS:
                threshold += plan.rates.get(fault, 0.0)
                if draw < threshold:
                    if self._faults_left is not None:
                        self._faults_left -= 1
                    return fault, status
            return "pass", status

    def _record(self, decision: Decision) -> None:
        with self._lock:
            self.log.append(decision)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one small answer must not wait for an ACK

            def log_message(self, format: str, *args: object) -> None:  # quiet
                return

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fault, status = proxy._decide(self.command, self.path, body)
                if fault == "latency":
                    time.sleep(proxy.plan.latency_s)
                forwarded = fault not in ("error_before", "drop_before")
                answer = self._forward(body) if forwarded else None
                proxy._record(Decision(self.command, self.path, fault, forwarded, status))
                if fault in ("drop_before", "drop_after"):
                    self.close_connection = True  # closed without a word
                elif fault in ("error_before", "error_after"):
                    self._error(status)
                else:
                    assert answer is not None
                    self._relay(*answer)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=120)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    response = conn.getresponse()
                    return response.status, response.getheaders(), response.read()
                finally:
                    conn.close()

            def _relay(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in HOP_BY_HOP | {"content-length", "date", "server"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int) -> None:
                code = ERROR_CODES[status]
                body = json.dumps(
                    {"error_code": code, "message": f"Injected by the fault proxy ({code})."}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Retry-After", str(proxy.plan.retry_after_s))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def start(self) -> FaultProxy:
        self._thread.start()
        self._stopper.start()
        return self

    def stop(self) -> None:
        self._stopper.cancel()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@contextmanager
def fault_proxy(upstream: str, plan: FaultPlan) -> Iterator[FaultProxy]:
    """A running proxy in front of ``upstream``, stopped when the block ends."""
    proxy = FaultProxy(upstream, plan).start()
    try:
        yield proxy
    finally:
        proxy.stop()
