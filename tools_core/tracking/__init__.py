"""MLflow tracking: experiments, run search and detail, comparison, metric history, logging.

Named ``tracking`` (not ``mlflow``) so it never shadows the ``mlflow`` package. MLflow is
imported inside functions only (it takes seconds to load); the client comes from
:func:`tools_core.mlflow_client.mlflow_client`.
"""

from __future__ import annotations

from tools_core.tracking.common import naming_warnings, resolve_experiment
from tools_core.tracking.experiments import create_experiment, list_experiments
from tools_core.tracking.history import get_metric_history
from tools_core.tracking.models import (
    ExperimentCreated,
    ExperimentList,
    MetricHistory,
    RunComparison,
    RunDetail,
    RunLogged,
    RunTable,
)
from tools_core.tracking.runs import compare_runs, get_run, log_run
from tools_core.tracking.search import search_runs

__all__ = [
    "ExperimentCreated",
    "ExperimentList",
    "MetricHistory",
    "RunComparison",
    "RunDetail",
    "RunLogged",
    "RunTable",
    "compare_runs",
    "create_experiment",
    "get_metric_history",
    "get_run",
    "list_experiments",
    "log_run",
    "naming_warnings",
    "resolve_experiment",
    "search_runs",
]
