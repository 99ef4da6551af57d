"""Lakeflow Jobs: validate and manage jobs, start runs and watch them, read output, repair.

The SDK is imported inside functions only (it takes seconds to load). Specs are
JobSettings-shaped dicts, validated by :func:`validate_job_spec` before anything is sent.
"""

from __future__ import annotations

from tools_core.jobs.jobs import create_job, delete_job, get_job, list_jobs, update_job
from tools_core.jobs.models import (
    JobDetail,
    JobList,
    JobWritten,
    RunList,
    RunStarted,
    RunSummary,
    TaskOutput,
)
from tools_core.jobs.runs import (
    cancel_run,
    get_run,
    get_run_output,
    list_runs,
    repair_run,
    run_now,
    submit_run,
    wait_run,
)
from tools_core.jobs.spec import naming_warning, validate_job_spec

__all__ = [
    "JobDetail",
    "JobList",
    "JobWritten",
    "RunList",
    "RunStarted",
    "RunSummary",
    "TaskOutput",
    "cancel_run",
    "create_job",
    "delete_job",
    "get_job",
    "get_run",
    "get_run_output",
    "list_jobs",
    "list_runs",
    "naming_warning",
    "repair_run",
    "run_now",
    "submit_run",
    "update_job",
    "validate_job_spec",
    "wait_run",
]
