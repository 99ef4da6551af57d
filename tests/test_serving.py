"""Model Serving on the local workspace: the real SDK and the serving_* tools serve
registered model versions (scikit-learn and a rule-based ChatAgent) loaded with pyfunc."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from local_workspace.config import LocalConfig
from local_workspace.runner import LocalWorkspace
from tests.conftest import fails, mlflow_script, ok, text_of
from tools_core.backend import Backend, workspace_client
from tools_core.mlflow_client import mlflow_client
from tools_core.retries import Timeouts

pytestmark = pytest.mark.anyio

# A user's script (argv: model name): v1 learns y, v2 learns 1 - y, so they disagree on
# every row by construction; both are registered, loaded back with pyfunc and asked about
# five rows. Prints the rows (records and split) and each version's predictions.
REGISTER_TWO_VERSIONS = """
import json, sys
import mlflow
import pandas as pd
from mlflow.models import infer_signature
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

name = sys.argv[1]
X, y = make_classification(n_samples=200, n_features=4, random_state=3)
X = pd.DataFrame(X, columns=["a", "b", "c", "d"])
for labels in (y, 1 - y):
    model = LogisticRegression(max_iter=300).fit(X, labels)
    with mlflow.start_run():
        mlflow.sklearn.log_model(
            model,
            name="model",
            registered_model_name=name,
            signature=infer_signature(X, model.predict(X)),
            pip_requirements=["scikit-learn"],
        )
rows = X.head(5)
direct = {
    f"v{v}": [int(p) for p in mlflow.pyfunc.load_model(f"models:/{name}/{v}").predict(rows)]
    for v in (1, 2)
}
print(json.dumps({
    "records": rows.to_dict(orient="records"), "split": rows.to_dict(orient="split"), **direct
}))
"""

# A user's script (argv: model name) that logs and registers a rule-based ChatAgent which
# replies pong to ping and echoes anything else.
REGISTER_PING_AGENT = """
import json, sys, uuid
import mlflow
from mlflow.pyfunc import ChatAgent
from mlflow.types.agent import ChatAgentMessage, ChatAgentResponse

class PingAgent(ChatAgent):
    def predict(self, messages, context=None, custom_inputs=None):
        text = messages[-1].content
        reply = "pong" if text.strip().lower() == "ping" else f"echo: {text}"
        message = ChatAgentMessage(role="assistant", content=reply, id=uuid.uuid4().hex)
        return ChatAgentResponse(messages=[message])

with mlflow.start_run():
    mlflow.pyfunc.log_model(
        name="agent",
        python_model=PingAgent(),
        registered_model_name=sys.argv[1],
        pip_requirements=["mlflow"],
    )
print(json.dumps({"registered": sys.argv[1]}))
"""


async def test_a_champion_served_by_the_tools_predicts_like_the_model_and_follows_the_alias(
    mcp: Client, backend: Backend, local_ws: LocalWorkspace
) -> None:
    name = f"main.t_serve.clf_{uuid.uuid4().hex[:6]}"
    registered = mlflow_script(local_ws, REGISTER_TWO_VERSIONS, name)
    records, v1, v2 = registered["records"], registered["v1"], registered["v2"]
    client = mlflow_client(backend)
    client.set_registered_model_alias(name, "champion", "1")
    endpoint = f"t-serve-{uuid.uuid4().hex[:6]}"

    created = await ok(mcp, "serving_create_endpoint", name=endpoint, model=f"{name}@champion")
    assert created.structured_content["ready"] == "READY", text_of(created)
    assert created.structured_content["served"] == [f"{name}/1"]
    answer = await ok(mcp, "serving_query", name=endpoint, records=records)
    assert text_of(answer) == str(v1).replace(" ", "")

    client.set_registered_model_alias(name, "champion", "2")
    preview = await ok(mcp, "serving_update_endpoint", name=endpoint, model=f"{name}@champion")
    assert preview.structured_content["served"] == [f"{name}/1"]
    assert "confirm=true" in text_of(preview)
    updated = await ok(
        mcp, "serving_update_endpoint", name=endpoint, model=f"{name}@champion", confirm=True
    )
    assert updated.structured_content["served"] == [f"{name}/2"]
    answer = await ok(mcp, "serving_query", name=endpoint, records=records)
    assert v2 != v1
    assert text_of(answer) == str(v2).replace(" ", "")
    listed = text_of(await ok(mcp, "serving_list_endpoints"))
    assert endpoint in listed and f"{name}/2" in listed

    again = await fails(mcp, "serving_create_endpoint", name=endpoint, model=f"{name}/1")
    assert "serving_update_endpoint" in again

    wrong = await fails(mcp, "serving_query", name=endpoint, records=[{"x": 1.0}])
    assert wrong.startswith("BAD_REQUEST"), wrong
    assert "registry_get_version" in wrong

    # A new config sent while the previous one still loads (the load fetches the model from
    # the workspace itself): both are accepted, the workspace keeps answering, the last wins.
    for version in ("1", "2"):
        await ok(
            mcp, "serving_update_endpoint", name=endpoint, model=f"{name}/{version}", confirm=True
        )
    assert endpoint in text_of(await ok(mcp, "serving_list_endpoints"))
    settled = await anyio.to_thread.run_sync(
        backend.client.serving_endpoints.wait_get_serving_endpoint_not_updating, endpoint
    )
    assert settled.config.served_entities[0].entity_version == "2"
    final = await ok(mcp, "serving_query", name=endpoint, records=records)
    assert text_of(final) == str(v2).replace(" ", "")


async def test_unknown_and_foundation_model_endpoints_say_what_to_do(mcp: Client) -> None:
    missing = await fails(mcp, "serving_query", name="no-such-endpoint", records=[{"a": 1}])
    assert missing.startswith("RESOURCE_DOES_NOT_EXIST") and "serving_list_endpoints" in missing
    llm = await fails(
        mcp,
        "serving_query",
        name="databricks-meta-llama-3-3-70b-instruct",
        messages=[{"role": "user", "content": "hi"}],
    )
    assert "not available in the local workspace" in llm


def test_external_models_are_refused_as_not_available_locally(ws: Any) -> None:
    from databricks.sdk.errors import DatabricksError

    external = {"name": "gpt", "provider": "openai", "task": "llm/v1/chat"}
    body = {"name": "t-serve-ext", "config": {"served_entities": [{"external_model": external}]}}
    with pytest.raises(DatabricksError, match="not available in the local workspace"):
        ws.api_client.do("POST", "/api/2.0/serving-endpoints", body=body)


def test_the_sdk_creates_waits_for_and_queries_an_endpoint_which_survives_a_restart(
    tmp_path: Path,
) -> None:
    from databricks.sdk.service.serving import (
        DataframeSplitInput,
        EndpointCoreConfigInput,
        ServedEntityInput,
    )

    # A workspace of its own: the restart must not pull the session's workspace away.
    config = LocalConfig(data_dir=tmp_path / "ws", seed=False)
    name = f"main.t_serve.sdk_{uuid.uuid4().hex[:6]}"
    endpoint = f"t-serve-sdk-{uuid.uuid4().hex[:6]}"
    with LocalWorkspace(config) as first:
        registered = mlflow_script(first, REGISTER_TWO_VERSIONS, name)
        records = registered["records"]
        ws: Any = workspace_client(host=first.url, token=first.token, retry_timeout_seconds=15)
        config_input = EndpointCoreConfigInput(
            name=endpoint,
            served_entities=[
                ServedEntityInput(
                    entity_name=name,
                    entity_version="2",
                    workload_size="Small",
                    scale_to_zero_enabled=True,
                )
            ],
        )
        detail = ws.serving_endpoints.create_and_wait(name=endpoint, config=config_input)
        assert detail.state.ready.value == "READY"
        got = ws.serving_endpoints.get(endpoint)
        assert got.config.served_entities[0].entity_version == "2"
        answer = ws.serving_endpoints.query(endpoint, dataframe_records=records)
        assert answer.predictions == registered["v2"]
        split = ws.serving_endpoints.query(
            endpoint, dataframe_split=DataframeSplitInput.from_dict(registered["split"])
        )
        assert split.predictions == answer.predictions

    # The restarted workspace reads serving.json and loads the model again on first use: that
    # first query waits for the new process's MLflow and the model (a patient client).
    with LocalWorkspace(config) as second:
        ws = workspace_client(host=second.url, token=second.token, timeouts=Timeouts(call_s=180))
        assert ws.serving_endpoints.get(endpoint).state.ready.value == "READY"
        again = ws.serving_endpoints.query(endpoint, dataframe_records=records)
        assert again.predictions == registered["v2"]
        ws.serving_endpoints.delete(endpoint)
        assert endpoint not in [e.name for e in ws.serving_endpoints.list()]


async def test_a_rule_based_chat_agent_answers_messages_through_serving_query(
    mcp: Client, local_ws: LocalWorkspace
) -> None:
    name = f"main.t_serve.agent_{uuid.uuid4().hex[:6]}"
    assert mlflow_script(local_ws, REGISTER_PING_AGENT, name) == {"registered": name}
    endpoint = f"t-serve-agent-{uuid.uuid4().hex[:6]}"
    await ok(mcp, "serving_create_endpoint", name=endpoint, model=f"{name}/1")
    pong = await ok(
        mcp, "serving_query", name=endpoint, messages=[{"role": "user", "content": "ping"}]
    )
    assert '"content":"pong"' in text_of(pong)
    echo = await ok(
        mcp, "serving_query", name=endpoint, messages=[{"role": "user", "content": "hello"}]
    )
    assert "echo: hello" in text_of(echo)


def _embedding_model_installed() -> bool:
    from local_workspace.embeddings import model_installed

    return model_installed()


@pytest.mark.skipif(not _embedding_model_installed(), reason="embeddings extra not installed")
def test_the_local_embedding_model_is_a_ready_endpoint_answering_openai_style_embeddings(
    ws: Any,
) -> None:
    names = [e.name for e in ws.serving_endpoints.list()]
    assert "local-minilm-l6-v2" in names
    answer = ws.serving_endpoints.query("local-minilm-l6-v2", input=["a cat", "a dog"])
    assert [d.index for d in answer.data] == [0, 1]
    assert len(answer.data[0].embedding) == 384
