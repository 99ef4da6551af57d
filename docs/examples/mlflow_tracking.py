"""Track a training run and register the model in Unity Catalog: the guide's MLflow snippet.

Runs unchanged against Databricks and against the local workspace (`dbx-devkit local`): it
reads only MLflow's standard environment variables (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN
or the Databricks auth, MLFLOW_REGISTRY_URI, MLFLOW_EXPERIMENT_NAME). See docs/mlflow-local.md.
"""

from __future__ import annotations

import os

import mlflow
import mlflow.sklearn
import sklearn
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

EXPERIMENT = os.environ.get("MLFLOW_EXPERIMENT_NAME", "/Shared/fraud-detection")
MODEL_NAME = "main.models.fraud_detector"  # catalog.schema.model


def main() -> None:
    """Train a small fraud classifier, log it, and register it under a three-level name."""
    if mlflow.get_tracking_uri().startswith("databricks") and not os.environ.get(
        "MLFLOW_REGISTRY_URI"
    ):
        # On Databricks, three-level names live in the Unity Catalog registry.
        mlflow.set_registry_uri("databricks-uc")

    mlflow.set_experiment(EXPERIMENT)
    features, labels = make_classification(n_samples=500, n_features=8, random_state=7)
    x_train, x_test, y_train, y_test = train_test_split(features, labels, random_state=7)
    params = {"model": "logistic_regression", "C": 0.5, "max_iter": 200}

    with mlflow.start_run(run_name="logreg-baseline") as run:
        # Log parameters at start
        mlflow.log_params(params)

        model = LogisticRegression(C=params["C"], max_iter=params["max_iter"]).fit(x_train, y_train)

        predictions = model.predict(x_test)
        mlflow.log_metrics(
            {"accuracy": accuracy_score(y_test, predictions), "f1": f1_score(y_test, predictions)}
        )

        # Log the model and register it in Unity Catalog (catalog.schema.model)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name=MODEL_NAME,
            input_example=x_train[:5],
            # Pin what serving installs; naming it also skips MLflow's slow inference step.
            pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
        )

    print(f"run {run.info.run_id}: registered {MODEL_NAME} version {info.registered_model_version}")


if __name__ == "__main__":
    main()
