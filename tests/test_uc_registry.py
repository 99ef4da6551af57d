"""The Unity Catalog model registry as the stock MLflow client uses it (``databricks-uc``)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, NotFound
from databricks.sdk.service.catalog import PermissionsChange, Privilege
from mcp import Client

from local_workspace.runner import LocalWorkspace
from tests.conftest import mlflow_client_of, mlflow_script, ok, text_of

UC_SCRIPT = """
import json, sys
import mlflow
import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from sklearn.linear_model import LinearRegression

name = sys.argv[1]
# Exactly what a script written for Databricks says: both URIs are Databricks'.
mlflow.set_tracking_uri("databricks")
mlflow.set_registry_uri("databricks-uc")
mlflow.set_experiment("/Shared/uc_registry_slice")  # Databricks has no default experiment
X = np.array([[0.0], [1.0], [2.0], [3.0]])
model = LinearRegression().fit(X, 2 * X[:, 0] + 1)
refusals = {}
with mlflow.start_run() as run:
    try:
        mlflow.sklearn.log_model(model, name="unsigned", registered_model_name=name)
    except MlflowException as exc:
        refusals["unsigned"] = exc.message
    try:
        mlflow.sklearn.log_model(model, name="m", registered_model_name="default.two_levels",
                                 signature=infer_signature(X, model.predict(X)))
    except MlflowException as exc:
        refusals["two_levels"] = exc.message
    info = mlflow.sklearn.log_model(
        model, name="model", signature=infer_signature(X, model.predict(X)),
        registered_model_name=name,
    )
client = mlflow.MlflowClient(registry_uri="databricks-uc")
client.set_registered_model_alias(name, "champion", info.registered_model_version)
try:
    client.transition_model_version_stage(name, info.registered_model_version, "Production")
except MlflowException as exc:
    refusals["stage"] = exc.message
champion = client.get_model_version_by_alias(name, "champion")
loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
from_run = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
print(json.dumps({
    "artifact_uri": run.info.artifact_uri,
    "from_run": from_run.predict(np.array([[4.0]])).tolist(),
    "version": champion.version,
    "status": champion.status,
    "same_run": champion.run_id == run.info.run_id,
    "prediction": loaded.predict(np.array([[4.0]])).tolist(),
    "refusals": refusals,
}))
"""


def test_stock_mlflow_client_registers_and_loads_a_uc_model(local_ws: LocalWorkspace) -> None:
    name = "main.default.uc_registry_slice"
    out = mlflow_script(local_ws, UC_SCRIPT, name, databricks_auth=True)
    assert out["version"] == "1"
    assert out["status"] == "READY"
    assert out["same_run"]
    assert round(out["prediction"][0], 6) == 9.0
    # Run artifacts went where Databricks puts them (the Files API's MLflow area) ...
    assert out["artifact_uri"].startswith("dbfs:/databricks/mlflow-tracking/")
    assert round(out["from_run"][0], 6) == 9.0
    assert "did not contain any signature metadata" in out["refusals"]["unsigned"]
    assert "specify all three levels" in out["refusals"]["two_levels"]
    assert "unsupported" in out["refusals"]["stage"].lower()
    # One registry: the workspace's MLflow registry (tools, UI) sees the same model.
    oss = mlflow_client_of(local_ws)
    assert oss.get_model_version_by_alias(name, "champion").version == "1"

    # ... and so does Unity Catalog's own API: the model is a securable of its schema.
    ws = WorkspaceClient(host=local_ws.url, token=local_ws.token)
    listed = ws.registered_models.list(catalog_name="main", schema_name="default")
    assert name in [m.full_name for m in listed]
    model = ws.registered_models.get(name)
    assert (model.catalog_name, model.schema_name, model.name) == ("main", "default", name[13:])
    assert [(a.alias_name, a.version_num) for a in model.aliases or []] == [("champion", 1)]
    champion = ws.model_versions.get_by_alias(name, "champion")
    assert champion.version == 1 and champion.run_id and champion.source
    with pytest.raises(NotFound, match="does not exist"):
        ws.registered_models.get("main.default.no_such_model")
    # Grants on a model are grants on a FUNCTION, EXECUTE being what loading needs.
    change = PermissionsChange(principal="data-scientists", add=[Privilege.EXECUTE])
    ws.grants.update("function", name, changes=[change])
    granted = ws.grants.get("function", name)
    assert [(g.principal, g.privileges) for g in granted.privilege_assignments or []] == [
        ("data-scientists", [Privilege.EXECUTE])
    ]
    with pytest.raises(BadRequest, match="not applicable"):
        ws.grants.update(
            "function", name, changes=[PermissionsChange(principal="x", add=[Privilege.SELECT])]
        )


UC = "/api/2.0/mlflow/unity-catalog"


def test_uc_registry_refuses_names_without_three_levels_with_databricks_text(ws: Any) -> None:
    with pytest.raises(BadRequest, match="please specify all three levels"):
        ws.api_client.do("POST", f"{UC}/registered-models/create", body={"name": "default.m"})
    with pytest.raises(NotFound):
        ws.api_client.do(
            "POST", f"{UC}/registered-models/create", body={"name": "main.no_such_schema.m"}
        )


def test_models_files_area_reaches_only_existing_model_versions(ws: Any) -> None:
    with pytest.raises(NotFound):
        ws.files.upload("/Models/main/default/no_such_model/1/MLmodel", io.BytesIO(b"x"))
    with pytest.raises(BadRequest, match="names no model version"):
        ws.files.upload("/Models/main/default/MLmodel", io.BytesIO(b"x"))
    # The client resolves the '..' itself: what arrives names no model version.
    with pytest.raises(BadRequest):
        ws.files.upload("/Models/main/default/m/1/../../../../x", io.BytesIO(b"x"))
    # MLflow's area for runs and logged models (tracking URI databricks): existing ones only.
    internal = "/WorkspaceInternal/Mlflow/Artifacts/0"
    with pytest.raises(NotFound):
        ws.files.upload(f"{internal}/Runs/{'0' * 32}/artifacts/x", io.BytesIO(b"x"))
    with pytest.raises(BadRequest, match="names no run or logged model"):
        ws.files.upload(f"{internal}/Secrets/x/artifacts/x", io.BytesIO(b"x"))
    with pytest.raises(BadRequest, match="Invalid path"):
        ws.files.upload("/WorkspaceInternal/Mlflow/Artifacts/../../x", io.BytesIO(b"x"))


@pytest.mark.anyio
async def test_uc_grant_tools_take_a_model_as_the_function_it_is(ws: Any, mcp: Client) -> None:
    name = "main.default.granted_model"
    if name not in [m.full_name for m in ws.registered_models.list(catalog_name="main")]:
        ws.registered_models.create(catalog_name="main", schema_name="default", name=name[13:])
    await ok(
        mcp,
        "uc_update_grants",
        securable_type="function",
        full_name=name,
        principal="analysts",
        add=["EXECUTE"],
    )
    granted = await ok(mcp, "uc_get_grants", securable_type="function", full_name=name)
    assert "analysts" in text_of(granted) and "EXECUTE" in text_of(granted), text_of(granted)
