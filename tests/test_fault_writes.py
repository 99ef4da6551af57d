"""Every writer tool through MCP behind a fault proxy (30% of API requests faulted, half of
them after the request was forwarded): no write is done twice, and every call either
succeeds, answers OUTCOME_UNKNOWN (and a request that may have changed something really
failed), or answers a clear transient error (and then a non-idempotent write really was not
applied).

The areas (SQL, workspace, jobs, MLflow, pipelines, serving and vector search) run at the same
time: the clients' retry backoffs are most of the time, and they overlap. Within an area,
calls are sequential, and each call's proxy decisions are told apart by API family. The real
state is checked through a direct backend (no proxy). Run with ``-s`` for the figures.
"""

from __future__ import annotations

import functools
import os
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import pytest
from mcp import Client

from local_workspace.runner import LocalWorkspace
from server.specs import all_specs
from tests.conftest import mcp_session, text_of, wait_for
from tests.fault_proxy import Decision, FaultPlan, FaultProxy, fault_proxy
from tests.test_pipelines_local_api import sql, upload
from tests.test_registry_tools import put_model_files
from tools_core.backend import Backend, local_backend
from tools_core.mlflow_client import mlflow_client

pytestmark = pytest.mark.anyio
T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent

# 30% of API requests faulted, half of them after forwarding (the proxy). Few drops:
# a dropped connection costs the SDK a 1-2 s backoff, a 429/503 with Retry-After: 0 half that.
# FAULT_SEED reruns the same test under another fault pattern (a stress run by hand).
PLAN = FaultPlan(
    seed=int(os.environ.get("FAULT_SEED", "11")),
    rates={"error_before": 0.12, "drop_before": 0.03, "error_after": 0.12, "drop_after": 0.03},
)
FAULTED = {"error_before", "drop_before", "error_after", "drop_after"}
TRANSIENT = ("TEMPORARILY_UNAVAILABLE:", "TOO_MANY_REQUESTS:")
HOME = "/Users/dev@dbx-devkit.local/t_fault_writes"
SCHEMA = "main.t_fault_writes"
# The API paths of each tool family: a call's proxy decisions are those of its family made
# while it ran (areas run concurrently, each on its own family).
FAMILIES = {
    "sql": ("/api/2.0/sql/",),
    "uc": ("/api/2.1/unity-catalog/",),
    "workspace": ("/api/2.0/workspace/",),
    "jobs": ("/api/2.2/jobs/",),
    # mlflow_evaluate also reads the table, uploads its task and submits a job run.
    "mlflow": (
        "/api/2.0/mlflow",
        "/api/2.1/unity-catalog/",
        "/api/2.0/workspace/",
        "/api/2.2/jobs/",
    ),
    "registry": ("/api/2.0/mlflow",),
    "pipelines": ("/api/2.0/pipelines",),
    "serving": ("/api/2.0/serving-endpoints",),
    "vs": ("/api/2.0/vector-search/",),
    "files": ("/api/2.0/fs/",),
    "secrets": ("/api/2.0/secrets/",),
}
# Writers that never reach the workspace's HTTP API: the databricks CLI (its own retries,
# not installed here) and local files (files_download only reads the workspace: GETs are
# retried). docs/configuration.md says so in the inventory.
NOT_HTTP = {"bundle_deploy", "bundle_run", "project_init", "files_download"}


@dataclass
class Outcome:
    """One tool call through the proxy."""

    tool: str
    kind: str  # ok, unknown, transient
    text: str
    content: dict[str, Any]
    decisions: list[Decision]


@dataclass
class Figures:
    """What the test did."""

    calls: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    faults: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    slowest_s: float = 0.0

    def report(self) -> None:
        print("\n== fault writes: calls per writer (ok/unknown/transient)")
        total = Counter[str]()
        for tool, kinds in sorted(self.calls.items()):
            print(f"  {tool}: {sum(kinds.values())} {dict(kinds)}")
            total.update(kinds)
        print(f"  calls {sum(total.values())} {dict(total)}")
        print(f"  faults injected {dict(self.faults)}")
        print(f"  duplicated writes {self.duplicates}; slowest call {self.slowest_s:.1f} s")


@dataclass
class Rig:
    proxy: FaultProxy
    client: Client  # MCP, over the backend behind the proxy
    direct: Backend  # straight to the workspace, for set-up and checks
    figures: Figures
    workspace: LocalWorkspace  # for set-up scripts (MLflow artifacts)


def off_loop(fn: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Blocking set-up and checks run in a worker thread: the areas share the event loop."""

    @functools.wraps(fn)
    async def run(*args: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(fn, *args))

    return run


async def drive(rig: Rig, tool: str, **arguments: Any) -> Outcome:
    """Call ``tool`` through the proxy; classify and check the answer."""
    mark = len(rig.proxy.log)
    start = time.monotonic()
    result = await rig.client.call_tool(tool, arguments)
    seconds = time.monotonic() - start
    family = FAMILIES[tool.split("_")[0]]
    decisions = [d for d in rig.proxy.since(mark) if d.path.startswith(family)]
    text = text_of(result)
    faulted = [d for d in decisions if d.fault in FAULTED]
    if not result.is_error:
        kind = "ok"
    elif text.startswith("OUTCOME_UNKNOWN:"):
        kind = "unknown"
        # Honest: a request that may have changed something failed during this call.
        assert any(d.method != "GET" or "/statements/" in d.path for d in faulted), text
        assert "Check with " in text and "before retrying" in text, text
    elif text.startswith(TRANSIENT):
        kind = "transient"
        assert faulted, f"{tool}: a transient error without a fault: {text}"
    else:
        raise AssertionError(f"{tool} answered neither success nor a fault error: {text}")
    figures = rig.figures
    figures.calls[tool][kind] += 1
    figures.faults.update(d.fault for d in decisions if d.fault != "pass")
    figures.slowest_s = max(figures.slowest_s, seconds)
    return Outcome(tool, kind, text, result.structured_content or {}, decisions)


def no_duplicates(rig: Rig, counts: dict[str, int]) -> None:
    """Each key was written at most once (counted in the real state)."""
    extra = {key: n for key, n in counts.items() if n > 1}
    rig.figures.duplicates += sum(n - 1 for n in extra.values())
    assert not extra, f"duplicated writes: {extra}"


def applied_exactly_as_answered(outcomes: dict[str, Outcome], counts: dict[str, int]) -> None:
    """A success wrote once; a transient error of a non-idempotent write wrote nothing."""
    for key, outcome in outcomes.items():
        if outcome.kind == "ok":
            assert counts.get(key, 0) == 1, f"{key}: answered ok, found {counts.get(key, 0)}"
        elif outcome.kind == "transient":
            assert counts.get(key, 0) == 0, f"{key}: answered {outcome.text}, but it was written"


def unique() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def proxy(local_ws: LocalWorkspace) -> Iterator[FaultProxy]:
    with fault_proxy(local_ws.url, PLAN) as running:
        yield running


async def test_every_writer_through_faults_writes_at_most_once_and_answers_honestly(
    proxy: FaultProxy, local_ws: LocalWorkspace, backend: Backend
) -> None:
    sql(backend.client, f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    mlflow_client(backend)  # imports mlflow whole before any submodule (see client_of)
    faulty = local_backend(proxy.url, local_ws.token)
    figures = Figures()
    async with mcp_session(faulty, output_schemas=True) as client:
        rig = Rig(proxy, client, backend, figures, local_ws)
        async with anyio.create_task_group() as areas:
            for area in AREAS:
                areas.start_soon(area, rig)
    figures.report()
    assert figures.duplicates == 0
    assert set(figures.calls) == DRIVEN


# ---------------------------------------------------------------- SQL, UC, warehouses


async def sql_area(rig: Rig) -> None:
    table = f"{SCHEMA}.events"
    await off_loop(sql)(rig.direct.client, f"CREATE TABLE {table} (id BIGINT, note STRING)")
    outcomes: dict[str, Outcome] = {}
    for i in range(8):
        statement = f"INSERT INTO {table} VALUES ({i}, 'call {i}')"
        outcomes[str(i)] = await drive(rig, "sql_execute", statement=statement)
    rows = await off_loop(sql)(rig.direct.client, f"SELECT id, count(*) FROM {table} GROUP BY id")
    counts = {str(row[0]): int(row[1]) for row in rows}
    no_duplicates(rig, counts)
    applied_exactly_as_answered(outcomes, counts)


async def grants_and_warehouses_area(rig: Rig) -> None:
    table = f"{SCHEMA}.granted"
    await off_loop(sql)(rig.direct.client, f"CREATE TABLE {table} (id BIGINT)")
    warehouses = rig.direct.client.warehouses
    made = await off_loop(lambda: warehouses.create(name=f"t-faults-{unique()}"))()
    warehouse = made.response.id
    for privilege in ("SELECT", "MODIFY"):
        await drive(
            rig,
            "uc_update_grants",
            securable_type="table",
            full_name=table,
            principal="analysts",
            add=[privilege],
        )
    stopped = await drive(rig, "sql_stop_warehouse", warehouse_id=warehouse, confirm=True)
    started = await drive(rig, "sql_start_warehouse", warehouse_id=warehouse)

    def check() -> None:
        grants = rig.direct.client.grants.get("table", table).privilege_assignments or []
        privileges = [p.value for g in grants if g.principal == "analysts" for p in g.privileges]
        no_duplicates(rig, Counter(privileges))
        state = warehouses.get(warehouse).state.value
        if started.kind == "ok":
            assert state == "RUNNING"
        elif stopped.kind == "ok" and started.kind == "transient":
            assert state == "STOPPED"
        warehouses.delete(warehouse)

    await off_loop(check)()


# ---------------------------------------------------------------- workspace


async def workspace_area(rig: Rig) -> None:
    from databricks.sdk.errors import NotFound

    folder = f"{HOME}/ws_{unique()}"
    doomed = [f"{folder}/doomed_{i}.py" for i in range(2)]
    for path in doomed:
        await off_loop(upload)(rig.direct.client, path, "print('bye')\n")
    outcomes: dict[str, Outcome] = {}
    await drive(rig, "workspace_mkdirs", path=f"{folder}/made/deeper")
    for i in range(2):
        path = f"{folder}/new_{i}.py"
        outcomes[path] = await drive(
            rig, "workspace_write", path=path, content=f"x = {i}\n", kind="file"
        )
    await drive(rig, "workspace_write", path=doomed[0], content="y\n", kind="file", overwrite=True)
    deleted = [await drive(rig, "workspace_delete", path=path, confirm=True) for path in doomed]

    def exists(path: str) -> int:
        try:
            rig.direct.client.workspace.get_status(path)
        except NotFound:
            return 0
        return 1

    def check() -> None:
        applied_exactly_as_answered(outcomes, {path: exists(path) for path in outcomes})
        for path, outcome in zip(doomed, deleted, strict=True):
            if outcome.kind == "ok":
                assert not exists(path)

    await off_loop(check)()


# ---------------------------------------------------------------- jobs


async def jobs_area(rig: Rig) -> None:
    from databricks.sdk.service.jobs import JobSettings, RunType

    u = unique()
    ok_path, bad_path = f"{HOME}/jobs_{u}/ok.py", f"{HOME}/jobs_{u}/bad.py"
    jobs = rig.direct.client.jobs

    def spec(name: str, path: str = ok_path) -> dict[str, Any]:
        task = {"task_key": "t", "spark_python_task": {"python_file": path}}
        return {"name": name, "tasks": [task], "parameters": [{"name": "call", "default": ""}]}

    def set_up() -> tuple[int, int, int]:
        upload(rig.direct.client, ok_path, "print('ok')\n")
        upload(rig.direct.client, bad_path, "print(1 / 0)\n")

        def job(name: str, path: str = ok_path) -> int:
            settings = JobSettings.from_dict(spec(name, path))
            made = jobs.create(name=name, tasks=settings.tasks, parameters=settings.parameters)
            return int(made.job_id or 0)

        target, doomed = job(f"t-faults-target-{u}"), job(f"t-faults-doomed-{u}")
        failed_run = int(jobs.run_now(job(f"t-faults-failing-{u}", bad_path)).run_id or 0)
        wait_for(lambda: _done(jobs.get_run(failed_run)), 60)
        return target, doomed, failed_run

    target, doomed, failed_run = await off_loop(set_up)()
    created = {}
    for i in range(2):
        name = f"t-faults-create-{u}-{i}"
        created[name] = await drive(rig, "jobs_create", spec=spec(name))
    await drive(rig, "jobs_update", job_id=target, new_settings={"max_concurrent_runs": 3})
    deleted = await drive(rig, "jobs_delete", job_id=doomed, confirm=True)
    started = {}
    for i in range(2):
        params = {"call": str(i)}
        started[str(i)] = await drive(rig, "jobs_run_now", job_id=target, job_parameters=params)
    submitted = {}
    for i in range(2):
        name = f"t-faults-submit-{u}-{i}"
        submitted[name] = await drive(rig, "jobs_submit", path=ok_path, run_name=name)
    repaired = await drive(rig, "jobs_repair_run", run_id=failed_run)
    first = next((o for o in started.values() if o.kind == "ok"), None)
    if first is not None:
        await drive(rig, "jobs_cancel_run", run_id=first.content["run_id"])

    def check() -> None:
        names = Counter(j.settings.name for j in jobs.list() if j.settings)
        counts = {name: names[name] for name in created}
        no_duplicates(rig, counts)
        applied_exactly_as_answered(created, counts)
        if deleted.kind == "ok":
            assert doomed not in {j.job_id for j in jobs.list()}
        by_call = Counter(
            next((p.value for p in r.job_parameters or [] if p.name == "call"), "?")
            for r in jobs.list_runs(job_id=target)
        )
        no_duplicates(rig, dict(by_call))
        applied_exactly_as_answered(started, dict(by_call))
        submits = Counter(r.run_name for r in jobs.list_runs(run_type=RunType.SUBMIT_RUN))
        no_duplicates(rig, {name: submits[name] for name in submitted})
        applied_exactly_as_answered(submitted, {name: submits[name] for name in submitted})
        history = jobs.get_run(failed_run, include_history=True).repair_history or []
        repairs = [r for r in history if getattr(r.type, "value", "") == "REPAIR"]
        assert len(repairs) <= 1
        if repaired.kind == "ok":
            assert len(repairs) == 1

    await off_loop(check)()


def _done(run: Any) -> bool:
    state = run.state.life_cycle_state if run.state else None
    return getattr(state, "value", "") in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED")


# ---------------------------------------------------------------- MLflow and the registry


async def mlflow_area(rig: Rig) -> None:
    u = unique()
    direct = mlflow_client(rig.direct)
    experiment = f"/Shared/t_faults_{u}"
    model = f"{SCHEMA}.model_{u}"

    def set_up() -> str:
        run = direct.create_run(direct.create_experiment(f"/Shared/t_faults_src_{u}"))
        put_model_files(rig.direct, run.info.artifact_uri)
        direct.log_metric(run.info.run_id, "f1", 0.9)
        direct.set_terminated(run.info.run_id)
        # Version 1 (set up, not counted): the alias and promotion calls need one.
        direct.create_registered_model(model)
        direct.create_model_version(model, f"{run.info.artifact_uri}/model", run.info.run_id)
        return f"runs:/{run.info.run_id}/model"

    model_uri = await off_loop(set_up)()
    for i in range(2):
        await drive(rig, "mlflow_create_experiment", name=f"{experiment}_{i}")
    logged = {}
    for i in range(4):
        name = f"call-{i}"
        logged[name] = await drive(
            rig,
            "mlflow_log_run",
            experiment=experiment,
            run_name=name,
            params={"i": i},
            metrics={"m": float(i)},
        )
    registered = {}
    for i in range(2):
        description = f"call {i}"
        registered[description] = await drive(
            rig, "registry_register_version", name=model, model_uri=model_uri,
            description=description,
        )  # fmt: skip
    alias = await drive(rig, "registry_set_alias", name=model, alias="challenger", version=1)
    if alias.kind != "ok":  # promotion needs the challenger: set it past the proxy
        await off_loop(direct.set_registered_model_alias)(model, "challenger", "1")
    await drive(rig, "registry_set_tag", name=model, key="team", value="fraud")
    await drive(rig, "registry_promote", name=model, metric="f1", confirm=True)
    await drive(rig, "registry_delete_alias", name=model, alias="challenger", confirm=True)
    evaluation = await evaluate_once(rig, model, experiment)

    def check() -> None:
        from databricks.sdk.service.jobs import RunType

        names = Counter(e.name for e in direct.search_experiments(max_results=1000))
        no_duplicates(rig, {f"{experiment}_{i}": names[f"{experiment}_{i}"] for i in range(2)})
        found = direct.get_experiment_by_name(experiment)
        runs = direct.search_runs([found.experiment_id], max_results=100) if found else []
        no_duplicates(rig, dict(Counter(r.info.run_name for r in runs)))
        finished = Counter(r.info.run_name for r in runs if r.info.status == "FINISHED")
        applied_exactly_as_answered(logged, {name: finished[name] for name in logged})
        made = Counter(v.description for v in direct.search_model_versions(f"name = '{model}'"))
        no_duplicates(rig, dict(made))
        applied_exactly_as_answered(registered, {d: made[d] for d in registered})
        # One evaluation run and one job run per call, whatever the faults did.
        evaluated = Counter(r.info.run_name for r in runs if r.info.run_name.startswith("eval"))
        no_duplicates(rig, dict(evaluated))
        jobs = rig.direct.client.jobs
        submitted = Counter(r.run_name for r in jobs.list_runs(run_type=RunType.SUBMIT_RUN))
        no_duplicates(rig, {n: submitted[n] for n in submitted if n.startswith("mlflow_evaluate")})
        if evaluation.kind == "ok":
            assert evaluated and submitted[f"mlflow_evaluate models:/{model}/1"] == 1

    await off_loop(check)()


async def evaluate_once(rig: Rig, model: str, experiment: str) -> Outcome:
    """mlflow_evaluate hardly waiting (1 s): its writes are the evaluation run and a
    job run with an idempotency token. The job run is cancelled: its result is not what this
    test is about."""
    from databricks.sdk.service.jobs import RunType

    table = f"{SCHEMA}.eval_rows"
    await off_loop(sql)(
        rig.direct.client, f"CREATE TABLE IF NOT EXISTS {table} AS SELECT 1.0 AS x, 1 AS label"
    )
    outcome = await drive(
        rig,
        "mlflow_evaluate",
        target=f"models:/{model}/1",
        table=table,
        scorers=["classifier"],
        label="label",
        experiment=experiment,
        timeout_s=1,
    )

    def cancel() -> None:
        jobs = rig.direct.client.jobs
        for run in jobs.list_runs(run_type=RunType.SUBMIT_RUN, active_only=True):
            if (run.run_name or "").startswith("mlflow_evaluate") and run.run_id:
                jobs.cancel_run(run.run_id)

    await off_loop(cancel)()
    return outcome


# ---------------------------------------------------------------- pipelines


async def pipelines_area(rig: Rig) -> None:
    from databricks.sdk.service.pipelines import FileLibrary, PipelineLibrary

    u = unique()
    source = f"{HOME}/pipe_{u}/one.sql"
    schema = SCHEMA.split(".")[1]
    pipelines = rig.direct.client.pipelines

    def set_up() -> tuple[str, str]:
        upload(rig.direct.client, source, "CREATE OR REFRESH MATERIALIZED VIEW one AS SELECT 1;\n")
        library = PipelineLibrary(file=FileLibrary(path=source))
        ids = [
            pipelines.create(
                name=name, catalog="main", schema=schema, development=True, libraries=[library]
            ).pipeline_id
            or ""
            for name in (f"t-faults-pipe-{u}", f"t-faults-doomed-{u}")
        ]
        return ids[0], ids[1]

    target, doomed = await off_loop(set_up)()
    created = {}
    for i in range(2):
        name = f"t-faults-made-{u}-{i}"
        created[name] = await drive(
            rig, "pipelines_create", name=name, catalog="main", schema=schema, libraries=[source]
        )
    await drive(rig, "pipelines_update", pipeline_id=target, configuration={"k": "v"})
    started = await drive(rig, "pipelines_start_update", pipeline_id=target)
    await drive(rig, "pipelines_stop", pipeline_id=target)
    deleted = await drive(rig, "pipelines_delete", pipeline_id=doomed, confirm=True)

    def check() -> None:
        names = Counter(p.name for p in pipelines.list_pipelines(max_results=100))
        counts = {name: names[name] for name in created}
        no_duplicates(rig, counts)
        applied_exactly_as_answered(created, counts)
        updates = pipelines.list_updates(target).updates or []
        assert len(updates) <= 1
        if started.kind == "ok":
            assert len(updates) == 1
        if deleted.kind == "ok":
            listed = pipelines.list_pipelines(max_results=100)
            assert doomed not in {p.pipeline_id for p in listed}

    await off_loop(check)()


# ---------------------------------------------------------------- serving and vector search


async def endpoints_area(rig: Rig) -> None:
    from databricks.sdk.service.vectorsearch import EndpointType

    from tools_core.vector_search import create_index

    u = unique()
    direct = mlflow_client(rig.direct)
    model = f"{SCHEMA}.served_{u}"
    serving, updated = f"t-faults-serve-{u}", f"t-faults-updated-{u}"
    vs_endpoint = f"t-faults-vs-{u}"
    rows_index, synced = f"{SCHEMA}.rows_{u}", f"{SCHEMA}.synced_{u}"

    def set_up() -> None:
        from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

        direct.create_registered_model(model)
        run = direct.create_run(direct.create_experiment(f"/Shared/t_faults_serve_{u}"))
        put_model_files(rig.direct, run.info.artifact_uri)
        for _ in range(2):
            direct.create_model_version(
                model, f"{run.info.artifact_uri}/model", run_id=run.info.run_id
            )
        entity = ServedEntityInput(entity_name=model, entity_version="1", workload_size="Small")
        config = EndpointCoreConfigInput(name=updated, served_entities=[entity])
        rig.direct.client.serving_endpoints.create(name=updated, config=config)
        rig.direct.client.vector_search_endpoints.create_endpoint(
            vs_endpoint, EndpointType.STANDARD
        )
        vectors = {"embedding_vector_column": "vec", "embedding_dimension": 2}
        create_index(
            rig.direct, rows_index, vs_endpoint, "id",
            schema={"id": "long", "vec": "array<float>"}, **vectors,  # type: ignore[arg-type]
        )  # fmt: skip
        table = f"{SCHEMA}.docs_{u}"
        sql(rig.direct.client, f"CREATE TABLE {table} (id BIGINT, text STRING)")
        sql(rig.direct.client, f"INSERT INTO {table} VALUES (1, 'alpha'), (2, 'beta')")
        create_index(
            rig.direct, synced, vs_endpoint, "id", source_table=table,
            embedding_source_column="text", embedding_model_endpoint="local-minilm-l6-v2",
        )  # fmt: skip

    await off_loop(set_up)()
    served = await drive(
        rig, "serving_create_endpoint", name=serving, model=f"{model}/1", timeout_s=0
    )
    await drive(
        rig, "serving_update_endpoint", name=updated, model=f"{model}/2", timeout_s=0,
        confirm=True,
    )  # fmt: skip
    await drive(rig, "vs_create_endpoint", name=f"{vs_endpoint}-new")
    indexes = {}
    for i in range(2):
        name = f"{SCHEMA}.made_{u}_{i}"
        indexes[name] = await drive(
            rig, "vs_create_index", name=name, endpoint_name=vs_endpoint, primary_key="id",
            schema={"id": "long", "vec": "array<float>"}, embedding_vector_column="vec",
            embedding_dimension=2,
        )  # fmt: skip
    rows = [{"id": i, "vec": [1.0, float(i)]} for i in range(4)]
    for _ in range(2):
        await drive(rig, "vs_upsert", index_name=rows_index, rows=rows)
    await drive(rig, "vs_delete_rows", index_name=rows_index, primary_keys=["0"], confirm=True)
    await drive(rig, "vs_sync_index", index_name=synced)

    def check() -> None:
        endpoints = Counter(e.name for e in rig.direct.client.serving_endpoints.list())
        no_duplicates(rig, {serving: endpoints[serving]})
        applied_exactly_as_answered({serving: served}, {serving: endpoints[serving]})
        listed = rig.direct.client.vector_search_indexes.list_indexes(vs_endpoint)
        names = Counter(i.name for i in listed)
        counts = {name: names[name] for name in indexes}
        no_duplicates(rig, counts)
        applied_exactly_as_answered(indexes, counts)

    await off_loop(check)()


# ---------------------------------------------------------------- files in volumes


async def files_area(rig: Rig) -> None:
    import tempfile

    from databricks.sdk.errors import NotFound
    from databricks.sdk.service.catalog import VolumeType

    volume = f"files_{unique()}"
    await off_loop(rig.direct.client.volumes.create)(
        "main", SCHEMA.split(".")[1], volume, VolumeType.MANAGED
    )
    root = f"/Volumes/main/{SCHEMA.split('.')[1]}/{volume}"
    with tempfile.TemporaryDirectory() as folder:
        local = {f"{root}/part_{i}.csv": Path(folder) / f"part_{i}.csv" for i in range(4)}
        for i, file in enumerate(local.values()):
            file.write_text(f"id,value\n{i},{i * 10}\n" * (i + 1))
        # Without overwrite: a PUT the SDK repeats after it was applied must not fail.
        outcomes = {
            path: await drive(rig, "files_upload", local_path=str(file), path=path)
            for path, file in local.items()
        }
        deleted = {
            path: await drive(rig, "files_delete", path=path, confirm=True)
            for path in list(local)[:2]
        }

        def content(path: str) -> bytes | None:
            try:
                contents = rig.direct.client.files.download(path).contents
            except NotFound:
                return None
            return contents.read() if contents is not None else b""

        def check() -> None:
            for path, outcome in outcomes.items():
                if outcome.kind == "ok" and path not in deleted:
                    assert content(path) == local[path].read_bytes(), path
            for path, outcome in deleted.items():
                if outcome.kind == "ok":
                    assert content(path) is None, f"{path}: answered deleted, still there"

        await off_loop(check)()


# ---------------------------------------------------------------- secrets


async def secrets_area(rig: Rig) -> None:
    from databricks.sdk.errors import NotFound

    u = unique()
    scope, doomed = f"t-faults-secrets-{u}", f"t-faults-doomed-{u}"
    secrets = rig.direct.client.secrets

    def set_up() -> None:
        secrets.create_scope(doomed)
        secrets.put_secret(doomed, "k", string_value="gone soon")

    await off_loop(set_up)()
    # Every put may make the scope (the first that gets through does): a repeated create
    # finds it there.
    puts = {}
    for i in range(3):
        puts[f"k{i}"] = await drive(
            rig, "secrets_put", scope=scope, key=f"k{i}", value=f"v{i}", create_scope=True
        )
    rotated = await drive(
        rig, "secrets_put", scope=scope, key="k1", value="v1-rotated", overwrite=True,
        create_scope=True,
    )  # fmt: skip

    def doomed_key() -> None:  # whatever the faults did to its put, k2 is there to delete
        if not _has_scope(rig, scope):
            secrets.create_scope(scope)
        secrets.put_secret(scope, "k2", string_value="v2")

    await off_loop(doomed_key)()
    deleted = await drive(rig, "secrets_delete", scope=scope, key="k2", confirm=True)
    scope_deleted = await drive(rig, "secrets_delete", scope=doomed, confirm=True)

    def value(key: str) -> str | None:
        import base64

        try:
            return base64.b64decode(secrets.get_secret(scope, key).value or "").decode()
        except NotFound:
            return None

    def check() -> None:
        no_duplicates(rig, dict(Counter(s.name or "" for s in secrets.list_scopes())))
        if puts["k0"].kind == "ok":
            assert value("k0") == "v0"
        if rotated.kind == "ok":
            assert value("k1") == "v1-rotated"
        if deleted.kind == "ok":
            assert value("k2") is None
        if scope_deleted.kind == "ok":
            assert not _has_scope(rig, doomed)

    await off_loop(check)()


def _has_scope(rig: Rig, scope: str) -> bool:
    return scope in {s.name for s in rig.direct.client.secrets.list_scopes()}


AREAS = (
    sql_area,
    grants_and_warehouses_area,
    workspace_area,
    jobs_area,
    mlflow_area,
    pipelines_area,
    endpoints_area,
    files_area,
    secrets_area,
)
DRIVEN = {
    "sql_execute", "uc_update_grants", "sql_stop_warehouse", "sql_start_warehouse",
    "workspace_mkdirs", "workspace_write", "workspace_delete",
    "jobs_create", "jobs_update", "jobs_delete", "jobs_run_now", "jobs_submit",
    "jobs_repair_run", "jobs_cancel_run",
    "mlflow_create_experiment", "mlflow_log_run", "mlflow_evaluate", "registry_register_version",
    "registry_set_alias", "registry_set_tag", "registry_promote", "registry_delete_alias",
    "pipelines_create", "pipelines_update", "pipelines_start_update", "pipelines_stop",
    "pipelines_delete",
    "serving_create_endpoint", "serving_update_endpoint",
    "vs_create_endpoint", "vs_create_index", "vs_upsert", "vs_delete_rows", "vs_sync_index",
    "files_upload", "files_delete",
    "secrets_put", "secrets_delete",
}  # fmt: skip


async def test_a_create_answered_503_after_it_was_applied_is_not_sent_again(
    local_ws: LocalWorkspace, backend: Backend
) -> None:
    name = f"t-faults-once-{unique()}"
    spec = {"name": name, "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/x"}}]}
    plan = FaultPlan(rates={"error_after": 1.0}, statuses=(503,), paths=("/api/2.2/jobs/create",))
    with fault_proxy(local_ws.url, plan) as proxy:
        proxy.allow(1)
        async with mcp_session(local_backend(proxy.url, local_ws.token)) as client:
            await client.call_tool(
                "workspace_write", {"path": "/x", "content": "1", "overwrite": True}
            )
            result = await client.call_tool("jobs_create", {"spec": spec})
    text = text_of(result)
    assert text.startswith(
        f"OUTCOME_UNKNOWN: Creating job '{name}' may or may not have been applied"
    )
    assert f"Check with jobs_list name='{name}' before retrying." in text
    assert [j.settings.name for j in backend.client.jobs.list(name=name)] == [name]  # once
    assert proxy.counts["error_after"] == 1


async def test_an_insert_answered_503_after_it_ran_is_reported_unknown_and_never_run_twice(
    backend: Backend, local_ws: LocalWorkspace
) -> None:
    # The scenario, made certain: every statement POST is applied, then answered 503.
    table = f"{SCHEMA}.once_{unique()}"
    sql(backend.client, f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    sql(backend.client, f"CREATE TABLE {table} (id BIGINT)")
    plan = FaultPlan(
        rates={"error_after": 1.0}, statuses=(503,), paths=("/api/2.0/sql/statements",)
    )
    with fault_proxy(local_ws.url, plan) as proxy:
        async with mcp_session(local_backend(proxy.url, local_ws.token)) as client:
            result = await client.call_tool(
                "sql_execute", {"statement": f"INSERT INTO {table} VALUES (1)"}
            )
    text = text_of(result)
    assert text.startswith("OUTCOME_UNKNOWN: "), text
    assert "Check with sql_query" in text, text
    assert [d.fault for d in proxy.log if d.method == "POST"] == ["error_after"]  # sent once
    rows = sql(backend.client, f"SELECT count(*) FROM {table}")
    assert rows == [["1"]]  # applied exactly once


async def test_a_start_with_a_token_answered_503_after_it_was_applied_is_retried_into_one_run(
    local_ws: LocalWorkspace, backend: Backend
) -> None:
    upload(backend.client, f"{HOME}/once/quick.py", "print('hi')\n")
    task = {"task_key": "t", "spark_python_task": {"python_file": f"{HOME}/once/quick.py"}}
    job_id = backend.client.jobs.create(
        name=f"t-faults-token-{unique()}", tasks=[_task(task)]
    ).job_id
    plan = FaultPlan(rates={"error_after": 1.0}, statuses=(503,), paths=("/api/2.2/jobs/run-now",))
    with fault_proxy(local_ws.url, plan) as proxy:
        proxy.allow(1)
        async with mcp_session(local_backend(proxy.url, local_ws.token)) as client:
            result = await client.call_tool("jobs_run_now", {"job_id": job_id})
    assert not result.is_error, text_of(result)
    assert len(list(backend.client.jobs.list_runs(job_id=job_id))) == 1
    assert [d.fault for d in proxy.log if "run-now" in d.path] == ["error_after", "pass"]


def _task(spec: dict[str, Any]) -> Any:
    from databricks.sdk.service.jobs import Task

    return Task.from_dict(spec)


def test_every_writer_tool_is_driven_through_the_proxy_or_never_calls_the_workspace() -> None:
    writers = {name for name, spec in all_specs().items() if not spec.read_only}
    assert writers == DRIVEN | NOT_HTTP
    assert not DRIVEN & NOT_HTTP


def test_the_retry_inventory_decides_for_every_writer_tool() -> None:
    text = (REPO / "docs" / "configuration.md").read_text()
    section = text.split("## Retries and ambiguous writes", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    listed = [re.match(r"\| `([a-z_]+)`", row).group(1) for row in rows]  # type: ignore[union-attr]
    writers = {name for name, spec in all_specs().items() if not spec.read_only}
    assert sorted(listed) == sorted(writers)
    for row in rows:
        decision = row.rstrip(" |").rsplit("|", 1)[1]
        assert decision.strip(), row
