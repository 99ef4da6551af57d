"""The runnable examples in docs/ work unchanged against the local workspace."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local_workspace.runner import LocalWorkspace

REPO = Path(__file__).resolve().parents[1]


def test_the_mlflow_tracking_example_logs_a_run_and_registers_a_three_level_model(
    local_ws: LocalWorkspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # What `dbx-devkit local` tells the user to export, and nothing else.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DATABRICKS_"))}
    env |= {"MLFLOW_TRACKING_URI": local_ws.url, "MLFLOW_TRACKING_TOKEN": local_ws.token}
    result = subprocess.run(
        [sys.executable, str(REPO / "docs" / "examples" / "mlflow_tracking.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = re.search(
        r"run (\w+): registered main\.models\.fraud_detector version (\d+)", result.stdout
    )
    assert found, result.stdout

    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", local_ws.token)
    client = MlflowClient(tracking_uri=local_ws.url, registry_uri=local_ws.url)
    run_id, version = found.groups()
    model_version = client.get_model_version("main.models.fraud_detector", version)
    assert model_version.run_id == run_id
    run = client.get_run(run_id)
    assert run.data.params == {"model": "logistic_regression", "C": "0.5", "max_iter": "200"}
    assert {"accuracy", "f1"} <= run.data.metrics.keys()
    assert client.get_experiment(run.info.experiment_id).name == "/Shared/fraud-detection"
