"""Log the order-status agent as models from code, register it, load it back and ask it.

Reads only MLflow's standard environment variables; runs unchanged against Databricks (the
schema `main.docs_mosaic_agents` must exist) and the local workspace (`dbx-devkit local`).
Rerunnable: each run registers a new version. On Databricks, `databricks.agents.deploy`
would then serve the registered version with a review app and inference tables.
"""

from __future__ import annotations

import os
from pathlib import Path

import mlflow

EXPERIMENT = os.environ.get("MLFLOW_EXPERIMENT_NAME", "/Shared/docs-order-status-agent")
MODEL_NAME = "main.docs_mosaic_agents.order_status_agent"
AGENT_CODE = Path(__file__).with_name("mosaic_agents_agent.py")


def main() -> None:
    """Log (from code), register, reload through the registry, and answer two questions."""
    if mlflow.get_tracking_uri().startswith("databricks") and not os.environ.get(
        "MLFLOW_REGISTRY_URI"
    ):
        mlflow.set_registry_uri("databricks-uc")
    mlflow.set_experiment(EXPERIMENT)

    question = {"input": [{"role": "user", "content": "Where is order 1001?"}]}
    with mlflow.start_run(run_name="order-status-agent"):
        info = mlflow.pyfunc.log_model(
            name="agent",
            python_model=str(AGENT_CODE),  # a file path: models from code, no pickling
            input_example=question,
            registered_model_name=MODEL_NAME,
            # The agent needs only MLflow: pin it rather than let MLflow infer (slow).
            pip_requirements=[f"mlflow=={mlflow.__version__}"],
        )
    version = info.registered_model_version
    print(f"registered {MODEL_NAME} version {version}")

    agent = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version}")
    for text in ("Where is order 1001?", "And my other order?"):
        response = agent.predict({"input": [{"role": "user", "content": text}]})
        tools = [item["name"] for item in response["output"] if item["type"] == "function_call"]
        answer = response["output"][-1]["content"][0]["text"]
        print(f"{text} -> {answer} (tools: {', '.join(tools) or 'none'})")


if __name__ == "__main__":
    main()
