"""Upload two notebooks, create a two-task job (load -> report), run it, and read its output.

Uses only the databricks-sdk and its unified auth (DATABRICKS_HOST/DATABRICKS_TOKEN or a
profile). Runs unchanged against Databricks (serverless jobs compute: tasks without a cluster
spec) and the local workspace (`dbx-devkit local`). Rerunnable: the notebooks are overwritten
and an existing job of the same name is reset to this definition.
"""

from __future__ import annotations

import base64
from datetime import timedelta

from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs
from databricks.sdk.service.workspace import ImportFormat, Language

JOB_NAME = "docs-report-daily"  # domain-action-frequency
FOLDER = "/Shared/docs_jobs"

LOAD = """\
# Databricks notebook source
run_date = dbutils.widgets.get("run_date")
row = spark.sql("SELECT COUNT(*) AS n FROM samples.nyctaxi.trips").first()
print(f"trips on {run_date}: {row.n}")
dbutils.jobs.taskValues.set(key="trip_count", value=row.n)
dbutils.notebook.exit(f"loaded {row.n} trips")
"""

REPORT = """\
# Databricks notebook source
trip_count = dbutils.jobs.taskValues.get(taskKey="load", key="trip_count")
dbutils.notebook.exit(f"report for {dbutils.widgets.get('run_date')}: {trip_count} trips")
"""


def upload_notebook(w: WorkspaceClient, path: str, source: str) -> None:
    """Create or replace a Python notebook from its source text."""
    w.workspace.import_(
        path,
        content=base64.b64encode(source.encode()).decode(),
        format=ImportFormat.SOURCE,
        language=Language.PYTHON,
        overwrite=True,
    )


def job_settings() -> jobs.JobSettings:
    """Two notebook tasks: `report` runs after `load` succeeds; one job parameter."""
    return jobs.JobSettings(
        name=JOB_NAME,
        parameters=[jobs.JobParameterDefinition(name="run_date", default="2026-01-01")],
        max_concurrent_runs=1,
        tasks=[
            jobs.Task(task_key="load", notebook_task=jobs.NotebookTask(f"{FOLDER}/load")),
            jobs.Task(
                task_key="report",
                depends_on=[jobs.TaskDependency(task_key="load")],
                notebook_task=jobs.NotebookTask(f"{FOLDER}/report"),
            ),
        ],
    )


def deploy_job(w: WorkspaceClient, settings: jobs.JobSettings) -> int:
    """Reset the job of this name to ``settings``, or create it; return its id."""
    for job in w.jobs.list(name=JOB_NAME):
        if job.job_id is not None:
            w.jobs.reset(job_id=job.job_id, new_settings=settings)
            return job.job_id
    created = w.jobs.create(
        name=settings.name,
        parameters=settings.parameters,
        max_concurrent_runs=settings.max_concurrent_runs,
        tasks=settings.tasks,
    )
    if created.job_id is None:
        raise RuntimeError("jobs/create returned no job_id")
    return created.job_id


def main() -> None:
    """Deploy the notebooks and the job, run it once, print each task's result."""
    w = WorkspaceClient()
    w.workspace.mkdirs(FOLDER)
    upload_notebook(w, f"{FOLDER}/load", LOAD)
    upload_notebook(w, f"{FOLDER}/report", REPORT)

    job_id = deploy_job(w, job_settings())

    run = w.jobs.run_now(job_id=job_id, job_parameters={"run_date": "2026-01-31"}).result(
        timeout=timedelta(minutes=20)
    )
    result = run.state.result_state.value if run.state and run.state.result_state else "?"
    print(f"job {job_id} run {run.run_id}: {result}")

    for task in run.tasks or []:
        if task.run_id is None:
            continue
        output = w.jobs.get_run_output(run_id=task.run_id)
        exit_value = output.notebook_output.result if output.notebook_output else None
        print(f"task {task.task_key}: {exit_value}")


if __name__ == "__main__":
    main()
