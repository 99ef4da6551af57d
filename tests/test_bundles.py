"""bundle_validate finds each problem with its file and line; bundle_deploy/bundle_run call
the databricks CLI (a stand-in script here: the real one is a Go binary not installed)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from mcp import Client

from server.cli import main
from tests.conftest import fails, ok, text_of
from tools_core import bundles
from tools_core.errors import InvalidInput, ToolsCoreError

BUNDLES = Path(__file__).resolve().parent / "bundles"
VALID = BUNDLES / "valid"


def errors_of(report: bundles.BundleValidation) -> list[tuple[str, int, str]]:
    return [(f.file, f.line, f.message) for f in report.findings if f.severity == "error"]


def has(report: bundles.BundleValidation, severity: str, file: str, line: int, text: str) -> bool:
    return any(
        f.severity == severity and f.file == file and f.line == line and text in f.message
        for f in report.findings
    )


# --- validation through tools_core --------------------------------------------------------


def test_every_listed_resource_type_names_a_databricks_bundles_dataclass() -> None:
    import dataclasses

    from tools_core.bundles.schema import RESOURCE_TYPES, resource_class

    for rtype, (module, name) in RESOURCE_TYPES.items():
        assert module.startswith("databricks.bundles."), rtype
        cls = resource_class(rtype)
        assert cls is not None and cls.__name__ == name and dataclasses.is_dataclass(cls)
    assert resource_class("no_such_resources") is None


def test_the_valid_sample_bundle_reports_no_error_in_any_target() -> None:
    report = bundles.validate(VALID)
    assert report.errors == 0, report.to_text()
    assert report.warnings == 0, report.to_text()
    assert (report.bundle, report.files, report.targets) == ("churn_project", 3, ["dev", "prod"])
    # The lookup variable cannot be resolved offline: said as info, not as a problem.
    assert has(report, "info", "databricks.yml", 21, "warehouse_id is a lookup")
    assert report.to_text().endswith("valid")


def test_one_target_of_the_valid_bundle_validates_alone() -> None:
    # prod overrides the train task by task_key: merged, not a duplicate task.
    assert bundles.validate(VALID / "databricks.yml", target="prod").errors == 0


@pytest.mark.parametrize(
    ("bundle", "file", "line", "message"),
    [
        ("unknown_variable", "resources/job.yml", 10, "unknown variable ${var.catalgo}"),
        ("unknown_variable", "resources/job.yml", 10, "did you mean 'catalog'?"),
        ("missing_task_key", "databricks.yml", 12, "missing required field 'task_key' in task"),
        ("bad_depends_on", "databricks.yml", 14, "depends on unknown task 'ingets'"),
        ("bad_depends_on", "databricks.yml", 14, "did you mean 'ingest'?"),
        ("wrong_type", "databricks.yml", 11, "max_retries: expected an integer, got 'three'"),
        ("wrong_type", "databricks.yml", 12, "timeout_seconds: expected an integer, got a list"),
        ("bad_yaml", "resources/job.yml", 9, "invalid YAML"),
        ("unknown_key", "databricks.yml", 10, "unknown field 'notebok_task' in task"),
        ("unknown_key", "databricks.yml", 10, "did you mean 'notebook_task'?"),
        ("cycle_and_targets", "databricks.yml", 9, "more than one default target"),
        ("cycle_and_targets", "databricks.yml", 16, "cycle: a -> b -> a"),
        ("cycle_and_targets", "databricks.yml", 36, "no jobs resource 'nightly'"),
        ("cycle_and_targets", "databricks.yml", 10, "must set workspace.root_path"),
    ],
)
def test_each_broken_bundle_reports_its_problem_at_its_file_and_line(
    bundle: str, file: str, line: int, message: str
) -> None:
    report = bundles.validate(BUNDLES / bundle)
    assert not report.ok
    assert has(report, "error", file, line, message), report.to_text()
    assert f"{file}:{line}: error: " in report.to_text()


def test_naming_conventions_are_warnings_with_the_guide_examples() -> None:
    report = bundles.validate(BUNDLES / "cycle_and_targets")
    assert has(report, "warning", "databricks.yml", 14, "domain-action-frequency")
    assert has(report, "warning", "databricks.yml", 28, "catalog.schema.noun_noun")
    assert has(report, "warning", "databricks.yml", 29, "lowercase snake_case noun_noun")
    assert has(report, "warning", "databricks.yml", 32, "/Users/... or /Workspace/...")
    assert has(report, "warning", "databricks.yml", 26, "'SOMETIMES' is not one of ALL_SUCCESS")


def write_bundle(root: Path, text: str, **files: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "databricks.yml").write_text(text)
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(content)
    return root


def test_a_variable_value_of_the_wrong_type_is_reported_where_it_is_used(tmp_path: Path) -> None:
    root = write_bundle(
        tmp_path / "b",
        """bundle:
  name: typed_vars
variables:
  retries:
    default: three
targets:
  dev:
    default: true
  prod:
    variables:
      retries: 2
      colour: blue
resources:
  jobs:
    sales_ingest:
      name: sales-ingest-daily
      tasks:
        - task_key: ingest
          max_retries: ${var.retries}
          notebook_task:
            notebook_path: /Workspace/Shared/ingest
""",
    )
    report = bundles.validate(root)
    assert has(report, "error", "databricks.yml", 19, "max_retries: expected an integer"), (
        report.to_text()
    )
    assert has(report, "error", "databricks.yml", 12, "colour is set here but not declared")
    # prod sets retries: 2, so prod alone has only the undeclared variable.
    assert [e[1] for e in errors_of(bundles.validate(root, target="prod"))] == [12]


def test_duplicate_task_keys_and_a_task_with_two_types_are_errors(tmp_path: Path) -> None:
    root = write_bundle(
        tmp_path / "b",
        """bundle:
  name: dup
resources:
  jobs:
    sales_ingest:
      name: sales-ingest-daily
      tasks:
        - task_key: a
          notebook_task: {notebook_path: /x}
          sql_task: {warehouse_id: w, query: {query_id: q}}
        - task_key: a
          notebook_task: {notebook_path: /y}
""",
    )
    report = bundles.validate(root)
    assert has(report, "error", "databricks.yml", 11, "duplicate task_key 'a'")
    assert has(report, "error", "databricks.yml", 8, "exactly one task type, has notebook_task")


def test_findings_are_capped_and_the_rest_counted(tmp_path: Path) -> None:
    tasks = "".join(f"        - task_key: t{i}\n          bogus: 1\n" for i in range(60))
    root = write_bundle(
        tmp_path / "b",
        "bundle:\n  name: many\nresources:\n  jobs:\n    j:\n      name: a-b-daily\n"
        "      tasks:\n" + tasks,
    )
    report = bundles.validate(root)
    assert report.errors == 120 and len(report.findings) == 50 and report.more == 70
    assert "... 70 more findings" in report.to_text()


def test_a_directory_without_databricks_yml_says_how_to_start_one(tmp_path: Path) -> None:
    with pytest.raises(ToolsCoreError) as caught:
        bundles.validate(tmp_path)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "databricks.yml" in str(caught.value) and "bundle init" in str(caught.value)


def test_an_unknown_target_names_the_bundles_targets() -> None:
    with pytest.raises(InvalidInput, match="targets: dev, prod"):
        bundles.validate(VALID, target="staging")


# --- deploy and run with the databricks CLI -----------------------------------------------


def stand_in_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """A `databricks` script first on PATH standing in for the external Go binary; it records
    its working directory and arguments in the returned file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "argv.txt"
    script = bin_dir / "databricks"
    script.write_text(f'#!/bin/sh\necho "$PWD|$*" >> "{record}"\n{body}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return record


def no_cli_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_deploy_without_the_cli_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_cli_on_path(tmp_path, monkeypatch)
    with pytest.raises(ToolsCoreError) as caught:
        bundles.deploy(str(VALID), "dev")
    text = str(caught.value)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "databricks CLI is not on PATH" in text
    assert "install.sh | sh" in text and "brew install databricks/tap/databricks" in text


def test_deploy_runs_bundle_deploy_for_the_target_in_the_bundle_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = stand_in_cli(tmp_path, monkeypatch, 'echo "Deployment complete!" >&2')
    result = bundles.deploy(str(VALID / "databricks.yml"), "dev")
    assert record.read_text().strip() == f"{VALID}|bundle deploy -t dev"
    assert result.exit_code == 0
    text = result.to_text()
    assert text.startswith("`databricks bundle deploy -t dev` exit 0 (target dev, workspace ")
    assert "https://dev.cloud.databricks.com" in text and "Deployment complete!" in text


def test_deploy_refuses_a_bundle_with_errors_and_never_calls_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = stand_in_cli(tmp_path, monkeypatch, "true")
    with pytest.raises(InvalidInput, match="1 errors; nothing was deployed") as caught:
        bundles.deploy(str(BUNDLES / "bad_depends_on"))
    assert "databricks.yml:14: error:" in str(caught.value)
    assert not record.exists()


def test_a_failing_cli_is_an_error_with_the_tail_of_its_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = 'i=0; while [ $i -lt 400 ]; do echo "noise line $i"; i=$((i+1)); done\n'
    body += 'echo "Error: cannot create job: PERMISSION_DENIED" >&2; exit 1'
    stand_in_cli(tmp_path, monkeypatch, body)
    with pytest.raises(ToolsCoreError) as caught:
        bundles.deploy(str(VALID), "dev")
    text = str(caught.value)
    assert caught.value.error_code == "BUNDLE_DEPLOY_FAILED"
    assert "exited 1" in text and "PERMISSION_DENIED" in text
    assert "earlier chars cut" in text and "noise line 399" in text and len(text) < 3500


def test_run_starts_the_job_without_waiting_and_returns_its_run_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = {"run_id": 42, "run_page_url": "https://dev.cloud.databricks.com/#job/7/run/42"}
    record = stand_in_cli(tmp_path, monkeypatch, f"echo '{json.dumps(reply)}'")
    result = bundles.run(str(VALID), "churn_training", "dev", {"day": "2024-01-01"})
    argv = record.read_text().strip().split("|", 1)[1]
    assert (
        argv == "bundle run -t dev --output json --no-wait --params day=2024-01-01 churn_training"
    )
    assert (result.run_id, result.run_url) == (42, reply["run_page_url"])
    assert "run_id 42" in result.to_text()


# --- through MCP and the dbx-devkit CLI ---------------------------------------------------


@pytest.mark.anyio
async def test_bundle_validate_through_mcp_reports_valid_and_broken_bundles(mcp: Client) -> None:
    valid = text_of(await ok(mcp, "bundle_validate", path=str(VALID)))
    assert "0 errors" in valid and valid.endswith("valid")
    broken = await ok(mcp, "bundle_validate", path=str(BUNDLES / "unknown_variable"))
    assert "resources/job.yml:10: error: unknown variable ${var.catalgo}" in text_of(broken)
    structured = broken.structured_content or {}
    assert structured["errors"] == 1
    assert structured["findings"][0]["path"].endswith("base_parameters.catalog")


@pytest.mark.anyio
async def test_bundle_deploy_through_mcp_without_the_cli_fails_with_install_steps(
    mcp: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_cli_on_path(tmp_path, monkeypatch)
    error = await fails(mcp, "bundle_deploy", path=str(VALID), target="dev")
    assert error.startswith("RESOURCE_DOES_NOT_EXIST: The databricks CLI is not on PATH.")
    assert "install.sh" in error


@pytest.mark.anyio
async def test_bundle_deploy_through_mcp_on_the_local_backend_says_where_it_deploys(
    mcp: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = stand_in_cli(tmp_path, monkeypatch, "echo deployed")
    text = text_of(await ok(mcp, "bundle_deploy", path=str(VALID), target="dev", confirm=True))
    assert record.read_text().strip().endswith("|bundle deploy -t dev --auto-approve")
    assert "LOCAL workspace" in text and "deployed" in text


def test_dbx_devkit_call_bundle_validate_prints_the_findings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = json.dumps({"path": str(BUNDLES / "wrong_type")})
    assert main(["call", "bundle_validate", "--json", args]) == 0
    out = capsys.readouterr().out
    assert "databricks.yml:11: error: max_retries: expected an integer" in out
    assert "2 errors" in out


def test_deploy_without_a_target_validates_and_names_the_default_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = stand_in_cli(tmp_path, monkeypatch, "echo ok")
    result = bundles.deploy(str(VALID))
    assert record.read_text().strip().endswith("|bundle deploy -t dev")
    assert result.target == "dev"
