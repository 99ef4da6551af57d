"""A cache of the tools/list answer, so start-up does not grow with the number of tools.

Building a tool's argument model and JSON schema (pydantic) and importing the tool modules
costs a few milliseconds per tool; with dozens of tools that is most of the start-up time
beyond importing ``mcp``. The first start builds every tool and stores its listing in the
user's cache directory, keyed by a fingerprint of the code that shapes the schemas; later
starts answer tools/list from that file and build a tool only when it is first called.

The fingerprint hashes the source of ``server`` and ``tools_core`` (parameter types may
live there) and the versions of Python, ``mcp`` and ``pydantic``: any edit or upgrade
misses the cache and rebuilds it, so a stale listing is never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

log = logging.getLogger("dbx_devkit")

# Bump when the row layout changes.
FORMAT = 1
_PACKAGES = ("server", "tools_core")


@dataclass(frozen=True)
class ToolRow:
    """One tool as tools/list shows it, plus what the filters need."""

    name: str
    toolset: str
    read_only: bool
    listing: dict[str, Any]  # the MCP Tool, dumped by alias without None values


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dbx-devkit``, else ``~/.cache/dbx-devkit``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dbx-devkit"


def fingerprint() -> str:
    """A hash of everything that shapes the tool listing."""
    digest = hashlib.blake2b(digest_size=16)
    versions = f"{FORMAT}|{sys.version}|{version('mcp')}|{version('pydantic')}"
    digest.update(versions.encode())
    root = Path(__file__).resolve().parent.parent
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _path(key: str) -> Path:
    return cache_dir() / f"tools-{key}.json"


def load(key: str) -> list[ToolRow] | None:
    """The cached rows for ``key``, or None when missing or unreadable (then rebuild)."""
    try:
        raw = json.loads(_path(key).read_text())
        return [ToolRow(**row) for row in raw]
    except (OSError, ValueError, TypeError):
        return None


def store(key: str, rows: list[ToolRow]) -> None:
    """Write the rows atomically; a read-only or full disk only costs the next start time."""
    target = _path(key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=target.parent, prefix=".tools-", suffix=".tmp", delete=False
        ) as handle:
            json.dump([asdict(row) for row in rows], handle, separators=(",", ":"))
        os.replace(handle.name, target)
        _remove_stale(target)
    except OSError as exc:
        log.debug("tool listing cache not written: %s", exc)


# Several checkouts or versions may be in use side by side: keep a few listings.
KEEP = 6


def _remove_stale(keep: Path) -> None:
    """Drop all but the most recently written listings."""
    listings = sorted(keep.parent.glob("tools-*.json"), key=lambda p: p.stat().st_mtime)
    for old in listings[:-KEEP]:
        if old != keep:
            old.unlink(missing_ok=True)
