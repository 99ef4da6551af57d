"""The server's settings from the command line's options, for every ``dbx-devkit`` command.

Its own module so that ``server.cli`` and the command modules it loads
(``server.project_cli``...) share it without importing each other.
"""

from __future__ import annotations

import argparse
from typing import Any

from server.settings import Settings


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from the environment, overridden by the options given on the command line."""
    overrides: dict[str, Any] = {}
    for name in ("read_only", "local"):
        if getattr(args, name, False):
            overrides[name] = True
    for name in ("toolsets", "profile", "data_dir", "warehouse_id"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    if getattr(args, "output_schemas", False) or getattr(args, "structured", False):
        overrides["output_schemas"] = True
    return Settings(**overrides)
