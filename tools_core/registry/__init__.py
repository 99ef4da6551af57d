"""The model registry (Unity Catalog on Databricks, the OSS registry locally) through MLflow.

Models are three-level ``catalog.schema.model_name`` everywhere. MLflow is imported inside
functions only (seconds to load); the client comes from :func:`tools_core.mlflow_client`.
"""

from __future__ import annotations

from tools_core.registry.models import (
    ModelDetail,
    ModelList,
    RegistryChange,
    VersionDetail,
    VersionList,
)
from tools_core.registry.names import check_model_name
from tools_core.registry.promote import (
    EVALUATION_TAG,
    PREVIOUS_ALIAS,
    MetricFrom,
    Promotion,
    promote,
)
from tools_core.registry.read import get_model, get_version, list_models, list_versions
from tools_core.registry.write import delete_alias, register_version, set_alias, set_tag

__all__ = [
    "EVALUATION_TAG",
    "PREVIOUS_ALIAS",
    "MetricFrom",
    "ModelDetail",
    "ModelList",
    "Promotion",
    "RegistryChange",
    "VersionDetail",
    "VersionList",
    "check_model_name",
    "delete_alias",
    "get_model",
    "get_version",
    "list_models",
    "list_versions",
    "promote",
    "register_version",
    "set_alias",
    "set_tag",
]
