"""The task runtime: each job task runs in its own process group, bounded, cancellable."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from local_workspace.jobs.tasks import LOG_TAIL_BYTES, TaskLaunch, TaskOutcome, TaskProcess
from local_workspace.runner import LocalWorkspace
from tests.conftest import alive, wait_for

NOTEBOOK_PATH = "/Users/me@example.com/etl"


def notebook(*cells: str) -> str:
    """A Databricks source notebook of the given cells."""
    return "# Databricks notebook source\n" + "\n\n# COMMAND ----------\n\n".join(cells) + "\n"


def launch(tmp_path: Path, source: str, kind: str = "notebook", **options: object) -> TaskLaunch:
    options.setdefault("source_path", NOTEBOOK_PATH if kind == "notebook" else "/Repos/me/x.py")
    return TaskLaunch(
        task_key="t",
        kind=kind,  # type: ignore[arg-type]
        source=source,
        workdir=tmp_path / "attempt",
        **options,  # type: ignore[arg-type]
    )


def run(tmp_path: Path, source: str, kind: str = "notebook", **options: object) -> TaskOutcome:
    process = TaskProcess(launch(tmp_path, source, kind, **options))
    process.start()
    return process.wait()


def test_a_notebook_reads_widgets_and_exits_with_a_value(tmp_path: Path) -> None:
    source = notebook(
        "# MAGIC %md\n# MAGIC # Greeting",
        'dbutils.widgets.text("name", "world")\ndbutils.widgets.text("greeting", "hello")',
        'name = dbutils.widgets.get("name")\nprint(dbutils.widgets.get("greeting"), name)',
        "6 * 7",
        'dbutils.notebook.exit(f"greeted {name}")\nprint("never printed")',
    )
    outcome = run(tmp_path, source, parameters={"name": "Ada"})
    assert outcome.result_state == "SUCCESS", outcome.error
    assert outcome.notebook_output == "greeted Ada"
    assert outcome.logs == "hello Ada\n42\n"
    assert outcome.error is None and outcome.exit_code == 0
    assert (tmp_path / "attempt" / "logs.txt").read_text() == outcome.logs


def test_a_python_file_gets_its_parameters_in_sys_argv(tmp_path: Path) -> None:
    source = "import sys\nif __name__ == '__main__':\n    print(sys.argv)\n"
    outcome = run(tmp_path, source, kind="python", argv=["--date", "2024-01-01"])
    assert outcome.result_state == "SUCCESS", outcome.error
    assert outcome.logs == "['/Repos/me/x.py', '--date', '2024-01-01']\n"


def test_an_exception_fails_the_task_with_a_traceback_at_the_notebook_line(
    tmp_path: Path,
) -> None:
    source = notebook("x = 1", "def ratio(a):\n    return a / 0\n\nratio(x)")
    outcome = run(tmp_path, source)
    assert outcome.result_state == "FAILED"
    assert outcome.error == "ZeroDivisionError: division by zero"
    trace = outcome.error_trace or ""
    # Header line 1, cell 1 line 2, separator line 4, `def ratio` line 6, the call line 9.
    assert f'File "{NOTEBOOK_PATH}", line 9, in <module>' in trace
    assert f'File "{NOTEBOOK_PATH}", line 7, in ratio\n    return a / 0' in trace
    assert "child.py" not in trace and "notebook.py" not in trace


def test_a_missing_widget_fails_like_databricks(tmp_path: Path) -> None:
    outcome = run(tmp_path, notebook('dbutils.widgets.get("missing")'))
    assert outcome.result_state == "FAILED"
    assert outcome.error == "InputWidgetNotDefined: No input widget named missing is defined"


def test_a_huge_traceback_is_capped(tmp_path: Path) -> None:
    outcome = run(tmp_path, notebook("raise ValueError('x' * 500_000)"))
    assert outcome.result_state == "FAILED"
    assert len(outcome.error_trace or "") <= 64 * 1024 + 100
    assert len(outcome.error or "") <= 2000


def test_a_process_that_dies_without_a_report_fails_with_its_exit_code(tmp_path: Path) -> None:
    outcome = run(tmp_path, "import os\nprint('bye', flush=True)\nos._exit(3)\n", kind="python")
    assert outcome.result_state == "FAILED"
    assert outcome.error == "The task process exited with code 3."
    assert outcome.exit_code == 3
    assert outcome.logs == "bye\n"


def test_a_killed_process_names_the_signal(tmp_path: Path) -> None:
    outcome = run(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "python")
    assert outcome.result_state == "FAILED"
    assert outcome.error == "The task process was killed by SIGKILL."


def test_megabytes_of_output_keep_only_the_tail(tmp_path: Path) -> None:
    source = (
        "import sys\nline = 'x' * 1023 + '\\n'\n"
        "for _ in range(20 * 1024):\n    sys.stdout.write(line)\nprint('THE END')\n"
    )
    outcome = run(tmp_path, source, kind="python")
    assert outcome.result_state == "SUCCESS", outcome.error
    assert outcome.logs_truncated
    assert len(outcome.logs.encode()) <= LOG_TAIL_BYTES
    assert outcome.logs.endswith("x\nTHE END\n")


def test_cancelling_a_sleeping_task_ends_its_process_within_seconds(tmp_path: Path) -> None:
    process = TaskProcess(launch(tmp_path, "import time\ntime.sleep(600)\n", "python"))
    process.start()
    pid = process.pid
    assert pid is not None
    assert (tmp_path / "attempt" / "pid").read_text().strip() == str(pid)
    result: list[TaskOutcome] = []
    waiter = threading.Thread(target=lambda: result.append(process.wait()))
    waiter.start()
    time.sleep(0.3)  # let the child reach its sleep
    started = time.monotonic()
    process.cancel()
    process.cancel()  # idempotent
    waiter.join(timeout=10)
    assert result and result[0].result_state == "CANCELED"
    assert time.monotonic() - started < 3
    assert not alive(pid)


def test_cancel_ends_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    source = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)\n"
    )
    process = TaskProcess(launch(tmp_path, source, "python"))
    process.start()
    wait_for(lambda: marker.exists() and marker.read_text(), timeout=10)
    grandchild = int(marker.read_text())
    assert alive(grandchild)
    process.cancel()
    assert process.wait().result_state == "CANCELED"
    wait_for(lambda: not alive(grandchild), timeout=5)


def test_a_task_past_its_timeout_is_timedout(tmp_path: Path) -> None:
    started = time.monotonic()
    outcome = run(tmp_path, "import time\ntime.sleep(600)\n", "python", timeout_s=1)
    assert outcome.result_state == "TIMEDOUT"
    assert outcome.error == "Task timed out after 1 s."
    assert time.monotonic() - started < 5


def test_a_task_cancelled_before_it_starts_never_runs(tmp_path: Path) -> None:
    process = TaskProcess(launch(tmp_path, "print('ran')\n", "python"))
    process.cancel()
    process.start()
    outcome = process.wait()
    assert outcome.result_state == "CANCELED" and process.pid is None


def test_pip_install_of_an_unknown_package_fails_clearly(tmp_path: Path) -> None:
    source = notebook("# MAGIC %pip install surely-not-a-real-pkg-42==1.0", "print('ran')")
    outcome = run(tmp_path, source)
    assert outcome.result_state == "FAILED"
    assert "%pip install surely-not-a-real-pkg-42==1.0: the package is not installed" in (
        outcome.error or ""
    )
    assert "project environment" in (outcome.error or "")
    assert "ran" not in outcome.logs


def test_pip_install_of_an_installed_package_is_skipped_with_a_note(tmp_path: Path) -> None:
    outcome = run(tmp_path, notebook("# MAGIC %pip install -q duckdb", "print('ran')"))
    assert outcome.result_state == "SUCCESS", outcome.error
    assert "using the installed duckdb" in outcome.logs and outcome.logs.endswith("ran\n")


def test_cells_that_need_a_cluster_fail_and_say_so(tmp_path: Path) -> None:
    outcome = run(tmp_path, notebook("# MAGIC %sh ls /"))
    assert outcome.result_state == "FAILED"
    assert "%sh is not available in the local workspace" in (outcome.error or "")
    scala = "// Databricks notebook source\nprintln(1)\n"
    outcome = run(tmp_path, scala, language="SCALA")
    assert outcome.result_state == "FAILED"
    assert "Scala notebook: it needs a Databricks cluster" in (outcome.error or "")


def test_libraries_the_workspace_cannot_install_fail_before_running(tmp_path: Path) -> None:
    wheel = {"whl": "/Workspace/libs/acme_tools-1.0-py3-none-any.whl"}
    outcome = run(tmp_path, "print('ran')\n", "python", libraries=[wheel])
    assert outcome.result_state == "FAILED"
    assert "acme_tools-1.0-py3-none-any.whl' cannot be installed" in (outcome.error or "")
    assert "ran" not in outcome.logs
    jar = {"maven": {"coordinates": "com.acme:lib:1.0"}}
    outcome = run(tmp_path, "print('ran')\n", "python", libraries=[jar])
    assert "needs a Databricks cluster (JVM)" in (outcome.error or "")
    environment = {"environment_key": "e", "spec": {"client": "1", "dependencies": ["nopkg9"]}}
    outcome = run(tmp_path, "print('ran')\n", "python", environment=environment)
    assert "nopkg9 is not installed" in (outcome.error or "")


def test_installed_pypi_libraries_let_the_task_run(tmp_path: Path) -> None:
    libraries = [{"pypi": {"package": "duckdb"}}]
    environment = {"client": "1", "dependencies": ["sqlglot>=1"]}
    outcome = run(
        tmp_path, "print('ran')\n", "python", libraries=libraries, environment=environment
    )
    assert outcome.result_state == "SUCCESS", outcome.error
    assert "using the installed duckdb" in outcome.logs and outcome.logs.endswith("ran\n")


def test_spark_sql_writes_and_reads_a_table_of_the_local_workspace(
    tmp_path: Path, local_ws: LocalWorkspace
) -> None:
    source = notebook(
        'dbutils.widgets.text("city", "Paris")',
        "# MAGIC %sql\n# MAGIC CREATE SCHEMA IF NOT EXISTS main.t_jobtasks;\n"
        "# MAGIC CREATE OR REPLACE TABLE main.t_jobtasks.visits (city STRING, n BIGINT)",
        'spark.sql("INSERT INTO main.t_jobtasks.visits VALUES (:city, :n)",'
        ' {"city": dbutils.widgets.get("city"), "n": 3})',
        "# MAGIC %sql\n# MAGIC SELECT city, n FROM main.t_jobtasks.visits WHERE city = :city",
        'rows = spark.sql("SELECT city, n FROM main.t_jobtasks.visits").collect()\n'
        "dbutils.notebook.exit(f'{rows[0].city}:{rows[0][\"n\"] + 1}')",
    )
    env = {"DATABRICKS_HOST": local_ws.url, "DATABRICKS_TOKEN": local_ws.token}
    outcome = run(tmp_path, source, parameters={"city": "Lyon"}, env=env)
    assert outcome.result_state == "SUCCESS", outcome.error_trace
    assert outcome.notebook_output == "Lyon:4"
    assert "|Lyon|3|" in outcome.logs.replace(" ", "")


def test_spark_apis_that_need_a_cluster_fail_with_the_one_clear_refusal(tmp_path: Path) -> None:
    outcome = run(tmp_path, notebook("spark.sparkContext.parallelize([1, 2])"))
    assert outcome.result_state == "FAILED"
    assert (outcome.error or "").startswith(
        "NotSupportedInLocalWorkspace: [NOT_SUPPORTED_IN_LOCAL_WORKSPACE] spark.sparkContext "
        "and RDDs need(s) a Databricks cluster"
    )


def test_run_magic_runs_a_workspace_notebook_in_the_same_namespace(
    tmp_path: Path, local_ws: LocalWorkspace, ws: Any
) -> None:
    from databricks.sdk.service.workspace import ImportFormat, Language

    ws.workspace.mkdirs("/Users/me@example.com/t_jobtasks")
    helper = notebook(
        'mark = dbutils.widgets.get("mark")', "def shout(text):\n    return text.upper() + mark"
    )
    ws.workspace.upload(
        "/Users/me@example.com/t_jobtasks/helpers",
        helper.encode(),
        format=ImportFormat.SOURCE,
        language=Language.PYTHON,
        overwrite=True,
    )
    source = notebook('# MAGIC %run ./helpers $mark="!"', 'dbutils.notebook.exit(shout("hi"))')
    env = {"DATABRICKS_HOST": local_ws.url, "DATABRICKS_TOKEN": local_ws.token}
    outcome = run(tmp_path, source, env=env, source_path="/Users/me@example.com/t_jobtasks/main")
    assert outcome.result_state == "SUCCESS", outcome.error_trace or outcome.error
    assert outcome.notebook_output == "HI!"


def test_a_failing_sql_cell_reports_the_warehouse_error(
    tmp_path: Path, local_ws: LocalWorkspace
) -> None:
    source = notebook("x = 1", "# MAGIC %sql\n# MAGIC SELECT * FROM main.t_jobtasks.no_such_table")
    env = {"DATABRICKS_HOST": local_ws.url, "DATABRICKS_TOKEN": local_ws.token}
    outcome = run(tmp_path, source, env=env)
    assert outcome.result_state == "FAILED"
    assert (outcome.error or "").startswith("AnalysisException: [TABLE_OR_VIEW_NOT_FOUND]")


def test_a_task_that_ignores_sigterm_is_killed_soon_after(tmp_path: Path) -> None:
    source = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)\n"
    process = TaskProcess(launch(tmp_path, source, "python"))
    process.start()
    time.sleep(0.3)  # let the child install its handler
    started = time.monotonic()
    process.cancel()
    assert process.wait().result_state == "CANCELED"
    assert time.monotonic() - started < 5
    assert process.pid is not None and not alive(process.pid)


def test_a_sql_notebook_runs_its_cells_on_the_warehouse(
    tmp_path: Path, local_ws: LocalWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real workspace configured in the server's environment never reaches the task.
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "production")
    source = (
        "-- Databricks notebook source\n"
        "CREATE SCHEMA IF NOT EXISTS main.t_jobtasks;\n"
        "CREATE OR REPLACE TABLE main.t_jobtasks.sq AS SELECT '${day}' AS day, :n AS n\n"
        "\n-- COMMAND ----------\n\n"
        "-- MAGIC %md\n-- MAGIC Check\n"
        "\n-- COMMAND ----------\n\n"
        "SELECT day, n FROM main.t_jobtasks.sq -- the written row\n"
        "\n-- COMMAND ----------\n\n"
        "-- MAGIC %python\n-- MAGIC import os\n"
        "-- MAGIC print(os.environ.get('DATABRICKS_CONFIG_PROFILE'))\n"
    )
    env = {"DATABRICKS_HOST": local_ws.url, "DATABRICKS_TOKEN": local_ws.token}
    outcome = run(tmp_path, source, language="SQL", env=env, parameters={"day": "mon", "n": "7"})
    assert outcome.result_state == "SUCCESS", outcome.error_trace or outcome.error
    assert "|mon|7|" in outcome.logs.replace(" ", "")
    assert outcome.logs.endswith("None\n")
