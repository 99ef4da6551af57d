"""jobs_* tools through the MCP server on the local workspace: jobs run for real."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import anyio
import pytest
from mcp import Client

from local_workspace.runner import LocalWorkspace
from server.cli import main
from tests.conftest import fails, ok, text_of

pytestmark = pytest.mark.anyio

HOME = "/Users/dev@dbx-devkit.local"


def unique() -> str:
    return uuid.uuid4().hex[:8]


async def write(mcp: Client, path: str, content: str, kind: str = "notebook") -> None:
    """Upload a notebook or file (replacing it)."""
    await ok(mcp, "workspace_write", path=path, content=content, kind=kind, overwrite=True)


def notebook_task(key: str, path: str, *deps: str) -> dict[str, Any]:
    task: dict[str, Any] = {"task_key": key, "notebook_task": {"notebook_path": path}}
    if deps:
        task["depends_on"] = [{"task_key": d} for d in deps]
    return task


def file_task(key: str, path: str, *deps: str) -> dict[str, Any]:
    task: dict[str, Any] = {"task_key": key, "spark_python_task": {"python_file": path}}
    if deps:
        task["depends_on"] = [{"task_key": d} for d in deps]
    return task


async def create(mcp: Client, name: str, *tasks: dict[str, Any], **settings: Any) -> int:
    result = await ok(mcp, "jobs_create", spec={"name": name, "tasks": list(tasks), **settings})
    return int(result.structured_content["job_id"])


async def run(mcp: Client, job_id: int, **arguments: Any) -> int:
    result = await ok(mcp, "jobs_run_now", job_id=job_id, **arguments)
    return int(result.structured_content["run_id"])


async def wait(mcp: Client, run_id: int, timeout_s: int = 60) -> dict[str, Any]:
    result = await ok(mcp, "jobs_wait_run", run_id=run_id, timeout_s=timeout_s)
    return result.structured_content


def states(summary: dict[str, Any]) -> dict[str, str]:
    return {t["task_key"]: t["result_state"] or t["state"] for t in summary["tasks"]}


async def sleeping_job(mcp: Client, u: str) -> int:
    path = f"{HOME}/t_jobs_{u}/sleep"
    await write(mcp, path, "import time\ntime.sleep(120)\n")
    return await create(mcp, f"t-sleep-{u}-adhoc", notebook_task("nap", path))


async def until_running(mcp: Client, run_id: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        summary = (await ok(mcp, "jobs_get_run", run_id=run_id)).structured_content
        if any(t["state"] == "RUNNING" for t in summary["tasks"]):
            return
        await anyio.sleep(0.1)
    raise AssertionError(f"run {run_id} never started running")


async def test_a_two_task_job_with_a_parameter_writes_a_table_end_to_end(mcp: Client) -> None:
    u = unique()
    schema = f"main.t_jobs_{u}"
    prepare, load = f"{HOME}/t_jobs_{u}/prepare", f"{HOME}/t_jobs_{u}/load"
    await write(mcp, prepare, f'spark.sql("CREATE SCHEMA IF NOT EXISTS {schema}")\n')
    await write(
        mcp,
        load,
        'run_date = dbutils.widgets.get("run_date")\n'
        f"spark.sql(f\"CREATE TABLE {schema}.daily AS SELECT '{{run_date}}' AS run_date, "
        '42 AS n")\n',
    )
    job_id = await create(
        mcp,
        f"t-sales-load-{u}-daily",
        notebook_task("prepare", prepare),
        notebook_task("load", load, "prepare"),
        parameters=[{"name": "run_date", "default": "2000-01-01"}],
    )
    detail = text_of(await ok(mcp, "jobs_get", job_id=job_id))
    assert "| load | notebook_task |" in detail and "| prepare |" in detail
    assert "run_date='2000-01-01'" in detail

    run_id = await run(mcp, job_id, job_parameters={"run_date": "2024-05-01"})
    notes: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        notes.append((progress, total, message))

    result = await mcp.call_tool(
        "jobs_wait_run", {"run_id": run_id, "timeout_s": 60}, progress_callback=on_progress
    )
    assert not result.is_error, text_of(result)
    summary = result.structured_content
    assert summary["result_state"] == "SUCCESS", text_of(result)
    assert notes and notes[-1][0] == notes[-1][1] == 2, notes
    assert any("load" in (n[2] or "") or "prepare" in (n[2] or "") for n in notes), notes

    got = await ok(mcp, "jobs_get_run", run_id=run_id)
    assert states(got.structured_content) == {"prepare": "SUCCESS", "load": "SUCCESS"}
    assert all(t["duration_s"] is not None for t in got.structured_content["tasks"])
    assert "| load |" in text_of(got)

    table = await ok(mcp, "sql_query", statement=f"SELECT run_date, n FROM {schema}.daily")
    assert table.structured_content["rows"] == [["2024-05-01", "42"]]


async def test_a_failing_task_shows_its_traceback_and_repair_reruns_only_it(
    mcp: Client,
) -> None:
    u = unique()
    first, second = f"{HOME}/t_jobs_{u}/first", f"{HOME}/t_jobs_{u}/second.py"
    await write(mcp, first, 'print("first ok")\n')
    noisy = "for i in range(400):\n    print('line', i)\n"
    await write(mcp, second, noisy + "def divide():\n    return 1 / 0\n\ndivide()\n", "file")
    job_id = await create(
        mcp,
        f"t-repair-{u}-adhoc",
        notebook_task("first", first),
        file_task("second", second, "first"),
    )
    run_id = await run(mcp, job_id)
    summary = await wait(mcp, run_id)
    assert summary["result_state"] == "FAILED"
    assert states(summary) == {"first": "SUCCESS", "second": "FAILED"}
    assert "jobs_repair_run" in summary["hint"]
    before = {t["task_key"]: t["run_id"] for t in summary["tasks"]}

    output = await ok(mcp, "jobs_get_run_output", run_id=run_id, task_key="second", max_chars=800)
    text = text_of(output)
    assert "ZeroDivisionError" in text and "divide" in text
    assert len(output.structured_content["logs"] or "") + len(text) < 4000  # capped
    assert "line 399" in text  # the TAIL of the logs is kept
    assert "raise max_chars" in text

    await write(mcp, second, 'print("fixed")\n', "file")
    repaired = await ok(mcp, "jobs_repair_run", run_id=run_id)
    assert repaired.structured_content["rerun_tasks"] == ["second"]
    summary = await wait(mcp, run_id)
    assert summary["result_state"] == "SUCCESS", summary
    assert states(summary) == {"first": "SUCCESS", "second": "SUCCESS"}
    after = {t["task_key"]: t["run_id"] for t in summary["tasks"]}
    assert after["first"] == before["first"]  # not rerun
    assert after["second"] != before["second"]
    assert summary["repairs"] == 1
    logs = await ok(mcp, "jobs_get_run_output", run_id=run_id, task_key="second")
    assert "fixed" in text_of(logs)


async def test_run_now_twice_with_one_idempotency_token_starts_one_run(mcp: Client) -> None:
    u = unique()
    path = f"{HOME}/t_jobs_{u}/quick"
    await write(mcp, path, 'print("hi")\n')
    job_id = await create(mcp, f"t-idem-{u}-adhoc", notebook_task("quick", path))
    first = await ok(mcp, "jobs_run_now", job_id=job_id, idempotency_token=f"tok-{u}")
    second = await ok(mcp, "jobs_run_now", job_id=job_id, idempotency_token=f"tok-{u}")
    assert first.structured_content["run_id"] == second.structured_content["run_id"]
    assert first.structured_content["url"]
    runs = await ok(mcp, "jobs_list_runs", job_id=job_id)
    assert len(runs.structured_content["runs"]) == 1
    await wait(mcp, first.structured_content["run_id"])


async def test_run_now_without_a_token_returns_one_to_retry_with(mcp: Client) -> None:
    u = unique()
    path = f"{HOME}/t_jobs_{u}/quick"
    await write(mcp, path, 'print("hi")\n')
    job_id = await create(mcp, f"t-token-{u}-adhoc", notebook_task("quick", path))
    started = await ok(mcp, "jobs_run_now", job_id=job_id)
    token = started.structured_content["idempotency_token"]
    assert token and "without starting a second run" in text_of(started)
    again = await ok(mcp, "jobs_run_now", job_id=job_id, idempotency_token=token)
    assert again.structured_content["run_id"] == started.structured_content["run_id"]
    await wait(mcp, started.structured_content["run_id"])


async def test_wait_times_out_politely_and_cancel_ends_a_sleeping_task(mcp: Client) -> None:
    u = unique()
    job_id = await sleeping_job(mcp, u)
    run_id = await run(mcp, job_id)
    await until_running(mcp, run_id)

    waited = await ok(mcp, "jobs_wait_run", run_id=run_id, timeout_s=1)
    assert waited.structured_content["timed_out"] is True
    text = text_of(waited)
    assert "still running" in text and f"jobs_get_run run_id={run_id}" in text

    active = await ok(mcp, "jobs_list_runs", job_id=job_id, active_only=True)
    assert [r["run_id"] for r in active.structured_content["runs"]] == [run_id]

    started = time.monotonic()
    cancelled = await ok(mcp, "jobs_cancel_run", run_id=run_id)
    assert time.monotonic() - started < 10
    assert cancelled.structured_content["result_state"] == "CANCELED", text_of(cancelled)
    got = await ok(mcp, "jobs_get_run", run_id=run_id)
    assert got.structured_content["result_state"] == "CANCELED"


async def test_submit_runs_a_python_file_once(mcp: Client) -> None:
    u = unique()
    path = f"{HOME}/t_jobs_{u}/once.py"
    await write(mcp, path, "import sys\nprint('args', sys.argv[1:])\n", "file")
    started = await ok(mcp, "jobs_submit", path=path, args=["--day", "7"])
    run_id = started.structured_content["run_id"]
    summary = await wait(mcp, run_id)
    assert summary["result_state"] == "SUCCESS", summary
    output = text_of(await ok(mcp, "jobs_get_run_output", run_id=run_id))
    assert "args ['--day', '7']" in output


async def test_bad_input_gives_coded_errors_with_a_next_step_and_creates_nothing(
    mcp: Client,
) -> None:
    u = unique()
    name = f"t-bad-{u}-daily"
    path = f"{HOME}/t_jobs_{u}/real"
    await write(mcp, path, 'print("x")\n')

    codes = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")
    for tool in ("jobs_get", "jobs_run_now", "jobs_delete"):
        text = await fails(mcp, tool, job_id=987654321)
        assert text.split(":")[0] in codes and "987654321" in text and "jobs_list" in text, text
    for tool in ("jobs_get_run", "jobs_get_run_output", "jobs_cancel_run", "jobs_repair_run"):
        text = await fails(mcp, tool, run_id=987654321)
        assert text.split(":")[0] in codes and "jobs_list_runs" in text, text

    spec = {"name": name, "tasks": [notebook_task("b", path, "a_missing_key")]}
    text = await fails(mcp, "jobs_create", spec=spec)
    assert text.startswith("INVALID_PARAMETER_VALUE") and "a_missing_key" in text
    assert "nothing was created" in text

    spec = {"name": name, "taks": [], "tasks": [{"task_key": "x", "notebook_task": {}}]}
    text = await fails(mcp, "jobs_create", spec=spec)
    assert "did you mean 'tasks'" in text and "notebook_path" in text

    missing = f"{HOME}/t_jobs_{u}/does_not_exist"
    spec = {"name": name, "tasks": [notebook_task("a", missing)]}
    text = await fails(mcp, "jobs_create", spec=spec)
    assert text.startswith("RESOURCE_DOES_NOT_EXIST") and missing in text
    assert "workspace_write" in text

    text = await fails(mcp, "jobs_submit", path=missing)
    assert text.startswith("RESOURCE_DOES_NOT_EXIST") and "workspace_write" in text

    listed = await ok(mcp, "jobs_list", name=name)
    assert listed.structured_content["jobs"] == []


async def test_create_warns_on_a_name_off_the_convention_and_delete_needs_confirm(
    mcp: Client,
) -> None:
    u = unique()
    path = f"{HOME}/t_jobs_{u}/nb"
    await write(mcp, path, 'print("x")\n')
    created = await ok(
        mcp, "jobs_create", spec={"name": f"My Job {u}", "tasks": [notebook_task("a", path)]}
    )
    assert "WARNING" in text_of(created) and "domain-action-frequency" in text_of(created)
    job_id = created.structured_content["job_id"]
    good = await ok(
        mcp, "jobs_update", job_id=job_id, new_settings={"name": f"fraud-training-{u}-daily"}
    )
    assert good.structured_content["warnings"] == []
    assert "fraud-training" in text_of(await ok(mcp, "jobs_get", job_id=job_id))

    preview = await ok(mcp, "jobs_delete", job_id=job_id)
    assert "would delete" in text_of(preview) and "confirm=true" in text_of(preview)
    await ok(mcp, "jobs_get", job_id=job_id)  # still there
    await ok(mcp, "jobs_delete", job_id=job_id, confirm=True)
    await fails(mcp, "jobs_get", job_id=job_id)


def test_call_drives_a_job_from_the_shell(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    local_ws: LocalWorkspace,
    ws: Any,
) -> None:
    monkeypatch.setenv("DATABRICKS_HOST", local_ws.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", local_ws.token)
    u = unique()
    path = f"{HOME}/t_jobs_{u}/cli.py"
    import base64

    from databricks.sdk.service.workspace import ImportFormat

    ws.workspace.mkdirs(f"{HOME}/t_jobs_{u}")
    ws.workspace.import_(
        path, content=base64.b64encode(b"print('from cli')\n").decode(), format=ImportFormat.AUTO
    )
    name = f"t-cli-{u}-adhoc"
    spec = {"name": name, "tasks": [file_task("only", path)]}

    def cli(tool: str, **arguments: Any) -> dict[str, Any]:
        code = main(["call", tool, "--structured", "--json", json.dumps(arguments)])
        captured = capsys.readouterr()
        assert code == 0, captured.err
        return json.loads(captured.out)

    job_id = cli("jobs_create", spec=spec)["job_id"]
    assert [j["job_id"] for j in cli("jobs_list", name=name)["jobs"]] == [job_id]
    run_id = cli("jobs_run_now", job_id=job_id)["run_id"]
    assert cli("jobs_wait_run", run_id=run_id, timeout_s=60)["result_state"] == "SUCCESS"
    assert main(["call", "jobs_get_run_output", "--json", json.dumps({"run_id": run_id})]) == 0
    assert "from cli" in capsys.readouterr().out


async def test_update_merges_tasks_by_key_and_removes_fields(mcp: Client) -> None:
    u = unique()
    a, b = f"{HOME}/t_jobs_{u}/a", f"{HOME}/t_jobs_{u}/b"
    await write(mcp, a, 'print("a")\n')
    await write(mcp, b, 'print("b")\n')
    schedule = {"quartz_cron_expression": "0 0 6 * * ?", "timezone_id": "UTC"}
    job_id = await create(mcp, f"t-update-{u}-daily", notebook_task("a", a), schedule=schedule)

    text = await fails(
        mcp, "jobs_update", job_id=job_id, new_settings={"tasks": [notebook_task("b", b, "zz")]}
    )
    assert text.startswith("INVALID_PARAMETER_VALUE") and "'zz'" in text
    missing = f"{HOME}/t_jobs_{u}/nope"
    text = await fails(
        mcp, "jobs_update", job_id=job_id, new_settings={"tasks": [notebook_task("b", missing)]}
    )
    assert text.startswith("RESOURCE_DOES_NOT_EXIST") and "workspace_write" in text
    text = await fails(mcp, "jobs_update", job_id=job_id, fields_to_remove=["tasks/zz"])
    assert "no task 'zz'" in text

    await ok(
        mcp,
        "jobs_update",
        job_id=job_id,
        new_settings={"tasks": [notebook_task("b", b, "a")]},
        fields_to_remove=["schedule"],
    )
    detail = await ok(mcp, "jobs_get", job_id=job_id)
    tasks = {t["task_key"]: t["depends_on"] for t in detail.structured_content["tasks"]}
    assert tasks == {"a": [], "b": ["a"]}
    assert detail.structured_content["schedule"] is None
