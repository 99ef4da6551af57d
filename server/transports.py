"""stdio and streamable-HTTP transports.

stdout of the stdio server carries only MCP messages: logging goes to stderr.
The HTTP server binds 127.0.0.1 by default, requires a bearer token and checks Origin.
"""

from __future__ import annotations

import hmac
import secrets
import sys

from starlette.types import ASGIApp, Receive, Scope, Send

from server.app import build_server
from server.runtime import Runtime
from server.settings import Settings
from server.specs import all_specs


def serve_stdio(settings: Settings, runtime: Runtime | None = None) -> int:
    """Serve MCP over stdio until the client closes the stream."""
    runtime = runtime or Runtime(settings)
    try:
        server = build_server(settings, runtime)
        runtime.warm_up_later(all_specs)
        if sys.stdin.isatty():  # run by hand, it would look hung: it answers only MCP clients
            print(
                "dbx-devkit: MCP server on stdio, waiting for an MCP client's messages on stdin "
                "(Ctrl-C to stop).",
                file=sys.stderr,
                flush=True,
            )
        server.run("stdio")
    finally:
        runtime.close()
    return 0


# The shortest token `serve --transport http` accepts: a short one can be guessed.
MIN_TOKEN_CHARS = 16


class RequireBearer:
    """Reject HTTP requests without ``Authorization: Bearer <token>``.

    The scheme name is case-insensitive (RFC 7235 section 2.1, RFC 6750): ``bearer`` and
    ``BEARER`` are the same scheme; the token itself is compared exactly, in constant time.
    """

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            scheme, _, credentials = given.partition(b" ")
            valid = scheme.lower() == b"bearer" and hmac.compare_digest(
                credentials.strip(b" "), self._expected
            )
            if not valid:
                await _plain(send, 401, b"missing or invalid bearer token")
                return
        await self.app(scope, receive, send)


def token_problem(token: str | None) -> str | None:
    """Why a configured HTTP token cannot be used, or None when it can (or none is set)."""
    if not token:
        return None
    if len(token) < MIN_TOKEN_CHARS:
        return (
            f"DBX_DEVKIT_HTTP_TOKEN has {len(token)} characters; it needs at least "
            f"{MIN_TOKEN_CHARS} so that it cannot be guessed. Set a longer one (e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`), or unset it "
            "and a random token is printed at start."
        )
    return None


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def http_app(settings: Settings, runtime: Runtime, token: str) -> ASGIApp:
    """The streamable-HTTP ASGI app: token check outside, Origin/Host checks inside.

    Browsers send ``Origin``: only our own address and ``DBX_DEVKIT_ALLOWED_ORIGINS`` pass,
    which stops DNS-rebinding and cross-site pages from driving the tools. Non-browser
    clients send no Origin and need only the token.
    """
    from urllib.parse import urlsplit

    from mcp.server.transport_security import TransportSecuritySettings

    host = settings.http_host
    port = settings.http_port
    names = [host, "127.0.0.1", "localhost", "[::1]"]
    allowed_hosts = list(dict.fromkeys(f"{name}:{port}" for name in names))
    allowed_origins = [f"http://{h}" for h in allowed_hosts] + list(settings.allowed_origins)
    # An allowed origin's host is also a Host clients may use (e.g. behind a proxy).
    allowed_hosts += [urlsplit(o).netloc for o in settings.allowed_origins if urlsplit(o).netloc]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=allowed_hosts,
        allowed_origins=allowed_origins,
    )
    app = build_server(settings, runtime).streamable_http_app(
        transport_security=security, host=host
    )
    return RequireBearer(app, token)


def serve_http(settings: Settings) -> int:
    """Serve MCP over streamable HTTP with uvicorn."""
    import uvicorn

    problem = token_problem(settings.http_token)
    if problem is not None:
        print(f"dbx-devkit: {problem}", file=sys.stderr)
        return 2
    token = settings.http_token or secrets.token_urlsafe(24)
    if not settings.http_token:
        print(
            f"dbx-devkit: HTTP bearer token (set DBX_DEVKIT_HTTP_TOKEN to fix it): {token}",
            file=sys.stderr,
        )
    print(
        f"dbx-devkit: MCP over HTTP at http://{settings.http_host}:{settings.http_port}/mcp",
        file=sys.stderr,
    )
    if settings.http_host not in ("127.0.0.1", "localhost", "::1"):
        print(
            "dbx-devkit: WARNING: listening beyond this machine; anyone with the token can "
            "use the tools. Add the URL clients use to DBX_DEVKIT_ALLOWED_ORIGINS.",
            file=sys.stderr,
        )
    runtime = Runtime(settings)
    try:
        app = http_app(settings, runtime, token)
        runtime.warm_up_later(all_specs)
        uvicorn.run(
            app,
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
        )
    finally:
        runtime.close()
    return 0
