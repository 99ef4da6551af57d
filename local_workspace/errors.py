"""Databricks-style API errors for the local workspace.

Databricks answers errors as ``{"error_code": ..., "message": ...}`` with an HTTP status;
the SDK turns that pair into its typed exceptions (404 -> NotFound, 409 -> AlreadyExists...).
"""

from __future__ import annotations

import re

# The longest message the workspace answers: messages echo names, paths and SQL.
MESSAGE_MAX_CHARS = 1000
# The longest run of non-blank characters kept whole (an echoed name, path or value).
ECHO_MAX_CHARS = 160
_LONG_RUN = re.compile(rf"\S{{{ECHO_MAX_CHARS + 1},}}")


def shorten(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and end around a
    marker saying how many characters were cut (the result has at most ``limit``)."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    for _ in range(2):  # the marker's own length changes the count once at most
        marker = f"…[{cut:,} chars cut]…"
        keep = max(limit - len(marker), 0)
        cut = len(text) - keep
    head = keep - keep // 4
    return text[:head] + marker + text[len(text) - (keep - head) :] if keep else marker[:limit]


def bounded(message: str) -> str:
    """A message with its echoes shortened and at most :data:`MESSAGE_MAX_CHARS` long."""
    echoes_cut = _LONG_RUN.sub(lambda match: shorten(match.group(), ECHO_MAX_CHARS), message)
    return shorten(echoes_cut, MESSAGE_MAX_CHARS)


class ApiError(Exception):
    """An error answered to the client as Databricks would answer it (message bounded)."""

    def __init__(
        self, status: int, error_code: str, message: str, reason: str | None = None
    ) -> None:
        message = bounded(message)
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        # google.rpc.ErrorInfo reason some APIs add (clients such as the Databricks CLI read
        # it to tell one 400 from another, e.g. FILES_API_DIRECTORY_IS_NOT_EMPTY).
        self.reason = reason

    def body(self) -> dict[str, object]:
        """The JSON body Databricks sends for this error."""
        body: dict[str, object] = {"error_code": self.error_code, "message": self.message}
        if self.reason:
            body["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": self.reason,
                }
            ]
        return body


def not_found(message: str, code: str = "RESOURCE_DOES_NOT_EXIST") -> ApiError:
    """404 for a missing object."""
    return ApiError(404, code, message)


def already_exists(message: str, code: str = "RESOURCE_ALREADY_EXISTS") -> ApiError:
    """409 for a create that collides with an existing object."""
    return ApiError(409, code, message)


def invalid(message: str, code: str = "INVALID_PARAMETER_VALUE") -> ApiError:
    """400 for a request the API rejects."""
    return ApiError(400, code, message)


def not_available(feature: str) -> ApiError:
    """501 for cloud-only features: the local workspace refuses instead of faking success."""
    return ApiError(
        501,
        "NOT_IMPLEMENTED",
        f"{feature} is not available in the local workspace; use a real Databricks workspace.",
    )


def internal(message: str = "The local workspace failed on this request.") -> ApiError:
    """500 for a failure of the workspace itself (its log has the traceback)."""
    return ApiError(500, "INTERNAL_ERROR", message)
