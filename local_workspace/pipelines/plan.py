"""The plan of a pipeline: its datasets and CDC flows, parsed from pipeline statements.

Statements come from SQL sources (split_statements) or from Python sources planned into the
same SQL (python_plan.py); one parser reads both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from local_workspace.pipelines import cdc
from local_workspace.pipelines.flows import parse_query
from local_workspace.pipelines.sqlfile import (
    STREAMING_TABLE,
    Dataset,
    PipelineSqlError,
    Statement,
    parse_dataset,
)

_CDC = re.compile(r"^\s*(APPLY\s+CHANGES|CREATE\s+(?:OR\s+\w+\s+)?FLOW\b|AUTO\s+CDC)", re.I)
_SET = re.compile(r"^\s*(SET|USE|RESET)\b", re.I)


@dataclass
class Plan:
    """The datasets of the pipeline and the CDC flows writing some of them."""

    datasets: dict[str, Dataset]
    cdc: dict[str, tuple[Any, Statement]] = field(default_factory=dict)  # target -> (spec, stmt)


def build_plan(statements: list[Statement], plan: Plan | None = None) -> Plan:
    """Parse statements (of SQL sources, or planned from Python) into datasets and CDC flows."""
    plan = plan or Plan(datasets={})
    for statement in statements:
        if _SET.match(statement.text):
            continue
        if _CDC.match(statement.text):
            _cdc_statement(statement, plan)
            continue
        dataset = parse_dataset(statement)
        if dataset is None:
            first = " ".join(statement.text.split()[:4])
            raise PipelineSqlError(
                f"{statement.where}: '{first} ...' is not a pipeline statement: write "
                "CREATE OR REFRESH MATERIALIZED VIEW / STREAMING TABLE name AS <query>."
            )
        key = dataset.name.lower()
        if key in plan.datasets:
            raise PipelineSqlError(
                f"{statement.where}: dataset '{dataset.name}' is defined twice "
                f"(first at {plan.datasets[key].statement.where})."
            )
        if dataset.query is not None:
            parse_query(dataset)  # syntax errors fail before anything runs
        plan.datasets[key] = dataset
    return plan


def check_plan(plan: Plan) -> None:
    """Some dataset; every CDC target declared without a query; every query-less table fed by
    a CDC flow."""
    if not plan.datasets:
        raise PipelineSqlError(
            "No tables are defined by the libraries of this pipeline: define at least one "
            "dataset (CREATE OR REFRESH MATERIALIZED VIEW / STREAMING TABLE, or @dlt.table)."
        )
    for target, (_, statement) in plan.cdc.items():
        found = plan.datasets.get(target)
        if found is None or found.kind != STREAMING_TABLE or found.query is not None:
            raise PipelineSqlError(
                f"{statement.where}: the target '{target}' of APPLY CHANGES must be declared "
                f"with CREATE OR REFRESH STREAMING TABLE {target}; (no AS query)."
            )
    for key, dataset in plan.datasets.items():
        if dataset.query is None and key not in plan.cdc:
            raise PipelineSqlError(
                f"{dataset.statement.where}: streaming table '{dataset.name}' has no query and "
                "no APPLY CHANGES INTO flow writes it."
            )


def _cdc_statement(statement: Statement, plan: Plan) -> None:
    # ---- CDC HOOK (parse): the CDC helper's parse_apply_changes turns the statement into an
    # ApplyChanges spec; the runner keeps it by target and runs it in _run_cdc below.
    try:
        spec = cdc.parse_apply_changes(statement.text)
    except ValueError as exc:
        raise PipelineSqlError(f"{statement.where}: {exc}") from exc
    if spec is None:
        raise PipelineSqlError(f"{statement.where}: CREATE FLOW supports only AUTO CDC INTO.")
    target = str(spec.target).replace("`", "").split(".")[-1].lower()
    if target in plan.cdc:
        raise PipelineSqlError(f"{statement.where}: a second CDC flow into '{target}'.")
    plan.cdc[target] = (spec, statement)
