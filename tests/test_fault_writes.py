"""Every writer tool through MCP behind a fault proxy (30% of API requests faulted, half of
them after the request was forwarded): no write is done twice, and every call either
succeeds, answers OUTCOME_UNKNOWN (and something really was ambiguous), or answers a clear
transient error (and then a non-idempotent write really was not applied).

The real state is checked through a direct backend (no proxy). Run with ``-s`` to see the
figures: calls per writer, faults injected, OUTCOME_UNKNOWN answers.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from mcp import Client

from local_workspace.runner import LocalWorkspace
from server.registry import all_specs
from tests.conftest import mcp_session, ok, text_of, wait_for
from tests.fault_proxy import Decision, FaultPlan, FaultProxy, fault_proxy
from tests.test_pipelines_local_api import WAREHOUSE, sql, upload
from tools_core.backend import Backend, local_backend
from tools_core.mlflow_client import mlflow_client

pytestmark = pytest.mark.anyio

# 30% of API requests faulted, half of them after forwarding (the proxy).
PLAN = FaultPlan(
    seed=11,
    rates={"error_before": 0.10, "drop_before": 0.05, "error_after": 0.10, "drop_after": 0.05},
)
FAULTED = {"error_before", "drop_before", "error_after", "drop_after"}
TRANSIENT = ("TEMPORARILY_UNAVAILABLE:", "TOO_MANY_REQUESTS:")
HOME = "/Users/dev@dbx-devkit.local/t_fault_writes"
SCHEMA = "main.t_fault_writes"
# Writers that never reach the workspace's HTTP API: the databricks CLI (its own retries,
# not installed here) and local files. docs/configuration.md says so in the inventory.
NOT_HTTP = {"bundle_deploy", "bundle_run", "project_init"}


@dataclass
class Outcome:
    """One tool call through the proxy."""

    tool: str
    kind: str  # ok, unknown, transient
    text: str
    content: dict[str, Any]
    decisions: list[Decision]
    seconds: float


@dataclass
class Figures:
    """What the module did, printed at its end."""

    calls: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    faults: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    slowest_s: float = 0.0


@dataclass
class Rig:
    proxy: FaultProxy
    faulty: Backend  # through the proxy
    direct: Backend  # straight to the workspace
    figures: Figures


@pytest.fixture(scope="module")
def figures() -> Iterator[Figures]:
    found = Figures()
    yield found
    print("\n== fault writes: calls per writer (ok/unknown/transient)")
    for tool, kinds in sorted(found.calls.items()):
        print(f"  {tool}: {sum(kinds.values())} ({dict(kinds)})")
    total = Counter[str]()
    for kinds in found.calls.values():
        total.update(kinds)
    print(f"  calls {sum(total.values())} {dict(total)}; faults injected {dict(found.faults)}")
    print(f"  duplicated writes {found.duplicates}; slowest call {found.slowest_s:.1f} s")


@pytest.fixture(scope="module")
def proxy(local_ws: LocalWorkspace) -> Iterator[FaultProxy]:
    with fault_proxy(local_ws.url, PLAN) as running:
        running.arm(False)
        yield running


@pytest.fixture
def rig(proxy: FaultProxy, local_ws: LocalWorkspace, backend: Backend, figures: Figures) -> Rig:
    return Rig(proxy, local_backend(proxy.url, local_ws.token), backend, figures)


@asynccontextmanager
async def faults_on(rig: Rig) -> AsyncIterator[Client]:
    """An MCP client over the proxied backend, with the faults armed while it is open."""
    async with mcp_session(rig.faulty, output_schemas=True) as client:
        rig.proxy.arm(True)
        try:
            yield client
        finally:
            rig.proxy.arm(False)


async def drive(rig: Rig, client: Client, tool: str, **arguments: Any) -> Outcome:
    """Call ``tool`` through the proxy; classify and check the answer."""
    mark = len(rig.proxy.log)
    start = time.monotonic()
    result = await client.call_tool(tool, arguments)
    seconds = time.monotonic() - start
    decisions = rig.proxy.since(mark)
    text = text_of(result)
    if not result.is_error:
        kind = "ok"
    elif text.startswith("OUTCOME_UNKNOWN:"):
        kind = "unknown"
        # Honest: a request that may have changed something was faulted during this call.
        assert any(
            d.fault in FAULTED and (d.method != "GET" or "/statements/" in d.path)
            for d in decisions
        ), f"{tool}: OUTCOME_UNKNOWN without an ambiguous failure: {text}"
        assert "Check with " in text and "before retrying" in text, text
    elif text.startswith(TRANSIENT):
        kind = "transient"
        assert any(d.fault in FAULTED for d in decisions), f"{tool}: transient without fault"
    else:
        raise AssertionError(f"{tool} answered neither success nor a fault error: {text}")
    figures = rig.figures
    figures.calls[tool][kind] += 1
    figures.faults.update(d.fault for d in decisions if d.fault != "pass")
    figures.slowest_s = max(figures.slowest_s, seconds)
    assert seconds < 30, f"{tool} took {seconds:.1f} s"
    content = result.structured_content or {}
    return Outcome(tool, kind, text, content, decisions, seconds)


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


# ---------------------------------------------------------------- SQL, UC, warehouses


@pytest.fixture(scope="module")
def scratch_schema(backend: Backend) -> str:
    sql(backend.client, f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    return SCHEMA


async def test_inserts_through_faults_leave_no_duplicated_row(
    rig: Rig, scratch_schema: str
) -> None:
    table = f"{scratch_schema}.events"
    sql(rig.direct.client, f"CREATE OR REPLACE TABLE {table} (id BIGINT, note STRING)")
    outcomes: dict[str, Outcome] = {}
    async with faults_on(rig) as client:
        for i in range(10):
            statement = f"INSERT INTO {table} VALUES ({i}, 'call {i}')"
            outcomes[str(i)] = await drive(rig, client, "sql_execute", statement=statement)
    rows = sql(rig.direct.client, f"SELECT id, count(*) FROM {table} GROUP BY id")
    counts = {str(row[0]): int(row[1]) for row in rows}
    no_duplicates(rig, counts)
    applied_exactly_as_answered(outcomes, counts)
    # The scenario of the issue did happen: INSERTs were faulted after being forwarded.
    inserts = [
        d for o in outcomes.values() for d in o.decisions if d.path.startswith("/api/2.0/sql/s")
    ]
    assert any(d.method == "POST" and d.fault in ("error_after", "drop_after") for d in inserts)


async def test_grants_and_warehouse_switches_through_faults_end_as_asked(
    rig: Rig, scratch_schema: str
) -> None:
    table = f"{scratch_schema}.granted"
    sql(rig.direct.client, f"CREATE OR REPLACE TABLE {table} (id BIGINT)")
    warehouse = rig.direct.client.warehouses.create(name=f"t-faults-{unique()}").response.id
    try:
        async with faults_on(rig) as client:
            for privilege in ("SELECT", "MODIFY"):
                await drive(
                    rig,
                    client,
                    "uc_update_grants",
                    securable_type="table",
                    full_name=table,
                    principal="analysts",
                    add=[privilege],
                )
            stopped = await drive(
                rig, client, "sql_stop_warehouse", warehouse_id=warehouse, confirm=True
            )
            started = await drive(rig, client, "sql_start_warehouse", warehouse_id=warehouse)
        grants = rig.direct.client.grants.get("table", table).privilege_assignments or []
        privileges = [p.value for g in grants if g.principal == "analysts" for p in g.privileges]
        no_duplicates(rig, Counter(privileges))
        state = rig.direct.client.warehouses.get(warehouse).state.value
        if started.kind == "ok":
            assert state == "RUNNING"
        elif stopped.kind == "ok" and started.kind == "transient":
            assert state == "STOPPED"
    finally:
        rig.direct.client.warehouses.delete(warehouse)


# ---------------------------------------------------------------- workspace


async def test_workspace_writes_through_faults_end_as_answered(rig: Rig) -> None:
    from databricks.sdk.errors import NotFound

    folder = f"{HOME}/ws_{unique()}"
    rig.direct.client.workspace.mkdirs(folder)
    doomed = [f"{folder}/doomed_{i}.py" for i in range(2)]
    for path in doomed:
        upload(rig.direct.client, path, "print('bye')\n")
    outcomes: dict[str, Outcome] = {}
    async with faults_on(rig) as client:
        await drive(rig, client, "workspace_mkdirs", path=f"{folder}/made/deeper")
        for i in range(3):
            path = f"{folder}/new_{i}.py"
            outcomes[path] = await drive(
                rig, client, "workspace_write", path=path, content=f"x = {i}\n", kind="file"
            )
        await drive(
            rig,
            client,
            "workspace_write",
            path=f"{folder}/new_0.py",
            content="y\n",
            kind="file",
            overwrite=True,
        )
        deleted = [
            await drive(rig, client, "workspace_delete", path=path, confirm=True) for path in doomed
        ]

    def exists(path: str) -> int:
        try:
            rig.direct.client.workspace.get_status(path)
        except NotFound:
            return 0
        return 1

    applied_exactly_as_answered(outcomes, {path: exists(path) for path in outcomes})
    for path, outcome in zip(doomed, deleted, strict=True):
        if outcome.kind == "ok":
            assert not exists(path)


# ---------------------------------------------------------------- jobs


async def test_jobs_through_faults_are_created_and_started_at_most_once(rig: Rig) -> None:
    u = unique()
    ok_path, bad_path = f"{HOME}/jobs_{u}/ok.py", f"{HOME}/jobs_{u}/bad.py"
    upload(rig.direct.client, ok_path, "print('ok')\n")
    upload(rig.direct.client, bad_path, "raise SystemExit('failing on purpose')\n")
    jobs = rig.direct.client.jobs

    def spec(name: str, path: str = ok_path) -> dict[str, Any]:
        return {
            "name": name,
            "tasks": [{"task_key": "t", "spark_python_task": {"python_file": path}}],
        }

    def job_id(name: str) -> int:
        return int(jobs.create(**_settings(spec(name))).job_id)

    target, doomed = job_id(f"t-faults-target-{u}"), job_id(f"t-faults-doomed-{u}")
    failing = job_id(f"t-faults-failing-{u}")
    failed_run = jobs.run_now(failing).run_id
    wait_for(lambda: _done(jobs.get_run(failed_run)), 60)
    created: dict[str, Outcome] = {}
    async with faults_on(rig) as client:
        for i in range(3):
            name = f"t-faults-create-{u}-{i}"
            created[name] = await drive(rig, client, "jobs_create", spec=spec(name))
        await drive(
            rig, client, "jobs_update", job_id=target, new_settings={"max_concurrent_runs": 3}
        )
        deleted = await drive(rig, client, "jobs_delete", job_id=doomed, confirm=True)
        started = {
            str(i): await drive(
                rig, client, "jobs_run_now", job_id=target, job_parameters={"call": str(i)}
            )
            for i in range(2)
        }
        submitted = {
            f"t-faults-submit-{u}-{i}": await drive(
                rig, client, "jobs_submit", path=ok_path, run_name=f"t-faults-submit-{u}-{i}"
            )
            for i in range(2)
        }
        repaired = await drive(rig, client, "jobs_repair_run", run_id=failed_run)
        first = next((o for o in started.values() if o.kind == "ok"), None)
        if first is not None:
            await drive(rig, client, "jobs_cancel_run", run_id=first.content["run_id"])

    names = Counter(j.settings.name for j in jobs.list(name=None) if j.settings)
    counts = {name: names[name] for name in created}
    no_duplicates(rig, counts)
    applied_exactly_as_answered(created, counts)
    if deleted.kind == "ok":
        assert not any(j.job_id == doomed for j in jobs.list())
    runs = list(jobs.list_runs(job_id=target))
    by_call = Counter(
        next((p.value for p in r.job_parameters or [] if p.name == "call"), None) for r in runs
    )
    no_duplicates(rig, {str(k): n for k, n in by_call.items()})
    applied_exactly_as_answered(started, {str(k): n for k, n in by_call.items()})
    submits = Counter(r.run_name for r in jobs.list_runs(run_type=_submit_run()))
    no_duplicates(rig, {name: submits[name] for name in submitted})
    applied_exactly_as_answered(submitted, {name: submits[name] for name in submitted})
    repairs = wait_for(lambda: jobs.get_run(failed_run, include_history=True), 10)
    made = [
        r for r in repairs.repair_history or [] if str(getattr(r.type, "value", "")) == "REPAIR"
    ]
    assert len(made) <= 1
    if repaired.kind == "ok":
        assert len(made) == 1


def _done(run: Any) -> bool:
    state = run.state.life_cycle_state if run.state else None
    return getattr(state, "value", "") in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED")


def _settings(spec: dict[str, Any]) -> dict[str, Any]:
    from databricks.sdk.service.jobs import JobSettings

    settings = JobSettings.from_dict(spec)
    return {"name": settings.name, "tasks": settings.tasks}


def _submit_run() -> Any:
    from databricks.sdk.service.jobs import RunType

    return RunType.SUBMIT_RUN


# ---------------------------------------------------------------- MLflow and the registry


async def test_runs_experiments_and_versions_through_faults_are_made_once(rig: Rig) -> None:
    u = unique()
    client_direct = mlflow_client(rig.direct)
    experiment = f"/Shared/t_faults_{u}"
    model = f"main.t_fault_writes.model_{u}"
    source_exp = client_direct.create_experiment(f"/Shared/t_faults_src_{u}")
    source_run = client_direct.create_run(source_exp)
    client_direct.log_text(source_run.info.run_id, "flavors: {}\n", "model/MLmodel")
    client_direct.log_metric(source_run.info.run_id, "f1", 0.9)
    client_direct.set_terminated(source_run.info.run_id)
    model_uri = f"runs:/{source_run.info.run_id}/model"

    logged: dict[str, Outcome] = {}
    registered: dict[str, Outcome] = {}
    async with faults_on(rig) as client:
        for i in range(2):
            await drive(rig, client, "mlflow_create_experiment", name=f"{experiment}_{i}")
        for i in range(5):
            name = f"call-{i}"
            logged[name] = await drive(
                rig,
                client,
                "mlflow_log_run",
                experiment=experiment,
                run_name=name,
                params={"i": i},
                metrics={"m": float(i)},
            )
        for i in range(3):
            description = f"call {i}"
            registered[description] = await drive(
                rig,
                client,
                "registry_register_version",
                name=model,
                model_uri=model_uri,
                description=description,
            )
        versions = sorted(
            int(v.version) for v in client_direct.search_model_versions(f"name = '{model}'")
        )
        if versions:
            await drive(
                rig,
                client,
                "registry_set_alias",
                name=model,
                alias="challenger",
                version=versions[-1],
            )
            await drive(rig, client, "registry_set_tag", name=model, key="team", value="fraud")
            await drive(
                rig,
                client,
                "registry_promote",
                name=model,
                metric="f1",
                confirm=True,
            )
            await drive(
                rig, client, "registry_delete_alias", name=model, alias="challenger", confirm=True
            )

    for i in range(2):
        assert (
            len(
                [
                    e
                    for e in client_direct.search_experiments(max_results=1000)
                    if e.name == f"{experiment}_{i}"
                ]
            )
            <= 1
        )
    found = client_direct.get_experiment_by_name(experiment)
    runs = client_direct.search_runs([found.experiment_id], max_results=100) if found else []
    finished = Counter(r.info.run_name for r in runs if r.info.status == "FINISHED")
    active = Counter(r.info.run_name for r in runs)
    no_duplicates(rig, dict(active))
    applied_exactly_as_answered(logged, {name: finished[name] for name in logged})
    made = client_direct.search_model_versions(f"name = '{model}'")
    by_description = Counter(v.description for v in made)
    no_duplicates(rig, dict(by_description))
    applied_exactly_as_answered(registered, {d: by_description[d] for d in registered})


# ---------------------------------------------------------------- pipelines


async def test_pipelines_through_faults_are_created_and_started_at_most_once(
    rig: Rig, scratch_schema: str
) -> None:
    u = unique()
    source = f"{HOME}/pipe_{u}/one.sql"
    upload(rig.direct.client, source, "CREATE OR REFRESH MATERIALIZED VIEW one AS SELECT 1 AS a;\n")
    schema = scratch_schema.split(".")[1]
    pipelines = rig.direct.client.pipelines

    def pipeline(name: str) -> str:
        from databricks.sdk.service.pipelines import FileLibrary, PipelineLibrary

        return pipelines.create(
            name=name,
            catalog="main",
            schema=schema,
            development=True,
            libraries=[PipelineLibrary(file=FileLibrary(path=source))],
        ).pipeline_id

    target, doomed = pipeline(f"t-faults-pipe-{u}"), pipeline(f"t-faults-doomed-{u}")
    created: dict[str, Outcome] = {}
    async with faults_on(rig) as client:
        for i in range(2):
            name = f"t-faults-made-{u}-{i}"
            created[name] = await drive(
                rig,
                client,
                "pipelines_create",
                name=name,
                catalog="main",
                schema=schema,
                libraries=[source],
            )
        await drive(rig, client, "pipelines_update", pipeline_id=target, configuration={"k": "v"})
        started = await drive(rig, client, "pipelines_start_update", pipeline_id=target)
        await drive(rig, client, "pipelines_stop", pipeline_id=target)
        deleted = await drive(rig, client, "pipelines_delete", pipeline_id=doomed, confirm=True)

    names = Counter(p.name for p in pipelines.list_pipelines(max_results=100))
    counts = {name: names[name] for name in created}
    no_duplicates(rig, counts)
    applied_exactly_as_answered(created, counts)
    updates = pipelines.list_updates(target).updates or []
    assert len(updates) <= 1
    if started.kind == "ok":
        assert len(updates) == 1
    if deleted.kind == "ok":
        assert doomed not in {p.pipeline_id for p in pipelines.list_pipelines(max_results=100)}


# ---------------------------------------------------------------- serving and vector search


async def test_endpoints_and_indexes_through_faults_are_made_once(rig: Rig) -> None:
    u = unique()
    client_direct = mlflow_client(rig.direct)
    model = f"main.t_fault_writes.served_{u}"
    client_direct.create_registered_model(model)
    exp = client_direct.create_experiment(f"/Shared/t_faults_serve_{u}")
    run = client_direct.create_run(exp)
    for _ in range(2):
        client_direct.create_model_version(
            model, f"{run.info.artifact_uri}/model", run_id=run.info.run_id
        )
    vs_endpoint = f"t-faults-vs-{u}"
    rig.direct.client.vector_search_endpoints.create_endpoint(vs_endpoint, _standard())
    direct_index = f"main.t_fault_writes.rows_{u}"
    _direct_index(rig.direct, direct_index, vs_endpoint)
    synced = f"main.t_fault_writes.synced_{u}"
    table = f"main.t_fault_writes.docs_{u}"
    sql(rig.direct.client, f"CREATE TABLE {table} (id BIGINT, text STRING)")
    sql(rig.direct.client, f"INSERT INTO {table} VALUES (1, 'alpha'), (2, 'beta')")
    _synced_index(rig.direct, synced, vs_endpoint, table)

    serving_name = f"t-faults-serve-{u}"
    indexes: dict[str, Outcome] = {}
    async with faults_on(rig) as client:
        served = await drive(
            rig,
            client,
            "serving_create_endpoint",
            name=serving_name,
            model=f"{model}/1",
            timeout_s=0,
        )
        if served.kind == "ok":
            await drive(
                rig,
                client,
                "serving_update_endpoint",
                name=serving_name,
                model=f"{model}/2",
                timeout_s=0,
                confirm=True,
            )
        await drive(rig, client, "vs_create_endpoint", name=f"{vs_endpoint}-new")
        for i in range(2):
            name = f"main.t_fault_writes.made_{u}_{i}"
            indexes[name] = await drive(
                rig,
                client,
                "vs_create_index",
                name=name,
                endpoint_name=vs_endpoint,
                primary_key="id",
                schema={"id": "long", "vec": "array<float>"},
                embedding_vector_column="vec",
                embedding_dimension=2,
            )
        rows = [{"id": i, "vec": [1.0, float(i)]} for i in range(4)]
        await drive(rig, client, "vs_upsert", index_name=direct_index, rows=rows)
        await drive(rig, client, "vs_upsert", index_name=direct_index, rows=rows)
        await drive(
            rig, client, "vs_delete_rows", index_name=direct_index, primary_keys=["0"], confirm=True
        )
        await drive(rig, client, "vs_sync_index", index_name=synced)

    endpoints = Counter(e.name for e in rig.direct.client.serving_endpoints.list())
    no_duplicates(rig, {serving_name: endpoints[serving_name]})
    if served.kind == "ok":
        assert endpoints[serving_name] == 1
    listed = rig.direct.client.vector_search_indexes.list_indexes(vs_endpoint)
    names = Counter(i.name for i in listed)
    counts = {name: names[name] for name in indexes}
    no_duplicates(rig, counts)
    applied_exactly_as_answered(indexes, counts)


def _standard() -> Any:
    from databricks.sdk.service.vectorsearch import EndpointType

    return EndpointType.STANDARD


def _direct_index(backend: Backend, name: str, endpoint: str) -> None:
    from tools_core.vector_search import create_index

    create_index(
        backend,
        name,
        endpoint,
        "id",
        schema={"id": "long", "vec": "array<float>"},
        embedding_vector_column="vec",
        embedding_dimension=2,
    )


def _synced_index(backend: Backend, name: str, endpoint: str, table: str) -> None:
    from tools_core.vector_search import create_index

    create_index(
        backend,
        name,
        endpoint,
        "id",
        source_table=table,
        embedding_source_column="text",
        embedding_model_endpoint="local-minilm-l6-v2",
    )


# ---------------------------------------------------------------- coverage


DRIVEN = {
    "sql_execute", "uc_update_grants", "sql_stop_warehouse", "sql_start_warehouse",
    "workspace_mkdirs", "workspace_write", "workspace_delete",
    "jobs_create", "jobs_update", "jobs_delete", "jobs_run_now", "jobs_submit",
    "jobs_repair_run", "jobs_cancel_run",
    "mlflow_create_experiment", "mlflow_log_run", "registry_register_version",
    "registry_set_alias", "registry_set_tag", "registry_promote", "registry_delete_alias",
    "pipelines_create", "pipelines_update", "pipelines_start_update", "pipelines_stop",
    "pipelines_delete",
    "serving_create_endpoint", "serving_update_endpoint",
    "vs_create_endpoint", "vs_create_index", "vs_upsert", "vs_delete_rows", "vs_sync_index",
}  # fmt: skip


def test_every_writer_tool_is_driven_through_the_proxy_or_never_calls_the_workspace() -> None:
    writers = {name for name, spec in all_specs().items() if not spec.read_only}
    assert writers == DRIVEN | NOT_HTTP
    assert not DRIVEN & NOT_HTTP
