"""Databricks-style API errors for the local workspace.

Databricks answers errors as ``{"error_code": ..., "message": ...}`` with an HTTP status;
the SDK turns that pair into its typed exceptions (404 -> NotFound, 409 -> AlreadyExists...).
"""

from __future__ import annotations


class ApiError(Exception):
    """An error answered to the client as Databricks would answer it."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def body(self) -> dict[str, str]:
        """The JSON body Databricks sends for this error."""
        return {"error_code": self.error_code, "message": self.message}


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
