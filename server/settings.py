"""Settings of the MCP server and CLI: one object, built only in the entry point."""

from __future__ import annotations

import configparser
import os
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TOOLSETS = (
    "workspace",
    "uc",
    "files",
    "secrets",
    "sql",
    "jobs",
    "bundles",
    "mlflow",
    "registry",
    "vector_search",
    "serving",
    "pipelines",
    "features",
    "compute",
    "project",
)


class Settings(BaseSettings):
    """Environment variables ``DBX_DEVKIT_*`` (and a few Databricks ones), overridden by flags."""

    model_config = SettingsConfigDict(
        env_prefix="DBX_DEVKIT_", extra="ignore", populate_by_name=True
    )

    read_only: bool = Field(False, description="Register no writer tools.")
    # NoDecode: environment values are comma-separated lists, not JSON.
    toolsets: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        None, description="Enabled toolsets; None = all."
    )
    profile: str | None = Field(
        None,
        validation_alias=AliasChoices("DBX_DEVKIT_PROFILE", "DATABRICKS_CONFIG_PROFILE"),
        description="~/.databrickscfg profile.",
    )
    local: bool = Field(False, description="Use the embedded local workspace even if configured.")
    data_dir: Path | None = Field(None, description="Local workspace data directory.")
    results_dir: Path | None = Field(
        None, description="Folder save_to writes into (default: <data dir>/results)."
    )
    warehouse_id: str | None = Field(
        None,
        validation_alias=AliasChoices("DBX_DEVKIT_WAREHOUSE_ID", "DATABRICKS_WAREHOUSE_ID"),
        description="Default SQL warehouse.",
    )
    mlflow_tracking_uri: str | None = Field(
        None,
        validation_alias=AliasChoices("DBX_DEVKIT_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"),
        description="MLflow tracking URI (default: databricks, or the local workspace).",
    )
    mlflow_registry_uri: str | None = Field(
        None,
        validation_alias=AliasChoices("DBX_DEVKIT_MLFLOW_REGISTRY_URI", "MLFLOW_REGISTRY_URI"),
        description="MLflow registry URI (default: databricks-uc).",
    )
    call_timeout_s: float = Field(
        15.0,
        gt=0,
        le=600,
        description="Seconds a tool call waits at most for a failing or unreachable workspace.",
    )
    output_schemas: bool = Field(
        False, description="Advertise output schemas and return structured content."
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8765
    http_token: str | None = Field(None, description="Bearer token required by the HTTP server.")
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("toolsets", "allowed_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("toolsets")
    @classmethod
    def _known_toolsets(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - set(TOOLSETS))
        if unknown:
            raise ValueError(f"unknown toolsets {unknown}; choose from {', '.join(TOOLSETS)}")
        return value

    def remote_configured(self) -> bool:
        """Whether a Databricks configuration exists (then it is used, never the local one)."""
        if self.local:
            return False
        if self.profile or os.environ.get("DATABRICKS_HOST"):
            return True
        return _default_profile_exists()


def config_file_path() -> Path:
    """The Databricks configuration file the SDK reads (``DATABRICKS_CONFIG_FILE`` or default)."""
    return Path(os.environ.get("DATABRICKS_CONFIG_FILE", "~/.databrickscfg")).expanduser()


def _default_profile_exists() -> bool:
    path = config_file_path()
    if not path.is_file():
        return False
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        # A broken file is a configuration that exists: the SDK will say what is wrong.
        return True
    return parser.has_option("DEFAULT", "host") or "DEFAULT" in parser.sections()
