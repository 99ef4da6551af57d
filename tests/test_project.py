"""project_init writes the guide's project (valid bundle, passing tests, never overwriting);
project_check runs the deployment checklist and sees a model registered and promoted with
the registry tools."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from local_workspace.runner import LocalWorkspace
from server.cli import main
from server.launch import ROOT as REPO
from server.launch import serve_command
from tests.conftest import fails, mcp_session, mlflow_script, ok, text_of
from tests.test_project_testing import project_venv
from tests.test_registry_tools import LOG_MODEL
from tools_core import bundles
from tools_core.backend import Backend
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.project import check_project, init_project

GUIDE_LAYOUT = (
    "CLAUDE.md",
    "databricks.yml",
    "pyproject.toml",
    ".mcp.json",
    ".gitignore",
    "docs/README.md",
    "src/pipelines/__init__.py",
    "src/features/transforms.py",
    "src/features/spend.py",
    "src/models/train.py",
    "src/serving/payload.py",
    "notebooks/exploration.py",
    "tests/unit/test_transforms.py",
    "tests/integration/test_feature_pipeline.py",
    "tests/model/test_model_quality.py",
)


def unique(prefix: str = "tproj") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def statuses(result: Any) -> dict[str, str]:
    items = result["items"] if isinstance(result, dict) else [i.model_dump() for i in result.items]
    return {item["item"]: item["status"] for item in items}


def test_init_writes_the_guides_project_structure(tmp_path: Path) -> None:
    name = unique()
    result = init_project(tmp_path / "proj", name, "ml")
    root = Path(result.path)
    for rel in GUIDE_LAYOUT:
        assert (root / rel).is_file(), rel
    assert result.package == name
    bundle = (root / "databricks.yml").read_text()
    assert f"name: {name}-training-daily" in bundle
    assert "{{" not in bundle and "{{" not in (root / "src/models/train.py").read_text()
    server = json.loads((root / ".mcp.json").read_text())["mcpServers"]["dbx-devkit"]
    assert server["type"] == "stdio" and "serve" in server["args"]
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == name
    assert "pytest" in pyproject["tool"] and "ruff" in pyproject["tool"]
    # Its tests get spark from dbx-devkit's plugin; without a checkout to name, the package's.
    assert "dbx-devkit" in pyproject["dependency-groups"]["dev"]
    assert "sources" not in pyproject["tool"]["uv"]
    assert pyproject["tool"]["pytest"]["ini_options"]["markers"][0].startswith("integration:")


def test_a_hyphenated_name_gives_a_snake_case_package_and_bundle(tmp_path: Path) -> None:
    result = init_project(tmp_path / "p", "fraud-model", "minimal")
    assert result.package == "fraud_model"
    assert "name: fraud_model-features-daily" in (tmp_path / "p/databricks.yml").read_text()
    assert not (tmp_path / "p/src/models").exists()  # minimal: no model code


def test_init_refuses_a_folder_that_is_not_empty_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "existing"
    (root / "docs").mkdir(parents=True)
    (root / "databricks.yml").write_text("bundle: {name: mine}\n")
    (root / "docs/README.md").write_text("mine\n")
    with pytest.raises(ToolsCoreError) as caught:
        init_project(root, "mine", "ml")
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert "not empty (databricks.yml, docs)" in caught.value.message
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "databricks.yml",
        "docs/README.md",
    ]
    assert (root / "databricks.yml").read_text() == "bundle: {name: mine}\n"


def test_unknown_templates_and_bad_names_are_refused_with_what_is_valid(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="ml, minimal"):
        init_project(tmp_path / "a", "good-name", "webapp")
    with pytest.raises(InvalidInput, match="lowercase"):
        init_project(tmp_path / "b", "Bad Name", "ml")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("template", ["ml", "minimal"])
def test_the_generated_bundle_validates_in_every_target_without_warnings(
    tmp_path: Path, template: str
) -> None:
    init_project(tmp_path / "p", unique(), template)
    report = bundles.validate(tmp_path / "p")
    assert report.errors == 0 and report.warnings == 0, report.to_text()
    assert report.targets == ["dev", "prod"]


@pytest.mark.parametrize("template", ["ml", "minimal"])
def test_the_generated_tests_pass_and_the_offline_checklist_has_no_failure(
    tmp_path: Path, template: str, local_ws: LocalWorkspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The project's own pytest runs as a subprocess in its .venv (the checklist's
    # tests_passing item); its spark fixture attaches to the workspace DATABRICKS_HOST names.
    init_project(tmp_path / "p", unique(), template)
    project_venv(tmp_path / "p")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("DATABRICKS_HOST", local_ws.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", local_ws.token)
    result = check_project(None, tmp_path / "p", "dev", run_tests=True)
    found = statuses(result)
    assert found["tests_passing"] == "passed", result.to_text()
    assert result.failed == 0, result.to_text()
    assert found["code_reviewed"] == "unknown"
    assert "cannot be verified by a tool" in result.to_text()


def test_a_project_that_breaks_the_checklist_fails_each_item_with_a_next_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "p"
    init_project(root, unique(), "ml")
    bundle = (root / "databricks.yml").read_text()
    bundle = bundle.replace(
        "      email_notifications:\n        on_failure:\n", "      tags:\n        alert:\n"
    )
    bundle = bundle.replace("-training-daily", "_Training")
    (root / "databricks.yml").write_text(bundle)
    (root / "docs/README.md").unlink()
    (root / "tests/unit/test_transforms.py").write_text("def test_broken():\n    assert 1 == 2\n")
    for slow in ("tests/model/test_model_quality.py", "tests/integration/test_feature_pipeline.py"):
        (root / slow).unlink()  # scikit-learn, a workspace: seconds, not the point here
    project_venv(root)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    result = check_project(None, root, "dev", run_tests=True)
    found = statuses(result)
    for item in ("tests_passing", "failure_alerts", "docs_present", "naming_conventions"):
        assert found[item] == "failed", result.to_text()
    assert all(i.next_step for i in result.items if i.status == "failed")
    assert "test_broken" in result.to_text()


def test_an_unreachable_workspace_makes_workspace_items_unknown(tmp_path: Path) -> None:
    from tools_core.backend import Backend, MlflowTarget, workspace_client

    init_project(tmp_path / "p", unique(), "ml")
    url = "http://127.0.0.1:9"  # nothing listens on the discard port
    client = workspace_client(host=url, token="dapi-none", retry_timeout_seconds=1)
    dead = Backend(client, "local", url, None, MlflowTarget.local(url, "dapi-none"))
    result = check_project(dead, tmp_path / "p", "dev", run_tests=False)
    found = statuses(result)
    assert found["model_registered"] == found["champion_alias"] == "unknown"
    assert "unreachable" in result.to_text()


# --- through MCP and the CLI on the local workspace ----------------------------------------


@pytest.mark.anyio
async def test_check_reports_the_missing_model_and_alias_until_the_tools_register_them(
    mcp: Client, local_ws: LocalWorkspace, tmp_path: Path
) -> None:
    name = unique()
    path = str(tmp_path / name)
    created = await ok(mcp, "project_init", path=path, name=name, template="ml")
    assert "databricks.yml" in text_of(created)
    assert "RESOURCE_ALREADY_EXISTS" in await fails(mcp, "project_init", path=path, name=name)
    # Its .mcp.json starts this installation, not whatever PyPI calls dbx-devkit.
    launcher = json.loads((Path(path) / ".mcp.json").read_text())["mcpServers"]["dbx-devkit"]
    assert [launcher["command"], *launcher["args"]] == serve_command()
    assert str(REPO) in launcher["args"]
    # Its dev environment installs this checkout's dbx-devkit (the spark fixture's plugin).
    source = f"dbx-devkit = {{ path = {json.dumps(str(REPO))}, editable = true }}"
    assert source in (Path(path) / "pyproject.toml").read_text()

    before = await ok(mcp, "project_check", path=path, target="dev", run_tests=False)
    found = statuses(before.structured_content)
    assert found["model_registered"] == "failed", text_of(before)
    assert found["champion_alias"] == "failed", text_of(before)
    assert found["bundle_valid"] == "passed" and found["inference_tables"] == "unknown"
    assert "registry_register_version" in text_of(before)

    model = f"main.{name}.{name}_model"  # the bundle's catalog.schema.model_name in dev
    # Unity Catalog registers models only into an existing schema (the bundle would make it).
    await ok(mcp, "sql_execute", statement=f"CREATE SCHEMA IF NOT EXISTS main.{name}")
    # A logged (not registered) scikit-learn model, as the project's training code makes.
    logged = mlflow_script(local_ws, LOG_MODEL, f"/Shared/{unique('t_project')}")
    uri = f"runs:/{logged['run_id']}/model"
    await ok(mcp, "registry_register_version", name=model, model_uri=uri)
    await ok(mcp, "registry_set_alias", name=model, alias="champion", version=1)

    after = await ok(mcp, "project_check", path=path, target="dev", run_tests=False)
    found = statuses(after.structured_content)
    assert found["model_registered"] == "passed", text_of(after)
    assert found["champion_alias"] == "passed", text_of(after)
    assert f"{model}@champion -> v1" in text_of(after)
    assert after.structured_content["failed"] == 0
    assert found["feature_naming"] == "unknown"  # no feature tables yet

    # A feature table in the project's schema with a feature named off convention.
    for statement in (
        f"CREATE SCHEMA IF NOT EXISTS main.{name}",
        f"CREATE TABLE main.{name}.customer_features (customer_id BIGINT NOT NULL, visits INT, "
        "customer_spend_30d DOUBLE, CONSTRAINT customer_pk PRIMARY KEY (customer_id))",
    ):
        await ok(mcp, "sql_execute", statement=statement)
    named = await ok(mcp, "project_check", path=path, target="dev", run_tests=False)
    assert statuses(named.structured_content)["feature_naming"] == "failed", text_of(named)
    assert "customer_features.visits" in text_of(named)


def test_the_check_command_exits_1_on_a_failed_item_and_0_otherwise(
    tmp_path: Path, local_ws: LocalWorkspace, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = ["--local", "--data-dir", str(local_ws.config.data_dir)]
    ml, minimal = tmp_path / "ml", tmp_path / "minimal"
    assert main(["init", str(ml), "--name", unique()]) == 0
    assert main(["init", str(minimal), "--name", unique(), "--template", "minimal"]) == 0
    assert main(["init", str(minimal)]) == 1  # never overwrites
    capsys.readouterr()
    # No model registered yet: a failed item.
    assert main(["check", str(ml), "--no-tests", *workspace]) == 1
    assert "FAIL model_registered" in capsys.readouterr().out
    # A minimal project has no model: nothing fails.
    assert main(["check", str(minimal), "--target", "dev", "--no-tests", *workspace]) == 0
    assert "passed, 0 failed" in capsys.readouterr().out


@pytest.mark.anyio
async def test_a_read_only_server_checks_without_running_project_code(
    backend: Backend, tmp_path: Path
) -> None:
    result = init_project(tmp_path / "p", unique(), "minimal")
    async with mcp_session(backend, read_only=True) as client:
        checked = await ok(client, "project_check", path=result.path, target="dev")
    text = text_of(checked)
    assert "not run (read-only server: tests execute project code)" in text
    assert "passed" in text  # the other items are still checked
