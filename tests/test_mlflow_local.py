"""The real MLflow server in the local workspace, through the real MLflow client: tracking,
artifacts, the registry with three-level names, aliases and tags, the UI, auth, and a start
that never holds up the other APIs."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_workspace.config import LocalConfig
from local_workspace.runner import LocalWorkspace
from tests.conftest import (
    import_notebook,
    mlflow_client_of,
    mlflow_script,
    run_notebook_job,
    subprocess_env,
    workspace_process,
)

REPO = Path(__file__).resolve().parents[1]
MODEL = "main.t_mlf.fraud_detector"


@pytest.fixture
def client(local_ws: LocalWorkspace) -> Any:
    """The real MlflowClient on the local workspace (tracking and registry URI = its URL),
    with its own token: the test process's MLflow settings stay untouched."""
    return mlflow_client_of(local_ws)


def http(
    url: str, headers: dict[str, str] | None = None, method: str = "GET", data: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request, redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(request, timeout=90) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_experiments_are_created_and_searched(client: Any) -> None:
    name = unique("/Users/dev@dbx-devkit.local/t_mlf_exp")
    experiment_id = client.create_experiment(name, tags={"team": "fraud"})
    found = client.search_experiments(filter_string=f"name = '{name}'", max_results=10)
    assert [e.experiment_id for e in found] == [experiment_id]
    assert client.get_experiment_by_name(name).tags["team"] == "fraud"


# A user's script uploads a file to a run and downloads it back (MLflow's artifact client
# reads its token from the environment: a process of its own).
ARTIFACT_ROUND_TRIP = """
import json, sys
from pathlib import Path
from mlflow import MlflowClient

client, run_id = MlflowClient(), sys.argv[1]
Path("report.txt").write_text("auc went up")
client.log_artifact(run_id, "report.txt", artifact_path="reports")
local = client.download_artifacts(run_id, "reports/report.txt", ".")
print(json.dumps({"downloaded": Path(local).read_text()}))
"""


def test_runs_keep_params_metrics_tags_and_artifact_files(
    client: Any, local_ws: LocalWorkspace
) -> None:
    experiment_id = client.create_experiment(unique("/Shared/t_mlf_runs"))
    run = client.create_run(experiment_id, run_name="baseline", tags={"stage": "dev"})
    run_id = run.info.run_id
    client.log_param(run_id, "n_estimators", "100")
    for step, value in enumerate([0.8, 0.85, 0.9]):
        client.log_metric(run_id, "auc", value, step=step)
    script = mlflow_script(local_ws, ARTIFACT_ROUND_TRIP, run_id)
    client.set_terminated(run_id)

    got = client.get_run(run_id)
    assert got.data.params == {"n_estimators": "100"}
    assert got.data.metrics["auc"] == 0.9
    assert got.data.tags["stage"] == "dev"
    assert [m.value for m in client.get_metric_history(run_id, "auc")] == [0.8, 0.85, 0.9]
    assert [f.path for f in client.list_artifacts(run_id, "reports")] == ["reports/report.txt"]
    # The artifact is a real file in the workspace's local artifact store.
    artifacts = local_ws.config.data_dir / "mlflow" / "artifacts"
    stored = [p for p in artifacts.rglob("report.txt") if run_id in p.parts]
    assert [p.read_text() for p in stored] == ["auc went up"]
    assert script["downloaded"] == "auc went up"


# Train, register as the next version of a model, make it champion and load it by alias:
# a user's script (argv: experiment id, model name).
REGISTER_AND_LOAD = """
import json, sys
import mlflow
import numpy as np
from sklearn.linear_model import LogisticRegression

experiment_id, name = sys.argv[1], sys.argv[2]
features = np.array([[0.0, 1.0], [1.0, 0.0], [0.9, 0.1], [0.1, 0.9]])
model = LogisticRegression().fit(features, np.array([0, 1, 1, 0]))
with mlflow.start_run(experiment_id=experiment_id) as run:
    # pip_requirements given: inferring them spawns a process (seconds).
    mlflow.sklearn.log_model(
        model, name="model", registered_model_name=name, pip_requirements=["scikit-learn"]
    )
client = mlflow.MlflowClient()
version = client.search_model_versions(f"run_id = '{run.info.run_id}'", max_results=5)[0]
client.set_registered_model_alias(name, "champion", version.version)
loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
print(json.dumps({
    "run_id": run.info.run_id,
    "version": version.version,
    "predictions": [int(p) for p in loaded.predict(features)],
}))
"""


def test_a_three_level_model_has_versions_aliases_and_tags_and_loads_by_alias(
    client: Any, local_ws: LocalWorkspace
) -> None:
    experiment_id = client.create_experiment(unique("/Shared/t_mlf_registry"))
    script = mlflow_script(local_ws, REGISTER_AND_LOAD, experiment_id, MODEL)
    assert script["predictions"] == [0, 1, 1, 0]  # loaded by alias, in the user's process
    (version,) = client.search_model_versions(f"run_id = '{script['run_id']}'", max_results=5)
    assert version.name == MODEL and version.version == script["version"]

    client.set_registered_model_tag(MODEL, "owner", "fraud-team")
    client.set_model_version_tag(MODEL, version.version, "validated", "true")
    assert client.get_model_version_by_alias(MODEL, "champion").version == version.version
    registered = client.get_registered_model(MODEL)
    assert registered.tags["owner"] == "fraud-team"
    assert registered.aliases["champion"] == version.version
    assert client.get_model_version(MODEL, version.version).tags == {"validated": "true"}

    client.delete_registered_model_alias(MODEL, "champion")
    client.delete_registered_model_tag(MODEL, "owner")
    registered = client.get_registered_model(MODEL)
    assert "champion" not in registered.aliases
    assert "owner" not in registered.tags


def test_a_request_without_the_token_is_unauthenticated(local_ws: LocalWorkspace) -> None:
    status, _, body = http(f"{local_ws.url}/api/2.0/mlflow/experiments/search?max_results=5")
    assert status == 401
    assert json.loads(body)["error_code"] == "UNAUTHENTICATED"


def test_the_ui_answers_html_after_the_cookie_login(local_ws: LocalWorkspace) -> None:
    # MLflow prints "View run at <tracking uri>/#/experiments/...": the root leads to the UI.
    status, headers, _ = http(f"{local_ws.url}/")
    assert (status, headers["location"]) == (307, "/mlflow/")
    assert http(f"{local_ws.url}/mlflow/")[0] == 401
    assert http(f"{local_ws.url}/mlflow/login?token=wrong")[0] == 401

    status, headers, _ = http(f"{local_ws.url}/mlflow/login?token={local_ws.token}")
    assert status == 303
    assert headers["location"] == "/mlflow/"
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    pair = cookie.split(";", 1)[0]

    status, headers, body = http(f"{local_ws.url}/mlflow/", {"Cookie": pair})
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert b"<title>MLflow</title>" in body
    # The page's relative calls reach MLflow under /mlflow/ with the same cookie ...
    status, _, body = http(
        f"{local_ws.url}/mlflow/ajax-api/2.0/mlflow/experiments/search?max_results=5",
        {"Cookie": pair},
    )
    assert status == 200
    assert "experiments" in json.loads(body)
    # ... but the cookie opens nothing outside the UI.
    assert http(f"{local_ws.url}/api/2.0/preview/scim/v2/Me", {"Cookie": pair})[0] == 401


def test_two_workspaces_each_serve_their_own_mlflow_store(
    client: Any, tmp_path: Path, local_ws: LocalWorkspace
) -> None:
    # Each workspace is its own process with its own MLflow: nothing is shared.
    here = unique("/Shared/t_mlf_here")
    client.create_experiment(here)
    with LocalWorkspace(LocalConfig(data_dir=tmp_path / "other", seed=False)) as other:
        # The very first requests arrive together while MLflow starts: every one is answered
        # (the UC registry path used to import MLflow beside the starting server, and Python's
        # import lock then failed the start for the process's whole life).
        answered = first_requests_together(other)
        assert all(status < 500 for status in answered), answered
        other_client = mlflow_client_of(other)
        there = unique("/Shared/t_mlf_there")
        other_client.create_experiment(there)
        assert named(other_client, there) == [there] and named(other_client, here) == []
        assert named(client, here) == [here] and named(client, there) == []
        # Each store is a file in its own workspace's data directory.
        assert (local_ws.config.data_dir / "mlflow" / "mlflow.db").is_file()
        assert (other.config.data_dir / "mlflow" / "mlflow.db").is_file()
    assert named(client, here) == [here]  # still served after the other stopped


def first_requests_together(workspace: LocalWorkspace) -> list[int]:
    """The statuses of MLflow and UC registry calls sent at once to ``workspace`` (the
    registry creates answer 404 in a workspace without the schema)."""
    import concurrent.futures

    auth = {"Authorization": f"Bearer {workspace.token}", "Content-Type": "application/json"}
    sent = [
        request
        for n in range(3)
        for request in (
            ("/api/2.0/mlflow/experiments/create", {"name": unique("/Shared/t_mlf_cold")}),
            ("/api/2.0/mlflow/unity-catalog/registered-models/create", {"name": f"main.d.m{n}"}),
            ("/api/2.0/mlflow/experiments/search", {"max_results": 1}),
        )
    ]

    def post(path: str, body: dict[str, Any]) -> int:
        return http(f"{workspace.url}{path}", auth, "POST", json.dumps(body).encode())[0]

    with concurrent.futures.ThreadPoolExecutor(len(sent)) as pool:
        return list(pool.map(lambda item: post(*item), sent))


def named(client: Any, name: str) -> list[str]:
    """The names of the experiments called ``name`` that ``client``'s workspace has."""
    found = client.search_experiments(filter_string=f"name = '{name}'", max_results=5)
    return [e.name for e in found]


def test_other_apis_answer_at_once_while_mlflow_is_still_starting(tmp_path: Path) -> None:
    with LocalWorkspace(LocalConfig(data_dir=tmp_path / "data", seed=False)) as workspace:
        auth = {"Authorization": f"Bearer {workspace.token}"}
        started = time.perf_counter()
        status, _, _ = http(f"{workspace.url}/api/2.0/preview/scim/v2/Me", auth)
        elapsed = time.perf_counter() - started
        assert status == 200
        health = json.loads(http(f"{workspace.url}/health")[2])
    assert health["mlflow"] in ("idle", "starting")  # MLflow was not ready yet...
    assert elapsed < 1.0  # ...and the workspace answered anyway


@pytest.fixture
def job_notebook(ws: Any) -> Iterator[str]:

    path = f"/Shared/t_mlf_job/{uuid.uuid4().hex[:8]}/train"
    source = (
        "# Databricks notebook source\n"
        "import mlflow\n"
        "mlflow.set_experiment(dbutils.widgets.get('experiment'))\n"
        "with mlflow.start_run(run_name='from-job'):\n"
        "    mlflow.log_metric('auc', 0.91)\n"
    )
    import_notebook(ws, path, source)
    yield path


def test_a_notebook_run_as_a_job_logs_to_the_local_mlflow(
    ws: Any, client: Any, job_notebook: str
) -> None:
    experiment = unique("/Shared/t_mlf_job_exp")
    run_notebook_job(ws, job_notebook, {"experiment": experiment})

    found = client.search_runs(
        [client.get_experiment_by_name(experiment).experiment_id], max_results=5
    )
    assert [(r.info.run_name, r.data.metrics["auc"]) for r in found] == [("from-job", 0.91)]


# The workspace's process as it runs with mlflow-skinny: no Flask, so no MLflow server.
SKINNY = (
    "import sys; sys.modules['flask'] = None; "
    "from local_workspace.__main__ import main; sys.exit(main())"
)


def test_without_the_full_mlflow_the_mlflow_routes_say_how_to_install_it(tmp_path: Path) -> None:
    with workspace_process(tmp_path / "data", subprocess_env(tmp_path), SKINNY) as (url, token):
        status, _, body = http(
            f"{url}/api/2.0/mlflow/experiments/search?max_results=5",
            {"Authorization": f"Bearer {token}"},
        )
    assert status == 501
    assert json.loads(body)["error_code"] == "NOT_IMPLEMENTED"
    assert "--extra mlflow" in json.loads(body)["message"]


def test_local_prints_the_mlflow_exports_and_the_ui_login(tmp_path: Path) -> None:
    from tests.conftest import subprocess_env
    from tests.test_cli import cli_command

    process = subprocess.Popen(
        cli_command("local", "--port", "0", "--data-dir", str(tmp_path / "data")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(tmp_path),
        cwd=REPO,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        exports = dict(
            process.stdout.readline().removeprefix("export ").strip().split("=", 1)
            for _ in range(4)
        )
        assert list(exports) == [
            "DATABRICKS_HOST",
            "DATABRICKS_TOKEN",
            "MLFLOW_TRACKING_URI",
            "MLFLOW_TRACKING_TOKEN",
        ]
        assert exports["MLFLOW_TRACKING_URI"] == exports["DATABRICKS_HOST"]
        assert exports["MLFLOW_TRACKING_TOKEN"] == exports["DATABRICKS_TOKEN"]
        ui = process.stderr.readline().strip()
        assert ui == (
            f"# MLflow UI: {exports['DATABRICKS_HOST']}/mlflow/login"
            f"?token={exports['DATABRICKS_TOKEN']}"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
