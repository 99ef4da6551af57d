"""Job tasks run with an allow-listed environment, and what they return is redacted.

The secrets sit where a task could find them: in the environment and HOME of the workspace's
own process (the one that spawns tasks), started here by hand so that its environment is
exactly what the test gives it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs

from local_workspace.jobs.redact import MASK, redact
from tests.conftest import subprocess_env, workspace_process
from tests.test_jobs_local_api import folder, put_file, put_notebook, wait_run
from tools_core import mlflow_rest
from tools_core.backend import workspace_client

# Secrets the workspace process holds in its environment; none may reach a task.
CANARIES = {
    "OPENAI_API_KEY": "sk-canary-openai-5f1c2d9e8b7a",
    "AWS_SECRET_ACCESS_KEY": "canary-aws-wJalrXUtnFEMI-K7MDENG",
    "ANTHROPIC_API_KEY": "sk-ant-canary-0a9b8c7d6e5f",
    "GITHUB_TOKEN": "ghp_canaryTokenValue1234567890abcdef",
    "DATABRICKS_CLIENT_SECRET": "dose0123456789abcdef0123456789abcdef",
    "MLFLOW_TRACKING_PASSWORD": "canary-mlflow-password-77",
}
# A token of another workspace that user code prints deliberately: masked by its shape.
FOREIGN_TOKEN = "dapi" + "ab12" * 8 + "-2"

ENV_DUMP = """
import json, os
print(os.environ)
print(json.dumps(dict(os.environ)))
print("HOME", os.path.expanduser("~"))
print("token", os.environ["DATABRICKS_TOKEN"], "foreign", "{foreign}")
print("databrickscfg", os.path.exists(os.path.expanduser("~/.databrickscfg")))
"""


@dataclass
class SecretWorkspace:
    """A workspace process holding the canaries, and a client of it."""

    url: str
    token: str
    home: Path
    client: WorkspaceClient


@pytest.fixture(scope="module")
def secret_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretWorkspace]:
    """A workspace process with the canaries in its environment and a Databricks profile in
    its HOME (read when a task spawns)."""
    tmp = tmp_path_factory.mktemp("job-sandbox")
    env = subprocess_env(tmp) | CANARIES
    home = Path(env["HOME"])
    cfg = home / ".databrickscfg"
    cfg.write_text(f"[DEFAULT]\nhost = https://x.cloud.databricks.com\ntoken = {FOREIGN_TOKEN}\n")
    with workspace_process(tmp / "data", env) as (url, token):
        client = workspace_client(host=url, token=token, retry_timeout_seconds=15)
        yield SecretWorkspace(url, token, home, client)


def run_output(ws: WorkspaceClient, task: jobs.SubmitTask) -> jobs.RunOutput:
    run = wait_run(ws, ws.jobs.submit(run_name="sandbox", tasks=[task]).run_id, timeout=60)
    return ws.jobs.get_run_output((run.tasks or [])[0].run_id)


def assert_clean(text: str, workspace: SecretWorkspace) -> None:
    for name, value in CANARIES.items():
        assert value not in text, f"{name} reached the task"
    assert workspace.token not in text
    assert FOREIGN_TOKEN.removesuffix("-2") not in text


def test_a_notebook_that_prints_its_environment_shows_no_server_secret(
    secret_ws: SecretWorkspace,
) -> None:
    ws = secret_ws.client
    path = put_notebook(
        ws,
        f"{folder(ws)}/env_dump",
        ENV_DUMP.format(foreign=FOREIGN_TOKEN),
        'dbutils.notebook.exit(os.environ["DATABRICKS_TOKEN"])',
    )
    task = jobs.SubmitTask(task_key="dump", notebook_task=jobs.NotebookTask(notebook_path=path))
    output = run_output(ws, task)
    logs = output.logs or ""
    assert "sk-canary" not in logs and "OPENAI_API_KEY" not in logs
    assert_clean(logs, secret_ws)
    # The token was printed on purpose: it comes back masked, like the foreign one.
    assert f"token {MASK} foreign {MASK}" in logs
    assert output.notebook_output is not None and output.notebook_output.result == MASK
    dumped = json.loads(next(line for line in logs.splitlines() if line.startswith("{")))
    assert dumped["DATABRICKS_HOST"] == secret_ws.url
    assert dumped["MLFLOW_TRACKING_URI"] == secret_ws.url
    assert dumped["HOME"] != str(secret_ws.home) and "databrickscfg False" in logs
    assert Path(dumped["TMPDIR"]).is_relative_to(Path(dumped["HOME"]).parent)


def test_an_error_carrying_the_token_is_masked_in_error_and_trace(
    secret_ws: SecretWorkspace,
) -> None:
    ws = secret_ws.client
    path = put_file(
        ws,
        f"{folder(ws)}/leak.py",
        "import os\nraise RuntimeError('token is ' + os.environ['DATABRICKS_TOKEN'])\n",
    )
    task = jobs.SubmitTask(
        task_key="leak", spark_python_task=jobs.SparkPythonTask(python_file=path)
    )
    output = run_output(ws, task)
    assert output.error == f"RuntimeError: token is {MASK}"
    assert MASK in (output.error_trace or "") and MASK in (output.logs or "")
    for text in (output.error or "", output.error_trace or "", output.logs or ""):
        assert_clean(text, secret_ws)
    run = ws.jobs.get_run(output.metadata.run_id if output.metadata else 0)
    assert secret_ws.token not in str(run.state)


def test_a_task_imports_sklearn_and_matplotlib_and_logs_to_mlflow(
    secret_ws: SecretWorkspace,
) -> None:
    ws = secret_ws.client
    source = (
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "import mlflow, sklearn.linear_model\n"
        "plt.plot([1, 2], [3, 4])\n"
        "with mlflow.start_run() as run:\n"
        "    mlflow.log_metric('m', 1.5)\n"
        "print('run', run.info.run_id)\n"
    )
    path = put_file(ws, f"{folder(ws)}/train.py", source)
    task = jobs.SubmitTask(
        task_key="train", spark_python_task=jobs.SparkPythonTask(python_file=path)
    )
    output = run_output(ws, task)
    assert output.error is None, output.error_trace
    run_id = next(
        line.split()[1] for line in (output.logs or "").splitlines() if line[:4] == "run "
    )
    client = mlflow_rest.client(secret_ws.url, secret_ws.url, secret_ws.token)
    assert client.get_run(run_id).data.metrics == {"m": 1.5}


def test_redact_masks_databricks_token_shapes_and_given_secrets() -> None:
    text = (
        "a dapi0123456789abcdef0123456789abcdef b dose0123456789abcdef0123456789abcdef-3 "
        "c my-local-secret d dapi123 e xdapi0123456789abcdef0123456789abcdef"
    )
    assert redact(text, ["my-local-secret", "short"]) == (
        f"a {MASK} b {MASK} c {MASK} d dapi123 e xdapi0123456789abcdef0123456789abcdef"
    )
