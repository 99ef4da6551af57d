"""Declarative Automation Bundles: offline validation and the databricks CLI's deploy/run."""

from tools_core.bundles.cli import BundleCommandResult, deploy, run
from tools_core.bundles.findings import BundleValidation, Finding
from tools_core.bundles.validate import validate

__all__ = ["BundleCommandResult", "BundleValidation", "Finding", "deploy", "run", "validate"]
