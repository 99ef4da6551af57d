"""project_check: the guide's deployment checklist, item by item, with evidence.

Items: tests present and passing, bundle valid, code reviewed (never verifiable), model
registered in Unity Catalog, champion alias, inference tables on serving, failure alerts on
jobs, docs, naming conventions. Files are read offline; registry and serving are asked of the
workspace when it answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools_core.backend import Backend
from tools_core.bundles import BundleValidation, validate
from tools_core.bundles import config as bundle_config
from tools_core.bundles.findings import Findings
from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.project import local, testrun, workspace
from tools_core.project.results import CheckItem, CheckResult, short

__all__ = ["CheckItem", "CheckResult", "check_project"]


def resolved_config(root: Path, target: str) -> dict[str, Any] | None:
    """The bundle's configuration for ``target`` with variables substituted, as plain data."""
    found = Findings()  # validate() reports the problems; here only the values matter
    root_dir, root_file = bundle_config.locate(root)
    bundle = bundle_config.load(root_dir, root_file, found)
    if bundle is None:
        return None
    merged = bundle_config.for_target(bundle, target or None)
    scope = bundle_config.variables(bundle, merged, target or None, found)
    plain = bundle_config.substitute(merged, scope, found).plain()
    return plain if isinstance(plain, dict) else None


def _target(root: Path, target: str) -> str:
    """The target to check: the one asked for, else the bundle's default."""
    if target:
        return target
    try:
        root_dir, root_file = bundle_config.locate(root)
    except ToolsCoreError:
        return ""
    bundle = bundle_config.load(root_dir, root_file, Findings())
    return (bundle_config.default_target(bundle) or "") if bundle is not None else ""


def _local_workspace(backend: Backend | None) -> tuple[str, str] | None:
    """(URL, token) of the backend when it is a local workspace: the project's tests run there.
    A real workspace's credentials are not added: project code sees only what its caller's
    environment holds."""
    token = backend.mlflow.token if backend is not None else None
    if backend is None or backend.kind != "local" or not token:
        return None
    return backend.host, token


def check_project(
    backend: Backend | None,
    path: str | Path,
    target: str = "",
    run_tests: bool = True,
    timeout_s: int = testrun.TEST_TIMEOUT_S,
    unavailable: str = "",
    tests_skipped_because: str = "",
) -> CheckResult:
    """Run the deployment checklist on the project at ``path`` for ``target`` (default: the
    bundle's default target). Without a backend (``unavailable`` says why) or when it does
    not answer, workspace items are unknown. The project's tests run unless ``run_tests`` is
    false or ``tests_skipped_because`` gives a reason, with the project's own environment
    (against a local workspace, pointed at it: their ``spark`` fixture runs there)."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise InvalidInput(f"{root} is not a directory.", "Pass the project's root directory.")
    target = _target(root, target)
    report: BundleValidation | None = None
    config: dict[str, Any] | None = None
    problem = ""
    try:
        report = validate(root, target or None)
        config = resolved_config(root, target)
    except ToolsCoreError as exc:  # no databricks.yml, or a target it does not define
        problem = f"{exc.message} {exc.hint}".strip()
    why = short(unavailable, 160) if unavailable else workspace.reachable(backend)
    items: list[CheckItem] = [
        local.tests_present(root),
        testrun.tests_passing(
            root,
            local.has_test_files(root),
            tests_skipped_because or ("" if run_tests else "run_tests=false"),
            timeout_s,
            _local_workspace(backend),
        ),
        local.bundle_item(report, problem),
        local.code_review(),
        *workspace.model_items(backend, config, why),
        workspace.inference_tables(backend, config, why),
        local.failure_alerts(config),
        local.docs_present(root),
        local.naming(report),
        workspace.feature_naming(backend, config, why),
    ]
    return CheckResult.build(str(root), target or "(none)", items)
