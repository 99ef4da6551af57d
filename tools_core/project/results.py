"""Results of project_check: one line per checklist item, with a next step for failures."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools_core.results import Result

Status = Literal["passed", "failed", "unknown"]
EVIDENCE_MAX = 240
_MARK = {"passed": "PASS", "failed": "FAIL", "unknown": "????"}


def short(text: str, limit: int = EVIDENCE_MAX) -> str:
    """One line, capped: evidence is a summary, the tools named in next_step give details."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class CheckItem(Result):
    """One checklist item: its status, the evidence and, unless passed, what to do next."""

    item: str
    status: Status
    evidence: str
    next_step: str = ""

    def to_text(self) -> str:
        line = f"{_MARK[self.status]} {self.item}: {self.evidence}"
        return f"{line}\n     next: {self.next_step}" if self.next_step else line


class CheckResult(Result):
    """The deployment checklist of a project for one target."""

    path: str
    target: str
    items: list[CheckItem] = Field(default_factory=list)
    passed: int = 0
    failed: int = 0
    unknown: int = 0

    @property
    def ok(self) -> bool:
        """No item failed (unknown items do not block: they need a person or a workspace)."""
        return self.failed == 0

    def to_text(self) -> str:
        lines = [item.to_text() for item in self.items]
        verdict = "ready" if self.ok else "not ready"
        lines.append(
            f"{self.path} (target {self.target}): {self.passed} passed, {self.failed} failed, "
            f"{self.unknown} unknown: {verdict}"
        )
        return "\n".join(lines)

    @classmethod
    def build(cls, path: str, target: str, items: list[CheckItem]) -> CheckResult:
        """The result with its counts."""
        count = {s: sum(1 for i in items if i.status == s) for s in _MARK}
        return cls(
            path=path,
            target=target,
            items=items,
            passed=count["passed"],
            failed=count["failed"],
            unknown=count["unknown"],
        )
