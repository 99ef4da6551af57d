"""registry_* tools through MCP on the local workspace: models, versions, aliases, tags, and
champion/challenger promotion end to end with real scikit-learn models."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import httpx
import pytest
from databricks.sdk.errors import DatabricksError
from mcp import Client
from mlflow.exceptions import MlflowException

from local_workspace.runner import LocalWorkspace
from tests.conftest import fails, mlflow_script, ok, text_of
from tools_core.backend import Backend
from tools_core.mlflow_client import mlflow_client

pytestmark = pytest.mark.anyio

FRAUD = "main.models.fraud_detector"


@pytest.fixture
def client(backend: Backend) -> Any:
    """The MlflowClient the tools use (its token is its own)."""
    return mlflow_client(backend)


def unique_model(what: str) -> str:
    return f"main.t_reg.{what}_{uuid.uuid4().hex[:8]}"


# The smallest model Unity Catalog registers: an MLmodel with a signature (no training).
MLMODEL = """artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.pyfunc.model
    python_version: 3.11.7
signature:
  inputs: '[{"type": "double", "name": "x", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
"""


@pytest.fixture(scope="module", autouse=True)
def registry_schema(backend: Backend) -> None:
    """Unity Catalog registers models only into an existing schema."""
    with contextlib.suppress(DatabricksError):  # already made by another module's test
        backend.client.schemas.create(name="t_reg", catalog_name="main")


def put_model_files(backend: Backend, artifact_uri: str) -> None:
    """Write MLMODEL as the run's ``model`` artifact through the artifact API, with the
    workspace's token (the test process sets no MLflow variables)."""
    path = artifact_uri.removeprefix("mlflow-artifacts:").lstrip("/")
    answer = httpx.put(
        f"{backend.host}/api/2.0/mlflow-artifacts/artifacts/{path}/model/MLmodel",
        content=MLMODEL.encode(),
        headers={"Authorization": f"Bearer {backend.mlflow.token}"},
        timeout=60,
    )
    answer.raise_for_status()


def scored_versions(backend: Backend, name: str, *metrics: dict[str, float]) -> list[str]:
    """Versions 1..n of ``name``, each from its own run with ``metrics`` (no training: fast).

    Returns the run ids."""
    client = mlflow_client(backend)
    experiment_id = client.create_experiment(f"/Shared/t_reg_{uuid.uuid4().hex[:8]}")
    client.create_registered_model(name)
    run_ids = []
    for values in metrics:
        run = client.create_run(experiment_id)
        for key, value in values.items():
            client.log_metric(run.info.run_id, key, value)
        client.set_terminated(run.info.run_id)
        put_model_files(backend, run.info.artifact_uri)
        client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
        run_ids.append(run.info.run_id)
    return run_ids


# The guide's training script (argv: experiment, model name): two LogisticRegressions on 40
# and 400 training rows, each logged with its f1 on a fixed holdout and registered as the
# next version of the model; prints [[run_id, f1], ...] in version order.
TRAIN_AND_REGISTER = """
import json, sys
import mlflow
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

experiment, name = sys.argv[1], sys.argv[2]
mlflow.set_experiment(experiment)
X, y = make_classification(n_samples=600, n_features=12, n_informative=6, random_state=7)
X_test, y_test = X[400:], y[400:]
trained = []
# Version 2 is better by construction: 40 training rows and strong regularisation against
# all 400 rows.
for C, rows in ((0.001, 40), (1.0, 400)):
    with mlflow.start_run() as run:
        model = LogisticRegression(C=C, max_iter=500).fit(X[:rows], y[:rows])
        f1 = float(f1_score(y_test, model.predict(X_test)))
        mlflow.log_params({"C": C, "rows": rows})
        mlflow.log_metric("f1", f1)
        mlflow.sklearn.log_model(
            model, name="model", registered_model_name=name, pip_requirements=["scikit-learn"]
        )
    trained.append([run.info.run_id, f1])
print(json.dumps(trained))
"""

# Load a model by URI as a user's script does and predict 5 rows: its run id and their count.
LOAD_AND_PREDICT = """
import json, sys
import mlflow
from sklearn.datasets import make_classification

loaded = mlflow.pyfunc.load_model(sys.argv[1])
X, _ = make_classification(n_samples=5, n_features=12, n_informative=6, random_state=1)
print(json.dumps({"run_id": loaded.metadata.run_id, "predicted": len(loaded.predict(X))}))
"""

# Log (not register) a small scikit-learn model: its run id and model URI.
LOG_MODEL = """
import json, sys
import mlflow
import numpy as np
from sklearn.linear_model import LogisticRegression

mlflow.set_experiment(sys.argv[1])
with mlflow.start_run() as run:
    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    # Unity Catalog takes only models with a signature: the input example gives one.
    info = mlflow.sklearn.log_model(
        model, name="model", pip_requirements=["scikit-learn"], input_example=np.array([[0.5]])
    )
    mlflow.sklearn.log_model(model, name="unsigned", pip_requirements=["scikit-learn"])
print(json.dumps({"run_id": run.info.run_id, "model_uri": info.model_uri}))
"""


async def aliases_of(mcp: Client, name: str) -> dict[str, int]:
    result = await ok(mcp, "registry_get_model", name=name)
    return result.structured_content["aliases"]


async def test_promotion_end_to_end_moves_champion_to_the_better_model_which_then_loads(
    mcp: Client, client: Any, backend: Backend, local_ws: LocalWorkspace
) -> None:
    # Start from an empty registry entry: other tests (the docs example) register this
    # guide name too, and this test is about versions 1 and 2.
    with contextlib.suppress(MlflowException):  # Unity Catalog's search takes no filter
        client.delete_registered_model(FRAUD)
    (run1, f1_1), (run2, f1_2) = mlflow_script(
        local_ws, TRAIN_AND_REGISTER, "/Shared/t_reg_fraud_detector", FRAUD
    )
    assert f1_2 > f1_1

    versions = (await ok(mcp, "registry_list_versions", name=FRAUD)).structured_content
    assert [(v["version"], v["run_id"]) for v in versions["versions"]] == [(2, run2), (1, run1)]
    await ok(mcp, "registry_set_alias", name=FRAUD, alias="champion", version=1)
    await ok(mcp, "registry_set_alias", name=FRAUD, alias="challenger", version=2)

    preview = await ok(mcp, "registry_promote", name=FRAUD, metric="f1")
    text = text_of(preview)
    assert text.startswith("WOULD PROMOTE")
    assert f"{f1_2:g}" in text and f"{f1_1:g}" in text
    assert preview.structured_content["promoted"] is False
    assert preview.structured_content["decision"] == "promote"
    assert await aliases_of(mcp, FRAUD) == {"champion": 1, "challenger": 2}
    tags = (await ok(mcp, "registry_get_version", name=FRAUD, version=2)).structured_content
    assert not any(k.startswith("promotion_") for k in tags["tags"])

    done = await ok(mcp, "registry_promote", name=FRAUD, metric="f1", confirm=True)
    assert text_of(done).startswith("PROMOTED: champion → main.models.fraud_detector version 2")
    assert done.structured_content["promoted"] is True
    # The replaced champion keeps an alias: a rollback is one registry_set_alias.
    assert await aliases_of(mcp, FRAUD) == {"champion": 2, "challenger": 2, "previous_champion": 1}
    assert "registry_set_alias alias=champion version=1" in text_of(done)
    champion = await ok(mcp, "registry_get_version", name=FRAUD, alias="champion")
    recorded = champion.structured_content
    assert recorded["version"] == 2 and recorded["run_id"] == run2
    assert recorded["metrics"]["f1"] == pytest.approx(f1_2)
    assert recorded["tags"]["promotion_metric"] == "f1"
    assert float(recorded["tags"]["promotion_challenger_value"]) == pytest.approx(f1_2)
    assert float(recorded["tags"]["promotion_champion_value"]) == pytest.approx(f1_1)
    assert recorded["tags"]["promotion_previous_champion_version"] == "1"
    assert recorded["tags"]["promotion_decided_by"] == backend.user
    assert recorded["tags"]["promotion_decided_at"].endswith("Z")

    loaded = mlflow_script(local_ws, LOAD_AND_PREDICT, f"models:/{FRAUD}@champion")
    assert loaded == {"run_id": run2, "predicted": 5}

    again = await ok(mcp, "registry_promote", name=FRAUD, metric="f1", confirm=True)
    assert text_of(again).startswith("NOT PROMOTED") and "nothing to do" in text_of(again)


async def test_a_worse_challenger_is_not_promoted_even_with_confirm(
    mcp: Client, client: Any, backend: Backend
) -> None:
    name = unique_model("worse")
    scored_versions(backend, name, {"auc": 0.91}, {"auc": 0.87})
    await ok(mcp, "registry_set_alias", name=name, alias="champion", version=1)
    await ok(mcp, "registry_set_alias", name=name, alias="challenger", version=2)
    result = await ok(mcp, "registry_promote", name=name, metric="auc", confirm=True)
    text = text_of(result)
    assert text.startswith("NOT PROMOTED")
    assert "0.87" in text and "0.91" in text and "-0.04" in text
    assert result.structured_content["decision"] == "keep"
    assert await aliases_of(mcp, name) == {"champion": 1, "challenger": 2}


async def test_promotion_honours_the_margin_and_lower_is_better(
    mcp: Client, client: Any, backend: Backend
) -> None:
    name = unique_model("margin")
    scored_versions(backend, name, {"rmse": 10.0, "r2": 0.80}, {"rmse": 9.5, "r2": 0.81})
    await ok(mcp, "registry_set_alias", name=name, alias="champion", version=1)
    await ok(mcp, "registry_set_alias", name=name, alias="challenger", version=2)
    small = await ok(mcp, "registry_promote", name=name, metric="r2", min_improvement=0.05)
    assert text_of(small).startswith("NOT PROMOTED") and ">= 0.05" in text_of(small)
    wrong_way = await ok(mcp, "registry_promote", name=name, metric="rmse")
    assert text_of(wrong_way).startswith("NOT PROMOTED")
    lower = await ok(
        mcp, "registry_promote", name=name, metric="rmse", higher_is_better=False, confirm=True
    )
    assert text_of(lower).startswith("PROMOTED") and "lower is better" in text_of(lower)
    assert lower.structured_content["improvement"] == pytest.approx(0.5)
    assert (await aliases_of(mcp, name))["champion"] == 2


async def test_a_first_promotion_makes_the_challenger_champion(
    mcp: Client, client: Any, backend: Backend
) -> None:
    name = unique_model("first")
    scored_versions(backend, name, {"f1": 0.7})
    await ok(mcp, "registry_set_alias", name=name, alias="challenger", version=1)
    preview = await ok(mcp, "registry_promote", name=name, metric="f1")
    assert "first champion" in text_of(preview)
    assert await aliases_of(mcp, name) == {"challenger": 1}
    done = await ok(mcp, "registry_promote", name=name, metric="f1", confirm=True)
    assert done.structured_content["tags"]["promotion_previous_champion_version"] == "none"
    assert await aliases_of(mcp, name) == {"challenger": 1, "champion": 1}


async def test_promotion_can_be_gated_on_each_versions_evaluation_run(
    mcp: Client, client: Any, backend: Backend
) -> None:
    name = unique_model("evaluated")
    # On their training runs version 2 looks worse; their evaluations say otherwise.
    scored_versions(backend, name, {"f1": 0.9}, {"f1": 0.5})
    experiment_id = client.create_experiment(f"/Shared/t_reg_eval_{uuid.uuid4().hex[:8]}")
    for version, f1 in ((1, 0.6), (2, 0.8)):
        evaluation = client.create_run(experiment_id)
        client.log_metric(evaluation.info.run_id, "f1", f1)
        await ok(
            mcp,
            "registry_set_tag",
            name=name,
            version=version,
            key="evaluation_run_id",
            value=evaluation.info.run_id,
        )
    await ok(mcp, "registry_set_alias", name=name, alias="champion", version=1)
    await ok(mcp, "registry_set_alias", name=name, alias="challenger", version=2)
    by_run = await ok(mcp, "registry_promote", name=name, metric="f1")
    assert text_of(by_run).startswith("NOT PROMOTED")
    gated = await ok(
        mcp, "registry_promote", name=name, metric="f1", metric_from="evaluation", confirm=True
    )
    assert text_of(gated).startswith("PROMOTED") and "f1=0.8 vs champion" in text_of(gated)
    assert await aliases_of(mcp, name) == {
        "champion": 2,
        "challenger": 2,
        "previous_champion": 1,
    }

    never = unique_model("unevaluated")
    scored_versions(backend, never, {"f1": 0.5}, {"f1": 0.6})
    await ok(mcp, "registry_set_alias", name=never, alias="challenger", version=2)
    refused = await fails(
        mcp, "registry_promote", name=never, metric="f1", metric_from="evaluation"
    )
    assert refused.startswith("INVALID_PARAMETER_VALUE") and "mlflow_evaluate" in refused


async def test_promotion_refuses_a_missing_metric_or_alias_and_says_why(
    mcp: Client, client: Any, backend: Backend
) -> None:
    name = unique_model("missing")
    scored_versions(backend, name, {"f1": 0.7, "precision": 0.6}, {"f1": 0.8, "precision": 0.7})
    no_alias = await fails(mcp, "registry_promote", name=name, metric="f1")
    assert no_alias.startswith("RESOURCE_DOES_NOT_EXIST") and "registry_set_alias" in no_alias
    await ok(mcp, "registry_set_alias", name=name, alias="champion", version=1)
    await ok(mcp, "registry_set_alias", name=name, alias="challenger", version=2)
    text = await fails(mcp, "registry_promote", name=name, metric="auc", confirm=True)
    assert text.startswith("INVALID_PARAMETER_VALUE")
    assert "'auc'" in text and "f1, precision" in text
    assert await aliases_of(mcp, name) == {"champion": 1, "challenger": 2}


async def test_models_and_versions_are_listed_and_read_with_run_metrics(
    mcp: Client, client: Any, backend: Backend
) -> None:
    name = unique_model("listed")
    runs = scored_versions(backend, name, {"f1": 0.5}, {"f1": 0.6, "auc": 0.7}, {"f1": 0.4})
    await ok(mcp, "registry_set_alias", name=name, alias="champion", version=2)
    listed = await ok(mcp, "registry_list_models", name_like=f"{name[:-4]}%")
    assert [m["name"] for m in listed.structured_content["models"]] == [name]
    assert "champion→2" in text_of(listed)

    page = await ok(mcp, "registry_list_versions", name=name, limit=2)
    data = page.structured_content
    assert [v["version"] for v in data["versions"]] == [3, 2] and data["truncated"] is True
    assert [v["aliases"] for v in data["versions"]] == [[], ["champion"]]
    rest = await ok(
        mcp, "registry_list_versions", name=name, limit=2, page_token=data["next_page_token"]
    )
    assert [v["version"] for v in rest.structured_content["versions"]] == [1]

    by_alias = await ok(mcp, "registry_get_version", name=name, alias="champion")
    detail = by_alias.structured_content
    assert detail["version"] == 2 and detail["run_id"] == runs[1]
    assert detail["metrics"] == {"auc": 0.7, "f1": 0.6}
    assert f"models:/{name}/2" in text_of(by_alias)


async def test_register_version_from_a_run_warns_on_a_second_copy(
    mcp: Client, local_ws: LocalWorkspace
) -> None:
    logged = mlflow_script(local_ws, LOG_MODEL, "/Shared/t_reg_register")
    run_id = logged["run_id"]
    name = unique_model("registered")
    first = await ok(mcp, "registry_register_version", name=name, model_uri=f"runs:/{run_id}/model")
    assert first.structured_content["version"] == 1
    assert "created model" in text_of(first) and "WARNING" not in text_of(first)
    second = await ok(mcp, "registry_register_version", name=name, model_uri=logged["model_uri"])
    assert second.structured_content["version"] == 2
    assert "already registered as version(s) 1" in text_of(second)
    version = await ok(mcp, "registry_get_version", name=name, version=2)
    assert version.structured_content["run_id"] == run_id

    unsigned = await fails(
        mcp, "registry_register_version", name=name, model_uri=f"runs:/{run_id}/unsigned"
    )
    assert unsigned.startswith("INVALID_PARAMETER_VALUE: Model passed for registration did not")
    assert "input_example" in unsigned  # the way out

    no_model = await fails(
        mcp, "registry_register_version", name=name, model_uri=f"runs:/{run_id}/nope"
    )
    assert no_model.startswith("RESOURCE_DOES_NOT_EXIST") and "log_model" in no_model
    bad_uri = await fails(mcp, "registry_register_version", name=name, model_uri="s3://x/y")
    assert bad_uri.startswith("INVALID_PARAMETER_VALUE") and "runs:/" in bad_uri


async def test_aliases_and_tags_are_set_moved_and_deleted_with_confirm(
    mcp: Client, client: Any, backend: Backend
) -> None:
    name = unique_model("aliases")
    scored_versions(backend, name, {"f1": 0.5}, {"f1": 0.6})
    await ok(mcp, "registry_set_alias", name=name, alias="champion", version=1)
    moved = await ok(mcp, "registry_set_alias", name=name, alias="champion", version=2)
    assert "moved from version 1" in text_of(moved)
    same = await ok(mcp, "registry_set_alias", name=name, alias="champion", version=2)
    assert "nothing changed" in text_of(same)

    preview = await ok(mcp, "registry_delete_alias", name=name, alias="champion")
    assert text_of(preview).startswith("WOULD DELETE") and "confirm=true" in text_of(preview)
    assert await aliases_of(mcp, name) == {"champion": 2}
    await ok(mcp, "registry_delete_alias", name=name, alias="champion", confirm=True)
    assert await aliases_of(mcp, name) == {}
    gone = await ok(mcp, "registry_delete_alias", name=name, alias="champion", confirm=True)
    assert "nothing to delete" in text_of(gone)

    await ok(mcp, "registry_set_tag", name=name, key="owner", value="fraud_team")
    retagged = await ok(mcp, "registry_set_tag", name=name, key="owner", value="risk_team")
    assert "was 'fraud_team'" in text_of(retagged)
    await ok(mcp, "registry_set_tag", name=name, key="validated", value="yes", version=1)
    model = (await ok(mcp, "registry_get_model", name=name)).structured_content
    assert model["tags"] == {"owner": "risk_team"}
    version = (await ok(mcp, "registry_get_version", name=name, version=1)).structured_content
    assert version["tags"] == {"validated": "yes"}
    dotted = await ok(mcp, "registry_set_tag", name=name, key="a.b", value="x")
    assert "Unity Catalog" in text_of(dotted)


async def test_bad_input_gives_the_error_code_and_a_next_step(
    mcp: Client, client: Any, backend: Backend
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("registry_get_model", {}),
        ("registry_list_versions", {}),
        ("registry_set_alias", {"alias": "champion", "version": 1}),
        ("registry_register_version", {"model_uri": "runs:/abc/model"}),
        ("registry_promote", {"metric": "f1"}),
    ]
    for tool, extra in calls:
        text = await fails(mcp, tool, name="models.fraud_detector", **extra)
        assert text.startswith("INVALID_PARAMETER_VALUE"), (tool, text)
        assert "catalog.schema.model_name" in text and "main.models.fraud_detector" in text

    name = unique_model("bad")
    scored_versions(backend, name, {"f1": 0.5}, {"f1": 0.6})
    missing_version = await fails(mcp, "registry_set_alias", name=name, alias="x", version=9)
    assert missing_version.startswith("RESOURCE_DOES_NOT_EXIST")
    assert "versions: 2, 1" in missing_version and "registry_register_version" in missing_version
    missing_alias = await fails(mcp, "registry_get_version", name=name, alias="champion")
    assert "no alias 'champion'" in missing_alias and "registry_set_alias" in missing_alias
    both = await fails(mcp, "registry_get_version", name=name, version=1, alias="champion")
    assert both.startswith("INVALID_PARAMETER_VALUE")

    quoted = await fails(mcp, "registry_list_models", name_like="main.t_reg.x' OR 1=1")
    assert quoted.startswith("INVALID_PARAMETER_VALUE")
    unknown = await fails(mcp, "registry_get_model", name="main.t_reg.no_such_model")
    assert unknown.startswith("RESOURCE_DOES_NOT_EXIST") and "registry_list_models" in unknown
    unknown_versions = await fails(mcp, "registry_list_versions", name="main.t_reg.no_such")
    assert unknown_versions.startswith("RESOURCE_DOES_NOT_EXIST")


async def test_names_off_the_convention_are_warned_about(
    mcp: Client, client: Any, backend: Backend
) -> None:
    name = f"main.t_reg.FraudModel{uuid.uuid4().hex[:6]}"
    scored_versions(backend, name, {"f1": 0.5})
    result = await ok(mcp, "registry_get_model", name=name)
    assert "WARNING: naming" in text_of(result) and "snake_case" in text_of(result)
    alias = await ok(mcp, "registry_set_alias", name=name, alias="Champion", version=1)
    assert "WARNING: naming: alias 'Champion'" in text_of(alias)


def test_like_patterns_match_names_as_unity_catalog_filtering_needs() -> None:
    from tools_core.registry.read import like_pattern

    pattern = like_pattern("main.models.%")
    assert pattern.fullmatch("main.models.fraud_detector")
    assert pattern.fullmatch("MAIN.models.x")
    assert not pattern.fullmatch("mainxmodels.x") and not pattern.fullmatch("dev.models.x")
    assert like_pattern("%fraud%").fullmatch("main.ml.fraud_v2")
    assert like_pattern("main.ml.m_").fullmatch("main.ml.m1")
