"""An order-status agent in the ResponsesAgent interface, written as MLflow "models from code".

MLflow logs this file's source (not a pickle); `mlflow.models.set_model` names the object to
serve. The LLM here is a deterministic stand-in so the example runs offline and the tests
can check its answers: on Databricks, replace `stub_llm` with a call to a model serving
endpoint (for example through the OpenAI client of `databricks-openai`, or
`WorkspaceClient().serving_endpoints.get_open_ai_client()`). Run this file to try the agent
in process; mosaic_agents_log_and_query.py logs, registers and reloads it.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import mlflow
from mlflow.pyfunc import ResponsesAgent
from mlflow.types.responses import ResponsesAgentRequest, ResponsesAgentResponse

ORDERS = {"1001": "shipped on 2026-01-30", "1002": "waiting for payment"}

TOOLS = [
    {
        "type": "function",
        "name": "get_order_status",
        "description": "The shipping status of one order.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string", "description": "Order number"}},
            "required": ["order_id"],
        },
    }
]


def get_order_status(order_id: str) -> str:
    """The tool: look an order up (a real agent would query a table or an API)."""
    return ORDERS.get(order_id, "not found")


def stub_llm(messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> dict[str, Any]:
    """A deterministic stand-in for a tool-calling LLM: returns a tool call or a final text."""
    last = messages[-1]
    if last.get("type") == "function_call_output":
        return {"text": f"Your order is {last['output']}."}
    found = re.search(r"\b(\d{4})\b", str(last.get("content", "")))
    if found and tools:
        return {"tool": "get_order_status", "arguments": {"order_id": found.group(1)}}
    return {"text": "Please give me your four-digit order number."}


class OrderStatusAgent(ResponsesAgent):
    """Answers order questions; calls `get_order_status` when the user gives an order id."""

    def predict(self, request: ResponsesAgentRequest) -> ResponsesAgentResponse:  # type: ignore[override]
        """Run the tool-calling loop until the LLM answers with text (at most 5 turns)."""
        messages: list[dict[str, Any]] = [item.model_dump() for item in request.input]
        outputs: list[dict[str, Any]] = []
        for _ in range(5):
            reply = stub_llm(messages, TOOLS)
            if "text" in reply:
                outputs.append(self.create_text_output_item(reply["text"], id=str(uuid.uuid4())))
                break
            call_id = str(uuid.uuid4())
            call = self.create_function_call_item(
                id=str(uuid.uuid4()),
                call_id=call_id,
                name=reply["tool"],
                arguments=json.dumps(reply["arguments"]),
            )
            result = self.create_function_call_output_item(
                call_id=call_id, output=get_order_status(**reply["arguments"])
            )
            outputs += [call, result]
            messages += [call, result]
        return ResponsesAgentResponse.model_validate({"output": outputs})


AGENT = OrderStatusAgent()
mlflow.models.set_model(AGENT)

if __name__ == "__main__":
    question = {"input": [{"role": "user", "content": "Where is order 1001?"}]}
    response = AGENT.predict(ResponsesAgentRequest.model_validate(question))
    print(response.output[-1].model_dump()["content"][0]["text"])
