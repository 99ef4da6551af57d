"""MLflow traces land in the local workspace's experiments from job code, from a user's script
on tracking URI ``databricks``, and from a served agent; the trace tools find and show them."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import anyio
import pytest
from mcp import Client

from local_workspace.runner import LocalWorkspace
from tests.conftest import import_notebook, mlflow_script, ok, run_notebook_job, text_of

pytestmark = pytest.mark.anyio

# A job notebook: one trace whose child span fails (caught), and one trace that fails.
TRACED_NOTEBOOK = """# Databricks notebook source
import mlflow
mlflow.set_experiment(dbutils.widgets.get("experiment"))

@mlflow.trace(span_type="RETRIEVER")
def retrieve(question):
    return ["doc-" + question]

@mlflow.trace
def answer(question):
    docs = retrieve(question)
    try:
        with mlflow.start_span("rerank"):
            raise ValueError("reranker offline")
    except ValueError:
        pass
    return {"answer": "42", "docs": docs}

@mlflow.trace
def broken(question):
    raise RuntimeError("no model")

answer("meaning of life " + "x" * 2000)
try:
    broken("q")
except RuntimeError:
    pass
mlflow.flush_trace_async_logging()
"""

# A user's script with DATABRICKS_HOST/TOKEN and tracking URI `databricks`, as on Databricks:
# it traces a function and reads the trace back; then, on the workspace URL, it logs and
# registers a ResponsesAgent (argv: experiment, model name) whose own span is traced too.
SCRIPT = """
import json, os, sys, uuid
import mlflow
from mlflow.pyfunc import ResponsesAgent
from mlflow.types.responses import ResponsesAgentRequest, ResponsesAgentResponse

experiment, model_name = sys.argv[1], sys.argv[2]
workspace_url = os.environ["MLFLOW_TRACKING_URI"]  # set_tracking_uri rewrites the variable
mlflow.set_tracking_uri("databricks")
mlflow.set_experiment(experiment)

@mlflow.trace
def add(a, b):
    return a + b

add(2, 3)
trace_id = mlflow.get_last_active_trace_id()
mlflow.flush_trace_async_logging()
spans = [span.name for span in mlflow.get_trace(trace_id).data.spans]

class Echo(ResponsesAgent):
    def predict(self, request: ResponsesAgentRequest) -> ResponsesAgentResponse:
        text = request.input[-1].content
        with mlflow.start_span("lookup") as span:
            span.set_inputs({"q": text})
            span.set_outputs({"hits": 1})
        item = self.create_text_output_item(f"echo: {text}", uuid.uuid4().hex)
        return ResponsesAgentResponse(output=[item])

mlflow.set_tracking_uri(workspace_url)
mlflow.set_experiment(experiment + "-agent")
mlflow.pyfunc.log_model(
    name="agent", python_model=Echo(), registered_model_name=model_name,
    pip_requirements=["mlflow"],
)
print(json.dumps({"trace_id": trace_id, "spans": spans}))
"""


def _run_job(ws: Any, path: str, experiment: str) -> None:
    run_notebook_job(ws, path, {"experiment": experiment})


async def _traces(mcp: Client, **arguments: Any) -> dict[str, Any]:
    result = await ok(mcp, "mlflow_search_traces", **arguments)
    structured = result.structured_content
    assert structured is not None
    return structured


async def _poll_traces(mcp: Client, count: int, **arguments: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while len((found := await _traces(mcp, **arguments))["traces"]) < count:
        assert time.monotonic() < deadline, f"only {found['traces']} traces appeared"
        await anyio.sleep(0.2)
    return found


async def test_traces_from_a_job_task_are_found_filtered_and_shown_with_errors_first(
    mcp: Client, ws: Any
) -> None:
    tag = uuid.uuid4().hex[:8]
    experiment = f"/Shared/t_traces_job_{tag}"
    path = f"/Shared/t_traces/{tag}/traced"
    import_notebook(ws, path, TRACED_NOTEBOOK)
    await anyio.to_thread.run_sync(_run_job, ws, path, experiment)

    found = await _traces(mcp, experiment=experiment)
    assert sorted((t["top_span"], t["status"]) for t in found["traces"]) == [
        ("answer", "OK"),
        ("broken", "ERROR"),
    ]
    failed = await _traces(mcp, experiment=experiment, status="ERROR", last_hours=1)
    assert [t["top_span"] for t in failed["traces"]] == ["broken"]
    assert (await _traces(mcp, experiment=experiment, tags={"team": "none"}))["traces"] == []
    table = text_of(await ok(mcp, "mlflow_search_traces", experiment=experiment))
    assert "| answer |" in table and "meaning of life" in table

    trace_id = next(t["trace_id"] for t in found["traces"] if t["top_span"] == "answer")
    shown = await ok(mcp, "mlflow_get_trace", trace_id=trace_id)
    text = text_of(shown)
    # The failing span is named before the tree, with its message; latency per span.
    assert text.index("errors (1):") < text.index("spans (3):")
    assert "rerank" in text.split("spans (3):")[0] and "reranker offline" in text
    assert "- retrieve [RETRIEVER] OK" in text and " ms" in text
    detail = shown.structured_content
    assert detail is not None
    assert [(s["name"], s["depth"]) for s in detail["spans"]] == [
        ("answer", 0),
        ("retrieve", 1),
        ("rerank", 1),
    ]
    # Inputs are capped: the 2,000-character question is not echoed whole.
    assert all(len(s.get("inputs") or "") <= 300 for s in detail["spans"])
    assert len(text) < 3000


async def test_a_databricks_uri_script_and_a_served_responses_agent_record_traces(
    mcp: Client, ws: Any, local_ws: LocalWorkspace
) -> None:
    from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

    tag = uuid.uuid4().hex[:8]
    experiment = f"/Shared/t_traces_script_{tag}"
    model = f"main.default.t_traces_agent_{tag}"
    script = await anyio.to_thread.run_sync(
        lambda: mlflow_script(local_ws, SCRIPT, experiment, model, databricks_auth=True)
    )
    # Exported and read back through tracking URI `databricks`, as on Databricks.
    assert script["spans"] == ["add"]
    found = await _traces(mcp, experiment=experiment)
    assert [t["trace_id"] for t in found["traces"]] == [script["trace_id"]]
    shown = text_of(await ok(mcp, "mlflow_get_trace", trace_id=script["trace_id"]))
    assert "- add OK" in shown and "out: 5" in shown

    endpoint = f"t-traces-{tag}"
    config = EndpointCoreConfigInput(
        name=endpoint,
        served_entities=[ServedEntityInput(entity_name=model, entity_version="1")],
    )

    def serve() -> Any:
        ws.serving_endpoints.create(name=endpoint, config=config)
        # The SDK's QueryEndpointResponse has no field for a ResponsesAgent's `output`.
        body = {"input": [{"role": "user", "content": "hi"}]}
        return ws.api_client.do("POST", f"/serving-endpoints/{endpoint}/invocations", body=body)

    answer = await anyio.to_thread.run_sync(serve)
    assert "echo: hi" in json.dumps(answer)
    # The request's trace goes to the experiment the agent was logged in.
    served = await _poll_traces(mcp, 1, experiment=experiment + "-agent")
    assert [(t["top_span"], t["request"]) for t in served["traces"]] == [("predict", "hi")]
    tree = text_of(await ok(mcp, "mlflow_get_trace", trace_id=served["traces"][0]["trace_id"]))
    assert "- predict [AGENT] OK" in tree and 'in: {"q": "hi"}' in tree
    ws.serving_endpoints.delete(endpoint)
