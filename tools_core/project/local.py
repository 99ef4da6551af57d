"""Checklist items that need only the project's files: tests present, bundle, alerts, docs,
naming (the tests' run is :mod:`tools_core.project.testrun`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools_core.bundles import BundleValidation
from tools_core.project.results import CheckItem, short

TEST_LEVELS = ("unit", "integration", "model")
# Warnings of the bundle validator that are about naming conventions (its own wording).
NAMING_MARKERS = ("domain-action-frequency", "noun_noun", "snake_case", "three-level", "/Users/")


def _test_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [
        p for p in folder.rglob("*.py") if p.name.startswith("test_") or p.stem.endswith("_test")
    ]


def tests_present(root: Path) -> CheckItem:
    """tests/unit (at least) holds test files; the other levels are counted."""
    counts = {level: len(_test_files(root / "tests" / level)) for level in TEST_LEVELS}
    others = len(_test_files(root / "tests")) - sum(counts.values())
    evidence = ", ".join(f"{level} {n}" for level, n in counts.items()) + f", other {others}"
    if counts["unit"]:
        return CheckItem(item="tests_present", status="passed", evidence=f"test files: {evidence}")
    return CheckItem(
        item="tests_present",
        status="failed",
        evidence=f"no unit tests (test files: {evidence})",
        next_step="Add tests/unit/test_*.py for the pure functions in src/.",
    )


def has_test_files(root: Path) -> bool:
    """Whether the project has any test file under tests/."""
    return bool(_test_files(root / "tests"))


def bundle_item(report: BundleValidation | None, problem: str) -> CheckItem:
    """The bundle validates: no errors (warnings do not block a deploy)."""
    name = "bundle_valid"
    if report is None:
        return CheckItem(
            item=name,
            status="failed",
            evidence=short(problem),
            next_step="Fix databricks.yml (bundle_validate lists every problem).",
        )
    counts = f"{report.errors} errors, {report.warnings} warnings"
    if report.ok:
        return CheckItem(item=name, status="passed", evidence=f"bundle {report.bundle}: {counts}")
    first = next(f for f in report.findings if f.severity == "error")
    return CheckItem(
        item=name,
        status="failed",
        evidence=short(f"{counts}; first: {first.to_text()}"),
        next_step="Run bundle_validate and fix each error at its file:line.",
    )


def failure_alerts(config: dict[str, Any] | None) -> CheckItem:
    """Every job of the bundle (for the checked target) notifies someone when a run fails:
    a job-level ``email_notifications.on_failure`` address or ``webhook_notifications.
    on_failure`` destination. Task-level notifications alone do not count: a run skipped or
    failed before its tasks ran notifies only at the job level."""
    name = "failure_alerts"
    jobs = _resources(config, "jobs")
    if config is None:
        return CheckItem(item=name, status="unknown", evidence="bundle not readable")
    if not jobs:
        return CheckItem(item=name, status="unknown", evidence="the bundle declares no jobs")
    found = {key: _alerts(job) for key, job in sorted(jobs.items())}
    silent = [key for key, (emails, hooks, _) in found.items() if not emails and not hooks]
    shown = "; ".join(_alert_text(key, *alerts) for key, alerts in found.items())
    if not silent:
        return CheckItem(
            item=name,
            status="passed",
            evidence=short(f"on_failure on all {len(jobs)} jobs: {shown}"),
        )
    return CheckItem(
        item=name,
        status="failed",
        evidence=short(f"no job-level on_failure on {', '.join(silent)} ({shown})"),
        next_step=(
            "Add email_notifications.on_failure (addresses) or webhook_notifications."
            "on_failure ([{id: <notification destination id>}]) to those jobs."
        ),
    )


def _alerts(job: Any) -> tuple[int, int, int]:
    """(on_failure email addresses, on_failure webhook destinations, tasks with their own
    on_failure) of a job's settings."""
    if not isinstance(job, dict):
        return 0, 0, 0

    def on_failure(block: dict[str, Any], kind: str) -> list[Any]:
        spec = block.get(kind)
        found = spec.get("on_failure") if isinstance(spec, dict) else None
        return found if isinstance(found, list) else []

    def counts(block: dict[str, Any]) -> tuple[int, int]:
        addresses = [
            a for a in on_failure(block, "email_notifications") if isinstance(a, str) and a
        ]
        ids = [
            h
            for h in on_failure(block, "webhook_notifications")
            if isinstance(h, dict) and h.get("id")
        ]
        return len(addresses), len(ids)

    emails, hooks = counts(job)
    tasks = job.get("tasks")
    listed = tasks if isinstance(tasks, list) else []
    on_tasks = sum(1 for t in listed if isinstance(t, dict) and any(counts(t)))
    return emails, hooks, on_tasks


def _alert_text(key: str, emails: int, hooks: int, on_tasks: int) -> str:
    parts = [
        f"{n} {what}{'s' if n > 1 else ''}"
        for n, what in ((emails, "email"), (hooks, "webhook"))
        if n
    ]
    if on_tasks:
        parts.append(f"task-level on {on_tasks} task(s)")
    return f"{key}: {', '.join(parts) or 'none'}"


def _resources(config: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    resources = (config or {}).get("resources")
    group = resources.get(kind) if isinstance(resources, dict) else None
    return group if isinstance(group, dict) else {}


def docs_present(root: Path) -> CheckItem:
    """A README at the root or markdown under docs/."""
    found = [p for p in (root / "README.md", root / "docs" / "README.md") if p.is_file()]
    docs = root / "docs"
    if docs.is_dir():
        found += [p for p in sorted(docs.rglob("*.md")) if p not in found]
    found = [p for p in found if p.stat().st_size > 0]
    if found:
        shown = ", ".join(p.relative_to(root).as_posix() for p in found[:5])
        return CheckItem(item="docs_present", status="passed", evidence=short(shown))
    return CheckItem(
        item="docs_present",
        status="failed",
        evidence="no README.md and no docs/*.md",
        next_step="Write docs/README.md: what the project does, how to run and deploy it.",
    )


def naming(report: BundleValidation | None) -> CheckItem:
    """The bundle validator's naming warnings (jobs, models, tables, schemas, experiments)."""
    name = "naming_conventions"
    if report is None:
        return CheckItem(item=name, status="unknown", evidence="bundle not readable")
    broken = [
        f
        for f in report.findings
        if f.severity == "warning" and any(m in f.message for m in NAMING_MARKERS)
    ]
    if not broken:
        return CheckItem(
            item=name,
            status="passed",
            evidence="jobs domain-action-frequency, models/tables catalog.schema.noun_noun",
        )
    return CheckItem(
        item=name,
        status="failed",
        evidence=short(f"{len(broken)} names off convention; first: {broken[0].to_text()}"),
        next_step="Rename as bundle_validate suggests (e.g. fraud-training-daily).",
    )


def code_review() -> CheckItem:
    """Never checked: a person approves code."""
    return CheckItem(
        item="code_reviewed",
        status="unknown",
        evidence="cannot be verified by a tool",
        next_step="Get the change reviewed and approved before deploying to prod.",
    )
