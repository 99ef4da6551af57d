"""dbx-devkit's pytest plugin: ``spark`` and ``dbutils`` fixtures on a local workspace.

Registered as the ``pytest11`` entry point ``dbx_devkit``: every environment with dbx-devkit
installed loads it, so a project's tests take ``spark`` and ``dbutils`` as they would on
Databricks, with no import of ours and no code that differs between local and Databricks.

Where ``spark`` runs (the switch: env ``DBX_DEVKIT_SPARK``, else the ini option
``dbx_devkit_spark``; ``local`` by default):

- ``local``: on a local workspace. When ``DATABRICKS_HOST``/``DATABRICKS_TOKEN`` point at one
  (``dbx-devkit local`` prints them), the session attaches to it; otherwise the first test that
  asks for ``spark`` or ``dbutils`` starts one in the session's temporary folder and stops it
  at the end of the session. From before the project's conftest files are imported, our
  modules answer ``import pyspark...``/``delta...`` (:func:`local_workspace.spark.install_modules`,
  run at the first such import), shadowing an installed pyspark, so the code under test
  imports ``pyspark.sql.functions`` as it does on Databricks.
- ``off``: nothing is installed; ``spark`` is Databricks Connect's ``DatabricksSession`` (or
  the installed pyspark's session) and ``dbutils`` the SDK's. On a Databricks runtime
  (``DATABRICKS_RUNTIME_VERSION`` set) this is the mode, whatever the switch says.

``-p no:dbx_devkit`` unloads the plugin altogether. Nothing here is imported or started
until a fixture is used: the plugin costs a test run that does not use it nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SWITCH_ENV = "DBX_DEVKIT_SPARK"
SWITCH_INI = "dbx_devkit_spark"
MODES = ("local", "off")
# Set on Databricks compute: the runtime's own spark is the one to test with.
RUNTIME_ENV = "DATABRICKS_RUNTIME_VERSION"
LOCAL_PRODUCT = "dbx-devkit-local-workspace"  # what a local workspace's /health says
SHADOWED = ("pyspark", "delta")  # the top-level names our modules take over
_MODE = pytest.StashKey[str]()


@dataclass(frozen=True)
class Workspace:
    """The local workspace a test session runs against: its URL, its token, and the id of
    its process when this session started it (and stops it at the end), else None."""

    url: str
    token: str = field(repr=False)
    pid: int | None = None

    @property
    def started(self) -> bool:
        """Whether this test session started the workspace."""
        return self.pid is not None


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ini switch (the environment variable wins over it)."""
    parser.addini(
        SWITCH_INI,
        "dbx-devkit: where the spark fixture runs: local (a local workspace, the default) "
        f"or off (Databricks Connect); env {SWITCH_ENV} wins.",
        default="local",
    )


def spark_mode(config: pytest.Config) -> str:
    """``local`` or ``off`` (see the module's docstring); a bad value is a usage error."""
    if os.environ.get(RUNTIME_ENV):
        return "off"
    value = (os.environ.get(SWITCH_ENV) or str(config.getini(SWITCH_INI)) or "local").strip()
    if value.lower() not in MODES:
        raise pytest.UsageError(
            f"{SWITCH_ENV}/{SWITCH_INI}={value!r}: use 'local' (spark on a local workspace) "
            "or 'off' (Databricks Connect, or your own spark fixture)."
        )
    return value.lower()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Decide the mode; in ``local`` mode our pyspark/delta modules answer those names from
    before any conftest or test module imports them (at once when a real pyspark is imported
    already, else at the first import of one of them)."""
    mode = spark_mode(early_config)
    early_config.stash[_MODE] = mode
    if mode != "local":
        return
    if any(name in sys.modules for name in SHADOWED):  # a real one is imported already
        _install()
    elif not any(isinstance(finder, _ShadowFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ShadowFinder())


def _install() -> None:
    """Our modules in sys.modules under pyspark's and delta's names."""
    from local_workspace.spark import install_modules

    install_modules()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Take our finder away again (pytest run in-process, by pytester or a script)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _ShadowFinder)]


class _ShadowFinder(importlib.abc.MetaPathFinder):
    """Puts our modules in place at the first import of a pyspark or delta name: a test run
    that never imports them (unit tests) never pays for the DataFrame API's import."""

    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in SHADOWED:
            return None
        _install()
        module = sys.modules.get(fullname)
        if module is None:  # a name we do not provide: the refusal (modules._Finder) answers
            return None
        from local_workspace.spark.modules import BuiltModuleLoader

        return importlib.util.spec_from_loader(fullname, BuiltModuleLoader(module))


def pytest_report_header(config: pytest.Config) -> str:
    """One line saying where ``spark`` runs."""
    mode = config.stash.get(_MODE, "") or spark_mode(config)
    if mode == "off":
        why = "on Databricks" if os.environ.get(RUNTIME_ENV) else f"{SWITCH_ENV}/{SWITCH_INI}=off"
        return f"dbx-devkit: spark fixture = Databricks Connect / pyspark ({why})"
    return (
        "dbx-devkit: spark fixture = a local workspace (DATABRICKS_HOST when it is one, else "
        f"started for the session); {SWITCH_ENV}=off for Databricks Connect"
    )


def _mode(config: pytest.Config) -> str:
    # Not stashed when the plugin was loaded after the initial conftests (`-p` in a conftest).
    return config.stash.get(_MODE, "") or spark_mode(config)


@pytest.fixture(scope="session")
def dbx_devkit_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The session's local workspace: the one ``DATABRICKS_HOST`` names, else one started in
    the session's temporary folder and stopped (by its pid) when the session ends. While the
    session lasts ``DATABRICKS_HOST``/``DATABRICKS_TOKEN`` name it, as in a job task on it,
    so code that builds its own client (WorkspaceClient, dbutils) reaches the same workspace."""
    attached = _attached()
    runner: Any = None
    if attached is None:
        from local_workspace.config import LocalConfig
        from local_workspace.runner import LocalWorkspace

        # A fresh folder per session: tests start from a known state, leave nothing in the
        # project, and pytest keeps the last few sessions' folders (and logs) to look into.
        data_dir = tmp_path_factory.mktemp("dbx-devkit-workspace")
        runner = LocalWorkspace(LocalConfig(data_dir=data_dir, warm_mlflow=False)).start()
        workspace = Workspace(runner.url, runner.token, runner.pid)
    else:
        workspace = attached
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in list(os.environ):
                if name.startswith("DATABRICKS_"):  # a profile or OAuth settings would clash
                    patch.delenv(name)
            patch.setenv("DATABRICKS_HOST", workspace.url)
            patch.setenv("DATABRICKS_TOKEN", workspace.token)
            yield workspace
    finally:
        if runner is not None:
            runner.stop()


def _attached() -> Workspace | None:
    """The local workspace ``DATABRICKS_HOST`` names; None when it names none (unset, or a
    Databricks workspace: tests never write there unless switched off)."""
    host = (os.environ.get("DATABRICKS_HOST") or "").strip().rstrip("/")
    if not host.startswith("http://"):  # Databricks is https; a local workspace is http
        return None
    from local_workspace.discovery import health

    if (health(host) or {}).get("product") != LOCAL_PRODUCT:
        pytest.fail(
            f"DATABRICKS_HOST={host} does not answer as a dbx-devkit local workspace: start it "
            "(`dbx-devkit local`), or unset DATABRICKS_HOST and the spark fixture starts one.",
            pytrace=False,
        )
    token = (os.environ.get("DATABRICKS_TOKEN") or "").strip()
    if not token:
        pytest.fail(
            f"DATABRICKS_HOST={host} is a local workspace but DATABRICKS_TOKEN is empty: its "
            "token is in the file `token` of its data directory.",
            pytrace=False,
        )
    return Workspace(host, token)


@pytest.fixture(scope="session")
def spark(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A SparkSession: on the local workspace (its Unity Catalog tables, run by its SQL
    warehouse) in ``local`` mode, Databricks Connect's otherwise."""
    if _mode(request.config) == "off":
        yield _databricks_spark()
        return
    workspace: Workspace = request.getfixturevalue("dbx_devkit_workspace")
    from local_workspace.spark import SparkSession

    # The newest session is the active one: code under test that asks for it
    # (builder.getOrCreate, getActiveSession) gets this one, even if it made one at import.
    session = SparkSession(host=workspace.url, token=workspace.token)
    yield session
    session.stop()


def _databricks_spark() -> Any:
    """Databricks Connect's session when installed, else the installed pyspark's."""
    try:
        from databricks.connect import DatabricksSession
    except ImportError:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            pytest.fail(
                f"{SWITCH_ENV}=off but neither databricks-connect nor pyspark is installed: "
                "install databricks-connect, or use the local workspace (unset the switch).",
                pytrace=False,
            )
        return SparkSession.builder.getOrCreate()
    return DatabricksSession.builder.getOrCreate()


@pytest.fixture
def dbutils(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A task's ``dbutils``: widgets (declare defaults with ``text``/``dropdown``),
    ``jobs.taskValues``, ``secrets`` and ``fs`` on the local workspace in ``local`` mode;
    the SDK's ``dbutils`` otherwise. A fresh one per test."""
    if _mode(request.config) == "off":
        from databricks.sdk.runtime import dbutils as remote

        return remote
    request.getfixturevalue("dbx_devkit_workspace")
    from local_workspace.jobs.dbutils import DBUtils

    return DBUtils({}, tmp_path)
