"""The one error boundary: any failure of a tool becomes a short, actionable message.

Messages start with the Databricks error code and end with what to do next. Secrets never
appear: the SDK's messages carry no tokens, and we add none.
"""

from __future__ import annotations

from pydantic import ValidationError

from tools_core.errors import ToolsCoreError, one_line

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
}


def describe_error(exc: BaseException) -> str:
    """The message an agent sees for ``exc``: ``CODE: what happened. What to do next.``"""
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
    return f"INTERNAL_ERROR: {type(exc).__name__}: {exc}"


def _transient_or_sdk_error(exc: BaseException) -> tuple[str | None, str]:
    """(error code, message) of an SDK error or of a failure to reach the workspace."""
    code, message = _sdk_error(exc)
    if code is None and isinstance(exc, ConnectionError | TimeoutError | OSError):
        return (
            "TEMPORARILY_UNAVAILABLE",
            f"Cannot reach the workspace ({type(exc).__name__}: {exc}).",
        )
    return code, message


def _sdk_error(exc: BaseException) -> tuple[str | None, str]:
    """(error code, message) of a databricks-sdk error, or of any error carrying a string
    ``error_code`` (MLflow's ``MlflowException``/``RestException``), without importing them."""
    error_code = getattr(exc, "error_code", None)
    if type(exc).__module__.startswith("databricks.sdk"):
        message = str(exc).split(" Config: ")[0]  # the SDK appends its config: too long
        return error_code or type(exc).__name__.upper(), message
    if isinstance(error_code, str) and error_code:
        return error_code, one_line(str(getattr(exc, "message", None) or exc), error_code)
    return None, str(exc)


def _with_hint(code: str, message: str) -> str:
    message = message.strip()
    if message.startswith(f"{code}:"):
        message = message[len(code) + 1 :].strip()
    hint = HINTS.get(code, "")
    return f"{code}: {message} {hint}".rstrip()


def describe_validation_error(tool: str, exc: ValidationError) -> str:
    """Arguments that do not fit the tool's schema, named one by one."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        if error["type"] == "missing":
            problems.append(f"missing required argument '{where}'")
        else:
            problems.append(f"'{where}': {error['msg']}")
    return (
        f"INVALID_PARAMETER_VALUE: {tool}: {'; '.join(problems)}. "
        "Check the tool's input schema and call again."
    )
