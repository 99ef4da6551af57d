"""How processes find the local workspace serving a data directory: ``server.json``.

A running workspace writes its URL and pid there once it listens; a starter or a second MCP
server reads it and checks ``/health`` before attaching (a killed process leaves the file).
Light on purpose: attaching must not import the workspace's own dependencies.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def server_file(data_dir: Path) -> Path:
    """Where a running workspace says where it listens."""
    return data_dir / "server.json"


def write_server_file(data_dir: Path, url: str, owned: bool) -> None:
    """Say where this process serves ``data_dir`` (atomically: readers never see half)."""
    path = server_file(data_dir)
    tmp = path.with_name(f".server.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid(), "owned": owned}))
    tmp.replace(path)


def remove_server_file(data_dir: Path, url: str) -> None:
    """Remove ``server.json`` if it still names this process's ``url``."""
    path = server_file(data_dir)
    with contextlib.suppress(OSError, ValueError):
        if url and json.loads(path.read_text()).get("url") == url:
            path.unlink()


def find_running(data_dir: Path) -> str | None:
    """The URL of a live local workspace serving ``data_dir``, if some process runs one."""
    try:
        info: dict[str, Any] = json.loads(server_file(data_dir).read_text())
    except (OSError, ValueError):
        return None
    url = str(info.get("url", ""))
    return url if healthy(url) else None


def healthy(url: str, timeout_s: float = 1.0) -> bool:
    """Whether a local workspace answers its health check at ``url``."""
    return health(url, timeout_s) is not None


def mlflow_state(url: str, timeout_s: float = 1.0) -> str:
    """What the workspace at ``url`` says of its MLflow: starting, ready, unavailable, or
    unknown when it does not answer."""
    return str((health(url, timeout_s) or {}).get("mlflow", "unknown"))


def health(url: str, timeout_s: float = 1.0) -> dict[str, Any] | None:
    """The health answer of the local workspace at ``url``; None when none answers."""
    if not url.startswith("http://"):
        return None
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout_s) as resp:
            answer = json.loads(resp.read()) if resp.status == 200 else None
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None
