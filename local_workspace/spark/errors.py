"""Errors of the local ``spark``: PySpark's names, Databricks' error classes.

``AnalysisException`` is what a statement the warehouse rejected raises (its message starts
with the error class, e.g. ``[TABLE_OR_VIEW_NOT_FOUND]``); ``NotSupportedInLocalWorkspace``
is the one refusal for what needs a Databricks cluster (Python UDFs, RDDs, ...).
"""

from __future__ import annotations

import re
from typing import Any, NoReturn

_CLASS = re.compile(r"^\[([A-Z0-9_.]+)\]")
_AMBIGUOUS = re.compile(r'Ambiguous reference to column name "([^"]+)"')
_QUOTED = re.compile(r"'([^']+)'")
_SQLSTATE = re.compile(r"SQLSTATE: (\w{5})")
REFUSAL_CLASS = "NOT_SUPPORTED_IN_LOCAL_WORKSPACE"


class PySparkException(Exception):
    """Base of PySpark's errors: an error class and message parameters."""

    def __init__(
        self,
        message: str | None = None,
        errorClass: str | None = None,
        messageParameters: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        errorClass = errorClass or kwargs.get("error_class")
        parameters = messageParameters or kwargs.get("message_parameters") or {}
        text = message or ""
        if errorClass and not text.startswith("["):
            text = f"[{errorClass}] {text}".rstrip()
        super().__init__(text)
        match = _CLASS.match(text)
        self._error_class = errorClass or (match.group(1) if match else None)
        self._parameters = dict(parameters)

    def getErrorClass(self) -> str | None:
        """The error class, e.g. ``TABLE_OR_VIEW_NOT_FOUND``."""
        return self._error_class

    def getCondition(self) -> str | None:
        """The error condition (PySpark 4's name for the error class)."""
        return self._error_class

    def getMessageParameters(self) -> dict[str, str]:
        """The message parameters (empty when the warehouse gave only a message)."""
        return dict(self._parameters)

    def getSqlState(self) -> str | None:
        """The SQLSTATE named in the message, if any."""
        match = _SQLSTATE.search(str(self))
        return match.group(1) if match else None

    def getMessage(self) -> str:
        """The message with its error class."""
        return str(self)


class AnalysisException(PySparkException):
    """A statement the warehouse rejected (PySpark's name for SQL analysis errors)."""


class ParseException(AnalysisException):
    """A statement the warehouse could not parse."""


class IllegalArgumentException(PySparkException):
    """An argument the API refuses."""


class PySparkValueError(PySparkException, ValueError):
    """A bad value given to the API."""


class PySparkTypeError(PySparkException, TypeError):
    """A bad type given to the API."""


class PySparkAttributeError(PySparkException, AttributeError):
    """An attribute that does not exist."""


class PySparkNotImplementedError(PySparkException, NotImplementedError):
    """A feature that is not implemented."""


class PySparkAssertionError(PySparkException, AssertionError):
    """A failed ``pyspark.testing`` assertion."""


class NotSupportedInLocalWorkspace(PySparkNotImplementedError):
    """What needs a Databricks cluster: the message names the feature and the Databricks way."""


def refuse(feature: str, instead: str) -> NoReturn:
    """Raise the one refusal: ``feature`` needs a cluster; ``instead`` says what to do."""
    raise NotSupportedInLocalWorkspace(
        f"{feature} need(s) a Databricks cluster: the local workspace runs the DataFrame API "
        f"as SQL on its SQL warehouse. {instead}",
        errorClass=REFUSAL_CLASS,
    )


def statement_error(code: Any, message: str) -> AnalysisException:
    """The exception of a failed statement: its message starts with the error class."""
    text = message if message.startswith("[") else f"[{code or 'SQL_ERROR'}] {message}"
    ambiguous = _AMBIGUOUS.search(text) if text.startswith("[INTERNAL_ERROR]") else None
    if ambiguous:  # the local engine's word for what Spark's analyzer reports by this class
        options = ", ".join(
            ".".join(f"`{part}`" for part in o.split(".")) for o in _QUOTED.findall(text)
        )
        text = (
            f"[AMBIGUOUS_REFERENCE] Reference `{ambiguous.group(1)}` is ambiguous, could be: "
            f"[{options}]. SQLSTATE: 42704"
        )
    if text.startswith(("[PARSE_SYNTAX_ERROR]", "[PARSE_EMPTY_STATEMENT]")):
        return ParseException(text)
    return AnalysisException(text)
