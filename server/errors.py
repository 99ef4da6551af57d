"""The one error boundary: any failure of a tool becomes a short, actionable message.

Messages start with the Databricks error code and end with what to do next. Secrets never
appear: the SDK's messages carry no tokens, and we add none. Every message is bounded
(:data:`ERROR_MAX_CHARS`): errors echo their input (a name, a path, a statement, the
request log of the SDK), and an agent pays for each character of it.
"""

from __future__ import annotations

import errno
import re
import socket

from pydantic import ValidationError

from tools_core.errors import ToolsCoreError, one_line

# The longest error text an agent sees, hint included.
ERROR_MAX_CHARS = 2000
# The longest run of non-blank characters kept whole: longer ones are echoes of input.
ECHO_MAX_CHARS = 160
_LONG_RUN = re.compile(rf"\S{{{ECHO_MAX_CHARS + 1},}}")
# Modules whose exceptions mean the network, not this machine, failed.
NETWORK_MODULES = ("requests.", "urllib3.", "httpx", "httpcore", "h11", "ssl")

# What to do next, by Databricks error code.
HINTS: dict[str, str] = {
    "RESOURCE_DOES_NOT_EXIST": "Check the name or path; list the parent to see what exists.",
    "NOT_FOUND": "Check the name or path; list the parent to see what exists.",
    "TABLE_OR_VIEW_NOT_FOUND": "Check the name with uc_list_tables or SHOW TABLES.",
    "SCHEMA_NOT_FOUND": "Check the schema name with uc_list_schemas.",
    "CATALOG_NOT_FOUND": "Check the catalog name with uc_list_catalogs.",
    "TABLE_DOES_NOT_EXIST": "Check the name with uc_list_tables (catalog.schema.table).",
    "SCHEMA_DOES_NOT_EXIST": "Check the schema name with uc_list_schemas.",
    "CATALOG_DOES_NOT_EXIST": "Check the catalog name with uc_list_catalogs.",
    "RESOURCE_ALREADY_EXISTS": "Pick another name, or pass overwrite=true where the tool has it.",
    "ALREADY_EXISTS": "Pick another name, or pass overwrite=true where the tool has it.",
    "DIRECTORY_NOT_EMPTY": "Pass recursive=true to delete the directory and its contents.",
    "UNAUTHENTICATED": "The token is missing or invalid: run `dbx-devkit doctor`.",
    "PERMISSION_DENIED": "Ask an owner for the privilege, or use uc_get_grants to see who has it.",
    "INVALID_PARAMETER_VALUE": "Fix the argument as the message says.",
    "BAD_REQUEST": "Fix the request as the message says.",
    "PARSE_SYNTAX_ERROR": "Fix the SQL syntax and run it again.",
    "TEMPORARILY_UNAVAILABLE": "The service is temporarily unavailable: retry later.",
    "TOO_MANY_REQUESTS": "Rate limited: retry later, with fewer calls at once.",
    "OUTCOME_UNKNOWN": "Check whether it was applied before retrying: a retry may apply it twice.",
    "NOT_IMPLEMENTED": "This needs a real Databricks workspace.",
    "FEATURE_DISABLED": "This needs a real Databricks workspace.",
    "LOCAL_ERROR": (
        "It failed on this machine, not in the workspace: check the path, its permissions "
        "and the free disk space."
    ),
}


def describe_error(exc: BaseException) -> str:
    """The message an agent sees for ``exc``: ``CODE: what happened. What to do next.``,
    at most :data:`ERROR_MAX_CHARS` characters."""
    return bounded(_describe(exc))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ToolsCoreError):
        if exc.hint:
            return str(exc)
        return _with_hint(exc.error_code, exc.message)
    if isinstance(exc, TimeoutError) and isinstance(exc.__cause__, Exception):
        # The SDK's retries ran out ("Timed out after ..."): its last failure says what failed.
        code, message = _transient_or_sdk_error(exc.__cause__)
        if code is not None:
            return _with_hint(code, f"{message.rstrip('.')}; still failing after retries ({exc}).")
    code, message = _transient_or_sdk_error(exc)
    if code is not None:
        return _with_hint(code, message)
    local = _local_error(exc)
    if local is not None:
        return local
    return f"INTERNAL_ERROR: {type(exc).__name__}: {exc}"


def _transient_or_sdk_error(exc: BaseException) -> tuple[str | None, str]:
    """(error code, message) of an SDK error or of a failure to reach the workspace."""
    code, message = _sdk_error(exc)
    if code is None and is_network_error(exc):
        return (
            "TEMPORARILY_UNAVAILABLE",
            f"Cannot reach the workspace ({type(exc).__name__}: {exc}).",
        )
    return code, message


def is_network_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the workspace could not be reached (connection refused or reset,
    DNS, TLS, a timeout of the HTTP client), as opposed to a failure of local work such as
    a file name too long or a full disk, which is an ``OSError`` too."""
    if type(exc).__module__.startswith(NETWORK_MODULES):
        return True
    return isinstance(exc, ConnectionError | TimeoutError | socket.gaierror | socket.herror)


def _local_error(exc: BaseException) -> str | None:
    """An error of local work (files, disk), named as such; None for anything else."""
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc)
        where = f" ({exc.filename!r})" if exc.filename else ""
        if exc.errno == errno.ENAMETOOLONG:
            return _with_hint(
                "INVALID_PARAMETER_VALUE",
                f"File name too long{where}. Use a shorter file name (most file systems "
                "allow 255 bytes a name).",
            )
        return _with_hint("LOCAL_ERROR", f"{what}{where}.")
    if isinstance(exc, ValueError) and "embedded null" in str(exc):
        # open() and os.* refuse NUL in a path ("embedded null byte").
        return _with_hint(
            "INVALID_PARAMETER_VALUE", "A path holds a NUL character. Remove it and call again."
        )
    return None


def _sdk_error(exc: BaseException) -> tuple[str | None, str]:
    """(error code, message) of a databricks-sdk error, or of any error carrying a string
    ``error_code`` (MLflow's ``MlflowException``/``RestException``), without importing them."""
    error_code = getattr(exc, "error_code", None)
    if type(exc).__module__.startswith("databricks.sdk"):
        message = str(exc).split(" Config: ")[0]  # the SDK appends its config: too long
        if message.startswith(UNPARSABLE):
            message = _unparsable(message)
        return error_code or _upper_snake(type(exc).__name__), message
    if isinstance(error_code, str) and error_code:
        return error_code, one_line(str(getattr(exc, "message", None) or exc), error_code)
    return None, str(exc)


# How the SDK starts the message of an answer that is not a Databricks error (a proxy's HTML
# page, a bare 500): a bug report template around the whole request log.
UNPARSABLE = "unable to parse response."


def _unparsable(message: str) -> str:
    """The SDK's "unable to parse response" report made short: the request and the status
    line of the answer, without the bug-report template."""
    log = message.split("Request log:```", 1)[-1].rstrip("`")
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    request = lines[0] if lines else "?"
    status = next((line[2:] for line in lines if line.startswith("< ")), "no status")
    return f"The workspace answered {request} with {status}, which is not a Databricks error."


def _upper_snake(name: str) -> str:
    """``ResourceDoesNotExist`` -> ``RESOURCE_DOES_NOT_EXIST`` (the SDK's class names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper()


def _with_hint(code: str, message: str) -> str:
    message = message.strip()
    if message.startswith(f"{code}:"):
        message = message[len(code) + 1 :].strip()
    hint = HINTS.get(code, "")
    # The hint says what to do next: it survives, the message gives way.
    budget = ERROR_MAX_CHARS - len(code) - len(hint) - 3
    return f"{code}: {shorten(_cut_echoes(message), budget)} {hint}".rstrip()


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


def _cut_echoes(text: str) -> str:
    """Every run of non-blank characters longer than :data:`ECHO_MAX_CHARS` (an echoed
    name, path or value) shortened in place, so several echoes cannot crowd out the rest."""
    return _LONG_RUN.sub(lambda match: shorten(match.group(), ECHO_MAX_CHARS), text)


def bounded(message: str) -> str:
    """An error text for an agent: echoes shortened, at most :data:`ERROR_MAX_CHARS`."""
    return shorten(_cut_echoes(message), ERROR_MAX_CHARS)


# Problems named one by one in a validation error; the rest are counted.
PROBLEMS_SHOWN = 5


def describe_validation_error(tool: str, exc: ValidationError) -> str:
    """Arguments that do not fit the tool's schema, named one by one (the first few)."""
    problems = []
    errors = exc.errors()
    for error in errors[:PROBLEMS_SHOWN]:
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        if error["type"] == "missing":
            problems.append(f"missing required argument '{where}'")
        else:
            problems.append(f"'{where}': {error['msg']}")
    if len(errors) > PROBLEMS_SHOWN:
        problems.append(f"and {len(errors) - PROBLEMS_SHOWN:,} more")
    return bounded(
        f"INVALID_PARAMETER_VALUE: {tool}: {'; '.join(problems)}. "
        "Check the tool's input schema and call again."
    )
