"""How to start this installation of dbx-devkit, for files that start it later (.mcp.json)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _checkout() -> bool:
    return (ROOT / "pyproject.toml").is_file() and (ROOT / "server").is_dir()


def devkit_source() -> str:
    """The source checkout a new project's dev environment installs dbx-devkit from (its
    pytest plugin); "" when installed from a package (the project then names the package)."""
    return str(ROOT) if _checkout() else ""


def serve_command() -> list[str]:
    """The stdio server of this installation: through uv from a source checkout (so the lock
    file's environment is used), else the installed ``dbx-devkit`` script. Never a package
    name to download: nothing guarantees PyPI's ``dbx-devkit`` is this one."""
    if _checkout():
        return ["uv", "run", "--directory", str(ROOT), "--extra", "mlflow", "dbx-devkit", "serve"]
    script = Path(sys.executable).with_name("dbx-devkit")
    if script.is_file():
        return [str(script), "serve"]
    return [sys.executable, "-m", "server.cli", "serve"]
