"""Register two versions of a model, compare the challenger with the champion, promote it.

The Unity Catalog registry has no stages: aliases (`champion`, `challenger`) point at
versions, and serving and batch jobs load `models:/<catalog>.<schema>.<model>@champion`.
Runs unchanged against Databricks (the schema `main.docs_mlflow` must exist and you need
CREATE MODEL on it) and the local workspace (`dbx-devkit local`); it reads only MLflow's
standard environment variables. Rerunnable: each run adds two versions.
"""

from __future__ import annotations

import os
from typing import Any

import mlflow
import mlflow.sklearn
import sklearn
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from numpy.typing import NDArray
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

EXPERIMENT = os.environ.get("MLFLOW_EXPERIMENT_NAME", "/Shared/docs-churn-classifier")
MODEL_NAME = "main.docs_mlflow.churn_classifier"  # catalog.schema.model_name


def train_and_register(c: float, x_train: NDArray[Any], y_train: NDArray[Any]) -> str:
    """Fit a logistic regression with regularisation ``c``, log it, and return its version."""
    with mlflow.start_run(run_name=f"logreg-c{c}"):
        mlflow.log_params({"model": "logistic_regression", "C": c})
        model = LogisticRegression(C=c, max_iter=500).fit(x_train, y_train)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name=MODEL_NAME,
            input_example=x_train[:3],
            # Pin what serving installs; naming it also skips MLflow's slow inference step.
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        )
    return str(info.registered_model_version)


def alias_version(client: MlflowClient, alias: str) -> str | None:
    """The version an alias points at, or None when the alias is not set."""
    try:
        return str(client.get_model_version_by_alias(MODEL_NAME, alias).version)
    except MlflowException:
        return None


def main() -> None:
    """Baseline and candidate versions; the candidate becomes champion if it is not worse."""
    if mlflow.get_tracking_uri().startswith("databricks") and not os.environ.get(
        "MLFLOW_REGISTRY_URI"
    ):
        mlflow.set_registry_uri("databricks-uc")
    mlflow.set_experiment(EXPERIMENT)
    client = MlflowClient()

    features, labels = make_classification(
        n_samples=600, n_features=10, n_informative=4, random_state=3
    )
    x_train, x_test, y_train, y_test = train_test_split(features, labels, random_state=3)

    baseline = train_and_register(0.0005, x_train, y_train)
    candidate = train_and_register(1.0, x_train, y_train)
    if alias_version(client, "champion") is None:
        # A new model: the first version serves until something beats it.
        client.set_registered_model_alias(MODEL_NAME, "champion", baseline)
    client.set_registered_model_alias(MODEL_NAME, "challenger", candidate)

    # Compare both aliases on the same held-out data, loading them exactly as consumers do.
    scores = {}
    for alias in ("champion", "challenger"):
        model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@{alias}")
        scores[alias] = accuracy_score(y_test, model.predict(x_test))
        print(f"{alias} = version {alias_version(client, alias)}: accuracy {scores[alias]:.3f}")

    if scores["challenger"] >= scores["champion"]:
        client.set_registered_model_alias(MODEL_NAME, "champion", candidate)
        client.delete_registered_model_alias(MODEL_NAME, "challenger")
        client.set_model_version_tag(MODEL_NAME, candidate, "validation_status", "approved")
        print(f"promoted version {candidate} to champion")
    else:
        print(f"kept version {alias_version(client, 'champion')} as champion")

    champion = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    print(f"champion predicts {champion.predict(x_test[:5]).tolist()}")


if __name__ == "__main__":
    main()
