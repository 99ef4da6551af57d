"""Job spec validation before anything is sent: every problem named, naming convention warned."""

from __future__ import annotations

from typing import Any

import pytest

from tools_core.errors import InvalidInput
from tools_core.jobs import naming_warning, validate_job_spec
from tools_core.jobs.spec import job_settings


def spec(*tasks: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {"name": "sales-report-daily", "tasks": list(tasks), **settings}


def nb(key: str, *deps: str, path: str = "/Users/me/nb") -> dict[str, Any]:
    task: dict[str, Any] = {"task_key": key, "notebook_task": {"notebook_path": path}}
    if deps:
        task["depends_on"] = [{"task_key": d} for d in deps]
    return task


def problems(value: Any, **kwargs: Any) -> str:
    with pytest.raises(InvalidInput) as caught:
        validate_job_spec(value, **kwargs)
    return str(caught.value)


def test_a_good_spec_passes_without_warnings_and_builds_job_settings() -> None:
    good = spec(
        nb("a"),
        {**nb("b", "a"), "run_if": "ALL_DONE", "max_retries": 2, "timeout_seconds": 60},
        schedule={"quartz_cron_expression": "0 0 6 * * ?", "timezone_id": "UTC"},
        parameters=[{"name": "day", "default": "today"}],
        tags={"team": "sales"},
    )
    assert validate_job_spec(good) == []
    settings = job_settings(good)
    assert [t.task_key for t in settings.tasks or []] == ["a", "b"]


def test_unknown_keys_name_the_closest_valid_key() -> None:
    text = problems({**spec(nb("a")), "timeout_second": 5, "nmae": "x"})
    assert "'timeout_second'" in text and "did you mean 'timeout_seconds'" in text
    assert "did you mean 'name'" in text
    text = problems(spec({**nb("a"), "depend_on": []}))
    assert "did you mean 'depends_on'" in text


def test_every_problem_is_listed_at_once() -> None:
    text = problems(
        spec(
            {**nb("a", "ghost"), "run_if": "SOMETIMES", "max_retries": "3"},
            {"task_key": "a", "sql_task": {"warehouse_id": "w"}, "spark_python_task": {}},
            nb("c", "d"),
            nb("d", "c"),
            nb("rel", path="relative/nb"),
            max_concurrent_runs=True,
        )
    )
    for expected in (
        "'ghost'",
        "SOMETIMES",
        "max_retries: expected an integer",
        "duplicate task_key",
        "exactly one task type",
        "python_file' is missing",
        "cycle: c -> d -> c",
        "absolute workspace path",
        "max_concurrent_runs: expected an integer",
    ):
        assert expected in text, (expected, text)
    assert "nothing was created" in text


def test_a_job_needs_tasks_and_a_spec_must_be_an_object() -> None:
    assert "'tasks' is missing" in problems({"name": "a-b-daily"})
    assert "tasks is empty" in problems({"name": "a-b-daily", "tasks": []})
    assert "JSON object" in problems(["not", "a", "dict"])


def test_a_partial_update_may_depend_on_the_jobs_current_tasks() -> None:
    assert (
        validate_job_spec({"tasks": [nb("new", "old")]}, partial=True, existing_task_keys=["old"])
        == []
    )
    assert "'old'" in problems({"tasks": [nb("new", "old")]}, partial=True)
    assert validate_job_spec({"timeout_seconds": 10}, partial=True) == []


@pytest.mark.parametrize(
    "name",
    ["fraud-training-daily", "sales-report-eu-weekly", "[dev me] fraud-training-hourly"],
)
def test_names_following_domain_action_frequency_get_no_warning(name: str) -> None:
    assert naming_warning(name) is None


@pytest.mark.parametrize(
    "name", ["My Job", "fraud_training_daily", "training-daily", "fraud-training-sometimes", ""]
)
def test_names_off_the_convention_get_a_warning_not_an_error(name: str) -> None:
    warning = naming_warning(name)
    assert warning and "domain-action-frequency" in warning
    assert validate_job_spec({"name": name, "tasks": [nb("a")]}) == [warning]


def test_the_problems_shown_are_bounded() -> None:
    text = problems(spec(*({"task_key": f"t{i}"} for i in range(200))))
    assert "200 problem(s) (first 20 shown)" in text
    assert text.count("exactly one task type") == 20


def test_pydantic_still_cannot_build_a_schema_of_the_sdk_or_bundles_dataclasses() -> None:
    """Why spec.py and bundles/schema.py walk type hints instead of using a TypeAdapter:
    when this fails, pydantic can take over (see their docstrings)."""
    from databricks.bundles.jobs import Job
    from databricks.sdk.service.jobs import JobSettings
    from pydantic import PydanticUserError, TypeAdapter

    with pytest.raises(AttributeError, match="no attribute 'Library'"):
        TypeAdapter(JobSettings)
    with pytest.raises(PydanticUserError):
        TypeAdapter(Job)
