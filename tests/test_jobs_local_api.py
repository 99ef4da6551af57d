"""The local workspace's Jobs API 2.2 through the real databricks-sdk: jobs, runs that really
run (notebooks, python files, SQL files), cancel, timeouts, retries, repair, idempotency."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, InvalidState, ResourceDoesNotExist
from databricks.sdk.service import jobs
from databricks.sdk.service.sql import StatementState
from databricks.sdk.service.workspace import ImportFormat, Language

from local_workspace.config import LocalConfig
from local_workspace.jobs.store import JobsStore
from local_workspace.runner import LocalWorkspace
from tests.conftest import alive, wait_for

WAREHOUSE = "dbxlocal00000001"


def folder(ws: WorkspaceClient) -> str:
    path = f"/Shared/t_jobs_api/{uuid.uuid4().hex[:8]}"
    ws.workspace.mkdirs(path)
    return path


def put_notebook(ws: WorkspaceClient, path: str, *cells: str) -> str:
    source = "# Databricks notebook source\n" + "\n\n# COMMAND ----------\n\n".join(cells)
    ws.workspace.import_(
        path,
        content=base64.b64encode(source.encode()).decode(),
        format=ImportFormat.SOURCE,
        language=Language.PYTHON,
        overwrite=True,
    )
    return path


def put_file(ws: WorkspaceClient, path: str, text: str) -> str:
    ws.workspace.upload(path, text.encode(), format=ImportFormat.RAW, overwrite=True)
    return path


def wait_run(ws: WorkspaceClient, run_id: int, timeout: float = 30) -> jobs.Run:
    """Poll runs/get until the run is terminated (faster than the SDK waiter's 1 s+ sleeps)."""
    deadline = time.monotonic() + timeout
    while True:
        run = ws.jobs.get_run(run_id)
        assert run.state is not None
        if run.state.life_cycle_state in (
            jobs.RunLifeCycleState.TERMINATED,
            jobs.RunLifeCycleState.SKIPPED,
            jobs.RunLifeCycleState.INTERNAL_ERROR,
        ):
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run.state}"
        time.sleep(0.1)


def by_key(run: jobs.Run) -> dict[str, jobs.RunTask]:
    return {t.task_key: t for t in run.tasks or []}


def python_task(key: str, path: str, **extra: Any) -> jobs.Task:
    return jobs.Task(
        task_key=key, spark_python_task=jobs.SparkPythonTask(python_file=path), **extra
    )


def test_jobs_are_created_read_listed_by_name_and_page_updated_reset_and_deleted(
    ws: WorkspaceClient,
) -> None:
    name = f"t_jobs_crud_{uuid.uuid4().hex[:6]}"
    task = jobs.Task(
        task_key="main",
        notebook_task=jobs.NotebookTask(notebook_path="/Shared/nowhere"),
    )
    first = ws.jobs.create(name=name, tasks=[task]).job_id
    second = ws.jobs.create(name=name.upper(), tasks=[task]).job_id
    assert first is not None and second is not None and second > first

    job = ws.jobs.get(first)
    assert job.settings is not None and job.settings.name == name
    assert job.settings.tasks and job.settings.tasks[0].task_key == "main"
    assert job.settings.max_concurrent_runs == 1
    assert job.creator_user_name and job.created_time

    # Name filter: exact, case-insensitive; the SDK iterator follows next_page_token.
    listed = list(ws.jobs.list(name=name, limit=1))
    assert [j.job_id for j in listed] == [second, first]
    assert not listed[0].settings or not listed[0].settings.tasks  # tasks only with expand_tasks
    expanded = list(ws.jobs.list(name=name, expand_tasks=True, limit=1))
    assert expanded[0].settings and expanded[0].settings.tasks

    ws.jobs.update(
        first,
        new_settings=jobs.JobSettings(
            timeout_seconds=60,
            tasks=[python_task("extra", "/Shared/x.py", depends_on=[jobs.TaskDependency("main")])],
        ),
    )
    updated = ws.jobs.get(first).settings
    assert updated and updated.timeout_seconds == 60 and updated.name == name
    assert [t.task_key for t in updated.tasks or []] == ["main", "extra"]
    ws.jobs.update(first, fields_to_remove=["tasks/extra", "timeout_seconds"])
    updated = ws.jobs.get(first).settings
    assert updated and [t.task_key for t in updated.tasks or []] == ["main"]
    assert not updated.timeout_seconds

    ws.jobs.reset(first, new_settings=jobs.JobSettings(name=f"{name}_reset", tasks=[task]))
    assert ws.jobs.get(first).settings.name == f"{name}_reset"  # type: ignore[union-attr]

    ws.jobs.delete(first)
    with pytest.raises(ResourceDoesNotExist, match=f"Job {first} does not exist"):
        ws.jobs.get(first)
    assert [j.job_id for j in ws.jobs.list(name=name)] == [second]


def test_a_malformed_job_spec_is_refused_and_nothing_is_created(ws: WorkspaceClient) -> None:
    name = f"t_jobs_bad_{uuid.uuid4().hex[:6]}"
    nb = jobs.NotebookTask(notebook_path="/Shared/x")
    bad_specs = {
        "task_key": [jobs.Task(task_key="", notebook_task=nb)],
        "more than one": [
            jobs.Task(task_key="a", notebook_task=nb),
            jobs.Task(task_key="a", notebook_task=nb),
        ],
        "unknown task 'ghost'": [
            jobs.Task(task_key="a", notebook_task=nb, depends_on=[jobs.TaskDependency("ghost")])
        ],
        "cycle": [
            jobs.Task(task_key="a", notebook_task=nb, depends_on=[jobs.TaskDependency("b")]),
            jobs.Task(task_key="b", notebook_task=nb, depends_on=[jobs.TaskDependency("a")]),
        ],
        "exactly one task type": [jobs.Task(task_key="a")],
    }
    for message, tasks in bad_specs.items():
        with pytest.raises(InvalidParameterValue, match=message):
            ws.jobs.create(name=name, tasks=tasks)
    assert list(ws.jobs.list(name=name)) == []


# The same bad task lists, refused by tools_core before sending and by the local workspace's
# REST API through the real SDK, with the same words (the two copies of the task rules).
NB = jobs.NotebookTask(notebook_path="/Shared/x")
SAME_REFUSALS: dict[str, list[jobs.Task]] = {
    "duplicate task_key 'a': more than one task uses it": [
        jobs.Task(task_key="a", notebook_task=NB),
        jobs.Task(task_key="a", notebook_task=NB),
    ],
    "task 'a' must have exactly one task type, has none": [jobs.Task(task_key="a")],
    "task 'a' must have exactly one task type, has notebook_task, spark_python_task": [
        jobs.Task(
            task_key="a",
            notebook_task=NB,
            spark_python_task=jobs.SparkPythonTask(python_file="/Shared/x.py"),
        )
    ],
    "task 'a': sql_task needs one of query, file, alert or dashboard.": [
        jobs.Task(task_key="a", sql_task=jobs.SqlTask(warehouse_id=WAREHOUSE))
    ],
    "notebook_task: required field 'notebook_path' is missing": [
        jobs.Task(task_key="a", notebook_task=jobs.NotebookTask(notebook_path=None))  # type: ignore[arg-type]
    ],
    "Invalid dependency graph, task 'a' depends on unknown task 'ghost'": [
        jobs.Task(task_key="a", notebook_task=NB, depends_on=[jobs.TaskDependency("ghost")])
    ],
    "Invalid dependency graph, task 'a' can not reference itself.": [
        jobs.Task(task_key="a", notebook_task=NB, depends_on=[jobs.TaskDependency("a")])
    ],
    "Invalid dependency graph, tasks depend on each other in a cycle: a -> c -> b -> a.": [
        jobs.Task(task_key="a", notebook_task=NB, depends_on=[jobs.TaskDependency("c")]),
        jobs.Task(task_key="b", notebook_task=NB, depends_on=[jobs.TaskDependency("a")]),
        jobs.Task(task_key="c", notebook_task=NB, depends_on=[jobs.TaskDependency("b")]),
    ],
}


@pytest.mark.parametrize("expected", list(SAME_REFUSALS))
def test_tools_core_and_the_local_workspace_refuse_the_same_task_lists_alike(
    ws: WorkspaceClient, expected: str
) -> None:
    from tools_core.errors import InvalidInput
    from tools_core.jobs import validate_job_spec

    name = f"t_jobs_same_{uuid.uuid4().hex[:6]}"
    settings = jobs.JobSettings(name=name, tasks=SAME_REFUSALS[expected])
    with pytest.raises(InvalidInput) as before_sending:
        validate_job_spec(settings.as_dict())
    assert expected in str(before_sending.value)
    with pytest.raises(InvalidParameterValue) as refused:
        ws.jobs.create(name=name, tasks=SAME_REFUSALS[expected])
    assert expected in str(refused.value)
    with pytest.raises(InvalidParameterValue) as refused_run:
        ws.jobs.submit(
            run_name=name,
            tasks=[jobs.SubmitTask.from_dict(t.as_dict()) for t in SAME_REFUSALS[expected]],
        )
    assert expected in str(refused_run.value)
    assert list(ws.jobs.list(name=name)) == []


def test_unknown_jobs_and_runs_are_reported_as_databricks_does(ws: WorkspaceClient) -> None:
    with pytest.raises(ResourceDoesNotExist, match="Job 987654 does not exist"):
        ws.jobs.get(987654)
    with pytest.raises(ResourceDoesNotExist, match="Run 987654 does not exist"):
        ws.jobs.get_run(987654)
    with pytest.raises(InvalidParameterValue, match="Job 987654 does not exist"):
        ws.jobs.run_now(987654)


def test_run_now_of_two_notebooks_returns_a_terminated_successful_run_with_parameters(
    ws: WorkspaceClient,
) -> None:
    base = folder(ws)
    put_notebook(
        ws,
        f"{base}/extract",
        "dbutils.jobs.taskValues.set('rows', 3)",
        "print('extracting for', dbutils.widgets.get('env'))",
    )
    put_notebook(
        ws,
        f"{base}/load",
        "rows = dbutils.jobs.taskValues.get('extract', 'rows')",
        "dbutils.notebook.exit(f\"{dbutils.widgets.get('env')}:{rows}:{dbutils.widgets.get('who')}\")",
    )
    job_id = ws.jobs.create(
        name="t_jobs_two_notebooks",
        parameters=[jobs.JobParameterDefinition(name="env", default="dev")],
        tasks=[
            jobs.Task(task_key="extract", notebook_task=jobs.NotebookTask(f"{base}/extract")),
            jobs.Task(
                task_key="load",
                depends_on=[jobs.TaskDependency("extract")],
                notebook_task=jobs.NotebookTask(
                    f"{base}/load", base_parameters={"who": "{{task.name}}@{{job.id}}"}
                ),
            ),
        ],
    ).job_id
    assert job_id is not None

    run = ws.jobs.run_now(job_id, job_parameters={"env": "prod"}).result(
        timeout=timedelta(seconds=60)
    )

    assert run.state and run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    assert run.status and run.status.state == jobs.RunLifecycleStateV2State.TERMINATED
    assert run.run_page_url and run.run_page_url.endswith(f"#job/{job_id}/run/{run.run_id}")
    assert run.start_time and run.end_time and run.end_time >= run.start_time
    assert [p.value for p in run.job_parameters or []] == ["prod"]
    tasks = by_key(run)
    for task in tasks.values():
        assert task.state and task.state.result_state == jobs.RunResultState.SUCCESS
        assert task.run_id and task.run_id != run.run_id
        assert task.start_time and task.end_time and task.execution_duration is not None
    assert tasks["load"].start_time >= tasks["extract"].end_time  # type: ignore[operator]
    out = ws.jobs.get_run_output(tasks["load"].run_id)  # type: ignore[arg-type]
    assert out.notebook_output and out.notebook_output.result == f"prod:3:load@{job_id}"
    assert "extracting for prod" in (
        ws.jobs.get_run_output(tasks["extract"].run_id).logs or ""  # type: ignore[arg-type]
    )
    with pytest.raises(InvalidParameterValue, match="multiple tasks"):
        ws.jobs.get_run_output(run.run_id)  # type: ignore[arg-type]
    assert run.run_id in [r.run_id for r in ws.jobs.list_runs(job_id=job_id, completed_only=True)]
    assert run.run_id not in [r.run_id for r in ws.jobs.list_runs(job_id=job_id, active_only=True)]


def test_a_failing_python_task_reports_its_error_and_repair_reruns_only_it(
    ws: WorkspaceClient,
) -> None:
    base = folder(ws)
    put_file(ws, f"{base}/ok.py", "import sys\nprint('ok', sys.argv[1:])\n")
    step = put_file(ws, f"{base}/step.py", "def f():\n    return 1 / 0\n\nf()\n")
    job_id = ws.jobs.create(
        name="t_jobs_repair",
        tasks=[
            jobs.Task(
                task_key="first",
                spark_python_task=jobs.SparkPythonTask(f"{base}/ok.py", parameters=["a", "b"]),
            ),
            python_task("second", step, depends_on=[jobs.TaskDependency("first")]),
            python_task(
                "cleanup",
                f"{base}/ok.py",
                depends_on=[jobs.TaskDependency("second")],
                run_if=jobs.RunIf.ALL_DONE,
            ),
        ],
    ).job_id
    assert job_id is not None
    run_id = ws.jobs.run_now(job_id).run_id
    run = wait_run(ws, run_id)

    assert run.state and run.state.result_state == jobs.RunResultState.SUCCESS_WITH_FAILURES
    tasks = by_key(run)
    assert tasks["first"].state.result_state == jobs.RunResultState.SUCCESS  # type: ignore[union-attr]
    assert tasks["second"].state.result_state == jobs.RunResultState.FAILED  # type: ignore[union-attr]
    assert tasks["cleanup"].state.result_state == jobs.RunResultState.SUCCESS  # type: ignore[union-attr]
    out = ws.jobs.get_run_output(tasks["second"].run_id)  # type: ignore[arg-type]
    assert out.error and "ZeroDivisionError" in out.error
    assert out.error_trace and "1 / 0" in out.error_trace
    assert "ok ['a', 'b']" in (ws.jobs.get_run_output(tasks["first"].run_id).logs or "")  # type: ignore[arg-type]

    put_file(ws, step, "print('fixed')\n")
    repair = ws.jobs.repair_run(run_id, rerun_all_failed_tasks=True).result(
        timeout=timedelta(seconds=60)
    )

    assert repair.state and repair.state.result_state == jobs.RunResultState.SUCCESS
    repaired = by_key(ws.jobs.get_run(run_id, include_history=True))
    assert repaired["first"].run_id == tasks["first"].run_id
    assert repaired["first"].attempt_number == 0
    assert repaired["second"].run_id != tasks["second"].run_id
    assert repaired["second"].attempt_number == 1
    assert repaired["cleanup"].run_id == tasks["cleanup"].run_id
    history = ws.jobs.get_run(run_id, include_history=True).repair_history or []
    assert [h.type for h in history] == [
        jobs.RepairHistoryItemType.ORIGINAL,
        jobs.RepairHistoryItemType.REPAIR,
    ]
    # A second repair must name the latest one, as on Databricks.
    with pytest.raises(InvalidParameterValue, match="latest_repair_id"):
        ws.jobs.repair_run(run_id, rerun_tasks=["first"])


def test_run_now_twice_with_one_idempotency_token_starts_one_run(ws: WorkspaceClient) -> None:
    base = folder(ws)
    job_id = ws.jobs.create(
        name="t_jobs_token",
        max_concurrent_runs=5,
        tasks=[python_task("t", put_file(ws, f"{base}/t.py", "print(1)\n"))],
    ).job_id
    assert job_id is not None
    token = uuid.uuid4().hex
    first: int = ws.jobs.run_now(job_id, idempotency_token=token).run_id
    second: int = ws.jobs.run_now(job_id, idempotency_token=token).run_id
    assert first == second
    wait_run(ws, first)
    assert [r.run_id for r in ws.jobs.list_runs(job_id=job_id)] == [first]


def test_cancelling_a_sleeping_task_ends_its_process_within_seconds(
    ws: WorkspaceClient, local_ws: LocalWorkspace
) -> None:
    base = folder(ws)
    sleeper = put_file(
        ws, f"{base}/sleep.py", "import time\nprint('sleeping', flush=True)\ntime.sleep(600)\n"
    )
    run_id = ws.jobs.submit(
        run_name="t_jobs_cancel",
        tasks=[jobs.SubmitTask(task_key="sleep", spark_python_task=jobs.SparkPythonTask(sleeper))],
    ).run_id
    pid_file = local_ws.config.data_dir / "runs" / str(run_id) / "sleep" / "attempt-0" / "pid"
    pid = int(wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), timeout=15))
    assert alive(pid)
    active = [r.run_id for r in ws.jobs.list_runs(active_only=True)]
    assert run_id in active

    started = time.monotonic()
    ws.jobs.cancel_run(run_id)
    run = wait_run(ws, run_id, timeout=10)

    assert time.monotonic() - started < 5
    assert run.state and run.state.result_state == jobs.RunResultState.CANCELED
    assert run.status and run.status.termination_details
    assert run.status.termination_details.code == jobs.TerminationCodeCode.USER_CANCELED
    assert by_key(run)["sleep"].state.result_state == jobs.RunResultState.CANCELED  # type: ignore[union-attr]
    wait_for(lambda: not alive(pid), timeout=5)


def test_task_and_job_timeouts_end_runs_timedout(ws: WorkspaceClient) -> None:
    base = folder(ws)
    sleeper = put_file(ws, f"{base}/sleep.py", "import time\ntime.sleep(60)\n")
    task_timeout = ws.jobs.submit(
        run_name="t_jobs_task_timeout",
        tasks=[
            jobs.SubmitTask(
                task_key="slow", spark_python_task=jobs.SparkPythonTask(sleeper), timeout_seconds=1
            )
        ],
    ).run_id
    job_timeout = ws.jobs.submit(
        run_name="t_jobs_job_timeout",
        timeout_seconds=1,
        tasks=[jobs.SubmitTask(task_key="slow", spark_python_task=jobs.SparkPythonTask(sleeper))],
    ).run_id

    by_task = wait_run(ws, task_timeout, timeout=15)
    by_job = wait_run(ws, job_timeout, timeout=15)

    assert by_task.tasks and by_task.tasks[0].state
    assert by_task.tasks[0].state.result_state == jobs.RunResultState.TIMEDOUT
    assert by_task.state and by_task.state.result_state == jobs.RunResultState.FAILED
    assert by_job.state and by_job.state.result_state == jobs.RunResultState.TIMEDOUT
    assert by_job.tasks and by_job.tasks[0].state
    assert by_job.tasks[0].state.result_state == jobs.RunResultState.TIMEDOUT


def test_max_retries_makes_each_attempt_visible(ws: WorkspaceClient) -> None:
    base = folder(ws)
    flaky = put_file(ws, f"{base}/flaky.py", "raise SystemExit('always broken')\n")
    run_id = ws.jobs.submit(
        run_name="t_jobs_retries",
        tasks=[
            jobs.SubmitTask(
                task_key="flaky", spark_python_task=jobs.SparkPythonTask(flaky), max_retries=2
            )
        ],
    ).run_id
    run = wait_run(ws, run_id)
    task = by_key(run)["flaky"]
    assert task.attempt_number == 2
    assert task.state and task.state.result_state == jobs.RunResultState.FAILED
    # Each attempt has its own task run id; the first one's output stays readable.
    first_attempt = ws.jobs.get_run(task.run_id).original_attempt_run_id  # type: ignore[arg-type]
    assert first_attempt and first_attempt != task.run_id
    assert "always broken" in (ws.jobs.get_run_output(first_attempt).error or "")


def test_a_sql_task_runs_a_workspace_sql_file_with_parameters_on_the_warehouse(
    ws: WorkspaceClient,
) -> None:
    base = folder(ws)
    schema = f"main.t_jobs_sql_{uuid.uuid4().hex[:6]}"
    script = put_file(
        ws,
        f"{base}/load.sql",
        f"CREATE SCHEMA IF NOT EXISTS {schema};\n"
        f"-- a comment; with a semicolon\n"
        f"CREATE TABLE {schema}.numbers AS SELECT CAST(:n AS INT) AS n, ';' AS s;\n",
    )
    job_id = ws.jobs.create(
        name="t_jobs_sql",
        parameters=[jobs.JobParameterDefinition(name="n", default="1")],
        tasks=[
            jobs.Task(
                task_key="load",
                sql_task=jobs.SqlTask(
                    warehouse_id=WAREHOUSE,
                    file=jobs.SqlTaskFile(path=script, source=jobs.Source.WORKSPACE),
                ),
            )
        ],
    ).job_id
    assert job_id is not None
    run = wait_run(ws, ws.jobs.run_now(job_id, job_parameters={"n": "7"}).run_id)
    assert run.state and run.state.result_state == jobs.RunResultState.SUCCESS, run.state

    result = ws.statement_execution.execute_statement(
        statement=f"SELECT n, s FROM {schema}.numbers", warehouse_id=WAREHOUSE
    )
    assert result.status and result.status.state == StatementState.SUCCEEDED
    assert result.result and result.result.data_array == [["7", ";"]]


def test_tasks_the_local_workspace_cannot_run_fail_with_a_clear_message(
    ws: WorkspaceClient,
) -> None:
    run_id = ws.jobs.submit(
        run_name="t_jobs_unsupported",
        tasks=[
            jobs.SubmitTask(
                task_key="jar", spark_jar_task=jobs.SparkJarTask(main_class_name="com.example.Main")
            ),
            jobs.SubmitTask(
                task_key="wheel",
                python_wheel_task=jobs.PythonWheelTask(package_name="pkg", entry_point="main"),
            ),
            jobs.SubmitTask(
                task_key="missing",
                notebook_task=jobs.NotebookTask(
                    notebook_path="/Shared/t_jobs_api/no/such/notebook"
                ),
            ),
            jobs.SubmitTask(
                task_key="query",
                sql_task=jobs.SqlTask(
                    warehouse_id=WAREHOUSE, query=jobs.SqlTaskQuery(query_id="q1")
                ),
            ),
        ],
    ).run_id
    run = wait_run(ws, run_id)
    assert run.state and run.state.result_state == jobs.RunResultState.FAILED
    tasks = by_key(run)
    for task in tasks.values():
        assert task.state and task.state.result_state == jobs.RunResultState.FAILED
    assert "not available in the local workspace" in tasks["jar"].state.state_message  # type: ignore[union-attr,operator]
    assert "python_wheel_task" in tasks["wheel"].state.state_message  # type: ignore[union-attr,operator]
    assert "does not exist" in tasks["missing"].state.state_message  # type: ignore[union-attr,operator]
    assert "Queries API" in tasks["query"].state.state_message  # type: ignore[union-attr,operator]


def test_the_workspace_survives_a_task_printing_20_mb_and_a_crashing_task(
    ws: WorkspaceClient,
) -> None:
    base = folder(ws)
    loud = put_file(
        ws,
        f"{base}/loud.py",
        "import sys\nline = 'x' * 1023 + '\\n'\n"
        "for _ in range(20 * 1024):\n    sys.stdout.write(line)\nprint('THE END')\n",
    )
    crash = put_file(ws, f"{base}/crash.py", "import os\nprint('bye', flush=True)\nos._exit(3)\n")
    run_id = ws.jobs.submit(
        run_name="t_jobs_survive",
        tasks=[
            jobs.SubmitTask(task_key="loud", spark_python_task=jobs.SparkPythonTask(loud)),
            jobs.SubmitTask(task_key="crash", spark_python_task=jobs.SparkPythonTask(crash)),
        ],
    ).run_id
    run = wait_run(ws, run_id, timeout=60)
    tasks = by_key(run)

    loud_out = ws.jobs.get_run_output(tasks["loud"].run_id)  # type: ignore[arg-type]
    assert tasks["loud"].state.result_state == jobs.RunResultState.SUCCESS  # type: ignore[union-attr]
    assert loud_out.logs_truncated is True
    assert loud_out.logs and loud_out.logs.rstrip().endswith("THE END")
    assert len(loud_out.logs) < 5 * 1024 * 1024
    crash_out = ws.jobs.get_run_output(tasks["crash"].run_id)  # type: ignore[arg-type]
    assert tasks["crash"].state.result_state == jobs.RunResultState.FAILED  # type: ignore[union-attr]
    assert crash_out.error and "3" in crash_out.error
    assert ws.jobs.get_run(run_id).run_id == run_id  # still answering


def test_a_run_beyond_max_concurrent_runs_is_skipped_and_runs_can_be_deleted(
    ws: WorkspaceClient,
) -> None:
    base = folder(ws)
    sleeper = put_file(ws, f"{base}/sleep.py", "import time\ntime.sleep(600)\n")
    job_id = ws.jobs.create(name="t_jobs_limit", tasks=[python_task("s", sleeper)]).job_id
    assert job_id is not None
    first = ws.jobs.run_now(job_id).run_id
    second = ws.jobs.get_run(ws.jobs.run_now(job_id).run_id)
    assert second.state and second.state.life_cycle_state == jobs.RunLifeCycleState.SKIPPED
    assert "maximum concurrent runs" in (second.state.state_message or "")
    with pytest.raises(InvalidState, match="active"):
        ws.jobs.delete_run(first)
    ws.jobs.cancel_all_runs(job_id=job_id)
    wait_run(ws, first)
    ws.jobs.delete_run(first)
    with pytest.raises(ResourceDoesNotExist):
        ws.jobs.get_run(first)


def test_runs_left_active_by_a_dead_workspace_end_as_internal_errors(tmp_path: Path) -> None:
    store = JobsStore(tmp_path)
    task = {
        "task_key": "t",
        "spec": {"task_key": "t"},
        "run_id": 5,
        "attempt_number": 0,
        "history": [],
        "state": {"life_cycle_state": "RUNNING", "state_message": ""},
    }
    store.insert_run(
        {
            "run_id": 4,
            "job_id": None,
            "run_type": "SUBMIT_RUN",
            "start_time": 1,
            "active": True,
            "tasks": [task],
            "state": {"life_cycle_state": "RUNNING", "state_message": ""},
        },
        None,
    )
    store.close()
    with LocalWorkspace(LocalConfig(data_dir=tmp_path, seed=False, warm_mlflow=False)) as restarted:
        client = WorkspaceClient(host=restarted.url, token=restarted.token)
        run = client.jobs.get_run(4)
    assert run.state and run.state.life_cycle_state == jobs.RunLifeCycleState.INTERNAL_ERROR
    assert run.state.result_state == jobs.RunResultState.FAILED
    assert "restarted" in (run.state.state_message or "")


def test_condition_tasks_pick_a_branch_and_queued_runs_wait_for_their_turn(
    ws: WorkspaceClient,
) -> None:
    base = folder(ws)
    hello = put_file(ws, f"{base}/hello.py", "import time\ntime.sleep(0.5)\nprint('hi')\n")
    job_id = ws.jobs.create(
        name="t_jobs_branch",
        queue=jobs.QueueSettings(enabled=True),
        parameters=[jobs.JobParameterDefinition(name="size", default="5")],
        tasks=[
            jobs.Task(
                task_key="big",
                condition_task=jobs.ConditionTask(
                    op=jobs.ConditionTaskOp.GREATER_THAN,
                    left="{{job.parameters.size}}",
                    right="3",
                ),
            ),
            python_task("yes", hello, depends_on=[jobs.TaskDependency("big", outcome="true")]),
            python_task("no", hello, depends_on=[jobs.TaskDependency("big", outcome="false")]),
        ],
    ).job_id
    assert job_id is not None
    first = ws.jobs.run_now(job_id).run_id
    second = ws.jobs.run_now(job_id, job_parameters={"size": "1"}).run_id
    queued = ws.jobs.get_run(second)
    assert queued.state and queued.state.life_cycle_state == jobs.RunLifeCycleState.QUEUED
    assert queued.status and queued.status.state == jobs.RunLifecycleStateV2State.QUEUED

    one, two = wait_run(ws, first), wait_run(ws, second)

    assert one.state and one.state.result_state == jobs.RunResultState.SUCCESS
    results = {k: t.state.result_state for k, t in by_key(one).items()}  # type: ignore[union-attr]
    assert results["yes"] == jobs.RunResultState.SUCCESS
    assert results["no"] == jobs.RunResultState.EXCLUDED
    results = {k: t.state.result_state for k, t in by_key(two).items()}  # type: ignore[union-attr]
    assert results["yes"] == jobs.RunResultState.EXCLUDED
    assert results["no"] == jobs.RunResultState.SUCCESS
    # The queued run's tasks started only once the first run had ended.
    assert by_key(two)["no"].start_time >= one.end_time  # type: ignore[operator]
