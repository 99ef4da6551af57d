"""Error types of tools_core.

Operations raise :class:`ToolsCoreError` for problems they detect themselves (bad input,
refused statements, missing configuration). Errors of the SDK (``DatabricksError``) pass
through untouched; the server's error boundary maps both to short, actionable messages.
"""

from __future__ import annotations


class ToolsCoreError(Exception):
    """A problem with a Databricks-style error code and a hint saying what to do next."""

    def __init__(self, error_code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.error_code}: {self.message}"
        return f"{text} {self.hint}" if self.hint else text


class InvalidInput(ToolsCoreError):
    """The caller's arguments cannot work; nothing was sent or changed."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__("INVALID_PARAMETER_VALUE", message, hint)


class NotConfirmed(ToolsCoreError):
    """A destructive operation was called without ``confirm=True``."""

    def __init__(self, message: str) -> None:
        super().__init__("CONFIRMATION_REQUIRED", message, "Call again with confirm=true.")


class OutcomeUnknown(ToolsCoreError):
    """A write failed in a way that leaves its effect unknown: the request may or may not have
    been applied (a 429/5xx answer, or a connection lost or timed out after sending). It was
    not retried, so it was applied at most once; ``check`` is the tool that tells which."""

    def __init__(self, what: str, cause: str, check: str) -> None:
        super().__init__(
            "OUTCOME_UNKNOWN",
            f"{what} may or may not have been applied ({cause}).",
            f"Check with {check} before retrying.",
        )
        self.check = check

    @classmethod
    def maybe_twice(cls, made: str, cause: str, check: str) -> OutcomeUnknown:
        """A create that was applied, but may have been applied twice (its client retried it)
        and the look-up that would tell could not run."""
        error = cls(made, cause, check)
        error.message = f"{made}, but a retried request may have made a second one ({cause})."
        error.hint = f"Check with {check} and delete the extra before retrying."
        return error


MESSAGE_MAX_CHARS = 300


def one_line(message: str, code: str = "") -> str:
    """A client library's error message made short: no ``CODE:`` prefix, first line only,
    without the SQL dumps MLflow's server appends (``... Error: (sqlite3...``), capped."""
    text = message.strip()
    if code and text.startswith(f"{code}:"):
        text = text[len(code) + 1 :].strip()
    text = text.split("\n", 1)[0].split(" Error: (", 1)[0].strip()
    if len(text) > MESSAGE_MAX_CHARS:
        text = text[: MESSAGE_MAX_CHARS - 1] + "…"
    # A hint follows the message: end it as a sentence.
    return text if not text or text.endswith((".", "!", "?", "…", ")")) else text + "."
