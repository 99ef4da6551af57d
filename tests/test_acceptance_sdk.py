"""The issue's acceptance path: the real databricks-sdk against `dbx-devkit local`.

`dbx-devkit local` runs as a real subprocess; the SDK only gets the host and token it prints.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from databricks.sdk.service import catalog, workspace
from databricks.sdk.service.sql import Disposition, Format, StatementState

STARTUP_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def local_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceClient]:
    """Spawn `dbx-devkit local`, read the exports it prints, and return an SDK client."""
    data_dir = tmp_path_factory.mktemp("acceptance-data")
    home = tmp_path_factory.mktemp("acceptance-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "DBX_"))}
    env["HOME"] = str(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "local", "--port", "0", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        exports = _read_exports(process)
        config = Config(
            host=exports["DATABRICKS_HOST"],
            token=exports["DATABRICKS_TOKEN"],
            auth_type="pat",
            retry_timeout_seconds=20,
        )
        yield WorkspaceClient(config=config)
    finally:
        process.terminate()
        process.wait(timeout=20)


def _read_exports(process: subprocess.Popen[str]) -> dict[str, str]:
    assert process.stdout is not None
    exports: dict[str, str] = {}
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while len(exports) < 2:
        assert time.monotonic() < deadline, "dbx-devkit local did not print its exports"
        line = process.stdout.readline()
        assert line, f"dbx-devkit local exited early with code {process.poll()}"
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").strip().partition("=")
            exports[name] = value
    return exports


def test_sdk_lists_the_samples_catalog(local_cli: WorkspaceClient) -> None:
    names = {c.name for c in local_cli.catalogs.list()}
    assert {"samples", "main"} <= names
    schemas = {s.name for s in local_cli.schemas.list(catalog_name="samples")}
    assert {"nyctaxi", "tpch"} <= schemas
    tables = {t.name for t in local_cli.tables.list(catalog_name="samples", schema_name="nyctaxi")}
    assert "trips" in tables


def test_sdk_counts_taxi_trips_inline(local_cli: WorkspaceClient) -> None:
    warehouse = next(iter(local_cli.warehouses.list()))
    response = local_cli.statement_execution.execute_statement(
        statement="SELECT count(*) AS n FROM samples.nyctaxi.trips",
        warehouse_id=warehouse.id or "",
        wait_timeout="30s",
        disposition=Disposition.INLINE,
        format=Format.JSON_ARRAY,
    )
    assert response.status is not None and response.status.state == StatementState.SUCCEEDED
    assert response.manifest is not None and response.manifest.schema is not None
    columns = response.manifest.schema.columns or []
    assert [c.name for c in columns] == ["n"]
    assert response.result is not None and response.result.data_array is not None
    assert int(response.result.data_array[0][0]) >= 1000


def test_sql_created_table_appears_in_unity_catalog(local_cli: WorkspaceClient) -> None:
    warehouse_id = next(iter(local_cli.warehouses.list())).id or ""
    for statement in (
        "CREATE SCHEMA IF NOT EXISTS main.acceptance",
        "CREATE TABLE main.acceptance.fraud_scores (txn_id BIGINT, score DOUBLE, label STRING)",
    ):
        response = local_cli.statement_execution.execute_statement(
            statement=statement, warehouse_id=warehouse_id, wait_timeout="30s"
        )
        assert response.status is not None
        assert response.status.state == StatementState.SUCCEEDED, response.status.error
    tables = list(local_cli.tables.list(catalog_name="main", schema_name="acceptance"))
    assert [t.name for t in tables] == ["fraud_scores"]
    columns = {c.name: c.type_name for c in tables[0].columns or []}
    assert columns == {
        "txn_id": catalog.ColumnTypeName.LONG,
        "score": catalog.ColumnTypeName.DOUBLE,
        "label": catalog.ColumnTypeName.STRING,
    }


def test_notebook_import_export_list_delete(local_cli: WorkspaceClient) -> None:
    user = local_cli.current_user.me().user_name
    folder = f"/Users/{user}/acceptance"
    path = f"{folder}/hello"
    local_cli.workspace.mkdirs(folder)
    source = "print('hello from the local workspace')\n"
    local_cli.workspace.import_(
        path=path,
        content=base64.b64encode(source.encode()).decode(),
        format=workspace.ImportFormat.SOURCE,
        language=workspace.Language.PYTHON,
    )
    listed = {o.path: o for o in local_cli.workspace.list(folder)}
    assert listed[path].object_type == workspace.ObjectType.NOTEBOOK
    assert listed[path].language == workspace.Language.PYTHON
    exported = local_cli.workspace.export(path, format=workspace.ExportFormat.SOURCE)
    assert "hello from the local workspace" in base64.b64decode(exported.content or "").decode()
    local_cli.workspace.delete(path)
    assert path not in {o.path for o in local_cli.workspace.list(folder)}


def test_grants_read_and_update(local_cli: WorkspaceClient) -> None:
    local_cli.schemas.create(name="acceptance_grants", catalog_name="main")
    full_name = "main.acceptance_grants"
    local_cli.grants.update(
        securable_type="schema",
        full_name=full_name,
        changes=[
            catalog.PermissionsChange(
                principal="data-scientists", add=[catalog.Privilege.USE_SCHEMA]
            )
        ],
    )
    granted = local_cli.grants.get(securable_type="schema", full_name=full_name)
    assignments = {a.principal: a.privileges for a in granted.privilege_assignments or []}
    assert assignments["data-scientists"] == [catalog.Privilege.USE_SCHEMA]


def test_data_survives_a_restart(tmp_path: Path) -> None:
    """A second process on the same data directory sees what the first wrote."""
    data_dir = tmp_path / "data"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from local_workspace.config import LocalConfig\n"
        "from local_workspace.runner import LocalWorkspace\n"
        "from databricks.sdk import WorkspaceClient\n"
        "with LocalWorkspace(LocalConfig(data_dir=Path(sys.argv[1]))) as lw:\n"
        "    w = WorkspaceClient(host=lw.url, token=lw.token)\n"
        "    if sys.argv[2] == 'write':\n"
        "        w.schemas.create(name='kept', catalog_name='main')\n"
        "    else:\n"
        "        print(sorted(s.name for s in w.schemas.list(catalog_name='main')))\n"
    )
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code, str(data_dir), "write"], check=True, env=env)
    out = subprocess.run(
        [sys.executable, "-c", code, str(data_dir), "read"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    ).stdout
    assert "'kept'" in out
