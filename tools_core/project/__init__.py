"""Projects: write the guide's project structure, and run its deployment checklist."""

from tools_core.project.check import CheckItem, CheckResult, check_project
from tools_core.project.init import TEMPLATES, InitResult, init_project

__all__ = ["TEMPLATES", "CheckItem", "CheckResult", "InitResult", "check_project", "init_project"]
