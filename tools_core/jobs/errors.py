"""Unknown job and run ids: the workspace's error code, plus where to find the right id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tools_core.errors import ToolsCoreError

JOB_HINT = "List jobs with jobs_list to find the job_id."
RUN_HINT = "List runs with jobs_list_runs to find the run_id."


@contextmanager
def missing_id(hint: str) -> Iterator[None]:
    """Turn the workspace's "Job/Run N does not exist" into the same code with ``hint``.

    Databricks answers an unknown id with INVALID_PARAMETER_VALUE (jobs) or
    RESOURCE_DOES_NOT_EXIST; the generic hint of those codes does not say where to look.
    """
    from databricks.sdk.errors import DatabricksError

    try:
        yield
    except DatabricksError as exc:
        message = str(exc).split(" Config: ")[0]
        if "does not exist" not in message:
            raise
        code = exc.error_code or "RESOURCE_DOES_NOT_EXIST"
        raise ToolsCoreError(code, message, hint) from exc
