"""The databricks-sdk dataclasses the workspace renders its answers with, imported late.

Importing any ``databricks.sdk.service`` module runs ``databricks/sdk/__init__.py``, which
loads every service: seconds of CPU that a (re)starting workspace process must not spend
before it answers. Modules import the SDK's types inside the functions that use them, and
:func:`warm_in_background` imports them in a thread as soon as the workspace listens, so
the first request that needs them rarely waits (Python's import lock makes it wait for the
import in progress rather than import twice).
"""

from __future__ import annotations

import importlib
import logging
import threading

log = logging.getLogger("local_workspace")

SERVICES = (
    "databricks.sdk.service.jobs",
    "databricks.sdk.service.workspace",
    "databricks.sdk.service.catalog",
    "databricks.sdk.service.pipelines",
)


def _import_all() -> None:
    for name in SERVICES:
        try:
            importlib.import_module(name)
        except ImportError:  # a thread's top level: the request that needs it reports it
            log.warning("importing %s failed", name, exc_info=True)


def warm_in_background() -> None:
    """Import the SDK's service modules in a daemon thread."""
    threading.Thread(target=_import_all, name="dbx-devkit-sdk-import", daemon=True).start()
