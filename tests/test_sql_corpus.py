"""A corpus of Databricks SQL run through the real SDK's Statement Execution API.

Each ``tests/sql_corpus/<topic>.sql`` file is one test. Statements run in order, each followed
by what Databricks answers for it:

    -- case: a short name
    SELECT ...;
    -- expect: [["1", "a"]]           rows as the API returns them (JSON; values are strings)
    -- expect-error: ERROR_CLASS      the error message contains this text
    -- expect-ok                      succeeds, rows not checked (set-up, DDL)

``{schema}`` in a statement is replaced by a schema of the test's own (created first, dropped
at the end), so files never collide with each other or with other tests.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CORPUS = Path(__file__).parent / "sql_corpus"
WAREHOUSE = "dbxlocal00000001"
MARKER = re.compile(r"^--\s*(case|expect-error|expect-ok|expect)\s*:?\s*(.*)$")


@dataclass
class Case:
    name: str
    statement: str
    kind: str  # "expect" | "expect-error" | "expect-ok"
    expected: str
    line: int


def parse(path: Path) -> list[Case]:
    """The cases of one corpus file, in order."""
    cases: list[Case] = []
    name, body, start = "", [], 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        marker = MARKER.match(raw.strip())
        if marker is None:
            if raw.strip() and not raw.strip().startswith("--"):
                body.append(raw)
                start = start or number
            continue
        key, value = marker.groups()
        if key == "case":
            name, body, start = value.strip(), [], 0
            continue
        statement = "\n".join(body).strip().rstrip(";")
        assert statement, f"{path.name}:{number}: an expectation without a statement"
        cases.append(Case(name or statement[:60], statement, key, value.strip(), start))
        name, body, start = "", [], 0
    assert not body, f"{path.name}: a statement without an expectation at the end"
    return cases


def execute(ws: Any, statement: str) -> Any:
    return ws.statement_execution.execute_statement(
        warehouse_id=WAREHOUSE, statement=statement, wait_timeout="30s"
    )


def check(ws: Any, case: Case, where: str) -> None:
    response = execute(ws, case.statement)
    state = response.status.state.value
    error = response.status.error.message if response.status.error else ""
    if case.kind == "expect-error":
        assert state == "FAILED", f"{where}: expected {case.expected}, got {state}"
        assert case.expected in error, f"{where}: expected {case.expected!r} in {error!r}"
        return
    assert state == "SUCCEEDED", f"{where}: {error}"
    if case.kind == "expect":
        rows = (response.result.data_array or []) if response.result else []
        assert rows == json.loads(case.expected), f"{where}: got {json.dumps(rows)}"


FILES = sorted(CORPUS.glob("*.sql"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_the_corpus_answers_as_databricks_does(ws: Any, path: Path) -> None:
    schema = f"main.corpus_{path.stem}_{uuid.uuid4().hex[:6]}"
    assert execute(ws, f"CREATE SCHEMA {schema}").status.state.value == "SUCCEEDED"
    try:
        for case in parse(path):
            statement = case.statement.replace("{schema}", schema)
            check(
                ws,
                Case(case.name, statement, case.kind, case.expected, case.line),
                f"{path.name}:{case.line} ({case.name})",
            )
    finally:
        execute(ws, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


MINIMUM_CASES = 231  # raised as the corpus grows: it never shrinks unnoticed


def test_the_corpus_never_shrinks() -> None:
    assert sum(len(parse(path)) for path in FILES) >= MINIMUM_CASES
