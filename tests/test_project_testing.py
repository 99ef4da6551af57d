"""A scaffolded project's tests run as a user runs them: ``pytest`` in the project folder, with
dbx-devkit's pytest plugin giving ``spark`` and ``dbutils`` on a local workspace (attached
through DATABRICKS_HOST, or started and stopped by the fixture), offline; project_check runs
them with the project's own environment."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from local_workspace import pytest_plugin
from local_workspace.discovery import healthy
from local_workspace.runner import LocalWorkspace
from tests.conftest import alive, subprocess_env
from tools_core.project import check_project, init_project

REPO = Path(__file__).resolve().parents[1]


def unique(prefix: str = "tpt") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def project_venv(root: Path) -> Path:
    """A project ``.venv`` as ``uv sync`` would leave it, cheaply: a bare virtualenv whose
    site-packages reaches ours (pytest, dbx-devkit and its entry point, scikit-learn)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    purelib = Path(sysconfig.get_paths()["purelib"])
    (site,) = (root / ".venv" / "lib").glob("python*/site-packages")
    (site / "_dbx_devkit_tests.pth").write_text(f"import site; site.addsitedir({str(purelib)!r})\n")
    return root / ".venv" / "bin" / "python"


def user_env(tmp_path: Path, workspace: LocalWorkspace | None = None) -> dict[str, str]:
    """A user's shell: fresh HOME, no Databricks settings; with ``workspace``, DATABRICKS_HOST
    and DATABRICKS_TOKEN naming it (what `dbx-devkit local` prints). This checkout's code."""
    env = {k: v for k, v in subprocess_env(tmp_path).items() if not k.startswith("PYTEST_")}
    env.pop("DBX_DEVKIT_DATA_DIR")
    env["PYTHONPATH"] = str(REPO)
    if workspace is not None:
        env |= {"DATABRICKS_HOST": workspace.url, "DATABRICKS_TOKEN": workspace.token}
    return env


def run_pytest(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` in the project folder, as a user types it."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def require_entry_point() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="pytest11")}
    assert "dbx_devkit" in names, (
        "dbx-devkit's pytest11 entry point is not installed in this environment: `uv sync`"
    )


def test_the_plugin_is_declared_and_loaded_but_inert_in_this_suite(
    pytestconfig: pytest.Config,
) -> None:
    require_entry_point()
    assert pytestconfig.pluginmanager.has_plugin("dbx_devkit")
    # This suite sets dbx_devkit_spark = "off": the plugin leaves its module table alone.
    assert pytest_plugin.spark_mode(pytestconfig) == "off"
    assert not [f for f in sys.meta_path if isinstance(f, pytest_plugin._ShadowFinder)]


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    heavy = {"duckdb", "pyarrow", "pandas", "databricks", "mlflow", "sqlglot", "numpy"}
    code = (
        "import sys; import local_workspace.pytest_plugin; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert done.stdout.strip() == "[]"


def test_a_new_projects_tests_pass_offline_on_the_workspace_databricks_host_names(
    local_ws: LocalWorkspace, ws: Any, tmp_path: Path
) -> None:
    require_entry_point()
    name = unique()
    root = Path(init_project(tmp_path / name, name, "minimal").path)
    started = time.monotonic()
    done = run_pytest(root, user_env(tmp_path, local_ws), "tests/unit", "tests/integration")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "5 passed" in done.stdout, done.stdout[-2000:]
    print(f"project pytest attached to the session workspace: {time.monotonic() - started:.1f} s")
    # The tables are the workspace's own Unity Catalog tables.
    table = ws.tables.get(f"main.{name}_tests.customer_features")
    assert [c.name for c in table.columns] == [
        "customer_id",
        "customer_spend_7d",
        "customer_orders_7d",
    ]


FIXTURES_TEST = """
import json, os
from pathlib import Path


def test_the_fixtures_run_on_a_workspace_this_session_started(dbx_devkit_workspace, spark, dbutils):
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    assert dbx_devkit_workspace.started
    assert os.environ["DATABRICKS_HOST"] == dbx_devkit_workspace.url
    assert SparkSession.getActiveSession() is spark
    assert spark.range(3).select(F.sum("id").alias("s")).first()["s"] == 3
    dbutils.widgets.text("as_of", "2026-01-31")
    assert dbutils.widgets.get("as_of") == "2026-01-31"
    assert [s.name for s in dbutils.secrets.listScopes()] == []
    spark.sql("CREATE SCHEMA IF NOT EXISTS main.files")
    spark.sql("CREATE VOLUME IF NOT EXISTS main.files.landing")
    dbutils.fs.put("/Volumes/main/files/landing/a.csv", "id\\n1\\n", True)
    assert [f.name for f in dbutils.fs.ls("/Volumes/main/files/landing")] == ["a.csv"]
    record = {"url": dbx_devkit_workspace.url, "pid": dbx_devkit_workspace.pid}
    Path(os.environ["WORKSPACE_RECORD"]).write_text(json.dumps(record))
"""


def test_without_a_workspace_the_fixture_starts_one_and_stops_it_at_the_end(
    tmp_path: Path,
) -> None:
    require_entry_point()
    name = unique()
    root = Path(init_project(tmp_path / name, name, "minimal").path)
    (root / "tests/integration/test_fixtures.py").write_text(FIXTURES_TEST)
    env = user_env(tmp_path) | {"WORKSPACE_RECORD": str(tmp_path / "workspace.json")}
    started = time.monotonic()
    done = run_pytest(root, env, "tests/integration", "--basetemp", str(tmp_path / "base"))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    print(f"project pytest with its own workspace: {time.monotonic() - started:.1f} s")
    record = json.loads((tmp_path / "workspace.json").read_text())
    assert record["pid"] and not alive(record["pid"]) and not healthy(record["url"])
    # Its data stayed in the session's temporary folder, not in the project or HOME.
    assert list((tmp_path / "base").glob("dbx-devkit-workspace*/logs/local-workspace.log"))
    assert not (root / ".dbx-devkit").exists() and not (tmp_path / "home/.dbx-devkit").exists()


def test_a_local_workspace_address_that_does_not_answer_is_an_error_not_a_new_workspace(
    tmp_path: Path,
) -> None:
    require_entry_point()
    name = unique()
    root = Path(init_project(tmp_path / name, name, "minimal").path)
    env = user_env(tmp_path) | {"DATABRICKS_HOST": "http://127.0.0.1:9", "DATABRICKS_TOKEN": "x"}
    done = run_pytest(root, env, "tests/integration")
    assert done.returncode == 1
    assert "does not answer as a dbx-devkit local workspace" in done.stdout


def test_check_runs_the_tests_in_the_projects_environment_on_the_checked_workspace(
    local_ws: LocalWorkspace, backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_entry_point()
    name = unique()
    root = Path(init_project(tmp_path / name, name, "minimal").path)
    project_venv(root)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    result = check_project(backend, root, "dev")
    item = next(i for i in result.items if i.item == "tests_passing")
    assert item.status == "passed", result.to_text()
    assert ".venv/bin/python" in item.evidence
    assert ws_has_table(backend, f"main.{name}_tests.customer_features")


def ws_has_table(backend: Any, full_name: str) -> bool:
    return bool(backend.client.tables.exists(full_name).table_exists)


def test_check_says_what_to_install_when_the_project_has_no_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(init_project(tmp_path / "p", unique(), "minimal").path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no uv either
    item = next(i for i in check_project(None, root, "dev").items if i.item == "tests_passing")
    assert item.status == "unknown"
    assert "no environment (.venv) and uv is not installed" in item.evidence
    assert "uv sync" in item.next_step

    # An environment without pytest: said as what to install, not as a failing test.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")], check=True)
    item = next(i for i in check_project(None, root, "dev").items if i.item == "tests_passing")
    assert item.status == "unknown", item
    assert "pytest is not installed in the project's environment (.venv/bin/python)" in (
        item.evidence
    )


SHADOW_TEST = """
import importlib.util
import os
import sys


def test_pyspark_is_ours_from_its_first_import_and_only_then():
    assert "pyspark.sql" not in sys.modules and "local_workspace.spark" not in sys.modules
    if os.environ.get("DBX_DEVKIT_SPARK") == "off":
        return
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    assert DeltaTable.__module__.startswith("local_workspace.spark")
    assert F.col("x") is not None and importlib.util.find_spec("pyspark") is not None


def test_switched_off_spark_is_databricks_connects(request):
    if os.environ.get("DBX_DEVKIT_SPARK") != "off":
        return
    import pytest

    # Neither is installed here: the fixture says what to install, it does not go local.
    with pytest.raises(pytest.fail.Exception, match="neither databricks-connect nor pyspark"):
        request.getfixturevalue("spark")
"""


def test_pyspark_is_shadowed_lazily_and_switched_off_left_alone_and_a_bad_switch_refused(
    tmp_path: Path,
) -> None:
    require_entry_point()
    root = tmp_path / "p"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    (root / "tests/test_shadow.py").write_text(SHADOW_TEST)
    local = run_pytest(root, user_env(tmp_path), "tests")
    assert local.returncode == 0, local.stdout[-3000:]
    # -q -v: pytest's default verbosity, whose header has the plugin's line.
    off = run_pytest(root, user_env(tmp_path) | {"DBX_DEVKIT_SPARK": "off"}, "-v", "tests")
    assert off.returncode == 0, off.stdout[-3000:]
    assert "dbx-devkit: spark fixture = Databricks Connect / pyspark" in off.stdout
    bad = run_pytest(root, user_env(tmp_path) | {"DBX_DEVKIT_SPARK": "connect"}, "tests")
    assert bad.returncode == 4, bad.stdout[-3000:] + bad.stderr[-3000:]
    assert "use 'local' (spark on a local workspace) or 'off'" in bad.stderr


def test_without_a_venv_check_runs_uv_on_the_lock_and_never_writes_one(tmp_path: Path) -> None:
    import shutil

    uv = shutil.which("uv")
    assert uv, "uv is on PATH wherever dbx-devkit's tests run (CI installs it)"
    root = Path(init_project(tmp_path / "p", unique(), "minimal").path)
    item = next(i for i in check_project(None, root, "dev").items if i.item == "tests_passing")
    assert (item.status, item.evidence) == (
        "unknown",
        "not run: the project has no environment (.venv) and no uv.lock",
    )
    assert "uv sync" in item.next_step and not (root / "uv.lock").exists()

    # A locked project with no dependency (uv locks it offline at once): uv builds its .venv,
    # which lacks pytest, and the check says so.
    (root / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\nrequires-python = ">=3.10"\n'
        "dependencies = []\n\n[tool.uv]\npackage = false\n"
    )
    subprocess.run([uv, "lock", "--offline"], cwd=root, check=True, capture_output=True)
    item = next(i for i in check_project(None, root, "dev").items if i.item == "tests_passing")
    assert item.status == "unknown", item
    assert item.evidence == "pytest is not installed in the project's environment (uv run)"
