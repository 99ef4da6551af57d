"""The evaluation task: a self-contained python file that mlflow_evaluate uploads to the
workspace and runs as a one-time job run (Databricks serverless, or the local workspace's
task runtime). It never imports dbx-devkit: it runs where only MLflow and the runtime are.

argv[1] is a JSON object: run_id (the MLflow run to fill, made by the tool), target
(``models:/...`` or ``endpoints:/...``), table, columns (inputs), label (ground truth, or
null), family (``classic``/``genai``), scorers, judge (``endpoints:/...``, ``databricks``
or null), max_rows. The task reads the table, evaluates, and leaves per-row results in the
run: traces with assessments (genai) or ``eval_results_table.json`` (classic).
"""

from __future__ import annotations

import json
import sys
from typing import Any

# What an LLM judge is called in MLflow (mlflow.genai.scorers), by our scorer name.
JUDGES = {
    "correctness": "Correctness",
    "relevance_to_query": "RelevanceToQuery",
    "safety": "Safety",
}
# The input keys a chat endpoint or agent takes as they are.
CHAT_KEYS = ("messages", "input")
ENDPOINT_BATCH = 100


def read_table(table: str, columns: list[str], max_rows: int) -> Any:
    """The first ``max_rows`` rows of ``table`` as pandas, through the runtime's Spark."""
    session = globals().get("spark")
    if session is None:  # a Databricks python file task builds its own session
        from pyspark.sql import SparkSession

        session = SparkSession.builder.getOrCreate()
    quoted = ", ".join(quote(c) for c in columns)
    name = ".".join(quote(part) for part in table.split("."))
    frame = session.sql(f"SELECT {quoted} FROM {name} LIMIT {int(max_rows)}").toPandas()
    if len(frame) == 0:
        raise ValueError(f"{table} has no rows to evaluate.")
    return frame


def quote(identifier: str) -> str:
    return "`" + identifier.replace("`", "``") + "`"


def parsed(value: Any) -> Any:
    """A JSON array or object stored as text (e.g. a ``messages`` column) as the value."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if hasattr(value, "item"):  # numpy scalars: plain Python for JSON payloads
        return value.item()
    return value


def payload(inputs: dict[str, Any]) -> dict[str, Any]:
    """What the model or endpoint is sent: one plain text column becomes a user message."""
    if len(inputs) == 1:
        ((key, value),) = inputs.items()
        if key not in CHAT_KEYS and isinstance(value, str):
            return {"messages": [{"role": "user", "content": value}]}
    return inputs


def text_of(outputs: Any) -> str:
    """The answer's text, whatever the shape: chat, ChatAgent, ResponsesAgent, predictions."""
    if isinstance(outputs, str):
        return outputs
    if isinstance(outputs, dict):
        for choice in outputs.get("choices") or []:
            return str((choice.get("message") or {}).get("content") or choice.get("text") or "")
        messages = outputs.get("messages")
        if isinstance(messages, list) and messages:
            return str(messages[-1].get("content") or "")
        output = outputs.get("output")
        if isinstance(output, list) and output:
            content = output[-1].get("content")
            if isinstance(content, list) and content:
                return str(content[-1].get("text") or "")
            return str(content or "")
        if "predictions" in outputs:
            return text_of(outputs["predictions"])
        return json.dumps(outputs, default=str)
    if isinstance(outputs, list) and outputs:
        return text_of(outputs[0])
    return "" if outputs is None else str(outputs)


def expected_of(expectations: Any) -> str:
    return str((expectations or {}).get("expected_response") or "")


def code_scorers() -> dict[str, Any]:
    """The built-in code scorers, by name (no LLM: they run offline)."""
    from mlflow.entities import Feedback
    from mlflow.genai.scorers import scorer

    @scorer
    def exact_match(outputs, expectations) -> bool:
        return text_of(outputs).strip() == expected_of(expectations).strip()

    @scorer
    def contains_expected(outputs, expectations) -> bool:
        return expected_of(expectations).strip().lower() in text_of(outputs).lower()

    @scorer
    def latency_ms(trace) -> Feedback:
        return Feedback(value=float(trace.info.execution_duration or 0))

    return {
        "exact_match": exact_match,
        "contains_expected": contains_expected,
        "latency_ms": latency_ms,
    }


def genai_scorers(names: list[str], judge: str | None) -> list[Any]:
    import mlflow.genai.scorers as builtin

    code = code_scorers()
    chosen = []
    for name in names:
        if name in code:
            chosen.append(code[name])
        else:
            judge_class = getattr(builtin, JUDGES[name])
            chosen.append(judge_class(model=judge) if judge else judge_class())
    return chosen


def predictor(target: str) -> Any:
    """The genai predict_fn of a served endpoint or a registered model (one trace a call)."""
    import mlflow

    if target.startswith("endpoints:/"):
        call = mlflow.genai.to_predict_fn(target)
    else:
        model = mlflow.pyfunc.load_model(target)

        def call(**inputs):  # pyfunc takes the request as one argument
            return model.predict(inputs)

    @mlflow.trace(name="predict")
    def predict(**inputs):
        return call(**payload(inputs))

    return predict


def evaluate_genai(spec: dict[str, Any], frame: Any) -> None:
    import mlflow

    label = spec.get("label")
    rows = []
    for record in frame.to_dict(orient="records"):
        inputs = {c: parsed(record[c]) for c in spec["columns"] if c != label}
        row: dict[str, Any] = {"inputs": inputs}
        if label:
            row["expectations"] = {"expected_response": parsed(record[label])}
        rows.append(row)
    mlflow.genai.evaluate(
        data=rows,
        predict_fn=predictor(spec["target"]),
        scorers=genai_scorers(spec["scorers"], spec.get("judge")),
    )


def endpoint_model(name: str) -> Any:
    """A function mlflow.evaluate calls with the feature frame: the endpoint's predictions."""
    from databricks.sdk import WorkspaceClient

    client = WorkspaceClient()

    def predict(features):
        answers: list[Any] = []
        records = features.to_dict(orient="records")
        for start in range(0, len(records), ENDPOINT_BATCH):
            batch = [
                {k: parsed(v) for k, v in r.items()}
                for r in records[start : start + ENDPOINT_BATCH]
            ]
            answer = client.serving_endpoints.query(name, dataframe_records=batch)
            answers.extend(answer.predictions or [])
        return answers

    return predict


def row_metric(model_type: str) -> Any:
    """A per-row ground-truth metric, so the run keeps an eval table row by row."""
    from mlflow.metrics import MetricValue
    from mlflow.models import make_metric

    if model_type == "classifier":

        def correct(predictions, targets):
            scores = [float(p == t) for p, t in zip(predictions, targets, strict=True)]
            return MetricValue(scores=scores, aggregate_results={"mean": sum(scores) / len(scores)})

        return make_metric(eval_fn=correct, greater_is_better=True, name="correct")

    def abs_error(predictions, targets):
        scores = [abs(float(p) - float(t)) for p, t in zip(predictions, targets, strict=True)]
        return MetricValue(scores=scores, aggregate_results={"mean": sum(scores) / len(scores)})

    return make_metric(eval_fn=abs_error, greater_is_better=False, name="abs_error")


def evaluate_classic(spec: dict[str, Any], frame: Any) -> None:
    import mlflow

    target = spec["target"]
    model_type = spec["scorers"][0]
    model = endpoint_model(target.split(":/", 1)[1]) if target.startswith("endpoints:/") else target
    mlflow.evaluate(
        model=model,
        data=frame,
        targets=spec["label"],
        model_type=model_type,
        extra_metrics=[row_metric(model_type)],
        evaluator_config={"log_model_explainability": False},
    )


def main(spec: dict[str, Any]) -> None:
    """Fill the run ``spec['run_id']`` with the evaluation of ``spec['target']``."""
    import mlflow
    import mlflow.deployments

    # Endpoints (targets and judges) are this workspace's serving endpoints.
    mlflow.deployments.set_deployments_target("databricks")
    frame = read_table(spec["table"], spec["columns"], int(spec["max_rows"]))
    print(f"evaluating {spec['target']} on {len(frame)} rows of {spec['table']}", flush=True)
    with mlflow.start_run(run_id=spec["run_id"]):
        mlflow.set_tags(
            {
                "dbx_devkit.evaluation.target": spec["target"],
                "dbx_devkit.evaluation.table": spec["table"],
            }
        )
        if spec["family"] == "genai":
            evaluate_genai(spec, frame)
        else:
            evaluate_classic(spec, frame)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
