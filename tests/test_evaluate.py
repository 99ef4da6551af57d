"""mlflow_evaluate on the session workspace: a served agent (mlflow.genai.evaluate, code
scorers and an LLM judge served by the workspace) and a registered classifier
(mlflow.evaluate) evaluated on 20-row Unity Catalog tables, each as one job run; bad
inputs refused before anything starts."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from mcp import Client

from local_workspace.runner import LocalWorkspace
from tests.conftest import fails, mlflow_script, ok, text_of
from tools_core import evaluation, registry
from tools_core.backend import Backend

pytestmark = pytest.mark.anyio

WAREHOUSE = "dbxlocal00000001"

# A user's script (argv: agent name, classifier name). Registers in Unity Catalog a rule-based
# ChatAgent that echoes the question, or, asked as a judge (its prompt asks for a JSON
# "result"), answers yes; and a classifier of four features. Prints 20 feature rows with the
# model's labels.
REGISTER = """
import json, sys, uuid
import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.pyfunc import ChatAgent
from mlflow.types.agent import ChatAgentMessage, ChatAgentResponse
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

mlflow.set_registry_uri("databricks-uc")  # as job code on Databricks registers


class EchoAgent(ChatAgent):
    def predict(self, messages, context=None, custom_inputs=None):
        text = messages[-1].content
        if '"result"' in text or "rationale" in text:
            reply = json.dumps({"result": "yes", "rationale": "matches"})
        else:
            reply = f"echo: {text}"
        message = ChatAgentMessage(role="assistant", content=reply, id=uuid.uuid4().hex)
        return ChatAgentResponse(messages=[message])

with mlflow.start_run():
    mlflow.pyfunc.log_model(
        name="agent", python_model=EchoAgent(), registered_model_name=sys.argv[1],
        pip_requirements=["mlflow"],
    )
X, y = make_classification(n_samples=200, n_features=4, random_state=3)
X = pd.DataFrame(X, columns=["a", "b", "c", "d"])
model = LogisticRegression(max_iter=300).fit(X, y)
with mlflow.start_run():
    mlflow.sklearn.log_model(
        model, name="model", registered_model_name=sys.argv[2],
        signature=infer_signature(X, model.predict(X)), pip_requirements=["scikit-learn"],
    )
rows = X.head(20)
print(json.dumps({"rows": rows.values.tolist(), "predicted": model.predict(rows).tolist()}))
"""


def sql(ws: Any, statement: str) -> None:
    response = ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE, statement=statement, wait_timeout="30s"
    )
    assert response.status.state.value == "SUCCEEDED", response.status.error


@pytest.fixture(scope="module")
def setup(ws: Any, local_ws: LocalWorkspace) -> Iterator[dict[str, str]]:
    """Two 20-row tables, a served echo agent, a registered classifier."""
    suffix = uuid.uuid4().hex[:6]
    schema = f"main.t_eval_{suffix}"
    agent, classifier = f"{schema}.agent", f"{schema}.clf"
    sql(ws, f"CREATE SCHEMA {schema}")
    registered = mlflow_script(local_ws, REGISTER, agent, classifier, databricks_auth=True)
    # Every third question expects "nope": 7 of 20 rows fail exact_match and contains_expected.
    questions = ", ".join(
        f"('q{i}', '{'nope' if i % 3 == 0 else f'echo: q{i}'}', {i})" for i in range(20)
    )
    sql(ws, f"CREATE TABLE {schema}.questions (question STRING, expected STRING, id INT)")
    sql(ws, f"INSERT INTO {schema}.questions VALUES {questions}")
    # The model's own labels, with rows 2 and 5 flipped: exactly those two are wrong.
    labels = [1 - p if i in (2, 5) else p for i, p in enumerate(registered["predicted"])]
    values = ", ".join(
        f"({a}, {b}, {c}, {d}, {label})"
        for (a, b, c, d), label in zip(registered["rows"], labels, strict=True)
    )
    sql(ws, f"CREATE TABLE {schema}.features (a DOUBLE, b DOUBLE, c DOUBLE, d DOUBLE, label INT)")
    sql(ws, f"INSERT INTO {schema}.features VALUES {values}")
    endpoint = f"t-eval-{suffix}"
    from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

    entity = ServedEntityInput(entity_name=agent, entity_version="1")
    ws.serving_endpoints.create_and_wait(
        name=endpoint, config=EndpointCoreConfigInput(name=endpoint, served_entities=[entity])
    )
    yield {"schema": schema, "endpoint": endpoint, "classifier": classifier}
    ws.serving_endpoints.delete(endpoint)


async def test_a_served_agent_is_evaluated_on_a_table_with_per_row_assessments(
    mcp: Client, setup: dict[str, str], backend: Backend
) -> None:
    result = await ok(
        mcp,
        "mlflow_evaluate",
        target=f"endpoints:/{setup['endpoint']}",
        table=f"{setup['schema']}.questions",
        scorers=["exact_match", "contains_expected", "latency_ms", "correctness"],
        label="expected",
        inputs=["question"],
        judge_endpoint=setup["endpoint"],
        timeout_s=300,
    )
    summary = result.structured_content
    assert summary["state"] == "FINISHED" and summary["rows"] == 20, text_of(result)
    metrics = summary["metrics"]
    assert metrics["exact_match/mean"] == pytest.approx(13 / 20)
    assert metrics["contains_expected/mean"] == pytest.approx(13 / 20)
    assert metrics["correctness/mean"] == 1.0  # the served judge said yes to every row
    assert metrics["latency_ms/mean"] > 0
    worst = summary["worst"]
    assert len(worst) == 5
    assert all(w["expected"] == "nope" and "exact_match" in w["verdict"] for w in worst)
    # Per-row assessments are on the run's traces, one per row, as mlflow.genai.evaluate
    # leaves them; the tool's text names the run and how to read them.
    from tools_core.mlflow_client import mlflow_client

    client = mlflow_client(backend)
    run = client.get_run(summary["run_id"])
    assert run.data.tags["mlflow.runType"] == "genai_evaluate"
    traces = client.search_traces(
        locations=[summary["experiment_id"]],
        run_id=summary["run_id"],
        max_results=100,
        include_spans=False,
    )
    assert len(traces) == 20
    names = {a.name for a in traces[0].info.assessments}
    assert {"exact_match", "contains_expected", "latency_ms", "correctness"} <= names
    assert summary["run_id"] in text_of(result) and "worst rows" in text_of(result)


def test_a_registered_classifier_gets_ground_truth_metrics_and_its_wrong_rows(
    backend: Backend, setup: dict[str, str]
) -> None:
    result = evaluation.evaluate(
        backend,
        f"models:/{setup['classifier']}/1",
        f"{setup['schema']}.features",
        ["classifier"],
        label="label",
    )
    assert result.state == "FINISHED" and result.rows == 20
    assert result.metrics["accuracy_score"] == pytest.approx(18 / 20)
    assert {"f1_score", "precision_score", "recall_score"} <= set(result.metrics)
    assert sorted(w.row for w in result.worst) == ["2", "5"]
    assert all(w.verdict == "correct=0.0" for w in result.worst)
    assert json.loads(result.worst[0].inputs).keys() == {"a", "b", "c", "d"}
    # The version remembers its evaluation, for registry_promote metric_from=evaluation.
    version = registry.get_version(backend, setup["classifier"], 1)
    assert version.tags["evaluation_run_id"] == result.run_id


async def test_bad_inputs_are_refused_before_anything_runs(
    mcp: Client, setup: dict[str, str]
) -> None:
    table = f"{setup['schema']}.questions"
    target = f"endpoints:/{setup['endpoint']}"
    base = {"target": target, "table": table, "label": "expected"}
    missing = await fails(
        mcp, "mlflow_evaluate", **{**base, "table": f"{table}_nope"}, scorers=["exact_match"]
    )
    assert missing.startswith("TABLE_OR_VIEW_NOT_FOUND"), missing
    column = await fails(
        mcp, "mlflow_evaluate", **{**base, "label": "answer"}, scorers=["exact_match"]
    )
    assert "no column 'answer'" in column and "question, expected, id" in column
    no_label = await fails(
        mcp, "mlflow_evaluate", target=target, table=table, scorers=["exact_match"]
    )
    assert "label=<column>" in no_label
    unknown = await fails(mcp, "mlflow_evaluate", **base, scorers=["bleu"])
    assert "scorers" in unknown and "exact_match" in unknown  # the allowed names
    judge = await fails(mcp, "mlflow_evaluate", **base, scorers=["correctness"])
    assert "judge_endpoint" in judge and "LLM judge" in judge
    no_judge = await fails(
        mcp, "mlflow_evaluate", **base, scorers=["safety"], judge_endpoint="no-such-judge"
    )
    assert "no-such-judge" in no_judge and "does not exist" in no_judge
    mixed = await fails(mcp, "mlflow_evaluate", **base, scorers=["classifier", "exact_match"])
    assert "classifier" in mixed and "on its own" in mixed
    endpoint = await fails(
        mcp, "mlflow_evaluate", **{**base, "target": "endpoints:/nope-x"}, scorers=["exact_match"]
    )
    assert "nope-x" in endpoint and "serving_list_endpoints" in endpoint
    version = await fails(
        mcp,
        "mlflow_evaluate",
        **{**base, "target": f"models:/{setup['classifier']}/9"},
        scorers=["exact_match"],
    )
    assert "does not exist" in version
    uri = await fails(
        mcp, "mlflow_evaluate", **{**base, "target": "runs:/abc/model"}, scorers=["exact_match"]
    )
    assert "models:/<catalog>.<schema>.<model>/<version>" in uri
