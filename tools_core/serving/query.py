"""Query a serving endpoint: dataframe records, raw inputs, or chat messages."""

from __future__ import annotations

import json
from typing import Any

from tools_core import ids
from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.results import Result
from tools_core.serving.endpoints import LIST_HINT

OUTPUT_MAX_CHARS = 4000
BAD_INPUT_HINT = "Check the model's input columns (registry_get_version) and retry."


class QueryResult(Result):
    """An endpoint's answer as compact JSON text, capped."""

    endpoint: str
    output: str
    truncated: bool = False

    def to_text(self) -> str:
        more = "\n(output cut: send fewer rows)" if self.truncated else ""
        return self.output + more


def _body(
    records: list[dict[str, Any]] | None,
    inputs: Any,
    messages: list[dict[str, Any]] | None,
    max_tokens: int | None,
) -> dict[str, Any]:
    given = [k for k, v in (("records", records), ("inputs", inputs), ("messages", messages)) if v]
    if len(given) != 1:
        raise InvalidInput(
            "pass exactly one of records, inputs, messages.",
            'e.g. records=[{"x": 1}] or messages=[{"role":"user","content":"hi"}].',
        )
    if records:
        return {"dataframe_records": records}
    if messages:
        body: dict[str, Any] = {"messages": messages}
        if max_tokens:
            body["max_tokens"] = max_tokens
        return body
    return {"inputs": inputs}


def _answer(raw: dict[str, Any]) -> Any:
    """The useful part: predictions, the chat reply, or embeddings' sizes."""
    if "predictions" in raw:
        return raw["predictions"]
    if raw.get("messages"):
        return raw["messages"]
    if raw.get("choices"):
        return [c.get("message", c) for c in raw["choices"]]
    return raw


def query(
    backend: Backend,
    name: str,
    records: list[dict[str, Any]] | None = None,
    inputs: Any = None,
    messages: list[dict[str, Any]] | None = None,
    max_tokens: int | None = None,
) -> QueryResult:
    """Send one request to ``/serving-endpoints/{name}/invocations``; output capped."""
    from databricks.sdk.errors import BadRequest, NotFound

    body = _body(records, inputs, messages, max_tokens)
    in_url = ids.name(name, "endpoint name")
    try:
        # The raw API keeps every field (ChatAgent's `messages` is not in the SDK's dataclass).
        raw = backend.client.api_client.do(
            "POST", f"/serving-endpoints/{in_url}/invocations", body=body
        )
    except NotFound as exc:
        raise ToolsCoreError("RESOURCE_DOES_NOT_EXIST", str(exc), LIST_HINT) from exc
    except BadRequest as exc:
        code = exc.error_code or "BAD_REQUEST"
        raise ToolsCoreError(code, str(exc)[:600], BAD_INPUT_HINT) from exc
    text = json.dumps(
        _answer(raw if isinstance(raw, dict) else {"predictions": raw}),
        separators=(",", ":"),
        default=str,
    )
    truncated = len(text) > OUTPUT_MAX_CHARS
    return QueryResult(endpoint=name, output=text[:OUTPUT_MAX_CHARS], truncated=truncated)
