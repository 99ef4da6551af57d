"""mlflow_evaluate: a model version or endpoint evaluated on a Unity Catalog table."""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from server.progress import wait_with_progress
from server.registry import writer
from server.runtime import backend_of
from tools_core import evaluation as core

Scorer = Literal[
    "classifier",
    "regressor",
    "exact_match",
    "contains_expected",
    "latency_ms",
    "correctness",
    "relevance_to_query",
    "safety",
]

Inputs = Annotated[list[str], Field(description="Input columns; default all but label")]


@writer("mlflow", destructive=False, idempotent=False)
async def mlflow_evaluate(
    ctx: Context,
    target: Annotated[str, Field(description="models:/c.s.m/1 (or @alias), endpoints:/x")],
    table: Annotated[str, Field(description="UC table c.s.t")],
    scorers: Annotated[
        list[Scorer], Field(min_length=1, description="classifier|regressor alone, or genai ones")
    ],
    label: Annotated[str, Field(description="Ground-truth column")] = "",
    inputs: Inputs = None,  # type: ignore[assignment]
    judge_endpoint: Annotated[str, Field(description="Chat endpoint for LLM judges")] = "",
    experiment: Annotated[str, Field(description="Name or id; default per user")] = "",
    max_rows: Annotated[int, Field(ge=1, le=1000, description="Rows read")] = 200,
    timeout_s: Annotated[int, Field(ge=1, le=600, description="Max wait seconds")] = 300,
) -> core.EvaluationResult:
    """Evaluate a model or endpoint on a table (job run): run id, metrics, worst rows."""
    backend = backend_of(ctx)
    return await wait_with_progress(
        ctx,
        lambda progress, check: core.evaluate(
            backend,
            target,
            table,
            scorers,
            label,
            inputs or (),
            judge_endpoint,
            experiment,
            max_rows,
            timeout_s,
            progress,
            check,
        ),
    )
